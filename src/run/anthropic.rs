//! The Anthropic provider: the Messages API (`POST {base_url}/v1/messages`,
//! `x-api-key`, `anthropic-version`), the system prompt in its own field.

use serde_json::{json, Value};

use super::http;
use super::openai::{ModelConfig, Reply};
use super::prompt::Prompt;
use super::provider::CallError;
use super::record::Tokens;

pub const DEFAULT_BASE_URL: &str = "https://api.anthropic.com";
pub const API_VERSION: &str = "2023-06-01";
/// The Messages API requires `max_tokens`; used when the model sets none.
pub const DEFAULT_MAX_TOKENS: u64 = 4096;

pub fn body(config: &ModelConfig, prompt: &Prompt) -> Value {
    let mut body = json!({
        "model": config.name,
        "max_tokens": config.max_tokens.unwrap_or(DEFAULT_MAX_TOKENS),
        "messages": [{"role": "user", "content": prompt.user}],
    });
    if !prompt.system.is_empty() {
        body["system"] = json!(prompt.system);
    }
    if let Some(t) = config.temperature {
        body["temperature"] = json!(t);
    }
    body
}

/// Sends one message. The key goes in `x-api-key` only.
pub async fn call(
    client: &reqwest::Client,
    config: &ModelConfig,
    key: Option<&str>,
    prompt: &Prompt,
) -> Result<Reply, CallError> {
    let base = config.base_url.as_deref().unwrap_or(DEFAULT_BASE_URL);
    let url = format!("{}/v1/messages", base.trim_end_matches('/'));
    let mut headers = vec![("anthropic-version", API_VERSION)];
    if let Some(key) = key {
        headers.push(("x-api-key", key));
    }
    let answer = http::post_json(client, &url, &headers, &body(config, prompt)).await?;
    if !(200..300).contains(&answer.status) {
        let message = http::error_message(&answer.body, "/error/message");
        return Err(http::classify(
            answer.status,
            &message,
            answer.retry_after_ms,
        ));
    }
    read_reply(&answer.body)
}

/// The text blocks and usage of a reply; a reply cut by `max_tokens` is
/// an error that says so.
pub fn read_reply(body: &str) -> Result<Reply, CallError> {
    let value: Value = serde_json::from_str(body)
        .map_err(|e| CallError::Server(format!("the reply is not JSON: {e}")))?;
    let blocks = value["content"]
        .as_array()
        .ok_or_else(|| CallError::Server("the reply has no content".to_string()))?;
    let text: String = blocks
        .iter()
        .filter(|b| b["type"] == "text")
        .filter_map(|b| b["text"].as_str())
        .collect();
    if value["stop_reason"] == "max_tokens" {
        return Err(CallError::Permanent(
            "the reply was cut off by `max_tokens`; raise it on the model".to_string(),
        ));
    }
    let usage = &value["usage"];
    let tokens = match (
        usage["input_tokens"].as_u64(),
        usage["output_tokens"].as_u64(),
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
    fn the_system_prompt_has_its_own_field_and_max_tokens_is_always_sent() {
        let config = ModelConfig {
            name: "claude-sonnet-4-20250514".into(),
            ..ModelConfig::default()
        };
        let prompt = Prompt {
            system: "Be brief.".into(),
            user: "Hi".into(),
        };
        assert_eq!(
            body(&config, &prompt),
            json!({"model": "claude-sonnet-4-20250514", "max_tokens": 4096, "system": "Be brief.",
                   "messages": [{"role": "user", "content": "Hi"}]})
        );
    }

    #[test]
    fn replies_join_text_blocks_and_report_usage() {
        let ok = r#"{"content": [{"type": "text", "text": "hel"}, {"type": "text", "text": "lo"}],
                     "stop_reason": "end_turn", "usage": {"input_tokens": 10, "output_tokens": 2}}"#;
        assert_eq!(
            read_reply(ok),
            Ok(Reply {
                text: "hello".into(),
                tokens: Some(Tokens {
                    prompt: 10,
                    completion: 2
                })
            })
        );
        let cut = r#"{"content": [{"type": "text", "text": "he"}], "stop_reason": "max_tokens"}"#;
        assert!(read_reply(cut).is_err());
    }
}
