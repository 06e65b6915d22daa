//! The workflow as a whole: its `return` against the declared output,
//! dependency cycles, and outputs nothing reads.

use super::*;

impl<'c, 'a> Body<'c, 'a> {
    /// Checks the `return` against the declared output; gives the output
    /// type.
    pub(super) fn result(&mut self) -> Option<Ty> {
        let expected = self.workflow.output.as_ref().map(|t| self.resolve_type(t));
        let Some(ret) = &self.workflow.ret else {
            if let (Some(expected), Some(output)) = (&expected, &self.workflow.output) {
                if !expected.is_error() {
                    self.report(
                        Diagnostic::new(
                            Code::E0202,
                            format!("workflow `{}` returns nothing", self.workflow.name.name),
                        )
                        .primary(output.span, format!("declared to return `{expected}`"))
                        .help("end the body with `return …`"),
                    );
                }
            }
            return expected;
        };
        self.in_return = true;
        let found = self.expr(&ret.value, expected.as_ref());
        if let (Some(expected), Some(output)) = (&expected, &self.workflow.output) {
            self.expect_fits(
                &found,
                expected,
                &ret.value,
                Some((output.span, "the workflow's declared output")),
            );
        } else {
            self.require_value(found, &ret.value);
        }
        self.in_return = false;
        // The result is used by whoever runs the workflow.
        for node in names_in(&ret.value) {
            if let Some(id) = self.lookup_local(&node).and_then(|b| b.node) {
                self.nodes[id].used = true;
            }
        }
        expected
    }

    pub(super) fn report_cycles(&mut self) {
        let order: Vec<NodeId> = (0..self.nodes.len()).collect();
        let found = graph::cycles(&order, |n| {
            self.nodes[n].deps.iter().map(|(d, _)| *d).collect()
        });
        for cycle in found {
            let names: Vec<&str> = cycle.iter().map(|&n| self.nodes[n].name.as_str()).collect();
            let mut diagnostic = if cycle.len() == 1 {
                Diagnostic::new(
                    Code::E0301,
                    format!("step `{}` depends on itself", names[0]),
                )
            } else {
                Diagnostic::new(
                    Code::E0301,
                    format!("dependency cycle between `{}`", names.join("`, `")),
                )
            };
            for (i, &from) in cycle.iter().enumerate() {
                let to = cycle[(i + 1) % cycle.len()];
                let Some((_, span)) = self.nodes[from].deps.iter().find(|(d, _)| *d == to) else {
                    continue;
                };
                let label = format!(
                    "`{}` reads `{}` here",
                    self.nodes[from].name, self.nodes[to].name
                );
                diagnostic = if i == 0 {
                    diagnostic.primary(*span, label)
                } else {
                    diagnostic.secondary(*span, label)
                };
            }
            let mut path = names.clone();
            path.push(names[0]);
            self.report(
                diagnostic
                    .note(format!("the cycle: {}", path.join(" → ")))
                    .help("a step runs after everything it reads; break the cycle by removing one reference"),
            );
        }
    }

    /// W0501: LLM steps, calls and `let`s whose value nobody reads.
    pub(super) fn report_unused(&mut self) {
        let mut upstream: Vec<NodeId> = self.whole_context.clone();
        let mut seen: HashSet<NodeId> = upstream.iter().copied().collect();
        while let Some(node) = upstream.pop() {
            let deps: Vec<NodeId> = self.nodes[node].deps.iter().map(|(d, _)| *d).collect();
            for dep in deps {
                self.nodes[dep].used = true;
                if seen.insert(dep) {
                    upstream.push(dep);
                }
            }
        }
        let unused: Vec<(String, Span, NodeKind)> = self
            .nodes
            .iter()
            .filter(|n| !n.used && matches!(n.kind, NodeKind::Llm | NodeKind::Call | NodeKind::Let))
            .filter(|n| !n.name.starts_with('_'))
            .map(|n| (n.name.clone(), n.span, n.kind))
            .collect();
        for (name, span, kind) in unused {
            let mut d = if kind == NodeKind::Let {
                Diagnostic::new(Code::W0501, format!("value of `{name}` is never used"))
            } else {
                Diagnostic::new(Code::W0501, format!("output of `{name}` is never used"))
                    .note("it still costs a model call on every run")
            };
            d = d.primary(span, "nothing reads this");
            self.report(d.help(format!(
                "use it, remove it, or name it `_{name}` to keep it"
            )));
        }
    }
}
