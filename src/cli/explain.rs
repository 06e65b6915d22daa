//! `spesc explain CODE`

use super::{exit, usage_error};
use crate::diagnostic::Code;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// A diagnostic code such as E0001.
    code: String,
}

pub fn run(args: Args) -> u8 {
    match Code::parse(&args.code) {
        Some(code) => {
            out!("{}", code.explanation());
            exit::OK
        }
        None => {
            let known: Vec<&str> = Code::ALL.iter().map(|c| c.as_str()).collect();
            usage_error(format!(
                "no diagnostic code `{}`; the codes are {}",
                args.code,
                known.join(", ")
            ))
        }
    }
}
