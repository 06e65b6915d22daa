//! The `spesc` command line: argument parsing, reading files, choosing
//! colours and exit codes. Everything else lives in the library stages.

/// `print!` for the command line: a reader that went away (`spesc runs |
/// head`) ends the command quietly, as it does other command-line tools,
/// instead of a panic.
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::cli::write_stdout(format_args!($($arg)*))
    };
}

/// `println!`, likewise.
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::cli::write_stdout(format_args!("{}\n", format_args!($($arg)*)))
    };
}

mod check;
mod explain;
mod fmt;
mod generate;
mod init;
mod inputs;
mod plan;
mod progress;
mod run;
mod run_inputs;
mod runs;
mod test;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

/// Exit codes shared by every command.
pub mod exit {
    /// Success: no errors (warnings allowed).
    pub const OK: u8 = 0;
    /// The input had errors.
    pub const ERRORS: u8 = 1;
    /// Bad invocation: unknown option, unreadable file, unknown code.
    pub const USAGE: u8 = 2;
}

const EXAMPLES: &str = "\
Examples:
  spesc run examples/hello.spes           run a workflow (offline: its model is the mock)
  spesc run --mock examples/debate.spes --input motion=\"…\"   every model answered by the mock
  spesc check examples/hello.spes         check one file
  spesc check examples                    check every .spes file under a folder
  spesc check --format short src/*.spes   one line per problem, for editors and grep
  spesc check --format json flow.spes     machine-readable diagnostics (docs/diagnostics.md)
  spesc explain E0001                     what an error code means and how to fix it
  spesc plan examples/map_reduce.spes     the execution plan, every default written out
  spesc graph examples/debate.spes        the workflow as a Mermaid flowchart
  spesc runs                              runs in the journal, newest first
  spesc show last                         the last run's timeline
  spesc resume last                       continue a failed, killed or waiting run
  spesc fmt examples                      rewrite files in the canonical layout (--check: only list them)
  spesc lsp                               a language server for editors (stdio)
  spesc init my-flow                      a starter project that runs offline
  spesc completions bash                  shell completions (bash, zsh, fish, elvish, powershell)";

#[derive(Parser, Debug)]
#[command(
    name = "spesc",
    version,
    about = "A compiled workflow language for chaining LLM calls",
    long_about = "spesc checks and runs `.spes` workflow files: typed steps that call language \
                  models, branch, fan out, retry and wait for people, proven before any model \
                  is called.",
    after_help = EXAMPLES,
    propagate_version = true
)]
struct Cli {
    /// When to colour output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, global = true)]
    color: ColorChoice,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Parse and check files; exit 0 if clean (warnings allowed), 1 on errors.
    #[command(
        after_help = "Examples:\n  spesc check examples/*.spes\n  spesc check --format json flow.spes"
    )]
    Check(check::Args),
    /// Print the long explanation of a diagnostic code (without one: list the codes).
    #[command(
        after_help = "Examples:\n  spesc explain E0001\n  spesc explain 0001\n  spesc explain              every code with its title\n  spesc explain E0001 --markdown   the page's Markdown, even on a terminal"
    )]
    Explain(explain::Args),
    /// Check a file and print its execution plan: nodes, edges, guards, policies.
    #[command(
        after_help = "Examples:\n  spesc plan examples/map_reduce.spes\n  spesc plan --json examples/map_reduce.spes"
    )]
    Plan(plan::PlanArgs),
    /// Check a file and draw its workflows as a graph.
    #[command(
        after_help = "Examples:\n  spesc graph examples/complexity_routing.spes\n  spesc graph --format dot examples/debate.spes | dot -Tsvg > debate.svg"
    )]
    Graph(plan::GraphArgs),
    /// Check, plan and run a workflow; the result JSON goes to stdout.
    #[command(
        after_help = "Exit codes: 0 succeeded, 1 the workflow failed, 2 usage or compile error, 3 waiting for a person.\n\nExamples:\n  spesc run --mock examples/hello.spes --input name=Ada\n  spesc run --mock examples/human_approval.spes --input change=… --answers answers.json"
    )]
    Run(run::Args),
    /// Continue a failed, interrupted or waiting run; completed steps are not run again.
    #[command(
        after_help = "Examples:\n  spesc resume last\n  spesc resume 1795296500-6078 --state ci/state.db"
    )]
    Resume(runs::ResumeArgs),
    /// Answer a run waiting on an `ask` step; `spesc resume` then continues it.
    #[command(
        after_help = "Examples:\n  spesc approve last review --decision approve\n  spesc approve 1795296500-6078 review --decision revise --comment \"shorter\""
    )]
    Approve(runs::ApproveArgs),
    /// List runs, newest first; `spesc runs prune --older-than 30d` deletes old ones.
    #[command(
        after_help = "Examples:\n  spesc runs --status waiting\n  spesc runs prune --older-than 30d"
    )]
    Runs(runs::RunsArgs),
    /// A run's timeline: every step's status, attempts, duration, tokens and cost.
    #[command(after_help = "Examples:\n  spesc show last\n  spesc show 1795296500 --json")]
    Show(runs::ShowArgs),
    /// Per workflow across runs: success rate; per step min / median / max duration, attempts, tokens.
    #[command(after_help = "Examples:\n  spesc stats\n  spesc stats article --json")]
    Stats(runs::StatsArgs),
    /// Rewrite files in the canonical layout; `--check` lists those that are not.
    #[command(
        after_help = "Exit codes: 0 formatted, 1 a file is not formatted (--check) or does not parse, 2 usage.\n\nExamples:\n  spesc fmt examples\n  spesc fmt --check flow.spes"
    )]
    Fmt(fmt::Args),
    /// A language server over stdio, for editors: diagnostics, hover, go to definition.
    #[command(after_help = "Editors start it themselves; see editors/README.md.")]
    Lsp,
    /// Run the `test` blocks of files offline; exit 1 if any fails.
    #[command(after_help = "Examples:\n  spesc test examples/tested_router.spes")]
    Test(test::Args),
    /// Create a starter project: a workflow that runs offline, a test, a component.
    #[command(after_help = "Examples:\n  spesc init my-flow\n  spesc init")]
    Init(init::Args),
    /// Print a shell completion script.
    #[command(
        after_help = "Examples:\n  spesc completions bash > ~/.local/share/bash-completion/completions/spesc\n  spesc completions zsh > ~/.zfunc/_spesc\n  spesc completions fish > ~/.config/fish/completions/spesc.fish"
    )]
    Completions(generate::CompletionsArgs),
    /// Print the man page (roff), generated from these options.
    #[command(after_help = "Examples:\n  spesc manpage > spesc.1 && man ./spesc.1")]
    Manpage,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum ColorChoice {
    /// Colour when writing to a terminal and NO_COLOR is not set.
    Auto,
    Always,
    Never,
}

impl ColorChoice {
    fn enabled(self, stream: &impl IsTerminal) -> bool {
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => stream.is_terminal() && std::env::var_os("NO_COLOR").is_none(),
        }
    }
}

/// Runs the command line and returns the process exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let code = match cli.command {
        Command::Check(args) => check::run(args, cli.color.enabled(&std::io::stderr())),
        Command::Explain(args) => explain::run(
            args,
            std::io::stdout().is_terminal() || matches!(cli.color, ColorChoice::Always),
            cli.color.enabled(&std::io::stdout()),
        ),
        Command::Plan(args) => plan::run_plan(args, cli.color.enabled(&std::io::stderr())),
        Command::Graph(args) => plan::run_graph(args, cli.color.enabled(&std::io::stderr())),
        Command::Run(args) => run::run(args, cli.color.enabled(&std::io::stderr())),
        Command::Test(args) => test::run(args, cli.color.enabled(&std::io::stderr())),
        Command::Resume(args) => runs::resume(args, cli.color.enabled(&std::io::stderr())),
        Command::Approve(args) => runs::approve(args),
        Command::Runs(args) => runs::runs(args),
        Command::Show(args) => runs::show(args),
        Command::Stats(args) => runs::stats(args),
        Command::Fmt(args) => fmt::run(args, cli.color.enabled(&std::io::stderr())),
        Command::Init(args) => init::run(args),
        Command::Completions(args) => generate::completions(args),
        Command::Manpage => generate::manpage(),
        Command::Lsp => match crate::lsp::serve() {
            Ok(()) => exit::OK,
            Err(message) => usage_error(message),
        },
    };
    ExitCode::from(code)
}

/// Prints an invocation problem (not a diagnostic about a file).
fn usage_error(message: impl std::fmt::Display) -> u8 {
    eprintln!("error: {message}");
    exit::USAGE
}

/// Writes to stdout. Rust ignores SIGPIPE, so a closed pipe is an error
/// here: nothing more can be shown, so the command ends with success.
pub fn write_stdout(text: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = stdout.write_fmt(text).and_then(|()| stdout.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(exit::OK.into());
        }
        eprintln!("error: cannot write the output: {e}");
        std::process::exit(exit::USAGE.into());
    }
}
