//! Where run records go. `spesc run` saves each record through a
//! [`RunStore`]; today that is one JSON file per run under `.spes/runs/`
//! ([`JsonDir`]). The durable-runs issue puts an embedded database behind
//! the same trait.

use std::path::PathBuf;

use super::record::RunRecord;

pub trait RunStore {
    /// Saves a finished (or waiting) run and gives it its id.
    fn save(&self, record: &mut RunRecord) -> Result<String, String>;
}

/// One pretty-printed JSON file per run: `<dir>/<id>.json`.
pub struct JsonDir {
    pub dir: PathBuf,
}

impl JsonDir {
    /// `.spes/runs` under the working directory.
    pub fn default_location() -> JsonDir {
        JsonDir {
            dir: PathBuf::from(".spes/runs"),
        }
    }
}

impl RunStore for JsonDir {
    fn save(&self, record: &mut RunRecord) -> Result<String, String> {
        let seconds = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let id = format!("{seconds}-{}", std::process::id());
        record.id = id.clone();
        let json = serde_json::to_string_pretty(record).map_err(|e| e.to_string())?;
        std::fs::create_dir_all(&self.dir)
            .and_then(|()| std::fs::write(self.dir.join(format!("{id}.json")), json))
            .map_err(|e| format!("cannot write to `{}`: {e}", self.dir.display()))?;
        Ok(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::record::Outcome;

    #[test]
    fn records_are_saved_as_json_files_named_by_their_id() {
        let dir = std::env::temp_dir().join(format!("spesc-store-{}", std::process::id()));
        let store = JsonDir { dir: dir.clone() };
        let mut record = RunRecord {
            id: String::new(),
            workflow: "w".into(),
            plan_hash: "fnv1a64:0".into(),
            inputs: serde_json::json!({}),
            outcome: Outcome::Succeeded {
                output: serde_json::json!("done"),
            },
            duration_ms: 1,
            totals: Default::default(),
            steps: Vec::new(),
        };
        let id = store.save(&mut record).expect("saved");
        assert_eq!(record.id, id);
        let text = std::fs::read_to_string(dir.join(format!("{id}.json"))).expect("written");
        assert!(text.contains("\"status\": \"succeeded\""), "{text}");
        let _ = std::fs::remove_dir_all(dir);
    }
}
