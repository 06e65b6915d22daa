//! The journal's commands: `resume`, `approve`, `runs` (and `runs prune`),
//! `show` and `stats`.

use std::path::Path;

use serde_json::{json, Value};

use super::run::{execute, Network, Output, State};
use super::{exit, inputs, usage_error};
use crate::journal::record::{Outcome, StepStatus};
use crate::journal::{RunFilter, RunStore, StoredRun};
use crate::plan::types::Type;
use crate::runtime::RunOptions;

#[derive(clap::Args, Debug)]
pub struct ResumeArgs {
    /// The run: its id, a unique prefix of it, or `last`.
    run: String,
    /// Take the run over even from a process that seems to run it still
    /// (one stuck, or on a machine that cannot tell): with a warning.
    #[arg(long)]
    force: bool,
    #[command(flatten)]
    output: Output,
    #[command(flatten)]
    network: Network,
    #[command(flatten)]
    state: State,
}

/// Continues a failed, interrupted or waiting run: nodes that completed
/// are not run again, answers given with `approve` are used.
pub fn resume(args: ResumeArgs, color: bool) -> u8 {
    let (store, run) = match open(&args.state, &args.run) {
        Ok(both) => both,
        Err(message) => return usage_error(message),
    };
    if run.status == "succeeded" {
        return usage_error(format!("run `{}` already succeeded", run.id));
    }
    let plan = match inputs::compile(Path::new(&run.file), color, exit::USAGE) {
        Ok(plan) => plan,
        Err(code) => return code,
    };
    let Some(workflow) = plan.find(&run.workflow) else {
        return usage_error(format!(
            "`{}` no longer declares workflow `{}`",
            run.file, run.workflow
        ));
    };
    if !run.mock {
        if let Err(message) = super::run::keys_available(&plan) {
            return usage_error(message);
        }
    }
    let resumed = match crate::journal::resume::restorable(&run, &plan, workflow) {
        Ok(outputs) => outputs,
        Err(message) => return usage_error(format!("cannot resume run `{}`: {message}", run.id)),
    };
    match store.claim(&run.id, args.force) {
        Ok(Some(pid)) => eprintln!(
            "warning: took run `{}` over from process {pid}, which still runs; \
             if it runs this run too, a step may be called twice",
            run.id
        ),
        Ok(None) => {}
        Err(message) => return usage_error(message),
    }
    let approvals = match store.take_answers(&run.id) {
        Ok(answers) => answers.into_iter().collect(),
        Err(message) => return usage_error(message),
    };
    let Value::Object(inputs) = run.inputs.clone() else {
        return usage_error(format!("run `{}` has no inputs in the journal", run.id));
    };
    let options = RunOptions {
        approvals,
        resumed,
        mock_all: run.mock,
        events: args.output.observer(color),
        reach: args.network.reach(),
        ..RunOptions::default()
    };
    execute(
        &plan,
        &run.workflow,
        inputs,
        options,
        (store, run.id),
        &args.output,
    )
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum Decision {
    /// Go on with the answer as it is.
    Approve,
    /// Go on, asking for changes (say which with `--comment`).
    Revise,
    /// Stop: the workflow takes the rejection path.
    Reject,
}

#[derive(clap::Args, Debug)]
pub struct ApproveArgs {
    /// The waiting run: its id, a unique prefix of it, or `last`.
    run: String,
    /// The waiting `ask` step (its name or id).
    step: String,
    /// The answer: a `Review`'s decision, or a `Decision` step's value.
    #[arg(long, value_enum)]
    decision: Decision,
    /// A comment for the workflow (a `Review`'s `comment`).
    #[arg(long)]
    comment: Option<String>,
    /// Change an answer given before the run resumed, instead of refusing.
    #[arg(long)]
    replace: bool,
    #[command(flatten)]
    state: State,
}

/// Answers a waiting `ask`; `resume` then continues the run.
pub fn approve(args: ApproveArgs) -> u8 {
    let (store, run) = match open(&args.state, &args.run) {
        Ok(both) => both,
        Err(message) => return usage_error(message),
    };
    let Some(Outcome::Waiting { step, .. }) = &run.outcome else {
        return usage_error(format!(
            "run `{}` is {}, not waiting for an answer",
            run.id, run.status
        ));
    };
    // The step by its instance id, its plan id, or its name.
    let named = step == &args.step
        || crate::plan::instance::plan_id(step) == args.step.as_str()
        || crate::plan::instance::name_of(step) == args.step;
    if !named {
        return usage_error(format!(
            "run `{}` waits on `{step}`, not `{}`",
            run.id, args.step
        ));
    }
    let decision = format!("{:?}", args.decision).to_lowercase();
    // A `Decision` step takes the word; a `Review` the record.
    let answer = if asks_for_decision(&run, step) {
        Value::from(decision.clone())
    } else {
        json!({"decision": decision, "comment": args.comment})
    };
    match store.answer(&run.id, step, &answer, args.replace) {
        Ok(true) => {}
        Ok(false) => {
            return usage_error(format!(
                "`{step}` of run {} is already answered; `spesc resume {}` uses that answer, \
                 or `--replace` changes it",
                run.id, run.id
            ))
        }
        Err(message) => return usage_error(message),
    }
    eprintln!(
        "answered `{step}` of run {}: {decision}; `spesc resume {}` continues it",
        run.id, run.id
    );
    exit::OK
}

/// Whether the waiting step's declared type is `Decision`.
fn asks_for_decision(run: &StoredRun, step: &str) -> bool {
    let Ok(plan) = inputs::compile(Path::new(&run.file), false, exit::USAGE) else {
        return false;
    };
    plan.find(&run.workflow)
        .and_then(|w| crate::plan::instance::resolve(&plan, w, step))
        .is_some_and(|(w, n)| {
            plan.workflow(w)
                .node(n)
                .ty
                .as_ref()
                .map(Type::unwrap_optional)
                == Some(&Type::Named("Decision".to_string()))
        })
}

#[derive(clap::Args, Debug)]
pub struct RunsArgs {
    #[command(subcommand)]
    prune: Option<RunsCommand>,
    /// Only runs with this status: running, succeeded, failed, waiting, interrupted.
    #[arg(long)]
    status: Option<String>,
    /// Only runs of this workflow.
    #[arg(long)]
    workflow: Option<String>,
    #[command(flatten)]
    state: State,
}

#[derive(clap::Subcommand, Debug)]
enum RunsCommand {
    /// Delete runs (all but running ones) older than a duration (`30d`, `12h`, `90m`).
    Prune {
        /// Delete runs that started longer ago than this: a number and
        /// `d`, `h`, `m` or `s` (`30d`). Runs still running are kept.
        #[arg(long, value_name = "AGE")]
        older_than: String,
    },
}

/// Lists runs, newest first, or prunes old ones.
pub fn runs(args: RunsArgs) -> u8 {
    let store = match if args.prune.is_some() {
        args.state.open()
    } else {
        args.state.open_to_read()
    } {
        Ok(store) => store,
        Err(message) => return usage_error(message),
    };
    if let Some(RunsCommand::Prune { older_than }) = &args.prune {
        let Some(age) = age_ms(older_than) else {
            return usage_error(format!(
                "`{older_than}` is not an age such as 30d, 12h or 90m"
            ));
        };
        return match store.prune(age) {
            Ok(n) => {
                eprintln!("pruned {n} runs");
                exit::OK
            }
            Err(message) => usage_error(message),
        };
    }
    let filter = RunFilter {
        status: args.status,
        workflow: args.workflow,
    };
    match store.runs(&filter) {
        Ok(runs) if runs.is_empty() => {
            eprintln!("no runs in the journal match");
            exit::OK
        }
        Ok(runs) => {
            outln!(
                "{:<24} {:<20} {:<11} {:<20}  DURATION",
                "RUN",
                "WORKFLOW",
                "STATUS",
                "STARTED (UTC)"
            );
            for run in runs {
                outln!(
                    "{:<24} {:<20} {:<11} {:<20}  {}",
                    run.id,
                    run.workflow,
                    run.status,
                    utc(run.started_at),
                    run.duration_ms.map_or("-".to_string(), show_ms)
                );
            }
            exit::OK
        }
        Err(message) => usage_error(message),
    }
}

#[derive(clap::Args, Debug)]
pub struct ShowArgs {
    /// The run: its id, a unique prefix of it, or `last`.
    run: String,
    /// The whole run as JSON (inputs, outcome, every node).
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    state: State,
}

/// A run's timeline: every node in completion order.
pub fn show(args: ShowArgs) -> u8 {
    let run = match args
        .state
        .open_to_read()
        .and_then(|store| store.run(&args.run))
    {
        Ok(run) => run,
        Err(message) => return usage_error(message),
    };
    if args.json {
        let mut value = serde_json::to_value(&run).unwrap_or(Value::Null);
        if let Value::Object(fields) = &mut value {
            fields.remove("source");
            fields.insert(
                "totals".into(),
                serde_json::to_value(run.totals()).unwrap_or(Value::Null),
            );
        }
        outln!(
            "{}",
            serde_json::to_string_pretty(&value).unwrap_or_default()
        );
        return exit::OK;
    }
    let totals = run.totals();
    outln!(
        "run {} · {} · {} · started {} · {}",
        run.id,
        run.workflow,
        run.status,
        utc(run.started_at),
        run.duration_ms.map_or("running".to_string(), show_ms)
    );
    for node in &run.nodes {
        let r = &node.record;
        // A loop's count is of iterations (its steps have the attempts).
        let (count, times) = match r.iterations {
            Some(n) => (n, "↻"),
            None => (r.attempts, "×"),
        };
        let mut line = format!(
            "  {} {:<28} {:>3} {times} {:>8}",
            r.status.mark(),
            r.id,
            count,
            show_ms(r.duration_ms)
        );
        if r.waited_ms > 0 {
            line.push_str(&format!(
                "  (waited {} for its inputs)",
                show_ms(r.waited_ms)
            ));
        }
        if let Some(tokens) = r.tokens {
            line.push_str(&format!("  {} tokens", tokens.prompt + tokens.completion));
        }
        if let Some(cost) = r.cost {
            line.push_str(&format!("  ${cost:.4}"));
        }
        if !matches!(r.status, StepStatus::Succeeded) {
            line.push_str(&format!("  {}", r.status.name()));
        }
        if let Some(error) = &r.error {
            line.push_str(&format!(": {error}"));
        }
        outln!("{line}");
    }
    let mut closing = format!("{} tokens", totals.tokens.prompt + totals.tokens.completion);
    if let Some(cost) = totals.cost {
        closing.push_str(&format!(" · ${cost:.4}"));
    }
    outln!("{closing}");
    if let Some(Outcome::Failed { step, error }) = &run.outcome {
        outln!("failed at `{step}`: {error}");
    }
    if let Some(Outcome::Waiting { step, question }) = &run.outcome {
        outln!("waiting at `{step}`: {question}");
    }
    exit::OK
}

#[derive(clap::Args, Debug)]
pub struct StatsArgs {
    /// One workflow (default: every workflow in the journal).
    workflow: Option<String>,
    /// The figures as JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    state: State,
}

/// Per workflow: runs, success rate, and per step min / median / max
/// duration, mean attempts and tokens.
pub fn stats(args: StatsArgs) -> u8 {
    let store = match args.state.open_to_read() {
        Ok(store) => store,
        Err(message) => return usage_error(message),
    };
    let runs = match store.all(args.workflow.as_deref()) {
        Ok(runs) => runs,
        Err(message) => return usage_error(message),
    };
    let stats = crate::journal::stats::of(&runs);
    if args.json {
        outln!(
            "{}",
            serde_json::to_string_pretty(&stats).unwrap_or_default()
        );
        return exit::OK;
    }
    for workflow in stats {
        let rate = workflow
            .success_rate
            .map_or("-".to_string(), |r| format!("{:.0}%", r * 100.0));
        outln!(
            "{} · {} · {rate} succeeded",
            workflow.workflow,
            crate::diagnostic::render::plural(workflow.runs, "run")
        );
        outln!(
            "  {:<28} {:>5} {:>7} {:>9} {:>9} {:>9} {:>9} {:>8} {:>8}",
            "step",
            "runs",
            "ok",
            "min",
            "median",
            "max",
            "waited",
            "attempts",
            "tokens"
        );
        for s in workflow.steps {
            outln!(
                "  {:<28} {:>5} {:>7} {:>9} {:>9} {:>9} {:>9} {:>8.2} {:>8}",
                s.id,
                s.count,
                s.succeeded,
                show_ms(s.min_ms),
                show_ms(s.median_ms),
                show_ms(s.max_ms),
                show_ms(s.median_wait_ms),
                s.mean_attempts,
                s.tokens
            );
        }
    }
    exit::OK
}

fn open(state: &State, id: &str) -> Result<(std::sync::Arc<dyn RunStore>, StoredRun), String> {
    let store = state.open()?;
    let run = store.run(id)?;
    Ok((store, run))
}

/// `840 ms`, `12.3 s`.
fn show_ms(ms: u64) -> String {
    if ms < 1000 {
        format!("{ms} ms")
    } else {
        format!("{:.1} s", ms as f64 / 1000.0)
    }
}

/// `30d`, `12h`, `90m`, `45s` in milliseconds.
fn age_ms(text: &str) -> Option<u64> {
    let (number, unit) = text.split_at(text.find(|c: char| !c.is_ascii_digit())?);
    let n: u64 = number.parse().ok()?;
    let scale = match unit {
        "d" => 86_400_000,
        "h" => 3_600_000,
        "m" => 60_000,
        "s" => 1000,
        _ => return None,
    };
    n.checked_mul(scale)
}

/// Unix milliseconds as `YYYY-MM-DD HH:MM` UTC.
fn utc(ms: u64) -> String {
    let seconds = ms / 1000;
    let (days, rest) = ((seconds / 86_400) as i64, seconds % 86_400);
    // Howard Hinnant's days-to-civil algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}",
        rest / 3600,
        rest % 3600 / 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_and_dates_are_read_and_written() {
        assert_eq!(age_ms("30d"), Some(30 * 86_400_000));
        assert_eq!(age_ms("90m"), Some(90 * 60_000));
        assert_eq!(age_ms("soon"), None);
        assert_eq!(age_ms("5w"), None);
        assert_eq!(utc(0), "1970-01-01 00:00");
        assert_eq!(utc(1_795_296_500_000), "2026-11-21 21:28");
    }
}
