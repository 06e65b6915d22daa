//! The OpenAI-compatible provider: Chat Completions
//! (`POST {base_url}/chat/completions`), which OpenAI, vLLM, llama.cpp's
//! server, LM Studio, Together, Groq and OpenRouter all speak.

use serde_json::{json, Value};

use super::http;
use super::prompt::Prompt;
use super::provider::CallError;
use super::record::Tokens;

/// What a call needs to know about the model.
#[derive(Clone, Debug, Default)]
pub struct ModelConfig {
    /// The provider-side model name (`gpt-4o-mini`).
    pub name: String,
    /// The API root, `https://api.openai.com/v1` unless set.
    pub base_url: Option<String>,
    pub temperature: Option<f64>,
    pub max_tokens: Option<u64>,
}

pub const DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";

/// A reply: its text and the tokens the provider counted.
#[derive(Clone, Debug, PartialEq)]
pub struct Reply {
    pub text: String,
    pub tokens: Option<Tokens>,
}

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
    let base = config.base_url.as_deref().unwrap_or(DEFAULT_BASE_URL);
    let url = format!("{}/chat/completions", base.trim_end_matches('/'));
    let bearer = key.map(|k| format!("Bearer {k}"));
    let headers: Vec<(&str, &str)> = bearer
        .iter()
        .map(|b| ("authorization", b.as_str()))
        .collect();
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

/// The text and usage of a successful reply; a reply cut by `max_tokens`
/// is an error that says so.
pub fn read_reply(body: &str) -> Result<Reply, CallError> {
    let value: Value = serde_json::from_str(body)
        .map_err(|e| CallError::Server(format!("the reply is not JSON: {e}")))?;
    let choice = &value["choices"][0];
    let text = choice["message"]["content"]
        .as_str()
        .ok_or_else(|| CallError::Server("the reply has no message".to_string()))?
        .to_string();
    if choice["finish_reason"] == "length" {
        return Err(CallError::Permanent(
            "the reply was cut off by `max_tokens`; raise it on the model".to_string(),
        ));
    }
    let usage = &value["usage"];
    let tokens = match (
        usage["prompt_tokens"].as_u64(),
        usage["completion_tokens"].as_u64(),
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
            read_reply(ok),
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
            matches!(read_reply(cut), Err(CallError::Permanent(m)) if m.contains("max_tokens"))
        );
    }
}
