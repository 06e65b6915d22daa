//! The interpreter's state during one run, and how statements run: every
//! statement of a block starts at once; each fills its slot when done —
//! after it is journaled, so nothing reads a node that is not durable.

use std::cell::{Cell, OnceCell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use std::time::{Duration, Instant};

use futures_util::future::{join_all, LocalBoxFuture};
use serde_json::{Map, Value};

use super::events::Event;
use super::frame::{Env, Frame};
use super::limits::{Caps, Limits};
use super::{Eval, Fault, RunOptions, Stop};
use crate::journal::record::{StepRecord, StepStatus, Tokens};
use crate::plan::expr::Expr;
use crate::plan::{Action, Exec, Node, NodeId, Plan, WorkflowId};
use crate::providers::script::Script;

pub struct Engine<'p> {
    pub plan: &'p Plan,
    pub options: &'p RunOptions,
    pub limits: Limits,
    records: RefCell<Vec<StepRecord>>,
    /// The first journal write that failed: once one has, no step starts.
    unjournaled: RefCell<Option<Stop>>,
    /// Steps with `compensate` that succeeded, in completion order.
    completed: RefCell<Vec<(String, &'p Exec, Env)>>,
    pub script: RefCell<Script>,
    resumed: RefCell<HashMap<String, Value>>,
    pub approvals: RefCell<HashMap<String, Value>>,
    /// Held while a person is asked on the terminal.
    pub terminal: tokio::sync::Mutex<()>,
    /// The run's pooled HTTP clients, made on first use: the models' and
    /// fetch's (which resolves and redirects within `--fetch-allow`).
    http: OnceCell<Result<reqwest::Client, String>>,
    fetch_http: OnceCell<Result<reqwest::Client, String>>,
    /// How many nodes have completed: each slot keeps its place.
    order: Cell<u64>,
    /// Why each rejected attempt of an instance was rejected.
    retried: RefCell<HashMap<String, Vec<String>>>,
    /// The repairs an `exec`'s output or a `fetch`'s body needed to be read
    /// as its step's type, by step (a model's are in its answer).
    pub(super) read_repairs: RefCell<HashMap<String, Vec<String>>>,
}

/// How a statement ended.
pub struct Done {
    pub status: StepStatus,
    pub attempts: u64,
    pub error: Option<String>,
    /// What a waiting step asks.
    pub question: Option<String>,
    pub value: Value,
    pub answer: Option<Answer>,
    /// How long it waited for its inputs before its own work began.
    pub waited: Duration,
}

impl Done {
    pub fn new(status: StepStatus, attempts: u64, value: Value) -> Done {
        Done {
            status,
            attempts,
            error: None,
            question: None,
            value,
            answer: None,
            waited: Duration::ZERO,
        }
    }
}

/// How a model answered a step, for its record.
pub struct Answer {
    pub model: String,
    pub repairs: Vec<String>,
    pub prompt: String,
    pub tokens: Option<Tokens>,
    pub cost: Option<f64>,
    pub cached: bool,
}

impl<'p> Engine<'p> {
    pub fn new(plan: &'p Plan, options: &'p RunOptions) -> Engine<'p> {
        Engine {
            plan,
            options,
            limits: Limits::new(&plan.models),
            records: RefCell::new(Vec::new()),
            unjournaled: RefCell::new(None),
            completed: RefCell::new(Vec::new()),
            script: RefCell::new(options.script.clone()),
            resumed: RefCell::new(options.resumed.clone()),
            approvals: RefCell::new(options.approvals.clone()),
            terminal: tokio::sync::Mutex::new(()),
            http: OnceCell::new(),
            fetch_http: OnceCell::new(),
            order: Cell::new(0),
            retried: RefCell::new(HashMap::new()),
            read_repairs: RefCell::new(HashMap::new()),
        }
    }

    pub fn into_records(self) -> Vec<StepRecord> {
        self.records.into_inner()
    }

    /// Runs `root` to its result on a new runtime, within its deadline;
    /// a failed run is compensated.
    pub fn run_root(&self, root: WorkflowId, inputs: Map<String, Value>) -> Result<Value, Stop> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .enable_io()
            .build()
            .map_err(|e| Stop::Failed {
                step: self.plan.workflow(root).name.clone(),
                error: format!("cannot start the runtime: {e}"),
            })?;
        let result = runtime.block_on(async {
            let workflow = self.plan.workflow(root);
            let caps = Caps::default();
            let run = self.run_workflow(root, String::new(), inputs, &caps);
            let run = async {
                // Dropping the run on Ctrl-C stops its commands (their
                // process groups are killed) and its requests; nothing is
                // compensated, so `resume` can continue where it was.
                tokio::select! {
                    result = run => result,
                    // A handler that cannot be installed never fires.
                    Ok(()) = tokio::signal::ctrl_c() => Err(Stop::Interrupted),
                }
            };
            let result = match workflow.deadline_ms {
                Some(ms) => tokio::time::timeout(Duration::from_millis(ms), run)
                    .await
                    .unwrap_or_else(|_| {
                        Err(Stop::Failed {
                            step: workflow.name.clone(),
                            error: format!("the workflow's deadline of {ms} ms passed"),
                        })
                    }),
                None => run.await,
            };
            if matches!(result, Err(Stop::Failed { .. })) {
                self.compensate().await;
            }
            result
        });
        // Not a plain drop, which would wait for a terminal read an
        // interrupted `ask` left behind.
        runtime.shutdown_background();
        result
    }

    /// The pooled HTTP client of the run.
    pub fn http(&self) -> Eval<&reqwest::Client> {
        self.http
            .get_or_init(|| {
                reqwest::Client::builder()
                    .user_agent(concat!("spesc/", env!("CARGO_PKG_VERSION")))
                    .build()
                    .map_err(|e| format!("cannot start the HTTP client: {e}"))
            })
            .as_ref()
            .map_err(|e| Fault::Error(e.clone()))
    }

    /// The pooled HTTP client of the run's `fetch` steps.
    pub fn fetch_http(&self) -> Eval<&reqwest::Client> {
        self.fetch_http
            .get_or_init(|| super::reach::Reach::client(&self.options.reach))
            .as_ref()
            .map_err(|e| Fault::Error(e.clone()))
    }

    // ---- workflows and blocks ------------------------------------------------------

    /// One run of `workflow` with `inputs`, its instance ids prefixed with
    /// `prefix` (`""` at the top, `t/` for a call made by step `t`).
    pub fn run_workflow<'s>(
        &'s self,
        workflow: WorkflowId,
        prefix: String,
        inputs: Map<String, Value>,
        outer: &'s Caps,
    ) -> LocalBoxFuture<'s, Result<Value, Stop>> {
        Box::pin(async move {
            let plan = self.plan.workflow(workflow);
            let inputs = self
                .with_defaults(workflow, inputs)
                .await
                .map_err(|f| stop_of(f, &plan.name))?;
            let caps = Rc::new(Caps::within(outer, plan.max_concurrency));
            let root = Frame::root(workflow, &prefix, inputs, caps);
            let frame = Frame::block(&root, &prefix, &plan.body, Vec::new());
            self.run_block(&plan.body, &frame).await?;
            match &plan.result {
                Some(result) => {
                    let owner = prefix.trim_end_matches('/');
                    self.eval(result, &Env::new(frame, owner))
                        .await
                        .map_err(|f| stop_of(f, &plan.name))
                }
                None => Ok(Value::Null),
            }
        })
    }

    /// The inputs of a workflow with its parameter defaults filled in.
    pub async fn with_defaults(
        &self,
        workflow: WorkflowId,
        mut inputs: Map<String, Value>,
    ) -> Eval<Map<String, Value>> {
        let plan = self.plan.workflow(workflow);
        let empty = Frame::root(workflow, "", Map::new(), Rc::new(Caps::default()));
        for param in &plan.params {
            if inputs.contains_key(&param.name) {
                continue;
            }
            if let Some(default) = &param.default {
                let value = self.eval(default, &Env::new(empty.clone(), "")).await?;
                inputs.insert(param.name.clone(), value);
            }
        }
        Ok(inputs)
    }

    /// Starts every statement of a block (its frame has their slots) at
    /// once; the first stop, in statement order, once all have finished.
    pub fn run_block<'s>(
        &'s self,
        nodes: &'s [NodeId],
        frame: &'s Rc<Frame>,
    ) -> LocalBoxFuture<'s, Result<(), Stop>> {
        Box::pin(async move {
            join_all(nodes.iter().map(|node| self.statement(*node, frame))).await;
            for node in nodes {
                if let Some(Err(stopped)) = frame.slot(*node).and_then(|s| s.peek()) {
                    return Err(stopped);
                }
            }
            Ok(())
        })
    }

    /// Runs a statement (or takes its output from the journal of the run
    /// being resumed) and fills its slot.
    async fn statement(&self, node: NodeId, frame: &Rc<Frame>) {
        let plan = self.plan.workflow(frame.workflow).node(node);
        let id = format!("{}{}", frame.prefix, plan.name);
        let started = Instant::now();
        let restored = self.resumed.borrow_mut().remove(&id);
        let lost = self.unjournaled.borrow().clone();
        let result = match restored {
            // A run that cannot keep what it does must not go on doing it.
            _ if let Some(stop) = lost => Err(stop),
            Some(value) => {
                self.record(&id, plan, Done::new(StepStatus::Resumed, 0, value), started)
            }
            None => {
                let env = Env::new(frame.clone(), &id);
                let done = match &plan.action {
                    Action::Let { value } => self.let_value(value, &env).await,
                    Action::Loop(l) => self.run_loop(l, &env, &id).await,
                    _ => self.step(plan, &env, &id).await,
                };
                match done {
                    Ok(done) => self.record(&id, plan, done, started),
                    // An input failed: this is not run, and says so (the
                    // failed step has its own record). Not restored on
                    // resume, so it runs then.
                    Err(Fault::Stop(Stop::Failed { step, error })) => {
                        let mut skipped = Done::new(StepStatus::Skipped, 0, Value::Null);
                        skipped.error = Some(format!("not run: `{step}` failed"));
                        self.record(&id, plan, skipped, started)
                            .and(Err(Stop::Failed { step, error }))
                    }
                    // Stopped upstream otherwise (waiting, interrupted).
                    Err(Fault::Stop(stop)) => Err(stop),
                    Err(fault) => {
                        let mut done = Done::new(StepStatus::Failed, 0, Value::Null);
                        done.error = Some(fault.describe());
                        self.record(&id, plan, done, started)
                    }
                }
            }
        };
        if let Some(slot) = frame.slot(node) {
            let order = self.order.get() + 1;
            self.order.set(order);
            slot.set(result, order);
        }
    }

    async fn let_value(&self, value: &'p Expr, env: &Env) -> Eval<Done> {
        let value = self.eval(value, env).await?;
        Ok(Done::new(StepStatus::Succeeded, 0, value))
    }

    // ---- records ---------------------------------------------------------------------

    /// Records how a statement ended, journals it, and gives what its slot
    /// holds: its value, or why the run stops here.
    fn record(&self, id: &str, node: &Node, done: Done, started: Instant) -> Result<Value, Stop> {
        let ok = matches!(
            done.status,
            StepStatus::Succeeded
                | StepStatus::Degraded
                | StepStatus::Skipped
                | StepStatus::Given
                | StepStatus::Resumed
        );
        let answer = done.answer;
        let is_loop = matches!(node.action, Action::Loop(_));
        let record = StepRecord {
            id: id.to_string(),
            status: done.status,
            attempts: if is_loop { 0 } else { done.attempts },
            iterations: is_loop.then_some(done.attempts),
            duration_ms: started.elapsed().saturating_sub(done.waited).as_millis() as u64,
            waited_ms: done.waited.as_millis() as u64,
            error: done.error.clone(),
            model: answer.as_ref().map(|a| a.model.clone()),
            repairs: match &answer {
                Some(answer) => answer.repairs.clone(),
                None => self
                    .read_repairs
                    .borrow_mut()
                    .remove(id)
                    .unwrap_or_default(),
            },
            retried: self.retried.borrow_mut().remove(id).unwrap_or_default(),
            prompt: answer.as_ref().map(|a| a.prompt.clone()),
            tokens: answer.as_ref().and_then(|a| a.tokens),
            cost: answer.as_ref().and_then(|a| a.cost),
            output: ok.then(|| done.value.clone()),
            cached: answer.as_ref().is_some_and(|a| a.cached),
        };
        self.options
            .events
            .send(Event::StepFinished { step: &record });
        let journaled = match done.status {
            StepStatus::Resumed | StepStatus::Given => Ok(()),
            _ => self.journal(&record, Some(node.fingerprint.clone())),
        };
        self.records.borrow_mut().push(record);
        if let Err(error) = journaled {
            let stop = Stop::Unjournaled {
                step: id.to_string(),
                error,
            };
            self.unjournaled.borrow_mut().get_or_insert(stop.clone());
            return Err(stop);
        }
        match done.status {
            _ if ok => Ok(done.value),
            StepStatus::Waiting => Err(Stop::Waiting {
                step: id.to_string(),
                question: done.question.unwrap_or_default(),
            }),
            _ => Err(Stop::Failed {
                step: id.to_string(),
                error: done.error.unwrap_or_default(),
            }),
        }
    }

    /// Records a node that is not a statement (a summary, a compensation).
    pub fn record_extra(&self, record: StepRecord) {
        self.options
            .events
            .send(Event::StepFinished { step: &record });
        // Journaled for the timeline; a failure here only loses that.
        let _ = self.journal(&record, None);
        self.records.borrow_mut().push(record);
    }

    fn journal(&self, record: &StepRecord, fingerprint: Option<String>) -> Result<(), String> {
        match &self.options.journal {
            Some(journal) => journal
                .node(record, fingerprint)
                .map_err(|e| format!("the journal could not be written: {e}")),
            None => Ok(()),
        }
    }

    /// Notes why an attempt of `id` was rejected (its record lists them).
    pub fn rejected(&self, id: &str, why: &str) {
        let mut retried = self.retried.borrow_mut();
        let reasons = retried.entry(id.to_string()).or_default();
        reasons.push(why.to_string());
        self.options.events.send(Event::AttemptFailed {
            id,
            attempt: reasons.len(),
            error: why,
        });
    }

    /// Whether a step named `name` (at any depth) ran or was given.
    pub fn ran(&self, name: &str) -> bool {
        self.records.borrow().iter().any(|s| {
            crate::plan::instance::name_of(&s.id) == name
                && matches!(
                    s.status,
                    StepStatus::Succeeded | StepStatus::Degraded | StepStatus::Given
                )
        })
    }

    // ---- compensation --------------------------------------------------------------

    /// Keeps a succeeded step's undo, with its output as `this`.
    pub fn completed(&self, id: &str, undo: &'p Exec, env: &Env, value: &Value) {
        let done = env.with(vec![("this".to_string(), value.clone())]);
        self.completed
            .borrow_mut()
            .push((id.to_string(), undo, done));
    }

    /// A failed run undoes what it did: the `compensate` command of every
    /// step that completed, most recent first. A failing compensation is
    /// recorded and the others still run.
    pub async fn compensate(&self) {
        let done: Vec<_> = self.completed.borrow_mut().drain(..).rev().collect();
        for (id, undo, env) in done {
            let started = Instant::now();
            let limit = undo
                .timeout_ms
                .unwrap_or(crate::lang::policy::defaults::TIMEOUT_MS);
            let (status, error) = match self.exec(undo, &env, Some(limit)).await {
                Ok(Value::Object(result)) if result.get("code") == Some(&Value::from(0)) => {
                    (StepStatus::Compensated, None)
                }
                Ok(result) => (
                    StepStatus::Failed,
                    Some(format!(
                        "compensation failed: {}",
                        crate::lang::value::render(&result)
                    )),
                ),
                Err(fault) => (
                    StepStatus::Failed,
                    Some(format!("compensation failed: {}", fault.describe())),
                ),
            };
            self.record_extra(extra_record(
                format!("{id}.compensate"),
                status,
                started,
                error,
            ));
        }
    }
}

/// The record of a node that is not a statement.
pub fn extra_record(
    id: String,
    status: StepStatus,
    started: Instant,
    error: Option<String>,
) -> StepRecord {
    StepRecord {
        id,
        status,
        attempts: 1,
        duration_ms: started.elapsed().as_millis() as u64,
        waited_ms: 0,
        iterations: None,
        error,
        model: None,
        repairs: Vec::new(),
        retried: Vec::new(),
        prompt: None,
        tokens: None,
        cost: None,
        output: None,
        cached: false,
    }
}

/// A fault as the stop of the run, naming `step` when it is not already a
/// stop of another.
pub fn stop_of(fault: Fault, step: &str) -> Stop {
    match fault {
        Fault::Stop(stop) => stop,
        other => Stop::Failed {
            step: step.to_string(),
            error: other.describe(),
        },
    }
}
