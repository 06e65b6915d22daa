//! What the benches share.

use std::sync::Arc;

use serde_json::json;
use spesc::run::sqlite::Sqlite;
use spesc::run::store::{Journal, NewRun, RunStore};

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
