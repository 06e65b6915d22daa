//! Checked program → execution plan.
//!
//! [`lower`] is infallible: it runs only on a program the checker found
//! free of errors. Every workflow becomes a flat list of nodes with stable
//! ids (`draft`, `code.simple.direct` for a step in the `simple` arm of
//! `let code = match …`, `refine.attempt` for a loop body), their kinds,
//! data dependencies and ordering edges, guards, and fully resolved
//! policies: every default is written out, and each fallback chain is
//! flattened into the list of attempts. The plan's hash identifies it, so a
//! run can tell whether the plan it started under has changed.
//! `spesc plan` prints it ([`text`], or JSON: `docs/plan.md`); `spesc
//! graph` draws it ([`draw`]).

pub mod draw;
mod lower;
pub mod text;

use serde::Serialize;

pub(crate) use lower::lower;

/// The version of the JSON schema in `docs/plan.md`.
pub const SCHEMA_VERSION: u32 = 1;

/// Defaults every step gets unless it or its workflow says otherwise.
pub mod defaults {
    /// Tries of an LLM call or a fetch, the first included.
    pub const ATTEMPTS: u64 = 3;
    /// Local commands and questions to people are not retried by default.
    pub const ATTEMPTS_EXEC_ASK: u64 = 1;
    pub const BACKOFF_BASE_MS: u64 = 1_000;
    pub const BACKOFF_FACTOR: f64 = 2.0;
    pub const BACKOFF_MAX_MS: u64 = 60_000;
    pub const JITTER: &str = "full";
    pub const RETRY_ON: &[&str] = &["rate_limit", "timeout", "server_error", "invalid_output"];
    /// One attempt of an LLM call, an `exec` or a `fetch`.
    pub const TIMEOUT_MS: u64 = 60_000;
    pub const MAX_CONCURRENCY: u64 = 8;
    pub const FOR_CONCURRENCY: u64 = 4;
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Plan {
    pub schema: u32,
    /// `fnv1a64:` and 16 hex digits, over the workflows' JSON.
    pub hash: String,
    pub workflows: Vec<WorkflowPlan>,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct WorkflowPlan {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub doc: Option<String>,
    pub params: Vec<ParamPlan>,
    pub output: Option<String>,
    /// The whole run, all steps and retries; `null`: none.
    pub deadline_ms: Option<u64>,
    pub max_concurrency: u64,
    pub nodes: Vec<NodePlan>,
    /// The `return` expression, as written (normalized).
    pub result: Option<String>,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ParamPlan {
    pub name: String,
    #[serde(rename = "type")]
    pub ty: String,
    pub default: Option<String>,
}

#[derive(Clone, Copy, Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum NodeKind {
    Llm,
    Call,
    Exec,
    Fetch,
    Ask,
    Let,
    Loop,
}

impl NodeKind {
    /// The kind of a step, by its action.
    pub fn of(action: &crate::syntax::ast::Action) -> NodeKind {
        use crate::syntax::ast::Action;
        match action {
            Action::Llm => NodeKind::Llm,
            Action::Call { .. } => NodeKind::Call,
            Action::Exec(_) => NodeKind::Exec,
            Action::Fetch(_) => NodeKind::Fetch,
            Action::Ask(_) => NodeKind::Ask,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            NodeKind::Llm => "llm",
            NodeKind::Call => "call",
            NodeKind::Exec => "exec",
            NodeKind::Fetch => "fetch",
            NodeKind::Ask => "ask",
            NodeKind::Let => "let",
            NodeKind::Loop => "loop",
        }
    }
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct NodePlan {
    /// Unique in the workflow, stable across edits elsewhere: the names of
    /// the enclosing `let`/`loop` and branch, then the node's own name.
    pub id: String,
    pub name: String,
    pub kind: NodeKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub doc: Option<String>,
    /// The declared output type (`let`: the declared or written value).
    #[serde(rename = "type")]
    pub ty: Option<String>,
    /// Where it sits: the enclosing `let` or `loop` and the branch
    /// (`simple`, `_`, `then`, `else`, `each`, `body`); `null` at the top.
    pub parent: Option<Parent>,
    /// Nodes whose outputs this one reads.
    pub deps: Vec<String>,
    /// Nodes it must wait for without reading them (`after`).
    pub after: Vec<String>,
    /// The `when` guard, as written.
    pub guard: Option<String>,
    /// Models tried in order, for LLM steps (and the model of an agent).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub attempts: Vec<AttemptPlan>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    /// For steps that do work: retries, timeouts, degradation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy: Option<Policy>,
    /// For `call`: the workflow called.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub calls: Option<String>,
    #[serde(rename = "loop", skip_serializing_if = "Option::is_none")]
    pub loop_plan: Option<LoopPlan>,
    /// For a `let` whose value is a `for`: the fan-out.
    #[serde(rename = "for", skip_serializing_if = "Option::is_none")]
    pub fan_out: Option<ForPlan>,
    /// For a `let` whose value is a `match`: what it matches on.
    #[serde(rename = "match", skip_serializing_if = "Option::is_none")]
    pub matches: Option<String>,
    /// The node's expressions as written (prompt, checks, a `let`'s value),
    /// printed: with the rest of the node, what [`NodePlan::fingerprint`]
    /// covers, so that `resume` can tell whether a completed node changed.
    #[serde(skip)]
    pub source: String,
    /// [`NodePlan::compute_fingerprint`], computed once when lowered.
    #[serde(skip)]
    pub fingerprint: String,
}

impl NodePlan {
    /// A hash of everything that decides what the node does.
    pub fn compute_fingerprint(&self) -> String {
        let shape = serde_json::to_string(self).unwrap_or_default();
        fingerprint(format!("{shape}\n{}", self.source).as_bytes())
    }
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Parent {
    pub id: String,
    pub branch: String,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct AttemptPlan {
    pub model: String,
    pub provider: String,
    /// The provider's model name (`claude-sonnet-4-20250514`), if given.
    pub name: Option<String>,
    /// The environment variable holding its API key, if it needs one (the
    /// variable's name, never its value).
    pub key_env: Option<String>,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Policy {
    pub retry: RetryPlan,
    /// One attempt; `null`: no limit (a question to a person).
    pub timeout_ms: Option<u64>,
    /// All attempts together; `null`: only the workflow's deadline applies.
    pub deadline_ms: Option<u64>,
    /// The value used when every attempt failed, as written.
    pub on_error: Option<String>,
    pub cache: bool,
    /// `fresh`, `all`, `[a, b]` or `summarized(…)`.
    pub context: String,
    pub checks: Vec<String>,
    pub compensate: bool,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct RetryPlan {
    /// The named policy it comes from, if any.
    pub policy: Option<String>,
    pub attempts: u64,
    pub backoff: Backoff,
    pub jitter: String,
    pub on: Vec<String>,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Backoff {
    Exponential {
        base_ms: u64,
        factor: f64,
        max_ms: u64,
    },
    Constant {
        delay_ms: u64,
    },
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct LoopPlan {
    pub max: u64,
    pub best_by: Option<String>,
    pub until: Option<String>,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ForPlan {
    pub var: String,
    pub source: String,
    pub concurrency: u64,
    /// The share of items allowed to fail, 0 to 1.
    pub tolerate: f64,
}

/// The id prefix of the steps in `branch` of composite `id`:
/// `code.simple.` for the `simple` arm of `let code = match …`.
pub fn branch_prefix(id: &str, branch: &str) -> String {
    format!("{id}.{}.", branch.replace([' ', '|', '"'], "_"))
}

/// The plan node id of a run-time id: a `for` item's steps run as
/// `results.each[3].summary`, one id per item, for the record and the
/// journal; the plan knows them as `results.each.summary`.
pub fn plan_id(id: &str) -> std::borrow::Cow<'_, str> {
    if !id.contains('[') {
        return std::borrow::Cow::Borrowed(id);
    }
    let mut out = String::with_capacity(id.len());
    let mut rest = id;
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
    std::borrow::Cow::Owned(out)
}

/// How many composites (`let` with blocks, `loop`) enclose `node`.
pub fn depth(workflow: &WorkflowPlan, node: &NodePlan) -> usize {
    let mut depth = 0;
    let mut parent = node.parent.as_ref();
    while let Some(p) = parent {
        depth += 1;
        parent = workflow
            .nodes
            .iter()
            .find(|n| n.id == p.id)
            .and_then(|n| n.parent.as_ref());
    }
    depth
}

/// FNV-1a, 64 bits: a stable fingerprint of the plan (not a security
/// hash; it tells "changed" from "unchanged").
pub fn fingerprint(bytes: &[u8]) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in bytes {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("fnv1a64:{hash:016x}")
}

#[cfg(test)]
mod plan_id_tests {
    use super::plan_id;

    #[test]
    fn item_indexes_are_dropped() {
        assert_eq!(plan_id("results.each[3].summary"), "results.each.summary");
        assert_eq!(plan_id("a.each[1].b.each[22].c"), "a.each.b.each.c");
        assert_eq!(plan_id("plain.id"), "plain.id");
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
