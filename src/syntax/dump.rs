//! A stable, readable dump of the AST: one line per declaration, statement,
//! clause and template part, with expressions as S-expressions so operator
//! precedence is visible at a glance.
//!
//! ```text
//! workflow content @0..120 (topic: string) -> string
//!   step outline: Outline @40..100
//!     model sonnet | flash
//!     prompt "Outline " {{topic}}
//!     check (> (len this) 500) else "too short"
//! ```
//!
//! [`dump_without_spans`] leaves the `@start..end` out, so two parses of the
//! same program written differently compare equal.

use super::ast::*;
use crate::source::Span;

/// The dump with spans.
pub fn dump(file: &File) -> String {
    Dumper::new(true).file(file)
}

/// The dump without spans: equal for programs that differ only in layout.
pub fn dump_without_spans(file: &File) -> String {
    Dumper::new(false).file(file)
}

struct Dumper {
    out: String,
    depth: usize,
    spans: bool,
}

impl Dumper {
    fn new(spans: bool) -> Dumper {
        Dumper {
            out: String::new(),
            depth: 0,
            spans,
        }
    }

    fn file(mut self, file: &File) -> String {
        for item in &file.items {
            self.item(item);
        }
        for comment in &file.comments {
            let at = self.at(comment.span);
            self.line(format!("comment{at} {:?}", comment.text));
        }
        self.out
    }

    fn at(&self, span: Span) -> String {
        if self.spans {
            format!(" @{}..{}", span.start, span.end)
        } else {
            String::new()
        }
    }

    fn line(&mut self, text: String) {
        for _ in 0..self.depth {
            self.out.push_str("  ");
        }
        self.out.push_str(&text);
        self.out.push('\n');
    }

    fn nested(&mut self, f: impl FnOnce(&mut Dumper)) {
        self.depth += 1;
        f(self);
        self.depth -= 1;
    }

    fn doc(&mut self, doc: &Option<Doc>) {
        if let Some(doc) = doc {
            let at = self.at(doc.span);
            self.line(format!("doc{at} {:?}", doc.text));
        }
    }

    fn item(&mut self, item: &Item) {
        match item {
            Item::Import(i) => {
                self.doc(&i.doc);
                let at = self.at(i.span);
                self.line(format!("import{at} {:?}", i.path.value));
            }
            Item::Type(t) => {
                self.doc(&t.doc);
                let at = self.at(t.span);
                self.line(format!("type {}{at}", t.name.name));
                self.nested(|d| {
                    for f in &t.fields {
                        d.doc(&f.doc);
                        let at = d.at(f.span);
                        d.line(format!(
                            "field {}: {}{}{at}",
                            f.name.name,
                            ty(&f.ty),
                            aliases(&f.aliases)
                        ));
                    }
                });
            }
            Item::Enum(e) => {
                self.doc(&e.doc);
                let at = self.at(e.span);
                self.line(format!("enum {}{at}", e.name.name));
                self.nested(|d| {
                    for v in &e.variants {
                        d.doc(&v.doc);
                        let at = d.at(v.span);
                        d.line(format!(
                            "variant {}{}{at}",
                            v.name.name,
                            aliases(&v.aliases)
                        ));
                    }
                });
            }
            Item::Model(m) => self.settings_decl("model", &m.doc, &m.name, &m.settings, m.span),
            Item::Retry(r) => self.settings_decl("retry", &r.doc, &r.name, &r.settings, r.span),
            Item::Agent(a) => self.settings_decl("agent", &a.doc, &a.name, &a.settings, a.span),
            Item::Component(c) => {
                self.doc(&c.doc);
                let at = self.at(c.span);
                let source = match &c.source {
                    ComponentSource::File(path) => format!("file({:?})", path.value),
                    ComponentSource::Inline(t) => template(t),
                };
                self.line(format!("component {}{at} = {source}", c.name.name));
            }
            Item::Workflow(w) => self.workflow(w),
            Item::Test(t) => self.test(t),
        }
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
        let at = self.at(span);
        self.line(format!("{keyword} {}{at}", name.name));
        self.nested(|d| d.settings(settings));
    }

    fn settings(&mut self, settings: &[Setting]) {
        for s in settings {
            let at = self.at(s.span);
            match &s.value {
                SettingValue::Expr(e) => self.line(format!("{}{at} = {}", s.key.name, expr(e))),
                SettingValue::Chain(names) => {
                    self.line(format!("{}{at} = {}", s.key.name, chain(names)));
                }
                SettingValue::Block(inner, _) => {
                    self.line(format!("{}{at} = {{", s.key.name));
                    self.nested(|d| d.settings(inner));
                    self.line("}".to_string());
                }
            }
        }
    }

    fn workflow(&mut self, w: &WorkflowDecl) {
        self.doc(&w.doc);
        let at = self.at(w.span);
        let params: Vec<String> = w
            .params
            .iter()
            .map(|p| match &p.default {
                Some(default) => format!("{}: {} = {}", p.name.name, ty(&p.ty), expr(default)),
                None => format!("{}: {}", p.name.name, ty(&p.ty)),
            })
            .collect();
        let output = w
            .output
            .as_ref()
            .map_or(String::new(), |t| format!(" -> {}", ty(t)));
        self.line(format!(
            "workflow {}{at} ({}){output}",
            w.name.name,
            params.join(", ")
        ));
        self.nested(|d| {
            for s in &w.settings {
                let at = d.at(s.span);
                match &s.kind {
                    WorkflowSettingKind::Deadline(e) => {
                        d.line(format!("deadline{at} = {}", expr(e)))
                    }
                    WorkflowSettingKind::MaxConcurrency(e) => {
                        d.line(format!("max_concurrency{at} = {}", expr(e)));
                    }
                    WorkflowSettingKind::Default(c) => {
                        d.line(format!("default{at}"));
                        d.nested(|d| d.clause(c));
                    }
                }
            }
            d.stmts(&w.body);
            if let Some(ret) = &w.ret {
                let at = d.at(ret.span);
                d.line(format!("return{at} {}", expr(&ret.value)));
            }
        });
    }

    fn stmts(&mut self, stmts: &[Stmt]) {
        for stmt in stmts {
            self.stmt(stmt);
        }
    }

    fn stmt(&mut self, stmt: &Stmt) {
        match stmt {
            Stmt::Step(s) => {
                self.doc(&s.doc);
                let at = self.at(s.span);
                let action = match &s.action {
                    Action::Llm => String::new(),
                    Action::Call { workflow, args } => {
                        format!(" = call {}({})", workflow.name, self::args(args))
                    }
                    Action::Exec(_) => " = exec".to_string(),
                    Action::Fetch(_) => " = fetch".to_string(),
                    Action::Ask(_) => " = ask".to_string(),
                };
                self.line(format!("step {}: {}{at}{action}", s.name.name, ty(&s.ty)));
                self.nested(|d| {
                    if let Action::Exec(b) | Action::Fetch(b) | Action::Ask(b) = &s.action {
                        d.settings(&b.settings);
                    }
                    for c in &s.clauses {
                        d.clause(c);
                    }
                });
            }
            Stmt::Let(l) => {
                self.doc(&l.doc);
                let at = self.at(l.span);
                let annotation =
                    l.ty.as_ref()
                        .map_or(String::new(), |t| format!(": {}", ty(t)));
                self.line(format!("let {}{annotation}{at}", l.name.name));
                self.nested(|d| d.value(&l.value));
            }
            Stmt::Loop(l) => {
                self.doc(&l.doc);
                let at = self.at(l.span);
                self.line(format!("loop {}{at} ({})", l.name.name, args(&l.options)));
                self.nested(|d| {
                    d.stmts(&l.body);
                    if let Some(until) = &l.until {
                        d.line(format!("until {}", expr(until)));
                    }
                });
            }
        }
    }

    /// An expression that may hold statements (match arms, `for` bodies)
    /// is laid out as a tree; any other is one S-expression.
    fn value(&mut self, e: &Expr) {
        let at = self.at(e.span);
        match &e.kind {
            ExprKind::Match { scrutinee, arms } => {
                self.line(format!("match{at} {}", expr(scrutinee)));
                self.nested(|d| {
                    for arm in arms {
                        let patterns: Vec<String> = arm.patterns.iter().map(pattern).collect();
                        let at = d.at(arm.span);
                        d.line(format!("arm {}{at} =>", patterns.join(" | ")));
                        d.nested(|d| d.value(&arm.body));
                    }
                });
            }
            ExprKind::For {
                var,
                source,
                options,
                body,
            } => {
                self.line(format!(
                    "for {} in {}{at} ({})",
                    var.name,
                    expr(source),
                    args(options)
                ));
                self.nested(|d| d.block(body));
            }
            ExprKind::Block(b) => {
                self.line(format!("block{at}"));
                self.nested(|d| d.block(b));
            }
            _ => self.line(format!("{}{at}", expr(e))),
        }
    }

    fn block(&mut self, b: &Block) {
        self.stmts(&b.stmts);
        self.value(&b.value);
    }

    fn clause(&mut self, c: &Clause) {
        let at = self.at(c.span);
        let text = match &c.kind {
            ClauseKind::Model(chain_names) => format!("model{at} {}", chain(chain_names)),
            ClauseKind::Agent(a) => format!("agent{at} {}", a.name),
            ClauseKind::Prompt(e) => format!("prompt{at} {}", expr(e)),
            ClauseKind::System(e) => format!("system{at} {}", expr(e)),
            ClauseKind::Context(strategy) => format!("context{at} {}", context(strategy)),
            ClauseKind::Retry(RetryRef::Named(n)) => format!("retry{at} {}", n.name),
            ClauseKind::Retry(RetryRef::Inline(settings, _)) => {
                self.line(format!("retry{at} {{"));
                self.nested(|d| d.settings(settings));
                "}".to_string()
            }
            ClauseKind::Timeout(e) => format!("timeout{at} {}", expr(e)),
            ClauseKind::Deadline(e) => format!("deadline{at} {}", expr(e)),
            ClauseKind::Check { condition, message } => {
                format!("check{at} {} else {}", expr(condition), expr(message))
            }
            ClauseKind::When(e) => format!("when{at} {}", expr(e)),
            ClauseKind::OnError(e) => format!("on_error{at} {}", expr(e)),
            ClauseKind::Compensate(block) => {
                self.line(format!("compensate{at} = exec"));
                self.nested(|d| d.settings(&block.settings));
                return;
            }
            ClauseKind::After(names) => {
                let names: Vec<&str> = names.iter().map(|n| n.name.as_str()).collect();
                format!("after{at} [{}]", names.join(", "))
            }
            ClauseKind::Cache(e) => format!("cache{at} {}", expr(e)),
        };
        self.line(text);
    }

    fn test(&mut self, t: &TestDecl) {
        self.doc(&t.doc);
        let at = self.at(t.span);
        self.line(format!("test {:?}{at}", t.name.value));
        self.nested(|d| {
            for s in &t.body {
                match s {
                    TestStmt::Run {
                        workflow,
                        args: a,
                        span,
                    } => {
                        let at = d.at(*span);
                        d.line(format!("run{at} {}({})", workflow.name, args(a)));
                    }
                    TestStmt::Given { step, value, span } => {
                        let at = d.at(*span);
                        d.line(format!("given{at} {} = {}", step.name, expr(value)));
                    }
                    TestStmt::Expect { condition, span } => {
                        let at = d.at(*span);
                        d.line(format!("expect{at} {}", expr(condition)));
                    }
                }
            }
        });
    }
}

/// ` alias "a" alias "b"`, or nothing.
pub fn aliases(aliases: &[PlainString]) -> String {
    aliases
        .iter()
        .map(|a| format!(" alias {:?}", a.value))
        .collect()
}

fn chain(names: &[Ident]) -> String {
    let names: Vec<&str> = names.iter().map(|n| n.name.as_str()).collect();
    names.join(" | ")
}

fn context(strategy: &ContextStrategy) -> String {
    match strategy {
        ContextStrategy::Fresh(_) => "fresh".to_string(),
        ContextStrategy::All(_) => "all".to_string(),
        ContextStrategy::Steps(names, _) => format!("[{}]", chain(names).replace(" | ", ", ")),
        ContextStrategy::Summarized(a, _) => format!("summarized({})", args(a)),
    }
}

/// A type as it would be written.
pub fn ty(t: &TypeExpr) -> String {
    match &t.kind {
        TypeKind::Named(n) => n.name.clone(),
        TypeKind::List(inner) => format!("{}[]", ty(inner)),
        TypeKind::Optional(inner) => format!("{}?", ty(inner)),
        TypeKind::Map(inner) => format!("map<{}>", ty(inner)),
    }
}

fn args(args: &[Arg]) -> String {
    let parts: Vec<String> = args
        .iter()
        .map(|a| match &a.name {
            Some(name) => format!("{} = {}", name.name, expr(&a.value)),
            None => expr(&a.value),
        })
        .collect();
    parts.join(", ")
}

pub fn pattern(p: &Pattern) -> String {
    match &p.kind {
        PatternKind::Wildcard => "_".to_string(),
        PatternKind::Variant(v) => v.name.clone(),
        PatternKind::Bool(b) => b.to_string(),
        PatternKind::Int(n) => n.to_string(),
        PatternKind::String(s) => format!("{s:?}"),
    }
}

/// An expression as an S-expression: `(+ 1 (* 2 3))`.
pub fn expr(e: &Expr) -> String {
    match &e.kind {
        ExprKind::Int(n) => n.to_string(),
        ExprKind::Float(f) => format!("{f:?}"),
        ExprKind::Bool(b) => b.to_string(),
        ExprKind::Duration(ms) => format!("{ms}ms"),
        ExprKind::Percent(p) => format!("{p}%"),
        ExprKind::String(t) => template(t),
        ExprKind::List(items) => {
            let items: Vec<String> = items.iter().map(expr).collect();
            format!("[{}]", items.join(", "))
        }
        ExprKind::Record(fields) => {
            let fields: Vec<String> = fields
                .iter()
                .map(|f| format!("{}: {}", f.name.name, expr(&f.value)))
                .collect();
            format!("{{{}}}", fields.join(", "))
        }
        ExprKind::Name(n) => n.name.clone(),
        ExprKind::Field { base, field } => format!("{}.{}", expr(base), field.name),
        ExprKind::Index { base, index } => format!("{}[{}]", expr(base), expr(index)),
        ExprKind::Call { function, args: a } => {
            format!("({} {})", function.name, args(a)).replace(" )", ")")
        }
        ExprKind::Unary { op, operand } => format!("({} {})", op.symbol(), expr(operand)),
        ExprKind::Binary { op, lhs, rhs } => {
            format!("({} {} {})", op.symbol(), expr(lhs), expr(rhs))
        }
        ExprKind::If {
            condition,
            then,
            otherwise,
        } => format!(
            "(if {} {} {})",
            expr(condition),
            block_inline(then),
            expr(otherwise)
        ),
        ExprKind::Match { scrutinee, arms } => {
            let arms: Vec<String> = arms
                .iter()
                .map(|a| {
                    let patterns: Vec<String> = a.patterns.iter().map(pattern).collect();
                    format!("{} => {}", patterns.join(" | "), expr(&a.body))
                })
                .collect();
            format!("(match {} {})", expr(scrutinee), arms.join(", "))
        }
        ExprKind::For {
            var, source, body, ..
        } => format!("(for {} {} {})", var.name, expr(source), block_inline(body)),
        ExprKind::Block(b) => block_inline(b),
        ExprKind::Paren(inner) => expr(inner),
    }
}

fn block_inline(b: &Block) -> String {
    if b.stmts.is_empty() {
        format!("{{{}}}", expr(&b.value))
    } else {
        format!("{{{} statements; {}}}", b.stmts.len(), expr(&b.value))
    }
}

/// A template as text and `{{…}}` / `{%…%}` markers.
fn template(t: &Template) -> String {
    parts(&t.parts)
}

fn parts(parts: &[TemplatePart]) -> String {
    let pieces: Vec<String> = parts
        .iter()
        .map(|part| match part {
            TemplatePart::Text { text, .. } => format!("{text:?}"),
            TemplatePart::Interpolation { expr: e, .. } => format!("{{{{{}}}}}", expr(e)),
            TemplatePart::If {
                condition,
                then,
                otherwise,
                ..
            } => match otherwise {
                Some(other) => format!(
                    "{{%if {}%}} {} {{%else%}} {} {{%end%}}",
                    expr(condition),
                    self::parts(then),
                    self::parts(other)
                ),
                None => format!(
                    "{{%if {}%}} {} {{%end%}}",
                    expr(condition),
                    self::parts(then)
                ),
            },
            TemplatePart::For {
                var, source, body, ..
            } => format!(
                "{{%for {} in {}%}} {} {{%end%}}",
                var.name,
                expr(source),
                self::parts(body)
            ),
        })
        .collect();
    if pieces.is_empty() {
        "\"\"".to_string()
    } else {
        pieces.join(" ")
    }
}
