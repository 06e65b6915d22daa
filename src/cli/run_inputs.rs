//! A workflow's inputs, from `--input-file` and `--input KEY=VALUE`: every
//! one checked against the workflow's parameters before anything runs, and
//! every problem reported at once, whichever way the input came.

use std::path::Path;

use serde_json::{Map, Value};

use crate::plan::{Param, Plan};
use crate::runtime::parse_input;
use crate::runtime::value::conform;

/// The inputs of `workflow`: the file's, then each pair's over them.
pub fn read(
    plan: &Plan,
    workflow: &str,
    pairs: &[String],
    file: Option<(&Path, Map<String, Value>)>,
) -> Result<Map<String, Value>, Vec<String>> {
    let Some(params) = plan
        .workflows
        .iter()
        .find(|w| w.name == workflow)
        .map(|w| &w.params)
    else {
        return Err(vec![format!("no workflow `{workflow}`")]);
    };
    let mut problems = Vec::new();
    // (key, value or why it is none, where it was given)
    let mut given: Vec<(String, Result<Value, String>, String)> = Vec::new();
    if let Some((path, values)) = file {
        let from = format!(" in `{}`", path.display());
        // A pair gives its key over the file's.
        let overridden = |key: &str| {
            pairs
                .iter()
                .any(|p| p.split_once('=').is_some_and(|(k, _)| k == key))
        };
        given.extend(
            values
                .into_iter()
                .filter(|(key, _)| !overridden(key))
                .map(|(key, value)| (key, Ok(value), from.clone())),
        );
    }
    for pair in pairs {
        let Some((key, raw)) = pair.split_once('=') else {
            problems.push(format!("`--input {pair}`: expected KEY=VALUE"));
            continue;
        };
        let ty = params.iter().find(|p| p.name == key).map(|p| &p.ty);
        let value = ty.map_or(Ok(Value::Null), |ty| parse_input(ty, raw));
        given.push((key.to_string(), value, String::new()));
    }
    // Given but wrong is reported as wrong, not also as missing.
    let named: Vec<String> = given.iter().map(|(key, _, _)| key.clone()).collect();
    let mut inputs = Map::new();
    for (key, value, from) in given {
        let Some(param) = params.iter().find(|p| p.name == key) else {
            problems.push(unknown(workflow, params, &key, &from));
            continue;
        };
        match value.and_then(|v| conform(v, &param.ty, &plan.types)) {
            Ok(value) => {
                inputs.insert(key, value);
            }
            Err(problem) => problems.push(format!("input `{key}`{from}: {problem}")),
        }
    }
    let missing: Vec<String> = params
        .iter()
        .filter(|p| p.default.is_none() && !named.contains(&p.name))
        .map(|p| format!("`{}` ({})", p.name, p.ty))
        .collect();
    if !missing.is_empty() {
        problems.push(format!(
            "missing input {}; give it with --input KEY=VALUE",
            missing.join(", ")
        ));
    }
    if problems.is_empty() {
        Ok(inputs)
    } else {
        Err(problems)
    }
}

fn unknown(workflow: &str, params: &[Param], key: &str, from: &str) -> String {
    let names: Vec<&str> = params.iter().map(|p| p.name.as_str()).collect();
    let takes = if names.is_empty() {
        "it takes none".to_string()
    } else {
        format!("it takes {}", crate::suggest::all_of(&names))
    };
    format!("`{workflow}` has no input `{key}`{from}; {takes}")
}
