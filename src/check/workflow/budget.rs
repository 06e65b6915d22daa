//! What an LLM step needs (a model and a prompt) and what must fit: retries
//! within the deadline (W0505, from the resolved policy), the prompt within
//! the context window (W0503).

use super::*;

impl<'c, 'a> Body<'c, 'a> {
    /// An LLM step needs a model (its own, its agent's, or the workflow's
    /// default) and a prompt (or an agent, whose instruction is one).
    pub(super) fn llm_requirements(&mut self, step: &StepDecl, facts: &StepFacts) {
        let has = |pred: fn(&ClauseKind) -> bool| step.clauses.iter().any(|c| pred(&c.kind));
        let default = |pred: fn(&ClauseKind) -> bool| {
            self.workflow.settings.iter().any(|s| match &s.kind {
                WorkflowSettingKind::Default(c) => pred(&c.kind),
                _ => false,
            })
        };
        let is_model = |k: &ClauseKind| matches!(k, ClauseKind::Model(_) | ClauseKind::Agent(_));
        let is_prompt = |k: &ClauseKind| matches!(k, ClauseKind::Prompt(_) | ClauseKind::Agent(_));
        // A clause left out for its unknown key (`promt = …`) was reported
        // already: it is likely the missing one.
        let left_out = self
            .cx
            .program
            .file(self.file)
            .is_some_and(|f| f.left_out.iter().any(|l| step.span.contains(l.at)));
        if left_out {
            return;
        }
        // A named model or agent that failed to resolve was reported already.
        if facts.models.is_empty() && !has(is_model) && !default(is_model) {
            self.report(StepProblem::NoModel {
                at: step.name.span,
                step: step.name.name.clone(),
            });
        }
        if !has(is_prompt) && facts.agent.is_none() {
            self.report(StepProblem::NoPrompt {
                at: step.name.span,
                step: step.name.name.clone(),
            });
        }
    }

    /// The retry policy a clause names (it must be one) or writes.
    pub(super) fn retry_reference(&mut self, retry: &'a RetryRef) {
        match retry {
            RetryRef::Named(name) => self.cx.expect_decl(self.file, name, "retry policy"),
            RetryRef::Inline(settings, span) => self.cx.check_retry(settings, *span),
        }
    }

    /// W0505: a step's tries (attempts × one try's limit, plus the longest
    /// backoff between them) must fit its deadline, or else its workflow's.
    /// The policy is the resolved one: defaults count.
    pub(super) fn deadline_budget(&mut self, step: &'a StepDecl, facts: &StepFacts) {
        let chosen = policy::choose(&step.clauses, self.workflow);
        let step_deadline = chosen
            .deadline()
            .filter(|_| facts.policy.deadline_ms.is_some());
        let workflow_deadline = self.workflow.settings.iter().find_map(|s| match &s.kind {
            WorkflowSettingKind::Deadline(e) => settings::duration_ms(e).map(|ms| (e, ms)),
            _ => None,
        });
        let Some((deadline, deadline_ms)) = step_deadline
            .zip(facts.policy.deadline_ms)
            .or(workflow_deadline)
        else {
            return;
        };
        // One try's limit: the first model's (fallbacks come after), or the
        // step's own.
        let Some(timeout_ms) = facts
            .models
            .first()
            .map(|(_, ms)| *ms)
            .or(facts.policy.timeout_ms)
        else {
            return;
        };
        let retry = &facts.policy.retry;
        let delays: u64 = retry.worst_delays_ms().iter().sum();
        let worst = retry
            .attempts
            .saturating_mul(timeout_ms)
            .saturating_add(delays);
        if worst <= deadline_ms {
            return;
        }
        self.report(FlowProblem::OverDeadline {
            at: chosen.timeout().map_or(step.name.span, |t| t.span),
            step: step.name.name.clone(),
            attempts: retry.attempts,
            timeout_ms,
            backoff_ms: delays,
            deadline_at: deadline.span,
            deadline_ms,
            built_in: chosen.timeout().is_none() && chosen.retry().is_none(),
        });
    }

    /// W0503: a prompt whose fixed text and components alone exceed the
    /// smallest context window among its models.
    pub(super) fn context_window(&mut self, facts: &StepFacts, prompt: &Expr) {
        let window = facts
            .models
            .iter()
            .filter_map(|(m, _)| self.cx.models().get(*m)?.context_window)
            .min();
        let Some(window) = window else { return };
        let chars = self.fixed_chars(prompt);
        let tokens = crate::check::components::estimate_tokens(chars);
        if tokens > window {
            self.report(FlowProblem::OverWindow {
                at: prompt.span,
                tokens,
                window,
            });
        }
    }

    /// Characters of a prompt known before running: its text and the
    /// components it interpolates.
    pub(super) fn fixed_chars(&self, e: &Expr) -> usize {
        let ExprKind::String(template) = &e.kind else {
            return 0;
        };
        let mut total = 0;
        walk_template_text(&template.parts, &mut |part| match part {
            TextOrName::Text(t) => total += t.chars().count(),
            TextOrName::Name(n) => {
                if let Some(c) = self.cx.component_index(self.file, n) {
                    total += self.cx.found.components[c].1.chars().count();
                }
            }
        });
        total
    }

    // ---- the result and the graph -------------------------------------------------
}
