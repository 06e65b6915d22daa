//! The real `spesc` binary, run as a user runs it: in a folder of the
//! test's own, in the foreground or in the background (to be killed), with
//! colour off.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

/// A fresh, empty folder for one test, named after the test binary and
/// `name` so that tests running at once never share one.
pub fn folder(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "spesc-{}-{name}-{}",
        env!("CARGO_CRATE_NAME"),
        std::process::id()
    ));
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

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}
