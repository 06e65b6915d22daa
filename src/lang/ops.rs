//! The operators: what they are called and what they compute. `and`, `or`
//! and `??` look at their right side only when needed, so the evaluator
//! handles them; [`BinaryOp::apply`] computes every other operator on two
//! values.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::value::{as_f64, compare, equal, number, render, truthy};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnaryOp {
    Not,
    Neg,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BinaryOp {
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    /// `??`
    Coalesce,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
}

impl UnaryOp {
    pub fn symbol(self) -> &'static str {
        match self {
            UnaryOp::Not => "not",
            UnaryOp::Neg => "-",
        }
    }

    pub fn apply(self, value: &Value) -> Result<Value, String> {
        Ok(match self {
            UnaryOp::Not => Value::Bool(!truthy(value)),
            UnaryOp::Neg => match value.as_i64() {
                Some(n) => Value::from(
                    n.checked_neg()
                        .ok_or_else(|| format!("`-{n}` overflows a 64-bit integer"))?,
                ),
                None => number(-as_f64(value)?),
            },
        })
    }
}

impl BinaryOp {
    pub fn symbol(self) -> &'static str {
        match self {
            BinaryOp::Or => "or",
            BinaryOp::And => "and",
            BinaryOp::Eq => "==",
            BinaryOp::Ne => "!=",
            BinaryOp::Lt => "<",
            BinaryOp::Le => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::Ge => ">=",
            BinaryOp::Coalesce => "??",
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Mod => "%",
        }
    }

    /// The operator on two evaluated sides. For `and`, `or` and `??` this
    /// is the result once the right side was needed.
    pub fn apply(self, left: &Value, right: &Value) -> Result<Value, String> {
        use BinaryOp::*;
        Ok(match self {
            And | Or => Value::Bool(truthy(right)),
            Coalesce => right.clone(),
            Eq => Value::Bool(equal(left, right)),
            Ne => Value::Bool(!equal(left, right)),
            Lt | Le | Gt | Ge => {
                let ordering = compare(left, right)?;
                Value::Bool(match self {
                    Lt => ordering.is_lt(),
                    Le => ordering.is_le(),
                    Gt => ordering.is_gt(),
                    _ => ordering.is_ge(),
                })
            }
            Add => match (left, right) {
                (Value::String(a), b) => Value::String(format!("{a}{}", render(b))),
                (a, Value::String(b)) => Value::String(format!("{}{b}", render(a))),
                (Value::Array(a), Value::Array(b)) => {
                    Value::Array(a.iter().chain(b.iter()).cloned().collect())
                }
                _ => arithmetic(self, left, right)?,
            },
            Sub | Mul | Div | Mod => arithmetic(self, left, right)?,
        })
    }
}

/// Numbers: two integers stay integers (and refuse to overflow); anything
/// else is computed as floats.
fn arithmetic(op: BinaryOp, a: &Value, b: &Value) -> Result<Value, String> {
    if let (Some(x), Some(y)) = (a.as_i64(), b.as_i64()) {
        let result = match op {
            BinaryOp::Div | BinaryOp::Mod if y == 0 => return Err("division by zero".into()),
            BinaryOp::Add => x.checked_add(y),
            BinaryOp::Sub => x.checked_sub(y),
            BinaryOp::Mul => x.checked_mul(y),
            BinaryOp::Div => x.checked_div(y),
            _ => x.checked_rem(y),
        };
        return result
            .map(Value::from)
            .ok_or_else(|| format!("`{x} {} {y}` overflows a 64-bit integer", op.symbol()));
    }
    let (x, y) = (as_f64(a)?, as_f64(b)?);
    let result = match op {
        BinaryOp::Add => x + y,
        BinaryOp::Sub => x - y,
        BinaryOp::Mul => x * y,
        BinaryOp::Div | BinaryOp::Mod if y == 0.0 => return Err("division by zero".into()),
        BinaryOp::Div => x / y,
        _ => x % y,
    };
    Ok(number(result))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn integers_stay_whole_and_refuse_to_overflow() {
        assert_eq!(BinaryOp::Div.apply(&json!(7), &json!(2)), Ok(json!(3)));
        assert_eq!(BinaryOp::Div.apply(&json!(7.0), &json!(2)), Ok(json!(3.5)));
        assert!(BinaryOp::Mod.apply(&json!(1), &json!(0)).is_err());
        let overflow = BinaryOp::Add.apply(&json!(i64::MAX), &json!(1));
        assert!(overflow.unwrap_err().contains("overflows"));
        assert!(UnaryOp::Neg.apply(&json!(i64::MIN)).is_err());
    }

    #[test]
    fn plus_joins_text_and_lists() {
        assert_eq!(BinaryOp::Add.apply(&json!("a"), &json!(1)), Ok(json!("a1")));
        assert_eq!(
            BinaryOp::Add.apply(&json!([1]), &json!([2])),
            Ok(json!([1, 2]))
        );
    }
}
