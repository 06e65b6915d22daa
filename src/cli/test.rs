//! `spesc test FILE…`: run the `test` blocks offline.

use std::path::PathBuf;

use super::{exit, inputs, usage_error};
use crate::diagnostic::render;
use crate::source::SourceMap;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Files whose `test` blocks to run.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
}

pub fn run(args: Args, color: bool) -> u8 {
    let (mut passed, mut failed) = (0, 0);
    for file in &args.files {
        let mut sources = SourceMap::new();
        let roots = match inputs::load(std::slice::from_ref(file), &mut sources) {
            Ok(roots) => roots,
            Err(message) => return usage_error(message),
        };
        let compiled =
            crate::check::compile(&mut sources, &roots, &inputs::FsLoader, &Default::default());
        if !compiled.diagnostics.is_empty() {
            eprint!("{}", render::rich(&sources, &compiled.diagnostics, color));
        }
        if compiled.plan.is_none() {
            eprintln!("{}", render::summary(&compiled.diagnostics));
            return exit::USAGE;
        }
        for outcome in crate::run::run_tests(&compiled, &inputs::FsLoader) {
            match outcome.failure {
                None => {
                    passed += 1;
                    println!("test {} … ok", outcome.name);
                }
                Some(reason) => {
                    failed += 1;
                    println!("test {} … FAILED\n  {reason}", outcome.name);
                }
            }
        }
    }
    println!("\n{passed} passed, {failed} failed");
    if failed == 0 {
        exit::OK
    } else {
        exit::ERRORS
    }
}
