//! What a step declares: the clauses its kind takes, the settings of its
//! action, a model and a prompt for a model call.

use crate::diagnostic::{Code, Diagnostic};
use crate::source::Span;
use crate::suggest;

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum StepProblem {
    /// E0207: a model-call clause (`key`) on a step of another kind
    /// (`action`: "an `exec`", "a `call`"…).
    ModelClauseElsewhere {
        at: Span,
        key: &'static str,
        step: String,
        action: &'static str,
    },
    /// E0207: a model call without a model.
    NoModel { at: Span, step: String },
    /// E0207: a model call without a prompt.
    NoPrompt { at: Span, step: String },
    /// E0202: an `env`/`headers`/`query` entry that is itself a block.
    EntryNotText {
        at: Span,
        key: String,
        entry: String,
    },
    /// E0202: an action setting that is not one of its words.
    InvalidWord {
        at: Span,
        key: String,
        words: &'static [&'static str],
    },
    /// W0504: a step both in `context` and interpolated by the prompt.
    ContextAndPrompt { at: Span, name: String },
}

impl StepProblem {
    pub fn to_diagnostic(&self) -> Diagnostic {
        use StepProblem::*;
        match self {
            ModelClauseElsewhere {
                at,
                key,
                step,
                action,
            } => Diagnostic::new(Code::E0207, format!("`{key}` is for steps that call a model"))
                .primary(*at, format!("`{step}` is {action} step"))
                .note("every step takes `retry`, `timeout`, `deadline`, `check`, `when`, `on_error`, `compensate` and `after`; `model`, `agent`, `prompt`, `system`, `context` and `cache` belong to model calls")
                .help(format!("remove `{key}`, or make the step a model call: `step {step}: T {{ model = …  prompt = … }}`")),
            NoModel { at, step } => Diagnostic::new(Code::E0207, format!("step `{step}` has no model"))
                .primary(*at, "an LLM step needs a model to call")
                .help("add `model = …` or `agent = …`, or `default model = …` at the top of the workflow"),
            NoPrompt { at, step } => {
                Diagnostic::new(Code::E0207, format!("step `{step}` has no prompt"))
                    .primary(*at, "an LLM step needs a prompt")
                    .help("add `prompt = \"…\"`")
            }
            EntryNotText { at, key, entry } => {
                Diagnostic::new(Code::E0202, format!("invalid `{key}` value"))
                    .primary(*at, "expected a value written as text")
                    .help(format!("write `{entry} = \"…\"` or an expression"))
            }
            InvalidWord { at, key, words } => {
                Diagnostic::new(Code::E0202, format!("invalid `{key}`"))
                    .primary(*at, format!("expected {}", suggest::one_of(words)))
            }
            ContextAndPrompt { at, name } => Diagnostic::new(
                Code::W0504,
                format!("`{name}` is in the context and in the prompt"),
            )
            .primary(*at, "already interpolated by the prompt")
            .note("the model would read it twice")
            .help(format!("remove `{name}` from `context`")),
        }
    }
}
