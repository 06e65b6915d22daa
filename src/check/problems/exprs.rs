//! Expressions and the data contracts between steps: types that do not
//! fit, fields that do not exist, values that may be absent, `match`es
//! that miss or repeat a case, untrusted text where it is obeyed.

use crate::diagnostic::{Code, Diagnostic};
use crate::lang::ops::{BinaryOp, UnaryOp};
use crate::source::Span;
use crate::suggest;

use super::names::with_suggestion;

/// The step or `let` a value is read from, and the type it produces:
/// the other end of a contract.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Producer {
    pub at: Span,
    pub name: String,
    pub ty: String,
}

/// A record type as a message shows it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct RecordShape {
    pub name: String,
    pub declared: Option<Span>,
    pub fields: Vec<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum ExprProblem {
    /// E0202: `found` where `expected` is needed; `origin` is where the
    /// expectation comes from ("the step's declared type").
    Mismatch {
        at: Span,
        expected: String,
        found: String,
        origin: Option<(Span, String)>,
        producer: Option<Producer>,
        record: Option<RecordShape>,
    },
    /// E0202: a value that is not what its place takes (`expected`: "a
    /// model name").
    NotWhatIsTaken { at: Span, expected: &'static str },
    /// E0202: a list whose items do not share a type.
    ListItems {
        at: Span,
        ty: String,
        first: Span,
        so_far: String,
    },
    /// E0202: a declaration's name used as a value.
    NotAValue {
        at: Span,
        name: String,
        noun: &'static str,
        declared: Span,
    },
    /// E0202: `[…]` on a type that takes none.
    CannotIndex { at: Span, ty: String },
    /// E0202: a binary operator that cannot combine its operands.
    Operator {
        at: Span,
        left_at: Span,
        op: BinaryOp,
        left: String,
        right: String,
    },
    /// E0202: a unary operator on the wrong type.
    Operand { at: Span, op: UnaryOp, ty: String },
    /// E0202: `if` branches of different types.
    Branches {
        at: Span,
        first: Span,
        first_ty: String,
        ty: String,
    },
    /// E0202: `match` arms of different types.
    Arms {
        at: Span,
        first: Span,
        first_ty: String,
        ty: String,
    },
    /// E0202: a pattern of another kind than the value matched
    /// (`pattern`: "a variant name", "`bool`"…).
    Pattern {
        at: Span,
        subject: String,
        pattern: &'static str,
    },
    /// E0202: a `for` over something that is not a list or map.
    NotIterable {
        at: Span,
        ty: String,
        is_text: bool,
        producer: Option<Producer>,
        record: Option<RecordShape>,
    },
    /// E0201: a field read on a type without fields.
    NoFields {
        at: Span,
        ty: String,
        field: String,
        is_list: bool,
    },
    /// E0201: a field the record does not have.
    UnknownField {
        at: Span,
        ty: String,
        field: String,
        producer: Option<Producer>,
        record: RecordShape,
    },
    /// E0203 (E0303 in a workflow's result): an optional value used where
    /// one is required; `guarded` is the step whose `when` makes it so.
    Optional {
        at: Span,
        ty: String,
        in_result: bool,
        guarded: Option<Span>,
    },
    /// E0208: a condition that is not a `bool` (`keyword`: if, when,
    /// check, until).
    NotBool {
        at: Span,
        keyword: &'static str,
        ty: String,
        is_text: bool,
    },
    /// E0204: cases no arm covers (`["_"]`: an open-ended type).
    NotCovered {
        at: Span,
        subject: String,
        missing: Vec<String>,
        declared: Option<(Span, String)>,
    },
    /// E0205: an arm after `_`.
    AfterWildcard { at: Span, wildcard: Span },
    /// E0205: a case matched twice.
    MatchedTwice { at: Span, case: String },
    /// W0506: untrusted text interpolated into a system prompt.
    UntrustedInSystem {
        at: Span,
        name: String,
        source: Span,
    },
}

impl ExprProblem {
    pub fn to_diagnostic(&self) -> Diagnostic {
        use ExprProblem::*;
        let e0202 = |message: String| Diagnostic::new(Code::E0202, message);
        match self {
            Mismatch {
                at,
                expected,
                found,
                origin,
                producer,
                record,
            } => {
                let mut d = e0202("mismatched types".into())
                    .primary(*at, format!("expected `{expected}`, found `{found}`"));
                if let Some((origin, what)) = origin {
                    d = d.secondary(*origin, format!("{what}: `{expected}`"));
                }
                d = with_producer(d, producer);
                if let Some(record) = record {
                    if let Some(declared) = record.declared {
                        d = d.secondary(declared, format!("`{}` is declared here", record.name));
                    }
                    if !record.fields.is_empty() {
                        d = d.note(record.has());
                    }
                }
                d
            }
            NotWhatIsTaken { at, expected } => {
                e0202("mismatched types".into()).primary(*at, format!("expected {expected}"))
            }
            ListItems {
                at,
                ty,
                first,
                so_far,
            } => e0202("list items of different types".into())
                .primary(*at, format!("this is `{ty}`"))
                .secondary(*first, format!("the list holds `{so_far}`")),
            NotAValue {
                at,
                name,
                noun,
                declared,
            } => e0202(format!("expected a value, found {noun} `{name}`"))
                .primary(*at, "not a value")
                .secondary(*declared, format!("`{name}` is {}", suggest::a(noun))),
            CannotIndex { at, ty } => e0202(format!("`{ty}` cannot be indexed"))
                .primary(*at, format!("this is `{ty}`"))
                .help("only lists, maps, strings and `json` take `[…]`"),
            Operator {
                at,
                left_at,
                op,
                left,
                right,
            } => e0202(format!(
                "`{}` cannot combine `{left}` and `{right}`",
                op.symbol()
            ))
            .primary(*at, format!("this is `{right}`"))
            .secondary(*left_at, format!("this is `{left}`"))
            .note(operator_note(*op)),
            Operand { at, op, ty } => {
                let wanted = match op {
                    UnaryOp::Not => "a `bool`",
                    UnaryOp::Neg => "a number",
                };
                e0202(format!("`{}` needs {wanted}, found `{ty}`", op.symbol()))
                    .primary(*at, format!("this is `{ty}`"))
            }
            Branches {
                at,
                first,
                first_ty,
                ty,
            } => e0202("branches have different types".into())
                .primary(*at, format!("this is `{ty}`"))
                .secondary(*first, format!("the first branch is `{first_ty}`")),
            Arms {
                at,
                first,
                first_ty,
                ty,
            } => e0202("`match` arms have different types".into())
                .primary(*at, format!("this arm is `{ty}`"))
                .secondary(*first, format!("the first arm is `{first_ty}`"))
                .note("every arm of a `match` gives a value of one type"),
            Pattern {
                at,
                subject,
                pattern,
            } => e0202("pattern does not fit the matched value".into())
                .primary(*at, format!("{pattern} pattern"))
                .note(format!("the value matched is `{subject}`")),
            NotIterable {
                at,
                ty,
                is_text,
                producer,
                record,
            } => {
                let mut d =
                    e0202(format!("cannot loop over `{ty}`")).primary(*at, "expected a list");
                d = with_producer(d, producer);
                if let Some(record) = record {
                    d = d.note(record.has());
                }
                d.help(if *is_text {
                    "split it first: `split(text, \"\\n\")`"
                } else {
                    "`for` walks the items of a list; a record's list field is `x.field`"
                })
            }
            NoFields {
                at,
                ty,
                field,
                is_list,
            } => Diagnostic::new(Code::E0201, format!("`{ty}` has no fields"))
                .primary(*at, format!("no field `{field}` on `{ty}`"))
                .help(if *is_list {
                    "index it first: `xs[0].field`"
                } else {
                    "only records (`type …`) have fields"
                }),
            UnknownField {
                at,
                ty,
                field,
                producer,
                record,
            } => {
                let mut d =
                    Diagnostic::new(Code::E0201, format!("no field `{field}` on type `{ty}`"))
                        .primary(*at, "unknown field");
                d = with_producer(d, producer);
                if let Some(declared) = record.declared {
                    d = d.secondary(declared, format!("`{}` is declared here", record.name));
                }
                d = d.note(if record.fields.is_empty() {
                    format!("`{}` has no fields", record.name)
                } else {
                    record.has()
                });
                with_suggestion(d, field, record.fields.iter().map(String::as_str))
            }
            Optional {
                at,
                ty,
                in_result,
                guarded,
            } => {
                let d = if *in_result {
                    Diagnostic::new(
                        Code::E0303,
                        "the result may come from a step that did not run",
                    )
                    .primary(*at, format!("this is `{ty}`"))
                    .help("give a fallback: `x ?? other`")
                } else {
                    Diagnostic::new(Code::E0203, format!("optional `{ty}` used where a value is required"))
                        .primary(*at, "may be missing")
                        .help("give a fallback with `x ?? …`, guard the use with `{% if x %}`, or add the same `when` here")
                };
                match guarded {
                    Some(step) => {
                        d.secondary(*step, "this step has a `when` guard: it may not run")
                    }
                    None => d,
                }
            }
            NotBool {
                at,
                keyword,
                ty,
                is_text,
            } => {
                let help = if *keyword == "if" {
                    "compare it, or test an optional value by its name alone"
                } else if *keyword == "expect" {
                    "compare the output: `expect output == \"…\"`"
                } else if *is_text {
                    "compare it: `x != \"\"`, or use `len(x) > 0`"
                } else {
                    "write a comparison such as `x > 0`"
                };
                Diagnostic::new(
                    Code::E0208,
                    format!("`{keyword}` condition is not a `bool`"),
                )
                .primary(*at, format!("this is `{ty}`"))
                .help(help)
            }
            NotCovered {
                at,
                subject,
                missing,
                declared,
            } => {
                let listed: Vec<&str> = missing.iter().map(String::as_str).collect();
                let d = if listed == ["_"] {
                    Diagnostic::new(
                        Code::E0204,
                        format!("`match` on `{subject}` needs a `_` arm"),
                    )
                    .primary(*at, format!("other `{subject}` values match no arm"))
                    .help("add a `_ => …` arm for the rest")
                } else {
                    let them = if listed.len() == 1 {
                        "an arm for it"
                    } else {
                        "arms for them"
                    };
                    Diagnostic::new(
                        Code::E0204,
                        format!("`match` does not cover {}", suggest::all_of(&listed)),
                    )
                    .primary(
                        *at,
                        format!("this `{subject}` may be {}", suggest::one_of(&listed)),
                    )
                    .help(format!("add {them} or a `_ => …` arm"))
                };
                match declared {
                    Some((at, name)) => d.secondary(*at, format!("`{name}` is declared here")),
                    None => d,
                }
            }
            AfterWildcard { at, wildcard } => {
                Diagnostic::new(Code::E0205, "unreachable `match` arm")
                    .primary(*at, "never reached")
                    .secondary(*wildcard, "`_` above already matches everything")
            }
            MatchedTwice { at, case } => {
                Diagnostic::new(Code::E0205, format!("`{case}` is matched twice"))
                    .primary(*at, "this arm is never reached")
                    .note("an earlier arm already matches it")
            }
            UntrustedInSystem { at, name, source } => Diagnostic::new(
                Code::W0506,
                format!("untrusted text `{name}` in a `system` prompt"),
            )
            .primary(*at, "comes from outside the workflow")
            .secondary(*source, "a workflow input or a fetched body")
            .note("text in the system prompt is obeyed as instructions; a user could inject some")
            .help("move it into `prompt`, where the model reads it as data"),
        }
    }
}

impl RecordShape {
    /// "`Outline` has `title` and `sections`"
    fn has(&self) -> String {
        let fields: Vec<&str> = self.fields.iter().map(String::as_str).collect();
        format!("`{}` has {}", self.name, suggest::all_of(&fields))
    }
}

/// "`grade` produces `Grade` here", at the step the value comes from.
pub(super) fn with_producer(diagnostic: Diagnostic, producer: &Option<Producer>) -> Diagnostic {
    match producer {
        Some(p) => diagnostic.secondary(p.at, format!("`{}` produces `{}` here", p.name, p.ty)),
        None => diagnostic,
    }
}

fn operator_note(op: BinaryOp) -> &'static str {
    match op {
        BinaryOp::Or | BinaryOp::And => "`and` and `or` take `bool`s",
        BinaryOp::Eq | BinaryOp::Ne => "only values of one type can be compared",
        BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge => {
            "order compares two numbers, two durations or two strings"
        }
        BinaryOp::Add => "`+` adds numbers or durations, joins strings, or joins lists",
        _ => "arithmetic takes numbers (and durations with `+`, `-`, `*`, `/`)",
    }
}
