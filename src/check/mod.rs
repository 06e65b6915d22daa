//! AST → checked program: names, types, data contracts, the step graph,
//! convergence and configuration (codes E0101–E0402, W0501–W0507).
//!
//! [`check`] loads the files named and everything they import
//! ([`program`]), builds each file's scope of declarations ([`decls`]),
//! checks model, retry, agent and component settings ([`config`],
//! [`components`]), then every workflow body ([`workflow`], with
//! expressions in [`expr`]) and every test. The step graph and the call
//! graph are checked for cycles in [`graph`]. Errors never stop the checker:
//! a name or expression that fails gets the type [`types::Ty::Error`], which
//! fits everywhere, so one mistake is reported once.

mod components;
pub(crate) mod config;
pub(crate) mod decls;
mod expr;
mod graph;
pub(crate) mod program;
mod tests_blocks;
pub mod types;
mod workflow;

use std::path::PathBuf;

use crate::diagnostic::Diagnostic;
use crate::source::{FileId, SourceMap};

pub(crate) use components::{component_body, estimate_tokens};
pub(crate) use expr::visit_names;
pub use program::{Loader, NoFiles};

/// Says whether an environment variable is set.
pub type IsSet = Box<dyn Fn(&str) -> bool>;

/// What the checker may look at beyond the source.
#[derive(Default)]
pub struct Options {
    /// `check --env`: report models whose API key variable is not set
    /// (W0507).
    pub env: Option<IsSet>,
}

/// Checks the files `roots` (already in `sources`, read from the given
/// paths) and everything they import, which `loader` reads into `sources`.
/// Returns every diagnostic, syntax errors included, sorted by position.
pub fn check(
    sources: &mut SourceMap,
    roots: &[(FileId, PathBuf)],
    loader: &dyn Loader,
    options: &Options,
) -> Vec<Diagnostic> {
    checked(sources, roots, loader, options).1
}

/// Checks like [`check`] and, when no error was found, lowers the program
/// to its execution plan. Warnings come back either way.
pub fn plan(
    sources: &mut SourceMap,
    roots: &[(FileId, PathBuf)],
    loader: &dyn Loader,
    options: &Options,
) -> (Option<crate::plan::Plan>, Vec<Diagnostic>) {
    let compiled = compile(sources, roots, loader, options);
    (compiled.plan, compiled.diagnostics)
}

/// A program, its plan when it has no error, and what the checker said.
pub struct Compiled {
    pub(crate) program: program::Program,
    pub plan: Option<crate::plan::Plan>,
    pub diagnostics: Vec<Diagnostic>,
}

impl Compiled {
    /// The workflows declared in the first root file, in order.
    pub fn root_workflows(&self) -> Vec<String> {
        self.program
            .files
            .first()
            .into_iter()
            .flat_map(|f| &f.ast.items)
            .filter_map(|item| match item {
                crate::syntax::ast::Item::Workflow(w) => Some(w.name.name.clone()),
                _ => None,
            })
            .collect()
    }
}

/// Checks and lowers: what `spesc plan`, `run` and `test` start from.
pub fn compile(
    sources: &mut SourceMap,
    roots: &[(FileId, PathBuf)],
    loader: &dyn Loader,
    options: &Options,
) -> Compiled {
    let (program, diagnostics) = checked(sources, roots, loader, options);
    let clean = !diagnostics.iter().any(Diagnostic::is_error);
    let plan = clean.then(|| crate::plan::lower(&program));
    Compiled {
        program,
        plan,
        diagnostics,
    }
}

fn checked(
    sources: &mut SourceMap,
    roots: &[(FileId, PathBuf)],
    loader: &dyn Loader,
    options: &Options,
) -> (program::Program, Vec<Diagnostic>) {
    let program = program::load(sources, roots, loader);
    let mut diagnostics = program.diagnostics.clone();
    if program.files.iter().all(|f| !f.has_syntax_errors) {
        let mut checker = Checker::new(&program, loader, options);
        checker.run();
        diagnostics.extend(checker.diagnostics);
    }
    crate::diagnostic::sort(&mut diagnostics);
    (program, diagnostics)
}

/// Shared state of one check: the program, its declarations, what was
/// reported.
pub(crate) struct Checker<'a> {
    program: &'a program::Program,
    loader: &'a dyn Loader,
    options: &'a Options,
    decls: decls::Decls<'a>,
    /// Characters of each component's text, for context budgets (W0503).
    component_chars: std::collections::HashMap<decls::DeclId, usize>,
    diagnostics: Vec<Diagnostic>,
}

impl<'a> Checker<'a> {
    fn new(
        program: &'a program::Program,
        loader: &'a dyn Loader,
        options: &'a Options,
    ) -> Checker<'a> {
        let mut diagnostics = Vec::new();
        let decls = decls::Decls::build(program, &mut diagnostics);
        Checker {
            program,
            loader,
            options,
            decls,
            component_chars: std::collections::HashMap::new(),
            diagnostics,
        }
    }

    fn run(&mut self) {
        self.check_config();
        self.check_components();
        let mut calls = graph::CallGraph::default();
        for file in &self.program.files {
            for item in &file.ast.items {
                if let crate::syntax::ast::Item::Workflow(w) = item {
                    workflow::check(self, file.id, w, &mut calls);
                }
            }
        }
        for file in &self.program.files {
            for item in &file.ast.items {
                if let crate::syntax::ast::Item::Test(t) = item {
                    tests_blocks::check(self, file.id, t);
                }
            }
        }
        calls.report_recursion(&mut self.diagnostics);
        self.report_unused_declarations();
        self.check_api_keys();
    }

    fn report(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(diagnostic);
    }
}
