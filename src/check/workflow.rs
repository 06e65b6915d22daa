//! One workflow body: scopes, steps and their clauses, `let`, `loop`, the
//! step graph (E0301), guards that can never pass (E0302), the result
//! (E0202, E0303) and outputs never used (W0501).

use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use super::checked::NodeKind;
use super::checked::{CheckedWorkflow, Resolution, StepFacts};
use super::config;
use super::decls::DeclKind;
use super::graph::{self, CallGraph};
use super::policy;
use super::types::{self, RecordTy, Ty};
use super::Checker;
use crate::diagnostic::{Code, Diagnostic};
use crate::source::{FileId, Span};
use crate::syntax::ast::{
    self, Action, ActionBlock, Clause, ClauseKind, ContextStrategy, Expr, ExprKind, LetStmt,
    LoopStmt, RetryRef, SettingValue, StepDecl, Stmt, WorkflowDecl, WorkflowSettingKind,
};
use crate::syntax::dump;

/// The most iterations a `loop` may declare.
pub const MAX_LOOP: i64 = 100;

pub(super) type NodeId = usize;

/// A step, `let` or `loop`: a node of the step graph.
pub(super) struct Node {
    pub name: String,
    pub span: Span,
    pub kind: NodeKind,
    pub used: bool,
    /// (the node read, the reference that reads it)
    pub deps: Vec<(NodeId, Span)>,
    /// The `when` guard, printed without spans, to compare guards.
    pub when: Option<String>,
}

/// What a name in scope stands for.
#[derive(Clone)]
pub(super) struct Binding {
    pub ty: Ty,
    pub span: Span,
    pub node: Option<NodeId>,
    /// A workflow input or a fetched body: not for `system` prompts (W0506).
    pub untrusted: bool,
    /// For a loop's name and its `previous`: the loop, whose body steps are
    /// read through fields (`refine.attempt`).
    pub loop_node: Option<NodeId>,
    /// What the name refers to when the workflow runs.
    pub resolution: Resolution,
}

impl Binding {
    /// A plain value bound to `name`: a `for` variable, `this`.
    pub fn value(name: &str, ty: Ty, span: Span) -> Binding {
        Binding {
            ty,
            span,
            node: None,
            untrusted: false,
            loop_node: None,
            resolution: Resolution::Var(name.to_string()),
        }
    }
}

/// A step nested in a block, for explaining why it is not visible outside.
struct Hidden {
    span: Span,
    place: String,
    /// The `match` arms it sits in: (match, arm).
    arms: Vec<(u32, usize)>,
}

/// The state of checking one workflow body.
pub(super) struct Body<'c, 'a> {
    pub cx: &'c mut Checker<'a>,
    pub file: FileId,
    pub workflow: &'a WorkflowDecl,
    frames: Vec<HashMap<String, Binding>>,
    pub nodes: Vec<Node>,
    /// The node whose expressions are being checked: references become its
    /// dependencies.
    pub current: Option<NodeId>,
    hidden: HashMap<String, Hidden>,
    pub arm_path: Vec<(u32, usize)>,
    /// Checking the workflow's `return` (E0303 instead of E0203).
    pub in_return: bool,
    /// Checking a `system` prompt (W0506).
    pub in_system: bool,
    /// Nodes created per statement, so a second pass finds them.
    node_of: HashMap<Span, NodeId>,
    /// `call`s made: (caller, callee, where).
    calls: Vec<(String, String, Span)>,
    /// The nodes of each loop's body.
    loop_members: HashMap<NodeId, Vec<NodeId>>,
    /// Steps with `context = all` or `summarized(…)`: every step upstream
    /// of them reaches a model, so none of those is unused.
    whole_context: Vec<NodeId>,
}

pub(super) fn check<'a>(
    cx: &mut Checker<'a>,
    file: FileId,
    item: usize,
    workflow: &'a WorkflowDecl,
    calls: &mut CallGraph,
) {
    calls
        .workflows
        .push((workflow.name.name.clone(), workflow.name.span));
    let mut body = Body {
        cx,
        file,
        workflow,
        frames: vec![HashMap::new()],
        nodes: Vec::new(),
        current: None,
        hidden: HashMap::new(),
        arm_path: Vec::new(),
        in_return: false,
        in_system: false,
        node_of: HashMap::new(),
        calls: Vec::new(),
        loop_members: HashMap::new(),
        whole_context: Vec::new(),
    };
    let params = body.params();
    let (deadline_ms, max_concurrency) = body.settings();
    collect_hidden(&workflow.body, &mut Vec::new(), &mut body.hidden, None);
    body.block_statements(&workflow.body);
    let output = body.result();
    body.report_cycles();
    body.report_unused();
    calls.calls.append(&mut body.calls);
    cx.found.workflows.push(CheckedWorkflow {
        file,
        item,
        params,
        output,
        deadline_ms,
        max_concurrency,
    });
}

impl<'c, 'a> Body<'c, 'a> {
    pub fn report(&mut self, diagnostic: Diagnostic) {
        self.cx.report(diagnostic);
    }

    /// Binds the parameters; gives their types.
    fn params(&mut self) -> Vec<Ty> {
        let mut types = Vec::new();
        let mut out = Vec::new();
        super::decls::duplicates_in(
            "parameter",
            self.workflow.params.iter().map(|p| &p.name),
            &mut out,
        );
        self.cx.diagnostics.extend(out);
        for param in &self.workflow.params {
            let ty = self.resolve_type(&param.ty);
            if let Some(default) = &param.default {
                let found = self.expr(default, Some(&ty));
                self.expect_fits(
                    &found,
                    &ty,
                    default,
                    Some((param.ty.span, "the parameter's type")),
                );
            }
            self.bind(
                &param.name,
                Binding {
                    ty,
                    span: param.name.span,
                    node: None,
                    untrusted: true,
                    loop_node: None,
                    resolution: Resolution::Var(param.name.name.clone()),
                },
            );
            types.push(
                self.lookup_local(&param.name.name)
                    .map_or(Ty::Error, |b| b.ty),
            );
        }
        types
    }

    /// Checks the workflow's settings; gives its `deadline` and
    /// `max_concurrency`.
    fn settings(&mut self) -> (Option<u64>, Option<u64>) {
        let (mut deadline, mut cap) = (None, None);
        for setting in &self.workflow.settings {
            match &setting.kind {
                WorkflowSettingKind::Deadline(e) => deadline = self.duration_literal(e, "deadline"),
                WorkflowSettingKind::MaxConcurrency(e) => {
                    cap = self.whole_literal(e, "max_concurrency", 1)
                }
                WorkflowSettingKind::Default(clause) => self.default_clause(clause),
            }
        }
        self.duplicate_clauses(self.workflow.settings.iter().filter_map(|s| match &s.kind {
            WorkflowSettingKind::Default(clause) => Some(clause),
            _ => None,
        }));
        (deadline, cap)
    }

    /// A duration the plan must know before running (`timeout = 30s`):
    /// E0202 when it is no duration, E0207 when it is computed.
    pub fn duration_literal(&mut self, e: &'a Expr, key: &str) -> Option<u64> {
        let ty = self.expr(e, Some(&Ty::Duration));
        self.expect_fits(&ty, &Ty::Duration, e, None);
        let ms = config::duration_ms(e);
        if ms.is_none() && ty.fits(&Ty::Duration) && !ty.is_error() {
            self.report(
                Diagnostic::new(
                    Code::E0207,
                    format!("`{key}` must be written as a duration"),
                )
                .primary(e.span, "computed when the workflow runs")
                .note("limits are part of the plan, fixed before anything runs")
                .help("write a duration like `30s`, `5m` or `250ms`"),
            );
        }
        ms
    }

    /// A whole number the plan must know before running, at least `low`.
    pub fn whole_literal(&mut self, e: &'a Expr, key: &str, low: i64) -> Option<u64> {
        let ty = self.expr(e, Some(&Ty::Int));
        self.expect_fits(&ty, &Ty::Int, e, None);
        match &e.kind {
            ExprKind::Int(n) if *n >= low => u64::try_from(*n).ok(),
            ExprKind::Int(n) => {
                self.report(
                    Diagnostic::new(Code::E0207, format!("`{key}` is out of range"))
                        .primary(e.span, format!("{n} is less than {low}")),
                );
                None
            }
            _ if ty.fits(&Ty::Int) && !ty.is_error() => {
                self.report(
                    Diagnostic::new(Code::E0207, format!("`{key}` must be written as a number"))
                        .primary(e.span, "computed when the workflow runs")
                        .note("limits are part of the plan, fixed before anything runs")
                        .help("write a whole number like `8`"),
                );
                None
            }
            _ => None,
        }
    }

    /// E0102: a clause written twice where it may be written once (every
    /// clause but `check`), both places labelled.
    fn duplicate_clauses(&mut self, clauses: impl Iterator<Item = &'a Clause>) {
        let mut seen: HashMap<&'static str, Span> = HashMap::new();
        let mut found = Vec::new();
        for clause in clauses {
            let Some(key) = clause_key(&clause.kind) else {
                continue;
            };
            match seen.get(key) {
                Some(first) => found.push(
                    Diagnostic::new(Code::E0102, format!("`{key}` is written twice"))
                        .primary(clause.span, "written again here")
                        .secondary(*first, "first written here")
                        .note(format!("only one `{key}` can apply"))
                        .help("keep one of them"),
                ),
                None => {
                    seen.insert(key, clause.span);
                }
            }
        }
        self.cx.diagnostics.extend(found);
    }

    /// `default model = …` and friends: checked like a step's clause.
    fn default_clause(&mut self, clause: &'a Clause) {
        self.clause(None, clause, &Ty::Error, &HashSet::new());
    }

    // ---- scopes ----------------------------------------------------------------

    pub fn bind(&mut self, name: &ast::Ident, binding: Binding) {
        if let Some(frame) = self.frames.last_mut() {
            frame.insert(name.name.clone(), binding);
        }
    }

    pub fn push_frame(&mut self) {
        self.frames.push(HashMap::new());
    }

    pub fn pop_frame(&mut self) {
        self.frames.pop();
    }

    pub fn lookup_local(&self, name: &str) -> Option<Binding> {
        self.frames.iter().rev().find_map(|f| f.get(name)).cloned()
    }

    pub fn local_names(&self) -> Vec<String> {
        self.frames.iter().flat_map(|f| f.keys().cloned()).collect()
    }

    pub fn resolve_type(&mut self, ty: &ast::TypeExpr) -> Ty {
        match self.cx.decls.resolve_type(self.file, ty) {
            Ok(ty) => ty,
            Err(name) => {
                let mut candidates: Vec<&str> = types::BUILTIN_TYPES.to_vec();
                candidates.extend(self.cx.decls.names(self.file, |k| {
                    matches!(k, DeclKind::Type(_) | DeclKind::Enum(_))
                }));
                let mut d = Diagnostic::new(Code::E0101, format!("unknown type `{}`", name.name))
                    .primary(name.span, "no type has this name");
                if let Some(help) = crate::suggest::did_you_mean(&name.name, candidates) {
                    d = d.help(help);
                }
                self.report(d);
                Ty::Error
            }
        }
    }

    /// Explains a name that is not in scope but is a step nested in a
    /// block: E0302 when it sits in another arm of a `match` this code is
    /// in (it can never have run), E0203 otherwise.
    pub fn hidden_step(&mut self, name: &ast::Ident) -> bool {
        let Some(hidden) = self.hidden.get(&name.name) else {
            return false;
        };
        let exclusive = hidden.arms.iter().any(|(m, arm)| {
            self.arm_path
                .iter()
                .any(|(mine, my_arm)| mine == m && my_arm != arm)
        });
        let (span, place) = (hidden.span, hidden.place.clone());
        let diagnostic = if exclusive {
            Diagnostic::new(
                Code::E0302,
                format!("`{}` can never have run here", name.name),
            )
            .primary(name.span, "read in one arm of a `match`")
            .secondary(span, "but it runs only in another arm")
            .note("the arms of a `match` exclude each other: one runs, the others never do")
            .help("compute it before the `match`, or in this arm")
        } else {
            Diagnostic::new(Code::E0203, format!("`{}` is not visible here", name.name))
                .primary(
                    name.span,
                    format!("`{}` exists only inside {place}", name.name),
                )
                .secondary(span, "declared here")
                .help(if place.starts_with("the loop") {
                    "read it after the loop through the loop's name, like `loop_name.step`"
                        .to_string()
                } else {
                    "make it the block's value and bind that with `let`".to_string()
                })
        };
        self.report(diagnostic);
        true
    }

    // ---- statements --------------------------------------------------------------

    /// Declares every statement of a block (so a step may read one written
    /// after it: the graph, not the order, says what runs first), then
    /// checks each.
    pub fn block_statements(&mut self, stmts: &'a [Stmt]) {
        let mut out = Vec::new();
        super::decls::duplicates_in("step", stmts.iter().map(Stmt::name), &mut out);
        self.cx.diagnostics.extend(out);
        for stmt in stmts {
            self.declare(stmt);
        }
        for stmt in stmts {
            match stmt {
                Stmt::Step(step) => self.step(step),
                Stmt::Let(let_stmt) => self.let_stmt(let_stmt),
                Stmt::Loop(loop_stmt) => self.loop_stmt(loop_stmt),
            }
        }
    }

    fn new_node(&mut self, name: &ast::Ident, kind: NodeKind, when: Option<String>) -> NodeId {
        self.nodes.push(Node {
            name: name.name.clone(),
            span: name.span,
            kind,
            used: false,
            deps: Vec::new(),
            when,
        });
        self.node_of.insert(name.span, self.nodes.len() - 1);
        self.nodes.len() - 1
    }

    fn declare(&mut self, stmt: &'a Stmt) {
        // A duplicate was reported; only the first one is declared.
        let declared_here = self
            .frames
            .last()
            .is_some_and(|f| f.contains_key(&stmt.name().name));
        if declared_here {
            return;
        }
        match stmt {
            Stmt::Step(step) => {
                let ty = self.resolve_type(&step.ty);
                let when = step.clauses.iter().find_map(|c| match &c.kind {
                    ClauseKind::When(e) => Some(dump::expr(e)),
                    _ => None,
                });
                let ty = if when.is_some() { Ty::optional(ty) } else { ty };
                let kind = NodeKind::of(&step.action);
                let node = self.new_node(&step.name, kind, when);
                let untrusted = kind == NodeKind::Fetch;
                self.bind(
                    &step.name,
                    Binding {
                        ty,
                        span: step.name.span,
                        node: Some(node),
                        untrusted,
                        loop_node: None,
                        resolution: Resolution::Node(step.name.span),
                    },
                );
            }
            Stmt::Let(let_stmt) => {
                let ty = match &let_stmt.ty {
                    Some(ty) => self.resolve_type(ty),
                    None => Ty::Error,
                };
                let node = self.new_node(&let_stmt.name, NodeKind::Let, None);
                self.bind(
                    &let_stmt.name,
                    Binding {
                        ty,
                        span: let_stmt.name.span,
                        node: Some(node),
                        untrusted: false,
                        loop_node: None,
                        resolution: Resolution::Node(let_stmt.name.span),
                    },
                );
            }
            Stmt::Loop(loop_stmt) => {
                let outputs = self.outputs_of(&loop_stmt.body);
                let mut fields = outputs;
                fields.push(("iterations".to_string(), Ty::Int));
                fields.push(("converged".to_string(), Ty::Bool));
                let ty = Ty::Record(Rc::new(RecordTy {
                    name: format!("loop `{}`", loop_stmt.name.name),
                    fields,
                    decl: Some(loop_stmt.name.span),
                    nominal: false,
                }));
                self.cx.found.lets.insert(loop_stmt.name.span, ty.clone());
                let node = self.new_node(&loop_stmt.name, NodeKind::Loop, None);
                self.bind(
                    &loop_stmt.name,
                    Binding {
                        ty,
                        span: loop_stmt.name.span,
                        node: Some(node),
                        untrusted: false,
                        loop_node: Some(node),
                        resolution: Resolution::Node(loop_stmt.name.span),
                    },
                );
            }
        }
    }

    /// The declared outputs of a loop body's steps and typed lets.
    fn outputs_of(&mut self, stmts: &[Stmt]) -> Vec<(String, Ty)> {
        stmts
            .iter()
            .filter_map(|s| match s {
                Stmt::Step(step) => {
                    let ty = self
                        .cx
                        .decls
                        .resolve_type(self.file, &step.ty)
                        .unwrap_or(Ty::Error);
                    Some((step.name.name.clone(), ty))
                }
                Stmt::Let(l) => {
                    let ty =
                        l.ty.as_ref()
                            .and_then(|t| self.cx.decls.resolve_type(self.file, t).ok())
                            .unwrap_or(Ty::Error);
                    Some((l.name.name.clone(), ty))
                }
                Stmt::Loop(_) => None,
            })
            .collect()
    }

    fn let_stmt(&mut self, let_stmt: &'a LetStmt) {
        let node = self.node_of.get(&let_stmt.name.span).copied();
        let previous = std::mem::replace(&mut self.current, node);
        let declared = let_stmt.ty.as_ref().map(|t| self.resolve_type(t));
        let found = self.expr(&let_stmt.value, declared.as_ref());
        if let Some(declared) = &declared {
            let origin = let_stmt.ty.as_ref().map(|t| (t.span, "the declared type"));
            self.expect_fits(&found, declared, &let_stmt.value, origin);
        } else if let Some(frame) = self.frames.last_mut() {
            if let Some(binding) = frame.get_mut(&let_stmt.name.name) {
                binding.ty = found.clone();
            }
        }
        self.cx
            .found
            .lets
            .insert(let_stmt.name.span, declared.unwrap_or(found));
        self.current = previous;
    }

    fn loop_stmt(&mut self, loop_stmt: &'a LoopStmt) {
        let node = self.node_of.get(&loop_stmt.name.span).copied();
        let previous_current = std::mem::replace(&mut self.current, node);
        self.loop_bound(loop_stmt);
        self.push_frame();
        let outputs = self.outputs_of(&loop_stmt.body);
        let previous = Ty::optional(Ty::Record(Rc::new(RecordTy {
            name: format!("iteration of `{}`", loop_stmt.name.name),
            fields: outputs,
            decl: Some(loop_stmt.name.span),
            nominal: false,
        })));
        self.frames.last_mut().map(|f| {
            f.insert(
                "previous".to_string(),
                Binding {
                    ty: previous,
                    span: loop_stmt.name.span,
                    node: None,
                    untrusted: false,
                    loop_node: node,
                    resolution: Resolution::Var("previous".to_string()),
                },
            )
        });
        let first_member = self.nodes.len();
        self.block_statements(&loop_stmt.body);
        if let Some(node) = node {
            self.loop_members
                .insert(node, (first_member..self.nodes.len()).collect());
        }
        // The loop reads its body's steps: that is how its result is built.
        self.current = node;
        for arg in &loop_stmt.options {
            if arg.name.as_ref().is_some_and(|n| n.name == "best_by") {
                let ty = self.expr(&arg.value, None);
                let ty = self.require_value(ty, &arg.value);
                if !ty.is_numeric() {
                    self.mismatch(&ty, &Ty::Float, arg.value.span, None);
                }
            }
        }
        if let Some(until) = &loop_stmt.until {
            self.condition(until, "until");
        }
        self.pop_frame();
        self.current = previous_current;
    }

    /// E0401: `max` is required, a whole number from 1 to 100.
    fn loop_bound(&mut self, loop_stmt: &LoopStmt) {
        let mut out = Vec::new();
        for arg in &loop_stmt.options {
            match arg.name.as_ref().map(|n| n.name.as_str()) {
                Some("max") => match &arg.value.kind {
                    ExprKind::Int(n) if (1..=MAX_LOOP).contains(n) => {}
                    ExprKind::Int(n) => out.push(
                        Diagnostic::new(Code::E0401, format!("loop bound {n} is out of range"))
                            .primary(arg.value.span, format!("must be 1 to {MAX_LOOP}"))
                            .note("every run must end, so every loop has a small bound"),
                    ),
                    _ => out.push(
                        Diagnostic::new(Code::E0401, "loop bound is not a whole number")
                            .primary(arg.value.span, "expected an integer like `5`"),
                    ),
                },
                Some("best_by") => {}
                _ => {
                    let key = arg.name.as_ref().map_or("?", |n| n.name.as_str());
                    let at = arg.name.as_ref().map_or(arg.span, |n| n.span);
                    out.push(
                        Diagnostic::new(Code::E0207, format!("unknown loop option `{key}`"))
                            .primary(at, "loops take `max` and `best_by`"),
                    );
                }
            }
        }
        if !loop_stmt
            .options
            .iter()
            .any(|a| a.name.as_ref().is_some_and(|n| n.name == "max"))
        {
            out.push(
                Diagnostic::new(
                    Code::E0401,
                    format!("loop `{}` has no `max`", loop_stmt.name.name),
                )
                .primary(loop_stmt.name.span, "this loop could run forever")
                .note("every run must end, so every loop says how often it may repeat")
                .help(format!(
                    "add a bound: `loop {} (max = 5) {{ … }}`",
                    loop_stmt.name.name
                )),
            );
        }
        self.cx.diagnostics.extend(out);
    }

    // ---- steps ----------------------------------------------------------------------

    fn step(&mut self, step: &'a StepDecl) {
        let node = self.node_of.get(&step.name.span).copied();
        let previous = std::mem::replace(&mut self.current, node);
        let declared = self
            .cx
            .decls
            .resolve_type(self.file, &step.ty)
            .unwrap_or(Ty::Error);
        self.action(step, &declared);
        self.push_frame();
        self.frames.last_mut().map(|f| {
            f.insert(
                "this".to_string(),
                Binding::value("this", declared.clone(), step.name.span),
            )
        });
        let prompt_names = step
            .clauses
            .iter()
            .filter_map(|c| match &c.kind {
                ClauseKind::Prompt(e) => Some(names_in(e)),
                _ => None,
            })
            .flatten()
            .collect::<HashSet<String>>();
        for clause in &step.clauses {
            self.clause(Some(step), clause, &declared, &prompt_names);
        }
        self.pop_frame();
        self.duplicate_clauses(step.clauses.iter());
        let facts = self.step_facts(step, declared);
        if matches!(step.action, Action::Llm) {
            self.llm_requirements(step, &facts);
            for clause in &step.clauses {
                if let ClauseKind::Prompt(e) = &clause.kind {
                    self.context_window(&facts, e);
                }
            }
        } else {
            self.model_clauses_elsewhere(step);
        }
        self.deadline_budget(step, &facts);
        self.cx.found.steps.insert(step.name.span, facts);
        self.current = previous;
    }

    /// E0207: a clause that only a model call takes, on a step that
    /// calls none.
    fn model_clauses_elsewhere(&mut self, step: &StepDecl) {
        let action = match &step.action {
            Action::Llm => return,
            Action::Call { .. } => "a `call`",
            Action::Exec(_) => "an `exec`",
            Action::Fetch(_) => "a `fetch`",
            Action::Ask(_) => "an `ask`",
        };
        for clause in &step.clauses {
            let key = match clause.kind {
                ClauseKind::Model(_) => "model",
                ClauseKind::Agent(_) => "agent",
                ClauseKind::Prompt(_) => "prompt",
                ClauseKind::System(_) => "system",
                ClauseKind::Context(_) => "context",
                ClauseKind::Cache(_) => "cache",
                _ => continue,
            };
            self.report(
                Diagnostic::new(Code::E0207, format!("`{key}` is for steps that call a model"))
                    .primary(clause.span, format!("`{}` is {action} step", step.name.name))
                    .note("every step takes `retry`, `timeout`, `deadline`, `check`, `when`, `on_error`, `compensate` and `after`; `model`, `agent`, `prompt`, `system`, `context` and `cache` belong to model calls")
                    .help(format!("remove `{key}`, or make the step a model call: `step {}: T {{ model = …  prompt = … }}`", step.name.name)),
            );
        }
    }

    /// What the checked program keeps of a step: its type, its resolved
    /// policy, its models and its agent.
    fn step_facts(&mut self, step: &'a StepDecl, ty: Ty) -> StepFacts {
        let chosen = policy::choose(&step.clauses, self.workflow);
        let kind = NodeKind::of(&step.action);
        let is_llm = kind == NodeKind::Llm;
        StepFacts {
            ty,
            policy: self.cx.step_policy(self.file, &chosen, kind),
            models: if is_llm {
                self.cx.model_attempts(self.file, &chosen)
            } else {
                Vec::new()
            },
            agent: chosen
                .agent()
                .filter(|_| is_llm)
                .and_then(|agent| self.cx.agent_facts(self.file, agent)),
        }
    }

    fn action(&mut self, step: &'a StepDecl, declared: &Ty) {
        match &step.action {
            Action::Llm => {}
            Action::Call { workflow, args } => {
                if let Some(target) = self
                    .cx
                    .decls
                    .lookup(self.file, &workflow.name)
                    .filter(|d| matches!(d.kind, DeclKind::Workflow(_)))
                    .and_then(|d| self.cx.workflow_of.get(&d.name.span).copied())
                {
                    self.cx.found.calls.insert(workflow.span, target);
                }
                self.calls.push((
                    self.workflow.name.name.clone(),
                    workflow.name.clone(),
                    workflow.span,
                ));
                let output = self.call(workflow, args, step.name.span);
                if let Some(output) = output {
                    if !output.fits(declared) {
                        self.mismatch(
                            &output,
                            declared,
                            workflow.span,
                            Some((step.ty.span, "the step's declared type")),
                        );
                    }
                }
            }
            Action::Exec(block) => {
                self.exec_block(block);
                let expected = types::exec_result();
                if !expected.fits(declared) {
                    self.report(
                        Diagnostic::new(Code::E0202, "an `exec` step produces `ExecResult`")
                            .primary(step.ty.span, format!("declared as `{declared}`"))
                            .note("`ExecResult` has `code`, `stdout` and `stderr`")
                            .help("declare the step as `ExecResult` and read `.stdout`"),
                    );
                }
            }
            Action::Fetch(block) => {
                self.typed_setting(block, "url", &Ty::String);
                self.typed_setting(block, "timeout", &Ty::Duration);
                self.text_map_setting(block, "headers");
                self.text_map_setting(block, "query");
                if let Some(SettingValue::Expr(e)) = block.get("body") {
                    let ty = self.expr(e, None);
                    self.require_value(ty, e);
                }
                self.word_setting(
                    block,
                    "method",
                    &["get", "post", "put", "patch", "delete", "head"],
                );
            }
            Action::Ask(block) => {
                self.typed_setting(block, "question", &Ty::String);
                self.typed_setting(block, "timeout", &Ty::Duration);
                if let Some(SettingValue::Expr(e)) = block.get("show") {
                    let ty = self.expr(e, None);
                    self.require_value(ty, e);
                }
                if let Some(SettingValue::Expr(e)) = block.get("options") {
                    let ty = self.expr(e, Some(&Ty::list(Ty::String)));
                    self.expect_fits(&ty, &Ty::list(Ty::String), e, None);
                }
            }
        }
    }

    pub fn exec_block(&mut self, block: &'a ActionBlock) {
        self.typed_setting(block, "command", &Ty::list(Ty::String));
        self.typed_setting(block, "stdin", &Ty::String);
        self.typed_setting(block, "cwd", &Ty::String);
        self.typed_setting(block, "timeout", &Ty::Duration);
        self.text_map_setting(block, "env");
    }

    /// `env`, `headers`, `query`: a map expression, or a block of
    /// `KEY = value` whose values are expressions rendered as text
    /// (`env = { MODE = mode }` reads the variable `mode`).
    fn text_map_setting(&mut self, block: &'a ActionBlock, key: &str) {
        match block.get(key) {
            Some(SettingValue::Expr(e)) => {
                let ty = self.expr(e, Some(&Ty::Map(Box::new(Ty::String))));
                self.require_value(ty, e);
            }
            Some(SettingValue::Block(entries, _)) => {
                for entry in entries {
                    match &entry.value {
                        SettingValue::Expr(e) => {
                            let ty = self.expr(e, Some(&Ty::String));
                            self.require_value(ty, e);
                        }
                        _ => self.report(
                            Diagnostic::new(Code::E0202, format!("invalid `{key}` value"))
                                .primary(entry.span, "expected a value written as text")
                                .help(format!(
                                    "write `{} = \"…\"` or an expression",
                                    entry.key.name
                                )),
                        ),
                    }
                }
            }
            _ => {}
        }
    }

    fn typed_setting(&mut self, block: &'a ActionBlock, key: &str, expected: &Ty) {
        if let Some(SettingValue::Expr(e)) = block.get(key) {
            let ty = self.expr(e, Some(expected));
            self.expect_fits(&ty, expected, e, None);
        }
    }

    fn word_setting(&mut self, block: &ActionBlock, key: &str, words: &[&str]) {
        let Some(SettingValue::Expr(e)) = block.get(key) else {
            return;
        };
        let ok = match &e.kind {
            ExprKind::Name(n) => words.contains(&n.name.as_str()),
            ExprKind::String(t) => t
                .as_plain()
                .is_some_and(|s| words.contains(&s.to_lowercase().as_str())),
            _ => false,
        };
        if !ok {
            self.report(
                Diagnostic::new(Code::E0202, format!("invalid `{key}`")).primary(
                    e.span,
                    format!("expected {}", crate::suggest::one_of(words)),
                ),
            );
        }
    }

    /// A `call`: the workflow exists, its arguments match its parameters
    /// (E0206). Returns the workflow's output type.
    pub fn call(&mut self, workflow: &ast::Ident, args: &'a [ast::Arg], _at: Span) -> Option<Ty> {
        let decl = self.cx.decls.lookup(self.file, &workflow.name);
        let target = match decl.map(|d| (&d.kind, d.file)) {
            Some((DeclKind::Workflow(w), file)) => Some((*w, file)),
            _ => None,
        };
        let Some((target, target_file)) = target else {
            self.cx.expect_decl(self.file, workflow, "workflow");
            for arg in args {
                self.expr(&arg.value, None);
            }
            return None;
        };
        let mut given: HashSet<&str> = HashSet::new();
        for arg in args {
            let Some(name) = &arg.name else {
                self.expr(&arg.value, None);
                self.report(
                    Diagnostic::new(Code::E0206, "arguments to a workflow are named")
                        .primary(arg.span, "this argument has no name")
                        .help(format!(
                            "write `name = value`; `{}` takes {}",
                            workflow.name,
                            param_list(target)
                        )),
                );
                continue;
            };
            let Some(param) = target.params.iter().find(|p| p.name.name == name.name) else {
                self.expr(&arg.value, None);
                let names: Vec<&str> = target.params.iter().map(|p| p.name.name.as_str()).collect();
                let mut d = Diagnostic::new(
                    Code::E0206,
                    format!("`{}` has no parameter `{}`", workflow.name, name.name),
                )
                .primary(name.span, "unknown argument")
                .secondary(
                    target.name.span,
                    format!("`{}` is declared here", workflow.name),
                )
                .note(format!("it takes {}", param_list(target)));
                if let Some(help) = crate::suggest::did_you_mean(&name.name, names) {
                    d = d.help(help);
                }
                self.report(d);
                continue;
            };
            given.insert(&name.name);
            let expected = self
                .cx
                .decls
                .resolve_type(target_file, &param.ty)
                .unwrap_or(Ty::Error);
            let found = self.expr(&arg.value, Some(&expected));
            if !found.fits(&expected) {
                if found.is_optional() && found.unwrap_optional().fits(&expected) {
                    self.optional_misuse(&found, &arg.value);
                } else {
                    let mut d = Diagnostic::new(
                        Code::E0206,
                        format!("argument `{}` has the wrong type", name.name),
                    )
                    .primary(
                        arg.value.span,
                        format!("expected `{expected}`, found `{found}`"),
                    )
                    .secondary(param.ty.span, "the parameter's type");
                    if let Some((at, label)) = self.producer_label(&arg.value) {
                        d = d.secondary(at, label);
                    }
                    self.report(d);
                }
            }
        }
        let missing: Vec<&str> = target
            .params
            .iter()
            .filter(|p| p.default.is_none() && !given.contains(p.name.name.as_str()))
            .map(|p| p.name.name.as_str())
            .collect();
        if !missing.is_empty() {
            let noun = if missing.len() == 1 {
                "argument"
            } else {
                "arguments"
            };
            self.report(
                Diagnostic::new(
                    Code::E0206,
                    format!(
                        "missing {noun} {} to `{}`",
                        crate::suggest::all_of(&missing),
                        workflow.name
                    ),
                )
                .primary(
                    workflow.span,
                    format!(
                        "`{}` needs {}",
                        workflow.name,
                        crate::suggest::all_of(&missing)
                    ),
                )
                .secondary(
                    target.name.span,
                    format!("`{}` is declared here", workflow.name),
                ),
            );
        }
        let output = match &target.output {
            Some(ty) => self
                .cx
                .decls
                .resolve_type(target_file, ty)
                .unwrap_or(Ty::Error),
            None => Ty::Error,
        };
        Some(output)
    }

    /// One clause of `step` (`None`: a workflow's `default` clause).
    fn clause(
        &mut self,
        step: Option<&'a StepDecl>,
        clause: &'a Clause,
        declared: &Ty,
        prompt_names: &HashSet<String>,
    ) {
        match &clause.kind {
            ClauseKind::Model(chain) => {
                for name in chain {
                    self.cx.expect_decl(self.file, name, "model");
                }
            }
            ClauseKind::Agent(name) => self.cx.expect_decl(self.file, name, "agent"),
            ClauseKind::Prompt(e) => self.text(e),
            ClauseKind::System(e) => {
                self.in_system = true;
                self.text(e);
                self.in_system = false;
            }
            ClauseKind::Context(strategy) => self.context(strategy, prompt_names),
            ClauseKind::Retry(retry) => self.retry_reference(retry),
            ClauseKind::Timeout(e) => {
                self.duration_literal(e, "timeout");
            }
            ClauseKind::Deadline(e) => {
                self.duration_literal(e, "deadline");
            }
            ClauseKind::Check { condition, message } => {
                self.condition(condition, "check");
                self.text(message);
            }
            ClauseKind::When(e) => {
                self.condition(e, "when");
                let never = super::expr::constant_bool(e) == Some(false);
                if let Some(step) = step.filter(|_| never) {
                    self.report(
                        Diagnostic::new(
                            Code::E0302,
                            format!("step `{}` can never run", step.name.name),
                        )
                        .primary(e.span, "this guard is always false")
                        .secondary(step.name.span, "the step it guards"),
                    );
                }
            }
            ClauseKind::OnError(e) => {
                let ty = self.expr(e, Some(declared));
                let origin = step.map(|s| (s.ty.span, "the step's declared type"));
                self.expect_fits(&ty, declared, e, origin);
            }
            ClauseKind::Compensate(block) => self.exec_block(block),
            ClauseKind::After(names) => {
                for name in names {
                    self.reference_step(name, false);
                }
            }
            ClauseKind::Cache(e) => {
                let ty = self.expr(e, Some(&Ty::Bool));
                self.expect_fits(&ty, &Ty::Bool, e, None);
                if ty.fits(&Ty::Bool) && !matches!(e.kind, ExprKind::Bool(_)) && !ty.is_error() {
                    self.report(
                        Diagnostic::new(
                            Code::E0207,
                            "`cache` must be written as `true` or `false`",
                        )
                        .primary(e.span, "computed when the workflow runs"),
                    );
                }
            }
        }
    }

    /// A prompt-like value: text, a component or anything that renders.
    fn text(&mut self, e: &'a Expr) {
        let ty = self.expr(e, Some(&Ty::String));
        let ty = self.require_value(ty, e);
        if !ty.fits(&Ty::String) {
            self.mismatch(&ty, &Ty::String, e.span, None);
        }
    }

    /// `check`, `when`, `until`: a `bool` (E0208).
    pub fn condition(&mut self, e: &'a Expr, keyword: &str) {
        let ty = self.expr(e, Some(&Ty::Bool));
        if ty.is_optional() && ty.unwrap_optional().fits(&Ty::Bool) {
            self.optional_misuse(&ty, e);
        } else if !ty.fits(&Ty::Bool) {
            self.report(
                Diagnostic::new(
                    Code::E0208,
                    format!("`{keyword}` condition is not a `bool`"),
                )
                .primary(e.span, format!("this is `{ty}`"))
                .help(if ty.fits(&Ty::String) {
                    "compare it: `x != \"\"`, or use `len(x) > 0`".to_string()
                } else {
                    "write a comparison such as `x > 0`".to_string()
                }),
            );
        }
    }

    fn context(&mut self, strategy: &'a ContextStrategy, prompt_names: &HashSet<String>) {
        if matches!(
            strategy,
            ContextStrategy::All(_) | ContextStrategy::Summarized(..)
        ) {
            self.whole_context.extend(self.current);
        }
        match strategy {
            ContextStrategy::Fresh(_) | ContextStrategy::All(_) => {}
            ContextStrategy::Steps(names, _) => {
                for name in names {
                    if !self.reference_step(name, true) {
                        continue;
                    }
                    if prompt_names.contains(&name.name) {
                        self.report(
                            Diagnostic::new(
                                Code::W0504,
                                format!("`{}` is in the context and in the prompt", name.name),
                            )
                            .primary(name.span, "already interpolated by the prompt")
                            .note("the model would read it twice")
                            .help(format!("remove `{}` from `context`", name.name)),
                        );
                    }
                }
            }
            ContextStrategy::Summarized(args, _) => {
                for arg in args {
                    match arg.name.as_ref().map(|n| n.name.as_str()) {
                        Some("model") => match &arg.value.kind {
                            ExprKind::Name(model) => {
                                self.cx.expect_decl(self.file, model, "model");
                                if let Some(index) = self.cx.model_index(self.file, &model.name) {
                                    self.cx
                                        .found
                                        .names
                                        .insert(model.span, Resolution::Model(index));
                                }
                            }
                            _ => self.mismatch_text(arg.value.span, "expected a model name"),
                        },
                        Some("max_tokens") => {
                            let ty = self.expr(&arg.value, Some(&Ty::Int));
                            self.expect_fits(&ty, &Ty::Int, &arg.value, None);
                        }
                        _ => self.report(
                            Diagnostic::new(Code::E0206, "unknown argument to `summarized`")
                                .primary(arg.span, "`summarized` takes `max_tokens` and `model`"),
                        ),
                    }
                }
            }
        }
    }

    fn mismatch_text(&mut self, span: Span, label: &str) {
        self.report(
            Diagnostic::new(Code::E0202, "mismatched types").primary(span, label.to_string()),
        );
    }

    /// A name in `after` or `context`: must be a step, `let` or loop in
    /// scope. Records the dependency; `uses` marks its output used.
    fn reference_step(&mut self, name: &ast::Ident, uses: bool) -> bool {
        match self.lookup_local(&name.name).and_then(|b| b.node) {
            Some(node) => {
                let declared = Resolution::Node(self.nodes[node].span);
                self.cx.found.names.insert(name.span, declared);
                self.depend_on(node, name.span);
                if uses {
                    self.nodes[node].used = true;
                }
                true
            }
            None => {
                if !self.hidden_step(name) {
                    let candidates: Vec<String> =
                        self.nodes.iter().map(|n| n.name.clone()).collect();
                    let mut d =
                        Diagnostic::new(Code::E0101, format!("unknown step `{}`", name.name))
                            .primary(name.span, "no step has this name");
                    if let Some(help) = crate::suggest::did_you_mean(
                        &name.name,
                        candidates.iter().map(String::as_str),
                    ) {
                        d = d.help(help);
                    }
                    self.report(d);
                }
                false
            }
        }
    }

    /// `refine.attempt` or `previous.attempt`: reads `attempt` of the loop's
    /// body, which counts as a use.
    pub fn read_loop_member(&mut self, base: &Expr, field: &ast::Ident) {
        let ExprKind::Name(name) = &base.kind else {
            return;
        };
        let Some(loop_node) = self.lookup_local(&name.name).and_then(|b| b.loop_node) else {
            return;
        };
        let members = self
            .loop_members
            .get(&loop_node)
            .cloned()
            .unwrap_or_default();
        if let Some(&member) = members.iter().find(|&&m| self.nodes[m].name == field.name) {
            self.nodes[member].used = true;
        }
    }

    pub fn depend_on(&mut self, node: NodeId, at: Span) {
        if let Some(current) = self.current {
            self.nodes[current].deps.push((node, at));
        }
    }

    /// An LLM step needs a model (its own, its agent's, or the workflow's
    /// default) and a prompt (or an agent, whose instruction is one).
    fn llm_requirements(&mut self, step: &StepDecl, facts: &StepFacts) {
        let has = |pred: fn(&ClauseKind) -> bool| step.clauses.iter().any(|c| pred(&c.kind));
        let default = |pred: fn(&ClauseKind) -> bool| {
            self.workflow.settings.iter().any(|s| match &s.kind {
                WorkflowSettingKind::Default(c) => pred(&c.kind),
                _ => false,
            })
        };
        let is_model = |k: &ClauseKind| matches!(k, ClauseKind::Model(_) | ClauseKind::Agent(_));
        let is_prompt = |k: &ClauseKind| matches!(k, ClauseKind::Prompt(_) | ClauseKind::Agent(_));
        // A named model or agent that failed to resolve was reported already.
        if facts.models.is_empty() && !has(is_model) && !default(is_model) {
            self.report(
                Diagnostic::new(Code::E0207, format!("step `{}` has no model", step.name.name))
                    .primary(step.name.span, "an LLM step needs a model to call")
                    .help("add `model = …` or `agent = …`, or `default model = …` at the top of the workflow"),
            );
        }
        if !has(is_prompt) && facts.agent.is_none() {
            self.report(
                Diagnostic::new(
                    Code::E0207,
                    format!("step `{}` has no prompt", step.name.name),
                )
                .primary(step.name.span, "an LLM step needs a prompt")
                .help("add `prompt = \"…\"`"),
            );
        }
    }

    /// The retry policy a clause names (it must be one) or writes.
    fn retry_reference(&mut self, retry: &'a RetryRef) {
        match retry {
            RetryRef::Named(name) => self.cx.expect_decl(self.file, name, "retry policy"),
            RetryRef::Inline(settings, span) => self.cx.check_retry(settings, *span),
        }
    }

    /// W0505: a step's tries (attempts × one try's limit, plus the longest
    /// backoff between them) must fit its deadline, or else its workflow's.
    /// The policy is the resolved one: defaults count.
    fn deadline_budget(&mut self, step: &'a StepDecl, facts: &StepFacts) {
        let chosen = policy::choose(&step.clauses, self.workflow);
        let step_deadline = chosen
            .deadline()
            .filter(|_| facts.policy.deadline_ms.is_some());
        let workflow_deadline = self.workflow.settings.iter().find_map(|s| match &s.kind {
            WorkflowSettingKind::Deadline(e) => config::duration_ms(e).map(|ms| (e, ms)),
            _ => None,
        });
        let Some((deadline, deadline_ms)) = step_deadline
            .zip(facts.policy.deadline_ms)
            .or(workflow_deadline)
        else {
            return;
        };
        // One try's limit: the first model's (fallbacks come after), or the
        // step's own.
        let Some(timeout_ms) = facts
            .models
            .first()
            .map(|(_, ms)| *ms)
            .or(facts.policy.timeout_ms)
        else {
            return;
        };
        let retry = &facts.policy.retry;
        let delays: u64 = retry.worst_delays_ms().iter().sum();
        let worst = retry
            .attempts
            .saturating_mul(timeout_ms)
            .saturating_add(delays);
        if worst <= deadline_ms {
            return;
        }
        let at = chosen.timeout().map_or(step.name.span, |t| t.span);
        let written = if chosen.timeout().is_some() || chosen.retry().is_some() {
            String::new()
        } else {
            " (the built-in policy: nothing is written)".to_string()
        };
        self.report(
            Diagnostic::new(
                Code::W0505,
                format!("retries of `{}` cannot fit its deadline", step.name.name),
            )
            .primary(
                at,
                format!(
                    "{} attempts of up to {}{written}",
                    retry.attempts,
                    show_ms(timeout_ms)
                ),
            )
            .secondary(
                deadline.span,
                format!("the deadline: {}", show_ms(deadline_ms)),
            )
            .note(format!(
                "{} attempts × {} + {} of backoff = {}",
                retry.attempts,
                show_ms(timeout_ms),
                show_ms(delays),
                show_ms(worst)
            ))
            .help("lower `attempts` or `timeout`, or raise the deadline"),
        );
    }

    /// W0503: a prompt whose fixed text and components alone exceed the
    /// smallest context window among its models.
    fn context_window(&mut self, facts: &StepFacts, prompt: &Expr) {
        let window = facts
            .models
            .iter()
            .filter_map(|(m, _)| self.cx.models().get(*m)?.context_window)
            .min();
        let Some(window) = window else { return };
        let chars = self.fixed_chars(prompt);
        let tokens = super::components::estimate_tokens(chars);
        if tokens > window {
            self.report(
                Diagnostic::new(Code::W0503, "prompt exceeds the model's context window")
                    .primary(
                        prompt.span,
                        format!("about {tokens} tokens before any input"),
                    )
                    .note(format!(
                        "the smallest `context_window` among its models is {window}"
                    ))
                    .help(
                        "shorten the prompt or its components, or use a model with a larger window",
                    ),
            );
        }
    }

    /// Characters of a prompt known before running: its text and the
    /// components it interpolates.
    fn fixed_chars(&self, e: &Expr) -> usize {
        let ExprKind::String(template) = &e.kind else {
            return 0;
        };
        let mut total = 0;
        walk_template_text(&template.parts, &mut |part| match part {
            TextOrName::Text(t) => total += t.chars().count(),
            TextOrName::Name(n) => {
                if let Some(c) = self.cx.component_index(self.file, n) {
                    total += self.cx.found.components[c].1.chars().count();
                }
            }
        });
        total
    }

    // ---- the result and the graph -------------------------------------------------

    /// Checks the `return` against the declared output; gives the output
    /// type.
    fn result(&mut self) -> Option<Ty> {
        let expected = self.workflow.output.as_ref().map(|t| self.resolve_type(t));
        let Some(ret) = &self.workflow.ret else {
            if let (Some(expected), Some(output)) = (&expected, &self.workflow.output) {
                if !expected.is_error() {
                    self.report(
                        Diagnostic::new(
                            Code::E0202,
                            format!("workflow `{}` returns nothing", self.workflow.name.name),
                        )
                        .primary(output.span, format!("declared to return `{expected}`"))
                        .help("end the body with `return …`"),
                    );
                }
            }
            return expected;
        };
        self.in_return = true;
        let found = self.expr(&ret.value, expected.as_ref());
        if let (Some(expected), Some(output)) = (&expected, &self.workflow.output) {
            self.expect_fits(
                &found,
                expected,
                &ret.value,
                Some((output.span, "the workflow's declared output")),
            );
        } else {
            self.require_value(found, &ret.value);
        }
        self.in_return = false;
        // The result is used by whoever runs the workflow.
        for node in names_in(&ret.value) {
            if let Some(id) = self.lookup_local(&node).and_then(|b| b.node) {
                self.nodes[id].used = true;
            }
        }
        expected
    }

    fn report_cycles(&mut self) {
        let order: Vec<NodeId> = (0..self.nodes.len()).collect();
        let found = graph::cycles(&order, |n| {
            self.nodes[n].deps.iter().map(|(d, _)| *d).collect()
        });
        for cycle in found {
            let names: Vec<&str> = cycle.iter().map(|&n| self.nodes[n].name.as_str()).collect();
            let mut diagnostic = if cycle.len() == 1 {
                Diagnostic::new(
                    Code::E0301,
                    format!("step `{}` depends on itself", names[0]),
                )
            } else {
                Diagnostic::new(
                    Code::E0301,
                    format!("dependency cycle between `{}`", names.join("`, `")),
                )
            };
            for (i, &from) in cycle.iter().enumerate() {
                let to = cycle[(i + 1) % cycle.len()];
                let Some((_, span)) = self.nodes[from].deps.iter().find(|(d, _)| *d == to) else {
                    continue;
                };
                let label = format!(
                    "`{}` reads `{}` here",
                    self.nodes[from].name, self.nodes[to].name
                );
                diagnostic = if i == 0 {
                    diagnostic.primary(*span, label)
                } else {
                    diagnostic.secondary(*span, label)
                };
            }
            let mut path = names.clone();
            path.push(names[0]);
            self.report(
                diagnostic
                    .note(format!("the cycle: {}", path.join(" → ")))
                    .help("a step runs after everything it reads; break the cycle by removing one reference"),
            );
        }
    }

    /// W0501: LLM steps, calls and `let`s whose value nobody reads.
    fn report_unused(&mut self) {
        let mut upstream: Vec<NodeId> = self.whole_context.clone();
        let mut seen: HashSet<NodeId> = upstream.iter().copied().collect();
        while let Some(node) = upstream.pop() {
            let deps: Vec<NodeId> = self.nodes[node].deps.iter().map(|(d, _)| *d).collect();
            for dep in deps {
                self.nodes[dep].used = true;
                if seen.insert(dep) {
                    upstream.push(dep);
                }
            }
        }
        let unused: Vec<(String, Span, NodeKind)> = self
            .nodes
            .iter()
            .filter(|n| !n.used && matches!(n.kind, NodeKind::Llm | NodeKind::Call | NodeKind::Let))
            .filter(|n| !n.name.starts_with('_'))
            .map(|n| (n.name.clone(), n.span, n.kind))
            .collect();
        for (name, span, kind) in unused {
            let mut d = if kind == NodeKind::Let {
                Diagnostic::new(Code::W0501, format!("value of `{name}` is never used"))
            } else {
                Diagnostic::new(Code::W0501, format!("output of `{name}` is never used"))
                    .note("it still costs a model call on every run")
            };
            d = d.primary(span, "nothing reads this");
            self.report(d.help(format!(
                "use it, remove it, or name it `_{name}` to keep it"
            )));
        }
    }
}

fn param_list(workflow: &WorkflowDecl) -> String {
    if workflow.params.is_empty() {
        return "no parameters".to_string();
    }
    let names: Vec<&str> = workflow
        .params
        .iter()
        .map(|p| p.name.name.as_str())
        .collect();
    crate::suggest::all_of(&names)
}

fn show_ms(ms: u64) -> String {
    if ms.is_multiple_of(60_000) && ms > 0 {
        format!("{}m", ms / 60_000)
    } else if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        format!("{ms}ms")
    }
}

/// Steps nested in blocks (arms, loop and `for` bodies, `if` branches),
/// with where they live.
fn collect_hidden(
    stmts: &[Stmt],
    arms: &mut Vec<(u32, usize)>,
    out: &mut HashMap<String, Hidden>,
    place: Option<&str>,
) {
    for stmt in stmts {
        if let Some(place) = place {
            let name = stmt.name();
            out.entry(name.name.clone()).or_insert(Hidden {
                span: name.span,
                place: place.to_string(),
                arms: arms.clone(),
            });
        }
        match stmt {
            Stmt::Step(s) => {
                for clause in &s.clauses {
                    if let ClauseKind::Prompt(e) | ClauseKind::OnError(e) = &clause.kind {
                        hidden_in_expr(e, arms, out);
                    }
                }
            }
            Stmt::Let(l) => hidden_in_expr(&l.value, arms, out),
            Stmt::Loop(l) => {
                let place = format!("the loop `{}`", l.name.name);
                collect_hidden(&l.body, arms, out, Some(&place));
            }
        }
    }
}

fn hidden_in_expr(e: &Expr, arms: &mut Vec<(u32, usize)>, out: &mut HashMap<String, Hidden>) {
    match &e.kind {
        ExprKind::Match {
            arms: match_arms, ..
        } => {
            for (i, arm) in match_arms.iter().enumerate() {
                arms.push((e.span.start, i));
                if let ExprKind::Block(block) = &arm.body.kind {
                    collect_hidden(&block.stmts, arms, out, Some("a `match` arm"));
                    hidden_in_expr(&block.value, arms, out);
                }
                arms.pop();
            }
        }
        ExprKind::For { body, .. } => {
            collect_hidden(&body.stmts, arms, out, Some("the body of a `for`"));
        }
        ExprKind::If {
            then, otherwise, ..
        } => {
            collect_hidden(&then.stmts, arms, out, Some("a branch of an `if`"));
            hidden_in_expr(otherwise, arms, out);
        }
        ExprKind::Block(block) => {
            collect_hidden(&block.stmts, arms, out, Some("a block"));
        }
        ExprKind::Paren(inner) => hidden_in_expr(inner, arms, out),
        _ => {}
    }
}

/// Every bare name an expression reads (templates included).
pub(super) fn names_in(e: &Expr) -> Vec<String> {
    let mut out = Vec::new();
    super::expr::visit_names(e, &mut |name| out.push(name.to_string()));
    out
}

enum TextOrName<'t> {
    Text(&'t str),
    Name(&'t str),
}

fn walk_template_text<'t>(parts: &'t [ast::TemplatePart], f: &mut dyn FnMut(TextOrName<'t>)) {
    for part in parts {
        match part {
            ast::TemplatePart::Text { text, .. } => f(TextOrName::Text(text)),
            ast::TemplatePart::Interpolation { expr, .. } => {
                if let ExprKind::Name(n) = &expr.kind {
                    f(TextOrName::Name(&n.name));
                }
            }
            ast::TemplatePart::If {
                then, otherwise, ..
            } => {
                walk_template_text(then, f);
                if let Some(otherwise) = otherwise {
                    walk_template_text(otherwise, f);
                }
            }
            ast::TemplatePart::For { body, .. } => walk_template_text(body, f),
        }
    }
}

/// The key of a clause that may be written once (`check` may repeat).
fn clause_key(kind: &ClauseKind) -> Option<&'static str> {
    Some(match kind {
        ClauseKind::Model(_) => "model",
        ClauseKind::Agent(_) => "agent",
        ClauseKind::Prompt(_) => "prompt",
        ClauseKind::System(_) => "system",
        ClauseKind::Context(_) => "context",
        ClauseKind::Retry(_) => "retry",
        ClauseKind::Timeout(_) => "timeout",
        ClauseKind::Deadline(_) => "deadline",
        ClauseKind::When(_) => "when",
        ClauseKind::OnError(_) => "on_error",
        ClauseKind::Compensate(_) => "compensate",
        ClauseKind::After(_) => "after",
        ClauseKind::Cache(_) => "cache",
        ClauseKind::Check { .. } => return None,
    })
}
