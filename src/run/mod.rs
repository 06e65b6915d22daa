//! Plan → result: the interpreter.
//!
//! [`run`] executes one workflow of a checked, lowered program on a
//! current-thread tokio runtime. Every statement of a block starts at once
//! and waits, through the values it reads ([`eval`]), for the steps it
//! depends on, so independent steps run in parallel and references are the
//! dependencies ([`engine`]). LLM steps are answered by the deterministic
//! [`mock`] provider in this build. The result is a [`record::RunRecord`].

pub mod anthropic;
mod engine;
mod eval;
pub mod events;
mod fetch;
pub mod gemini;
pub mod http;
mod lenient;
pub mod mock;
pub mod ollama;
pub mod openai;
mod person;
pub mod prompt;
pub mod provider;
pub mod record;
pub mod recording;
pub mod resume;
pub mod script;
pub mod sqlite;
pub mod stats;
pub mod store;
mod testing;
pub mod value;

pub use testing::{run_tests, TestOutcome};

use std::collections::HashMap;
use std::time::Instant;

use serde_json::{Map, Value};

use crate::check::program::Program;
use crate::check::Loader;
use crate::plan::Plan;
use record::{Outcome, RunRecord};

/// Why a run stopped before its result.
#[derive(Clone, Debug, PartialEq)]
pub enum Stop {
    /// A step failed for good; the run fails naming it.
    Failed { step: String, error: String },
    /// A step waits for a person.
    Waiting { step: String, question: String },
}

/// What a run may use besides the program.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// Answers to `ask` steps, by step name or id.
    pub answers: HashMap<String, Value>,
    /// Outputs that stand in for steps (a test's `given`), by name or id.
    pub given: HashMap<String, Value>,
    /// Scripted replies and failures for the mock (`--mock-script`).
    pub script: script::Script,
    /// Ask people on the terminal when `answers` has no answer (else the
    /// run waits).
    pub interactive: bool,
    /// Where the run reports its progress.
    pub events: events::Events,
    /// `--mock`: every model answered by the mock, whatever its provider.
    pub mock_all: bool,
    /// `--record FILE`: every model request and answer, appended as sent.
    pub record: Option<std::sync::Arc<recording::Recorder>>,
    /// `--replay FILE`: answers from a recording; nothing is sent.
    pub replay: Option<std::sync::Arc<recording::Replayer>>,
    /// Where each node is journaled as it finishes.
    pub journal: Option<std::sync::Arc<store::Journal>>,
    /// Outputs of nodes that completed before a resume, by id, in
    /// completion order: they are not run again.
    pub resumed: HashMap<String, Vec<Value>>,
    /// Answers given with `spesc approve`, by step id: each answers one
    /// wait (unlike `answers`, which answer every time).
    pub approvals: HashMap<String, Value>,
}

/// Runs `workflow` of a compiled program (which must have a plan) with
/// `inputs` (typed by [`parse_input`]; defaults are filled in).
pub fn run(
    compiled: &crate::check::Compiled,
    loader: &dyn Loader,
    workflow: &str,
    inputs: Map<String, Value>,
    options: &RunOptions,
) -> Option<RunRecord> {
    let plan = compiled.plan.as_ref()?;
    Some(run_program(
        &compiled.program,
        plan,
        loader,
        workflow,
        inputs,
        options,
    ))
}

/// A command-line input as a value of the parameter's type (as the plan
/// prints it): `string` takes the text as it is, other types read it as
/// JSON (`3`, `true`, `["a", "b"]`); a duration may be written `30s`.
pub fn parse_input(ty: &str, raw: &str) -> Result<Value, String> {
    let base = ty.trim_end_matches('?');
    match base {
        "string" => Ok(Value::String(raw.to_string())),
        "duration" => parse_duration(raw)
            .map(Value::from)
            .ok_or_else(|| format!("expected a duration like `30s`, found `{raw}`")),
        _ => {
            let value: Value = serde_json::from_str(raw)
                .map_err(|_| format!("expected a `{ty}` (as JSON), found `{raw}`"))?;
            let fits = match (base, &value) {
                ("int", v) => v.is_i64(),
                ("float", v) => v.is_number(),
                ("bool", v) => v.is_boolean(),
                _ => true,
            };
            if fits {
                Ok(value)
            } else {
                Err(format!("expected a `{ty}`, found `{raw}`"))
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

fn run_program(
    program: &Program,
    plan: &Plan,
    loader: &dyn Loader,
    workflow: &str,
    inputs: Map<String, Value>,
    options: &RunOptions,
) -> RunRecord {
    let started = Instant::now();
    let max_concurrency = plan
        .workflows
        .iter()
        .find(|w| w.name == workflow)
        .map_or(crate::plan::defaults::MAX_CONCURRENCY, |w| {
            w.max_concurrency
        });
    let engine = engine::Engine::new(program, plan, loader, options, max_concurrency as usize);
    options.events.send(events::Event::RunStarted {
        workflow,
        plan_hash: &plan.hash,
        steps: plan
            .workflows
            .iter()
            .find(|w| w.name == workflow)
            .map_or(0, |w| w.nodes.len()),
    });
    let outcome = match tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .enable_io()
        .build()
    {
        Ok(runtime) => runtime.block_on(async {
            let inputs = match engine.with_defaults(workflow, inputs.clone()).await {
                Ok(inputs) => inputs,
                Err(_) => inputs.clone(),
            };
            let deadline = plan
                .workflows
                .iter()
                .find(|w| w.name == workflow)
                .and_then(|w| w.deadline_ms);
            let result = match deadline {
                Some(ms) => tokio::time::timeout(
                    std::time::Duration::from_millis(ms),
                    engine.run_workflow(workflow, inputs),
                )
                .await
                .unwrap_or_else(|_| {
                    Err(Stop::Failed {
                        step: workflow.to_string(),
                        error: format!("the workflow's deadline of {ms} ms passed"),
                    })
                }),
                None => engine.run_workflow(workflow, inputs).await,
            };
            if matches!(result, Err(Stop::Failed { .. })) {
                engine.compensate().await;
            }
            result
        }),
        Err(e) => Err(Stop::Failed {
            step: workflow.to_string(),
            error: format!("cannot start the runtime: {e}"),
        }),
    };
    let record = RunRecord {
        id: String::new(),
        workflow: workflow.to_string(),
        plan_hash: plan.hash.clone(),
        inputs: Value::Object(inputs),
        outcome: match outcome {
            Ok(output) => Outcome::Succeeded { output },
            Err(Stop::Failed { step, error }) => Outcome::Failed { step, error },
            Err(Stop::Waiting { step, question }) => Outcome::Waiting { step, question },
        },
        duration_ms: started.elapsed().as_millis() as u64,
        totals: record::Totals::default(),
        steps: engine.steps.into_inner(),
    };
    let record = RunRecord {
        totals: record::Totals::of(&record.steps),
        ..record
    };
    options.events.send(events::Event::RunFinished {
        outcome: &record.outcome,
        duration_ms: record.duration_ms,
    });
    record
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inputs_are_typed_by_their_parameter() {
        assert_eq!(parse_input("string", "42"), Ok(Value::from("42")));
        assert_eq!(parse_input("int", "42"), Ok(Value::from(42)));
        assert!(parse_input("int", "4.5").is_err());
        assert_eq!(parse_input("bool", "true"), Ok(Value::Bool(true)));
        assert_eq!(parse_input("duration", "1.5m"), Ok(Value::from(90_000)));
        assert_eq!(
            parse_input("string[]", r#"["a"]"#),
            Ok(serde_json::json!(["a"]))
        );
        assert!(parse_input("float", "fast").is_err());
    }
}
