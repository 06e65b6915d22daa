//! Statements of a workflow body: each gets its node first (so a step may
//! read one written after it), then `let`s and `loop`s are checked.

use super::*;

impl<'c, 'a> Body<'c, 'a> {
    pub(super) fn new_node(
        &mut self,
        name: &ast::Ident,
        kind: NodeKind,
        when: Option<String>,
    ) -> NodeId {
        self.nodes.push(Node {
            name: name.name.clone(),
            span: name.span,
            kind,
            used: false,
            deps: Vec::new(),
            when,
        });
        self.node_of.insert(name.span, self.nodes.len() - 1);
        self.nodes.len() - 1
    }

    pub(super) fn declare(&mut self, stmt: &'a Stmt) {
        // A duplicate was reported; only the first one is declared.
        let declared_here = self
            .frames
            .last()
            .is_some_and(|f| f.contains_key(&stmt.name().name));
        if declared_here {
            return;
        }
        match stmt {
            Stmt::Step(step) => {
                let ty = self.resolve_type(&step.ty);
                let when = step.clauses.iter().find_map(|c| match &c.kind {
                    ClauseKind::When(e) => Some(dump::expr(e)),
                    _ => None,
                });
                let ty = if when.is_some() { Ty::optional(ty) } else { ty };
                let kind = NodeKind::of(&step.action);
                let node = self.new_node(&step.name, kind, when);
                let untrusted = kind == NodeKind::Fetch;
                self.bind(
                    &step.name,
                    Binding {
                        ty,
                        span: step.name.span,
                        node: Some(node),
                        untrusted,
                        loop_node: None,
                        resolution: Resolution::Node(step.name.span),
                    },
                );
            }
            Stmt::Let(let_stmt) => {
                let ty = match &let_stmt.ty {
                    Some(ty) => self.resolve_type(ty),
                    None => Ty::Error,
                };
                let node = self.new_node(&let_stmt.name, NodeKind::Let, None);
                self.bind(
                    &let_stmt.name,
                    Binding {
                        ty,
                        span: let_stmt.name.span,
                        node: Some(node),
                        untrusted: false,
                        loop_node: None,
                        resolution: Resolution::Node(let_stmt.name.span),
                    },
                );
            }
            Stmt::Loop(loop_stmt) => {
                let outputs = self.outputs_of(&loop_stmt.body);
                let mut fields = outputs;
                fields.push(("iterations".to_string(), Ty::Int));
                fields.push(("converged".to_string(), Ty::Bool));
                let ty = Ty::Record(Rc::new(RecordTy {
                    name: format!("loop `{}`", loop_stmt.name.name),
                    fields,
                    decl: Some(loop_stmt.name.span),
                    nominal: false,
                    about: Default::default(),
                }));
                self.cx.found.lets.insert(loop_stmt.name.span, ty.clone());
                let node = self.new_node(&loop_stmt.name, NodeKind::Loop, None);
                self.bind(
                    &loop_stmt.name,
                    Binding {
                        ty,
                        span: loop_stmt.name.span,
                        node: Some(node),
                        untrusted: false,
                        loop_node: Some(node),
                        resolution: Resolution::Node(loop_stmt.name.span),
                    },
                );
            }
        }
    }

    /// The declared outputs of a loop body's steps and typed lets.
    pub(super) fn outputs_of(&mut self, stmts: &[Stmt]) -> Vec<(String, Ty)> {
        stmts
            .iter()
            .filter_map(|s| match s {
                Stmt::Step(step) => {
                    let ty = self
                        .cx
                        .decls
                        .resolve_type(self.file, &step.ty)
                        .unwrap_or(Ty::Error);
                    Some((step.name.name.clone(), ty))
                }
                Stmt::Let(l) => {
                    let ty =
                        l.ty.as_ref()
                            .and_then(|t| self.cx.decls.resolve_type(self.file, t).ok())
                            .unwrap_or(Ty::Error);
                    Some((l.name.name.clone(), ty))
                }
                Stmt::Loop(_) => None,
            })
            .collect()
    }

    pub(super) fn let_stmt(&mut self, let_stmt: &'a LetStmt) {
        let node = self.node_of.get(&let_stmt.name.span).copied();
        let previous = std::mem::replace(&mut self.current, node);
        let declared = let_stmt.ty.as_ref().map(|t| self.resolve_type(t));
        let found = self.expr(&let_stmt.value, declared.as_ref());
        if let Some(declared) = &declared {
            let origin = let_stmt.ty.as_ref().map(|t| (t.span, "the declared type"));
            self.expect_fits(&found, declared, &let_stmt.value, origin);
        } else if let Some(frame) = self.frames.last_mut() {
            if let Some(binding) = frame.get_mut(&let_stmt.name.name) {
                binding.ty = found.clone();
            }
        }
        self.cx
            .found
            .lets
            .insert(let_stmt.name.span, declared.unwrap_or(found));
        self.current = previous;
    }

    pub(super) fn loop_stmt(&mut self, loop_stmt: &'a LoopStmt) {
        let node = self.node_of.get(&loop_stmt.name.span).copied();
        let previous_current = std::mem::replace(&mut self.current, node);
        self.loop_bound(loop_stmt);
        self.push_frame();
        let outputs = self.outputs_of(&loop_stmt.body);
        let previous = Ty::optional(Ty::Record(Rc::new(RecordTy {
            name: format!("iteration of {}", loop_stmt.name.name),
            fields: outputs,
            decl: Some(loop_stmt.name.span),
            nominal: false,
            about: Default::default(),
        })));
        self.frames.last_mut().map(|f| {
            f.insert(
                "previous".to_string(),
                Binding {
                    ty: previous,
                    span: loop_stmt.name.span,
                    node: None,
                    untrusted: false,
                    loop_node: node,
                    resolution: Resolution::Var("previous".to_string()),
                },
            )
        });
        let first_member = self.nodes.len();
        self.block_statements(&loop_stmt.body);
        if let Some(node) = node {
            let members: Vec<NodeId> = (first_member..self.nodes.len()).collect();
            let early = std::mem::take(&mut self.early_member_reads);
            for (loop_node, name) in early {
                if loop_node == node {
                    self.mark_member_read(&members, &name);
                } else {
                    self.early_member_reads.push((loop_node, name));
                }
            }
            self.loop_members.insert(node, members);
        }
        // The loop reads its body's steps: that is how its result is built.
        self.current = node;
        for arg in &loop_stmt.options {
            if arg.name.as_ref().is_some_and(|n| n.name == "best_by") {
                let ty = self.expr(&arg.value, None);
                let ty = self.require_value(ty, &arg.value);
                if !ty.is_numeric() {
                    self.mismatch(&ty, &Ty::Float, arg.value.span, None);
                }
            }
        }
        if let Some(until) = &loop_stmt.until {
            self.condition(until, "until");
        }
        self.pop_frame();
        self.current = previous_current;
    }

    /// E0401: `max` is required, a whole number from 1 to 100.
    pub(super) fn loop_bound(&mut self, loop_stmt: &LoopStmt) {
        let mut out = Vec::new();
        for arg in &loop_stmt.options {
            match arg.name.as_ref().map(|n| n.name.as_str()) {
                Some("max") => match &arg.value.kind {
                    ExprKind::Int(n) if (1..=MAX_LOOP).contains(n) => {}
                    ExprKind::Int(n) => out.push(CallProblem::LoopBound {
                        at: arg.value.span,
                        written: Some(*n),
                        most: MAX_LOOP,
                    }),
                    _ => out.push(CallProblem::LoopBound {
                        at: arg.value.span,
                        written: None,
                        most: MAX_LOOP,
                    }),
                },
                Some("best_by") => {}
                _ => {
                    let key = arg.name.as_ref().map_or("?", |n| n.name.as_str());
                    let at = arg.name.as_ref().map_or(arg.span, |n| n.span);
                    out.push(CallProblem::UnknownLoopOption {
                        at,
                        key: key.to_string(),
                    });
                }
            }
        }
        if !loop_stmt
            .options
            .iter()
            .any(|a| a.name.as_ref().is_some_and(|n| n.name == "max"))
        {
            out.push(CallProblem::UnboundedLoop {
                at: loop_stmt.name.span,
                name: loop_stmt.name.name.clone(),
            });
        }
        self.cx.problems.extend(out.into_iter().map(Problem::from));
    }

    // ---- steps ----------------------------------------------------------------------
}
