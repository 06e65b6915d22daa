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

    pub(super) fn pattern_mismatch(&mut self, subject: &Ty, span: Span, pattern: &str) {
        self.report(
            Diagnostic::new(Code::E0202, "pattern does not fit the matched value")
                .primary(span, format!("{pattern} pattern"))
                .note(format!("the value matched is `{subject}`")),
        );
    }

    // ---- templates ---------------------------------------------------------------------
}
