//! `exec`: a local command, argv as written (no shell), with `stdin`,
//! `env` and `cwd`; its result is an `ExecResult`.

use std::time::Duration;

use serde_json::{Map, Value};

use crate::lang::value::render;
use crate::plan::Exec;
use crate::runtime::engine::Engine;
use crate::runtime::frame::Env;
use crate::runtime::{Eval, Fault};

impl<'p> Engine<'p> {
    /// Runs a command; `timeout` bounds it here (a step's attempts are
    /// bounded by its policy instead). Paths are relative to the `.spes`
    /// file's directory, like component paths.
    pub async fn exec(&self, exec: &'p Exec, env: &Env, timeout_ms: Option<u64>) -> Eval<Value> {
        let argv: Vec<String> = match self.eval(&exec.command, env).await? {
            Value::Array(items) => items.iter().map(render).collect(),
            other => vec![render(&other)],
        };
        let Some((program, args)) = argv.split_first() else {
            return Err(Fault::Error("`command` is empty".to_string()));
        };
        let mut command = tokio::process::Command::new(program);
        command
            .args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true);
        let home = std::path::PathBuf::from(&self.plan.workflow(env.frame.workflow).dir);
        let cwd = match &exec.cwd {
            Some(e) => home.join(self.text(e, env).await?),
            None => home,
        };
        command.current_dir(cwd);
        // The command sees a minimal environment, not spesc's: API keys
        // and tokens reach it only when `inherit` names them.
        command.env_clear();
        for (key, value) in std::env::vars_os() {
            let name = key.to_string_lossy();
            if is_baseline(&name) || exec.inherit.iter().any(|n| *n == name) {
                command.env(&key, value);
            }
        }
        if let Some(e) = &exec.env {
            if let Value::Object(vars) = self.eval(e, env).await? {
                for (key, value) in vars {
                    command.env(key, render(&value));
                }
            }
        }
        let stdin = match &exec.stdin {
            Some(e) => Some(self.text(e, env).await?),
            None => None,
        };
        let _caps = env.frame.caps.acquire().await;
        // Its own process group, so that a timeout or a cancelled step
        // stops what it started in the background too.
        #[cfg(unix)]
        command.process_group(0);
        let mut child = command
            .spawn()
            .map_err(|e| Fault::Error(format!("cannot run `{program}`: {e}")))?;
        let mut group = ProcessGroup(child.id());
        if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
            use tokio::io::AsyncWriteExt;
            // A command that does not read its input is not an error.
            let _ = pipe.write_all(text.as_bytes()).await;
        }
        let waited = child.wait_with_output();
        let output = match timeout_ms {
            Some(ms) => tokio::time::timeout(Duration::from_millis(ms), waited)
                .await
                .map_err(|_| Fault::timeout(format!("`{program}` timed out after {ms} ms")))?,
            None => waited.await,
        }
        .map_err(|e| Fault::Error(format!("`{program}` failed: {e}")))?;
        group.0 = None;
        let mut result = Map::new();
        result.insert(
            "code".to_string(),
            Value::from(output.status.code().unwrap_or(-1)),
        );
        result.insert(
            "stdout".to_string(),
            Value::String(String::from_utf8_lossy(&output.stdout).into_owned()),
        );
        result.insert(
            "stderr".to_string(),
            Value::String(String::from_utf8_lossy(&output.stderr).into_owned()),
        );
        Ok(Value::Object(result))
    }
}

/// Variables every command gets from spesc's environment (documented in
/// docs/running.md): where programs are, who and where the user is, the
/// locale and the terminal.
const BASELINE: &[&str] = &[
    "PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LANGUAGE", "TZ", "TMPDIR", "TERM",
];

fn is_baseline(name: &str) -> bool {
    BASELINE.contains(&name) || name.starts_with("LC_")
}

/// A running command's process group, killed when it is dropped before the
/// command finished (a timeout, a cancelled step): the command itself and
/// whatever it left running in the background.
struct ProcessGroup(Option<u32>);

impl Drop for ProcessGroup {
    fn drop(&mut self) {
        #[cfg(unix)]
        if let Some(pid) = self
            .0
            .and_then(|pid| i32::try_from(pid).ok())
            .and_then(rustix::process::Pid::from_raw)
        {
            // The group may be gone already: nothing is left to stop.
            let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
        }
    }
}
