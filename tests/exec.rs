//! `exec` through the real binary: the environment a command sees, and
//! what is stopped with it when its timeout passes or the run is
//! interrupted with Ctrl-C.

// A test fails by panicking; `expect` says where and why.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A fresh folder holding `w.spes` with `text`.
fn project(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("spesc-exec-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("w.spes"), text).unwrap();
    dir
}

fn command(dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_spesc"));
    command.args(args).current_dir(dir).env("NO_COLOR", "1");
    command
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Waits until `file` in `dir` holds a pid, and gives it.
fn pid_in(dir: &Path, file: &str) -> u32 {
    let started = Instant::now();
    loop {
        let written = std::fs::read_to_string(dir.join(file)).unwrap_or_default();
        if let Ok(pid) = written.trim().parse() {
            return pid;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "`{file}` was never written"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Whether process `pid` has ended (a zombie waiting for a parent that
/// does not reap it counts: it runs no more).
fn ended(pid: u32) -> bool {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(3) {
        match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            Err(_) => return true,
            // `pid (name) STATE …`
            Ok(stat)
                if stat
                    .rsplit(')')
                    .next()
                    .unwrap_or("")
                    .trim_start()
                    .starts_with('Z') =>
            {
                return true
            }
            Ok(_) => std::thread::sleep(Duration::from_millis(20)),
        }
    }
    false
}

fn wait_with_timeout(mut child: Child) -> Output {
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(15) {
            child.kill().ok();
            panic!("spesc did not stop");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

#[test]
fn a_command_sees_a_minimal_environment_and_what_inherit_names() {
    let dir = project(
        "env",
        r#"workflow w() -> string {
  step bare: ExecResult = exec {
    command = ["sh", "-c", "echo ${SPESC_TEST_TOKEN:-unset} ${OTHER:-none} ${PATH:+path} ${HOME:+home} $MODE"]
    env = { MODE = "ci" }
  }
  step passed: ExecResult = exec {
    command = ["sh", "-c", "echo ${SPESC_TEST_TOKEN:-unset} ${OTHER:-none}"]
    inherit = ["SPESC_TEST_TOKEN"]
  }
  return bare.stdout + passed.stdout
}
"#,
    );
    let output = command(&dir, &["run", "w.spes"])
        .env("SPESC_TEST_TOKEN", "tok-123")
        .env("OTHER", "x")
        .env("HOME", "/home/someone")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let result: String = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(result, "unset none path home ci\ntok-123 none\n");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_timed_out_command_takes_what_it_started_in_the_background_with_it() {
    let dir = project(
        "timeout",
        r#"workflow w() -> int {
  step slow: ExecResult = exec {
    command = ["sh", "-c", "sleep 30 & echo $! > bg.pid; wait"]
    timeout = 500ms
  }
  return slow.code
}
"#,
    );
    let output = command(&dir, &["run", "w.spes"]).output().unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    assert!(text(&output.stderr).contains("timed out"));
    let background = pid_in(&dir, "bg.pid");
    assert!(ended(background), "`sleep 30 &` outlived its command");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn ctrl_c_stops_the_run_and_its_commands_and_resume_continues() {
    let dir = project(
        "interrupt",
        r#"workflow w() -> string {
  step first: ExecResult = exec { command = ["sh", "-c", "echo x >> first.count; echo one"] }
  step slow: ExecResult = exec {
    command = ["sh", "-c", "if [ -e go ]; then echo two; else sleep 30 & echo $! > bg.pid; echo $$ > sh.pid; wait; fi"]
    after = [first]
  }
  return first.stdout + slow.stdout
}
"#,
    );
    let running = command(&dir, &["run", "w.spes"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (shell, background) = (pid_in(&dir, "sh.pid"), pid_in(&dir, "bg.pid"));
    let sent = Command::new("kill")
        .args(["-INT", &running.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let output = wait_with_timeout(running);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    assert!(
        stderr.contains("interrupted") && stderr.contains("spesc resume"),
        "{stderr}"
    );
    assert!(ended(shell), "the command outlived the run");
    assert!(
        ended(background),
        "what the command started outlived the run"
    );

    let runs = command(&dir, &["runs"]).output().unwrap();
    assert!(
        text(&runs.stdout).contains("interrupted"),
        "{}",
        text(&runs.stdout)
    );

    std::fs::write(dir.join("go"), "").unwrap();
    let resumed = command(&dir, &["resume", "last"]).output().unwrap();
    assert_eq!(resumed.status.code(), Some(0), "{}", text(&resumed.stderr));
    let result: String = serde_json::from_slice(&resumed.stdout).unwrap();
    assert_eq!(result, "one\ntwo\n");
    let first_ran = std::fs::read_to_string(dir.join("first.count")).unwrap();
    assert_eq!(first_ran.lines().count(), 1, "a completed step ran again");
    std::fs::remove_dir_all(&dir).ok();
}
