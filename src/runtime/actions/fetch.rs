//! `fetch`: an HTTP request with the run's pooled client. A 429 or 5xx, a
//! dropped connection and a timeout may pass on another try; any other
//! status fails the step.

use serde_json::Value;

use crate::lang::policy::ErrorClass;
use crate::lang::value::render;
use crate::plan::types::Type;
use crate::plan::Fetch;
use crate::providers::http;
use crate::runtime::engine::Engine;
use crate::runtime::frame::Env;
use crate::runtime::{Eval, Fault};

impl<'p> Engine<'p> {
    pub async fn fetch(&self, fetch: &'p Fetch, env: &Env, ty: &Type) -> Eval<Value> {
        let url = self.text(&fetch.url, env).await?;
        let method = reqwest::Method::from_bytes(fetch.method.as_bytes())
            .map_err(|_| Fault::Error(format!("`{}` is not an HTTP method", fetch.method)))?;
        let mut request = self.http()?.request(method, &url);
        for (key, value) in self.pairs(fetch.headers.as_ref(), env).await? {
            request = request.header(key, value);
        }
        let query = self.pairs(fetch.query.as_ref(), env).await?;
        if !query.is_empty() {
            request = request.query(&query);
        }
        if let Some(body) = &fetch.body {
            request = match self.eval(body, env).await? {
                Value::String(text) => request.body(text),
                other => request
                    .header("content-type", "application/json")
                    .body(other.to_string()),
            };
        }
        let _caps = env.frame.caps.acquire().await;
        let response = request.send().await.map_err(|e| transport(&url, &e))?;
        let status = response.status().as_u16();
        if !(200..300).contains(&status) {
            // The providers' classes: 429 and 5xx may pass on another try.
            let wait = http::retry_after_ms(response.headers());
            let message = format!("`{url}` answered HTTP {status}");
            return Err(match http::classify(status, "", wait).class() {
                None => Fault::Error(message),
                Some(class) => Fault::Retryable {
                    class,
                    message,
                    wait_ms: wait,
                },
            });
        }
        let text = response.text().await.map_err(|e| transport(&url, &e))?;
        Ok(match ty.unwrap_optional() {
            Type::String => Value::String(text),
            // JSON when it is JSON; a `json` step may also hold plain text.
            _ => serde_json::from_str(&text).unwrap_or(Value::String(text)),
        })
    }

    /// `headers = { Accept = "…" }` or a record or map value, as name and
    /// value pairs.
    async fn pairs(
        &self,
        value: Option<&'p crate::plan::Expr>,
        env: &Env,
    ) -> Eval<Vec<(String, String)>> {
        let Some(value) = value else {
            return Ok(Vec::new());
        };
        Ok(match self.eval(value, env).await? {
            Value::Object(map) => map.into_iter().map(|(k, v)| (k, render(&v))).collect(),
            _ => Vec::new(),
        })
    }
}

/// A request that got no answer: a timeout or a dropped connection may
/// pass on another try.
fn transport(url: &str, error: &reqwest::Error) -> Fault {
    if error.is_timeout() {
        Fault::timeout(format!("`{url}` did not answer in time"))
    } else if error.is_connect() || error.is_request() || error.is_body() {
        Fault::Retryable {
            class: ErrorClass::ServerError,
            message: format!("`{url}`: connection failed ({error})"),
            wait_ms: None,
        }
    } else {
        Fault::Error(format!("`{url}`: {error}"))
    }
}
