//! What the checker finds: facts first, wording in one place.
//!
//! Each pass reports a [`Problem`] — a fact with the spans and names it is
//! about, and no prose — and [`Problem::to_diagnostic`] is the only place
//! that turns one into a message, labels, notes and help. The facts are
//! grouped by what they are about, one enum (and its wording) per file, as
//! the syntax errors are in `syntax::errors`.

mod calls;
mod config;
mod exprs;
mod files;
mod flow;
mod names;
mod steps;
mod tests;

pub(crate) use calls::{CallProblem, Callee};
pub(crate) use config::{ConfigProblem, Expected};
pub(crate) use exprs::{ExprProblem, Producer, RecordShape};
pub(crate) use files::FileProblem;
pub(crate) use flow::{FlowProblem, Link};
pub(crate) use names::NameProblem;
pub(crate) use steps::StepProblem;
pub(crate) use tests::TestProblem;

use crate::diagnostic::Diagnostic;
use crate::source::Span;

macro_rules! problems {
    ($($area:ident($ty:ident)),* $(,)?) => {
        /// One thing the checker found wrong or suspicious.
        #[derive(Clone, Debug, PartialEq)]
        pub(crate) enum Problem {
            $($area($ty)),*
        }

        impl Problem {
            pub fn to_diagnostic(&self) -> Diagnostic {
                match self {
                    $(Problem::$area(p) => p.to_diagnostic()),*
                }
            }
        }

        $(impl From<$ty> for Problem {
            fn from(p: $ty) -> Problem {
                Problem::$area(p)
            }
        })*
    };
}

problems! {
    File(FileProblem),
    Name(NameProblem),
    Config(ConfigProblem),
    Step(StepProblem),
    Call(CallProblem),
    Expr(ExprProblem),
    Flow(FlowProblem),
    Test(TestProblem),
}

/// Labels a chain of places (an import cycle, a call cycle): the first
/// primary, the rest secondary.
fn label_chain(mut diagnostic: Diagnostic, links: &[(Span, String)]) -> Diagnostic {
    for (i, (span, label)) in links.iter().enumerate() {
        diagnostic = if i == 0 {
            diagnostic.primary(*span, label.clone())
        } else {
            diagnostic.secondary(*span, label.clone())
        };
    }
    diagnostic
}
