//! End to end against a real model: llama.cpp's server with SmolLM2 on
//! 127.0.0.1:8089 (`scripts/local-model.sh start`; CI starts it). Without
//! the server these tests are reported ignored, with the reason; run them
//! with `cargo test -- --include-ignored`, and they fail, never pass,
//! when the server is not there.

// A test fails by panicking; `expect` says where and why.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod support;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;
use support::binary::{folder, spesc};

const SERVER: &str = "127.0.0.1:8089";
const NEEDS_SERVER: &str = "needs the local model: scripts/local-model.sh start";

/// Fails the test unless the model server answers `/health` with 200.
fn require_server() {
    let ready = std::net::TcpStream::connect(SERVER)
        .ok()
        .and_then(|mut stream| {
            stream
                .write_all(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                .ok()?;
            let mut answer = String::new();
            stream.read_to_string(&mut answer).ok()?;
            Some(answer.starts_with("HTTP/1.1 200"))
        });
    assert_eq!(
        ready,
        Some(true),
        "no model server on {SERVER}: {NEEDS_SERVER}"
    );
}

fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/local_model.spes")
}

/// The result of a successful run: a `Note` with a headline and a tone.
fn note(output: &Output) -> Value {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let note: Value = serde_json::from_slice(&output.stdout).expect("the result is JSON");
    let headline = note["headline"].as_str().expect("a headline");
    assert!(!headline.trim().is_empty(), "{note}");
    let tone = note["tone"].as_str().expect("a tone");
    assert!(
        ["good_news", "bad_news", "neutral"].contains(&tone),
        "{note}"
    );
    note
}

/// The last run journaled in `dir`.
fn record(dir: &Path) -> Value {
    let shown = spesc(dir, &["show", "last", "--json"]);
    serde_json::from_slice(&shown.stdout).expect("the run as JSON")
}

#[test]
#[ignore = "needs the local model: scripts/local-model.sh start"]
fn the_example_runs_on_a_real_model_through_anthropic_and_openai() {
    require_server();
    let dir = folder("run");
    let example = example();
    note(&spesc(&dir, &["run", example.to_str().unwrap(), "-q"]));
    let record = record(&dir);
    let steps = record["nodes"].as_array().unwrap();
    for (id, model) in [("headline", "local_claude"), ("assessment", "local")] {
        let step = steps.iter().find(|s| s["id"] == id).expect("the step");
        assert_eq!(step["model"], model, "{step}");
        assert!(
            step["tokens"]["completion"].as_u64().unwrap_or(0) > 0,
            "the server counted tokens: {step}"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
#[ignore = "needs the local model: scripts/local-model.sh start"]
fn the_example_succeeds_on_longer_inputs_too() {
    require_server();
    let dir = folder("long");
    let example = example();
    for change in [
        "The service will be down for maintenance on Sunday for six hours while we migrate every customer database to new hardware in another region.",
        "We rewrote the scheduler: jobs now start in milliseconds instead of seconds, the web dashboard shows live progress for every pipeline, memory use fell by a third on large projects, and three long-standing crashes on Windows are fixed.",
    ] {
        let input = format!("change={change}");
        let note = note(&spesc(&dir, &["run", example.to_str().unwrap(), "-q", "--input", &input]));
        assert!(!note["headline"].as_str().unwrap_or("").is_empty(), "{note}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
#[ignore = "needs the local model: scripts/local-model.sh start"]
fn streamed_replies_from_a_real_model_are_recorded_and_replayed() {
    require_server();
    let dir = folder("stream");
    let streamed = std::fs::read_to_string(example()).unwrap().replace(
        "timeout = 60s",
        "timeout = 60s\n  stream = true\n  idle_timeout = 30s",
    );
    let file = dir.join("streamed.spes");
    std::fs::write(&file, streamed).unwrap();
    let file = file.to_str().unwrap();
    let live = note(&spesc(&dir, &["run", file, "-q", "--record", "real.jsonl"]));
    let recording = std::fs::read_to_string(dir.join("real.jsonl")).unwrap();
    assert!(
        recording.contains("text/event-stream"),
        "the replies were streamed: {recording}"
    );
    let replayed = note(&spesc(&dir, &["run", file, "-q", "--replay", "real.jsonl"]));
    assert_eq!(live, replayed);
    std::fs::remove_dir_all(&dir).unwrap();
}
