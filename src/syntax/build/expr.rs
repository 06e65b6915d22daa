//! Builders for expressions, types, literals and argument lists.
//!
//! Operators are resolved with pest's Pratt parser. Precedence, loosest
//! first: `or` · `and` · `not` · comparisons · `??` · `+ -` · `* / %` ·
//! unary `-` · postfix `.field` and `[index]`. `??` binds tighter than a
//! comparison so `score ?? 0 > 3` means `(score ?? 0) > 3`.

use std::cell::RefCell;
use std::sync::LazyLock;

use pest::iterators::Pair;
use pest::pratt_parser::{Assoc, Op, PrattParser};

use super::super::ast::*;
use super::super::errors::{Nesting, Recovery, SyntaxError};
use super::super::parser::Rule;
use super::{kids, stmt, template, Ctx};
use crate::source::Span;

static PRATT: LazyLock<PrattParser<Rule>> = LazyLock::new(|| {
    PrattParser::new()
        .op(Op::infix(Rule::op_or, Assoc::Left))
        .op(Op::infix(Rule::op_and, Assoc::Left))
        .op(Op::prefix(Rule::op_not))
        .op(Op::infix(Rule::op_eq, Assoc::Left)
            | Op::infix(Rule::op_ne, Assoc::Left)
            | Op::infix(Rule::op_lt, Assoc::Left)
            | Op::infix(Rule::op_le, Assoc::Left)
            | Op::infix(Rule::op_gt, Assoc::Left)
            | Op::infix(Rule::op_ge, Assoc::Left))
        .op(Op::infix(Rule::op_coalesce, Assoc::Right))
        .op(Op::infix(Rule::op_add, Assoc::Left) | Op::infix(Rule::op_sub, Assoc::Left))
        .op(Op::infix(Rule::op_mul, Assoc::Left)
            | Op::infix(Rule::op_div, Assoc::Left)
            | Op::infix(Rule::op_mod, Assoc::Left))
        .op(Op::prefix(Rule::op_neg))
        .op(Op::postfix(Rule::field_access) | Op::postfix(Rule::index))
});

/// About 128 operators in one expression: far beyond anything readable.
const MAX_OPERANDS_AND_OPERATORS: usize = 256;

/// An `expr` pair. Returns `None` if a part failed (already reported).
pub(super) fn expr(ctx: &mut Ctx<'_>, pair: Pair<'_, Rule>) -> Option<Expr> {
    if pair.as_rule() != Rule::expr {
        ctx.bug(&pair, "an expression");
        return None;
    }
    // Operators nest the AST one level each; a sane bound keeps every later
    // recursive pass (and dropping the tree) within a small stack.
    if kids(&pair).nth(MAX_OPERANDS_AND_OPERATORS).is_some() {
        let span = ctx.span(&pair);
        ctx.errors.push(SyntaxError::TooDeep {
            span: span.shrink_to_start(),
            nesting: Nesting::Expression,
        });
        return None;
    }
    // The four closures all need the context; a RefCell lends it in turn.
    let cell = RefCell::new(ctx);
    let built = PRATT
        .map_primary(|p| primary(&mut cell.borrow_mut(), p))
        .map_prefix(|op, operand| {
            let operand = operand?;
            let ctx = cell.borrow();
            let op_span = ctx.span(&op);
            let op = match op.as_rule() {
                Rule::op_not => UnaryOp::Not,
                _ => UnaryOp::Neg,
            };
            Some(Expr {
                span: op_span.to(operand.span),
                kind: ExprKind::Unary {
                    op,
                    operand: Box::new(operand),
                },
            })
        })
        .map_postfix(|base, op| postfix(&mut cell.borrow_mut(), base?, op))
        .map_infix(|lhs, op, rhs| {
            let (lhs, rhs) = (lhs?, rhs?);
            Some(Expr {
                span: lhs.span.to(rhs.span),
                kind: ExprKind::Binary {
                    op: binary_op(op.as_rule()),
                    lhs: Box::new(lhs),
                    rhs: Box::new(rhs),
                },
            })
        })
        .parse(kids(&pair));
    built
}

fn binary_op(rule: Rule) -> BinaryOp {
    match rule {
        Rule::op_or => BinaryOp::Or,
        Rule::op_and => BinaryOp::And,
        Rule::op_eq => BinaryOp::Eq,
        Rule::op_ne => BinaryOp::Ne,
        Rule::op_lt => BinaryOp::Lt,
        Rule::op_le => BinaryOp::Le,
        Rule::op_gt => BinaryOp::Gt,
        Rule::op_ge => BinaryOp::Ge,
        Rule::op_coalesce => BinaryOp::Coalesce,
        Rule::op_add => BinaryOp::Add,
        Rule::op_sub => BinaryOp::Sub,
        Rule::op_mul => BinaryOp::Mul,
        Rule::op_div => BinaryOp::Div,
        // The Pratt table lists exactly these rules as infix operators.
        _ => BinaryOp::Mod,
    }
}

fn postfix(ctx: &mut Ctx<'_>, base: Expr, op: Pair<'_, Rule>) -> Option<Expr> {
    let span = base.span.to(ctx.span(&op));
    let inner = kids(&op).next()?;
    let kind = match op.as_rule() {
        Rule::field_access => ExprKind::Field {
            base: Box::new(base),
            field: ctx.ident(&inner),
        },
        _ => ExprKind::Index {
            base: Box::new(base),
            index: Box::new(expr(ctx, inner)?),
        },
    };
    Some(Expr { kind, span })
}

fn primary(ctx: &mut Ctx<'_>, pair: Pair<'_, Rule>) -> Option<Expr> {
    let span = ctx.span(&pair);
    let text = pair.as_str();
    let kind = match pair.as_rule() {
        Rule::int => ExprKind::Int(int(ctx, text, span)?),
        Rule::float => ExprKind::Float(number(text)),
        Rule::percentage => ExprKind::Percent(number(text.trim_end_matches('%'))),
        Rule::duration => ExprKind::Duration(duration(ctx, text, span)?),
        Rule::boolean => ExprKind::Bool(text == "true"),
        Rule::string => ExprKind::String(template::string(ctx, pair)?),
        Rule::name => ExprKind::Name(ctx.ident(&pair)),
        Rule::fn_call => {
            let mut parts = kids(&pair);
            let function = ctx.ident(&parts.next()?);
            let args = args(ctx, parts.next()?);
            ExprKind::Call { function, args }
        }
        Rule::paren => ExprKind::Paren(Box::new(expr(ctx, kids(&pair).next()?)?)),
        Rule::list => ExprKind::List(
            kids(&pair)
                .map(|item| expr(ctx, item))
                .collect::<Option<_>>()?,
        ),
        Rule::record => ExprKind::Record(
            kids(&pair)
                .map(|field| record_field(ctx, field))
                .collect::<Option<_>>()?,
        ),
        Rule::if_expr => if_expr(ctx, pair)?,
        Rule::match_expr => match_expr(ctx, pair)?,
        Rule::for_expr => for_expr(ctx, pair)?,
        _ => {
            ctx.bug(&pair, "an expression");
            return None;
        }
    };
    Some(Expr { kind, span })
}

fn record_field(ctx: &mut Ctx<'_>, pair: Pair<'_, Rule>) -> Option<RecordField> {
    let mut parts = kids(&pair);
    let name = ctx.ident(&parts.next()?);
    let value = expr(ctx, parts.next()?)?;
    Some(RecordField { name, value })
}

/// `if cond { … } else { … }` and `else if` chains.
fn if_expr(ctx: &mut Ctx<'_>, pair: Pair<'_, Rule>) -> Option<ExprKind> {
    let mut parts = kids(&pair).filter(|p| !matches!(p.as_rule(), Rule::IF | Rule::ELSE));
    let condition = expr(ctx, parts.next()?)?;
    let then = block(ctx, parts.next()?)?;
    let other = parts.next()?;
    let other_span = ctx.span(&other);
    let otherwise = match other.as_rule() {
        Rule::if_expr => Expr {
            kind: if_expr(ctx, other)?,
            span: other_span,
        },
        _ => Expr {
            kind: ExprKind::Block(block(ctx, other)?),
            span: other_span,
        },
    };
    Some(ExprKind::If {
        condition: Box::new(condition),
        then,
        otherwise: Box::new(otherwise),
    })
}

fn match_expr(ctx: &mut Ctx<'_>, pair: Pair<'_, Rule>) -> Option<ExprKind> {
    let mut parts = kids(&pair).skip(1); // `match`
    let scrutinee = expr(ctx, parts.next()?)?;
    let mut arms = Vec::new();
    for member in parts {
        match member.as_rule() {
            Rule::match_arm => arms.extend(match_arm(ctx, member)),
            Rule::recover_line => ctx.recover(&member, Recovery::Arm),
            _ => ctx.bug(&member, "a match arm"),
        }
    }
    Some(ExprKind::Match {
        scrutinee: Box::new(scrutinee),
        arms,
    })
}

fn match_arm(ctx: &mut Ctx<'_>, pair: Pair<'_, Rule>) -> Option<MatchArm> {
    let span = ctx.span(&pair);
    let mut patterns = Vec::new();
    let mut body = None;
    for part in kids(&pair) {
        match part.as_rule() {
            Rule::pattern => patterns.push(pattern(ctx, part)?),
            Rule::block => {
                let span = ctx.span(&part);
                body = Some(Expr {
                    kind: ExprKind::Block(block(ctx, part)?),
                    span,
                });
            }
            _ => body = Some(expr(ctx, part)?),
        }
    }
    Some(MatchArm {
        patterns,
        body: body?,
        span,
    })
}

fn pattern(ctx: &mut Ctx<'_>, pair: Pair<'_, Rule>) -> Option<Pattern> {
    let span = ctx.span(&pair);
    let inner = kids(&pair).next()?;
    let text = inner.as_str();
    let kind = match inner.as_rule() {
        Rule::wildcard => PatternKind::Wildcard,
        Rule::boolean => PatternKind::Bool(text == "true"),
        Rule::int => PatternKind::Int(int(ctx, text, span)?),
        Rule::string => {
            let template = template::string(ctx, inner)?;
            match template.as_plain() {
                Some(text) => PatternKind::String(text),
                None => {
                    ctx.errors.push(SyntaxError::TemplateNotAllowed {
                        span,
                        what: "a match pattern",
                    });
                    return None;
                }
            }
        }
        _ => PatternKind::Variant(ctx.ident(&inner)),
    };
    Some(Pattern { kind, span })
}

fn for_expr(ctx: &mut Ctx<'_>, pair: Pair<'_, Rule>) -> Option<ExprKind> {
    let mut parts = kids(&pair).filter(|p| !matches!(p.as_rule(), Rule::FOR | Rule::IN));
    let var = ctx.ident(&parts.next()?);
    let source = expr(ctx, parts.next()?)?;
    let mut options = Vec::new();
    let mut body = None;
    for part in parts {
        match part.as_rule() {
            Rule::arg_list => options = arg_list(ctx, part),
            _ => body = block(ctx, part),
        }
    }
    Some(ExprKind::For {
        var,
        source: Box::new(source),
        options,
        body: body?,
    })
}

/// `{ statements… value }`
pub(super) fn block(ctx: &mut Ctx<'_>, pair: Pair<'_, Rule>) -> Option<Block> {
    let span = ctx.span(&pair);
    let mut members: Vec<_> = kids(&pair).collect();
    let value = members.pop_if(|last| last.as_rule() == Rule::expr);
    let last = members.last().map(|member| ctx.span(member));
    let stmts = stmt::statements(ctx, members.into_iter());
    let Some(value) = value else {
        let close = Span {
            start: span.end.saturating_sub(1),
            ..span
        };
        ctx.errors.push(SyntaxError::NoBlockValue { close, last });
        return None;
    };
    let value = expr(ctx, value)?;
    Some(Block {
        stmts,
        value: Box::new(value),
        span,
    })
}

/// `( args )`
pub(super) fn arg_list(ctx: &mut Ctx<'_>, pair: Pair<'_, Rule>) -> Vec<Arg> {
    match kids(&pair).next() {
        Some(inner) => args(ctx, inner),
        None => Vec::new(),
    }
}

fn args(ctx: &mut Ctx<'_>, pair: Pair<'_, Rule>) -> Vec<Arg> {
    kids(&pair).filter_map(|arg| self::arg(ctx, arg)).collect()
}

fn arg(ctx: &mut Ctx<'_>, pair: Pair<'_, Rule>) -> Option<Arg> {
    let span = ctx.span(&pair);
    let mut name = None;
    let mut value = None;
    for part in kids(&pair) {
        match part.as_rule() {
            Rule::word => name = Some(ctx.ident(&part)),
            _ => value = expr(ctx, part),
        }
    }
    Some(Arg {
        name,
        value: value?,
        span,
    })
}

/// The most `[]`, `?` and `map<…>` one type may have around its name.
/// Every pass over types recurses once per level, and a model's JSON
/// reply for a type is at least as deep as the type (serde_json refuses
/// replies nested over 128 levels), so the bound sits well below that.
const MAX_TYPE_LEVELS: usize = 32;

/// `string`, `Outline[]`, `map<int>?`
pub(super) fn type_expr(ctx: &mut Ctx<'_>, pair: Pair<'_, Rule>) -> Option<TypeExpr> {
    let start = ctx.span(&pair).shrink_to_start();
    let mut parts = kids(&pair);
    let atom = parts.next()?;
    let inner = kids(&atom).next()?;
    let (mut ty, mut levels) = match inner.as_rule() {
        Rule::map_type => {
            let span = ctx.span(&inner);
            let element = type_expr(ctx, kids(&inner).next()?)?;
            let levels = type_levels(&element) + 1;
            let kind = TypeKind::Map(Box::new(element));
            (TypeExpr { kind, span }, levels)
        }
        _ => {
            let name = ctx.ident(&inner);
            let ty = TypeExpr {
                span: name.span,
                kind: TypeKind::Named(name),
            };
            (ty, 0)
        }
    };
    for suffix in parts {
        let span = start.to(ctx.span(&suffix));
        levels += 1;
        if levels > MAX_TYPE_LEVELS {
            ctx.errors.push(SyntaxError::TooDeep {
                span: ctx.span(&suffix),
                nesting: Nesting::Type,
            });
            return None;
        }
        let inner = Box::new(ty);
        let kind = match suffix.as_str() {
            "?" => TypeKind::Optional(inner),
            _ => TypeKind::List(inner),
        };
        ty = TypeExpr { kind, span };
    }
    if levels > MAX_TYPE_LEVELS {
        // Only a `map<…>` gets here: its `map` is the level too many.
        let start = ty.span.start as usize;
        let map = Span::new(ty.span.file, start, start + 3);
        ctx.errors.push(SyntaxError::TooDeep {
            span: map,
            nesting: Nesting::Type,
        });
        return None;
    }
    Some(ty)
}

/// How many `[]`, `?` and `map<…>` are around the name in `ty`.
fn type_levels(ty: &TypeExpr) -> usize {
    let mut levels = 0;
    let mut ty = ty;
    while let TypeKind::Optional(inner) | TypeKind::List(inner) | TypeKind::Map(inner) = &ty.kind {
        levels += 1;
        ty = inner;
    }
    levels
}

/// Underscores separate digit groups: `10_000`.
fn number(text: &str) -> f64 {
    text.replace('_', "").parse().unwrap_or(f64::NAN)
}

fn int(ctx: &mut Ctx<'_>, text: &str, span: Span) -> Option<i64> {
    match text.replace('_', "").parse() {
        Ok(n) => Some(n),
        Err(_) => {
            ctx.errors.push(SyntaxError::NumberTooLarge { span });
            None
        }
    }
}

/// `250ms`, `1.5s`, `5m`, `1h` → milliseconds.
fn duration(ctx: &mut Ctx<'_>, text: &str, span: Span) -> Option<u64> {
    let split = text
        .find(|c: char| c.is_ascii_alphabetic())
        .unwrap_or(text.len());
    let (amount, unit) = text.split_at(split);
    let scale = match unit {
        "ms" => 1.0,
        "s" => 1_000.0,
        "m" => 60_000.0,
        _ => 3_600_000.0,
    };
    let millis = number(amount) * scale;
    // A year of milliseconds is far more than any timeout needs.
    if !(0.0..=1e15).contains(&millis) {
        ctx.errors.push(SyntaxError::NumberTooLarge { span });
        return None;
    }
    Some(millis.round() as u64)
}
