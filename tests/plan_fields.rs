//! What `spesc plan` shows, `spesc run` does: one test per plan field that
//! no other test already pins (the table in `docs/plan.md` names the test
//! of every field). Each test fails if the runtime ignores its field.
//! Model calls go to the mock, or, where what is sent or how many are in
//! flight at once matters, to a real HTTP server on 127.0.0.1.

// A test fails by panicking; `expect` says where and why.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Once};
use std::time::{Duration, Instant};

use serde_json::{json, Map, Value};
use spesc::check::Loader;
use spesc::journal::record::{Outcome, RunRecord, StepRecord};
use spesc::journal::sqlite::Sqlite;
use spesc::journal::{Journal, NewRun, RunStore};
use spesc::runtime::{run, RunOptions};
use spesc::source::SourceMap;

const KEY_VARIABLE: &str = "SPESC_PLAN_FIELDS_TEST_KEY";

/// Reads imports and component files from the repository (none here).
struct Files;

impl Loader for Files {
    fn read(&self, path: &Path) -> Result<(String, String), String> {
        let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
        Ok((path.display().to_string(), text))
    }
}

fn run_text(text: &str, workflow: &str, inputs: Value, options: &RunOptions) -> RunRecord {
    static KEY: Once = Once::new();
    // Every test sets the same value, once, before any run reads it.
    KEY.call_once(|| std::env::set_var(KEY_VARIABLE, "sk-plan-fields"));
    let mut sources = SourceMap::new();
    let file = sources.add("t.spes", text);
    let compiled = spesc::plan::compile(
        &mut sources,
        &[(file, "t.spes".into())],
        &Files,
        &Default::default(),
    );
    let Some(plan) = compiled.plan else {
        panic!(
            "{}",
            spesc::diagnostic::render::rich(&sources, &compiled.diagnostics, false)
        )
    };
    let Value::Object(inputs) = inputs else {
        panic!("inputs are an object")
    };
    run(&plan, workflow, inputs, options)
}

fn output(record: &RunRecord) -> &Value {
    match &record.outcome {
        Outcome::Succeeded { output } => output,
        other => panic!("the run did not succeed: {other:?}\n{:#?}", record.steps),
    }
}

fn failure(record: &RunRecord) -> &str {
    match &record.outcome {
        Outcome::Failed { error, .. } => error,
        other => panic!("the run did not fail: {other:?}"),
    }
}

fn step<'r>(record: &'r RunRecord, id: &str) -> &'r StepRecord {
    record
        .steps
        .iter()
        .find(|s| s.id == id)
        .unwrap_or_else(|| panic!("no step `{id}` in {:#?}", record.steps))
}

fn prompt<'r>(record: &'r RunRecord, id: &str) -> &'r str {
    step(record, id).prompt.as_deref().unwrap_or_default()
}

/// An OpenAI-compatible server that answers every request after `delay`
/// and counts requests, and the most it had in flight at once.
struct Gauge {
    url: String,
    requests: Arc<AtomicUsize>,
    most: Arc<AtomicUsize>,
}

impl Gauge {
    fn start(delay: Duration) -> Gauge {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
        let url = format!("http://{}", listener.local_addr().expect("an address"));
        let requests = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let in_flight = Arc::new(AtomicUsize::new(0));
        let (seen, peak) = (requests.clone(), most.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (seen, peak, in_flight) = (seen.clone(), peak.clone(), in_flight.clone());
                std::thread::spawn(move || {
                    while read_request(&stream) {
                        seen.fetch_add(1, Ordering::SeqCst);
                        let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                        peak.fetch_max(now, Ordering::SeqCst);
                        std::thread::sleep(delay);
                        in_flight.fetch_sub(1, Ordering::SeqCst);
                        if !reply(&stream) {
                            return;
                        }
                    }
                });
            }
        });
        Gauge {
            url,
            requests,
            most,
        }
    }

    /// A model `m` served here, with `settings` added.
    fn model(&self, settings: &str) -> String {
        format!(
            "model m {{ provider = openai  name = \"gauge\"  base_url = \"{}/v1\"  api_key_env = \"{KEY_VARIABLE}\"  {settings} }}\n",
            self.url
        )
    }

    fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }

    fn most_in_flight(&self) -> usize {
        self.most.load(Ordering::SeqCst)
    }
}

/// Reads one request off a kept-alive connection; false when it closed.
fn read_request(stream: &TcpStream) -> bool {
    let mut reader = BufReader::new(stream);
    let mut length = 0;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return false;
        }
        if line == "\r\n" {
            break;
        }
        if let Some(n) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            length = n.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).is_ok()
}

fn reply(mut stream: &TcpStream) -> bool {
    let body = json!({"choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"},
        "finish_reason": "stop"}], "usage": {"prompt_tokens": 3, "completion_tokens": 1}})
    .to_string();
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).is_ok() && stream.write_all(body.as_bytes()).is_ok()
}

fn items(n: usize) -> Value {
    json!({ "items": (0..n).collect::<Vec<_>>() })
}

// ---- `Llm.context` and the workflow's `default` clauses -----------------

#[test]
fn default_context_all_hands_every_upstream_output_to_the_model() {
    let record = run_text(
        r#"model fast { provider = mock }
workflow w() -> string {
  default model = fast
  default context = all
  step first: string { prompt = "First" }
  step second: string { prompt = "Second after {{ first }}" }
  step last: string { prompt = "Last" after = [second] }
  step own: string { prompt = "Own" context = fresh after = [second] }
  step picked: string { prompt = "Picked" context = [first] after = [second] }
  return last
}"#,
        "w",
        json!({}),
        &RunOptions::default(),
    );
    output(&record);
    let last = prompt(&record, "last");
    assert!(
        last.contains("## first") && last.contains("## second"),
        "`default context = all`: {last}"
    );
    assert!(
        !prompt(&record, "own").contains("Context:"),
        "a step's own `fresh` wins"
    );
    let picked = prompt(&record, "picked");
    assert!(
        picked.contains("## first") && !picked.contains("## second"),
        "`context = [first]`: {picked}"
    );
}

#[test]
fn default_system_and_agent_reach_every_prompt() {
    let record = run_text(
        r#"model fast { provider = mock }
component voice = "You are a careful editor."
component rules = "Cite the source of every claim."
agent editor { persona = voice  instruction = rules  model = fast }
workflow w() -> string {
  default agent = editor
  default system = "Answer in English."
  step draft: string { prompt = "Draft a note" }
  step other: string { prompt = "Another"  system = "Answer in French." }
  return draft
}"#,
        "w",
        json!({}),
        &RunOptions::default(),
    );
    output(&record);
    let draft = prompt(&record, "draft");
    for part in [
        "You are a careful editor.",
        "Cite the source of every claim.",
        "Answer in English.",
    ] {
        assert!(draft.contains(part), "`{part}` is missing from: {draft}");
    }
    let other = prompt(&record, "other");
    assert!(
        other.contains("Answer in French.") && !other.contains("Answer in English."),
        "a step's own `system` wins: {other}"
    );
}

// ---- `Policy.cache` -------------------------------------------------------

fn journal(store: &Arc<dyn RunStore>) -> Arc<Journal> {
    let run = store
        .create(&NewRun {
            workflow: "w".into(),
            file: "t.spes".into(),
            source: String::new(),
            inputs: json!({}),
            plan_hash: String::new(),
            mock: false,
        })
        .expect("a run");
    Arc::new(Journal {
        store: store.clone(),
        run,
    })
}

#[test]
fn a_cached_answer_makes_no_call_and_no_cache_bypasses_it() {
    let server = Gauge::start(Duration::ZERO);
    let text = format!(
        "{}workflow w(topic: string) -> string {{
  step kept: string {{ model = m  prompt = \"About {{{{ topic }}}}\"  cache = true }}
  step fresh: string {{ model = m  prompt = \"Again {{{{ topic }}}}\" }}
  return kept
}}",
        server.model("")
    );
    let path = std::env::temp_dir().join(format!("spesc-cache-{}.db", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let store: Arc<dyn RunStore> = Arc::new(Sqlite::open(&path).expect("a database"));
    let run_once = |topic: &str, no_cache: bool| {
        let options = RunOptions {
            journal: Some(journal(&store)),
            no_cache,
            ..RunOptions::default()
        };
        run_text(&text, "w", json!({ "topic": topic }), &options)
    };

    let first = run_once("tea", false);
    assert_eq!(output(&first), "ok");
    assert_eq!(server.requests(), 2);
    let second = run_once("tea", false);
    assert_eq!(output(&second), "ok");
    assert_eq!(server.requests(), 3, "only the uncached step calls again");
    assert!(step(&second, "kept").cached, "recorded as cached");
    assert!(!step(&second, "fresh").cached);

    let other = run_once("coffee", false);
    assert!(!step(&other, "kept").cached, "another request, another key");
    assert_eq!(server.requests(), 5);
    let bypassed = run_once("tea", true);
    assert!(
        !step(&bypassed, "kept").cached,
        "`--no-cache` calls the model"
    );
    assert_eq!(server.requests(), 7);
    std::fs::remove_file(&path).ok();
}

// ---- `Model.rpm`, `Model.concurrency`, `Workflow.max_concurrency` --------

#[test]
fn a_models_rpm_paces_calls_across_every_item() {
    // 600 requests a minute: one every 100 ms, whatever the fan-out.
    let started = Instant::now();
    let record = run_text(
        "model paced { provider = mock  rpm = 600 }
workflow w(items: int[]) -> int {
  let answers: string[] = for item in items (concurrency = 5) {
    step answer: string { model = paced  prompt = \"Item {{ item }}\" }
    answer
  }
  step last: string { model = paced  prompt = \"Done: {{ answers }}\" }
  return len(answers)
}",
        "w",
        items(5),
        &RunOptions::default(),
    );
    assert_eq!(output(&record), 5);
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_millis(500),
        "six calls at 600 rpm take at least 500 ms, took {elapsed:?}"
    );
}

#[test]
fn a_models_concurrency_bounds_its_calls_in_flight() {
    let server = Gauge::start(Duration::from_millis(100));
    let record = run_text(
        &format!(
            "{}workflow w(items: int[]) -> int {{
  let answers: string[] = for item in items (concurrency = 6) {{
    step answer: string {{ model = m  prompt = \"Item {{{{ item }}}}\" }}
    answer
  }}
  return len(answers)
}}",
            server.model("concurrency = 2")
        ),
        "w",
        items(6),
        &RunOptions::default(),
    );
    assert_eq!(output(&record), 6);
    assert_eq!(server.most_in_flight(), 2);
}

#[test]
fn the_default_max_concurrency_does_not_cap_what_a_for_asks_for() {
    let server = Gauge::start(Duration::from_millis(300));
    let record = run_text(
        &format!(
            "{}workflow w(items: int[]) -> int {{
  let answers: string[] = for item in items (concurrency = 20) {{
    step answer: string {{ model = m  prompt = \"Item {{{{ item }}}}\" }}
    answer
  }}
  return len(answers)
}}",
            server.model("")
        ),
        "w",
        items(20),
        &RunOptions::default(),
    );
    assert_eq!(output(&record), 20);
    assert_eq!(server.most_in_flight(), 20);
}

#[test]
fn an_explicit_max_concurrency_caps_every_action_of_the_run() {
    let server = Gauge::start(Duration::from_millis(100));
    let record = run_text(
        &format!(
            "{}workflow w(items: int[]) -> int {{
  max_concurrency = 3
  let answers: string[] = for item in items (concurrency = 3) {{
    step answer: string {{ model = m  prompt = \"Item {{{{ item }}}}\" }}
    answer
  }}
  step a: string {{ model = m  prompt = \"A\" }}
  step b: string {{ model = m  prompt = \"B\" }}
  return len(answers)
}}",
            server.model("")
        ),
        "w",
        items(6),
        &RunOptions::default(),
    );
    assert_eq!(output(&record), 6);
    assert_eq!(server.requests(), 8);
    assert_eq!(server.most_in_flight(), 3);
}

#[test]
fn a_called_workflows_own_max_concurrency_applies_inside_it() {
    let server = Gauge::start(Duration::from_millis(100));
    let record = run_text(
        &format!(
            "{}workflow inner(topic: string) -> string {{
  max_concurrency = 2
  step a: string {{ model = m  prompt = \"A {{{{ topic }}}}\" }}
  step b: string {{ model = m  prompt = \"B {{{{ topic }}}}\" }}
  step c: string {{ model = m  prompt = \"C {{{{ topic }}}}\" }}
  step d: string {{ model = m  prompt = \"D {{{{ topic }}}}\" }}
  return a
}}
workflow outer() -> string {{
  step called: string = call inner(topic = \"x\")
  return called
}}",
            server.model("")
        ),
        "outer",
        json!({}),
        &RunOptions::default(),
    );
    assert_eq!(output(&record), "ok");
    assert_eq!(server.requests(), 4);
    assert_eq!(server.most_in_flight(), 2);
}

// ---- `Attempt.timeout_ms` from the model's `timeout` ----------------------

#[test]
fn a_models_timeout_bounds_each_of_its_calls() {
    let script = spesc::providers::script::Script::parse(r#"{"slow": [{"timeout": true}]}"#)
        .expect("a valid script");
    let started = Instant::now();
    let record = run_text(
        "model sluggish { provider = mock  timeout = 200ms }
workflow w() -> string {
  step slow: string { model = sluggish  prompt = \"Hello\"  retry = { attempts = 1 } }
  return slow
}",
        "w",
        json!({}),
        &RunOptions {
            script,
            ..RunOptions::default()
        },
    );
    let error = failure(&record);
    assert!(error.contains("200 ms"), "{error}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the model's 200 ms, not the 60 s default"
    );
}

// ---- `Node.after` ---------------------------------------------------------

#[test]
fn after_orders_steps_that_share_no_data() {
    let marker = std::env::temp_dir().join(format!("spesc-after-{}", std::process::id()));
    let _ = std::fs::remove_file(&marker);
    let marker = marker.display().to_string();
    let record = run_text(
        &format!(
            r#"workflow w() -> int {{
  step build: ExecResult = exec {{ command = ["sh", "-c", "sleep 0.3 && touch {marker}"] }}
  step ship: ExecResult = exec {{
    command = ["test", "-e", "{marker}"]
    after = [build]
    check this.code == 0 else "built first"
  }}
  return ship.code
}}"#
        ),
        "w",
        json!({}),
        &RunOptions::default(),
    );
    assert_eq!(output(&record), 0);
    std::fs::remove_file(&marker).ok();
}

// ---- loop instances -------------------------------------------------------

#[test]
fn each_loop_iteration_is_its_own_instance() {
    let record = run_text(
        r#"model fast { provider = mock }
type Grade { score: float }
workflow w() -> string {
  loop refine (max = 3, best_by = grade.score) {
    step attempt: string { model = fast  prompt = "Try{% if previous %} after {{ previous.attempt }}{% end %}" }
    step grade: Grade { model = fast  prompt = "Grade {{ attempt }}"  check this.score < 0 else "never good" on_error = { score: 0.5 } }
    until grade.score > 2.0
  }
  return refine.attempt
}"#,
        "w",
        json!({}),
        &RunOptions::default(),
    );
    output(&record);
    for round in 0..3 {
        step(&record, &format!("refine[{round}].attempt"));
        step(&record, &format!("refine[{round}].grade"));
    }
    assert!(
        prompt(&record, "refine[1].attempt").contains("after"),
        "the second round sees the first: `previous`"
    );
}

#[test]
fn a_plan_run_from_its_json_does_the_same_as_the_plan() {
    let text = r#"model fast { provider = mock }
workflow w(topic: string = "tea") -> string {
  step a: string { model = fast  prompt = "About {{ topic }}" }
  let shout = upper(a)
  return shout
}"#;
    let mut sources = SourceMap::new();
    let file = sources.add("t.spes", text);
    let plan = spesc::plan::compile(
        &mut sources,
        &[(file, "t.spes".into())],
        &Files,
        &Default::default(),
    )
    .plan
    .expect("a plan");
    let copy = spesc::plan::Plan::from_json(&plan.to_json()).expect("the plan reads back");
    let options = RunOptions::default();
    let direct = run(&plan, "w", Map::new(), &options);
    let from_json = run(&copy, "w", Map::new(), &options);
    assert_eq!(output(&direct), output(&from_json));
    assert_eq!(direct.plan_hash, from_json.plan_hash);
}

// ---- `RetryPolicy.jitter` -------------------------------------------------

/// The share of the backoff the runtime waits under full jitter for the
/// second attempt of step `id` (drawn deterministically from the id).
fn jitter_unit(id: &str) -> f64 {
    use spesc::providers::mock::{mix, seed};
    (mix(seed(id, ""), 2) % 10_000) as f64 / 10_000.0
}

#[test]
fn full_jitter_waits_a_share_of_the_backoff_and_none_waits_it_all() {
    // A step whose drawn share is small, so the difference shows.
    let jittered = (0..100)
        .map(|n| format!("j{n}"))
        .find(|id| jitter_unit(id) < 0.3)
        .expect("a small share among 100 ids");
    let text = format!(
        "model fast {{ provider = mock }}
workflow w() -> string {{
  step steady: string {{ model = fast  prompt = \"A\"  retry = {{ attempts = 2  backoff = constant(400ms)  jitter = none }} }}
  step {jittered}: string {{ model = fast  prompt = \"B\"  retry = {{ attempts = 2  backoff = constant(400ms)  jitter = full }} }}
  return steady + {jittered}
}}"
    );
    let script = spesc::providers::script::Script::parse(&format!(
        r#"{{"steady": [{{"status": 500}}], "{jittered}": [{{"status": 500}}]}}"#
    ))
    .expect("a valid script");
    let record = run_text(
        &text,
        "w",
        json!({}),
        &RunOptions {
            script,
            ..RunOptions::default()
        },
    );
    output(&record);
    assert!(step(&record, "steady").duration_ms >= 400);
    let waited = step(&record, &jittered).duration_ms;
    let expected = (400.0 * jitter_unit(&jittered)) as u64;
    assert!(
        waited >= expected && waited < 400 * 6 / 10,
        "full jitter waits {expected} ms of the 400: waited {waited}"
    );
}

// ---- `Exec.env`, `Exec.cwd`, a compensation's `Exec.timeout_ms`, `Fetch.headers`

#[test]
fn exec_env_and_cwd_reach_the_command() {
    let dir = std::env::temp_dir().join(format!("spesc-exec-cwd-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let dir = dir.canonicalize().unwrap();
    let record = run_text(
        &format!(
            r#"workflow w(mode: string) -> string {{
  step shown: ExecResult = exec {{
    command = ["sh", "-c", "echo $MODE; pwd"]
    env = {{ MODE = mode }}
    cwd = "{}"
  }}
  return shown.stdout
}}"#,
            dir.display()
        ),
        "w",
        json!({"mode": "ci"}),
        &RunOptions::default(),
    );
    assert_eq!(output(&record), &json!(format!("ci\n{}\n", dir.display())));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_compensation_is_bounded_by_its_own_timeout() {
    let started = Instant::now();
    let record = run_text(
        r#"workflow w() -> int {
  step made: ExecResult = exec {
    command = ["true"]
    compensate = exec { command = ["sleep", "20"]  timeout = 200ms }
  }
  step broken: ExecResult = exec {
    command = ["false"]
    after = [made]
    check this.code == 0 else "broken"
  }
  return broken.code
}"#,
        "w",
        json!({}),
        &RunOptions::default(),
    );
    assert!(failure(&record).contains("broken"), "{:?}", record.outcome);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the undo was stopped after its 200 ms"
    );
}

#[test]
fn a_fetch_sends_its_headers() {
    let server = support::Server::start(vec![support::Answer::json(200, r#"{"ok": true}"#)]);
    let record = run_text(
        r#"workflow w(base: string, token: string) -> bool {
  step page: json = fetch { url = base + "/page"  headers = { Accept = "application/json", Token = token } }
  return page.ok
}"#,
        "w",
        json!({"base": server.url, "token": "t-1"}),
        &RunOptions::default(),
    );
    assert_eq!(output(&record), true);
    let seen = server.seen();
    assert_eq!(
        seen[0].headers.get("accept").map(String::as_str),
        Some("application/json")
    );
    assert_eq!(
        seen[0].headers.get("token").map(String::as_str),
        Some("t-1")
    );
}
