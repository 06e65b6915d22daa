//! The run journal in an embedded SQLite database (`.spes/state.db`):
//! WAL, every node committed before the interpreter goes on, a busy
//! timeout so that several `spesc` processes can share one file, outputs
//! stored once by content hash, and versioned migrations.

use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use rusqlite::{params, Connection, OpenFlags, OptionalExtension, TransactionBehavior};
use serde_json::Value;

use super::record::{Outcome, RunRecord, StepRecord, StepStatus, Tokens};
use super::{now_ms, owner, NewRun, RunFilter, RunStore, RunSummary, StoredNode, StoredRun};
use crate::plan::fingerprint;

/// The schema, one migration per version; `PRAGMA user_version` says how
/// many have been applied. Append, never edit.
const MIGRATIONS: &[&str] = &[
    "CREATE TABLE runs (
        id TEXT PRIMARY KEY,
        workflow TEXT NOT NULL,
        file TEXT NOT NULL,
        source TEXT NOT NULL,
        inputs TEXT NOT NULL,
        plan_hash TEXT NOT NULL,
        mock INTEGER NOT NULL,
        status TEXT NOT NULL,
        outcome TEXT,
        started_at INTEGER NOT NULL,
        duration_ms INTEGER,
        owner INTEGER
    );
    CREATE INDEX runs_by_workflow ON runs (workflow, started_at);
    CREATE TABLE blobs (
        hash TEXT PRIMARY KEY,
        content TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE nodes (
        run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        node_id TEXT NOT NULL,
        fingerprint TEXT,
        status TEXT NOT NULL,
        attempts INTEGER NOT NULL,
        duration_ms INTEGER NOT NULL,
        error TEXT,
        model TEXT,
        prompt_tokens INTEGER,
        completion_tokens INTEGER,
        cost REAL,
        value TEXT,
        output TEXT REFERENCES blobs (hash),
        detail TEXT NOT NULL,
        PRIMARY KEY (run_id, seq)
    ) WITHOUT ROWID;
    CREATE TABLE answers (
        run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        step TEXT NOT NULL,
        answer TEXT NOT NULL,
        used INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (run_id, step)
    );",
    // 2: instance ids (`refine[1].attempt`, `call/step`): runs say how
    // their nodes are named; model answers kept by `cache = true`.
    "ALTER TABLE runs ADD COLUMN format INTEGER NOT NULL DEFAULT 1;
    CREATE TABLE cache (
        key TEXT PRIMARY KEY,
        answer TEXT NOT NULL,
        created_at INTEGER NOT NULL
    ) WITHOUT ROWID;",
    // 3: the owner named beyond its PID, which the system reuses
    // (`journal::owner`).
    "ALTER TABLE runs ADD COLUMN owner_stamp TEXT;",
];

/// Outputs of this many bytes or more are stored once by content hash.
const LARGE: usize = 1024;

pub struct Sqlite {
    connection: Mutex<Connection>,
}

impl Sqlite {
    /// Opens (or creates) the database at `path` and brings its schema up
    /// to date.
    pub fn open(path: &Path) -> Result<Sqlite, String> {
        let failed = |e: rusqlite::Error| format!("the run database `{}`: {e}", path.display());
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("cannot create `{}`: {e}", dir.display()))?;
        }
        let mut connection = Connection::open(path).map_err(failed)?;
        connection
            .busy_timeout(Duration::from_secs(10))
            .map_err(failed)?;
        // WAL: readers never block the writer. synchronous=NORMAL in WAL
        // mode: a commit survives the process being killed (the journal
        // is in the OS's hands); only a power cut may lose the last ones.
        connection
            .execute_batch(
                "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
            )
            .map_err(failed)?;
        migrate(&mut connection).map_err(failed)?;
        Ok(Sqlite {
            connection: Mutex::new(connection),
        })
    }

    /// Opens the database to read it only, for `runs`, `show` and `stats`
    /// where the file or its folder cannot be written: the journal of a
    /// finished batch, a copy on read-only storage. A WAL database needs
    /// its `-shm` file to be read normally; without one that can be made,
    /// it is read as immutable (no locks, which nothing writing it needs).
    pub fn open_read_only(path: &Path) -> Result<Sqlite, String> {
        let failed = |e: rusqlite::Error| format!("the run database `{}`: {e}", path.display());
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_URI;
        let readable = |connection: Connection| {
            let version: i64 = connection.query_row("PRAGMA user_version", [], |r| r.get(0))?;
            Ok((connection, version))
        };
        let immutable = || {
            let escaped = path
                .to_string_lossy()
                .replace('%', "%25")
                .replace('?', "%3f")
                .replace('#', "%23");
            Connection::open_with_flags(format!("file:{escaped}?immutable=1"), flags)
                .and_then(readable)
        };
        let (connection, version) = Connection::open_with_flags(path, flags)
            .and_then(readable)
            .or_else(|_| immutable())
            .map_err(failed)?;
        if version < MIGRATIONS.len() as i64 {
            return Err(format!(
                "the run database `{}` is from an older spesc and cannot be written to \
                 upgrade it; open it once where it can be written",
                path.display()
            ));
        }
        Ok(Sqlite {
            connection: Mutex::new(connection),
        })
    }

    fn with<T>(&self, f: impl FnOnce(&mut Connection) -> rusqlite::Result<T>) -> Result<T, String> {
        let mut connection = self
            .connection
            .lock()
            .map_err(|_| "the run database is unusable".to_string())?;
        f(&mut connection).map_err(|e| format!("the run database: {e}"))
    }

    /// The full id of `id` (a unique prefix, or `last`).
    fn resolve(&self, id: &str) -> Result<String, String> {
        let found: Vec<String> = self.with(|c| {
            let (sql, pattern) = if id == "last" {
                (
                    "SELECT id FROM runs ORDER BY started_at DESC, rowid DESC LIMIT 1",
                    String::new(),
                )
            } else {
                (
                    "SELECT id FROM runs WHERE id LIKE ?1 || '%' ESCAPE '\\' ORDER BY id LIMIT 2",
                    escape(id),
                )
            };
            let mut statement = c.prepare(sql)?;
            let rows = if id == "last" {
                statement.query_map([], |r| r.get(0))?.collect()
            } else {
                statement.query_map([pattern], |r| r.get(0))?.collect()
            };
            rows
        })?;
        match found.as_slice() {
            [one] => Ok(one.clone()),
            [] => Err(format!("no run `{id}` (`spesc runs` lists them)")),
            _ => Err(format!("`{id}` names several runs; give more of the id")),
        }
    }

    fn nodes(&self, run: &str) -> Result<Vec<StoredNode>, String> {
        self.with(|c| {
            let mut statement = c.prepare(
                "SELECT node_id, fingerprint, status, attempts, nodes.duration_ms, error, model,
                        prompt_tokens, completion_tokens, cost, COALESCE(value, blobs.content), detail
                 FROM nodes LEFT JOIN blobs ON blobs.hash = nodes.output
                 WHERE run_id = ?1 ORDER BY seq",
            )?;
            let rows = statement.query_map([run], |r| {
                let detail: Detail =
                    serde_json::from_str(&r.get::<_, String>(11)?).unwrap_or_default();
                let tokens = match (r.get::<_, Option<i64>>(7)?, r.get::<_, Option<i64>>(8)?) {
                    (Some(prompt), Some(completion)) => Some(Tokens {
                        prompt: prompt as u64,
                        completion: completion as u64,
                    }),
                    _ => None,
                };
                Ok(StoredNode {
                    fingerprint: r.get(1)?,
                    record: StepRecord {
                        id: r.get(0)?,
                        status: status_of(&r.get::<_, String>(2)?),
                        attempts: r.get::<_, i64>(3)? as u64,
                        duration_ms: r.get::<_, i64>(4)? as u64,
                        waited_ms: detail.waited_ms,
                        iterations: detail.iterations,
                        error: r.get(5)?,
                        model: r.get(6)?,
                        repairs: detail.repairs,
                        retried: detail.retried,
                        prompt: detail.prompt,
                        cached: detail.cached,
                        tokens,
                        cost: r.get(9)?,
                        output: r
                            .get::<_, Option<String>>(10)?
                            .and_then(|text| serde_json::from_str(&text).ok()),
                    },
                })
            })?;
            rows.collect()
        })
    }
}

/// What a node keeps besides its columns.
#[derive(Default, serde::Serialize, serde::Deserialize)]
struct Detail {
    #[serde(default)]
    repairs: Vec<String>,
    #[serde(default)]
    retried: Vec<String>,
    #[serde(default)]
    prompt: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    cached: bool,
    /// Kept here rather than in a column of its own: only `show` and
    /// `stats` read it.
    #[serde(default)]
    waited_ms: u64,
    #[serde(default)]
    iterations: Option<u64>,
}

fn migrate(connection: &mut Connection) -> rusqlite::Result<()> {
    let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let version: i64 = transaction.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    for (n, migration) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        transaction.execute_batch(migration)?;
        transaction.execute_batch(&format!("PRAGMA user_version = {}", n + 1))?;
    }
    transaction.commit()
}

fn escape(prefix: &str) -> String {
    prefix
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

fn status_of(name: &str) -> StepStatus {
    serde_json::from_value(Value::from(name)).unwrap_or(StepStatus::Failed)
}

fn outcome_status(outcome: &Outcome) -> &'static str {
    match outcome {
        Outcome::Succeeded { .. } => "succeeded",
        Outcome::Failed { .. } => "failed",
        Outcome::Waiting { .. } => "waiting",
        Outcome::Interrupted => "interrupted",
    }
}

/// The status to show: a run left `running` by an owner that is gone was
/// interrupted, whatever the row says.
fn shown_status(status: String, owner: Option<u32>, stamp: Option<&str>) -> String {
    match owner {
        Some(pid) if status == "running" && !owner::alive(pid, stamp) => "interrupted".to_string(),
        _ => status,
    }
}

impl RunStore for Sqlite {
    fn create(&self, run: &NewRun) -> Result<String, String> {
        let inputs = run.inputs.to_string();
        self.with(|c| {
            let started = now_ms();
            let base = format!("{}-{}", started / 1000, std::process::id());
            // Two runs started by one process in one second: `-1`, `-2`, …
            let mut n = 0;
            loop {
                let id = if n == 0 { base.clone() } else { format!("{base}-{n}") };
                n += 1;
                let inserted = c.execute(
                    "INSERT OR IGNORE INTO runs (id, workflow, file, source, inputs, plan_hash, mock, status, started_at, owner, format, owner_stamp)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'running', ?8, ?9, ?10, ?11)",
                    params![id, run.workflow, run.file, run.source, inputs, run.plan_hash, run.mock, started as i64, std::process::id(), super::FORMAT, owner::me()],
                )?;
                if inserted == 1 {
                    return Ok(id);
                }
            }
        })
    }

    fn claim(&self, id: &str, force: bool) -> Result<Option<u32>, String> {
        let me = std::process::id();
        let (owner, taken) = self.with(|c| {
            let transaction = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let (owner, stamp): (Option<u32>, Option<String>) = transaction
                .query_row("SELECT owner, owner_stamp FROM runs WHERE id = ?1", [id], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
                .optional()?
                .unwrap_or_default();
            let living = owner.filter(|&pid| pid != me && owner::alive(pid, stamp.as_deref()));
            if living.is_none() || force {
                transaction.execute(
                    "UPDATE runs SET owner = ?1, owner_stamp = ?2, status = 'running' WHERE id = ?3",
                    params![me, owner::me(), id],
                )?;
            }
            transaction.commit()?;
            Ok((living, force))
        })?;
        match owner {
            Some(pid) if !taken => Err(format!(
                "run `{id}` is being run by process {pid}; wait for it to stop, \
                 or take it over with `spesc resume --force`"
            )),
            owner => Ok(owner),
        }
    }

    fn node(&self, run: &str, node: &StoredNode) -> Result<(), String> {
        let record = &node.record;
        let detail = serde_json::to_string(&Detail {
            repairs: record.repairs.clone(),
            retried: record.retried.clone(),
            prompt: record.prompt.clone(),
            cached: record.cached,
            waited_ms: record.waited_ms,
            iterations: record.iterations,
        })
        .map_err(|e| e.to_string())?;
        let output = record.output.as_ref().map(Value::to_string);
        self.with(|c| {
            let transaction = c.transaction()?;
            // Small outputs stay in their row; large ones are stored once
            // by content hash (a fan-out often repeats them).
            let (value, hash) = match output {
                Some(text) if text.len() >= LARGE => {
                    let hash = fingerprint(text.as_bytes());
                    transaction.execute(
                        "INSERT OR IGNORE INTO blobs (hash, content) VALUES (?1, ?2)",
                        params![hash, text],
                    )?;
                    (None, Some(hash))
                }
                small => (small, None),
            };
            transaction.execute(
                "INSERT INTO nodes (run_id, seq, node_id, fingerprint, status, attempts, duration_ms, error, model,
                                    prompt_tokens, completion_tokens, cost, value, output, detail)
                 VALUES (?1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM nodes WHERE run_id = ?1),
                         ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
                params![
                    run,
                    record.id,
                    node.fingerprint,
                    record.status.name(),
                    record.attempts as i64,
                    record.duration_ms as i64,
                    record.error,
                    record.model,
                    record.tokens.map(|t| t.prompt as i64),
                    record.tokens.map(|t| t.completion as i64),
                    record.cost,
                    value,
                    hash,
                    detail
                ],
            )?;
            transaction.commit()
        })
    }

    fn finish(&self, run: &str, record: &RunRecord) -> Result<(), String> {
        let outcome = serde_json::to_string(&record.outcome).map_err(|e| e.to_string())?;
        self.with(|c| {
            c.execute(
                "UPDATE runs SET status = ?1, outcome = ?2, owner = NULL,
                    duration_ms = COALESCE(duration_ms, 0) + ?3 WHERE id = ?4",
                params![
                    outcome_status(&record.outcome),
                    outcome,
                    record.duration_ms as i64,
                    run
                ],
            )
            .map(|_| ())
        })
    }

    fn run(&self, id: &str) -> Result<StoredRun, String> {
        let id = self.resolve(id)?;
        let mut run = self.with(|c| {
            c.query_row(
                "SELECT id, workflow, file, source, inputs, plan_hash, status, outcome, started_at, duration_ms, owner, mock, format, owner_stamp
                 FROM runs WHERE id = ?1",
                [&id],
                |r| {
                    Ok(StoredRun {
                        id: r.get(0)?,
                        workflow: r.get(1)?,
                        file: r.get(2)?,
                        source: r.get(3)?,
                        inputs: serde_json::from_str(&r.get::<_, String>(4)?).unwrap_or(Value::Null),
                        plan_hash: r.get(5)?,
                        status: shown_status(
                            r.get(6)?,
                            r.get(10)?,
                            r.get::<_, Option<String>>(13)?.as_deref(),
                        ),
                        outcome: r
                            .get::<_, Option<String>>(7)?
                            .and_then(|text| serde_json::from_str(&text).ok()),
                        started_at: r.get::<_, i64>(8)? as u64,
                        duration_ms: r.get::<_, Option<i64>>(9)?.map(|ms| ms as u64),
                        owner: r.get(10)?,
                        mock: r.get(11)?,
                        format: r.get(12)?,
                        nodes: Vec::new(),
                        answers: Vec::new(),
                    })
                },
            )
        })?;
        run.nodes = self.nodes(&id)?;
        run.answers = self.with(|c| {
            let mut statement = c.prepare("SELECT step, answer FROM answers WHERE run_id = ?1")?;
            let rows = statement.query_map([&id], |r| {
                let answer: String = r.get(1)?;
                Ok((
                    r.get(0)?,
                    serde_json::from_str(&answer).unwrap_or(Value::Null),
                ))
            })?;
            rows.collect()
        })?;
        Ok(run)
    }

    fn runs(&self, filter: &RunFilter) -> Result<Vec<RunSummary>, String> {
        self.with(|c| {
            let mut statement = c.prepare(
                // A row that says `running` may show as interrupted: it is
                // selected for either, and told apart below.
                "SELECT id, workflow, status, started_at, duration_ms, owner, owner_stamp FROM runs
                 WHERE (?1 IS NULL OR status = ?1 OR (?1 = 'interrupted' AND status = 'running'))
                   AND (?2 IS NULL OR workflow = ?2)
                 ORDER BY started_at DESC, rowid DESC",
            )?;
            let rows = statement.query_map(params![filter.status, filter.workflow], |r| {
                Ok(RunSummary {
                    id: r.get(0)?,
                    workflow: r.get(1)?,
                    status: shown_status(
                        r.get(2)?,
                        r.get(5)?,
                        r.get::<_, Option<String>>(6)?.as_deref(),
                    ),
                    started_at: r.get::<_, i64>(3)? as u64,
                    duration_ms: r.get::<_, Option<i64>>(4)?.map(|ms| ms as u64),
                })
            })?;
            let wanted = |run: &RunSummary| filter.status.as_ref().is_none_or(|s| *s == run.status);
            rows.filter(|run| run.as_ref().map_or(true, wanted))
                .collect()
        })
    }

    fn all(&self, workflow: Option<&str>) -> Result<Vec<StoredRun>, String> {
        let filter = RunFilter {
            workflow: workflow.map(String::from),
            ..RunFilter::default()
        };
        self.runs(&filter)?
            .iter()
            .map(|summary| self.run(&summary.id))
            .collect()
    }

    fn answer(&self, run: &str, step: &str, answer: &Value, replace: bool) -> Result<bool, String> {
        self.with(|c| {
            c.execute(
                "INSERT INTO answers (run_id, step, answer, used) VALUES (?1, ?2, ?3, 0)
                 ON CONFLICT (run_id, step) DO UPDATE SET answer = excluded.answer, used = 0
                 WHERE answers.used = 1 OR ?4",
                params![run, step, answer.to_string(), replace],
            )
            .map(|changed| changed == 1)
        })
    }

    fn take_answers(&self, run: &str) -> Result<Vec<(String, Value)>, String> {
        self.with(|c| {
            let transaction = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let answers: Vec<(String, String)> = {
                let mut statement = transaction
                    .prepare("SELECT step, answer FROM answers WHERE run_id = ?1 AND used = 0")?;
                let rows = statement.query_map([run], |r| Ok((r.get(0)?, r.get(1)?)))?;
                rows.collect::<rusqlite::Result<_>>()?
            };
            transaction.execute("UPDATE answers SET used = 1 WHERE run_id = ?1", [run])?;
            transaction.commit()?;
            Ok(answers
                .into_iter()
                .map(|(step, answer)| (step, serde_json::from_str(&answer).unwrap_or(Value::Null)))
                .collect())
        })
    }

    fn prune(&self, age_ms: u64) -> Result<usize, String> {
        let before = now_ms().saturating_sub(age_ms);
        self.with(|c| {
            let transaction = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let pruned = transaction.execute(
                "DELETE FROM runs WHERE started_at < ?1 AND status != 'running'",
                [before as i64],
            )?;
            transaction.execute(
                "DELETE FROM blobs WHERE hash NOT IN (SELECT output FROM nodes WHERE output IS NOT NULL)",
                [],
            )?;
            transaction.commit()?;
            Ok(pruned)
        })
    }

    fn cached(&self, key: &str) -> Result<Option<Value>, String> {
        let answer: Option<String> = self.with(|c| {
            c.query_row("SELECT answer FROM cache WHERE key = ?1", [key], |r| {
                r.get(0)
            })
            .optional()
        })?;
        Ok(answer.and_then(|text| serde_json::from_str(&text).ok()))
    }

    fn cache(&self, key: &str, answer: &Value) -> Result<(), String> {
        self.with(|c| {
            c.execute(
                "INSERT OR REPLACE INTO cache (key, answer, created_at) VALUES (?1, ?2, ?3)",
                params![key, answer.to_string(), now_ms() as i64],
            )
            .map(|_| ())
        })
    }
}
