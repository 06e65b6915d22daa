//! Component files: present, inside the project, with valid front matter
//! (E0104), and within their own `context_budget` (W0503).

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

    fn component_file(
        &self,
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
        parse_front_matter(&text).map_err(|(line, problem)| FileProblem::FrontMatter {
            at: path.span,
            path: path.value.clone(),
            line,
            problem,
        })
    }
}

/// Splits `---\nkey: value\n---\nbody` into the body and the settings that
/// matter; errors are (1-based line, problem).
pub fn parse_front_matter(text: &str) -> Result<ComponentFile, (usize, String)> {
    let Some(rest) = text
        .strip_prefix("---\n")
        .or_else(|| text.strip_prefix("---\r\n"))
    else {
        return Ok(ComponentFile {
            body: text.to_string(),
            context_budget: None,
        });
    };
    let mut context_budget = None;
    for (index, line) in rest.lines().enumerate() {
        let number = index + 2;
        if line.trim_end() == "---" {
            let offset: usize = rest.lines().take(index + 1).map(|l| l.len() + 1).sum();
            let body = rest.get(offset.min(rest.len())..).unwrap_or("").to_string();
            return Ok(ComponentFile {
                body,
                context_budget,
            });
        }
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        let Some((key, value)) = line.split_once(':') else {
            return Err((number, format!("expected `key: value`, found `{line}`")));
        };
        let (key, value) = (key.trim(), value.trim());
        match key {
            "type" if !KINDS.contains(&value) => {
                return Err((number, format!("unknown component type `{value}`")));
            }
            "context_budget" => match value.parse::<u64>() {
                Ok(n) => context_budget = Some(n),
                Err(_) => {
                    return Err((
                        number,
                        format!("`context_budget` must be a whole number, found `{value}`"),
                    ))
                }
            },
            "tags" if !(value.starts_with('[') && value.ends_with(']')) => {
                return Err((
                    number,
                    format!("`tags` must be a list like `[review]`, found `{value}`"),
                ));
            }
            _ if !KEYS.contains(&key) => return Err((number, format!("unknown key `{key}`"))),
            _ => {}
        }
    }
    Err((1, "the front matter is never closed with `---`".to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn front_matter_is_split_from_the_body() {
        let file = parse_front_matter(
            "---\ntitle: T\ntype: persona\ncontext_budget: 50\ntags: [a, b]\n---\nBody text.\n",
        )
        .expect("valid front matter");
        assert_eq!(file.body, "Body text.\n");
        assert_eq!(file.context_budget, Some(50));
    }

    #[test]
    fn bad_front_matter_names_the_line() {
        assert_eq!(
            parse_front_matter("---\ntitle: T\ntype: poem\n---\n").map(|_| ()),
            Err((3, "unknown component type `poem`".to_string()))
        );
        assert!(parse_front_matter("---\ntitle: T\n").is_err());
        assert_eq!(
            parse_front_matter("plain text").map(|f| f.body),
            Ok("plain text".into())
        );
    }
}
