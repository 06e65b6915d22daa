//! Expressions and templates: every value's type, names resolved through
//! the scopes of a workflow body (E0101, E0201, E0202, E0203, E0204,
//! E0205, E0206, W0506).

use std::collections::HashSet;
use std::rc::Rc;

use super::checked::Resolution;
use super::decls::DeclKind;
use super::types::{RecordTy, Ty};
use super::workflow::{Binding, Body};
use crate::diagnostic::{Code, Diagnostic};
use crate::lang::functions::{self, Param, Returns};
use crate::source::Span;
use crate::suggest;
use crate::syntax::ast::{
    Arg, BinaryOp, Block, Expr, ExprKind, Ident, MatchArm, PatternKind, TemplatePart, UnaryOp,
};

impl<'a> Body<'_, 'a> {
    /// The type of `e`, kept for the checked program. `expected` is a hint
    /// (enum variants written bare, empty lists); mismatches are reported
    /// by the caller.
    pub fn expr(&mut self, e: &'a Expr, expected: Option<&Ty>) -> Ty {
        let ty = self.expr_type(e, expected);
        self.cx.found.expr_types.insert(e.span, ty.clone());
        ty
    }

    fn expr_type(&mut self, e: &'a Expr, expected: Option<&Ty>) -> Ty {
        match &e.kind {
            ExprKind::Int(_) => Ty::Int,
            ExprKind::Float(_) | ExprKind::Percent(_) => Ty::Float,
            ExprKind::Bool(_) => Ty::Bool,
            ExprKind::Duration(_) => Ty::Duration,
            ExprKind::String(template) => {
                self.template(&template.parts);
                Ty::String
            }
            ExprKind::List(items) => self.list(items, expected),
            ExprKind::Record(fields) => {
                let hint = match expected {
                    Some(Ty::Record(r)) => Some(r.clone()),
                    _ => None,
                };
                let fields = fields
                    .iter()
                    .map(|f| {
                        let want = hint.as_ref().and_then(|r| r.field(&f.name.name)).cloned();
                        let ty = self.expr(&f.value, want.as_ref());
                        (f.name.name.clone(), ty)
                    })
                    .collect();
                Ty::Record(Rc::new(RecordTy {
                    name: "record".to_string(),
                    fields,
                    decl: None,
                    nominal: false,
                }))
            }
            ExprKind::Name(name) => self.name(name, expected),
            ExprKind::Field { base, field } => {
                let base_ty = self.expr(base, None);
                self.read_loop_member(base, field);
                self.field(&base_ty, base, field)
            }
            ExprKind::Index { base, index } => self.index(base, index),
            ExprKind::Call { function, args } => self.function(function, args, e.span),
            ExprKind::Unary { op, operand } => {
                let want = match op {
                    UnaryOp::Not => Ty::Bool,
                    UnaryOp::Neg => Ty::Float,
                };
                let ty = self.expr(operand, Some(&want));
                let ty = self.require_value(ty, operand);
                match op {
                    UnaryOp::Not if !ty.fits(&Ty::Bool) => {
                        self.operand_mismatch("not", &ty, operand.span, "a `bool`")
                    }
                    UnaryOp::Neg if !(ty.is_numeric() || matches!(ty, Ty::Duration)) => {
                        self.operand_mismatch("-", &ty, operand.span, "a number")
                    }
                    _ => ty,
                }
            }
            ExprKind::Binary { op, lhs, rhs } => self.binary(*op, lhs, rhs),
            ExprKind::If {
                condition,
                then,
                otherwise,
            } => {
                self.enter_guarded(condition);
                let then_ty = self.block(then, expected);
                self.pop_frame();
                let else_ty = self.expr(otherwise, expected);
                self.join(&then_ty, &else_ty, then.value.span, otherwise.span)
            }
            ExprKind::Match { scrutinee, arms } => self.match_expr(e, scrutinee, arms, expected),
            ExprKind::For {
                var,
                source,
                options,
                body,
            } => {
                let item = self.iterable(source);
                self.for_options(options);
                self.push_frame();
                self.bind(var, Binding::value(&var.name, item, var.span));
                let element = match expected {
                    Some(Ty::List(of)) => Some(of.as_ref().clone()),
                    _ => None,
                };
                let value = self.block(body, element.as_ref());
                self.pop_frame();
                Ty::list(value)
            }
            ExprKind::Block(block) => {
                self.push_frame();
                let ty = self.block(block, expected);
                self.pop_frame();
                ty
            }
            ExprKind::Paren(inner) => self.expr(inner, expected),
        }
    }

    fn block(&mut self, block: &'a Block, expected: Option<&Ty>) -> Ty {
        self.push_frame();
        self.block_statements(&block.stmts);
        let ty = self.expr(&block.value, expected);
        self.pop_frame();
        ty
    }

    fn list(&mut self, items: &'a [Expr], expected: Option<&Ty>) -> Ty {
        let hint = match expected {
            Some(Ty::List(of)) => Some(of.as_ref().clone()),
            _ => None,
        };
        let mut element: Option<(Ty, Span)> = None;
        for item in items {
            let ty = self.expr(item, hint.as_ref());
            element = Some(match element {
                None => (ty, item.span),
                Some((so_far, first)) => match Ty::join(&so_far, &ty) {
                    Some(joined) => (joined, first),
                    None => {
                        self.report(
                            Diagnostic::new(Code::E0202, "list items of different types")
                                .primary(item.span, format!("this is `{ty}`"))
                                .secondary(first, format!("the list holds `{so_far}`")),
                        );
                        (Ty::Error, first)
                    }
                },
            });
        }
        Ty::list(element.map(|(t, _)| t).or(hint).unwrap_or(Ty::Error))
    }

    // ---- names -----------------------------------------------------------------

    fn name(&mut self, name: &'a Ident, expected: Option<&Ty>) -> Ty {
        if let Some(binding) = self.lookup_local(&name.name) {
            self.resolved(name, binding.resolution.clone());
            return self.use_binding(name, binding);
        }
        if let Some(Ty::Enum(e)) = expected.map(Ty::unwrap_optional) {
            if e.variants.contains(&name.name) {
                self.resolved(name, Resolution::Variant(name.name.clone()));
                return Ty::Enum(e.clone());
            }
        }
        if let Some(component) = self.cx.component_index(self.file, &name.name) {
            self.cx.decls.lookup(self.file, &name.name);
            self.resolved(name, Resolution::Component(component));
            return Ty::Component;
        }
        if let Some(decl) = self.cx.decls.lookup(self.file, &name.name) {
            return match &decl.kind {
                DeclKind::Component(_) => Ty::Component,
                other => {
                    let noun = other.noun();
                    let at = decl.name.span;
                    self.report(
                        Diagnostic::new(
                            Code::E0202,
                            format!("expected a value, found {noun} `{}`", name.name),
                        )
                        .primary(name.span, "not a value")
                        .secondary(at, format!("`{}` is a {noun}", name.name)),
                    );
                    Ty::Error
                }
            };
        }
        if self.hidden_step(name) {
            return Ty::Error;
        }
        let mut candidates = self.local_names();
        candidates.extend(
            self.cx
                .decls
                .names(self.file, |k| matches!(k, DeclKind::Component(_)))
                .into_iter()
                .map(String::from),
        );
        if let Some(Ty::Enum(e)) = expected.map(Ty::unwrap_optional) {
            candidates.extend(e.variants.iter().cloned());
        }
        let mut d = Diagnostic::new(Code::E0101, format!("unknown name `{}`", name.name))
            .primary(name.span, "not found in this scope");
        if let Some(help) = suggest::did_you_mean(&name.name, candidates.iter().map(String::as_str))
        {
            d = d.help(help);
        }
        self.report(d);
        Ty::Error
    }

    /// Keeps what `name` refers to for the checked program.
    fn resolved(&mut self, name: &Ident, resolution: Resolution) {
        self.cx.found.names.insert(name.span, resolution);
    }

    fn use_binding(&mut self, name: &Ident, binding: Binding) -> Ty {
        if let Some(node) = binding.node {
            self.depend_on(node, name.span);
            self.nodes[node].used = true;
            // A consumer guarded like its producer sees the value itself.
            let same_guard = self.current.is_some_and(|c| {
                self.nodes[c].when.is_some() && self.nodes[c].when == self.nodes[node].when
            });
            if same_guard {
                return binding.ty.unwrap_optional().clone();
            }
        }
        if binding.untrusted && self.in_system {
            self.report(
                Diagnostic::new(
                    Code::W0506,
                    format!("untrusted text `{}` in a `system` prompt", name.name),
                )
                .primary(name.span, "comes from outside the workflow")
                .secondary(binding.span, "a workflow input or a fetched body")
                .note(
                    "text in the system prompt is obeyed as instructions; a user could inject some",
                )
                .help("move it into `prompt`, where the model reads it as data"),
            );
        }
        binding.ty
    }

    /// Checks an `if` condition and opens the scope of its branch, where
    /// an optional name tested alone is narrowed to its value. The caller
    /// pops the frame after the branch.
    fn enter_guarded(&mut self, condition: &'a Expr) {
        let narrowed = self.guard(condition);
        self.push_frame();
        if let Some((name, binding)) = narrowed {
            self.bind(name, binding);
        }
    }

    /// `if x` / `{% if x %}`: a `bool`, or an optional name, which is
    /// narrowed to its value inside. Returns the narrowed binding.
    fn guard(&mut self, condition: &'a Expr) -> Option<(&'a Ident, Binding)> {
        let ty = self.expr(condition, Some(&Ty::Bool));
        if ty.is_optional() {
            if let ExprKind::Name(name) = &condition.kind {
                let binding = self.lookup_local(&name.name)?;
                let narrowed = Binding {
                    ty: binding.ty.unwrap_optional().clone(),
                    node: None,
                    ..binding
                };
                return Some((name, narrowed));
            }
            return None;
        }
        if !ty.fits(&Ty::Bool) {
            self.report(
                Diagnostic::new(Code::E0208, "`if` condition is not a `bool`")
                    .primary(condition.span, format!("this is `{ty}`"))
                    .help("compare it, or test an optional value by its name alone"),
            );
        }
        None
    }

    // ---- fields and indexes --------------------------------------------------------

    fn field(&mut self, base_ty: &Ty, base: &Expr, field: &Ident) -> Ty {
        match base_ty {
            Ty::Error | Ty::Json => base_ty.clone(),
            Ty::Optional(_) => {
                self.optional_misuse(base_ty, base);
                let inner = base_ty.unwrap_optional().clone();
                self.field(&inner, base, field)
            }
            Ty::Record(record) => match record.field(&field.name) {
                Some(ty) => ty.clone(),
                None => {
                    self.unknown_field(record, base_ty, base, field);
                    Ty::Error
                }
            },
            // `reviews.score` over a list of records: the list of scores.
            Ty::List(of) if matches!(of.as_ref(), Ty::Record(_) | Ty::Json) => {
                let inner = (**of).clone();
                Ty::list(self.field(&inner, base, field))
            }
            other => {
                self.report(
                    Diagnostic::new(Code::E0201, format!("`{other}` has no fields"))
                        .primary(
                            field.span,
                            format!("no field `{}` on `{other}`", field.name),
                        )
                        .help(if matches!(other, Ty::List(_)) {
                            "index it first: `xs[0].field`".to_string()
                        } else {
                            "only records (`type …`) have fields".to_string()
                        }),
                );
                Ty::Error
            }
        }
    }

    fn unknown_field(&mut self, record: &Rc<RecordTy>, ty: &Ty, base: &Expr, field: &Ident) {
        let names: Vec<&str> = record.fields.iter().map(|(n, _)| n.as_str()).collect();
        let mut d = Diagnostic::new(
            Code::E0201,
            format!("no field `{}` on type `{ty}`", field.name),
        )
        .primary(field.span, "unknown field");
        if let Some((at, label)) = self.producer_label(base) {
            d = d.secondary(at, label);
        }
        if let Some(decl) = record.decl {
            d = d.secondary(decl, format!("`{}` is declared here", record.name));
        }
        d = d.note(if names.is_empty() {
            format!("`{}` has no fields", record.name)
        } else {
            format!("`{}` has {}", record.name, record.field_list())
        });
        if let Some(help) = suggest::did_you_mean(&field.name, names) {
            d = d.help(help);
        }
        self.report(d);
    }

    fn index(&mut self, base: &'a Expr, index: &'a Expr) -> Ty {
        let base_ty = self.expr(base, None);
        let base_ty = self.require_value(base_ty, base);
        let (key, element) = match &base_ty {
            Ty::List(of) => (Ty::Int, (**of).clone()),
            Ty::Map(of) => (Ty::String, (**of).clone()),
            Ty::String => (Ty::Int, Ty::String),
            Ty::Json | Ty::Error => (Ty::Json, base_ty.clone()),
            other => {
                self.expr(index, None);
                self.report(
                    Diagnostic::new(Code::E0202, format!("`{other}` cannot be indexed"))
                        .primary(base.span, format!("this is `{other}`"))
                        .help("only lists, maps, strings and `json` take `[…]`"),
                );
                return Ty::Error;
            }
        };
        let found = self.expr(index, Some(&key));
        self.expect_fits(&found, &key, index, None);
        element
    }

    // ---- functions -------------------------------------------------------------------

    fn function(&mut self, function: &Ident, args: &'a [Arg], span: Span) -> Ty {
        let types: Vec<(Ty, Span)> = args
            .iter()
            .map(|a| {
                let ty = self.expr(&a.value, None);
                (self.require_value(ty, &a.value), a.value.span)
            })
            .collect();
        let name = function.name.as_str();
        let Some(signature) = functions::lookup(name) else {
            let names: Vec<&str> = functions::names().collect();
            let mut d = Diagnostic::new(Code::E0101, format!("unknown function `{name}`"))
                .primary(function.span, "not a built-in function")
                .note(format!("functions: {}", suggest::one_of(&names)));
            if let Some(help) = suggest::did_you_mean(name, functions::names()) {
                d = d.help(help);
            }
            self.report(d);
            return Ty::Error;
        };
        let arity = signature.params.len();
        if types.len() != arity {
            let noun = if arity == 1 { "argument" } else { "arguments" };
            self.report(
                Diagnostic::new(
                    Code::E0206,
                    format!("`{name}` takes {arity} {noun}, {} given", types.len()),
                )
                .primary(span, format!("expected {}", signature.doc)),
            );
            return result_of(signature.returns);
        }
        for (i, (param, (ty, at))) in signature.params.iter().zip(&types).enumerate() {
            if !accepts(*param, ty) {
                self.report(
                    Diagnostic::new(
                        Code::E0206,
                        format!("argument {} of `{name}` has the wrong type", i + 1),
                    )
                    .primary(*at, format!("found `{ty}`"))
                    .note(format!("`{name}` is {}", signature.doc)),
                );
            }
        }
        result_of(signature.returns)
    }

    /// `concurrency` (a whole number, W0508 above the workflow's explicit
    /// `max_concurrency`) and `tolerate` (a share, `10%` or `0.1`).
    fn for_options(&mut self, options: &'a [Arg]) {
        for arg in options {
            match arg.name.as_ref().map(|n| n.name.as_str()) {
                Some("concurrency") => {
                    let asked = self.whole_literal(&arg.value, "concurrency", 1);
                    self.concurrency_cap(asked, &arg.value);
                }
                Some("tolerate") => {
                    let found = self.expr(&arg.value, Some(&Ty::Float));
                    self.expect_fits(&found, &Ty::Float, &arg.value, None);
                    let share = match arg.value.kind {
                        ExprKind::Percent(p) => Some(p / 100.0),
                        ExprKind::Float(f) => Some(f),
                        ExprKind::Int(n) => Some(n as f64),
                        _ => None,
                    };
                    if !share.is_some_and(|s| (0.0..=1.0).contains(&s)) && !found.is_error() {
                        self.report(
                            Diagnostic::new(
                                Code::E0207,
                                "`tolerate` must be a share from 0% to 100%",
                            )
                            .primary(arg.value.span, "not a share the plan can fix")
                            .help("write a share like `10%` or `0.1`"),
                        );
                    }
                }
                _ => self.report(
                    Diagnostic::new(Code::E0206, "unknown `for` option")
                        .primary(arg.span, "`for` takes `concurrency` and `tolerate`"),
                ),
            }
        }
    }

    /// W0508: a `for` asks for more items at once than its workflow's
    /// `max_concurrency` lets run.
    fn concurrency_cap(&mut self, asked: Option<u64>, at: &Expr) {
        let cap = self.workflow.settings.iter().find_map(|s| match &s.kind {
            crate::syntax::ast::WorkflowSettingKind::MaxConcurrency(e) => Some(e),
            _ => None,
        });
        let (Some(asked), Some(cap_expr)) = (asked, cap) else {
            return;
        };
        let ExprKind::Int(cap) = cap_expr.kind else {
            return;
        };
        if asked as i64 > cap {
            self.report(
                Diagnostic::new(
                    Code::W0508,
                    format!("this `for` asks for {asked} items at once; the workflow allows {cap}"),
                )
                .primary(at.span, format!("{asked} at once"))
                .secondary(cap_expr.span, format!("at most {cap} actions at once in this workflow"))
                .note("`max_concurrency` bounds every model call, command and request of a run together")
                .help(format!("lower the `for`'s `concurrency` to {cap}, or raise `max_concurrency`")),
            );
        }
    }

    /// The element type of what a `for` walks; E0202 when it is no list.
    fn iterable(&mut self, source: &'a Expr) -> Ty {
        let ty = self.expr(source, None);
        let ty = self.require_value(ty, source);
        match ty {
            Ty::List(of) => *of,
            Ty::Map(of) => *of,
            Ty::Json | Ty::Error => Ty::Json,
            other => {
                let mut d = Diagnostic::new(Code::E0202, format!("cannot loop over `{other}`"))
                    .primary(source.span, "expected a list");
                if let Some((at, label)) = self.producer_label(source) {
                    d = d.secondary(at, label);
                }
                if let Ty::Record(r) = &other {
                    d = d.note(format!("`{}` has {}", r.name, r.field_list()));
                }
                self.report(d.help(if other.fits(&Ty::String) {
                    "split it first: `split(text, \"\\n\")`"
                } else {
                    "`for` walks the items of a list; a record's list field is `x.field`"
                }));
                Ty::Error
            }
        }
    }

    // ---- operators -----------------------------------------------------------------

    fn binary(&mut self, op: BinaryOp, lhs: &'a Expr, rhs: &'a Expr) -> Ty {
        if op == BinaryOp::Coalesce {
            let left = self.expr(lhs, None);
            let inner = left.unwrap_optional().clone();
            let right = self.expr(rhs, Some(&inner));
            let right = self.require_value(right, rhs);
            if !right.fits(&inner) {
                self.mismatch(
                    &right,
                    &inner,
                    rhs.span,
                    Some((lhs.span, "the value it stands in for")),
                );
            }
            return inner;
        }
        let left = self.expr(lhs, None);
        let left = self.require_value(left, lhs);
        let right = self.expr(rhs, Some(&left));
        let right = self.require_value(right, rhs);
        if left.is_error() || right.is_error() {
            return match op {
                BinaryOp::Or
                | BinaryOp::And
                | BinaryOp::Eq
                | BinaryOp::Ne
                | BinaryOp::Lt
                | BinaryOp::Le
                | BinaryOp::Gt
                | BinaryOp::Ge => Ty::Bool,
                _ => Ty::Error,
            };
        }
        let numeric = |t: &Ty| t.is_numeric();
        let result = match op {
            BinaryOp::Or | BinaryOp::And => {
                (left.fits(&Ty::Bool) && right.fits(&Ty::Bool)).then_some(Ty::Bool)
            }
            BinaryOp::Eq | BinaryOp::Ne => {
                (left.fits(&right) || right.fits(&left)).then_some(Ty::Bool)
            }
            BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge => {
                let comparable = (numeric(&left) && numeric(&right))
                    || (matches!(left, Ty::Duration) && matches!(right, Ty::Duration))
                    || (left.fits(&Ty::String)
                        && right.fits(&Ty::String)
                        && !matches!(left, Ty::Json));
                comparable.then_some(Ty::Bool)
            }
            BinaryOp::Add
                if left.fits(&Ty::String) && right.fits(&Ty::String) && !numeric(&left) =>
            {
                Some(Ty::String)
            }
            BinaryOp::Add if matches!((&left, &right), (Ty::List(_), Ty::List(_))) => {
                Ty::join(&left, &right)
            }
            BinaryOp::Add | BinaryOp::Sub
                if matches!(left, Ty::Duration) && matches!(right, Ty::Duration) =>
            {
                Some(Ty::Duration)
            }
            BinaryOp::Mul | BinaryOp::Div if matches!(left, Ty::Duration) && numeric(&right) => {
                Some(Ty::Duration)
            }
            BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Div | BinaryOp::Mod
                if numeric(&left) && numeric(&right) =>
            {
                Some(if matches!(left, Ty::Float) || matches!(right, Ty::Float) {
                    Ty::Float
                } else if matches!(left, Ty::Json) || matches!(right, Ty::Json) {
                    Ty::Json
                } else {
                    Ty::Int
                })
            }
            _ => None,
        };
        result.unwrap_or_else(|| {
            self.report(
                Diagnostic::new(
                    Code::E0202,
                    format!("`{}` cannot combine `{left}` and `{right}`", op.symbol()),
                )
                .primary(rhs.span, format!("this is `{right}`"))
                .secondary(lhs.span, format!("this is `{left}`"))
                .note(operator_note(op)),
            );
            Ty::Error
        })
    }

    fn operand_mismatch(&mut self, op: &str, ty: &Ty, span: Span, wanted: &str) -> Ty {
        self.report(
            Diagnostic::new(Code::E0202, format!("`{op}` needs {wanted}, found `{ty}`"))
                .primary(span, format!("this is `{ty}`")),
        );
        Ty::Error
    }

    fn join(&mut self, a: &Ty, b: &Ty, a_span: Span, b_span: Span) -> Ty {
        Ty::join(a, b).unwrap_or_else(|| {
            self.report(
                Diagnostic::new(Code::E0202, "branches have different types")
                    .primary(b_span, format!("this is `{b}`"))
                    .secondary(a_span, format!("the first branch is `{a}`")),
            );
            Ty::Error
        })
    }

    // ---- match -------------------------------------------------------------------------

    fn match_expr(
        &mut self,
        e: &'a Expr,
        scrutinee: &'a Expr,
        arms: &'a [MatchArm],
        expected: Option<&Ty>,
    ) -> Ty {
        let subject = self.expr(scrutinee, None);
        let subject = self.require_value(subject, scrutinee);
        self.patterns(&subject, scrutinee, arms);
        let mut result: Option<(Ty, Span)> = None;
        for (i, arm) in arms.iter().enumerate() {
            self.arm_path.push((e.span.start, i));
            self.push_frame();
            let ty = self.expr(&arm.body, expected.or(result.as_ref().map(|r| &r.0)));
            self.pop_frame();
            self.arm_path.pop();
            let value_span = arm_value_span(&arm.body);
            result = Some(match result {
                None => (ty, value_span),
                Some((so_far, first)) => match Ty::join(&so_far, &ty) {
                    Some(joined) => (joined, first),
                    None => {
                        self.report(
                            Diagnostic::new(Code::E0202, "`match` arms have different types")
                                .primary(value_span, format!("this arm is `{ty}`"))
                                .secondary(first, format!("the first arm is `{so_far}`"))
                                .note("every arm of a `match` gives a value of one type"),
                        );
                        (Ty::Error, first)
                    }
                },
            });
        }
        result.map_or(Ty::Error, |(ty, _)| ty)
    }

    /// Patterns against the subject: known variants, no duplicate or
    /// unreachable arm (E0205), every case covered (E0204).
    fn patterns(&mut self, subject: &Ty, scrutinee: &Expr, arms: &[MatchArm]) {
        let variants: Option<&[String]> = match subject {
            Ty::Enum(e) => Some(&e.variants),
            _ => None,
        };
        let mut seen: HashSet<String> = HashSet::new();
        let mut wildcard: Option<Span> = None;
        for arm in arms {
            for pattern in &arm.patterns {
                if let Some(w) = wildcard {
                    self.report(
                        Diagnostic::new(Code::E0205, "unreachable `match` arm")
                            .primary(pattern.span, "never reached")
                            .secondary(w, "`_` above already matches everything"),
                    );
                    continue;
                }
                let key = match &pattern.kind {
                    PatternKind::Wildcard => {
                        wildcard = Some(pattern.span);
                        continue;
                    }
                    PatternKind::Variant(v) => {
                        if let Some(variants) = variants {
                            if !variants.contains(&v.name) {
                                let mut d = Diagnostic::new(
                                    Code::E0101,
                                    format!("`{subject}` has no variant `{}`", v.name),
                                )
                                .primary(v.span, "unknown variant")
                                .note(format!(
                                    "`{subject}` has {}",
                                    suggest::all_of(
                                        &variants.iter().map(String::as_str).collect::<Vec<_>>()
                                    )
                                ));
                                if let Some(help) = suggest::did_you_mean(
                                    &v.name,
                                    variants.iter().map(String::as_str),
                                ) {
                                    d = d.help(help);
                                }
                                self.report(d);
                                continue;
                            }
                        } else if !subject.is_error() && !matches!(subject, Ty::Json) {
                            self.pattern_mismatch(subject, pattern.span, "a variant name");
                            continue;
                        }
                        v.name.clone()
                    }
                    PatternKind::Bool(b) => {
                        if !subject.fits(&Ty::Bool) {
                            self.pattern_mismatch(subject, pattern.span, "`bool`");
                        }
                        b.to_string()
                    }
                    PatternKind::Int(n) => {
                        if !subject.fits(&Ty::Int) {
                            self.pattern_mismatch(subject, pattern.span, "`int`");
                        }
                        n.to_string()
                    }
                    PatternKind::String(s) => {
                        if !subject.fits(&Ty::String) {
                            self.pattern_mismatch(subject, pattern.span, "`string`");
                        }
                        format!("{s:?}")
                    }
                };
                if !seen.insert(key.clone()) {
                    self.report(
                        Diagnostic::new(Code::E0205, format!("`{key}` is matched twice"))
                            .primary(pattern.span, "this arm is never reached")
                            .note("an earlier arm already matches it"),
                    );
                }
            }
        }
        if wildcard.is_some() || subject.is_error() || matches!(subject, Ty::Json) {
            return;
        }
        let missing: Vec<String> = match subject {
            Ty::Enum(e) => e
                .variants
                .iter()
                .filter(|v| !seen.contains(*v))
                .cloned()
                .collect(),
            Ty::Bool => ["true", "false"]
                .iter()
                .filter(|v| !seen.contains(**v))
                .map(|v| v.to_string())
                .collect(),
            _ => vec!["_".to_string()],
        };
        if missing.is_empty() {
            return;
        }
        let listed: Vec<&str> = missing.iter().map(String::as_str).collect();
        let open_ended = missing == ["_"];
        let (message, label, help) = if open_ended {
            (
                format!("`match` on `{subject}` needs a `_` arm"),
                format!("other `{subject}` values match no arm"),
                "add a `_ => …` arm for the rest".to_string(),
            )
        } else {
            (
                format!("`match` does not cover {}", suggest::all_of(&listed)),
                format!("this `{subject}` may be {}", suggest::one_of(&listed)),
                format!(
                    "add {} or a `_ => …` arm",
                    if missing.len() == 1 {
                        "an arm for it"
                    } else {
                        "arms for them"
                    }
                ),
            )
        };
        let mut d = Diagnostic::new(Code::E0204, message).primary(scrutinee.span, label);
        if let Ty::Enum(e) = subject {
            if let Some(decl) = e.decl {
                d = d.secondary(decl, format!("`{}` is declared here", e.name));
            }
        }
        self.report(d.help(help));
    }

    fn pattern_mismatch(&mut self, subject: &Ty, span: Span, pattern: &str) {
        self.report(
            Diagnostic::new(Code::E0202, "pattern does not fit the matched value")
                .primary(span, format!("{pattern} pattern"))
                .note(format!("the value matched is `{subject}`")),
        );
    }

    // ---- templates ---------------------------------------------------------------------

    fn template(&mut self, parts: &'a [TemplatePart]) {
        for part in parts {
            match part {
                TemplatePart::Text { .. } => {}
                TemplatePart::Interpolation { expr, .. } => {
                    let ty = self.expr(expr, None);
                    self.require_value(ty, expr);
                }
                TemplatePart::If {
                    condition,
                    then,
                    otherwise,
                    ..
                } => {
                    self.enter_guarded(condition);
                    self.template(then);
                    self.pop_frame();
                    if let Some(otherwise) = otherwise {
                        self.template(otherwise);
                    }
                }
                TemplatePart::For {
                    var, source, body, ..
                } => {
                    let item = self.iterable(source);
                    self.push_frame();
                    self.bind(var, Binding::value(&var.name, item, var.span));
                    self.template(body);
                    self.pop_frame();
                }
            }
        }
    }

    // ---- contracts -----------------------------------------------------------------------

    /// A value is needed here: an optional one is E0203 (E0303 in the
    /// workflow's result). Returns the type without its `?`.
    pub fn require_value(&mut self, ty: Ty, e: &Expr) -> Ty {
        if ty.is_optional() {
            self.optional_misuse(&ty, e);
            return ty.unwrap_optional().clone();
        }
        ty
    }

    /// E0203 (E0303 in the result): the consumer is the primary label, the
    /// guarded step that produces the value the secondary one.
    pub fn optional_misuse(&mut self, ty: &Ty, e: &Expr) {
        let mut d = if self.in_return {
            Diagnostic::new(
                Code::E0303,
                "the result may come from a step that did not run",
            )
            .primary(e.span, format!("this is `{ty}`"))
            .help("give a fallback: `x ?? other`")
        } else {
            Diagnostic::new(Code::E0203, format!("optional `{ty}` used where a value is required"))
                .primary(e.span, "may be missing")
                .help("give a fallback with `x ?? …`, guard the use with `{% if x %}`, or add the same `when` here")
        };
        if let Some(producer) = self.producer(e) {
            d = d.secondary(producer, "this step has a `when` guard: it may not run");
        }
        self.report(d);
    }

    /// The declaration of the name an expression reads from.
    fn producer(&self, e: &Expr) -> Option<Span> {
        match &e.kind {
            ExprKind::Name(n) => self.lookup_local(&n.name).map(|b| b.span),
            ExprKind::Field { base, .. } | ExprKind::Index { base, .. } => self.producer(base),
            ExprKind::Paren(inner) => self.producer(inner),
            _ => None,
        }
    }

    /// E0202 unless `found` fits `expected` (E0203 when only its `?` is in
    /// the way). `origin` labels where the expectation comes from.
    pub fn expect_fits(
        &mut self,
        found: &Ty,
        expected: &Ty,
        e: &Expr,
        origin: Option<(Span, &str)>,
    ) {
        if found.fits(expected) {
            return;
        }
        if found.is_optional() && found.unwrap_optional().fits(expected) {
            self.optional_misuse(found, e);
            return;
        }
        self.mismatch_from(found, expected, e.span, Some(e), origin);
    }

    /// E0202 at `span`. When the value comes from a step or `let`
    /// (`from`), its declaration is labelled too: both ends of the contract.
    pub fn mismatch(
        &mut self,
        found: &Ty,
        expected: &Ty,
        span: Span,
        origin: Option<(Span, &str)>,
    ) {
        self.mismatch_from(found, expected, span, None, origin);
    }

    pub fn mismatch_from(
        &mut self,
        found: &Ty,
        expected: &Ty,
        span: Span,
        from: Option<&Expr>,
        origin: Option<(Span, &str)>,
    ) {
        let mut d = Diagnostic::new(Code::E0202, "mismatched types")
            .primary(span, format!("expected `{expected}`, found `{found}`"));
        if let Some((at, what)) = origin {
            d = d.secondary(at, format!("{what}: `{expected}`"));
        }
        if let Some((at, label)) = from.and_then(|e| self.producer_label(e)) {
            d = d.secondary(at, label);
        }
        if let Ty::Record(r) = found {
            if let Some(decl) = r.decl {
                d = d.secondary(decl, format!("`{}` is declared here", r.name));
            }
            if !r.fields.is_empty() {
                d = d.note(format!("`{}` has {}", r.name, r.field_list()));
            }
        }
        self.report(d);
    }

    /// "`grade` produces `Grade` here", at the step or `let` an expression
    /// reads from.
    pub(super) fn producer_label(&self, e: &Expr) -> Option<(Span, String)> {
        let ExprKind::Name(name) = &root_of(e).kind else {
            return None;
        };
        let binding = self.lookup_local(&name.name)?;
        binding.node?;
        Some((
            binding.span,
            format!("`{}` produces `{}` here", name.name, binding.ty),
        ))
    }
}

/// The expression a field or index chain starts from: `outline` in
/// `outline.sections[0].heading`.
fn root_of(e: &Expr) -> &Expr {
    match &e.kind {
        ExprKind::Field { base, .. } | ExprKind::Index { base, .. } => root_of(base),
        ExprKind::Paren(inner) => root_of(inner),
        _ => e,
    }
}

fn operator_note(op: BinaryOp) -> &'static str {
    match op {
        BinaryOp::Or | BinaryOp::And => "`and` and `or` take `bool`s",
        BinaryOp::Eq | BinaryOp::Ne => "only values of one type can be compared",
        BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge => {
            "order compares two numbers, two durations or two strings"
        }
        BinaryOp::Add => "`+` adds numbers or durations, joins strings, or joins lists",
        _ => "arithmetic takes numbers (and durations with `+`, `-`, `*`, `/`)",
    }
}

fn arm_value_span(body: &Expr) -> Span {
    match &body.kind {
        ExprKind::Block(block) => block.value.span,
        _ => body.span,
    }
}

/// Whether a parameter of a built-in function takes a value of type `ty`.
fn accepts(param: Param, ty: &Ty) -> bool {
    if ty.is_error() || matches!(ty, Ty::Json) {
        return true;
    }
    match param {
        Param::Text => ty.fits(&Ty::String),
        Param::List => matches!(ty, Ty::List(_)),
        Param::Sized => matches!(ty, Ty::List(_) | Ty::Map(_)) || ty.fits(&Ty::String),
        Param::Any => true,
    }
}

fn result_of(returns: Returns) -> Ty {
    match returns {
        Returns::Int => Ty::Int,
        Returns::Text => Ty::String,
        Returns::TextList => Ty::list(Ty::String),
        Returns::Bool => Ty::Bool,
    }
}

/// The value of a condition made only of literals, if it has one:
/// `when false`, `when 1 > 2`.
pub fn constant_bool(e: &Expr) -> Option<bool> {
    match &e.kind {
        ExprKind::Bool(b) => Some(*b),
        ExprKind::Paren(inner) => constant_bool(inner),
        ExprKind::Unary {
            op: UnaryOp::Not,
            operand,
        } => constant_bool(operand).map(|b| !b),
        ExprKind::Binary { op, lhs, rhs } => match op {
            BinaryOp::And => Some(constant_bool(lhs)? && constant_bool(rhs)?),
            BinaryOp::Or => Some(constant_bool(lhs)? || constant_bool(rhs)?),
            _ => {
                let (a, b) = (constant_number(lhs)?, constant_number(rhs)?);
                Some(match op {
                    BinaryOp::Eq => a == b,
                    BinaryOp::Ne => a != b,
                    BinaryOp::Lt => a < b,
                    BinaryOp::Le => a <= b,
                    BinaryOp::Gt => a > b,
                    BinaryOp::Ge => a >= b,
                    _ => return None,
                })
            }
        },
        _ => None,
    }
}

fn constant_number(e: &Expr) -> Option<f64> {
    match &e.kind {
        ExprKind::Int(n) => Some(*n as f64),
        ExprKind::Float(f) => Some(*f),
        ExprKind::Duration(ms) => Some(*ms as f64),
        ExprKind::Paren(inner) => constant_number(inner),
        _ => None,
    }
}

/// Calls `f` with every bare name `e` reads, templates included.
pub fn visit_names(e: &Expr, f: &mut dyn FnMut(&str)) {
    match &e.kind {
        ExprKind::Name(n) => f(&n.name),
        ExprKind::String(t) => visit_template(&t.parts, f),
        ExprKind::List(items) => items.iter().for_each(|i| visit_names(i, f)),
        ExprKind::Record(fields) => fields.iter().for_each(|r| visit_names(&r.value, f)),
        ExprKind::Field { base, .. } => visit_names(base, f),
        ExprKind::Index { base, index } => {
            visit_names(base, f);
            visit_names(index, f);
        }
        ExprKind::Call { args, .. } => args.iter().for_each(|a| visit_names(&a.value, f)),
        ExprKind::Unary { operand, .. } => visit_names(operand, f),
        ExprKind::Binary { lhs, rhs, .. } => {
            visit_names(lhs, f);
            visit_names(rhs, f);
        }
        ExprKind::If {
            condition,
            then,
            otherwise,
        } => {
            visit_names(condition, f);
            visit_names(&then.value, f);
            visit_names(otherwise, f);
        }
        ExprKind::Match { scrutinee, arms } => {
            visit_names(scrutinee, f);
            arms.iter().for_each(|a| visit_names(&a.body, f));
        }
        ExprKind::For { source, body, .. } => {
            visit_names(source, f);
            visit_names(&body.value, f);
        }
        ExprKind::Block(block) => visit_names(&block.value, f),
        ExprKind::Paren(inner) => visit_names(inner, f),
        ExprKind::Int(_)
        | ExprKind::Float(_)
        | ExprKind::Bool(_)
        | ExprKind::Duration(_)
        | ExprKind::Percent(_) => {}
    }
}

fn visit_template(parts: &[TemplatePart], f: &mut dyn FnMut(&str)) {
    for part in parts {
        match part {
            TemplatePart::Text { .. } => {}
            TemplatePart::Interpolation { expr, .. } => visit_names(expr, f),
            TemplatePart::If {
                condition,
                then,
                otherwise,
                ..
            } => {
                visit_names(condition, f);
                visit_template(then, f);
                if let Some(o) = otherwise {
                    visit_template(o, f);
                }
            }
            TemplatePart::For { source, body, .. } => {
                visit_names(source, f);
                visit_template(body, f);
            }
        }
    }
}
