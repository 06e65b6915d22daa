//! What the journal tests share: the real binary run in a folder of its
//! own (in the foreground, or in the background to be killed), `show
//! --json` of a run, and a two-step mock workflow.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use serde_json::Value;

/// A fresh folder for a test's files and journal.
pub fn folder(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("spesc-journal-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub fn command(dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_spesc"));
    command.args(args).current_dir(dir).env("NO_COLOR", "1");
    command
}

pub fn spesc(dir: &Path, args: &[&str]) -> Output {
    command(dir, args).output().expect("spesc runs")
}

/// `spesc` running in the background, its output discarded.
pub fn start(dir: &Path, args: &[&str]) -> Child {
    command(dir, args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spesc starts")
}

/// SIGKILL: the process gets no chance to clean up.
pub fn kill(mut running: Child) {
    running.kill().unwrap();
    running.wait().unwrap();
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

pub fn show(dir: &Path, run: &str) -> Value {
    let output = spesc(dir, &["show", run, "--json"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    serde_json::from_slice(&output.stdout).expect("the run as JSON")
}

pub const TWO_STEPS: &str = "model m { provider = mock }
workflow two(topic: string) -> string {
  step first: string { model = m  prompt = \"First on {{ topic }}\" }
  step second: string { model = m  prompt = \"Second after {{ first }}\" }
  return second
}
";
