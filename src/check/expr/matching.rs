//! `match`: the subject, each arm's patterns (exhaustive, none
//! unreachable) and the arms' common type.

use super::*;

impl<'a> Body<'_, 'a> {
    pub(super) fn match_expr(
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
                        self.report(ExprProblem::Arms {
                            at: value_span,
                            first,
                            first_ty: so_far.to_string(),
                            ty: ty.to_string(),
                        });
                        (Ty::Error, first)
                    }
                },
            });
        }
        result.map_or(Ty::Error, |(ty, _)| ty)
    }

    /// Patterns against the subject: known variants, no duplicate or
    /// unreachable arm (E0205), every case covered (E0204).
    pub(super) fn patterns(&mut self, subject: &Ty, scrutinee: &Expr, arms: &[MatchArm]) {
        let variants: Option<&[String]> = match subject {
            Ty::Enum(e) => Some(&e.variants),
            _ => None,
        };
        let mut seen: HashSet<String> = HashSet::new();
        let mut wildcard: Option<Span> = None;
        for arm in arms {
            for pattern in &arm.patterns {
                if let Some(w) = wildcard {
                    self.report(ExprProblem::AfterWildcard {
                        at: pattern.span,
                        wildcard: w,
                    });
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
                                self.report(NameProblem::UnknownVariant {
                                    at: v.span,
                                    subject: subject.to_string(),
                                    variant: v.name.clone(),
                                    variants: variants.to_vec(),
                                });
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
                    self.report(ExprProblem::MatchedTwice {
                        at: pattern.span,
                        case: key,
                    });
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
        let declared = match subject {
            Ty::Enum(e) => e.decl.map(|at| (at, e.name.clone())),
            _ => None,
        };
        self.report(ExprProblem::NotCovered {
            at: scrutinee.span,
            subject: subject.to_string(),
            missing,
            declared,
        });
    }

    pub(super) fn pattern_mismatch(&mut self, subject: &Ty, span: Span, pattern: &'static str) {
        self.report(ExprProblem::Pattern {
            at: span,
            subject: subject.to_string(),
            pattern,
        });
    }

    // ---- templates ---------------------------------------------------------------------
}
