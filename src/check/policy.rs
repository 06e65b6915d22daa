//! A step's policy, resolved in one place: its own clause, else its
//! workflow's `default …`, else the built-in default (`lang::policy`).
//!
//! [`choose`] picks the clauses that apply; [`Checker::step_policy`] turns
//! them into values. The checker's budget warning (W0505) reads those
//! values, and the checked program hands the same values to lowering, so
//! what `check` warns about is what `plan` shows and `run` does.

use super::checked::NodeKind;
use super::checked::{AgentFacts, StepPolicy};
use super::decls::DeclKind;
use super::settings::duration_ms;
use super::Checker;
use crate::lang::policy::{defaults, RetryPolicy};
use crate::source::FileId;
use crate::syntax::ast::{
    Clause, ClauseKind, ContextStrategy, Expr, ExprKind, Ident, RetryRef, SettingValue,
    WorkflowDecl, WorkflowSettingKind,
};

/// The clauses of one place (a step, or its workflow's defaults) that a
/// workflow may give as defaults, the first of each kind.
#[derive(Clone, Copy, Default)]
pub struct Clauses<'a> {
    pub model: Option<&'a [Ident]>,
    pub agent: Option<&'a Ident>,
    pub system: Option<&'a Expr>,
    pub context: Option<&'a ContextStrategy>,
    pub retry: Option<&'a RetryRef>,
    pub timeout: Option<&'a Expr>,
    pub deadline: Option<&'a Expr>,
    pub cache: Option<&'a Expr>,
}

impl<'a> Clauses<'a> {
    fn of(clauses: impl Iterator<Item = &'a Clause>) -> Clauses<'a> {
        let mut out = Clauses::default();
        for clause in clauses {
            match &clause.kind {
                ClauseKind::Model(chain) => out.model = out.model.or(Some(chain)),
                ClauseKind::Agent(a) => out.agent = out.agent.or(Some(a)),
                ClauseKind::System(e) => out.system = out.system.or(Some(e)),
                ClauseKind::Context(c) => out.context = out.context.or(Some(c)),
                ClauseKind::Retry(r) => out.retry = out.retry.or(Some(r)),
                ClauseKind::Timeout(e) => out.timeout = out.timeout.or(Some(e)),
                ClauseKind::Deadline(e) => out.deadline = out.deadline.or(Some(e)),
                ClauseKind::Cache(e) => out.cache = out.cache.or(Some(e)),
                _ => {}
            }
        }
        out
    }
}

/// A step's clauses and its workflow's defaults, and which apply.
#[derive(Clone, Copy)]
pub struct Chosen<'a> {
    pub step: Clauses<'a>,
    pub defaults: Clauses<'a>,
}

/// The clauses that decide the policy of a step with `clauses` in
/// `workflow`.
pub fn choose<'a>(clauses: &'a [Clause], workflow: &'a WorkflowDecl) -> Chosen<'a> {
    let defaults = workflow.settings.iter().filter_map(|s| match &s.kind {
        WorkflowSettingKind::Default(clause) => Some(clause),
        _ => None,
    });
    Chosen {
        step: Clauses::of(clauses.iter()),
        defaults: Clauses::of(defaults),
    }
}

impl<'a> Chosen<'a> {
    pub fn system(&self) -> Option<&'a Expr> {
        self.step.system.or(self.defaults.system)
    }

    pub fn context(&self) -> Option<&'a ContextStrategy> {
        self.step.context.or(self.defaults.context)
    }

    pub fn retry(&self) -> Option<&'a RetryRef> {
        self.step.retry.or(self.defaults.retry)
    }

    pub fn timeout(&self) -> Option<&'a Expr> {
        self.step.timeout.or(self.defaults.timeout)
    }

    pub fn deadline(&self) -> Option<&'a Expr> {
        self.step.deadline.or(self.defaults.deadline)
    }

    /// The agent: the step's own, else the workflow's default.
    pub fn agent(&self) -> Option<&'a Ident> {
        self.step.agent.or(self.defaults.agent)
    }

    /// The fallback chain of an LLM step: its own `model`, else its own
    /// agent's, else the workflow's `default model`, else the default
    /// agent's. `chain` resolves a written chain, `agent_chain` an agent's.
    pub fn models<T>(
        &self,
        chain: impl Fn(&'a [Ident]) -> Vec<T>,
        agent_chain: impl Fn(&'a Ident) -> Option<Vec<T>>,
    ) -> Vec<T> {
        self.step
            .model
            .map(&chain)
            .or_else(|| self.step.agent.and_then(&agent_chain))
            .or_else(|| self.defaults.model.map(&chain))
            .or_else(|| self.defaults.agent.and_then(&agent_chain))
            .unwrap_or_default()
    }
}

impl<'a> Checker<'a> {
    /// The values of a step's policy: `kind` decides the built-in
    /// defaults (commands and questions are tried once; a person has no
    /// time limit; a model call's limit is per model, see
    /// [`Checker::model_attempts`]).
    pub(super) fn step_policy(
        &self,
        file: FileId,
        chosen: &Chosen<'a>,
        kind: NodeKind,
    ) -> StepPolicy {
        // A called workflow's steps retry themselves; commands and people
        // are not tried again unless asked.
        let tries_once = matches!(kind, NodeKind::Exec | NodeKind::Ask | NodeKind::Call);
        let retry = match chosen.retry() {
            Some(RetryRef::Named(name)) => match self.decls.lookup(file, &name.name) {
                Some(decl) => match decl.kind {
                    DeclKind::Retry(r) => RetryPolicy {
                        policy: Some(name.name.clone()),
                        ..super::settings::retry_of(&r.settings, tries_once)
                    },
                    _ => RetryPolicy::built_in(tries_once),
                },
                None => RetryPolicy::built_in(tries_once),
            },
            Some(RetryRef::Inline(settings, _)) => super::settings::retry_of(settings, tries_once),
            None => RetryPolicy::built_in(tries_once),
        };
        let written_timeout = chosen.timeout().and_then(duration_ms);
        let timeout_ms = match kind {
            NodeKind::Exec | NodeKind::Fetch => {
                Some(written_timeout.unwrap_or(defaults::TIMEOUT_MS))
            }
            NodeKind::Ask => written_timeout,
            _ => None,
        };
        StepPolicy {
            retry,
            timeout_ms,
            deadline_ms: chosen.deadline().and_then(duration_ms),
            cache: chosen
                .cache()
                .is_some_and(|e| matches!(e.kind, ExprKind::Bool(true))),
        }
    }

    /// An LLM step's models with one call's time limit each: the step's
    /// (or default) `timeout`, else the model's own, else the built-in.
    pub(super) fn model_attempts(&self, file: FileId, chosen: &Chosen<'a>) -> Vec<(usize, u64)> {
        let written = chosen.timeout().and_then(duration_ms);
        let indexes = |file: FileId, names: &[Ident]| -> Vec<usize> {
            names
                .iter()
                .filter_map(|n| self.model_index(file, &n.name))
                .collect()
        };
        chosen
            .models(
                |chain| indexes(file, chain),
                |agent| {
                    let (agent_file, chain) = self.agent_models(file, agent)?;
                    Some(indexes(agent_file, &chain))
                },
            )
            .into_iter()
            .map(|index| {
                let own = self.models().get(index).and_then(|m| m.timeout_ms);
                (index, written.or(own).unwrap_or(defaults::TIMEOUT_MS))
            })
            .collect()
    }

    /// An agent's `model = a | b`, and the file its names are read in.
    pub(super) fn agent_models(&self, file: FileId, agent: &Ident) -> Option<(FileId, Vec<Ident>)> {
        let decl = self.decls.all.get(self.decls.id_of(file, &agent.name)?)?;
        let DeclKind::Agent(a) = decl.kind else {
            return None;
        };
        let chain = match &super::settings::find(&a.settings, "model")?.value {
            SettingValue::Chain(chain) => chain.clone(),
            SettingValue::Expr(Expr {
                kind: ExprKind::Name(n),
                ..
            }) => vec![n.clone()],
            _ => return None,
        };
        Some((decl.file, chain))
    }
}

impl Chosen<'_> {
    pub fn cache(&self) -> Option<&Expr> {
        self.step.cache.or(self.defaults.cache)
    }
}

impl Checker<'_> {
    /// An agent's name and components by role, each component read where
    /// the agent is declared.
    pub(super) fn agent_facts(&self, file: FileId, agent: &Ident) -> Option<AgentFacts> {
        let decl = self.decls.all.get(self.decls.id_of(file, &agent.name)?)?;
        let DeclKind::Agent(a) = decl.kind else {
            return None;
        };
        let components = |keys: &[&str]| -> Vec<usize> {
            a.settings
                .iter()
                .filter(|s| keys.contains(&s.key.name.as_str()))
                .filter_map(|s| match &s.value {
                    SettingValue::Expr(Expr {
                        kind: ExprKind::Name(n),
                        ..
                    }) => self.component_index(decl.file, &n.name),
                    _ => None,
                })
                .collect()
        };
        Some(AgentFacts {
            name: agent.name.clone(),
            persona: components(&["persona"]),
            instructions: [components(&["instruction"]), components(&["constraint"])].concat(),
            format: components(&["format"]),
        })
    }
}
