//! Composing what a model is sent: the agent's components, the `system`
//! text, the context the step asks for, its prompt, and the output format.

use std::time::Instant;

use serde_json::Value;

use super::engine::{extra_record, Engine};
use super::frame::Env;
use super::value::{json_schema, schema};
use super::{Eval, Fault};
use crate::journal::record::StepStatus;
use crate::lang::model::{estimate_tokens, Provider as Api};
use crate::lang::value::render;
use crate::plan::types::Type;
use crate::plan::{ComponentId, Context, Llm, ModelId, NodeId};
use crate::providers::mock::{self, Hints};
use crate::providers::script::Scripted;
use crate::providers::Prompt;

impl<'p> Engine<'p> {
    pub async fn compose(&self, llm: &'p Llm, ty: &Type, env: &Env, id: &str) -> Eval<Prompt> {
        let mut system: Vec<String> = Vec::new();
        let mut user: Vec<String> = Vec::new();
        if let Some(agent) = &llm.agent {
            system.extend(self.texts(&agent.persona));
            user.extend(self.texts(&agent.instructions));
            user.extend(self.texts(&agent.format));
        }
        if let Some(text) = &llm.system {
            system.push(self.text(text, env).await?);
        }
        if let Some(context) = self.context(&llm.context, env, id).await? {
            user.push(context);
        }
        if let Some(prompt) = &llm.prompt {
            user.push(self.text(prompt, env).await?);
        }
        let typed = !ty.is_text();
        if typed {
            user.push(format!(
                "Reply with JSON only, in this shape: {}",
                schema(ty, &self.plan.types)
            ));
        }
        Ok(Prompt {
            system: system.join("\n\n"),
            user: user.join("\n\n"),
            schema: json_schema(ty, &self.plan.types).filter(|_| typed),
        })
    }

    fn texts(&self, components: &[ComponentId]) -> Vec<String> {
        components
            .iter()
            .map(|c| self.plan.component(*c).text.clone())
            .collect()
    }

    /// The context section: `[a, b]` hands over those outputs; `all` and
    /// `summarized(…)` every upstream output in the order they completed
    /// (summarized by the given model only when over `max_tokens`);
    /// `fresh` nothing.
    async fn context(&self, context: &'p Context, env: &Env, id: &str) -> Eval<Option<String>> {
        let (nodes, ordered) = match context {
            Context::Fresh => return Ok(None),
            Context::Steps { nodes } => (nodes, false),
            Context::All { upstream } | Context::Summarized { upstream, .. } => (upstream, true),
        };
        let sections = self.sections(nodes, ordered, env).await?;
        if sections.is_empty() {
            return Ok(None);
        }
        let context_text = format!("Context:\n\n{}", sections.join("\n\n"));
        if let Context::Summarized {
            max_tokens, model, ..
        } = context
        {
            if estimate_tokens(context_text.chars().count()) > *max_tokens {
                let summary = match model {
                    Some(model) => {
                        self.summarize(*model, &context_text, *max_tokens, id)
                            .await?
                    }
                    None => shorten(&context_text, *max_tokens),
                };
                return Ok(Some(format!("Context (summarized):\n\n{summary}")));
            }
        }
        Ok(Some(context_text))
    }

    /// `## name` and the value of each node that has one.
    async fn sections(&self, nodes: &[NodeId], ordered: bool, env: &Env) -> Eval<Vec<String>> {
        let workflow = self.plan.workflow(env.frame.workflow);
        let mut found = Vec::new();
        for node in nodes {
            if let Some(slot) = env.frame.slot(*node) {
                let value = slot.get().await?;
                if !value.is_null() {
                    found.push((
                        slot.completed.get(),
                        workflow.node(*node).name.clone(),
                        value,
                    ));
                }
            }
        }
        if ordered {
            found.sort_by_key(|(order, _, _)| *order);
        }
        Ok(found
            .into_iter()
            .map(|(_, name, value)| format!("## {name}\n{}", render(&value)))
            .collect())
    }

    /// Asks `model` to summarize an over-budget context, recorded as the
    /// node `<id>.summary` (scriptable like any step).
    async fn summarize(
        &self,
        model: ModelId,
        context: &str,
        budget: u64,
        id: &str,
    ) -> Eval<String> {
        let summary_id = format!("{id}.summary");
        let started = Instant::now();
        let settings = self.plan.model(model);
        let prompt = format!(
            "Summarize the context below in at most {budget} tokens. Keep names, numbers and decisions.\n\n{context}"
        );
        let _admitted = self.limits.admit(model).await;
        let scripted = self.script.borrow_mut().next(&summary_id, &settings.name);
        let reply = match scripted.map(|entry| entry.outcome()) {
            Some(Scripted::Reply(text)) => Ok((text, None)),
            Some(Scripted::Fail(error)) => Err(error.message(&settings.name, "mock")),
            Some(Scripted::Hang) => Err(format!("model `{}`: no reply", settings.name)),
            None if self.options.mock_all || settings.provider == Api::Mock => {
                let seed = mock::seed(&summary_id, &prompt);
                match mock::reply(&Type::String, &self.plan.types, seed, 0, &Hints::default()) {
                    Value::String(text) => Ok((text, None)),
                    other => Ok((other.to_string(), None)),
                }
            }
            None => {
                let sent = Prompt {
                    user: prompt.clone(),
                    ..Prompt::default()
                };
                self.call_provider(settings, &sent, None)
                    .await?
                    .map_err(|e| e.message(&settings.name, settings.provider.as_str()))
            }
        };
        match reply {
            Ok((text, tokens)) => {
                let mut record = extra_record(summary_id, StepStatus::Succeeded, started, None);
                let tokens = tokens.unwrap_or(crate::lang::model::Tokens {
                    prompt: estimate_tokens(prompt.chars().count()),
                    completion: estimate_tokens(text.chars().count()),
                });
                record.model = Some(settings.name.clone());
                record.tokens = Some(tokens);
                record.cost = settings.cost(tokens);
                record.prompt = Some(prompt);
                self.record_extra(record);
                Ok(text)
            }
            Err(error) => {
                self.record_extra(extra_record(
                    summary_id,
                    StepStatus::Failed,
                    started,
                    Some(error.clone()),
                ));
                Err(Fault::Error(format!(
                    "summarizing the context failed: {error}"
                )))
            }
        }
    }
}

/// Without a summarizer model: the context cut to the budget (about four
/// characters per token).
fn shorten(context: &str, budget: u64) -> String {
    let keep = (budget as usize).saturating_mul(4);
    context.chars().take(keep).collect()
}
