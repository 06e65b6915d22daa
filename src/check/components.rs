//! Component files: present, inside the project, with valid front matter
//! (E0104; unknown keys are W0509), and within their own `context_budget`
//! (W0503).

use std::path::Path;

use super::decls::DeclKind;
use super::problems::FileProblem;
use super::Checker;
use crate::source::FileId;
use crate::syntax::ast::{ComponentSource, PlainString};

pub(super) const KEYS: &[&str] = &["title", "type", "version", "tags", "context_budget"];
pub(super) const KINDS: &[&str] = &["instruction", "persona", "format", "constraint"];

/// A component's text, after its front matter.
#[derive(Debug, Default, PartialEq)]
pub struct ComponentFile {
    pub body: String,
    pub context_budget: Option<u64>,
}

pub use crate::lang::model::estimate_tokens;

impl<'a> Checker<'a> {
    /// Checks every component and keeps its text for the checked program
    /// (a file that cannot be read keeps an empty text: it is an error).
    pub(super) fn check_components(&mut self) {
        let components: Vec<(usize, FileId, &'a crate::syntax::ast::ComponentDecl)> = self
            .decls
            .all
            .iter()
            .enumerate()
            .filter_map(|(id, d)| match d.kind {
                DeclKind::Component(c) => Some((id, d.file, c)),
                _ => None,
            })
            .collect();
        for (id, decl_file, component) in components {
            let text = match &component.source {
                ComponentSource::Inline(template) => template.as_plain().unwrap_or_default(),
                ComponentSource::File(path) => {
                    let Some(file) = self.program.file(decl_file) else {
                        continue;
                    };
                    let base = file.path.parent().unwrap_or(Path::new(""));
                    match self.component_file(base, &file.project_dir, path) {
                        Ok(loaded) => {
                            let chars = loaded.body.chars().count();
                            let tokens = estimate_tokens(chars);
                            if let Some(budget) = loaded.context_budget.filter(|b| tokens > *b) {
                                self.report(FileProblem::OverBudget {
                                    at: path.span,
                                    component: component.name.name.clone(),
                                    tokens,
                                    budget,
                                });
                            }
                            loaded.body
                        }
                        Err(problem) => {
                            self.report(problem);
                            String::new()
                        }
                    }
                }
            };
            self.component_of.insert(id, self.found.components.len());
            self.found
                .components
                .push((component.name.name.clone(), text));
        }
    }

    /// Reads a component file: an error stops it, unknown front matter
    /// keys are reported here as warnings.
    fn component_file(
        &mut self,
        base: &Path,
        project: &Path,
        path: &PlainString,
    ) -> Result<ComponentFile, FileProblem> {
        let full = super::program::normalize(&base.join(&path.value));
        let inside = self
            .loader
            .resolve(&full)
            .starts_with(self.loader.resolve(project));
        if Path::new(&path.value).is_absolute() || !inside {
            return Err(FileProblem::ComponentOutside {
                at: path.span,
                path: path.value.clone(),
                project: self.loader.display(project),
            });
        }
        let (_, text) =
            self.loader
                .read(&full)
                .map_err(|reason| FileProblem::ComponentUnreadable {
                    at: path.span,
                    path: path.value.clone(),
                    reason,
                })?;
        let read = parse_front_matter(&text);
        if !read.unknown_keys.is_empty() {
            self.report(FileProblem::UnknownFrontMatterKeys {
                at: path.span,
                path: path.value.clone(),
                keys: read.unknown_keys,
            });
        }
        if !read.errors.is_empty() {
            return Err(FileProblem::FrontMatter {
                at: path.span,
                path: path.value.clone(),
                problems: read.errors,
            });
        }
        Ok(read.file)
    }
}

/// Front matter as read: the file's text and settings, its errors (a bad
/// value, a line that is not `key: value`) and the keys spesc does not
/// know, each with its 1-based line.
#[derive(Debug, Default, PartialEq)]
pub struct FrontMatter {
    pub file: ComponentFile,
    pub errors: Vec<(usize, String)>,
    pub unknown_keys: Vec<(usize, String)>,
}

/// Splits `---\nkey: value\n---\nbody` into the body and the settings that
/// matter, reading every line so that every problem is reported at once.
/// Keys spesc does not know are kept apart: other tools write their own
/// (`status`, `author`), and that is no reason to refuse the file.
pub fn parse_front_matter(text: &str) -> FrontMatter {
    let Some(rest) = text
        .strip_prefix("---\n")
        .or_else(|| text.strip_prefix("---\r\n"))
    else {
        return FrontMatter {
            file: ComponentFile {
                body: text.to_string(),
                context_budget: None,
            },
            ..FrontMatter::default()
        };
    };
    let mut read = FrontMatter::default();
    for (index, line) in rest.lines().enumerate() {
        let number = index + 2;
        if line.trim_end() == "---" {
            let offset: usize = rest.lines().take(index + 1).map(|l| l.len() + 1).sum();
            read.file.body = rest.get(offset.min(rest.len())..).unwrap_or("").to_string();
            return read;
        }
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        let Some((key, value)) = line.split_once(':') else {
            read.errors
                .push((number, format!("expected `key: value`, found `{line}`")));
            continue;
        };
        let (key, value) = (key.trim(), value.trim());
        match key {
            "type" if !KINDS.contains(&value) => {
                read.errors
                    .push((number, format!("unknown component type `{value}`")));
            }
            "context_budget" => match value.parse::<u64>() {
                Ok(n) => read.file.context_budget = Some(n),
                Err(_) => read.errors.push((
                    number,
                    format!("`context_budget` must be a whole number, found `{value}`"),
                )),
            },
            "tags" if !(value.starts_with('[') && value.ends_with(']')) => {
                read.errors.push((
                    number,
                    format!("`tags` must be a list like `[review]`, found `{value}`"),
                ));
            }
            _ if !KEYS.contains(&key) => read.unknown_keys.push((number, key.to_string())),
            _ => {}
        }
    }
    read.errors
        .push((1, "the front matter is never closed with `---`".to_string()));
    read
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn front_matter_is_split_from_the_body() {
        let read = parse_front_matter(
            "---\ntitle: T\ntype: persona\ncontext_budget: 50\ntags: [a, b]\n---\nBody text.\n",
        );
        assert_eq!(read.errors, []);
        assert_eq!(read.file.body, "Body text.\n");
        assert_eq!(read.file.context_budget, Some(50));
    }

    #[test]
    fn every_problem_is_found_and_unknown_keys_are_kept_apart() {
        let read = parse_front_matter(
            "---\ntitle: T\ntype: poem\nstatus: draft\ncontext_budget: many\n---\nBody\n",
        );
        assert_eq!(
            read.errors,
            [
                (3, "unknown component type `poem`".to_string()),
                (
                    5,
                    "`context_budget` must be a whole number, found `many`".to_string()
                )
            ]
        );
        assert_eq!(read.unknown_keys, [(4, "status".to_string())]);
        assert_eq!(read.file.body, "Body\n");
        assert_eq!(parse_front_matter("---\ntitle: T\n").errors.len(), 1);
        assert_eq!(parse_front_matter("plain text").file.body, "plain text");
    }
}
