//! A model as the runtime calls it: its provider, the provider's name for
//! it, where its API is, its key's variable, and the limits and prices
//! the run honours. The checker resolves `model` declarations into this;
//! the plan carries it; providers build their requests from it.

use serde::{Deserialize, Serialize};

use super::policy::defaults;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    OpenAi,
    Anthropic,
    Gemini,
    Ollama,
    /// Answers offline, deterministically, with a value of the step's type.
    Mock,
}

impl Provider {
    pub const NAMES: &'static [&'static str] = &["openai", "anthropic", "gemini", "ollama", "mock"];

    pub fn parse(word: &str) -> Option<Provider> {
        Some(match word {
            "openai" => Provider::OpenAi,
            "anthropic" => Provider::Anthropic,
            "gemini" => Provider::Gemini,
            "ollama" => Provider::Ollama,
            "mock" => Provider::Mock,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Provider::OpenAi => "openai",
            Provider::Anthropic => "anthropic",
            Provider::Gemini => "gemini",
            Provider::Ollama => "ollama",
            Provider::Mock => "mock",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Model {
    /// The declared name (`model fast { … }`).
    pub name: String,
    pub provider: Provider,
    /// The provider's name for it (`name = "gpt-4o-mini"`); the declared
    /// name when none is written.
    pub model: String,
    pub base_url: Option<String>,
    /// The environment variable holding its API key (its name, never the
    /// key), when it needs one.
    pub key_env: Option<String>,
    pub temperature: Option<f64>,
    pub max_tokens: Option<u64>,
    pub context_window: Option<u64>,
    /// Requests per minute, paced across every step and item of a run.
    pub rpm: Option<u64>,
    /// Calls in flight at once, across every step and item of a run.
    pub concurrency: Option<u64>,
    /// One attempt, unless the step or its workflow says otherwise.
    pub timeout_ms: Option<u64>,
    /// A streamed reply that sends nothing for this long fails.
    pub idle_timeout_ms: Option<u64>,
    pub breaker: Breaker,
    /// Dollars per million tokens.
    pub price: Option<Price>,
    /// Ask for the reply token by token (SSE or NDJSON).
    pub stream: bool,
    /// Send the reply type's JSON schema where the provider enforces one.
    pub structured_output: bool,
}

impl Model {
    /// A model of `provider` called `name` there, every setting at its
    /// default.
    pub fn new(name: &str, provider: Provider) -> Model {
        Model {
            name: name.to_string(),
            provider,
            model: name.to_string(),
            base_url: None,
            key_env: None,
            temperature: None,
            max_tokens: None,
            context_window: None,
            rpm: None,
            concurrency: None,
            timeout_ms: None,
            idle_timeout_ms: None,
            breaker: Breaker::default(),
            price: None,
            stream: false,
            structured_output: false,
        }
    }

    /// `{base_url or default}{path}`.
    pub fn url(&self, default_base: &str, path: &str) -> String {
        let base = self.base_url.as_deref().unwrap_or(default_base);
        format!("{}{path}", base.trim_end_matches('/'))
    }

    /// What a call's tokens cost, when the model has a price.
    pub fn cost(&self, tokens: Tokens) -> Option<f64> {
        self.price.map(|p| p.cost(tokens.prompt, tokens.completion))
    }
}

/// Rough token count: about four characters per token in English prose.
pub fn estimate_tokens(chars: usize) -> u64 {
    chars.div_ceil(4) as u64
}

/// Tokens of one call: as the provider counted them, or estimated.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tokens {
    pub prompt: u64,
    pub completion: u64,
}

/// `breaker = { failures = 5, cooldown = 60s }`
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Breaker {
    pub failures: u64,
    pub cooldown_ms: u64,
}

impl Default for Breaker {
    fn default() -> Breaker {
        Breaker {
            failures: defaults::BREAKER_FAILURES,
            cooldown_ms: defaults::BREAKER_COOLDOWN_MS,
        }
    }
}

/// `price = { input = 3.0, output = 15.0 }`, per million tokens.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Price {
    pub input: f64,
    pub output: f64,
}

impl Price {
    pub fn cost(&self, prompt_tokens: u64, completion_tokens: u64) -> f64 {
        (prompt_tokens as f64 * self.input + completion_tokens as f64 * self.output) / 1_000_000.0
    }
}

/// The variable holding a model's API key, if it needs one: `api_key_env`,
/// else the provider's convention; none for Ollama, the mock, or a server
/// on this machine.
pub fn api_key_variable(
    provider: Option<Provider>,
    base_url: Option<&str>,
    explicit: Option<String>,
) -> Option<String> {
    if explicit.is_some() {
        return explicit;
    }
    let local = base_url.is_some_and(|u| u.contains("://127.0.0.1") || u.contains("://localhost"));
    if local {
        return None;
    }
    match provider? {
        Provider::OpenAi => Some("OPENAI_API_KEY".to_string()),
        Provider::Anthropic => Some("ANTHROPIC_API_KEY".to_string()),
        Provider::Gemini => Some("GEMINI_API_KEY".to_string()),
        Provider::Ollama | Provider::Mock => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_variables_follow_the_provider_unless_local_or_explicit() {
        assert_eq!(
            api_key_variable(Some(Provider::OpenAi), None, None).as_deref(),
            Some("OPENAI_API_KEY")
        );
        assert_eq!(
            api_key_variable(
                Some(Provider::OpenAi),
                Some("http://127.0.0.1:8089/v1"),
                None
            ),
            None
        );
        assert_eq!(api_key_variable(Some(Provider::Ollama), None, None), None);
        assert_eq!(
            api_key_variable(Some(Provider::Anthropic), None, Some("TEAM_KEY".into())).as_deref(),
            Some("TEAM_KEY")
        );
        for name in Provider::NAMES {
            assert_eq!(Provider::parse(name).map(Provider::as_str), Some(*name));
        }
    }
}
