//! `spesc fmt FILE…`: rewrite files in the canonical layout, or with
//! `--check` only say which are not.

use std::path::PathBuf;

use super::{exit, inputs, usage_error};
use crate::source::SourceMap;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Files or folders (every `.spes` file under them).
    #[arg(value_name = "FILE", required = true)]
    paths: Vec<PathBuf>,

    /// Change nothing; exit 1 if a file is not formatted.
    #[arg(long)]
    check: bool,
}

pub fn run(args: Args, color: bool) -> u8 {
    let mut sources = SourceMap::new();
    let files = match inputs::load(&args.paths, &mut sources) {
        Ok(files) => files,
        Err(message) => return usage_error(message),
    };
    let mut code = exit::OK;
    for (file, path) in files {
        let text = sources.text(file).to_string();
        let parsed = crate::syntax::parse(file, &text);
        if parsed.has_errors() {
            eprint!(
                "{}",
                crate::diagnostic::render::rich_at_most(
                    &sources,
                    &parsed.diagnostics,
                    color,
                    crate::diagnostic::render::MOST_SHOWN,
                )
            );
            eprintln!(
                "error: `{}` does not parse; it was not formatted",
                path.display()
            );
            code = exit::ERRORS;
            continue;
        }
        let formatted = crate::syntax::format::format(&parsed.file, &text);
        if formatted == text {
            continue;
        }
        if args.check {
            outln!("{}", inputs::display_name(&path));
            code = exit::ERRORS;
        } else if let Err(e) = std::fs::write(&path, formatted) {
            return usage_error(format!("cannot write `{}`: {e}", path.display()));
        }
    }
    code
}
