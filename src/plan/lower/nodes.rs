//! One workflow → its nodes, in two passes. The first ([`super::layout`])
//! gives every statement its node id, its stable id text and its place
//! (parent and branch), in source order, parents first, and names every
//! branch; the second (here) builds each node from the checker's facts,
//! then [`super::edges`] fills in what each node reads.

use std::collections::HashMap;

use super::edges::{fill_upstream, inherit_reads, reads};
use super::expr::Lowering;
use super::layout::{Layout, Slot};
use super::TypeTable;
use crate::check::policy::choose;
use crate::check::{Checked, CheckedWorkflow, StepFacts};
use crate::lang::policy::defaults;
use crate::plan::expr::Expr;
use crate::plan::{
    Action, Agent, Ask, Attempt, Call, Check, ComponentId, Context, Exec, Fetch, Llm, Loop,
    ModelId, Node, Policy, Workflow, WorkflowId,
};
use crate::syntax::ast::{
    self, Action as StepAction, ClauseKind, ContextStrategy, ExprKind, Item, SettingValue,
    StepDecl, Stmt,
};

/// Lowers one workflow of a checked program.
pub(super) fn workflow(
    checked: &Checked,
    types: &mut TypeTable,
    facts: &CheckedWorkflow,
) -> Workflow {
    let file = checked.program.file(facts.file);
    let decl = file.and_then(|f| match f.ast.items.get(facts.item) {
        Some(Item::Workflow(w)) => Some(w.as_ref()),
        _ => None,
    });
    let (Some(file), Some(decl)) = (file, decl) else {
        // The checker made the facts from this file's items.
        return Workflow::empty();
    };
    let mut layout = Layout::default();
    layout.block(&decl.body, "", None);
    let slots = std::mem::take(&mut layout.slots);
    let mut lowering = Lowering::new(checked, types, layout.nodes, layout.branches);
    let mut nodes: Vec<Node> = slots
        .iter()
        .map(|slot| node(&mut lowering, decl, slot))
        .collect();
    inherit_reads(&mut nodes);
    fill_upstream(&mut nodes);
    let body = decl
        .body
        .iter()
        .filter_map(|s| lowering.node(s.name().span))
        .collect();
    let dir = file
        .path
        .parent()
        .map(|d| d.display().to_string())
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| ".".to_string());
    Workflow {
        name: decl.name.name.clone(),
        doc: decl.doc.as_ref().map(|d| d.text.clone()),
        root: checked.is_root(facts.file),
        dir,
        params: super::params(&mut lowering, decl, &facts.params),
        output: facts.output.as_ref().map(|t| lowering.types.ty(t)),
        deadline_ms: facts.deadline_ms,
        max_concurrency: facts.max_concurrency,
        body,
        result: decl.ret.as_ref().map(|r| lowering.expr(&r.value)),
        nodes,
        by_id: HashMap::new(),
    }
}

impl Workflow {
    fn empty() -> Workflow {
        Workflow {
            name: String::new(),
            doc: None,
            root: false,
            dir: ".".to_string(),
            params: Vec::new(),
            output: None,
            deadline_ms: None,
            max_concurrency: None,
            body: Vec::new(),
            nodes: Vec::new(),
            result: None,
            by_id: HashMap::new(),
        }
    }
}

// ---- the second pass: nodes ----------------------------------------------------

fn node(lowering: &mut Lowering<'_, '_>, workflow: &ast::WorkflowDecl, slot: &Slot<'_>) -> Node {
    let mut node = Node {
        id: slot.id.clone(),
        name: slot.stmt.name().name.clone(),
        doc: None,
        ty: None,
        parent: slot.parent.clone(),
        deps: Vec::new(),
        after: Vec::new(),
        guard: None,
        policy: None,
        action: Action::Let {
            value: Expr::Const(serde_json::Value::Null),
        },
        fingerprint: String::new(),
    };
    match slot.stmt {
        Stmt::Step(step) => step_node(lowering, workflow, step, &mut node),
        Stmt::Let(l) => {
            node.doc = l.doc.as_ref().map(|d| d.text.clone());
            node.ty = lowering
                .checked
                .lets
                .get(&l.name.span)
                .map(|t| lowering.types.ty(t));
            node.action = Action::Let {
                value: lowering.expr(&l.value),
            };
        }
        Stmt::Loop(l) => {
            node.doc = l.doc.as_ref().map(|d| d.text.clone());
            node.ty = lowering
                .checked
                .lets
                .get(&l.name.span)
                .map(|t| lowering.types.ty(t));
            let option = |key: &str| {
                l.options
                    .iter()
                    .find(|a| a.name.as_ref().is_some_and(|n| n.name == key))
                    .map(|a| &a.value)
            };
            node.action = Action::Loop(Loop {
                max: match option("max").map(|e| &e.kind) {
                    Some(ExprKind::Int(n)) => u64::try_from(*n).unwrap_or(1),
                    _ => 1,
                },
                best_by: option("best_by").map(|e| lowering.expr(e)),
                until: l.until.as_ref().map(|e| lowering.expr(e)),
                body: l
                    .body
                    .iter()
                    .filter_map(|s| lowering.node(s.name().span))
                    .collect(),
            });
        }
    }
    node.deps = reads(&node);
    node
}

fn step_node(
    lowering: &mut Lowering<'_, '_>,
    workflow: &ast::WorkflowDecl,
    step: &StepDecl,
    node: &mut Node,
) {
    let Some(facts) = lowering.checked.steps.get(&step.name.span) else {
        return;
    };
    let facts: StepFacts = facts.clone();
    node.doc = step.doc.as_ref().map(|d| d.text.clone());
    node.ty = Some(lowering.types.ty(&facts.ty));
    let clause = |pick: fn(&ClauseKind) -> Option<&ast::Expr>| {
        step.clauses.iter().find_map(|c| pick(&c.kind))
    };
    node.guard = clause(|k| match k {
        ClauseKind::When(e) => Some(e),
        _ => None,
    })
    .map(|e| lowering.expr(e));
    node.after = step
        .clauses
        .iter()
        .filter_map(|c| match &c.kind {
            ClauseKind::After(names) => Some(names),
            _ => None,
        })
        .flatten()
        .filter_map(|n| lowering.referenced(n))
        .collect();
    let on_error = clause(|k| match k {
        ClauseKind::OnError(e) => Some(e),
        _ => None,
    })
    .map(|e| lowering.expr(e));
    let checks = step
        .clauses
        .iter()
        .filter_map(|c| match &c.kind {
            ClauseKind::Check { condition, message } => Some((condition, message)),
            _ => None,
        })
        .map(|(condition, message)| Check {
            condition: lowering.expr(condition),
            message: lowering.expr(message),
        })
        .collect();
    let compensate = step
        .clauses
        .iter()
        .find_map(|c| match &c.kind {
            ClauseKind::Compensate(block) => Some(block),
            _ => None,
        })
        .map(|block| exec(lowering, &block.settings));
    node.action = match &step.action {
        StepAction::Llm => Action::Llm(llm(lowering, workflow, step, &facts)),
        StepAction::Call { workflow, args } => Action::Call(Call {
            workflow: WorkflowId(
                lowering
                    .checked
                    .calls
                    .get(&workflow.span)
                    .copied()
                    .unwrap_or(0) as u32,
            ),
            args: args
                .iter()
                .filter_map(|a| Some((a.name.as_ref()?.name.clone(), lowering.expr(&a.value))))
                .collect(),
        }),
        StepAction::Exec(block) => Action::Exec(exec(lowering, &block.settings)),
        StepAction::Fetch(block) => Action::Fetch(fetch(lowering, &block.settings)),
        StepAction::Ask(block) => Action::Ask(Ask {
            question: setting(lowering, &block.settings, "question"),
            show: setting(lowering, &block.settings, "show"),
            options: setting(lowering, &block.settings, "options"),
        }),
    };
    let is_llm = matches!(node.action, Action::Llm(_));
    node.policy = Some(Policy {
        retry: facts.policy.retry.clone(),
        timeout_ms: facts.policy.timeout_ms,
        deadline_ms: facts.policy.deadline_ms,
        on_error,
        cache: facts.policy.cache && is_llm,
        checks,
        compensate,
    });
}

fn llm(
    lowering: &mut Lowering<'_, '_>,
    workflow: &ast::WorkflowDecl,
    step: &StepDecl,
    facts: &StepFacts,
) -> Llm {
    let chosen = choose(&step.clauses, workflow);
    let components = |ids: &[usize]| -> Vec<ComponentId> {
        ids.iter().map(|&i| ComponentId(i as u32)).collect()
    };
    let prompt = step.clauses.iter().find_map(|c| match &c.kind {
        ClauseKind::Prompt(e) => Some(e),
        _ => None,
    });
    Llm {
        models: facts
            .models
            .iter()
            .map(|&(model, timeout_ms)| Attempt {
                model: ModelId(model as u32),
                timeout_ms,
            })
            .collect(),
        agent: facts.agent.as_ref().map(|a| Agent {
            name: a.name.clone(),
            persona: components(&a.persona),
            instructions: components(&a.instructions),
            format: components(&a.format),
        }),
        system: chosen.system().map(|e| lowering.expr(e)),
        prompt: prompt.map(|e| lowering.expr(e)),
        context: match chosen.context() {
            None | Some(ContextStrategy::Fresh(_)) => Context::Fresh,
            Some(ContextStrategy::All(_)) => Context::All {
                upstream: Vec::new(),
            },
            Some(ContextStrategy::Steps(names, _)) => Context::Steps {
                nodes: names
                    .iter()
                    .filter_map(|n| lowering.referenced(n))
                    .collect(),
            },
            Some(ContextStrategy::Summarized(args, _)) => {
                let arg = |key: &str| {
                    args.iter()
                        .find(|a| a.name.as_ref().is_some_and(|n| n.name == key))
                        .map(|a| &a.value)
                };
                Context::Summarized {
                    max_tokens: match arg("max_tokens").map(|e| &e.kind) {
                        Some(ExprKind::Int(n)) => u64::try_from(*n).unwrap_or(0),
                        _ => defaults::SUMMARY_MAX_TOKENS,
                    },
                    model: arg("model").and_then(|e| match &e.kind {
                        ExprKind::Name(n) => lowering.model(n),
                        _ => None,
                    }),
                    upstream: Vec::new(),
                }
            }
        },
    }
}

/// `exec { command  stdin  env  inherit  cwd }` (and a compensation's
/// `timeout`).
fn exec(lowering: &mut Lowering<'_, '_>, settings: &[ast::Setting]) -> Exec {
    Exec {
        command: setting(lowering, settings, "command").unwrap_or(Expr::List(Vec::new())),
        stdin: setting(lowering, settings, "stdin"),
        env: setting(lowering, settings, "env"),
        inherit: settings
            .iter()
            .find(|s| s.key.name == "inherit")
            .and_then(|s| crate::check::settings::names_value(&s.value))
            .unwrap_or_default(),
        cwd: setting(lowering, settings, "cwd"),
        timeout_ms: settings
            .iter()
            .find(|s| s.key.name == "timeout")
            .and_then(|s| match &s.value {
                SettingValue::Expr(e) => crate::check::settings::duration_ms(e),
                _ => None,
            }),
    }
}

fn fetch(lowering: &mut Lowering<'_, '_>, settings: &[ast::Setting]) -> Fetch {
    let method = settings
        .iter()
        .find(|s| s.key.name == "method")
        .and_then(|s| crate::check::settings::text_value(&s.value))
        .map_or_else(|| "GET".to_string(), |m| m.to_uppercase());
    Fetch {
        url: setting(lowering, settings, "url").unwrap_or(Expr::Const("".into())),
        method,
        headers: setting(lowering, settings, "headers"),
        query: setting(lowering, settings, "query"),
        body: setting(lowering, settings, "body"),
    }
}

/// A setting's value: an expression, or a block of settings as a record
/// (`headers = { Accept = "…" }`).
fn setting(lowering: &mut Lowering<'_, '_>, settings: &[ast::Setting], key: &str) -> Option<Expr> {
    let found = settings.iter().find(|s| s.key.name == key)?;
    Some(value(lowering, &found.value))
}

fn value(lowering: &mut Lowering<'_, '_>, value: &SettingValue) -> Expr {
    match value {
        SettingValue::Expr(e) => lowering.expr(e),
        SettingValue::Block(inner, _) => Expr::Record(
            inner
                .iter()
                .map(|s| (s.key.name.clone(), self::value(lowering, &s.value)))
                .collect(),
        ),
        SettingValue::Chain(names) => Expr::List(
            names
                .iter()
                .map(|n| Expr::Const(n.name.as_str().into()))
                .collect(),
        ),
    }
}
