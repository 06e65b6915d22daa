//! The workflow as a whole: its `return` against the declared output,
//! dependency cycles, and outputs nothing reads.

use super::*;
use crate::check::problems::Link;

impl<'c, 'a> Body<'c, 'a> {
    /// Checks the `return` against the declared output; gives the output
    /// type.
    pub(super) fn result(&mut self) -> Option<Ty> {
        let expected = self.workflow.output.as_ref().map(|t| self.resolve_type(t));
        let Some(ret) = &self.workflow.ret else {
            if let (Some(expected), Some(output)) = (&expected, &self.workflow.output) {
                if !expected.is_error() {
                    self.report(FlowProblem::ReturnsNothing {
                        at: output.span,
                        workflow: self.workflow.name.name.clone(),
                        expected: expected.to_string(),
                    });
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
            let links = cycle
                .iter()
                .enumerate()
                .filter_map(|(i, &from)| {
                    let to = cycle[(i + 1) % cycle.len()];
                    let (_, at) = self.nodes[from].deps.iter().find(|(d, _)| *d == to)?;
                    Some(Link {
                        at: *at,
                        from: self.nodes[from].name.clone(),
                        to: self.nodes[to].name.clone(),
                    })
                })
                .collect();
            let cycle = cycle.iter().map(|&n| self.nodes[n].name.clone()).collect();
            self.report(FlowProblem::StepCycle { links, cycle });
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
            self.report(FlowProblem::Unused {
                at: span,
                name,
                is_let: kind == NodeKind::Let,
            });
        }
    }
}
