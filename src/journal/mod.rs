//! Where runs are kept: the [`RunStore`] trait and what goes through it.
//! `spesc run` opens a run, journals each node as it finishes (durably,
//! before anything that reads it starts), and closes the run; `resume`,
//! `approve`, `runs`, `show` and `stats` read it back. [`record`] is what a
//! run leaves behind, [`sqlite`] the embedded backend, [`resume`] decides
//! what a resumed run may reuse, [`stats`] aggregates runs. The trait is
//! what a shared database for workers on several machines would implement.

pub mod owner;
pub mod record;
pub mod resume;
pub mod sqlite;
pub mod stats;

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use record::{Outcome, RunRecord, StepRecord, Totals};

/// How this build names nodes in the journal: 2 since instance ids
/// (`refine[1].attempt`, `call/step`). A run journaled in another format
/// can be shown but not resumed.
pub const FORMAT: u32 = 2;

/// A run as it starts.
#[derive(Clone, Debug)]
pub struct NewRun {
    pub workflow: String,
    /// The `.spes` file run, as an absolute path: `resume` reads it again.
    pub file: String,
    /// Its text when the run started.
    pub source: String,
    pub inputs: Value,
    pub plan_hash: String,
    /// `--mock`: every model answered by the mock (a resume does the same).
    pub mock: bool,
}

/// A run as it is kept.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StoredRun {
    pub id: String,
    pub workflow: String,
    pub file: String,
    pub source: String,
    pub inputs: Value,
    pub plan_hash: String,
    /// `running`, `succeeded`, `failed` or `waiting`.
    pub status: String,
    pub outcome: Option<Outcome>,
    /// Unix time in milliseconds.
    pub started_at: u64,
    pub duration_ms: Option<u64>,
    /// The process running it now (an interrupted run keeps a dead one).
    pub owner: Option<u32>,
    /// Run with `--mock`.
    pub mock: bool,
    /// The naming of its nodes ([`FORMAT`]).
    pub format: u32,
    /// Every node journaled, in completion order, over every resume.
    pub nodes: Vec<StoredNode>,
    /// Answers given with `spesc approve`, by step.
    pub answers: Vec<(String, Value)>,
}

impl StoredRun {
    /// Tokens and cost over every node the run has paid for.
    pub fn totals(&self) -> Totals {
        let steps: Vec<StepRecord> = self.nodes.iter().map(|n| n.record.clone()).collect();
        Totals::of(&steps)
    }
}

/// A journaled node: its record and the fingerprint of its plan node.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StoredNode {
    #[serde(flatten)]
    pub record: StepRecord,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
}

/// A line of `spesc runs`.
#[derive(Clone, Debug, Serialize)]
pub struct RunSummary {
    pub id: String,
    pub workflow: String,
    pub status: String,
    pub started_at: u64,
    pub duration_ms: Option<u64>,
}

/// Which runs to list.
#[derive(Clone, Debug, Default)]
pub struct RunFilter {
    pub status: Option<String>,
    pub workflow: Option<String>,
}

pub trait RunStore: Send + Sync {
    /// Opens a run (status `running`, owned by this process) and gives its
    /// id.
    fn create(&self, run: &NewRun) -> Result<String, String>;
    /// Takes a run over for `resume`: refused while another living process
    /// runs it, unless `force`; gives that process when it was forced.
    fn claim(&self, id: &str, force: bool) -> Result<Option<u32>, String>;
    /// Journals one finished node, durably, before this returns.
    fn node(&self, run: &str, node: &StoredNode) -> Result<(), String>;
    /// Closes a run with its outcome; the owner is released.
    fn finish(&self, run: &str, record: &RunRecord) -> Result<(), String>;
    /// A run, whole; `id` may be a unique prefix, or `last`.
    fn run(&self, id: &str) -> Result<StoredRun, String>;
    /// Runs, newest first.
    fn runs(&self, filter: &RunFilter) -> Result<Vec<RunSummary>, String>;
    /// Every run of `workflow` (or of every workflow), whole, for `stats`.
    fn all(&self, workflow: Option<&str>) -> Result<Vec<StoredRun>, String>;
    /// Keeps an answer for a waiting step. An answer already given and not
    /// yet used is kept unless `replace`; gives whether this one was kept
    /// (decided in one statement, so two at once cannot both win).
    fn answer(&self, run: &str, step: &str, answer: &Value, replace: bool) -> Result<bool, String>;
    /// The answers not yet used, marked used: each answers one wait.
    fn take_answers(&self, run: &str) -> Result<Vec<(String, Value)>, String>;
    /// Deletes finished runs that started more than `age_ms` ago; gives
    /// how many.
    fn prune(&self, age_ms: u64) -> Result<usize, String>;
    /// A model call's kept answer (`cache = true`), by its key.
    fn cached(&self, key: &str) -> Result<Option<Value>, String>;
    /// Keeps a model call's answer for later runs.
    fn cache(&self, key: &str, answer: &Value) -> Result<(), String>;
}

/// What the interpreter writes to as nodes finish: one run of a store.
pub struct Journal {
    pub store: Arc<dyn RunStore>,
    pub run: String,
}

impl std::fmt::Debug for Journal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Journal({})", self.run)
    }
}

impl Journal {
    pub fn node(&self, record: &StepRecord, fingerprint: Option<String>) -> Result<(), String> {
        let node = StoredNode {
            record: record.clone(),
            fingerprint,
        };
        self.store.node(&self.run, &node)
    }
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}
