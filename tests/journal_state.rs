//! The journal's own state, through the real binary: who owns a running
//! run beyond its PID and `resume --force`, a read-only state database
//! still read, a full disk stopping a run at its first failed write,
//! `stats`, and a journal of the previous release.

// A test fails by panicking; `expect` says where and why.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod support;

use std::path::Path;
use std::process::{Command, Output};

use serde_json::{json, Value};
use support::binary::{folder, spesc, stderr};
use support::journal::{show, TWO_STEPS};

/// Marks the last run `running`, owned by `pid` as `stamp` names it.
fn owned_by(dir: &Path, pid: u32, stamp: &str) {
    let db = rusqlite::Connection::open(dir.join(".spes/state.db")).unwrap();
    db.execute(
        "UPDATE runs SET status = 'running', owner = ?1, owner_stamp = ?2",
        rusqlite::params![pid, stamp],
    )
    .unwrap();
}

/// A PID is reused after its process dies: a run is owned by the PID with
/// the boot and the moment its process started, so a run whose owner is
/// gone shows as interrupted and resumes, whoever has its PID now; a
/// living owner is taken over only with `--force`, and a warning.
#[test]
fn an_owner_is_known_beyond_its_pid_and_force_takes_a_run_over() {
    let dir = folder("owner");
    std::fs::write(dir.join("two.spes"), TWO_STEPS).unwrap();
    std::fs::write(dir.join("fail.json"), r#"{"second": [{"status": 401}]}"#).unwrap();
    let run = [
        "run",
        "two.spes",
        "--input",
        "topic=x",
        "--mock-script",
        "fail.json",
        "-q",
    ];
    assert_eq!(spesc(&dir, &run).status.code(), Some(1));

    // Our own PID, but a process that started at another time: the owner
    // is gone, and its PID now names someone else.
    owned_by(&dir, std::process::id(), "another-boot/12345");
    let listed = spesc(&dir, &["runs"]);
    assert!(
        String::from_utf8_lossy(&listed.stdout).contains("interrupted"),
        "{}",
        String::from_utf8_lossy(&listed.stdout)
    );
    assert_eq!(show(&dir, "last")["status"], "interrupted");
    for (status, listed) in [("interrupted", true), ("running", false)] {
        let found = spesc(&dir, &["runs", "--status", status]);
        let out = String::from_utf8_lossy(&found.stdout).into_owned();
        assert_eq!(
            out.contains("interrupted"),
            listed,
            "--status {status}: {out}"
        );
    }
    let resumed = spesc(&dir, &["resume", "last", "-q"]);
    assert_eq!(resumed.status.code(), Some(0), "{}", stderr(&resumed));

    // A living owner (this test process, named as it is) keeps its run…
    assert_eq!(spesc(&dir, &run).status.code(), Some(1));
    owned_by(&dir, std::process::id(), &spesc::journal::owner::me());
    assert_eq!(show(&dir, "last")["status"], "running");
    let refused = spesc(&dir, &["resume", "last"]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(stderr(&refused).contains("--force"), "{}", stderr(&refused));
    // …unless taken over on purpose.
    let forced = spesc(&dir, &["resume", "last", "--force", "-q"]);
    assert_eq!(forced.status.code(), Some(0), "{}", stderr(&forced));
    assert!(
        stderr(&forced).contains("warning: took run") && stderr(&forced).contains("still runs"),
        "{}",
        stderr(&forced)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `spesc args` in `dir` as a user who cannot write there. Root can write
/// anywhere, so as root it runs as `nobody`.
fn as_reader(dir: &Path, args: &[&str]) -> Output {
    let id = Command::new("id").arg("-u").output().unwrap();
    let root = String::from_utf8_lossy(&id.stdout).trim() == "0";
    let mut command = if root {
        // The build may sit where `nobody` cannot reach (under /root): a
        // link to the binary beside the files it reads can be reached.
        let binary = dir.join("spesc-reader");
        if !binary.exists() && std::fs::hard_link(env!("CARGO_BIN_EXE_spesc"), &binary).is_err() {
            std::fs::copy(env!("CARGO_BIN_EXE_spesc"), &binary).unwrap();
        }
        let mut c = Command::new("runuser");
        c.args(["-u", "nobody", "--"]).arg(binary);
        c
    } else {
        Command::new(env!("CARGO_BIN_EXE_spesc"))
    };
    command.args(args).current_dir(dir).env("NO_COLOR", "1");
    command.output().unwrap()
}

/// The journal of a finished batch may sit where it cannot be written;
/// `runs`, `show` and `stats` still read it (they failed, trying to).
#[test]
fn a_read_only_state_database_can_still_be_read() {
    use std::os::unix::fs::PermissionsExt;
    let dir = folder("read-only");
    std::fs::write(dir.join("two.spes"), TWO_STEPS).unwrap();
    let ran = spesc(&dir, &["run", "two.spes", "--input", "topic=x", "-q"]);
    assert_eq!(ran.status.code(), Some(0), "{}", stderr(&ran));
    let state = dir.join(".spes");
    let mode = |path: &Path, mode| {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap()
    };
    mode(&state.join("state.db"), 0o444);
    mode(&state, 0o555);
    mode(&dir, 0o755);
    for args in [
        &["runs"][..],
        &["show", "last"],
        &["show", "last", "--json"],
        &["stats"],
    ] {
        let output = as_reader(&dir, args);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{args:?}: {}",
            stderr(&output)
        );
        assert!(
            String::from_utf8_lossy(&output.stdout).contains("two"),
            "{args:?}"
        );
    }
    let stats = String::from_utf8_lossy(&as_reader(&dir, &["stats"]).stdout).into_owned();
    assert!(
        stats.starts_with("two · 1 run · 100% succeeded\n"),
        "{stats}"
    );
    mode(&state, 0o755);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A full disk: the journal refuses writes once it holds `nodes` nodes.
fn fill_disk_after(dir: &Path, nodes: usize) {
    let db = rusqlite::Connection::open(dir.join(".spes/state.db")).unwrap();
    db.execute_batch(&format!(
        "CREATE TRIGGER full BEFORE INSERT ON nodes WHEN (SELECT count(*) FROM nodes) >= {nodes}
         BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END;"
    ))
    .unwrap();
}

/// A run that cannot journal what it does stops at the first write that
/// fails, even where failures are tolerated (it called the model for all
/// 200 items before), and resumes once the disk has room.
#[test]
fn a_full_disk_stops_the_run_at_the_first_failed_write_and_it_resumes() {
    let dir = folder("full");
    let many = "model m { provider = mock }
workflow many(items: string[]) -> string[] {
  let out: string[] = for item in items (concurrency = 1, tolerate = 100%) {
    step s: string { model = m  prompt = \"On {{ item }}\" }
    s
  }
  return out
}
";
    std::fs::write(dir.join("many.spes"), many).unwrap();
    let items: Vec<String> = (0..200).map(|i| format!("doc{i}")).collect();
    let input = format!("items={}", serde_json::to_string(&items).unwrap());
    let first = spesc(
        &dir,
        &["run", "many.spes", "--input", "items=[\"x\"]", "-q"],
    );
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    fill_disk_after(&dir, 3);

    let stopped = spesc(
        &dir,
        &["run", "many.spes", "--input", &input, "--events", "json"],
    );
    assert_eq!(stopped.status.code(), Some(1), "{}", stderr(&stopped));
    assert!(
        stderr(&stopped).contains("the journal could not be written")
            && stderr(&stopped).contains("database or disk is full"),
        "{}",
        stderr(&stopped)
    );
    let started = String::from_utf8_lossy(&stopped.stdout)
        .matches("\"step_started\"")
        .count();
    assert!(
        started <= 3,
        "{started} steps started after the journal failed"
    );

    let db = rusqlite::Connection::open(dir.join(".spes/state.db")).unwrap();
    db.execute_batch("DROP TRIGGER full").unwrap();
    let resumed = spesc(&dir, &["resume", "last", "-q"]);
    assert_eq!(resumed.status.code(), Some(0), "{}", stderr(&resumed));
    let out: Vec<String> = serde_json::from_slice(&resumed.stdout).unwrap();
    assert_eq!(out.len(), 200);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn stats_count_runs_successes_attempts_and_tokens() {
    let dir = folder("stats");
    std::fs::write(dir.join("two.spes"), TWO_STEPS.replace("prompt = \"Second", "retry = { attempts = 2  backoff = constant(1ms)  on = [server_error] }  prompt = \"Second")).unwrap();
    let scripts = [
        ("ok.json", "{}"),
        ("retried.json", r#"{"second": [{"status": 500}]}"#),
        (
            "failed.json",
            r#"{"second": [{"status": 500}, {"status": 500}]}"#,
        ),
    ];
    for (name, script) in scripts {
        std::fs::write(dir.join(name), script).unwrap();
    }
    for script in ["ok.json", "ok.json", "retried.json", "failed.json"] {
        spesc(
            &dir,
            &[
                "run",
                "two.spes",
                "--input",
                "topic=x",
                "--mock-script",
                script,
                "-q",
            ],
        );
    }
    let output = spesc(&dir, &["stats", "two", "--json"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let stats: Value = serde_json::from_slice(&output.stdout).unwrap();
    let two = &stats[0];
    assert_eq!(two["runs"], 4);
    assert_eq!(two["success_rate"], 0.75);
    let step = |id: &str| {
        two["steps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["id"] == id)
            .unwrap()
            .clone()
    };
    let (first, second) = (step("first"), step("second"));
    assert_eq!(
        (first["count"].clone(), first["succeeded"].clone()),
        (json!(4), json!(4))
    );
    assert_eq!(
        (second["count"].clone(), second["succeeded"].clone()),
        (json!(4), json!(3))
    );
    assert_eq!(first["mean_attempts"], 1.0);
    assert_eq!(
        second["mean_attempts"], 1.5,
        "1 + 1 + 2 + 2 attempts over 4 runs"
    );
    assert!(first["min_ms"].as_u64() <= first["median_ms"].as_u64());
    assert!(first["median_ms"].as_u64() <= first["max_ms"].as_u64());
    // The mock's tokens are the same for every run of a step.
    let first_tokens = show(&dir, "last")["nodes"][0]["tokens"].clone();
    let per_run =
        first_tokens["prompt"].as_u64().unwrap() + first_tokens["completion"].as_u64().unwrap();
    assert_eq!(first["tokens"].as_u64().unwrap(), 4 * per_run);
    let listed = spesc(&dir, &["runs", "--status", "failed"]);
    let lines: Vec<String> = String::from_utf8_lossy(&listed.stdout)
        .lines()
        .map(String::from)
        .collect();
    assert!(lines[0].starts_with("RUN  "), "a header row: {lines:?}");
    assert_eq!(lines.len(), 2, "the header and one run: {lines:?}");
    let pruned = spesc(&dir, &["runs", "prune", "--older-than", "0s"]);
    assert_eq!(pruned.status.code(), Some(0), "{}", stderr(&pruned));
    let after = spesc(&dir, &["runs"]);
    assert!(
        String::from_utf8_lossy(&after.stdout).is_empty(),
        "all pruned"
    );
    assert_eq!(stderr(&after), "no runs in the journal match\n");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A `.spes/state.db` as the previous release wrote it: the first
/// migration only, one failed run whose nodes are named the old way.
fn old_database(dir: &Path) {
    let path = dir.join(".spes/state.db");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let db = rusqlite::Connection::open(&path).unwrap();
    db.execute_batch(
        "CREATE TABLE runs (id TEXT PRIMARY KEY, workflow TEXT NOT NULL, file TEXT NOT NULL,
            source TEXT NOT NULL, inputs TEXT NOT NULL, plan_hash TEXT NOT NULL,
            mock INTEGER NOT NULL, status TEXT NOT NULL, outcome TEXT,
            started_at INTEGER NOT NULL, duration_ms INTEGER, owner INTEGER);
        CREATE INDEX runs_by_workflow ON runs (workflow, started_at);
        CREATE TABLE blobs (hash TEXT PRIMARY KEY, content TEXT NOT NULL) WITHOUT ROWID;
        CREATE TABLE nodes (run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
            seq INTEGER NOT NULL, node_id TEXT NOT NULL, fingerprint TEXT, status TEXT NOT NULL,
            attempts INTEGER NOT NULL, duration_ms INTEGER NOT NULL, error TEXT, model TEXT,
            prompt_tokens INTEGER, completion_tokens INTEGER, cost REAL, value TEXT,
            output TEXT REFERENCES blobs (hash), detail TEXT NOT NULL,
            PRIMARY KEY (run_id, seq)) WITHOUT ROWID;
        CREATE TABLE answers (run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
            step TEXT NOT NULL, answer TEXT NOT NULL, used INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (run_id, step));
        PRAGMA user_version = 1;",
    )
    .unwrap();
    let file = dir.join("two.spes").display().to_string();
    db.execute(
        "INSERT INTO runs VALUES ('r0ld', 'two', ?1, ?2, '{\"topic\":\"x\"}', 'fnv1a64:0', 1,
            'failed', '{\"status\":\"failed\",\"step\":\"second\",\"error\":\"HTTP 401\"}',
            1700000000000, 12, NULL)",
        [file.as_str(), TWO_STEPS],
    )
    .unwrap();
    db.execute(
        "INSERT INTO nodes VALUES ('r0ld', 1, 'first', NULL, 'succeeded', 1, 3, NULL, 'm', 4, 2, NULL,
            '\"Old first\"', NULL, '{}')",
        [],
    )
    .unwrap();
}

#[test]
fn a_journal_of_the_previous_release_opens_and_its_runs_are_refused_for_resume() {
    let dir = folder("migrate");
    std::fs::write(dir.join("two.spes"), TWO_STEPS).unwrap();
    old_database(&dir);
    let listed = spesc(&dir, &["runs"]);
    assert_eq!(listed.status.code(), Some(0), "{}", stderr(&listed));
    assert!(String::from_utf8_lossy(&listed.stdout).contains("r0ld"));
    let shown = show(&dir, "r0ld");
    assert_eq!(shown["status"], "failed");
    assert_eq!(shown["format"], 1);

    let refused = spesc(&dir, &["resume", "r0ld"]);
    assert_eq!(refused.status.code(), Some(2));
    let message = stderr(&refused);
    assert!(
        message.contains("journal format 1") && message.contains("start it again with `spesc run`"),
        "{message}"
    );

    let fresh = spesc(&dir, &["run", "two.spes", "--input", "topic=x", "-q"]);
    assert_eq!(
        fresh.status.code(),
        Some(0),
        "the migrated database takes new runs: {}",
        stderr(&fresh)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
