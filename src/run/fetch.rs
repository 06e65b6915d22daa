//! `fetch` steps: an HTTP request with reqwest (rustls), one pooled client
//! per run. A 429 or 5xx, a dropped connection and a timeout may pass on
//! another try; any other status fails the step.

use std::rc::Rc;
use std::time::Duration;

use serde_json::{Map, Value};

use super::engine::Engine;
use super::eval::{Eval, Fault, Scope};
use super::http;
use super::value::render;
use crate::check::types::Ty;
use crate::syntax::ast::{ActionBlock, SettingValue};

impl<'a> Engine<'a> {
    pub async fn fetch(
        &self,
        block: &'a ActionBlock,
        scope: &Rc<Scope<'a>>,
        declared: &Ty,
    ) -> Eval<Value> {
        let url = match block.get("url") {
            Some(SettingValue::Expr(e)) => render(&self.eval(e, scope).await?),
            _ => return Err(Fault::Error("`fetch` has no `url`".to_string())),
        };
        let method = match block.get("method") {
            Some(SettingValue::Expr(e)) => render(&self.eval(e, scope).await?).to_uppercase(),
            _ => "GET".to_string(),
        };
        let method = reqwest::Method::from_bytes(method.as_bytes())
            .map_err(|_| Fault::Error(format!("`{method}` is not an HTTP method")))?;
        let timeout = match block.get("timeout") {
            Some(SettingValue::Expr(e)) => self.eval(e, scope).await?.as_u64(),
            _ => None,
        }
        .unwrap_or(crate::plan::defaults::TIMEOUT_MS);
        let client = self.http()?;
        let mut request = client
            .request(method, &url)
            .timeout(Duration::from_millis(timeout));
        for (key, value) in self.pairs(block.get("headers"), scope).await? {
            request = request.header(key, value);
        }
        let query = self.pairs(block.get("query"), scope).await?;
        if !query.is_empty() {
            request = request.query(&query);
        }
        let body = match block.get("body") {
            Some(SettingValue::Expr(e)) => Some(self.eval(e, scope).await?),
            // `body = { name = "x" }`: a settings block is a JSON object.
            Some(block @ SettingValue::Block(..)) => Some(Value::Object(
                self.pairs(Some(block), scope)
                    .await?
                    .into_iter()
                    .map(|(k, v)| (k, Value::String(v)))
                    .collect(),
            )),
            _ => None,
        };
        if let Some(body) = body {
            request = match body {
                Value::String(text) => request.body(text),
                other => request
                    .header("content-type", "application/json")
                    .body(other.to_string()),
            };
        }
        let response = request.send().await.map_err(|e| transport(&url, &e))?;
        let status = response.status().as_u16();
        if !(200..300).contains(&status) {
            // The providers' classes: 429 and 5xx may pass on another try.
            let wait = http::retry_after_ms(response.headers());
            let class = http::classify(status, "", wait).class();
            let message = format!("`{url}` answered HTTP {status}");
            return Err(match class {
                "permanent" => Fault::Error(message),
                class => Fault::Retryable {
                    class,
                    message,
                    wait_ms: wait,
                },
            });
        }
        let text = response.text().await.map_err(|e| transport(&url, &e))?;
        Ok(match declared.unwrap_optional() {
            Ty::String => Value::String(text),
            // JSON when it is JSON; a `json` step may also hold plain text.
            _ => serde_json::from_str(&text).unwrap_or(Value::String(text)),
        })
    }

    /// `headers = { Accept = "…" }` or a record/map value, as name/value
    /// pairs.
    async fn pairs(
        &self,
        setting: Option<&'a SettingValue>,
        scope: &Rc<Scope<'a>>,
    ) -> Eval<Vec<(String, String)>> {
        Ok(match setting {
            Some(SettingValue::Block(settings, _)) => {
                let mut out = Vec::new();
                for s in settings {
                    if let SettingValue::Expr(e) = &s.value {
                        out.push((s.key.name.clone(), render(&self.eval(e, scope).await?)));
                    }
                }
                out
            }
            Some(SettingValue::Expr(e)) => match self.eval(e, scope).await? {
                Value::Object(map) => object_pairs(map),
                _ => Vec::new(),
            },
            _ => Vec::new(),
        })
    }
}

fn object_pairs(map: Map<String, Value>) -> Vec<(String, String)> {
    map.into_iter().map(|(k, v)| (k, render(&v))).collect()
}

/// A request that got no answer: a timeout or a dropped connection may
/// pass on another try.
fn transport(url: &str, error: &reqwest::Error) -> Fault {
    if error.is_timeout() {
        Fault::timeout(format!("`{url}` did not answer in time"))
    } else if error.is_connect() || error.is_request() || error.is_body() {
        Fault::Retryable {
            class: "server_error",
            message: format!("`{url}`: connection failed ({error})"),
            wait_ms: None,
        }
    } else {
        Fault::Error(format!("`{url}`: {error}"))
    }
}
