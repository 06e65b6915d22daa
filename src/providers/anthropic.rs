//! The Anthropic provider: the Messages API (`POST {base_url}/v1/messages`,
//! `x-api-key`, `anthropic-version`), the system prompt in its own field.
//! It has no schema-enforced output: typed replies rely on the prompt and
//! on reading the reply as its type (`runtime::reading`).

use crate::lang::model::Model;
use serde_json::{json, Value};

use super::{reply, stream_error, CallError, Prompt, Provider, Reply, Request, Streamed};

pub const DEFAULT_BASE_URL: &str = "https://api.anthropic.com";
pub const API_VERSION: &str = "2023-06-01";
/// The Messages API requires `max_tokens`; used when the model sets none.
pub const DEFAULT_MAX_TOKENS: u64 = 4096;

pub struct Anthropic;

impl Provider for Anthropic {
    fn request(&self, config: &Model, prompt: &Prompt, key: Option<String>) -> Request {
        let mut body = json!({
            "model": config.model,
            "max_tokens": config.max_tokens.unwrap_or(DEFAULT_MAX_TOKENS),
            "messages": [{"role": "user", "content": prompt.user}],
        });
        if !prompt.system.is_empty() {
            body["system"] = json!(prompt.system);
        }
        if let Some(t) = config.temperature {
            body["temperature"] = json!(t);
        }
        if config.stream {
            body["stream"] = json!(true);
        }
        let url = config.url(DEFAULT_BASE_URL, "/v1/messages");
        let mut request = Request::new(url, body, "x-api-key", key);
        request
            .headers
            .push(("anthropic-version", API_VERSION.to_string()));
        request
    }

    fn error_at(&self) -> &'static str {
        "/error/message"
    }

    /// The text blocks joined and the usage; `stop_reason: "max_tokens"`
    /// is a reply cut off.
    fn read_reply(&self, value: &Value) -> Result<Reply, CallError> {
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

    /// `message_start` (input tokens), `content_block_delta` (text),
    /// `message_delta` (stop reason, output tokens), `message_stop`.
    fn read_event(&self, event: &Value, into: &mut Streamed) -> Result<(), CallError> {
        match event["type"].as_str().unwrap_or_default() {
            "message_start" => {
                let usage = &event["message"]["usage"];
                into.prompt_tokens = usage["input_tokens"].as_u64();
                into.completion_tokens = usage["output_tokens"].as_u64();
            }
            "content_block_delta" => {
                if let Some(text) = event["delta"]["text"].as_str() {
                    into.text.push_str(text);
                }
            }
            "message_delta" => {
                into.cut_off = event["delta"]["stop_reason"] == "max_tokens";
                if let Some(n) = event["usage"]["output_tokens"].as_u64() {
                    into.completion_tokens = Some(n);
                }
            }
            "message_stop" => into.finished = true,
            "error" => {
                let error = &event["error"];
                let kind = error["type"].as_str().unwrap_or_default();
                return Err(stream_error(
                    kind,
                    error["message"].as_str().unwrap_or(kind),
                ));
            }
            _ => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lang::model::{Provider as Api, Tokens};

    #[test]
    fn the_system_prompt_has_its_own_field_and_max_tokens_is_always_sent() {
        let config = Model {
            ..Model::new("claude-sonnet-4-20250514", Api::Anthropic)
        };
        let prompt = Prompt {
            system: "Be brief.".into(),
            user: "Hi".into(),
            ..Prompt::default()
        };
        let request = Anthropic.request(&config, &prompt, Some("k".into()));
        assert_eq!(request.secret, Some(("x-api-key", "k".into())));
        assert_eq!(
            request.body,
            json!({"model": "claude-sonnet-4-20250514", "max_tokens": 4096, "system": "Be brief.",
                   "messages": [{"role": "user", "content": "Hi"}]})
        );
    }

    #[test]
    fn replies_join_text_blocks_and_report_usage() {
        let ok = json!({"content": [{"type": "text", "text": "hel"}, {"type": "text", "text": "lo"}],
                        "stop_reason": "end_turn", "usage": {"input_tokens": 10, "output_tokens": 2}});
        assert_eq!(
            Anthropic.read_reply(&ok),
            Ok(Reply {
                text: "hello".into(),
                tokens: Some(Tokens {
                    prompt: 10,
                    completion: 2
                })
            })
        );
        let cut = json!({"content": [{"type": "text", "text": "he"}], "stop_reason": "max_tokens"});
        assert!(Anthropic.read_reply(&cut).is_err());
    }
}
