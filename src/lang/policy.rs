//! Retry policies, error classes and the built-in defaults: what a step
//! does when nothing is written. The checker resolves every step's policy
//! from these (its budget warnings use [`RetryPolicy::worst_delays_ms`]),
//! the plan shows them, and the runtime waits [`RetryPolicy::delay_ms`].

use serde::{Deserialize, Serialize};

/// The built-in defaults, written out in `spesc plan` and `docs/plan.md`.
pub mod defaults {
    /// Tries of an LLM call, a `call` or a `fetch`, the first included.
    pub const ATTEMPTS: u64 = 3;
    /// Local commands and questions to people are not retried unless asked.
    pub const ATTEMPTS_EXEC_ASK: u64 = 1;
    pub const BACKOFF_BASE_MS: u64 = 1_000;
    pub const BACKOFF_FACTOR: f64 = 2.0;
    pub const BACKOFF_MAX_MS: u64 = 60_000;
    /// One attempt of an LLM call, an `exec` or a `fetch` (an `ask` waits
    /// as long as it takes).
    pub const TIMEOUT_MS: u64 = 60_000;
    /// Items of a `for` in flight at once.
    pub const FOR_CONCURRENCY: u64 = 4;
    /// Consecutive failures that open a model's circuit breaker.
    pub const BREAKER_FAILURES: u64 = 5;
    pub const BREAKER_COOLDOWN_MS: u64 = 60_000;
    /// `summarized(…)` without `max_tokens`.
    pub const SUMMARY_MAX_TOKENS: u64 = 1_000;
    /// The most tries a retry policy may make.
    pub const MAX_ATTEMPTS: u64 = 20;
    /// The most iterations a `loop` may declare.
    pub const MAX_LOOP: u64 = 100;
    /// The longest a provider's `Retry-After` is waited (10 minutes): a
    /// longer ask is taken as this, so no reply can stall a run for good.
    pub const MAX_RETRY_AFTER_MS: u64 = 600_000;
}

/// Why an attempt failed, as a retry policy's `on` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorClass {
    RateLimit,
    Timeout,
    ServerError,
    InvalidOutput,
}

impl ErrorClass {
    pub const ALL: &'static [ErrorClass] = &[
        ErrorClass::RateLimit,
        ErrorClass::Timeout,
        ErrorClass::ServerError,
        ErrorClass::InvalidOutput,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorClass::RateLimit => "rate_limit",
            ErrorClass::Timeout => "timeout",
            ErrorClass::ServerError => "server_error",
            ErrorClass::InvalidOutput => "invalid_output",
        }
    }

    pub fn parse(word: &str) -> Option<ErrorClass> {
        ErrorClass::ALL.iter().copied().find(|c| c.as_str() == word)
    }

    pub fn names() -> Vec<&'static str> {
        ErrorClass::ALL.iter().map(|c| c.as_str()).collect()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Jitter {
    None,
    /// A delay drawn between 0 and the backoff.
    Full,
    /// Half the backoff, plus up to the other half.
    Equal,
}

impl Jitter {
    pub const NAMES: &'static [&'static str] = &["none", "full", "equal"];

    pub fn parse(word: &str) -> Option<Jitter> {
        match word {
            "none" => Some(Jitter::None),
            "full" => Some(Jitter::Full),
            "equal" => Some(Jitter::Equal),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Jitter::None => "none",
            Jitter::Full => "full",
            Jitter::Equal => "equal",
        }
    }

    /// `delay` jittered by `unit`, a number drawn from [0, 1).
    pub fn apply(self, delay_ms: u64, unit: f64) -> u64 {
        let delay = delay_ms as f64;
        (match self {
            Jitter::None => delay,
            Jitter::Full => delay * unit,
            Jitter::Equal => delay / 2.0 + delay / 2.0 * unit,
        }) as u64
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Backoff {
    /// Before try n+1: `base × factor^(n−1)`, at most `max`.
    Exponential {
        base_ms: u64,
        factor: f64,
        max_ms: u64,
    },
    Constant {
        delay_ms: u64,
    },
}

impl Default for Backoff {
    fn default() -> Backoff {
        Backoff::Exponential {
            base_ms: defaults::BACKOFF_BASE_MS,
            factor: defaults::BACKOFF_FACTOR,
            max_ms: defaults::BACKOFF_MAX_MS,
        }
    }
}

impl Backoff {
    /// The backoff before try `attempt` (2, 3, …), before jitter.
    pub fn before(&self, attempt: u64) -> u64 {
        match *self {
            Backoff::Constant { delay_ms } => delay_ms,
            Backoff::Exponential {
                base_ms,
                factor,
                max_ms,
            } => {
                let n = attempt.saturating_sub(2).min(i32::MAX as u64) as i32;
                ((base_ms as f64) * factor.powi(n)).min(max_ms as f64) as u64
            }
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RetryPolicy {
    /// The named `retry` declaration it comes from, if any.
    pub policy: Option<String>,
    /// Every try, the first included.
    pub attempts: u64,
    pub backoff: Backoff,
    pub jitter: Jitter,
    /// The failures tried again; any other failure ends the attempts.
    pub on: Vec<ErrorClass>,
}

impl RetryPolicy {
    /// What a step gets when neither it nor its workflow names a policy:
    /// model calls, `call`s and fetches try three times, commands and
    /// questions once.
    pub fn built_in(tries_once: bool) -> RetryPolicy {
        RetryPolicy {
            policy: None,
            attempts: if tries_once {
                defaults::ATTEMPTS_EXEC_ASK
            } else {
                defaults::ATTEMPTS
            },
            backoff: Backoff::default(),
            jitter: Jitter::Full,
            on: ErrorClass::ALL.to_vec(),
        }
    }

    pub fn retries_on(&self, class: ErrorClass) -> bool {
        self.on.contains(&class)
    }

    /// The wait before try `attempt` (2, 3, …), jittered by `unit` from
    /// [0, 1): the caller draws it, so that runs are reproducible.
    pub fn delay_ms(&self, attempt: u64, unit: f64) -> u64 {
        self.jitter.apply(self.backoff.before(attempt), unit)
    }

    /// The longest each wait can be, for budgets: the backoff before every
    /// try after the first.
    pub fn worst_delays_ms(&self) -> Vec<u64> {
        (2..=self.attempts)
            .map(|a| self.backoff.before(a))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exponential_backoff_doubles_up_to_its_cap() {
        let b = Backoff::Exponential {
            base_ms: 1000,
            factor: 2.0,
            max_ms: 3000,
        };
        assert_eq!(
            (2..=5).map(|a| b.before(a)).collect::<Vec<_>>(),
            [1000, 2000, 3000, 3000]
        );
        assert_eq!(Backoff::Constant { delay_ms: 5 }.before(9), 5);
        let policy = RetryPolicy::built_in(false);
        assert_eq!(policy.worst_delays_ms(), [1000, 2000]);
        assert_eq!(policy.delay_ms(3, 0.5), 1000, "full jitter: half of 2 s");
        assert_eq!(Jitter::Equal.apply(1000, 0.0), 500);
    }

    #[test]
    fn error_classes_read_and_write_their_names() {
        for class in ErrorClass::ALL {
            assert_eq!(ErrorClass::parse(class.as_str()), Some(*class));
        }
        assert_eq!(ErrorClass::parse("permanent"), None);
    }
}
