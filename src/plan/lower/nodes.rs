//! One workflow → its nodes, in two passes. The first gives every
//! statement its node id, its stable id text and its place (parent and
//! branch), in source order, parents first, and names every branch; the
//! second builds each node from the checker's facts.

use std::collections::{BTreeSet, HashMap};

use super::expr::Lowering;
use super::TypeTable;
use crate::check::policy::choose;
use crate::check::{Checked, CheckedWorkflow, StepFacts};
use crate::lang::policy::defaults;
use crate::plan::expr::Expr;
use crate::plan::instance::branch_prefix;
use crate::plan::{
    Action, Agent, Ask, Attempt, Call, Check, ComponentId, Context, Exec, Fetch, Llm, Loop,
    ModelId, Node, NodeId, Parent, Policy, Workflow, WorkflowId,
};
use crate::source::Span;
use crate::syntax::ast::{
    self, Action as StepAction, ClauseKind, ContextStrategy, ExprKind, Item, SettingValue,
    StepDecl, Stmt,
};

/// Lowers one workflow of a checked program.
pub(super) fn workflow(
    checked: &Checked,
    types: &mut TypeTable,
    facts: &CheckedWorkflow,
) -> Workflow {
    let file = checked.program.file(facts.file);
    let decl = file.and_then(|f| match f.ast.items.get(facts.item) {
        Some(Item::Workflow(w)) => Some(w.as_ref()),
        _ => None,
    });
    let (Some(file), Some(decl)) = (file, decl) else {
        // The checker made the facts from this file's items.
        return Workflow::empty();
    };
    let mut layout = Layout::default();
    layout.block(&decl.body, "", None);
    let slots = std::mem::take(&mut layout.slots);
    let mut lowering = Lowering::new(checked, types, layout.nodes, layout.branches);
    let mut nodes: Vec<Node> = slots
        .iter()
        .map(|slot| node(&mut lowering, decl, slot))
        .collect();
    inherit_reads(&mut nodes);
    fill_upstream(&mut nodes);
    let body = decl
        .body
        .iter()
        .filter_map(|s| lowering.node(s.name().span))
        .collect();
    let dir = file
        .path
        .parent()
        .map(|d| d.display().to_string())
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| ".".to_string());
    Workflow {
        name: decl.name.name.clone(),
        doc: decl.doc.as_ref().map(|d| d.text.clone()),
        root: checked.is_root(facts.file),
        dir,
        params: super::params(&mut lowering, decl, &facts.params),
        output: facts.output.as_ref().map(|t| lowering.types.ty(t)),
        deadline_ms: facts.deadline_ms,
        max_concurrency: facts.max_concurrency,
        body,
        result: decl.ret.as_ref().map(|r| lowering.expr(&r.value)),
        nodes,
        by_id: HashMap::new(),
    }
}

impl Workflow {
    fn empty() -> Workflow {
        Workflow {
            name: String::new(),
            doc: None,
            root: false,
            dir: ".".to_string(),
            params: Vec::new(),
            output: None,
            deadline_ms: None,
            max_concurrency: None,
            body: Vec::new(),
            nodes: Vec::new(),
            result: None,
            by_id: HashMap::new(),
        }
    }
}

// ---- the first pass: ids and places -------------------------------------------

/// A statement with its id and place, before it is built.
struct Slot<'a> {
    id: String,
    stmt: &'a Stmt,
    parent: Option<Parent>,
}

#[derive(Default)]
struct Layout<'a> {
    slots: Vec<Slot<'a>>,
    nodes: HashMap<Span, NodeId>,
    branches: HashMap<Span, String>,
}

impl<'a> Layout<'a> {
    /// The statements of a block whose ids start with `prefix`.
    fn block(&mut self, stmts: &'a [Stmt], prefix: &str, parent: Option<Parent>) {
        for stmt in stmts {
            let id = format!("{prefix}{}", stmt.name().name);
            let node = NodeId(self.slots.len() as u32);
            self.nodes.insert(stmt.name().span, node);
            self.slots.push(Slot {
                id: id.clone(),
                stmt,
                parent: parent.clone(),
            });
            let mut used = HashMap::new();
            match stmt {
                Stmt::Loop(l) => {
                    let body = Parent {
                        node,
                        branch: "body".to_string(),
                    };
                    self.block(&l.body, &format!("{id}."), Some(body));
                    for e in l.until.iter() {
                        self.expr(e, &id, node, &mut used);
                    }
                }
                Stmt::Let(l) => self.expr(&l.value, &id, node, &mut used),
                Stmt::Step(s) => {
                    for e in step_exprs(s) {
                        self.expr(e, &id, node, &mut used);
                    }
                }
            }
        }
    }

    /// The composites inside `e`: their branches belong to `owner` (a
    /// plan id) and their statements to node `node`.
    fn expr(
        &mut self,
        e: &'a ast::Expr,
        owner: &str,
        node: NodeId,
        used: &mut HashMap<String, usize>,
    ) {
        match &e.kind {
            ExprKind::Match { scrutinee, arms } => {
                self.expr(scrutinee, owner, node, used);
                for arm in arms {
                    let patterns: Vec<String> = arm
                        .patterns
                        .iter()
                        .map(crate::syntax::dump::pattern)
                        .collect();
                    let name = self.name(arm.span, &patterns.join(" | "), used);
                    self.branch(&name, owner, node, &arm.body);
                }
            }
            ExprKind::If {
                condition,
                then,
                otherwise,
            } => {
                self.expr(condition, owner, node, used);
                let name = self.name(then.span, "then", used);
                self.block_branch(&name, owner, node, &then.stmts, &then.value);
                let name = self.name(otherwise.span, "else", used);
                self.branch(&name, owner, node, otherwise);
            }
            ExprKind::For { source, body, .. } => {
                self.expr(source, owner, node, used);
                let name = self.name(body.span, "each", used);
                self.block_branch(&name, owner, node, &body.stmts, &body.value);
            }
            ExprKind::Block(block) => {
                let name = self.name(block.span, "body", used);
                self.block_branch(&name, owner, node, &block.stmts, &block.value);
            }
            ExprKind::Paren(inner) | ExprKind::Field { base: inner, .. } => {
                self.expr(inner, owner, node, used)
            }
            ExprKind::Unary { operand, .. } => self.expr(operand, owner, node, used),
            ExprKind::Index { base, index } => {
                self.expr(base, owner, node, used);
                self.expr(index, owner, node, used);
            }
            ExprKind::Binary { lhs, rhs, .. } => {
                self.expr(lhs, owner, node, used);
                self.expr(rhs, owner, node, used);
            }
            ExprKind::List(items) => items.iter().for_each(|i| self.expr(i, owner, node, used)),
            ExprKind::Record(fields) => fields
                .iter()
                .for_each(|f| self.expr(&f.value, owner, node, used)),
            ExprKind::Call { args, .. } => args
                .iter()
                .for_each(|a| self.expr(&a.value, owner, node, used)),
            _ => {}
        }
    }

    /// Names a branch at `span`: `name`, made unique under its owner.
    fn name(&mut self, span: Span, name: &str, used: &mut HashMap<String, usize>) -> String {
        let base = name.replace([' ', '|', '"'], "_");
        let count = used.entry(base.clone()).or_insert(0);
        *count += 1;
        let unique = if *count == 1 {
            base
        } else {
            format!("{base}{count}")
        };
        self.branches.insert(span, unique.clone());
        unique
    }

    /// An arm or an `else`: a block, or a plain expression.
    fn branch(&mut self, name: &str, owner: &str, node: NodeId, body: &'a ast::Expr) {
        match &body.kind {
            ExprKind::Block(block) => {
                self.block_branch(name, owner, node, &block.stmts, &block.value)
            }
            _ => self.expr(body, &format!("{owner}.{name}"), node, &mut HashMap::new()),
        }
    }

    fn block_branch(
        &mut self,
        name: &str,
        owner: &str,
        node: NodeId,
        stmts: &'a [Stmt],
        value: &'a ast::Expr,
    ) {
        let parent_id = &self.slots[node.index()].id;
        let branch_owner = format!("{owner}.{name}");
        let relative = branch_owner
            .strip_prefix(&format!("{parent_id}."))
            .unwrap_or(name)
            .to_string();
        let parent = Parent {
            node,
            branch: relative,
        };
        self.block(stmts, &branch_prefix(owner, name), Some(parent));
        self.expr(value, &branch_owner, node, &mut HashMap::new());
    }
}

/// Every expression a step evaluates: clauses and its action's settings.
fn step_exprs(step: &StepDecl) -> Vec<&ast::Expr> {
    let mut out: Vec<&ast::Expr> = Vec::new();
    for clause in &step.clauses {
        match &clause.kind {
            ClauseKind::Prompt(e)
            | ClauseKind::System(e)
            | ClauseKind::When(e)
            | ClauseKind::OnError(e) => out.push(e),
            ClauseKind::Check { condition, message } => {
                out.push(condition);
                out.push(message);
            }
            ClauseKind::Compensate(block) => out.extend(setting_exprs(&block.settings)),
            _ => {}
        }
    }
    match &step.action {
        StepAction::Call { args, .. } => out.extend(args.iter().map(|a| &a.value)),
        StepAction::Exec(b) | StepAction::Fetch(b) | StepAction::Ask(b) => {
            out.extend(setting_exprs(&b.settings))
        }
        StepAction::Llm => {}
    }
    out
}

fn setting_exprs(settings: &[ast::Setting]) -> Vec<&ast::Expr> {
    settings
        .iter()
        .flat_map(|s| match &s.value {
            SettingValue::Expr(e) => vec![e],
            SettingValue::Block(inner, _) => setting_exprs(inner),
            SettingValue::Chain(_) => Vec::new(),
        })
        .collect()
}

// ---- the second pass: nodes ----------------------------------------------------

fn node(lowering: &mut Lowering<'_, '_>, workflow: &ast::WorkflowDecl, slot: &Slot<'_>) -> Node {
    let mut node = Node {
        id: slot.id.clone(),
        name: slot.stmt.name().name.clone(),
        doc: None,
        ty: None,
        parent: slot.parent.clone(),
        deps: Vec::new(),
        after: Vec::new(),
        guard: None,
        policy: None,
        action: Action::Let {
            value: Expr::Const(serde_json::Value::Null),
        },
        fingerprint: String::new(),
    };
    match slot.stmt {
        Stmt::Step(step) => step_node(lowering, workflow, step, &mut node),
        Stmt::Let(l) => {
            node.doc = l.doc.as_ref().map(|d| d.text.clone());
            node.ty = lowering
                .checked
                .lets
                .get(&l.name.span)
                .map(|t| lowering.types.ty(t));
            node.action = Action::Let {
                value: lowering.expr(&l.value),
            };
        }
        Stmt::Loop(l) => {
            node.doc = l.doc.as_ref().map(|d| d.text.clone());
            node.ty = lowering
                .checked
                .lets
                .get(&l.name.span)
                .map(|t| lowering.types.ty(t));
            let option = |key: &str| {
                l.options
                    .iter()
                    .find(|a| a.name.as_ref().is_some_and(|n| n.name == key))
                    .map(|a| &a.value)
            };
            node.action = Action::Loop(Loop {
                max: match option("max").map(|e| &e.kind) {
                    Some(ExprKind::Int(n)) => u64::try_from(*n).unwrap_or(1),
                    _ => 1,
                },
                best_by: option("best_by").map(|e| lowering.expr(e)),
                until: l.until.as_ref().map(|e| lowering.expr(e)),
                body: l
                    .body
                    .iter()
                    .filter_map(|s| lowering.node(s.name().span))
                    .collect(),
            });
        }
    }
    node.deps = reads(&node);
    node
}

fn step_node(
    lowering: &mut Lowering<'_, '_>,
    workflow: &ast::WorkflowDecl,
    step: &StepDecl,
    node: &mut Node,
) {
    let Some(facts) = lowering.checked.steps.get(&step.name.span) else {
        return;
    };
    let facts: StepFacts = facts.clone();
    node.doc = step.doc.as_ref().map(|d| d.text.clone());
    node.ty = Some(lowering.types.ty(&facts.ty));
    let clause = |pick: fn(&ClauseKind) -> Option<&ast::Expr>| {
        step.clauses.iter().find_map(|c| pick(&c.kind))
    };
    node.guard = clause(|k| match k {
        ClauseKind::When(e) => Some(e),
        _ => None,
    })
    .map(|e| lowering.expr(e));
    node.after = step
        .clauses
        .iter()
        .filter_map(|c| match &c.kind {
            ClauseKind::After(names) => Some(names),
            _ => None,
        })
        .flatten()
        .filter_map(|n| lowering.referenced(n))
        .collect();
    let on_error = clause(|k| match k {
        ClauseKind::OnError(e) => Some(e),
        _ => None,
    })
    .map(|e| lowering.expr(e));
    let checks = step
        .clauses
        .iter()
        .filter_map(|c| match &c.kind {
            ClauseKind::Check { condition, message } => Some((condition, message)),
            _ => None,
        })
        .map(|(condition, message)| Check {
            condition: lowering.expr(condition),
            message: lowering.expr(message),
        })
        .collect();
    let compensate = step
        .clauses
        .iter()
        .find_map(|c| match &c.kind {
            ClauseKind::Compensate(block) => Some(block),
            _ => None,
        })
        .map(|block| exec(lowering, &block.settings));
    node.action = match &step.action {
        StepAction::Llm => Action::Llm(llm(lowering, workflow, step, &facts)),
        StepAction::Call { workflow, args } => Action::Call(Call {
            workflow: WorkflowId(
                lowering
                    .checked
                    .calls
                    .get(&workflow.span)
                    .copied()
                    .unwrap_or(0) as u32,
            ),
            args: args
                .iter()
                .filter_map(|a| Some((a.name.as_ref()?.name.clone(), lowering.expr(&a.value))))
                .collect(),
        }),
        StepAction::Exec(block) => Action::Exec(exec(lowering, &block.settings)),
        StepAction::Fetch(block) => Action::Fetch(fetch(lowering, &block.settings)),
        StepAction::Ask(block) => Action::Ask(Ask {
            question: setting(lowering, &block.settings, "question"),
            show: setting(lowering, &block.settings, "show"),
            options: setting(lowering, &block.settings, "options"),
        }),
    };
    let is_llm = matches!(node.action, Action::Llm(_));
    node.policy = Some(Policy {
        retry: facts.policy.retry.clone(),
        timeout_ms: facts.policy.timeout_ms,
        deadline_ms: facts.policy.deadline_ms,
        on_error,
        cache: facts.policy.cache && is_llm,
        checks,
        compensate,
    });
}

fn llm(
    lowering: &mut Lowering<'_, '_>,
    workflow: &ast::WorkflowDecl,
    step: &StepDecl,
    facts: &StepFacts,
) -> Llm {
    let chosen = choose(&step.clauses, workflow);
    let components = |ids: &[usize]| -> Vec<ComponentId> {
        ids.iter().map(|&i| ComponentId(i as u32)).collect()
    };
    let prompt = step.clauses.iter().find_map(|c| match &c.kind {
        ClauseKind::Prompt(e) => Some(e),
        _ => None,
    });
    Llm {
        models: facts
            .models
            .iter()
            .map(|&(model, timeout_ms)| Attempt {
                model: ModelId(model as u32),
                timeout_ms,
            })
            .collect(),
        agent: facts.agent.as_ref().map(|a| Agent {
            name: a.name.clone(),
            persona: components(&a.persona),
            instructions: components(&a.instructions),
            format: components(&a.format),
        }),
        system: chosen.system().map(|e| lowering.expr(e)),
        prompt: prompt.map(|e| lowering.expr(e)),
        context: match chosen.context() {
            None | Some(ContextStrategy::Fresh(_)) => Context::Fresh,
            Some(ContextStrategy::All(_)) => Context::All {
                upstream: Vec::new(),
            },
            Some(ContextStrategy::Steps(names, _)) => Context::Steps {
                nodes: names
                    .iter()
                    .filter_map(|n| lowering.referenced(n))
                    .collect(),
            },
            Some(ContextStrategy::Summarized(args, _)) => {
                let arg = |key: &str| {
                    args.iter()
                        .find(|a| a.name.as_ref().is_some_and(|n| n.name == key))
                        .map(|a| &a.value)
                };
                Context::Summarized {
                    max_tokens: match arg("max_tokens").map(|e| &e.kind) {
                        Some(ExprKind::Int(n)) => u64::try_from(*n).unwrap_or(0),
                        _ => defaults::SUMMARY_MAX_TOKENS,
                    },
                    model: arg("model").and_then(|e| match &e.kind {
                        ExprKind::Name(n) => lowering.model(n),
                        _ => None,
                    }),
                    upstream: Vec::new(),
                }
            }
        },
    }
}

/// `exec { command  stdin  env  cwd }` (and a compensation's `timeout`).
fn exec(lowering: &mut Lowering<'_, '_>, settings: &[ast::Setting]) -> Exec {
    Exec {
        command: setting(lowering, settings, "command").unwrap_or(Expr::List(Vec::new())),
        stdin: setting(lowering, settings, "stdin"),
        env: setting(lowering, settings, "env"),
        cwd: setting(lowering, settings, "cwd"),
        timeout_ms: settings
            .iter()
            .find(|s| s.key.name == "timeout")
            .and_then(|s| match &s.value {
                SettingValue::Expr(e) => crate::check::config::duration_ms(e),
                _ => None,
            }),
    }
}

fn fetch(lowering: &mut Lowering<'_, '_>, settings: &[ast::Setting]) -> Fetch {
    let method = settings
        .iter()
        .find(|s| s.key.name == "method")
        .and_then(|s| crate::check::config::text_value(&s.value))
        .map_or_else(|| "GET".to_string(), |m| m.to_uppercase());
    Fetch {
        url: setting(lowering, settings, "url").unwrap_or(Expr::Const("".into())),
        method,
        headers: setting(lowering, settings, "headers"),
        query: setting(lowering, settings, "query"),
        body: setting(lowering, settings, "body"),
    }
}

/// A setting's value: an expression, or a block of settings as a record
/// (`headers = { Accept = "…" }`).
fn setting(lowering: &mut Lowering<'_, '_>, settings: &[ast::Setting], key: &str) -> Option<Expr> {
    let found = settings.iter().find(|s| s.key.name == key)?;
    Some(value(lowering, &found.value))
}

fn value(lowering: &mut Lowering<'_, '_>, value: &SettingValue) -> Expr {
    match value {
        SettingValue::Expr(e) => lowering.expr(e),
        SettingValue::Block(inner, _) => Expr::Record(
            inner
                .iter()
                .map(|s| (s.key.name.clone(), self::value(lowering, &s.value)))
                .collect(),
        ),
        SettingValue::Chain(names) => Expr::List(
            names
                .iter()
                .map(|n| Expr::Const(n.name.as_str().into()))
                .collect(),
        ),
    }
}

// ---- edges ----------------------------------------------------------------------

/// The nodes a node reads: its own expressions (not those of the nodes
/// inside its branches) and the steps its context names.
fn reads(node: &Node) -> Vec<NodeId> {
    let mut out: BTreeSet<NodeId> = BTreeSet::new();
    let mut visit = |e: &Expr| {
        e.visit_nodes(&mut |n| {
            out.insert(n);
        })
    };
    node.guard.iter().for_each(&mut visit);
    if let Some(policy) = &node.policy {
        policy.on_error.iter().for_each(&mut visit);
        for check in &policy.checks {
            visit(&check.condition);
            visit(&check.message);
        }
        if let Some(undo) = &policy.compensate {
            exec_exprs(undo).into_iter().for_each(&mut visit);
        }
    }
    match &node.action {
        Action::Llm(llm) => {
            llm.system.iter().chain(&llm.prompt).for_each(&mut visit);
            if let Context::Steps { nodes } = &llm.context {
                out.extend(nodes.iter().copied());
            }
        }
        Action::Call(call) => call.args.iter().for_each(|(_, e)| visit(e)),
        Action::Exec(exec) => exec_exprs(exec).into_iter().for_each(&mut visit),
        Action::Fetch(f) => std::iter::once(&f.url)
            .chain(&f.headers)
            .chain(&f.query)
            .chain(&f.body)
            .for_each(&mut visit),
        Action::Ask(a) => a
            .question
            .iter()
            .chain(&a.show)
            .chain(&a.options)
            .for_each(&mut visit),
        Action::Let { value } => visit(value),
        Action::Loop(l) => l.best_by.iter().chain(&l.until).for_each(&mut visit),
    }
    out.into_iter().collect()
}

fn exec_exprs(exec: &Exec) -> Vec<&Expr> {
    std::iter::once(&exec.command)
        .chain(&exec.stdin)
        .chain(&exec.env)
        .chain(&exec.cwd)
        .collect()
}

/// A composite also waits for whatever its children read from outside it,
/// so a scheduler can start it as one unit. Children come after their
/// parents, so walking backwards passes grandchildren's reads up too.
fn inherit_reads(nodes: &mut [Node]) {
    for index in (0..nodes.len()).rev() {
        let Some(parent) = nodes[index].parent.as_ref().map(|p| p.node) else {
            continue;
        };
        let outside: Vec<NodeId> = nodes[index]
            .deps
            .iter()
            .copied()
            .filter(|d| !inside(nodes, *d, parent))
            .collect();
        let deps = &mut nodes[parent.index()].deps;
        deps.extend(outside);
        deps.sort();
        deps.dedup();
    }
    // A composite reads its branches' values; those are its own nodes.
    for index in 0..nodes.len() {
        let me = NodeId(index as u32);
        let deps: Vec<NodeId> = nodes[index]
            .deps
            .iter()
            .copied()
            .filter(|d| !inside(nodes, *d, me))
            .collect();
        nodes[index].deps = deps;
    }
}

/// Whether `node` is `ancestor` or sits inside it.
fn inside(nodes: &[Node], node: NodeId, ancestor: NodeId) -> bool {
    let mut at = Some(node);
    while let Some(current) = at {
        if current == ancestor {
            return true;
        }
        at = nodes
            .get(current.index())
            .and_then(|n| n.parent.as_ref().map(|p| p.node));
    }
    false
}

/// `context = all` and `summarized(…)`: every node upstream of the step,
/// in plan order.
fn fill_upstream(nodes: &mut [Node]) {
    for index in 0..nodes.len() {
        let wants = matches!(
            &nodes[index].action,
            Action::Llm(Llm {
                context: Context::All { .. } | Context::Summarized { .. },
                ..
            })
        );
        if !wants {
            continue;
        }
        let mut seen: BTreeSet<NodeId> = BTreeSet::new();
        let mut todo: Vec<NodeId> = vec![NodeId(index as u32)];
        while let Some(current) = todo.pop() {
            let node = &nodes[current.index()];
            for dep in node.deps.iter().chain(&node.after) {
                if seen.insert(*dep) {
                    todo.push(*dep);
                }
            }
        }
        seen.remove(&NodeId(index as u32));
        if let Action::Llm(Llm {
            context: Context::All { upstream } | Context::Summarized { upstream, .. },
            ..
        }) = &mut nodes[index].action
        {
            *upstream = seen.into_iter().collect();
        }
    }
}
