//! How `spesc run` shows a run while it runs: a live view on a terminal,
//! one line per event otherwise, JSON events with `--events json`, or
//! nothing with `--quiet`.

use std::cell::RefCell;

use indicatif::{ProgressBar, ProgressStyle};

use crate::journal::record::StepRecord;
use crate::runtime::events::{Event, Observer};

/// `✓ draft succeeded (12 ms, 2 attempts, model sonnet)`
pub fn step_line(step: &StepRecord) -> String {
    let (mark, status) = (step.status.mark(), step.status.name());
    let mut details = format!("{} ms", step.duration_ms);
    if step.attempts > 1 {
        details.push_str(&format!(", {} attempts", step.attempts));
    }
    if let Some(model) = &step.model {
        details.push_str(&format!(", model {model}"));
    }
    let mut line = format!("{mark} {} {status} ({details})", step.id);
    if let Some(error) = &step.error {
        line.push_str(&format!(": {error}"));
    }
    line
}

/// One line per finished step and failed attempt, on stderr.
pub struct Lines;

impl Observer for Lines {
    fn event(&self, event: &Event<'_>) {
        match event {
            Event::StepFinished { step } => eprintln!("{}", step_line(step)),
            Event::AttemptFailed { id, attempt, error } => {
                eprintln!("  ↻ {id} attempt {attempt} failed: {error}");
            }
            _ => {}
        }
    }
}

/// Every event as a JSON object on its own line, on stdout.
pub struct JsonLines;

impl Observer for JsonLines {
    fn event(&self, event: &Event<'_>) {
        if let Ok(line) = serde_json::to_string(event) {
            outln!("{line}");
        }
    }
}

/// A progress bar on stderr: steps done of the plan's, what is running,
/// an ETA; finished steps print above it.
pub struct Live {
    bar: ProgressBar,
    running: RefCell<Vec<String>>,
}

impl Live {
    pub fn new() -> Live {
        let bar = ProgressBar::new(0);
        if let Ok(style) = ProgressStyle::with_template(
            "{bar:30} {pos}/{len} steps · {elapsed} · ETA {eta} · {msg}",
        ) {
            bar.set_style(style);
        }
        Live {
            bar,
            running: RefCell::new(Vec::new()),
        }
    }

    fn show_running(&self) {
        let running = self.running.borrow();
        let shown: Vec<&str> = running.iter().take(4).map(String::as_str).collect();
        let more = running.len().saturating_sub(shown.len());
        let mut message = shown.join(", ");
        if more > 0 {
            message.push_str(&format!(" +{more}"));
        }
        self.bar.set_message(message);
    }
}

impl Observer for Live {
    fn event(&self, event: &Event<'_>) {
        match event {
            Event::RunStarted { steps, .. } => self.bar.set_length(*steps as u64),
            Event::StepStarted { id } => {
                self.running.borrow_mut().push(id.to_string());
                self.show_running();
            }
            Event::AttemptFailed { id, attempt, error } => {
                self.bar
                    .println(format!("  ↻ {id} attempt {attempt} failed: {error}"));
            }
            Event::StepFinished { step } => {
                self.running.borrow_mut().retain(|r| *r != step.id);
                // Loop bodies and fan-outs run their steps many times.
                if self.bar.position() >= self.bar.length().unwrap_or(0) {
                    self.bar.inc_length(1);
                }
                self.bar.inc(1);
                self.bar.println(step_line(step));
                self.show_running();
            }
            Event::RunFinished { .. } => self.bar.finish_and_clear(),
        }
    }
}
