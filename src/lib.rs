//! spesc: a compiled workflow language for chaining LLM calls.
//!
//! A `.spes` file flows through stages, each with one entry function and its
//! own types; a stage that finds errors stops the pipeline before the next:
//!
//! ```text
//! source text ──syntax::parse──▶ AST ──check──▶ checked program ──lower──▶ plan ──run──▶ result
//!                 (E0001)          (E01xx–E04xx, W05xx)
//! ```
//!
//! [`syntax::parse`] turns text into an [`syntax::ast::File`] and syntax
//! [`diagnostic::Diagnostic`]s; [`check::check`] is what `spesc check` runs:
//! it loads the files and their imports, and proves names, types, data
//! contracts, the step graph, convergence and configuration.
//!
//! ```
//! use spesc::source::SourceMap;
//!
//! let mut sources = SourceMap::new();
//! let file = sources.add(
//!     "hello.spes",
//!     r#"
//!     model fast { provider = mock }
//!
//!     workflow hello(name: string) -> string {
//!       step greeting: string {
//!         model = fast
//!         prompt = "Greet {{ name }} in one sentence."
//!       }
//!       return greeting
//!     }
//!     "#,
//! );
//! let parsed = spesc::syntax::parse(file, sources.text(file));
//! assert!(parsed.diagnostics.is_empty());
//! assert_eq!(parsed.file.items.len(), 2);
//!
//! // `check` parses, resolves and type-checks; imports and component files
//! // are read through a `Loader` (here: none, the file imports nothing).
//! // A clean file yields a checked program, which lowers to the plan that
//! // `spesc plan` prints and `spesc run` executes.
//! let roots = [(file, "hello.spes".into())];
//! let checking = spesc::check::check(&mut sources, &roots, &spesc::check::NoFiles, &Default::default());
//! let checked = checking.checked.expect("hello.spes checks clean");
//! let plan = spesc::plan::lower(&checked);
//! assert_eq!(plan.workflows[0].name, "hello");
//!
//! let bad = sources.add(
//!     "bad.spes",
//!     "model m { provider = mock }\nworkflow w() -> string { step s: string { modle = m  prompt = \"Hi\" } return s }",
//! );
//! let roots = [(bad, "bad.spes".into())];
//! let checking = spesc::check::check(&mut sources, &roots, &spesc::check::NoFiles, &Default::default());
//! // With an error there is no checked program, hence nothing to lower.
//! assert!(checking.checked.is_none());
//! // The misspelled key is left out and the rest still checked: its E0001
//! // is the only diagnostic (no "has no model" follows from it).
//! assert_eq!(checking.diagnostics.len(), 1);
//! assert_eq!(checking.diagnostics[0].code.as_str(), "E0001");
//! assert!(checking.diagnostics[0].help[0].contains("`model`"));
//! ```

// pest is built without its `std` feature (see `syntax::parse`), so its
// generated parser names the `alloc` crate.
extern crate alloc;

pub mod check;
pub mod cli;
pub mod diagnostic;
pub mod files;
pub mod journal;
pub mod lang;
pub mod lsp;
pub mod plan;
pub mod providers;
pub mod runtime;
pub mod source;
pub mod suggest;
pub mod syntax;
