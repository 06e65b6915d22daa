//! Reading the source around a syntax error: what token is there, which
//! bracket was never closed, where a line or a string ends.

use super::*;

/// The rules and literal tokens pest tried at the error position.
pub(super) fn attempts(error: &PestError<Rule>) -> (Vec<Rule>, Vec<String>) {
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
pub(super) fn is_punctuation(token: &str) -> bool {
    let is_range = token.chars().count() == 4 && token.chars().skip(1).take(2).eq("..".chars());
    !token.is_empty()
        && !is_range
        && !token
            .chars()
            .any(|c| c.is_alphanumeric() || c.is_whitespace() || c == '_')
        && !token.starts_with("//")
}

pub(super) fn is_string_text(rule: Rule) -> bool {
    matches!(rule, Rule::line_text | Rule::triple_text | Rule::escape)
}

/// Puts the most telling alternatives first: keywords and punctuation, then
/// descriptions. After a complete expression, "an operator" already says
/// that it could go on; "an expression" there only confuses.
pub(super) fn tidy(expected: &mut Vec<String>) {
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

pub(super) fn push_unique(list: &mut Vec<String>, item: String) {
    if !list.contains(&item) {
        list.push(item);
    }
}

/// `a`, `a or b`, `a, b or c`; long lists are cut.
pub(super) fn or_list(items: &[String]) -> String {
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
pub(super) fn describe(source: &str, pos: usize) -> String {
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
pub(super) fn operator_at(source: &str, pos: usize) -> Option<&'static str> {
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
pub(super) fn token_len(source: &str, pos: usize) -> usize {
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
pub(super) fn starts_declaration(source: &str, pos: usize) -> bool {
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
pub(super) fn unclosed_brace(source: &str, from: usize, to: usize) -> Option<usize> {
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
pub(super) fn unmatched(
    source: &str,
    from: usize,
    to: usize,
    opener: u8,
    close: u8,
) -> Option<usize> {
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
pub(super) fn code_offsets(source: &str, from: usize, to: usize) -> Vec<usize> {
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
pub(super) fn line_prefix(source: &str, pos: usize) -> &str {
    let start = source[..pos].rfind('\n').map_or(0, |i| i + 1);
    &source[start..pos]
}

/// The indentation of the line holding `pos`.
pub(super) fn indent_at(source: &str, pos: usize) -> usize {
    let start = source[..pos].rfind('\n').map_or(0, |i| i + 1);
    let line = &source[start..];
    line.len() - line.trim_start_matches([' ', '\t']).len()
}

/// Bytes up to and including the closing `"` of a one-line string.
pub(super) fn string_end(rest: &str) -> usize {
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
