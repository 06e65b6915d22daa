//! Every syntax error's wording: message, labels, notes and help.

use super::*;

impl SyntaxError {
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
            SyntaxError::UnknownClause {
                span,
                key,
                value,
                value_span,
            } => clauses::unknown_clause(*span, key, value, *value_span),
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
            SyntaxError::AliasWithoutName { span, word } => {
                let diagnostic = d("`alias` needs the name in quotes".to_string());
                match word {
                    Some(word) => diagnostic
                        .primary(*span, "the name is not quoted")
                        .help(format!("write `alias \"{word}\"`")),
                    None => diagnostic
                        .primary(*span, "expected a string after `alias`")
                        .help("write `alias \"name\"`; a member named `alias` needs a comma or a `:` after it"),
                }
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
            SyntaxError::NoBlockValue { close, last } => {
                let diagnostic = d("this block has no value".to_string())
                    .primary(*close, "expected the block's value before this `}`");
                match last {
                    Some(last) => diagnostic.secondary(*last, "the block ends with this statement"),
                    None => diagnostic,
                }
                .note("a block's value is the expression it ends with")
                .help("write the value last: `{ step a: string { … }  a }`")
            }
            SyntaxError::TooDeep { span, nesting } => too_deep(*span, *nesting),
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

fn too_deep(span: Span, nesting: Nesting) -> Diagnostic {
    let d = |message: &str| Diagnostic::new(Code::E0001, message.to_string());
    match nesting {
        Nesting::Expression => d("expression nested too deeply")
            .primary(span, "the parser gives up here")
            .note("spesc accepts about 500 levels of nesting and 128 operators in one expression")
            .help("split it with `let` bindings"),
        Nesting::Template => d("template tags nested too deeply")
            .primary(span, "this tag is one level too many")
            .note(
                "spesc accepts about 500 levels of nesting; each open `{% if %}` or \
                 `{% for %}` is one, and so is whatever it sits in",
            )
            .help("build the inner part in a `let` and interpolate it with `{{ … }}`"),
        Nesting::Type => d("type nested too deeply")
            .primary(span, "this is one level too many")
            .note("spesc accepts 32 levels of `[]`, `?` and `map<…>` in one type")
            .help("no real type needs this many: remove the extra ones, or give an inner part a `type` of its own"),
    }
}
