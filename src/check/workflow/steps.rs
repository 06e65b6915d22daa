//! Steps: the action (`call`, `exec`, `fetch`, `ask`), its settings, and
//! the step's clauses.

use super::*;

impl<'c, 'a> Body<'c, 'a> {
    pub(super) fn step(&mut self, step: &'a StepDecl) {
        let node = self.node_of.get(&step.name.span).copied();
        let previous = std::mem::replace(&mut self.current, node);
        let declared = self
            .cx
            .decls
            .resolve_type(self.file, &step.ty)
            .unwrap_or(Ty::Error);
        self.action(step, &declared);
        self.push_frame();
        self.frames.last_mut().map(|f| {
            f.insert(
                "this".to_string(),
                Binding::value("this", declared.clone(), step.name.span),
            )
        });
        let prompt_names = step
            .clauses
            .iter()
            .filter_map(|c| match &c.kind {
                ClauseKind::Prompt(e) => Some(names_in(e)),
                _ => None,
            })
            .flatten()
            .collect::<HashSet<String>>();
        for clause in &step.clauses {
            self.clause(Some(step), clause, &declared, &prompt_names);
        }
        self.pop_frame();
        self.duplicate_clauses(step.clauses.iter());
        let facts = self.step_facts(step, declared);
        if matches!(step.action, Action::Llm) {
            self.llm_requirements(step, &facts);
            for clause in &step.clauses {
                if let ClauseKind::Prompt(e) = &clause.kind {
                    self.context_window(&facts, e);
                }
            }
        } else {
            self.model_clauses_elsewhere(step);
        }
        self.deadline_budget(step, &facts);
        self.cx.found.steps.insert(step.name.span, facts);
        self.current = previous;
    }

    /// E0207: a clause that only a model call takes, on a step that
    /// calls none.
    pub(super) fn model_clauses_elsewhere(&mut self, step: &StepDecl) {
        let action = match &step.action {
            Action::Llm => return,
            Action::Call { .. } => "a `call`",
            Action::Exec(_) => "an `exec`",
            Action::Fetch(_) => "a `fetch`",
            Action::Ask(_) => "an `ask`",
        };
        for clause in &step.clauses {
            let key = match clause.kind {
                ClauseKind::Model(_) => "model",
                ClauseKind::Agent(_) => "agent",
                ClauseKind::Prompt(_) => "prompt",
                ClauseKind::System(_) => "system",
                ClauseKind::Context(_) => "context",
                ClauseKind::Cache(_) => "cache",
                _ => continue,
            };
            self.report(StepProblem::ModelClauseElsewhere {
                at: clause.span,
                key,
                step: step.name.name.clone(),
                action,
            });
        }
    }

    /// What the checked program keeps of a step: its type, its resolved
    /// policy, its models and its agent.
    pub(super) fn step_facts(&mut self, step: &'a StepDecl, ty: Ty) -> StepFacts {
        let chosen = policy::choose(&step.clauses, self.workflow);
        let kind = NodeKind::of(&step.action);
        let is_llm = kind == NodeKind::Llm;
        StepFacts {
            ty,
            policy: self.cx.step_policy(self.file, &chosen, kind),
            models: if is_llm {
                self.cx.model_attempts(self.file, &chosen)
            } else {
                Vec::new()
            },
            agent: chosen
                .agent()
                .filter(|_| is_llm)
                .and_then(|agent| self.cx.agent_facts(self.file, agent)),
        }
    }

    pub(super) fn action(&mut self, step: &'a StepDecl, declared: &Ty) {
        match &step.action {
            Action::Llm => {}
            Action::Call { workflow, args } => {
                if let Some(target) = self
                    .cx
                    .decls
                    .lookup(self.file, &workflow.name)
                    .filter(|d| matches!(d.kind, DeclKind::Workflow(_)))
                    .and_then(|d| self.cx.workflow_of.get(&d.name.span).copied())
                {
                    self.cx.found.calls.insert(workflow.span, target);
                }
                self.calls.push((
                    self.workflow.name.name.clone(),
                    workflow.name.clone(),
                    workflow.span,
                ));
                let output = self.call(workflow, args, step.name.span);
                if let Some(output) = output {
                    if !output.fits(declared) {
                        self.mismatch(
                            &output,
                            declared,
                            workflow.span,
                            Some((step.ty.span, "the step's declared type")),
                        );
                    }
                }
            }
            // Any type: an `ExecResult` is the command's result, any
            // other its output read as that type.
            Action::Exec(block) => self.exec_block(block),
            Action::Fetch(block) => {
                self.typed_setting(block, "url", &Ty::String);
                self.typed_setting(block, "timeout", &Ty::Duration);
                self.text_map_setting(block, "headers");
                self.text_map_setting(block, "query");
                if let Some(SettingValue::Expr(e)) = block.get("body") {
                    let ty = self.expr(e, None);
                    self.require_value(ty, e);
                }
                self.word_setting(
                    block,
                    "method",
                    &["get", "post", "put", "patch", "delete", "head"],
                );
            }
            Action::Ask(block) => {
                self.typed_setting(block, "question", &Ty::String);
                self.typed_setting(block, "timeout", &Ty::Duration);
                if let Some(SettingValue::Expr(e)) = block.get("show") {
                    let ty = self.expr(e, None);
                    self.require_value(ty, e);
                }
                if let Some(SettingValue::Expr(e)) = block.get("options") {
                    let options = Ty::list(answer_choice(declared));
                    let ty = self.expr(e, Some(&options));
                    self.expect_fits(&ty, &options, e, None);
                }
            }
        }
    }

    pub fn exec_block(&mut self, block: &'a ActionBlock) {
        self.typed_setting(block, "command", &Ty::list(Ty::String));
        self.typed_setting(block, "stdin", &Ty::String);
        self.typed_setting(block, "cwd", &Ty::String);
        self.typed_setting(block, "timeout", &Ty::Duration);
        self.text_map_setting(block, "env");
        self.inherit_setting(block);
    }

    /// `inherit = ["GITHUB_TOKEN"]`: names written out, so the plan says
    /// which of spesc's variables a command sees.
    fn inherit_setting(&mut self, block: &'a ActionBlock) {
        let Some(value @ SettingValue::Expr(e)) = block.get("inherit") else {
            return;
        };
        if settings::names_value(value).is_none() {
            let ty = self.expr(e, Some(&Ty::list(Ty::String)));
            self.expect_fits(&ty, &Ty::list(Ty::String), e, None);
            if ty.fits(&Ty::list(Ty::String)) && !ty.is_error() {
                self.report(ConfigProblem::Computed {
                    at: e.span,
                    key: "inherit".into(),
                    expected: Expected::Names,
                });
            }
        }
    }

    /// `env`, `headers`, `query`: a map expression, or a block of
    /// `KEY = value` whose values are expressions rendered as text
    /// (`env = { MODE = mode }` reads the variable `mode`).
    pub(super) fn text_map_setting(&mut self, block: &'a ActionBlock, key: &str) {
        match block.get(key) {
            Some(SettingValue::Expr(e)) => {
                let ty = self.expr(e, Some(&Ty::Map(Box::new(Ty::String))));
                self.require_value(ty, e);
            }
            Some(SettingValue::Block(entries, _)) => {
                for entry in entries {
                    match &entry.value {
                        SettingValue::Expr(e) => {
                            let ty = self.expr(e, Some(&Ty::String));
                            self.require_value(ty, e);
                        }
                        _ => self.report(StepProblem::EntryNotText {
                            at: entry.span,
                            key: key.to_string(),
                            entry: entry.key.name.clone(),
                        }),
                    }
                }
            }
            _ => {}
        }
    }

    pub(super) fn typed_setting(&mut self, block: &'a ActionBlock, key: &str, expected: &Ty) {
        if let Some(SettingValue::Expr(e)) = block.get(key) {
            let ty = self.expr(e, Some(expected));
            self.expect_fits(&ty, expected, e, None);
        }
    }

    pub(super) fn word_setting(
        &mut self,
        block: &ActionBlock,
        key: &str,
        words: &'static [&'static str],
    ) {
        let Some(SettingValue::Expr(e)) = block.get(key) else {
            return;
        };
        let ok = match &e.kind {
            ExprKind::Name(n) => words.contains(&n.name.as_str()),
            ExprKind::String(t) => t
                .as_plain()
                .is_some_and(|s| words.contains(&s.to_lowercase().as_str())),
            _ => false,
        };
        if !ok {
            self.report(StepProblem::InvalidWord {
                at: e.span,
                key: key.to_string(),
                words,
            });
        }
    }

    /// A `call`: the workflow exists, its arguments match its parameters
    /// (E0206). Returns the workflow's output type.
    pub fn call(&mut self, workflow: &ast::Ident, args: &'a [ast::Arg], _at: Span) -> Option<Ty> {
        let decl = self.cx.decls.lookup(self.file, &workflow.name);
        let target = match decl.map(|d| (&d.kind, d.file)) {
            Some((DeclKind::Workflow(w), file)) => Some((*w, file)),
            _ => None,
        };
        let Some((target, target_file)) = target else {
            self.cx.expect_decl(self.file, workflow, "workflow");
            for arg in args {
                self.expr(&arg.value, None);
            }
            return None;
        };
        let mut given: HashSet<&str> = HashSet::new();
        for arg in args {
            let Some(name) = &arg.name else {
                self.expr(&arg.value, None);
                self.report(CallProblem::Unnamed {
                    at: arg.span,
                    callee: Callee::of(workflow, target),
                });
                continue;
            };
            let Some(param) = target.params.iter().find(|p| p.name.name == name.name) else {
                self.expr(&arg.value, None);
                self.report(CallProblem::NoSuchParameter {
                    at: name.span,
                    name: name.name.clone(),
                    callee: Callee::of(workflow, target),
                });
                continue;
            };
            given.insert(&name.name);
            let expected = self
                .cx
                .decls
                .resolve_type(target_file, &param.ty)
                .unwrap_or(Ty::Error);
            let found = self.expr(&arg.value, Some(&expected));
            if !found.fits(&expected) {
                if found.is_optional() && found.unwrap_optional().fits(&expected) {
                    self.optional_misuse(&found, &arg.value);
                } else {
                    self.report(CallProblem::ArgumentType {
                        at: arg.value.span,
                        name: name.name.clone(),
                        expected: expected.to_string(),
                        found: found.to_string(),
                        param_ty: param.ty.span,
                        producer: self.producer_of(&arg.value),
                    });
                }
            }
        }
        let missing: Vec<String> = target
            .params
            .iter()
            .filter(|p| p.default.is_none() && !given.contains(p.name.name.as_str()))
            .map(|p| p.name.name.clone())
            .collect();
        if !missing.is_empty() {
            self.report(CallProblem::Missing {
                at: workflow.span,
                missing,
                callee: Callee::of(workflow, target),
            });
        }
        let output = match &target.output {
            Some(ty) => self
                .cx
                .decls
                .resolve_type(target_file, ty)
                .unwrap_or(Ty::Error),
            None => Ty::Error,
        };
        Some(output)
    }

    /// One clause of `step` (`None`: a workflow's `default` clause).
    pub(super) fn clause(
        &mut self,
        step: Option<&'a StepDecl>,
        clause: &'a Clause,
        declared: &Ty,
        prompt_names: &HashSet<String>,
    ) {
        match &clause.kind {
            ClauseKind::Model(chain) => {
                for name in chain {
                    self.cx.expect_decl(self.file, name, "model");
                }
            }
            ClauseKind::Agent(name) => self.cx.expect_decl(self.file, name, "agent"),
            ClauseKind::Prompt(e) => self.text(e),
            ClauseKind::System(e) => {
                self.in_system = true;
                self.text(e);
                self.in_system = false;
            }
            ClauseKind::Context(strategy) => self.context(strategy, prompt_names),
            ClauseKind::Retry(retry) => self.retry_reference(retry),
            ClauseKind::Timeout(e) => {
                self.duration_literal(e, "timeout");
            }
            ClauseKind::Deadline(e) => {
                self.duration_literal(e, "deadline");
            }
            ClauseKind::Check { condition, message } => {
                self.condition(condition, "check");
                self.text(message);
            }
            ClauseKind::When(e) => {
                self.condition(e, "when");
                let never = crate::check::expr::constant_bool(e) == Some(false);
                if let Some(step) = step.filter(|_| never) {
                    self.report(FlowProblem::NeverRuns {
                        at: e.span,
                        step: step.name.name.clone(),
                        step_at: step.name.span,
                    });
                }
            }
            ClauseKind::OnError(e) => {
                let ty = self.expr(e, Some(declared));
                let origin = step.map(|s| (s.ty.span, "the step's declared type"));
                self.expect_fits(&ty, declared, e, origin);
            }
            ClauseKind::Compensate(block) => self.exec_block(block),
            ClauseKind::After(names) => {
                for name in names {
                    self.reference_step(name, false);
                }
            }
            ClauseKind::Cache(e) => {
                let ty = self.expr(e, Some(&Ty::Bool));
                self.expect_fits(&ty, &Ty::Bool, e, None);
                if ty.fits(&Ty::Bool) && !matches!(e.kind, ExprKind::Bool(_)) && !ty.is_error() {
                    self.report(ConfigProblem::Computed {
                        at: e.span,
                        key: "cache".into(),
                        expected: Expected::Bool,
                    });
                }
            }
        }
    }
}

/// What an `ask`'s `options` list: the variants of an enum answer (of a
/// `Review`'s `decision`), so `options = [approve, revise]` names them and
/// a misspelled one is caught; text otherwise.
fn answer_choice(declared: &Ty) -> Ty {
    match declared.unwrap_optional() {
        Ty::Enum(e) => Ty::Enum(e.clone()),
        Ty::Record(r) => match r.field("decision") {
            Some(Ty::Enum(e)) if r.name == "Review" => Ty::Enum(e.clone()),
            _ => Ty::String,
        },
        _ => Ty::String,
    }
}
