//! Request bodies checked against the providers' own API specs
//! (`tests/fixtures/specs/`), with a JSON Schema validator nobody on this
//! team wrote.

use std::path::Path;

use serde_json::{json, Map, Value};

/// A validator for one request schema of a spec.
pub struct Spec {
    validator: jsonschema::Validator,
}

impl Spec {
    /// The schema `#/components/schemas/{name}` of `file` (under
    /// `tests/fixtures/specs/`).
    pub fn load(file: &str, name: &str) -> Spec {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/specs")
            .join(file);
        let text = std::fs::read_to_string(&path).expect("the spec fixture");
        let spec: Value = serde_json::from_str(&text).expect("the spec is JSON");
        let mut root = json_schema(spec);
        root["$ref"] = json!(format!("#/components/schemas/{name}"));
        let validator = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .build(&root)
            .expect("the spec compiles");
        Spec { validator }
    }

    /// Every way `body` breaks the schema, as `path: reason` lines.
    pub fn problems(&self, body: &Value) -> Vec<String> {
        self.validator
            .iter_errors(body)
            .map(|e| format!("{}: {e}", e.instance_path()))
            .collect()
    }
}

/// OpenAPI 3.0 leftovers in a 3.1 document, as JSON Schema:
/// `nullable: true` becomes a `null` type (or an `anyOf` with one where
/// there is no type), and `type: null` (JSON null) goes.
fn json_schema(node: Value) -> Value {
    match node {
        Value::Array(items) => Value::Array(items.into_iter().map(json_schema).collect()),
        Value::Object(object) => {
            let mut object: Map<String, Value> = object
                .into_iter()
                .map(|(k, v)| (k, json_schema(v)))
                .collect();
            if object.get("type") == Some(&Value::Null) {
                object.remove("type");
            }
            if object.remove("nullable") != Some(Value::Bool(true)) {
                return Value::Object(object);
            }
            match object.get_mut("type") {
                Some(Value::String(t)) => {
                    let t = t.clone();
                    object.insert("type".into(), json!([t, "null"]));
                    if let Some(Value::Array(names)) = object.get_mut("enum") {
                        names.push(Value::Null);
                    }
                    Value::Object(object)
                }
                Some(Value::Array(types)) => {
                    types.push(json!("null"));
                    Value::Object(object)
                }
                _ => json!({"anyOf": [Value::Object(object), {"type": "null"}]}),
            }
        }
        other => other,
    }
}
