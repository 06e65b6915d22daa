//! `fetch`: an HTTP request with the run's pooled fetch client, which
//! reaches any address but a link-local one unless `--fetch-allow` says
//! what it may reach (see `runtime::reach`). A 429 or 5xx, a dropped
//! connection and a timeout may pass on another try; any other status, a
//! refused address and a body over the size limit fail the step.

use serde_json::Value;

use crate::lang::policy::ErrorClass;
use crate::lang::value::render;
use crate::plan::Fetch;
use crate::providers::{http, CallError};
use crate::runtime::engine::Engine;
use crate::runtime::frame::Env;
use crate::runtime::reach;
use crate::runtime::{Eval, Fault};

impl<'p> Engine<'p> {
    pub async fn fetch(&self, fetch: &'p Fetch, env: &Env) -> Eval<Value> {
        let url = self.text(&fetch.url, env).await?;
        let method = reqwest::Method::from_bytes(fetch.method.as_bytes())
            .map_err(|_| Fault::Error(format!("`{}` is not an HTTP method", fetch.method)))?;
        let parsed = reqwest::Url::parse(&url)
            .map_err(|e| Fault::Error(format!("`{url}` is not a URL: {e}")))?;
        if let Some(why) = self.options.reach.refusal(&parsed) {
            return Err(Fault::Error(format!("cannot fetch `{url}`: {why}")));
        }
        let mut request = self.fetch_http()?.request(method, parsed);
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
        let mut response = request.send().await.map_err(|e| transport(&url, &e))?;
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
        let limit = self.options.reach.max_response_bytes;
        let body = http::read_body(&mut response, None, limit, &mut |_| {})
            .await
            .map_err(|error| match error {
                CallError::Server(why) => Fault::Retryable {
                    class: ErrorClass::ServerError,
                    message: format!("`{url}`: {why}"),
                    wait_ms: None,
                },
                CallError::Timeout(why) => Fault::timeout(format!("`{url}`: {why}")),
                CallError::Permanent(why) => Fault::Error(format!("`{url}`: {why}")),
                CallError::RateLimit { .. } => Fault::Error(format!("`{url}`: rate limited")),
            })?;
        // The body as text: the step reads it as its type
        // (`Engine::read_output`).
        Ok(Value::String(String::from_utf8_lossy(&body).into_owned()))
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
    if let Some(refused) = reach::refusal_in(error) {
        Fault::Error(format!("cannot fetch `{url}`: {refused}"))
    } else if error.is_timeout() {
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
