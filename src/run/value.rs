//! Runtime values: JSON values, checked against the checker's types.
//!
//! A workflow's values are JSON: strings, numbers, booleans, lists,
//! records (objects); an enum value is its variant's name, a duration a
//! number of milliseconds, a step that did not run `null`.

use serde_json::{json, Map, Number, Value};

use crate::check::types::Ty;

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

/// `value` as a `ty`, or why it is not one. Ints widen to floats, enum
/// names match in any case, and a missing optional field is `null`.
pub fn conform(value: Value, ty: &Ty) -> Result<Value, String> {
    match (ty, value) {
        (Ty::Error | Ty::Json, v) => Ok(v),
        (Ty::Optional(_), Value::Null) => Ok(Value::Null),
        (Ty::Optional(inner), v) => conform(v, inner),
        (Ty::String | Ty::Component, Value::String(s)) => Ok(Value::String(s)),
        (Ty::Int, Value::Number(n)) if n.is_i64() => Ok(Value::Number(n)),
        (Ty::Int, Value::Number(n)) => match n.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() < 9e15 => Ok(Value::from(f as i64)),
            _ => Err(format!("expected a whole number, found {n}")),
        },
        (Ty::Float | Ty::Duration, Value::Number(n)) => Ok(Value::Number(n)),
        (Ty::Bool, Value::Bool(b)) => Ok(Value::Bool(b)),
        (Ty::Enum(e), Value::String(s)) => e
            .variants
            .iter()
            .find(|v| v.eq_ignore_ascii_case(s.trim()))
            .map(|v| Value::String(v.clone()))
            .ok_or_else(|| format!("expected one of {}, found {s:?}", e.variants.join(", "))),
        (Ty::List(of), Value::Array(items)) => items
            .into_iter()
            .enumerate()
            .map(|(i, item)| conform(item, of).map_err(|e| format!("item {i}: {e}")))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array),
        (Ty::Map(of), Value::Object(fields)) => fields
            .into_iter()
            .map(|(k, v)| {
                conform(v, of)
                    .map(|v| (k.clone(), v))
                    .map_err(|e| format!("{k}: {e}"))
            })
            .collect::<Result<Map<_, _>, _>>()
            .map(Value::Object),
        (Ty::Record(record), Value::Object(mut fields)) => {
            let mut out = Map::new();
            for (name, field_ty) in &record.fields {
                let value = fields.remove(name).unwrap_or(Value::Null);
                if value.is_null() && !field_ty.is_optional() {
                    return Err(format!("missing field `{name}`"));
                }
                out.insert(
                    name.clone(),
                    conform(value, field_ty).map_err(|e| format!("{name}: {e}"))?,
                );
            }
            Ok(Value::Object(out))
        }
        (ty, v) => Err(format!("expected {}, found {}", describe(ty), kind_of(&v))),
    }
}

fn describe(ty: &Ty) -> String {
    match ty {
        Ty::Record(r) => format!("an object `{}`", r.name),
        Ty::List(_) => format!("a list `{ty}`"),
        other => format!("`{other}`"),
    }
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// A number as JSON: whole numbers stay integers.
pub fn number(f: f64) -> Value {
    if f.fract() == 0.0 && f.abs() < 9e15 {
        Value::from(f as i64)
    } else {
        Number::from_f64(f).map_or(Value::Null, Value::Number)
    }
}

/// The JSON shape of a type, as the output format appended to prompts.
pub fn schema(ty: &Ty) -> String {
    match ty {
        Ty::String | Ty::Component => "string".to_string(),
        Ty::Int => "integer".to_string(),
        Ty::Float => "number".to_string(),
        Ty::Bool => "true or false".to_string(),
        Ty::Json | Ty::Error => "any JSON value".to_string(),
        Ty::Duration => "milliseconds (integer)".to_string(),
        Ty::List(of) => format!("[{}, …]", schema(of)),
        Ty::Map(of) => format!("{{\"<key>\": {}, …}}", schema(of)),
        Ty::Optional(of) => format!("{} or null", schema(of)),
        Ty::Enum(e) => e
            .variants
            .iter()
            .map(|v| format!("\"{v}\""))
            .collect::<Vec<_>>()
            .join(" | "),
        Ty::Record(r) => {
            let fields: Vec<String> = r
                .fields
                .iter()
                .map(|(name, t)| format!("\"{name}\": {}", schema(t)))
                .collect();
            format!("{{{}}}", fields.join(", "))
        }
    }
}

/// `ty` as a strict JSON schema (every field required, no other fields,
/// `null` allowed where the type is optional), or none when a strict
/// schema cannot say it (`map<T>`, `json`).
pub fn json_schema(ty: &Ty) -> Option<Value> {
    Some(match ty {
        Ty::String | Ty::Component => json!({"type": "string"}),
        Ty::Int | Ty::Duration => json!({"type": "integer"}),
        Ty::Float => json!({"type": "number"}),
        Ty::Bool => json!({"type": "boolean"}),
        Ty::Json | Ty::Error | Ty::Map(_) => return None,
        Ty::List(of) => json!({"type": "array", "items": json_schema(of)?}),
        Ty::Optional(of) => {
            let mut schema = json_schema(of)?;
            if let Some(t) = schema["type"].as_str().map(String::from) {
                schema["type"] = json!([t, "null"]);
            }
            if let Some(names) = schema.get_mut("enum").and_then(Value::as_array_mut) {
                names.push(Value::Null);
            }
            schema
        }
        Ty::Enum(e) => json!({"type": "string", "enum": e.variants}),
        Ty::Record(r) => {
            let mut properties = Map::new();
            for (name, t) in &r.fields {
                properties.insert(name.clone(), json_schema(t)?);
            }
            let required: Vec<&String> = r.fields.iter().map(|(name, _)| name).collect();
            json!({"type": "object", "properties": properties, "required": required,
                   "additionalProperties": false})
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_conform_leniently_but_never_to_the_wrong_shape() {
        assert_eq!(conform(json!(3), &Ty::Float), Ok(json!(3)));
        assert_eq!(conform(json!(3.0), &Ty::Int), Ok(json!(3)));
        assert!(conform(json!("3"), &Ty::Int).is_err());
        let size = Ty::Enum(std::rc::Rc::new(crate::check::types::EnumTy {
            name: "Size".into(),
            variants: vec!["small".into(), "large".into()],
            decl: None,
        }));
        assert_eq!(conform(json!(" Large "), &size), Ok(json!("large")));
        assert!(conform(json!("huge"), &size).is_err());
        assert_eq!(
            conform(json!(null), &Ty::optional(Ty::Int)),
            Ok(json!(null))
        );
    }

    #[test]
    fn values_render_into_prompts() {
        assert_eq!(render(&json!("text")), "text");
        assert_eq!(render(&json!(null)), "");
        assert_eq!(render(&json!({"a": [1, 2]})), r#"{"a":[1,2]}"#);
        assert!(!truthy(&json!(null)) && !truthy(&json!(false)) && truthy(&json!("")));
    }
}
