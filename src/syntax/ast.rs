//! The abstract syntax tree: the program as written.
//!
//! It knows nothing of pest. Every node carries a [`Span`]; names are
//! [`Ident`]s with their own spans so diagnostics can point at exactly the
//! name. Nothing here is resolved or typed yet: `Outline` in a type position
//! is just a name until the checker looks it up.

use crate::source::Span;

/// A name as written, with where it was written.
#[derive(Clone, Debug, PartialEq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

/// A `///` doc comment block, without the slashes.
#[derive(Clone, Debug, PartialEq)]
pub struct Doc {
    pub text: String,
    pub span: Span,
}

/// A `//` comment, kept for the formatter.
#[derive(Clone, Debug, PartialEq)]
pub struct Comment {
    pub text: String,
    pub span: Span,
}

/// One `.spes` file.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct File {
    pub items: Vec<Item>,
    pub comments: Vec<Comment>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    Import(Import),
    Type(TypeDecl),
    Enum(EnumDecl),
    Model(ModelDecl),
    Retry(RetryDecl),
    Component(ComponentDecl),
    Agent(AgentDecl),
    /// Boxed: a workflow is far larger than any other item.
    Workflow(Box<WorkflowDecl>),
    Test(TestDecl),
}

/// A string with no interpolation: import paths, component file paths.
#[derive(Clone, Debug, PartialEq)]
pub struct PlainString {
    pub value: String,
    pub span: Span,
}

/// `import "lib/models.spes"`
#[derive(Clone, Debug, PartialEq)]
pub struct Import {
    pub doc: Option<Doc>,
    pub path: PlainString,
    pub span: Span,
}

/// `type Outline { title: string  sections: string[] }`
#[derive(Clone, Debug, PartialEq)]
pub struct TypeDecl {
    pub doc: Option<Doc>,
    pub name: Ident,
    pub fields: Vec<FieldDecl>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct FieldDecl {
    pub doc: Option<Doc>,
    pub name: Ident,
    pub ty: TypeExpr,
    /// `alias "k"`: other names a reply may use.
    pub aliases: Vec<PlainString>,
    pub span: Span,
}

/// `enum Complexity { simple, moderate, complex }`
#[derive(Clone, Debug, PartialEq)]
pub struct EnumDecl {
    pub doc: Option<Doc>,
    pub name: Ident,
    pub variants: Vec<Variant>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Variant {
    pub doc: Option<Doc>,
    pub name: Ident,
    pub aliases: Vec<PlainString>,
    pub span: Span,
}

/// `model sonnet { provider = anthropic  name = "…" }`
#[derive(Clone, Debug, PartialEq)]
pub struct ModelDecl {
    pub doc: Option<Doc>,
    pub name: Ident,
    pub settings: Vec<Setting>,
    pub span: Span,
}

/// `retry transient { attempts = 3  backoff = exponential(base = 1s) }`
#[derive(Clone, Debug, PartialEq)]
pub struct RetryDecl {
    pub doc: Option<Doc>,
    pub name: Ident,
    pub settings: Vec<Setting>,
    pub span: Span,
}

/// `agent reviewer { persona = p  instruction = i  model = sonnet }`
#[derive(Clone, Debug, PartialEq)]
pub struct AgentDecl {
    pub doc: Option<Doc>,
    pub name: Ident,
    pub settings: Vec<Setting>,
    pub span: Span,
}

/// `key = value` inside a settings block.
#[derive(Clone, Debug, PartialEq)]
pub struct Setting {
    pub key: Ident,
    pub value: SettingValue,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum SettingValue {
    Expr(Expr),
    /// A nested block: `breaker = { failures = 5, cooldown = 60s }`.
    Block(Vec<Setting>, Span),
    /// `sonnet | flash`: a fallback chain of model names.
    Chain(Vec<Ident>),
}

/// `component be_clear = """…"""` or `= file("components/x.md")`
#[derive(Clone, Debug, PartialEq)]
pub struct ComponentDecl {
    pub doc: Option<Doc>,
    pub name: Ident,
    pub source: ComponentSource,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ComponentSource {
    File(PlainString),
    Inline(Template),
}

/// `workflow content(topic: string) -> string { … }`
#[derive(Clone, Debug, PartialEq)]
pub struct WorkflowDecl {
    pub doc: Option<Doc>,
    pub name: Ident,
    pub params: Vec<Param>,
    pub output: Option<TypeExpr>,
    pub settings: Vec<WorkflowSetting>,
    pub body: Vec<Stmt>,
    pub ret: Option<Return>,
    pub span: Span,
}

/// `audience: string = "developers"`
#[derive(Clone, Debug, PartialEq)]
pub struct Param {
    pub name: Ident,
    pub ty: TypeExpr,
    pub default: Option<Expr>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct WorkflowSetting {
    pub kind: WorkflowSettingKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum WorkflowSettingKind {
    /// `deadline = 10m`: the whole run, all steps and retries.
    Deadline(Expr),
    /// `max_concurrency = 16`
    MaxConcurrency(Expr),
    /// `default retry = transient`: a clause every step gets unless it says otherwise.
    Default(Clause),
}

/// `return draft`
#[derive(Clone, Debug, PartialEq)]
pub struct Return {
    pub value: Expr,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Stmt {
    Step(StepDecl),
    Let(LetStmt),
    Loop(LoopStmt),
}

impl Stmt {
    /// The name the statement binds.
    pub fn name(&self) -> &Ident {
        match self {
            Stmt::Step(s) => &s.name,
            Stmt::Let(l) => &l.name,
            Stmt::Loop(l) => &l.name,
        }
    }
}

/// `step draft: string { … }` and the `call`/`exec`/`fetch`/`ask` forms.
#[derive(Clone, Debug, PartialEq)]
pub struct StepDecl {
    pub doc: Option<Doc>,
    pub name: Ident,
    pub ty: TypeExpr,
    pub action: Action,
    pub clauses: Vec<Clause>,
    pub span: Span,
}

/// What a step does.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// An LLM call (`model`/`agent` and `prompt` come from the clauses).
    Llm,
    /// `= call translate(text = x)`
    Call { workflow: Ident, args: Vec<Arg> },
    /// `= exec { command = [...] }`
    Exec(ActionBlock),
    /// `= fetch { url = "…" }`
    Fetch(ActionBlock),
    /// `= ask { show = draft  question = "…" }`
    Ask(ActionBlock),
}

/// The settings of an `exec`, `fetch` or `ask`, keys validated by the parser.
#[derive(Clone, Debug, PartialEq)]
pub struct ActionBlock {
    pub settings: Vec<Setting>,
    pub span: Span,
}

impl ActionBlock {
    /// The value of a setting, if written.
    pub fn get(&self, key: &str) -> Option<&SettingValue> {
        self.settings
            .iter()
            .find(|s| s.key.name == key)
            .map(|s| &s.value)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Clause {
    pub kind: ClauseKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ClauseKind {
    /// `model = sonnet | flash`: tried in order.
    Model(Vec<Ident>),
    Agent(Ident),
    Prompt(Expr),
    System(Expr),
    Context(ContextStrategy),
    Retry(RetryRef),
    /// One attempt.
    Timeout(Expr),
    /// All attempts together.
    Deadline(Expr),
    /// `check len(this) > 500 else "too short"`
    Check {
        condition: Expr,
        message: Expr,
    },
    /// `when lang != ""`
    When(Expr),
    OnError(Expr),
    Compensate(ActionBlock),
    After(Vec<Ident>),
    Cache(Expr),
}

#[derive(Clone, Debug, PartialEq)]
pub enum RetryRef {
    Named(Ident),
    Inline(Vec<Setting>, Span),
}

#[derive(Clone, Debug, PartialEq)]
pub enum ContextStrategy {
    Fresh(Span),
    All(Span),
    Steps(Vec<Ident>, Span),
    Summarized(Vec<Arg>, Span),
}

/// `let x: T = expr`
#[derive(Clone, Debug, PartialEq)]
pub struct LetStmt {
    pub doc: Option<Doc>,
    pub name: Ident,
    pub ty: Option<TypeExpr>,
    pub value: Expr,
    pub span: Span,
}

/// `loop refine (max = 5, best_by = grade.score) { … until … }`
#[derive(Clone, Debug, PartialEq)]
pub struct LoopStmt {
    pub doc: Option<Doc>,
    pub name: Ident,
    pub options: Vec<Arg>,
    pub body: Vec<Stmt>,
    pub until: Option<Expr>,
    pub span: Span,
}

/// `test "name" { run w(…)  given s = …  expect … }`
#[derive(Clone, Debug, PartialEq)]
pub struct TestDecl {
    pub doc: Option<Doc>,
    pub name: PlainString,
    pub body: Vec<TestStmt>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum TestStmt {
    Run {
        workflow: Ident,
        args: Vec<Arg>,
        span: Span,
    },
    Given {
        step: Ident,
        value: Expr,
        span: Span,
    },
    Expect {
        condition: Expr,
        span: Span,
    },
}

/// `name = value` or a bare `value` in an argument list.
#[derive(Clone, Debug, PartialEq)]
pub struct Arg {
    pub name: Option<Ident>,
    pub value: Expr,
    pub span: Span,
}

// ---- types ------------------------------------------------------------------

#[derive(Clone, Debug, PartialEq)]
pub struct TypeExpr {
    pub kind: TypeKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum TypeKind {
    /// `string`, `Outline`: built-in or declared, the checker decides.
    Named(Ident),
    /// `T[]`
    List(Box<TypeExpr>),
    /// `T?`
    Optional(Box<TypeExpr>),
    /// `map<T>`
    Map(Box<TypeExpr>),
}

// ---- expressions --------------------------------------------------------------

#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    Int(i64),
    Float(f64),
    Bool(bool),
    /// Milliseconds.
    Duration(u64),
    /// `10%` as written (10.0).
    Percent(f64),
    String(Template),
    List(Vec<Expr>),
    Record(Vec<RecordField>),
    Name(Ident),
    Field {
        base: Box<Expr>,
        field: Ident,
    },
    Index {
        base: Box<Expr>,
        index: Box<Expr>,
    },
    Call {
        function: Ident,
        args: Vec<Arg>,
    },
    Unary {
        op: UnaryOp,
        operand: Box<Expr>,
    },
    Binary {
        op: BinaryOp,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    If {
        condition: Box<Expr>,
        then: Block,
        otherwise: Box<Expr>,
    },
    Match {
        scrutinee: Box<Expr>,
        arms: Vec<MatchArm>,
    },
    For {
        var: Ident,
        source: Box<Expr>,
        options: Vec<Arg>,
        body: Block,
    },
    /// A braced block used as a value: match arms, `else { … }`.
    Block(Block),
    /// `( expr )`, kept so spans and formatting stay faithful.
    Paren(Box<Expr>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct RecordField {
    pub name: Ident,
    pub value: Expr,
}

/// Statements, then the value of the block.
#[derive(Clone, Debug, PartialEq)]
pub struct Block {
    pub stmts: Vec<Stmt>,
    pub value: Box<Expr>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct MatchArm {
    pub patterns: Vec<Pattern>,
    pub body: Expr,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Pattern {
    pub kind: PatternKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum PatternKind {
    /// `_`
    Wildcard,
    /// An enum variant: `simple`.
    Variant(Ident),
    Bool(bool),
    Int(i64),
    String(String),
}

/// The operators are the language's own (`lang::ops`), shared by every
/// stage.
pub use crate::lang::ops::{BinaryOp, UnaryOp};

// ---- templates -----------------------------------------------------------------

/// A string literal: text, `{{ expr }}` and `{% if/for %}` blocks.
#[derive(Clone, Debug, PartialEq)]
pub struct Template {
    pub parts: Vec<TemplatePart>,
    /// Written with `"""`.
    pub triple: bool,
    pub span: Span,
}

impl Template {
    /// The text, when the template has no interpolation or tags.
    pub fn as_plain(&self) -> Option<String> {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                TemplatePart::Text { text, .. } => out.push_str(text),
                _ => return None,
            }
        }
        Some(out)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum TemplatePart {
    /// Literal text, escapes processed and indentation stripped.
    Text { text: String, span: Span },
    /// `{{ expr }}`
    Interpolation { expr: Expr, span: Span },
    /// `{% if cond %}…{% else %}…{% end %}`
    If {
        condition: Expr,
        then: Vec<TemplatePart>,
        otherwise: Option<Vec<TemplatePart>>,
        span: Span,
    },
    /// `{% for x in xs %}…{% end %}`
    For {
        var: Ident,
        source: Expr,
        body: Vec<TemplatePart>,
        span: Span,
    },
}
