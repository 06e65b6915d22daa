//! What the journal tests share: `show --json` of a run, and a two-step
//! mock workflow.

use std::path::Path;

use serde_json::Value;

use super::binary::{spesc, stderr};

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
