//! The step graph and the workflow as a whole: cycles, what is visible
//! where, what can never run, what nothing reads, what cannot fit its
//! deadline or its model's window.

use crate::diagnostic::{Code, Diagnostic};
use crate::source::Span;

/// One edge of a cycle: where `from` reads or calls `to`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Link {
    pub at: Span,
    pub from: String,
    pub to: String,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum FlowProblem {
    /// E0301: steps that read each other (`cycle`: their names in order).
    StepCycle {
        links: Vec<Link>,
        cycle: Vec<String>,
    },
    /// E0402: workflows that reach themselves through `call`.
    CallCycle {
        links: Vec<Link>,
        cycle: Vec<String>,
    },
    /// E0402: calls nested deeper than a run may go (`chain`: the
    /// workflows from the first caller to the last callee).
    CallsTooDeep {
        at: Span,
        depth: usize,
        chain: Vec<String>,
    },
    /// E0302: a step read in one arm of a `match` that runs only in another.
    OtherArm {
        at: Span,
        name: String,
        declared: Span,
    },
    /// E0203: a step read outside the block it lives in (`place`: "the loop
    /// `refine`", "an arm of a `match`"…).
    NotVisible {
        at: Span,
        name: String,
        declared: Span,
        place: String,
    },
    /// E0302: a guard that is always false.
    NeverRuns {
        at: Span,
        step: String,
        step_at: Span,
    },
    /// E0202: a workflow declared to return a value whose body returns none.
    ReturnsNothing {
        at: Span,
        workflow: String,
        expected: String,
    },
    /// W0501: an LLM step, call or `let` whose value nobody reads.
    Unused {
        at: Span,
        name: String,
        is_let: bool,
    },
    /// W0505: a step's worst case (attempts × one try's limit + the longest
    /// backoffs) exceeds the deadline that bounds it.
    OverDeadline {
        at: Span,
        step: String,
        attempts: u64,
        timeout_ms: u64,
        backoff_ms: u64,
        deadline_at: Span,
        deadline_ms: u64,
        /// Nothing is written: the built-in policy applies.
        built_in: bool,
    },
    /// W0503: a prompt's fixed text alone exceeds the smallest context
    /// window among its models.
    OverWindow { at: Span, tokens: u64, window: u64 },
}

impl FlowProblem {
    pub fn to_diagnostic(&self) -> Diagnostic {
        use FlowProblem::*;
        match self {
            StepCycle { links, cycle } => {
                let message = match cycle.as_slice() {
                    [one] => format!("step `{one}` depends on itself"),
                    _ => format!("dependency cycle between `{}`", cycle.join("`, `")),
                };
                let labels = labelled(links, "reads");
                super::label_chain(Diagnostic::new(Code::E0301, message), &labels)
                    .note(round_trip(cycle))
                    .help("a step runs after everything it reads; break the cycle by removing one reference")
            }
            CallCycle { links, cycle } => {
                let message = match cycle.as_slice() {
                    [one] => format!("workflow `{one}` calls itself"),
                    _ => format!("workflows `{}` call each other", cycle.join("`, `")),
                };
                let labels = labelled(links, "calls");
                super::label_chain(Diagnostic::new(Code::E0402, message), &labels)
                    .note(round_trip(cycle))
                    .note("every run must end, so a workflow may not reach itself through `call`")
                    .help("repeat work with a bounded `loop` instead")
            }
            CallsTooDeep { at, depth, chain } => {
                let max = crate::check::graph::MAX_CALL_DEPTH;
                let shown = if chain.len() > 6 {
                    let (head, tail) = (&chain[..3], &chain[chain.len() - 2..]);
                    format!("{} → … → {}", head.join(" → "), tail.join(" → "))
                } else {
                    chain.join(" → ")
                };
                Diagnostic::new(
                    Code::E0402,
                    format!("calls nest {depth} deep from `{}`", chain[0]),
                )
                .primary(
                    *at,
                    format!("this call starts a chain of {depth} nested calls"),
                )
                .note(format!("the chain: {shown}"))
                .note(format!(
                    "a run holds at most {max} calls inside one another"
                ))
                .help("call the inner workflows one after another from one workflow, or merge them")
            }
            OtherArm { at, name, declared } => {
                Diagnostic::new(Code::E0302, format!("`{name}` can never have run here"))
                    .primary(*at, "read in one arm of a `match`")
                    .secondary(*declared, "but it runs only in another arm")
                    .note("the arms of a `match` exclude each other: one runs, the others never do")
                    .help("compute it before the `match`, or in this arm")
            }
            NotVisible {
                at,
                name,
                declared,
                place,
            } => Diagnostic::new(Code::E0203, format!("`{name}` is not visible here"))
                .primary(*at, format!("`{name}` exists only inside {place}"))
                .secondary(*declared, "declared here")
                .help(if place.starts_with("the loop") {
                    "read it after the loop through the loop's name, like `loop_name.step`"
                } else {
                    "make it the block's value and bind that with `let`"
                }),
            NeverRuns { at, step, step_at } => {
                Diagnostic::new(Code::E0302, format!("step `{step}` can never run"))
                    .primary(*at, "this guard is always false")
                    .secondary(*step_at, "the step it guards")
            }
            ReturnsNothing {
                at,
                workflow,
                expected,
            } => Diagnostic::new(
                Code::E0202,
                format!("workflow `{workflow}` returns nothing"),
            )
            .primary(*at, format!("declared to return `{expected}`"))
            .help("end the body with `return …`"),
            Unused { at, name, is_let } => {
                let d = if *is_let {
                    Diagnostic::new(Code::W0501, format!("value of `{name}` is never used"))
                } else {
                    Diagnostic::new(Code::W0501, format!("output of `{name}` is never used"))
                        .note("it still costs a model call on every run")
                };
                d.primary(*at, "nothing reads this").help(format!(
                    "use it, remove it, or name it `_{name}` to keep it"
                ))
            }
            OverDeadline {
                at,
                step,
                attempts,
                timeout_ms,
                backoff_ms,
                deadline_at,
                deadline_ms,
                built_in,
            } => {
                let written = if *built_in {
                    " (the built-in policy: nothing is written)"
                } else {
                    ""
                };
                let worst = attempts
                    .saturating_mul(*timeout_ms)
                    .saturating_add(*backoff_ms);
                let timeout = show_ms(*timeout_ms);
                Diagnostic::new(
                    Code::W0505,
                    format!("retries of `{step}` cannot fit its deadline"),
                )
                .primary(
                    *at,
                    format!("{attempts} attempts of up to {timeout}{written}"),
                )
                .secondary(
                    *deadline_at,
                    format!("the deadline: {}", show_ms(*deadline_ms)),
                )
                .note(format!(
                    "{attempts} attempts × {timeout} + {} of backoff = {}",
                    show_ms(*backoff_ms),
                    show_ms(worst)
                ))
                .help("lower `attempts` or `timeout`, or raise the deadline")
            }
            OverWindow { at, tokens, window } => {
                Diagnostic::new(Code::W0503, "prompt exceeds the model's context window")
                    .primary(*at, format!("about {tokens} tokens before any input"))
                    .note(format!(
                        "the smallest `context_window` among its models is {window}"
                    ))
                    .help(
                        "shorten the prompt or its components, or use a model with a larger window",
                    )
            }
        }
    }
}

/// "`a` reads `b` here" for each link.
fn labelled(links: &[Link], verb: &str) -> Vec<(Span, String)> {
    links
        .iter()
        .map(|l| (l.at, format!("`{}` {verb} `{}` here", l.from, l.to)))
        .collect()
}

/// "the cycle: a → b → a"
fn round_trip(cycle: &[String]) -> String {
    let mut path: Vec<&str> = cycle.iter().map(String::as_str).collect();
    path.extend(cycle.first().map(String::as_str));
    format!("the cycle: {}", path.join(" → "))
}

fn show_ms(ms: u64) -> String {
    if ms.is_multiple_of(60_000) && ms > 0 {
        format!("{}m", ms / 60_000)
    } else if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        format!("{ms}ms")
    }
}
