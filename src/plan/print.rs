//! Plan expressions back in `.spes` syntax, for people: `spesc plan`
//! prints what will be evaluated, with names where the plan has indexes.
//! An enum variant is a text constant once lowered, so it prints quoted.

use serde_json::Value;

use super::expr::{Branch, Expr, Part, Pattern};
use super::{Plan, Workflow};
use crate::lang::ops::{BinaryOp, UnaryOp};

/// Prints expressions of one workflow of a plan.
pub struct Printer<'p> {
    pub plan: &'p Plan,
    pub workflow: &'p Workflow,
}

impl Printer<'_> {
    pub fn expr(&self, e: &Expr) -> String {
        match e {
            Expr::Const(v) => constant(v),
            Expr::Template(parts) => format!("\"{}\"", self.parts(parts)),
            Expr::List(items) => format!("[{}]", self.list(items)),
            Expr::Record(fields) => {
                let fields: Vec<String> = fields
                    .iter()
                    .map(|(name, value)| format!("{name}: {}", self.expr(value)))
                    .collect();
                format!("{{ {} }}", fields.join(", "))
            }
            Expr::Var(name) => name.clone(),
            Expr::Node(id) => self
                .workflow
                .nodes
                .get(id.index())
                .map_or_else(|| "?".to_string(), |n| n.name.clone()),
            Expr::Component(id) => self
                .plan
                .components
                .get(id.index())
                .map_or_else(|| "?".to_string(), |c| c.name.clone()),
            Expr::Field(base, field) => format!("{}.{field}", self.operand(base, POSTFIX, false)),
            Expr::Index(base, index) => format!(
                "{}[{}]",
                self.operand(base, POSTFIX, false),
                self.expr(index)
            ),
            Expr::Call(function, args) => format!("{}({})", function.name(), self.list(args)),
            Expr::Ran(steps) => format!("ran({})", steps.join(", ")),
            Expr::Unary(op, operand) => match op {
                UnaryOp::Not => format!("not {}", self.operand(operand, NOT, false)),
                UnaryOp::Neg => format!("-{}", self.operand(operand, NEG, false)),
            },
            Expr::Binary(op, lhs, rhs) => format!(
                "{} {} {}",
                self.operand(lhs, precedence(*op), false),
                op.symbol(),
                self.operand(rhs, precedence(*op), true)
            ),
            Expr::If {
                condition,
                then,
                otherwise,
            } => format!(
                "if {} {} else {}",
                self.expr(condition),
                self.branch(then),
                self.branch(otherwise)
            ),
            Expr::Match { subject, arms } => {
                let arms: Vec<String> = arms
                    .iter()
                    .map(|a| {
                        let patterns: Vec<String> = a.patterns.iter().map(pattern).collect();
                        format!("{} => {}", patterns.join(" | "), self.branch(&a.body))
                    })
                    .collect();
                format!("match {} {{ {} }}", self.expr(subject), arms.join("  "))
            }
            Expr::For {
                var, source, body, ..
            } => format!("for {var} in {} {}", self.expr(source), self.branch(body)),
            Expr::Block(branch) => self.branch(branch),
        }
    }

    /// An operand of an operator that binds as tightly as `outer`: in
    /// parentheses where it binds more loosely (or as loosely, on the right).
    fn operand(&self, e: &Expr, outer: u8, right: bool) -> String {
        let inner = match e {
            Expr::Binary(op, ..) => precedence(*op),
            Expr::Unary(UnaryOp::Not, _) => NOT,
            Expr::Unary(UnaryOp::Neg, _) => NEG,
            Expr::If { .. } | Expr::Match { .. } | Expr::For { .. } => 0,
            _ => POSTFIX,
        };
        if inner < outer || (right && inner == outer) {
            format!("({})", self.expr(e))
        } else {
            self.expr(e)
        }
    }

    fn list(&self, items: &[Expr]) -> String {
        items
            .iter()
            .map(|e| self.expr(e))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// A block on one line; its statements are shown as `…`.
    fn branch(&self, b: &Branch) -> String {
        if b.nodes.is_empty() {
            format!("{{ {} }}", self.expr(&b.value))
        } else {
            format!("{{ … {} }}", self.expr(&b.value))
        }
    }

    fn parts(&self, parts: &[Part]) -> String {
        parts
            .iter()
            .map(|part| match part {
                Part::Text(text) => escape(text),
                Part::Expr(e) => format!("{{{{ {} }}}}", self.expr(e)),
                Part::If {
                    condition,
                    then,
                    otherwise,
                } if otherwise.is_empty() => format!(
                    "{{% if {} %}}{}{{% end %}}",
                    self.expr(condition),
                    self.parts(then)
                ),
                Part::If {
                    condition,
                    then,
                    otherwise,
                } => format!(
                    "{{% if {} %}}{}{{% else %}}{}{{% end %}}",
                    self.expr(condition),
                    self.parts(then),
                    self.parts(otherwise)
                ),
                Part::For { var, source, body } => format!(
                    "{{% for {var} in {} %}}{}{{% end %}}",
                    self.expr(source),
                    self.parts(body)
                ),
            })
            .collect()
    }
}

const NOT: u8 = 3;
const NEG: u8 = 8;
const POSTFIX: u8 = 9;

/// How tightly an operator binds, loosest first (as the grammar says).
fn precedence(op: BinaryOp) -> u8 {
    match op {
        BinaryOp::Or => 1,
        BinaryOp::And => 2,
        BinaryOp::Eq | BinaryOp::Ne | BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge => {
            4
        }
        BinaryOp::Coalesce => 5,
        BinaryOp::Add | BinaryOp::Sub => 6,
        BinaryOp::Mul | BinaryOp::Div | BinaryOp::Mod => 7,
    }
}

fn constant(value: &Value) -> String {
    match value {
        Value::String(s) => format!("\"{}\"", escape(s)),
        other => other.to_string(),
    }
}

fn escape(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
        .replace('\t', "\\t")
        .replace("{{", "\\{{")
}

fn pattern(p: &Pattern) -> String {
    match p {
        Pattern::Wildcard => "_".to_string(),
        Pattern::Text(s) => s.clone(),
        Pattern::Bool(b) => b.to_string(),
        Pattern::Int(n) => n.to_string(),
    }
}
