//! `spesc run --record FILE` and `--replay FILE`: every model request and
//! the provider's raw answer, one JSON object per line, so that a team can
//! keep real model behaviour in CI. Keys never reach the file: the key's
//! header is not recorded, credentials in a URL are dropped, and a key
//! that a server echoes back is blanked.

use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::http::Raw;
use super::{blank, Request};

/// One request and its answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Exchange {
    pub provider: String,
    pub model: String,
    pub url: String,
    /// The headers sent, the key's excepted.
    pub headers: Map<String, Value>,
    pub body: Value,
    pub reply: Raw,
}

/// Appends exchanges to a recording as they happen: a run that is killed
/// keeps what it had recorded.
#[derive(Debug)]
pub struct Recorder {
    file: Mutex<File>,
}

impl Recorder {
    pub fn create(path: &Path) -> Result<Recorder, String> {
        let file = File::create(path)
            .map_err(|e| format!("cannot write the recording `{}`: {e}", path.display()))?;
        Ok(Recorder {
            file: Mutex::new(file),
        })
    }

    /// Records one exchange of `model` (of `provider`).
    pub fn write(
        &self,
        provider: &str,
        model: &str,
        request: &Request,
        reply: &Raw,
    ) -> Result<(), String> {
        let exchange = Exchange {
            provider: provider.to_string(),
            model: model.to_string(),
            url: without_credentials(&request.url),
            headers: request
                .headers
                .iter()
                .map(|(name, value)| (name.to_string(), Value::from(value.as_str())))
                .collect(),
            body: request.body.clone(),
            reply: reply.clone(),
        };
        let mut line = serde_json::to_string(&exchange).map_err(|e| e.to_string())?;
        if let Some((_, secret)) = &request.secret {
            line = blank(&line, secret);
        }
        line.push('\n');
        let mut file = self
            .file
            .lock()
            .map_err(|_| "the recording is unusable".to_string())?;
        file.write_all(line.as_bytes())
            .map_err(|e| format!("cannot write the recording: {e}"))
    }
}

/// A recording to answer from; each exchange answers once, in recorded
/// order among equal requests (a retried request gets its next answer).
#[derive(Debug)]
pub struct Replayer {
    /// Each exchange and whether it has answered.
    exchanges: Mutex<Vec<(Exchange, bool)>>,
}

impl Replayer {
    pub fn load(path: &Path) -> Result<Replayer, String> {
        let text = crate::files::read_text(path, crate::files::RECORDING_LIMIT)
            .map_err(|e| format!("the recording: {e}"))?;
        let exchanges = text
            .lines()
            .enumerate()
            .filter(|(_, line)| !line.trim().is_empty())
            .map(|(n, line)| {
                serde_json::from_str(line).map(|e| (e, false)).map_err(|e| {
                    format!(
                        "`{}` line {}: not a recorded exchange: {e}",
                        path.display(),
                        n + 1
                    )
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(Replayer {
            exchanges: Mutex::new(exchanges),
        })
    }

    /// The recorded answer to `request`, or why there is none.
    pub fn answer(&self, model: &str, request: &Request) -> Result<Raw, String> {
        let url = without_credentials(&request.url);
        let mut exchanges = self
            .exchanges
            .lock()
            .map_err(|_| "the recording is unusable".to_string())?;
        let same = |e: &Exchange| e.url == url && e.body == request.body;
        if let Some((exchange, used)) = exchanges.iter_mut().find(|(e, used)| !used && same(e)) {
            *used = true;
            return Ok(exchange.reply.clone());
        }
        let why = if exchanges.iter().any(|(e, _)| same(e)) {
            "its recorded answers are used up (it was sent more often than when recorded)"
                .to_string()
        } else {
            match exchanges
                .iter()
                .find(|(e, _)| e.url == url)
                .and_then(|(e, _)| first_difference(&e.body, &request.body, String::new()))
            {
                Some(at) => format!("the request recorded for this URL differs at `{at}`"),
                None => "nothing was recorded for this URL".to_string(),
            }
        };
        Err(format!(
            "`--replay`: no recorded answer to this request of model `{model}` (POST {url}): {why}; record the run again with `--record`"
        ))
    }
}

/// Where two JSON values first differ, as a JSON pointer.
fn first_difference(recorded: &Value, sent: &Value, at: String) -> Option<String> {
    match (recorded, sent) {
        (Value::Object(a), Value::Object(b)) => {
            let keys = a.keys().chain(b.keys().filter(|k| !a.contains_key(*k)));
            keys.into_iter()
                .find_map(|key| match (a.get(key), b.get(key)) {
                    (Some(x), Some(y)) => first_difference(x, y, format!("{at}/{key}")),
                    _ => Some(format!("{at}/{key}")),
                })
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => a
            .iter()
            .zip(b)
            .enumerate()
            .find_map(|(i, (x, y))| first_difference(x, y, format!("{at}/{i}"))),
        (a, b) if a == b => None,
        _ => Some(at),
    }
}

/// `url` without `user:password@`.
fn without_credentials(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut parsed) => {
            // Both fail only for URLs that cannot carry credentials.
            let _ = parsed.set_username("");
            let _ = parsed.set_password(None);
            parsed.to_string()
        }
        Err(_) => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn request(body: Value) -> Request {
        Request {
            url: "http://user:pw@127.0.0.1:9/v1/chat/completions".into(),
            headers: vec![("anthropic-version", "2023-06-01".into())],
            secret: Some(("authorization", "Bearer sk-secret-123".into())),
            body,
        }
    }

    fn raw(body: &str) -> Raw {
        Raw {
            status: 200,
            content_type: "application/json".into(),
            retry_after_ms: None,
            body: body.into(),
        }
    }

    #[test]
    fn recordings_keep_no_secret_and_answer_each_request_once() {
        let dir = std::env::temp_dir().join(format!("spesc-rec-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("r.jsonl");
        let recorder = Recorder::create(&path).unwrap();
        let a = request(json!({"model": "m", "messages": ["a"]}));
        recorder
            .write("openai", "m", &a, &raw("first sk-secret-123"))
            .unwrap();
        recorder.write("openai", "m", &a, &raw("second")).unwrap();
        drop(recorder);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            !text.contains("sk-secret-123") && !text.contains("pw@"),
            "{text}"
        );
        assert!(text.contains("anthropic-version"));

        let replayer = Replayer::load(&path).unwrap();
        assert_eq!(replayer.answer("m", &a).unwrap().body, "first [redacted]");
        assert_eq!(replayer.answer("m", &a).unwrap().body, "second");
        let spent = replayer.answer("m", &a).unwrap_err();
        assert!(spent.contains("used up"), "{spent}");
        let other = replayer
            .answer("m", &request(json!({"model": "m", "messages": ["b"]})))
            .unwrap_err();
        assert!(other.contains("differs at `/messages/0`"), "{other}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn differences_are_pointed_at() {
        assert_eq!(
            first_difference(
                &json!({"messages": [{"content": "a"}]}),
                &json!({"messages": [{"content": "b"}]}),
                String::new()
            ),
            Some("/messages/0/content".into())
        );
        assert_eq!(
            first_difference(&json!({"a": 1}), &json!({"a": 1}), String::new()),
            None
        );
    }
}
