//! The record of a run: what ran, how often, how long, and how it ended.
//! Journaled node by node into the run database (`sqlite.rs`) and shown by
//! `spesc show`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use crate::lang::model::Tokens;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StepStatus {
    Succeeded,
    /// Its `when` guard was false.
    Skipped,
    /// Every attempt failed and `on_error` gave its value.
    Degraded,
    Failed,
    Waiting,
    /// A test's `given` stood in for it.
    Given,
    /// Undone by its `compensate` command after the run failed.
    Compensated,
    /// Completed before the run was resumed: its output came from the
    /// journal, and nothing was called again.
    Resumed,
}

impl StepStatus {
    /// Its name, as JSON and the journal write it.
    pub fn name(self) -> &'static str {
        match self {
            StepStatus::Succeeded => "succeeded",
            StepStatus::Skipped => "skipped",
            StepStatus::Degraded => "degraded",
            StepStatus::Failed => "failed",
            StepStatus::Waiting => "waiting",
            StepStatus::Given => "given",
            StepStatus::Compensated => "compensated",
            StepStatus::Resumed => "resumed",
        }
    }

    /// The mark the progress lines and timelines show.
    pub fn mark(self) -> &'static str {
        match self {
            StepStatus::Succeeded | StepStatus::Given => "✓",
            StepStatus::Skipped => "-",
            StepStatus::Degraded => "~",
            StepStatus::Failed => "✗",
            StepStatus::Waiting => "?",
            StepStatus::Compensated => "↺",
            StepStatus::Resumed => "⟳",
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StepRecord {
    pub id: String,
    pub status: StepStatus,
    pub attempts: u64,
    /// Its own work: from when its inputs were ready to when it ended.
    pub duration_ms: u64,
    /// How long it waited for its inputs (the steps it reads, `after`)
    /// before it started: not part of `duration_ms`.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub waited_ms: u64,
    /// A `loop`'s iterations (its `attempts` are 0: its steps have theirs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iterations: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The model that answered (LLM steps).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// What reading the step's text as its type repaired (`runtime::reading`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub repairs: Vec<String>,
    /// Why each earlier attempt was rejected (fed back to the model when
    /// the reply was invalid).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub retried: Vec<String>,
    /// The prompt of the answered call (LLM steps).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prompt: Option<String>,
    /// Tokens of the answered call: as the provider counted them, or, for
    /// the mock, estimated at four characters per token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tokens: Option<Tokens>,
    /// What the call cost, from the model's `price` (per million tokens).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost: Option<f64>,
    /// The step's value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<Value>,
    /// Its answer came from the cache of an earlier run (`cache = true`):
    /// no model was called.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub cached: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "lowercase", tag = "status")]
pub enum Outcome {
    Succeeded {
        output: Value,
    },
    Failed {
        step: String,
        error: String,
    },
    Waiting {
        step: String,
        question: String,
    },
    /// Stopped by Ctrl-C; resumable.
    Interrupted,
}

#[derive(Clone, Debug, Serialize)]
pub struct RunRecord {
    pub id: String,
    pub workflow: String,
    pub plan_hash: String,
    pub inputs: Value,
    #[serde(flatten)]
    pub outcome: Outcome,
    pub duration_ms: u64,
    /// Tokens and cost over every step.
    pub totals: Totals,
    pub steps: Vec<StepRecord>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Totals {
    pub tokens: Tokens,
    /// `null` when no model used declares a `price`.
    pub cost: Option<f64>,
}

impl Totals {
    pub fn of(steps: &[StepRecord]) -> Totals {
        let mut totals = Totals::default();
        for step in steps {
            if let Some(tokens) = step.tokens {
                totals.tokens.prompt += tokens.prompt;
                totals.tokens.completion += tokens.completion;
            }
            if let Some(cost) = step.cost {
                totals.cost = Some(totals.cost.unwrap_or(0.0) + cost);
            }
        }
        totals
    }
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}
