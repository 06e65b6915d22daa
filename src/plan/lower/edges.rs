//! Edges: what each node reads, what a composite inherits from its
//! children, and the upstream nodes a `context = all` sees.

use std::collections::BTreeSet;

use crate::plan::expr::Expr;
use crate::plan::{Action, Context, Exec, Llm, Node, NodeId};

/// The nodes a node reads: its own expressions (not those of the nodes
/// inside its branches) and the steps its context names.
pub(super) fn reads(node: &Node) -> Vec<NodeId> {
    let mut out: BTreeSet<NodeId> = BTreeSet::new();
    let mut visit = |e: &Expr| {
        e.visit_nodes(&mut |n| {
            out.insert(n);
        })
    };
    node.guard.iter().for_each(&mut visit);
    if let Some(policy) = &node.policy {
        policy.on_error.iter().for_each(&mut visit);
        for check in &policy.checks {
            visit(&check.condition);
            visit(&check.message);
        }
        if let Some(undo) = &policy.compensate {
            exec_exprs(undo).into_iter().for_each(&mut visit);
        }
    }
    match &node.action {
        Action::Llm(llm) => {
            llm.system.iter().chain(&llm.prompt).for_each(&mut visit);
            if let Context::Steps { nodes } = &llm.context {
                out.extend(nodes.iter().copied());
            }
        }
        Action::Call(call) => call.args.iter().for_each(|(_, e)| visit(e)),
        Action::Exec(exec) => exec_exprs(exec).into_iter().for_each(&mut visit),
        Action::Fetch(f) => std::iter::once(&f.url)
            .chain(&f.headers)
            .chain(&f.query)
            .chain(&f.body)
            .for_each(&mut visit),
        Action::Ask(a) => a
            .question
            .iter()
            .chain(&a.show)
            .chain(&a.options)
            .for_each(&mut visit),
        Action::Let { value } => visit(value),
        Action::Loop(l) => l.best_by.iter().chain(&l.until).for_each(&mut visit),
    }
    out.into_iter().collect()
}

pub(super) fn exec_exprs(exec: &Exec) -> Vec<&Expr> {
    std::iter::once(&exec.command)
        .chain(&exec.stdin)
        .chain(&exec.env)
        .chain(&exec.cwd)
        .collect()
}

/// A composite also waits for whatever its children read from outside it,
/// so a scheduler can start it as one unit. Children come after their
/// parents, so walking backwards passes grandchildren's reads up too.
pub(super) fn inherit_reads(nodes: &mut [Node]) {
    for index in (0..nodes.len()).rev() {
        let Some(parent) = nodes[index].parent.as_ref().map(|p| p.node) else {
            continue;
        };
        let outside: Vec<NodeId> = nodes[index]
            .deps
            .iter()
            .copied()
            .filter(|d| !inside(nodes, *d, parent))
            .collect();
        let deps = &mut nodes[parent.index()].deps;
        deps.extend(outside);
        deps.sort();
        deps.dedup();
    }
    // A composite reads its branches' values; those are its own nodes.
    for index in 0..nodes.len() {
        let me = NodeId(index as u32);
        let deps: Vec<NodeId> = nodes[index]
            .deps
            .iter()
            .copied()
            .filter(|d| !inside(nodes, *d, me))
            .collect();
        nodes[index].deps = deps;
    }
}

/// Whether `node` is `ancestor` or sits inside it.
pub(super) fn inside(nodes: &[Node], node: NodeId, ancestor: NodeId) -> bool {
    let mut at = Some(node);
    while let Some(current) = at {
        if current == ancestor {
            return true;
        }
        at = nodes
            .get(current.index())
            .and_then(|n| n.parent.as_ref().map(|p| p.node));
    }
    false
}

/// `context = all` and `summarized(…)`: every node upstream of the step,
/// in plan order.
pub(super) fn fill_upstream(nodes: &mut [Node]) {
    for index in 0..nodes.len() {
        let wants = matches!(
            &nodes[index].action,
            Action::Llm(Llm {
                context: Context::All { .. } | Context::Summarized { .. },
                ..
            })
        );
        if !wants {
            continue;
        }
        let mut seen: BTreeSet<NodeId> = BTreeSet::new();
        let mut todo: Vec<NodeId> = vec![NodeId(index as u32)];
        while let Some(current) = todo.pop() {
            let node = &nodes[current.index()];
            for dep in node.deps.iter().chain(&node.after) {
                if seen.insert(*dep) {
                    todo.push(*dep);
                }
            }
        }
        seen.remove(&NodeId(index as u32));
        if let Action::Llm(Llm {
            context: Context::All { upstream } | Context::Summarized { upstream, .. },
            ..
        }) = &mut nodes[index].action
        {
            *upstream = seen.into_iter().collect();
        }
    }
}
