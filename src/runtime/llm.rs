//! Model calls: the models of a step's fallback chain in order, each tried
//! up to the policy's attempts. A transient failure is retried after the
//! backoff (or the provider's wait); a permanent one, an open breaker
//! (when another model follows) or a model's spent attempts move on to the
//! next model. An invalid reply is retried with the problem fed back. A
//! call waits for its model's limits ([`super::limits`]) and is answered by
//! a script entry, the mock, or the provider over HTTP ([`crate::providers`]).

use std::time::Duration;

use serde_json::{json, Value};

use super::engine::{Answer, Engine};
use super::frame::Env;
use super::step::{Produced, Tries};
use super::streaming::Watch;
use super::{Eval, Fault};
use crate::lang::model::{estimate_tokens, Model, Provider as Api, Tokens};
use crate::lang::ops::{BinaryOp, UnaryOp};
use crate::lang::policy::ErrorClass;
use crate::plan::expr::Expr;
use crate::plan::instance::plan_id;
use crate::plan::types::Type;
use crate::plan::{fingerprint, Attempt, Llm, Node, Policy};
use crate::providers::mock::{self, Hints};
use crate::providers::script::Scripted;
use crate::providers::{self, blank, http, CallError, Prompt};

/// The longest a scripted `timeout` waits before it ends the attempt.
const SCRIPTED_HANG_MOST: Duration = Duration::from_secs(2);

/// A model's reply text and the tokens the provider counted.
type Reply = (String, Option<Tokens>);

impl<'p> Engine<'p> {
    pub async fn llm_attempts(
        &self,
        node: &'p Node,
        llm: &'p Llm,
        policy: &'p Policy,
        env: &Env,
        id: &str,
        tries: &Tries,
    ) -> Eval<Produced> {
        let ty = node.ty.clone().unwrap_or(Type::String);
        let prompt = self.compose(llm, &ty, env, id).await?;
        let cache = self.cache_key(node, policy, &prompt);
        if let Some(hit) = self.cached(cache.as_deref(), &prompt) {
            return Ok(hit);
        }
        let mut last = format!("step `{id}` has no model to call");
        let mut feedback: Option<String> = None;
        'models: for (index, attempt) in llm.models.iter().enumerate() {
            let model = self.plan.model(attempt.model);
            let provider = self.provider_name(model);
            let last_model = index + 1 == llm.models.len();
            let mut wait = Duration::ZERO;
            for n in 1..=policy.retry.attempts.max(1) {
                if let Some(open) = self.limits.open_for(attempt.model) {
                    if !last_model {
                        last = format!(
                            "model `{}`: circuit breaker open for {} ms more",
                            model.name,
                            open.as_millis()
                        );
                        continue 'models;
                    }
                    // No model after it: wait the cooldown out (the
                    // deadline bounds the wait) and try half-open.
                    tokio::time::sleep(open).await;
                }
                if n > 1 {
                    tokio::time::sleep(self.backoff(policy, id, n).max(wait)).await;
                }
                tries.count.set(tries.count.get() + 1);
                let mut sent = prompt.clone();
                if let Some(problem) = &feedback {
                    sent.user
                        .push_str(&format!("\n\nYour previous reply was rejected: {problem}"));
                }
                let reply = self
                    .call_model(node, &ty, env, id, attempt, &sent, tries.count.get())
                    .await;
                let (text, counted) = match reply {
                    Ok(Ok(reply)) => reply,
                    Ok(Err(error)) => {
                        wait = Duration::ZERO;
                        match &error {
                            // The provider pacing us: every call of the
                            // model slows down; the breaker is for failures.
                            CallError::RateLimit { retry_after_ms } => {
                                if let Some(ms) = retry_after_ms {
                                    let asked = Duration::from_millis(*ms);
                                    match tries.provider_wait(asked) {
                                        Ok(capped) => wait = capped,
                                        // This model cannot answer in
                                        // time; the next one may.
                                        Err(why) => {
                                            let said = error.message(&model.name, provider);
                                            last = format!("{said}: {why}");
                                            self.rejected(id, &last);
                                            continue 'models;
                                        }
                                    }
                                    self.limits.pause(attempt.model, wait);
                                }
                            }
                            _ => self.limits.failed(attempt.model),
                        }
                        last = error.message(&model.name, provider);
                        self.rejected(id, &last);
                        match error.class() {
                            Some(class) if policy.retry.retries_on(class) => continue,
                            _ => continue 'models,
                        }
                    }
                    Err(Fault::Retryable { message, class, .. }) => {
                        self.limits.failed(attempt.model);
                        last = format!("model `{}` ({provider}): {message}", model.name);
                        self.rejected(id, &last);
                        wait = Duration::ZERO;
                        if !policy.retry.retries_on(class) {
                            continue 'models;
                        }
                        continue;
                    }
                    Err(other) => return Err(other),
                };
                self.limits.succeeded(attempt.model);
                let problem = match super::reading::read(&text, &ty, &self.plan.types) {
                    Ok(super::reading::Reading { value, repairs }) => {
                        match self.accept(value, &ty, policy, env).await? {
                            Ok(value) => {
                                let answer =
                                    self.answer(model, repairs, sent.text(), &text, counted);
                                self.keep(cache.as_deref(), &value, model);
                                return Ok((value, Some(answer)));
                            }
                            Err(problem) => problem,
                        }
                    }
                    Err(problem) => problem,
                };
                last = problem;
                self.rejected(id, &last);
                feedback = Some(last.clone());
                if !policy.retry.retries_on(ErrorClass::InvalidOutput) {
                    continue 'models;
                }
            }
        }
        Err(Fault::Error(last))
    }

    /// Who answers `model`: the mock under `--mock`, else its provider.
    fn provider_name(&self, model: &Model) -> &'static str {
        if self.options.mock_all {
            "mock"
        } else {
            model.provider.as_str()
        }
    }

    /// One call of a model, within its time limit: a script entry first
    /// (it makes the call fail or answer as written), then the mock — for
    /// `provider = mock`, or every model under `--mock` — or its provider.
    #[allow(clippy::too_many_arguments)]
    async fn call_model(
        &self,
        node: &'p Node,
        ty: &Type,
        env: &Env,
        id: &str,
        attempt: &Attempt,
        prompt: &Prompt,
        try_number: u64,
    ) -> Eval<Result<Reply, CallError>> {
        let model = self.plan.model(attempt.model);
        let _caps = env.frame.caps.acquire().await;
        let _admitted = self.limits.admit(attempt.model).await;
        let limit = Duration::from_millis(attempt.timeout_ms);
        let call = async {
            let scripted = self.script.borrow_mut().next(id, &model.name);
            if let Some(entry) = scripted {
                return Ok(match entry.outcome() {
                    Scripted::Reply(text) => Ok((text, None)),
                    Scripted::Fail(error) => Err(error),
                    Scripted::Hang => {
                        // Waits out a short timeout (or a deadline that ends
                        // first) for real; a long one is not worth waiting
                        // for in a test, so it ends as it would, sooner.
                        tokio::time::sleep(limit.min(SCRIPTED_HANG_MOST)).await;
                        Err(CallError::Timeout(format!(
                            "no reply within {} ms",
                            limit.as_millis()
                        )))
                    }
                });
            }
            if self.options.mock_all || model.provider == Api::Mock {
                let value = self
                    .mock_reply(node, ty, env, id, &prompt.text(), try_number)
                    .await?;
                let text = match value {
                    Value::String(text) => text,
                    other => other.to_string(),
                };
                return Ok(Ok((text, None)));
            }
            self.call_provider(model, prompt, Some((id, ty))).await
        };
        tokio::time::timeout(limit, call).await.unwrap_or_else(|_| {
            Err(Fault::timeout(format!(
                "no reply within {} ms",
                limit.as_millis()
            )))
        })
    }

    /// One call of `model` through its provider over HTTP, or answered
    /// from the `--replay` recording; kept in the `--record` one. A stream
    /// for step `id` of type `ty` is shown as it arrives ([`Watch`]).
    pub async fn call_provider(
        &self,
        model: &Model,
        prompt: &Prompt,
        step: Option<(&str, &Type)>,
    ) -> Eval<Result<Reply, CallError>> {
        let Some(api) = providers::api(model.provider) else {
            return Ok(Err(CallError::Permanent(format!(
                "provider `{}` is not called over HTTP",
                model.provider.as_str()
            ))));
        };
        let key = match self.key(model) {
            Ok(key) => key,
            Err(error) => return Ok(Err(error)),
        };
        let request = api.request(model, prompt, key);
        let raw = match &self.options.replay {
            Some(replayer) => replayer
                .answer(&model.name, &request)
                .map_err(Fault::Error)?,
            None => {
                let idle = model
                    .idle_timeout_ms
                    .filter(|_| model.stream)
                    .map(Duration::from_millis);
                let limit = self.options.reach.max_response_bytes;
                let secret = request.secret.as_ref().map(|(_, s)| s.as_str());
                let mut watch = step.filter(|_| model.stream).map(|(id, ty)| {
                    Watch::new(
                        &self.options.events,
                        (id, ty, &self.plan.types),
                        api,
                        secret,
                    )
                });
                let mut on_chunk = |bytes: &[u8]| {
                    if let Some(watch) = &mut watch {
                        watch.chunk(bytes);
                    }
                };
                match http::send(self.http()?, &request, idle, limit, &mut on_chunk).await {
                    Ok(raw) => raw,
                    Err(error) => return Ok(Err(error)),
                }
            }
        };
        if let Some(recorder) = &self.options.record {
            recorder
                .write(model.provider.as_str(), &model.name, &request, &raw)
                .map_err(Fault::Error)?;
        }
        let reply = http::read(api, &raw, model.stream);
        // A server may echo the key back, in an error or in the reply
        // itself; neither reaches the result, the events or the journal.
        Ok(match (reply, &request.secret) {
            (Err(error), Some((_, secret))) => Err(error.without(secret)),
            (Ok(reply), Some((_, secret))) => Ok((blank(&reply.text, secret), reply.tokens)),
            (reply, None) => reply.map(|r| (r.text, r.tokens)),
        })
    }

    /// The key a call sends: from the model's key variable, read at the
    /// call (none under `--replay`, which sends nothing).
    fn key(&self, model: &Model) -> Result<Option<String>, CallError> {
        match &model.key_env {
            Some(variable) if self.options.replay.is_none() => providers::key_from_env(variable)
                .map(Some)
                .ok_or_else(|| CallError::Permanent(format!("`{variable}` is not set"))),
            _ => Ok(None),
        }
    }

    /// The mock's own reply: the first candidate that passes the checks,
    /// so offline runs follow the workflow's happy path.
    async fn mock_reply(
        &self,
        node: &'p Node,
        ty: &Type,
        env: &Env,
        id: &str,
        prompt: &str,
        try_number: u64,
    ) -> Eval<Value> {
        let seed = mock::mix(mock::seed(&plan_id(id), prompt), try_number);
        let Some(policy) = &node.policy else {
            let hints = Hints {
                prompt: prompt.to_string(),
                ..Hints::default()
            };
            return Ok(mock::reply(ty, &self.plan.types, seed, 0, &hints));
        };
        let mut hints = self.hints(policy, env).await;
        hints.prompt = prompt.to_string();
        for n in 0..mock::CANDIDATES {
            let candidate = mock::reply(ty, &self.plan.types, seed, n, &hints);
            if let Ok(Ok(value)) = self.accept(candidate, ty, policy, env).await {
                return Ok(value);
            }
        }
        Ok(mock::reply(ty, &self.plan.types, seed, 0, &hints))
    }

    /// Values the step's checks compare its output with: literals, and
    /// operands that do not read `this` (evaluated now). The mock offers
    /// them as candidates, and leaves out what negated checks refuse.
    async fn hints(&self, policy: &'p Policy, env: &Env) -> Hints {
        let mut operands = Vec::new();
        for check in &policy.checks {
            comparison_operands(&check.condition, false, &mut operands);
        }
        let mut out = Hints::default();
        for (operand, negated) in operands {
            if operand.reads_var("this") {
                continue;
            }
            match self.eval(operand, env).await {
                Ok(Value::String(s)) if negated => out.avoid.push(s),
                Ok(Value::String(s)) => out.strings.push(s),
                Ok(Value::Number(n)) => out.numbers.extend(n.as_f64()),
                _ => {}
            }
        }
        out
    }

    /// Which model answered a step, the prompt it was sent, its tokens
    /// (the provider's count, else an estimate) and the repairs its reply
    /// needed.
    fn answer(
        &self,
        model: &Model,
        repairs: Vec<String>,
        prompt: String,
        reply: &str,
        counted: Option<Tokens>,
    ) -> Answer {
        let tokens = counted.unwrap_or(Tokens {
            prompt: estimate_tokens(prompt.chars().count()),
            completion: estimate_tokens(reply.chars().count()),
        });
        Answer {
            model: model.name.clone(),
            repairs,
            prompt,
            tokens: Some(tokens),
            cost: model.cost(tokens),
            cached: false,
        }
    }

    // ---- the cache -----------------------------------------------------------------

    /// Where a `cache = true` step's answer is kept: the node's fingerprint
    /// (its models and settings included) and the prompt as rendered.
    fn cache_key(&self, node: &Node, policy: &Policy, prompt: &Prompt) -> Option<String> {
        if !policy.cache || self.options.no_cache || self.options.journal.is_none() {
            return None;
        }
        let schema = prompt
            .schema
            .as_ref()
            .map(Value::to_string)
            .unwrap_or_default();
        let key = format!(
            "{}\n{}\n{}\n{schema}",
            node.fingerprint, prompt.system, prompt.user
        );
        Some(fingerprint(key.as_bytes()))
    }

    /// A kept answer: no model is called.
    fn cached(&self, key: Option<&str>, prompt: &Prompt) -> Option<Produced> {
        let journal = self.options.journal.as_ref()?;
        let kept = journal.store.cached(key?).ok()??;
        let answer = Answer {
            model: kept["model"].as_str().unwrap_or_default().to_string(),
            repairs: Vec::new(),
            prompt: prompt.text(),
            tokens: None,
            cost: None,
            cached: true,
        };
        Some((kept["value"].clone(), Some(answer)))
    }

    fn keep(&self, key: Option<&str>, value: &Value, model: &Model) {
        if let (Some(key), Some(journal)) = (key, &self.options.journal) {
            // A cache that cannot be written only costs a later call.
            let _ = journal
                .store
                .cache(key, &json!({"value": value, "model": model.name}));
        }
    }
}

/// The sides of every comparison and the arguments of every call in a
/// check (`contains(this, "def ")`), each marked whether a `not` or `!=`
/// above it wants it absent.
fn comparison_operands<'e>(e: &'e Expr, negated: bool, out: &mut Vec<(&'e Expr, bool)>) {
    match e {
        Expr::Binary(op, lhs, rhs) => {
            // `this != "x"` wants anything but "x", as `not (this == "x")`
            // does: its operands are no candidates (and nothing to avoid
            // inside other text).
            let negated = negated ^ (*op == BinaryOp::Ne);
            for side in [lhs, rhs] {
                if matches!(**side, Expr::Binary(..) | Expr::Unary(..)) {
                    comparison_operands(side, negated, out);
                } else if !negated {
                    out.push((side, false));
                }
            }
        }
        Expr::Unary(op, operand) => {
            comparison_operands(operand, negated ^ (*op == UnaryOp::Not), out)
        }
        // `not contains(this, "TODO")`: the string is to be left out.
        Expr::Call(_, args) => out.extend(args.iter().map(|arg| (arg, negated))),
        _ => {}
    }
}
