//! The lowering itself: a [`Checked`] program → [`Plan`]. Nothing is
//! resolved here that the checker did not resolve: names, types, policies
//! and models come from its tables, so lowering cannot fail. Each workflow
//! is lowered in two passes ([`nodes`]): every statement first gets its
//! node id (so a step may read one written after it), then each node is
//! built, its expressions lowered by [`expr`].

mod edges;
mod expr;
mod layout;
mod nodes;

use std::collections::HashMap;
use std::path::PathBuf;

use super::types::{Field, Type, TypeDef, Types};
use super::{Component, Expectation, Param, Plan, Test, Workflow, WorkflowId, SCHEMA_VERSION};
use crate::check::types::Ty;
use crate::check::{self, Checked, Loader, Options};
use crate::diagnostic::Diagnostic;
use crate::source::{FileId, SourceMap};
use crate::syntax::ast::{Item, TestDecl, TestStmt};

/// A program's plan when it has no error, and what the checker said.
pub struct Compiled {
    pub plan: Option<Plan>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Checks and lowers: what `spesc plan`, `run` and `test` start from.
pub fn compile(
    sources: &mut SourceMap,
    roots: &[(FileId, PathBuf)],
    loader: &dyn Loader,
    options: &Options,
) -> Compiled {
    let checking = check::check(sources, roots, loader, options);
    Compiled {
        plan: checking.checked.as_ref().map(lower),
        diagnostics: checking.diagnostics,
    }
}

/// Lowers a checked program: infallible, a problem here is a checker bug.
pub fn lower(checked: &Checked) -> Plan {
    let mut types = TypeTable::default();
    let workflows: Vec<Workflow> = checked
        .workflows
        .iter()
        .map(|facts| nodes::workflow(checked, &mut types, facts))
        .collect();
    let tests = tests(checked, &mut types);
    let mut plan = Plan {
        schema: SCHEMA_VERSION,
        hash: String::new(),
        types: types.done(),
        models: checked.models.clone(),
        components: checked
            .components
            .iter()
            .map(|(name, text)| Component {
                name: name.clone(),
                text: text.clone(),
            })
            .collect(),
        workflows,
        tests,
    };
    plan.seal();
    plan
}

/// The workflow's parameters, typed, their defaults lowered.
fn params(
    lowering: &mut expr::Lowering<'_, '_>,
    decl: &crate::syntax::ast::WorkflowDecl,
    types: &[Ty],
) -> Vec<Param> {
    decl.params
        .iter()
        .zip(types)
        .map(|(p, ty)| Param {
            name: p.name.name.clone(),
            ty: lowering.types.ty(ty),
            default: p.default.as_ref().map(|d| lowering.expr(d)),
        })
        .collect()
}

/// The `test` blocks of the root files.
fn tests(checked: &Checked, types: &mut TypeTable) -> Vec<Test> {
    let mut out = Vec::new();
    for file in checked
        .program
        .files
        .iter()
        .filter(|f| checked.is_root(f.id))
    {
        for item in &file.ast.items {
            let Item::Test(test) = item else { continue };
            let Some(&workflow) = checked.tests.get(&test.span) else {
                continue;
            };
            out.push(test_of(checked, types, test, WorkflowId(workflow as u32)));
        }
    }
    out
}

fn test_of(
    checked: &Checked,
    types: &mut TypeTable,
    test: &TestDecl,
    workflow: WorkflowId,
) -> Test {
    // A test's names are `output`, enum variants and step names (`ran`):
    // none is a node, so the lowering needs no statements.
    let mut lowering = expr::Lowering::new(checked, types, HashMap::new(), HashMap::new());
    let mut out = Test {
        name: test.name.value.clone(),
        workflow,
        args: Vec::new(),
        given: Vec::new(),
        expect: Vec::new(),
    };
    for stmt in &test.body {
        match stmt {
            TestStmt::Run { args, .. } => {
                out.args = args
                    .iter()
                    .filter_map(|a| Some((a.name.as_ref()?.name.clone(), lowering.expr(&a.value))))
                    .collect();
            }
            TestStmt::Given { step, value, .. } => {
                out.given.push((step.name.clone(), lowering.expr(value)))
            }
            TestStmt::Expect { condition, .. } => out.expect.push(Expectation {
                condition: lowering.expr(condition),
                text: crate::syntax::print::expr(condition),
            }),
        }
    }
    out
}

/// The plan's records and enums, named once each.
#[derive(Default)]
pub(super) struct TypeTable {
    defs: Types,
    /// The name given to each record or enum, by its declaration.
    named: HashMap<usize, String>,
}

impl TypeTable {
    /// A checker type as a plan type, its records and enums in the table.
    pub fn ty(&mut self, ty: &Ty) -> Type {
        match ty {
            Ty::String | Ty::Component => Type::String,
            Ty::Int => Type::Int,
            Ty::Float => Type::Float,
            Ty::Bool => Type::Bool,
            Ty::Json | Ty::Error => Type::Json,
            Ty::Duration => Type::Duration,
            Ty::List(of) => Type::List(Box::new(self.ty(of))),
            Ty::Map(of) => Type::Map(Box::new(self.ty(of))),
            Ty::Optional(of) => Type::Optional(Box::new(self.ty(of))),
            Ty::Record(r) => {
                let key = std::rc::Rc::as_ptr(r) as usize;
                if let Some(name) = self.named.get(&key) {
                    return Type::Named(name.clone());
                }
                let fields: Vec<Field> = r
                    .fields
                    .iter()
                    .map(|(name, t)| Field {
                        name: name.clone(),
                        ty: self.ty(t),
                        about: r.about.get(name).cloned().unwrap_or_default(),
                    })
                    .collect();
                // A record literal or a loop's result is named by its shape.
                let name = if r.nominal {
                    r.name.clone()
                } else {
                    let shape: Vec<String> = fields
                        .iter()
                        .map(|f| format!("{}: {}", f.name, f.ty))
                        .collect();
                    format!("{{{}}}", shape.join(", "))
                };
                Type::Named(self.define(key, name, TypeDef::Record { fields }))
            }
            Ty::Enum(e) => {
                let key = std::rc::Rc::as_ptr(e) as usize;
                if let Some(name) = self.named.get(&key) {
                    return Type::Named(name.clone());
                }
                let def = TypeDef::Enum {
                    variants: e.variants.clone(),
                    about: e
                        .about
                        .iter()
                        .filter(|(_, about)| !about.is_empty())
                        .map(|(name, about)| (name.clone(), about.clone()))
                        .collect(),
                };
                Type::Named(self.define(key, e.name.clone(), def))
            }
        }
    }

    /// Enters `def` as `name`, or as `name#2`… when another declaration
    /// already took the name (two files may each declare an `Outline`).
    fn define(&mut self, key: usize, name: String, def: TypeDef) -> String {
        let mut unique = name.clone();
        let mut n = 1;
        while let Some(existing) = self.defs.0.get(&unique) {
            if *existing == def {
                break;
            }
            n += 1;
            unique = format!("{name}#{n}");
        }
        self.defs.0.insert(unique.clone(), def);
        self.named.insert(key, unique.clone());
        unique
    }

    fn done(self) -> Types {
        self.defs
    }
}
