//! How fast a run may go: the `max_concurrency` caps of the workflow runs
//! an action is inside ([`Caps`]), and per model ([`Limits`]) its
//! `concurrency`, its `rpm` (calls paced evenly across every step and item
//! that use the model), a shared pause after the provider said to wait,
//! and its circuit breaker.

use std::cell::{Cell, RefCell};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

use crate::lang::model::{Breaker, Model};
use crate::plan::ModelId;

/// The caps of the workflow runs an action is inside, outermost first: a
/// called workflow's own `max_concurrency` applies within it, its caller's
/// still applies around it.
#[derive(Default)]
pub struct Caps(Vec<Arc<Semaphore>>);

impl Caps {
    /// The caps inside a run of a workflow with `cap`, within `outer`.
    pub fn within(outer: &Caps, cap: Option<u64>) -> Caps {
        let mut caps = outer.0.clone();
        if let Some(n) = cap {
            caps.push(Arc::new(Semaphore::new(n.max(1) as usize)));
        }
        Caps(caps)
    }

    /// Waits for a place under every cap. Taken outermost first, so two
    /// actions never wait on each other's places.
    pub async fn acquire(&self) -> Vec<OwnedSemaphorePermit> {
        let mut permits = Vec::with_capacity(self.0.len());
        for cap in &self.0 {
            // A semaphore is closed only when dropped; ours live as long
            // as the run.
            if let Ok(permit) = cap.clone().acquire_owned().await {
                permits.push(permit);
            }
        }
        permits
    }
}

/// Every model's limits during one run.
pub struct Limits {
    models: Vec<Gate>,
}

struct Gate {
    slots: Option<Arc<Semaphore>>,
    /// Between two calls, from `rpm`.
    interval: Option<Duration>,
    /// When the next paced call may start.
    next: Cell<Option<Instant>>,
    /// No call before this: the provider asked to wait (429).
    paused_until: Cell<Option<Instant>>,
    breaker: Breaker,
    state: RefCell<BreakerState>,
}

#[derive(Default)]
struct BreakerState {
    failures: u64,
    open_until: Option<Instant>,
}

/// A model call's place: held until the call is done.
pub struct Admission {
    _slot: Option<OwnedSemaphorePermit>,
}

impl Limits {
    pub fn new(models: &[Model]) -> Limits {
        Limits {
            models: models
                .iter()
                .map(|m| Gate {
                    slots: m
                        .concurrency
                        .map(|n| Arc::new(Semaphore::new(n.max(1) as usize))),
                    interval: m
                        .rpm
                        .filter(|n| *n > 0)
                        .map(|n| Duration::from_secs_f64(60.0 / n as f64)),
                    next: Cell::new(None),
                    paused_until: Cell::new(None),
                    breaker: m.breaker,
                    state: RefCell::new(BreakerState::default()),
                })
                .collect(),
        }
    }

    /// Waits until `model` may be called: a free place under its
    /// `concurrency`, the end of a pause the provider asked for, and its
    /// turn under its `rpm`.
    pub async fn admit(&self, model: ModelId) -> Admission {
        let Some(gate) = self.models.get(model.index()) else {
            return Admission { _slot: None };
        };
        let slot = match &gate.slots {
            Some(slots) => slots.clone().acquire_owned().await.ok(),
            None => None,
        };
        if let Some(until) = gate.paused_until.get() {
            tokio::time::sleep_until(until).await;
        }
        if let Some(interval) = gate.interval {
            let now = Instant::now();
            let start = gate.next.get().map_or(now, |next| next.max(now));
            gate.next.set(Some(start + interval));
            tokio::time::sleep_until(start).await;
        }
        Admission { _slot: slot }
    }

    /// The provider said to wait (`Retry-After`): every call of `model`
    /// waits, not only the one that was told.
    pub fn pause(&self, model: ModelId, wait: Duration) {
        if let Some(gate) = self.models.get(model.index()) {
            let until = Instant::now() + wait;
            if gate.paused_until.get().is_none_or(|u| u < until) {
                gate.paused_until.set(Some(until));
            }
        }
    }

    /// How long `model`'s breaker stays open, if it is open. After the
    /// cooldown one call goes through (half-open): a success closes the
    /// breaker, a failure opens it again.
    pub fn open_for(&self, model: ModelId) -> Option<Duration> {
        let gate = self.models.get(model.index())?;
        let until = gate.state.borrow().open_until?;
        until.checked_duration_since(Instant::now())
    }

    /// A call of `model` failed the way a broken model fails (not a rate
    /// limit: that is the provider pacing us).
    pub fn failed(&self, model: ModelId) {
        let Some(gate) = self.models.get(model.index()) else {
            return;
        };
        let mut state = gate.state.borrow_mut();
        state.failures += 1;
        if state.failures >= gate.breaker.failures {
            state.open_until =
                Some(Instant::now() + Duration::from_millis(gate.breaker.cooldown_ms));
        }
    }

    pub fn succeeded(&self, model: ModelId) {
        if let Some(gate) = self.models.get(model.index()) {
            *gate.state.borrow_mut() = BreakerState::default();
        }
    }
}
