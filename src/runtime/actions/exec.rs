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
        let mut child = command
            .spawn()
            .map_err(|e| Fault::Error(format!("cannot run `{program}`: {e}")))?;
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
