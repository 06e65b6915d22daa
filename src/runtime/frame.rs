//! Where evaluation happens: a [`Frame`] per running block holds a
//! [`Slot`] for each of its statements and the variables bound there;
//! frames chain to the blocks around them. Reading a node's output waits
//! on its slot, so references are the dependencies at run time too.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use serde_json::Value;
use tokio::sync::Notify;

use super::limits::Caps;
use super::Stop;
use crate::plan::{NodeId, WorkflowId};

/// A node's output, filled once.
#[derive(Default)]
pub struct Slot {
    value: RefCell<Option<Result<Value, Stop>>>,
    ready: Notify,
    /// When it was filled, in the run's completion order.
    pub completed: Cell<u64>,
}

impl Slot {
    pub fn set(&self, value: Result<Value, Stop>, order: u64) {
        self.completed.set(order);
        *self.value.borrow_mut() = Some(value);
        self.ready.notify_waiters();
    }

    pub fn peek(&self) -> Option<Result<Value, Stop>> {
        self.value.borrow().clone()
    }

    /// Waits until the slot is filled.
    pub async fn get(&self) -> Result<Value, Stop> {
        loop {
            let notified = self.ready.notified();
            tokio::pin!(notified);
            // Registered before looking, so a fill in between is not missed.
            notified.as_mut().enable();
            if let Some(value) = self.peek() {
                return value;
            }
            notified.await;
        }
    }
}

/// A running block: its statements' slots, the variables bound in it,
/// and the prefix of its statements' instance ids.
pub struct Frame {
    parent: Option<Rc<Frame>>,
    pub workflow: WorkflowId,
    /// `summaries.each[3].`: a statement's instance id is this and its name.
    pub prefix: Rc<str>,
    vars: Vec<(String, Value)>,
    slots: HashMap<NodeId, Rc<Slot>>,
    /// The concurrency caps of the workflow runs it is inside.
    pub caps: Rc<Caps>,
}

impl Frame {
    /// The frame of one run of a workflow: its inputs bound.
    pub fn root(
        workflow: WorkflowId,
        prefix: &str,
        inputs: serde_json::Map<String, Value>,
        caps: Rc<Caps>,
    ) -> Rc<Frame> {
        Rc::new(Frame {
            parent: None,
            workflow,
            prefix: prefix.into(),
            vars: inputs.into_iter().collect(),
            slots: HashMap::new(),
            caps,
        })
    }

    /// A block inside `parent`: `nodes` get slots, `vars` are bound.
    pub fn block(
        parent: &Rc<Frame>,
        prefix: &str,
        nodes: &[NodeId],
        vars: Vec<(String, Value)>,
    ) -> Rc<Frame> {
        Rc::new(Frame {
            parent: Some(parent.clone()),
            workflow: parent.workflow,
            prefix: prefix.into(),
            vars,
            slots: nodes
                .iter()
                .map(|n| (*n, Rc::new(Slot::default())))
                .collect(),
            caps: parent.caps.clone(),
        })
    }

    /// Variables bound on top of `parent`, in the same block (`this`).
    pub fn with(parent: &Rc<Frame>, vars: Vec<(String, Value)>) -> Rc<Frame> {
        Rc::new(Frame {
            parent: Some(parent.clone()),
            workflow: parent.workflow,
            prefix: parent.prefix.clone(),
            vars,
            slots: HashMap::new(),
            caps: parent.caps.clone(),
        })
    }

    /// The slot of `node`, in this block or one around it.
    pub fn slot(&self, node: NodeId) -> Option<Rc<Slot>> {
        match self.slots.get(&node) {
            Some(slot) => Some(slot.clone()),
            None => self.parent.as_ref()?.slot(node),
        }
    }

    /// The value of variable `name`, innermost first.
    pub fn var(&self, name: &str) -> Option<&Value> {
        match self.vars.iter().rev().find(|(n, _)| n == name) {
            Some((_, value)) => Some(value),
            None => self.parent.as_ref()?.var(name),
        }
    }
}

/// Where an expression is evaluated: its frame, and the instance id of
/// the statement it belongs to (a composite's branches are named after it).
#[derive(Clone)]
pub struct Env {
    pub frame: Rc<Frame>,
    pub owner: Rc<str>,
}

impl Env {
    pub fn new(frame: Rc<Frame>, owner: &str) -> Env {
        Env {
            frame,
            owner: owner.into(),
        }
    }

    /// The same place with `vars` bound.
    pub fn with(&self, vars: Vec<(String, Value)>) -> Env {
        Env {
            frame: Frame::with(&self.frame, vars),
            owner: self.owner.clone(),
        }
    }
}
