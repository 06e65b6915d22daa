//! `spesc init [DIR]`: a starter project that `check`, `run` and `test`
//! accept as is, so a new user starts from something that works.

use std::path::{Path, PathBuf};

use super::exit;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Where to create the project (made if missing; default: here).
    #[arg(value_name = "DIR", default_value = ".")]
    dir: PathBuf,
}

/// The files of a starter project: path inside it, and text.
const FILES: &[(&str, &str)] = &[
    ("flow.spes", include_str!("init/flow.spes")),
    (
        "components/house-style.md",
        include_str!("init/house-style.md"),
    ),
    (".gitignore", "# spesc's run journal and cache\n.spes/\n"),
];

pub fn run(args: Args) -> u8 {
    // Refuse before writing anything: a half-made project over someone's
    // files is worse than none.
    let existing: Vec<String> = FILES
        .iter()
        .map(|(path, _)| args.dir.join(path))
        .filter(|path| path.exists())
        .map(|path| super::inputs::display_name(&path))
        .collect();
    if !existing.is_empty() {
        return super::usage_error(format!(
            "not overwriting what is there: {}\n  = help: pick an empty folder: `spesc init my-flow`",
            existing.join(", ")
        ));
    }
    for (path, text) in FILES {
        if let Err(message) = write(&args.dir.join(path), text) {
            return super::usage_error(message);
        }
    }
    let dir = super::inputs::display_name(&args.dir);
    let cd = if dir == "." {
        String::new()
    } else {
        format!("\n  cd {dir}")
    };
    eprintln!(
        "created a spesc project in `{dir}`: flow.spes, components/house-style.md, .gitignore\n\
         {cd}\n  spesc run flow.spes --input topic=\"green tea\"  runs offline (the mock model)\
         \n  spesc test flow.spes                            runs its `test` block\
         \n  spesc check flow.spes                           checks it\n\
         \nPoint `writer` at a real provider to run it for real (docs/providers.md)."
    );
    exit::OK
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| format!("cannot create `{}`: {e}", parent.display()))?;
    }
    std::fs::write(path, text).map_err(|e| format!("cannot write `{}`: {e}", path.display()))
}
