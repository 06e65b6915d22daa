//! Evaluating plan expressions and rendering templates. Evaluation is
//! lazy in the dataflow sense: reading a node's output waits until that
//! node has finished.

use futures_util::future::LocalBoxFuture;
use serde_json::Value;

use super::engine::Engine;
use super::frame::Env;
use super::{Eval, Fault};
use crate::lang::ops::BinaryOp;
use crate::lang::value::{field_of, index_of, items_of, render, truthy};
use crate::plan::expr::{Expr, Part};

impl<'p> Engine<'p> {
    pub fn eval<'s>(&'s self, e: &'p Expr, env: &'s Env) -> LocalBoxFuture<'s, Eval<Value>> {
        Box::pin(async move {
            Ok(match e {
                Expr::Const(value) => value.clone(),
                Expr::Template(parts) => Value::String(self.template(parts, env).await?),
                Expr::List(items) => {
                    let mut out = Vec::with_capacity(items.len());
                    for item in items {
                        out.push(self.eval(item, env).await?);
                    }
                    Value::Array(out)
                }
                Expr::Record(fields) => {
                    let mut out = serde_json::Map::new();
                    for (name, value) in fields {
                        out.insert(name.clone(), self.eval(value, env).await?);
                    }
                    Value::Object(out)
                }
                Expr::Var(name) => env.frame.var(name).cloned().unwrap_or(Value::Null),
                Expr::Node(node) => match env.frame.slot(*node) {
                    Some(slot) => slot.get().await?,
                    None => Value::Null,
                },
                Expr::Component(c) => Value::from(self.plan.component(*c).text.as_str()),
                Expr::Field(base, field) => field_of(&self.eval(base, env).await?, field),
                Expr::Index(base, index) => {
                    let base = self.eval(base, env).await?;
                    let index = self.eval(index, env).await?;
                    index_of(&base, &index).map_err(Fault::Error)?
                }
                Expr::Call(function, args) => {
                    let mut values = Vec::with_capacity(args.len());
                    for arg in args {
                        values.push(self.eval(arg, env).await?);
                    }
                    function.call(&values).map_err(Fault::Error)?
                }
                Expr::Ran(steps) => Value::Bool(steps.iter().all(|s| self.ran(s))),
                Expr::Unary(op, operand) => op
                    .apply(&self.eval(operand, env).await?)
                    .map_err(Fault::Error)?,
                Expr::Binary(op, lhs, rhs) => self.binary(*op, lhs, rhs, env).await?,
                Expr::If {
                    condition,
                    then,
                    otherwise,
                } => {
                    let taken = if truthy(&self.eval(condition, env).await?) {
                        then
                    } else {
                        otherwise
                    };
                    self.branch(taken, env, None).await?
                }
                Expr::Match { subject, arms } => {
                    let subject = self.eval(subject, env).await?;
                    let Some(arm) = arms
                        .iter()
                        .find(|arm| arm.patterns.iter().any(|p| p.matches(&subject)))
                    else {
                        return Err(Fault::Error(format!("no `match` arm for {subject}")));
                    };
                    self.branch(&arm.body, env, None).await?
                }
                Expr::For {
                    var,
                    source,
                    concurrency,
                    tolerate,
                    body,
                } => {
                    let items = items_of(self.eval(source, env).await?);
                    self.fan_out(var, items, *concurrency, *tolerate, body, env)
                        .await?
                }
                Expr::Block(branch) => self.branch(branch, env, None).await?,
            })
        })
    }

    async fn binary(&self, op: BinaryOp, lhs: &'p Expr, rhs: &'p Expr, env: &Env) -> Eval<Value> {
        let left = self.eval(lhs, env).await?;
        // `and`, `or` and `??` only evaluate their right side when needed.
        match op {
            BinaryOp::And if !truthy(&left) => return Ok(Value::Bool(false)),
            BinaryOp::Or if truthy(&left) => return Ok(Value::Bool(true)),
            BinaryOp::Coalesce if !left.is_null() => return Ok(left),
            _ => {}
        }
        let right = self.eval(rhs, env).await?;
        op.apply(&left, &right).map_err(Fault::Error)
    }

    /// Renders a template: text, interpolations, `{% if %}` and `{% for %}`.
    pub fn template<'s>(
        &'s self,
        parts: &'p [Part],
        env: &'s Env,
    ) -> LocalBoxFuture<'s, Eval<String>> {
        Box::pin(async move {
            let mut out = String::new();
            for part in parts {
                match part {
                    Part::Text(text) => out.push_str(text),
                    Part::Expr(e) => out.push_str(&render(&self.eval(e, env).await?)),
                    Part::If {
                        condition,
                        then,
                        otherwise,
                    } => {
                        let taken = if truthy(&self.eval(condition, env).await?) {
                            then
                        } else {
                            otherwise
                        };
                        out.push_str(&self.template(taken, env).await?);
                    }
                    Part::For { var, source, body } => {
                        for item in items_of(self.eval(source, env).await?) {
                            let inner = env.with(vec![(var.clone(), item)]);
                            out.push_str(&self.template(body, &inner).await?);
                        }
                    }
                }
            }
            Ok(out)
        })
    }

    /// A value as text: what a prompt, a command or a URL shows of it.
    pub async fn text(&self, e: &'p Expr, env: &Env) -> Eval<String> {
        Ok(render(&self.eval(e, env).await?))
    }
}
