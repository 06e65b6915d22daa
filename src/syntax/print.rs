//! Expressions back in `.spes` syntax, normalized: one space around binary
//! operators, parentheses only where they were written, durations in their
//! largest exact unit. Used wherever a person reads an expression outside
//! its file (`spesc plan`); equal meaning written differently prints the
//! same, so the plan hash does not follow formatting.

use super::ast::{Block, Expr, ExprKind, Template, TemplatePart};

pub fn expr(e: &Expr) -> String {
    match &e.kind {
        ExprKind::Int(n) => n.to_string(),
        ExprKind::Float(f) => format!("{f:?}"),
        ExprKind::Bool(b) => b.to_string(),
        ExprKind::Duration(ms) => duration(*ms),
        ExprKind::Percent(p) => format!("{p}%"),
        ExprKind::String(t) => string(t),
        ExprKind::List(items) => format!("[{}]", list(items)),
        ExprKind::Record(fields) => {
            let fields: Vec<String> = fields
                .iter()
                .map(|f| format!("{}: {}", f.name.name, expr(&f.value)))
                .collect();
            format!("{{ {} }}", fields.join(", "))
        }
        ExprKind::Name(n) => n.name.clone(),
        ExprKind::Field { base, field } => format!("{}.{}", expr(base), field.name),
        ExprKind::Index { base, index } => format!("{}[{}]", expr(base), expr(index)),
        ExprKind::Call { function, args } => {
            let args: Vec<String> = args
                .iter()
                .map(|a| match &a.name {
                    Some(n) => format!("{} = {}", n.name, expr(&a.value)),
                    None => expr(&a.value),
                })
                .collect();
            format!("{}({})", function.name, args.join(", "))
        }
        ExprKind::Unary { op, operand } => match op {
            super::ast::UnaryOp::Not => format!("not {}", expr(operand)),
            super::ast::UnaryOp::Neg => format!("-{}", expr(operand)),
        },
        ExprKind::Binary { op, lhs, rhs } => {
            format!("{} {} {}", expr(lhs), op.symbol(), expr(rhs))
        }
        ExprKind::If {
            condition,
            then,
            otherwise,
        } => format!(
            "if {} {} else {}",
            expr(condition),
            block(then),
            expr(otherwise)
        ),
        ExprKind::Match { scrutinee, arms } => {
            let arms: Vec<String> = arms
                .iter()
                .map(|a| {
                    let patterns: Vec<String> =
                        a.patterns.iter().map(super::dump::pattern).collect();
                    format!("{} => {}", patterns.join(" | "), expr(&a.body))
                })
                .collect();
            format!("match {} {{ {} }}", expr(scrutinee), arms.join("  "))
        }
        ExprKind::For {
            var, source, body, ..
        } => format!("for {} in {} {}", var.name, expr(source), block(body)),
        ExprKind::Block(b) => block(b),
        ExprKind::Paren(inner) => format!("({})", expr(inner)),
    }
}

fn list(items: &[Expr]) -> String {
    items.iter().map(expr).collect::<Vec<_>>().join(", ")
}

/// A block in one line; its statements are shown as `…`.
fn block(b: &Block) -> String {
    if b.stmts.is_empty() {
        format!("{{ {} }}", expr(&b.value))
    } else {
        format!("{{ … {} }}", expr(&b.value))
    }
}

/// A string literal on one line, escapes restored.
fn string(t: &Template) -> String {
    format!("\"{}\"", parts(&t.parts))
}

fn parts(parts: &[TemplatePart]) -> String {
    parts
        .iter()
        .map(|part| match part {
            TemplatePart::Text { text, .. } => text
                .replace('\\', "\\\\")
                .replace('"', "\\\"")
                .replace('\n', "\\n")
                .replace('\t', "\\t")
                .replace("{{", "\\{{"),
            TemplatePart::Interpolation { expr: e, .. } => format!("{{{{ {} }}}}", expr(e)),
            TemplatePart::If {
                condition,
                then,
                otherwise,
                ..
            } => match otherwise {
                Some(other) => format!(
                    "{{% if {} %}}{}{{% else %}}{}{{% end %}}",
                    expr(condition),
                    self::parts(then),
                    self::parts(other)
                ),
                None => format!(
                    "{{% if {} %}}{}{{% end %}}",
                    expr(condition),
                    self::parts(then)
                ),
            },
            TemplatePart::For {
                var, source, body, ..
            } => format!(
                "{{% for {} in {} %}}{}{{% end %}}",
                var.name,
                expr(source),
                self::parts(body)
            ),
        })
        .collect()
}

/// `90000` → `90s`, `3600000` → `1h`, `250` → `250ms`.
fn duration(ms: u64) -> String {
    const UNITS: [(u64, &str); 3] = [(3_600_000, "h"), (60_000, "m"), (1000, "s")];
    for (size, unit) in UNITS {
        if ms >= size && ms.is_multiple_of(size) {
            return format!("{}{unit}", ms / size);
        }
    }
    format!("{ms}ms")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileId;
    use crate::syntax::ast::{Item, Stmt};

    /// The value of `let x = …` in a one-statement workflow.
    fn printed(source: &str) -> String {
        let text = format!("workflow w() -> int {{\n  let x = {source}\n  return 1\n}}\n");
        let parsed = crate::syntax::parse(FileId::default(), &text);
        assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
        let Some(Item::Workflow(w)) = parsed.file.items.first() else {
            panic!("no workflow");
        };
        let Some(Stmt::Let(l)) = w.body.first() else {
            panic!("no let");
        };
        expr(&l.value)
    }

    #[test]
    fn expressions_print_as_normalized_source() {
        assert_eq!(
            printed("len(this)>0   and  not done"),
            "len(this) > 0 and not done"
        );
        assert_eq!(printed("(a+b) * -c"), "(a + b) * -c");
        assert_eq!(printed("x ?? 90s"), "x ?? 90s");
        assert_eq!(printed("xs[0].name"), "xs[0].name");
        assert_eq!(
            printed("summarized(max_tokens = 10)"),
            "summarized(max_tokens = 10)"
        );
        assert_eq!(
            printed(r#""Hi {{ name }}\n\"you\"""#),
            r#""Hi {{ name }}\n\"you\"""#
        );
        assert_eq!(printed("{ a: 1, b: [2, 3] }"), "{ a: 1, b: [2, 3] }");
    }

    #[test]
    fn durations_use_their_largest_exact_unit() {
        assert_eq!(duration(250), "250ms");
        assert_eq!(duration(90_000), "90s");
        assert_eq!(duration(120_000), "2m");
        assert_eq!(duration(3_600_000), "1h");
    }
}
