//! `spesc plan FILE [--json]` and `spesc graph FILE [--format mermaid|dot]`:
//! check a file, then print its execution plan as text, JSON or a picture.

use std::path::PathBuf;

use clap::ValueEnum;

use super::{exit, inputs};
use crate::plan::{draw, text, Plan};

#[derive(clap::Args, Debug)]
pub struct PlanArgs {
    /// The `.spes` file to plan (with what it imports).
    #[arg(value_name = "FILE")]
    file: PathBuf,

    /// Print the plan as JSON (schema: docs/plan.md).
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args, Debug)]
pub struct GraphArgs {
    /// The `.spes` file to draw (with what it imports).
    #[arg(value_name = "FILE")]
    file: PathBuf,

    /// The drawing language.
    #[arg(long, value_enum, default_value_t = GraphFormat::Mermaid)]
    format: GraphFormat,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum GraphFormat {
    /// Mermaid `flowchart`, for Markdown and GitHub.
    Mermaid,
    /// Graphviz DOT: `spesc graph f.spes --format dot | dot -Tsvg > f.svg`.
    Dot,
}

pub fn run_plan(args: PlanArgs, color: bool) -> u8 {
    with_plan(&args.file, color, |plan| {
        if args.json {
            plan.to_json() + "\n"
        } else {
            text::render(plan)
        }
    })
}

pub fn run_graph(args: GraphArgs, color: bool) -> u8 {
    with_plan(&args.file, color, |plan| match args.format {
        GraphFormat::Mermaid => draw::mermaid(plan),
        GraphFormat::Dot => draw::dot(plan),
    })
}

/// Checks `file`; prints its diagnostics to stderr, and on success what
/// `show` makes of the plan to stdout.
fn with_plan(file: &std::path::Path, color: bool, show: impl Fn(&Plan) -> String) -> u8 {
    match inputs::compile(file, color, exit::ERRORS) {
        Ok(plan) => {
            out!("{}", show(&plan));
            exit::OK
        }
        Err(code) => code,
    }
}
