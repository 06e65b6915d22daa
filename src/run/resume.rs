//! What a resumed run may take from its journal: the outputs of every node
//! that completed (a `loop` body's nodes once per iteration, in order),
//! except inside a `for` body, whose items finish in any order (a `for`
//! that did not complete runs again whole) — provided the plan has not
//! changed at any of them.

use std::collections::HashMap;

use serde_json::Value;

use super::record::StepStatus;
use super::store::StoredRun;
use crate::plan::WorkflowPlan;

/// The outputs a resume reuses, by node id; or, when the plan changed at
/// nodes that completed, why resuming would mix old outputs with the new
/// plan.
pub fn restorable(
    run: &StoredRun,
    plan: &WorkflowPlan,
) -> Result<HashMap<String, Vec<Value>>, String> {
    let nodes: HashMap<&str, &crate::plan::NodePlan> =
        plan.nodes.iter().map(|n| (n.id.as_str(), n)).collect();
    let mut completed: HashMap<&str, Vec<&super::store::StoredNode>> = HashMap::new();
    for node in &run.nodes {
        let done = matches!(
            node.record.status,
            StepStatus::Succeeded | StepStatus::Degraded
        );
        if done && node.record.output.is_some() {
            completed
                .entry(node.record.id.as_str())
                .or_default()
                .push(node);
        }
    }
    let mut outputs = HashMap::new();
    let mut changed = Vec::new();
    for (id, done) in completed {
        if in_for_body(plan, id) {
            continue;
        }
        let unchanged = done
            .iter()
            .all(|node| match (nodes.get(id), &node.fingerprint) {
                (Some(now), Some(then)) => &now.fingerprint == then,
                (now, _) => now.is_some(),
            });
        if !unchanged {
            changed.push(match nodes.get(id) {
                Some(_) => format!("`{id}`"),
                None => format!("`{id}` (no longer in the plan)"),
            });
            continue;
        }
        let values = done
            .iter()
            .filter_map(|n| n.record.output.clone())
            .collect();
        outputs.insert(id.to_string(), values);
    }
    if changed.is_empty() {
        return Ok(outputs);
    }
    changed.sort();
    Err(format!(
        "the plan changed at steps that already completed: {}; resuming would mix their old outputs with the new plan. Undo those changes, or start a new run",
        changed.join(", ")
    ))
}

/// Whether node `id` sits inside a `for` body, where one id names many
/// runs of it that finish in any order.
fn in_for_body(plan: &WorkflowPlan, id: &str) -> bool {
    let parent_of = |id: &str| {
        plan.nodes
            .iter()
            .find(|n| n.id == id)
            .and_then(|n| n.parent.clone())
    };
    let mut at = parent_of(id);
    while let Some(parent) = at {
        if parent.branch == "each" {
            return true;
        }
        at = parent_of(&parent.id);
    }
    false
}
