//! Top-level declarations: each file's scope (its own declarations and
//! those of the files it imports), duplicates (E0102), type expressions
//! resolved to [`Ty`], and which declarations are never used (W0502).

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use super::problems::{NameProblem, Problem};
use super::program::Program;
use super::types::{self, EnumTy, RecordTy, Ty};
use crate::lang::about::About;
use crate::source::{FileId, Span};
use crate::syntax::ast::{self, Item, TypeExpr, TypeKind};

#[derive(Clone, Copy)]
pub(crate) enum DeclKind<'a> {
    Type(&'a ast::TypeDecl),
    Enum(&'a ast::EnumDecl),
    Model(&'a ast::ModelDecl),
    Retry(&'a ast::RetryDecl),
    Component(&'a ast::ComponentDecl),
    Agent(&'a ast::AgentDecl),
    Workflow(&'a ast::WorkflowDecl),
}

impl DeclKind<'_> {
    /// "model", "component", … for messages.
    pub fn noun(&self) -> &'static str {
        match self {
            DeclKind::Type(_) => "type",
            DeclKind::Enum(_) => "enum",
            DeclKind::Model(_) => "model",
            DeclKind::Retry(_) => "retry policy",
            DeclKind::Component(_) => "component",
            DeclKind::Agent(_) => "agent",
            DeclKind::Workflow(_) => "workflow",
        }
    }
}

pub(crate) struct Decl<'a> {
    pub name: &'a ast::Ident,
    pub kind: DeclKind<'a>,
    pub file: FileId,
    pub used: Cell<bool>,
}

pub(crate) type DeclId = usize;

pub(crate) struct Decls<'a> {
    pub all: Vec<Decl<'a>>,
    /// Per file: every name it can see.
    scopes: HashMap<FileId, HashMap<&'a str, DeclId>>,
    /// Resolved record and enum types, by declaration.
    resolved: RefCell<HashMap<DeclId, Ty>>,
    /// Declarations being resolved, to cut recursive types.
    resolving: RefCell<Vec<DeclId>>,
}

impl<'a> Decls<'a> {
    pub fn build(program: &'a Program, out: &mut Vec<Problem>) -> Decls<'a> {
        let mut all = Vec::new();
        let mut own: HashMap<FileId, HashMap<&'a str, DeclId>> = HashMap::new();
        for file in &program.files {
            let names = own.entry(file.id).or_default();
            for item in &file.ast.items {
                let Some((name, kind)) = declared(item) else {
                    continue;
                };
                if let Some(&first) = names.get(name.name.as_str()) {
                    out.push(duplicate(&all[first], name, &kind));
                    continue;
                }
                if let Some(ty) = types::builtin(&name.name).filter(|_| is_type(&kind)) {
                    out.push(
                        NameProblem::RedefinesBuiltin {
                            at: name.span,
                            name: name.name.clone(),
                            builtin: ty.to_string(),
                        }
                        .into(),
                    );
                    continue;
                }
                names.insert(name.name.as_str(), all.len());
                all.push(Decl {
                    name,
                    kind,
                    file: file.id,
                    used: Cell::new(false),
                });
            }
        }
        for decl in &all {
            match decl.kind {
                DeclKind::Type(t) => {
                    duplicates_in("field", t.fields.iter().map(|f| &f.name), out);
                    let names = t.fields.iter().map(|f| (&f.name, f.aliases.as_slice()));
                    aliases_taken("field", &t.name.name, names, out);
                }
                DeclKind::Enum(e) => {
                    duplicates_in("variant", e.variants.iter().map(|v| &v.name), out);
                    let names = e.variants.iter().map(|v| (&v.name, v.aliases.as_slice()));
                    aliases_taken("variant", &e.name.name, names, out);
                }
                _ => {}
            }
        }
        let mut scopes = HashMap::new();
        for file in &program.files {
            let mut scope = own.get(&file.id).cloned().unwrap_or_default();
            for import in &file.imports {
                for (name, &id) in own.get(import).into_iter().flatten() {
                    match scope.get(name) {
                        Some(&mine) if all[mine].file == file.id => {
                            out.push(duplicate(&all[id], all[mine].name, &all[mine].kind));
                            // Reported once: not "unused" on top of it.
                            all[mine].used.set(true);
                        }
                        _ => {
                            scope.insert(name, id);
                        }
                    }
                }
            }
            scopes.insert(file.id, scope);
        }
        Decls {
            all,
            scopes,
            resolved: RefCell::new(HashMap::new()),
            resolving: RefCell::new(Vec::new()),
        }
    }

    /// The declaration `name` refers to in `file`, marked used.
    pub fn lookup(&self, file: FileId, name: &str) -> Option<&Decl<'a>> {
        let id = *self.scopes.get(&file)?.get(name)?;
        let decl = &self.all[id];
        decl.used.set(true);
        Some(decl)
    }

    pub fn id_of(&self, file: FileId, name: &str) -> Option<DeclId> {
        self.scopes.get(&file)?.get(name).copied()
    }

    /// Every name visible in `file` whose declaration satisfies `keep`, for
    /// `did you mean`.
    pub fn names(&self, file: FileId, keep: impl Fn(&DeclKind<'_>) -> bool) -> Vec<&'a str> {
        let mut names: Vec<&str> = self
            .scopes
            .get(&file)
            .into_iter()
            .flatten()
            .filter(|(_, &id)| keep(&self.all[id].kind))
            .map(|(&name, _)| name)
            .collect();
        names.sort_unstable();
        names
    }

    /// A type expression as a type; `Err` carries the unknown name.
    pub fn resolve_type<'t>(&self, file: FileId, ty: &'t TypeExpr) -> Result<Ty, &'t ast::Ident> {
        Ok(match &ty.kind {
            TypeKind::Named(name) => {
                if let Some(builtin) = types::builtin(&name.name) {
                    return Ok(builtin);
                }
                let id = self.id_of(file, &name.name).ok_or(name)?;
                if !is_type(&self.all[id].kind) {
                    return Err(name);
                }
                self.all[id].used.set(true);
                self.declared_type(id)
            }
            TypeKind::List(of) => Ty::list(self.resolve_type(file, of)?),
            TypeKind::Optional(of) => Ty::optional(self.resolve_type(file, of)?),
            TypeKind::Map(of) => Ty::Map(Box::new(self.resolve_type(file, of)?)),
        })
    }

    /// The record or enum a `type`/`enum` declaration stands for.
    fn declared_type(&self, id: DeclId) -> Ty {
        if let Some(ty) = self.resolved.borrow().get(&id) {
            return ty.clone();
        }
        if self.resolving.borrow().contains(&id) {
            // A recursive type: the inner occurrence is checked as `json`.
            return Ty::Json;
        }
        self.resolving.borrow_mut().push(id);
        let decl = &self.all[id];
        let ty = match &decl.kind {
            DeclKind::Type(t) => Ty::Record(Rc::new(RecordTy {
                name: t.name.name.clone(),
                fields: t
                    .fields
                    .iter()
                    .map(|f| {
                        let ty = self.resolve_type(decl.file, &f.ty).unwrap_or(Ty::Error);
                        (f.name.name.clone(), ty)
                    })
                    .collect(),
                decl: Some(t.name.span),
                nominal: true,
                about: t
                    .fields
                    .iter()
                    .map(|f| (f.name.name.clone(), about(&f.doc, &f.aliases)))
                    .collect(),
            })),
            DeclKind::Enum(e) => Ty::Enum(Rc::new(EnumTy {
                name: e.name.name.clone(),
                variants: e.variants.iter().map(|v| v.name.name.clone()).collect(),
                decl: Some(e.name.span),
                about: e
                    .variants
                    .iter()
                    .map(|v| (v.name.name.clone(), about(&v.doc, &v.aliases)))
                    .collect(),
            })),
            _ => Ty::Error,
        };
        self.resolving.borrow_mut().retain(|&r| r != id);
        self.resolved.borrow_mut().insert(id, ty.clone());
        ty
    }
}

/// What a field or a variant says of itself, from its doc comment and its
/// `alias` clauses.
fn about(doc: &Option<ast::Doc>, aliases: &[ast::PlainString]) -> About {
    About {
        description: doc.as_ref().map(|d| d.text.trim().to_string()),
        aliases: aliases.iter().map(|a| a.value.clone()).collect(),
    }
}

fn is_type(kind: &DeclKind<'_>) -> bool {
    matches!(kind, DeclKind::Type(_) | DeclKind::Enum(_))
}

fn declared(item: &Item) -> Option<(&ast::Ident, DeclKind<'_>)> {
    Some(match item {
        Item::Type(d) => (&d.name, DeclKind::Type(d)),
        Item::Enum(d) => (&d.name, DeclKind::Enum(d)),
        Item::Model(d) => (&d.name, DeclKind::Model(d)),
        Item::Retry(d) => (&d.name, DeclKind::Retry(d)),
        Item::Component(d) => (&d.name, DeclKind::Component(d)),
        Item::Agent(d) => (&d.name, DeclKind::Agent(d)),
        Item::Workflow(d) => (&d.name, DeclKind::Workflow(d)),
        Item::Import(_) | Item::Test(_) => return None,
    })
}

fn duplicate(first: &Decl<'_>, again: &ast::Ident, kind: &DeclKind<'_>) -> Problem {
    NameProblem::Duplicate {
        at: again.span,
        name: again.name.clone(),
        noun: kind.noun(),
        first: first.name.span,
        first_noun: first.kind.noun(),
    }
    .into()
}

/// Duplicates inside one list (fields, variants, parameters, steps): E0102
/// with both places labelled.
pub(crate) fn duplicates_in<'n>(
    what: &'static str,
    names: impl IntoIterator<Item = &'n ast::Ident>,
    out: &mut Vec<Problem>,
) {
    let mut seen: HashMap<&str, Span> = HashMap::new();
    for name in names {
        if let Some(first) = seen.get(name.name.as_str()) {
            out.push(
                NameProblem::DuplicateIn {
                    at: name.span,
                    what,
                    name: name.name.clone(),
                    first: *first,
                }
                .into(),
            );
        } else {
            seen.insert(&name.name, name.span);
        }
    }
}

/// E0102: an alias that another field or variant of the same declaration
/// (or it itself) already answers to. A reply's names are read in any
/// case, so two names that differ only in case collide too.
fn aliases_taken<'n>(
    what: &'static str,
    owner: &str,
    members: impl Iterator<Item = (&'n ast::Ident, &'n [ast::PlainString])>,
    out: &mut Vec<Problem>,
) {
    let members: Vec<_> = members.collect();
    let mut taken: HashMap<String, (Span, String)> = HashMap::new();
    for (name, _) in &members {
        taken.insert(
            name.name.to_lowercase(),
            (name.span, format!("the name of {what} `{}`", name.name)),
        );
    }
    for (name, aliases) in members {
        for alias in aliases {
            let key = alias.value.to_lowercase();
            match taken.get(&key) {
                Some((first, taken_by)) => out.push(
                    NameProblem::AliasTaken {
                        at: alias.span,
                        alias: alias.value.clone(),
                        of: name.name.clone(),
                        owner: owner.to_string(),
                        first: *first,
                        taken_by: taken_by.clone(),
                    }
                    .into(),
                ),
                None => {
                    let by = format!("an alias of `{}`", name.name);
                    taken.insert(key, (alias.span, by));
                }
            }
        }
    }
}

impl super::Checker<'_> {
    /// W0502: models, components, types, enums, agents and retry policies
    /// nobody uses. A file without workflows or tests is a library: its
    /// declarations are for its importers, so it is exempt.
    pub(super) fn report_unused_declarations(&mut self) {
        let mut found = Vec::new();
        for decl in &self.decls.all {
            let file = self.program.file(decl.file);
            let is_library = file.is_some_and(|f| {
                !f.ast
                    .items
                    .iter()
                    .any(|i| matches!(i, Item::Workflow(_) | Item::Test(_)))
            });
            let kept = decl.name.name.starts_with('_');
            if decl.used.get() || kept || is_library || matches!(decl.kind, DeclKind::Workflow(_)) {
                continue;
            }
            found.push(NameProblem::Unused {
                at: decl.name.span,
                noun: decl.kind.noun(),
                name: decl.name.name.clone(),
            });
        }
        self.problems.extend(found.into_iter().map(Problem::from));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicates_are_labelled_at_both_places() {
        let ident = |name: &str, at: usize| ast::Ident {
            name: name.to_string(),
            span: Span::new(FileId(0), at, at + name.len()),
        };
        let names = [ident("a", 0), ident("b", 2), ident("a", 4)];
        let mut out = Vec::new();
        duplicates_in("field", &names, &mut out);
        let expected = NameProblem::DuplicateIn {
            at: names[2].span,
            what: "field",
            name: "a".into(),
            first: names[0].span,
        };
        assert_eq!(out, [Problem::from(expected)]);
        let diagnostic = out[0].to_diagnostic();
        assert_eq!(diagnostic.message, "field `a` is defined more than once");
        assert_eq!(diagnostic.labels.len(), 2);
    }
}
