//! `spesc test FILE…`: run the `test` blocks offline.

use std::path::PathBuf;

use super::{exit, inputs};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Files whose `test` blocks to run (a folder: every `.spes` file under it).
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
}

pub fn run(args: Args, color: bool) -> u8 {
    let files = match inputs::expand(&args.files) {
        Ok(files) => files,
        Err(message) => return super::usage_error(message),
    };
    let (mut passed, mut failed) = (0, 0);
    let mut without_tests = Vec::new();
    for file in &files {
        let plan = match inputs::compile(file, color, exit::USAGE) {
            Ok(plan) => plan,
            Err(code) => return code,
        };
        if plan.tests.is_empty() {
            without_tests.push(inputs::display_name(file));
            continue;
        }
        for outcome in crate::runtime::run_tests(&plan) {
            match outcome.failure {
                None => {
                    passed += 1;
                    outln!("test {} … ok", outcome.name);
                }
                Some(reason) => {
                    failed += 1;
                    outln!("test {} … FAILED\n  {reason}", outcome.name);
                }
            }
        }
    }
    if passed + failed == 0 {
        // Exit 0 here would let a CI job that runs no tests look green.
        eprintln!(
            "error: no `test` blocks in {}\n  = help: a `test \"name\" {{ run flow(...) expect ... }}` block runs a workflow offline (docs/running.md#tests)",
            without_tests.join(", ")
        );
        return exit::ERRORS;
    }
    for name in &without_tests {
        eprintln!("note: `{name}` has no `test` blocks");
    }
    outln!("\n{passed} passed, {failed} failed");
    if failed == 0 {
        exit::OK
    } else {
        exit::ERRORS
    }
}
