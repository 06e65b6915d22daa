//! The checked program: what the checker proved, in a form lowering reads
//! without resolving anything again. It owns the program's files (their
//! syntax trees are its structure) and side tables keyed by the span of
//! what they describe: what every name refers to, the type of every step
//! and expression, each step's resolved policy and models, and the
//! declarations resolved to values (models, retry policies, components,
//! agents). [`super::check`] gives one only when it found no error.

use std::collections::{HashMap, HashSet};

use super::program::Program;
use super::types::Ty;
use crate::lang::model::Model;
use crate::lang::policy::RetryPolicy;
use crate::source::{FileId, Span};

pub struct Checked {
    pub(crate) program: Program,
    /// The files named to check or run (not only imported).
    pub(crate) roots: HashSet<FileId>,
    /// Every model declaration, resolved, in declaration order.
    pub(crate) models: Vec<Model>,
    /// Every component, its text without front matter, in declaration
    /// order.
    pub(crate) components: Vec<(String, String)>,
    /// Every workflow, in load order.
    pub(crate) workflows: Vec<CheckedWorkflow>,
    /// What each name read in a workflow refers to, by the name's span.
    pub(crate) names: HashMap<Span, Resolution>,
    /// Every step, by the span of its name.
    pub(crate) steps: HashMap<Span, StepFacts>,
    /// The type of every `let` (declared, or of its value), by its name.
    pub(crate) lets: HashMap<Span, Ty>,
    /// The type of every expression of a workflow, by its span.
    pub(crate) expr_types: HashMap<Span, Ty>,
    /// The workflow each `call` calls, by the called name's span.
    pub(crate) calls: HashMap<Span, usize>,
    /// The workflow each test runs, by the test's span.
    pub(crate) tests: HashMap<Span, usize>,
}

pub struct CheckedWorkflow {
    pub file: FileId,
    /// Its position among the file's items.
    pub item: usize,
    pub params: Vec<Ty>,
    pub output: Option<Ty>,
    pub deadline_ms: Option<u64>,
    pub max_concurrency: Option<u64>,
}

/// What a name refers to.
#[derive(Clone, Debug, PartialEq)]
pub enum Resolution {
    /// A workflow input, `this`, `previous`, or a `for` variable.
    Var(String),
    /// The output of the step, `let` or loop declared at this name span.
    Node(Span),
    /// A component, by its position in [`Checked::components`].
    Component(usize),
    /// An enum variant written bare: its name is its value.
    Variant(String),
    /// A model named as a value (`summarized(model = flash)`), by its
    /// position in [`Checked::models`].
    Model(usize),
}

/// What the checker resolved for one step.
#[derive(Clone, Debug)]
pub struct StepFacts {
    /// Its declared output type.
    pub ty: Ty,
    pub policy: StepPolicy,
    /// An LLM step's fallback chain: models (by position in
    /// [`Checked::models`]) with one call's time limit each.
    pub models: Vec<(usize, u64)>,
    /// An LLM step's agent: its name and components (positions in
    /// [`Checked::components`]) by role.
    pub agent: Option<AgentFacts>,
}

/// A step's policy: its own clause, else its workflow's `default`, else
/// the built-in default (`super::policy`).
#[derive(Clone, Debug)]
pub struct StepPolicy {
    pub retry: RetryPolicy,
    /// One attempt of a step that calls no model.
    pub timeout_ms: Option<u64>,
    pub deadline_ms: Option<u64>,
    pub cache: bool,
}

#[derive(Clone, Debug)]
pub struct AgentFacts {
    pub name: String,
    pub persona: Vec<usize>,
    pub instructions: Vec<usize>,
    pub format: Vec<usize>,
}

impl Checked {
    pub fn is_root(&self, file: FileId) -> bool {
        self.roots.contains(&file)
    }

    /// The type the checker gave the expression at `span`.
    pub fn type_of(&self, span: Span) -> Option<&Ty> {
        self.expr_types.get(&span)
    }
}

/// What a statement of a workflow is: a node of its step graph.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeKind {
    Llm,
    Call,
    Exec,
    Fetch,
    Ask,
    Let,
    Loop,
}

impl NodeKind {
    /// The kind of a step, by its action.
    pub fn of(action: &crate::syntax::ast::Action) -> NodeKind {
        use crate::syntax::ast::Action;
        match action {
            Action::Llm => NodeKind::Llm,
            Action::Call { .. } => NodeKind::Call,
            Action::Exec(_) => NodeKind::Exec,
            Action::Fetch(_) => NodeKind::Fetch,
            Action::Ask(_) => NodeKind::Ask,
        }
    }
}
