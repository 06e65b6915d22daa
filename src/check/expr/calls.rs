//! Built-in function calls (from the shared table in `lang::functions`)
//! and a `for`'s options and source.

use super::*;

impl<'a> Body<'_, 'a> {
    pub(super) fn function(&mut self, function: &Ident, args: &'a [Arg], span: Span) -> Ty {
        let types: Vec<(Ty, Span)> = args
            .iter()
            .map(|a| {
                let ty = self.expr(&a.value, None);
                (self.require_value(ty, &a.value), a.value.span)
            })
            .collect();
        let name = function.name.as_str();
        let Some(signature) = functions::lookup(name) else {
            self.report(NameProblem::UnknownFunction {
                at: function.span,
                name: name.to_string(),
            });
            return Ty::Error;
        };
        let arity = signature.params.len();
        if types.len() != arity {
            self.report(CallProblem::Arity {
                at: span,
                function: name.to_string(),
                arity,
                given: types.len(),
                signature: signature.doc,
            });
            return result_of(signature.returns);
        }
        for (i, (param, (ty, at))) in signature.params.iter().zip(&types).enumerate() {
            if !accepts(*param, ty) {
                self.report(CallProblem::FunctionArgument {
                    at: *at,
                    function: name.to_string(),
                    index: i + 1,
                    found: ty.to_string(),
                    signature: signature.doc,
                });
            }
        }
        result_of(signature.returns)
    }

    /// `concurrency` (a whole number, W0508 above the workflow's explicit
    /// `max_concurrency`) and `tolerate` (a share, `10%` or `0.1`).
    pub(super) fn for_options(&mut self, options: &'a [Arg]) {
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
                        self.report(CallProblem::Tolerate { at: arg.value.span });
                    }
                }
                _ => self.report(CallProblem::UnknownForOption { at: arg.span }),
            }
        }
    }

    /// W0508: a `for` asks for more items at once than its workflow's
    /// `max_concurrency` lets run.
    pub(super) fn concurrency_cap(&mut self, asked: Option<u64>, at: &Expr) {
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
            self.report(CallProblem::OverCap {
                at: at.span,
                asked,
                cap_at: cap_expr.span,
                cap,
            });
        }
    }

    /// The element type of what a `for` walks; E0202 when it is no list.
    pub(super) fn iterable(&mut self, source: &'a Expr) -> Ty {
        let ty = self.expr(source, None);
        let ty = self.require_value(ty, source);
        match ty {
            Ty::List(of) => *of,
            Ty::Map(of) => *of,
            Ty::Json | Ty::Error => Ty::Json,
            other => {
                let record = match &other {
                    Ty::Record(r) => Some(RecordShape::of(r)),
                    _ => None,
                };
                self.report(ExprProblem::NotIterable {
                    at: source.span,
                    ty: other.to_string(),
                    is_text: other.fits(&Ty::String),
                    producer: self.producer_of(source),
                    record,
                });
                Ty::Error
            }
        }
    }

    // ---- operators -----------------------------------------------------------------
}
