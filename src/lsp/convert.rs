//! Between spesc's byte offsets and diagnostics and the protocol's
//! UTF-16 positions, URIs and diagnostics.

use std::collections::HashMap;
use std::path::PathBuf;

use lsp_types::{
    CodeDescription, DiagnosticRelatedInformation, DiagnosticSeverity, DiagnosticTag, Location,
    NumberOrString, Position, Range, Uri,
};

use crate::diagnostic::{Code, Diagnostic, Severity};
use crate::source::{FileId, SourceMap};

/// The path of a `file://` URI (percent-escapes decoded).
pub fn path_of(uri: &Uri) -> Option<PathBuf> {
    let text = uri.as_str().strip_prefix("file://")?;
    let mut bytes = Vec::with_capacity(text.len());
    let mut rest = text.as_bytes();
    while let Some((&first, tail)) = rest.split_first() {
        if first == b'%' && tail.len() >= 2 {
            let hex = std::str::from_utf8(&tail[..2]).ok()?;
            bytes.push(u8::from_str_radix(hex, 16).ok()?);
            rest = &tail[2..];
        } else {
            bytes.push(first);
            rest = tail;
        }
    }
    String::from_utf8(bytes).ok().map(PathBuf::from)
}

/// The `file://` URI of a path.
fn uri_of(path: &str) -> Option<Uri> {
    let mut uri = String::from("file://");
    for byte in path.bytes() {
        if byte.is_ascii_alphanumeric() || b"/-_.~".contains(&byte) {
            uri.push(byte as char);
        } else {
            uri.push_str(&format!("%{byte:02X}"));
        }
    }
    uri.parse().ok()
}

/// A byte offset as a line and a UTF-16 column.
pub fn position(text: &str, byte: usize) -> Position {
    let byte = floor_char(text, byte.min(text.len()));
    let before = &text[..byte];
    let line = before.matches('\n').count();
    let start = before.rfind('\n').map_or(0, |n| n + 1);
    let column: usize = text[start..byte].chars().map(char::len_utf16).sum();
    Position::new(line as u32, column as u32)
}

/// A protocol position as a byte offset (clamped to the text).
pub fn offset(text: &str, position: Position) -> usize {
    let mut start = 0;
    for _ in 0..position.line {
        match text[start..].find('\n') {
            Some(n) => start += n + 1,
            None => return text.len(),
        }
    }
    let mut units = 0;
    for (i, c) in text[start..].char_indices() {
        if units >= position.character as usize || c == '\n' {
            return start + i;
        }
        units += c.len_utf16();
    }
    text.len()
}

pub fn range(text: &str, start: usize, end: usize) -> Range {
    Range::new(position(text, start), position(text, end))
}

fn floor_char(text: &str, mut byte: usize) -> usize {
    while !text.is_char_boundary(byte) {
        byte -= 1;
    }
    byte
}

/// A checker diagnostic as the protocol's, if it belongs to `file`: the
/// primary label's range, the code linked to its page, the other labels
/// as related information, notes and help in the message.
pub fn diagnostic(
    d: &Diagnostic,
    file: FileId,
    sources: &SourceMap,
    uris: &HashMap<String, Uri>,
) -> Option<lsp_types::Diagnostic> {
    let primary = d.labels.iter().find(|l| l.primary);
    if primary.is_some_and(|l| l.span.file != file) {
        return None;
    }
    let text = sources.text(file);
    let at = primary.map_or(Range::default(), |l| {
        range(text, l.span.start as usize, l.span.end as usize)
    });
    let related: Vec<DiagnosticRelatedInformation> = d
        .labels
        .iter()
        .filter(|l| !l.primary)
        .filter_map(|l| {
            let name = sources.name(l.span.file);
            let uri = uris.get(name).cloned().or_else(|| uri_of(name))?;
            let text = sources.text(l.span.file);
            Some(DiagnosticRelatedInformation {
                location: Location::new(
                    uri,
                    range(text, l.span.start as usize, l.span.end as usize),
                ),
                message: l.message.clone(),
            })
        })
        .collect();
    let mut message = d.message.clone();
    if let Some(label) = primary.filter(|l| !l.message.is_empty()) {
        message.push_str(&format!("\n{}", label.message));
    }
    for note in &d.notes {
        message.push_str(&format!("\nnote: {note}"));
    }
    for help in &d.help {
        message.push_str(&format!("\nhelp: {help}"));
    }
    let unused = matches!(d.code, Code::W0501 | Code::W0502);
    Some(lsp_types::Diagnostic {
        range: at,
        severity: Some(match d.severity {
            Severity::Error => DiagnosticSeverity::ERROR,
            Severity::Warning => DiagnosticSeverity::WARNING,
        }),
        code: Some(NumberOrString::String(d.code.to_string())),
        code_description: explain_page(d.code).map(|href| CodeDescription { href }),
        source: Some("spesc".to_string()),
        message,
        related_information: (!related.is_empty()).then_some(related),
        tags: unused.then(|| vec![DiagnosticTag::UNNECESSARY]),
        data: None,
    })
}

/// The code's page in `docs/errors/` (what `spesc explain CODE` prints),
/// where this build's sources are.
fn explain_page(code: Code) -> Option<Uri> {
    let page = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("docs/errors")
        .join(format!("{code}.md"));
    page.exists()
        .then(|| uri_of(&page.display().to_string()))
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_utf16_units_and_round_trip() {
        let text = "a\né𝄞x\n";
        assert_eq!(position(text, 0), Position::new(0, 0));
        let x = text.find('x').unwrap();
        assert_eq!(
            position(text, x),
            Position::new(1, 3),
            "é is 1 unit, 𝄞 is 2"
        );
        assert_eq!(offset(text, Position::new(1, 3)), x);
        assert_eq!(offset(text, Position::new(9, 0)), text.len());
        let uri: Uri = "file:///tmp/a%20b.spes".parse().unwrap();
        assert_eq!(path_of(&uri), Some(PathBuf::from("/tmp/a b.spes")));
        assert_eq!(
            uri_of("/tmp/a b.spes").unwrap().as_str(),
            "file:///tmp/a%20b.spes"
        );
    }
}
