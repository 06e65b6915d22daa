//! How values behave wherever the language uses them: a workflow's values
//! are JSON (strings, numbers, booleans, lists, records); an enum value is
//! its variant's name, a duration a number of milliseconds, and a step that
//! did not run `null`.

use serde_json::{Number, Value};

/// How a value reads inside a prompt: strings as they are, `null` as
/// nothing, anything else as compact JSON.
pub fn render(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        other => other.to_string(),
    }
}

/// `{% if x %}` and `if x`: `false` and `null` (a step that did not run)
/// are false; everything else is true.
pub fn truthy(value: &Value) -> bool {
    !matches!(value, Value::Bool(false) | Value::Null)
}

/// A number as JSON: whole numbers stay integers.
pub fn number(f: f64) -> Value {
    if f.fract() == 0.0 && f.abs() < 9e15 {
        Value::from(f as i64)
    } else {
        Number::from_f64(f).map_or(Value::Null, Value::Number)
    }
}

/// `==`: numbers compare by value (`1 == 1.0`), everything else as JSON.
pub fn equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

/// `<` and friends: strings by their text, everything else as numbers.
pub fn compare(a: &Value, b: &Value) -> Result<std::cmp::Ordering, String> {
    match (a, b) {
        (Value::String(x), Value::String(y)) => Ok(x.cmp(y)),
        _ => as_f64(a)?
            .partial_cmp(&as_f64(b)?)
            .ok_or_else(|| format!("cannot compare {a} and {b}")),
    }
}

pub fn as_f64(v: &Value) -> Result<f64, String> {
    v.as_f64()
        .ok_or_else(|| format!("expected a number, found {v}"))
}

/// `reviews.score` over a list of records is the list of scores; a field
/// that is not there is `null`.
pub fn field_of(base: &Value, field: &str) -> Value {
    match base {
        Value::Object(map) => map.get(field).cloned().unwrap_or(Value::Null),
        Value::Array(items) => Value::Array(items.iter().map(|i| field_of(i, field)).collect()),
        _ => Value::Null,
    }
}

/// `xs[i]` (negative from the end), `m["key"]`, `s[i]` (a character).
pub fn index_of(base: &Value, index: &Value) -> Result<Value, String> {
    let out_of_range = |len: usize| format!("index {index} is out of range (length {len})");
    match (base, index) {
        (Value::Array(items), Value::Number(n)) => {
            let i = n.as_i64().unwrap_or(i64::MIN);
            let at = if i < 0 {
                (items.len() as i64).checked_add(i)
            } else {
                Some(i)
            };
            at.and_then(|at| usize::try_from(at).ok())
                .and_then(|at| items.get(at))
                .cloned()
                .ok_or_else(|| out_of_range(items.len()))
        }
        (Value::Object(map), Value::String(key)) => {
            Ok(map.get(key).cloned().unwrap_or(Value::Null))
        }
        (Value::String(s), Value::Number(n)) => {
            let i = n.as_i64().unwrap_or(-1);
            usize::try_from(i)
                .ok()
                .and_then(|i| s.chars().nth(i))
                .map(|c| Value::String(c.to_string()))
                .ok_or_else(|| out_of_range(s.chars().count()))
        }
        _ => Ok(Value::Null),
    }
}

/// The items a `for` walks: a list's items, a map's values; `null` is
/// empty and anything else one item.
pub fn items_of(value: Value) -> Vec<Value> {
    match value {
        Value::Array(items) => items,
        Value::Object(map) => map.into_iter().map(|(_, v)| v).collect(),
        Value::Null => Vec::new(),
        other => vec![other],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_render_into_prompts() {
        assert_eq!(render(&json!("text")), "text");
        assert_eq!(render(&json!(null)), "");
        assert_eq!(render(&json!({"a": [1, 2]})), r#"{"a":[1,2]}"#);
        assert!(!truthy(&json!(null)) && !truthy(&json!(false)) && truthy(&json!("")));
    }

    #[test]
    fn indexes_count_from_either_end_and_never_panic() {
        assert_eq!(index_of(&json!([1, 2, 3]), &json!(-1)), Ok(json!(3)));
        assert!(index_of(&json!([1]), &json!(i64::MIN)).is_err());
        assert_eq!(index_of(&json!("héllo"), &json!(1)), Ok(json!("é")));
        assert_eq!(field_of(&json!([{"a": 1}, {"a": 2}]), "a"), json!([1, 2]));
    }
}
