//! `spesc test FILE…`: run the `test` blocks offline.

use std::path::PathBuf;

use super::{exit, inputs};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Files whose `test` blocks to run.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
}

pub fn run(args: Args, color: bool) -> u8 {
    let (mut passed, mut failed) = (0, 0);
    for file in &args.files {
        let plan = match inputs::compile(file, color, exit::USAGE) {
            Ok(plan) => plan,
            Err(code) => return code,
        };
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
    outln!("\n{passed} passed, {failed} failed");
    if failed == 0 {
        exit::OK
    } else {
        exit::ERRORS
    }
}
