//! What a resumed run may take from its journal: the output of every
//! instance that completed (`draft`, `refine[1].attempt`,
//! `summaries.each[3].summary`, `t/draft` inside a call) — provided the
//! plan has not changed at any of them.

use std::collections::HashMap;

use serde_json::Value;

use super::record::StepStatus;
use super::StoredRun;
use crate::plan::instance::resolve;
use crate::plan::{Plan, WorkflowId};

/// The outputs a resume reuses, by instance id; or why it cannot resume:
/// the run was journaled by an earlier format, or the plan changed at
/// nodes that completed (resuming would mix their old outputs with the
/// new plan).
pub fn restorable(
    run: &StoredRun,
    plan: &Plan,
    workflow: WorkflowId,
) -> Result<HashMap<String, Value>, String> {
    if run.format != super::FORMAT {
        return Err(format!(
            "it was journaled by an earlier spesc, which named loop iterations and called workflows' steps differently (journal format {}, this build writes {}); `spesc show {}` still shows it; start it again with `spesc run`",
            run.format,
            super::FORMAT,
            run.id
        ));
    }
    let mut outputs = HashMap::new();
    let mut changed = Vec::new();
    for node in &run.nodes {
        let done = matches!(
            node.record.status,
            StepStatus::Succeeded | StepStatus::Degraded
        );
        let Some(output) = node.record.output.clone().filter(|_| done) else {
            continue;
        };
        let id = node.record.id.as_str();
        let planned =
            resolve(plan, workflow, id).map(|(w, n)| plan.workflow(w).node(n).fingerprint.as_str());
        match (planned, &node.fingerprint) {
            (Some(now), Some(then)) if now == then => {
                outputs.insert(id.to_string(), output);
            }
            (Some(_), None) => {
                outputs.insert(id.to_string(), output);
            }
            (Some(_), Some(_)) => changed.push(format!("`{id}`")),
            (None, _) => changed.push(format!("`{id}` (no longer in the plan)")),
        }
    }
    if changed.is_empty() {
        return Ok(outputs);
    }
    changed.sort();
    changed.dedup();
    Err(format!(
        "the plan changed at steps that already completed: {}; resuming would mix their old outputs with the new plan. Undo those changes, or start a new run",
        changed.join(", ")
    ))
}
