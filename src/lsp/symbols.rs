//! What a name in a file refers to: the nearest declaration of that name
//! (a step, `let`, `loop` or parameter of the enclosing workflow, else a
//! top-level declaration), with what hover shows of it.

use crate::source::Span;
use crate::syntax::ast::{Doc, Expr, ExprKind, File, Ident, Item, Stmt};
use crate::syntax::dump;

/// A declaration: its name's span, a one-line signature and its doc.
#[derive(Clone, Debug, PartialEq)]
pub struct Symbol {
    pub span: Span,
    pub signature: String,
    pub doc: Option<String>,
}

impl Symbol {
    /// Markdown: the signature as code, then the doc comment.
    pub fn hover(&self) -> String {
        let mut text = format!("```spes\n{}\n```", self.signature);
        if let Some(doc) = &self.doc {
            text.push_str(&format!("\n\n{doc}"));
        }
        text
    }
}

/// The declaration of the name at byte `offset` of `text`, if any.
pub fn find(file: &File, text: &str, offset: usize) -> Option<Symbol> {
    let name = word_at(text, offset)?;
    let enclosing = file.items.iter().find_map(|item| match item {
        Item::Workflow(w) if (w.span.start as usize..=w.span.end as usize).contains(&offset) => {
            Some(w)
        }
        _ => None,
    });
    if let Some(workflow) = enclosing {
        let mut local = Vec::new();
        for param in &workflow.params {
            local.push(Symbol {
                span: param.name.span,
                signature: format!(
                    "{}: {} (parameter of `{}`)",
                    param.name.name,
                    dump::ty(&param.ty),
                    workflow.name.name
                ),
                doc: None,
            });
        }
        statements(&workflow.body, &mut local);
        if let Some(symbol) = local
            .into_iter()
            .find(|s| &text[span_range(s.span)] == name)
        {
            return Some(symbol);
        }
    }
    file.items
        .iter()
        .filter_map(declaration)
        .find(|s| &text[span_range(s.span)] == name)
}

fn span_range(span: Span) -> std::ops::Range<usize> {
    span.start as usize..span.end as usize
}

/// The identifier around `offset`.
fn word_at(text: &str, offset: usize) -> Option<&str> {
    let is_word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let offset = offset.min(text.len());
    let start = text[..offset]
        .char_indices()
        .rev()
        .take_while(|(_, c)| is_word(*c))
        .last()
        .map_or(offset, |(i, _)| i);
    let end = text[offset..]
        .char_indices()
        .find(|(_, c)| !is_word(*c))
        .map_or(text.len(), |(i, _)| offset + i);
    (start < end).then(|| &text[start..end])
}

fn doc(doc: &Option<Doc>) -> Option<String> {
    doc.as_ref().map(|d| d.text.clone())
}

/// A declaration's doc, then a line per documented field or variant.
fn with_members<'a>(
    doc: Option<String>,
    members: impl Iterator<Item = (&'a Ident, &'a Option<Doc>)>,
) -> Option<String> {
    let lines: Vec<String> = members
        .filter_map(|(name, d)| {
            let text = d.as_ref()?.text.split_whitespace().collect::<Vec<_>>();
            Some(format!("- `{}`: {}", name.name, text.join(" ")))
        })
        .collect();
    match (doc, lines.is_empty()) {
        (doc, true) => doc,
        (None, false) => Some(lines.join("\n")),
        (Some(doc), false) => Some(format!("{doc}\n\n{}", lines.join("\n"))),
    }
}

/// A top-level declaration as a symbol.
fn declaration(item: &Item) -> Option<Symbol> {
    let (name, signature, documented) = match item {
        Item::Import(_) | Item::Test(_) => return None,
        Item::Type(t) => {
            let fields: Vec<String> = t
                .fields
                .iter()
                .map(|f| {
                    format!(
                        "{}: {}{}",
                        f.name.name,
                        dump::ty(&f.ty),
                        dump::aliases(&f.aliases)
                    )
                })
                .collect();
            let described = t.fields.iter().map(|f| (&f.name, &f.doc));
            return Some(Symbol {
                span: t.name.span,
                signature: format!("type {} {{ {} }}", t.name.name, fields.join(", ")),
                doc: with_members(doc(&t.doc), described),
            });
        }
        Item::Enum(e) => {
            let variants: Vec<String> = e
                .variants
                .iter()
                .map(|v| format!("{}{}", v.name.name, dump::aliases(&v.aliases)))
                .collect();
            let described = e.variants.iter().map(|v| (&v.name, &v.doc));
            return Some(Symbol {
                span: e.name.span,
                signature: format!("enum {} {{ {} }}", e.name.name, variants.join(", ")),
                doc: with_members(doc(&e.doc), described),
            });
        }
        Item::Model(m) => (&m.name, format!("model {}", m.name.name), &m.doc),
        Item::Retry(r) => (&r.name, format!("retry {}", r.name.name), &r.doc),
        Item::Component(c) => (&c.name, format!("component {}", c.name.name), &c.doc),
        Item::Agent(a) => (&a.name, format!("agent {}", a.name.name), &a.doc),
        Item::Workflow(w) => {
            let params: Vec<String> = w
                .params
                .iter()
                .map(|p| format!("{}: {}", p.name.name, dump::ty(&p.ty)))
                .collect();
            let output = w
                .output
                .as_ref()
                .map_or(String::new(), |t| format!(" -> {}", dump::ty(t)));
            (
                &w.name,
                format!("workflow {}({}){output}", w.name.name, params.join(", ")),
                &w.doc,
            )
        }
    };
    Some(Symbol {
        span: name.span,
        signature,
        doc: doc(documented),
    })
}

/// The steps, `let`s and `loop`s of a block, nested ones included.
fn statements(stmts: &[Stmt], out: &mut Vec<Symbol>) {
    for stmt in stmts {
        match stmt {
            Stmt::Step(step) => {
                out.push(Symbol {
                    span: step.name.span,
                    signature: format!("step {}: {}", step.name.name, dump::ty(&step.ty)),
                    doc: doc(&step.doc),
                });
            }
            Stmt::Let(l) => {
                let ty =
                    l.ty.as_ref()
                        .map_or(String::new(), |t| format!(": {}", dump::ty(t)));
                out.push(Symbol {
                    span: l.name.span,
                    signature: format!("let {}{ty}", l.name.name),
                    doc: doc(&l.doc),
                });
                nested(&l.value, out);
            }
            Stmt::Loop(l) => {
                out.push(Symbol {
                    span: l.name.span,
                    signature: format!("loop {}", l.name.name),
                    doc: doc(&l.doc),
                });
                statements(&l.body, out);
            }
        }
    }
}

/// Statements inside an expression: `if` branches, `match` arms, `for`
/// bodies, blocks.
fn nested(e: &Expr, out: &mut Vec<Symbol>) {
    match &e.kind {
        ExprKind::If {
            then, otherwise, ..
        } => {
            statements(&then.stmts, out);
            nested(otherwise, out);
        }
        ExprKind::Match { arms, .. } => {
            for arm in arms {
                nested(&arm.body, out);
            }
        }
        ExprKind::For { body, .. } | ExprKind::Block(body) => statements(&body.stmts, out),
        ExprKind::Paren(inner) => nested(inner, out),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileId;

    const TEXT: &str = "/// A draft.\ntype Draft { text: string }\nworkflow w(topic: string) -> Draft {\n  /// The first try.\n  step draft: Draft { prompt = \"{{ topic }}\" }\n  return draft\n}\n";

    fn at(needle: &str, nth: usize) -> Option<Symbol> {
        let parsed = crate::syntax::parse(FileId(0), TEXT);
        let offset = TEXT.match_indices(needle).nth(nth).unwrap().0 + 1;
        find(&parsed.file, TEXT, offset)
    }

    #[test]
    fn names_resolve_to_the_nearest_declaration() {
        let draft = at("draft", 1).unwrap();
        assert_eq!(draft.signature, "step draft: Draft");
        assert_eq!(draft.doc.as_deref(), Some("The first try."));
        assert_eq!(
            at("Draft", 1).unwrap().signature,
            "type Draft { text: string }"
        );
        assert!(at("topic", 1)
            .unwrap()
            .signature
            .starts_with("topic: string"));
        assert_eq!(at("prompt", 0), None);
    }

    #[test]
    fn a_type_shows_its_aliases_and_what_its_members_say() {
        let text = "/// Graded work.\ntype Grade {\n  /// Out of ten.\n  score: int alias \"mark\"\n  note: string\n}\nenum Level { low alias \"easy\", high }\n";
        let parsed = crate::syntax::parse(FileId(0), text);
        let hover = |needle: &str| {
            let offset = text.find(needle).unwrap() + 1;
            find(&parsed.file, text, offset).unwrap()
        };
        let grade = hover("Grade {");
        assert_eq!(
            grade.signature,
            "type Grade { score: int alias \"mark\", note: string }"
        );
        assert_eq!(
            grade.doc.as_deref(),
            Some("Graded work.\n\n- `score`: Out of ten.")
        );
        assert_eq!(
            hover("Level {").signature,
            "enum Level { low alias \"easy\", high }"
        );
    }
}
