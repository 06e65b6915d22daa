//! Expressions, value blocks and templates, inline when they fit.

use super::*;

impl<'s> Printer<'s> {
    /// An expression with no statement inside, as one line.
    pub(super) fn inline(&self, e: &Expr) -> String {
        let mut probe = self.fork();
        probe.expr(e);
        probe.out
    }

    pub(super) fn args(&self, args: &[Arg]) -> String {
        args.iter()
            .map(|a| match &a.name {
                Some(name) => format!("{} = {}", name.name, self.inline(&a.value)),
                None => self.inline(&a.value),
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    pub(super) fn expr(&mut self, e: &Expr) {
        match &e.kind {
            // Literals as written: the formatter never re-spells a value.
            ExprKind::Int(_)
            | ExprKind::Float(_)
            | ExprKind::Bool(_)
            | ExprKind::Duration(_)
            | ExprKind::Percent(_) => self.out.push_str(self.text(e.span)),
            ExprKind::String(t) => self.template(t),
            ExprKind::Name(n) => self.out.push_str(&n.name),
            ExprKind::List(items) => {
                self.out.push('[');
                self.joined(items);
                self.out.push(']');
            }
            ExprKind::Record(fields) => {
                let inline: Vec<String> = fields
                    .iter()
                    .map(|f| format!("{}: {}", f.name.name, self.inline(&f.value)))
                    .collect();
                let one_line = if inline.is_empty() {
                    "{}".to_string()
                } else {
                    format!("{{ {} }}", inline.join(", "))
                };
                if self.fits(&one_line) || fields.is_empty() {
                    self.out.push_str(&one_line);
                    return;
                }
                // One field per line, each with its comma.
                self.out.push_str("{\n");
                self.indent += 1;
                for field in fields {
                    self.push_indent();
                    self.out.push_str(&format!("{}: ", field.name.name));
                    self.expr(&field.value);
                    self.out.push_str(",\n");
                }
                self.indent -= 1;
                self.push_indent();
                self.out.push('}');
            }
            ExprKind::Field { base, field } => {
                self.expr(base);
                self.out.push_str(&format!(".{}", field.name));
            }
            ExprKind::Index { base, index } => {
                self.expr(base);
                self.out.push('[');
                self.expr(index);
                self.out.push(']');
            }
            ExprKind::Call { function, args } => {
                let args = self.args(args);
                self.out.push_str(&format!("{}({args})", function.name));
            }
            ExprKind::Unary { op, operand } => {
                self.out.push_str(match op {
                    UnaryOp::Not => "not ",
                    UnaryOp::Neg => "-",
                });
                self.expr(operand);
            }
            ExprKind::Binary { op, lhs, rhs } => {
                self.expr(lhs);
                self.out.push_str(&format!(" {} ", op.symbol()));
                self.expr(rhs);
            }
            ExprKind::If {
                condition,
                then,
                otherwise,
            } => {
                self.out.push_str("if ");
                self.expr(condition);
                self.out.push(' ');
                self.value_block(then);
                self.out.push_str(" else ");
                self.expr(otherwise);
            }
            ExprKind::Match { scrutinee, arms } => {
                self.out.push_str("match ");
                self.expr(scrutinee);
                self.out.push(' ');
                self.block(e.span.end as usize, |p| {
                    for arm in arms {
                        p.open(arm.span.start as usize);
                        let patterns: Vec<&str> =
                            arm.patterns.iter().map(|pat| p.text(pat.span)).collect();
                        p.out.push_str(&format!("{} => ", patterns.join(" | ")));
                        p.expr(&arm.body);
                        p.close(arm.span.end as usize);
                    }
                });
            }
            ExprKind::For {
                var,
                source,
                options,
                body,
            } => {
                self.out.push_str(&format!("for {} in ", var.name));
                self.expr(source);
                if !options.is_empty() {
                    self.out.push_str(&format!(" ({})", self.args(options)));
                }
                self.out.push(' ');
                self.value_block(body);
            }
            ExprKind::Block(b) => self.value_block(b),
            ExprKind::Paren(inner) => {
                self.out.push('(');
                self.expr(inner);
                self.out.push(')');
            }
        }
    }

    pub(super) fn joined(&mut self, items: &[Expr]) {
        for (n, item) in items.iter().enumerate() {
            if n > 0 {
                self.out.push_str(", ");
            }
            self.expr(item);
        }
    }

    /// `{ value }` inline when the block has no statements, else its
    /// statements and value one per line.
    pub(super) fn value_block(&mut self, b: &Block) {
        if b.stmts.is_empty() && !self.comment_within(b.span) {
            let value = self.inline(&b.value);
            if self.fits(&format!("{{ {value} }}")) {
                self.out.push_str(&format!("{{ {value} }}"));
                self.last = self.last.max(b.span.end as usize);
                return;
            }
        }
        self.block(b.span.end as usize, |p| {
            p.statements(&b.stmts);
            p.open(b.value.span.start as usize);
            p.expr(&b.value);
            p.close(b.value.span.end as usize);
        });
    }

    /// A string as written; a `"""` block re-indented one level deeper
    /// than the line it starts on (its common indentation is not part of
    /// its text, so this keeps the text).
    pub(super) fn template(&mut self, t: &Template) {
        let written = self.text(t.span);
        if !t.triple {
            self.out.push_str(written);
            self.last = self.last.max(t.span.end as usize);
            return;
        }
        let lines: Vec<&str> = written.split('\n').collect();
        let first_blank = lines[0].trim_start_matches("\"\"\"").trim().is_empty();
        if lines.len() < 2 || !first_blank {
            self.out.push_str(written);
            self.last = self.last.max(t.span.end as usize);
            return;
        }
        let body = &lines[1..lines.len() - 1];
        let last = lines[lines.len() - 1];
        let closing_blank = last.trim_end_matches("\"\"\"").trim().is_empty();
        let leading = |l: &str| l.len() - l.trim_start_matches([' ', '\t']).len();
        let mut counted: Vec<&str> = body.to_vec();
        if !closing_blank {
            counted.push(last);
        }
        let old = counted
            .iter()
            .filter(|l| !l.trim().is_empty())
            .map(|l| leading(l))
            .min()
            .unwrap_or(0);
        let base = "  ".repeat(self.indent);
        let new = format!("{base}  ");
        let shift = |l: &str| {
            if l.trim().is_empty() && leading(l) <= old {
                String::new()
            } else {
                format!("{new}{}", &l[old.min(leading(l))..])
            }
        };
        self.out.push_str("\"\"\"\n");
        for line in body {
            self.out.push_str(&shift(line));
            self.out.push('\n');
        }
        if closing_blank {
            self.out.push_str(&format!("{base}\"\"\""));
        } else {
            self.out.push_str(&shift(last));
        }
        self.last = self.last.max(t.span.end as usize);
    }
}
