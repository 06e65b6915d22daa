//! `spesc run --mock-script FILE`: scripted answers and failures that make
//! the mock (or any model under `--mock`) fail on purpose, per step.

use std::collections::{HashMap, VecDeque};

use serde::Deserialize;
use serde_json::Value;

use super::CallError;

/// One scripted answer of the mock: a reply (`text`, or `json` written as
/// text), an HTTP failure (`status`, with `retry_after` seconds), or a call
/// that never answers (`timeout`). `model` limits it to calls of that model.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ScriptEntry {
    pub text: Option<String>,
    pub json: Option<Value>,
    pub status: Option<u16>,
    pub retry_after: Option<f64>,
    #[serde(default)]
    pub timeout: bool,
    pub model: Option<String>,
}

/// What the mock does instead of its own reply.
pub enum Scripted {
    Reply(String),
    Fail(CallError),
    Hang,
}

impl ScriptEntry {
    pub fn outcome(&self) -> Scripted {
        if self.timeout {
            return Scripted::Hang;
        }
        if let Some(status) = self.status {
            let retry_after_ms = self.retry_after.map(|s| (s * 1000.0) as u64);
            return Scripted::Fail(match status {
                429 => CallError::RateLimit { retry_after_ms },
                500..=599 => CallError::Server(format!("HTTP {status}")),
                other => CallError::Permanent(format!("HTTP {other}")),
            });
        }
        match (&self.text, &self.json) {
            (Some(text), _) => Scripted::Reply(text.clone()),
            (None, Some(json)) => Scripted::Reply(json.to_string()),
            (None, None) => Scripted::Reply(String::new()),
        }
    }
}

/// Scripted entries by step (id or name), consumed in order.
#[derive(Clone, Debug, Default)]
pub struct Script {
    steps: HashMap<String, VecDeque<ScriptEntry>>,
}

impl Script {
    /// Reads `{"step": [entry, …], …}`.
    pub fn parse(text: &str) -> Result<Script, String> {
        let steps: HashMap<String, VecDeque<ScriptEntry>> =
            serde_json::from_str(text).map_err(|e| format!("not a mock script: {e}"))?;
        Ok(Script { steps })
    }

    /// The next entry for a call of `model` by the instance `id`: entries
    /// for that instance (`summaries.each[1].summary`) first, then for its
    /// node (`summaries.each.summary`), then for its name (`summary`).
    pub fn next(&mut self, id: &str, model: &str) -> Option<ScriptEntry> {
        let node = crate::plan::instance::plan_id(id).into_owned();
        let name = id.rsplit(['.', '/']).next().unwrap_or(id).to_string();
        for key in [id, node.as_str(), name.as_str()] {
            let Some(queue) = self.steps.get_mut(key) else {
                continue;
            };
            let wanted = queue
                .iter()
                .position(|e| e.model.as_deref().is_none_or(|m| m == model));
            if let Some(at) = wanted {
                return queue.remove(at);
            }
        }
        None
    }

    /// The script's keys that name no step of `plan`: not a step's name,
    /// node id, or instance id (a node id with item or iteration numbers).
    pub fn unknown_keys(&self, plan: &crate::plan::Plan) -> Vec<String> {
        let nodes: Vec<&crate::plan::Node> =
            plan.workflows.iter().flat_map(|w| w.nodes.iter()).collect();
        let known = |key: &str| {
            let node = crate::plan::instance::plan_id(key);
            let inner = node.rsplit('/').next().unwrap_or(&node);
            nodes.iter().any(|n| n.name == key || n.id == inner)
        };
        let mut unknown: Vec<String> = self.steps.keys().filter(|k| !known(k)).cloned().collect();
        unknown.sort();
        unknown
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_are_consumed_in_order_and_per_model() {
        let mut script = Script::parse(
            r#"{"draft": [{"status": 429, "retry_after": 0.5}, {"text": "ok", "model": "b"}, {"text": "any"}]}"#,
        )
        .expect("valid");
        let first = script.next("draft", "a").expect("an entry");
        assert!(matches!(
            first.outcome(),
            Scripted::Fail(CallError::RateLimit {
                retry_after_ms: Some(500)
            })
        ));
        assert_eq!(
            script.next("draft", "a").and_then(|e| e.text),
            Some("any".into())
        );
        assert_eq!(
            script.next("x.draft", "b").and_then(|e| e.text),
            Some("ok".into())
        );
        assert!(script.next("draft", "a").is_none());
        let mut items = Script::parse(
            r#"{"s.each[1].summary": [{"text": "one"}], "summary": [{"text": "any"}]}"#,
        )
        .expect("valid");
        assert_eq!(
            items.next("s.each[0].summary", "a").and_then(|e| e.text),
            Some("any".into())
        );
        assert_eq!(
            items.next("s.each[1].summary", "a").and_then(|e| e.text),
            Some("one".into())
        );
        assert!(
            Script::parse(r#"{"s": [{"stauts": 500}]}"#).is_err(),
            "typos are refused"
        );
    }
}
