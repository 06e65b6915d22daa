//! Expressions and templates: every value's type, names resolved through
//! the scopes of a workflow body (E0101, E0201, E0202, E0203, E0204,
//! E0205, E0206, W0506).

mod calls;
mod contracts;
mod matching;
mod operators;

use std::collections::HashSet;
use std::rc::Rc;

use super::checked::Resolution;
use super::decls::DeclKind;
use super::problems::{CallProblem, ExprProblem, NameProblem, Producer, RecordShape};
use super::types::{RecordTy, Ty};
use super::workflow::{Binding, Body};
use crate::lang::functions::{self, Param, Returns};
use crate::source::Span;
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
                    about: Default::default(),
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
                        self.operand_mismatch(*op, &ty, operand.span)
                    }
                    UnaryOp::Neg if !(ty.is_numeric() || matches!(ty, Ty::Duration)) => {
                        self.operand_mismatch(*op, &ty, operand.span)
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
                        self.report(ExprProblem::ListItems {
                            at: item.span,
                            ty: ty.to_string(),
                            first,
                            so_far: so_far.to_string(),
                        });
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
                    self.report(ExprProblem::NotAValue {
                        at: name.span,
                        name: name.name.clone(),
                        noun,
                        declared: at,
                    });
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
        self.report(NameProblem::Unknown {
            at: name.span,
            noun: "name",
            name: name.name.clone(),
            candidates,
        });
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
        if binding.untrusted && self.in_system && binding.ty.carries_text() {
            self.report(ExprProblem::UntrustedInSystem {
                at: name.span,
                name: name.name.clone(),
                source: binding.span,
            });
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
            self.report(ExprProblem::NotBool {
                at: condition.span,
                keyword: "if",
                ty: ty.to_string(),
                is_text: ty.fits(&Ty::String),
            });
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
                self.report(ExprProblem::NoFields {
                    at: field.span,
                    ty: other.to_string(),
                    field: field.name.clone(),
                    is_list: matches!(other, Ty::List(_)),
                });
                Ty::Error
            }
        }
    }

    fn unknown_field(&mut self, record: &Rc<RecordTy>, ty: &Ty, base: &Expr, field: &Ident) {
        self.report(ExprProblem::UnknownField {
            at: field.span,
            ty: ty.to_string(),
            field: field.name.clone(),
            producer: self.producer_of(base),
            record: RecordShape::of(record),
        });
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
                self.report(ExprProblem::CannotIndex {
                    at: base.span,
                    ty: other.to_string(),
                });
                return Ty::Error;
            }
        };
        let found = self.expr(index, Some(&key));
        self.expect_fits(&found, &key, index, None);
        element
    }

    // ---- functions -------------------------------------------------------------------
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
