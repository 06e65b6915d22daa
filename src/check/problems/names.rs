//! Names: unknown, defined twice, never used.

use crate::diagnostic::{Code, Diagnostic};
use crate::lang::functions;
use crate::source::Span;
use crate::suggest;

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum NameProblem {
    /// E0101: `name` is not a `noun` in scope (`noun` is "name" for a plain
    /// name in an expression); `candidates` are those that are.
    Unknown {
        at: Span,
        noun: &'static str,
        name: String,
        candidates: Vec<String>,
    },
    /// E0101: a call of a function that is not built in.
    UnknownFunction { at: Span, name: String },
    /// E0101: a `match` arm naming a variant the enum does not have.
    UnknownVariant {
        at: Span,
        subject: String,
        variant: String,
        variants: Vec<String>,
    },
    /// E0202: `name` is a `found` (declared at `declared`) where a `noun`
    /// is expected.
    NotA {
        at: Span,
        name: String,
        noun: &'static str,
        found: &'static str,
        declared: Span,
    },
    /// E0102: two declarations share a name (one namespace, imports
    /// included).
    Duplicate {
        at: Span,
        name: String,
        noun: &'static str,
        first: Span,
        first_noun: &'static str,
    },
    /// E0102: a type declared with a built-in type's name.
    RedefinesBuiltin {
        at: Span,
        name: String,
        builtin: String,
    },
    /// E0102: a name twice in one list (`what`: field, variant, parameter…).
    DuplicateIn {
        at: Span,
        what: &'static str,
        name: String,
        first: Span,
    },
    /// E0102: an alias another name of the same record or enum already
    /// answers to (`taken_by`: "field `level`", "an alias of `x`").
    AliasTaken {
        at: Span,
        alias: String,
        of: String,
        owner: String,
        first: Span,
        taken_by: String,
    },
    /// E0102: a clause that may be written once, written twice.
    DuplicateClause {
        at: Span,
        key: &'static str,
        first: Span,
    },
    /// W0502: a declaration nothing uses.
    Unused {
        at: Span,
        noun: &'static str,
        name: String,
    },
}

impl NameProblem {
    pub fn to_diagnostic(&self) -> Diagnostic {
        match self {
            NameProblem::Unknown {
                at,
                noun,
                name,
                candidates,
            } => {
                let label = match *noun {
                    "name" => "not found in this scope".to_string(),
                    noun => format!("no {noun} has this name"),
                };
                let d = Diagnostic::new(Code::E0101, format!("unknown {noun} `{name}`"))
                    .primary(*at, label);
                with_suggestion(d, name, candidates.iter().map(String::as_str))
            }
            NameProblem::UnknownFunction { at, name } => {
                let names: Vec<&str> = functions::names().collect();
                let d = Diagnostic::new(Code::E0101, format!("unknown function `{name}`"))
                    .primary(*at, "not a built-in function")
                    .note(format!("functions: {}", suggest::one_of(&names)));
                with_suggestion(d, name, functions::names())
            }
            NameProblem::UnknownVariant {
                at,
                subject,
                variant,
                variants,
            } => {
                let all: Vec<&str> = variants.iter().map(String::as_str).collect();
                let d = Diagnostic::new(
                    Code::E0101,
                    format!("`{subject}` has no variant `{variant}`"),
                )
                .primary(*at, "unknown variant")
                .note(format!("`{subject}` has {}", suggest::all_of(&all)));
                with_suggestion(d, variant, all.iter().copied())
            }
            NameProblem::NotA {
                at,
                name,
                noun,
                found,
                declared,
            } => Diagnostic::new(
                Code::E0202,
                format!("expected {}, found {found} `{name}`", suggest::a(noun)),
            )
            .primary(*at, format!("expected {}", suggest::a(noun)))
            .secondary(*declared, format!("`{name}` is {}", suggest::a(found))),
            NameProblem::Duplicate {
                at,
                name,
                noun,
                first,
                first_noun,
            } => Diagnostic::new(Code::E0102, format!("`{name}` is defined more than once"))
                .primary(*at, format!("{noun} `{name}` defined again here"))
                .secondary(*first, format!("first defined here as a {first_noun}"))
                .note("models, types, components, agents and workflows share one namespace, imports included")
                .help("rename one of them"),
            NameProblem::RedefinesBuiltin { at, name, builtin } => {
                Diagnostic::new(Code::E0102, format!("`{name}` is already a built-in type"))
                    .primary(*at, format!("redefines the built-in `{builtin}`"))
                    .help("choose another name")
            }
            NameProblem::DuplicateIn {
                at,
                what,
                name,
                first,
            } => Diagnostic::new(
                Code::E0102,
                format!("{what} `{name}` is defined more than once"),
            )
            .primary(*at, "defined again here")
            .secondary(*first, "first defined here")
            .help("rename one of them"),
            NameProblem::AliasTaken {
                at,
                alias,
                of,
                owner,
                first,
                taken_by,
            } => Diagnostic::new(
                Code::E0102,
                format!("alias `{alias}` is already a name in `{owner}`"),
            )
            .primary(*at, format!("alias of `{of}`"))
            .secondary(*first, format!("already {taken_by}"))
            .note("a reply's names are read by name or alias, in any case, so each must name one thing")
            .help("remove the alias, or choose another"),
            NameProblem::DuplicateClause { at, key, first } => {
                Diagnostic::new(Code::E0102, format!("`{key}` is written twice"))
                    .primary(*at, "written again here")
                    .secondary(*first, "first written here")
                    .note(format!("only one `{key}` can apply"))
                    .help("keep one of them")
            }
            NameProblem::Unused { at, noun, name } => {
                Diagnostic::new(Code::W0502, format!("{noun} `{name}` is never used"))
                    .primary(*at, "declared here")
                    .help(format!(
                        "remove it, or prefix the name with `_` to keep it (`_{name}`)"
                    ))
            }
        }
    }
}

/// Adds "did you mean …?" when a candidate is close to what was written.
pub(super) fn with_suggestion<'c>(
    diagnostic: Diagnostic,
    written: &str,
    candidates: impl IntoIterator<Item = &'c str>,
) -> Diagnostic {
    match suggest::did_you_mean(written, candidates) {
        Some(help) => diagnostic.help(help),
        None => diagnostic,
    }
}
