//! Every example parses and checks without an error or a warning, and
//! every grammar construct appears in at least one example.

// A test fails by panicking; `expect` says where and why.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::path::PathBuf;

use spesc::source::SourceMap;
use spesc::syntax::{self, dump};

fn examples() -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut dirs = vec![PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("examples folder").flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "spes") {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

#[test]
fn every_example_parses() {
    let files = examples();
    assert!(files.len() >= 17, "found only {} examples", files.len());
    for path in files {
        let text = std::fs::read_to_string(&path).expect("readable");
        let mut sources = SourceMap::new();
        let file = sources.add(path.display().to_string(), text.clone());
        let parsed = syntax::parse(file, &text);
        assert!(
            parsed.diagnostics.is_empty(),
            "{}",
            spesc::diagnostic::render::rich(&sources, &parsed.diagnostics, false)
        );
        assert!(!parsed.file.items.is_empty(), "{} is empty", path.display());
    }
}

/// Reads imports and component files from the repository.
struct Files;

impl spesc::check::Loader for Files {
    fn read(&self, path: &std::path::Path) -> Result<(String, String), String> {
        let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
        Ok((path.display().to_string(), text))
    }
}

#[test]
fn every_example_checks_without_errors_or_warnings() {
    for path in examples() {
        let text = std::fs::read_to_string(&path).expect("readable");
        let mut sources = SourceMap::new();
        let file = sources.add(path.display().to_string(), text);
        let roots = [(file, path.clone())];
        let diagnostics =
            spesc::check::check(&mut sources, &roots, &Files, &Default::default()).diagnostics;
        assert!(
            diagnostics.is_empty(),
            "{}",
            spesc::diagnostic::render::rich(&sources, &diagnostics, false)
        );
    }
}

/// The examples together show every kind of step and clause.
#[test]
fn examples_cover_the_language() {
    let all: String = examples()
        .iter()
        .map(|path| {
            let text = std::fs::read_to_string(path).expect("readable");
            dump::dump_without_spans(&syntax::parse(Default::default(), &text).file)
        })
        .collect();
    for construct in [
        "import ",
        "type ",
        "enum ",
        "model ",
        "retry ",
        "component ",
        "agent ",
        "workflow ",
        "test ",
        "= call ",
        "= exec",
        "= fetch",
        "= ask",
        "let ",
        "loop ",
        "match ",
        "for ",
        "arm _",
        "context fresh",
        "context all",
        "context [",
        "context summarized(",
        "check ",
        "when ",
        "on_error ",
        "compensate ",
        "after ",
        "default",
        "deadline",
        "max_concurrency",
        "until ",
        "{%if",
        "{%for",
        "{%else%}",
        "given ",
        "expect ",
        "run ",
    ] {
        assert!(all.contains(construct), "no example uses `{construct}`");
    }
}
