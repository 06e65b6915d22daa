//! `spesc fmt`: one canonical layout. Two-space indentation, one
//! declaration, field, setting, clause or statement per line, a blank line
//! between declarations, and the author's blank lines between lines of a
//! block (at most one). Comments stay where they were relative to the code
//! around them; literals (strings, numbers, durations) are printed as
//! written, `"""` blocks re-indented to their new depth, so formatting
//! never changes what a file means (tests parse both and compare).

use super::ast::*;
use super::dump;
use crate::source::Span;

const WIDTH: usize = 100;

/// `text` (which parsed as `file` without errors) in canonical layout.
pub fn format(file: &File, text: &str) -> String {
    let mut printer = Printer {
        src: text,
        comments: file
            .comments
            .iter()
            .map(|c| (c.span.start as usize, c.span.end as usize))
            .collect(),
        next: 0,
        out: String::new(),
        indent: 0,
        last: 0,
        block_start: true,
        force_blank: false,
    };
    // Consecutive one-line declarations of a kind (imports, components
    // from files, short enums) stay together; any other gets a blank line.
    let mut previous: Option<(std::mem::Discriminant<Item>, bool)> = None;
    for item in &file.items {
        let kind = std::mem::discriminant(item);
        let before = printer.out.len();
        if previous.is_some_and(|(k, one_line)| !(k == kind && one_line)) {
            printer.force_blank = true;
        }
        printer.item(item);
        let printed = &printer.out[before..];
        let one_line = printed
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with("//"))
            .count()
            == 1;
        let blank_already = printer.out[before..].starts_with('\n');
        if previous.is_some_and(|(k, one)| k == kind && one) && !one_line && !blank_already {
            // A long one after short ones: it gets its blank line after all.
            printer.out.insert(before, '\n');
        }
        previous = Some((kind, one_line));
    }
    printer.comments_before(text.len());
    let mut out = printer.out.trim_end().to_string();
    out.push('\n');
    out
}

struct Printer<'s> {
    src: &'s str,
    /// Comment spans, in order; `next` is the first not yet printed.
    comments: Vec<(usize, usize)>,
    next: usize,
    out: String,
    indent: usize,
    /// Where the last printed thing ended in the source.
    last: usize,
    /// Nothing printed yet in the current block: no blank line.
    block_start: bool,
    /// A blank line goes before the next declaration.
    force_blank: bool,
}

impl<'s> Printer<'s> {
    // ---- lines and comments ---------------------------------------------------------

    /// Starts a line for a node starting at `start`: the comments before
    /// it, a blank line where the source had one, the indentation.
    fn open(&mut self, start: usize) {
        self.comments_before(start);
        if self.had_blank(start) {
            self.blank_line();
        }
        self.block_start = false;
        self.push_indent();
        self.last = start;
    }

    /// Ends the line of a node ending at `end`, with the comment that
    /// follows it on the same source line.
    fn close(&mut self, end: usize) {
        self.last = self.last.max(end);
        if let Some(&(start, stop)) = self.comments.get(self.next) {
            // Only a comment right after this node: one after a node that
            // shared its line belongs to that node.
            if start >= self.last
                && self.src[self.last..start].trim().is_empty()
                && !self.src[self.last..start].contains('\n')
            {
                self.out.push_str("  ");
                self.out.push_str(self.src[start..stop].trim_end());
                self.next += 1;
                self.last = stop;
            }
        }
        self.out.push('\n');
    }

    fn comments_before(&mut self, position: usize) {
        while let Some(&(start, stop)) = self.comments.get(self.next) {
            if start >= position {
                break;
            }
            if self.had_blank(start) {
                self.blank_line();
            }
            self.block_start = false;
            self.push_indent();
            self.out.push_str(self.src[start..stop].trim_end());
            self.out.push('\n');
            self.next += 1;
            self.last = stop;
        }
    }

    /// Whether the source has a blank line between what was printed last
    /// and `start`.
    fn had_blank(&self, start: usize) -> bool {
        if self.block_start || self.out.is_empty() || start < self.last {
            return false;
        }
        let between = &self.src[self.last..start];
        let code_end = between
            .rfind(|c: char| !c.is_whitespace())
            .map_or(0, |i| i + 1);
        between[code_end..].matches('\n').count() >= 2
    }

    /// One blank line, never two.
    fn blank_line(&mut self) {
        if !self.out.is_empty() && !self.out.ends_with("\n\n") {
            self.out.push('\n');
        }
    }

    fn push_indent(&mut self) {
        for _ in 0..self.indent {
            self.out.push_str("  ");
        }
    }

    /// `{`, the lines `body` prints one level deeper, then `}` (the
    /// comments left before `end` go inside).
    fn block(&mut self, end: usize, body: impl FnOnce(&mut Self)) {
        self.out.push_str("{\n");
        self.indent += 1;
        self.block_start = true;
        body(self);
        self.comments_before(end.saturating_sub(1));
        self.indent -= 1;
        self.push_indent();
        self.out.push('}');
        self.block_start = false;
        self.last = self.last.max(end);
    }

    fn doc(&mut self, doc: &Option<Doc>) {
        if let Some(doc) = doc {
            self.open(doc.span.start as usize);
            let lines: Vec<String> = doc
                .text
                .split('\n')
                .map(|l| {
                    if l.is_empty() {
                        "///".to_string()
                    } else {
                        format!("/// {l}")
                    }
                })
                .collect();
            let joined = lines.join(&format!("\n{}", "  ".repeat(self.indent)));
            self.out.push_str(&joined);
            self.out.push('\n');
            self.last = doc.span.end as usize;
        }
    }

    fn text(&self, span: Span) -> &'s str {
        &self.src[span.start as usize..span.end as usize]
    }

    // ---- declarations ----------------------------------------------------------------

    fn item(&mut self, item: &Item) {
        if std::mem::take(&mut self.force_blank) {
            self.blank_line();
        }
        match item {
            Item::Import(i) => {
                self.doc(&i.doc);
                self.open(i.span.start as usize);
                self.out
                    .push_str(&format!("import {}", self.text(i.path.span)));
                self.close(i.span.end as usize);
            }
            Item::Type(t) => {
                self.doc(&t.doc);
                self.open(t.span.start as usize);
                self.out.push_str(&format!("type {} ", t.name.name));
                self.block(t.span.end as usize, |p| {
                    for field in &t.fields {
                        p.doc(&field.doc);
                        p.open(field.span.start as usize);
                        p.out
                            .push_str(&format!("{}: {}", field.name.name, dump::ty(&field.ty)));
                        p.close(field.span.end as usize);
                    }
                });
                self.close(t.span.end as usize);
            }
            Item::Enum(e) => {
                self.doc(&e.doc);
                self.open(e.span.start as usize);
                self.out.push_str(&format!("enum {} ", e.name.name));
                let names: Vec<&str> = e.variants.iter().map(|v| v.name.name.as_str()).collect();
                let inline = format!("{{ {} }}", names.join(", "));
                let commented = self.comment_within(e.span);
                if !commented && e.variants.iter().all(|v| v.doc.is_none()) && self.fits(&inline) {
                    self.out.push_str(&inline);
                } else {
                    self.block(e.span.end as usize, |p| {
                        let count = e.variants.len();
                        for (n, variant) in e.variants.iter().enumerate() {
                            p.doc(&variant.doc);
                            p.open(variant.span.start as usize);
                            p.out.push_str(&variant.name.name);
                            if n + 1 < count {
                                p.out.push(',');
                            }
                            p.close(variant.span.end as usize);
                        }
                    });
                }
                self.close(e.span.end as usize);
            }
            Item::Model(m) => self.settings_decl("model", &m.doc, &m.name, &m.settings, m.span),
            Item::Retry(r) => self.settings_decl("retry", &r.doc, &r.name, &r.settings, r.span),
            Item::Agent(a) => self.settings_decl("agent", &a.doc, &a.name, &a.settings, a.span),
            Item::Component(c) => {
                self.doc(&c.doc);
                self.open(c.span.start as usize);
                self.out.push_str(&format!("component {} = ", c.name.name));
                match &c.source {
                    ComponentSource::File(path) => self
                        .out
                        .push_str(&format!("file({})", self.text(path.span))),
                    ComponentSource::Inline(template) => self.template(template),
                }
                self.close(c.span.end as usize);
            }
            Item::Workflow(w) => self.workflow(w),
            Item::Test(t) => self.test(t),
        }
    }

    fn comment_within(&self, span: Span) -> bool {
        self.comments[self.next..]
            .iter()
            .any(|&(start, _)| start >= span.start as usize && start < span.end as usize)
    }

    fn fits(&self, text: &str) -> bool {
        let line_start = self.out.rfind('\n').map_or(0, |n| n + 1);
        self.out.len() - line_start + text.len() <= WIDTH && !text.contains('\n')
    }

    fn settings_decl(
        &mut self,
        keyword: &str,
        doc: &Option<Doc>,
        name: &Ident,
        settings: &[Setting],
        span: Span,
    ) {
        self.doc(doc);
        self.open(span.start as usize);
        self.out.push_str(&format!("{keyword} {} ", name.name));
        self.block(span.end as usize, |p| p.settings(settings));
        self.close(span.end as usize);
    }

    fn settings(&mut self, settings: &[Setting]) {
        for setting in settings {
            self.open(setting.span.start as usize);
            self.setting(setting);
            self.close(setting.span.end as usize);
        }
    }

    fn setting(&mut self, setting: &Setting) {
        self.out.push_str(&format!("{} = ", setting.key.name));
        self.setting_value(&setting.value);
    }

    fn setting_value(&mut self, value: &SettingValue) {
        match value {
            SettingValue::Expr(e) => self.expr(e),
            SettingValue::Chain(names) => self.out.push_str(&chain(names)),
            SettingValue::Block(inner, span) => self.settings_block(inner, *span),
        }
    }

    /// `{ a = 1, b = 2 }` on one line when it fits and holds no comment,
    /// else one setting per line.
    fn settings_block(&mut self, settings: &[Setting], span: Span) {
        let mut probe = self.fork();
        let inline: Vec<String> = settings
            .iter()
            .map(|s| {
                probe.out.clear();
                probe.setting(s);
                probe.out.clone()
            })
            .collect();
        let inline = if inline.is_empty() {
            "{}".to_string()
        } else {
            format!("{{ {} }}", inline.join(", "))
        };
        if !self.comment_within(span) && self.fits(&inline) {
            self.out.push_str(&inline);
            self.last = self.last.max(span.end as usize);
        } else {
            self.block(span.end as usize, |p| p.settings(settings));
        }
    }

    /// A printer for trial layouts: same source, no comments.
    fn fork(&self) -> Printer<'s> {
        Printer {
            src: self.src,
            comments: Vec::new(),
            next: 0,
            out: String::new(),
            indent: self.indent,
            last: self.last,
            block_start: true,
            force_blank: false,
        }
    }

    fn workflow(&mut self, w: &WorkflowDecl) {
        self.doc(&w.doc);
        self.open(w.span.start as usize);
        let params: Vec<String> = w
            .params
            .iter()
            .map(|p| {
                let mut text = format!("{}: {}", p.name.name, dump::ty(&p.ty));
                if let Some(default) = &p.default {
                    text.push_str(&format!(" = {}", self.inline(default)));
                }
                text
            })
            .collect();
        let output = w
            .output
            .as_ref()
            .map_or(String::new(), |t| format!(" -> {}", dump::ty(t)));
        let one_line = format!("workflow {}({}){output} {{", w.name.name, params.join(", "));
        if self.fits(&one_line) {
            self.out.push_str(&one_line[..one_line.len() - 1]);
        } else {
            // One parameter per line, each with its comma.
            let inner = "  ".repeat(self.indent + 1);
            self.out.push_str(&format!("workflow {}(\n", w.name.name));
            for param in &params {
                self.out.push_str(&format!("{inner}{param},\n"));
            }
            self.push_indent();
            self.out.push_str(&format!("){output} "));
        }
        self.block(w.span.end as usize, |p| {
            for setting in &w.settings {
                p.open(setting.span.start as usize);
                match &setting.kind {
                    WorkflowSettingKind::Deadline(e) => {
                        p.out.push_str("deadline = ");
                        p.expr(e);
                    }
                    WorkflowSettingKind::MaxConcurrency(e) => {
                        p.out.push_str("max_concurrency = ");
                        p.expr(e);
                    }
                    WorkflowSettingKind::Default(clause) => {
                        p.out.push_str("default ");
                        p.clause(clause);
                    }
                }
                p.close(setting.span.end as usize);
            }
            p.statements(&w.body);
            if let Some(ret) = &w.ret {
                p.open(ret.span.start as usize);
                p.out.push_str("return ");
                p.expr(&ret.value);
                p.close(ret.span.end as usize);
            }
        });
        self.close(w.span.end as usize);
    }

    fn test(&mut self, t: &TestDecl) {
        self.doc(&t.doc);
        self.open(t.span.start as usize);
        self.out
            .push_str(&format!("test {} ", self.text(t.name.span)));
        self.block(t.span.end as usize, |p| {
            for stmt in &t.body {
                match stmt {
                    TestStmt::Run {
                        workflow,
                        args,
                        span,
                    } => {
                        p.open(span.start as usize);
                        p.out
                            .push_str(&format!("run {}({})", workflow.name, p.args(args)));
                        p.close(span.end as usize);
                    }
                    TestStmt::Given { step, value, span } => {
                        p.open(span.start as usize);
                        p.out.push_str(&format!("given {} = ", step.name));
                        p.expr(value);
                        p.close(span.end as usize);
                    }
                    TestStmt::Expect { condition, span } => {
                        p.open(span.start as usize);
                        p.out.push_str("expect ");
                        p.expr(condition);
                        p.close(span.end as usize);
                    }
                }
            }
        });
        self.close(t.span.end as usize);
    }

    // ---- statements ------------------------------------------------------------------

    fn statements(&mut self, stmts: &[Stmt]) {
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

    fn step(&mut self, step: &StepDecl) {
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
    fn action_block(&mut self, block: &ActionBlock, clauses: &[Clause], step: Span) {
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

    fn clause(&mut self, clause: &Clause) {
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

    fn keyed(&mut self, key: &str, e: &Expr) {
        self.out.push_str(&format!("{key} = "));
        self.expr(e);
    }

    // ---- expressions -----------------------------------------------------------------

    /// An expression with no statement inside, as one line.
    fn inline(&self, e: &Expr) -> String {
        let mut probe = self.fork();
        probe.expr(e);
        probe.out
    }

    fn args(&self, args: &[Arg]) -> String {
        args.iter()
            .map(|a| match &a.name {
                Some(name) => format!("{} = {}", name.name, self.inline(&a.value)),
                None => self.inline(&a.value),
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn expr(&mut self, e: &Expr) {
        match &e.kind {
            // Literals as written: the formatter never re-spells a value.
            ExprKind::Int(_)
            | ExprKind::Float(_)
            | ExprKind::Bool(_)
            | ExprKind::Duration(_)
            | ExprKind::Percent(_) => self.out.push_str(self.text(e.span)),
            ExprKind::String(t) => self.template(t),
            ExprKind::Name(n) => self.out.push_str(&n.name),
            ExprKind::List(items) => {
                self.out.push('[');
                self.joined(items);
                self.out.push(']');
            }
            ExprKind::Record(fields) => {
                let inline: Vec<String> = fields
                    .iter()
                    .map(|f| format!("{}: {}", f.name.name, self.inline(&f.value)))
                    .collect();
                let one_line = if inline.is_empty() {
                    "{}".to_string()
                } else {
                    format!("{{ {} }}", inline.join(", "))
                };
                if self.fits(&one_line) || fields.is_empty() {
                    self.out.push_str(&one_line);
                    return;
                }
                // One field per line, each with its comma.
                self.out.push_str("{\n");
                self.indent += 1;
                for field in fields {
                    self.push_indent();
                    self.out.push_str(&format!("{}: ", field.name.name));
                    self.expr(&field.value);
                    self.out.push_str(",\n");
                }
                self.indent -= 1;
                self.push_indent();
                self.out.push('}');
            }
            ExprKind::Field { base, field } => {
                self.expr(base);
                self.out.push_str(&format!(".{}", field.name));
            }
            ExprKind::Index { base, index } => {
                self.expr(base);
                self.out.push('[');
                self.expr(index);
                self.out.push(']');
            }
            ExprKind::Call { function, args } => {
                let args = self.args(args);
                self.out.push_str(&format!("{}({args})", function.name));
            }
            ExprKind::Unary { op, operand } => {
                self.out.push_str(match op {
                    UnaryOp::Not => "not ",
                    UnaryOp::Neg => "-",
                });
                self.expr(operand);
            }
            ExprKind::Binary { op, lhs, rhs } => {
                self.expr(lhs);
                self.out.push_str(&format!(" {} ", op.symbol()));
                self.expr(rhs);
            }
            ExprKind::If {
                condition,
                then,
                otherwise,
            } => {
                self.out.push_str("if ");
                self.expr(condition);
                self.out.push(' ');
                self.value_block(then);
                self.out.push_str(" else ");
                self.expr(otherwise);
            }
            ExprKind::Match { scrutinee, arms } => {
                self.out.push_str("match ");
                self.expr(scrutinee);
                self.out.push(' ');
                self.block(e.span.end as usize, |p| {
                    for arm in arms {
                        p.open(arm.span.start as usize);
                        let patterns: Vec<&str> =
                            arm.patterns.iter().map(|pat| p.text(pat.span)).collect();
                        p.out.push_str(&format!("{} => ", patterns.join(" | ")));
                        p.expr(&arm.body);
                        p.close(arm.span.end as usize);
                    }
                });
            }
            ExprKind::For {
                var,
                source,
                options,
                body,
            } => {
                self.out.push_str(&format!("for {} in ", var.name));
                self.expr(source);
                if !options.is_empty() {
                    self.out.push_str(&format!(" ({})", self.args(options)));
                }
                self.out.push(' ');
                self.value_block(body);
            }
            ExprKind::Block(b) => self.value_block(b),
            ExprKind::Paren(inner) => {
                self.out.push('(');
                self.expr(inner);
                self.out.push(')');
            }
        }
    }

    fn joined(&mut self, items: &[Expr]) {
        for (n, item) in items.iter().enumerate() {
            if n > 0 {
                self.out.push_str(", ");
            }
            self.expr(item);
        }
    }

    /// `{ value }` inline when the block has no statements, else its
    /// statements and value one per line.
    fn value_block(&mut self, b: &Block) {
        if b.stmts.is_empty() && !self.comment_within(b.span) {
            let value = self.inline(&b.value);
            if self.fits(&format!("{{ {value} }}")) {
                self.out.push_str(&format!("{{ {value} }}"));
                self.last = self.last.max(b.span.end as usize);
                return;
            }
        }
        self.block(b.span.end as usize, |p| {
            p.statements(&b.stmts);
            p.open(b.value.span.start as usize);
            p.expr(&b.value);
            p.close(b.value.span.end as usize);
        });
    }

    /// A string as written; a `"""` block re-indented one level deeper
    /// than the line it starts on (its common indentation is not part of
    /// its text, so this keeps the text).
    fn template(&mut self, t: &Template) {
        let written = self.text(t.span);
        if !t.triple {
            self.out.push_str(written);
            self.last = self.last.max(t.span.end as usize);
            return;
        }
        let lines: Vec<&str> = written.split('\n').collect();
        let first_blank = lines[0].trim_start_matches("\"\"\"").trim().is_empty();
        if lines.len() < 2 || !first_blank {
            self.out.push_str(written);
            self.last = self.last.max(t.span.end as usize);
            return;
        }
        let body = &lines[1..lines.len() - 1];
        let last = lines[lines.len() - 1];
        let closing_blank = last.trim_end_matches("\"\"\"").trim().is_empty();
        let leading = |l: &str| l.len() - l.trim_start_matches([' ', '\t']).len();
        let mut counted: Vec<&str> = body.to_vec();
        if !closing_blank {
            counted.push(last);
        }
        let old = counted
            .iter()
            .filter(|l| !l.trim().is_empty())
            .map(|l| leading(l))
            .min()
            .unwrap_or(0);
        let base = "  ".repeat(self.indent);
        let new = format!("{base}  ");
        let shift = |l: &str| {
            if l.trim().is_empty() && leading(l) <= old {
                String::new()
            } else {
                format!("{new}{}", &l[old.min(leading(l))..])
            }
        };
        self.out.push_str("\"\"\"\n");
        for line in body {
            self.out.push_str(&shift(line));
            self.out.push('\n');
        }
        if closing_blank {
            self.out.push_str(&format!("{base}\"\"\""));
        } else {
            self.out.push_str(&shift(last));
        }
        self.last = self.last.max(t.span.end as usize);
    }
}

fn chain(names: &[Ident]) -> String {
    names
        .iter()
        .map(|n| n.name.as_str())
        .collect::<Vec<_>>()
        .join(" | ")
}

fn names_list(names: &[Ident]) -> String {
    names
        .iter()
        .map(|n| n.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}
