//! What a resumed run may take from its journal: the outputs of every node
//! that completed (a `loop` body's nodes once per iteration, in order; a
//! `for` item's nodes by their item's id, `results.each[3].summary`) —
//! provided the plan has not changed at any of them.

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
        let planned = nodes.get(crate::plan::plan_id(id).as_ref());
        let unchanged = done.iter().all(|node| match (planned, &node.fingerprint) {
            (Some(now), Some(then)) => &now.fingerprint == then,
            (now, _) => now.is_some(),
        });
        if !unchanged {
            changed.push(match planned {
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
