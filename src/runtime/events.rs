//! What a run reports while it runs: `spesc run` shows it as a live view,
//! as lines, or as JSON events (`--events json`).

use std::rc::Rc;

use serde::Serialize;

use crate::journal::record::{Outcome, StepRecord};

/// One event of a run, as `--events json` writes it (one object per line,
/// `"event"` naming the kind).
#[derive(Debug, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event<'e> {
    RunStarted {
        workflow: &'e str,
        plan_hash: &'e str,
        /// Nodes in the plan (loops and fan-outs may run some many times).
        steps: usize,
    },
    StepStarted {
        id: &'e str,
    },
    /// A `for`'s items are known: its body's `steps` nodes run once per
    /// item (the plan's count has them once).
    ItemsKnown {
        id: &'e str,
        items: usize,
        steps: usize,
    },
    /// A streamed reply so far, read as the step's type: the value and
    /// each record field present, complete or still arriving.
    StepPartial {
        id: &'e str,
        value: &'e serde_json::Value,
        fields: &'e std::collections::BTreeMap<String, super::reading::Arrival>,
    },
    AttemptFailed {
        id: &'e str,
        attempt: usize,
        error: &'e str,
    },
    StepFinished {
        #[serde(flatten)]
        step: &'e StepRecord,
    },
    RunFinished {
        #[serde(flatten)]
        outcome: &'e Outcome,
        duration_ms: u64,
    },
}

/// Receives a run's events.
pub trait Observer {
    fn event(&self, event: &Event<'_>);
}

/// Where events go: an observer, or nowhere.
#[derive(Clone, Default)]
pub struct Events(Option<Rc<dyn Observer>>);

impl std::fmt::Debug for Events {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "Events(observed)"
        } else {
            "Events(none)"
        })
    }
}

impl Events {
    pub fn to(observer: Rc<dyn Observer>) -> Events {
        Events(Some(observer))
    }

    pub fn send(&self, event: Event<'_>) {
        if let Some(observer) = &self.0 {
            observer.event(&event);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    struct Collect(RefCell<Vec<String>>);

    impl Observer for Collect {
        fn event(&self, event: &Event<'_>) {
            self.0
                .borrow_mut()
                .push(serde_json::to_string(event).unwrap_or_default());
        }
    }

    #[test]
    fn events_serialize_as_tagged_json_lines() {
        let collect = Rc::new(Collect(RefCell::new(Vec::new())));
        let events = Events::to(collect.clone());
        events.send(Event::StepStarted { id: "draft" });
        events.send(Event::AttemptFailed {
            id: "draft",
            attempt: 1,
            error: "HTTP 500",
        });
        assert_eq!(
            *collect.0.borrow(),
            [
                r#"{"event":"step_started","id":"draft"}"#,
                r#"{"event":"attempt_failed","id":"draft","attempt":1,"error":"HTTP 500"}"#
            ]
        );
        assert_eq!(format!("{:?}", Events::default()), "Events(none)");
    }
}
