//! `spesc fmt`: golden layouts, idempotence, and meaning kept — every
//! example, UI case and parse corpus file formats to a file with the same
//! syntax tree (spans aside), and formatting twice changes nothing.

// A test fails by panicking; `expect` says where and why.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use spesc::source::FileId;
use spesc::syntax::{dump, format, parse};

fn format_text(text: &str) -> String {
    let parsed = parse(FileId(0), text);
    assert!(
        !parsed.has_errors(),
        "the input parses: {:?}",
        parsed.diagnostics
    );
    format::format(&parsed.file, text)
}

#[test]
fn golden_layouts() {
    insta::glob!("fmt/*.spes", |path| {
        let text = std::fs::read_to_string(path).unwrap();
        insta::assert_snapshot!(format_text(&text));
    });
}

/// Every `.spes` file under `dir` that parses.
fn parsing_files(dir: &str) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "spes") {
                out.push(path);
            }
        }
    }
    let mut files = Vec::new();
    walk(&Path::new(env!("CARGO_MANIFEST_DIR")).join(dir), &mut files);
    files.sort();
    files
        .into_iter()
        .filter(|p| !parse(FileId(0), &std::fs::read_to_string(p).unwrap()).has_errors())
        .collect()
}

#[test]
fn formatting_keeps_the_meaning_and_is_idempotent() {
    let files: Vec<PathBuf> = ["examples", "tests/ui", "tests/parse", "tests/fmt"]
        .iter()
        .flat_map(|dir| parsing_files(dir))
        .collect();
    assert!(files.len() > 60, "{} files", files.len());
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        let once = format_text(&text);
        let before = dump::dump_without_spans(&parse(FileId(0), &text).file);
        let reparsed = parse(FileId(0), &once);
        assert!(
            !reparsed.has_errors(),
            "{}: the formatted file parses:\n{once}",
            path.display()
        );
        let after = dump::dump_without_spans(&reparsed.file);
        assert_eq!(before, after, "{}: the same syntax tree", path.display());
        assert_eq!(
            format_text(&once),
            once,
            "{}: formatting twice changes nothing",
            path.display()
        );
        let comments = |t: &str| {
            parse(FileId(0), t)
                .file
                .comments
                .iter()
                .map(|c| c.text.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            comments(&text),
            comments(&once),
            "{}: every comment is kept",
            path.display()
        );
    }
}

#[test]
fn every_example_is_formatted() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_spesc"))
        .args(["fmt", "--check", "examples"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "not formatted: {}",
        String::from_utf8_lossy(&output.stdout)
    );
}

#[test]
fn fmt_rewrites_checks_and_leaves_broken_files_alone() {
    let dir = std::env::temp_dir().join(format!("spesc-fmt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let messy = dir.join("messy.spes");
    let broken = dir.join("broken.spes");
    std::fs::write(&messy, "model m {provider=mock}\n").unwrap();
    std::fs::write(&broken, "model m {provider=\n").unwrap();
    let spesc = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_spesc"))
            .args(args)
            .current_dir(&dir)
            .env("NO_COLOR", "1")
            .output()
            .unwrap()
    };
    let checked = spesc(&["fmt", "--check", "messy.spes"]);
    assert_eq!(checked.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&checked.stdout).trim(),
        "messy.spes"
    );
    assert_eq!(spesc(&["fmt", "messy.spes"]).status.code(), Some(0));
    assert_eq!(
        std::fs::read_to_string(&messy).unwrap(),
        "model m {\n  provider = mock\n}\n"
    );
    let refused = spesc(&["fmt", "broken.spes"]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("does not parse"));
    assert_eq!(
        std::fs::read_to_string(&broken).unwrap(),
        "model m {provider=\n"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
