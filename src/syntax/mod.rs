//! Source text → AST.
//!
//! [`parse`] runs the pest grammar (`grammar/spes.pest`) and hands the parse
//! tree to one builder per construct (`build/`), which produces the
//! [`ast`]. Syntax errors never stop the parse at the first bad line: the
//! grammar's catch-all rules let the builders report every bad line they
//! find, each as an `E0001` diagnostic in words (see `errors.rs` and
//! `rule_names.rs`). pest's types stay inside this module.

pub mod ast;
mod build;
pub mod dump;
mod errors;
pub mod format;
mod parser;
pub mod print;
mod rule_names;

use crate::diagnostic::Diagnostic;
use crate::source::FileId;

/// The AST of one file and the syntax errors found while building it. The
/// AST holds every construct that parsed; bad lines are left out.
#[derive(Debug)]
pub struct Parsed {
    pub file: ast::File,
    pub diagnostics: Vec<Diagnostic>,
    /// Whether the AST is whole but for the pieces its errors name (a
    /// misspelled clause key, left out), so checking it finds the rest of
    /// the file's problems in the same run rather than after a fix.
    pub checkable: bool,
    /// The clauses left out for an unknown key (`promt = …`, `retries = r`).
    pub left_out: Vec<LeftOut>,
}

/// A clause the builder left out because its key is unknown: where it was
/// and the names its value mentions. The checker reads these so that the
/// typo is the only problem reported about it: the step is not also
/// "missing a prompt", nor the retry policy it names "never used".
#[derive(Clone, Debug, PartialEq)]
pub struct LeftOut {
    pub at: crate::source::Span,
    pub names: Vec<String>,
}

impl Parsed {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Parses one `.spes` file. Never panics: any input gives an AST (possibly
/// partial) and a list of diagnostics with valid spans.
///
/// pest is built without its native stack guard, which probes the stack on
/// every combinator call and cost a quarter of the parse time (see
/// `docs/benchmarks.md`). Instead the parse runs on a thread whose stack
/// fits the deepest recursion this text could cause, so deep nesting cannot
/// overflow it; the AST builder then refuses trees deeper than it accepts.
pub fn parse(file: FileId, text: &str) -> Parsed {
    let stack = parse_stack_size(text);
    let parsed = std::thread::scope(|scope| {
        let worker = std::thread::Builder::new()
            .name("spesc-parse".to_string())
            .stack_size(stack)
            .spawn_scoped(scope, || build::file(file, text))?;
        // A panic in the parser is a bug: pass it on unchanged.
        Ok::<_, std::io::Error>(
            worker
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
        )
    });
    parsed.unwrap_or_else(|_| too_large(file, text, stack))
}

/// Stack bytes one level of grammar recursion may take: the largest
/// measured (a list inside a list: about 600 bytes in the dev profile) with
/// a wide margin for other compilers and profiles.
const STACK_PER_LEVEL: usize = 4 * 1024;
const STACK_BASE: usize = 1024 * 1024;

/// A stack large enough for any parse of `text`. Every recursive cycle in
/// the grammar opens a bracket (`(`, `[`, `{`, `<` of `map<…>`) or starts
/// with `if`, `match` or `for`, so their count bounds the recursion depth.
/// The stack is reserved, not touched: only what the parse uses is paid for.
fn parse_stack_size(text: &str) -> usize {
    let bytes = text.as_bytes();
    let levels = (0..bytes.len())
        .filter(|&i| {
            let head = &bytes[..=i];
            match bytes[i] {
                b'(' | b'[' | b'{' | b'<' => true,
                b'f' => head.ends_with(b"if"),
                b'r' => head.ends_with(b"for"),
                b'h' => head.ends_with(b"match"),
                _ => false,
            }
        })
        .count();
    STACK_BASE.saturating_add(levels.saturating_mul(STACK_PER_LEVEL))
}

fn too_large(file: FileId, text: &str, stack: usize) -> Parsed {
    let error = errors::SyntaxError::TooLarge {
        span: crate::source::Span::new(file, 0, 0),
        stack_mib: stack / (1024 * 1024),
    };
    Parsed {
        file: ast::File {
            span: crate::source::Span::new(file, 0, text.len()),
            ..ast::File::default()
        },
        diagnostics: vec![error.to_diagnostic()],
        checkable: false,
        left_out: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stack_grows_with_every_bracket_and_nesting_keyword() {
        let base = parse_stack_size("");
        assert_eq!(base, STACK_BASE);
        let per = |text: &str| (parse_stack_size(text) - base) / STACK_PER_LEVEL;
        assert_eq!(per("( [ { map<"), 4);
        assert_eq!(per("if a { b } else if c { d }"), 4);
        assert_eq!(per("match x"), 1);
        assert_eq!(per("for d in docs"), 1);
        assert_eq!(per("\"no brackets here\""), 0);
    }

    #[test]
    fn a_refused_stack_is_a_diagnostic_not_a_crash() {
        let parsed = too_large(FileId::default(), "workflow w() {}", 1 << 30);
        assert!(parsed.file.items.is_empty());
        let [diagnostic] = parsed.diagnostics.as_slice() else {
            panic!("expected one diagnostic, got {:?}", parsed.diagnostics);
        };
        assert_eq!(diagnostic.code.as_str(), "E0001");
        assert_eq!(diagnostic.message, "file too large to parse");
        assert!(diagnostic.notes.iter().any(|n| n.contains("1024 MiB")));
    }
}
