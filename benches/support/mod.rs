//! What the benches share: a program's plan, and a journal to run it with.

use std::path::Path;
use std::sync::Arc;

use serde_json::json;
use spesc::check::NoFiles;
use spesc::journal::sqlite::Sqlite;
use spesc::journal::{Journal, NewRun, RunStore};
use spesc::plan::Plan;
use spesc::source::SourceMap;

/// The plan of `text`, which must check clean.
pub fn plan(text: &str) -> Plan {
    let mut sources = SourceMap::new();
    let file = sources.add("bench.spes", text);
    let compiled = spesc::plan::compile(
        &mut sources,
        &[(file, Path::new("bench.spes").into())],
        &NoFiles,
        &Default::default(),
    );
    match compiled.plan {
        Some(plan) => plan,
        None => panic!("{:?}", compiled.diagnostics.first()),
    }
}

/// A journal for one run in a fresh database under the temporary folder.
pub fn journal(name: &str) -> Arc<Journal> {
    let path = std::env::temp_dir().join(format!("spesc-bench-{name}-{}.db", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let store: Arc<dyn RunStore> = Arc::new(Sqlite::open(&path).expect("a database"));
    let run = store
        .create(&NewRun {
            workflow: name.into(),
            file: format!("{name}.spes"),
            source: String::new(),
            inputs: json!({}),
            plan_hash: String::new(),
            mock: false,
        })
        .expect("a run");
    Arc::new(Journal { store, run })
}
