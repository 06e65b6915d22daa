//! The Gemini provider: `generateContent`
//! (`POST {base_url}/v1beta/models/{name}:generateContent`), the key in the
//! `x-goog-api-key` header (never in the URL), the system prompt as
//! `systemInstruction`, options in `generationConfig`.

use serde_json::{json, Value};

use super::http;
use super::openai::{ModelConfig, Reply};
use super::prompt::Prompt;
use super::provider::CallError;
use super::record::Tokens;

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

pub async fn call(
    client: &reqwest::Client,
    config: &ModelConfig,
    key: Option<&str>,
    prompt: &Prompt,
) -> Result<Reply, CallError> {
    let base = config.base_url.as_deref().unwrap_or(DEFAULT_BASE_URL);
    let url = format!(
        "{}/v1beta/models/{}:generateContent",
        base.trim_end_matches('/'),
        config.name
    );
    let headers: Vec<(&str, &str)> = key.iter().map(|k| ("x-goog-api-key", *k)).collect();
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

/// The first candidate's text parts and the usage; a reply cut by
/// `maxOutputTokens` is an error that says so.
pub fn read_reply(body: &str) -> Result<Reply, CallError> {
    let value: Value = serde_json::from_str(body)
        .map_err(|e| CallError::Server(format!("the reply is not JSON: {e}")))?;
    let candidate = &value["candidates"][0];
    let parts = candidate["content"]["parts"]
        .as_array()
        .ok_or_else(|| CallError::Server("the reply has no content".to_string()))?;
    let text: String = parts.iter().filter_map(|p| p["text"].as_str()).collect();
    if candidate["finishReason"] == "MAX_TOKENS" {
        return Err(CallError::Permanent(
            "the reply was cut off by `max_tokens`; raise it on the model".to_string(),
        ));
    }
    let usage = &value["usageMetadata"];
    let tokens = match (
        usage["promptTokenCount"].as_u64(),
        usage["candidatesTokenCount"].as_u64(),
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
            read_reply(ok),
            Ok(Reply {
                text: "hey".into(),
                tokens: Some(Tokens {
                    prompt: 5,
                    completion: 1
                })
            })
        );
        let cut = r#"{"candidates": [{"content": {"parts": [{"text": "h"}]}, "finishReason": "MAX_TOKENS"}]}"#;
        assert!(read_reply(cut).is_err());
    }
}
