//! The Gemini provider: `generateContent`
//! (`POST {base_url}/v1beta/models/{name}:generateContent`), the key in the
//! `x-goog-api-key` header (never in the URL), the system prompt as
//! `systemInstruction`, options in `generationConfig`.

use serde_json::{json, Value};

use super::http;
use super::prompt::Prompt;
use super::provider::{reply, CallError, ModelConfig, Reply};

pub const DEFAULT_BASE_URL: &str = "https://generativelanguage.googleapis.com";

pub fn body(config: &ModelConfig, prompt: &Prompt) -> Value {
    let mut body = json!({"contents": [{"role": "user", "parts": [{"text": prompt.user}]}]});
    if !prompt.system.is_empty() {
        body["systemInstruction"] = json!({"parts": [{"text": prompt.system}]});
    }
    let mut generation = serde_json::Map::new();
    if let Some(t) = config.temperature {
        generation.insert("temperature".into(), json!(t));
    }
    if let Some(n) = config.max_tokens {
        generation.insert("maxOutputTokens".into(), json!(n));
    }
    if !generation.is_empty() {
        body["generationConfig"] = Value::Object(generation);
    }
    body
}

/// Sends one request. The key goes in `x-goog-api-key` only.
pub async fn call(
    client: &reqwest::Client,
    config: &ModelConfig,
    key: Option<&str>,
    prompt: &Prompt,
) -> Result<Reply, CallError> {
    let path = format!("/v1beta/models/{}:generateContent", config.name);
    let url = config.url(DEFAULT_BASE_URL, &path);
    let headers: Vec<(&str, &str)> = key.iter().map(|k| ("x-goog-api-key", *k)).collect();
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

/// The first candidate's text parts joined and the usage;
/// `finishReason: "MAX_TOKENS"` is a reply cut off.
pub fn read_reply(value: &Value) -> Result<Reply, CallError> {
    let candidate = &value["candidates"][0];
    let text = candidate["content"]["parts"]
        .as_array()
        .map(|parts| parts.iter().filter_map(|p| p["text"].as_str()).collect());
    reply(
        text,
        candidate["finishReason"] == "MAX_TOKENS",
        value["usageMetadata"]["promptTokenCount"].as_u64(),
        value["usageMetadata"]["candidatesTokenCount"].as_u64(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::record::Tokens;

    #[test]
    fn requests_use_contents_system_instruction_and_generation_config() {
        let config = ModelConfig {
            name: "gemini-2.0-flash".into(),
            temperature: Some(0.5),
            max_tokens: Some(256),
            ..ModelConfig::default()
        };
        let prompt = Prompt {
            system: "Be brief.".into(),
            user: "Hi".into(),
        };
        assert_eq!(
            body(&config, &prompt),
            json!({
                "contents": [{"role": "user", "parts": [{"text": "Hi"}]}],
                "systemInstruction": {"parts": [{"text": "Be brief."}]},
                "generationConfig": {"temperature": 0.5, "maxOutputTokens": 256}
            })
        );
    }

    #[test]
    fn replies_join_parts_and_report_usage() {
        let ok = r#"{"candidates": [{"content": {"parts": [{"text": "he"}, {"text": "y"}]}, "finishReason": "STOP"}],
                     "usageMetadata": {"promptTokenCount": 5, "candidatesTokenCount": 1}}"#;
        assert_eq!(
            read_reply(&serde_json::from_str(ok).unwrap()),
            Ok(Reply {
                text: "hey".into(),
                tokens: Some(Tokens {
                    prompt: 5,
                    completion: 1
                })
            })
        );
        let cut = r#"{"candidates": [{"content": {"parts": [{"text": "h"}]}, "finishReason": "MAX_TOKENS"}]}"#;
        assert!(read_reply(&serde_json::from_str(cut).unwrap()).is_err());
    }
}
