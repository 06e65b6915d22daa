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
    pub(super) fn iterable(&mut self, source: &'a Expr) -> Ty {
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
}
