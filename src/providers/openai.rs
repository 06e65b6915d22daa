//! The OpenAI-compatible provider: Chat Completions
//! (`POST {base_url}/chat/completions`), which OpenAI, vLLM, llama.cpp's
//! server, LM Studio, Together, Groq and OpenRouter all speak.

use crate::lang::model::Model;
use serde_json::{json, Value};

use super::{
    chat_messages, reply, stream_error, CallError, Prompt, Provider, Reply, Request, Streamed,
};

pub const DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";

pub struct OpenAi;

impl Provider for OpenAi {
    /// System and user messages, the options the model sets, `stream` with
    /// usage in the last event, and the reply's JSON schema as
    /// `response_format` when asked for (OpenAI enforces object schemas
    /// only; other types rely on the prompt and on reading the reply as
    /// its type).
    fn request(&self, config: &Model, prompt: &Prompt, key: Option<String>) -> Request {
        let mut body = json!({"model": config.model, "messages": chat_messages(prompt)});
        if let Some(t) = config.temperature {
            body["temperature"] = json!(t);
        }
        if let Some(n) = config.max_tokens {
            body["max_tokens"] = json!(n);
        }
        if config.stream {
            body["stream"] = json!(true);
            body["stream_options"] = json!({"include_usage": true});
        }
        if let Some(schema) = prompt
            .schema
            .as_ref()
            .filter(|s| config.structured_output && s["type"] == "object")
        {
            body["response_format"] = json!({
                "type": "json_schema",
                "json_schema": {"name": "reply", "strict": true, "schema": schema}
            });
        }
        let url = config.url(DEFAULT_BASE_URL, "/chat/completions");
        Request::bearer(url, body, key)
    }

    fn error_at(&self) -> &'static str {
        "/error/message"
    }

    /// The first choice's text and the usage; `finish_reason: "length"` is
    /// a reply cut off.
    fn read_reply(&self, value: &Value) -> Result<Reply, CallError> {
        let choice = &value["choices"][0];
        reply(
            choice["message"]["content"].as_str().map(String::from),
            choice["finish_reason"] == "length",
            value["usage"]["prompt_tokens"].as_u64(),
            value["usage"]["completion_tokens"].as_u64(),
        )
    }

    /// Deltas of the first choice; the usage comes in a last event with no
    /// choices; `data: [DONE]` closes the stream.
    fn read_event(&self, event: &Value, into: &mut Streamed) -> Result<(), CallError> {
        if let Some(error) = event.get("error") {
            let kind = error["type"].as_str().unwrap_or_default();
            return Err(stream_error(
                kind,
                error["message"].as_str().unwrap_or(kind),
            ));
        }
        let choice = &event["choices"][0];
        if let Some(text) = choice["delta"]["content"].as_str() {
            into.text.push_str(text);
        }
        if let Some(reason) = choice["finish_reason"].as_str() {
            into.cut_off = reason == "length";
            into.finished = true;
        }
        if let Some(usage) = event.get("usage").filter(|u| u.is_object()) {
            into.prompt_tokens = usage["prompt_tokens"].as_u64();
            into.completion_tokens = usage["completion_tokens"].as_u64();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lang::model::{Provider as Api, Tokens};

    fn prompt() -> Prompt {
        Prompt {
            system: "Be brief.".into(),
            user: "Hi".into(),
            schema: Some(
                json!({"type": "object", "properties": {}, "required": [], "additionalProperties": false}),
            ),
        }
    }

    #[test]
    fn requests_carry_system_and_user_messages_and_options() {
        let config = Model {
            temperature: Some(0.2),
            max_tokens: Some(100),
            ..Model::new("gpt-4o-mini", Api::OpenAi)
        };
        let request = OpenAi.request(&config, &prompt(), Some("k".into()));
        assert_eq!(request.url, "https://api.openai.com/v1/chat/completions");
        assert_eq!(request.secret, Some(("authorization", "Bearer k".into())));
        assert_eq!(
            request.body,
            json!({"model": "gpt-4o-mini", "temperature": 0.2, "max_tokens": 100, "messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": "Hi"}
            ]})
        );
    }

    #[test]
    fn streaming_and_structured_output_are_options() {
        let config = Model {
            stream: true,
            structured_output: true,
            ..Model::new("gpt-4o-mini", Api::OpenAi)
        };
        let body = OpenAi.request(&config, &prompt(), None).body;
        assert_eq!(body["stream"], true);
        assert_eq!(body["stream_options"], json!({"include_usage": true}));
        assert_eq!(body["response_format"]["type"], "json_schema");
        assert_eq!(body["response_format"]["json_schema"]["strict"], true);
        let list = Prompt {
            schema: Some(json!({"type": "array"})),
            ..prompt()
        };
        let body = OpenAi.request(&config, &list, None).body;
        assert!(
            body.get("response_format").is_none(),
            "only objects are enforced"
        );
    }

    #[test]
    fn replies_give_text_and_usage_and_a_cut_reply_says_so() {
        let ok = json!({"choices": [{"message": {"content": "hello"}, "finish_reason": "stop"}],
                        "usage": {"prompt_tokens": 12, "completion_tokens": 3}});
        assert_eq!(
            OpenAi.read_reply(&ok),
            Ok(Reply {
                text: "hello".into(),
                tokens: Some(Tokens {
                    prompt: 12,
                    completion: 3
                })
            })
        );
        let cut = json!({"choices": [{"message": {"content": "hel"}, "finish_reason": "length"}]});
        assert!(
            matches!(OpenAi.read_reply(&cut), Err(CallError::Permanent(m)) if m.contains("max_tokens"))
        );
    }
}
