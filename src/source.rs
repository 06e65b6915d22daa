//! Source files and spans.
//!
//! Every AST node carries a [`Span`]: the file it came from and a byte range
//! into that file's text. A [`SourceMap`] owns the texts and turns byte
//! offsets into the 1-based line and column numbers that people read.

use std::fmt;

/// Index of a file in a [`SourceMap`].
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Default)]
pub struct FileId(pub u32);

/// A byte range `start..end` in one file.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Span {
    pub file: FileId,
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn new(file: FileId, start: usize, end: usize) -> Span {
        Span {
            file,
            start: offset(start),
            end: offset(end),
        }
    }

    /// The smallest span that covers both.
    pub fn to(self, other: Span) -> Span {
        Span {
            file: self.file,
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }

    /// Whether `other` lies within this span (same file).
    pub fn contains(self, other: Span) -> bool {
        self.file == other.file && self.start <= other.start && other.end <= self.end
    }

    /// The empty span at this span's start.
    pub fn shrink_to_start(self) -> Span {
        Span {
            end: self.start,
            ..self
        }
    }

    pub fn range(self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }
}

/// Spans print as `start..end` so AST dumps stay readable.
impl fmt::Debug for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}..{}", self.start, self.end)
    }
}

/// Files larger than 4 GiB are refused by the CLI, so offsets fit in `u32`.
fn offset(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// One source file: its display name (relative to the working directory
/// where possible), its text and where each line starts.
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub name: String,
    pub text: String,
    line_starts: Vec<usize>,
}

impl SourceFile {
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> SourceFile {
        let text = text.into();
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        SourceFile {
            name: name.into(),
            text,
            line_starts,
        }
    }

    /// The 0-based line holding `byte`.
    pub fn line_index(&self, byte: usize) -> usize {
        match self.line_starts.binary_search(&byte) {
            Ok(line) => line,
            Err(next) => next - 1,
        }
    }

    /// The byte range of a 0-based line, including its line break.
    pub fn line_range(&self, line: usize) -> Option<std::ops::Range<usize>> {
        let start = *self.line_starts.get(line)?;
        let end = self.line_starts.get(line + 1).copied();
        Some(start..end.unwrap_or(self.text.len()))
    }

    /// 1-based line and column (in characters) of `byte`.
    pub fn line_col(&self, byte: usize) -> (usize, usize) {
        let byte = byte.min(self.text.len());
        let line = self.line_index(byte);
        let start = self.line_starts[line];
        let column = self
            .text
            .get(start..byte)
            .map_or(byte - start, |s| s.chars().count());
        (line + 1, column + 1)
    }

    pub fn line_count(&self) -> usize {
        self.line_starts.len()
    }
}

/// All the files of one compilation.
#[derive(Debug, Default, Clone)]
pub struct SourceMap {
    files: Vec<SourceFile>,
}

impl SourceMap {
    pub fn new() -> SourceMap {
        SourceMap::default()
    }

    pub fn add(&mut self, name: impl Into<String>, text: impl Into<String>) -> FileId {
        self.files.push(SourceFile::new(name, text));
        FileId(offset(self.files.len() - 1))
    }

    /// The file behind an id handed out by [`SourceMap::add`].
    pub fn file(&self, id: FileId) -> Option<&SourceFile> {
        self.files.get(id.0 as usize)
    }

    pub fn text(&self, id: FileId) -> &str {
        self.file(id).map_or("", |f| f.text.as_str())
    }

    pub fn name(&self, id: FileId) -> &str {
        self.file(id).map_or("<unknown>", |f| f.name.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_are_one_based_and_count_characters() {
        let file = SourceFile::new("a.spes", "ab\ncé d\n");
        assert_eq!(file.line_col(0), (1, 1));
        assert_eq!(file.line_col(3), (2, 1));
        // `é` is two bytes but one column.
        assert_eq!(file.line_col(6), (2, 3));
        assert_eq!(file.line_col(100), (3, 1));
    }

    #[test]
    fn line_range_includes_the_line_break() {
        let file = SourceFile::new("a.spes", "one\r\ntwo");
        assert_eq!(file.line_range(0), Some(0..5));
        assert_eq!(file.line_range(1), Some(5..8));
        assert_eq!(file.line_range(2), None);
    }
}
