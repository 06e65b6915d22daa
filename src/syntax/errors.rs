//! Syntax errors: facts first, wording in one place.
//!
//! Every variant is an `E0001` diagnostic. [`SyntaxError::from_pest`] turns a
//! pest failure into the most specific fact it can recognise (an
//! unterminated string, an unclosed `{{`, a `{` never closed) before falling
//! back to "expected …, found …"; [`SyntaxError::to_diagnostic`] owns every
//! message, label and help.

use std::collections::BTreeSet;
use std::sync::Once;

use pest::error::{Error as PestError, ErrorVariant, InputLocation};

use super::build::ActionKind;
use super::parser::Rule;
use super::rule_names::phrase;
use crate::diagnostic::{Code, Diagnostic};
use crate::source::{FileId, Span};
use crate::suggest;

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
    /// `modle = sonnet`
    UnknownClause { span: Span, key: String },
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
    /// `deadline = 10m` after the first step
    SettingAfterStatement { span: Span },
    /// `99999999999999999999`
    NumberTooLarge { span: Span },
    /// nesting so deep the parser gives up
    TooDeep { span: Span },
    /// the system refused the stack the parse needs (see `syntax::parse`)
    TooLarge { span: Span, stack_mib: usize },
    /// a builder met a tree the grammar should not produce
    Internal { span: Span, detail: String },
}

impl SyntaxError {
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

    pub fn to_diagnostic(&self) -> Diagnostic {
        let d = |message: String| Diagnostic::new(Code::E0001, message);
        match self {
            SyntaxError::Unexpected {
                span,
                expected,
                found,
                context,
            } => {
                let list = or_list(expected);
                let diagnostic = d(format!("expected {list}, found {found}"))
                    .primary(*span, format!("expected {list}"));
                let Some(context) = context else {
                    return diagnostic;
                };
                let word = found.trim_matches('`');
                match suggest::similar(word, context.keywords().iter().copied()).as_slice() {
                    [] => diagnostic.help(context.help()),
                    close => diagnostic.help(format!("did you mean {}?", suggest::one_of(close))),
                }
            }
            SyntaxError::UnterminatedString { open, end, triple } => {
                let (quote, what) = if *triple {
                    ("\"\"\"", "multi-line string")
                } else {
                    ("\"", "string")
                };
                let diagnostic = d(format!("unterminated {what}"))
                    .primary(*open, format!("this {what} is never closed"));
                if *triple {
                    diagnostic.secondary(
                        *end,
                        format!("the file ends here without a closing `{quote}`"),
                    )
                } else {
                    diagnostic.help(
                        "a `\"` string ends on its line; use `\"\"\"` for text over several lines",
                    )
                }
            }
            SyntaxError::UnclosedDelimiter {
                open,
                at,
                opener,
                close,
            } => {
                let diagnostic = d(format!("unclosed `{opener}`"))
                    .primary(*open, format!("this `{opener}` has no matching `{close}`"))
                    .secondary(*at, format!("expected `{close}` before this"));
                if opener.starts_with('{') {
                    diagnostic.help(format!("write `\\{opener}` for a literal `{opener}`"))
                } else {
                    diagnostic
                }
            }
            SyntaxError::UnclosedBrace { open, at, found } => d("unclosed `{`".to_string())
                .primary(*open, "this `{` is never closed")
                .secondary(*at, format!("expected `}}` before {found}")),
            SyntaxError::BadLiteral { span, text } => {
                d(format!("invalid number or duration `{text}`"))
                    .primary(*span, "not a number, duration or percentage")
                    .help(
                        "durations are a number and a unit: `250ms`, `30s`, `1.5m`, `1h`; \
                       percentages end in `%`: `10%`",
                    )
            }
            SyntaxError::DanglingOperator { span, op } => {
                d(format!("expected an expression after `{op}`"))
                    .primary(*span, "this operator has nothing on its right")
                    .help(
                        "an expression continues on the next line only after an operator; \
                           finish it on this line or remove the operator",
                    )
            }
            SyntaxError::BadEscape { span } => d("unknown escape sequence".to_string())
                .primary(*span, "not an escape spesc knows")
                .help(
                    r#"the escapes are `\\`, `\"`, `\n`, `\t`, `\r` and `\{` (for a literal `{{`)"#,
                ),
            SyntaxError::UnknownClause { span, key } => {
                let diagnostic =
                    d(format!("unknown step clause `{key}`")).primary(*span, "not a step clause");
                match suggest::similar(key, CLAUSES.iter().copied()).as_slice() {
                    [] => diagnostic
                        .help(format!("a step's clauses are {}", suggest::one_of(CLAUSES))),
                    close => diagnostic.help(format!("did you mean {}?", suggest::one_of(close))),
                }
            }
            SyntaxError::UnknownActionKey { span, key, kind } => {
                let diagnostic = d(format!("unknown `{}` setting `{key}`", kind.keyword()))
                    .primary(*span, format!("not a setting of `{}`", kind.keyword()));
                let clauses: &[&str] = if kind.takes_clauses() { CLAUSES } else { &[] };
                let known = kind.keys().iter().chain(clauses).copied();
                let diagnostic = match suggest::similar(key, known).as_slice() {
                    [] => diagnostic.help(format!(
                        "`{}` takes {}",
                        kind.keyword(),
                        suggest::one_of(kind.keys())
                    )),
                    close => diagnostic.help(format!("did you mean {}?", suggest::one_of(close))),
                };
                if kind.takes_clauses() {
                    diagnostic.note("the step's clauses (`timeout`, `retry`, `after`, `when`, `check`, `compensate`…) go in this block too")
                } else {
                    diagnostic
                }
            }
            SyntaxError::MissingActionKey { span, key, kind } => {
                d(format!("`{}` needs a `{key}`", kind.keyword()))
                    .primary(*span, format!("no `{key}` in this block"))
            }
            SyntaxError::BadAction { span } => {
                d("expected `call`, `exec`, `fetch` or `ask` after `=`".to_string())
                    .primary(*span, "a step's `=` introduces what it runs")
                    .help(
                        "an LLM step has no `=`: `step s: T { model = m  prompt = \"…\" }`; \
                       use `let` for a computed value",
                    )
            }
            SyntaxError::NotADefault { span } => d(
                "this clause cannot be a workflow default".to_string()
            )
            .primary(*span, "not allowed after `default`")
            .help(
                "`default` takes `model`, `agent`, `system`, `context`, `retry`, `timeout`, \
                       `deadline` and `cache`; write `check`, `when` and the others on each step",
            ),
            SyntaxError::TemplateNotAllowed { span, what } => {
                d(format!("{what} cannot use `{{{{ }}}}` or `{{% %}}`"))
                    .primary(*span, format!("{what} must be plain text"))
            }
            SyntaxError::StrayTag { span, kind, opener } => {
                let diagnostic = d(format!(
                    "`{}` without a matching opening tag",
                    kind.written()
                ))
                .primary(*span, "nothing to close here");
                match (kind, opener) {
                    (TagKind::Else, Some(open)) => diagnostic
                        .secondary(*open, "this block cannot take an `{% else %}`")
                        .note("`{% else %}` belongs to `{% if %}`, once"),
                    (TagKind::Else, None) => {
                        diagnostic.note("`{% else %}` belongs inside `{% if %}`")
                    }
                    _ => diagnostic.help(
                        "remove it, or open the block with `{% if … %}` or `{% for … in … %}`",
                    ),
                }
            }
            SyntaxError::UnclosedTag { span, kind } => {
                d(format!("`{}` without `{{% end %}}`", kind.written()))
                    .primary(*span, "this block is never closed")
                    .help("close it with `{% end %}` inside the same string")
            }
            SyntaxError::MisplacedDoc { span } => d("doc comment documents nothing".to_string())
                .primary(
                    *span,
                    "a `///` comment must come before a declaration, step, `let` or `loop`",
                )
                .help("use `//` for an ordinary comment"),
            SyntaxError::SettingAfterStatement { span } => {
                d("workflow setting after the first statement".to_string())
                    .primary(*span, "move this above the first `step`, `let` or `loop`")
                    .note("`deadline`, `max_concurrency` and `default …` open a workflow body")
            }
            SyntaxError::NumberTooLarge { span } => d("number too large".to_string())
                .primary(*span, "does not fit")
                .note("integers are 64-bit; durations may be at most about 30,000 years"),
            SyntaxError::TooDeep { span } => d("expression nested too deeply".to_string())
                .primary(*span, "the parser gives up here")
                .note(
                    "spesc accepts about 500 levels of nesting and 128 operators in one expression",
                )
                .help("split it with `let` bindings"),
            SyntaxError::TooLarge { span, stack_mib } => d("file too large to parse".to_string())
                .primary(*span, "in this file")
                .note(format!(
                    "parsing it safely needs {stack_mib} MiB of stack, which the system refused"
                ))
                .help("split it into several files joined with `import`"),
            SyntaxError::Internal { span, detail } => d("internal parser error".to_string())
                .primary(*span, detail.clone())
                .note("this is a bug in spesc; please report it with this file"),
        }
    }
}

/// The rules and literal tokens pest tried at the error position.
fn attempts(error: &PestError<Rule>) -> (Vec<Rule>, Vec<String>) {
    let mut rules: Vec<Rule> = match &error.variant {
        ErrorVariant::ParsingError { positives, .. } => positives.clone(),
        ErrorVariant::CustomError { .. } => Vec::new(),
    };
    let mut tokens = BTreeSet::new();
    if let Some(attempts) = error.parse_attempts() {
        for stack in attempts.call_stacks() {
            rules.extend(stack.deepest.get_rule().copied());
        }
        // Ranges print as `a..z` and keywords are letters: both are left out.
        for token in attempts.expected_tokens() {
            let token = token.to_string();
            if is_punctuation(&token) {
                tokens.insert(token);
            }
        }
    }
    rules.sort_by_key(|r| *r as usize);
    rules.dedup();
    (rules, tokens.into_iter().collect())
}

/// Tokens worth listing: punctuation, not the start of a comment or space,
/// nor a character range (the grammar's `'a'..'z'`, which print as such).
fn is_punctuation(token: &str) -> bool {
    let is_range = token.chars().count() == 4 && token.chars().skip(1).take(2).eq("..".chars());
    !token.is_empty()
        && !is_range
        && !token
            .chars()
            .any(|c| c.is_alphanumeric() || c.is_whitespace() || c == '_')
        && !token.starts_with("//")
}

fn is_string_text(rule: Rule) -> bool {
    matches!(rule, Rule::line_text | Rule::triple_text | Rule::escape)
}

/// Puts the most telling alternatives first: keywords and punctuation, then
/// descriptions. After a complete expression, "an operator" already says
/// that it could go on; "an expression" there only confuses.
fn tidy(expected: &mut Vec<String>) {
    let is_operator = |e: &String| OPERATORS.iter().any(|op| e.trim_matches('`') == *op);
    if expected.iter().any(is_operator) {
        expected.retain(|e| !is_operator(e));
        push_unique(expected, "an operator".to_string());
    }
    if expected.iter().any(|e| e == "an operator") {
        expected.retain(|e| e != "an expression");
    }
    expected.sort_by_key(|e| !e.starts_with('`'));
}

fn push_unique(list: &mut Vec<String>, item: String) {
    if !list.contains(&item) {
        list.push(item);
    }
}

/// `a`, `a or b`, `a, b or c`; long lists are cut.
fn or_list(items: &[String]) -> String {
    const MOST: usize = 5;
    let mut items: Vec<&str> = items.iter().map(String::as_str).collect();
    if items.is_empty() {
        return "something else".to_string();
    }
    items.truncate(MOST);
    match items.split_last() {
        Some((last, [])) => last.to_string(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => String::new(),
    }
}

/// How the text at `pos` reads in "found …".
fn describe(source: &str, pos: usize) -> String {
    let rest = &source[pos..];
    match rest.chars().next() {
        None => "end of file".to_string(),
        Some('\n' | '\r') => "end of line".to_string(),
        Some('"') => "a string".to_string(),
        Some(_) => {
            let word = &rest[..token_len(source, pos)];
            if RESERVED.contains(&word) {
                format!("the reserved word `{word}`")
            } else {
                format!("`{word}`")
            }
        }
    }
}

/// Binary operators, longest first so `<=` is not read as `<`.
const OPERATORS: &[&str] = &[
    "??", "==", "!=", "<=", ">=", "<", ">", "+", "-", "*", "/", "%", "and", "or",
];

/// The binary operator at `pos`, if one stands there.
fn operator_at(source: &str, pos: usize) -> Option<&'static str> {
    let rest = &source[pos..];
    OPERATORS.iter().copied().find(|op| {
        rest.starts_with(op)
            && !(op.chars().all(char::is_alphabetic)
                && rest[op.len()..].starts_with(|c: char| c.is_alphanumeric() || c == '_'))
    })
}

/// Words that can never name anything (the grammar's `RESERVED`).
const RESERVED: &[&str] = &[
    "and", "else", "false", "for", "if", "in", "let", "loop", "match", "not", "return", "step",
    "true",
];

/// The length of the word or character at `pos` (0 at a line end or the end).
fn token_len(source: &str, pos: usize) -> usize {
    let rest = &source[pos..];
    if rest.starts_with(['\n', '\r']) {
        return 0;
    }
    let word = rest
        .char_indices()
        .find(|(_, c)| !(c.is_alphanumeric() || *c == '_'))
        .map_or(rest.len(), |(i, _)| i);
    if word > 0 {
        word
    } else {
        rest.chars().next().map_or(0, char::len_utf8)
    }
}

/// A top-level declaration keyword at the start of a line.
fn starts_declaration(source: &str, pos: usize) -> bool {
    let line_start = pos == 0 || source[..pos].ends_with('\n');
    let keyword = DECLARATIONS
        .iter()
        .chain(&["///"])
        .any(|k| source[pos..].starts_with(k));
    line_start && keyword
}

/// The `{` in `source[from..to]` that was most likely never closed. Counting
/// alone cannot tell which brace is missing its `}`; indentation can: a `}`
/// that starts its line closes the brace opened on a line indented the same,
/// and any brace opened deeper in between is the one left open.
fn unclosed_brace(source: &str, from: usize, to: usize) -> Option<usize> {
    let mut open: Vec<(usize, usize)> = Vec::new(); // (offset, indent of its line)
    let mut skipped = Vec::new();
    for at in code_offsets(source, from, to) {
        match source.as_bytes()[at] {
            b'{' => open.push((at, indent_at(source, at))),
            b'}' => {
                let starts_line = line_prefix(source, at).trim().is_empty();
                let indent = indent_at(source, at);
                while starts_line && open.last().is_some_and(|(_, inner)| *inner > indent) {
                    skipped.extend(open.pop().map(|(at, _)| at));
                }
                open.pop();
            }
            _ => {}
        }
    }
    skipped
        .first()
        .copied()
        .or_else(|| open.pop().map(|(at, _)| at))
}

/// The last `opener` in `source[from..to]` without its `close`.
fn unmatched(source: &str, from: usize, to: usize, opener: u8, close: u8) -> Option<usize> {
    let mut open = Vec::new();
    for at in code_offsets(source, from, to) {
        let byte = source.as_bytes()[at];
        if byte == opener {
            open.push(at);
        } else if byte == close {
            open.pop();
        }
    }
    open.pop()
}

/// Offsets of the characters in `source[from..to]` that are code: outside
/// strings and comments, so brackets there mean structure.
fn code_offsets(source: &str, from: usize, to: usize) -> Vec<usize> {
    let text = &source[from..to];
    let mut out = Vec::new();
    let mut i = 0;
    while i < text.len() {
        let rest = &text[i..];
        if rest.starts_with("//") {
            i += rest.find('\n').unwrap_or(rest.len());
        } else if let Some(after) = rest.strip_prefix("\"\"\"") {
            i += 3 + after.find("\"\"\"").map_or(after.len(), |j| j + 3);
        } else if let Some(after) = rest.strip_prefix('"') {
            i += 1 + string_end(after);
        } else {
            out.push(from + i);
            i += rest.chars().next().map_or(1, char::len_utf8);
        }
    }
    out
}

/// The text between the start of the line and `pos`.
fn line_prefix(source: &str, pos: usize) -> &str {
    let start = source[..pos].rfind('\n').map_or(0, |i| i + 1);
    &source[start..pos]
}

/// The indentation of the line holding `pos`.
fn indent_at(source: &str, pos: usize) -> usize {
    let start = source[..pos].rfind('\n').map_or(0, |i| i + 1);
    let line = &source[start..];
    line.len() - line.trim_start_matches([' ', '\t']).len()
}

/// Bytes up to and including the closing `"` of a one-line string.
fn string_end(rest: &str) -> usize {
    let mut escaped = false;
    for (i, c) in rest.char_indices() {
        match c {
            '\\' if !escaped => escaped = true,
            '"' if !escaped => return i + 1,
            '\n' => return i,
            _ => escaped = false,
        }
    }
    rest.len()
}
