//! Turning command-line paths into source files: folders expand to the
//! `.spes` files under them, names are shown relative to the working
//! directory.

use std::path::{Path, PathBuf};

use crate::source::{FileId, SourceMap};

/// Reads every file named, or found under a folder named, into `sources`.
/// Returns the ids in the order given (folders sorted), or a message for the
/// first path that cannot be read.
pub fn load(paths: &[PathBuf], sources: &mut SourceMap) -> Result<Vec<(FileId, PathBuf)>, String> {
    expand(paths)?
        .iter()
        .map(|path| {
            let text = read(path)?;
            Ok((sources.add(display_name(path), text), path.clone()))
        })
        .collect()
}

/// The files named, and the `.spes` files under the folders named (sorted).
pub fn expand(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut found = Vec::new();
            collect_spes(path, &mut found)?;
            found.sort();
            if found.is_empty() {
                return Err(format!("no `.spes` files under `{}`", path.display()));
            }
            files.extend(found);
        } else {
            files.push(path.clone());
        }
    }
    Ok(files)
}

/// Reads imports and component files for the checker.
pub struct FsLoader;

impl crate::check::Loader for FsLoader {
    fn read(&self, path: &Path) -> Result<(String, String), String> {
        Ok((display_name(path), read(path)?))
    }

    fn display(&self, path: &Path) -> String {
        display_name(path)
    }

    /// Links resolved as far as the path exists: a file not there yet is
    /// where its nearest existing folder really is.
    fn resolve(&self, path: &Path) -> PathBuf {
        let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        let absolute = crate::check::program::normalize(&absolute);
        let mut missing = Vec::new();
        let mut existing = absolute.as_path();
        loop {
            if let Ok(real) = std::fs::canonicalize(existing) {
                return missing.iter().rev().fold(real, |p, part| p.join(part));
            }
            match (existing.parent(), existing.file_name()) {
                (Some(parent), Some(name)) => {
                    missing.push(name.to_os_string());
                    existing = parent;
                }
                _ => return absolute,
            }
        }
    }
}

fn collect_spes(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), String> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("cannot read `{}`: {e}", dir.display()))?;
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect_spes(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "spes") {
            out.push(path);
        }
    }
    Ok(())
}

fn read(path: &Path) -> Result<String, String> {
    crate::files::read_text(path, crate::files::SOURCE_LIMIT)
}

/// The path as a person in the working directory would type it.
pub fn display_name(path: &Path) -> String {
    let relative = std::env::current_dir()
        .ok()
        .and_then(|cwd| {
            let absolute = std::path::absolute(path).ok()?;
            absolute.strip_prefix(&cwd).ok().map(Path::to_path_buf)
        })
        .unwrap_or_else(|| path.to_path_buf());
    let relative = crate::check::program::normalize(&relative);
    if relative.as_os_str().is_empty() {
        // The working directory itself.
        return ".".to_string();
    }
    relative.display().to_string()
}

/// Loads `file` with what it imports, checks and lowers it, and prints its
/// diagnostics (rich, to stderr). A file that cannot be read, or has
/// errors, gives the exit code to stop with: usage, or `on_errors`.
pub fn compile(file: &Path, color: bool, on_errors: u8) -> Result<crate::plan::Plan, u8> {
    let mut sources = SourceMap::new();
    let roots = load(&[file.to_path_buf()], &mut sources).map_err(super::usage_error)?;
    if roots.len() > 1 {
        // Which of them was meant is a guess; running the first one
        // silently would run the wrong workflow.
        let names: Vec<String> = roots.iter().map(|(_, path)| display_name(path)).collect();
        return Err(super::usage_error(format!(
            "`{}` holds {} `.spes` files; name the one to use:\n  {}",
            display_name(file),
            roots.len(),
            names.join("\n  ")
        )));
    }
    let compiled = crate::plan::compile(&mut sources, &roots, &FsLoader, &Default::default());
    if !compiled.diagnostics.is_empty() {
        eprint!(
            "{}",
            crate::diagnostic::render::rich_at_most(
                &sources,
                &compiled.diagnostics,
                color,
                crate::diagnostic::render::MOST_SHOWN,
            )
        );
    }
    match compiled.plan {
        Some(plan) => Ok(plan),
        None => {
            eprintln!(
                "{}",
                crate::diagnostic::render::summary(&compiled.diagnostics)
            );
            Err(on_errors)
        }
    }
}
