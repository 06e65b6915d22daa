//! The plan as a picture: `spesc graph FILE --format mermaid|dot`.
//!
//! Each workflow is a box; steps are nodes; an arrow runs from a step to
//! each step that reads it (dashed for `after`). A `let … = match`, a `for`
//! fan-out and a `loop` are drawn as a node of their own (a diamond, an
//! oval, a hexagon) with an arrow, labelled with the arm or `each`/`body`,
//! into one box per branch holding its steps. Whatever reads the `let` or
//! the loop reads it from that node.

use std::fmt::Write;

use super::print::Printer;
use super::{Action, Expr, Node, NodeKind, Plan, Workflow};

pub fn mermaid(plan: &Plan) -> String {
    let mut out = String::from("flowchart TD\n");
    for w in &plan.workflows {
        let _ = writeln!(
            out,
            "  subgraph {}[\"workflow {}\"]",
            id(&w.name, ""),
            escape(&w.name)
        );
        let _ = writeln!(out, "    direction TB");
        let print = Printer { plan, workflow: w };
        for group in groups(w, None) {
            mermaid_group(&mut out, &print, group, 2);
        }
        let _ = writeln!(out, "  end");
        for (from, to, dashed) in edges(w) {
            let arrow = if dashed { "-.->" } else { "-->" };
            let _ = writeln!(out, "  {} {arrow} {}", id(&w.name, from), id(&w.name, to));
        }
        for (composite, branch, _) in branch_edges(w) {
            let _ = writeln!(
                out,
                "  {} -->|\"{}\"| {}",
                id(&w.name, composite),
                escape(branch),
                id(&w.name, &format!("{composite}__{branch}"))
            );
        }
    }
    out
}

fn mermaid_group(out: &mut String, print: &Printer<'_>, group: Group<'_>, depth: usize) {
    let w = print.workflow;
    let pad = "  ".repeat(depth);
    match group {
        Group::Node(node) => {
            let label = format!("\"{}\"", escape(&label(print, node)));
            let (open, close) = shape(node).mermaid();
            let _ = writeln!(out, "{pad}{}{open}{label}{close}", id(&w.name, &node.id));
        }
        Group::Branch {
            parent,
            branch,
            members,
        } => {
            let _ = writeln!(
                out,
                "{pad}subgraph {}[\"{} · {}\"]",
                id(&w.name, &format!("{parent}__{branch}")),
                escape(parent),
                escape(branch)
            );
            for member in members {
                mermaid_group(out, print, member, depth + 1);
            }
            let _ = writeln!(out, "{pad}end");
        }
    }
}

pub fn dot(plan: &Plan) -> String {
    let mut out = String::from(
        "digraph spes {\n  rankdir=TB;\n  compound=true;\n  node [shape=box, fontname=\"Helvetica\"];\n",
    );
    for w in &plan.workflows {
        let _ = writeln!(out, "  subgraph \"cluster_{}\" {{", dot_escape(&w.name));
        let _ = writeln!(out, "    label=\"workflow {}\";", dot_escape(&w.name));
        let print = Printer { plan, workflow: w };
        for group in groups(w, None) {
            dot_group(&mut out, &print, group, 2);
        }
        let _ = writeln!(out, "  }}");
        for (from, to, dashed) in edges(w) {
            let style = if dashed { " [style=dashed]" } else { "" };
            let _ = writeln!(
                out,
                "  \"{}\" -> \"{}\"{style};",
                dot_escape(&format!("{}/{from}", w.name)),
                dot_escape(&format!("{}/{to}", w.name))
            );
        }
        // DOT draws an edge into a cluster as an edge to a node inside it,
        // clipped at the cluster's border (`lhead`).
        for (composite, branch, first) in branch_edges(w) {
            let _ = writeln!(
                out,
                "  \"{}\" -> \"{}\" [lhead=\"{}\", label=\"{}\"];",
                dot_escape(&format!("{}/{composite}", w.name)),
                dot_escape(&format!("{}/{first}", w.name)),
                dot_escape(&format!("cluster_{}/{composite}/{branch}", w.name)),
                dot_escape(branch)
            );
        }
    }
    out.push_str("}\n");
    out
}

fn dot_group(out: &mut String, print: &Printer<'_>, group: Group<'_>, depth: usize) {
    let w = print.workflow;
    let pad = "  ".repeat(depth);
    match group {
        Group::Node(node) => {
            let shape = shape(node).dot();
            let _ = writeln!(
                out,
                "{pad}\"{}\" [label=\"{}\", shape={shape}];",
                dot_escape(&format!("{}/{}", w.name, node.id)),
                dot_escape(&label(print, node))
            );
        }
        Group::Branch {
            parent,
            branch,
            members,
        } => {
            let _ = writeln!(
                out,
                "{pad}subgraph \"{}\" {{",
                dot_escape(&format!("cluster_{}/{parent}/{branch}", w.name))
            );
            let _ = writeln!(
                out,
                "{pad}  label=\"{} · {}\";",
                dot_escape(parent),
                dot_escape(branch)
            );
            for member in members {
                dot_group(out, print, member, depth + 1);
            }
            let _ = writeln!(out, "{pad}}}");
        }
    }
}

/// How a node is drawn, by kind.
enum Shape {
    Box,
    Double,
    Parallelogram,
    Oval,
    Diamond,
    Hexagon,
}

fn shape(node: &Node) -> Shape {
    match node.kind() {
        NodeKind::Loop => Shape::Hexagon,
        NodeKind::Let
            if matches!(
                node.action,
                Action::Let {
                    value: Expr::Match { .. }
                }
            ) =>
        {
            Shape::Diamond
        }
        NodeKind::Let => Shape::Oval,
        NodeKind::Ask => Shape::Parallelogram,
        NodeKind::Exec | NodeKind::Fetch => Shape::Double,
        NodeKind::Llm | NodeKind::Call => Shape::Box,
    }
}

impl Shape {
    /// The brackets around a Mermaid label.
    fn mermaid(&self) -> (&'static str, &'static str) {
        match self {
            Shape::Box => ("[", "]"),
            Shape::Double => ("[[", "]]"),
            Shape::Parallelogram => ("[/", "/]"),
            Shape::Oval => ("([", "])"),
            Shape::Diamond => ("{", "}"),
            Shape::Hexagon => ("{{", "}}"),
        }
    }

    fn dot(&self) -> &'static str {
        match self {
            Shape::Box => "box",
            Shape::Double => "component",
            Shape::Parallelogram => "parallelogram",
            Shape::Oval => "oval",
            Shape::Diamond => "diamond",
            Shape::Hexagon => "hexagon",
        }
    }
}

/// A node, or a branch of a composite with what it holds.
enum Group<'w> {
    Node(&'w Node),
    Branch {
        parent: &'w str,
        branch: &'w str,
        members: Vec<Group<'w>>,
    },
}

/// The nodes directly inside `place` (a composite's id and branch; `None`:
/// the top level), each composite followed by one group per branch.
fn groups<'w>(w: &'w Workflow, place: Option<(&str, &str)>) -> Vec<Group<'w>> {
    let mut out = Vec::new();
    let inside = |n: &Node| {
        n.parent
            .as_ref()
            .map(|p| (w.node(p.node).id.as_str(), p.branch.as_str()))
            == place
    };
    for node in w.nodes.iter().filter(|n| inside(n)) {
        out.push(Group::Node(node));
        let mut branches: Vec<&str> = Vec::new();
        for child in &w.nodes {
            match &child.parent {
                Some(p)
                    if w.node(p.node).id == node.id && !branches.contains(&p.branch.as_str()) =>
                {
                    branches.push(&p.branch)
                }
                _ => {}
            }
        }
        for branch in branches {
            out.push(Group::Branch {
                parent: &node.id,
                branch,
                members: groups(w, Some((&node.id, branch))),
            });
        }
    }
    out
}

/// (from, to, dashed): data flows from a node to its readers; `after` is
/// dashed.
fn edges(w: &Workflow) -> Vec<(&str, &str, bool)> {
    let mut out = Vec::new();
    for node in &w.nodes {
        for dep in &node.deps {
            out.push((w.node(*dep).id.as_str(), node.id.as_str(), false));
        }
        for dep in &node.after {
            out.push((w.node(*dep).id.as_str(), node.id.as_str(), true));
        }
    }
    out
}

/// (composite, branch, first node of the branch): the arrows from a
/// `match`, `for` or `loop` into its branches.
fn branch_edges(w: &Workflow) -> Vec<(&str, &str, &str)> {
    let mut out: Vec<(&str, &str, &str)> = Vec::new();
    for node in &w.nodes {
        if let Some(p) = &node.parent {
            let parent = w.node(p.node).id.as_str();
            if !out
                .iter()
                .any(|(id, branch, _)| *id == parent && *branch == p.branch)
            {
                out.push((parent, &p.branch, &node.id));
            }
        }
    }
    out
}

fn label(print: &Printer<'_>, node: &Node) -> String {
    let ty = node.ty.as_ref().map_or(String::new(), |t| format!(": {t}"));
    let what = match &node.action {
        Action::Llm(_) => String::new(),
        Action::Loop(l) => return format!("loop {} ≤{}", node.name, l.max),
        Action::Let { value } => match value {
            Expr::Match { subject, .. } => {
                return format!("{}{ty} = match {}", node.name, print.expr(subject))
            }
            Expr::For { var, source, .. } => {
                return format!("{}{ty} = for {var} in {}", node.name, print.expr(source))
            }
            _ => "let ".to_string(),
        },
        other => format!("{} ", other.kind().as_str()),
    };
    let guard = node
        .guard
        .as_ref()
        .map_or(String::new(), |g| format!(" when {}", print.expr(g)));
    format!("{what}{}{ty}{guard}", node.name)
}

/// A Mermaid id: letters, digits and `_` only.
fn id(workflow: &str, node: &str) -> String {
    let raw = format!("{workflow}__{node}");
    raw.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

/// Mermaid labels are quoted; quotes inside become `#quot;`.
fn escape(text: &str) -> String {
    text.replace('"', "#quot;")
}

fn dot_escape(text: &str) -> String {
    text.replace('\\', "\\\\").replace('"', "\\\"")
}
