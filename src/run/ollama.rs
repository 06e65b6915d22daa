//! The Ollama provider: its native chat API (`POST {base_url}/api/chat`,
//! non-streaming). No key: Ollama runs on this machine or a host you name.

use serde_json::{json, Value};

use super::http;
use super::prompt::Prompt;
use super::provider::{reply, CallError, ModelConfig, Reply};

pub const DEFAULT_BASE_URL: &str = "http://127.0.0.1:11434";

/// The request body: messages, no streaming, options as Ollama names them.
pub fn body(config: &ModelConfig, prompt: &Prompt) -> Value {
    let mut messages = Vec::new();
    if !prompt.system.is_empty() {
        messages.push(json!({"role": "system", "content": prompt.system}));
    }
    messages.push(json!({"role": "user", "content": prompt.user}));
    let mut options = serde_json::Map::new();
    if let Some(t) = config.temperature {
        options.insert("temperature".into(), json!(t));
    }
    if let Some(n) = config.max_tokens {
        options.insert("num_predict".into(), json!(n));
    }
    let mut body = json!({"model": config.name, "messages": messages, "stream": false});
    if !options.is_empty() {
        body["options"] = Value::Object(options);
    }
    body
}

/// Sends one chat request (no key: Ollama has none).
pub async fn call(
    client: &reqwest::Client,
    config: &ModelConfig,
    prompt: &Prompt,
) -> Result<Reply, CallError> {
    let url = config.url(DEFAULT_BASE_URL, "/api/chat");
    let value = http::exchange(client, &url, &[], &body(config, prompt), "/error").await?;
    read_reply(&value)
}

/// The message and the counts; `done_reason: "length"` is a reply cut off.
pub fn read_reply(value: &Value) -> Result<Reply, CallError> {
    reply(
        value["message"]["content"].as_str().map(String::from),
        value["done_reason"] == "length",
        value["prompt_eval_count"].as_u64(),
        value["eval_count"].as_u64(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::record::Tokens;

    #[test]
    fn requests_use_ollamas_names_and_never_stream() {
        let config = ModelConfig {
            name: "qwen3".into(),
            temperature: Some(0.0),
            max_tokens: Some(64),
            ..ModelConfig::default()
        };
        let prompt = Prompt {
            system: String::new(),
            user: "Hi".into(),
        };
        assert_eq!(
            body(&config, &prompt),
            json!({"model": "qwen3", "stream": false, "messages": [{"role": "user", "content": "Hi"}],
                   "options": {"temperature": 0.0, "num_predict": 64}})
        );
    }

    #[test]
    fn replies_give_text_and_counts() {
        let ok = r#"{"message": {"role": "assistant", "content": "hi"}, "done": true,
                     "done_reason": "stop", "prompt_eval_count": 9, "eval_count": 2}"#;
        assert_eq!(
            read_reply(&serde_json::from_str(ok).unwrap()),
            Ok(Reply {
                text: "hi".into(),
                tokens: Some(Tokens {
                    prompt: 9,
                    completion: 2
                })
            })
        );
        let cut = r#"{"message": {"content": "h"}, "done_reason": "length"}"#;
        assert!(read_reply(&serde_json::from_str(cut).unwrap()).is_err());
    }
}
