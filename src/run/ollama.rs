//! The Ollama provider: its native chat API (`POST {base_url}/api/chat`,
//! non-streaming). No key: Ollama runs on this machine or a host you name.

use serde_json::{json, Value};

use super::http;
use super::openai::{ModelConfig, Reply};
use super::prompt::Prompt;
use super::provider::CallError;
use super::record::Tokens;

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

pub async fn call(
    client: &reqwest::Client,
    config: &ModelConfig,
    prompt: &Prompt,
) -> Result<Reply, CallError> {
    let base = config.base_url.as_deref().unwrap_or(DEFAULT_BASE_URL);
    let url = format!("{}/api/chat", base.trim_end_matches('/'));
    let answer = http::post_json(client, &url, &[], &body(config, prompt)).await?;
    if !(200..300).contains(&answer.status) {
        let message = http::error_message(&answer.body, "/error");
        return Err(http::classify(
            answer.status,
            &message,
            answer.retry_after_ms,
        ));
    }
    read_reply(&answer.body)
}

/// The message and counts of a reply; a reply cut by `num_predict` is an
/// error that says so.
pub fn read_reply(body: &str) -> Result<Reply, CallError> {
    let value: Value = serde_json::from_str(body)
        .map_err(|e| CallError::Server(format!("the reply is not JSON: {e}")))?;
    let text = value["message"]["content"]
        .as_str()
        .ok_or_else(|| CallError::Server("the reply has no message".to_string()))?
        .to_string();
    if value["done_reason"] == "length" {
        return Err(CallError::Permanent(
            "the reply was cut off by `max_tokens`; raise it on the model".to_string(),
        ));
    }
    let tokens = match (
        value["prompt_eval_count"].as_u64(),
        value["eval_count"].as_u64(),
    ) {
        (Some(prompt), Some(completion)) => Some(Tokens { prompt, completion }),
        _ => None,
    };
    Ok(Reply { text, tokens })
}

#[cfg(test)]
mod tests {
    use super::*;

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
            read_reply(ok),
            Ok(Reply {
                text: "hi".into(),
                tokens: Some(Tokens {
                    prompt: 9,
                    completion: 2
                })
            })
        );
        let cut = r#"{"message": {"content": "h"}, "done_reason": "length"}"#;
        assert!(read_reply(cut).is_err());
    }
}
