//! What every model provider is: a [`Provider`] builds the HTTP request for
//! a prompt and reads the reply, whole or streamed. Only
//! [`super::http`] sends anything; the providers only know shapes.

use serde_json::{json, Value};

use super::prompt::Prompt;
use super::record::Tokens;
use super::{anthropic, gemini, ollama, openai};

/// What a call needs to know about the model.
#[derive(Clone, Debug, Default)]
pub struct ModelConfig {
    /// The provider-side model name (`gpt-4o-mini`).
    pub name: String,
    /// The API root; each provider has its default.
    pub base_url: Option<String>,
    pub temperature: Option<f64>,
    pub max_tokens: Option<u64>,
    /// `stream = true`: ask for the reply token by token (SSE or NDJSON),
    /// so that `idle_timeout` can notice a stalled reply.
    pub stream: bool,
    /// `idle_timeout`: a streamed reply that sends nothing for this long
    /// fails with a timeout.
    pub idle_timeout_ms: Option<u64>,
    /// `structured_output = true`: send the reply type's JSON schema where
    /// the provider can enforce it.
    pub structured_output: bool,
}

impl ModelConfig {
    /// `{base_url or default}{path}`.
    pub fn url(&self, default_base: &str, path: &str) -> String {
        let base = self.base_url.as_deref().unwrap_or(default_base);
        format!("{}{path}", base.trim_end_matches('/'))
    }
}

/// An HTTP request to a provider: always a JSON `POST`.
#[derive(Clone, Debug, PartialEq)]
pub struct Request {
    pub url: String,
    /// Headers safe to show and record.
    pub headers: Vec<(&'static str, String)>,
    /// The header that carries the key, kept apart so that nothing ever
    /// records or prints it.
    pub secret: Option<(&'static str, String)>,
    pub body: Value,
}

impl Request {
    /// A request with the key (if any) in `header`.
    pub fn new(url: String, body: Value, key_header: &'static str, key: Option<String>) -> Request {
        Request {
            url,
            headers: Vec::new(),
            secret: key.map(|k| (key_header, k)),
            body,
        }
    }

    /// A request with the key (if any) as `Authorization: Bearer`.
    pub fn bearer(url: String, body: Value, key: Option<String>) -> Request {
        Request::new(
            url,
            body,
            "authorization",
            key.map(|k| format!("Bearer {k}")),
        )
    }
}

/// A prompt as chat messages: the system message (when there is one),
/// then the user's. OpenAI's and Ollama's chat APIs both take these.
pub fn chat_messages(prompt: &Prompt) -> Value {
    let mut messages = Vec::new();
    if !prompt.system.is_empty() {
        messages.push(json!({"role": "system", "content": prompt.system}));
    }
    messages.push(json!({"role": "user", "content": prompt.user}));
    Value::Array(messages)
}

/// How a streamed reply is framed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Framing {
    /// Server-sent events: `data: {json}` lines.
    Sse,
    /// One JSON object per line.
    Ndjson,
}

/// A provider: the request shape and the reply shape of one API.
pub trait Provider: Sync {
    /// The request for `prompt`, streamed when `config.stream` says so.
    fn request(&self, config: &ModelConfig, prompt: &Prompt, key: Option<String>) -> Request;
    /// Where an error body keeps the provider's message (a JSON pointer).
    fn error_at(&self) -> &'static str;
    /// A whole (non-streamed) reply.
    fn read_reply(&self, value: &Value) -> Result<Reply, CallError>;
    /// Adds one streamed event to the reply so far.
    fn read_event(&self, event: &Value, into: &mut Streamed) -> Result<(), CallError>;
    fn framing(&self) -> Framing {
        Framing::Sse
    }
}

/// The provider called `name` (as in `provider = openai`), if spesc calls
/// it over HTTP.
pub fn by_name(name: &str) -> Option<&'static dyn Provider> {
    match name {
        "openai" => Some(&openai::OpenAi),
        "anthropic" => Some(&anthropic::Anthropic),
        "gemini" => Some(&gemini::Gemini),
        "ollama" => Some(&ollama::Ollama),
        _ => None,
    }
}

/// A reply: its text and the tokens the provider counted.
#[derive(Clone, Debug, PartialEq)]
pub struct Reply {
    pub text: String,
    pub tokens: Option<Tokens>,
}

/// A reply from the parts every provider has: the text (if any), whether
/// it was cut off by the token limit, and the two token counts.
pub fn reply(
    text: Option<String>,
    cut_off: bool,
    prompt_tokens: Option<u64>,
    completion_tokens: Option<u64>,
) -> Result<Reply, CallError> {
    let text = text.ok_or_else(|| CallError::Server("the reply has no message".to_string()))?;
    if cut_off {
        return Err(CallError::Permanent(
            "the reply was cut off by `max_tokens`; raise it on the model".to_string(),
        ));
    }
    let tokens = prompt_tokens
        .zip(completion_tokens)
        .map(|(prompt, completion)| Tokens { prompt, completion });
    Ok(Reply { text, tokens })
}

/// A streamed reply, event by event.
#[derive(Clone, Debug, Default)]
pub struct Streamed {
    pub text: String,
    pub cut_off: bool,
    pub prompt_tokens: Option<u64>,
    pub completion_tokens: Option<u64>,
    /// The provider's closing event was seen: a stream that ends without
    /// it broke off.
    pub finished: bool,
}

impl Streamed {
    pub fn finish(self) -> Result<Reply, CallError> {
        if !self.finished {
            return Err(CallError::Server(
                "the stream ended before the reply was complete".to_string(),
            ));
        }
        reply(
            Some(self.text),
            self.cut_off,
            self.prompt_tokens,
            self.completion_tokens,
        )
    }
}

/// An error event inside a stream: "overloaded" and rate limits wait and
/// try again, anything else is a server error.
pub fn stream_error(kind: &str, message: &str) -> CallError {
    let words = format!("{kind} {message}").to_lowercase();
    if words.contains("overloaded") || words.contains("rate_limit") || words.contains("rate limit")
    {
        CallError::RateLimit {
            retry_after_ms: None,
        }
    } else {
        CallError::Server(format!("the stream reported an error: {message}"))
    }
}

/// Why a model call gave no reply, classified as the retry policy's `on`
/// classes name them.
#[derive(Clone, Debug, PartialEq)]
pub enum CallError {
    /// HTTP 429 or an "overloaded" error; `Retry-After` when the provider
    /// said how long to wait.
    RateLimit { retry_after_ms: Option<u64> },
    /// HTTP 5xx, a dropped connection, a reply that is not JSON.
    Server(String),
    /// No answer in time, or a stream that stalled (`idle_timeout`).
    Timeout(String),
    /// HTTP 400, 401, 403, 404, an unknown model: trying again will not help;
    /// the next model of the chain is tried at once.
    Permanent(String),
}

impl CallError {
    /// The same error with `secret` (a key header's value) blanked from
    /// its message: a server may echo the key back in its error text.
    pub fn without(self, secret: &str) -> CallError {
        match self {
            CallError::Server(m) => CallError::Server(blank(&m, secret)),
            CallError::Timeout(m) => CallError::Timeout(blank(&m, secret)),
            CallError::Permanent(m) => CallError::Permanent(blank(&m, secret)),
            limit @ CallError::RateLimit { .. } => limit,
        }
    }

    pub fn class(&self) -> &'static str {
        match self {
            CallError::RateLimit { .. } => "rate_limit",
            CallError::Server(_) => "server_error",
            CallError::Timeout(_) => "timeout",
            CallError::Permanent(_) => "permanent",
        }
    }

    /// The error in words, naming the model and its provider.
    pub fn message(&self, model: &str, provider: &str) -> String {
        let what = match self {
            CallError::RateLimit {
                retry_after_ms: Some(ms),
            } => format!("rate limited (retry after {ms} ms)"),
            CallError::RateLimit {
                retry_after_ms: None,
            } => "rate limited".to_string(),
            CallError::Server(m) | CallError::Timeout(m) | CallError::Permanent(m) => m.clone(),
        };
        format!("model `{model}` ({provider}): {what}")
    }
}

/// `text` with every occurrence of `secret` (and of its last word, the key
/// of a `Bearer key` header) blanked.
pub fn blank(text: &str, secret: &str) -> String {
    let key = secret.rsplit(' ').next().unwrap_or(secret);
    let mut text = text.replace(secret, "[redacted]");
    if key.len() >= 8 {
        text = text.replace(key, "[redacted]");
    }
    text
}
