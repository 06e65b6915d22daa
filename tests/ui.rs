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
//! diagnostic, fails the test. A first line `//@ env` checks the case as
//! `spesc check --env` would, with no variable set.

// A test fails by panicking; `expect` says where and why.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::path::Path;

use spesc::check::{check, Loader, Options};
use spesc::diagnostic::{render, Code, Diagnostic};
use spesc::source::{SourceFile, SourceMap};

#[test]
fn ui() {
    insta::glob!("ui/**/*.spes", |path| {
        // Files under a `lib/` folder are imported by cases, not cases.
        if path.components().any(|c| c.as_os_str() == "lib") {
            return;
        }
        let text = std::fs::read_to_string(path).expect("ui case is readable");
        let name = display_name(path);
        let mut sources = SourceMap::new();
        let file = sources.add(name.clone(), text.clone());
        let roots = [(file, path.to_path_buf())];
        let diagnostics = check(&mut sources, &roots, &Files, &options(&text)).diagnostics;
        let rendered = render::rich(&sources, &diagnostics, false);
        if let Err(problem) = compare(&text, &diagnostics, &sources) {
            panic!("{name}: {problem}\n\nrendered output:\n{rendered}");
        }
        insta::assert_snapshot!(format!("{text}\n---- diagnostics ----\n{rendered}"));
    });
}

/// The codes the checker can emit, the codes with an explain page, and the
/// codes the UI cases cover are one and the same set.
#[test]
fn every_code_has_a_page_an_emitter_and_a_ui_case() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let registry: BTreeSet<String> = Code::ALL.iter().map(|c| c.to_string()).collect();
    let pages: BTreeSet<String> = std::fs::read_dir(root.join("docs/errors"))
        .expect("docs/errors exists")
        .filter_map(|e| {
            let name = e.ok()?.file_name().into_string().ok()?;
            name.strip_suffix(".md").map(String::from)
        })
        .collect();
    let mut emitted = BTreeSet::new();
    let mut covered = BTreeSet::new();
    scan(&root.join("src"), "rs", &mut |path, text| {
        if !path.ends_with("codes.rs") {
            emitted.extend(codes_after(text, "Code::"));
        }
    });
    scan(&root.join("tests/ui"), "spes", &mut |_, text| {
        for line in text.lines() {
            if let Some(at) = line.find("//~") {
                let marks = line[at + 3..].trim_start_matches('^');
                covered.extend(marks.split_whitespace().map(String::from));
            }
        }
    });
    assert_eq!(pages, registry, "docs/errors pages vs the code registry");
    assert_eq!(emitted, registry, "codes used in src/ vs the code registry");
    assert_eq!(
        covered, registry,
        "codes annotated in tests/ui vs the code registry"
    );
}

/// Each `docs/errors/CODE.md` page tells the truth: its example produces
/// CODE and its fix has no error and not CODE (fixes that need other files
/// are skipped).
#[test]
fn explain_pages_show_what_they_say() {
    for code in Code::ALL {
        let page = code.explanation();
        let block_after = |heading: &str| -> Option<String> {
            let rest = &page[page.find(heading)?..];
            let start = rest.find("```spes\n")? + "```spes\n".len();
            let end = rest[start..].find("```")?;
            Some(rest[start..start + end].to_string())
        };
        let diagnose = |text: &str, files: &PageFiles| -> Vec<Diagnostic> {
            let mut sources = SourceMap::new();
            let file = sources.add(format!("{code}.spes"), text.to_string());
            let roots = [(file, Path::new("page.spes").to_path_buf())];
            let options = Options {
                env: Some(Box::new(|_: &str| false)),
            };
            check(&mut sources, &roots, files, &options).diagnostics
        };
        let example = block_after("## Example").expect("every page has an example");
        let fix_at = page.find("## Fix").unwrap_or(page.len());
        assert!(
            diagnose(&example, &PageFiles::in_text(&page[..fix_at]))
                .iter()
                .any(|d| d.code == *code),
            "{code}: the example does not produce it:\n{example}"
        );
        if !PageFiles::in_text(&page[fix_at..]).0.is_empty() {
            // The fix is to a file the example names.
            let left: Vec<String> = diagnose(&example, &PageFiles::in_text(&page[fix_at..]))
                .iter()
                .filter(|d| d.code == *code || d.is_error())
                .map(|d| format!("{}: {}", d.code, d.message))
                .collect();
            assert!(left.is_empty(), "{code}: the fixed file still has {left:?}");
            continue;
        }
        if let Some(fix) =
            block_after("## Fix").filter(|f| !f.contains("import ") && !f.contains("file("))
        {
            let left: Vec<String> = diagnose(&fix, &PageFiles(Vec::new()))
                .iter()
                .filter(|d| d.code == *code || d.is_error())
                .map(|d| format!("{}: {}", d.code, d.message))
                .collect();
            assert!(
                left.is_empty(),
                "{code}: the fix still has {left:?}:\n{fix}"
            );
        }
    }
}

/// The files a page shows in blocks whose info string names them
/// (`` ```md components/persona.md ``), for its examples to read.
struct PageFiles(Vec<(String, String)>);

impl PageFiles {
    fn in_text(text: &str) -> PageFiles {
        let mut files = Vec::new();
        let mut rest = text;
        while let Some(start) = rest.find("```md ") {
            let after = &rest[start + "```md ".len()..];
            let Some((path, body)) = after.split_once('\n') else {
                break;
            };
            let end = body.find("```").unwrap_or(body.len());
            files.push((path.trim().to_string(), body[..end].to_string()));
            rest = &body[end..];
        }
        PageFiles(files)
    }
}

impl spesc::check::Loader for PageFiles {
    fn read(&self, path: &Path) -> Result<(String, String), String> {
        self.0
            .iter()
            .find(|(name, _)| path.ends_with(name))
            .map(|(name, text)| (name.clone(), text.clone()))
            .ok_or_else(|| format!("`{}` is not on the page", path.display()))
    }
}

fn scan(dir: &Path, extension: &str, visit: &mut dyn FnMut(&Path, &str)) {
    for entry in std::fs::read_dir(dir)
        .expect("folder is readable")
        .flatten()
    {
        let path = entry.path();
        if path.is_dir() {
            scan(&path, extension, visit);
        } else if path.extension().is_some_and(|e| e == extension) {
            let text = std::fs::read_to_string(&path).expect("file is readable");
            visit(&path, &text);
        }
    }
}

/// `E0101` in `Code::E0101`, for every occurrence.
fn codes_after(text: &str, prefix: &str) -> Vec<String> {
    text.match_indices(prefix)
        .filter_map(|(at, _)| text.get(at + prefix.len()..at + prefix.len() + 5))
        .filter(|code| {
            let mut chars = code.chars();
            matches!(chars.next(), Some('E' | 'W')) && chars.all(|c| c.is_ascii_digit())
        })
        .map(String::from)
        .collect()
}

/// A case whose first line is `//@ env…` is checked as with `check --env`,
/// in an environment where no variable is set.
fn options(text: &str) -> Options {
    let env = text.starts_with("//@ env");
    Options {
        env: env.then(|| Box::new(|_: &str| false) as spesc::check::IsSet),
    }
}

/// Reads imports and component files from the repository.
struct Files;

impl Loader for Files {
    fn read(&self, path: &Path) -> Result<(String, String), String> {
        let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
        Ok((display_name(path), text))
    }

    fn display(&self, path: &Path) -> String {
        display_name(path)
    }
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
