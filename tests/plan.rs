//! Lowering: every example lowers to a plan (text and Mermaid snapshots),
//! ids are stable, defaults are written out, fallback chains are flattened,
//! and the plan hash tracks the plan, not the formatting.

// A test fails by panicking; `expect` says where and why.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::path::Path;

use spesc::check::{self, Loader, NoFiles};
use spesc::plan::{draw, text, Backoff, NodeKind, Plan};
use spesc::source::SourceMap;

/// Reads imports and component files from the repository.
struct Files;

impl Loader for Files {
    fn read(&self, path: &Path) -> Result<(String, String), String> {
        let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
        Ok((path.display().to_string(), text))
    }
}

fn plan_of_file(path: &Path) -> Plan {
    let text = std::fs::read_to_string(path).expect("readable");
    let mut sources = SourceMap::new();
    let file = sources.add(path.display().to_string(), text);
    let (plan, diagnostics) = check::plan(
        &mut sources,
        &[(file, path.into())],
        &Files,
        &Default::default(),
    );
    plan.unwrap_or_else(|| panic!("{}: {diagnostics:?}", path.display()))
}

fn plan_of(text: &str) -> Plan {
    let mut sources = SourceMap::new();
    let file = sources.add("t.spes", text);
    let (plan, diagnostics) = check::plan(
        &mut sources,
        &[(file, "t.spes".into())],
        &NoFiles,
        &Default::default(),
    );
    plan.unwrap_or_else(|| panic!("{diagnostics:?}"))
}

#[test]
fn every_example_lowers() {
    insta::glob!("../examples", "*.spes", |path| {
        let plan = plan_of_file(path);
        insta::assert_snapshot!("text", text::render(&plan));
        insta::assert_snapshot!("mermaid", draw::mermaid(&plan));
    });
}

#[test]
fn dot_draws_branches_as_clusters() {
    let plan = plan_of_file(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/complexity_routing.spes"),
    );
    insta::assert_snapshot!(draw::dot(&plan));
}

const ROUTED: &str = r#"
model fast { provider = openai  name = "gpt-4o-mini" }
model strong { provider = anthropic  name = "claude-sonnet-4-20250514" }
model local { provider = ollama  name = "qwen3" }
retry patient { attempts = 5  backoff = constant(2s)  jitter = none  on = [rate_limit] }
agent reviewer { persona = be_kind  model = strong | local }
component be_kind = "Be kind."

enum Size { small, large }

workflow w(text: string) -> string {
  deadline = 10m
  default model = fast | local
  step size: Size { prompt = "Size of {{ text }}?" }
  let answer: string = match size {
    small => {
      step quick: string { prompt = "Answer {{ text }}"  retry = patient  timeout = 5s }
      quick
    }
    large => {
      step careful: string { agent = reviewer  prompt = "Answer {{ text }} with care" }
      careful
    }
  }
  step check_it: ExecResult = exec { command = ["true"] }
  step polish: string { prompt = "Polish {{ answer }}"  after = [check_it]  when len(text) > 3 }
  return polish ?? answer
}
"#;

#[test]
fn ids_say_where_a_step_lives() {
    let plan = plan_of(ROUTED);
    let ids: Vec<&str> = plan.workflows[0]
        .nodes
        .iter()
        .map(|n| n.id.as_str())
        .collect();
    assert_eq!(
        ids,
        [
            "size",
            "answer",
            "answer.small.quick",
            "answer.large.careful",
            "check_it",
            "polish"
        ]
    );
    let answer = &plan.workflows[0].nodes[1];
    assert_eq!(answer.kind, NodeKind::Let);
    assert_eq!(answer.deps, ["size"]);
    assert_eq!(answer.matches.as_deref(), Some("size"));
    let polish = &plan.workflows[0].nodes[5];
    assert_eq!(polish.deps, ["answer"]);
    assert_eq!(polish.after, ["check_it"]);
    assert_eq!(polish.guard.as_deref(), Some("len(text) > 3"));
}

#[test]
fn defaults_are_written_out_and_chains_flattened() {
    let plan = plan_of(ROUTED);
    let w = &plan.workflows[0];
    assert_eq!(w.deadline_ms, Some(600_000));
    assert_eq!(w.max_concurrency, 8);
    let node = |id: &str| w.nodes.iter().find(|n| n.id == id).expect("node exists");

    // The workflow's default model chain, flattened with providers.
    let size = node("size");
    let models: Vec<(&str, &str)> = size
        .attempts
        .iter()
        .map(|a| (a.model.as_str(), a.provider.as_str()))
        .collect();
    assert_eq!(models, [("fast", "openai"), ("local", "ollama")]);
    let policy = size.policy.as_ref().expect("a step has a policy");
    assert_eq!(policy.retry.attempts, 3);
    assert_eq!(
        policy.retry.backoff,
        Backoff::Exponential {
            base_ms: 1000,
            factor: 2.0,
            max_ms: 60_000
        }
    );
    assert_eq!(policy.retry.jitter, "full");
    assert_eq!(policy.timeout_ms, Some(60_000));
    assert_eq!(policy.context, "fresh");

    // A named policy and a timeout of its own.
    let quick = node("answer.small.quick").policy.as_ref().expect("policy");
    assert_eq!(quick.retry.policy.as_deref(), Some("patient"));
    assert_eq!(quick.retry.attempts, 5);
    assert_eq!(quick.retry.backoff, Backoff::Constant { delay_ms: 2000 });
    assert_eq!(quick.retry.on, ["rate_limit"]);
    assert_eq!(quick.timeout_ms, Some(5000));

    // An agent's model chain wins over the workflow default.
    let careful = node("answer.large.careful");
    assert_eq!(careful.agent.as_deref(), Some("reviewer"));
    let models: Vec<&str> = careful.attempts.iter().map(|a| a.model.as_str()).collect();
    assert_eq!(models, ["strong", "local"]);

    // Local commands are not retried unless asked.
    let exec = node("check_it").policy.as_ref().expect("policy");
    assert_eq!(exec.retry.attempts, 1);
}

#[test]
fn the_hash_follows_the_plan_not_the_formatting() {
    let base = plan_of(ROUTED).hash;
    let reformatted = ROUTED.replace("  step size", "  // a comment\n  step  size");
    assert_eq!(plan_of(&reformatted).hash, base);
    let changed = ROUTED.replace("timeout = 5s", "timeout = 6s");
    assert_ne!(plan_of(&changed).hash, base);
    assert!(base.starts_with("fnv1a64:"), "{base}");
}

#[test]
fn a_file_with_errors_has_no_plan() {
    let mut sources = SourceMap::new();
    let file = sources.add("bad.spes", "workflow w() -> string { return nope }");
    let (plan, diagnostics) = check::plan(
        &mut sources,
        &[(file, "bad.spes".into())],
        &NoFiles,
        &Default::default(),
    );
    assert!(plan.is_none());
    assert_eq!(diagnostics[0].code.as_str(), "E0101");
}
