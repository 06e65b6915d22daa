//! `spesc stats`: what the journal says about a workflow across its runs.

use std::collections::BTreeMap;

use serde::Serialize;

use super::record::StepStatus;
use super::StoredRun;

#[derive(Debug, PartialEq, Serialize)]
pub struct WorkflowStats {
    pub workflow: String,
    pub runs: usize,
    /// Finished runs that succeeded, of all finished runs (0 to 1).
    pub success_rate: Option<f64>,
    pub steps: Vec<StepStats>,
}

#[derive(Debug, PartialEq, Serialize)]
pub struct StepStats {
    pub id: String,
    /// How many times it ran (resumed nodes are not counted again).
    pub count: usize,
    /// Of those, how many succeeded (or degraded to their `on_error`).
    pub succeeded: usize,
    pub min_ms: u64,
    pub median_ms: u64,
    pub max_ms: u64,
    /// The median time it waited for its inputs before starting (not part
    /// of the durations above).
    pub median_wait_ms: u64,
    pub mean_attempts: f64,
    /// Prompt and completion tokens over all its runs.
    pub tokens: u64,
}

/// Statistics per workflow of `runs`, workflows and steps by name.
pub fn of(runs: &[StoredRun]) -> Vec<WorkflowStats> {
    let mut by_workflow: BTreeMap<&str, Vec<&StoredRun>> = BTreeMap::new();
    for run in runs {
        by_workflow.entry(&run.workflow).or_default().push(run);
    }
    by_workflow
        .into_iter()
        .map(|(workflow, runs)| workflow_stats(workflow, &runs))
        .collect()
}

fn workflow_stats(workflow: &str, runs: &[&StoredRun]) -> WorkflowStats {
    let finished = runs
        .iter()
        .filter(|r| r.status == "succeeded" || r.status == "failed")
        .count();
    let succeeded = runs.iter().filter(|r| r.status == "succeeded").count();
    // A `for` item's nodes count with their plan node (`each[3]` → `each`).
    let mut by_step: BTreeMap<String, Vec<&super::record::StepRecord>> = BTreeMap::new();
    for run in runs {
        for node in &run.nodes {
            let ran = !matches!(
                node.record.status,
                StepStatus::Resumed | StepStatus::Skipped | StepStatus::Given | StepStatus::Waiting
            );
            if ran {
                let id = crate::plan::instance::plan_id(&node.record.id).into_owned();
                by_step.entry(id).or_default().push(&node.record);
            }
        }
    }
    let steps = by_step
        .into_iter()
        .map(|(id, records)| {
            let mut durations: Vec<u64> = records.iter().map(|r| r.duration_ms).collect();
            durations.sort_unstable();
            let mut waits: Vec<u64> = records.iter().map(|r| r.waited_ms).collect();
            waits.sort_unstable();
            let attempts: u64 = records.iter().map(|r| r.attempts).sum();
            StepStats {
                id,
                count: records.len(),
                succeeded: records
                    .iter()
                    .filter(|r| matches!(r.status, StepStatus::Succeeded | StepStatus::Degraded))
                    .count(),
                min_ms: durations[0],
                median_ms: median(&durations),
                max_ms: durations[durations.len() - 1],
                median_wait_ms: median(&waits),
                mean_attempts: attempts as f64 / records.len() as f64,
                tokens: records
                    .iter()
                    .filter_map(|r| r.tokens)
                    .map(|t| t.prompt + t.completion)
                    .sum(),
            }
        })
        .collect();
    WorkflowStats {
        workflow: workflow.to_string(),
        runs: runs.len(),
        success_rate: (finished > 0).then(|| succeeded as f64 / finished as f64),
        steps,
    }
}

/// The middle of sorted `values` (the mean of the two middle ones for an
/// even count).
fn median(values: &[u64]) -> u64 {
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2
    }
}
