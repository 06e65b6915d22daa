//! `spesc fmt`: one canonical layout. Two-space indentation, one
//! declaration, field, setting, clause or statement per line, a blank line
//! between declarations, and the author's blank lines between lines of a
//! block (at most one). Comments stay where they were relative to the code
//! around them; literals (strings, numbers, durations) are printed as
//! written, `"""` blocks re-indented to their new depth, so formatting
//! never changes what a file means (tests parse both and compare).

mod exprs;
mod statements;

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

    /// A field's or a variant's ` alias "k"` clauses, as written.
    fn aliases(&mut self, aliases: &[PlainString]) {
        for alias in aliases {
            let text = format!(" alias {}", self.text(alias.span));
            self.out.push_str(&text);
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
                        p.aliases(&field.aliases);
                        p.close(field.span.end as usize);
                    }
                });
                self.close(t.span.end as usize);
            }
            Item::Enum(e) => {
                self.doc(&e.doc);
                self.open(e.span.start as usize);
                self.out.push_str(&format!("enum {} ", e.name.name));
                let names: Vec<String> = e
                    .variants
                    .iter()
                    .map(|v| {
                        let aliases = v
                            .aliases
                            .iter()
                            .map(|a| format!(" alias {}", self.text(a.span)));
                        format!("{}{}", v.name.name, aliases.collect::<String>())
                    })
                    .collect();
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
                            p.aliases(&variant.aliases);
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
