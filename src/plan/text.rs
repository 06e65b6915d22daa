//! The plan as text for people: `spesc plan FILE`. Every setting the
//! runtime uses is shown; `spesc plan --json` has each in full.

use std::fmt::Write;

use super::print::Printer;
use super::{Action, Context, Node, NodeKind, Plan, Policy, Workflow};
use crate::lang::model::Model;
use crate::lang::policy::Backoff;

pub fn render(plan: &Plan) -> String {
    let mut out = format!("plan {}\n", plan.hash);
    if !plan.models.is_empty() {
        out.push('\n');
    }
    for model in &plan.models {
        let _ = writeln!(out, "{}", model_line(model));
    }
    for workflow in &plan.workflows {
        out.push('\n');
        render_workflow(&mut out, plan, workflow);
    }
    out
}

fn model_line(m: &Model) -> String {
    let mut text = format!("model {}: {} `{}`", m.name, m.provider.as_str(), m.model);
    let mut add = |part: String| {
        text.push_str(" · ");
        text.push_str(&part);
    };
    if let Some(url) = &m.base_url {
        add(format!("at {url}"));
    }
    if let Some(key) = &m.key_env {
        add(format!("key ${key}"));
    }
    if let Some(t) = m.temperature {
        add(format!("temperature {t}"));
    }
    if let Some(n) = m.max_tokens {
        add(format!("max_tokens {n}"));
    }
    if let Some(n) = m.rpm {
        add(format!("rpm {n}"));
    }
    if let Some(n) = m.concurrency {
        add(format!("concurrency {n}"));
    }
    if let Some(ms) = m.idle_timeout_ms {
        add(format!("idle_timeout {}", show_ms(Some(ms))));
    }
    if m.stream {
        add("stream".to_string());
    }
    if m.structured_output {
        add("structured_output".to_string());
    }
    add(format!(
        "breaker {} failures, {} cooldown",
        m.breaker.failures,
        show_ms(Some(m.breaker.cooldown_ms))
    ));
    if let Some(p) = m.price {
        add(format!("price ${}/${} per 1M tokens", p.input, p.output));
    }
    text
}

fn render_workflow(out: &mut String, plan: &Plan, w: &Workflow) {
    let print = Printer { plan, workflow: w };
    let params: Vec<String> = w
        .params
        .iter()
        .map(|p| match &p.default {
            Some(d) => format!("{}: {} = {}", p.name, p.ty, print.expr(d)),
            None => format!("{}: {}", p.name, p.ty),
        })
        .collect();
    let output = w
        .output
        .as_ref()
        .map_or(String::new(), |o| format!(" -> {o}"));
    let _ = writeln!(out, "workflow {}({}){output}", w.name, params.join(", "));
    let _ = writeln!(
        out,
        "  deadline {} · max_concurrency {}",
        show_ms(w.deadline_ms),
        w.max_concurrency
            .map_or("none".to_string(), |n| n.to_string())
    );
    for node in &w.nodes {
        render_node(out, &print, node, w.depth(node));
    }
    if let Some(result) = &w.result {
        let _ = writeln!(out, "  result {}", print.expr(result));
    }
}

fn render_node(out: &mut String, print: &Printer<'_>, node: &Node, depth: usize) {
    let indent = "  ".repeat(depth + 1);
    let ty = node.ty.as_ref().map_or(String::new(), |t| format!(": {t}"));
    let place = node.parent.as_ref().map_or(String::new(), |p| {
        format!("  (in {} · {})", print.workflow.node(p.node).id, p.branch)
    });
    let _ = writeln!(
        out,
        "{indent}{} {}{ty}{place}",
        node.kind().as_str(),
        node.id
    );
    let more = format!("{indent}    ");
    let mut line = |label: &str, text: String| {
        let _ = writeln!(out, "{more}{label} {text}");
    };
    let ids = |ids: &[super::NodeId]| -> String {
        ids.iter()
            .map(|id| print.workflow.node(*id).id.clone())
            .collect::<Vec<_>>()
            .join(", ")
    };
    if !node.deps.is_empty() {
        line("reads", ids(&node.deps));
    }
    if !node.after.is_empty() {
        line("after", ids(&node.after));
    }
    if let Some(guard) = &node.guard {
        line("when", print.expr(guard));
    }
    for (label, text) in action_lines(print, &node.action) {
        line(label, text);
    }
    if let Some(policy) = &node.policy {
        line("retry", retry_line(policy));
        line("limits", limits_line(print, policy, node.kind()));
    }
}

/// What a node's action shows: its models, its call, its command…
fn action_lines(print: &Printer<'_>, action: &Action) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    match action {
        Action::Llm(llm) => {
            if let Some(agent) = &llm.agent {
                out.push(("agent", agent.name.clone()));
            }
            let models: Vec<String> = llm
                .models
                .iter()
                .map(|a| {
                    let m = print.plan.model(a.model);
                    format!(
                        "{} ({} {}, timeout {})",
                        m.name,
                        m.provider.as_str(),
                        m.model,
                        show_ms(Some(a.timeout_ms))
                    )
                })
                .collect();
            out.push(("models", models.join(" → ")));
            if let Some(system) = &llm.system {
                out.push(("system", short(&print.expr(system))));
            }
            if let Some(prompt) = &llm.prompt {
                out.push(("prompt", short(&print.expr(prompt))));
            }
            out.push(("context", context_text(print, &llm.context)));
        }
        Action::Call(call) => {
            let args: Vec<String> = call
                .args
                .iter()
                .map(|(name, e)| format!("{name} = {}", print.expr(e)))
                .collect();
            out.push((
                "calls",
                format!(
                    "{}({})",
                    print.plan.workflow(call.workflow).name,
                    args.join(", ")
                ),
            ));
        }
        Action::Exec(exec) => out.push(("exec", print.expr(&exec.command))),
        Action::Fetch(fetch) => out.push((
            "fetch",
            format!("{} {}", fetch.method, print.expr(&fetch.url)),
        )),
        Action::Ask(ask) => {
            if let Some(q) = &ask.question {
                out.push(("asks", short(&print.expr(q))));
            }
        }
        Action::Let { value } => match value {
            super::Expr::For {
                var,
                source,
                concurrency,
                tolerate,
                ..
            } => out.push((
                "for",
                format!(
                    "{var} in {} · concurrency {concurrency} · tolerate {}%",
                    print.expr(source),
                    tolerate * 100.0
                ),
            )),
            super::Expr::Match { subject, .. } => out.push(("match", print.expr(subject))),
            other => out.push(("value", short(&print.expr(other)))),
        },
        Action::Loop(l) => {
            let mut text = format!("max {}", l.max);
            if let Some(best) = &l.best_by {
                let _ = write!(text, " · best_by {}", print.expr(best));
            }
            if let Some(until) = &l.until {
                let _ = write!(text, " · until {}", print.expr(until));
            }
            out.push(("loop", text));
        }
    }
    out
}

fn context_text(print: &Printer<'_>, context: &Context) -> String {
    let names = |ids: &[super::NodeId]| -> String {
        ids.iter()
            .map(|id| print.workflow.node(*id).name.clone())
            .collect::<Vec<_>>()
            .join(", ")
    };
    match context {
        Context::Fresh => "fresh".to_string(),
        Context::All { upstream } => format!("all [{}]", names(upstream)),
        Context::Steps { nodes } => format!("[{}]", names(nodes)),
        Context::Summarized {
            max_tokens,
            model,
            upstream,
        } => format!(
            "summarized(max_tokens = {max_tokens}, model = {}) [{}]",
            model.map_or("none".to_string(), |m| print.plan.model(m).name.clone()),
            names(upstream)
        ),
    }
}

/// A long expression cut to one readable line.
fn short(text: &str) -> String {
    const MAX: usize = 100;
    if text.chars().count() <= MAX {
        return text.to_string();
    }
    let cut: String = text.chars().take(MAX).collect();
    format!("{cut}…")
}

fn retry_line(p: &Policy) -> String {
    let backoff = match &p.retry.backoff {
        Backoff::Exponential {
            base_ms,
            factor,
            max_ms,
        } => format!(
            "exponential(base {}, ×{factor}, max {})",
            show_ms(Some(*base_ms)),
            show_ms(Some(*max_ms))
        ),
        Backoff::Constant { delay_ms } => format!("constant({})", show_ms(Some(*delay_ms))),
    };
    let named = p
        .retry
        .policy
        .as_deref()
        .map_or(String::new(), |n| format!("{n}: "));
    let attempts = match p.retry.attempts {
        1 => "1 attempt".to_string(),
        n => format!("{n} attempts"),
    };
    let on: Vec<&str> = p.retry.on.iter().map(|c| c.as_str()).collect();
    format!(
        "{named}{attempts} · {backoff} · jitter {} · on {}",
        p.retry.jitter.as_str(),
        on.join(", ")
    )
}

/// A step's limits; a model call's timeout is on its `models` line.
fn limits_line(print: &Printer<'_>, p: &Policy, kind: NodeKind) -> String {
    let mut text = match kind {
        NodeKind::Llm => format!("deadline {}", show_ms(p.deadline_ms)),
        _ => format!(
            "timeout {} · deadline {}",
            show_ms(p.timeout_ms),
            show_ms(p.deadline_ms)
        ),
    };
    if let Some(value) = &p.on_error {
        let _ = write!(text, " · on_error {}", print.expr(value));
    }
    if p.cache {
        text.push_str(" · cached");
    }
    if let Some(undo) = &p.compensate {
        let _ = write!(text, " · compensate {}", print.expr(&undo.command));
    }
    for check in &p.checks {
        let _ = write!(text, " · check {}", print.expr(&check.condition));
    }
    text
}

/// `30s`, `1m30s`, `250ms`, or `none`.
pub fn show_ms(ms: Option<u64>) -> String {
    let Some(ms) = ms else {
        return "none".to_string();
    };
    if ms % 1000 != 0 {
        return format!("{ms}ms");
    }
    let seconds = ms / 1000;
    match (seconds / 3600, seconds % 3600 / 60, seconds % 60) {
        (0, 0, s) => format!("{s}s"),
        (0, m, 0) => format!("{m}m"),
        (0, m, s) => format!("{m}m{s}s"),
        (h, 0, 0) => format!("{h}h"),
        (h, m, s) => format!("{h}h{m}m{s}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_the_language() {
        assert_eq!(show_ms(None), "none");
        assert_eq!(show_ms(Some(250)), "250ms");
        assert_eq!(show_ms(Some(30_000)), "30s");
        assert_eq!(show_ms(Some(90_000)), "1m30s");
        assert_eq!(show_ms(Some(600_000)), "10m");
        assert_eq!(show_ms(Some(3_600_000)), "1h");
    }
}
