//! The Gemini provider: `generateContent`
//! (`POST {base_url}/v1beta/models/{name}:generateContent`, or
//! `:streamGenerateContent?alt=sse` when streaming), the key in the
//! `x-goog-api-key` header (never in the URL), the system prompt as
//! `systemInstruction`, options and the `responseSchema` in
//! `generationConfig`.

use crate::lang::model::Model;
use serde_json::{json, Map, Value};

use super::{reply, stream_error, CallError, Prompt, Provider, Reply, Request, Streamed};

pub const DEFAULT_BASE_URL: &str = "https://generativelanguage.googleapis.com";

pub struct Gemini;

impl Provider for Gemini {
    fn request(&self, config: &Model, prompt: &Prompt, key: Option<String>) -> Request {
        let mut body = json!({"contents": [{"role": "user", "parts": [{"text": prompt.user}]}]});
        if !prompt.system.is_empty() {
            body["systemInstruction"] = json!({"parts": [{"text": prompt.system}]});
        }
        let mut generation = Map::new();
        if let Some(t) = config.temperature {
            generation.insert("temperature".into(), json!(t));
        }
        if let Some(n) = config.max_tokens {
            generation.insert("maxOutputTokens".into(), json!(n));
        }
        if let Some(schema) = prompt.schema.as_ref().filter(|_| config.structured_output) {
            generation.insert("responseMimeType".into(), json!("application/json"));
            generation.insert("responseSchema".into(), response_schema(schema));
        }
        if !generation.is_empty() {
            body["generationConfig"] = Value::Object(generation);
        }
        let method = if config.stream {
            "streamGenerateContent?alt=sse"
        } else {
            "generateContent"
        };
        let url = config.url(
            DEFAULT_BASE_URL,
            &format!("/v1beta/models/{}:{method}", config.model),
        );
        Request::new(url, body, "x-goog-api-key", key)
    }

    fn error_at(&self) -> &'static str {
        "/error/message"
    }

    /// The first candidate's text parts joined and the usage;
    /// `finishReason: "MAX_TOKENS"` is a reply cut off.
    fn read_reply(&self, value: &Value) -> Result<Reply, CallError> {
        let mut streamed = Streamed::default();
        self.read_event(value, &mut streamed)?;
        let candidate = &value["candidates"][0];
        let text = candidate["content"]["parts"]
            .as_array()
            .map(|_| streamed.text);
        reply(
            text,
            streamed.cut_off,
            streamed.prompt_tokens,
            streamed.completion_tokens,
        )
    }

    /// Each event is a `GenerateContentResponse` holding the next parts;
    /// the one with a `finishReason` is the last.
    fn read_event(&self, event: &Value, into: &mut Streamed) -> Result<(), CallError> {
        if let Some(error) = event.get("error") {
            let status = error["status"].as_str().unwrap_or_default();
            return Err(stream_error(
                status,
                error["message"].as_str().unwrap_or(status),
            ));
        }
        let candidate = &event["candidates"][0];
        for part in candidate["content"]["parts"]
            .as_array()
            .into_iter()
            .flatten()
        {
            if let Some(text) = part["text"].as_str() {
                into.text.push_str(text);
            }
        }
        if let Some(reason) = candidate["finishReason"].as_str() {
            into.cut_off = reason == "MAX_TOKENS";
            into.finished = true;
        }
        let usage = &event["usageMetadata"];
        if let Some(n) = usage["promptTokenCount"].as_u64() {
            into.prompt_tokens = Some(n);
        }
        if let Some(n) = usage["candidatesTokenCount"].as_u64() {
            into.completion_tokens = Some(n);
        }
        Ok(())
    }
}

/// A JSON schema in Gemini's dialect (its OpenAPI subset): upper-case
/// types, `nullable` instead of a `null` type, no `additionalProperties`,
/// and the fields in their declared order.
fn response_schema(schema: &Value) -> Value {
    let Some(object) = schema.as_object() else {
        return schema.clone();
    };
    let mut out = Map::new();
    for (key, value) in object {
        match key.as_str() {
            "type" => {
                let types: Vec<&str> = match value {
                    Value::Array(all) => all.iter().filter_map(Value::as_str).collect(),
                    other => other.as_str().into_iter().collect(),
                };
                if types.contains(&"null") {
                    out.insert("nullable".into(), json!(true));
                }
                if let Some(t) = types.iter().find(|t| **t != "null") {
                    out.insert("type".into(), json!(t.to_uppercase()));
                }
            }
            "enum" => {
                let names: Vec<&Value> = value
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|v| !v.is_null())
                    .collect();
                out.insert("enum".into(), json!(names));
            }
            "properties" => {
                let properties: Map<String, Value> = value
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(name, field)| (name.clone(), response_schema(field)))
                    .collect();
                out.insert("properties".into(), Value::Object(properties));
                // `required` lists every field in declaration order.
                if let Some(order) = object.get("required") {
                    out.insert("propertyOrdering".into(), order.clone());
                }
            }
            "items" => {
                out.insert("items".into(), response_schema(value));
            }
            "additionalProperties" => {}
            _ => {
                out.insert(key.clone(), value.clone());
            }
        }
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lang::model::{Provider as Api, Tokens};

    #[test]
    fn requests_use_contents_system_instruction_and_generation_config() {
        let config = Model {
            temperature: Some(0.5),
            max_tokens: Some(256),
            ..Model::new("gemini-2.0-flash", Api::Gemini)
        };
        let prompt = Prompt {
            system: "Be brief.".into(),
            user: "Hi".into(),
            ..Prompt::default()
        };
        let request = Gemini.request(&config, &prompt, Some("k".into()));
        assert!(request
            .url
            .ends_with("/v1beta/models/gemini-2.0-flash:generateContent"));
        assert_eq!(request.secret, Some(("x-goog-api-key", "k".into())));
        assert_eq!(
            request.body,
            json!({
                "contents": [{"role": "user", "parts": [{"text": "Hi"}]}],
                "systemInstruction": {"parts": [{"text": "Be brief."}]},
                "generationConfig": {"temperature": 0.5, "maxOutputTokens": 256}
            })
        );
    }

    #[test]
    fn response_schemas_are_in_geminis_dialect() {
        let schema = json!({"type": "object", "additionalProperties": false, "required": ["b", "a"],
            "properties": {"b": {"type": ["string", "null"], "enum": ["x", null]},
                           "a": {"type": "array", "items": {"type": "integer"}}}});
        assert_eq!(
            response_schema(&schema),
            json!({"type": "OBJECT", "required": ["b", "a"], "propertyOrdering": ["b", "a"],
                "properties": {"b": {"type": "STRING", "nullable": true, "enum": ["x"]},
                               "a": {"type": "ARRAY", "items": {"type": "INTEGER"}}}})
        );
    }

    #[test]
    fn replies_join_parts_and_report_usage() {
        let ok = json!({"candidates": [{"content": {"parts": [{"text": "he"}, {"text": "y"}]}, "finishReason": "STOP"}],
                        "usageMetadata": {"promptTokenCount": 5, "candidatesTokenCount": 1}});
        assert_eq!(
            Gemini.read_reply(&ok),
            Ok(Reply {
                text: "hey".into(),
                tokens: Some(Tokens {
                    prompt: 5,
                    completion: 1
                })
            })
        );
        let cut = json!({"candidates": [{"content": {"parts": [{"text": "h"}]}, "finishReason": "MAX_TOKENS"}]});
        assert!(Gemini.read_reply(&cut).is_err());
    }
}
