//! `spesc check FILE…`

use std::path::PathBuf;

use clap::ValueEnum;

use super::{exit, inputs, usage_error};
use crate::diagnostic::render;
use crate::source::SourceMap;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Files to check; a folder means every `.spes` file under it.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,

    /// How to print diagnostics.
    #[arg(long, value_enum, default_value_t = Format::Rich)]
    format: Format,

    /// Print at most this many diagnostics, rich or short (0: all); the
    /// count at the end and `--format json` always cover every one.
    #[arg(long, value_name = "N", default_value_t = render::MOST_SHOWN)]
    max_diagnostics: usize,

    /// Also report models whose API key variable is not set (W0507).
    #[arg(long)]
    env: bool,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Format {
    /// Source excerpts with labels (on stderr).
    Rich,
    /// `file:line:col: error[CODE]: message`, one per line (on stderr).
    Short,
    /// A JSON array on stdout; see docs/diagnostics.md.
    Json,
}

pub fn run(args: Args, color: bool) -> u8 {
    let mut sources = SourceMap::new();
    let files = match inputs::load(&args.files, &mut sources) {
        Ok(files) => files,
        Err(message) => return usage_error(message),
    };
    let options = crate::check::Options {
        env: args.env.then(|| {
            Box::new(|name: &str| crate::providers::key_from_env(name).is_some())
                as crate::check::IsSet
        }),
    };
    let diagnostics =
        crate::check::check(&mut sources, &files, &inputs::FsLoader, &options).diagnostics;
    match args.format {
        Format::Rich => {
            let most = args.max_diagnostics;
            eprint!(
                "{}",
                render::rich_at_most(&sources, &diagnostics, color, most)
            );
            if diagnostics.iter().any(|d| d.is_error()) {
                eprintln!("{}", render::summary(&diagnostics));
            } else {
                // A clean check says what it covered, so silence is never
                // mistaken for "found no files".
                eprintln!(
                    "checked {}: no errors, {}",
                    render::plural(files.len(), "file"),
                    render::plural(diagnostics.len(), "warning")
                );
            }
        }
        Format::Short => eprint!(
            "{}",
            render::short_at_most(&sources, &diagnostics, args.max_diagnostics)
        ),
        Format::Json => out!("{}", render::json(&sources, &diagnostics)),
    }
    if diagnostics.iter().any(|d| d.is_error()) {
        exit::ERRORS
    } else {
        exit::OK
    }
}
