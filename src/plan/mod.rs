//! Checked program → execution plan: what the runtime executes, and all
//! it executes.
//!
//! [`lower`] is infallible: it runs only on a program the checker found
//! free of errors, and only copies what the checker resolved. The plan is
//! complete and self-contained: types, models, component texts and every
//! workflow's nodes (a flat table indexed by [`NodeId`]), with every
//! expression lowered to [`expr::Expr`] and every policy resolved, each
//! default written out. It serializes to JSON and back ([`Plan::from_json`]),
//! so a process given only the plan and the inputs can run it.
//! `spesc plan` prints it ([`text`], or JSON: `docs/plan.md`); `spesc
//! graph` draws it ([`draw`]).

pub mod draw;
pub mod expr;
mod fingerprint;
pub mod instance;
mod lower;
pub mod print;
pub mod text;
pub mod types;

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::lang::model::Model;
use crate::lang::policy::RetryPolicy;
pub use expr::Expr;
pub use fingerprint::fingerprint;
pub use lower::{compile, lower, Compiled};
use types::{Type, Types};

/// The version of the JSON schema in `docs/plan.md`.
pub const SCHEMA_VERSION: u32 = 2;

macro_rules! id {
    ($name:ident, $what:literal) => {
        #[doc = concat!("The index of ", $what, " in its table.")]
        #[derive(
            Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
        )]
        #[serde(transparent)]
        pub struct $name(pub u32);

        impl $name {
            pub fn index(self) -> usize {
                self.0 as usize
            }
        }
    };
}

id!(NodeId, "a node of a workflow");
id!(WorkflowId, "a workflow of the plan");
id!(ModelId, "a model of the plan");
id!(ComponentId, "a component of the plan");

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub schema: u32,
    /// `fnv1a64:` and 16 hex digits: changes when anything the runtime
    /// would do changes, not when only formatting or comments do.
    pub hash: String,
    /// Records and enums, by name.
    pub types: Types,
    pub models: Vec<Model>,
    pub components: Vec<Component>,
    /// The root files' workflows and what they import, in load order.
    pub workflows: Vec<Workflow>,
    /// The root files' `test` blocks.
    pub tests: Vec<Test>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Component {
    pub name: String,
    /// The text, front matter removed.
    pub text: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Workflow {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doc: Option<String>,
    /// Declared in a file that was named to run (not only imported).
    pub root: bool,
    /// The directory of its file: `exec` paths are relative to it.
    pub dir: String,
    pub params: Vec<Param>,
    pub output: Option<Type>,
    /// The whole run, all steps and retries; `null`: none.
    pub deadline_ms: Option<u64>,
    /// Actions (model calls, commands, requests) of one run of this
    /// workflow in flight at once, its calls included; `null`: no cap.
    pub max_concurrency: Option<u64>,
    /// The top-level statements.
    pub body: Vec<NodeId>,
    /// Every node, parents before their children, in source order.
    pub nodes: Vec<Node>,
    /// The `return` expression.
    pub result: Option<Expr>,
    /// Node ids (`code.simple.direct`) to nodes.
    #[serde(skip)]
    pub by_id: HashMap<String, NodeId>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Param {
    pub name: String,
    #[serde(rename = "type")]
    pub ty: Type,
    pub default: Option<Expr>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NodeKind {
    Llm,
    Call,
    Exec,
    Fetch,
    Ask,
    Let,
    Loop,
}

impl NodeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            NodeKind::Llm => "llm",
            NodeKind::Call => "call",
            NodeKind::Exec => "exec",
            NodeKind::Fetch => "fetch",
            NodeKind::Ask => "ask",
            NodeKind::Let => "let",
            NodeKind::Loop => "loop",
        }
    }

    /// Steps that act on the world (and are exempt from "never used").
    pub fn has_effects(self) -> bool {
        matches!(self, NodeKind::Exec | NodeKind::Fetch | NodeKind::Ask)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Node {
    /// Unique in the workflow and stable across edits elsewhere: the ids
    /// of the enclosing composite and branch, then the node's name.
    pub id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doc: Option<String>,
    /// The declared output type (a `let`: declared or inferred).
    #[serde(rename = "type")]
    pub ty: Option<Type>,
    /// The composite it sits in and the branch; `null` at the top.
    pub parent: Option<Parent>,
    /// Nodes whose outputs it reads.
    pub deps: Vec<NodeId>,
    /// Nodes it waits for without reading them (`after`).
    pub after: Vec<NodeId>,
    /// The `when` guard.
    pub guard: Option<Expr>,
    /// How a step is tried (`null` for `let` and `loop`).
    pub policy: Option<Policy>,
    #[serde(flatten)]
    pub action: Action,
    /// A hash of everything that decides what the node does, with ids
    /// elsewhere in the plan replaced by what they stand for
    /// ([`fingerprint`]): a resume refuses a node that changed.
    #[serde(skip)]
    pub fingerprint: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Parent {
    pub node: NodeId,
    /// The arm's patterns, `then`, `else`, `each`, `body`.
    pub branch: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Action {
    Llm(Llm),
    Call(Call),
    Exec(Exec),
    Fetch(Fetch),
    Ask(Ask),
    Let { value: Expr },
    Loop(Loop),
}

impl Action {
    pub fn kind(&self) -> NodeKind {
        match self {
            Action::Llm(_) => NodeKind::Llm,
            Action::Call(_) => NodeKind::Call,
            Action::Exec(_) => NodeKind::Exec,
            Action::Fetch(_) => NodeKind::Fetch,
            Action::Ask(_) => NodeKind::Ask,
            Action::Let { .. } => NodeKind::Let,
            Action::Loop(_) => NodeKind::Loop,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Llm {
    /// The fallback chain, tried in order.
    pub models: Vec<Attempt>,
    pub agent: Option<Agent>,
    /// The `system` text (the agent's persona comes before it).
    pub system: Option<Expr>,
    pub prompt: Option<Expr>,
    pub context: Context,
}

/// One model of a fallback chain and how long one call of it may take.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Attempt {
    pub model: ModelId,
    pub timeout_ms: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Agent {
    pub name: String,
    pub persona: Vec<ComponentId>,
    /// Instructions, then constraints.
    pub instructions: Vec<ComponentId>,
    pub format: Vec<ComponentId>,
}

/// How upstream text reaches the prompt.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "strategy", rename_all = "snake_case")]
pub enum Context {
    Fresh,
    /// Every upstream output, in completion order.
    All {
        upstream: Vec<NodeId>,
    },
    /// Those steps' outputs only.
    Steps {
        nodes: Vec<NodeId>,
    },
    /// Upstream outputs, summarized by `model` when over `max_tokens`
    /// (cut to the budget without a model).
    Summarized {
        max_tokens: u64,
        model: Option<ModelId>,
        upstream: Vec<NodeId>,
    },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Call {
    pub workflow: WorkflowId,
    pub args: Vec<(String, Expr)>,
}

/// `exec { command = [...]  stdin = …  env = {…}  cwd = … }`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Exec {
    pub command: Expr,
    pub stdin: Option<Expr>,
    pub env: Option<Expr>,
    /// Variables of spesc's own environment passed to the command as they
    /// are (`inherit = ["GITHUB_TOKEN"]`); nothing else is, beyond
    /// [`crate::runtime`]'s minimal set.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inherit: Vec<String>,
    pub cwd: Option<Expr>,
    /// `timeout` of a `compensate` command (a step's own is its policy's).
    pub timeout_ms: Option<u64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Fetch {
    pub url: Expr,
    /// Upper case: `GET`, `POST`, …
    pub method: String,
    pub headers: Option<Expr>,
    pub query: Option<Expr>,
    pub body: Option<Expr>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Ask {
    pub question: Option<Expr>,
    pub show: Option<Expr>,
    pub options: Option<Expr>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Loop {
    pub max: u64,
    pub best_by: Option<Expr>,
    pub until: Option<Expr>,
    /// The body's statements, run once per iteration.
    pub body: Vec<NodeId>,
}

/// How a step is tried: every default written out.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Policy {
    pub retry: RetryPolicy,
    /// One attempt of a step that calls no model (a model call's limit is
    /// its [`Attempt::timeout_ms`]); `null`: none (a person's answer).
    pub timeout_ms: Option<u64>,
    /// All attempts together; `null`: only the workflow's deadline.
    pub deadline_ms: Option<u64>,
    /// The value used when every attempt failed.
    pub on_error: Option<Expr>,
    /// A model call's reply is kept and reused by later runs.
    pub cache: bool,
    pub checks: Vec<Check>,
    /// The saga's undo, run if the run fails after this step succeeded.
    pub compensate: Option<Exec>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Check {
    pub condition: Expr,
    pub message: Expr,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Test {
    pub name: String,
    pub workflow: WorkflowId,
    pub args: Vec<(String, Expr)>,
    /// Canned outputs, by step name or id.
    pub given: Vec<(String, Expr)>,
    pub expect: Vec<Expectation>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Expectation {
    pub condition: Expr,
    /// As written, for the failure message.
    pub text: String,
}

impl Plan {
    pub fn workflow(&self, id: WorkflowId) -> &Workflow {
        &self.workflows[id.index()]
    }

    /// The workflow called `name`.
    pub fn find(&self, name: &str) -> Option<WorkflowId> {
        self.workflows
            .iter()
            .position(|w| w.name == name)
            .map(|i| WorkflowId(i as u32))
    }

    /// The workflows of the files named to run, in order.
    pub fn root_workflows(&self) -> Vec<&str> {
        self.workflows
            .iter()
            .filter(|w| w.root)
            .map(|w| w.name.as_str())
            .collect()
    }

    pub fn model(&self, id: ModelId) -> &Model {
        &self.models[id.index()]
    }

    pub fn component(&self, id: ComponentId) -> &Component {
        &self.components[id.index()]
    }

    /// The plan as JSON (`spesc plan --json`).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// A plan from its JSON, ready to run: indexes and fingerprints are
    /// rebuilt; a plan of another schema version is refused.
    pub fn from_json(text: &str) -> Result<Plan, String> {
        let mut plan: Plan =
            serde_json::from_str(text).map_err(|e| format!("not an execution plan: {e}"))?;
        if plan.schema != SCHEMA_VERSION {
            return Err(format!(
                "a plan of schema {}; this spesc reads schema {SCHEMA_VERSION}",
                plan.schema
            ));
        }
        plan.seal();
        Ok(plan)
    }

    /// Indexes, fingerprints and the hash, computed once the plan is built.
    fn seal(&mut self) {
        for workflow in &mut self.workflows {
            workflow.by_id = workflow
                .nodes
                .iter()
                .enumerate()
                .map(|(i, n)| (n.id.clone(), NodeId(i as u32)))
                .collect();
        }
        fingerprint::seal(self);
    }
}

impl Workflow {
    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id.index()]
    }

    /// The node with plan id `id` (`code.simple.direct`).
    pub fn find(&self, id: &str) -> Option<NodeId> {
        self.by_id.get(id).copied()
    }

    /// How many composites enclose `node`.
    pub fn depth(&self, node: &Node) -> usize {
        let mut depth = 0;
        let mut parent = node.parent.as_ref();
        while let Some(p) = parent {
            depth += 1;
            parent = self.node(p.node).parent.as_ref();
        }
        depth
    }
}

impl Node {
    pub fn kind(&self) -> NodeKind {
        self.action.kind()
    }
}
