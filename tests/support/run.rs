//! Running a workflow from its text through the library, as the
//! interpreter tests do: compile (or fail with the rendered diagnostics),
//! run, and read how it ended.

use std::path::Path;

use serde_json::Value;
use spesc::check::Loader;
use spesc::journal::record::{Outcome, RunRecord};
use spesc::plan::compile;
use spesc::runtime::{run, RunOptions};
use spesc::source::SourceMap;

/// Reads imports and component files from the repository.
pub struct Files;

impl Loader for Files {
    fn read(&self, path: &Path) -> Result<(String, String), String> {
        let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
        Ok((path.display().to_string(), text))
    }
}

/// Runs `workflow` of the file `text` with `inputs` (a JSON object).
pub fn run_text(text: &str, workflow: &str, inputs: Value, options: RunOptions) -> RunRecord {
    let mut sources = SourceMap::new();
    let file = sources.add("t.spes", text);
    let compiled = compile(
        &mut sources,
        &[(file, "t.spes".into())],
        &Files,
        &Default::default(),
    );
    let Some(plan) = compiled.plan else {
        panic!(
            "{}",
            spesc::diagnostic::render::rich(&sources, &compiled.diagnostics, false)
        )
    };
    let Value::Object(inputs) = inputs else {
        panic!("inputs are an object")
    };
    run(&plan, workflow, inputs, &options)
}

/// The result of a run that must have succeeded.
pub fn output(record: &RunRecord) -> &Value {
    match &record.outcome {
        Outcome::Succeeded { output } => output,
        other => panic!("the run did not succeed: {other:?}\n{:#?}", record.steps),
    }
}

/// The error of a run that must have failed.
pub fn failure(record: &RunRecord) -> &str {
    match &record.outcome {
        Outcome::Failed { error, .. } => error,
        other => panic!("the run did not fail: {other:?}"),
    }
}
