//! Files the program is made of: imports and component files.

use crate::diagnostic::{Code, Diagnostic};
use crate::source::Span;
use crate::suggest;

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum FileProblem {
    /// E0103: an import names a file that cannot be read.
    ImportUnreadable {
        at: Span,
        path: String,
        reason: String,
    },
    /// E0103: an import that leaves the project directory (the root
    /// file's), links resolved.
    ImportOutside {
        at: Span,
        path: String,
        project: String,
    },
    /// E0103: files that import each other; `links` are the imports that
    /// close the cycle (where, and the file imported), `files` its names.
    ImportCycle {
        links: Vec<(Span, String)>,
        files: Vec<String>,
    },
    /// E0104: a component path that leaves the project directory.
    ComponentOutside {
        at: Span,
        path: String,
        project: String,
    },
    /// E0104
    ComponentUnreadable {
        at: Span,
        path: String,
        reason: String,
    },
    /// E0104: front matter that does not parse (`line` is 1-based).
    FrontMatter {
        at: Span,
        path: String,
        /// Every problem, by line.
        problems: Vec<(usize, String)>,
    },
    /// W0509: front matter keys spesc does not know (by line).
    UnknownFrontMatterKeys {
        at: Span,
        path: String,
        keys: Vec<(usize, String)>,
    },
    /// W0503: a component file longer than its own `context_budget`.
    OverBudget {
        at: Span,
        component: String,
        tokens: u64,
        budget: u64,
    },
}

impl FileProblem {
    pub fn to_diagnostic(&self) -> Diagnostic {
        match self {
            FileProblem::ImportUnreadable { at, path, reason } => {
                Diagnostic::new(Code::E0103, format!("cannot import `{path}`"))
                    .primary(*at, "this file cannot be read")
                    .note(reason.clone())
                    .help("import paths are relative to the importing file")
            }
            FileProblem::ImportOutside { at, path, project } => Diagnostic::new(
                Code::E0103,
                format!("import `{path}` is outside the project"),
            )
            .primary(*at, "this path leaves the project directory")
            .note(format!("the project directory is `{project}`"))
            .help("keep imported files under the directory of the file `spesc` was given"),
            FileProblem::ImportCycle { links, files } => {
                let links: Vec<(Span, String)> = links
                    .iter()
                    .map(|(at, to)| (*at, format!("imports `{to}`")))
                    .collect();
                super::label_chain(Diagnostic::new(Code::E0103, "import cycle"), &links)
                    .note(format!("the cycle: {}", files.join(" → ")))
                    .help("move what both files need into a third file that imports neither")
            }
            FileProblem::ComponentOutside { at, path, project } => Diagnostic::new(
                Code::E0104,
                format!("component file `{path}` is outside the project"),
            )
            .primary(*at, "this path leaves the project directory")
            .note(format!("the project directory is `{project}`"))
            .help("keep components under the directory of the `.spes` file"),
            FileProblem::ComponentUnreadable { at, path, reason } => Diagnostic::new(
                Code::E0104,
                format!("component file `{path}` cannot be read"),
            )
            .primary(*at, "no readable file here")
            .note(reason.clone())
            .help("paths are relative to the `.spes` file that names them"),
            FileProblem::FrontMatter { at, path, problems } => {
                let mut diagnostic =
                    Diagnostic::new(Code::E0104, format!("invalid front matter in `{path}`"))
                        .primary(*at, "in this file");
                for (line, problem) in problems {
                    diagnostic = diagnostic.note(format!("line {line}: {problem}"));
                }
                diagnostic.note(format!(
                    "front matter keys: {}; `type` is one of {}",
                    suggest::all_of(crate::check::components::KEYS),
                    suggest::one_of(crate::check::components::KINDS)
                ))
            }
            FileProblem::UnknownFrontMatterKeys { at, path, keys } => {
                let names: Vec<&str> = keys.iter().map(|(_, k)| k.as_str()).collect();
                let mut diagnostic = Diagnostic::new(
                    Code::W0509,
                    format!(
                        "front matter of `{path}` has {} spesc does not know: {}",
                        if keys.len() == 1 { "a key" } else { "keys" },
                        suggest::all_of(&names)
                    ),
                )
                .primary(*at, "in this file");
                for (line, key) in keys {
                    let known = crate::check::components::KEYS.iter().copied();
                    diagnostic = match suggest::did_you_mean(key, known) {
                        Some(fix) => diagnostic.note(format!("line {line}: `{key}`: {fix}")),
                        None => diagnostic,
                    };
                }
                diagnostic
                    .note(format!(
                        "spesc reads {}; other keys are ignored",
                        suggest::all_of(crate::check::components::KEYS)
                    ))
                    .help("remove the key, or keep it if another tool reads it")
            }
            FileProblem::OverBudget {
                at,
                component,
                tokens,
                budget,
            } => Diagnostic::new(
                Code::W0503,
                format!("component `{component}` is over its context budget"),
            )
            .primary(*at, format!("about {tokens} tokens"))
            .note(format!("its front matter sets `context_budget: {budget}`"))
            .help("shorten the text, or raise the budget"),
        }
    }
}
