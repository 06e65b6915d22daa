//! `spesc run FILE`: check, lower and execute one workflow.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use std::rc::Rc;
use std::sync::Arc;

use super::progress;
use super::{exit, inputs, usage_error};
use crate::journal::record::{Outcome, RunRecord};
use crate::journal::sqlite::Sqlite;
use crate::journal::{Journal, NewRun, RunStore};
use crate::lang::size::parse_size;
use crate::plan::{Action, Context, Plan};
use crate::providers::recording::{Recorder, Replayer};
use crate::providers::script::Script;
use crate::runtime::events::Events;
use crate::runtime::reach::{Allowed, Reach, DEFAULT_MAX_REDIRECTS};
use crate::runtime::RunOptions;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The `.spes` file to run (with what it imports).
    #[arg(value_name = "FILE")]
    file: PathBuf,

    /// The workflow to run, when the file declares several.
    #[arg(long, value_name = "NAME")]
    workflow: Option<String>,

    /// An input: `--input topic="Rust 2024"` (typed by the parameter).
    #[arg(long = "input", value_name = "KEY=VALUE")]
    inputs: Vec<String>,

    /// Inputs from a JSON object file (`--input` wins on conflicts).
    #[arg(long, value_name = "FILE")]
    input_file: Option<PathBuf>,

    /// Answer every model call with the offline mock provider.
    #[arg(long)]
    mock: bool,

    /// Scripted replies and failures for the mock, per step (docs/running.md).
    #[arg(long, value_name = "FILE")]
    mock_script: Option<PathBuf>,

    /// Record every model request and answer in FILE (JSON lines, keys
    /// and auth headers stripped).
    #[arg(long, value_name = "FILE", conflicts_with = "replay")]
    record: Option<PathBuf>,

    /// Answer model calls from a recording made with --record: no network,
    /// no keys; a request it has not seen fails the step.
    #[arg(long, value_name = "FILE")]
    replay: Option<PathBuf>,

    /// Answers to `ask` steps: a JSON object from step name to answer.
    #[arg(long, value_name = "FILE")]
    answers: Option<PathBuf>,

    /// Call every model, even where a `cache = true` step has a kept answer.
    #[arg(long)]
    no_cache: bool,

    #[command(flatten)]
    output: Output,

    #[command(flatten)]
    network: Network,

    #[command(flatten)]
    state: State,
}

/// Where `fetch` may connect and how much an answer may hold (`run` and
/// `resume`).
#[derive(clap::Args, Debug)]
pub struct Network {
    /// Let `fetch` reach only this host (`api.example.com`,
    /// `*.example.com`) or address or network (`10.0.0.0/8`); repeat for
    /// more. Without it, fetch reaches any address but link-local ones
    /// (169.254.0.0/16, fe80::/10: cloud metadata services).
    #[arg(long = "fetch-allow", value_name = "HOST|CIDR")]
    allow: Vec<Allowed>,

    /// Redirects a fetch follows.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_REDIRECTS)]
    max_redirects: usize,

    /// Follow no redirects: a fetch that is redirected fails.
    #[arg(long, conflicts_with = "max_redirects")]
    no_redirects: bool,

    /// The most a fetched body or a model's reply may hold (`512KiB`,
    /// `16MiB`); a bigger one fails the step as it streams in.
    #[arg(long, value_name = "SIZE", default_value = "32MiB", value_parser = parse_size)]
    max_response_size: u64,
}

impl Network {
    pub fn reach(&self) -> Arc<Reach> {
        Arc::new(Reach {
            allow: self.allow.clone(),
            max_redirects: if self.no_redirects {
                0
            } else {
                self.max_redirects
            },
            max_response_bytes: self.max_response_size,
        })
    }
}

/// Where a run's result and progress go (`run` and `resume`).
#[derive(clap::Args, Debug)]
pub struct Output {
    /// Write the result here instead of stdout.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,

    /// Print only the result and errors: no progress, no closing summary.
    #[arg(long, short)]
    quiet: bool,

    /// Stream events as JSON lines on stdout (the last one holds the result).
    #[arg(long, value_enum, value_name = "FORMAT")]
    events: Option<EventFormat>,
}

impl Output {
    /// Where the run's progress goes; `color`: stderr may be coloured.
    pub fn observer(&self, color: bool) -> Events {
        use std::io::IsTerminal;
        match (self.events, self.quiet) {
            (Some(EventFormat::Json), _) => Events::to(Rc::new(progress::JsonLines)),
            (None, true) => Events::default(),
            (None, false) if std::io::stderr().is_terminal() => {
                Events::to(Rc::new(progress::Live::new(color)))
            }
            (None, false) => Events::to(Rc::new(progress::Lines { color })),
        }
    }
}

/// Where runs are journaled.
#[derive(clap::Args, Debug, Clone)]
pub struct State {
    /// The run database.
    #[arg(long = "state", value_name = "PATH", default_value = ".spes/state.db")]
    pub path: PathBuf,
}

impl State {
    pub fn open(&self) -> Result<Arc<dyn RunStore>, String> {
        Ok(Arc::new(Sqlite::open(&self.path)?))
    }

    /// The store, to read only: opened to write when it can be (which
    /// upgrades an older one), else read-only.
    pub fn open_to_read(&self) -> Result<Arc<dyn RunStore>, String> {
        match Sqlite::open(&self.path) {
            Ok(store) => Ok(Arc::new(store)),
            Err(error) if self.path.is_file() => match Sqlite::open_read_only(&self.path) {
                Ok(store) => Ok(Arc::new(store)),
                Err(_) => Err(error),
            },
            Err(error) => Err(error),
        }
    }
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum EventFormat {
    /// run_started, step_started, attempt_failed, step_finished, run_finished
    Json,
}

/// Refuses a mock script with an entry for no step of the plan: silently
/// ignoring it would run the failure it was written to test as a success.
fn script_fits(script: &Script, plan: &crate::plan::Plan) -> Result<(), String> {
    let unknown = script.unknown_keys(plan);
    if unknown.is_empty() {
        return Ok(());
    }
    let mut names: Vec<&str> = plan
        .workflows
        .iter()
        .flat_map(|w| w.nodes.iter().map(|n| n.name.as_str()))
        .collect();
    names.sort();
    names.dedup();
    let quoted: Vec<String> = unknown.iter().map(|k| format!("`{k}`")).collect();
    let mut message = format!(
        "the mock script names no step of this file: {}",
        quoted.join(", ")
    );
    for key in &unknown {
        if let Some(fix) = crate::suggest::did_you_mean(key, names.iter().copied()) {
            message.push_str(&format!("\n  = help: `{key}`: {fix}"));
        }
    }
    message.push_str(
        "\n  = note: a key is a step's name (`summary`), its id (`summaries.each.summary`), \
         or one item's or iteration's (`summaries.each[1].summary`); `spesc plan` lists the ids",
    );
    Err(message)
}

/// Exit code of a run that waits for a person.
pub const WAITING: u8 = 3;
/// Stopped by Ctrl-C (128 + SIGINT, as a shell reports it).
pub const INTERRUPTED: u8 = 130;

pub fn run(args: Args, color: bool) -> u8 {
    let plan = match inputs::compile(&args.file, color, exit::USAGE) {
        Ok(plan) => plan,
        Err(code) => return code,
    };
    let plan = &plan;
    let workflow = match choose_workflow(plan, args.workflow.as_deref()) {
        Ok(w) => w,
        Err(message) => return usage_error(message),
    };
    let (record, replay) = match recording(args.record.as_deref(), args.replay.as_deref()) {
        Ok(both) => both,
        Err(message) => return usage_error(message),
    };
    if !args.mock && replay.is_none() {
        if let Err(message) = keys_available(plan) {
            return usage_error(message);
        }
    }
    let file = match args.input_file.as_deref() {
        Some(path) => match read_object(path) {
            Ok(values) => Some((path, values)),
            Err(message) => return usage_error(message),
        },
        None => None,
    };
    let inputs = match super::run_inputs::read(plan, &workflow, &args.inputs, file) {
        Ok(inputs) => inputs,
        Err(problems) => {
            for problem in &problems[..problems.len().saturating_sub(1)] {
                eprintln!("error: {problem}");
            }
            return usage_error(problems.last().map_or("", String::as_str));
        }
    };
    let answers = match args.answers.as_deref().map(read_object).transpose() {
        Ok(answers) => answers.unwrap_or_default(),
        Err(message) => return usage_error(message),
    };
    let script = match args.mock_script.as_deref().map(read_script).transpose() {
        Ok(script) => script.unwrap_or_default(),
        Err(message) => return usage_error(message),
    };
    if let Err(message) = script_fits(&script, plan) {
        return usage_error(message);
    }
    let store = match args.state.open() {
        Ok(store) => store,
        Err(message) => return usage_error(message),
    };
    let source =
        crate::files::read_text(&args.file, crate::files::SOURCE_LIMIT).unwrap_or_default();
    let file = std::fs::canonicalize(&args.file).unwrap_or(args.file.clone());
    let new = NewRun {
        workflow: workflow.clone(),
        file: file.display().to_string(),
        source,
        inputs: Value::Object(inputs.clone()),
        plan_hash: plan.hash.clone(),
        mock: args.mock,
    };
    let run_id = match store.create(&new) {
        Ok(id) => id,
        Err(message) => return usage_error(message),
    };
    let options = RunOptions {
        answers: answers.into_iter().collect(),
        script,
        interactive: {
            use std::io::IsTerminal;
            std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
        },
        events: args.output.observer(color),
        mock_all: args.mock,
        record,
        replay,
        no_cache: args.no_cache,
        reach: args.network.reach(),
        ..RunOptions::default()
    };
    execute(
        plan,
        &workflow,
        inputs,
        options,
        (store, run_id),
        &args.output,
    )
}

/// Runs `workflow`, journaled as run `run` of its store, closes the run
/// and prints the result; gives the exit code.
pub fn execute(
    plan: &Plan,
    workflow: &str,
    inputs: Map<String, Value>,
    mut options: RunOptions,
    (store, run): (Arc<dyn RunStore>, String),
    output: &Output,
) -> u8 {
    options.journal = Some(Arc::new(Journal {
        store: store.clone(),
        run: run.clone(),
    }));
    let mut record = crate::runtime::run(plan, workflow, inputs, &options);
    record.id = run;
    if let Err(e) = store.finish(&record.id, &record) {
        eprintln!("warning: the run could not be closed in the journal: {e}");
    }
    finish(&record, output)
}

type Recording = (Option<Arc<Recorder>>, Option<Arc<Replayer>>);

/// Opens the `--record` or `--replay` file before anything runs.
fn recording(record: Option<&Path>, replay: Option<&Path>) -> Result<Recording, String> {
    Ok((
        record.map(Recorder::create).transpose()?.map(Arc::new),
        replay.map(Replayer::load).transpose()?.map(Arc::new),
    ))
}

fn choose_workflow(plan: &Plan, asked: Option<&str>) -> Result<String, String> {
    let available = plan.root_workflows();
    match asked {
        Some(name) if plan.find(name).is_some() => Ok(name.to_string()),
        Some(name) => Err(format!(
            "no workflow `{name}`; this file declares {}",
            crate::suggest::one_of(&available)
        )),
        None => match available.as_slice() {
            [only] => Ok(only.to_string()),
            [] => Err("this file declares no workflow".to_string()),
            many => Err(format!(
                "this file declares several workflows; choose one with --workflow ({})",
                many.join(", ")
            )),
        },
    }
}

/// Refuses a run, before any call, when a key it needs is not set: every
/// missing variable named with the models that need it. Keys are not
/// needed under `--mock` or `--replay`, which send nothing.
pub fn keys_available(plan: &Plan) -> Result<(), String> {
    let mut missing: Vec<(&str, &str)> = used_models(plan)
        .into_iter()
        .map(|m| plan.model(m))
        .filter_map(|m| Some((m.key_env.as_deref()?, m.name.as_str())))
        .filter(|(variable, _)| crate::providers::key_from_env(variable).is_none())
        .collect();
    missing.sort();
    missing.dedup();
    if missing.is_empty() {
        return Ok(());
    }
    let listed: Vec<String> = missing
        .iter()
        .map(|(variable, model)| format!("`{variable}` (model `{model}`)"))
        .collect();
    Err(format!(
        "API keys are not set: {}; export them, or run with --mock",
        listed.join(", ")
    ))
}

/// The models some step of the plan may call.
fn used_models(plan: &Plan) -> Vec<crate::plan::ModelId> {
    let mut used = Vec::new();
    for node in plan.workflows.iter().flat_map(|w| &w.nodes) {
        if let Action::Llm(llm) = &node.action {
            used.extend(llm.models.iter().map(|a| a.model));
            if let Context::Summarized { model: Some(m), .. } = llm.context {
                used.push(m);
            }
        }
    }
    used.sort();
    used.dedup();
    used
}

fn read_script(path: &Path) -> Result<Script, String> {
    let text = crate::files::read_text(path, crate::files::DATA_LIMIT)?;
    Script::parse(&text).map_err(|e| format!("`{}`: {e}", path.display()))
}

fn read_object(path: &Path) -> Result<Map<String, Value>, String> {
    let text = crate::files::read_text(path, crate::files::DATA_LIMIT)?;
    match serde_json::from_str(&text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(format!("`{}` must hold a JSON object", path.display())),
        Err(e) => Err(format!("`{}` is not valid JSON: {e}", path.display())),
    }
}

/// Prints the result (unless events already carried it) and says how the
/// run ended.
fn finish(record: &RunRecord, how: &Output) -> u8 {
    let (out, streamed) = (how.out.as_deref(), how.events.is_some());
    match &record.outcome {
        Outcome::Succeeded { output } => {
            let text = serde_json::to_string_pretty(output).unwrap_or_default() + "\n";
            match out {
                Some(path) => {
                    if let Err(e) = std::fs::write(path, text) {
                        return usage_error(format!("cannot write `{}`: {e}", path.display()));
                    }
                }
                None if streamed => {}
                None => out!("{text}"),
            }
            if !how.quiet {
                eprintln!(
                    "run {} succeeded in {} ms{}",
                    record.id,
                    record.duration_ms,
                    totals(record)
                );
            }
            exit::OK
        }
        Outcome::Failed { step, error } => {
            eprintln!("error: step `{step}` failed: {error}");
            if let Some(failed) = record.steps.iter().rev().find(|s| s.id == *step) {
                for (n, why) in failed.retried.iter().enumerate() {
                    eprintln!("  attempt {}: {why}", n + 1);
                }
            }
            eprintln!(
                "run {} failed in {} ms{}",
                record.id,
                record.duration_ms,
                totals(record)
            );
            exit::ERRORS
        }
        Outcome::Interrupted => {
            eprintln!(
                "run {} interrupted after {} ms; continue it with `spesc resume {}`",
                record.id, record.duration_ms, record.id
            );
            INTERRUPTED
        }
        Outcome::Waiting { step, question } => {
            eprintln!("waiting: step `{step}` asks: {question}");
            eprintln!(
                "answer it with `spesc approve {} {step} --decision approve|revise|reject`, then `spesc resume {}` (or run again with --answers FILE)",
                record.id, record.id
            );
            WAITING
        }
    }
}

/// ` · 1234 tokens · $0.0123` when the run used any.
fn totals(record: &RunRecord) -> String {
    let tokens = record.totals.tokens.prompt + record.totals.tokens.completion;
    let mut out = String::new();
    if tokens > 0 {
        out.push_str(&format!(" · {tokens} tokens"));
    }
    if let Some(cost) = record.totals.cost {
        out.push_str(&format!(" · ${cost:.4}"));
    }
    out
}
