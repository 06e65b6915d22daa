//! The diagnostics corpus. Every `tests/ui/**/*.spes` file declares the
//! diagnostics it must produce with inline annotations, checked here by code
//! and line, and its rendered output is an insta snapshot.
//!
//! Annotations (rustc's compiletest style):
//! - `//~ E0001` — a diagnostic with this code whose primary label starts on
//!   this line;
//! - `//~^ E0001` — on the line above (`//~^^` two above); use it where the
//!   line itself cannot hold a comment (inside a string);
//! - several codes may follow one marker: `//~ E0001 E0001`.
//!
//! A diagnostic without an annotation, or an annotation without a
//! diagnostic, fails the test.

// A test fails by panicking; `expect` says where and why.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::path::Path;

use spesc::diagnostic::{render, Diagnostic};
use spesc::source::{SourceFile, SourceMap};

#[test]
fn ui() {
    insta::glob!("ui/**/*.spes", |path| {
        let text = std::fs::read_to_string(path).expect("ui case is readable");
        let name = display_name(path);
        let mut sources = SourceMap::new();
        let file = sources.add(name.clone(), text.clone());
        let diagnostics = spesc::diagnose(&sources, file);
        let rendered = render::rich(&sources, &diagnostics, false);
        if let Err(problem) = compare(&text, &diagnostics, &sources) {
            panic!("{name}: {problem}\n\nrendered output:\n{rendered}");
        }
        insta::assert_snapshot!(format!("{text}\n---- diagnostics ----\n{rendered}"));
    });
}

fn display_name(path: &Path) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    path.strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string()
}

/// (1-based line, code) pairs the file's annotations ask for.
fn expected(text: &str) -> Result<Vec<(usize, String)>, String> {
    let mut out = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let Some(at) = line.find("//~") else { continue };
        let rest = &line[at + 3..];
        let carets = rest.chars().take_while(|c| *c == '^').count();
        let target = (index + 1)
            .checked_sub(carets)
            .filter(|l| *l >= 1)
            .ok_or_else(|| format!("line {}: `//~^` points above the file", index + 1))?;
        let codes: Vec<&str> = rest[carets..].split_whitespace().collect();
        if codes.is_empty() {
            return Err(format!("line {}: `//~` without a code", index + 1));
        }
        out.extend(codes.into_iter().map(|c| (target, c.to_string())));
    }
    out.sort();
    Ok(out)
}

fn actual(diagnostics: &[Diagnostic], sources: &SourceMap) -> Vec<(usize, String)> {
    let mut out: Vec<(usize, String)> = diagnostics
        .iter()
        .map(|d| {
            let span = d.primary_span().unwrap_or_default();
            let file: &SourceFile = sources.file(span.file).expect("span's file exists");
            (file.line_col(span.start as usize).0, d.code.to_string())
        })
        .collect();
    out.sort();
    out
}

fn compare(text: &str, diagnostics: &[Diagnostic], sources: &SourceMap) -> Result<(), String> {
    let expected = expected(text)?;
    let actual = actual(diagnostics, sources);
    let missing: Vec<_> = difference(&expected, &actual);
    let unexpected: Vec<_> = difference(&actual, &expected);
    if missing.is_empty() && unexpected.is_empty() {
        return Ok(());
    }
    let show = |items: &[(usize, String)]| {
        items
            .iter()
            .map(|(line, code)| format!("{code} on line {line}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    Err(format!(
        "annotations do not match.\n  expected but not reported: [{}]\n  reported but not annotated: [{}]",
        show(&missing),
        show(&unexpected)
    ))
}

/// Multiset difference `a - b`.
fn difference(a: &[(usize, String)], b: &[(usize, String)]) -> Vec<(usize, String)> {
    let mut rest = b.to_vec();
    a.iter()
        .filter(|item| match rest.iter().position(|r| r == *item) {
            Some(i) => {
                rest.remove(i);
                false
            }
            None => true,
        })
        .cloned()
        .collect()
}
