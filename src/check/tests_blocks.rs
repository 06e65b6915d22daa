//! `test` blocks: `run` names a workflow with fitting arguments, `given`
//! names one of its steps with a value of the step's type, `expect` is a
//! `bool` over `output` and `ran(step)`.

use std::collections::HashMap;

use super::decls::DeclKind;
use super::problems::{CallProblem, Callee, ExprProblem, TestProblem};
use super::types::Ty;
use super::Checker;
use crate::source::FileId;
use crate::syntax::ast::{self, Expr, ExprKind, Stmt, TestDecl, TestStmt, TypeExpr, WorkflowDecl};

pub(super) fn check(cx: &mut Checker<'_>, file: FileId, test: &TestDecl) {
    let mut workflow: Option<(&WorkflowDecl, FileId)> = None;
    for stmt in &test.body {
        match stmt {
            TestStmt::Run {
                workflow: name,
                args,
                ..
            } => {
                workflow = run(cx, file, name, args);
                if let Some(&index) = workflow.and_then(|(w, _)| cx.workflow_of.get(&w.name.span)) {
                    cx.found.tests.insert(test.span, index);
                }
            }
            TestStmt::Given { step, value, .. } => {
                let Some((w, w_file)) = workflow else {
                    report_no_run(cx, step.span);
                    continue;
                };
                let steps = steps_of(w);
                match steps.get(step.name.as_str()) {
                    Some(ty) => {
                        let expected = cx.decls.resolve_type(w_file, ty).unwrap_or(Ty::Error);
                        let found = literal_type(value, &expected);
                        if !found.fits(&expected) {
                            cx.report(TestProblem::GivenType {
                                at: value.span,
                                step: step.name.clone(),
                                expected: expected.to_string(),
                                found: found.to_string(),
                                declared: ty.span,
                            });
                        }
                    }
                    None => unknown_step(cx, w, step),
                }
            }
            TestStmt::Expect { condition, .. } => {
                let Some((w, w_file)) = workflow else {
                    report_no_run(cx, condition.span);
                    continue;
                };
                let output = w
                    .output
                    .as_ref()
                    .and_then(|t| cx.decls.resolve_type(w_file, t).ok())
                    .unwrap_or(Ty::Error);
                let ty = expectation(cx, w, condition, &output);
                if !ty.fits(&Ty::Bool) {
                    cx.report(ExprProblem::NotBool {
                        at: condition.span,
                        keyword: "expect",
                        ty: ty.to_string(),
                        is_text: false,
                    });
                }
            }
        }
    }
}

fn run<'w>(
    cx: &mut Checker<'w>,
    file: FileId,
    name: &ast::Ident,
    args: &[ast::Arg],
) -> Option<(&'w WorkflowDecl, FileId)> {
    let decl = cx.decls.lookup(file, &name.name);
    let found = match decl.map(|d| (&d.kind, d.file)) {
        Some((DeclKind::Workflow(w), f)) => Some((*w, f)),
        _ => None,
    };
    let Some((w, w_file)) = found else {
        cx.expect_decl(file, name, "workflow");
        return None;
    };
    for arg in args {
        let Some(arg_name) = &arg.name else { continue };
        match w.params.iter().find(|p| p.name.name == arg_name.name) {
            Some(param) => {
                let expected = cx
                    .decls
                    .resolve_type(w_file, &param.ty)
                    .unwrap_or(Ty::Error);
                let found = literal_type(&arg.value, &expected);
                if !found.fits(&expected) {
                    cx.report(CallProblem::ArgumentType {
                        at: arg.value.span,
                        name: arg_name.name.clone(),
                        expected: expected.to_string(),
                        found: found.to_string(),
                        param_ty: param.ty.span,
                        producer: None,
                    });
                }
            }
            None => cx.report(CallProblem::NoSuchParameter {
                at: arg_name.span,
                name: arg_name.name.clone(),
                callee: Callee::of(name, w),
            }),
        }
    }
    let missing: Vec<String> = w
        .params
        .iter()
        .filter(|p| p.default.is_none())
        .filter(|p| {
            !args
                .iter()
                .any(|a| a.name.as_ref().is_some_and(|n| n.name == p.name.name))
        })
        .map(|p| p.name.name.clone())
        .collect();
    if !missing.is_empty() {
        cx.report(CallProblem::Missing {
            at: name.span,
            missing,
            callee: Callee::of(name, w),
        });
    }
    Some((w, w_file))
}

fn report_no_run(cx: &mut Checker<'_>, at: crate::source::Span) {
    cx.report(TestProblem::NoRun { at });
}

fn unknown_step(cx: &mut Checker<'_>, w: &WorkflowDecl, step: &ast::Ident) {
    cx.report(TestProblem::UnknownStep {
        at: step.span,
        workflow: w.name.name.clone(),
        step: step.name.clone(),
        steps: steps_of(w).keys().map(|s| s.to_string()).collect(),
    });
}

/// Every step of a workflow, nested ones included, with its declared type.
fn steps_of(w: &WorkflowDecl) -> HashMap<&str, &TypeExpr> {
    let mut out = HashMap::new();
    collect(&w.body, &mut out);
    out
}

fn collect<'w>(stmts: &'w [Stmt], out: &mut HashMap<&'w str, &'w TypeExpr>) {
    for stmt in stmts {
        match stmt {
            Stmt::Step(s) => {
                out.insert(s.name.name.as_str(), &s.ty);
            }
            Stmt::Let(l) => collect_expr(&l.value, out),
            Stmt::Loop(l) => collect(&l.body, out),
        }
    }
}

fn collect_expr<'w>(e: &'w Expr, out: &mut HashMap<&'w str, &'w TypeExpr>) {
    match &e.kind {
        ExprKind::Match { arms, .. } => arms.iter().for_each(|a| collect_expr(&a.body, out)),
        ExprKind::Block(b) => collect(&b.stmts, out),
        ExprKind::For { body, .. } => collect(&body.stmts, out),
        ExprKind::If {
            then, otherwise, ..
        } => {
            collect(&then.stmts, out);
            collect_expr(otherwise, out);
        }
        ExprKind::Paren(inner) => collect_expr(inner, out),
        _ => {}
    }
}

/// The type of a literal test value, with enum variants read against the
/// expected type.
fn literal_type(value: &Expr, expected: &Ty) -> Ty {
    match &value.kind {
        ExprKind::Int(_) => Ty::Int,
        ExprKind::Float(_) | ExprKind::Percent(_) => Ty::Float,
        ExprKind::Bool(_) => Ty::Bool,
        ExprKind::Duration(_) => Ty::Duration,
        ExprKind::String(_) => Ty::String,
        ExprKind::Name(n) => match expected.unwrap_optional() {
            Ty::Enum(e) if e.variants.contains(&n.name) => expected.unwrap_optional().clone(),
            _ => Ty::Error,
        },
        ExprKind::List(items) => match (items.first(), expected) {
            (Some(first), Ty::List(of)) => Ty::list(literal_type(first, of)),
            (None, _) => expected.clone(),
            (Some(first), _) => Ty::list(literal_type(first, &Ty::Error)),
        },
        // Records and computed values are checked when the test runs.
        _ => Ty::Error,
    }
}

/// The type of an `expect` condition: `output`, `ran(step)`, literals and
/// operators over them.
fn expectation(cx: &mut Checker<'_>, w: &WorkflowDecl, e: &Expr, output: &Ty) -> Ty {
    match &e.kind {
        ExprKind::Name(n) if n.name == "output" => output.clone(),
        ExprKind::Call { function, args } if function.name == "ran" => {
            for arg in args {
                if let ExprKind::Name(step) = &arg.value.kind {
                    if !steps_of(w).contains_key(step.name.as_str()) {
                        unknown_step(cx, w, step);
                    }
                }
            }
            Ty::Bool
        }
        ExprKind::Unary { operand, .. } => {
            expectation(cx, w, operand, output);
            Ty::Bool
        }
        ExprKind::Binary { op, lhs, rhs } => {
            let left = expectation(cx, w, lhs, output);
            let right = expectation(cx, w, rhs, output);
            use ast::BinaryOp::*;
            match op {
                And | Or | Eq | Ne | Lt | Le | Gt | Ge => {
                    if matches!(op, Eq | Ne) && !(left.fits(&right) || right.fits(&left)) {
                        cx.report(TestProblem::Comparison {
                            at: rhs.span,
                            left_at: lhs.span,
                            left: left.to_string(),
                            right: right.to_string(),
                        });
                    }
                    Ty::Bool
                }
                _ => Ty::Error,
            }
        }
        ExprKind::Field { base, field } => match expectation(cx, w, base, output) {
            Ty::Record(r) => r.field(&field.name).cloned().unwrap_or(Ty::Error),
            _ => Ty::Error,
        },
        ExprKind::Paren(inner) => expectation(cx, w, inner, output),
        _ => literal_type(e, &Ty::Error),
    }
}
