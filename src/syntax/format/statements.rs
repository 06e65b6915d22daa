//! Statements and steps: one block per action, the step's clauses in it.

use super::*;

impl<'s> Printer<'s> {
    pub(super) fn statements(&mut self, stmts: &[Stmt]) {
        for stmt in stmts {
            match stmt {
                Stmt::Step(step) => self.step(step),
                Stmt::Let(l) => {
                    self.doc(&l.doc);
                    self.open(l.span.start as usize);
                    self.out.push_str(&format!("let {}", l.name.name));
                    if let Some(ty) = &l.ty {
                        self.out.push_str(&format!(": {}", dump::ty(ty)));
                    }
                    self.out.push_str(" = ");
                    self.expr(&l.value);
                    self.close(l.span.end as usize);
                }
                Stmt::Loop(l) => {
                    self.doc(&l.doc);
                    self.open(l.span.start as usize);
                    self.out.push_str(&format!("loop {} ", l.name.name));
                    if !l.options.is_empty() {
                        self.out.push_str(&format!("({}) ", self.args(&l.options)));
                    }
                    self.block(l.span.end as usize, |p| {
                        p.statements(&l.body);
                        if let Some(until) = &l.until {
                            p.open(until.span.start as usize);
                            p.out.push_str("until ");
                            p.expr(until);
                            p.close(until.span.end as usize);
                        }
                    });
                    self.close(l.span.end as usize);
                }
            }
        }
    }

    pub(super) fn step(&mut self, step: &StepDecl) {
        self.doc(&step.doc);
        self.open(step.span.start as usize);
        self.out
            .push_str(&format!("step {}: {}", step.name.name, dump::ty(&step.ty)));
        let keyword = match &step.action {
            Action::Llm => None,
            Action::Call { workflow, args } => {
                self.out
                    .push_str(&format!(" = call {}({})", workflow.name, self.args(args)));
                None
            }
            Action::Exec(b) => Some(("exec", b)),
            Action::Fetch(b) => Some(("fetch", b)),
            Action::Ask(b) => Some(("ask", b)),
        };
        if let Some((keyword, block)) = keyword {
            // One block: the action's settings and the step's clauses
            // (a second `{ … }` block written after it is merged in).
            self.out.push_str(&format!(" = {keyword} "));
            self.action_block(block, &step.clauses, step.span);
            self.close(step.span.end as usize);
            return;
        }
        if matches!(step.action, Action::Llm) || !step.clauses.is_empty() {
            self.out.push(' ');
            // Up to two short clauses stay on the step's line.
            let mut probe = self.fork();
            let clauses: Vec<String> = step
                .clauses
                .iter()
                .map(|c| {
                    probe.out.clear();
                    probe.clause(c);
                    probe.out.clone()
                })
                .collect();
            let one_line = format!("{{ {} }}", clauses.join("  "));
            let inside = Span::new(
                step.name.span.file,
                step.name.span.end as usize,
                step.span.end as usize,
            );
            let short = matches!(step.action, Action::Llm) && (1..=2).contains(&clauses.len());
            if short && self.fits(&one_line) && !self.comment_within(inside) {
                self.out.push_str(&one_line);
                self.last = self.last.max(step.span.end as usize);
                self.close(step.span.end as usize);
                return;
            }
            self.block(step.span.end as usize, |p| {
                for clause in &step.clauses {
                    p.open(clause.span.start as usize);
                    p.clause(clause);
                    p.close(clause.span.end as usize);
                }
            });
        }
        self.close(step.span.end as usize);
    }

    /// An action's settings and the step's clauses in source order: on one
    /// line when it fits and holds no comment, else one member per line.
    pub(super) fn action_block(&mut self, block: &ActionBlock, clauses: &[Clause], step: Span) {
        enum Member<'a> {
            Setting(&'a Setting),
            Clause(&'a Clause),
        }
        let mut members: Vec<(Span, Member)> = block
            .settings
            .iter()
            .map(|s| (s.span, Member::Setting(s)))
            .chain(clauses.iter().map(|c| (c.span, Member::Clause(c))))
            .collect();
        members.sort_by_key(|(span, _)| span.start);
        let mut probe = self.fork();
        let mut inline = Vec::new();
        for (_, member) in &members {
            probe.out.clear();
            match member {
                Member::Setting(s) => probe.setting(s),
                Member::Clause(c) => probe.clause(c),
            }
            inline.push(probe.out.clone());
        }
        let inline = if inline.is_empty() {
            "{}".to_string()
        } else {
            format!("{{ {} }}", inline.join(", "))
        };
        let inside = Span::new(
            block.span.file,
            block.span.start as usize,
            step.end as usize,
        );
        if !self.comment_within(inside) && self.fits(&inline) {
            self.out.push_str(&inline);
            self.last = self.last.max(step.end as usize);
            return;
        }
        self.block(step.end as usize, |p| {
            for (span, member) in &members {
                p.open(span.start as usize);
                match member {
                    Member::Setting(s) => p.setting(s),
                    Member::Clause(c) => p.clause(c),
                }
                p.close(span.end as usize);
            }
        });
    }

    pub(super) fn clause(&mut self, clause: &Clause) {
        match &clause.kind {
            ClauseKind::Model(names) => self.out.push_str(&format!("model = {}", chain(names))),
            ClauseKind::Agent(name) => self.out.push_str(&format!("agent = {}", name.name)),
            ClauseKind::Prompt(e) => self.keyed("prompt", e),
            ClauseKind::System(e) => self.keyed("system", e),
            ClauseKind::Context(strategy) => {
                let text = match strategy {
                    ContextStrategy::Fresh(_) => "fresh".to_string(),
                    ContextStrategy::All(_) => "all".to_string(),
                    ContextStrategy::Steps(names, _) => format!("[{}]", names_list(names)),
                    ContextStrategy::Summarized(args, _) => {
                        format!("summarized({})", self.args(args))
                    }
                };
                self.out.push_str(&format!("context = {text}"));
            }
            ClauseKind::Retry(RetryRef::Named(name)) => {
                self.out.push_str(&format!("retry = {}", name.name))
            }
            ClauseKind::Retry(RetryRef::Inline(settings, span)) => {
                self.out.push_str("retry = ");
                self.settings_block(settings, *span);
            }
            ClauseKind::Timeout(e) => self.keyed("timeout", e),
            ClauseKind::Deadline(e) => self.keyed("deadline", e),
            ClauseKind::Check { condition, message } => {
                self.out.push_str("check ");
                self.expr(condition);
                self.out.push_str(" else ");
                self.expr(message);
            }
            ClauseKind::When(e) => {
                self.out.push_str("when ");
                self.expr(e);
            }
            ClauseKind::OnError(e) => self.keyed("on_error", e),
            ClauseKind::Compensate(block) => {
                self.out.push_str("compensate = exec ");
                self.settings_block(&block.settings, block.span);
            }
            ClauseKind::After(names) => self
                .out
                .push_str(&format!("after = [{}]", names_list(names))),
            ClauseKind::Cache(e) => self.keyed("cache", e),
        }
    }

    pub(super) fn keyed(&mut self, key: &str, e: &Expr) {
        self.out.push_str(&format!("{key} = "));
        self.expr(e);
    }

    // ---- expressions -----------------------------------------------------------------
}
