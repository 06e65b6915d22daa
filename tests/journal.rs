//! Durable runs, end to end through the real binary: a run killed with
//! SIGKILL at every step boundary is resumed without calling a completed
//! step again; approvals, plan changes, two processes at once, `stats`.

// A test fails by panicking; `expect` says where and why.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::{Answer, Server};

/// A fresh folder for a test's files and journal.
fn folder(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("spesc-journal-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn command(dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_spesc"));
    command.args(args).current_dir(dir).env("NO_COLOR", "1");
    command
}

fn spesc(dir: &Path, args: &[&str]) -> Output {
    command(dir, args).output().expect("spesc runs")
}

/// `spesc` running in the background, its output discarded.
fn start(dir: &Path, args: &[&str]) -> Child {
    command(dir, args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spesc starts")
}

/// SIGKILL: the process gets no chance to clean up.
fn kill(mut running: Child) {
    running.kill().unwrap();
    running.wait().unwrap();
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn show(dir: &Path, run: &str) -> Value {
    let output = spesc(dir, &["show", run, "--json"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    serde_json::from_slice(&output.stdout).expect("the run as JSON")
}

/// A completion whose text is `text`.
fn reply(text: &str) -> Answer {
    Answer::json(
        200,
        json!({"choices": [{"index": 0, "message": {"role": "assistant", "content": text},
            "finish_reason": "stop"}], "usage": {"prompt_tokens": 10, "completion_tokens": 2}})
        .to_string(),
    )
}

/// Five steps, each reading the one before, on the server at `url`.
fn five_steps(url: &str) -> String {
    let mut text = format!(
        "model m {{ provider = openai  name = \"tiny\"  base_url = \"{url}/v1\" }}\n\nworkflow five(topic: string) -> string {{\n  step s1: string {{ model = m  prompt = \"Step 1 on {{{{ topic }}}}\" }}\n"
    );
    for n in 2..=5 {
        text.push_str(&format!(
            "  step s{n}: string {{ model = m  prompt = \"Step {n} after {{{{ s{} }}}}\" }}\n",
            n - 1
        ));
    }
    text.push_str("  return s5\n}\n");
    text
}

/// Which step each request the server saw was for.
fn steps_asked(server: &Server) -> Vec<u32> {
    server
        .seen()
        .iter()
        .map(|r| {
            let prompt = r.body["messages"][0]["content"]
                .as_str()
                .unwrap_or_default();
            prompt[5..6].parse().expect("`Step N …`")
        })
        .collect()
}

/// Waits until the server has seen `n` requests.
fn wait_for(server: &Server, n: usize) {
    let start = Instant::now();
    while server.seen().len() < n {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "only {} requests came",
            server.seen().len()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn a_run_killed_at_any_step_boundary_resumes_without_calling_a_completed_step_again() {
    for done in 0..5 {
        let dir = folder(&format!("kill{done}"));
        // Steps 1..=done answer; the next one is held until the kill.
        let mut answers: Vec<Answer> = (1..=done).map(|n| reply(&format!("R{n}"))).collect();
        answers.push(Answer::Slow(
            Duration::from_secs(60),
            Box::new(reply("too late")),
        ));
        answers.extend((done + 1..=5).map(|n| reply(&format!("R{n}"))));
        let server = Server::start(answers);
        std::fs::write(dir.join("five.spes"), five_steps(&server.url)).unwrap();

        let running = start(&dir, &["run", "five.spes", "--input", "topic=x", "-q"]);
        wait_for(&server, done + 1);
        kill(running);

        let killed = show(&dir, "last");
        // Its row still says `running`; its owner is gone, so it shows as
        // what it is.
        assert_eq!(killed["status"], "interrupted", "killed mid-run");
        let journaled: Vec<&str> = killed["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["id"].as_str().unwrap())
            .collect();
        let expected: Vec<String> = (1..=done).map(|n| format!("s{n}")).collect();
        assert_eq!(
            journaled, expected,
            "every completed step is in the journal"
        );

        let resumed = spesc(&dir, &["resume", "last", "-q"]);
        assert_eq!(resumed.status.code(), Some(0), "{}", stderr(&resumed));
        let result: Value = serde_json::from_slice(&resumed.stdout).unwrap();
        assert_eq!(result, json!("R5"));
        let after_kill = &steps_asked(&server)[done + 1..];
        let remaining: Vec<u32> = (done as u32 + 1..=5).collect();
        assert_eq!(
            after_kill, remaining,
            "killed after {done} steps: only the rest were called"
        );
        let finished = show(&dir, "last");
        assert_eq!(finished["status"], "succeeded");
        assert_eq!(
            finished["totals"]["tokens"]["prompt"],
            json!(50),
            "five calls paid for, once each"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

/// The human-approval example under `--mock`, waiting for its first
/// answer.
fn waiting_announcement(dir: &Path) -> String {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/human_approval.spes");
    let waiting = spesc(
        dir,
        &[
            "run",
            "--mock",
            example.to_str().unwrap(),
            "--input",
            "change=Prices drop",
            "-q",
        ],
    );
    assert_eq!(waiting.status.code(), Some(3), "{}", stderr(&waiting));
    assert!(
        stderr(&waiting).contains("spesc approve"),
        "{}",
        stderr(&waiting)
    );
    let run = show(dir, "last");
    assert_eq!(run["status"], "waiting");
    run["id"].as_str().unwrap().to_string()
}

#[test]
fn approve_then_resume_publishes_and_reject_publishes_nothing() {
    let dir = folder("approve");
    let run = waiting_announcement(&dir);
    let approve = |extra: &[&str]| {
        let args = ["approve", &run, "verdict", "--decision"];
        spesc(&dir, &[&args[..], extra].concat())
    };
    assert_eq!(approve(&["approve"]).status.code(), Some(0));
    // A second answer to the same wait is refused: the first stands…
    let second = approve(&["revise"]);
    assert_eq!(second.status.code(), Some(2));
    assert!(
        stderr(&second).contains("already answered") && stderr(&second).contains("--replace"),
        "{}",
        stderr(&second)
    );
    // …unless it is meant to replace it, which the resume then uses.
    let revised = approve(&["revise", "--comment", "shorter", "--replace"]);
    assert_eq!(revised.status.code(), Some(0), "{}", stderr(&revised));
    let again = spesc(&dir, &["resume", &run, "-q"]);
    assert_eq!(
        again.status.code(),
        Some(3),
        "a revision is reviewed again: {}",
        stderr(&again)
    );
    assert_eq!(
        spesc(&dir, &["approve", &run, "verdict", "--decision", "approve"])
            .status
            .code(),
        Some(0)
    );
    let published = spesc(&dir, &["resume", &run, "-q"]);
    assert_eq!(published.status.code(), Some(0), "{}", stderr(&published));
    let text: Value = serde_json::from_slice(&published.stdout).unwrap();
    assert!(text.as_str().is_some_and(|t| !t.is_empty()), "{text}");
    let nodes = show(&dir, &run)["nodes"].clone();
    let drafts = nodes
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| {
            n["id"]
                .as_str()
                .is_some_and(|id| spesc::plan::instance::plan_id(id) == "review.draft")
        })
        .count();
    assert_eq!(
        drafts, 2,
        "one draft per round, none written again on resume"
    );
    let twice = spesc(&dir, &["resume", &run]);
    assert_eq!(twice.status.code(), Some(2));
    assert!(
        stderr(&twice).contains("already succeeded"),
        "{}",
        stderr(&twice)
    );

    let rejected = waiting_announcement(&dir);
    assert_eq!(
        spesc(
            &dir,
            &["approve", "last", "review.verdict", "--decision", "reject"]
        )
        .status
        .code(),
        Some(0)
    );
    let nothing = spesc(&dir, &["resume", &rejected, "-q"]);
    assert_eq!(nothing.status.code(), Some(0), "{}", stderr(&nothing));
    assert_eq!(
        serde_json::from_slice::<Value>(&nothing.stdout).unwrap(),
        json!("")
    );

    let wrong = spesc(
        &dir,
        &["approve", &rejected, "verdict", "--decision", "approve"],
    );
    assert_eq!(wrong.status.code(), Some(2));
    assert!(stderr(&wrong).contains("not waiting"), "{}", stderr(&wrong));
    std::fs::remove_dir_all(&dir).unwrap();
}

const TWO_STEPS: &str = "model m { provider = mock }
workflow two(topic: string) -> string {
  step first: string { model = m  prompt = \"First on {{ topic }}\" }
  step second: string { model = m  prompt = \"Second after {{ first }}\" }
  return second
}
";

#[test]
fn a_plan_changed_at_a_completed_step_is_refused_and_one_changed_after_is_resumed() {
    let dir = folder("changed");
    std::fs::write(dir.join("two.spes"), TWO_STEPS).unwrap();
    std::fs::write(dir.join("fail.json"), r#"{"second": [{"status": 401}]}"#).unwrap();
    let failed = spesc(
        &dir,
        &[
            "run",
            "two.spes",
            "--input",
            "topic=x",
            "--mock-script",
            "fail.json",
            "-q",
        ],
    );
    assert_eq!(failed.status.code(), Some(1), "{}", stderr(&failed));

    std::fs::write(
        dir.join("two.spes"),
        TWO_STEPS.replace("First on", "Begin with"),
    )
    .unwrap();
    let refused = spesc(&dir, &["resume", "last"]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        stderr(&refused).contains("the plan changed at steps that already completed: `first`"),
        "{}",
        stderr(&refused)
    );

    std::fs::write(
        dir.join("two.spes"),
        TWO_STEPS.replace("Second after", "Then, after"),
    )
    .unwrap();
    let resumed = spesc(&dir, &["resume", "last", "-q"]);
    assert_eq!(resumed.status.code(), Some(0), "{}", stderr(&resumed));
    let nodes = show(&dir, "last")["nodes"].clone();
    let firsts = nodes
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["id"] == "first")
        .count();
    assert_eq!(firsts, 1, "the completed step was not run again");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A model's settings are part of what a completed step did: changing one
/// (its temperature, its endpoint, its timeout) refuses the resume as a
/// changed prompt does (docs/running.md).
#[test]
fn a_changed_model_setting_of_a_completed_step_refuses_the_resume() {
    let dir = folder("settings");
    let model = "model m { provider = openai  name = \"tiny\"  base_url = \"http://127.0.0.1:9/v1\"  temperature = 0.1 }";
    let file = TWO_STEPS.replace("model m { provider = mock }", model);
    std::fs::write(dir.join("two.spes"), &file).unwrap();
    std::fs::write(dir.join("fail.json"), r#"{"second": [{"status": 401}]}"#).unwrap();
    let run = ["run", "--mock", "two.spes", "--input", "topic=x"];
    let failed = spesc(
        &dir,
        &[&run[..], &["--mock-script", "fail.json", "-q"]].concat(),
    );
    assert_eq!(failed.status.code(), Some(1), "{}", stderr(&failed));
    for (what, changed) in [
        (
            "temperature",
            file.replace("temperature = 0.1", "temperature = 0.9"),
        ),
        (
            "base_url",
            file.replace("127.0.0.1:9/v1", "127.0.0.1:10/v1"),
        ),
        (
            "timeout",
            file.replace("temperature = 0.1", "temperature = 0.1  timeout = 5s"),
        ),
    ] {
        std::fs::write(dir.join("two.spes"), changed).unwrap();
        let refused = spesc(&dir, &["resume", "last"]);
        assert_eq!(
            refused.status.code(),
            Some(2),
            "{what}: {}",
            stderr(&refused)
        );
        assert!(
            stderr(&refused).contains("the plan changed at steps that already completed: `first`"),
            "{what}: {}",
            stderr(&refused)
        );
    }
    std::fs::write(dir.join("two.spes"), &file).unwrap();
    let resumed = spesc(&dir, &["resume", "last", "-q"]);
    assert_eq!(resumed.status.code(), Some(0), "{}", stderr(&resumed));
    std::fs::remove_dir_all(&dir).unwrap();
}

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
fn a_run_in_progress_cannot_be_resumed_by_another_process() {
    let dir = folder("busy");
    let server = Server::start(vec![Answer::Slow(
        Duration::from_secs(60),
        Box::new(reply("late")),
    )]);
    std::fs::write(dir.join("five.spes"), five_steps(&server.url)).unwrap();
    let running = start(&dir, &["run", "five.spes", "--input", "topic=x", "-q"]);
    wait_for(&server, 1);
    let second = spesc(&dir, &["resume", "last"]);
    kill(running);
    assert_eq!(second.status.code(), Some(2));
    assert!(
        stderr(&second).contains("is being run by process"),
        "{}",
        stderr(&second)
    );
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

#[test]
fn a_fan_out_killed_mid_way_resumes_only_the_items_not_done() {
    let dir = folder("fan");
    // Items 1..=3 answer; item 4 is held until the kill.
    let mut answers: Vec<Answer> = (1..=3).map(|n| reply(&format!("S{n}"))).collect();
    answers.push(Answer::Slow(
        Duration::from_secs(60),
        Box::new(reply("too late")),
    ));
    answers.extend((4..=5).map(|n| reply(&format!("S{n}"))));
    let server = Server::start(answers);
    let text = format!(
        "model m {{ provider = openai  name = \"tiny\"  base_url = \"{}/v1\" }}
workflow fan(items: int[]) -> string[] {{
  let summaries: string[] = for item in items (concurrency = 1) {{
    step summary: string {{ model = m  prompt = \"Item {{{{ item }}}}\" }}
    summary
  }}
  return summaries
}}
",
        server.url
    );
    std::fs::write(dir.join("fan.spes"), text).unwrap();
    let running = start(
        &dir,
        &["run", "fan.spes", "--input", "items=[1, 2, 3, 4, 5]", "-q"],
    );
    wait_for(&server, 4);
    kill(running);
    let journaled: Vec<String> = show(&dir, "last")["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        journaled,
        [
            "summaries.each[0].summary",
            "summaries.each[1].summary",
            "summaries.each[2].summary"
        ]
    );

    let resumed = spesc(&dir, &["resume", "last", "-q"]);
    assert_eq!(resumed.status.code(), Some(0), "{}", stderr(&resumed));
    let result: Value = serde_json::from_slice(&resumed.stdout).unwrap();
    assert_eq!(result, json!(["S1", "S2", "S3", "S4", "S5"]));
    let items: Vec<String> = server.seen()[4..]
        .iter()
        .map(|r| {
            r.body["messages"][0]["content"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(
        items,
        ["Item 4", "Item 5"],
        "the done items were not called again"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

const CALLER: &str = "model m { provider = mock }
workflow inner(topic: string) -> string {
  step a: string { model = m  prompt = \"Inner on {{ topic }}\" }
  return a
}
workflow outer(topic: string) -> string {
  step called: string = call inner(topic = topic)
  step second: string { model = m  prompt = \"Second after {{ called }}\" }
  return second
}
";

#[test]
fn a_run_resumes_through_a_completed_call_and_notices_a_change_inside_it() {
    let dir = folder("call");
    std::fs::write(dir.join("calls.spes"), CALLER).unwrap();
    std::fs::write(dir.join("fail.json"), r#"{"second": [{"status": 401}]}"#).unwrap();
    let failed = spesc(
        &dir,
        &[
            "run",
            "calls.spes",
            "--workflow",
            "outer",
            "--input",
            "topic=x",
            "--mock-script",
            "fail.json",
            "-q",
        ],
    );
    assert_eq!(failed.status.code(), Some(1), "{}", stderr(&failed));
    let ids: Vec<Value> = show(&dir, "last")["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].clone())
        .collect();
    assert!(
        ids.contains(&json!("called/a")) && ids.contains(&json!("called")),
        "the called workflow's step is journaled under its call: {ids:?}"
    );

    std::fs::write(dir.join("calls.spes"), CALLER.replace("Inner on", "Within")).unwrap();
    let refused = spesc(&dir, &["resume", "last"]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        stderr(&refused).contains("`called/a`"),
        "a change inside the called workflow is noticed: {}",
        stderr(&refused)
    );

    std::fs::write(dir.join("calls.spes"), CALLER).unwrap();
    let resumed = spesc(&dir, &["resume", "last", "-q"]);
    assert_eq!(resumed.status.code(), Some(0), "{}", stderr(&resumed));
    let nodes = show(&dir, "last")["nodes"].clone();
    let inner = nodes
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["id"] == "called/a")
        .count();
    assert_eq!(inner, 1, "the completed call was not run again");
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
