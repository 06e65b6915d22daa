//! Instances: a node as it runs. A node inside a `for` runs once per item,
//! inside a `loop` once per iteration, inside a called workflow once per
//! call, so the record, the events and the journal name each run of it by
//! one stable text, its *instance id*:
//!
//! | where                      | instance id                      |
//! | -------------------------- | -------------------------------- |
//! | top level                  | `draft`                          |
//! | an arm of `let code = match` | `code.simple.direct`           |
//! | item 3 of `let s = for …`  | `s.each[3].summary`              |
//! | iteration 2 of `loop refine` | `refine[2].attempt`            |
//! | inside `step t = call w(…)` | `t/draft` (and `t/s.each[0].x`) |
//!
//! Items and iterations count from 0. Dropping the `[n]` gives the node's
//! plan id; each `/` steps into the called workflow.

use std::borrow::Cow;

use super::{Action, NodeId, Plan, WorkflowId};

/// The prefix of the ids of the nodes in `branch` of composite `owner`
/// (`code.simple.`); a loop's body has no branch name (`refine.`).
pub fn branch_prefix(owner: &str, branch: &str) -> String {
    let branch = branch.replace([' ', '|', '"'], "_");
    match (owner.is_empty(), branch.is_empty()) {
        (_, true) => format!("{owner}."),
        (true, false) => format!("{branch}."),
        (false, false) => format!("{owner}.{branch}."),
    }
}

/// The prefix of item `n`'s nodes in `branch` (`each`) of a `for`
/// owned by `owner`.
pub fn item_prefix(owner: &str, branch: &str, n: usize) -> String {
    format!(
        "{}[{n}].",
        branch_prefix(owner, branch).trim_end_matches('.')
    )
}

/// The prefix of iteration `n`'s nodes of loop `owner`.
pub fn iteration_prefix(owner: &str, n: u64) -> String {
    format!("{owner}[{n}].")
}

/// The prefix of the nodes of the workflow called by instance `call`.
pub fn call_prefix(call: &str) -> String {
    format!("{call}/")
}

/// The plan id of an instance id of one workflow: `[n]` dropped.
pub fn plan_id(instance: &str) -> Cow<'_, str> {
    if !instance.contains('[') {
        return Cow::Borrowed(instance);
    }
    let mut out = String::with_capacity(instance.len());
    let mut rest = instance;
    while let Some(open) = rest.find('[') {
        out.push_str(&rest[..open]);
        match rest[open..].find(']') {
            Some(close) => rest = &rest[open + close + 1..],
            None => {
                rest = &rest[open..];
                break;
            }
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// The node an instance id of a run of `root` is a run of, following
/// calls into the workflows they call.
pub fn resolve(plan: &Plan, root: WorkflowId, instance: &str) -> Option<(WorkflowId, NodeId)> {
    let mut workflow = root;
    let mut segments = instance.split('/').peekable();
    while let Some(segment) = segments.next() {
        let node = plan.workflow(workflow).find(&plan_id(segment))?;
        if segments.peek().is_none() {
            return Some((workflow, node));
        }
        match &plan.workflow(workflow).node(node).action {
            Action::Call(call) => workflow = call.workflow,
            _ => return None,
        }
    }
    None
}

/// The node's own name: the last part of an instance id.
pub fn name_of(instance: &str) -> &str {
    let last = instance.rsplit('/').next().unwrap_or(instance);
    last.rsplit('.').next().unwrap_or(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indexes_are_dropped_and_names_found() {
        assert_eq!(plan_id("results.each[3].summary"), "results.each.summary");
        assert_eq!(plan_id("a.each[1].b[22].c"), "a.each.b.c");
        assert_eq!(plan_id("plain.id"), "plain.id");
        assert_eq!(name_of("t/refine[2].attempt"), "attempt");
        assert_eq!(branch_prefix("code", "a | b"), "code.a___b.");
        assert_eq!(iteration_prefix("refine", 2), "refine[2].");
    }
}
