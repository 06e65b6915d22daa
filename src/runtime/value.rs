//! Values against the plan's types: [`conform`] is the contract a value
//! must meet before it reaches the next step; [`schema`] and
//! [`json_schema`] describe a type to a model.

use serde_json::{json, Map, Value};

use crate::plan::types::{Type, TypeDef, Types};

/// `value` as a `ty`, or why it is not one. Ints widen to floats, enum
/// names match in any case, and a missing optional field is `null`.
pub fn conform(value: Value, ty: &Type, types: &Types) -> Result<Value, String> {
    match (ty, value) {
        (Type::Json, v) => Ok(v),
        (Type::Optional(_), Value::Null) => Ok(Value::Null),
        (Type::Optional(inner), v) => conform(v, inner, types),
        (Type::String, Value::String(s)) => Ok(Value::String(s)),
        (Type::Int, Value::Number(n)) if n.is_i64() => Ok(Value::Number(n)),
        (Type::Int, Value::Number(n)) => match n.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() < 9e15 => Ok(Value::from(f as i64)),
            _ => Err(format!("expected a whole number, found {n}")),
        },
        (Type::Float | Type::Duration, Value::Number(n)) => Ok(Value::Number(n)),
        (Type::Bool, Value::Bool(b)) => Ok(Value::Bool(b)),
        (Type::List(of), Value::Array(items)) => items
            .into_iter()
            .enumerate()
            .map(|(i, item)| conform(item, of, types).map_err(|e| format!("item {i}: {e}")))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array),
        (Type::Map(of), Value::Object(fields)) => fields
            .into_iter()
            .map(|(k, v)| {
                conform(v, of, types)
                    .map(|v| (k.clone(), v))
                    .map_err(|e| format!("{k}: {e}"))
            })
            .collect::<Result<Map<_, _>, _>>()
            .map(Value::Object),
        (Type::Named(name), value) => match types.get(name) {
            Some(TypeDef::Enum { variants, .. }) => match value {
                Value::String(s) => variants
                    .iter()
                    .find(|v| v.eq_ignore_ascii_case(s.trim()))
                    .map(|v| Value::String(v.clone()))
                    .ok_or_else(|| format!("expected one of {}, found {s:?}", variants.join(", "))),
                other => Err(format!("expected `{name}`, found {}", kind_of(&other))),
            },
            Some(TypeDef::Record { fields: declared }) => match value {
                Value::Object(mut fields) => {
                    let mut out = Map::new();
                    for field in declared {
                        let value = fields.remove(&field.name).unwrap_or(Value::Null);
                        if value.is_null() && !field.ty.is_optional() {
                            return Err(format!("missing field `{}`", field.name));
                        }
                        let value = conform(value, &field.ty, types)
                            .map_err(|e| format!("{}: {e}", field.name))?;
                        out.insert(field.name.clone(), value);
                    }
                    Ok(Value::Object(out))
                }
                other => Err(format!(
                    "expected an object `{name}`, found {}",
                    kind_of(&other)
                )),
            },
            None => Ok(value),
        },
        (ty, v) => Err(format!("expected {}, found {}", describe(ty), kind_of(&v))),
    }
}

fn describe(ty: &Type) -> String {
    match ty {
        Type::List(_) => format!("a list `{ty}`"),
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

/// The JSON shape of a type, as the output format appended to prompts.
/// A record whose fields have descriptions is written a field per line,
/// each description after its field; a variant's, after the variant.
pub fn schema(ty: &Type, types: &Types) -> String {
    shape(ty, types, 0)
}

fn shape(ty: &Type, types: &Types, depth: usize) -> String {
    match ty {
        Type::String => "string".to_string(),
        Type::Int => "integer".to_string(),
        Type::Float => "number".to_string(),
        Type::Bool => "true or false".to_string(),
        Type::Json => "any JSON value".to_string(),
        Type::Duration => "milliseconds (integer)".to_string(),
        Type::List(of) => format!("[{}, …]", shape(of, types, depth)),
        Type::Map(of) => format!("{{\"<key>\": {}, …}}", shape(of, types, depth)),
        Type::Optional(of) => format!("{} or null", shape(of, types, depth)),
        Type::Named(name) => match types.get(name) {
            Some(TypeDef::Enum { variants, about }) => variants
                .iter()
                .map(
                    |v| match about.get(v).and_then(|a| a.description.as_deref()) {
                        Some(text) => format!("\"{v}\" /* {} */", one_line(text)),
                        None => format!("\"{v}\""),
                    },
                )
                .collect::<Vec<_>>()
                .join(" | "),
            Some(TypeDef::Record { fields }) => {
                let described = fields.iter().any(|f| f.about.description.is_some());
                let field = |f: &crate::plan::types::Field| {
                    format!("\"{}\": {}", f.name, shape(&f.ty, types, depth + 1))
                };
                if !described {
                    let fields: Vec<String> = fields.iter().map(field).collect();
                    return format!("{{{}}}", fields.join(", "));
                }
                let inner = "  ".repeat(depth + 1);
                let mut out = String::from("{\n");
                for (n, f) in fields.iter().enumerate() {
                    let comma = if n + 1 < fields.len() { "," } else { "" };
                    out.push_str(&format!("{inner}{}{comma}", field(f)));
                    if let Some(text) = &f.about.description {
                        out.push_str(&format!(" // {}", one_line(text)));
                    }
                    out.push('\n');
                }
                out.push_str(&format!("{}}}", "  ".repeat(depth)));
                out
            }
            None => "any JSON value".to_string(),
        },
    }
}

/// A description on one line: a prompt's format shows it after its field.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `ty` as a strict JSON schema (every field required, no other fields,
/// `null` allowed where the type is optional), or none when a strict
/// schema cannot say it (`map<T>`, `json`).
pub fn json_schema(ty: &Type, types: &Types) -> Option<Value> {
    Some(match ty {
        Type::String => json!({"type": "string"}),
        Type::Int | Type::Duration => json!({"type": "integer"}),
        Type::Float => json!({"type": "number"}),
        Type::Bool => json!({"type": "boolean"}),
        Type::Json | Type::Map(_) => return None,
        Type::List(of) => json!({"type": "array", "items": json_schema(of, types)?}),
        Type::Optional(of) => {
            let mut schema = json_schema(of, types)?;
            if let Some(t) = schema["type"].as_str().map(String::from) {
                schema["type"] = json!([t, "null"]);
            }
            if let Some(names) = schema.get_mut("enum").and_then(Value::as_array_mut) {
                names.push(Value::Null);
            }
            schema
        }
        Type::Named(name) => match types.get(name)? {
            TypeDef::Enum { variants, .. } => json!({"type": "string", "enum": variants}),
            TypeDef::Record { fields } => {
                let mut properties = Map::new();
                for f in fields {
                    let mut property = json_schema(&f.ty, types)?;
                    if let Some(text) = &f.about.description {
                        property["description"] = json!(one_line(text));
                    }
                    properties.insert(f.name.clone(), property);
                }
                let required: Vec<&String> = fields.iter().map(|f| &f.name).collect();
                json!({"type": "object", "properties": properties, "required": required,
                       "additionalProperties": false})
            }
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::types::Field;
    use serde_json::json;

    #[test]
    fn values_conform_leniently_but_never_to_the_wrong_shape() {
        let mut types = Types::default();
        types.0.insert(
            "Size".into(),
            TypeDef::Enum {
                variants: vec!["small".into(), "large".into()],
                about: Default::default(),
            },
        );
        types.0.insert(
            "Note".into(),
            TypeDef::Record {
                fields: vec![
                    Field::new("size", Type::Named("Size".into())),
                    Field::new("tag", Type::Optional(Box::new(Type::String))),
                ],
            },
        );
        assert_eq!(conform(json!(3), &Type::Float, &types), Ok(json!(3)));
        assert_eq!(conform(json!(3.0), &Type::Int, &types), Ok(json!(3)));
        assert!(conform(json!("3"), &Type::Int, &types).is_err());
        let size = Type::Named("Size".into());
        assert_eq!(conform(json!(" Large "), &size, &types), Ok(json!("large")));
        assert!(conform(json!("huge"), &size, &types).is_err());
        let note = Type::Named("Note".into());
        assert_eq!(
            conform(json!({"size": "small", "extra": 1}), &note, &types),
            Ok(json!({"size": "small", "tag": null}))
        );
        assert_eq!(
            conform(json!({}), &note, &types),
            Err("missing field `size`".to_string())
        );
    }
}
