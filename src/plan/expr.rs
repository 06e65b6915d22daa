//! Expressions and templates as the runtime evaluates them: every name
//! resolved (a node's output, a variable, a component's text, an enum
//! variant as its text), every built-in function looked up, every block
//! that holds steps turned into a [`Branch`] of plan nodes.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{ComponentId, NodeId};
use crate::lang::functions::Function;
use crate::lang::ops::{BinaryOp, UnaryOp};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Expr {
    /// A literal: numbers, booleans, durations (ms), shares (0 to 1), an
    /// enum variant (its name).
    Const(Value),
    /// A string literal with interpolations or tags.
    Template(Vec<Part>),
    List(Vec<Expr>),
    Record(Vec<(String, Expr)>),
    /// A workflow input, a `for` variable, `this`, `previous`, a test's
    /// `output`: a value bound where the expression runs.
    Var(String),
    /// The output of a step, `let` or loop: waits until it is done.
    Node(NodeId),
    /// A component's text.
    Component(ComponentId),
    Field(Box<Expr>, String),
    Index(Box<Expr>, Box<Expr>),
    Call(Function, Vec<Expr>),
    /// `ran(step, …)` in a test: whether those steps ran.
    Ran(Vec<String>),
    Unary(UnaryOp, Box<Expr>),
    Binary(BinaryOp, Box<Expr>, Box<Expr>),
    If {
        condition: Box<Expr>,
        then: Branch,
        /// The `else` (an `else if` is an `If` as its value).
        otherwise: Branch,
    },
    Match {
        subject: Box<Expr>,
        arms: Vec<Arm>,
    },
    For {
        var: String,
        source: Box<Expr>,
        concurrency: u64,
        /// The share of items allowed to fail, 0 to 1.
        tolerate: f64,
        body: Branch,
    },
    /// A braced block used as a value.
    Block(Branch),
}

/// A block of statements and the value it ends with. Its nodes run when
/// the branch is taken, under ids prefixed with the owner's id and
/// `name` (`code.simple.direct`, `summaries.each[3].summary`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Branch {
    pub name: String,
    /// The block's own statements (their children are theirs).
    pub nodes: Vec<NodeId>,
    pub value: Box<Expr>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Arm {
    pub patterns: Vec<Pattern>,
    pub body: Branch,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Pattern {
    Wildcard,
    /// An enum variant or a string.
    Text(String),
    Bool(bool),
    Int(i64),
}

impl Pattern {
    pub fn matches(&self, subject: &Value) -> bool {
        match self {
            Pattern::Wildcard => true,
            Pattern::Text(s) => subject.as_str() == Some(s.as_str()),
            Pattern::Bool(b) => subject.as_bool() == Some(*b),
            Pattern::Int(n) => subject.as_i64() == Some(*n),
        }
    }
}

/// A piece of a template.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Part {
    Text(String),
    Expr(Expr),
    If {
        condition: Expr,
        then: Vec<Part>,
        otherwise: Vec<Part>,
    },
    For {
        var: String,
        source: Expr,
        body: Vec<Part>,
    },
}

impl Expr {
    /// Calls `f` with every node the expression reads, branches included.
    pub fn visit_nodes(&self, f: &mut dyn FnMut(NodeId)) {
        self.visit(&mut |e| {
            if let Expr::Node(id) = e {
                f(*id);
            }
        });
    }

    /// Whether the expression reads the variable `name` (`this`).
    pub fn reads_var(&self, name: &str) -> bool {
        let mut found = false;
        self.visit(&mut |e| found |= matches!(e, Expr::Var(v) if v == name));
        found
    }

    /// Calls `f` with this expression and every one inside it.
    pub fn visit(&self, f: &mut dyn FnMut(&Expr)) {
        f(self);
        match self {
            Expr::Const(_) | Expr::Var(_) | Expr::Node(_) | Expr::Component(_) | Expr::Ran(_) => {}
            Expr::Template(parts) => visit_parts(parts, f),
            Expr::List(items) | Expr::Call(_, items) => items.iter().for_each(|e| e.visit(f)),
            Expr::Record(fields) => fields.iter().for_each(|(_, e)| e.visit(f)),
            Expr::Field(base, _) | Expr::Unary(_, base) => base.visit(f),
            Expr::Index(a, b) | Expr::Binary(_, a, b) => {
                a.visit(f);
                b.visit(f);
            }
            Expr::If {
                condition,
                then,
                otherwise,
            } => {
                condition.visit(f);
                then.value.visit(f);
                otherwise.value.visit(f);
            }
            Expr::Match { subject, arms } => {
                subject.visit(f);
                arms.iter().for_each(|a| a.body.value.visit(f));
            }
            Expr::For { source, body, .. } => {
                source.visit(f);
                body.value.visit(f);
            }
            Expr::Block(branch) => branch.value.visit(f),
        }
    }

    /// The branches whose nodes this expression may run, outermost first.
    pub fn branches(&self) -> Vec<&Branch> {
        match self {
            Expr::If {
                then, otherwise, ..
            } => vec![then, otherwise],
            Expr::Match { arms, .. } => arms.iter().map(|a| &a.body).collect(),
            Expr::For { body, .. } | Expr::Block(body) => vec![body],
            _ => Vec::new(),
        }
    }
}

fn visit_parts(parts: &[Part], f: &mut dyn FnMut(&Expr)) {
    for part in parts {
        match part {
            Part::Text(_) => {}
            Part::Expr(e) => e.visit(f),
            Part::If {
                condition,
                then,
                otherwise,
            } => {
                condition.visit(f);
                visit_parts(then, f);
                visit_parts(otherwise, f);
            }
            Part::For { source, body, .. } => {
                source.visit(f);
                visit_parts(body, f);
            }
        }
    }
}
