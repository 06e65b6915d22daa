//! The wording for a step clause the parser could not take: a key spesc
//! does not have (often another workflow tool's word), or a known key whose
//! value is not of the form that clause takes.

use super::*;

/// The form of each clause value that can fail to parse (the others take
/// any expression), for "`context` takes …".
const VALUE_FORMS: &[(&str, &str)] = &[
    ("model", "a model's name, or a fallback chain: `model = fast | strong`"),
    ("agent", "an agent's name: `agent = reviewer`"),
    (
        "context",
        "`all`, `fresh`, a list of steps (`[outline, draft]`) or `summarized(max_tokens = 1500, model = m)`",
    ),
    (
        "retry",
        "a retry policy's name, or its settings: `retry = { attempts = 3 }`",
    ),
    (
        "compensate",
        "a command that undoes the step: `compensate = exec { command = [\"git\", \"tag\", \"-d\", \"v1\"] }`",
    ),
    ("after", "a list of steps: `after = [build, test]`"),
    ("check", "a condition and a message, with no `=`: `check len(this) > 0 else \"empty\"`"),
    ("when", "a condition, with no `=`: `when lang != \"\"`"),
];

/// The words a value of a clause may be (`context = all`), for did-you-mean.
const VALUE_WORDS: &[(&str, &[&str])] = &[("context", &["all", "fresh", "summarized"])];

const ORDER_BY_DATA: &str = "spesc orders steps by what they read: a step whose prompt mentions \
                             `{{ outline }}` runs after `outline`; for an order without data, \
                             write `after = [outline]`";

/// Words from other workflow tools, and how spesc says the same thing.
const OTHER_TOOLS: &[(&str, &str)] = &[
    ("depends_on", ORDER_BY_DATA),
    ("depends", ORDER_BY_DATA),
    ("dependencies", ORDER_BY_DATA),
    ("needs", ORDER_BY_DATA),
    (
        "components",
        "a component goes where its text belongs: interpolate it, \
         `prompt = \"{{ persona }} Review this change: …\"`",
    ),
    (
        "full_accumulation",
        "for every earlier step's output, write `context = all`",
    ),
    (
        "selective_handoff",
        "for the outputs of chosen steps, write `context = [outline, draft]`",
    ),
    (
        "no_context",
        "for no earlier output, write `context = fresh`",
    ),
];

fn other_tool(word: &str) -> Option<&'static str> {
    OTHER_TOOLS
        .iter()
        .find(|(w, _)| *w == word)
        .map(|(_, help)| *help)
}

pub(super) fn unknown_clause(span: Span, key: &str, value: &str, value_span: Span) -> Diagnostic {
    let d = |message: String| Diagnostic::new(Code::E0001, message);
    if let Some(form) = VALUE_FORMS.iter().find(|(k, _)| *k == key).map(|(_, f)| *f) {
        let word = value.trim();
        let words = VALUE_WORDS
            .iter()
            .find(|(k, _)| *k == key)
            .map_or(&[][..], |(_, w)| *w);
        let diagnostic = d(format!("invalid value for `{key}`"))
            .primary(value_span, format!("not a value `{key}` takes"))
            .secondary(span, format!("this is the `{key}` clause"))
            .note(format!("`{key}` takes {form}"));
        if key == "model" && word.starts_with('"') {
            return diagnostic.help(format!(
                "a step names a declared model: declare `model m {{ provider = openai  name = {word} }}` and write `model = m`"
            ));
        }
        return match (
            other_tool(word),
            suggest::similar(word, words.iter().copied()).as_slice(),
        ) {
            (Some(help), _) => diagnostic.help(help),
            (None, []) => diagnostic,
            (None, close) => diagnostic.help(format!("did you mean {}?", suggest::one_of(close))),
        };
    }
    let diagnostic = d(format!("unknown step clause `{key}`")).primary(span, "not a step clause");
    if let Some(help) = other_tool(key).or_else(|| other_tool(value.trim())) {
        return diagnostic.help(help);
    }
    match suggest::similar(key, CLAUSES.iter().copied()).as_slice() {
        [] => diagnostic.help(format!("a step's clauses are {}", suggest::one_of(CLAUSES))),
        close => diagnostic.help(format!("did you mean {}?", suggest::one_of(close))),
    }
}
