//! The interpreter, offline: every example runs with the mock provider,
//! and each construct behaves as `docs/language.md` says (through the
//! library API, so no run records are written into the repository).

// A test fails by panicking; `expect` says where and why.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod support;

use std::collections::HashMap;
use std::path::Path;

use serde_json::{json, Map, Value};
use spesc::journal::record::{Outcome, RunRecord, StepStatus};
use spesc::plan::{compile, Plan};
use spesc::runtime::{run, RunOptions};
use spesc::source::SourceMap;
use support::run::{failure, output, run_text, Files};

fn status(record: &RunRecord, id: &str) -> Option<StepStatus> {
    record.steps.iter().find(|s| s.id == id).map(|s| s.status)
}

/// Every example runs to success with the mock provider. Two need a world
/// around them and have their own tests below: the fetch example (an HTTP
/// server) and the release saga (a git project with release scripts).
#[test]
fn every_example_runs_offline() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let answers: HashMap<String, Value> = ["verdict", "approval", "sign_off"]
        .iter()
        .map(|k| {
            (
                k.to_string(),
                json!({"decision": "approve", "comment": "fine"}),
            )
        })
        .collect();
    let mut ran = 0;
    for entry in std::fs::read_dir(&dir).expect("examples").flatten() {
        let path = entry.path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if !name.ends_with(".spes") || name.starts_with("fetch_") || name.starts_with("saga_") {
            // Run by their own tests below, in the world they need.
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("readable");
        let mut sources = SourceMap::new();
        let file = sources.add(name.clone(), text);
        let compiled = compile(
            &mut sources,
            &[(file, path.clone())],
            &Files,
            &Default::default(),
        );
        let plan = compiled.plan.as_ref().expect("examples check clean");
        for workflow in plan.root_workflows() {
            let params = &plan.workflow(plan.find(workflow).unwrap()).params;
            let inputs: Map<String, Value> = params
                .iter()
                .filter(|p| p.default.is_none())
                .map(|p| (p.name.clone(), sample(&p.ty.to_string())))
                .collect();
            let options = RunOptions {
                answers: answers.clone(),
                mock_all: true,
                ..RunOptions::default()
            };
            let record = run(plan, workflow, inputs, &options);
            assert!(
                matches!(record.outcome, Outcome::Succeeded { .. }),
                "{name} / {workflow}: {:?}",
                record.outcome
            );
            ran += 1;
        }
    }
    assert!(ran >= 15, "ran only {ran} workflows");
}

fn sample(ty: &str) -> Value {
    match ty.trim_end_matches('?') {
        "int" => json!(3),
        "float" => json!(0.5),
        "bool" => json!(true),
        t if t.ends_with("[]") => json!(["first item", "second item"]),
        _ => json!("sample text"),
    }
}

const MODEL: &str = "model fast { provider = mock }\n";

#[test]
fn guards_skip_steps_and_fallbacks_fill_in() {
    let text = format!(
        "{MODEL}workflow w(lang: string) -> string {{
  step t: string {{ model = fast  prompt = \"Translate to {{{{ lang }}}}\"  when lang != \"\" }}
  return t ?? \"untranslated\"
}}"
    );
    let skipped = run_text(&text, "w", json!({"lang": ""}), RunOptions::default());
    assert_eq!(output(&skipped), &json!("untranslated"));
    assert_eq!(status(&skipped, "t"), Some(StepStatus::Skipped));
    let translated = run_text(&text, "w", json!({"lang": "fr"}), RunOptions::default());
    assert_ne!(output(&translated), &json!("untranslated"));
    assert_eq!(status(&translated, "t"), Some(StepStatus::Succeeded));
}

#[test]
fn match_runs_only_the_chosen_arm() {
    let text = format!(
        "{MODEL}enum Size {{ small, large }}
workflow w(text: string) -> string {{
  step size: Size {{ model = fast  prompt = \"Size of {{{{ text }}}}\" }}
  let plan: string = match size {{
    small => {{
      step quick: string {{ model = fast  prompt = \"Quick\" }}
      \"small: \" + quick
    }}
    large => {{
      step slow: string {{ model = fast  prompt = \"Slow\" }}
      \"large: \" + slow
    }}
  }}
  return plan
}}"
    );
    let given = |size: &str| RunOptions {
        given: HashMap::from([("size".to_string(), json!(size))]),
        ..RunOptions::default()
    };
    let small = run_text(&text, "w", json!({"text": "x"}), given("small"));
    assert!(output(&small).as_str().unwrap().starts_with("small: "));
    assert_eq!(
        status(&small, "plan.small.quick"),
        Some(StepStatus::Succeeded)
    );
    assert_eq!(
        status(&small, "plan.large.slow"),
        None,
        "the other arm never runs"
    );
    let large = run_text(&text, "w", json!({"text": "x"}), given("large"));
    assert!(output(&large).as_str().unwrap().starts_with("large: "));
}

#[test]
fn loops_stop_at_until_or_max_and_keep_the_best() {
    let text = format!(
        "{MODEL}type Grade {{ score: float }}
workflow w() -> int {{
  loop refine (max = 4, best_by = grade.score) {{
    step draft: string {{ model = fast  prompt = \"Draft{{% if previous %}} after {{{{ previous.draft }}}}{{% end %}}\" }}
    step grade: Grade {{ model = fast  prompt = \"Grade {{{{ draft }}}}\" }}
    until grade.score > 2.0
  }}
  return refine.iterations
}}"
    );
    let record = run_text(&text, "w", json!({}), RunOptions::default());
    assert_eq!(
        output(&record),
        &json!(4),
        "never converges: runs max times"
    );
}

#[test]
fn fan_out_collects_results_and_tolerates_some_failures() {
    let text = "workflow w(codes: int[]) -> int[] {
  let results: int[] = for c in codes (concurrency = 2, tolerate = 34%) {
    step probe: ExecResult = exec { command = [\"sh\", \"-c\", \"exit {{ c }}\"] } {
      check this.code == 0 else \"probe failed\"
    }
    probe.code
  }
  return results
}";
    let within = run_text(
        text,
        "w",
        json!({"codes": [0, 0, 1]}),
        RunOptions::default(),
    );
    assert_eq!(
        output(&within),
        &json!([0, 0]),
        "the failed item is dropped"
    );
    let above = run_text(
        text,
        "w",
        json!({"codes": [0, 1, 1]}),
        RunOptions::default(),
    );
    match &above.outcome {
        Outcome::Failed { step, error } => {
            assert_eq!(step, "results.each[1].probe");
            assert!(error.contains("2 of 3 items failed"), "{error}");
        }
        other => panic!("expected a failure, got {other:?}"),
    }
}

#[test]
fn exec_passes_stdin_and_captures_output_without_a_shell() {
    let text = "workflow w(text: string) -> string {
  step up: ExecResult = exec { command = [\"tr\", \"a-z\", \"A-Z\"]  stdin = text }
  step literal: ExecResult = exec { command = [\"echo\", \"$HOME; ls\"] }
  return up.stdout + literal.stdout
}";
    let record = run_text(text, "w", json!({"text": "shout"}), RunOptions::default());
    assert_eq!(output(&record), &json!("SHOUT$HOME; ls\n"));
}

#[test]
fn an_exec_of_another_type_reads_its_output_as_that_type() {
    let text = r#"type Analysis { score: int  verdict: Verdict }
enum Verdict { pass, fail }
workflow w() -> Analysis {
  step a: Analysis = exec { command = ["printf", "Result:\n```json\n{score: '12,111', verdict: 'PASS',}\n```\n"] }
  return a
}"#;
    let record = run_text(text, "w", json!({}), RunOptions::default());
    assert_eq!(output(&record), &json!({"score": 12111, "verdict": "pass"}));
    let a = record.steps.iter().find(|s| s.id == "a").unwrap();
    assert_eq!(
        a.repairs,
        [
            "code fence stripped",
            "prose around the JSON removed",
            "single quotes replaced",
            "trailing comma removed",
            "unquoted keys quoted",
            "\"12,111\" read as a number",
            "enum name `PASS` read as `pass`"
        ]
    );
    let failing = r#"type Analysis { score: int }
workflow w() -> Analysis {
  step a: Analysis = exec { command = ["sh", "-c", "echo '{\"score\": 1}'; echo broken >&2; exit 3"] }
  return a
}"#;
    let record = run_text(failing, "w", json!({}), RunOptions::default());
    let error = failure(&record);
    assert!(
        error.contains("the command exited with code 3: broken"),
        "{error}"
    );
}

#[test]
fn a_timed_out_command_fails_and_on_error_degrades() {
    let text = "workflow w() -> string {
  step slow: ExecResult = exec { command = [\"sleep\", \"5\"]  timeout = 100ms }
  step safe: ExecResult = exec { command = [\"sleep\", \"5\"]  timeout = 100ms } {
    on_error = { code: -1, stdout: \"skipped\", stderr: \"\" }
  }
  return safe.stdout + slow.stdout
}";
    let record = run_text(text, "w", json!({}), RunOptions::default());
    assert_eq!(status(&record, "safe"), Some(StepStatus::Degraded));
    match &record.outcome {
        Outcome::Failed { step, error } => {
            assert_eq!(step, "slow");
            assert!(error.contains("timed out after 100 ms"), "{error}");
        }
        other => panic!("expected a failure, got {other:?}"),
    }
}

#[test]
fn checks_are_retried_then_fail_with_their_message() {
    let text = format!(
        "{MODEL}workflow w() -> string {{
  step never: string {{ model = fast  prompt = \"Hi\"  check len(this) < 0 else \"impossible\" }}
  return never
}}"
    );
    let record = run_text(&text, "w", json!({}), RunOptions::default());
    let step = record.steps.iter().find(|s| s.id == "never").unwrap();
    assert_eq!(step.attempts, 3, "the default policy tries three times");
    match &record.outcome {
        Outcome::Failed { error, .. } => assert_eq!(error, "check failed: impossible"),
        other => panic!("expected a failure, got {other:?}"),
    }
}

#[test]
fn the_mock_follows_negated_checks_and_quotes_the_prompt() {
    let text = format!(
        "{MODEL}workflow w(name: string) -> string {{
  step greet: string {{
    model = fast
    prompt = \"Greet {{{{ name }}}} without saying model.\"
    check not contains(this, \"model\") else \"it says model\"
    check this != \"hello\" else \"too short\"
    check not matches(this, \"stands\") else \"it stands\"
  }}
  return greet
}}"
    );
    let record = run_text(&text, "w", json!({"name": "Ada"}), RunOptions::default());
    let reply = output(&record)
        .as_str()
        .expect("a string result")
        .to_string();
    assert!(reply.contains("Greet Ada without saying"), "{reply}");
    assert!(
        !reply.contains("model") && !reply.contains("stands"),
        "{reply}"
    );
    let step = record.steps.iter().find(|s| s.id == "greet").unwrap();
    assert_eq!(step.attempts, 1, "the first reply passes every check");
}

#[test]
fn ask_options_limit_the_answers() {
    let text = format!(
        "{MODEL}workflow w() -> string {{
  step draft: string {{ model = fast  prompt = \"Draft\" }}
  step approval: Review = ask {{ show = draft  question = \"Ok?\"  options = [approve, reject] }}
  return approval.comment ?? \"none\"
}}"
    );
    let answered = |decision: &str| {
        let options = RunOptions {
            answers: HashMap::from([(
                "approval".to_string(),
                json!({"decision": decision, "comment": "fine"}),
            )]),
            ..RunOptions::default()
        };
        run_text(&text, "w", json!({}), options)
    };
    assert_eq!(output(&answered("approve")), &json!("fine"));
    let refused = answered("revise");
    assert_eq!(
        support::run::failure(&refused),
        "the answer for `approval` does not fit: `revise` is not one of the options offered: `approve` or `reject`"
    );
}

#[test]
fn ask_is_answered_or_waits() {
    let text = "workflow w(draft: string) -> string {
  step approval: Review = ask { show = draft  question = \"Publish?\" }
  return if approval.decision == approve { draft } else { \"held\" }
}";
    let answered = run_text(
        text,
        "w",
        json!({"draft": "v1"}),
        RunOptions {
            answers: HashMap::from([("approval".to_string(), json!({"decision": "Approve"}))]),
            ..RunOptions::default()
        },
    );
    assert_eq!(output(&answered), &json!("v1"));
    let waiting = run_text(text, "w", json!({"draft": "v1"}), RunOptions::default());
    match &waiting.outcome {
        Outcome::Waiting { step, question } => {
            assert_eq!(step, "approval");
            assert_eq!(question, "Publish?");
        }
        other => panic!("expected waiting, got {other:?}"),
    }
}

#[test]
fn calls_run_the_other_workflow_with_its_defaults() {
    let text = "workflow greet(name: string, greeting: string = \"Hello\") -> string {
  let line = greeting + \", \" + name
  return line
}
workflow w() -> string {
  step g: string = call greet(name = \"Ada\")
  return g
}";
    let record = run_text(text, "w", json!({}), RunOptions::default());
    assert_eq!(output(&record), &json!("Hello, Ada"));
}

#[test]
fn retries_wait_their_backoff_and_only_for_listed_classes() {
    let text = format!(
        "{MODEL}retry patient {{ attempts = 3  backoff = constant(60ms)  jitter = none  on = [invalid_output] }}
retry timeouts_only {{ attempts = 3  backoff = constant(60ms)  jitter = none  on = [timeout] }}
workflow w() -> string {{
  step a: string {{ model = fast  prompt = \"A\"  retry = patient  check len(this) < 0 else \"never\" }}
  step b: string {{ model = fast  prompt = \"B\"  retry = timeouts_only  check len(this) < 0 else \"never\" }}
  return a + b
}}"
    );
    let started = std::time::Instant::now();
    let record = run_text(&text, "w", json!({}), RunOptions::default());
    let attempts = |id: &str| record.steps.iter().find(|s| s.id == id).unwrap().attempts;
    assert_eq!(attempts("a"), 3);
    assert_eq!(
        attempts("b"),
        1,
        "a failed check is not a timeout: no retry"
    );
    assert!(
        started.elapsed() >= std::time::Duration::from_millis(120),
        "two waits of 60 ms"
    );
}

#[test]
fn deadlines_end_a_step_and_a_workflow() {
    let step = "workflow w() -> string {
  step slow: ExecResult = exec { command = [\"sleep\", \"5\"] } { deadline = 150ms }
  return slow.stdout
}";
    let record = run_text(step, "w", json!({}), RunOptions::default());
    match &record.outcome {
        Outcome::Failed { step, error } => {
            assert_eq!(step, "slow");
            assert_eq!(error, "its deadline of 150 ms passed");
        }
        other => panic!("expected a failure, got {other:?}"),
    }
    let workflow = "workflow w() -> string {
  deadline = 150ms
  step slow: ExecResult = exec { command = [\"sleep\", \"5\"] }
  return slow.stdout
}";
    let record = run_text(workflow, "w", json!({}), RunOptions::default());
    assert!(
        matches!(&record.outcome, Outcome::Failed { error, .. } if error.contains("workflow's deadline")),
        "{:?}",
        record.outcome
    );
}

#[test]
fn a_failed_run_compensates_in_reverse_completion_order() {
    let log = std::env::temp_dir().join(format!("spesc-saga-{}.log", std::process::id()));
    let _ = std::fs::remove_file(&log);
    let text = "workflow w(log: string) -> string {
  step first: ExecResult = exec { command = [\"true\"] } {
    compensate = exec { command = [\"sh\", \"-c\", \"echo undo-first >> {{ log }}\"] }
  }
  step second: ExecResult = exec { command = [\"true\"] } {
    after = [first]
    compensate = exec { command = [\"sh\", \"-c\", \"echo undo-second >> {{ log }}\"] }
  }
  step boom: ExecResult = exec { command = [\"false\"] } {
    after = [second]
    check this.code == 0 else \"boom\"
  }
  return boom.stdout
}";
    let record = run_text(
        text,
        "w",
        json!({"log": log.display().to_string()}),
        RunOptions::default(),
    );
    assert!(matches!(&record.outcome, Outcome::Failed { step, .. } if step == "boom"));
    let undone = std::fs::read_to_string(&log).expect("compensations ran");
    assert_eq!(undone, "undo-second\nundo-first\n");
    assert_eq!(
        status(&record, "second.compensate"),
        Some(StepStatus::Compensated)
    );
    let _ = std::fs::remove_file(&log);
}

// ---- failure paths, driven by a mock script ---------------------------------------------

fn scripted(script: &str) -> RunOptions {
    RunOptions {
        script: spesc::providers::script::Script::parse(script).expect("a valid script"),
        ..RunOptions::default()
    }
}

const TWO_MODELS: &str =
    "model first { provider = mock  breaker = { failures = 2, cooldown = 300ms } }
model second { provider = mock }
type Facts { count: int }
";

#[test]
fn a_rate_limit_waits_for_retry_after_then_succeeds() {
    let text = format!(
        "{TWO_MODELS}workflow w() -> string {{
  step s: string {{ model = first  prompt = \"Hi\" }}
  return s
}}"
    );
    let started = std::time::Instant::now();
    let record = run_text(
        &text,
        "w",
        json!({}),
        scripted(r#"{"s": [{"status": 429, "retry_after": 0.3}, {"text": "hello"}]}"#),
    );
    assert_eq!(output(&record), &json!("hello"));
    assert!(
        started.elapsed() >= std::time::Duration::from_millis(300),
        "Retry-After honoured"
    );
    let step = record.steps.iter().find(|s| s.id == "s").unwrap();
    assert_eq!(step.attempts, 2);
    assert_eq!(
        step.retried,
        ["model `first` (mock): rate limited (retry after 300 ms)"]
    );
}

#[test]
fn a_retry_after_past_the_deadline_moves_on_at_once_instead_of_hanging() {
    // `Retry-After: 999999999` (about 31 years) from the first model; the
    // second model answers. Neither waits the ask out.
    let text = format!(
        "{TWO_MODELS}workflow w() -> string {{
  step s: string {{ model = first | second  prompt = \"Hi\"  deadline = 5s }}
  step t: string {{ model = first  prompt = \"Hi\"  deadline = 5s }}
  return s + t
}}"
    );
    let started = std::time::Instant::now();
    let script = r#"{
      "s": [{"status": 429, "retry_after": 999999999, "model": "first"}, {"text": "hello", "model": "second"}],
      "t": [{"status": 429, "retry_after": 999999999}]
    }"#;
    let record = run_text(&text, "w", json!({}), scripted(script));
    assert!(
        started.elapsed() < std::time::Duration::from_secs(3),
        "a Retry-After past the deadline was waited"
    );
    let s = record.steps.iter().find(|s| s.id == "s").unwrap();
    assert_eq!(s.model.as_deref(), Some("second"));
    match &record.outcome {
        Outcome::Failed { step, error } => {
            assert_eq!(step, "t");
            assert!(error.contains("past the step's deadline"), "{error}");
        }
        other => panic!("expected `t` to fail, got {other:?}"),
    }
}

#[test]
fn malformed_json_is_retried_with_the_error_fed_back_and_repairs_recorded() {
    let text = format!(
        "{TWO_MODELS}workflow w() -> int {{
  step facts: Facts {{ model = first  prompt = \"Count\"  retry = {{ attempts = 3  backoff = constant(1ms) }} }}
  return facts.count
}}"
    );
    let script = r#"{"facts": [{"text": "I think the count is three."}, {"text": "Sure:\n```json\n{\"count\": 3,}\n```"}]}"#;
    let record = run_text(&text, "w", json!({}), scripted(script));
    assert_eq!(output(&record), &json!(3));
    let step = record.steps.iter().find(|s| s.id == "facts").unwrap();
    assert_eq!(step.attempts, 2);
    assert!(
        step.retried[0].starts_with("the reply is not valid JSON"),
        "{:?}",
        step.retried
    );
    let prompt = step
        .prompt
        .as_deref()
        .expect("the answered prompt is recorded");
    assert!(
        prompt.contains("Your previous reply was rejected: the reply is not valid JSON"),
        "the second prompt carries the parse error: {prompt}"
    );
    assert!(
        prompt.contains("Reply with JSON only, in this shape: {\"count\": integer}"),
        "{prompt}"
    );
    assert!(step
        .tokens
        .is_some_and(|t| t.prompt > 0 && t.completion > 0));
    assert_eq!(step.output, Some(json!({"count": 3})));
    assert_eq!(
        step.repairs,
        [
            "code fence stripped",
            "prose around the JSON removed",
            "trailing comma removed"
        ]
    );
}

#[test]
fn a_failed_check_is_retried_then_passes() {
    let text = format!(
        "{TWO_MODELS}workflow w() -> string {{
  step s: string {{ model = first  prompt = \"Hi\"  retry = {{ attempts = 2  backoff = constant(1ms) }}  check len(this) > 3 else \"too short\" }}
  return s
}}"
    );
    let record = run_text(
        &text,
        "w",
        json!({}),
        scripted(r#"{"s": [{"text": "no"}, {"text": "long enough"}]}"#),
    );
    assert_eq!(output(&record), &json!("long enough"));
    let step = record.steps.iter().find(|s| s.id == "s").unwrap();
    assert_eq!(step.retried, ["check failed: too short"]);
}

#[test]
fn a_permanent_error_moves_to_the_next_model_at_once() {
    let text = format!(
        "{TWO_MODELS}workflow w() -> string {{
  step s: string {{ model = first | second  prompt = \"Hi\" }}
  return s
}}"
    );
    let script =
        r#"{"s": [{"status": 401, "model": "first"}, {"text": "from second", "model": "second"}]}"#;
    let record = run_text(&text, "w", json!({}), scripted(script));
    assert_eq!(output(&record), &json!("from second"));
    let step = record.steps.iter().find(|s| s.id == "s").unwrap();
    assert_eq!(step.model.as_deref(), Some("second"));
    assert_eq!(step.attempts, 2, "one call each: a 401 is not retried");
}

#[test]
fn an_open_breaker_skips_its_model_until_the_cooldown() {
    let text = format!(
        "{TWO_MODELS}workflow w() -> string {{
  step a: string {{ model = first | second  prompt = \"A\"  retry = {{ attempts = 2  backoff = constant(1ms) }} }}
  step b: string {{ model = first | second  prompt = \"B\"  after = [a] }}
  step pause: ExecResult = exec {{ command = [\"sleep\", \"0.4\"] }} {{ after = [b] }}
  step c: string {{ model = first | second  prompt = \"C\"  after = [pause] }}
  return a + b + c
}}"
    );
    let script = r#"{
      "a": [{"status": 500, "model": "first"}, {"status": 503, "model": "first"}, {"text": "A2", "model": "second"}],
      "b": [{"text": "B1", "model": "first"}, {"text": "B2", "model": "second"}],
      "c": [{"text": "C1", "model": "first"}]
    }"#;
    let record = run_text(&text, "w", json!({}), scripted(script));
    let model = |id: &str| {
        record
            .steps
            .iter()
            .find(|s| s.id == id)
            .unwrap()
            .model
            .clone()
    };
    assert_eq!(
        model("a").as_deref(),
        Some("second"),
        "two 5xx open `first`'s breaker"
    );
    assert_eq!(
        model("b").as_deref(),
        Some("second"),
        "`first` is skipped while open"
    );
    assert_eq!(
        model("c").as_deref(),
        Some("first"),
        "after the cooldown, a probe goes through"
    );
    assert_eq!(output(&record), &json!("A2B2C1"));
}

#[test]
fn an_attempt_that_times_out_is_cancelled_and_retried() {
    let text = format!(
        "{TWO_MODELS}workflow w() -> string {{
  step s: string {{ model = first  prompt = \"Hi\"  timeout = 100ms  retry = {{ attempts = 2  backoff = constant(1ms) }} }}
  step t: string {{ model = first  prompt = \"Hi\"  timeout = 10s  deadline = 150ms }}
  return s + (t ?? \"\")
}}"
    );
    let script =
        r#"{"s": [{"timeout": true}, {"text": "late but fine"}], "t": [{"timeout": true}]}"#;
    let record = run_text(&text, "w", json!({}), scripted(script));
    let s = record.steps.iter().find(|s| s.id == "s").unwrap();
    assert_eq!(s.status, StepStatus::Succeeded);
    assert_eq!(s.attempts, 2);
    assert_eq!(s.retried, ["model `first` (mock): no reply within 100 ms"]);
    let t = record.steps.iter().find(|s| s.id == "t").unwrap();
    assert_eq!(t.attempts, 1, "the attempt the deadline ended counts");
    match &record.outcome {
        Outcome::Failed { step, error } => {
            assert_eq!(step, "t");
            assert_eq!(error, "its deadline of 150 ms passed");
        }
        other => panic!("the deadline should end `t`: {other:?}"),
    }
}

#[test]
fn a_loop_that_never_converges_keeps_its_best_iteration() {
    let text = format!(
        "{TWO_MODELS}type Grade {{ score: float }}
workflow w() -> string {{
  loop refine (max = 3, best_by = grade.score) {{
    step draft: string {{ model = first  prompt = \"Draft\" }}
    step grade: Grade {{ model = first  prompt = \"Grade {{{{ draft }}}}\" }}
    until grade.score >= 0.95
  }}
  return refine.draft + \" after \" + to_string(refine.iterations)
}}"
    );
    let script = r#"{
      "draft": [{"text": "one"}, {"text": "two"}, {"text": "three"}],
      "grade": [{"json": {"score": 0.3}}, {"json": {"score": 0.9}}, {"json": {"score": 0.5}}]
    }"#;
    let record = run_text(&text, "w", json!({}), scripted(script));
    assert_eq!(output(&record), &json!("two after 3"));
}

#[test]
fn answers_approve_revise_and_reject_a_review_loop() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/human_approval.spes");
    let text = std::fs::read_to_string(&path).expect("example");
    let answer = |decision: &str| RunOptions {
        mock_all: true,
        answers: HashMap::from([(
            "verdict".to_string(),
            json!({"decision": decision, "comment": "see notes"}),
        )]),
        ..RunOptions::default()
    };
    let rounds = |record: &RunRecord| {
        record
            .steps
            .iter()
            .filter(|s| spesc::plan::instance::plan_id(&s.id) == "review.draft")
            .count()
    };
    let approved = run_text(
        &text,
        "announcement",
        json!({"change": "v2"}),
        answer("approve"),
    );
    assert_eq!(rounds(&approved), 1);
    let revised = run_text(
        &text,
        "announcement",
        json!({"change": "v2"}),
        answer("revise"),
    );
    assert_eq!(
        rounds(&revised),
        3,
        "revise asks again, up to the loop's max"
    );
    let rejected = run_text(
        &text,
        "announcement",
        json!({"change": "v2"}),
        answer("reject"),
    );
    assert_eq!(rounds(&rejected), 1);
    assert_ne!(output(&approved), output(&rejected));
}

// ---- the release saga, in a throwaway git project ----------------------------------------

/// A git project holding the saga example and the scripts it runs;
/// `upload.sh` exits with `upload_code`. Each script logs its call.
fn release_project(upload_code: i32) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("spesc-saga-{}-{upload_code}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("scripts")).unwrap();
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/saga_release.spes");
    std::fs::copy(example, dir.join("release.spes")).unwrap();
    let scripts = [
        ("build.sh", 0),
        ("upload.sh", upload_code),
        ("unpublish.sh", 0),
        ("post-release-notes.sh", 0),
    ];
    for (name, code) in scripts {
        let path = dir.join("scripts").join(name);
        std::fs::write(
            &path,
            format!("#!/bin/sh\necho \"{name} $*\" >> calls.log\nexit {code}\n"),
        )
        .unwrap();
        std::process::Command::new("chmod")
            .arg("+x")
            .arg(&path)
            .status()
            .unwrap();
    }
    let git = |args: &[&str]| {
        let status = std::process::Command::new("git")
            .args(["-c", "user.email=ci@example.com", "-c", "user.name=ci"])
            .args(args)
            .current_dir(&dir)
            .output()
            .expect("git runs");
        assert!(
            status.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&status.stderr)
        );
    };
    git(&["init", "-q"]);
    git(&["commit", "-q", "--allow-empty", "-m", "init"]);
    dir
}

fn release(dir: &Path) -> RunRecord {
    let path = dir.join("release.spes");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut sources = SourceMap::new();
    let file = sources.add("release.spes", text);
    let plan = plan_of(&mut sources, file, path);
    let Value::Object(inputs) = json!({"version": "1.2.3", "changelog": "Faster."}) else {
        unreachable!()
    };
    let mock = RunOptions {
        mock_all: true,
        ..RunOptions::default()
    };
    run(&plan, "release", inputs, &mock)
}

/// The plan of a file already in `sources`, read with its imports.
fn plan_of(sources: &mut SourceMap, file: spesc::source::FileId, path: std::path::PathBuf) -> Plan {
    let compiled = compile(sources, &[(file, path)], &Files, &Default::default());
    compiled.plan.expect("the example checks clean")
}

fn tags(dir: &Path) -> String {
    let out = std::process::Command::new("git")
        .arg("tag")
        .current_dir(dir)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn the_release_saga_runs_in_a_git_project() {
    let dir = release_project(0);
    let record = release(&dir);
    output(&record);
    assert_eq!(tags(&dir), "v1.2.3\n");
    let calls = std::fs::read_to_string(dir.join("calls.log")).unwrap();
    assert_eq!(
        calls,
        "build.sh 1.2.3\nupload.sh dist/app 1.2.3\npost-release-notes.sh 1.2.3\n"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_failed_upload_untags_the_release() {
    let dir = release_project(1);
    let record = release(&dir);
    assert!(
        matches!(&record.outcome, Outcome::Failed { step, .. } if step == "upload"),
        "{:?}",
        record.outcome
    );
    assert_eq!(tags(&dir), "", "the tag was compensated");
    assert_eq!(
        status(&record, "tag.compensate"),
        Some(StepStatus::Compensated)
    );
    assert_eq!(
        status(&record, "upload.compensate"),
        None,
        "upload never completed"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn summarized_context_calls_the_summarizer_only_over_budget() {
    let text = |budget: u32| {
        format!(
            "{TWO_MODELS}workflow w(topic: string) -> string {{
  step research: string {{ model = first  prompt = \"Research {{{{ topic }}}}\" }}
  step brief: string {{ model = first  context = summarized(max_tokens = {budget}, model = second)  prompt = \"Brief on it\"  after = [research] }}
  return brief
}}"
        )
    };
    let long = json!({"research": "A long finding. ".repeat(100)});
    let over = run_text(
        &text(50),
        "w",
        json!({"topic": "x"}),
        RunOptions {
            given: long.as_object().unwrap().clone().into_iter().collect(),
            ..RunOptions::default()
        },
    );
    output(&over);
    let summary = over
        .steps
        .iter()
        .find(|s| s.id == "brief.summary")
        .expect("summarized");
    assert_eq!(summary.model.as_deref(), Some("second"));
    let under = run_text(
        &text(5000),
        "w",
        json!({"topic": "x"}),
        RunOptions {
            given: long.as_object().unwrap().clone().into_iter().collect(),
            ..RunOptions::default()
        },
    );
    output(&under);
    assert!(
        under.steps.iter().all(|s| s.id != "brief.summary"),
        "within budget: no call"
    );
}

#[test]
fn on_error_degrades_and_the_run_continues() {
    let text = format!(
        "{TWO_MODELS}workflow w() -> string {{
  step facts: Facts {{ model = first  prompt = \"Count\"  retry = {{ attempts = 2  backoff = constant(1ms) }}  on_error = {{ count: 0 }} }}
  step report: string {{ model = second  prompt = \"Report {{{{ facts.count }}}}\" }}
  return to_string(facts.count) + \" / \" + report
}}"
    );
    let script = r#"{"facts": [{"status": 500}, {"status": 500}], "report": [{"text": "nothing to report"}]}"#;
    let record = run_text(&text, "w", json!({}), scripted(script));
    assert_eq!(output(&record), &json!("0 / nothing to report"));
    let facts = record.steps.iter().find(|s| s.id == "facts").unwrap();
    assert_eq!(facts.status, StepStatus::Degraded);
    assert_eq!(
        facts.error.as_deref(),
        Some("model `first` (mock): HTTP 500")
    );
    assert_eq!(status(&record, "report"), Some(StepStatus::Succeeded));
}

// ---- the OpenAI-compatible provider, against a real HTTP server -------------------------

#[test]
fn a_mock_script_reaches_one_item_and_a_scripted_timeout_does_not_wait_a_minute() {
    let text = format!(
        "{MODEL}workflow w(docs: string[]) -> string[] {{
  let summaries: string[] = for doc in docs {{
    step summary: string {{ model = fast  prompt = \"Sum {{{{ doc }}}}\"  retry = {{ attempts = 2  backoff = constant(1ms) }} }}
    summary
  }}
  return summaries
}}"
    );
    let script = r#"{"summaries.each[1].summary": [{"timeout": true}, {"text": "second"}]}"#;
    let started = std::time::Instant::now();
    let record = run_text(
        &text,
        "w",
        json!({"docs": ["a", "b", "c"]}),
        scripted(script),
    );
    let items = output(&record).as_array().expect("a list").clone();
    assert_eq!(items[1], json!("second"), "only item 1 is scripted");
    assert_ne!(items[0], json!("second"));
    let second = record
        .steps
        .iter()
        .find(|s| s.id == "summaries.each[1].summary")
        .expect("item 1 ran");
    assert_eq!(
        second.retried,
        ["model `fast` (mock): no reply within 60000 ms"]
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "the default 60 s timeout is not waited out: {:?}",
        started.elapsed()
    );
}

#[test]
fn an_open_breaker_without_a_fallback_waits_its_cooldown_instead_of_failing_items() {
    let text = "model only { provider = mock  breaker = { failures = 2, cooldown = 200ms } }
workflow w(docs: string[]) -> string[] {
  let out: string[] = for doc in docs (concurrency = 1) {
    step summary: string { model = only  prompt = \"Sum {{ doc }}\"  retry = { attempts = 3  backoff = constant(1ms) } }
    summary
  }
  return out
}";
    // Two failures open the breaker; the items after them wait it out.
    let script = r#"{"out.each[0].summary": [{"status": 500}, {"status": 503}]}"#;
    let started = std::time::Instant::now();
    let record = run_text(
        text,
        "w",
        json!({"docs": ["a", "b", "c", "d"]}),
        scripted(script),
    );
    assert_eq!(
        output(&record).as_array().map(Vec::len),
        Some(4),
        "{:?}",
        record.outcome
    );
    assert!(
        started.elapsed() >= std::time::Duration::from_millis(200),
        "the cooldown was waited out"
    );
}

#[test]
fn a_step_records_its_own_work_apart_from_waiting_for_inputs_and_is_skipped_when_an_input_failed() {
    let text = format!(
        "{MODEL}workflow w() -> string {{
  step slow: ExecResult = exec {{ command = [\"sleep\", \"0.3\"] }}
  step quick: string {{ model = fast  prompt = \"After {{{{ slow.code }}}}\" }}
  step broken: string {{ model = fast  prompt = \"B\"  retry = {{ attempts = 1 }} }}
  step downstream: string {{ model = fast  prompt = \"D {{{{ broken }}}}\" }}
  return quick + downstream
}}"
    );
    let record = run_text(
        &text,
        "w",
        json!({}),
        scripted(r#"{"broken": [{"status": 401}]}"#),
    );
    let step = |id: &str| record.steps.iter().find(|s| s.id == id).unwrap();
    let quick = step("quick");
    assert!(quick.waited_ms >= 250, "it waited for `slow`: {quick:?}");
    assert!(quick.duration_ms < 250, "its own work is short: {quick:?}");
    let downstream = step("downstream");
    assert_eq!(downstream.status, StepStatus::Skipped);
    assert_eq!(
        downstream.error.as_deref(),
        Some("not run: `broken` failed")
    );
    assert_eq!(downstream.attempts, 0);
}

#[test]
fn a_reply_is_read_as_the_type_asks_and_each_coercion_is_recorded() {
    let text = format!(
        "{MODEL}type Deal {{ price: int  approved: bool  tags: string[] }}
workflow w() -> Deal {{
  step deal: Deal {{ model = fast  prompt = \"Price it\" }}
  return deal
}}"
    );
    let script = r#"{"deal": [{"text": "Here: {\"price\": \"$1,200\", \"approved\": \"Yes\", \"tags\": \"rush\"}"}]}"#;
    let record = run_text(&text, "w", json!({}), scripted(script));
    assert_eq!(
        output(&record),
        &json!({"price": 1200, "approved": true, "tags": ["rush"]})
    );
    let deal = record.steps.iter().find(|s| s.id == "deal").unwrap();
    assert_eq!(
        deal.repairs,
        [
            "prose around the JSON removed",
            "\"$1,200\" read as a number",
            "\"Yes\" read as `true`",
            "a single value read as a list of one"
        ]
    );
}

#[test]
fn descriptions_reach_the_prompt_and_aliases_are_read() {
    let text = format!(
        "{MODEL}type Analysis {{
  /// How hard the task is.
  complexity: Complexity alias \"difficulty\"
  summary: string
}}
enum Complexity {{
  /// One step, no research.
  simple alias \"easy\",
  complex alias \"hard\",
}}
workflow w() -> Analysis {{
  step a: Analysis {{ model = fast  prompt = \"Analyse\" }}
  return a
}}"
    );
    let script = r#"{"a": [{"text": "{\"Difficulty\": \"Easy\", \"summary\": \"short\"}"}]}"#;
    let record = run_text(&text, "w", json!({}), scripted(script));
    assert_eq!(
        output(&record),
        &json!({"complexity": "simple", "summary": "short"})
    );
    let a = record.steps.iter().find(|s| s.id == "a").unwrap();
    assert_eq!(
        a.repairs,
        [
            "key `Difficulty` read as `complexity`",
            "enum name `Easy` read as `simple`"
        ]
    );
    let prompt = a.prompt.as_deref().expect("recorded");
    assert!(
        prompt.contains(
            "{\n  \"complexity\": \"simple\" /* One step, no research. */ | \"complex\", // How hard the task is.\n  \"summary\": string\n}"
        ),
        "{prompt}"
    );
}

#[test]
fn a_json5_like_reply_is_read_with_its_fixes_named() {
    let text = format!(
        "{MODEL}type Person {{ name: string  year: int }}
workflow w() -> Person {{
  step who: Person {{ model = fast  prompt = \"Who\" }}
  return who
}}"
    );
    let script = r#"{"who": [{"text": "```json\n{\n  // from the archive\n  name: 'Ada Lovelace'\n  year: 1815,\n}\n```"}]}"#;
    let record = run_text(&text, "w", json!({}), scripted(script));
    assert_eq!(
        output(&record),
        &json!({"name": "Ada Lovelace", "year": 1815})
    );
    let who = record.steps.iter().find(|s| s.id == "who").unwrap();
    assert_eq!(
        who.repairs,
        [
            "code fence stripped",
            "comments removed",
            "missing comma added",
            "single quotes replaced",
            "trailing comma removed",
            "unquoted keys quoted"
        ]
    );
}
