//! Builder for string literals, which are all templates.
//!
//! The grammar yields a flat run of text, `{{ expr }}` and `{% tag %}`
//! tokens. This builder
//! 1. for `"""` strings, drops a blank first and last line, strips the
//!    common indentation, and removes lines that hold nothing but one tag
//!    (so `{% if %}` on its own line leaves no blank line behind);
//! 2. processes escapes;
//! 3. nests `{% if %}…{% else %}…{% end %}` and `{% for %}…{% end %}`,
//!    reporting unbalanced tags.

use pest::iterators::Pair;

use super::super::ast::*;
use super::super::errors::{SyntaxError, TagKind};
use super::super::parser::Rule;
use super::{expr, kids, Ctx};
use crate::source::Span;

/// A `string` pair → a template.
pub(super) fn string(ctx: &mut Ctx<'_>, pair: Pair<'_, Rule>) -> Option<Template> {
    let span = ctx.span(&pair);
    let literal = kids(&pair).next()?;
    let triple = literal.as_rule() == Rule::triple_string;
    let delimiter = if triple { 3 } else { 1 };
    let content = (span.start as usize + delimiter)..(span.end as usize - delimiter);

    let tokens = tokens(ctx, &literal)?;
    let removed = if triple {
        removed_bytes(ctx.source, content.clone(), &tokens)
    } else {
        Vec::new()
    };
    let flat = tokens
        .into_iter()
        .filter_map(|token| match token {
            Token::Text(range) => {
                let text = unescape(&kept(ctx.source, range.clone(), &removed));
                (!text.is_empty()).then(|| {
                    Flat::Part(TemplatePart::Text {
                        text,
                        span: Span::new(ctx.file, range.start, range.end),
                    })
                })
            }
            Token::Interpolation(expr, span) => {
                Some(Flat::Part(TemplatePart::Interpolation { expr, span }))
            }
            Token::Tag(tag, span) => Some(Flat::Tag(tag, span)),
        })
        .collect();
    let parts = nest(ctx, flat)?;
    Some(Template {
        parts,
        triple,
        span,
    })
}

enum Token {
    Text(std::ops::Range<usize>),
    Interpolation(Expr, Span),
    Tag(Tag, Span),
}

enum Tag {
    If(Expr),
    For(Ident, Expr),
    Else,
    End,
}

enum Flat {
    Part(TemplatePart),
    Tag(Tag, Span),
}

fn tokens(ctx: &mut Ctx<'_>, literal: &Pair<'_, Rule>) -> Option<Vec<Token>> {
    let mut out = Vec::new();
    let mut ok = true;
    for part in kids(literal) {
        let span = ctx.raw_span(&part);
        match part.as_rule() {
            Rule::line_text | Rule::triple_text => out.push(Token::Text(span.range())),
            Rule::interpolation => match kids(&part).next().and_then(|e| expr::expr(ctx, e)) {
                Some(expr) => out.push(Token::Interpolation(expr, span)),
                None => ok = false,
            },
            Rule::tag => match tag(ctx, &part) {
                Some(tag) => out.push(Token::Tag(tag, span)),
                None => ok = false,
            },
            _ => ctx.bug(&part, "a string"),
        }
    }
    ok.then_some(out)
}

fn tag(ctx: &mut Ctx<'_>, pair: &Pair<'_, Rule>) -> Option<Tag> {
    let inner = kids(pair).next()?;
    let mut parts =
        kids(&inner).filter(|p| !matches!(p.as_rule(), Rule::IF | Rule::FOR | Rule::IN));
    Some(match inner.as_rule() {
        Rule::tag_if => Tag::If(expr::expr(ctx, parts.next()?)?),
        Rule::tag_for => {
            let var = ctx.ident(&parts.next()?);
            Tag::For(var, expr::expr(ctx, parts.next()?)?)
        }
        Rule::tag_else => Tag::Else,
        _ => Tag::End,
    })
}

/// Byte ranges of a `"""` string's content that do not belong to its text:
/// blank first/last lines, common indentation, lines holding only a tag.
fn removed_bytes(
    source: &str,
    content: std::ops::Range<usize>,
    tokens: &[Token],
) -> Vec<std::ops::Range<usize>> {
    let mut lines: Vec<std::ops::Range<usize>> = Vec::new();
    let mut start = content.start;
    for (i, _) in source[content.clone()].match_indices('\n') {
        lines.push(start..content.start + i + 1);
        start = content.start + i + 1;
    }
    lines.push(start..content.end);

    let is_blank = |r: &std::ops::Range<usize>| source[r.clone()].trim().is_empty();
    let mut removed = Vec::new();
    if lines.len() > 1 && is_blank(&lines[0]) {
        removed.push(lines.remove(0));
    }
    if lines.len() > 1 && lines.last().is_some_and(is_blank) {
        let last = lines.pop().unwrap_or_default();
        // The line break before the closing `"""` goes with it, CR too.
        let mut from = last.start.saturating_sub(1);
        if from > content.start && source.as_bytes().get(from - 1) == Some(&b'\r') {
            from -= 1;
        }
        removed.push(from..last.end);
    }

    let indent = lines
        .iter()
        .filter(|r| !is_blank(r))
        .map(|r| leading_whitespace(&source[r.clone()]))
        .min()
        .unwrap_or(0);
    let tag_spans: Vec<Span> = tokens
        .iter()
        .filter_map(|t| match t {
            Token::Tag(_, span) => Some(*span),
            _ => None,
        })
        .collect();
    for line in &lines {
        let text = &source[line.clone()];
        let trimmed_start = line.start + leading_whitespace(text);
        let trimmed_end = line.start + text.trim_end().len();
        let standalone_tag = tag_spans
            .iter()
            .any(|s| s.start as usize == trimmed_start && s.end as usize == trimmed_end);
        if standalone_tag {
            removed.push(line.clone());
        } else {
            let strip = leading_whitespace(text).min(indent);
            removed.push(line.start..line.start + strip);
        }
    }
    removed
}

/// Bytes of spaces and tabs at the start of a line.
fn leading_whitespace(line: &str) -> usize {
    line.len() - line.trim_start_matches([' ', '\t']).len()
}

/// The bytes of `range` that no removed range covers.
fn kept(source: &str, range: std::ops::Range<usize>, removed: &[std::ops::Range<usize>]) -> String {
    source[range.clone()]
        .char_indices()
        .filter(|(i, _)| !removed.iter().any(|r| r.contains(&(range.start + i))))
        .map(|(_, c)| c)
        .collect()
}

/// Escapes processed, and line endings as written made `\n` (a file
/// saved with CRLF must not put `\r` into prompts; `\r` written as an
/// escape stays).
fn unescape(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\r' {
            chars.next_if_eq(&'\n');
            out.push('\n');
            continue;
        }
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            // `\\`, `\"`, `\{`, `\}`: the character itself. The grammar
            // admits no other escape.
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

/// An open `{% if %}` or `{% for %}` while nesting.
struct Frame {
    opener: Tag,
    open_span: Span,
    then: Vec<TemplatePart>,
    otherwise: Option<Vec<TemplatePart>>,
}

fn nest(ctx: &mut Ctx<'_>, flat: Vec<Flat>) -> Option<Vec<TemplatePart>> {
    let mut top: Vec<TemplatePart> = Vec::new();
    let mut stack: Vec<Frame> = Vec::new();
    let mut ok = true;
    for item in flat {
        let (tag, span) = match item {
            Flat::Part(part) => {
                current(&mut top, &mut stack).push(part);
                continue;
            }
            Flat::Tag(tag, span) => (tag, span),
        };
        match tag {
            Tag::If(_) | Tag::For(..) => stack.push(Frame {
                opener: tag,
                open_span: span,
                then: Vec::new(),
                otherwise: None,
            }),
            Tag::Else => match stack.last_mut() {
                Some(frame) if matches!(frame.opener, Tag::If(_)) && frame.otherwise.is_none() => {
                    frame.otherwise = Some(Vec::new());
                }
                frame => {
                    let opener = frame.map(|f| f.open_span);
                    ctx.errors.push(SyntaxError::StrayTag {
                        span,
                        kind: TagKind::Else,
                        opener,
                    });
                    ok = false;
                }
            },
            Tag::End => match stack.pop() {
                Some(frame) => {
                    let part = close(frame, span);
                    current(&mut top, &mut stack).push(part);
                }
                None => {
                    ctx.errors.push(SyntaxError::StrayTag {
                        span,
                        kind: TagKind::End,
                        opener: None,
                    });
                    ok = false;
                }
            },
        }
    }
    for frame in stack {
        let kind = match frame.opener {
            Tag::For(..) => TagKind::For,
            _ => TagKind::If,
        };
        ctx.errors.push(SyntaxError::UnclosedTag {
            span: frame.open_span,
            kind,
        });
        ok = false;
    }
    ok.then_some(top)
}

/// Where the next part goes: the innermost open branch, or the top level.
fn current<'a>(
    top: &'a mut Vec<TemplatePart>,
    stack: &'a mut [Frame],
) -> &'a mut Vec<TemplatePart> {
    match stack.last_mut() {
        Some(frame) => frame.otherwise.as_mut().unwrap_or(&mut frame.then),
        None => top,
    }
}

fn close(frame: Frame, end: Span) -> TemplatePart {
    let span = frame.open_span.to(end);
    match frame.opener {
        Tag::For(var, source) => TemplatePart::For {
            var,
            source,
            body: frame.then,
            span,
        },
        Tag::If(condition) => TemplatePart::If {
            condition,
            then: frame.then,
            otherwise: frame.otherwise,
            span,
        },
        // Only `if` and `for` are ever pushed.
        Tag::Else | Tag::End => TemplatePart::Text {
            text: String::new(),
            span,
        },
    }
}
