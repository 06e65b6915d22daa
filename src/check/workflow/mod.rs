//! One workflow body: scopes, steps and their clauses, `let`, `loop`, the
//! step graph (E0301), guards that can never pass (E0302), the result
//! (E0202, E0303) and outputs never used (W0501).

mod budget;
mod outcome;
mod references;
mod statements;
mod steps;

use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use super::checked::NodeKind;
use super::checked::{CheckedWorkflow, Resolution, StepFacts};
use super::decls::DeclKind;
use super::graph::{self, CallGraph};
use super::policy;
use super::problems::{
    CallProblem, Callee, ConfigProblem, Expected, ExprProblem, FlowProblem, NameProblem, Problem,
    StepProblem,
};
use super::settings;
use super::types::{self, RecordTy, Ty};
use super::Checker;
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
    /// Members read through `previous.x` inside a loop's body, before the
    /// body's members are all known: marked used once they are.
    early_member_reads: Vec<(NodeId, String)>,
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
        early_member_reads: Vec::new(),
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
    pub fn report(&mut self, problem: impl Into<Problem>) {
        self.cx.report(problem);
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
        self.cx.problems.extend(out);
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
        let ms = settings::duration_ms(e);
        if ms.is_none() && ty.fits(&Ty::Duration) && !ty.is_error() {
            self.report(ConfigProblem::Computed {
                at: e.span,
                key: key.to_string(),
                expected: Expected::Duration,
            });
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
                self.report(ConfigProblem::BelowLeast {
                    at: e.span,
                    key: key.to_string(),
                    value: *n,
                    least: low,
                });
                None
            }
            _ if ty.fits(&Ty::Int) && !ty.is_error() => {
                self.report(ConfigProblem::Computed {
                    at: e.span,
                    key: key.to_string(),
                    expected: Expected::WholeNumber,
                });
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
                Some(first) => found.push(Problem::from(NameProblem::DuplicateClause {
                    at: clause.span,
                    key,
                    first: *first,
                })),
                None => {
                    seen.insert(key, clause.span);
                }
            }
        }
        self.cx.problems.extend(found);
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
                let mut candidates: Vec<String> =
                    types::BUILTIN_TYPES.iter().map(|t| t.to_string()).collect();
                candidates.extend(
                    self.cx
                        .decls
                        .names(self.file, |k| {
                            matches!(k, DeclKind::Type(_) | DeclKind::Enum(_))
                        })
                        .into_iter()
                        .map(String::from),
                );
                self.report(NameProblem::Unknown {
                    at: name.span,
                    noun: "type",
                    name: name.name.clone(),
                    candidates,
                });
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
        let problem = if exclusive {
            FlowProblem::OtherArm {
                at: name.span,
                name: name.name.clone(),
                declared: span,
            }
        } else {
            FlowProblem::NotVisible {
                at: name.span,
                name: name.name.clone(),
                declared: span,
                place,
            }
        };
        self.report(problem);
        true
    }

    // ---- statements --------------------------------------------------------------

    /// Declares every statement of a block (so a step may read one written
    /// after it: the graph, not the order, says what runs first), then
    /// checks each.
    pub fn block_statements(&mut self, stmts: &'a [Stmt]) {
        let mut out = Vec::new();
        super::decls::duplicates_in("step", stmts.iter().map(Stmt::name), &mut out);
        self.cx.problems.extend(out);
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
