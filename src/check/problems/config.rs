//! Settings of models, retry policies, agents and workflows: known keys,
//! values of the right kind and range, limits fixed before a run.

use crate::diagnostic::{Code, Diagnostic};
use crate::lang::model::Provider;
use crate::lang::policy::ErrorClass;
use crate::source::Span;
use crate::suggest;

use super::names::with_suggestion;

/// What a setting's value must be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Expected {
    Bool,
    String,
    Number,
    WholeNumber,
    Duration,
    /// A list of variable names: `["GITHUB_TOKEN"]`.
    Names,
}

impl Expected {
    fn must_be(self) -> &'static str {
        match self {
            Expected::Bool => "`true` or `false`",
            Expected::String => "a string",
            Expected::Number => "a number",
            Expected::WholeNumber => "a whole number",
            Expected::Duration => "a duration",
            Expected::Names => "a list of variable names",
        }
    }

    fn example(self) -> &'static str {
        match self {
            Expected::Bool => "`true` or `false`",
            Expected::String => "a string",
            Expected::Number => "a number",
            Expected::WholeNumber => "an integer like `3`",
            Expected::Duration => "a duration like `30s`",
            Expected::Names => "names like `[\"GITHUB_TOKEN\"]`",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum ConfigProblem {
    /// E0207: a key the block does not take (`what`: "model option"…).
    UnknownKey {
        at: Span,
        what: &'static str,
        key: String,
        known: &'static [&'static str],
    },
    /// E0207: a value of the wrong kind.
    WrongValue {
        at: Span,
        key: String,
        expected: Expected,
    },
    /// E0207: a value the plan needs, computed at run time instead.
    Computed {
        at: Span,
        key: String,
        expected: Expected,
    },
    /// E0207: a number outside `low..=high` (`high` may be `f64::MAX`).
    OutOfRange {
        at: Span,
        key: String,
        value: f64,
        low: f64,
        high: f64,
    },
    /// E0207: a whole number below its least value.
    BelowLeast {
        at: Span,
        key: String,
        value: i64,
        least: i64,
    },
    /// E0207: a bare word that is not one of `words`.
    InvalidWord {
        at: Span,
        key: String,
        written: Option<String>,
        words: &'static [&'static str],
    },
    /// E0207: a model without `provider`.
    NoProvider { at: Span, model: String },
    /// E0207: `written` is not a provider (None: not a word at all).
    UnknownProvider { at: Span, written: Option<String> },
    /// E0401: a retry policy without `attempts`.
    NoAttempts { at: Span },
    /// E0401: `attempts` beyond what any run may try.
    AttemptsOutOfRange { at: Span, attempts: i64, most: i64 },
    /// E0207: `backoff` that is neither `exponential(…)` nor `constant(…)`.
    NotABackoff { at: Span },
    /// E0207: `backoff = name(…)` with an unknown name.
    UnknownBackoff { at: Span, name: String },
    /// E0207: an exponential backoff whose delays would shrink.
    ShrinkingBackoff { at: Span },
    /// E0207: `on` that is not a list.
    ErrorClassesNotAList { at: Span },
    /// E0207: an item of `on` that is no error class.
    UnknownErrorClass { at: Span, written: Option<String> },
    /// W0507 (`check --env`): a used model's key variable is not set.
    KeyNotSet {
        at: Span,
        model: String,
        variable: String,
    },
}

impl ConfigProblem {
    pub fn to_diagnostic(&self) -> Diagnostic {
        use ConfigProblem::*;
        let e0207 = |message: String| Diagnostic::new(Code::E0207, message);
        match self {
            UnknownKey {
                at,
                what,
                key,
                known,
            } => {
                let d = e0207(format!("unknown {what} `{key}`"))
                    .primary(*at, "not an option here")
                    .note(format!("options: {}", suggest::one_of(known)));
                with_suggestion(d, key, known.iter().copied())
            }
            WrongValue { at, key, expected } => {
                e0207(format!("`{key}` must be {}", expected.must_be()))
                    .primary(*at, format!("expected {}", expected.example()))
            }
            Computed { at, key, expected } => {
                let d = e0207(format!("`{key}` must be written as {}", expected.must_be()))
                    .primary(*at, "computed when the workflow runs");
                let help = match expected {
                    Expected::Names => {
                        return d
                            .note("the plan says which of spesc's variables a command sees")
                            .help("write the names out: `inherit = [\"GITHUB_TOKEN\"]`")
                    }
                    Expected::Duration => "write a duration like `30s`, `5m` or `250ms`",
                    Expected::WholeNumber | Expected::Number => "write a whole number like `8`",
                    Expected::Bool | Expected::String => return d,
                };
                d.note("limits are part of the plan, fixed before anything runs")
                    .help(help)
            }
            OutOfRange {
                at,
                key,
                value,
                low,
                high,
            } => {
                let range = if *high == f64::MAX {
                    format!("at least {low}")
                } else {
                    format!("between {low} and {high}")
                };
                e0207(format!("`{key}` is out of range"))
                    .primary(*at, format!("{value} is not {range}"))
            }
            BelowLeast {
                at,
                key,
                value,
                least,
            } => e0207(format!("`{key}` is out of range"))
                .primary(*at, format!("{value} is less than {least}")),
            InvalidWord {
                at,
                key,
                written,
                words,
            } => {
                let d = e0207(format!("invalid `{key}`"))
                    .primary(*at, format!("expected {}", suggest::one_of(words)));
                match written {
                    Some(w) => with_suggestion(d, w, words.iter().copied()),
                    None => d,
                }
            }
            NoProvider { at, model } => e0207(format!("model `{model}` has no `provider`"))
                .primary(*at, "add `provider = …` to this model")
                .help(format!("providers: {}", suggest::one_of(Provider::NAMES))),
            UnknownProvider { at, written } => {
                let d = e0207(format!(
                    "unknown provider `{}`",
                    written.as_deref().unwrap_or("?")
                ))
                .primary(*at, "not a provider spesc knows")
                .note(format!("providers: {}", suggest::one_of(Provider::NAMES)));
                match written {
                    Some(w) => with_suggestion(d, w, Provider::NAMES.iter().copied()),
                    None => d,
                }
            }
            NoAttempts { at } => Diagnostic::new(Code::E0401, "retry policy without `attempts`")
                .primary(*at, "this policy has no bound")
                .note("`attempts` counts every try, the first included")
                .help(format!(
                    "add `attempts = 3` (at most {})",
                    crate::check::config::MAX_ATTEMPTS
                )),
            AttemptsOutOfRange { at, attempts, most } => Diagnostic::new(
                Code::E0401,
                format!("retry bound {attempts} is out of range"),
            )
            .primary(*at, format!("must be 1 to {most}"))
            .note("every run must end; retries are bounded so that it does"),
            NotABackoff { at } => {
                e0207("`backoff` must be `exponential(…)` or `constant(…)`".into())
                    .primary(*at, "not a backoff")
                    .help("write `backoff = exponential(base = 1s, factor = 2, max = 60s)`")
            }
            UnknownBackoff { at, name } => {
                let d = e0207(format!("unknown backoff `{name}`"))
                    .primary(*at, "expected `exponential` or `constant`");
                with_suggestion(d, name, ["exponential", "constant"])
            }
            ShrinkingBackoff { at } => e0207("backoff `factor` below 1".into())
                .primary(*at, "delays would shrink")
                .help("use a factor of 1 or more, or `constant(…)`"),
            ErrorClassesNotAList { at } => e0207("`on` must be a list of error classes".into())
                .primary(*at, "expected a list")
                .help(format!("write `on = [{}]`", ErrorClass::names().join(", "))),
            UnknownErrorClass { at, written } => {
                let d = e0207("unknown error class".into())
                    .primary(*at, "not an error class")
                    .note(format!(
                        "error classes: {}",
                        suggest::one_of(&ErrorClass::names())
                    ));
                match written {
                    Some(w) => with_suggestion(d, w, ErrorClass::names()),
                    None => d,
                }
            }
            KeyNotSet {
                at,
                model,
                variable,
            } => Diagnostic::new(
                Code::W0507,
                format!("`{variable}` is not set for model `{model}`"),
            )
            .primary(*at, format!("needs `{variable}` to run"))
            .note("`spesc run` refuses to start until it is set")
            .help(format!(
                "export {variable}=… (keys come only from the environment)"
            )),
        }
    }
}
