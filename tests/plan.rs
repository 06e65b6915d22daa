//! Lowering: every example lowers to a plan (text and Mermaid snapshots),
//! ids are stable, defaults are written out, fallback chains are flattened,
//! and the plan hash tracks the plan, not the formatting.

// A test fails by panicking; `expect` says where and why.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::path::Path;

use spesc::check::{Loader, NoFiles};
use spesc::lang::policy::{Backoff, ErrorClass, Jitter};
use spesc::plan::{compile, draw, text, Action, Context, Node, NodeKind, Plan, Workflow};
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
    let compiled = compile(
        &mut sources,
        &[(file, path.into())],
        &Files,
        &Default::default(),
    );
    compiled
        .plan
        .unwrap_or_else(|| panic!("{}: {:?}", path.display(), compiled.diagnostics))
}

fn plan_of(text: &str) -> Plan {
    let mut sources = SourceMap::new();
    let file = sources.add("t.spes", text);
    let compiled = compile(
        &mut sources,
        &[(file, "t.spes".into())],
        &NoFiles,
        &Default::default(),
    );
    compiled
        .plan
        .unwrap_or_else(|| panic!("{:?}", compiled.diagnostics))
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

/// The node with plan id `id`.
fn node<'w>(w: &'w Workflow, id: &str) -> &'w Node {
    w.node(w.find(id).unwrap_or_else(|| panic!("no node `{id}`")))
}

/// The plan ids of a list of nodes.
fn ids(w: &Workflow, nodes: &[spesc::plan::NodeId]) -> Vec<String> {
    nodes.iter().map(|n| w.node(*n).id.clone()).collect()
}

#[test]
fn ids_say_where_a_step_lives() {
    let plan = plan_of(ROUTED);
    let w = &plan.workflows[0];
    let all: Vec<&str> = w.nodes.iter().map(|n| n.id.as_str()).collect();
    assert_eq!(
        all,
        [
            "size",
            "answer",
            "answer.small.quick",
            "answer.large.careful",
            "check_it",
            "polish"
        ]
    );
    let answer = node(w, "answer");
    assert_eq!(answer.kind(), NodeKind::Let);
    assert_eq!(ids(w, &answer.deps), ["size"]);
    assert!(matches!(
        &answer.action,
        Action::Let {
            value: spesc::plan::Expr::Match { .. }
        }
    ));
    let polish = node(w, "polish");
    assert_eq!(ids(w, &polish.deps), ["answer"]);
    assert_eq!(ids(w, &polish.after), ["check_it"]);
    let guard = polish.guard.as_ref().expect("a guard");
    let print = spesc::plan::print::Printer {
        plan: &plan,
        workflow: w,
    };
    assert_eq!(print.expr(guard), "len(text) > 3");
}

#[test]
fn defaults_are_written_out_and_chains_flattened() {
    let plan = plan_of(ROUTED);
    let w = &plan.workflows[0];
    assert_eq!(w.deadline_ms, Some(600_000));
    assert_eq!(w.max_concurrency, None, "no cap unless one is written");
    let llm = |id: &str| match &node(w, id).action {
        Action::Llm(llm) => llm.clone(),
        other => panic!("{id} is {:?}", other.kind()),
    };

    // The workflow's default model chain, flattened with providers.
    let size = llm("size");
    let models: Vec<(&str, &str, u64)> = size
        .models
        .iter()
        .map(|a| {
            let m = plan.model(a.model);
            (m.name.as_str(), m.provider.as_str(), a.timeout_ms)
        })
        .collect();
    assert_eq!(
        models,
        [("fast", "openai", 60_000), ("local", "ollama", 60_000)]
    );
    let policy = node(w, "size")
        .policy
        .as_ref()
        .expect("a step has a policy");
    assert_eq!(policy.retry.attempts, 3);
    assert_eq!(
        policy.retry.backoff,
        Backoff::Exponential {
            base_ms: 1000,
            factor: 2.0,
            max_ms: 60_000
        }
    );
    assert_eq!(policy.retry.jitter, Jitter::Full);
    assert_eq!(policy.retry.on, ErrorClass::ALL);
    assert_eq!(size.context, Context::Fresh);

    // A named policy and a timeout of its own.
    let quick = node(w, "answer.small.quick")
        .policy
        .as_ref()
        .expect("policy");
    assert_eq!(quick.retry.policy.as_deref(), Some("patient"));
    assert_eq!(quick.retry.attempts, 5);
    assert_eq!(quick.retry.backoff, Backoff::Constant { delay_ms: 2000 });
    assert_eq!(quick.retry.on, [ErrorClass::RateLimit]);
    assert_eq!(llm("answer.small.quick").models[0].timeout_ms, 5000);

    // An agent's model chain wins over the workflow default.
    let careful = llm("answer.large.careful");
    assert_eq!(
        careful.agent.as_ref().map(|a| a.name.as_str()),
        Some("reviewer")
    );
    let models: Vec<&str> = careful
        .models
        .iter()
        .map(|a| plan.model(a.model).name.as_str())
        .collect();
    assert_eq!(models, ["strong", "local"]);

    // Local commands are not retried unless asked, and have a time limit.
    let exec = node(w, "check_it").policy.as_ref().expect("policy");
    assert_eq!(exec.retry.attempts, 1);
    assert_eq!(exec.timeout_ms, Some(60_000));
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
fn a_nodes_fingerprint_follows_what_it_does_not_where_it_is() {
    let base = plan_of(ROUTED);
    let print = |plan: &Plan, id: &str| node(&plan.workflows[0], id).fingerprint.clone();
    // A step added before it moves every index; the fingerprint stays.
    let moved = plan_of(&ROUTED.replace(
        "  step size: Size",
        "  step first: ExecResult = exec { command = [\"true\"] }\n  step size: Size",
    ));
    for id in ["size", "answer", "answer.small.quick", "polish"] {
        assert_eq!(print(&moved, id), print(&base, id), "{id}");
    }
    // A model setting changes every node that calls the model.
    let hotter = plan_of(&ROUTED.replace(
        "model fast { provider = openai",
        "model fast { temperature = 0.9  provider = openai",
    ));
    assert_ne!(print(&hotter, "size"), print(&base, "size"));
    assert_eq!(print(&hotter, "check_it"), print(&base, "check_it"));
    // So does a component's text, for the agent that uses it.
    let kinder = plan_of(&ROUTED.replace("\"Be kind.\"", "\"Be very kind.\""));
    assert_ne!(
        print(&kinder, "answer.large.careful"),
        print(&base, "answer.large.careful")
    );
    assert_eq!(print(&kinder, "size"), print(&base, "size"));
}

#[test]
fn a_plan_reads_back_from_its_json() {
    for name in [
        "complexity_routing.spes",
        "debate.spes",
        "composition.spes",
        "map_reduce.spes",
    ] {
        let plan = plan_of_file(
            &Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("examples")
                .join(name),
        );
        let back = Plan::from_json(&plan.to_json()).expect("its own JSON");
        assert_eq!(back, plan, "{name}");
        assert_eq!(back.hash, plan.hash);
    }
    assert!(Plan::from_json("{}").is_err());
    let plan = plan_of_file(&Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/hello.spes"));
    let mut old: serde_json::Value = serde_json::from_str(&plan.to_json()).unwrap();
    old["schema"] = 1.into();
    let refused = Plan::from_json(&old.to_string()).unwrap_err();
    assert!(refused.contains("a plan of schema 1"), "{refused}");
}

#[test]
fn a_called_workflows_nodes_resolve_through_the_call() {
    let plan = plan_of(
        "model m { provider = mock }
workflow inner(x: string) -> string {
  step s: string { model = m  prompt = \"{{ x }}\" }
  return s
}
workflow outer() -> string {
  step t: string = call inner(x = \"a\")
  return t
}",
    );
    let outer = plan.find("outer").expect("outer");
    let inner = plan.find("inner").expect("inner");
    let (w, n) = spesc::plan::instance::resolve(&plan, outer, "t/s").expect("through the call");
    assert_eq!(w, inner);
    assert_eq!(plan.workflow(w).node(n).id, "s");
    assert!(spesc::plan::instance::resolve(&plan, outer, "s").is_none());
}

#[test]
fn a_file_with_errors_has_no_plan() {
    let mut sources = SourceMap::new();
    let file = sources.add("bad.spes", "workflow w() -> string { return nope }");
    let compiled = compile(
        &mut sources,
        &[(file, "bad.spes".into())],
        &NoFiles,
        &Default::default(),
    );
    assert!(compiled.plan.is_none());
    assert_eq!(compiled.diagnostics[0].code.as_str(), "E0101");
}
