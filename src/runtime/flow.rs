//! Control flow: a branch of a `match`, `if` or block runs its nodes in a
//! frame of its own; a `for` runs its body once per item, at most
//! `concurrency` at a time, dropping failures within `tolerate`; a `loop`
//! runs its body until `until` holds or `max` iterations, keeping the
//! last (or the best) iteration.

use serde_json::{Map, Value};
use tokio::sync::Semaphore;

use super::engine::{Done, Engine};
use super::frame::{Env, Frame};
use super::{Eval, Fault, Stop};
use crate::journal::record::StepStatus;
use crate::lang::value::truthy;
use crate::plan::expr::Branch;
use crate::plan::instance::{item_prefix, iteration_prefix};
use crate::plan::Loop;

impl<'p> Engine<'p> {
    /// Runs a branch's nodes and gives its value. `item` binds a `for`
    /// variable to its item, whose index joins the instance ids.
    pub async fn branch(
        &self,
        branch: &'p Branch,
        env: &Env,
        item: Option<(&str, usize, Value)>,
    ) -> Eval<Value> {
        let (prefix, vars) = match item {
            Some((var, n, value)) => (
                item_prefix(&env.owner, &branch.name, n),
                vec![(var.to_string(), value)],
            ),
            None => (
                crate::plan::instance::branch_prefix(&env.owner, &branch.name),
                Vec::new(),
            ),
        };
        let frame = Frame::block(&env.frame, &prefix, &branch.nodes, vars);
        self.run_block(&branch.nodes, &frame).await?;
        let owner = prefix.trim_end_matches('.');
        self.eval(&branch.value, &Env::new(frame.clone(), owner))
            .await
    }

    /// `for var in items (concurrency, tolerate) { … }`.
    pub async fn fan_out(
        &self,
        var: &'p str,
        items: Vec<Value>,
        concurrency: u64,
        tolerate: f64,
        body: &'p Branch,
        env: &Env,
    ) -> Eval<Value> {
        let gate = Semaphore::new(concurrency.max(1) as usize);
        self.options.events.send(super::events::Event::ItemsKnown {
            id: &env.owner,
            items: items.len(),
            steps: body.nodes.len(),
        });
        let runs = items.into_iter().enumerate().map(|(n, item)| {
            let gate = &gate;
            async move {
                let _turn = gate
                    .acquire()
                    .await
                    .map_err(|e| Fault::Error(e.to_string()))?;
                self.branch(body, env, Some((var, n, item))).await
            }
        });
        let results = futures_util::future::join_all(runs).await;
        let total = results.len();
        let mut values = Vec::with_capacity(total);
        let mut failures = Vec::new();
        for result in results {
            match result {
                Ok(value) => values.push(value),
                Err(Fault::Stop(stop @ (Stop::Waiting { .. } | Stop::Unjournaled { .. }))) => {
                    return Err(stop.into())
                }
                Err(fault) => failures.push(fault),
            }
        }
        let allowed = (tolerate * total as f64).floor() as usize;
        if failures.len() <= allowed {
            return Ok(Value::Array(values));
        }
        let failed = failures.len();
        Err(match failures.swap_remove(0) {
            Fault::Stop(Stop::Failed { step, error }) => Fault::Stop(Stop::Failed {
                step,
                error: format!(
                    "{error} ({failed} of {total} items failed; `tolerate` allows {allowed})"
                ),
            }),
            other => other,
        })
    }

    /// `loop id (max, best_by) { … until … }`: its value has the body's
    /// outputs (of the kept iteration), `iterations` and `converged`.
    pub async fn run_loop(&self, l: &'p Loop, env: &Env, id: &str) -> Eval<Done> {
        let workflow = self.plan.workflow(env.frame.workflow);
        let mut previous = Value::Null;
        let mut best: Option<(f64, Map<String, Value>)> = None;
        let mut iterations = 0;
        let mut converged = false;
        while iterations < l.max {
            let prefix = iteration_prefix(id, iterations);
            iterations += 1;
            let vars = vec![("previous".to_string(), previous.clone())];
            let frame = Frame::block(&env.frame, &prefix, &l.body, vars);
            self.run_block(&l.body, &frame).await?;
            let mut outputs = Map::new();
            for node in &l.body {
                let value = match frame.slot(*node) {
                    Some(slot) => slot.get().await?,
                    None => Value::Null,
                };
                outputs.insert(workflow.node(*node).name.clone(), value);
            }
            let inner = Env::new(frame, prefix.trim_end_matches('.'));
            if let Some(expr) = &l.best_by {
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
        Ok(Done::new(
            StepStatus::Succeeded,
            iterations,
            Value::Object(result),
        ))
    }
}
