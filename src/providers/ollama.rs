//! The Ollama provider: its native chat API (`POST {base_url}/api/chat`),
//! whole or streamed as NDJSON, the reply type's JSON schema as `format`
//! when asked for. No key: Ollama runs on this machine or a host you name.

use crate::lang::model::Model;
use serde_json::{json, Value};

use super::{chat_messages, reply, CallError, Framing, Prompt, Provider, Reply, Request, Streamed};

pub const DEFAULT_BASE_URL: &str = "http://127.0.0.1:11434";

pub struct Ollama;

impl Provider for Ollama {
    /// Messages, `stream` always said (Ollama streams unless told not
    /// to), options as Ollama names them.
    fn request(&self, config: &Model, prompt: &Prompt, key: Option<String>) -> Request {
        let mut options = serde_json::Map::new();
        if let Some(t) = config.temperature {
            options.insert("temperature".into(), json!(t));
        }
        if let Some(n) = config.max_tokens {
            options.insert("num_predict".into(), json!(n));
        }
        let mut body = json!({"model": config.model, "messages": chat_messages(prompt), "stream": config.stream});
        if !options.is_empty() {
            body["options"] = Value::Object(options);
        }
        if let Some(schema) = prompt.schema.as_ref().filter(|_| config.structured_output) {
            body["format"] = schema.clone();
        }
        let url = config.url(DEFAULT_BASE_URL, "/api/chat");
        // A proxy in front of Ollama may want a bearer key.
        Request::bearer(url, body, key)
    }

    fn error_at(&self) -> &'static str {
        "/error"
    }

    /// The message and the counts; `done_reason: "length"` is a reply cut
    /// off.
    fn read_reply(&self, value: &Value) -> Result<Reply, CallError> {
        reply(
            value["message"]["content"].as_str().map(String::from),
            value["done_reason"] == "length",
            value["prompt_eval_count"].as_u64(),
            value["eval_count"].as_u64(),
        )
    }

    /// Each line holds the next piece of the message; the one with
    /// `done: true` carries the reason and the counts.
    fn read_event(&self, event: &Value, into: &mut Streamed) -> Result<(), CallError> {
        if let Some(error) = event["error"].as_str() {
            return Err(CallError::Server(format!(
                "the stream reported an error: {error}"
            )));
        }
        if let Some(text) = event["message"]["content"].as_str() {
            into.text.push_str(text);
        }
        if event["done"] == true {
            into.finished = true;
            into.cut_off = event["done_reason"] == "length";
            into.prompt_tokens = event["prompt_eval_count"].as_u64();
            into.completion_tokens = event["eval_count"].as_u64();
        }
        Ok(())
    }

    fn framing(&self) -> Framing {
        Framing::Ndjson
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lang::model::{Provider as Api, Tokens};

    #[test]
    fn requests_use_ollamas_names_and_say_whether_to_stream() {
        let config = Model {
            temperature: Some(0.0),
            max_tokens: Some(64),
            ..Model::new("qwen3", Api::Ollama)
        };
        let prompt = Prompt {
            user: "Hi".into(),
            ..Prompt::default()
        };
        let request = Ollama.request(&config, &prompt, None);
        assert_eq!(request.url, "http://127.0.0.1:11434/api/chat");
        assert_eq!(request.secret, None);
        assert_eq!(
            request.body,
            json!({"model": "qwen3", "stream": false, "messages": [{"role": "user", "content": "Hi"}],
                   "options": {"temperature": 0.0, "num_predict": 64}})
        );
    }

    #[test]
    fn replies_give_text_and_counts() {
        let ok = json!({"message": {"role": "assistant", "content": "hi"}, "done": true,
                        "done_reason": "stop", "prompt_eval_count": 9, "eval_count": 2});
        assert_eq!(
            Ollama.read_reply(&ok),
            Ok(Reply {
                text: "hi".into(),
                tokens: Some(Tokens {
                    prompt: 9,
                    completion: 2
                })
            })
        );
        let cut = json!({"message": {"content": "h"}, "done_reason": "length"});
        assert!(Ollama.read_reply(&cut).is_err());
    }
}
