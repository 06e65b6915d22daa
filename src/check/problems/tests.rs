//! `test` blocks: a `run` first, steps that exist, givens and
//! expectations of the right type.

use crate::diagnostic::{Code, Diagnostic};
use crate::source::Span;

use super::names::with_suggestion;

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum TestProblem {
    /// E0101: `given` or `expect` before any `run`.
    NoRun { at: Span },
    /// E0101: a step the tested workflow does not have.
    UnknownStep {
        at: Span,
        workflow: String,
        step: String,
        steps: Vec<String>,
    },
    /// E0202: a `given` value of another type than the step declares.
    GivenType {
        at: Span,
        step: String,
        expected: String,
        found: String,
        declared: Span,
    },
    /// E0202: an `expect` comparing values of different types.
    Comparison {
        at: Span,
        left_at: Span,
        left: String,
        right: String,
    },
}

impl TestProblem {
    pub fn to_diagnostic(&self) -> Diagnostic {
        use TestProblem::*;
        match self {
            NoRun { at } => Diagnostic::new(Code::E0101, "no workflow to test")
                .primary(*at, "comes before any `run`")
                .help("start the test with `run workflow(…)`"),
            UnknownStep {
                at,
                workflow,
                step,
                steps,
            } => {
                let d = Diagnostic::new(
                    Code::E0101,
                    format!("workflow `{workflow}` has no step `{step}`"),
                )
                .primary(*at, "unknown step");
                with_suggestion(d, step, steps.iter().map(String::as_str))
            }
            GivenType {
                at,
                step,
                expected,
                found,
                declared,
            } => Diagnostic::new(Code::E0202, "mismatched types")
                .primary(*at, format!("expected `{expected}`, found `{found}`"))
                .secondary(*declared, format!("`{step}` is declared `{expected}`")),
            Comparison {
                at,
                left_at,
                left,
                right,
            } => Diagnostic::new(Code::E0202, "mismatched types")
                .primary(*at, format!("expected `{left}`, found `{right}`"))
                .secondary(*left_at, format!("this is `{left}`")),
        }
    }
}
