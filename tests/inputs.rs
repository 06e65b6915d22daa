//! A workflow's inputs, however given (`--input`, `--input-file`, both),
//! are checked against its parameters before anything runs: every problem
//! at once, exit 2, and nothing run.

// A test fails by panicking; `expect` says where and why.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Output;

const PAINT: &str = "model m { provider = mock }
enum Color { red, green, blue }
workflow paint(color: Color, count: int, note: string = \"x\") -> string {
  step s: string { model = m  prompt = \"Paint {{ count }} {{ color }}\" }
  return s
}
";

fn folder(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("spesc-inputs-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("paint.spes"), PAINT).unwrap();
    dir
}

fn spesc(dir: &Path, args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_spesc"))
        .args(["run", "paint.spes", "--state", "state.db"])
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

fn errors(output: &Output) -> Vec<String> {
    String::from_utf8_lossy(&output.stderr)
        .lines()
        .filter(|l| l.starts_with("error: "))
        .map(str::to_string)
        .collect()
}

#[test]
fn an_input_file_is_checked_like_input_pairs_all_at_once() {
    let dir = folder("file");
    std::fs::write(
        dir.join("in.json"),
        r#"{"count": "three", "colour": "red", "color": "purple"}"#,
    )
    .unwrap();
    let output = spesc(&dir, &["--input-file", "in.json"]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        errors(&output),
        [
            "error: input `color` in `in.json`: expected one of red, green, blue, found \"purple\"",
            "error: `paint` has no input `colour` in `in.json`; it takes `color`, `count` and `note`",
            "error: input `count` in `in.json`: expected `int`, found a string",
        ]
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("run "), "nothing ran: {stderr}");

    // The same problems given as pairs are reported the same way, with
    // what is missing.
    let pairs = spesc(&dir, &["--input", "color=purple", "--input", "cnt=1"]);
    assert_eq!(pairs.status.code(), Some(2));
    assert_eq!(
        errors(&pairs),
        [
            "error: input `color`: expected one of red, green, blue, found \"purple\"",
            "error: `paint` has no input `cnt`; it takes `color`, `count` and `note`",
            "error: missing input `count` (int); give it with --input KEY=VALUE",
        ]
    );

    // A pair given over a bad file value replaces it.
    std::fs::write(dir.join("in.json"), r#"{"count": "three", "color": "red"}"#).unwrap();
    let fixed = spesc(
        &dir,
        &["--input-file", "in.json", "--input", "count=3", "-q"],
    );
    assert_eq!(fixed.status.code(), Some(0), "{:?}", errors(&fixed));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_enum_input_is_a_bare_variant_in_any_case() {
    let dir = folder("enum");
    for color in ["red", "Green", "\"blue\""] {
        let arg = format!("color={color}");
        let output = spesc(&dir, &["--input", &arg, "--input", "count=2", "-q"]);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{color}: {:?}",
            errors(&output)
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
