//! The OpenAI-compatible provider: Chat Completions
//! (`POST {base_url}/chat/completions`), which OpenAI, vLLM, llama.cpp's
//! server, LM Studio, Together, Groq and OpenRouter all speak.

use serde_json::{json, Value};

use super::http;
use super::prompt::Prompt;
use super::provider::{reply, CallError, ModelConfig, Reply};

pub const DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";

/// The request body for a prompt.
pub fn body(config: &ModelConfig, prompt: &Prompt) -> Value {
    let mut messages = Vec::new();
    if !prompt.system.is_empty() {
        messages.push(json!({"role": "system", "content": prompt.system}));
    }
    messages.push(json!({"role": "user", "content": prompt.user}));
    let mut body = json!({"model": config.name, "messages": messages});
    if let Some(t) = config.temperature {
        body["temperature"] = json!(t);
    }
    if let Some(n) = config.max_tokens {
        body["max_tokens"] = json!(n);
    }
    body
}

/// Sends one chat completion. `key` goes in the `Authorization` header
/// only; it never appears in an error.
pub async fn call(
    client: &reqwest::Client,
    config: &ModelConfig,
    key: Option<&str>,
    prompt: &Prompt,
) -> Result<Reply, CallError> {
    let url = config.url(DEFAULT_BASE_URL, "/chat/completions");
    let bearer = key.map(|k| format!("Bearer {k}"));
    let headers: Vec<(&str, &str)> = bearer
        .iter()
        .map(|b| ("authorization", b.as_str()))
        .collect();
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

/// The first choice's text and the usage; `finish_reason: "length"` is a
/// reply cut off.
pub fn read_reply(value: &Value) -> Result<Reply, CallError> {
    let choice = &value["choices"][0];
    reply(
        choice["message"]["content"].as_str().map(String::from),
        choice["finish_reason"] == "length",
        value["usage"]["prompt_tokens"].as_u64(),
        value["usage"]["completion_tokens"].as_u64(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::record::Tokens;

    #[test]
    fn requests_carry_system_and_user_messages_and_options() {
        let config = ModelConfig {
            name: "gpt-4o-mini".into(),
            temperature: Some(0.2),
            max_tokens: Some(100),
            ..ModelConfig::default()
        };
        let prompt = Prompt {
            system: "Be brief.".into(),
            user: "Hi".into(),
        };
        assert_eq!(
            body(&config, &prompt),
            json!({"model": "gpt-4o-mini", "temperature": 0.2, "max_tokens": 100, "messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": "Hi"}
            ]})
        );
    }

    #[test]
    fn replies_give_text_and_usage_and_a_cut_reply_says_so() {
        let ok = r#"{"choices": [{"message": {"content": "hello"}, "finish_reason": "stop"}],
                     "usage": {"prompt_tokens": 12, "completion_tokens": 3}}"#;
        assert_eq!(
            read_reply(&serde_json::from_str(ok).unwrap()),
            Ok(Reply {
                text: "hello".into(),
                tokens: Some(Tokens {
                    prompt: 12,
                    completion: 3
                })
            })
        );
        let cut = r#"{"choices": [{"message": {"content": "hel"}, "finish_reason": "length"}]}"#;
        assert!(
            matches!(read_reply(&serde_json::from_str(cut).unwrap()), Err(CallError::Permanent(m)) if m.contains("max_tokens"))
        );
    }
}
