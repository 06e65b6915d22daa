//! The `spesc` binary, driven as a user would: exit codes, output formats,
//! relative paths, `explain`, `--version`.

// A test fails by panicking; `expect` says where and why.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod support;

use std::path::Path;
use std::process::{Command, Output};

use support::binary::{command, stderr, stdout};

/// Runs `spesc` in the crate root with `args`.
fn spesc(args: &[&str]) -> Output {
    support::binary::spesc(Path::new(env!("CARGO_MANIFEST_DIR")), args)
}

#[test]
fn every_example_checks_clean() {
    let output = spesc(&["check", "examples"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    // Every `.spes` file under the folder, subfolders included.
    let err = stderr(&output);
    let count: usize = err
        .strip_prefix("checked ")
        .and_then(|rest| rest.strip_suffix(" files: no errors, 0 warnings\n"))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("a clean check says what it covered: {err:?}"));
    assert!(count > 10, "{err}");
    let one = spesc(&["check", "examples/hello.spes"]);
    assert_eq!(stderr(&one), "checked 1 file: no errors, 0 warnings\n");
}

#[test]
fn a_terminal_is_shown_the_first_hundred_diagnostics_and_told_how_many_more() {
    let dir = std::env::temp_dir().join(format!("spesc-cli-many-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("bad.spes");
    let lines: String = (0..150).map(|i| format!("type T{i} = x\n")).collect();
    std::fs::write(&file, lines).unwrap();
    let file = file.to_str().unwrap();
    let count = |output: &Output| stderr(output).matches("error[E0001]").count();

    let rich = spesc(&["check", file]);
    assert_eq!(rich.status.code(), Some(1));
    assert_eq!(count(&rich), 100, "{}", stderr(&rich));
    assert!(stderr(&rich).ends_with(
        "note: 50 more not shown (50 errors, 0 warnings); \
         `spesc check --max-diagnostics 0` shows them all\n150 errors, 0 warnings\n"
    ));

    let short = spesc(&["check", "--format", "short", "--max-diagnostics", "3", file]);
    assert_eq!(count(&short), 3, "{}", stderr(&short));
    assert!(stderr(&short).contains("note: 147 more not shown"));

    let all = spesc(&["check", "--max-diagnostics", "0", file]);
    assert_eq!(count(&all), 150);
    assert!(!stderr(&all).contains("more not shown"));

    let json = spesc(&["check", "--format", "json", file]);
    assert_eq!(stdout(&json).matches("\"code\": \"E0001\"").count(), 150);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn errors_exit_1_with_rich_output_and_a_summary() {
    let output = spesc(&["check", "tests/ui/syntax/unknown_clause.spes"]);
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert!(
        err.contains("error[E0001]: unknown step clause `modle`"),
        "{err}"
    );
    assert!(
        err.contains("┌─ tests/ui/syntax/unknown_clause.spes:5:5"),
        "{err}"
    );
    assert!(err.contains("= help: did you mean `model`?"), "{err}");
    assert!(err.ends_with("3 errors, 0 warnings\n"), "{err}");
    assert!(!err.contains('\u{1b}'), "no colour when not on a terminal");
}

#[test]
fn short_format_is_one_line_per_diagnostic() {
    let output = spesc(&[
        "check",
        "--format",
        "short",
        "tests/ui/syntax/unknown_clause.spes",
    ]);
    assert_eq!(output.status.code(), Some(1));
    insta::assert_snapshot!(stderr(&output), @r"
    tests/ui/syntax/unknown_clause.spes:5:5: error[E0001]: unknown step clause `modle`
    tests/ui/syntax/unknown_clause.spes:6:5: error[E0001]: unknown step clause `promt`
    tests/ui/syntax/unknown_clause.spes:7:5: error[E0001]: unknown step clause `colour`
    ");
}

#[test]
fn json_format_goes_to_stdout() {
    let output = spesc(&[
        "check",
        "--format",
        "json",
        "tests/ui/syntax/bad_escape.spes",
    ]);
    assert_eq!(output.status.code(), Some(1));
    let value: serde_json::Value = serde_json::from_str(&stdout(&output)).expect("valid JSON");
    insta::assert_snapshot!(serde_json::to_string_pretty(&value).expect("serializes"));
}

/// A contract error across an import: secondary labels in another file,
/// notes and help all reach the JSON.
#[test]
fn json_format_carries_every_label_note_and_help() {
    let output = spesc(&[
        "check",
        "--format",
        "json",
        "tests/ui/check/unknown_field_across_import.spes",
    ]);
    assert_eq!(output.status.code(), Some(1));
    let value: serde_json::Value = serde_json::from_str(&stdout(&output)).expect("valid JSON");
    insta::assert_snapshot!(serde_json::to_string_pretty(&value).expect("serializes"));
}

/// `check --env` reports a model whose key variable is not set, and a
/// plain `check` does not look.
#[test]
fn env_flag_reports_missing_api_keys() {
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_spesc"))
            .args(args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env("NO_COLOR", "1")
            .env_remove("ANTHROPIC_API_KEY")
            .env_remove("TEAM_OPENAI_KEY")
            .output()
            .expect("spesc runs")
    };
    let case = "tests/ui/check/api_key_not_set.spes";
    let plain = run(&["check", "--format", "short", case]);
    assert_eq!(plain.status.code(), Some(0));
    assert_eq!(stderr(&plain), "");
    let with_env = run(&["check", "--env", "--format", "short", case]);
    assert_eq!(
        with_env.status.code(),
        Some(0),
        "warnings do not fail a check"
    );
    let text = stderr(&with_env);
    assert!(
        text.contains("warning[W0507]: `ANTHROPIC_API_KEY` is not set for model `smart`"),
        "{text}"
    );
    assert!(
        text.contains("`TEAM_OPENAI_KEY` is not set for model `team`"),
        "{text}"
    );
    assert!(
        !text.contains("local"),
        "a local server needs no key: {text}"
    );
}

#[test]
fn plan_prints_text_or_json_and_refuses_a_file_with_errors() {
    let text = spesc(&["plan", "examples/map_reduce.spes"]);
    assert_eq!(text.status.code(), Some(0), "{}", stderr(&text));
    assert!(
        stdout(&text).starts_with("plan fnv1a64:"),
        "{}",
        stdout(&text)
    );
    assert!(stdout(&text).contains("for doc in documents · concurrency 16 · tolerate 5%"));

    let json = spesc(&["plan", "--json", "examples/map_reduce.spes"]);
    assert_eq!(json.status.code(), Some(0));
    let value: serde_json::Value = serde_json::from_str(&stdout(&json)).expect("valid JSON");
    assert_eq!(value["schema"], 2);
    assert_eq!(
        value["workflows"][0]["nodes"][1]["id"],
        "summaries.each.summary"
    );
    assert_eq!(
        value["workflows"][0]["nodes"][1]["policy"]["retry"]["attempts"],
        5
    );

    let bad = spesc(&["plan", "tests/ui/check/type_mismatches.spes"]);
    assert_eq!(bad.status.code(), Some(1));
    assert_eq!(stdout(&bad), "", "no plan for a file with errors");
    assert!(stderr(&bad).contains("error[E0202]"), "{}", stderr(&bad));
}

#[test]
fn graph_draws_mermaid_or_dot() {
    let mermaid = spesc(&["graph", "examples/complexity_routing.spes"]);
    assert_eq!(mermaid.status.code(), Some(0), "{}", stderr(&mermaid));
    assert!(stdout(&mermaid).starts_with("flowchart TD\n"));
    assert!(
        stdout(&mermaid).contains("-->|\"simple\"|"),
        "{}",
        stdout(&mermaid)
    );
    let dot = spesc(&[
        "graph",
        "--format",
        "dot",
        "examples/complexity_routing.spes",
    ]);
    assert_eq!(dot.status.code(), Some(0));
    assert!(stdout(&dot).starts_with("digraph spes {"));
    assert!(stdout(&dot).contains("lhead="), "{}", stdout(&dot));
}

/// Runs `spesc` in a fresh folder (run records go under `.spes/`), with
/// `args` naming files in the crate by absolute path.
fn spesc_elsewhere(name: &str, args: &[&str]) -> (Output, std::path::PathBuf) {
    // Kept between calls: a test's later commands read what earlier ones wrote.
    let dir = std::env::temp_dir().join(format!("spesc-cli-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp folder");
    let output = command(&dir, args)
        .env_remove("OPENAI_API_KEY")
        .env_remove("ANTHROPIC_API_KEY")
        .env_remove("GEMINI_API_KEY")
        .output()
        .expect("spesc runs");
    (output, dir)
}

fn example(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(name)
        .display()
        .to_string()
}

#[test]
fn run_prints_the_result_and_saves_a_record() {
    let hello = example("hello.spes");
    let (output, dir) = spesc_elsewhere("hello", &["run", &hello, "--input", "name=Ada"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let result: serde_json::Value = serde_json::from_str(&stdout(&output)).expect("JSON result");
    assert!(result.is_string());
    assert!(
        stderr(&output).contains("✓ greeting succeeded"),
        "{}",
        stderr(&output)
    );
    assert!(
        dir.join(".spes/state.db").exists(),
        "the journal is a real database file"
    );
    let shown = Command::new(env!("CARGO_BIN_EXE_spesc"))
        .args(["show", "last", "--json"])
        .current_dir(&dir)
        .output()
        .expect("spesc runs");
    let record: serde_json::Value = serde_json::from_slice(&shown.stdout).expect("JSON");
    assert_eq!(record["status"], "succeeded");
    assert_eq!(record["inputs"]["name"], "Ada");
    assert!(record["plan_hash"]
        .as_str()
        .unwrap()
        .starts_with("fnv1a64:"));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn run_exit_codes_say_how_it_ended() {
    let routing = example("complexity_routing.spes");
    // A model whose key is not set is refused before any step runs, naming
    // the variable and the model.
    let (refused, dir) = spesc_elsewhere("codes", &["run", &routing, "--input", "request=x"]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        stderr(&refused).contains(
            "API keys are not set: `ANTHROPIC_API_KEY` (model `strong`), `OPENAI_API_KEY` (model `fast`)"
        ),
        "{}",
        stderr(&refused)
    );
    let (ok, _) = spesc_elsewhere(
        "codes",
        &["run", "--mock", &routing, "--input", "request=x"],
    );
    assert_eq!(ok.status.code(), Some(0), "{}", stderr(&ok));

    let approval = example("human_approval.spes");
    let (waiting, _) = spesc_elsewhere(
        "codes",
        &["run", "--mock", &approval, "--input", "change=v2"],
    );
    assert_eq!(waiting.status.code(), Some(3), "{}", stderr(&waiting));
    assert!(
        stderr(&waiting).contains("--answers"),
        "{}",
        stderr(&waiting)
    );

    let (bad_input, _) =
        spesc_elsewhere("codes", &["run", "--mock", &routing, "--input", "requst=x"]);
    assert_eq!(bad_input.status.code(), Some(2));
    assert!(
        stderr(&bad_input).contains("no input `requst`"),
        "{}",
        stderr(&bad_input)
    );
    let (missing, _) = spesc_elsewhere("codes", &["run", "--mock", &routing]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        stderr(&missing).contains("missing input `request` (string)"),
        "{}",
        stderr(&missing)
    );

    let broken = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ui/check/type_mismatches.spes");
    let (compile_error, _) =
        spesc_elsewhere("codes", &["run", "--mock", &broken.display().to_string()]);
    assert_eq!(compile_error.status.code(), Some(2));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_mock_script_drives_failures_from_the_command_line() {
    let hello = example("hello.spes");
    let dir = std::env::temp_dir().join(format!("spesc-cli-script-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let script = dir.join("script.json");
    std::fs::write(
        &script,
        r#"{"greeting": [{"status": 500}, {"status": 401}]}"#,
    )
    .unwrap();
    let script = script.display().to_string();
    let (failed, _) = spesc_elsewhere("script", &["run", &hello, "--mock-script", &script]);
    assert_eq!(failed.status.code(), Some(1), "{}", stderr(&failed));
    assert!(
        stderr(&failed).contains("error: step `greeting` failed: model `fast` (mock): HTTP 401"),
        "{}",
        stderr(&failed)
    );
    std::fs::write(dir.join("bad.json"), r#"{"greeting": [{"stauts": 500}]}"#).unwrap();
    let bad = dir.join("bad.json").display().to_string();
    let (refused, _) = spesc_elsewhere("script", &["run", &hello, "--mock-script", &bad]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        stderr(&refused).contains("unknown field `stauts`"),
        "{}",
        stderr(&refused)
    );
    // An entry for no step is refused, not silently ignored.
    std::fs::write(dir.join("typo.json"), r#"{"greting": [{"status": 500}]}"#).unwrap();
    let typo = dir.join("typo.json").display().to_string();
    let (refused, _) = spesc_elsewhere("script", &["run", &hello, "--mock-script", &typo]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        stderr(&refused).starts_with(
            "error: the mock script names no step of this file: `greting`\n  = help: `greting`: did you mean `greeting`?"
        ),
        "{}",
        stderr(&refused)
    );
    let _ = std::fs::remove_dir_all(dir);
}

/// On a terminal, `ask` asks inline. `script` (util-linux) gives the run a
/// pseudo-terminal and types the answers.
#[test]
fn ask_asks_inline_on_a_terminal() {
    use std::io::Write;
    let approval = example("human_approval.spes");
    let dir = std::env::temp_dir().join(format!("spesc-cli-terminal-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let command = format!(
        "{} run --mock {approval} --input change=v2",
        env!("CARGO_BIN_EXE_spesc")
    );
    let mut child = Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .env("NO_COLOR", "1")
        .current_dir(&dir)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("`script` (util-linux) is installed");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"maybe\nrevise\nshorter please\napprove\n\n")
        .unwrap();
    let output = child.wait_with_output().unwrap();
    let text = stdout(&output).replace('\r', "");
    assert_eq!(output.status.code(), Some(0), "{text}");
    assert_eq!(
        text.matches("].verdict` asks: Publish this announcement?")
            .count(),
        2,
        "{text}"
    );
    assert!(
        text.contains("decision [approve/reject/revise]: "),
        "{text}"
    );
    // An answer that does not fit is explained, then asked again.
    assert!(
        text.contains("that answer does not fit: decision: expected one of approve, reject, revise, found \"maybe\"; try again"),
        "{text}"
    );
    assert!(text.contains("succeeded"), "{text}");
}

#[test]
fn events_stream_as_json_lines() {
    let hello = example("hello.spes");
    let dir = std::env::temp_dir().join(format!("spesc-cli-events-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("script.json"),
        r#"{"greeting": [{"status": 503}]}"#,
    )
    .unwrap();
    let script = dir.join("script.json").display().to_string();
    let (output, _) = spesc_elsewhere(
        "events",
        &["run", &hello, "--events", "json", "--mock-script", &script],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let events: Vec<serde_json::Value> = stdout(&output)
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    let kinds: Vec<&str> = events
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "run_started",
            "step_started",
            "attempt_failed",
            "step_finished",
            "run_finished"
        ]
    );
    assert_eq!(events[2]["error"], "model `fast` (mock): HTTP 503");
    assert_eq!(events[3]["attempts"], 2);
    assert_eq!(events[4]["status"], "succeeded");
    assert!(events[4]["output"].is_string());
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_for_says_how_many_items_it_runs_as_soon_as_it_knows() {
    let (output, _) = spesc_elsewhere(
        "items",
        &[
            "run",
            "--mock",
            &example("map_reduce.spes"),
            "--input",
            r#"documents=["a", "b", "c"]"#,
            "--input",
            "question=q",
            "--events",
            "json",
        ],
    );
    let events: Vec<serde_json::Value> = stdout(&output)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON event"))
        .collect();
    let known = events
        .iter()
        .position(|e| e["event"] == "items_known")
        .expect("an items_known event");
    assert_eq!(events[known]["id"], "summaries");
    assert_eq!(events[known]["items"], 3);
    assert_eq!(events[known]["steps"], 1);
    let first_item = events
        .iter()
        .position(|e| e["event"] == "step_finished" && e["id"] == "summaries.each[0].summary")
        .expect("item 0 finished");
    assert!(known < first_item, "known before any item finishes");
}

#[test]
fn a_step_starts_when_its_inputs_are_ready() {
    let dir = std::env::temp_dir().join(format!("spesc-cli-start-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("wait.spes");
    std::fs::write(
        &file,
        "workflow w() -> string {
  step slow: ExecResult = exec { command = [\"sleep\", \"0.2\"] }
  step next: ExecResult = exec { command = [\"echo\", \"{{ slow.code }}\"] }
  return next.stdout
}
",
    )
    .unwrap();
    let (output, _) = spesc_elsewhere(
        "start",
        &["run", file.to_str().unwrap(), "--events", "json"],
    );
    let events: Vec<serde_json::Value> = stdout(&output)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON event"))
        .collect();
    let at = |kind: &str, id: &str| {
        events
            .iter()
            .position(|e| e["event"] == kind && e["id"] == id)
            .expect("the event")
    };
    assert!(
        at("step_finished", "slow") < at("step_started", "next"),
        "`next` is not running while it waits for `slow`"
    );
    let next = &events[at("step_finished", "next")];
    assert!(next["waited_ms"].as_u64().unwrap_or(0) >= 150, "{next}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn without_a_terminal_progress_is_one_line_per_event() {
    let routing = example("complexity_routing.spes");
    let (output, _) = spesc_elsewhere(
        "lines",
        &["run", "--mock", &routing, "--input", "request=x"],
    );
    let text = stderr(&output);
    assert!(text.contains("✓ complexity succeeded ("), "{text}");
    assert!(text.contains(", model fast)"), "{text}");
    let (quiet, _) = spesc_elsewhere(
        "lines",
        &["run", "-q", "--mock", &routing, "--input", "request=x"],
    );
    // Only the result: no progress and no closing summary.
    assert_eq!(stderr(&quiet), "", "-q prints only the result and errors");
    assert!(stdout(&quiet).starts_with('"'), "{}", stdout(&quiet));
}

#[test]
fn test_runs_the_test_blocks() {
    let output = spesc(&["test", "examples/tested_router.spes"]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    assert!(
        stdout(&output).ends_with("3 passed, 0 failed\n"),
        "{}",
        stdout(&output)
    );
}

#[test]
fn absolute_paths_are_shown_relative_to_the_working_directory() {
    let absolute = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ui/syntax/bad_escape.spes");
    let output = spesc(&[
        "check",
        "--format",
        "short",
        absolute.to_str().expect("utf-8 path"),
    ]);
    assert!(
        stderr(&output).starts_with("tests/ui/syntax/bad_escape.spes:1:21:"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn colour_can_be_forced() {
    let output = spesc(&[
        "--color",
        "always",
        "check",
        "tests/ui/syntax/bad_escape.spes",
    ]);
    assert!(stderr(&output).contains('\u{1b}'));
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        &["check"][..],
        &["check", "no/such/file.spes"],
        &["check", "--format", "xml", "examples/hello.spes"],
        &["frobnicate"],
        &["explain", "E9999"],
    ] {
        let output = spesc(args);
        assert_eq!(
            output.status.code(),
            Some(2),
            "spesc {args:?}: {}",
            stderr(&output)
        );
    }
    let missing = spesc(&["check", "no/such/file.spes"]);
    assert!(
        stderr(&missing).contains("cannot read `no/such/file.spes`"),
        "{}",
        stderr(&missing)
    );
}

#[test]
fn explain_lists_the_codes_and_renders_a_page_for_reading() {
    let list = spesc(&["explain"]);
    assert_eq!(list.status.code(), Some(0));
    let text = stdout(&list);
    assert!(
        text.starts_with("E0001  syntax error\nE0101  unknown name\n"),
        "{text}"
    );
    assert_eq!(
        text.lines().filter(|l| l.starts_with(['E', 'W'])).count(),
        spesc::diagnostic::Code::ALL.len()
    );
    // Forced colour stands in for a terminal: no Markdown syntax left.
    let shown = spesc(&["--color", "always", "explain", "E0001"]);
    let page = stdout(&shown);
    assert!(page.starts_with("\x1b[1mE0001: syntax error"), "{page:?}");
    assert!(!page.contains("```") && !page.contains("## "), "{page}");
    let raw = spesc(&["--color", "always", "explain", "E0001", "--markdown"]);
    assert!(stdout(&raw).starts_with("# E0001: syntax error"));
}

#[test]
fn explain_prints_the_page() {
    for code in ["E0001", "e0001", "0001"] {
        let output = spesc(&["explain", code]);
        assert_eq!(output.status.code(), Some(0));
        assert!(
            stdout(&output).starts_with("# E0001: syntax error"),
            "{}",
            stdout(&output)
        );
    }
    // Every code has a page with an example and its fix.
    for code in spesc::diagnostic::Code::ALL {
        let output = spesc(&["explain", code.as_str()]);
        let page = stdout(&output);
        assert_eq!(output.status.code(), Some(0), "{code}");
        assert!(page.starts_with(&format!("# {code}: ")), "{code}: {page}");
        assert!(
            page.contains("## Example") && page.contains("```spes"),
            "{code}: {page}"
        );
    }
}

#[test]
fn version_and_help() {
    let version = spesc(&["--version"]);
    assert_eq!(
        stdout(&version).trim(),
        format!("spesc {}", env!("CARGO_PKG_VERSION"))
    );
    let help = spesc(&["--help"]);
    assert!(stdout(&help).contains("Examples:"), "{}", stdout(&help));
    assert!(
        stdout(&help).contains("spesc check examples"),
        "{}",
        stdout(&help)
    );
}

#[test]
fn a_reader_that_goes_away_ends_the_command_quietly() {
    use std::io::Read;
    // A plan far larger than a pipe's buffer, so spesc is still writing
    // when the reader leaves (`spesc plan --json big.spes | head -c 100`).
    let dir = std::env::temp_dir().join(format!("spesc-cli-pipe-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut text = String::from("model fast { provider = mock }\nworkflow w() -> string {\n");
    text.push_str("  step s0: string { model = fast  prompt = \"Begin\" }\n");
    for i in 1..600 {
        text.push_str(&format!(
            "  step s{i}: string {{ model = fast  prompt = \"Go on from {{{{ s{} }}}}\" }}\n",
            i - 1
        ));
    }
    text.push_str("  return s599\n}\n");
    std::fs::write(dir.join("big.spes"), text).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_spesc"))
        .args(["plan", "--json", "big.spes"])
        .current_dir(&dir)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut start = [0u8; 100];
    child.stdout.take().unwrap().read_exact(&mut start).unwrap();
    // The read end is closed here.
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(stderr(&output), "");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn control_characters_in_a_file_reach_the_terminal_escaped() {
    let dir = std::env::temp_dir().join(format!("spesc-cli-controls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // A title change and a screen clear, in an import path and in a comment
    // on a line an error is shown on.
    let text = "import \"\u{1b}]0;owned\u{7}.spes\"\nworkflow w() -> string { step s: string { modle = x } } // \u{1b}[2J\n";
    std::fs::write(dir.join("hostile.spes"), text).unwrap();
    for format in ["rich", "short"] {
        let output = Command::new(env!("CARGO_BIN_EXE_spesc"))
            .args(["check", "--format", format, "hostile.spes"])
            .current_dir(&dir)
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        let shown = stderr(&output) + &stdout(&output);
        assert!(shown.contains("E0001"), "{shown}");
        assert!(
            !shown.contains('\u{1b}') && !shown.contains('\u{7}'),
            "a control character reached the terminal: {shown:?}"
        );
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn an_empty_key_variable_counts_as_not_set() {
    let routing = example("complexity_routing.spes");
    let dir = std::env::temp_dir().join(format!("spesc-cli-empty-key-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_spesc"))
        .args(["run", &routing, "--input", "request=x"])
        .current_dir(&dir)
        .env("NO_COLOR", "1")
        .env("ANTHROPIC_API_KEY", "")
        .env("OPENAI_API_KEY", "  ")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains(
            "API keys are not set: `ANTHROPIC_API_KEY` (model `strong`), `OPENAI_API_KEY` (model `fast`)"
        ),
        "{}",
        stderr(&output)
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// A project folder with `main.spes` (its text given) and `inside.md`.
fn confined_project(name: &str, main: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("spesc-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("project")).unwrap();
    std::fs::write(dir.join("secret.md"), "the secret text").unwrap();
    std::fs::write(
        dir.join("secret.spes"),
        "model leaked { provider = mock }\n",
    )
    .unwrap();
    std::fs::write(dir.join("project/inside.md"), "fine").unwrap();
    std::fs::write(dir.join("project/main.spes"), main).unwrap();
    dir
}

fn check_in(dir: &Path, file: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_spesc"))
        .args(["check", file])
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

#[test]
fn links_and_imports_cannot_leave_the_project_from_any_working_directory() {
    let main = "import \"../secret.spes\"\nimport \"/etc/passwd\"\ncomponent up = file(\"../secret.md\")\ncomponent linked = file(\"link.md\")\ncomponent fine = file(\"inside.md\")\n";
    let dir = confined_project("confined", main);
    std::os::unix::fs::symlink(dir.join("secret.md"), dir.join("project/link.md")).unwrap();
    // From above the project and from inside it: the project is
    // `main.spes`'s folder either way.
    for (cwd, file) in [
        (dir.clone(), "project/main.spes"),
        (dir.join("project"), "main.spes"),
    ] {
        let output = check_in(&cwd, file);
        let shown = stderr(&output);
        assert_eq!(output.status.code(), Some(1), "{shown}");
        assert!(
            shown.contains("import `../secret.spes` is outside the project"),
            "{shown}"
        );
        assert!(
            shown.contains("import `/etc/passwd` is outside the project"),
            "{shown}"
        );
        assert!(
            shown.contains("component file `../secret.md` is outside the project"),
            "{shown}"
        );
        assert!(
            shown.contains("component file `link.md` is outside the project"),
            "{shown}"
        );
        assert!(!shown.contains("inside.md"), "{shown}");
        assert!(
            !shown.contains("root:") && !shown.contains("leaked"),
            "{shown}"
        );
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_source_that_is_not_a_regular_file_is_refused() {
    let dir = confined_project("fifo", "import \"pipe.spes\"\n");
    let made = Command::new("mkfifo")
        .arg(dir.join("project/pipe.spes"))
        .status()
        .unwrap();
    assert!(made.success());
    let output = check_in(&dir, "project/main.spes");
    assert!(
        stderr(&output).contains("not a regular file"),
        "{}",
        stderr(&output)
    );
    let zero = check_in(&dir, "/dev/zero");
    assert_eq!(zero.status.code(), Some(2));
    assert!(
        stderr(&zero).contains("not a regular file"),
        "{}",
        stderr(&zero)
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn show_counts_a_loops_iterations() {
    let dir = std::env::temp_dir().join(format!("spesc-cli-loop-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("answers.json"),
        r#"{"verdict": {"decision": "approve"}}"#,
    )
    .unwrap();
    let answers = dir.join("answers.json").display().to_string();
    let approval = example("human_approval.spes");
    let (ran, at) = spesc_elsewhere(
        "loop",
        &[
            "run",
            "-q",
            "--mock",
            &approval,
            "--input",
            "change=v2",
            "--answers",
            &answers,
        ],
    );
    assert_eq!(ran.status.code(), Some(0), "{}", stderr(&ran));
    let shown = Command::new(env!("CARGO_BIN_EXE_spesc"))
        .args(["show", "last"])
        .current_dir(&at)
        .output()
        .unwrap();
    let text = stdout(&shown);
    let review = text
        .lines()
        .find(|l| l.trim_start().starts_with("✓ review "))
        .expect("the loop's line");
    assert!(review.contains("  1 ↻"), "one iteration: {review}");
    let _ = std::fs::remove_dir_all(dir);
}
