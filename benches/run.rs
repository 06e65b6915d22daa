//! Interpreter overhead with the mock provider: a 1,000-step chain (with
//! and without the SQLite journal) and a 10,000-item `for`, per step.
//! `cargo bench --bench run`; the figures go to `docs/benchmarks.md`
//! (targets: at most 50 µs per step; the journaled chain at most 2× the
//! chain without).

// A benchmark fails by panicking, like a test.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Map, Value};
use spesc::journal::record::Outcome;
use spesc::journal::Journal;
use spesc::runtime::{run, RunOptions};

fn chain(steps: usize) -> String {
    let mut text = String::from(
        "model fast { provider = mock }\n\nworkflow chain(topic: string) -> string {\n  \
         step s0: string { model = fast  prompt = \"Start on {{ topic }}\" }\n",
    );
    for i in 1..steps {
        text.push_str(&format!(
            "  step s{i}: string {{ model = fast  prompt = \"Improve: {{{{ s{} }}}}\" }}\n",
            i - 1
        ));
    }
    text.push_str(&format!("  return s{}\n}}\n", steps - 1));
    text
}

const FAN_OUT: &str = "model fast { provider = mock }

workflow fan(items: int[]) -> int {
  let results: string[] = for item in items (concurrency = 64) {
    step summary: string { model = fast  prompt = \"Summarize item {{ item }}\" }
    summary
  }
  return len(results)
}
";

fn time(text: &str, workflow: &str, inputs: Value, runs: usize) -> Duration {
    time_with(text, workflow, inputs, runs, || None)
}

fn time_with(
    text: &str,
    workflow: &str,
    inputs: Value,
    runs: usize,
    journal: impl Fn() -> Option<Arc<Journal>>,
) -> Duration {
    let plan = support::plan(text);
    let Value::Object(inputs) = inputs else {
        unreachable!()
    };
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let options = RunOptions {
                journal: journal(),
                ..RunOptions::default()
            };
            let start = Instant::now();
            let record = run(&plan, workflow, inputs.clone(), &options);
            assert!(
                matches!(record.outcome, Outcome::Succeeded { .. }),
                "{:?}",
                record.outcome
            );
            start.elapsed()
        })
        .collect();
    times.sort();
    times[runs / 2]
}

fn main() {
    let runs = if std::env::args().any(|a| a == "--bench") {
        11
    } else {
        1
    };
    let chain_text = chain(1_000);
    let chain_time = time(&chain_text, "chain", json!({"topic": "bench"}), runs);
    println!(
        "1,000-step chain: {:.1} ms, {:.1} µs per step",
        chain_time.as_secs_f64() * 1e3,
        chain_time.as_secs_f64() * 1e6 / 1000.0
    );
    let journaled = time_with(
        &chain_text,
        "chain",
        json!({"topic": "bench"}),
        runs,
        || Some(support::journal("chain")),
    );
    println!(
        "1,000-step chain, journaled: {:.1} ms, {:.1} µs per step ({:.1}× the chain without)",
        journaled.as_secs_f64() * 1e3,
        journaled.as_secs_f64() * 1e6 / 1000.0,
        journaled.as_secs_f64() / chain_time.as_secs_f64()
    );
    let items: Vec<Value> = (0..10_000).map(Value::from).collect();
    let mut inputs = Map::new();
    inputs.insert("items".to_string(), Value::Array(items));
    let fan_time = time(FAN_OUT, "fan", Value::Object(inputs), runs);
    println!(
        "10,000-item for: {:.1} ms, {:.1} µs per item",
        fan_time.as_secs_f64() * 1e3,
        fan_time.as_secs_f64() * 1e6 / 10_000.0
    );
}
