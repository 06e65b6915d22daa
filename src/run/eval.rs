//! Evaluating expressions and rendering templates. Evaluation is lazy in
//! the dataflow sense: reading a step's name waits until that step has
//! finished, so references are the dependencies at run time too.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use futures_util::future::LocalBoxFuture;
use serde_json::Value;
use tokio::sync::Notify;

use super::engine::{Engine, Place};
use super::value::{number, render, truthy};
use super::Stop;
use crate::syntax::ast::{BinaryOp, Expr, ExprKind, PatternKind, TemplatePart, UnaryOp};

/// Why an evaluation did not give a value: the run stopped upstream, or
/// this expression failed (the step that evaluates it fails with it).
#[derive(Clone, Debug)]
pub enum Fault {
    Stop(Stop),
    /// A failure that trying again will not fix.
    Error(String),
    /// A failure that may pass on another try — `timeout`, `rate_limit`,
    /// `server_error` — retried when the policy's `on` lists its class,
    /// waiting at least `wait_ms` when the other side said so.
    Retryable {
        class: &'static str,
        message: String,
        wait_ms: Option<u64>,
    },
}

impl Fault {
    /// An attempt that ran out of time.
    pub fn timeout(message: String) -> Fault {
        Fault::Retryable {
            class: "timeout",
            message,
            wait_ms: None,
        }
    }
}

impl From<Stop> for Fault {
    fn from(stop: Stop) -> Fault {
        Fault::Stop(stop)
    }
}

pub type Eval<T> = Result<T, Fault>;

/// A value that may not be there yet: a step's output, filled once.
#[derive(Default)]
pub struct Slot {
    value: RefCell<Option<Result<Value, Stop>>>,
    ready: Notify,
}

impl Slot {
    pub fn filled(value: Value) -> Rc<Slot> {
        let slot = Slot::default();
        *slot.value.borrow_mut() = Some(Ok(value));
        Rc::new(slot)
    }

    pub fn set(&self, value: Result<Value, Stop>) {
        *self.value.borrow_mut() = Some(value);
        self.ready.notify_waiters();
    }

    pub fn peek(&self) -> Option<Result<Value, Stop>> {
        self.value.borrow().clone()
    }

    /// Waits until the slot is filled.
    pub async fn get(&self) -> Result<Value, Stop> {
        loop {
            let notified = self.ready.notified();
            tokio::pin!(notified);
            // Registered before looking, so a fill in between is not missed.
            notified.as_mut().enable();
            if let Some(value) = self.peek() {
                return value;
            }
            notified.await;
        }
    }
}

/// The names visible at a point of a workflow, innermost block first, and
/// where that point is.
pub struct Scope<'a> {
    slots: HashMap<String, Rc<Slot>>,
    parent: Option<Rc<Scope<'a>>>,
    place: Place<'a>,
}

impl<'a> Scope<'a> {
    pub fn root(slots: HashMap<String, Rc<Slot>>, place: Place<'a>) -> Rc<Scope<'a>> {
        Rc::new(Scope {
            slots,
            parent: None,
            place,
        })
    }

    pub fn child(parent: &Rc<Scope<'a>>, slots: HashMap<String, Rc<Slot>>) -> Rc<Scope<'a>> {
        Rc::new(Scope {
            slots,
            parent: Some(parent.clone()),
            place: parent.place.clone(),
        })
    }

    /// The scope inside composite `owner` (a `let`'s value): the blocks
    /// it holds name their steps after it.
    pub fn owned(parent: &Rc<Scope<'a>>, owner: &str) -> Rc<Scope<'a>> {
        Rc::new(Scope {
            slots: HashMap::new(),
            parent: Some(parent.clone()),
            place: Place {
                owner: owner.to_string(),
                ..parent.place.clone()
            },
        })
    }

    pub fn place(&self) -> &Place<'a> {
        &self.place
    }

    pub fn lookup(&self, name: &str) -> Option<Rc<Slot>> {
        match self.slots.get(name) {
            Some(slot) => Some(slot.clone()),
            None => self.parent.as_ref()?.lookup(name),
        }
    }
}

impl<'a> Engine<'a> {
    pub fn eval<'s>(
        &'s self,
        e: &'a Expr,
        scope: &'s Rc<Scope<'a>>,
    ) -> LocalBoxFuture<'s, Eval<Value>>
    where
        'a: 's,
    {
        Box::pin(async move {
            Ok(match &e.kind {
                ExprKind::Int(n) => Value::from(*n),
                ExprKind::Float(f) => number(*f),
                ExprKind::Bool(b) => Value::Bool(*b),
                ExprKind::Duration(ms) => Value::from(*ms),
                ExprKind::Percent(p) => number(p / 100.0),
                ExprKind::String(t) => Value::String(self.template(&t.parts, scope).await?),
                ExprKind::List(items) => {
                    let mut out = Vec::with_capacity(items.len());
                    for item in items {
                        out.push(self.eval(item, scope).await?);
                    }
                    Value::Array(out)
                }
                ExprKind::Record(fields) => {
                    let mut out = serde_json::Map::new();
                    for f in fields {
                        out.insert(f.name.name.clone(), self.eval(&f.value, scope).await?);
                    }
                    Value::Object(out)
                }
                ExprKind::Name(name) => self.name(&name.name, scope).await?,
                ExprKind::Field { base, field } => {
                    let base = self.eval(base, scope).await?;
                    field_of(&base, &field.name)
                }
                ExprKind::Index { base, index } => {
                    let base = self.eval(base, scope).await?;
                    let index = self.eval(index, scope).await?;
                    index_of(&base, &index)?
                }
                ExprKind::Call { function, args } if function.name == "ran" => {
                    // Tests only: whether a step ran (or a `given` stood in).
                    let mut ran = true;
                    for arg in args {
                        let name = render(&self.eval(&arg.value, scope).await?);
                        ran &= self.ran(&name);
                    }
                    Value::Bool(ran)
                }
                ExprKind::Call { function, args } => {
                    let mut values = Vec::with_capacity(args.len());
                    for a in args {
                        values.push(self.eval(&a.value, scope).await?);
                    }
                    builtin(&function.name, &values)?
                }
                ExprKind::Unary { op, operand } => {
                    let v = self.eval(operand, scope).await?;
                    match op {
                        UnaryOp::Not => Value::Bool(!truthy(&v)),
                        UnaryOp::Neg => number(-as_f64(&v)?),
                    }
                }
                ExprKind::Binary { op, lhs, rhs } => self.binary(*op, lhs, rhs, scope).await?,
                ExprKind::If {
                    condition,
                    then,
                    otherwise,
                } => {
                    if truthy(&self.eval(condition, scope).await?) {
                        self.block_value(then, scope, "then").await?
                    } else {
                        self.eval(otherwise, scope).await?
                    }
                }
                ExprKind::Match { scrutinee, arms } => {
                    let subject = self.eval(scrutinee, scope).await?;
                    let arm = arms.iter().find(|arm| {
                        arm.patterns
                            .iter()
                            .any(|p| matches_pattern(&p.kind, &subject))
                    });
                    let Some(arm) = arm else {
                        return Err(Fault::Error(format!("no `match` arm for {subject}")));
                    };
                    let branch = arm
                        .patterns
                        .iter()
                        .map(crate::syntax::dump::pattern)
                        .collect::<Vec<_>>()
                        .join(" | ");
                    match &arm.body.kind {
                        ExprKind::Block(block) => self.block_value(block, scope, &branch).await?,
                        _ => self.eval(&arm.body, scope).await?,
                    }
                }
                ExprKind::For {
                    var,
                    source,
                    options,
                    body,
                } => self.fan_out(var, source, options, body, scope).await?,
                ExprKind::Block(block) => self.block_value(block, scope, "body").await?,
                ExprKind::Paren(inner) => self.eval(inner, scope).await?,
            })
        })
    }

    async fn name(&self, name: &str, scope: &Rc<Scope<'a>>) -> Eval<Value> {
        if let Some(slot) = scope.lookup(name) {
            return Ok(slot.get().await?);
        }
        if let Some(text) = self.component_text(name) {
            return Ok(Value::String(text));
        }
        // The checker has resolved every other bare name: an enum variant.
        Ok(Value::String(name.to_string()))
    }

    async fn binary(
        &self,
        op: BinaryOp,
        lhs: &'a Expr,
        rhs: &'a Expr,
        scope: &Rc<Scope<'a>>,
    ) -> Eval<Value> {
        let left = self.eval(lhs, scope).await?;
        // `and`, `or` and `??` only evaluate their right side when needed.
        match op {
            BinaryOp::And if !truthy(&left) => return Ok(Value::Bool(false)),
            BinaryOp::Or if truthy(&left) => return Ok(Value::Bool(true)),
            BinaryOp::Coalesce if !left.is_null() => return Ok(left),
            _ => {}
        }
        let right = self.eval(rhs, scope).await?;
        Ok(match op {
            BinaryOp::And | BinaryOp::Or => Value::Bool(truthy(&right)),
            BinaryOp::Coalesce => right,
            BinaryOp::Eq => Value::Bool(equal(&left, &right)),
            BinaryOp::Ne => Value::Bool(!equal(&left, &right)),
            BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge => {
                let ordering = compare(&left, &right)?;
                Value::Bool(match op {
                    BinaryOp::Lt => ordering.is_lt(),
                    BinaryOp::Le => ordering.is_le(),
                    BinaryOp::Gt => ordering.is_gt(),
                    _ => ordering.is_ge(),
                })
            }
            BinaryOp::Add => match (&left, &right) {
                (Value::String(a), b) => Value::String(format!("{a}{}", render(b))),
                (a, Value::String(b)) => Value::String(format!("{}{b}", render(a))),
                (Value::Array(a), Value::Array(b)) => {
                    Value::Array(a.iter().chain(b.iter()).cloned().collect())
                }
                _ => arithmetic(op, &left, &right)?,
            },
            _ => arithmetic(op, &left, &right)?,
        })
    }

    /// Renders a template: text, interpolations, `{% if %}` and `{% for %}`.
    pub fn template<'s>(
        &'s self,
        parts: &'a [TemplatePart],
        scope: &'s Rc<Scope<'a>>,
    ) -> LocalBoxFuture<'s, Eval<String>>
    where
        'a: 's,
    {
        Box::pin(async move {
            let mut out = String::new();
            for part in parts {
                match part {
                    TemplatePart::Text { text, .. } => out.push_str(text),
                    TemplatePart::Interpolation { expr, .. } => {
                        out.push_str(&render(&self.eval(expr, scope).await?));
                    }
                    TemplatePart::If {
                        condition,
                        then,
                        otherwise,
                        ..
                    } => {
                        if truthy(&self.eval(condition, scope).await?) {
                            out.push_str(&self.template(then, scope).await?);
                        } else if let Some(otherwise) = otherwise {
                            out.push_str(&self.template(otherwise, scope).await?);
                        }
                    }
                    TemplatePart::For {
                        var, source, body, ..
                    } => {
                        let items = match self.eval(source, scope).await? {
                            Value::Array(items) => items,
                            Value::Object(map) => map.into_iter().map(|(_, v)| v).collect(),
                            Value::Null => Vec::new(),
                            other => vec![other],
                        };
                        for item in items {
                            let inner = Scope::child(
                                scope,
                                HashMap::from([(var.name.clone(), Slot::filled(item))]),
                            );
                            out.push_str(&self.template(body, &inner).await?);
                        }
                    }
                }
            }
            Ok(out)
        })
    }
}

fn field_of(base: &Value, field: &str) -> Value {
    match base {
        Value::Object(map) => map.get(field).cloned().unwrap_or(Value::Null),
        // `reviews.score` over a list of records: the list of scores.
        Value::Array(items) => Value::Array(items.iter().map(|i| field_of(i, field)).collect()),
        _ => Value::Null,
    }
}

fn index_of(base: &Value, index: &Value) -> Eval<Value> {
    let out_of_range =
        |len: usize| Fault::Error(format!("index {index} is out of range (length {len})"));
    match (base, index) {
        (Value::Array(items), Value::Number(n)) => {
            let i = n.as_i64().unwrap_or(-1);
            let at = if i < 0 { items.len() as i64 + i } else { i };
            usize::try_from(at)
                .ok()
                .and_then(|at| items.get(at))
                .cloned()
                .ok_or_else(|| out_of_range(items.len()))
        }
        (Value::Object(map), Value::String(key)) => {
            Ok(map.get(key).cloned().unwrap_or(Value::Null))
        }
        (Value::String(s), Value::Number(n)) => {
            let chars: Vec<char> = s.chars().collect();
            let i = n.as_i64().unwrap_or(-1);
            usize::try_from(i)
                .ok()
                .and_then(|i| chars.get(i))
                .map(|c| Value::String(c.to_string()))
                .ok_or_else(|| out_of_range(chars.len()))
        }
        _ => Ok(Value::Null),
    }
}

fn matches_pattern(pattern: &PatternKind, subject: &Value) -> bool {
    match pattern {
        PatternKind::Wildcard => true,
        PatternKind::Variant(v) => subject.as_str() == Some(v.name.as_str()),
        PatternKind::Bool(b) => subject.as_bool() == Some(*b),
        PatternKind::Int(n) => subject.as_i64() == Some(*n),
        PatternKind::String(s) => subject.as_str() == Some(s.as_str()),
    }
}

fn equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

fn compare(a: &Value, b: &Value) -> Eval<std::cmp::Ordering> {
    match (a, b) {
        (Value::String(x), Value::String(y)) => Ok(x.cmp(y)),
        _ => as_f64(a)?
            .partial_cmp(&as_f64(b)?)
            .ok_or_else(|| Fault::Error(format!("cannot compare {a} and {b}"))),
    }
}

fn as_f64(v: &Value) -> Eval<f64> {
    v.as_f64()
        .ok_or_else(|| Fault::Error(format!("expected a number, found {v}")))
}

fn arithmetic(op: BinaryOp, a: &Value, b: &Value) -> Eval<Value> {
    let (x, y) = (as_f64(a)?, as_f64(b)?);
    let whole = a.is_i64() && b.is_i64();
    let result = match op {
        BinaryOp::Add => x + y,
        BinaryOp::Sub => x - y,
        BinaryOp::Mul => x * y,
        BinaryOp::Div | BinaryOp::Mod if y == 0.0 => {
            return Err(Fault::Error("division by zero".to_string()));
        }
        BinaryOp::Div if whole => (x / y).trunc(),
        BinaryOp::Div => x / y,
        BinaryOp::Mod => x % y,
        _ => return Err(Fault::Error(format!("`{}` is not arithmetic", op.symbol()))),
    };
    Ok(number(result))
}

/// The built-in functions (signatures in `docs/language.md`).
fn builtin(name: &str, args: &[Value]) -> Eval<Value> {
    let text = |i: usize| args.get(i).map(render).unwrap_or_default();
    Ok(match name {
        "len" => Value::from(match args.first() {
            Some(Value::String(s)) => s.chars().count(),
            Some(Value::Array(items)) => items.len(),
            Some(Value::Object(map)) => map.len(),
            _ => 0,
        }),
        "join" => {
            let items = match args.first() {
                Some(Value::Array(items)) => items.iter().map(render).collect::<Vec<_>>(),
                _ => Vec::new(),
            };
            Value::String(items.join(&text(1)))
        }
        "split" => Value::Array(
            text(0)
                .split(text(1).as_str())
                .map(|s| Value::String(s.to_string()))
                .collect(),
        ),
        "lower" => Value::String(text(0).to_lowercase()),
        "upper" => Value::String(text(0).to_uppercase()),
        "trim" => Value::String(text(0).trim().to_string()),
        "contains" => Value::Bool(match (args.first(), args.get(1)) {
            (Some(Value::Array(items)), Some(needle)) => items.iter().any(|i| equal(i, needle)),
            (Some(Value::Object(map)), Some(key)) => map.contains_key(&render(key)),
            _ => text(0).contains(&text(1)),
        }),
        "matches" => {
            let pattern = regex_lite::Regex::new(&text(1))
                .map_err(|e| Fault::Error(format!("bad regular expression: {e}")))?;
            Value::Bool(pattern.is_match(&text(0)))
        }
        "json" => Value::String(args.first().map(Value::to_string).unwrap_or_default()),
        "to_string" => Value::String(text(0)),
        other => return Err(Fault::Error(format!("unknown function `{other}`"))),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn builtins_follow_their_signatures() {
        assert_eq!(builtin("len", &[json!("héllo")]).ok(), Some(json!(5)));
        assert_eq!(
            builtin("join", &[json!(["a", "b"]), json!(", ")]).ok(),
            Some(json!("a, b"))
        );
        assert_eq!(
            builtin("split", &[json!("a-b"), json!("-")]).ok(),
            Some(json!(["a", "b"]))
        );
        assert_eq!(
            builtin("contains", &[json!([1, 2]), json!(2)]).ok(),
            Some(json!(true))
        );
        assert_eq!(
            builtin("matches", &[json!("v1.2"), json!(r"^v\d")]).ok(),
            Some(json!(true))
        );
        assert_eq!(
            builtin("json", &[json!({"a": 1})]).ok(),
            Some(json!(r#"{"a":1}"#))
        );
    }

    #[test]
    fn arithmetic_keeps_integers_whole_and_refuses_division_by_zero() {
        assert_eq!(
            arithmetic(BinaryOp::Div, &json!(7), &json!(2)).ok(),
            Some(json!(3))
        );
        assert_eq!(
            arithmetic(BinaryOp::Div, &json!(7.0), &json!(2)).ok(),
            Some(json!(3.5))
        );
        assert!(arithmetic(BinaryOp::Mod, &json!(1), &json!(0)).is_err());
    }
}
