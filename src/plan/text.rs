//! The plan as text for people: `spesc plan FILE`.

use std::fmt::Write;

use super::{Backoff, NodePlan, Plan, Policy, WorkflowPlan};

pub fn render(plan: &Plan) -> String {
    let mut out = format!("plan {}\n", plan.hash);
    for workflow in &plan.workflows {
        out.push('\n');
        render_workflow(&mut out, workflow);
    }
    out
}

fn render_workflow(out: &mut String, w: &WorkflowPlan) {
    let params: Vec<String> = w
        .params
        .iter()
        .map(|p| match &p.default {
            Some(d) => format!("{}: {} = {d}", p.name, p.ty),
            None => format!("{}: {}", p.name, p.ty),
        })
        .collect();
    let output = w
        .output
        .as_deref()
        .map_or(String::new(), |o| format!(" -> {o}"));
    let _ = writeln!(out, "workflow {}({}){output}", w.name, params.join(", "));
    let _ = writeln!(
        out,
        "  deadline {} · max_concurrency {}",
        show_ms(w.deadline_ms),
        w.max_concurrency
    );
    for node in &w.nodes {
        render_node(out, node, super::depth(w, node));
    }
    if let Some(result) = &w.result {
        let _ = writeln!(out, "  result {result}");
    }
}

fn render_node(out: &mut String, node: &NodePlan, depth: usize) {
    let indent = "  ".repeat(depth + 1);
    let ty = node
        .ty
        .as_deref()
        .map_or(String::new(), |t| format!(": {t}"));
    let place = node
        .parent
        .as_ref()
        .map_or(String::new(), |p| format!("  (in {} · {})", p.id, p.branch));
    let _ = writeln!(out, "{indent}{} {}{ty}{place}", node.kind.as_str(), node.id);
    let more = format!("{indent}    ");
    let mut line = |label: &str, text: String| {
        let _ = writeln!(out, "{more}{label} {text}");
    };
    if !node.deps.is_empty() {
        line("reads", node.deps.join(", "));
    }
    if !node.after.is_empty() {
        line("after", node.after.join(", "));
    }
    if let Some(guard) = &node.guard {
        line("when", guard.clone());
    }
    if let Some(agent) = &node.agent {
        line("agent", agent.clone());
    }
    if !node.attempts.is_empty() {
        let attempts: Vec<String> = node
            .attempts
            .iter()
            .map(|a| match &a.name {
                Some(name) => format!("{} ({} {name})", a.model, a.provider),
                None => format!("{} ({})", a.model, a.provider),
            })
            .collect();
        line("models", attempts.join(" → "));
    }
    if let Some(workflow) = &node.calls {
        line("calls", workflow.clone());
    }
    if let Some(policy) = &node.policy {
        line("retry", retry_line(policy));
        line("limits", limits_line(policy));
    }
    if let Some(l) = &node.loop_plan {
        let mut text = format!("max {}", l.max);
        if let Some(best) = &l.best_by {
            let _ = write!(text, " · best_by {best}");
        }
        if let Some(until) = &l.until {
            let _ = write!(text, " · until {until}");
        }
        line("loop", text);
    }
    if let Some(f) = &node.fan_out {
        line(
            "for",
            format!(
                "{} in {} · concurrency {} · tolerate {}%",
                f.var,
                f.source,
                f.concurrency,
                f.tolerate * 100.0
            ),
        );
    }
    if let Some(m) = &node.matches {
        line("match", m.clone());
    }
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
    format!(
        "{named}{attempts} · {backoff} · jitter {} · on {}",
        p.retry.jitter,
        p.retry.on.join(", ")
    )
}

fn limits_line(p: &Policy) -> String {
    let mut text = format!(
        "timeout {} · deadline {} · context {}",
        show_ms(p.timeout_ms),
        show_ms(p.deadline_ms),
        p.context
    );
    if let Some(value) = &p.on_error {
        let _ = write!(text, " · on_error {value}");
    }
    if p.cache {
        text.push_str(" · cached");
    }
    if p.compensate {
        text.push_str(" · compensated");
    }
    for check in &p.checks {
        let _ = write!(text, " · check {check}");
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
