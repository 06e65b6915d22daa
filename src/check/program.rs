//! Loading a program: the files named and, transitively, what they import
//! (E0103: an import that cannot be read, or a cycle of imports).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::problems::{FileProblem, Problem};
use crate::diagnostic::Diagnostic;
use crate::source::{FileId, SourceMap};
use crate::syntax::ast;

/// Reads files the program refers to: imports and component files.
pub trait Loader {
    /// The text of the file at `path`, and the name to show for it.
    fn read(&self, path: &Path) -> Result<(String, String), String>;

    /// How to show `path` in a message.
    fn display(&self, path: &Path) -> String {
        path.display().to_string()
    }

    /// Where `path` really is, to hold it against the project directory:
    /// absolute and, for a loader that reads the file system, with its
    /// links resolved (so a link cannot lead out of the project).
    fn resolve(&self, path: &Path) -> PathBuf {
        normalize(&std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf()))
    }
}

/// A loader for text already in memory: every read fails.
pub struct NoFiles;

impl Loader for NoFiles {
    fn read(&self, path: &Path) -> Result<(String, String), String> {
        Err(format!("`{}`: no files can be read here", path.display()))
    }
}

pub(crate) struct Program {
    pub files: Vec<LoadedFile>,
    /// Syntax errors.
    pub diagnostics: Vec<Diagnostic>,
    /// Imports that cannot be read or that form a cycle.
    pub problems: Vec<Problem>,
}

pub(crate) struct LoadedFile {
    pub id: FileId,
    pub path: PathBuf,
    pub ast: ast::File,
    /// The files this one imports directly, resolved.
    pub imports: Vec<FileId>,
    /// The directory component files may not leave: the directory of the
    /// root file through which this one was first loaded.
    pub project_dir: PathBuf,
    /// Syntax errors that leave too little to check (see `Parsed::checkable`).
    pub has_syntax_errors: bool,
    /// Clauses left out for an unknown key (see `syntax::LeftOut`).
    pub left_out: Vec<crate::syntax::LeftOut>,
}

impl Program {
    pub fn file(&self, id: FileId) -> Option<&LoadedFile> {
        self.files.iter().find(|f| f.id == id)
    }

    /// Every workflow in load order: its file, its position among the
    /// file's items, and its declaration.
    pub fn workflows(&self) -> impl Iterator<Item = (FileId, usize, &ast::WorkflowDecl)> {
        self.files.iter().flat_map(|f| {
            f.ast
                .items
                .iter()
                .enumerate()
                .filter_map(move |(i, item)| match item {
                    ast::Item::Workflow(w) => Some((f.id, i, w.as_ref())),
                    _ => None,
                })
        })
    }
}

pub(crate) fn load(
    sources: &mut SourceMap,
    roots: &[(FileId, PathBuf)],
    loader: &dyn Loader,
) -> Program {
    let mut state = State {
        program: Program {
            files: Vec::new(),
            diagnostics: Vec::new(),
            problems: Vec::new(),
        },
        by_path: HashMap::new(),
    };
    for (id, path) in roots {
        // The root file's directory, wherever spesc runs from.
        let dir = match parent(path) {
            dir if dir.as_os_str().is_empty() => PathBuf::from("."),
            dir => dir,
        };
        state.add(sources, *id, path.clone(), dir);
    }
    // Follow imports breadth-first; `files` grows as we go.
    let mut next = 0;
    while next < state.program.files.len() {
        state.resolve_imports(sources, next, loader);
        next += 1;
    }
    state.report_cycles(sources);
    state.program
}

struct State {
    program: Program,
    by_path: HashMap<PathBuf, FileId>,
}

impl State {
    fn add(&mut self, sources: &SourceMap, id: FileId, path: PathBuf, project_dir: PathBuf) {
        let key = normalize(&path);
        if self.by_path.contains_key(&key) {
            return;
        }
        self.by_path.insert(key, id);
        let parsed = crate::syntax::parse(id, sources.text(id));
        let has_syntax_errors = !parsed.checkable;
        let left_out = parsed.left_out;
        self.program.diagnostics.extend(parsed.diagnostics);
        self.program.files.push(LoadedFile {
            id,
            path,
            ast: parsed.file,
            imports: Vec::new(),
            project_dir,
            has_syntax_errors,
            left_out,
        });
    }

    fn resolve_imports(&mut self, sources: &mut SourceMap, index: usize, loader: &dyn Loader) {
        let file = &self.program.files[index];
        let base = parent(&file.path);
        let project_dir = file.project_dir.clone();
        let imports: Vec<ast::Import> = file
            .ast
            .items
            .iter()
            .filter_map(|item| match item {
                ast::Item::Import(import) => Some(import.clone()),
                _ => None,
            })
            .collect();
        let project = loader.resolve(&project_dir);
        let mut resolved = Vec::new();
        for import in imports {
            let path = base.join(&import.path.value);
            if let Some(id) = self.by_path.get(&normalize(&path)) {
                resolved.push(*id);
                continue;
            }
            if !loader.resolve(&path).starts_with(&project) {
                // Not read at all: its lines must not reach a message.
                self.program.problems.push(
                    FileProblem::ImportOutside {
                        at: import.path.span,
                        path: import.path.value.clone(),
                        project: loader.display(&project_dir),
                    }
                    .into(),
                );
                continue;
            }
            match loader.read(&path) {
                Ok((name, text)) => {
                    let id = sources.add(name, text);
                    self.add(sources, id, path, project_dir.clone());
                    resolved.push(id);
                }
                Err(reason) => self.program.problems.push(
                    FileProblem::ImportUnreadable {
                        at: import.path.span,
                        path: import.path.value.clone(),
                        reason,
                    }
                    .into(),
                ),
            }
        }
        self.program.files[index].imports = resolved;
    }

    /// Import cycles, each reported once at the import that closes it.
    fn report_cycles(&mut self, sources: &SourceMap) {
        let edges: HashMap<FileId, Vec<FileId>> = self
            .program
            .files
            .iter()
            .map(|f| (f.id, f.imports.clone()))
            .collect();
        let order: Vec<FileId> = self.program.files.iter().map(|f| f.id).collect();
        for cycle in super::graph::cycles(&order, |id| edges.get(&id).cloned().unwrap_or_default())
        {
            let problem = self.cycle(&cycle, sources);
            self.program.problems.push(problem.into());
        }
    }

    fn cycle(&self, cycle: &[FileId], sources: &SourceMap) -> FileProblem {
        let import_span = |from: FileId, to: FileId| -> Option<crate::source::Span> {
            let file = self.program.file(from)?;
            let target = self.program.file(to)?;
            file.ast.items.iter().find_map(|item| match item {
                ast::Item::Import(i)
                    if normalize(&parent(&file.path).join(&i.path.value))
                        == normalize(&target.path) =>
                {
                    Some(i.path.span)
                }
                _ => None,
            })
        };
        let files = cycle
            .iter()
            .chain(cycle.first())
            .map(|id| sources.name(*id).to_string())
            .collect();
        let links = cycle
            .iter()
            .enumerate()
            .filter_map(|(i, from)| {
                let to = cycle[(i + 1) % cycle.len()];
                Some((import_span(*from, to)?, sources.name(to).to_string()))
            })
            .collect();
        FileProblem::ImportCycle { links, files }
    }
}

fn parent(path: &Path) -> PathBuf {
    path.parent().map(Path::to_path_buf).unwrap_or_default()
}

/// `a/./b/../c.spes` → `a/c.spes`, without touching the file system.
pub(crate) fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir if out.file_name().is_some() => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}
