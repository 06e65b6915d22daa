//! AST → checked program: names, types, data contracts, the step graph,
//! convergence and configuration (codes E0101–E0402, W0501–W0508).
//!
//! [`check`] loads the files named and everything they import
//! ([`program`]), builds each file's scope of declarations ([`decls`]),
//! checks model, retry, agent and component settings ([`config`],
//! [`components`]), then every workflow body ([`workflow`], with
//! expressions in [`expr`]) and every test. The step graph and the call
//! graph are checked for cycles in [`graph`]; each step's policy is
//! resolved in [`policy`]. Each pass reports facts ([`problems`]), worded
//! in one place. Errors never stop the checker: a name or
//! expression that fails gets the type [`types::Ty::Error`], which fits
//! everywhere, so one mistake is reported once. What it proved comes back
//! as a [`Checked`] program, only when there was no error.

mod checked;
mod components;
pub(crate) mod config;
pub(crate) mod decls;
mod expr;
mod graph;
pub(crate) mod policy;
mod problems;
pub(crate) mod program;
pub(crate) mod settings;
mod tests_blocks;
pub mod types;
mod workflow;

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use crate::diagnostic::Diagnostic;
use crate::lang::model::Model;
use crate::source::{FileId, SourceMap, Span};
use problems::Problem;

pub use checked::Checked;
pub(crate) use checked::{CheckedWorkflow, Resolution, StepFacts};
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

/// What a check found: the checked program when there was no error, and
/// every diagnostic (warnings too), sorted by position.
pub struct Checking {
    pub checked: Option<Checked>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Checks the files `roots` (already in `sources`, read from the given
/// paths) and everything they import, which `loader` reads into `sources`.
pub fn check(
    sources: &mut SourceMap,
    roots: &[(FileId, PathBuf)],
    loader: &dyn Loader,
    options: &Options,
) -> Checking {
    let program = program::load(sources, roots, loader);
    let mut diagnostics = program.diagnostics.clone();
    diagnostics.extend(program.problems.iter().map(Problem::to_diagnostic));
    if program.files.iter().any(|f| f.has_syntax_errors) {
        crate::diagnostic::sort(&mut diagnostics);
        return Checking {
            checked: None,
            diagnostics,
        };
    }
    let found = {
        let mut checker = Checker::new(&program, loader, options);
        checker.run();
        diagnostics.extend(checker.problems.iter().map(Problem::to_diagnostic));
        checker.found
    };
    crate::diagnostic::sort(&mut diagnostics);
    let clean = !diagnostics.iter().any(Diagnostic::is_error);
    let roots = roots.iter().map(|(id, _)| *id).collect();
    Checking {
        checked: clean.then(|| found.into_checked(program, roots)),
        diagnostics,
    }
}

/// What the checker found out while checking, kept for the checked
/// program (see [`Checked`] for what each table means).
#[derive(Default)]
pub(crate) struct Found {
    models: Vec<Model>,
    components: Vec<(String, String)>,
    workflows: Vec<CheckedWorkflow>,
    names: HashMap<Span, Resolution>,
    steps: HashMap<Span, StepFacts>,
    lets: HashMap<Span, types::Ty>,
    expr_types: HashMap<Span, types::Ty>,
    calls: HashMap<Span, usize>,
    tests: HashMap<Span, usize>,
}

impl Found {
    fn into_checked(
        self,
        program: program::Program,
        roots: std::collections::HashSet<FileId>,
    ) -> Checked {
        Checked {
            program,
            roots,
            models: self.models,
            components: self.components,
            workflows: self.workflows,
            names: self.names,
            steps: self.steps,
            lets: self.lets,
            expr_types: self.expr_types,
            calls: self.calls,
            tests: self.tests,
        }
    }
}

/// Shared state of one check: the program, its declarations, what was
/// found and what was reported.
pub(crate) struct Checker<'a> {
    program: &'a program::Program,
    loader: &'a dyn Loader,
    options: &'a Options,
    decls: decls::Decls<'a>,
    /// Resolved models and components by declaration, as positions in
    /// `found`.
    model_of: HashMap<decls::DeclId, usize>,
    component_of: HashMap<decls::DeclId, usize>,
    /// Each workflow's position in load order, by its name's span.
    workflow_of: HashMap<Span, usize>,
    found: Found,
    problems: Vec<Problem>,
}

impl<'a> Checker<'a> {
    fn new(
        program: &'a program::Program,
        loader: &'a dyn Loader,
        options: &'a Options,
    ) -> Checker<'a> {
        let mut problems = Vec::new();
        let decls = decls::Decls::build(program, &mut problems);
        let workflow_of = program
            .workflows()
            .enumerate()
            .map(|(i, (_, _, w))| (w.name.span, i))
            .collect();
        Checker {
            program,
            loader,
            options,
            decls,
            model_of: HashMap::new(),
            component_of: HashMap::new(),
            workflow_of,
            found: Found::default(),
            problems,
        }
    }

    fn run(&mut self) {
        self.check_config();
        self.check_components();
        let mut calls = graph::CallGraph::default();
        for (file, item, w) in self.program.workflows() {
            workflow::check(self, file, item, w, &mut calls);
        }
        for file in &self.program.files {
            for item in &file.ast.items {
                if let crate::syntax::ast::Item::Test(t) = item {
                    tests_blocks::check(self, file.id, t);
                }
            }
        }
        calls.report_recursion(&mut self.problems);
        self.report_unused_declarations();
        self.check_api_keys();
        self.drop_follow_on_warnings();
    }

    /// A name offered as the fix of a typo (`return drafts` → did you mean
    /// `draft`?), or named in a clause left out for its unknown key
    /// (`retries = r`), was most likely meant to be used: saying it is
    /// unused too would report one mistake twice. The warning comes back
    /// after the fix if the name really is unused.
    fn drop_follow_on_warnings(&mut self) {
        let mut meant: HashSet<String> = self
            .program
            .files
            .iter()
            .flat_map(|f| f.left_out.iter().flat_map(|l| l.names.iter().cloned()))
            .collect();
        for problem in &self.problems {
            if let Problem::Name(problems::NameProblem::Unknown {
                name, candidates, ..
            }) = problem
            {
                let close = crate::suggest::similar(name, candidates.iter().map(String::as_str));
                meant.extend(close.into_iter().map(String::from));
            }
        }
        if meant.is_empty() {
            return;
        }
        self.problems.retain(|problem| match problem {
            Problem::Flow(problems::FlowProblem::Unused { name, .. })
            | Problem::Name(problems::NameProblem::Unused { name, .. }) => !meant.contains(name),
            _ => true,
        });
    }

    fn report(&mut self, problem: impl Into<Problem>) {
        self.problems.push(problem.into());
    }

    /// The position in the checked program's models of model `name` as
    /// seen from `file`.
    pub(crate) fn model_index(&self, file: FileId, name: &str) -> Option<usize> {
        self.model_of.get(&self.decls.id_of(file, name)?).copied()
    }

    /// The position of component `name` as seen from `file`.
    pub(crate) fn component_index(&self, file: FileId, name: &str) -> Option<usize> {
        self.component_of
            .get(&self.decls.id_of(file, name)?)
            .copied()
    }

    pub(crate) fn models(&self) -> &[Model] {
        &self.found.models
    }
}
