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
mod parser;
mod rule_names;

use crate::diagnostic::Diagnostic;
use crate::source::FileId;

/// The AST of one file and the syntax errors found while building it. The
/// AST holds every construct that parsed; bad lines are left out.
#[derive(Debug)]
pub struct Parsed {
    pub file: ast::File,
    pub diagnostics: Vec<Diagnostic>,
}

impl Parsed {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Parses one `.spes` file. Never panics: any input gives an AST (possibly
/// partial) and a list of diagnostics with valid spans.
pub fn parse(file: FileId, text: &str) -> Parsed {
    build::file(file, text)
}
