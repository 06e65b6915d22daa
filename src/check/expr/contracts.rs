//! Templates, and the data contracts between steps: a value that may be
//! absent used as if present, a type that does not fit where it is read.

use super::*;

impl<'a> Body<'_, 'a> {
    pub(super) fn template(&mut self, parts: &'a [TemplatePart]) {
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
        self.report(ExprProblem::Optional {
            at: e.span,
            ty: ty.to_string(),
            in_result: self.in_return,
            guarded: self.producer(e),
        });
    }

    /// The declaration of the name an expression reads from.
    pub(super) fn producer(&self, e: &Expr) -> Option<Span> {
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
        let record = match found {
            Ty::Record(r) => Some(RecordShape::of(r)),
            _ => None,
        };
        self.report(ExprProblem::Mismatch {
            at: span,
            expected: expected.to_string(),
            found: found.to_string(),
            origin: origin.map(|(at, what)| (at, what.to_string())),
            producer: from.and_then(|e| self.producer_of(e)),
            record,
        });
    }

    /// The step or `let` an expression reads from, with what it produces
    /// (`grade` produces `Grade`).
    pub(in crate::check) fn producer_of(&self, e: &Expr) -> Option<Producer> {
        let ExprKind::Name(name) = &root_of(e).kind else {
            return None;
        };
        let binding = self.lookup_local(&name.name)?;
        binding.node?;
        Some(Producer {
            at: binding.span,
            name: name.name.clone(),
            ty: binding.ty.to_string(),
        })
    }
}

impl RecordShape {
    pub(in crate::check) fn of(record: &RecordTy) -> RecordShape {
        RecordShape {
            name: record.name.clone(),
            declared: record.decl,
            fields: record.fields.iter().map(|(n, _)| n.clone()).collect(),
        }
    }
}
