//! One builder per grammar rule: parse tree → AST.
//!
//! Builders take a `Pair` of the rule they are named after and return the
//! AST node, or `None` when a part of it was a bad line (already reported).
//! Children are read through [`Kids`], which skips comments; a child the
//! grammar guarantees but that is missing is reported by [`Ctx::bug`]
//! rather than unwrapped.

mod decl;
mod expr;
mod stmt;
mod template;

pub(super) use stmt::ActionKind;

use std::collections::HashMap;

use pest::iterators::Pair;
use pest::Parser;

use super::ast::{self, Comment, Doc, Ident};
use super::errors::{Nesting, Recovery, SyntaxError};
use super::parser::{Rule, SpesParser};
use super::Parsed;
use crate::source::{FileId, Span};

/// What every builder shares: where we are and what went wrong so far.
pub(super) struct Ctx<'s> {
    pub file: FileId,
    pub source: &'s str,
    pub errors: Vec<SyntaxError>,
    pub left_out: Vec<super::LeftOut>,
    /// Where each comment starts, by where it ends: see [`Ctx::span`].
    comment_starts: HashMap<usize, usize>,
}

impl<'s> Ctx<'s> {
    /// The span of a pair without trailing whitespace and comments. pest
    /// skips trivia before a trailing `x*` even when it matches nothing, so
    /// a rule's own span can run on into the next line.
    pub fn span(&self, pair: &Pair<'_, Rule>) -> Span {
        let s = pair.as_span();
        let mut end = s.end();
        loop {
            end = s.start() + self.source[s.start()..end].trim_end().len();
            match self.comment_starts.get(&end) {
                Some(&start) if start >= s.start() => end = start,
                _ => break,
            }
        }
        Span::new(self.file, s.start(), end)
    }

    /// The span exactly as pest matched it: for text, where every trailing
    /// space counts.
    pub fn raw_span(&self, pair: &Pair<'_, Rule>) -> Span {
        let s = pair.as_span();
        Span::new(self.file, s.start(), s.end())
    }

    pub fn ident(&self, pair: &Pair<'_, Rule>) -> Ident {
        Ident {
            name: pair.as_str().to_string(),
            span: self.span(pair),
        }
    }

    /// A rule showed up where the grammar does not allow it: a bug in the
    /// builders, reported as a diagnostic instead of a panic.
    pub fn bug(&mut self, pair: &Pair<'_, Rule>, context: &str) {
        let span = self.span(pair);
        self.errors.push(SyntaxError::Internal {
            span,
            detail: format!("{context}: unexpected {:?}", pair.as_rule()),
        });
    }

    pub fn missing(&mut self, parent: Span, what: &str) {
        self.errors.push(SyntaxError::Internal {
            span: parent,
            detail: format!("missing {what}"),
        });
    }

    /// A catch-all line: parse it again as the member it should have been to
    /// learn what exactly is wrong, and report that.
    pub fn recover(&mut self, pair: &Pair<'_, Rule>, recovery: Recovery) {
        let span = self.span(pair);
        if pair.as_str().starts_with("///") {
            self.errors.push(SyntaxError::MisplacedDoc { span });
            return;
        }
        let late_setting = recovery == Recovery::Statement
            && SpesParser::parse(Rule::workflow_setting, pair.as_str()).is_ok();
        if late_setting {
            self.errors
                .push(SyntaxError::SettingAfterStatement { span });
            return;
        }
        super::errors::enable_detail();
        let (start, end) = (pair.as_span().start(), pair.as_span().end());
        let error = self
            .reparse_from_line_start(start, end, recovery)
            .unwrap_or_else(|| match self.reparse(recovery, start, end) {
                Err(error) => {
                    SyntaxError::from_pest(&error, self.file, self.source, start, Some(recovery))
                }
                // The member parses on its own: what follows it is the problem.
                Ok(_) => SyntaxError::from_recovery(self.file, self.source, span, recovery),
            });
        self.errors.push(error);
    }
}

impl Ctx<'_> {
    /// A bad line that starts mid-line usually means the member before it on
    /// the line ended too early (`join(xs, ", "` parsed as `join`). Parsing
    /// the line from its start again finds the real problem, if it lies at
    /// or after where the bad part starts.
    fn reparse_from_line_start(
        &self,
        start: usize,
        end: usize,
        recovery: Recovery,
    ) -> Option<SyntaxError> {
        let line_start = self.source[..start].rfind('\n').map_or(0, |i| i + 1);
        let indent = self.source[line_start..start].len()
            - self.source[line_start..start].trim_start().len();
        let member_start = line_start + indent;
        if member_start == start {
            return None;
        }
        let error = self.reparse(recovery, member_start, end).err()?;
        let at = member_start + error_at(&error);
        (at >= start).then(|| {
            SyntaxError::from_pest(&error, self.file, self.source, member_start, Some(recovery))
        })
    }

    /// Parses the member at `from` on its own, as [`Recovery::rule`]. pest
    /// builds an error by scanning back from the end of its input, so an
    /// error in the rest of the file costs the rest of the file, and a file
    /// of bad lines costs its length squared. The parse first gets the
    /// text up to `end`, where the bad line ends; only when it fails at
    /// that cut, or gets through, can the text past it matter, and only
    /// then does it get the rest of the file (a parse that gets through is
    /// cheap whatever its input).
    fn reparse(
        &self,
        recovery: Recovery,
        from: usize,
        end: usize,
    ) -> Result<(), Box<pest::error::Error<Rule>>> {
        let parse = |to: usize| {
            SpesParser::parse(recovery.rule(), &self.source[from..to])
                .map(drop)
                .map_err(Box::new)
        };
        let end = end.clamp(from, self.source.len());
        let cut = parse(end);
        let settled = matches!(&cut, Err(error) if error_at(error) < end - from);
        if settled || end == self.source.len() {
            cut
        } else {
            parse(self.source.len())
        }
    }
}

/// Where in its input a pest error is.
fn error_at(error: &pest::error::Error<Rule>) -> usize {
    match error.location {
        pest::error::InputLocation::Pos(p) | pest::error::InputLocation::Span((p, _)) => p,
    }
}

/// The children of a pair, comments skipped (they are collected once for the
/// whole file by [`collect_comments`]).
pub(super) struct Kids<'i> {
    inner: pest::iterators::Pairs<'i, Rule>,
}

impl<'i> Iterator for Kids<'i> {
    type Item = Pair<'i, Rule>;

    fn next(&mut self) -> Option<Pair<'i, Rule>> {
        self.inner.by_ref().find(|p| p.as_rule() != Rule::COMMENT)
    }
}

pub(super) fn kids<'i>(pair: &Pair<'i, Rule>) -> Kids<'i> {
    Kids {
        inner: pair.clone().into_inner(),
    }
}

/// Builds a whole file.
pub(super) fn file(file: FileId, text: &str) -> Parsed {
    let mut ctx = Ctx {
        file,
        source: text,
        errors: Vec::new(),
        left_out: Vec::new(),
        comment_starts: HashMap::new(),
    };
    let mut ast = ast::File {
        span: Span::new(file, 0, text.len()),
        ..ast::File::default()
    };
    match SpesParser::parse(Rule::file, text) {
        Ok(pairs) if let Some((at, nesting)) = too_deep(&pairs) => {
            ctx.errors.push(SyntaxError::TooDeep {
                span: Span::new(file, at, at),
                nesting,
            });
        }
        Ok(pairs) => {
            for pair in pairs.clone() {
                collect_comments(&ctx, pair, &mut ast.comments);
            }
            ctx.comment_starts = ast
                .comments
                .iter()
                .map(|c| (c.span.end as usize, c.span.start as usize))
                .collect();
            for root in pairs {
                for pair in kids(&root) {
                    match pair.as_rule() {
                        Rule::recover_item => ctx.recover(&pair, Recovery::Item),
                        Rule::EOI => {}
                        _ => {
                            if let Some(item) = decl::item(&mut ctx, pair) {
                                ast.items.push(item);
                            }
                        }
                    }
                }
            }
        }
        Err(_) => {
            // Parse again with error detail on, for a message in words.
            super::errors::enable_detail();
            if let Err(error) = SpesParser::parse(Rule::file, text) {
                ctx.errors
                    .push(SyntaxError::from_pest(&error, file, text, 0, None));
            }
        }
    }
    let checkable = ctx.errors.iter().all(SyntaxError::leaves_the_rest_whole);
    let mut diagnostics: Vec<_> = ctx.errors.into_iter().map(|e| e.to_diagnostic()).collect();
    crate::diagnostic::sort(&mut diagnostics);
    Parsed {
        file: ast,
        diagnostics,
        checkable,
        left_out: ctx.left_out,
    }
}

/// The builders recurse once per level of the parse tree, and every later
/// pass once per level of the AST, so a tree deeper than this is refused
/// before building: 1,000 levels is about 500 nested parentheses, far more
/// than any real workflow, and safe on a 2 MiB stack.
const MAX_DEPTH: usize = 1000;

/// The levels that an open `{% if %}` or `{% for %}` adds. The parse tree
/// keeps tags flat, but the template builder nests each one a level deeper
/// in the AST, so each counts as a pair of parentheses (two levels of the
/// tree) would.
const FLAT_LEVEL: usize = 2;

/// Where the parse tree, with the template tags it keeps flat counted in,
/// first gets deeper than [`MAX_DEPTH`], and what is nested there; found
/// without recursion by walking the token stream.
fn too_deep(pairs: &pest::iterators::Pairs<'_, Rule>) -> Option<(usize, Nesting)> {
    let mut depth = 0usize;
    // The levels each open string's tags have added, innermost last: they
    // close with it.
    let mut flat: Vec<usize> = Vec::new();
    for token in pairs.clone().tokens() {
        match token {
            pest::Token::Start { rule, pos } => {
                depth += 1;
                match (rule, flat.last_mut()) {
                    (Rule::string, _) => flat.push(0),
                    (Rule::tag_if | Rule::tag_for, Some(open)) => {
                        *open += FLAT_LEVEL;
                        depth += FLAT_LEVEL;
                    }
                    // A stray `{% end %}` closes nothing (and is reported).
                    (Rule::tag_end, Some(open)) if *open >= FLAT_LEVEL => {
                        *open -= FLAT_LEVEL;
                        depth -= FLAT_LEVEL;
                    }
                    _ => {}
                }
                if depth > MAX_DEPTH {
                    // Inside a string with tags open, they keep it deep.
                    let nesting = match flat.last() {
                        Some(open) if *open > 0 => Nesting::Template,
                        _ => Nesting::Expression,
                    };
                    return Some((pos.pos(), nesting));
                }
            }
            pest::Token::End { rule, .. } => {
                depth -= 1;
                if rule == Rule::string {
                    depth -= flat.pop().unwrap_or(0);
                }
            }
        }
    }
    None
}

/// Gathers every `//` comment in the tree, in source order.
fn collect_comments(ctx: &Ctx<'_>, pair: Pair<'_, Rule>, out: &mut Vec<Comment>) {
    for p in pair.into_inner().flatten() {
        if p.as_rule() == Rule::COMMENT {
            out.push(Comment {
                text: p.as_str().to_string(),
                span: ctx.span(&p),
            });
        }
    }
}

/// `/// line` × n → the text without the slashes and one leading space.
pub(super) fn doc(ctx: &Ctx<'_>, pair: &Pair<'_, Rule>) -> Doc {
    let text = kids(pair)
        .map(|line| {
            let body = line.as_str().trim_start_matches("///");
            body.strip_prefix(' ')
                .unwrap_or(body)
                .trim_end()
                .to_string()
        })
        .collect::<Vec<_>>()
        .join("\n");
    Doc {
        text,
        span: ctx.span(pair),
    }
}

/// Splits an optional leading doc comment off a declaration's children.
pub(super) fn take_doc<'i>(ctx: &Ctx<'_>, kids: &mut std::iter::Peekable<Kids<'i>>) -> Option<Doc> {
    let pair = kids.next_if(|p| p.as_rule() == Rule::doc)?;
    Some(doc(ctx, &pair))
}
