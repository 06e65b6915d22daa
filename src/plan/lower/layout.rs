//! The first pass: every statement gets its node id, its stable id text and
//! its place (parent and branch), in source order, parents first; every
//! branch is named.

use std::collections::HashMap;

use crate::plan::instance::branch_prefix;
use crate::plan::{NodeId, Parent};
use crate::source::Span;
use crate::syntax::ast::{
    self, Action as StepAction, ClauseKind, ExprKind, SettingValue, StepDecl, Stmt,
};

/// A statement with its id and place, before it is built.
pub(super) struct Slot<'a> {
    pub(super) id: String,
    pub(super) stmt: &'a Stmt,
    pub(super) parent: Option<Parent>,
}

#[derive(Default)]
pub(super) struct Layout<'a> {
    pub(super) slots: Vec<Slot<'a>>,
    pub(super) nodes: HashMap<Span, NodeId>,
    pub(super) branches: HashMap<Span, String>,
}

impl<'a> Layout<'a> {
    /// The statements of a block whose ids start with `prefix`.
    pub(super) fn block(&mut self, stmts: &'a [Stmt], prefix: &str, parent: Option<Parent>) {
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
    pub(super) fn expr(
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
    pub(super) fn name(
        &mut self,
        span: Span,
        name: &str,
        used: &mut HashMap<String, usize>,
    ) -> String {
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
    pub(super) fn branch(&mut self, name: &str, owner: &str, node: NodeId, body: &'a ast::Expr) {
        match &body.kind {
            ExprKind::Block(block) => {
                self.block_branch(name, owner, node, &block.stmts, &block.value)
            }
            _ => self.expr(body, &format!("{owner}.{name}"), node, &mut HashMap::new()),
        }
    }

    pub(super) fn block_branch(
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
pub(super) fn step_exprs(step: &StepDecl) -> Vec<&ast::Expr> {
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

pub(super) fn setting_exprs(settings: &[ast::Setting]) -> Vec<&ast::Expr> {
    settings
        .iter()
        .flat_map(|s| match &s.value {
            SettingValue::Expr(e) => vec![e],
            SettingValue::Block(inner, _) => setting_exprs(inner),
            SettingValue::Chain(_) => Vec::new(),
        })
        .collect()
}
