//! Plan → result: the interpreter. It reads only the [`Plan`]: nothing
//! here knows the syntax tree or the checker.
//!
//! [`run`] executes one workflow of a plan on a current-thread tokio
//! runtime. Every statement of a block starts at once and waits, through
//! the values it reads ([`eval`], [`frame`]), for the nodes it depends on,
//! so independent steps run in parallel ([`engine`]). A step is tried under
//! its policy ([`step`]): attempts, backoff, deadlines, checks, `on_error`,
//! compensation; model calls go through their fallback chains, breakers,
//! rate limits and cache ([`llm`], [`limits`]); `exec`, `fetch` and `ask`
//! are in [`actions`]; `let`, `loop`, `for`, `match` and `if` in [`flow`].
//! The result is a [`RunRecord`], journaled node by node.

mod actions;
mod engine;
mod eval;
pub mod events;
mod flow;
mod frame;
mod limits;
mod llm;
mod prompt;
pub mod reach;
pub mod reading;
mod step;
mod streaming;
mod testing;
pub mod value;

pub use testing::{run_tests, TestOutcome};

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use serde_json::{Map, Value};

use crate::journal::record::{Outcome, RunRecord, Totals};
use crate::journal::Journal;
use crate::lang::policy::ErrorClass;
use crate::plan::types::Type;
use crate::plan::Plan;
use crate::providers::recording::{Recorder, Replayer};
use crate::providers::script::Script;
use engine::Engine;

/// Why a run stopped before its result.
#[derive(Clone, Debug, PartialEq)]
pub enum Stop {
    /// A step failed for good; the run fails naming it.
    Failed { step: String, error: String },
    /// A step waits for a person.
    Waiting { step: String, question: String },
    /// The run was interrupted (Ctrl-C): what was running was stopped, what
    /// completed is journaled, and `resume` continues.
    Interrupted,
    /// A node could not be journaled (a full disk): the run stops at once
    /// (nothing catches this, nothing is compensated, no other step
    /// starts), and `resume` continues once the journal can be written.
    Unjournaled { step: String, error: String },
}

/// Why an evaluation or an attempt gave no value: the run stopped
/// upstream, or this failed (the step that evaluates it fails with it).
#[derive(Clone, Debug)]
pub enum Fault {
    Stop(Stop),
    /// A failure that trying again will not fix.
    Error(String),
    /// A failure that may pass on another try, retried when the policy's
    /// `on` lists its class, after at least `wait_ms` when the other side
    /// said so.
    Retryable {
        class: ErrorClass,
        message: String,
        wait_ms: Option<u64>,
    },
}

impl Fault {
    /// An attempt that ran out of time.
    pub fn timeout(message: String) -> Fault {
        Fault::Retryable {
            class: ErrorClass::Timeout,
            message,
            wait_ms: None,
        }
    }

    /// The fault in words.
    pub fn describe(&self) -> String {
        match self {
            Fault::Stop(Stop::Failed { step, error }) => format!("step `{step}` failed: {error}"),
            Fault::Stop(Stop::Waiting { step, .. }) => format!("step `{step}` waits for a person"),
            Fault::Stop(Stop::Interrupted) => "the run was interrupted".to_string(),
            Fault::Stop(Stop::Unjournaled { step, error }) => format!("step `{step}`: {error}"),
            Fault::Error(error) | Fault::Retryable { message: error, .. } => error.clone(),
        }
    }
}

impl From<Stop> for Fault {
    fn from(stop: Stop) -> Fault {
        Fault::Stop(stop)
    }
}

pub type Eval<T> = Result<T, Fault>;

/// What a run may use besides the plan.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// Answers to `ask` steps, by step name or instance id.
    pub answers: HashMap<String, Value>,
    /// Outputs that stand in for steps (a test's `given`), by name or id.
    pub given: HashMap<String, Value>,
    /// Scripted replies and failures for the mock (`--mock-script`).
    pub script: Script,
    /// Ask people on the terminal when `answers` has no answer (else the
    /// run waits).
    pub interactive: bool,
    /// Where the run reports its progress.
    pub events: events::Events,
    /// `--mock`: every model answered by the mock, whatever its provider.
    pub mock_all: bool,
    /// `--record FILE`: every model request and answer, appended as sent.
    pub record: Option<Arc<Recorder>>,
    /// `--replay FILE`: answers from a recording; nothing is sent.
    pub replay: Option<Arc<Replayer>>,
    /// Where each node is journaled as it finishes (and `cache = true`
    /// answers are kept).
    pub journal: Option<Arc<Journal>>,
    /// Outputs of instances that completed before a resume, by instance
    /// id: they are not run again.
    pub resumed: HashMap<String, Value>,
    /// Answers given with `spesc approve`, by instance id: each answers
    /// one wait (unlike `answers`, which answer every time).
    pub approvals: HashMap<String, Value>,
    /// `--no-cache`: call models even where an answer is kept.
    pub no_cache: bool,
    /// Where fetch may connect and how much any answer may hold.
    pub reach: Arc<reach::Reach>,
}

/// Runs `workflow` of `plan` with `inputs` (typed by [`parse_input`];
/// defaults are filled in).
pub fn run(
    plan: &Plan,
    workflow: &str,
    inputs: Map<String, Value>,
    options: &RunOptions,
) -> RunRecord {
    let started = Instant::now();
    let engine_steps;
    let outcome = match plan.find(workflow) {
        None => {
            engine_steps = Vec::new();
            Err(Stop::Failed {
                step: workflow.to_string(),
                error: format!("the plan has no workflow `{workflow}`"),
            })
        }
        Some(root) => {
            options.events.send(events::Event::RunStarted {
                workflow,
                plan_hash: &plan.hash,
                steps: plan.workflow(root).nodes.len(),
            });
            let engine = Engine::new(plan, options);
            let outcome = engine.run_root(root, inputs.clone());
            engine_steps = engine.into_records();
            outcome
        }
    };
    let mut record = RunRecord {
        id: String::new(),
        workflow: workflow.to_string(),
        plan_hash: plan.hash.clone(),
        inputs: Value::Object(inputs),
        outcome: match outcome {
            Ok(output) => Outcome::Succeeded { output },
            Err(Stop::Failed { step, error } | Stop::Unjournaled { step, error }) => {
                Outcome::Failed { step, error }
            }
            Err(Stop::Waiting { step, question }) => Outcome::Waiting { step, question },
            Err(Stop::Interrupted) => Outcome::Interrupted,
        },
        duration_ms: started.elapsed().as_millis() as u64,
        totals: Totals::default(),
        steps: engine_steps,
    };
    record.totals = Totals::of(&record.steps);
    options.events.send(events::Event::RunFinished {
        outcome: &record.outcome,
        duration_ms: record.duration_ms,
    });
    record
}

/// A command-line input as a value of the parameter's type: `string`
/// takes the text as it is, other types read it as JSON (`3`, `true`,
/// `["a", "b"]`); a duration may be written `30s`, and an enum's variant
/// bare (`red`). The value is then conformed to the type like any other.
pub fn parse_input(ty: &Type, raw: &str) -> Result<Value, String> {
    match ty.unwrap_optional() {
        Type::String => Ok(Value::String(raw.to_string())),
        Type::Named(_) => {
            Ok(serde_json::from_str(raw).unwrap_or_else(|_| Value::String(raw.to_string())))
        }
        Type::Duration => parse_duration(raw)
            .map(Value::from)
            .ok_or_else(|| format!("expected a duration like `30s`, found `{raw}`")),
        base => {
            let value: Value = serde_json::from_str(raw).map_err(|_| {
                format!(
                    "expected {} (as JSON), found `{raw}`",
                    crate::suggest::a(&format!("`{ty}`"))
                )
            })?;
            let fits = match (base, &value) {
                (Type::Int, v) => v.is_i64(),
                (Type::Float, v) => v.is_number(),
                (Type::Bool, v) => v.is_boolean(),
                _ => true,
            };
            if fits {
                Ok(value)
            } else {
                Err(format!(
                    "expected {}, found `{raw}`",
                    crate::suggest::a(&format!("`{ty}`"))
                ))
            }
        }
    }
}

fn parse_duration(raw: &str) -> Option<u64> {
    let raw = raw.trim();
    let (digits, unit) = raw.split_at(raw.find(|c: char| c.is_ascii_alphabetic())?);
    let n: f64 = digits.parse().ok()?;
    let factor = match unit {
        "ms" => 1.0,
        "s" => 1000.0,
        "m" => 60_000.0,
        "h" => 3_600_000.0,
        _ => return None,
    };
    Some((n * factor) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inputs_are_typed_by_their_parameter() {
        assert_eq!(parse_input(&Type::String, "42"), Ok(Value::from("42")));
        assert_eq!(parse_input(&Type::Int, "42"), Ok(Value::from(42)));
        assert!(parse_input(&Type::Int, "4.5").is_err());
        assert_eq!(parse_input(&Type::Bool, "true"), Ok(Value::Bool(true)));
        assert_eq!(
            parse_input(&Type::Duration, "1.5m"),
            Ok(Value::from(90_000))
        );
        assert_eq!(
            parse_input(&Type::List(Box::new(Type::String)), r#"["a"]"#),
            Ok(serde_json::json!(["a"]))
        );
        assert!(parse_input(&Type::Float, "fast").is_err());
    }
}
