//! Expressions and templates → plan expressions: every name replaced by
//! what the checker resolved it to, every block that holds statements by a
//! [`Branch`] of the nodes the first pass gave ids.

use std::collections::HashMap;

use serde_json::Value;

use super::TypeTable;
use crate::check::{Checked, Resolution};
use crate::lang::functions;
use crate::lang::policy::defaults;
use crate::lang::value::number;
use crate::plan::expr::{Arm, Branch, Expr, Part, Pattern};
use crate::plan::{ComponentId, ModelId, NodeId};
use crate::source::Span;
use crate::syntax::ast::{self, ExprKind, PatternKind, Stmt, TemplatePart};

pub(in crate::plan) struct Lowering<'c, 't> {
    pub checked: &'c Checked,
    pub types: &'t mut TypeTable,
    /// Node ids by the span of the name that declares them.
    nodes: HashMap<Span, NodeId>,
    /// Branch names by the span of what they name (an arm, a block, an
    /// `else`).
    branches: HashMap<Span, String>,
}

impl<'c, 't> Lowering<'c, 't> {
    pub fn new(
        checked: &'c Checked,
        types: &'t mut TypeTable,
        nodes: HashMap<Span, NodeId>,
        branches: HashMap<Span, String>,
    ) -> Lowering<'c, 't> {
        Lowering {
            checked,
            types,
            nodes,
            branches,
        }
    }

    /// The node declared by the name at `span`.
    pub fn node(&self, span: Span) -> Option<NodeId> {
        self.nodes.get(&span).copied()
    }

    /// The node a name written in `after` or `context` refers to.
    pub fn referenced(&self, name: &ast::Ident) -> Option<NodeId> {
        match self.checked.names.get(&name.span)? {
            Resolution::Node(declared) => self.node(*declared),
            _ => None,
        }
    }

    /// The model a name written as a value refers to.
    pub fn model(&self, name: &ast::Ident) -> Option<ModelId> {
        match self.checked.names.get(&name.span)? {
            Resolution::Model(index) => Some(ModelId(*index as u32)),
            _ => None,
        }
    }

    pub fn expr(&mut self, e: &ast::Expr) -> Expr {
        match &e.kind {
            ExprKind::Int(n) => Expr::Const(Value::from(*n)),
            ExprKind::Float(f) => Expr::Const(number(*f)),
            ExprKind::Bool(b) => Expr::Const(Value::Bool(*b)),
            ExprKind::Duration(ms) => Expr::Const(Value::from(*ms)),
            ExprKind::Percent(p) => Expr::Const(number(p / 100.0)),
            ExprKind::String(t) => self.template(&t.parts),
            ExprKind::List(items) => Expr::List(items.iter().map(|i| self.expr(i)).collect()),
            ExprKind::Record(fields) => Expr::Record(
                fields
                    .iter()
                    .map(|f| (f.name.name.clone(), self.expr(&f.value)))
                    .collect(),
            ),
            ExprKind::Name(name) => self.name(name),
            ExprKind::Field { base, field } => {
                Expr::Field(Box::new(self.expr(base)), field.name.clone())
            }
            ExprKind::Index { base, index } => {
                Expr::Index(Box::new(self.expr(base)), Box::new(self.expr(index)))
            }
            ExprKind::Call { function, args } => self.call(function, args),
            ExprKind::Unary { op, operand } => Expr::Unary(*op, Box::new(self.expr(operand))),
            ExprKind::Binary { op, lhs, rhs } => {
                Expr::Binary(*op, Box::new(self.expr(lhs)), Box::new(self.expr(rhs)))
            }
            ExprKind::If {
                condition,
                then,
                otherwise,
            } => Expr::If {
                condition: Box::new(self.expr(condition)),
                then: self.branch(then.span, &then.stmts, &then.value),
                otherwise: self.arm_branch(otherwise),
            },
            ExprKind::Match { scrutinee, arms } => Expr::Match {
                subject: Box::new(self.expr(scrutinee)),
                arms: arms
                    .iter()
                    .map(|arm| Arm {
                        patterns: arm.patterns.iter().map(pattern).collect(),
                        body: self.arm_branch_at(arm.span, &arm.body),
                    })
                    .collect(),
            },
            ExprKind::For {
                var,
                source,
                options,
                body,
            } => {
                let option = |key: &str| {
                    options
                        .iter()
                        .find(|a| a.name.as_ref().is_some_and(|n| n.name == key))
                        .map(|a| &a.value.kind)
                };
                Expr::For {
                    var: var.name.clone(),
                    source: Box::new(self.expr(source)),
                    concurrency: match option("concurrency") {
                        Some(ExprKind::Int(n)) => u64::try_from(*n).unwrap_or(1).max(1),
                        _ => defaults::FOR_CONCURRENCY,
                    },
                    tolerate: match option("tolerate") {
                        Some(ExprKind::Percent(p)) => p / 100.0,
                        Some(ExprKind::Float(f)) => *f,
                        Some(ExprKind::Int(n)) => *n as f64,
                        _ => 0.0,
                    },
                    body: self.branch(body.span, &body.stmts, &body.value),
                }
            }
            ExprKind::Block(block) => {
                Expr::Block(self.branch(block.span, &block.stmts, &block.value))
            }
            ExprKind::Paren(inner) => self.expr(inner),
        }
    }

    fn name(&mut self, name: &ast::Ident) -> Expr {
        match self.checked.names.get(&name.span) {
            Some(Resolution::Var(var)) => Expr::Var(var.clone()),
            Some(Resolution::Node(declared)) => match self.node(*declared) {
                Some(node) => Expr::Node(node),
                None => Expr::Const(Value::Null),
            },
            Some(Resolution::Component(c)) => Expr::Component(ComponentId(*c as u32)),
            Some(Resolution::Variant(v)) => Expr::Const(Value::from(v.as_str())),
            Some(Resolution::Model(_)) => Expr::Const(Value::from(name.name.as_str())),
            // Only a test's names are not in the table: its `output`, and
            // enum variants.
            None if name.name == "output" => Expr::Var(name.name.clone()),
            None => Expr::Const(Value::from(name.name.as_str())),
        }
    }

    fn call(&mut self, function: &ast::Ident, args: &[ast::Arg]) -> Expr {
        if function.name == "ran" {
            let steps = args
                .iter()
                .map(|a| match &a.value.kind {
                    ExprKind::Name(n) => n.name.clone(),
                    _ => crate::syntax::print::expr(&a.value),
                })
                .collect();
            return Expr::Ran(steps);
        }
        let args = args.iter().map(|a| self.expr(&a.value)).collect();
        match functions::lookup(&function.name) {
            Some(signature) => Expr::Call(signature.function, args),
            // The checker refused it; a plan never gets here.
            None => Expr::Const(Value::Null),
        }
    }

    /// The block (or a plain expression) an arm or an `else` runs.
    fn arm_branch(&mut self, body: &ast::Expr) -> Branch {
        self.arm_branch_at(body.span, body)
    }

    fn arm_branch_at(&mut self, key: Span, body: &ast::Expr) -> Branch {
        match &body.kind {
            ExprKind::Block(block) => {
                let mut branch = self.branch(block.span, &block.stmts, &block.value);
                if let Some(name) = self.branches.get(&key) {
                    branch.name = name.clone();
                }
                branch
            }
            _ => self.branch(key, &[], body),
        }
    }

    fn branch(&mut self, key: Span, stmts: &[Stmt], value: &ast::Expr) -> Branch {
        Branch {
            name: self.branches.get(&key).cloned().unwrap_or_default(),
            nodes: stmts
                .iter()
                .filter_map(|s| self.node(s.name().span))
                .collect(),
            value: Box::new(self.expr(value)),
        }
    }

    /// A string literal: text alone is a constant.
    fn template(&mut self, parts: &[TemplatePart]) -> Expr {
        let parts = self.parts(parts);
        match parts.as_slice() {
            [] => Expr::Const(Value::from("")),
            [Part::Text(text)] => Expr::Const(Value::from(text.as_str())),
            _ => Expr::Template(parts),
        }
    }

    fn parts(&mut self, parts: &[TemplatePart]) -> Vec<Part> {
        parts
            .iter()
            .map(|part| match part {
                TemplatePart::Text { text, .. } => Part::Text(text.clone()),
                TemplatePart::Interpolation { expr, .. } => Part::Expr(self.expr(expr)),
                TemplatePart::If {
                    condition,
                    then,
                    otherwise,
                    ..
                } => Part::If {
                    condition: self.expr(condition),
                    then: self.parts(then),
                    otherwise: otherwise.as_ref().map_or_else(Vec::new, |o| self.parts(o)),
                },
                TemplatePart::For {
                    var, source, body, ..
                } => Part::For {
                    var: var.name.clone(),
                    source: self.expr(source),
                    body: self.parts(body),
                },
            })
            .collect()
    }
}

fn pattern(p: &ast::Pattern) -> Pattern {
    match &p.kind {
        PatternKind::Wildcard => Pattern::Wildcard,
        PatternKind::Variant(v) => Pattern::Text(v.name.clone()),
        PatternKind::String(s) => Pattern::Text(s.clone()),
        PatternKind::Bool(b) => Pattern::Bool(*b),
        PatternKind::Int(n) => Pattern::Int(*n),
    }
}
