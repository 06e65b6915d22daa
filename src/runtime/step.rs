//! A step under its policy: a test's `given` or a false guard first, then
//! its attempts (each within its timeout, all within the deadline), its
//! `check`s, `on_error` when every attempt failed, and its compensation
//! kept for a run that fails later. Model calls try their fallback chain
//! ([`super::llm`]); every other action is tried here.

use std::cell::Cell;
use std::time::Duration;

use tokio::time::Instant;

use serde_json::Value;

use super::engine::{Answer, Done, Engine};
use super::frame::Env;
use super::value::conform;
use super::{Eval, Fault, Stop};
use crate::journal::record::StepStatus;
use crate::lang::policy::{defaults, ErrorClass};
use crate::lang::value::{render, truthy};
use crate::plan::instance::{call_prefix, plan_id};
use crate::plan::types::Type;
use crate::plan::{Action, Node, Policy};

/// Whether a step's type takes an action's value as it is: any value, or
/// (for `exec`) the command's own result.
fn takes_as_is(ty: &Type) -> bool {
    matches!(ty.unwrap_optional(), Type::Json)
        || matches!(ty.unwrap_optional(), Type::Named(name) if name == "ExecResult")
}

/// What the attempts of a step gave.
pub type Produced = (Value, Option<Answer>);

/// A step's attempts so far, and when its deadline passes.
pub struct Tries {
    pub count: Cell<u64>,
    pub deadline: Option<Instant>,
}

impl Tries {
    fn new(deadline_ms: Option<u64>) -> Tries {
        Tries {
            count: Cell::new(0),
            deadline: deadline_ms.map(|ms| Instant::now() + Duration::from_millis(ms)),
        }
    }

    /// How long to wait when the other side asks for `asked`
    /// (`Retry-After`): at most [`defaults::MAX_RETRY_AFTER_MS`]; an error
    /// when the wait would outlast the step's deadline, since no attempt
    /// could follow it.
    pub fn provider_wait(&self, asked: Duration) -> Result<Duration, String> {
        let wait = asked.min(Duration::from_millis(defaults::MAX_RETRY_AFTER_MS));
        match self.deadline {
            Some(deadline) if Instant::now() + wait >= deadline => Err(format!(
                "asked to wait {} ms, past the step's deadline",
                asked.as_millis()
            )),
            _ => Ok(wait),
        }
    }
}

impl<'p> Engine<'p> {
    pub async fn step(&self, node: &'p Node, env: &Env, id: &str) -> Eval<Done> {
        let Some(policy) = &node.policy else {
            return Err(Fault::Error(format!("`{id}` has no policy in the plan")));
        };
        if let Some(given) = self.given(node, id) {
            return Ok(Done::new(StepStatus::Given, 0, given));
        }
        if let Some(guard) = &node.guard {
            if !truthy(&self.eval(guard, env).await?) {
                return Ok(Done::new(StepStatus::Skipped, 0, Value::Null));
            }
        }
        let waiting = Instant::now();
        for after in &node.after {
            if let Some(slot) = env.frame.slot(*after) {
                slot.get().await?;
            }
        }
        // Its inputs first, so that it starts (in the live view, and in
        // its record's duration) when its own work can begin. A failed
        // input is reported where it is read, as before.
        for dep in &node.deps {
            if let Some(slot) = env.frame.slot(*dep) {
                let _ = slot.get().await;
            }
        }
        let waited = waiting.elapsed();
        self.options
            .events
            .send(super::events::Event::StepStarted { id });
        let tries = Tries::new(policy.deadline_ms);
        let attempts = self.attempts(node, policy, env, id, &tries);
        let outcome = match policy.deadline_ms {
            Some(ms) => tokio::time::timeout(Duration::from_millis(ms), attempts)
                .await
                .unwrap_or_else(|_| Err(Fault::Error(format!("its deadline of {ms} ms passed")))),
            None => attempts.await,
        };
        let mut done = self
            .ended(policy, env, id, outcome, tries.count.get())
            .await?;
        done.waited = waited;
        Ok(done)
    }

    /// How the attempts ended, as the step's outcome.
    async fn ended(
        &self,
        policy: &'p Policy,
        env: &Env,
        id: &str,
        outcome: Eval<Produced>,
        attempts: u64,
    ) -> Eval<Done> {
        match outcome {
            Ok((value, answer)) => {
                if let Some(undo) = &policy.compensate {
                    self.completed(id, undo, env, &value);
                }
                let mut done = Done::new(StepStatus::Succeeded, attempts, value);
                done.answer = answer;
                Ok(done)
            }
            Err(Fault::Stop(Stop::Waiting { step, question })) if step == id => {
                let mut done = Done::new(StepStatus::Waiting, attempts, Value::Null);
                done.question = Some(question);
                Ok(done)
            }
            // Stopped upstream (a value it reads failed, or waits).
            Err(Fault::Stop(stop)) => Err(Fault::Stop(stop)),
            Err(fault) => {
                let error = fault.describe();
                let (status, value) = match &policy.on_error {
                    Some(fallback) => (StepStatus::Degraded, self.eval(fallback, env).await?),
                    None => (StepStatus::Failed, Value::Null),
                };
                let mut done = Done::new(status, attempts, value);
                done.error = Some(error);
                Ok(done)
            }
        }
    }

    /// A test's canned output for the step, by its plan id or name.
    fn given(&self, node: &Node, id: &str) -> Option<Value> {
        let given = &self.options.given;
        given
            .get(plan_id(id).as_ref())
            .or_else(|| given.get(&node.name))
            .cloned()
    }

    async fn attempts(
        &self,
        node: &'p Node,
        policy: &'p Policy,
        env: &Env,
        id: &str,
        tries: &Tries,
    ) -> Eval<Produced> {
        match &node.action {
            Action::Llm(llm) => self.llm_attempts(node, llm, policy, env, id, tries).await,
            _ => self.action_attempts(node, policy, env, id, tries).await,
        }
    }

    /// Tries an action that calls no model up to its policy's attempts. A
    /// value that does not fit the type or fails a `check`
    /// (`invalid_output`), an attempt that times out (`timeout`) and a
    /// transient failure are tried again when the policy lists their
    /// class, after its backoff; any other failure ends the step.
    async fn action_attempts(
        &self,
        node: &'p Node,
        policy: &'p Policy,
        env: &Env,
        id: &str,
        tries: &Tries,
    ) -> Eval<Produced> {
        let ty = node.ty.clone().unwrap_or(Type::Json);
        let mut last = String::new();
        let mut wait = Duration::ZERO;
        for attempt in 1..=policy.retry.attempts.max(1) {
            if attempt > 1 {
                tokio::time::sleep(self.backoff(policy, id, attempt).max(wait)).await;
            }
            tries.count.set(attempt);
            let act = self.act(node, env, id, &ty);
            let produced = match policy.timeout_ms {
                Some(ms) => tokio::time::timeout(Duration::from_millis(ms), act)
                    .await
                    .unwrap_or_else(|_| Err(Fault::timeout(format!("timed out after {ms} ms")))),
                None => act.await,
            };
            let (class, message) = match produced.map(|value| self.read_output(node, value, &ty)) {
                Ok(Ok((value, repairs))) => match self.accept(value, &ty, policy, env).await? {
                    Ok(value) => {
                        if !repairs.is_empty() {
                            self.read_repairs
                                .borrow_mut()
                                .insert(id.to_string(), repairs);
                        }
                        return Ok((value, None));
                    }
                    Err(problem) => (ErrorClass::InvalidOutput, problem),
                },
                Ok(Err(problem)) => (ErrorClass::InvalidOutput, problem),
                Err(Fault::Retryable {
                    class,
                    message,
                    wait_ms,
                }) => {
                    let asked = Duration::from_millis(wait_ms.unwrap_or(0));
                    wait = match tries.provider_wait(asked) {
                        Ok(wait) => wait,
                        Err(why) => return Err(Fault::Error(format!("{message}: {why}"))),
                    };
                    (class, message)
                }
                Err(other) => return Err(other),
            };
            last = message;
            self.rejected(id, &last);
            if !policy.retry.retries_on(class) {
                return Err(Fault::Error(last));
            }
        }
        Err(Fault::Error(last))
    }

    /// An action's value as its step's type: a `fetch`'s body or an
    /// `exec`'s output is read as that type the way a model's reply is (a
    /// command that failed has no output to read). A `json` step takes a
    /// body as JSON when it is JSON, else as text, and a command's result
    /// as it is, like an `ExecResult` step; other actions' values are
    /// taken as they are.
    fn read_output(
        &self,
        node: &Node,
        value: Value,
        ty: &Type,
    ) -> Result<(Value, Vec<String>), String> {
        let text = match (&node.action, value) {
            (Action::Fetch(_), Value::String(body)) if takes_as_is(ty) => {
                let value = serde_json::from_str(&body).unwrap_or(Value::String(body));
                return Ok((value, Vec::new()));
            }
            (Action::Fetch(_), Value::String(body)) => body,
            (Action::Exec(_), Value::Object(result)) if !takes_as_is(ty) => {
                let code = result.get("code").and_then(Value::as_i64).unwrap_or(-1);
                if code != 0 {
                    let stderr = result.get("stderr").and_then(Value::as_str).unwrap_or("");
                    return Err(format!(
                        "the command exited with code {code}: {}",
                        stderr.trim()
                    ));
                }
                match result.get("stdout") {
                    Some(Value::String(stdout)) => stdout.clone(),
                    _ => String::new(),
                }
            }
            (_, value) => return Ok((value, Vec::new())),
        };
        let reading = super::reading::read(&text, ty, &self.plan.types)?;
        Ok((reading.value, reading.repairs))
    }

    /// One attempt of a step's action.
    async fn act(&self, node: &'p Node, env: &Env, id: &str, ty: &Type) -> Eval<Value> {
        match &node.action {
            Action::Call(call) => {
                let mut inputs = serde_json::Map::new();
                for (name, arg) in &call.args {
                    inputs.insert(name.clone(), self.eval(arg, env).await?);
                }
                let run =
                    self.run_workflow(call.workflow, call_prefix(id), inputs, &env.frame.caps);
                match run.await {
                    Ok(value) => Ok(value),
                    Err(
                        stop
                        @ (Stop::Waiting { .. } | Stop::Interrupted | Stop::Unjournaled { .. }),
                    ) => Err(stop.into()),
                    // The called workflow failed: this step failed with it,
                    // and may degrade to its `on_error`.
                    Err(Stop::Failed { step, error }) => {
                        Err(Fault::Error(format!("`{step}` failed: {error}")))
                    }
                }
            }
            Action::Exec(exec) => self.exec(exec, env, None).await,
            Action::Fetch(fetch) => self.fetch(fetch, env).await,
            Action::Ask(ask) => self.ask(ask, env, id, ty).await,
            Action::Llm(_) | Action::Let { .. } | Action::Loop(_) => {
                Err(Fault::Error(format!("`{id}` is not an action")))
            }
        }
    }

    /// A produced value as the step's output: it must fit the type and
    /// pass every `check`; otherwise why not.
    pub async fn accept(
        &self,
        value: Value,
        ty: &Type,
        policy: &'p Policy,
        env: &Env,
    ) -> Eval<Result<Value, String>> {
        let value = match conform(value, ty, &self.plan.types) {
            Ok(value) => value,
            Err(problem) => {
                let ty = crate::suggest::a(&format!("`{ty}`"));
                return Ok(Err(format!("the reply is not {ty}: {problem}")));
            }
        };
        Ok(match self.failed_check(policy, env, &value).await? {
            None => Ok(value),
            Some(message) => Err(format!("check failed: {message}")),
        })
    }

    /// The message of the first `check` the value fails, if any.
    pub async fn failed_check(
        &self,
        policy: &'p Policy,
        env: &Env,
        value: &Value,
    ) -> Eval<Option<String>> {
        if policy.checks.is_empty() {
            return Ok(None);
        }
        let this = env.with(vec![("this".to_string(), value.clone())]);
        for check in &policy.checks {
            if !truthy(&self.eval(&check.condition, &this).await?) {
                return Ok(Some(render(&self.eval(&check.message, &this).await?)));
            }
        }
        Ok(None)
    }

    /// The wait before attempt `attempt` (2, 3, …), its jitter drawn
    /// deterministically from the step and the attempt.
    pub fn backoff(&self, policy: &Policy, id: &str, attempt: u64) -> Duration {
        let mock = crate::providers::mock::mix(crate::providers::mock::seed(id, ""), attempt);
        let unit = (mock % 10_000) as f64 / 10_000.0;
        Duration::from_millis(policy.retry.delay_ms(attempt, unit))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_providers_wait_is_capped_and_never_outlasts_the_deadline() {
        let unbounded = Tries::new(None);
        let forever = Duration::from_secs(999_999_999);
        let cap = Duration::from_millis(defaults::MAX_RETRY_AFTER_MS);
        assert_eq!(unbounded.provider_wait(forever), Ok(cap));
        assert_eq!(
            unbounded.provider_wait(Duration::from_secs(2)),
            Ok(Duration::from_secs(2))
        );
        let bounded = Tries::new(Some(5_000));
        assert_eq!(
            bounded.provider_wait(Duration::from_secs(1)),
            Ok(Duration::from_secs(1))
        );
        assert!(bounded.provider_wait(Duration::from_secs(6)).is_err());
    }
}
