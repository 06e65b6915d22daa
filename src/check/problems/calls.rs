//! Calls: of another workflow, of a built-in function, and the options a
//! `for`, `loop` or `summarized(…)` takes.

use crate::diagnostic::{Code, Diagnostic};
use crate::source::Span;
use crate::suggest;

use super::exprs::{with_producer, Producer};
use super::names::with_suggestion;

/// The workflow a `call` names: where it is declared and what it takes.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Callee {
    pub name: String,
    pub declared: Span,
    pub params: Vec<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum CallProblem {
    /// E0206: a workflow argument without `name =`.
    Unnamed { at: Span, callee: Callee },
    /// E0206: an argument the workflow has no parameter for.
    NoSuchParameter {
        at: Span,
        name: String,
        callee: Callee,
    },
    /// E0206: an argument of the wrong type.
    ArgumentType {
        at: Span,
        name: String,
        expected: String,
        found: String,
        param_ty: Span,
        producer: Option<Producer>,
    },
    /// E0206: required parameters no argument gives.
    Missing {
        at: Span,
        missing: Vec<String>,
        callee: Callee,
    },
    /// E0206: a built-in function given the wrong number of arguments
    /// (`signature`: how the function table describes it).
    Arity {
        at: Span,
        function: String,
        arity: usize,
        given: usize,
        signature: &'static str,
    },
    /// E0206: argument `index` (1-based) of a built-in of the wrong type.
    FunctionArgument {
        at: Span,
        function: String,
        index: usize,
        found: String,
        signature: &'static str,
    },
    /// E0206: an option `for` does not take.
    UnknownForOption { at: Span },
    /// E0206: an argument `summarized` does not take.
    UnknownSummarizedArgument { at: Span },
    /// E0207: an option `loop` does not take.
    UnknownLoopOption { at: Span, key: String },
    /// E0207: `tolerate` that is not a share from 0 to 1.
    Tolerate { at: Span },
    /// E0401: a `loop` without `max`.
    UnboundedLoop { at: Span, name: String },
    /// E0401: a `loop`'s `max` beyond the bound (`None`: not a whole number).
    LoopBound {
        at: Span,
        written: Option<i64>,
        most: i64,
    },
    /// W0508: a `for` asking for more at once than `max_concurrency`.
    OverCap {
        at: Span,
        asked: u64,
        cap_at: Span,
        cap: i64,
    },
}

impl CallProblem {
    pub fn to_diagnostic(&self) -> Diagnostic {
        use CallProblem::*;
        let e0206 = |message: String| Diagnostic::new(Code::E0206, message);
        match self {
            Unnamed { at, callee } => e0206("arguments to a workflow are named".into())
                .primary(*at, "this argument has no name")
                .help(format!(
                    "write `name = value`; `{}` takes {}",
                    callee.name,
                    callee.param_list()
                )),
            NoSuchParameter { at, name, callee } => {
                let d = e0206(format!("`{}` has no parameter `{name}`", callee.name))
                    .primary(*at, "unknown argument")
                    .secondary(
                        callee.declared,
                        format!("`{}` is declared here", callee.name),
                    )
                    .note(format!("it takes {}", callee.param_list()));
                with_suggestion(d, name, callee.params.iter().map(String::as_str))
            }
            ArgumentType {
                at,
                name,
                expected,
                found,
                param_ty,
                producer,
            } => {
                let d = e0206(format!("argument `{name}` has the wrong type"))
                    .primary(*at, format!("expected `{expected}`, found `{found}`"))
                    .secondary(*param_ty, "the parameter's type");
                with_producer(d, producer)
            }
            Missing {
                at,
                missing,
                callee,
            } => {
                let listed: Vec<&str> = missing.iter().map(String::as_str).collect();
                let noun = if listed.len() == 1 {
                    "argument"
                } else {
                    "arguments"
                };
                let all = suggest::all_of(&listed);
                e0206(format!("missing {noun} {all} to `{}`", callee.name))
                    .primary(*at, format!("`{}` needs {all}", callee.name))
                    .secondary(
                        callee.declared,
                        format!("`{}` is declared here", callee.name),
                    )
            }
            Arity {
                at,
                function,
                arity,
                given,
                signature,
            } => {
                let noun = if *arity == 1 { "argument" } else { "arguments" };
                e0206(format!("`{function}` takes {arity} {noun}, {given} given"))
                    .primary(*at, format!("expected {signature}"))
            }
            FunctionArgument {
                at,
                function,
                index,
                found,
                signature,
            } => e0206(format!(
                "argument {index} of `{function}` has the wrong type"
            ))
            .primary(*at, format!("found `{found}`"))
            .note(format!("`{function}` is {signature}")),
            UnknownForOption { at } => e0206("unknown `for` option".into())
                .primary(*at, "`for` takes `concurrency` and `tolerate`"),
            UnknownSummarizedArgument { at } => e0206("unknown argument to `summarized`".into())
                .primary(*at, "`summarized` takes `max_tokens` and `model`"),
            UnknownLoopOption { at, key } => {
                Diagnostic::new(Code::E0207, format!("unknown loop option `{key}`"))
                    .primary(*at, "loops take `max` and `best_by`")
            }
            Tolerate { at } => {
                Diagnostic::new(Code::E0207, "`tolerate` must be a share from 0% to 100%")
                    .primary(*at, "not a share the plan can fix")
                    .help("write a share like `10%` or `0.1`")
            }
            UnboundedLoop { at, name } => {
                Diagnostic::new(Code::E0401, format!("loop `{name}` has no `max`"))
                    .primary(*at, "this loop could run forever")
                    .note("every run must end, so every loop says how often it may repeat")
                    .help(format!("add a bound: `loop {name} (max = 5) {{ … }}`"))
            }
            LoopBound {
                at,
                written: Some(n),
                most,
            } => Diagnostic::new(Code::E0401, format!("loop bound {n} is out of range"))
                .primary(*at, format!("must be 1 to {most}"))
                .note("every run must end, so every loop has a small bound"),
            LoopBound {
                at, written: None, ..
            } => Diagnostic::new(Code::E0401, "loop bound is not a whole number")
                .primary(*at, "expected an integer like `5`"),
            OverCap {
                at,
                asked,
                cap_at,
                cap,
            } => Diagnostic::new(
                Code::W0508,
                format!("this `for` asks for {asked} items at once; the workflow allows {cap}"),
            )
            .primary(*at, format!("{asked} at once"))
            .secondary(
                *cap_at,
                format!("at most {cap} actions at once in this workflow"),
            )
            .note(
                "`max_concurrency` bounds every model call, command and request of a run together",
            )
            .help(format!(
                "lower the `for`'s `concurrency` to {cap}, or raise `max_concurrency`"
            )),
        }
    }
}

impl Callee {
    pub fn of(
        name: &crate::syntax::ast::Ident,
        target: &crate::syntax::ast::WorkflowDecl,
    ) -> Callee {
        Callee {
            name: name.name.clone(),
            declared: target.name.span,
            params: target.params.iter().map(|p| p.name.name.clone()).collect(),
        }
    }

    /// "`text` and `language`" — or "no parameters".
    fn param_list(&self) -> String {
        if self.params.is_empty() {
            return "no parameters".to_string();
        }
        let names: Vec<&str> = self.params.iter().map(String::as_str).collect();
        suggest::all_of(&names)
    }
}
