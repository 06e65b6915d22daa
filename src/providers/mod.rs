//! Model providers: the only code that knows what an API looks like, and
//! (in [`http`]) the only code that sends a model request.
//!
//! A [`Provider`] builds the HTTP request for a [`Prompt`] and reads the
//! reply, whole or streamed; [`openai`], [`anthropic`], [`gemini`] and
//! [`ollama`] each implement it with their API's shapes only. [`http`]
//! sends a request and turns the raw answer into a reply or a
//! [`CallError`]; [`recording`] keeps raw answers for `--record` and gives
//! them back for `--replay`, so a replayed reply is read exactly like a
//! live one. [`mock`] answers offline with a value of the step's type;
//! [`script`] makes it fail on purpose (`--mock-script`).
//!
//! Adding a provider: `docs/architecture.md`.

pub mod anthropic;
pub mod gemini;
pub mod http;
pub mod mock;
pub mod ollama;
pub mod openai;
pub mod recording;
pub mod script;

use serde_json::{json, Value};

use crate::lang::model::{Model, Provider as Api, Tokens};
use crate::lang::policy::ErrorClass;

/// A prompt in the two parts providers keep apart.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Prompt {
    /// The agent's persona and the step's `system` text.
    pub system: String,
    /// Instructions, context, the prompt itself, the output format.
    pub user: String,
    /// The reply type's JSON schema, for providers that enforce one
    /// (`structured_output = true`); none for text replies and for types
    /// a strict schema cannot say (maps, `json`).
    pub schema: Option<Value>,
}

impl Prompt {
    /// Both parts as one text (the mock reads this).
    pub fn text(&self) -> String {
        if self.system.is_empty() {
            self.user.clone()
        } else {
            format!("{}\n\n{}", self.system, self.user)
        }
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
    fn request(&self, config: &Model, prompt: &Prompt, key: Option<String>) -> Request;
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

/// The API of a provider spesc calls over HTTP (the mock answers
/// offline, without one).
pub fn api(provider: Api) -> Option<&'static dyn Provider> {
    match provider {
        Api::OpenAi => Some(&openai::OpenAi),
        Api::Anthropic => Some(&anthropic::Anthropic),
        Api::Gemini => Some(&gemini::Gemini),
        Api::Ollama => Some(&ollama::Ollama),
        Api::Mock => None,
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

    /// The class a retry policy's `on` names; none for a permanent
    /// failure, which no retry fixes.
    pub fn class(&self) -> Option<ErrorClass> {
        match self {
            CallError::RateLimit { .. } => Some(ErrorClass::RateLimit),
            CallError::Server(_) => Some(ErrorClass::ServerError),
            CallError::Timeout(_) => Some(ErrorClass::Timeout),
            CallError::Permanent(_) => None,
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
/// of a `Bearer key` header) blanked, however it is written.
pub fn blank(text: &str, secret: &str) -> String {
    let key = secret.rsplit(' ').next().unwrap_or(secret);
    let mut forms = written_forms(secret);
    if key.len() >= 8 {
        forms.extend(written_forms(key));
    }
    // The longest first: a more escaped form contains a less escaped one's
    // tail, and blanking that first would leave the rest of the key.
    forms.sort_by_key(|form| std::cmp::Reverse(form.len()));
    forms.iter().fold(text.to_string(), |text, form| {
        text.replace(form, "[redacted]")
    })
}

/// The ways `secret` can be written in what spesc keeps: as is, and
/// JSON-escaped once per level of nesting — a reply body is JSON, the
/// model's text in it may be JSON again, and a recording line wraps both.
fn written_forms(secret: &str) -> Vec<String> {
    let mut forms = vec![secret.to_string()];
    for _ in 0..3 {
        let last = &forms[forms.len() - 1];
        let quoted = serde_json::to_string(last).unwrap_or_default();
        let escaped = quoted
            .strip_prefix('"')
            .and_then(|s| s.strip_suffix('"'))
            .unwrap_or(last)
            .to_string();
        if escaped == *last {
            break;
        }
        forms.push(escaped);
    }
    forms
}

/// The API key in `variable`, if it holds one: a variable set to nothing
/// (or to blanks) is as good as unset, and is reported as such rather than
/// sent as an empty key.
pub fn key_from_env(variable: &str) -> Option<String> {
    std::env::var(variable)
        .ok()
        .filter(|key| !key.trim().is_empty())
}
