//! Running statements: every statement of a block starts at once and waits,
//! through the values it reads, for the steps it depends on; a step runs
//! its action under its policy (attempts, checks, `on_error`).

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::time::Instant;

use futures_util::future::{join_all, LocalBoxFuture};
use serde_json::{Map, Value};
use tokio::sync::Semaphore;

use super::eval::{Eval, Fault, Scope, Slot};
use super::http;
use super::lenient;
use super::mock::{self, Hints};
use super::prompt::Prompt;
use super::provider::{self as providers, CallError, ModelConfig};
use super::record::{StepRecord, StepStatus, Tokens};
use super::script::{Script, Scripted};
use super::value::{conform, render, truthy};
use super::{RunOptions, Stop};
use crate::check::decls::{DeclKind, Decls};
use crate::check::program::Program;
use crate::check::types::Ty;
use crate::check::Loader;
use crate::plan::{branch_prefix, NodePlan, Plan, WorkflowPlan};
use crate::source::FileId;
use crate::syntax::ast::{
    Action, ActionBlock, Arg, Block, ClauseKind, ComponentSource, Expr, ExprKind, Ident, LetStmt,
    LoopStmt, SettingValue, StepDecl, Stmt, WorkflowDecl,
};

pub struct Engine<'a> {
    program: &'a Program,
    decls: Decls<'a>,
    plan: &'a Plan,
    /// Plan nodes by (workflow, id): every step looks its policy up.
    nodes: HashMap<(&'a str, &'a str), &'a NodePlan>,
    options: &'a RunOptions,
    /// Component texts by name (front matter removed).
    components: HashMap<String, String>,
    /// Model calls and commands in flight at once.
    limiter: Semaphore,
    pub steps: RefCell<Vec<StepRecord>>,
    /// Steps with `compensate` that succeeded, in completion order.
    completed: RefCell<Vec<(String, &'a ActionBlock, Rc<Scope<'a>>)>>,
    /// Scripted replies and failures of the mock.
    script: RefCell<Script>,
    /// Outputs from the journal of a resumed run, by node id, in the order
    /// the node completed (a `loop` body's node once per iteration).
    resumed: RefCell<HashMap<String, std::collections::VecDeque<Value>>>,
    /// Answers given with `spesc approve`: each answers one wait.
    approvals: RefCell<HashMap<String, Value>>,
    /// Held while a person is asked on the terminal.
    terminal: tokio::sync::Mutex<()>,
    /// The HTTP client for `fetch`, made on first use.
    http: std::cell::OnceCell<Result<reqwest::Client, String>>,
    /// Which model answered each LLM step, and how.
    answers_by: RefCell<HashMap<String, Answered>>,
    /// Why each rejected attempt of a step was rejected.
    retried: RefCell<HashMap<String, Vec<String>>>,
    breakers: RefCell<HashMap<String, Breaker>>,
}

/// What calling a model needs from its declaration.
struct ModelSettings {
    provider: String,
    key_env: Option<String>,
    config: ModelConfig,
    /// `price = { input = 3.0, output = 15.0 }`: dollars per million tokens.
    price: Option<(f64, f64)>,
}

/// How an LLM step was answered, for its record.
struct Answered {
    model: String,
    repairs: Vec<String>,
    prompt: String,
    tokens: Tokens,
    cost: Option<f64>,
}

/// A model's circuit breaker: consecutive failures, and until when it is
/// open.
#[derive(Default)]
struct Breaker {
    failures: u32,
    open_until: Option<Instant>,
}

/// Where a statement runs: its workflow and the id prefix of its block.
#[derive(Clone)]
pub struct Place<'a> {
    pub file: FileId,
    pub workflow: &'a WorkflowPlan,
    pub owner: String,
}

impl<'a> Engine<'a> {
    pub fn new(
        program: &'a Program,
        plan: &'a Plan,
        loader: &'a dyn Loader,
        options: &'a RunOptions,
        max_concurrency: usize,
    ) -> Engine<'a> {
        let decls = Decls::build(program, &mut Vec::new());
        let mut components = HashMap::new();
        for decl in &decls.all {
            let DeclKind::Component(c) = decl.kind else {
                continue;
            };
            let text = match &c.source {
                ComponentSource::Inline(t) => t.as_plain().unwrap_or_default(),
                ComponentSource::File(path) => program
                    .file(decl.file)
                    .and_then(|f| f.path.parent().map(|dir| dir.join(&path.value)))
                    .and_then(|full| loader.read(&full).ok())
                    .and_then(|(_, text)| crate::check::component_body(&text))
                    .unwrap_or_default(),
            };
            components.entry(c.name.name.clone()).or_insert(text);
        }
        Engine {
            program,
            decls,
            plan,
            nodes: plan
                .workflows
                .iter()
                .flat_map(|w| {
                    w.nodes
                        .iter()
                        .map(move |n| ((w.name.as_str(), n.id.as_str()), n))
                })
                .collect(),
            options,
            components,
            limiter: Semaphore::new(max_concurrency.max(1)),
            steps: RefCell::new(Vec::new()),
            completed: RefCell::new(Vec::new()),
            script: RefCell::new(options.script.clone()),
            resumed: RefCell::new(
                options
                    .resumed
                    .iter()
                    .map(|(id, outputs)| (id.clone(), outputs.iter().cloned().collect()))
                    .collect(),
            ),
            approvals: RefCell::new(options.approvals.clone()),
            terminal: tokio::sync::Mutex::new(()),
            http: std::cell::OnceCell::new(),
            answers_by: RefCell::new(HashMap::new()),
            retried: RefCell::new(HashMap::new()),
            breakers: RefCell::new(HashMap::new()),
        }
    }

    /// The run's pooled HTTP client.
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

    pub fn program(&self) -> &'a Program {
        self.program
    }

    pub fn decls(&self) -> &Decls<'a> {
        &self.decls
    }

    pub fn component_text(&self, name: &str) -> Option<String> {
        self.components.get(name).cloned()
    }

    // ---- workflows and blocks -------------------------------------------------------

    /// Runs a workflow to its result.
    pub fn run_workflow<'s>(
        &'s self,
        name: &'s str,
        inputs: Map<String, Value>,
    ) -> LocalBoxFuture<'s, Result<Value, Stop>>
    where
        'a: 's,
    {
        Box::pin(async move {
            let (file, workflow) = self.workflow(name).ok_or_else(|| Stop::Failed {
                step: name.to_string(),
                error: format!("no workflow `{name}`"),
            })?;
            let plan = self
                .plan
                .workflows
                .iter()
                .find(|w| w.name == name)
                .ok_or_else(|| Stop::Failed {
                    step: name.to_string(),
                    error: "workflow missing from the plan".to_string(),
                })?;
            let mut slots = HashMap::new();
            for (key, value) in inputs {
                slots.insert(key, Slot::filled(value));
            }
            let place = Place {
                file,
                workflow: plan,
                owner: String::new(),
            };
            let root = Scope::root(slots, place.clone());
            let inner = self.block(&workflow.body, &root, "").await?;
            match &workflow.ret {
                Some(ret) => self
                    .eval(&ret.value, &inner)
                    .await
                    .map_err(|f| stop(f, name)),
                None => Ok(Value::Null),
            }
        })
    }

    fn workflow(&self, name: &str) -> Option<(FileId, &'a WorkflowDecl)> {
        self.program.files.iter().find_map(|f| {
            f.ast.items.iter().find_map(|item| match item {
                crate::syntax::ast::Item::Workflow(w) if w.name.name == name => {
                    Some((f.id, w.as_ref()))
                }
                _ => None,
            })
        })
    }

    /// Starts every statement of a block at once; returns the block's
    /// scope once all have finished, or the first stop.
    pub fn block<'s>(
        &'s self,
        stmts: &'a [Stmt],
        scope: &'s Rc<Scope<'a>>,
        prefix: &'s str,
    ) -> LocalBoxFuture<'s, Result<Rc<Scope<'a>>, Stop>>
    where
        'a: 's,
    {
        Box::pin(async move {
            let slots: HashMap<String, Rc<Slot>> = stmts
                .iter()
                .map(|s| (s.name().name.clone(), Rc::new(Slot::default())))
                .collect();
            let inner = Scope::child(scope, slots);
            let runs = stmts
                .iter()
                .map(|stmt| self.statement(stmt, &inner, prefix));
            join_all(runs).await;
            for stmt in stmts {
                if let Some(Err(stopped)) = inner.lookup(&stmt.name().name).and_then(|s| s.peek()) {
                    return Err(stopped);
                }
            }
            Ok(inner)
        })
    }

    /// A nested block used as a value (an arm, a branch, a `for` body).
    pub async fn block_value(
        &self,
        block: &'a Block,
        scope: &Rc<Scope<'a>>,
        branch: &str,
    ) -> Eval<Value> {
        let prefix = branch_prefix(&scope.place().owner, branch);
        let inner = self.block(&block.stmts, scope, &prefix).await?;
        self.eval(&block.value, &inner).await
    }

    /// Runs a statement and fills its slot. A node that completed before
    /// a resume gets its output from the journal instead; every other is
    /// journaled before its slot is filled, so nothing that reads it starts
    /// before it is durable.
    async fn statement(&self, stmt: &'a Stmt, scope: &Rc<Scope<'a>>, prefix: &str) {
        let id = format!("{prefix}{}", stmt.name().name);
        let restored = self
            .resumed
            .borrow_mut()
            .get_mut(&id)
            .and_then(|outputs| outputs.pop_front());
        let result = match restored {
            Some(value) => {
                self.note(&id, StepStatus::Resumed, 0, Instant::now(), None);
                self.record_output(&id, &value);
                Ok(value)
            }
            None => {
                let result = match stmt {
                    Stmt::Step(step) => self.step(step, scope, &id).await,
                    Stmt::Let(l) => self.let_value(l, scope, &id).await,
                    Stmt::Loop(l) => self.loop_stmt(l, scope, &id).await,
                };
                if let Ok(value) = &result {
                    self.record_output(&id, value);
                }
                let fingerprint = self.node(scope, &id).map(|n| n.fingerprint.clone());
                match self.journal(&id, fingerprint) {
                    Ok(()) => result,
                    Err(problem) => Err(Fault::Error(problem)),
                }
            }
        };
        if let Some(slot) = scope.lookup(&stmt.name().name) {
            slot.set(result.map_err(|f| stop(f, &id)));
        }
    }

    /// Journals the latest record of `id`, if the run has a journal.
    fn journal(&self, id: &str, fingerprint: Option<String>) -> Result<(), String> {
        let Some(journal) = &self.options.journal else {
            return Ok(());
        };
        let steps = self.steps.borrow();
        let Some(record) = steps.iter().rev().find(|r| r.id == id) else {
            return Ok(());
        };
        journal
            .node(record, fingerprint)
            .map_err(|e| format!("the journal could not be written: {e}"))
    }

    async fn let_value(&self, l: &'a LetStmt, scope: &Rc<Scope<'a>>, id: &str) -> Eval<Value> {
        let owned = Scope::owned(scope, id);
        let started = Instant::now();
        let value = self.eval(&l.value, &owned).await?;
        self.note(id, StepStatus::Succeeded, 0, started, None);
        Ok(value)
    }

    // ---- loops and fan-outs -------------------------------------------------------------

    async fn loop_stmt(&self, l: &'a LoopStmt, scope: &Rc<Scope<'a>>, id: &str) -> Eval<Value> {
        let plan = self.node(scope, id).and_then(|n| n.loop_plan.clone());
        let max = plan.as_ref().map_or(1, |p| p.max);
        let best_by = l
            .options
            .iter()
            .find(|a| a.name.as_ref().is_some_and(|n| n.name == "best_by"))
            .map(|a| &a.value);
        let prefix = format!("{id}.");
        let mut previous = Value::Null;
        let mut best: Option<(f64, Map<String, Value>)> = None;
        let mut iterations = 0;
        let mut converged = false;
        let started = Instant::now();
        while iterations < max {
            iterations += 1;
            let with_previous = Scope::child(
                scope,
                HashMap::from([("previous".to_string(), Slot::filled(previous.clone()))]),
            );
            let inner = self.block(&l.body, &with_previous, &prefix).await?;
            let mut outputs = Map::new();
            for stmt in &l.body {
                let name = &stmt.name().name;
                let value = match inner.lookup(name) {
                    Some(slot) => slot.get().await?,
                    None => Value::Null,
                };
                outputs.insert(name.clone(), value);
            }
            if let Some(expr) = best_by {
                let score = self.eval(expr, &inner).await?.as_f64().unwrap_or(f64::MIN);
                if best.as_ref().is_none_or(|(b, _)| score > *b) {
                    best = Some((score, outputs.clone()));
                }
            }
            previous = Value::Object(outputs);
            if let Some(until) = &l.until {
                if truthy(&self.eval(until, &inner).await?) {
                    converged = true;
                    break;
                }
            }
        }
        let mut result = match (best, previous) {
            (Some((_, best)), _) => best,
            (None, Value::Object(last)) => last,
            _ => Map::new(),
        };
        result.insert("iterations".to_string(), Value::from(iterations));
        result.insert("converged".to_string(), Value::Bool(converged));
        self.note(id, StepStatus::Succeeded, iterations, started, None);
        Ok(Value::Object(result))
    }

    /// `for var in source (concurrency, tolerate) { … }`: the items run at
    /// most `concurrency` at a time; failures within `tolerate` are dropped.
    pub async fn fan_out(
        &self,
        var: &'a Ident,
        source: &'a Expr,
        _options: &'a [Arg],
        body: &'a Block,
        scope: &Rc<Scope<'a>>,
    ) -> Eval<Value> {
        let owner = scope.place().owner.clone();
        let plan = self.node(scope, &owner).and_then(|n| n.fan_out.clone());
        let (concurrency, tolerate) = plan.map_or((4, 0.0), |p| (p.concurrency, p.tolerate));
        let items = match self.eval(source, scope).await? {
            Value::Array(items) => items,
            Value::Null => Vec::new(),
            other => vec![other],
        };
        let gate = Semaphore::new(concurrency.max(1) as usize);
        let runs = items.into_iter().enumerate().map(|(n, item)| {
            let gate = &gate;
            async move {
                let _permit = gate
                    .acquire()
                    .await
                    .map_err(|e| Fault::Error(e.to_string()))?;
                let inner = Scope::child(
                    scope,
                    HashMap::from([(var.name.clone(), Slot::filled(item))]),
                );
                // Each item's steps get their own ids (`each[3]`), so the
                // record and the journal tell the items apart.
                self.block_value(body, &inner, &format!("each[{n}]")).await
            }
        });
        let results = join_all(runs).await;
        let total = results.len();
        let mut values = Vec::with_capacity(total);
        let mut failures = Vec::new();
        for result in results {
            match result {
                Ok(value) => values.push(value),
                Err(Fault::Stop(waiting @ Stop::Waiting { .. })) => return Err(waiting.into()),
                Err(fault) => failures.push(fault),
            }
        }
        let allowed = (tolerate * total as f64).floor() as usize;
        if failures.len() > allowed {
            let first = failures.swap_remove(0);
            return Err(match first {
                Fault::Stop(Stop::Failed { step, error }) => Fault::Stop(Stop::Failed {
                    step,
                    error: format!(
                        "{error} ({} of {total} items failed; `tolerate` allows {allowed})",
                        failures.len() + 1
                    ),
                }),
                other => other,
            });
        }
        Ok(Value::Array(values))
    }

    // ---- steps ------------------------------------------------------------------------------

    async fn step(&self, step: &'a StepDecl, scope: &Rc<Scope<'a>>, id: &str) -> Eval<Value> {
        let clause = |pick: fn(&'a ClauseKind) -> Option<&'a Expr>| {
            step.clauses.iter().find_map(|c| pick(&c.kind))
        };
        if let Some(given) = self
            .options
            .given
            .get(crate::plan::plan_id(id).as_ref())
            .or_else(|| self.options.given.get(&step.name.name))
        {
            self.note(id, StepStatus::Given, 0, Instant::now(), None);
            return Ok(given.clone());
        }
        if let Some(guard) = clause(|k| match k {
            ClauseKind::When(e) => Some(e),
            _ => None,
        }) {
            if !truthy(&self.eval(guard, scope).await?) {
                self.note(id, StepStatus::Skipped, 0, Instant::now(), None);
                return Ok(Value::Null);
            }
        }
        self.options
            .events
            .send(super::events::Event::StepStarted { id });
        for clause in &step.clauses {
            if let ClauseKind::After(names)
            | ClauseKind::Context(crate::syntax::ast::ContextStrategy::Steps(names, _)) =
                &clause.kind
            {
                for name in names {
                    if let Some(slot) = scope.lookup(&name.name) {
                        slot.get().await?;
                    }
                }
            }
        }
        let declared = self
            .decls
            .resolve_type(scope.place().file, &step.ty)
            .unwrap_or(Ty::Json);
        let started = Instant::now();
        let deadline = self
            .node(scope, id)
            .and_then(|n| n.policy.as_ref())
            .and_then(|p| p.deadline_ms);
        let outcome = match deadline {
            Some(ms) => tokio::time::timeout(
                std::time::Duration::from_millis(ms),
                self.run_action(step, scope, id, &declared),
            )
            .await
            .unwrap_or_else(|_| Err((Fault::Error(format!("its deadline of {ms} ms passed")), 0))),
            None => self.run_action(step, scope, id, &declared).await,
        };
        match outcome {
            Ok((value, attempts)) => {
                self.note(id, StepStatus::Succeeded, attempts, started, None);
                if let Some(undo) = step.clauses.iter().find_map(|c| match &c.kind {
                    ClauseKind::Compensate(block) => Some(block),
                    _ => None,
                }) {
                    let done = Scope::child(
                        scope,
                        HashMap::from([("this".to_string(), Slot::filled(value.clone()))]),
                    );
                    self.completed
                        .borrow_mut()
                        .push((id.to_string(), undo, done));
                }
                Ok(value)
            }
            Err((Fault::Error(error), attempts)) => {
                match clause(|k| match k {
                    ClauseKind::OnError(e) => Some(e),
                    _ => None,
                }) {
                    Some(fallback) => {
                        let value = self.eval(fallback, scope).await?;
                        self.note(id, StepStatus::Degraded, attempts, started, Some(error));
                        Ok(value)
                    }
                    None => {
                        self.note(
                            id,
                            StepStatus::Failed,
                            attempts,
                            started,
                            Some(error.clone()),
                        );
                        Err(Fault::Error(error))
                    }
                }
            }
            Err((fault, attempts)) => {
                let status = match &fault {
                    Fault::Stop(Stop::Waiting { .. }) => StepStatus::Waiting,
                    _ => StepStatus::Failed,
                };
                self.note(id, status, attempts, started, None);
                Err(fault)
            }
        }
    }

    /// LLM steps go through their models; other actions through
    /// [`Engine::attempts`].
    async fn run_action(
        &self,
        step: &'a StepDecl,
        scope: &Rc<Scope<'a>>,
        id: &str,
        declared: &Ty,
    ) -> Result<(Value, u64), (Fault, u64)> {
        match step.action {
            Action::Llm => self.llm_step(step, scope, id, declared).await,
            _ => self.attempts(step, scope, id, declared).await,
        }
    }

    /// Tries a non-LLM action up to its retry policy's attempts. A value
    /// that does not fit the type or fails a `check` (`invalid_output`) and
    /// an attempt that times out (`timeout`) are tried again when the
    /// policy lists that class, after its backoff; any other failure ends
    /// the step at once.
    async fn attempts(
        &self,
        step: &'a StepDecl,
        scope: &Rc<Scope<'a>>,
        id: &str,
        declared: &Ty,
    ) -> Result<(Value, u64), (Fault, u64)> {
        let policy = self.node(scope, id).and_then(|n| n.policy.as_ref());
        let max = policy.map_or(1, |p| p.retry.attempts.max(1));
        let retries_on =
            |class: &str| policy.is_some_and(|p| p.retry.on.iter().any(|c| c == class));
        let mut last = String::new();
        let mut wait = std::time::Duration::ZERO;
        for attempt in 1..=max {
            if attempt > 1 {
                if let Some(policy) = policy {
                    tokio::time::sleep(backoff(policy, id, attempt).max(wait)).await;
                }
            }
            let produced = match &step.action {
                // LLM steps run through `llm_step`; `run_action` sends them there.
                Action::Llm => Err(Fault::Error("an LLM step runs through its models".into())),
                Action::Call { workflow, args } => self.call(workflow, args, scope).await,
                Action::Exec(block) => self.exec(block, scope).await,
                Action::Fetch(block) => self.fetch(block, scope, declared).await,
                Action::Ask(block) => self.ask(block, scope, id, declared).await,
            };
            let problem = match produced {
                Ok(value) => match conform(value, declared) {
                    Ok(value) => match self.failed_check(step, scope, &value).await {
                        Ok(None) => return Ok((value, attempt)),
                        Ok(Some(message)) => ("invalid_output", format!("check failed: {message}")),
                        Err(fault) => return Err((fault, attempt)),
                    },
                    Err(problem) => (
                        "invalid_output",
                        format!("the reply is not a `{declared}`: {problem}"),
                    ),
                },
                Err(Fault::Retryable {
                    class,
                    message,
                    wait_ms,
                }) => {
                    wait = std::time::Duration::from_millis(wait_ms.unwrap_or(0));
                    (class, message)
                }
                Err(other) => return Err((other, attempt)),
            };
            let (class, message) = problem;
            last = message;
            self.rejected(id, &last);
            if !retries_on(class) {
                return Err((Fault::Error(last), attempt));
            }
        }
        Err((Fault::Error(last), max))
    }

    /// The message of the first `check` the value fails, if any.
    async fn failed_check(
        &self,
        step: &'a StepDecl,
        scope: &Rc<Scope<'a>>,
        value: &Value,
    ) -> Eval<Option<String>> {
        let this = Scope::child(
            scope,
            HashMap::from([("this".to_string(), Slot::filled(value.clone()))]),
        );
        for clause in &step.clauses {
            if let ClauseKind::Check { condition, message } = &clause.kind {
                if !truthy(&self.eval(condition, &this).await?) {
                    return Ok(Some(render(&self.eval(message, &this).await?)));
                }
            }
        }
        Ok(None)
    }

    /// An LLM step: the models of its fallback chain in order, each tried
    /// up to the policy's attempts. Transient failures (`rate_limit`,
    /// `server_error`, `timeout`) and invalid replies are retried after the
    /// backoff (or the provider's `Retry-After`) when the policy lists their
    /// class; a permanent failure, an open circuit breaker or a model's
    /// spent attempts move on to the next model.
    async fn llm_step(
        &self,
        step: &'a StepDecl,
        scope: &Rc<Scope<'a>>,
        id: &str,
        declared: &Ty,
    ) -> Result<(Value, u64), (Fault, u64)> {
        let node = self.node(scope, id);
        let policy = node.and_then(|n| n.policy.as_ref());
        let max = policy.map_or(1, |p| p.retry.attempts.max(1));
        let retries_on =
            |class: &str| policy.is_some_and(|p| p.retry.on.iter().any(|c| c == class));
        let timeout = policy
            .and_then(|p| p.timeout_ms)
            .map(std::time::Duration::from_millis);
        // Each model with who answers it, for messages (the mock under `--mock`).
        let models: Vec<(&str, &str)> = node.map_or(Vec::new(), |n| {
            n.attempts
                .iter()
                .map(|a| {
                    let provider = if self.options.mock_all {
                        "mock"
                    } else {
                        a.provider.as_str()
                    };
                    (a.model.as_str(), provider)
                })
                .collect()
        });
        let prompt = match self.compose(step, scope, id, declared).await {
            Ok(prompt) => prompt,
            Err(fault) => return Err((fault, 0)),
        };
        let mut tries = 0;
        let mut last = format!("step `{id}` has no model to call");
        let mut feedback: Option<String> = None;
        'models: for &(model, provider) in &models {
            let mut wait = std::time::Duration::ZERO;
            for attempt in 1..=max {
                if let Some(until) = self.breaker_open(model) {
                    last = format!(
                        "model `{model}`: circuit breaker open for {} ms more",
                        until.as_millis()
                    );
                    continue 'models;
                }
                if attempt > 1 {
                    let delay =
                        policy.map_or(std::time::Duration::ZERO, |p| backoff(p, id, attempt));
                    tokio::time::sleep(delay.max(wait)).await;
                }
                tries += 1;
                // An invalid reply's problem is fed back in the next prompt.
                let mut sent = prompt.clone();
                if let Some(problem) = &feedback {
                    sent.user
                        .push_str(&format!("\n\nYour previous reply was rejected: {problem}"));
                }
                let (text, counted) = match self
                    .call_model(step, scope, id, model, declared, &sent, tries, timeout)
                    .await
                {
                    Ok(Ok(reply)) => reply,
                    Ok(Err(error)) => {
                        self.breaker_failure(model);
                        last = error.message(model, provider);
                        self.rejected(id, &last);
                        wait = match &error {
                            CallError::RateLimit {
                                retry_after_ms: Some(ms),
                            } => std::time::Duration::from_millis(*ms),
                            _ => std::time::Duration::ZERO,
                        };
                        if matches!(error, CallError::Permanent(_)) || !retries_on(error.class()) {
                            continue 'models;
                        }
                        continue;
                    }
                    Err(fault @ Fault::Stop(_)) => return Err((fault, tries)),
                    Err(Fault::Retryable { message, .. }) => {
                        self.breaker_failure(model);
                        last = format!("model `{model}` ({provider}): {message}");
                        self.rejected(id, &last);
                        wait = std::time::Duration::ZERO;
                        if !retries_on("timeout") {
                            continue 'models;
                        }
                        continue;
                    }
                    Err(Fault::Error(message)) => return Err((Fault::Error(message), tries)),
                };
                self.breaker_success(model);
                wait = std::time::Duration::ZERO;
                let problem = match lenient::parse(&text, declared) {
                    Ok((value, repairs)) => match conform(value, declared) {
                        Ok(value) => match self.failed_check(step, scope, &value).await {
                            Ok(None) => {
                                self.answered_by(id, model, repairs, sent.text(), &text, counted);
                                return Ok((value, tries));
                            }
                            Ok(Some(message)) => format!("check failed: {message}"),
                            Err(fault) => return Err((fault, tries)),
                        },
                        Err(problem) => format!("the reply is not a `{declared}`: {problem}"),
                    },
                    Err(problem) => problem,
                };
                last = problem;
                self.rejected(id, &last);
                feedback = Some(last.clone());
                if !retries_on("invalid_output") {
                    continue 'models;
                }
            }
        }
        Err((Fault::Error(last), tries))
    }

    /// One call of `model`: a script entry first (it makes the call fail or
    /// answer as written), then the mock — for `provider = mock`, or every
    /// model under `--mock` — or the model's provider.
    #[allow(clippy::too_many_arguments)]
    async fn call_model(
        &self,
        step: &'a StepDecl,
        scope: &Rc<Scope<'a>>,
        id: &str,
        model: &str,
        declared: &Ty,
        prompt: &Prompt,
        attempt: u64,
        timeout: Option<std::time::Duration>,
    ) -> Eval<Result<(String, Option<Tokens>), CallError>> {
        let _permit = self
            .limiter
            .acquire()
            .await
            .map_err(|e| Fault::Error(e.to_string()))?;
        let call = async {
            let scripted = self
                .script
                .borrow_mut()
                .next(&crate::plan::plan_id(id), model);
            if let Some(entry) = scripted {
                return Ok(match entry.outcome() {
                    Scripted::Reply(text) => Ok((text, None)),
                    Scripted::Fail(error) => Err(error),
                    Scripted::Hang => {
                        std::future::pending::<()>().await;
                        Ok((String::new(), None))
                    }
                });
            }
            let settings = self.model_settings(model);
            let provider = settings.provider.as_str();
            if self.options.mock_all || provider == "mock" {
                let value = self
                    .mock_reply(step, scope, id, declared, &prompt.text(), attempt)
                    .await?;
                return Ok(Ok((
                    match value {
                        Value::String(text) => text,
                        other => other.to_string(),
                    },
                    None,
                )));
            }
            self.call_provider(model, &settings, prompt).await
        };
        match timeout {
            Some(limit) => tokio::time::timeout(limit, call).await.unwrap_or_else(|_| {
                Err(Fault::timeout(format!(
                    "no reply within {} ms",
                    limit.as_millis()
                )))
            }),
            None => call.await,
        }
    }

    /// One call of `model` through its provider over HTTP, or answered
    /// from the `--replay` recording; kept in the `--record` one.
    async fn call_provider(
        &self,
        model: &str,
        settings: &ModelSettings,
        prompt: &Prompt,
    ) -> Eval<Result<(String, Option<Tokens>), CallError>> {
        let provider = settings.provider.as_str();
        let Some(api) = providers::by_name(provider) else {
            return Ok(Err(CallError::Permanent(format!(
                "provider `{provider}` is not in this build"
            ))));
        };
        let key = match self.key(settings) {
            Ok(key) => key,
            Err(error) => return Ok(Err(error)),
        };
        let request = api.request(&settings.config, prompt, key);
        let raw = match &self.options.replay {
            Some(replayer) => replayer.answer(model, &request).map_err(Fault::Error)?,
            None => {
                let idle = settings
                    .config
                    .idle_timeout_ms
                    .filter(|_| settings.config.stream)
                    .map(std::time::Duration::from_millis);
                match http::send(self.http()?, &request, idle).await {
                    Ok(raw) => raw,
                    Err(error) => return Ok(Err(error)),
                }
            }
        };
        if let Some(recorder) = &self.options.record {
            recorder
                .write(provider, model, &request, &raw)
                .map_err(Fault::Error)?;
        }
        let reply = http::read(api, &raw, settings.config.stream);
        Ok(match (reply, &request.secret) {
            (Err(error), Some((_, secret))) => Err(error.without(secret)),
            (reply, _) => reply.map(|r| (r.text, r.tokens)),
        })
    }

    /// The key a call sends: from the model's key variable, read at the
    /// call (none under `--replay`, which sends nothing).
    fn key(&self, settings: &ModelSettings) -> Result<Option<String>, CallError> {
        match &settings.key_env {
            Some(variable) if self.options.replay.is_none() => std::env::var(variable)
                .map(Some)
                .map_err(|_| CallError::Permanent(format!("`{variable}` is not set"))),
            _ => Ok(None),
        }
    }

    /// A model's provider, its request settings and its key variable.
    fn model_settings(&self, model: &str) -> ModelSettings {
        let settings = self
            .program
            .files
            .iter()
            .find_map(|f| self.decls.id_of(f.id, model))
            .and_then(|id| match self.decls.all[id].kind {
                DeclKind::Model(m) => Some(&m.settings),
                _ => None,
            });
        let settings: &[crate::syntax::ast::Setting] = settings.map_or(&[], |s| s.as_slice());
        let find = |key: &str| crate::check::config::find(settings, key).map(|s| &s.value);
        let text = |key: &str| find(key).and_then(crate::check::config::text_value);
        let number = |key: &str| match find(key) {
            Some(SettingValue::Expr(e)) => crate::check::config::number(e),
            _ => None,
        };
        let flag = |key: &str| {
            matches!(
                find(key),
                Some(SettingValue::Expr(Expr {
                    kind: ExprKind::Bool(true),
                    ..
                }))
            )
        };
        let provider = text("provider").unwrap_or_default();
        let base_url = text("base_url");
        let price = match find("price") {
            Some(SettingValue::Block(inner, _)) => {
                let rate =
                    |key: &str| match crate::check::config::find(inner, key).map(|s| &s.value) {
                        Some(SettingValue::Expr(e)) => crate::check::config::number(e),
                        _ => None,
                    };
                Some((rate("input").unwrap_or(0.0), rate("output").unwrap_or(0.0)))
            }
            _ => None,
        };
        ModelSettings {
            price,
            key_env: crate::check::config::api_key_variable(
                Some(&provider),
                base_url.as_deref(),
                text("api_key_env"),
            ),
            config: ModelConfig {
                name: text("name").unwrap_or_else(|| model.to_string()),
                base_url,
                temperature: number("temperature"),
                max_tokens: number("max_tokens").map(|n| n as u64),
                stream: flag("stream"),
                idle_timeout_ms: match find("idle_timeout") {
                    Some(SettingValue::Expr(e)) => crate::check::config::duration_ms(e),
                    _ => None,
                },
                structured_output: flag("structured_output"),
            },
            provider,
        }
    }

    /// The mock's own reply: the first candidate that passes the checks,
    /// so offline runs follow the workflow's happy path.
    async fn mock_reply(
        &self,
        step: &'a StepDecl,
        scope: &Rc<Scope<'a>>,
        id: &str,
        declared: &Ty,
        prompt: &str,
        attempt: u64,
    ) -> Eval<Value> {
        let seed = mock::mix(mock::seed(&crate::plan::plan_id(id), prompt), attempt);
        let hints = self.hints(step, scope).await;
        for n in 0..mock::CANDIDATES {
            let candidate = mock::reply(declared, seed, n, &hints);
            let Ok(value) = conform(candidate, declared) else {
                continue;
            };
            if self.failed_check(step, scope, &value).await?.is_none() {
                return Ok(value);
            }
        }
        Ok(mock::reply(declared, seed, 0, &hints))
    }

    /// Asks `model` to summarize an over-budget context, recorded as the
    /// step `<id>.summary` (scriptable like any step).
    pub async fn summarize_with(
        &self,
        model: &str,
        context: &str,
        budget: u64,
        id: &str,
    ) -> Eval<String> {
        let summary_id = format!("{id}.summary");
        let started = Instant::now();
        let prompt = format!(
            "Summarize the context below in at most {budget} tokens. Keep names, numbers and decisions.\n\n{context}"
        );
        let _permit = self
            .limiter
            .acquire()
            .await
            .map_err(|e| Fault::Error(e.to_string()))?;
        let scripted = self.script.borrow_mut().next(&summary_id, model);
        let settings = self.model_settings(model);
        let reply = match scripted.map(|entry| entry.outcome()) {
            Some(Scripted::Reply(text)) => Ok((text, None)),
            Some(Scripted::Fail(error)) => Err(error.message(model, "mock")),
            Some(Scripted::Hang) => Err(format!("model `{model}`: no reply")),
            None if self.options.mock_all || settings.provider == "mock" => {
                let seed = mock::seed(&summary_id, &prompt);
                match mock::reply(&Ty::String, seed, 0, &Hints::default()) {
                    Value::String(text) => Ok((text, None)),
                    other => Ok((other.to_string(), None)),
                }
            }
            None => {
                let sent = Prompt {
                    user: prompt.clone(),
                    ..Prompt::default()
                };
                self.call_provider(model, &settings, &sent)
                    .await?
                    .map_err(|e| e.message(model, &settings.provider))
            }
        };
        match reply {
            Ok((text, tokens)) => {
                self.answered_by(
                    &summary_id,
                    model,
                    Vec::new(),
                    prompt.clone(),
                    &text,
                    tokens,
                );
                self.note(&summary_id, StepStatus::Succeeded, 1, started, None);
                self.journal(&summary_id, None).map_err(Fault::Error)?;
                Ok(text)
            }
            Err(error) => {
                self.note(
                    &summary_id,
                    StepStatus::Failed,
                    1,
                    started,
                    Some(error.clone()),
                );
                Err(Fault::Error(format!(
                    "summarizing the context failed: {error}"
                )))
            }
        }
    }

    // ---- circuit breakers ----------------------------------------------------------------

    /// How long `model`'s breaker stays open, if it is open. After the
    /// cooldown one call goes through (half-open): a success closes the
    /// breaker, a failure opens it again.
    fn breaker_open(&self, model: &str) -> Option<std::time::Duration> {
        let breakers = self.breakers.borrow();
        let until = breakers.get(model)?.open_until?;
        until.checked_duration_since(Instant::now())
    }

    fn breaker_failure(&self, model: &str) {
        let (threshold, cooldown) = self.breaker_settings(model);
        let mut breakers = self.breakers.borrow_mut();
        let breaker = breakers.entry(model.to_string()).or_default();
        breaker.failures += 1;
        if breaker.failures >= threshold {
            breaker.open_until = Some(Instant::now() + cooldown);
        }
    }

    fn breaker_success(&self, model: &str) {
        self.breakers.borrow_mut().remove(model);
    }

    /// `breaker = { failures = 5, cooldown = 60s }` from the model, or
    /// those defaults.
    fn breaker_settings(&self, model: &str) -> (u32, std::time::Duration) {
        let settings = self
            .program
            .files
            .iter()
            .find_map(|f| self.decls.id_of(f.id, model))
            .and_then(|id| match self.decls.all[id].kind {
                DeclKind::Model(m) => crate::check::config::find(&m.settings, "breaker"),
                _ => None,
            });
        let inner: &[crate::syntax::ast::Setting] = match settings.map(|s| &s.value) {
            Some(SettingValue::Block(inner, _)) => inner,
            _ => &[],
        };
        let failures = crate::check::config::find(inner, "failures")
            .and_then(|s| crate::check::config::int_value(&s.value))
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or(5);
        let cooldown = crate::check::config::find(inner, "cooldown")
            .and_then(|s| match &s.value {
                SettingValue::Expr(e) => crate::check::config::duration_ms(e),
                _ => None,
            })
            .unwrap_or(60_000);
        (failures.max(1), std::time::Duration::from_millis(cooldown))
    }

    async fn call(
        &self,
        workflow: &'a Ident,
        args: &'a [Arg],
        scope: &Rc<Scope<'a>>,
    ) -> Eval<Value> {
        let mut inputs = Map::new();
        for arg in args {
            if let Some(name) = &arg.name {
                inputs.insert(name.name.clone(), self.eval(&arg.value, scope).await?);
            }
        }
        let inputs = self.with_defaults(&workflow.name, inputs).await?;
        Ok(self.run_workflow(&workflow.name, inputs).await?)
    }

    /// The inputs of a workflow with its parameter defaults filled in.
    pub async fn with_defaults(
        &self,
        name: &str,
        mut inputs: Map<String, Value>,
    ) -> Eval<Map<String, Value>> {
        let Some((file, workflow)) = self.workflow(name) else {
            return Ok(inputs);
        };
        let place = Place {
            file,
            workflow: self
                .plan
                .workflows
                .iter()
                .find(|w| w.name == name)
                .ok_or_else(|| Fault::Error(format!("no plan for `{name}`")))?,
            owner: String::new(),
        };
        let empty = Scope::root(HashMap::new(), place);
        for param in &workflow.params {
            if inputs.contains_key(&param.name.name) {
                continue;
            }
            if let Some(default) = &param.default {
                let value = self.eval(default, &empty).await?;
                inputs.insert(param.name.name.clone(), value);
            }
        }
        Ok(inputs)
    }

    /// Runs a local command: argv as written (no shell), stdin, env, cwd,
    /// timeout; the result is an `ExecResult`.
    async fn exec(&self, block: &'a ActionBlock, scope: &Rc<Scope<'a>>) -> Eval<Value> {
        let setting = |key: &str| match block.get(key) {
            Some(SettingValue::Expr(e)) => Some(e),
            _ => None,
        };
        let argv: Vec<String> = match setting("command") {
            Some(e) => match self.eval(e, scope).await? {
                Value::Array(items) => items.iter().map(render).collect(),
                other => vec![render(&other)],
            },
            None => Vec::new(),
        };
        let Some((program, args)) = argv.split_first() else {
            return Err(Fault::Error("`command` is empty".to_string()));
        };
        let mut command = tokio::process::Command::new(program);
        command
            .args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true);
        // Paths in a command are relative to the `.spes` file, like
        // component paths: the directory it lives in, or `cwd` from there.
        let home = self
            .program
            .file(scope.place().file)
            .and_then(|f| f.path.parent().map(std::path::Path::to_path_buf))
            .filter(|dir| !dir.as_os_str().is_empty())
            .unwrap_or_else(|| std::path::PathBuf::from("."));
        let cwd = match setting("cwd") {
            Some(e) => home.join(render(&self.eval(e, scope).await?)),
            None => home,
        };
        command.current_dir(cwd);
        if let Some(e) = setting("env") {
            if let Value::Object(vars) = self.eval(e, scope).await? {
                for (key, value) in vars {
                    command.env(key, render(&value));
                }
            }
        }
        let stdin = match setting("stdin") {
            Some(e) => Some(render(&self.eval(e, scope).await?)),
            None => None,
        };
        let timeout_ms = match setting("timeout") {
            Some(e) => self.eval(e, scope).await?.as_u64(),
            None => None,
        }
        .unwrap_or(crate::plan::defaults::TIMEOUT_MS);
        let _permit = self
            .limiter
            .acquire()
            .await
            .map_err(|e| Fault::Error(e.to_string()))?;
        let mut child = command
            .spawn()
            .map_err(|e| Fault::Error(format!("cannot run `{program}`: {e}")))?;
        if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
            use tokio::io::AsyncWriteExt;
            // A command that does not read its input is not an error.
            let _ = pipe.write_all(text.as_bytes()).await;
        }
        let waited = tokio::time::timeout(
            std::time::Duration::from_millis(timeout_ms),
            child.wait_with_output(),
        )
        .await
        .map_err(|_| Fault::timeout(format!("`{program}` timed out after {timeout_ms} ms")))?
        .map_err(|e| Fault::Error(format!("`{program}` failed: {e}")))?;
        let mut result = Map::new();
        result.insert(
            "code".to_string(),
            Value::from(waited.status.code().unwrap_or(-1)),
        );
        result.insert(
            "stdout".to_string(),
            Value::String(String::from_utf8_lossy(&waited.stdout).into_owned()),
        );
        result.insert(
            "stderr".to_string(),
            Value::String(String::from_utf8_lossy(&waited.stderr).into_owned()),
        );
        Ok(Value::Object(result))
    }

    /// A question for a person: answered from `--answers`, else the run
    /// waits.
    async fn ask(
        &self,
        block: &'a ActionBlock,
        scope: &Rc<Scope<'a>>,
        id: &str,
        declared: &Ty,
    ) -> Eval<Value> {
        let question = match block.get("question") {
            Some(SettingValue::Expr(e)) => render(&self.eval(e, scope).await?),
            _ => String::new(),
        };
        let name = id.rsplit('.').next().unwrap_or(id);
        let approved = self.approvals.borrow_mut().remove(id);
        let answer = approved.or_else(|| {
            self.options
                .answers
                .get(id)
                .or_else(|| self.options.answers.get(name))
                .cloned()
        });
        match answer {
            Some(answer) => conform(answer, declared).map_err(|problem| {
                Fault::Error(format!("the answer for `{id}` does not fit: {problem}"))
            }),
            None if self.options.interactive => {
                let shown = match block.get("show") {
                    Some(SettingValue::Expr(e)) => render(&self.eval(e, scope).await?),
                    _ => String::new(),
                };
                // One question at a time, even when steps ask at once.
                let _turn = self.terminal.lock().await;
                super::person::ask_on_terminal(id, &question, &shown, declared).await
            }
            None => Err(Fault::Stop(Stop::Waiting {
                step: id.to_string(),
                question,
            })),
        }
    }

    /// A failed run undoes what it did: the `compensate` command of every
    /// step that completed, most recent first. A failing compensation is
    /// recorded and the others still run.
    pub async fn compensate(&self) {
        let done: Vec<_> = self.completed.borrow_mut().drain(..).rev().collect();
        for (id, undo, scope) in done {
            let started = Instant::now();
            let (status, error) = match self.exec(undo, &scope).await {
                Ok(Value::Object(result)) if result.get("code") == Some(&Value::from(0)) => {
                    (StepStatus::Compensated, None)
                }
                Ok(result) => (
                    StepStatus::Failed,
                    Some(format!("compensation failed: {}", render(&result))),
                ),
                Err(fault) => (
                    StepStatus::Failed,
                    Some(format!("compensation failed: {}", describe(&fault))),
                ),
            };
            let compensation = format!("{id}.compensate");
            self.note(&compensation, status, 1, started, error);
            // The run has failed already: a journal that cannot be written
            // now only loses the compensation's record.
            let _ = self.journal(&compensation, None);
        }
    }

    // ---- plan and record --------------------------------------------------------------------

    fn rejected(&self, id: &str, why: &str) {
        let mut retried = self.retried.borrow_mut();
        let reasons = retried.entry(id.to_string()).or_default();
        reasons.push(why.to_string());
        self.options
            .events
            .send(super::events::Event::AttemptFailed {
                id,
                attempt: reasons.len(),
                error: why,
            });
    }

    /// Records which model answered a step, the prompt it was sent, its
    /// tokens (the provider's count, else an estimate) and the repairs its
    /// reply needed.
    fn answered_by(
        &self,
        id: &str,
        model: &str,
        repairs: Vec<String>,
        prompt: String,
        reply: &str,
        counted: Option<Tokens>,
    ) {
        let tokens = counted.unwrap_or(Tokens {
            prompt: crate::check::estimate_tokens(prompt.chars().count()),
            completion: crate::check::estimate_tokens(reply.chars().count()),
        });
        let cost = self.model_settings(model).price.map(|(input, output)| {
            (tokens.prompt as f64 * input + tokens.completion as f64 * output) / 1_000_000.0
        });
        self.answers_by.borrow_mut().insert(
            id.to_string(),
            Answered {
                model: model.to_string(),
                repairs,
                prompt,
                tokens,
                cost,
            },
        );
    }

    /// Puts a finished statement's value on its record.
    fn record_output(&self, id: &str, value: &Value) {
        if let Some(record) = self
            .steps
            .borrow_mut()
            .iter_mut()
            .rev()
            .find(|r| r.id == id)
        {
            record.output = Some(value.clone());
        }
    }

    /// Whether a step named `name` (at any depth) ran or was given.
    pub fn ran(&self, name: &str) -> bool {
        self.steps.borrow().iter().any(|s| {
            s.id.rsplit('.').next() == Some(name)
                && matches!(
                    s.status,
                    StepStatus::Succeeded | StepStatus::Degraded | StepStatus::Given
                )
        })
    }

    /// Evaluates an expression of a test (`run` arguments, `given` values,
    /// `expect` conditions) with `output` bound.
    pub async fn eval_in_test(&self, e: &'a Expr, workflow: &str, output: Value) -> Eval<Value> {
        let (file, _) = self
            .workflow(workflow)
            .ok_or_else(|| Fault::Error(format!("no workflow `{workflow}`")))?;
        let plan = self
            .plan
            .workflows
            .iter()
            .find(|w| w.name == workflow)
            .ok_or_else(|| Fault::Error(format!("no plan for `{workflow}`")))?;
        let place = Place {
            file,
            workflow: plan,
            owner: String::new(),
        };
        let scope = Scope::root(
            HashMap::from([("output".to_string(), Slot::filled(output))]),
            place,
        );
        self.eval(e, &scope).await
    }

    fn node(&self, scope: &Rc<Scope<'a>>, id: &str) -> Option<&'a NodePlan> {
        let id = crate::plan::plan_id(id);
        self.nodes
            .get(&(scope.place().workflow.name.as_str(), id.as_ref()))
            .copied()
    }

    fn note(
        &self,
        id: &str,
        status: StepStatus,
        attempts: u64,
        started: Instant,
        error: Option<String>,
    ) {
        let answered = self.answers_by.borrow_mut().remove(id);
        let record = StepRecord {
            id: id.to_string(),
            status,
            attempts,
            duration_ms: started.elapsed().as_millis() as u64,
            error,
            model: answered.as_ref().map(|a| a.model.clone()),
            repairs: answered
                .as_ref()
                .map(|a| a.repairs.clone())
                .unwrap_or_default(),
            retried: self.retried.borrow_mut().remove(id).unwrap_or_default(),
            prompt: answered.as_ref().map(|a| a.prompt.clone()),
            tokens: answered.as_ref().map(|a| a.tokens),
            cost: answered.and_then(|a| a.cost),
            output: None,
        };
        self.options
            .events
            .send(super::events::Event::StepFinished { step: &record });
        self.steps.borrow_mut().push(record);
    }
}

impl<'a> Engine<'a> {
    /// Values the step's checks compare its output with: literals, and
    /// operands that do not read `this` (evaluated now). The mock offers
    /// them as candidates.
    async fn hints(&self, step: &'a StepDecl, scope: &Rc<Scope<'a>>) -> Hints {
        let mut operands = Vec::new();
        for clause in &step.clauses {
            if let ClauseKind::Check { condition, .. } = &clause.kind {
                comparison_operands(condition, &mut operands);
            }
        }
        let mut out = Hints::default();
        for operand in operands {
            if reads_this(operand) {
                continue;
            }
            match self.eval(operand, scope).await {
                Ok(Value::String(s)) => out.strings.push(s),
                Ok(Value::Number(n)) => out.numbers.extend(n.as_f64()),
                _ => {}
            }
        }
        out
    }
}

/// The sides of every comparison and the arguments of every call in a
/// check (`contains(this, "def ")`).
fn comparison_operands<'e>(e: &'e Expr, out: &mut Vec<&'e Expr>) {
    match &e.kind {
        ExprKind::Binary { lhs, rhs, .. } => {
            for side in [lhs, rhs] {
                if matches!(
                    side.kind,
                    ExprKind::Binary { .. } | ExprKind::Unary { .. } | ExprKind::Paren(_)
                ) {
                    comparison_operands(side, out);
                } else {
                    out.push(side);
                }
            }
        }
        ExprKind::Unary { operand, .. } | ExprKind::Paren(operand) => {
            comparison_operands(operand, out)
        }
        ExprKind::Call { args, .. } => out.extend(args.iter().map(|a| &a.value)),
        _ => {}
    }
}

fn reads_this(e: &Expr) -> bool {
    let mut found = false;
    crate::check::visit_names(e, &mut |name| found |= name == "this");
    found
}

/// A fault of a step becomes a stop of the run that names the step.
fn stop(fault: Fault, step: &str) -> Stop {
    match fault {
        Fault::Stop(stop) => stop,
        Fault::Error(error) | Fault::Retryable { message: error, .. } => Stop::Failed {
            step: step.to_string(),
            error,
        },
    }
}

fn describe(fault: &Fault) -> String {
    match fault {
        Fault::Stop(Stop::Failed { error, .. }) => error.clone(),
        Fault::Stop(Stop::Waiting { step, .. }) => format!("`{step}` waits for a person"),
        Fault::Error(error) | Fault::Retryable { message: error, .. } => error.clone(),
    }
}

/// The wait before attempt `attempt` (2, 3, …): `base × factor^(n−1)`
/// capped by `max` (or the constant delay), with the policy's jitter drawn
/// deterministically from the step and attempt.
fn backoff(policy: &crate::plan::Policy, id: &str, attempt: u64) -> std::time::Duration {
    let n = attempt.saturating_sub(1);
    let delay = match policy.retry.backoff {
        crate::plan::Backoff::Exponential {
            base_ms,
            factor,
            max_ms,
        } => ((base_ms as f64) * factor.powi(n.saturating_sub(1) as i32)).min(max_ms as f64),
        crate::plan::Backoff::Constant { delay_ms } => delay_ms as f64,
    };
    let unit = (mock::mix(mock::seed(id, ""), attempt) % 10_000) as f64 / 10_000.0;
    let jittered = match policy.retry.jitter.as_str() {
        "full" => delay * unit,
        "equal" => delay / 2.0 + delay / 2.0 * unit,
        _ => delay,
    };
    std::time::Duration::from_millis(jittered as u64)
}
