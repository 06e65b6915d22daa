//! Fingerprints: a hash per node, so that `resume` can tell whether a node
//! that completed would now do something else, and the plan's hash.
//!
//! A node's JSON names other nodes, models, components and workflows by
//! their index in the plan's tables. An edit elsewhere (a step added
//! above) moves those indexes without changing what the node does, so the
//! fingerprint hashes a canonical form instead: each index replaced by
//! what it stands for — a node by its stable id, a model by its settings,
//! a component by its text, a workflow by its name. Changing a model's
//! `temperature` or a component's text changes every node that uses it.

use serde_json::Value;

use super::{Plan, Workflow};

/// FNV-1a, 64 bits: a stable fingerprint (not a security hash; it tells
/// "changed" from "unchanged").
pub fn fingerprint(bytes: &[u8]) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in bytes {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("fnv1a64:{hash:016x}")
}

/// Computes every node's fingerprint and the plan's hash.
pub(super) fn seal(plan: &mut Plan) {
    let mut prints: Vec<Vec<String>> = Vec::with_capacity(plan.workflows.len());
    for workflow in &plan.workflows {
        let nodes = workflow
            .nodes
            .iter()
            .map(|node| {
                let mut value = serde_json::to_value(node).unwrap_or(Value::Null);
                canonical(&mut value, plan, workflow);
                fingerprint(value.to_string().as_bytes())
            })
            .collect();
        prints.push(nodes);
    }
    for (workflow, nodes) in plan.workflows.iter_mut().zip(prints) {
        for (node, print) in workflow.nodes.iter_mut().zip(nodes) {
            node.fingerprint = print;
        }
    }
    plan.hash = hash(plan);
}

/// The plan's hash: its JSON without the machine-specific directories and
/// without the hash itself.
fn hash(plan: &Plan) -> String {
    let mut value = serde_json::to_value(plan).unwrap_or(Value::Null);
    if let Value::Object(fields) = &mut value {
        fields.remove("hash");
        if let Some(Value::Array(workflows)) = fields.get_mut("workflows") {
            for workflow in workflows {
                if let Value::Object(w) = workflow {
                    w.remove("dir");
                }
            }
        }
    }
    fingerprint(value.to_string().as_bytes())
}

/// Replaces the indexes in a node's JSON by what they stand for. The keys
/// are the plan schema's (`docs/plan.md`): `node`, `deps`, `after`,
/// `nodes`, `upstream` and a loop's `body` hold node indexes; `model`,
/// `component`, an agent's `persona`, `instructions` and `format`, and
/// `workflow` the other tables'.
fn canonical(value: &mut Value, plan: &Plan, workflow: &Workflow) {
    let node_id = |v: &Value| {
        v.as_u64()
            .and_then(|i| workflow.nodes.get(i as usize))
            .map_or(Value::Null, |n| Value::from(n.id.as_str()))
    };
    let component = |v: &Value| {
        v.as_u64()
            .and_then(|i| plan.components.get(i as usize))
            .map_or(Value::Null, |c| Value::from(c.text.as_str()))
    };
    match value {
        Value::Object(fields) => {
            for (key, field) in fields.iter_mut() {
                match (key.as_str(), &*field) {
                    ("node", Value::Number(_)) => *field = node_id(field),
                    ("deps" | "after" | "nodes" | "upstream" | "body", Value::Array(items))
                        if items.iter().all(Value::is_number) =>
                    {
                        *field = Value::Array(items.iter().map(node_id).collect());
                    }
                    ("persona" | "instructions" | "format", Value::Array(items)) => {
                        *field = Value::Array(items.iter().map(component).collect());
                    }
                    ("model", Value::Number(n)) => {
                        *field = n
                            .as_u64()
                            .and_then(|i| plan.models.get(i as usize))
                            .and_then(|m| serde_json::to_value(m).ok())
                            .unwrap_or(Value::Null);
                    }
                    ("component", Value::Number(_)) => *field = component(field),
                    ("workflow", Value::Number(n)) => {
                        *field = n
                            .as_u64()
                            .and_then(|i| plan.workflows.get(i as usize))
                            .map_or(Value::Null, |w| Value::from(w.name.as_str()));
                    }
                    _ => canonical(field, plan, workflow),
                }
            }
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(|item| canonical(item, plan, workflow)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_are_stable_and_sensitive() {
        assert_eq!(fingerprint(b""), "fnv1a64:cbf29ce484222325");
        assert_ne!(fingerprint(b"a"), fingerprint(b"b"));
    }
}
