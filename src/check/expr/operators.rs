//! Unary and binary operators, and joining the types of two branches.

use super::*;

impl<'a> Body<'_, 'a> {
    pub(super) fn binary(&mut self, op: BinaryOp, lhs: &'a Expr, rhs: &'a Expr) -> Ty {
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
            self.report(ExprProblem::Operator {
                at: rhs.span,
                left_at: lhs.span,
                op,
                left: left.to_string(),
                right: right.to_string(),
            });
            Ty::Error
        })
    }

    pub(super) fn operand_mismatch(&mut self, op: UnaryOp, ty: &Ty, span: Span) -> Ty {
        self.report(ExprProblem::Operand {
            at: span,
            op,
            ty: ty.to_string(),
        });
        Ty::Error
    }

    pub(super) fn join(&mut self, a: &Ty, b: &Ty, a_span: Span, b_span: Span) -> Ty {
        Ty::join(a, b).unwrap_or_else(|| {
            self.report(ExprProblem::Branches {
                at: b_span,
                first: a_span,
                first_ty: a.to_string(),
                ty: b.to_string(),
            });
            Ty::Error
        })
    }

    // ---- match -------------------------------------------------------------------------
}
