//! Reading a reply's JSON as the step's type where the shape is nearly
//! right: the coercions a type asks for (`"12,111"` for an `int`, `"yes"`
//! for a `bool`, one value for a list of one…), each named as a repair.
//! Only a step's text is read this way (a model's reply, a command's
//! output, a fetched body): inputs and answers must fit exactly
//! (`value::conform`).

use serde_json::{Map, Value};

use crate::plan::types::{Field, Type, TypeDef, Types};

/// `value` moved towards `ty` where it unambiguously means one; what
/// cannot be read is left as it is, for `conform` to explain.
pub fn coerce(value: Value, ty: &Type, types: &Types, repairs: &mut Vec<String>) -> Value {
    match (ty, value) {
        (Type::Json, v) => v,
        (Type::Optional(_), Value::Null) => Value::Null,
        (Type::Optional(inner), v) => coerce(v, inner, types, repairs),
        // A one-item list where one value is wanted.
        (ty, Value::Array(mut items)) if !is_list(ty) && items.len() == 1 => {
            repairs.push("a list of one read as its item".to_string());
            let item = items.pop().unwrap_or(Value::Null);
            coerce(item, ty, types, repairs)
        }
        (Type::String, Value::Number(n)) => {
            repairs.push(format!("the number {n} read as text"));
            Value::String(n.to_string())
        }
        (Type::String, Value::Bool(b)) => {
            repairs.push(format!("`{b}` read as text"));
            Value::String(b.to_string())
        }
        (Type::Bool, Value::String(s)) => match truth(&s) {
            Some(b) => {
                repairs.push(format!("\"{s}\" read as `{b}`"));
                Value::Bool(b)
            }
            None => Value::String(s),
        },
        (Type::Int | Type::Float, Value::String(s)) => match number(&s) {
            Some(n) if matches!(ty, Type::Float) => {
                repairs.push(format!("\"{s}\" read as a number"));
                crate::lang::value::number(n)
            }
            Some(n) if n.fract() == 0.0 && n.abs() < 9e15 => {
                repairs.push(format!("\"{s}\" read as a number"));
                Value::from(n as i64)
            }
            _ => Value::String(s),
        },
        (Type::List(of), Value::Array(items)) => Value::Array(
            items
                .into_iter()
                .map(|item| coerce(item, of, types, repairs))
                .collect(),
        ),
        (Type::List(of), v) if !v.is_null() => {
            repairs.push("a single value read as a list of one".to_string());
            Value::Array(vec![coerce(v, of, types, repairs)])
        }
        (Type::Map(of), Value::Object(fields)) => Value::Object(
            fields
                .into_iter()
                .map(|(k, v)| (k, coerce(v, of, types, repairs)))
                .collect(),
        ),
        (Type::Named(name), value) => match (types.get(name), value) {
            (Some(TypeDef::Record { fields }), Value::Object(given)) => {
                record(fields, given, types, repairs)
            }
            // A scalar where a record of one field is wanted.
            (Some(TypeDef::Record { fields }), v)
                if fields.len() == 1 && !v.is_object() && !v.is_null() =>
            {
                let field = &fields[0];
                repairs.push(format!("a value read as the one field `{}`", field.name));
                let mut out = Map::new();
                out.insert(field.name.clone(), coerce(v, &field.ty, types, repairs));
                Value::Object(out)
            }
            (Some(TypeDef::Enum { variants, about }), Value::String(word)) => {
                match super::enums::named(&word, variants, about) {
                    Some(variant) if variant != word => {
                        repairs.push(format!("enum name `{word}` read as `{variant}`"));
                        Value::String(variant.to_string())
                    }
                    _ => Value::String(word),
                }
            }
            (_, v) => v,
        },
        (_, v) => v,
    }
}

/// A record's fields from an object: each by its name, else by a key
/// that is the name in another case or one of its aliases.
fn record(
    fields: &[Field],
    mut given: Map<String, Value>,
    types: &Types,
    repairs: &mut Vec<String>,
) -> Value {
    let mut out = Map::new();
    for field in fields {
        let key = if given.contains_key(&field.name) {
            Some(field.name.clone())
        } else {
            let key = given
                .keys()
                .find(|k| field.about.names(&field.name, k.trim()))
                .cloned();
            if let Some(key) = &key {
                repairs.push(format!("key `{key}` read as `{}`", field.name));
            }
            key
        };
        if let Some(v) = key.and_then(|key| given.remove(&key)) {
            out.insert(field.name.clone(), coerce(v, &field.ty, types, repairs));
        }
    }
    // Unknown fields stay, for `conform` to drop or name.
    out.extend(given);
    Value::Object(out)
}

fn is_list(ty: &Type) -> bool {
    match ty {
        Type::List(_) | Type::Json => true,
        Type::Optional(inner) => is_list(inner),
        _ => false,
    }
}

/// `true`, `True`, `yes` → true; `false`, `No` → false; anything else is
/// not a clear answer.
fn truth(text: &str) -> Option<bool> {
    match text
        .trim()
        .trim_end_matches(['.', '!'])
        .to_lowercase()
        .as_str()
    {
        "true" | "yes" => Some(true),
        "false" | "no" => Some(false),
        _ => None,
    }
}

/// `12,111`, `$5`, `-2,000.00`, `1e3`, ` 42 `, `12.111,123`, `3,5`,
/// `1/5` as a number: currency signs dropped, and of `.` and `,` the last
/// is the decimal mark when both are there; a comma alone separates
/// thousands when groups of three follow it, else it is the decimal mark.
fn number(text: &str) -> Option<f64> {
    let cleaned: String = text
        .trim()
        .chars()
        .filter(|c| !matches!(c, '$' | '€' | '£' | '_' | ' '))
        .collect();
    if let Some((over, under)) = cleaned.split_once('/') {
        let (over, under) = (number(over)?, number(under)?);
        return (under != 0.0).then(|| over / under);
    }
    let plain = match (cleaned.rfind('.'), cleaned.rfind(',')) {
        (Some(dot), Some(comma)) if comma > dot => cleaned.replace('.', "").replace(',', "."),
        (_, Some(_)) if thousands(&cleaned) || cleaned.contains('.') => cleaned.replace(',', ""),
        (None, Some(_)) if cleaned.matches(',').count() == 1 => cleaned.replace(',', "."),
        (_, Some(_)) => return None,
        _ => cleaned,
    };
    plain.parse::<f64>().ok().filter(|n| n.is_finite())
}

/// Whether every comma is followed by exactly three digits (`12,111`).
fn thousands(text: &str) -> bool {
    let whole = text.split('.').next().unwrap_or(text);
    whole
        .split(',')
        .skip(1)
        .all(|group| group.len() == 3 && group.chars().all(|c| c.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn read(value: Value, ty: &Type, types: &Types) -> (Value, Vec<String>) {
        let mut repairs = Vec::new();
        let value = coerce(value, ty, types, &mut repairs);
        (value, repairs)
    }

    #[test]
    fn the_type_asks_for_each_coercion_and_each_is_named() {
        let none = Types::default();
        assert_eq!(read(json!("12,111"), &Type::Int, &none).0, json!(12111));
        assert_eq!(read(json!("$5"), &Type::Int, &none).0, json!(5));
        assert_eq!(
            read(json!("-2,000.00"), &Type::Float, &none).0,
            json!(-2000)
        );
        assert_eq!(read(json!("1e3"), &Type::Int, &none).0, json!(1000));
        assert_eq!(
            read(json!("12.111,123"), &Type::Float, &none).0,
            json!(12111.123)
        );
        assert_eq!(read(json!("3,5"), &Type::Float, &none).0, json!(3.5));
        assert_eq!(read(json!("1/5"), &Type::Float, &none).0, json!(0.2));
        assert_eq!(
            read(json!("1,2,3"), &Type::Int, &none).0,
            json!("1,2,3"),
            "no number"
        );
        assert_eq!(
            read(json!("1.5"), &Type::Int, &none).0,
            json!("1.5"),
            "not whole"
        );
        assert_eq!(
            read(json!("Yes"), &Type::Bool, &none),
            (json!(true), vec!["\"Yes\" read as `true`".to_string()])
        );
        assert_eq!(read(json!("maybe"), &Type::Bool, &none).0, json!("maybe"));
        assert_eq!(read(json!(42), &Type::String, &none).0, json!("42"));
        let list = Type::List(Box::new(Type::String));
        assert_eq!(read(json!("one"), &list, &none).0, json!(["one"]));
        assert_eq!(read(json!(["x"]), &Type::String, &none).0, json!("x"));
        let optional = Type::Optional(Box::new(Type::String));
        assert_eq!(read(Value::Null, &optional, &none).0, Value::Null);
    }

    #[test]
    fn a_scalar_fills_a_record_of_one_field() {
        let mut types = Types::default();
        types.0.insert(
            "Score".into(),
            TypeDef::Record {
                fields: vec![Field::new("value", Type::Float)],
            },
        );
        let (value, repairs) = read(json!("0.75"), &Type::Named("Score".into()), &types);
        assert_eq!(value, json!({"value": 0.75}));
        assert_eq!(
            repairs,
            [
                "a value read as the one field `value`",
                "\"0.75\" read as a number"
            ]
        );
    }
}
