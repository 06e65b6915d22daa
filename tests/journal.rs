//! Durable runs, end to end through the real binary: a run killed with
//! SIGKILL at every step boundary is resumed without calling a completed
//! step again; approvals, plan changes, two processes at once, a fan-out
//! and a call resumed. The journal's own state (owners, read-only and full
//! databases, `stats`, an older schema) is in `journal_state.rs`.

// A test fails by panicking; `expect` says where and why.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::binary::{folder, kill, spesc, start, stderr};
use support::journal::{show, TWO_STEPS};
use support::{Answer, Server};

/// A completion whose text is `text`.
fn reply(text: &str) -> Answer {
    Answer::json(
        200,
        json!({"choices": [{"index": 0, "message": {"role": "assistant", "content": text},
            "finish_reason": "stop"}], "usage": {"prompt_tokens": 10, "completion_tokens": 2}})
        .to_string(),
    )
}

/// Five steps, each reading the one before, on the server at `url`.
fn five_steps(url: &str) -> String {
    let mut text = format!(
        "model m {{ provider = openai  name = \"tiny\"  base_url = \"{url}/v1\" }}\n\nworkflow five(topic: string) -> string {{\n  step s1: string {{ model = m  prompt = \"Step 1 on {{{{ topic }}}}\" }}\n"
    );
    for n in 2..=5 {
        text.push_str(&format!(
            "  step s{n}: string {{ model = m  prompt = \"Step {n} after {{{{ s{} }}}}\" }}\n",
            n - 1
        ));
    }
    text.push_str("  return s5\n}\n");
    text
}

/// Which step each request the server saw was for.
fn steps_asked(server: &Server) -> Vec<u32> {
    server
        .seen()
        .iter()
        .map(|r| {
            let prompt = r.body["messages"][0]["content"]
                .as_str()
                .unwrap_or_default();
            prompt[5..6].parse().expect("`Step N …`")
        })
        .collect()
}

/// Waits until the server has seen `n` requests.
fn wait_for(server: &Server, n: usize) {
    let start = Instant::now();
    while server.seen().len() < n {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "only {} requests came",
            server.seen().len()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn a_run_killed_at_any_step_boundary_resumes_without_calling_a_completed_step_again() {
    for done in 0..5 {
        let dir = folder(&format!("kill{done}"));
        // Steps 1..=done answer; the next one is held until the kill.
        let mut answers: Vec<Answer> = (1..=done).map(|n| reply(&format!("R{n}"))).collect();
        answers.push(Answer::Slow(
            Duration::from_secs(60),
            Box::new(reply("too late")),
        ));
        answers.extend((done + 1..=5).map(|n| reply(&format!("R{n}"))));
        let server = Server::start(answers);
        std::fs::write(dir.join("five.spes"), five_steps(&server.url)).unwrap();

        let running = start(&dir, &["run", "five.spes", "--input", "topic=x", "-q"]);
        wait_for(&server, done + 1);
        kill(running);

        let killed = show(&dir, "last");
        // Its row still says `running`; its owner is gone, so it shows as
        // what it is.
        assert_eq!(killed["status"], "interrupted", "killed mid-run");
        let journaled: Vec<&str> = killed["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["id"].as_str().unwrap())
            .collect();
        let expected: Vec<String> = (1..=done).map(|n| format!("s{n}")).collect();
        assert_eq!(
            journaled, expected,
            "every completed step is in the journal"
        );

        let resumed = spesc(&dir, &["resume", "last", "-q"]);
        assert_eq!(resumed.status.code(), Some(0), "{}", stderr(&resumed));
        let result: Value = serde_json::from_slice(&resumed.stdout).unwrap();
        assert_eq!(result, json!("R5"));
        let after_kill = &steps_asked(&server)[done + 1..];
        let remaining: Vec<u32> = (done as u32 + 1..=5).collect();
        assert_eq!(
            after_kill, remaining,
            "killed after {done} steps: only the rest were called"
        );
        let finished = show(&dir, "last");
        assert_eq!(finished["status"], "succeeded");
        assert_eq!(
            finished["totals"]["tokens"]["prompt"],
            json!(50),
            "five calls paid for, once each"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

/// The human-approval example under `--mock`, waiting for its first
/// answer.
fn waiting_announcement(dir: &Path) -> String {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/human_approval.spes");
    let waiting = spesc(
        dir,
        &[
            "run",
            "--mock",
            example.to_str().unwrap(),
            "--input",
            "change=Prices drop",
            "-q",
        ],
    );
    assert_eq!(waiting.status.code(), Some(3), "{}", stderr(&waiting));
    assert!(
        stderr(&waiting).contains("spesc approve"),
        "{}",
        stderr(&waiting)
    );
    let run = show(dir, "last");
    assert_eq!(run["status"], "waiting");
    run["id"].as_str().unwrap().to_string()
}

#[test]
fn approve_then_resume_publishes_and_reject_publishes_nothing() {
    let dir = folder("approve");
    let run = waiting_announcement(&dir);
    let approve = |extra: &[&str]| {
        let args = ["approve", &run, "verdict", "--decision"];
        spesc(&dir, &[&args[..], extra].concat())
    };
    assert_eq!(approve(&["approve"]).status.code(), Some(0));
    // A second answer to the same wait is refused: the first stands…
    let second = approve(&["revise"]);
    assert_eq!(second.status.code(), Some(2));
    assert!(
        stderr(&second).contains("already answered") && stderr(&second).contains("--replace"),
        "{}",
        stderr(&second)
    );
    // …unless it is meant to replace it, which the resume then uses.
    let revised = approve(&["revise", "--comment", "shorter", "--replace"]);
    assert_eq!(revised.status.code(), Some(0), "{}", stderr(&revised));
    let again = spesc(&dir, &["resume", &run, "-q"]);
    assert_eq!(
        again.status.code(),
        Some(3),
        "a revision is reviewed again: {}",
        stderr(&again)
    );
    assert_eq!(
        spesc(&dir, &["approve", &run, "verdict", "--decision", "approve"])
            .status
            .code(),
        Some(0)
    );
    let published = spesc(&dir, &["resume", &run, "-q"]);
    assert_eq!(published.status.code(), Some(0), "{}", stderr(&published));
    let text: Value = serde_json::from_slice(&published.stdout).unwrap();
    assert!(text.as_str().is_some_and(|t| !t.is_empty()), "{text}");
    let nodes = show(&dir, &run)["nodes"].clone();
    let drafts = nodes
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| {
            n["id"]
                .as_str()
                .is_some_and(|id| spesc::plan::instance::plan_id(id) == "review.draft")
        })
        .count();
    assert_eq!(
        drafts, 2,
        "one draft per round, none written again on resume"
    );
    let twice = spesc(&dir, &["resume", &run]);
    assert_eq!(twice.status.code(), Some(2));
    assert!(
        stderr(&twice).contains("already succeeded"),
        "{}",
        stderr(&twice)
    );

    let rejected = waiting_announcement(&dir);
    assert_eq!(
        spesc(
            &dir,
            &["approve", "last", "review.verdict", "--decision", "reject"]
        )
        .status
        .code(),
        Some(0)
    );
    let nothing = spesc(&dir, &["resume", &rejected, "-q"]);
    assert_eq!(nothing.status.code(), Some(0), "{}", stderr(&nothing));
    assert_eq!(
        serde_json::from_slice::<Value>(&nothing.stdout).unwrap(),
        json!("")
    );

    let wrong = spesc(
        &dir,
        &["approve", &rejected, "verdict", "--decision", "approve"],
    );
    assert_eq!(wrong.status.code(), Some(2));
    assert!(stderr(&wrong).contains("not waiting"), "{}", stderr(&wrong));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_plan_changed_at_a_completed_step_is_refused_and_one_changed_after_is_resumed() {
    let dir = folder("changed");
    std::fs::write(dir.join("two.spes"), TWO_STEPS).unwrap();
    std::fs::write(dir.join("fail.json"), r#"{"second": [{"status": 401}]}"#).unwrap();
    let failed = spesc(
        &dir,
        &[
            "run",
            "two.spes",
            "--input",
            "topic=x",
            "--mock-script",
            "fail.json",
            "-q",
        ],
    );
    assert_eq!(failed.status.code(), Some(1), "{}", stderr(&failed));

    std::fs::write(
        dir.join("two.spes"),
        TWO_STEPS.replace("First on", "Begin with"),
    )
    .unwrap();
    let refused = spesc(&dir, &["resume", "last"]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        stderr(&refused).contains("the plan changed at steps that already completed: `first`"),
        "{}",
        stderr(&refused)
    );

    std::fs::write(
        dir.join("two.spes"),
        TWO_STEPS.replace("Second after", "Then, after"),
    )
    .unwrap();
    let resumed = spesc(&dir, &["resume", "last", "-q"]);
    assert_eq!(resumed.status.code(), Some(0), "{}", stderr(&resumed));
    let nodes = show(&dir, "last")["nodes"].clone();
    let firsts = nodes
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["id"] == "first")
        .count();
    assert_eq!(firsts, 1, "the completed step was not run again");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A model's settings are part of what a completed step did: changing one
/// (its temperature, its endpoint, its timeout) refuses the resume as a
/// changed prompt does (docs/running.md).
#[test]
fn a_changed_model_setting_of_a_completed_step_refuses_the_resume() {
    let dir = folder("settings");
    let model = "model m { provider = openai  name = \"tiny\"  base_url = \"http://127.0.0.1:9/v1\"  temperature = 0.1 }";
    let file = TWO_STEPS.replace("model m { provider = mock }", model);
    std::fs::write(dir.join("two.spes"), &file).unwrap();
    std::fs::write(dir.join("fail.json"), r#"{"second": [{"status": 401}]}"#).unwrap();
    let run = ["run", "--mock", "two.spes", "--input", "topic=x"];
    let failed = spesc(
        &dir,
        &[&run[..], &["--mock-script", "fail.json", "-q"]].concat(),
    );
    assert_eq!(failed.status.code(), Some(1), "{}", stderr(&failed));
    for (what, changed) in [
        (
            "temperature",
            file.replace("temperature = 0.1", "temperature = 0.9"),
        ),
        (
            "base_url",
            file.replace("127.0.0.1:9/v1", "127.0.0.1:10/v1"),
        ),
        (
            "timeout",
            file.replace("temperature = 0.1", "temperature = 0.1  timeout = 5s"),
        ),
    ] {
        std::fs::write(dir.join("two.spes"), changed).unwrap();
        let refused = spesc(&dir, &["resume", "last"]);
        assert_eq!(
            refused.status.code(),
            Some(2),
            "{what}: {}",
            stderr(&refused)
        );
        assert!(
            stderr(&refused).contains("the plan changed at steps that already completed: `first`"),
            "{what}: {}",
            stderr(&refused)
        );
    }
    std::fs::write(dir.join("two.spes"), &file).unwrap();
    let resumed = spesc(&dir, &["resume", "last", "-q"]);
    assert_eq!(resumed.status.code(), Some(0), "{}", stderr(&resumed));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_run_in_progress_cannot_be_resumed_by_another_process() {
    let dir = folder("busy");
    let server = Server::start(vec![Answer::Slow(
        Duration::from_secs(60),
        Box::new(reply("late")),
    )]);
    std::fs::write(dir.join("five.spes"), five_steps(&server.url)).unwrap();
    let running = start(&dir, &["run", "five.spes", "--input", "topic=x", "-q"]);
    wait_for(&server, 1);
    let second = spesc(&dir, &["resume", "last"]);
    kill(running);
    assert_eq!(second.status.code(), Some(2));
    assert!(
        stderr(&second).contains("is being run by process"),
        "{}",
        stderr(&second)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_fan_out_killed_mid_way_resumes_only_the_items_not_done() {
    let dir = folder("fan");
    // Items 1..=3 answer; item 4 is held until the kill.
    let mut answers: Vec<Answer> = (1..=3).map(|n| reply(&format!("S{n}"))).collect();
    answers.push(Answer::Slow(
        Duration::from_secs(60),
        Box::new(reply("too late")),
    ));
    answers.extend((4..=5).map(|n| reply(&format!("S{n}"))));
    let server = Server::start(answers);
    let text = format!(
        "model m {{ provider = openai  name = \"tiny\"  base_url = \"{}/v1\" }}
workflow fan(items: int[]) -> string[] {{
  let summaries: string[] = for item in items (concurrency = 1) {{
    step summary: string {{ model = m  prompt = \"Item {{{{ item }}}}\" }}
    summary
  }}
  return summaries
}}
",
        server.url
    );
    std::fs::write(dir.join("fan.spes"), text).unwrap();
    let running = start(
        &dir,
        &["run", "fan.spes", "--input", "items=[1, 2, 3, 4, 5]", "-q"],
    );
    wait_for(&server, 4);
    kill(running);
    let journaled: Vec<String> = show(&dir, "last")["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        journaled,
        [
            "summaries.each[0].summary",
            "summaries.each[1].summary",
            "summaries.each[2].summary"
        ]
    );

    let resumed = spesc(&dir, &["resume", "last", "-q"]);
    assert_eq!(resumed.status.code(), Some(0), "{}", stderr(&resumed));
    let result: Value = serde_json::from_slice(&resumed.stdout).unwrap();
    assert_eq!(result, json!(["S1", "S2", "S3", "S4", "S5"]));
    let items: Vec<String> = server.seen()[4..]
        .iter()
        .map(|r| {
            r.body["messages"][0]["content"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(
        items,
        ["Item 4", "Item 5"],
        "the done items were not called again"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

const CALLER: &str = "model m { provider = mock }
workflow inner(topic: string) -> string {
  step a: string { model = m  prompt = \"Inner on {{ topic }}\" }
  return a
}
workflow outer(topic: string) -> string {
  step called: string = call inner(topic = topic)
  step second: string { model = m  prompt = \"Second after {{ called }}\" }
  return second
}
";

#[test]
fn a_run_resumes_through_a_completed_call_and_notices_a_change_inside_it() {
    let dir = folder("call");
    std::fs::write(dir.join("calls.spes"), CALLER).unwrap();
    std::fs::write(dir.join("fail.json"), r#"{"second": [{"status": 401}]}"#).unwrap();
    let failed = spesc(
        &dir,
        &[
            "run",
            "calls.spes",
            "--workflow",
            "outer",
            "--input",
            "topic=x",
            "--mock-script",
            "fail.json",
            "-q",
        ],
    );
    assert_eq!(failed.status.code(), Some(1), "{}", stderr(&failed));
    let ids: Vec<Value> = show(&dir, "last")["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].clone())
        .collect();
    assert!(
        ids.contains(&json!("called/a")) && ids.contains(&json!("called")),
        "the called workflow's step is journaled under its call: {ids:?}"
    );

    std::fs::write(dir.join("calls.spes"), CALLER.replace("Inner on", "Within")).unwrap();
    let refused = spesc(&dir, &["resume", "last"]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        stderr(&refused).contains("`called/a`"),
        "a change inside the called workflow is noticed: {}",
        stderr(&refused)
    );

    std::fs::write(dir.join("calls.spes"), CALLER).unwrap();
    let resumed = spesc(&dir, &["resume", "last", "-q"]);
    assert_eq!(resumed.status.code(), Some(0), "{}", stderr(&resumed));
    let nodes = show(&dir, "last")["nodes"].clone();
    let inner = nodes
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["id"] == "called/a")
        .count();
    assert_eq!(inner, 1, "the completed call was not run again");
    std::fs::remove_dir_all(&dir).unwrap();
}
