//! The lowering itself: a checked program's workflows → [`Plan`].

use std::collections::{BTreeSet, HashMap};

use super::{
    defaults, fingerprint, AttemptPlan, Backoff, ForPlan, LoopPlan, NodeKind, NodePlan, ParamPlan,
    Parent, Plan, Policy, RetryPlan, WorkflowPlan, SCHEMA_VERSION,
};
use crate::check::config::{duration_ms, find, int_value, number, text_value};
use crate::check::decls::{DeclKind, Decls};
use crate::check::program::Program;
use crate::check::visit_names;
use crate::source::FileId;
use crate::syntax::ast::{
    Action, Block, Clause, ClauseKind, ContextStrategy, Expr, ExprKind, Ident, RetryRef, Setting,
    SettingValue, StepDecl, Stmt, WorkflowDecl, WorkflowSettingKind,
};
use crate::syntax::{dump, print};

/// Lowers every workflow of a program the checker found free of errors.
pub(crate) fn lower(program: &Program) -> Plan {
    let decls = Decls::build(program, &mut Vec::new());
    let workflows: Vec<WorkflowPlan> = program
        .files
        .iter()
        .flat_map(|file| {
            file.ast.items.iter().filter_map(move |item| match item {
                crate::syntax::ast::Item::Workflow(w) => Some((file.id, w.as_ref())),
                _ => None,
            })
        })
        .map(|(file, workflow)| Lowering::new(&decls, file, workflow).workflow())
        .collect();
    let mut workflows = workflows;
    for node in workflows.iter_mut().flat_map(|w| &mut w.nodes) {
        node.fingerprint = node.compute_fingerprint();
    }
    let hash = fingerprint(&serde_json::to_vec(&workflows).unwrap_or_default());
    Plan {
        schema: SCHEMA_VERSION,
        hash,
        workflows,
    }
}

/// The clauses a workflow's `default …` settings give every step.
#[derive(Default)]
struct Defaults<'a> {
    clauses: Vec<&'a ClauseKind>,
}

impl<'a> Defaults<'a> {
    fn find<T>(&self, pick: impl Fn(&'a ClauseKind) -> Option<T>) -> Option<T> {
        self.clauses.iter().find_map(|c| pick(c))
    }
}

struct Lowering<'d, 'a> {
    decls: &'d Decls<'a>,
    file: FileId,
    workflow: &'a WorkflowDecl,
    defaults: Defaults<'a>,
    /// Name → node id, innermost block last.
    scopes: Vec<HashMap<String, String>>,
    nodes: Vec<NodePlan>,
}

impl<'d, 'a> Lowering<'d, 'a> {
    fn new(decls: &'d Decls<'a>, file: FileId, workflow: &'a WorkflowDecl) -> Self {
        let clauses = workflow
            .settings
            .iter()
            .filter_map(|s| match &s.kind {
                WorkflowSettingKind::Default(c) => Some(&c.kind),
                _ => None,
            })
            .collect();
        Lowering {
            decls,
            file,
            workflow,
            defaults: Defaults { clauses },
            scopes: vec![HashMap::new()],
            nodes: Vec::new(),
        }
    }

    fn workflow(mut self) -> WorkflowPlan {
        let w = self.workflow;
        self.block(&w.body, "", None);
        let setting = |pick: fn(&'a WorkflowSettingKind) -> Option<&'a Expr>| {
            w.settings.iter().find_map(|s| pick(&s.kind))
        };
        let deadline_ms = setting(|k| match k {
            WorkflowSettingKind::Deadline(e) => Some(e),
            _ => None,
        })
        .and_then(duration_ms);
        let max_concurrency = setting(|k| match k {
            WorkflowSettingKind::MaxConcurrency(e) => Some(e),
            _ => None,
        })
        .and_then(whole)
        .unwrap_or(defaults::MAX_CONCURRENCY);
        WorkflowPlan {
            name: w.name.name.clone(),
            doc: w.doc.as_ref().map(|d| d.text.clone()),
            params: w
                .params
                .iter()
                .map(|p| ParamPlan {
                    name: p.name.name.clone(),
                    ty: dump::ty(&p.ty),
                    default: p.default.as_ref().map(print::expr),
                })
                .collect(),
            output: w.output.as_ref().map(dump::ty),
            deadline_ms,
            max_concurrency,
            result: w.ret.as_ref().map(|r| print::expr(&r.value)),
            nodes: self.nodes,
        }
    }

    // ---- blocks and statements ---------------------------------------------------

    /// Lowers the statements of one block; `prefix` makes ids unique.
    fn block(&mut self, stmts: &'a [Stmt], prefix: &str, parent: Option<Parent>) {
        let frame: HashMap<String, String> = stmts
            .iter()
            .map(|s| {
                let name = &s.name().name;
                (name.clone(), format!("{prefix}{name}"))
            })
            .collect();
        self.scopes.push(frame);
        for stmt in stmts {
            match stmt {
                Stmt::Step(step) => self.step(step, prefix, parent.clone()),
                Stmt::Let(l) => {
                    let id = format!("{prefix}{}", l.name.name);
                    let mut node = self.node(&l.name, &id, NodeKind::Let, parent.clone());
                    node.doc = l.doc.as_ref().map(|d| d.text.clone());
                    node.ty = l.ty.as_ref().map(dump::ty);
                    node.source = print::expr(&l.value);
                    let first_child = self.nodes.len();
                    node.deps = self.value(&l.value, &id);
                    self.attach_composite(node, &l.value, first_child);
                }
                Stmt::Loop(l) => {
                    let id = format!("{prefix}{}", l.name.name);
                    let mut node = self.node(&l.name, &id, NodeKind::Loop, parent.clone());
                    node.doc = l.doc.as_ref().map(|d| d.text.clone());
                    let option = |key: &str| {
                        l.options
                            .iter()
                            .find(|a| a.name.as_ref().is_some_and(|n| n.name == key))
                            .map(|a| &a.value)
                    };
                    node.loop_plan = Some(LoopPlan {
                        max: option("max").and_then(whole).unwrap_or(1),
                        best_by: option("best_by").map(print::expr),
                        until: l.until.as_ref().map(print::expr),
                    });
                    let first_child = self.nodes.len();
                    let body_parent = Parent {
                        id: id.clone(),
                        branch: "body".to_string(),
                    };
                    let prefix = format!("{id}.");
                    self.block(&l.body, &prefix, Some(body_parent));
                    // `until` and `best_by` read the body's steps.
                    self.scopes.push(
                        l.body
                            .iter()
                            .map(|s| {
                                let name = &s.name().name;
                                (name.clone(), format!("{prefix}{name}"))
                            })
                            .collect(),
                    );
                    let mut reads = BTreeSet::new();
                    for e in option("best_by").into_iter().chain(l.until.as_ref()) {
                        reads.extend(self.reads(e));
                    }
                    self.scopes.pop();
                    node.deps = reads.into_iter().collect();
                    self.insert_before(first_child, node);
                    self.inherit_inputs(first_child);
                }
            }
        }
        self.scopes.pop();
    }

    /// A `let`'s value: the nodes it reads, after lowering the blocks inside
    /// it (match arms, `for` bodies, `if` branches) as its children.
    fn value(&mut self, e: &'a Expr, id: &str) -> Vec<String> {
        let mut reads: BTreeSet<String> = BTreeSet::new();
        match &e.kind {
            ExprKind::Match { scrutinee, arms } => {
                reads.extend(self.reads(scrutinee));
                for arm in arms {
                    let branch = arm
                        .patterns
                        .iter()
                        .map(dump::pattern)
                        .collect::<Vec<_>>()
                        .join(" | ");
                    reads.extend(self.branch(&arm.body, id, &branch));
                }
            }
            ExprKind::For { source, body, .. } => {
                reads.extend(self.reads(source));
                reads.extend(self.child_block(body, id, "each"));
            }
            ExprKind::If {
                condition,
                then,
                otherwise,
            } => {
                reads.extend(self.reads(condition));
                reads.extend(self.child_block(then, id, "then"));
                reads.extend(self.branch(otherwise, id, "else"));
            }
            ExprKind::Block(block) => reads.extend(self.child_block(block, id, "body")),
            ExprKind::Paren(inner) => return self.value(inner, id),
            _ => reads.extend(self.reads(e)),
        }
        reads.into_iter().collect()
    }

    fn branch(&mut self, e: &'a Expr, id: &str, branch: &str) -> Vec<String> {
        match &e.kind {
            ExprKind::Block(block) => self.child_block(block, id, branch),
            _ => self.value(e, id),
        }
    }

    /// A nested block: its statements become children of `id` in `branch`;
    /// its value is read by the composite.
    fn child_block(&mut self, block: &'a Block, id: &str, branch: &str) -> Vec<String> {
        let prefix = super::branch_prefix(id, branch);
        let parent = Parent {
            id: id.to_string(),
            branch: branch.to_string(),
        };
        // The block's value is resolved inside the block's scope.
        let frame: HashMap<String, String> = block
            .stmts
            .iter()
            .map(|s| {
                let name = &s.name().name;
                (name.clone(), format!("{prefix}{name}"))
            })
            .collect();
        self.block(&block.stmts, &prefix, Some(parent));
        self.scopes.push(frame);
        let reads = self.reads(&block.value);
        self.scopes.pop();
        reads
    }

    /// Places a composite (`let` with blocks) before its children and gives
    /// it the inputs its children read from outside.
    fn attach_composite(&mut self, mut node: NodePlan, value: &'a Expr, first_child: usize) {
        match &value.kind {
            ExprKind::For {
                var,
                source,
                options,
                ..
            } => {
                let option = |key: &str| {
                    options
                        .iter()
                        .find(|a| a.name.as_ref().is_some_and(|n| n.name == key))
                        .map(|a| &a.value)
                };
                node.fan_out = Some(ForPlan {
                    var: var.name.clone(),
                    source: print::expr(source),
                    concurrency: option("concurrency")
                        .and_then(whole)
                        .unwrap_or(defaults::FOR_CONCURRENCY),
                    tolerate: option("tolerate").map_or(0.0, share),
                });
            }
            ExprKind::Match { scrutinee, .. } => node.matches = Some(print::expr(scrutinee)),
            _ => {}
        }
        self.insert_before(first_child, node);
        self.inherit_inputs(first_child);
    }

    fn insert_before(&mut self, index: usize, node: NodePlan) {
        self.nodes.insert(index, node);
    }

    /// The composite at `index` also waits for whatever its children read
    /// from outside it, so a scheduler can start it as one unit.
    fn inherit_inputs(&mut self, index: usize) {
        let id = self.nodes[index].id.clone();
        let inside = format!("{id}.");
        let mut deps: BTreeSet<String> = self.nodes[index].deps.iter().cloned().collect();
        for child in &self.nodes[index + 1..] {
            if !child.id.starts_with(&inside) {
                break;
            }
            deps.extend(
                child
                    .deps
                    .iter()
                    .filter(|d| !d.starts_with(&inside) && **d != id)
                    .cloned(),
            );
        }
        deps.retain(|d| !d.starts_with(&inside));
        self.nodes[index].deps = deps.into_iter().collect();
    }

    // ---- steps ---------------------------------------------------------------------

    fn step(&mut self, step: &'a StepDecl, prefix: &str, parent: Option<Parent>) {
        let id = format!("{prefix}{}", step.name.name);
        let kind = NodeKind::of(&step.action);
        let mut node = self.node(&step.name, &id, kind, parent);
        node.doc = step.doc.as_ref().map(|d| d.text.clone());
        node.ty = Some(dump::ty(&step.ty));
        let mut reads: BTreeSet<String> = BTreeSet::new();
        let mut source = Vec::new();
        for e in step_exprs(step) {
            reads.extend(self.reads(e));
            source.push(print::expr(e));
        }
        node.source = source.join("\n");
        if let Some(ContextStrategy::Steps(names, _)) = self.clause(step, |k| match k {
            ClauseKind::Context(c) => Some(c),
            _ => None,
        }) {
            reads.extend(names.iter().filter_map(|n| self.resolve(&n.name)));
        }
        reads.remove(&id);
        node.deps = reads.into_iter().collect();
        node.after = self
            .clause(step, |k| match k {
                ClauseKind::After(names) => Some(names),
                _ => None,
            })
            .into_iter()
            .flatten()
            .filter_map(|n| self.resolve(&n.name))
            .collect();
        node.guard = step.clauses.iter().find_map(|c| match &c.kind {
            ClauseKind::When(e) => Some(print::expr(e)),
            _ => None,
        });
        if let Action::Call { workflow, .. } = &step.action {
            node.calls = Some(workflow.name.clone());
        }
        if kind == NodeKind::Llm {
            node.agent = self
                .clause(step, |k| match k {
                    ClauseKind::Agent(a) => Some(a),
                    _ => None,
                })
                .map(|a| a.name.clone());
            node.attempts = self.attempts(step);
        }
        node.policy = Some(self.policy(step, kind));
        self.nodes.push(node);
    }

    fn node(&self, name: &Ident, id: &str, kind: NodeKind, parent: Option<Parent>) -> NodePlan {
        NodePlan {
            id: id.to_string(),
            name: name.name.clone(),
            kind,
            doc: None,
            ty: None,
            parent,
            deps: Vec::new(),
            after: Vec::new(),
            guard: None,
            attempts: Vec::new(),
            agent: None,
            policy: None,
            calls: None,
            loop_plan: None,
            fan_out: None,
            matches: None,
            source: String::new(),
            fingerprint: String::new(),
        }
    }

    /// A clause of the step, or else of the workflow's defaults.
    fn clause<T>(
        &self,
        step: &'a StepDecl,
        pick: impl Fn(&'a ClauseKind) -> Option<T>,
    ) -> Option<T> {
        step.clauses
            .iter()
            .find_map(|c| pick(&c.kind))
            .or_else(|| self.defaults.find(&pick))
    }

    /// The fallback chain: the step's models, else its agent's, else the
    /// workflow's default.
    fn attempts(&self, step: &'a StepDecl) -> Vec<AttemptPlan> {
        let own = step.clauses.iter().find_map(|c| match &c.kind {
            ClauseKind::Model(chain) => Some(chain.iter().map(|m| m.name.clone()).collect()),
            _ => None,
        });
        let agent = || -> Option<Vec<String>> {
            let name = step.clauses.iter().find_map(|c| match &c.kind {
                ClauseKind::Agent(a) => Some(a),
                _ => None,
            })?;
            let DeclKind::Agent(agent) = self.decl(&name.name)? else {
                return None;
            };
            match &find(&agent.settings, "model")?.value {
                SettingValue::Chain(chain) => Some(chain.iter().map(|m| m.name.clone()).collect()),
                SettingValue::Expr(Expr {
                    kind: ExprKind::Name(n),
                    ..
                }) => Some(vec![n.name.clone()]),
                _ => None,
            }
        };
        let default = || {
            self.defaults.find(|k| match k {
                ClauseKind::Model(chain) => Some(chain.iter().map(|m| m.name.clone()).collect()),
                _ => None,
            })
        };
        let chain: Vec<String> = own.or_else(agent).or_else(default).unwrap_or_default();
        chain
            .into_iter()
            .map(|model| {
                let settings = match self.decl(&model) {
                    Some(DeclKind::Model(m)) => m.settings.as_slice(),
                    _ => &[],
                };
                let text = |key: &str| find(settings, key).and_then(|s| text_value(&s.value));
                let provider = text("provider").unwrap_or_default();
                let key_env = crate::check::config::api_key_variable(
                    Some(&provider),
                    text("base_url").as_deref(),
                    text("api_key_env"),
                );
                AttemptPlan {
                    provider,
                    name: text("name"),
                    model,
                    key_env,
                }
            })
            .collect()
    }

    fn policy(&self, step: &'a StepDecl, kind: NodeKind) -> Policy {
        let expr_clause = |pick: fn(&'a ClauseKind) -> Option<&'a Expr>| self.clause(step, pick);
        let timeout_ms = expr_clause(|k| match k {
            ClauseKind::Timeout(e) => Some(e),
            _ => None,
        })
        .and_then(duration_ms)
        .or_else(|| action_timeout(step))
        .or((kind != NodeKind::Ask).then_some(defaults::TIMEOUT_MS));
        let deadline_ms = expr_clause(|k| match k {
            ClauseKind::Deadline(e) => Some(e),
            _ => None,
        })
        .and_then(duration_ms);
        let context = self
            .clause(step, |k| match k {
                ClauseKind::Context(c) => Some(context_text(c)),
                _ => None,
            })
            .unwrap_or_else(|| "fresh".to_string());
        Policy {
            retry: self.retry(step, kind),
            timeout_ms,
            deadline_ms,
            on_error: step.clauses.iter().find_map(|c| match &c.kind {
                ClauseKind::OnError(e) => Some(print::expr(e)),
                _ => None,
            }),
            cache: expr_clause(|k| match k {
                ClauseKind::Cache(e) => Some(e),
                _ => None,
            })
            .is_some_and(|e| matches!(e.kind, ExprKind::Bool(true))),
            context,
            checks: step
                .clauses
                .iter()
                .filter_map(|c| match &c.kind {
                    ClauseKind::Check { condition, .. } => Some(print::expr(condition)),
                    _ => None,
                })
                .collect(),
            compensate: step
                .clauses
                .iter()
                .any(|c| matches!(c.kind, ClauseKind::Compensate(_))),
        }
    }

    fn retry(&self, step: &'a StepDecl, kind: NodeKind) -> RetryPlan {
        let attempts_default = match kind {
            NodeKind::Exec | NodeKind::Ask => defaults::ATTEMPTS_EXEC_ASK,
            _ => defaults::ATTEMPTS,
        };
        let reference = self.clause(step, |k| match k {
            ClauseKind::Retry(r) => Some(r),
            _ => None,
        });
        let (policy, settings): (Option<String>, &[Setting]) = match reference {
            Some(RetryRef::Named(name)) => match self.decl(&name.name) {
                Some(DeclKind::Retry(r)) => (Some(name.name.clone()), r.settings.as_slice()),
                _ => (Some(name.name.clone()), &[]),
            },
            Some(RetryRef::Inline(settings, _)) => (None, settings.as_slice()),
            None => (None, &[]),
        };
        let attempts = find(settings, "attempts")
            .and_then(|s| int_value(&s.value))
            .and_then(|n| u64::try_from(n).ok())
            .unwrap_or(attempts_default);
        RetryPlan {
            policy,
            attempts,
            backoff: find(settings, "backoff").map_or(default_backoff(), |s| backoff(&s.value)),
            jitter: find(settings, "jitter")
                .and_then(|s| text_value(&s.value))
                .unwrap_or_else(|| defaults::JITTER.to_string()),
            on: match find(settings, "on").map(|s| &s.value) {
                Some(SettingValue::Expr(Expr {
                    kind: ExprKind::List(items),
                    ..
                })) => items
                    .iter()
                    .filter_map(|i| match &i.kind {
                        ExprKind::Name(n) => Some(n.name.clone()),
                        _ => None,
                    })
                    .collect(),
                _ => defaults::RETRY_ON.iter().map(|s| s.to_string()).collect(),
            },
        }
    }

    // ---- names -----------------------------------------------------------------------

    fn decl(&self, name: &str) -> Option<DeclKind<'a>> {
        let id = self.decls.id_of(self.file, name)?;
        Some(self.decls.all[id].kind)
    }

    fn resolve(&self, name: &str) -> Option<String> {
        self.scopes.iter().rev().find_map(|f| f.get(name)).cloned()
    }

    /// The nodes an expression reads.
    fn reads(&self, e: &Expr) -> Vec<String> {
        let mut out = Vec::new();
        visit_names(e, &mut |name| out.extend(self.resolve(name)));
        out
    }
}

/// Every expression a step evaluates: clauses and its action's settings.
fn step_exprs(step: &StepDecl) -> Vec<&Expr> {
    let mut out: Vec<&Expr> = Vec::new();
    for Clause { kind, .. } in &step.clauses {
        match kind {
            ClauseKind::Prompt(e)
            | ClauseKind::System(e)
            | ClauseKind::Timeout(e)
            | ClauseKind::Deadline(e)
            | ClauseKind::When(e)
            | ClauseKind::OnError(e)
            | ClauseKind::Cache(e) => out.push(e),
            ClauseKind::Check { condition, message } => {
                out.push(condition);
                out.push(message);
            }
            ClauseKind::Compensate(block) => out.extend(setting_exprs(&block.settings)),
            _ => {}
        }
    }
    match &step.action {
        Action::Call { args, .. } => out.extend(args.iter().map(|a| &a.value)),
        Action::Exec(b) | Action::Fetch(b) | Action::Ask(b) => {
            out.extend(setting_exprs(&b.settings))
        }
        Action::Llm => {}
    }
    out
}

fn setting_exprs(settings: &[Setting]) -> Vec<&Expr> {
    settings
        .iter()
        .flat_map(|s| match &s.value {
            SettingValue::Expr(e) => vec![e],
            SettingValue::Block(inner, _) => setting_exprs(inner),
            SettingValue::Chain(_) => Vec::new(),
        })
        .collect()
}

fn action_timeout(step: &StepDecl) -> Option<u64> {
    match &step.action {
        Action::Exec(b) | Action::Fetch(b) | Action::Ask(b) => match b.get("timeout") {
            Some(SettingValue::Expr(e)) => duration_ms(e),
            _ => None,
        },
        _ => None,
    }
}

fn context_text(strategy: &ContextStrategy) -> String {
    match strategy {
        ContextStrategy::Fresh(_) => "fresh".to_string(),
        ContextStrategy::All(_) => "all".to_string(),
        ContextStrategy::Steps(names, _) => {
            let names: Vec<&str> = names.iter().map(|n| n.name.as_str()).collect();
            format!("[{}]", names.join(", "))
        }
        ContextStrategy::Summarized(args, _) => {
            let args: Vec<String> = args
                .iter()
                .map(|a| match &a.name {
                    Some(n) => format!("{} = {}", n.name, print::expr(&a.value)),
                    None => print::expr(&a.value),
                })
                .collect();
            format!("summarized({})", args.join(", "))
        }
    }
}

fn default_backoff() -> Backoff {
    Backoff::Exponential {
        base_ms: defaults::BACKOFF_BASE_MS,
        factor: defaults::BACKOFF_FACTOR,
        max_ms: defaults::BACKOFF_MAX_MS,
    }
}

fn backoff(value: &SettingValue) -> Backoff {
    let SettingValue::Expr(Expr {
        kind: ExprKind::Call { function, args },
        ..
    }) = value
    else {
        return default_backoff();
    };
    let arg = |name: &str, position: usize| {
        args.iter()
            .enumerate()
            .find(|(i, a)| a.name.as_ref().map_or(*i == position, |n| n.name == name))
            .map(|(_, a)| &a.value)
    };
    match function.name.as_str() {
        "constant" => Backoff::Constant {
            delay_ms: arg("delay", 0).and_then(duration_ms).unwrap_or(0),
        },
        _ => Backoff::Exponential {
            base_ms: arg("base", 0)
                .and_then(duration_ms)
                .unwrap_or(defaults::BACKOFF_BASE_MS),
            factor: arg("factor", 1)
                .and_then(number)
                .unwrap_or(defaults::BACKOFF_FACTOR),
            max_ms: arg("max", 2)
                .and_then(duration_ms)
                .unwrap_or(defaults::BACKOFF_MAX_MS),
        },
    }
}

fn whole(e: &Expr) -> Option<u64> {
    match &e.kind {
        ExprKind::Int(n) => u64::try_from(*n).ok(),
        _ => None,
    }
}

/// `10%` → 0.1; a plain number is already a share.
fn share(e: &Expr) -> f64 {
    match &e.kind {
        ExprKind::Percent(p) => p / 100.0,
        _ => number(e).unwrap_or(0.0),
    }
}
