//! How `spesc run` shows a run while it runs: a live view on a terminal,
//! one line per event otherwise, JSON events with `--events json`, or
//! nothing with `--quiet`.

use std::cell::RefCell;
use std::collections::HashMap;

use indicatif::{ProgressBar, ProgressStyle};

use crate::journal::record::{StepRecord, StepStatus};
use crate::runtime::events::{Event, Observer};
use crate::runtime::reading::Arrival;

/// `✓ draft succeeded (12 ms, 2 attempts, model sonnet)`, the mark and
/// status coloured when `color`.
pub fn step_line(step: &StepRecord, color: bool) -> String {
    let (mark, status) = (step.status.mark(), step.status.name());
    let mut details = format!("{} ms", step.duration_ms);
    match step.iterations {
        Some(1) => details.push_str(", 1 iteration"),
        Some(n) => details.push_str(&format!(", {n} iterations")),
        None if step.attempts > 1 => details.push_str(&format!(", {} attempts", step.attempts)),
        None => {}
    }
    if let Some(model) = &step.model {
        details.push_str(&format!(", model {model}"));
    }
    let (start, end) = if color {
        (paint(step.status), "\x1b[0m")
    } else {
        ("", "")
    };
    let mut line = format!(
        "{start}{mark}{end} {} {start}{status}{end} ({details})",
        step.id
    );
    if let Some(error) = &step.error {
        line.push_str(&format!(": {error}"));
    }
    line
}

/// The colour of a status: green done, red failed, yellow degraded or
/// waiting, dim when nothing ran.
fn paint(status: StepStatus) -> &'static str {
    match status {
        StepStatus::Succeeded | StepStatus::Resumed | StepStatus::Given => "\x1b[32m",
        StepStatus::Failed => "\x1b[31m",
        StepStatus::Degraded | StepStatus::Waiting | StepStatus::Compensated => "\x1b[33m",
        StepStatus::Skipped => "\x1b[2m",
    }
}

/// `  ↻ draft attempt 1 failed: …`, the mark yellow when `color`.
fn retry_line(id: &str, attempt: usize, error: &str, color: bool) -> String {
    let mark = if color { "\x1b[33m↻\x1b[0m" } else { "↻" };
    format!("  {mark} {id} attempt {attempt} failed: {error}")
}

/// One line per finished step and failed attempt, on stderr.
pub struct Lines {
    pub color: bool,
}

impl Observer for Lines {
    fn event(&self, event: &Event<'_>) {
        match event {
            Event::StepFinished { step } => eprintln!("{}", step_line(step, self.color)),
            Event::AttemptFailed { id, attempt, error } => {
                eprintln!("{}", retry_line(id, *attempt, error, self.color));
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
    /// What a streaming step has so far (`title ✓ sections …`), by step.
    arriving: RefCell<HashMap<String, String>>,
    color: bool,
}

impl Live {
    pub fn new(color: bool) -> Live {
        let bar = ProgressBar::new(0);
        if let Ok(style) = ProgressStyle::with_template(
            "{bar:30} {pos}/{len} steps · {elapsed} · ETA {eta} · {msg}",
        ) {
            bar.set_style(style);
        }
        Live {
            bar,
            running: RefCell::new(Vec::new()),
            arriving: RefCell::new(HashMap::new()),
            color,
        }
    }

    fn show_running(&self) {
        let running = self.running.borrow();
        let arriving = self.arriving.borrow();
        let shown: Vec<String> = running
            .iter()
            .take(4)
            .map(|id| match arriving.get(id) {
                Some(fields) => format!("{id} [{fields}]"),
                None => id.clone(),
            })
            .collect();
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
            Event::ItemsKnown { items, steps, .. } => {
                // The plan counts a `for`'s body once; it runs per item.
                let length = self.bar.length().unwrap_or(0) + (items * steps) as u64;
                self.bar.set_length(length.saturating_sub(*steps as u64));
            }
            Event::StepPartial { id, fields, .. } => {
                let shown: Vec<String> = fields
                    .iter()
                    .map(|(name, arrival)| match arrival {
                        Arrival::Complete => format!("{name} ✓"),
                        Arrival::Arriving => format!("{name} …"),
                    })
                    .collect();
                self.arriving
                    .borrow_mut()
                    .insert(id.to_string(), shown.join(" "));
                self.show_running();
            }
            Event::AttemptFailed { id, attempt, error } => {
                self.bar
                    .println(retry_line(id, *attempt, error, self.color));
            }
            Event::StepFinished { step } => {
                self.running.borrow_mut().retain(|r| *r != step.id);
                self.arriving.borrow_mut().remove(&step.id);
                // Loop bodies run their steps many times, unknown ahead.
                if self.bar.position() >= self.bar.length().unwrap_or(0) {
                    self.bar.inc_length(1);
                }
                self.bar.inc(1);
                self.bar.println(step_line(step, self.color));
                self.show_running();
            }
            Event::RunFinished { .. } => self.bar.finish_and_clear(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(status: StepStatus, attempts: u64, iterations: Option<u64>) -> StepRecord {
        serde_json::from_value(serde_json::json!({
            "id": "review", "status": status.name(), "attempts": attempts, "duration_ms": 12,
        }))
        .map(|r: StepRecord| StepRecord { iterations, ..r })
        .expect("a record")
    }

    #[test]
    fn loops_show_iterations_and_statuses_are_coloured_on_request() {
        let looped = record(StepStatus::Succeeded, 0, Some(3));
        assert_eq!(
            step_line(&looped, false),
            "✓ review succeeded (12 ms, 3 iterations)"
        );
        let retried = record(StepStatus::Failed, 2, None);
        assert_eq!(
            step_line(&retried, false),
            "✗ review failed (12 ms, 2 attempts)"
        );
        assert_eq!(
            step_line(&retried, true),
            "\x1b[31m✗\x1b[0m review \x1b[31mfailed\x1b[0m (12 ms, 2 attempts)"
        );
    }
}
