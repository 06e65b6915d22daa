//! `spesc completions SHELL` and `spesc manpage`: both generated from the
//! command-line definition itself, so they always match the real options.

use clap::CommandFactory;

use super::{exit, Cli};

#[derive(clap::Args, Debug)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    shell: clap_complete::Shell,
}

pub fn completions(args: CompletionsArgs) -> u8 {
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut Cli::command(), "spesc", &mut script);
    emit(&script)
}

pub fn manpage() -> u8 {
    let mut page = Vec::new();
    match clap_mangen::Man::new(Cli::command()).render(&mut page) {
        Ok(()) => emit(&page),
        Err(e) => super::usage_error(format!("cannot render the man page: {e}")),
    }
}

fn emit(bytes: &[u8]) -> u8 {
    out!("{}", String::from_utf8_lossy(bytes));
    exit::OK
}
