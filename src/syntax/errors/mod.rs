//! Syntax errors: facts first, wording in one place.
//!
//! Every variant is an `E0001` diagnostic. [`SyntaxError::from_pest`] turns a
//! pest failure into the most specific fact it can recognise (an
//! unterminated string, an unclosed `{{`, a `{` never closed) before falling
//! back to "expected …, found …"; [`SyntaxError::to_diagnostic`] owns every
//! message, label and help.

mod clauses;
mod messages;
mod scan;

use std::collections::BTreeSet;
use std::sync::Once;

use pest::error::{Error as PestError, ErrorVariant, InputLocation};

use super::build::ActionKind;
use super::parser::Rule;
use super::rule_names::phrase;
use crate::diagnostic::{Code, Diagnostic};
use crate::source::{FileId, Span};
use crate::suggest;
use scan::*;

/// The keywords that start a top-level declaration.
const DECLARATIONS: &[&str] = &[
    "import",
    "type",
    "enum",
    "model",
    "retry",
    "component",
    "agent",
    "workflow",
    "test",
];

/// The clause keys a step accepts, for `did you mean`.
pub(super) const CLAUSES: &[&str] = &[
    "model",
    "agent",
    "prompt",
    "system",
    "context",
    "retry",
    "timeout",
    "deadline",
    "check",
    "when",
    "on_error",
    "compensate",
    "after",
    "cache",
];

/// pest records the tokens it tried only when asked to, and recording slows
/// every parse, so it is turned on at the first syntax error and never off
/// again: every message is built by a parse that had it on.
pub(super) fn enable_detail() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| pest::set_error_detail(true));
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum TagKind {
    If,
    For,
    Else,
    End,
}

impl TagKind {
    fn written(self) -> &'static str {
        match self {
            TagKind::If => "{% if %}",
            TagKind::For => "{% for %}",
            TagKind::Else => "{% else %}",
            TagKind::End => "{% end %}",
        }
    }
}

/// What was nested too deeply ([`SyntaxError::TooDeep`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Nesting {
    /// Parentheses, blocks, operators, lists: the parse tree itself.
    Expression,
    /// `{% if %}` and `{% for %}` inside one another.
    Template,
    /// `[]`, `?` and `map<…>` around a type.
    Type,
}

/// Where a bad line was found, and so what it should have been.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Recovery {
    Item,
    Statement,
    Clause,
    Setting,
    Arm,
    Field,
    Variant,
    TestStmt,
}

impl Recovery {
    /// The rule that parses one such member on its own.
    pub fn rule(self) -> Rule {
        match self {
            Recovery::Item => Rule::item_entry,
            Recovery::Statement => Rule::statement_entry,
            Recovery::Clause => Rule::clause_entry,
            Recovery::Setting => Rule::setting,
            Recovery::Arm => Rule::match_arm,
            Recovery::Field => Rule::field_decl,
            Recovery::Variant => Rule::variant,
            Recovery::TestStmt => Rule::test_stmt_entry,
        }
    }

    fn expected(self) -> &'static str {
        match self {
            Recovery::Item => "a declaration",
            Recovery::Statement => "a statement",
            Recovery::Clause => "a step clause",
            Recovery::Setting => "a setting (`key = value`)",
            Recovery::Arm => "a match arm (`pattern => value`)",
            Recovery::Field => "a field (`name: type`)",
            Recovery::Variant => "an enum variant",
            Recovery::TestStmt => "`run`, `given` or `expect`",
        }
    }

    /// The words a member of this kind starts with, for `did you mean`.
    fn keywords(self) -> &'static [&'static str] {
        match self {
            Recovery::Item => DECLARATIONS,
            Recovery::Statement => &["step", "let", "loop", "return"],
            Recovery::Clause => CLAUSES,
            Recovery::TestStmt => &["run", "given", "expect"],
            Recovery::Setting | Recovery::Arm | Recovery::Field | Recovery::Variant => &[],
        }
    }

    fn help(self) -> String {
        match self {
            Recovery::Item => "a file holds `import`, `type`, `enum`, `model`, `retry`, \
                `component`, `agent`, `workflow` and `test` declarations"
                .to_string(),
            Recovery::Statement => "a workflow body holds `step`, `let` and `loop` statements, \
                then an optional `return`"
                .to_string(),
            Recovery::Clause => format!("a step's clauses are {}", suggest::one_of(CLAUSES)),
            Recovery::Setting => "settings are written `key = value`, separated by newlines \
                or commas"
                .to_string(),
            Recovery::Arm => "arms are written `variant => value`; `_ => value` covers \
                the rest"
                .to_string(),
            Recovery::Field => "fields are written `name: type`, as in `title: string`".to_string(),
            Recovery::Variant => "variants are names separated by commas or newlines".to_string(),
            Recovery::TestStmt => "a test holds `run workflow(…)`, `given step = value` and \
                `expect condition`"
                .to_string(),
        }
    }
}

/// Everything that can be wrong with the syntax of a file.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum SyntaxError {
    /// `model m { provider anthropic }`: a token the grammar did not expect.
    Unexpected {
        span: Span,
        expected: Vec<String>,
        found: String,
        context: Option<Recovery>,
    },
    /// `prompt = "never closed`
    UnterminatedString { open: Span, end: Span, triple: bool },
    /// `"Hello {{ name"`: `{{` or `{%` without its closing half.
    UnclosedDelimiter {
        open: Span,
        at: Span,
        opener: &'static str,
        close: &'static str,
    },
    /// `workflow w() { step a: string { … }` and then the file ends.
    UnclosedBrace { open: Span, at: Span, found: String },
    /// `let c = b +` and the line ends
    DanglingOperator { span: Span, op: String },
    /// `"\q"`
    BadEscape { span: Span },
    /// `30sec`, `5 m`'s cousin `5min`: digits run into letters.
    BadLiteral { span: Span, text: String },
    /// `modle = sonnet`, or `context = everything`: a key spesc does not
    /// have, or a known key with a value of the wrong form.
    UnknownClause {
        span: Span,
        key: String,
        value: String,
        value_span: Span,
    },
    /// `exec { comand = […] }`
    UnknownActionKey {
        span: Span,
        key: String,
        kind: ActionKind,
    },
    /// `exec { stdin = x }` without a `command`
    MissingActionKey {
        span: Span,
        key: &'static str,
        kind: ActionKind,
    },
    /// `step x: string = "text"`
    BadAction { span: Span },
    /// `default check … else …`
    NotADefault { span: Span },
    /// `level: int alias rank`: an alias is a string (`word`: the one
    /// written unquoted, if any)
    AliasWithoutName { span: Span, word: Option<String> },
    /// `import "{{ x }}.spes"`
    TemplateNotAllowed { span: Span, what: &'static str },
    /// `{% end %}` or `{% else %}` with nothing open
    StrayTag {
        span: Span,
        kind: TagKind,
        opener: Option<Span>,
    },
    /// `{% if x %}` never closed by `{% end %}`
    UnclosedTag { span: Span, kind: TagKind },
    /// `///` before something that is not documented
    MisplacedDoc { span: Span },
    /// `if ok { step x: string { … } } else { "" }`: a block's last
    /// member is not an expression.
    NoBlockValue { close: Span, last: Option<Span> },
    /// `deadline = 10m` after the first step
    SettingAfterStatement { span: Span },
    /// `99999999999999999999`
    NumberTooLarge { span: Span },
    /// nesting so deep the parser gives up
    TooDeep { span: Span, nesting: Nesting },
    /// the system refused the stack the parse needs (see `syntax::parse`)
    TooLarge { span: Span, stack_mib: usize },
    /// a builder met a tree the grammar should not produce
    Internal { span: Span, detail: String },
}

impl SyntaxError {
    /// Errors about one key or comment that the builder left out, with
    /// everything around it built: the checker can still check the file.
    pub fn leaves_the_rest_whole(&self) -> bool {
        matches!(
            self,
            SyntaxError::UnknownClause { .. }
                | SyntaxError::UnknownActionKey { .. }
                | SyntaxError::NotADefault { .. }
                | SyntaxError::MisplacedDoc { .. }
        )
    }

    /// Turns a pest failure into the most specific error it recognises.
    /// `offset` is where the parsed text starts inside `source` (recovery
    /// parses a suffix of the file again).
    pub fn from_pest(
        error: &PestError<Rule>,
        file: FileId,
        source: &str,
        offset: usize,
        context: Option<Recovery>,
    ) -> SyntaxError {
        let pos = offset
            + match error.location {
                InputLocation::Pos(p) => p,
                InputLocation::Span((p, _)) => p,
            };
        let pos = pos.min(source.len());
        let (rules, tokens) = attempts(error);
        let at = Span::new(file, pos, pos + token_len(source, pos));

        if source[pos..].starts_with('\\') && rules.iter().any(|r| is_string_text(*r)) {
            let len = 1 + source[pos + 1..].chars().next().map_or(0, char::len_utf8);
            return SyntaxError::BadEscape {
                span: Span::new(file, pos, pos + len),
            };
        }
        if rules.contains(&Rule::triple_text) && pos == source.len() {
            let open = source[offset..pos]
                .rfind("\"\"\"")
                .map_or(pos, |i| offset + i);
            return SyntaxError::UnterminatedString {
                open: Span::new(file, open, open + 3),
                end: at,
                triple: true,
            };
        }
        let at_line_end = source[pos..].starts_with(['\n', '\r']) || pos == source.len();
        if rules.contains(&Rule::line_text) && at_line_end {
            let line_start = source[..pos].rfind('\n').map_or(0, |i| i + 1);
            let open = source[line_start..pos]
                .rfind('"')
                .map_or(pos, |i| line_start + i);
            return SyntaxError::UnterminatedString {
                open: Span::new(file, open, open + 1),
                end: at,
                triple: false,
            };
        }
        for (opener, close) in [("{{", "}}"), ("{%", "%}")] {
            if tokens.iter().any(|t| t == close) {
                if let Some(i) = source[offset..pos].rfind(opener) {
                    let open = offset + i;
                    return SyntaxError::UnclosedDelimiter {
                        open: Span::new(file, open, open + 2),
                        at,
                        opener,
                        close,
                    };
                }
            }
        }
        // A `(` or `[` left open when its line ended.
        for (opener, close) in [("(", ")"), ("[", "]")] {
            if tokens.iter().any(|t| t == close) {
                let open = unmatched(
                    source,
                    offset,
                    pos,
                    opener.as_bytes()[0],
                    close.as_bytes()[0],
                );
                if let Some(open) = open.filter(|o| source[*o..pos].contains('\n')) {
                    return SyntaxError::UnclosedDelimiter {
                        open: Span::new(file, open, open + 1),
                        at,
                        opener,
                        close,
                    };
                }
            }
        }
        let word = &source[pos..pos + token_len(source, pos)];
        if word.starts_with(|c: char| c.is_ascii_digit()) && word.contains(char::is_alphabetic) {
            return SyntaxError::BadLiteral {
                span: at,
                text: word.to_string(),
            };
        }
        let found = describe(source, pos);
        let at_decl_or_end = pos == source.len() || starts_declaration(source, pos);
        if at_decl_or_end {
            if let Some(open) = unclosed_brace(source, offset, pos) {
                return SyntaxError::UnclosedBrace {
                    open: Span::new(file, open, open + 1),
                    at,
                    found,
                };
            }
        }
        let region_start = pos == offset;
        if let (true, Some(op)) = (region_start, operator_at(source, pos)) {
            return SyntaxError::DanglingOperator {
                span: Span::new(file, pos, pos + op.len()),
                op: op.to_string(),
            };
        }
        let mut expected: Vec<String> = Vec::new();
        // Where nothing of the member matched, the member itself is what was
        // expected; listing its first tokens would only add noise.
        if let (true, Some(context)) = (region_start, context) {
            expected.push(context.expected().to_string());
        } else {
            for rule in &rules {
                if let Some(p) = phrase(*rule) {
                    push_unique(&mut expected, p.to_string());
                }
            }
            for token in &tokens {
                push_unique(&mut expected, format!("`{token}`"));
            }
            tidy(&mut expected);
        }
        SyntaxError::Unexpected {
            span: at,
            expected,
            found,
            context: context.filter(|_| region_start),
        }
    }

    /// A bad line whose member parses fine on its own: what follows it on
    /// the line is the problem.
    pub fn from_recovery(file: FileId, source: &str, span: Span, context: Recovery) -> SyntaxError {
        let pos = span.start as usize;
        SyntaxError::Unexpected {
            span: Span::new(file, pos, pos + token_len(source, pos)),
            expected: vec![context.expected().to_string()],
            found: describe(source, pos),
            context: Some(context),
        }
    }
}
