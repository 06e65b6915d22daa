//! Rendering diagnostics: rich (codespan-reporting), short (one line each)
//! and JSON (for editors, CI and agents). This is the only module that uses
//! codespan-reporting.

use codespan_reporting::diagnostic as cs;
use codespan_reporting::files::{Error as FilesError, Files};
use codespan_reporting::term::{self, termcolor::Buffer, Config};
use std::collections::HashMap;

use serde::Serialize;

use super::{printable, Diagnostic, Severity};
use crate::source::{FileId, SourceMap, Span};

/// How `spesc` prints diagnostics (`--format`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Format {
    #[default]
    Rich,
    Short,
    Json,
}

/// Renders diagnostics the way a terminal shows them, with source excerpts.
/// `color` adds ANSI colours; the CLI turns it on only for a terminal.
pub fn rich(sources: &SourceMap, diagnostics: &[Diagnostic], color: bool) -> String {
    let config = Config::default();
    let shown = Shown::new(sources, diagnostics);
    let mut out = String::new();
    for diagnostic in diagnostics {
        let converted = to_codespan(diagnostic);
        if color {
            let mut buffer = Buffer::ansi();
            if term::emit_to_write_style(&mut buffer, &config, &shown, &converted).is_ok() {
                out.push_str(&String::from_utf8_lossy(buffer.as_slice()));
            }
        } else {
            // A span outside its file is a bug upstream; render what we can
            // rather than hide the diagnostic.
            if term::emit_to_string(&mut out, &config, &shown, &converted).is_err() {
                out.push_str(&short_line(sources, diagnostic));
                out.push('\n');
            }
        }
    }
    out
}

/// How many diagnostics a terminal is shown unless asked for more: past
/// the first hundred, more only bury the first, which is the one to fix,
/// and a file of bad lines could print for minutes.
pub const MOST_SHOWN: usize = 100;

/// [`rich`] for the first `most` diagnostics (all of them when `most` is
/// 0), then a line that says how many were left out.
pub fn rich_at_most(
    sources: &SourceMap,
    diagnostics: &[Diagnostic],
    color: bool,
    most: usize,
) -> String {
    let (shown, left_out) = first(diagnostics, most);
    rich(sources, shown, color) + &left_out
}

/// [`short`] for the first `most` diagnostics, as [`rich_at_most`].
pub fn short_at_most(sources: &SourceMap, diagnostics: &[Diagnostic], most: usize) -> String {
    let (shown, left_out) = first(diagnostics, most);
    short(sources, shown) + &left_out
}

/// The first `most` diagnostics and the line that counts the rest (empty
/// when none is left out).
fn first(diagnostics: &[Diagnostic], most: usize) -> (&[Diagnostic], String) {
    if most == 0 || diagnostics.len() <= most {
        return (diagnostics, String::new());
    }
    let (shown, rest) = diagnostics.split_at(most);
    let line = format!(
        "note: {} more not shown ({}); `spesc check --max-diagnostics 0` shows them all\n",
        rest.len(),
        summary(rest)
    );
    (shown, line)
}

/// `file:line:col: error[E0001]: message`, one line per diagnostic.
pub fn short(sources: &SourceMap, diagnostics: &[Diagnostic]) -> String {
    diagnostics
        .iter()
        .map(|d| short_line(sources, d) + "\n")
        .collect()
}

fn short_line(sources: &SourceMap, diagnostic: &Diagnostic) -> String {
    let head = format!(
        "{}[{}]: {}",
        diagnostic.severity.as_str(),
        diagnostic.code,
        printable::text(&diagnostic.message)
    );
    match diagnostic.primary_span() {
        Some(span) => {
            let place = Place::of(sources, span);
            let file = printable::text(&place.file);
            format!("{file}:{}:{}: {head}", place.line, place.column)
        }
        None => head,
    }
}

/// A JSON array of diagnostics; the shape is documented in
/// `docs/diagnostics.md`.
pub fn json(sources: &SourceMap, diagnostics: &[Diagnostic]) -> String {
    let values: Vec<JsonDiagnostic> = diagnostics
        .iter()
        .map(|d| JsonDiagnostic {
            severity: d.severity.as_str(),
            code: d.code.as_str(),
            message: &d.message,
            location: d.primary_span().map(|s| Place::of(sources, s)),
            labels: d
                .labels
                .iter()
                .map(|l| JsonLabel {
                    primary: l.primary,
                    message: &l.message,
                    location: Place::of(sources, l.span),
                })
                .collect(),
            notes: &d.notes,
            help: &d.help,
        })
        .collect();
    serde_json::to_string_pretty(&values).unwrap_or_else(|_| "[]".to_string()) + "\n"
}

/// A one-line count such as `2 errors, 1 warning`.
pub fn summary(diagnostics: &[Diagnostic]) -> String {
    let errors = diagnostics.iter().filter(|d| d.is_error()).count();
    let warnings = diagnostics.len() - errors;
    format!(
        "{}, {}",
        plural(errors, "error"),
        plural(warnings, "warning")
    )
}

/// `1 file`, `3 files`.
pub fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

#[derive(Serialize)]
struct JsonDiagnostic<'a> {
    severity: &'static str,
    code: &'static str,
    message: &'a str,
    /// The primary label's place, flattened: `file`, `line`, `column`, …
    #[serde(flatten)]
    location: Option<Place>,
    labels: Vec<JsonLabel<'a>>,
    notes: &'a [String],
    help: &'a [String],
}

#[derive(Serialize)]
struct JsonLabel<'a> {
    primary: bool,
    message: &'a str,
    #[serde(flatten)]
    location: Place,
}

/// Where a span is, in every unit a consumer might want: `file`, `line`,
/// `column` (1-based, columns count characters), `end` (the same for the
/// end) and `offsets` (bytes into the file).
#[derive(Serialize)]
struct Place {
    file: String,
    line: usize,
    column: usize,
    end: LineColumn,
    offsets: Offsets,
}

#[derive(Serialize)]
struct LineColumn {
    line: usize,
    column: usize,
}

#[derive(Serialize)]
struct Offsets {
    start: u32,
    end: u32,
}

impl Place {
    fn of(sources: &SourceMap, span: Span) -> Place {
        let at = |byte: u32| {
            sources
                .file(span.file)
                .map_or((1, 1), |file| file.line_col(byte as usize))
        };
        let ((line, column), (end_line, end_column)) = (at(span.start), at(span.end));
        Place {
            file: sources.name(span.file).to_string(),
            line,
            column,
            end: LineColumn {
                line: end_line,
                column: end_column,
            },
            offsets: Offsets {
                start: span.start,
                end: span.end,
            },
        }
    }
}

fn to_codespan(diagnostic: &Diagnostic) -> cs::Diagnostic<FileId> {
    let severity = match diagnostic.severity {
        Severity::Error => cs::Severity::Error,
        Severity::Warning => cs::Severity::Warning,
    };
    let labels = diagnostic
        .labels
        .iter()
        .map(|label| {
            let make = if label.primary {
                cs::Label::primary
            } else {
                cs::Label::secondary
            };
            make(label.span.file, label.span.range()).with_message(printable::text(&label.message))
        })
        .collect();
    let notes = diagnostic
        .notes
        .iter()
        .map(|n| format!("note: {}", printable::text(n)))
        .chain(
            diagnostic
                .help
                .iter()
                .map(|h| format!("help: {}", printable::text(h))),
        )
        .collect();
    cs::Diagnostic::new(severity)
        .with_code(diagnostic.code.as_str())
        .with_message(printable::text(&diagnostic.message))
        .with_labels(labels)
        .with_notes(notes)
}

/// The files as codespan shows them: names and text made printable
/// ([`printable`]), lines where they are in the source map.
struct Shown<'s> {
    sources: &'s SourceMap,
    /// Names and texts of the files the diagnostics point into.
    files: HashMap<FileId, (String, String)>,
}

impl<'s> Shown<'s> {
    fn new(sources: &'s SourceMap, diagnostics: &[Diagnostic]) -> Shown<'s> {
        let mut files = HashMap::new();
        for label in diagnostics.iter().flat_map(|d| &d.labels) {
            let id = label.span.file;
            if let (false, Some(file)) = (files.contains_key(&id), sources.file(id)) {
                let name = printable::text(&file.name).into_owned();
                files.insert(id, (name, printable::source(&file.text).into_owned()));
            }
        }
        Shown { sources, files }
    }
}

impl<'a> Files<'a> for Shown<'_> {
    type FileId = FileId;
    type Name = &'a str;
    type Source = &'a str;

    fn name(&'a self, id: FileId) -> Result<&'a str, FilesError> {
        self.files
            .get(&id)
            .map(|(name, _)| name.as_str())
            .ok_or(FilesError::FileMissing)
    }

    fn source(&'a self, id: FileId) -> Result<&'a str, FilesError> {
        self.files
            .get(&id)
            .map(|(_, text)| text.as_str())
            .ok_or(FilesError::FileMissing)
    }

    fn line_index(&'a self, id: FileId, byte_index: usize) -> Result<usize, FilesError> {
        let file = self.sources.file(id).ok_or(FilesError::FileMissing)?;
        Ok(file.line_index(byte_index))
    }

    fn line_range(
        &'a self,
        id: FileId,
        line_index: usize,
    ) -> Result<std::ops::Range<usize>, FilesError> {
        let file = self.sources.file(id).ok_or(FilesError::FileMissing)?;
        match file.line_range(line_index) {
            Some(range) => Ok(range),
            // The line just past the end (a span at EOF after a final newline).
            None if line_index == file.line_count() => Ok(file.text.len()..file.text.len()),
            None => Err(FilesError::LineTooLarge {
                given: line_index,
                max: file.line_count().saturating_sub(1),
            }),
        }
    }
}
