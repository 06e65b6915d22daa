//! What a step reads: prompt text, conditions, `context`, references to
//! other steps and loop members, and the dependency edges they make.

use super::*;

impl<'c, 'a> Body<'c, 'a> {
    /// A prompt-like value: text, a component or anything that renders.
    pub(super) fn text(&mut self, e: &'a Expr) {
        let ty = self.expr(e, Some(&Ty::String));
        let ty = self.require_value(ty, e);
        if !ty.fits(&Ty::String) {
            self.mismatch(&ty, &Ty::String, e.span, None);
        }
    }

    /// `check`, `when`, `until`: a `bool` (E0208).
    pub fn condition(&mut self, e: &'a Expr, keyword: &'static str) {
        let ty = self.expr(e, Some(&Ty::Bool));
        if ty.is_optional() && ty.unwrap_optional().fits(&Ty::Bool) {
            self.optional_misuse(&ty, e);
        } else if !ty.fits(&Ty::Bool) {
            self.report(ExprProblem::NotBool {
                at: e.span,
                keyword,
                ty: ty.to_string(),
                is_text: ty.fits(&Ty::String),
            });
        }
    }

    pub(super) fn context(
        &mut self,
        strategy: &'a ContextStrategy,
        prompt_names: &HashSet<String>,
    ) {
        if matches!(
            strategy,
            ContextStrategy::All(_) | ContextStrategy::Summarized(..)
        ) {
            self.whole_context.extend(self.current);
        }
        match strategy {
            ContextStrategy::Fresh(_) | ContextStrategy::All(_) => {}
            ContextStrategy::Steps(names, _) => {
                for name in names {
                    if !self.reference_step(name, true) {
                        continue;
                    }
                    if prompt_names.contains(&name.name) {
                        self.report(StepProblem::ContextAndPrompt {
                            at: name.span,
                            name: name.name.clone(),
                        });
                    }
                }
            }
            ContextStrategy::Summarized(args, _) => {
                for arg in args {
                    match arg.name.as_ref().map(|n| n.name.as_str()) {
                        Some("model") => match &arg.value.kind {
                            ExprKind::Name(model) => {
                                self.cx.expect_decl(self.file, model, "model");
                                if let Some(index) = self.cx.model_index(self.file, &model.name) {
                                    self.cx
                                        .found
                                        .names
                                        .insert(model.span, Resolution::Model(index));
                                }
                            }
                            _ => self.report(ExprProblem::NotWhatIsTaken {
                                at: arg.value.span,
                                expected: "a model name",
                            }),
                        },
                        Some("max_tokens") => {
                            let ty = self.expr(&arg.value, Some(&Ty::Int));
                            self.expect_fits(&ty, &Ty::Int, &arg.value, None);
                        }
                        _ => self.report(CallProblem::UnknownSummarizedArgument { at: arg.span }),
                    }
                }
            }
        }
    }

    /// A name in `after` or `context`: must be a step, `let` or loop in
    /// scope. Records the dependency; `uses` marks its output used.
    pub(super) fn reference_step(&mut self, name: &ast::Ident, uses: bool) -> bool {
        match self.lookup_local(&name.name).and_then(|b| b.node) {
            Some(node) => {
                let declared = Resolution::Node(self.nodes[node].span);
                self.cx.found.names.insert(name.span, declared);
                self.depend_on(node, name.span);
                if uses {
                    self.nodes[node].used = true;
                }
                true
            }
            None => {
                if !self.hidden_step(name) {
                    let candidates: Vec<String> =
                        self.nodes.iter().map(|n| n.name.clone()).collect();
                    self.report(NameProblem::Unknown {
                        at: name.span,
                        noun: "step",
                        name: name.name.clone(),
                        candidates,
                    });
                }
                false
            }
        }
    }

    /// `refine.attempt` or `previous.attempt`: reads `attempt` of the loop's
    /// body, which counts as a use.
    pub fn read_loop_member(&mut self, base: &Expr, field: &ast::Ident) {
        let ExprKind::Name(name) = &base.kind else {
            return;
        };
        let Some(loop_node) = self.lookup_local(&name.name).and_then(|b| b.loop_node) else {
            return;
        };
        match self.loop_members.get(&loop_node) {
            Some(members) => self.mark_member_read(&members.clone(), &field.name),
            // Inside the body (`previous.x`): its members are not all known yet.
            None => self
                .early_member_reads
                .push((loop_node, field.name.clone())),
        }
    }

    pub(super) fn mark_member_read(&mut self, members: &[NodeId], name: &str) {
        if let Some(&member) = members.iter().find(|&&m| self.nodes[m].name == name) {
            self.nodes[member].used = true;
        }
    }

    pub fn depend_on(&mut self, node: NodeId, at: Span) {
        if let Some(current) = self.current {
            self.nodes[current].deps.push((node, at));
        }
    }
}
