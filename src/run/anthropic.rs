//! The Anthropic provider: the Messages API (`POST {base_url}/v1/messages`,
//! `x-api-key`, `anthropic-version`), the system prompt in its own field.

use serde_json::{json, Value};

use super::http;
use super::prompt::Prompt;
use super::provider::{reply, CallError, ModelConfig, Reply};

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
    let url = config.url(DEFAULT_BASE_URL, "/v1/messages");
    let mut headers = vec![("anthropic-version", API_VERSION)];
    if let Some(key) = key {
        headers.push(("x-api-key", key));
    }
    let value = http::exchange(
        client,
        &url,
        &headers,
        &body(config, prompt),
        "/error/message",
    )
    .await?;
    read_reply(&value)
}

/// The text blocks joined and the usage; `stop_reason: "max_tokens"` is
/// a reply cut off.
pub fn read_reply(value: &Value) -> Result<Reply, CallError> {
    let text = value["content"].as_array().map(|blocks| {
        blocks
            .iter()
            .filter(|b| b["type"] == "text")
            .filter_map(|b| b["text"].as_str())
            .collect()
    });
    reply(
        text,
        value["stop_reason"] == "max_tokens",
        value["usage"]["input_tokens"].as_u64(),
        value["usage"]["output_tokens"].as_u64(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::record::Tokens;

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
            read_reply(&serde_json::from_str(ok).unwrap()),
            Ok(Reply {
                text: "hello".into(),
                tokens: Some(Tokens {
                    prompt: 10,
                    completion: 2
                })
            })
        );
        let cut = r#"{"content": [{"type": "text", "text": "he"}], "stop_reason": "max_tokens"}"#;
        assert!(read_reply(&serde_json::from_str(cut).unwrap()).is_err());
    }
}
