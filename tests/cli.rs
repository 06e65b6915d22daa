//! The `spesc` binary, driven as a user would: exit codes, output formats,
//! relative paths, `explain`, `--version`.

// A test fails by panicking; `expect` says where and why.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::path::Path;
use std::process::{Command, Output};

/// Runs `spesc` in the crate root with `args`.
fn spesc(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_spesc"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .output()
        .expect("spesc runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn every_example_checks_clean() {
    let output = spesc(&["check", "examples"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(stderr(&output), "", "a clean check prints nothing");
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
