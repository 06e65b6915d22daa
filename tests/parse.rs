//! Parser corpus: every grammar construct, source → AST → dump snapshot.
//! Each `tests/parse/*.spes` must parse without a diagnostic; its snapshot
//! shows the source and the AST dump together so a reviewer reads both.

// A test fails by panicking; `expect` says where and why.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use spesc::source::SourceMap;
use spesc::syntax::{self, dump};

#[test]
fn corpus() {
    insta::glob!("parse/*.spes", |path| {
        let text = std::fs::read_to_string(path).expect("corpus file is readable");
        let mut sources = SourceMap::new();
        let file = sources.add("input.spes", text.clone());
        let parsed = syntax::parse(file, &text);
        assert!(
            parsed.diagnostics.is_empty(),
            "{} should parse cleanly:\n{}",
            path.display(),
            spesc::diagnostic::render::rich(&sources, &parsed.diagnostics, false)
        );
        insta::assert_snapshot!(format!(
            "{text}\n---- AST ----\n{}",
            dump::dump(&parsed.file)
        ));
    });
}

/// Layout does not change meaning: the same program written on one line and
/// spread over many gives the same AST, spans aside.
#[test]
fn layout_is_insignificant() {
    let spread = r#"
        workflow w(x: string) -> string {
          step s: string {
            model = m
            prompt = "{{ x }}"
            check len(this) > 1 else "short"
          }
          return s
        }
    "#;
    let compact = r#"workflow w(x: string) -> string { step s: string { model = m prompt = "{{ x }}" check len(this) > 1 else "short" } return s }"#;
    let a = syntax::parse(Default::default(), spread);
    let b = syntax::parse(Default::default(), compact);
    assert!(a.diagnostics.is_empty() && b.diagnostics.is_empty());
    assert_eq!(
        dump::dump_without_spans(&a.file),
        dump::dump_without_spans(&b.file)
    );
}

/// A file saved with CRLF line endings means what it means with LF: no
/// `\r` reaches a prompt, in `"…"` or `"""…"""` strings.
#[test]
fn crlf_line_endings_are_insignificant() {
    for entry in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/examples")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "spes") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let lf = syntax::parse(Default::default(), &text);
        let crlf = syntax::parse(Default::default(), &text.replace('\n', "\r\n"));
        assert!(crlf.diagnostics.is_empty(), "{}", path.display());
        assert_eq!(
            dump::dump_without_spans(&lf.file),
            dump::dump_without_spans(&crlf.file),
            "{}",
            path.display()
        );
    }
    let crlf = "workflow w() -> string {\r\n  let a = \"one\r\ntwo\"\r\n  let b = \"\"\"\r\n    three\r\n    four\r\n  \"\"\"\r\n  return a + b\r\n}\r\n";
    let dumped = dump::dump_without_spans(&syntax::parse(Default::default(), crlf).file);
    assert!(!dumped.contains("\\r"), "{dumped}");
}
