//! Cycles in graphs: imports (E0103), steps (E0301), workflow calls (E0402);
//! and how deep calls nest (E0402).

use std::collections::{HashMap, HashSet, VecDeque};
use std::hash::Hash;

use super::problems::{FlowProblem, Link, Problem};
use crate::source::Span;

/// One cycle per strongly connected component that has one, as the path of
/// nodes in edge order starting from the component's first node in `order`.
/// Iterative (Tarjan), so a 10,000-step chain does not recurse 10,000 deep.
pub fn cycles<T, F>(order: &[T], edges: F) -> Vec<Vec<T>>
where
    T: Copy + Eq + Hash,
    F: Fn(T) -> Vec<T>,
{
    let adjacency: HashMap<T, Vec<T>> = order.iter().map(|&n| (n, edges(n))).collect();
    let next = |n: T| adjacency.get(&n).map(Vec::as_slice).unwrap_or(&[]);
    let mut index_of: HashMap<T, usize> = HashMap::new();
    let mut low: HashMap<T, usize> = HashMap::new();
    let mut on_stack: HashSet<T> = HashSet::new();
    let mut stack: Vec<T> = Vec::new();
    let mut components: Vec<Vec<T>> = Vec::new();
    for &root in order {
        if index_of.contains_key(&root) {
            continue;
        }
        // (node, next edge to look at)
        let mut work: Vec<(T, usize)> = vec![(root, 0)];
        while let Some(&mut (node, ref mut edge)) = work.last_mut() {
            if *edge == 0 && !index_of.contains_key(&node) {
                let i = index_of.len();
                index_of.insert(node, i);
                low.insert(node, i);
                stack.push(node);
                on_stack.insert(node);
            }
            if let Some(&target) = next(node).get(*edge) {
                *edge += 1;
                if !adjacency.contains_key(&target) {
                    continue;
                }
                if !index_of.contains_key(&target) {
                    work.push((target, 0));
                } else if on_stack.contains(&target) {
                    let l = low[&node].min(index_of[&target]);
                    low.insert(node, l);
                }
                continue;
            }
            work.pop();
            if let Some(&(parent, _)) = work.last() {
                let l = low[&parent].min(low[&node]);
                low.insert(parent, l);
            }
            if low[&node] == index_of[&node] {
                let mut component = Vec::new();
                while let Some(member) = stack.pop() {
                    on_stack.remove(&member);
                    component.push(member);
                    if member == node {
                        break;
                    }
                }
                components.push(component);
            }
        }
    }
    let position: HashMap<T, usize> = order.iter().enumerate().map(|(i, &n)| (n, i)).collect();
    let mut found: Vec<Vec<T>> = components
        .into_iter()
        .filter(|c| c.len() > 1 || next(c[0]).contains(&c[0]))
        .filter_map(|c| {
            let members: HashSet<T> = c.iter().copied().collect();
            let start = *c.iter().min_by_key(|n| position.get(n).copied())?;
            shortest_cycle(start, &members, next)
        })
        .collect();
    found.sort_by_key(|c| c.first().and_then(|n| position.get(n).copied()));
    found
}

/// The shortest path from `start` back to itself inside `members`.
fn shortest_cycle<'g, T, F>(start: T, members: &HashSet<T>, next: F) -> Option<Vec<T>>
where
    T: Copy + Eq + Hash + 'g,
    F: Fn(T) -> &'g [T],
{
    let mut came_from: HashMap<T, T> = HashMap::new();
    let mut queue = VecDeque::from([start]);
    while let Some(node) = queue.pop_front() {
        for &target in next(node) {
            if !members.contains(&target) {
                continue;
            }
            if target == start {
                let mut path = vec![node];
                let mut at = node;
                while at != start {
                    at = came_from[&at];
                    path.push(at);
                }
                path.reverse();
                return Some(path);
            }
            if target != start && !came_from.contains_key(&target) {
                came_from.insert(target, node);
                queue.push_back(target);
            }
        }
    }
    None
}

/// The most `call`s one run may have open inside one another. Each is a
/// level of the runtime's stack (a thousand overflowed it), and a real
/// workflow nests a few.
pub const MAX_CALL_DEPTH: usize = 64;

/// Which workflow calls which, and where: recursion and calls nested
/// deeper than [`MAX_CALL_DEPTH`] are refused (E0402).
#[derive(Default)]
pub(crate) struct CallGraph {
    /// Workflows in declaration order: (name, where its name is declared).
    pub workflows: Vec<(String, Span)>,
    /// (caller, callee, the call's span)
    pub calls: Vec<(String, String, Span)>,
}

impl CallGraph {
    pub fn report_recursion(&self, out: &mut Vec<Problem>) {
        let order: Vec<&str> = self.workflows.iter().map(|(n, _)| n.as_str()).collect();
        let callees = |caller: &str| -> Vec<&str> {
            self.calls
                .iter()
                .filter(|(from, _, _)| from == caller)
                .map(|(_, to, _)| to.as_str())
                .collect()
        };
        let cycles = cycles(&order, callees);
        if cycles.is_empty() {
            self.report_depth(out);
        }
        for cycle in cycles {
            let links = cycle
                .iter()
                .enumerate()
                .filter_map(|(i, from)| {
                    let to = cycle[(i + 1) % cycle.len()];
                    let (_, _, at) = self.calls.iter().find(|(f, t, _)| f == from && t == to)?;
                    Some(Link {
                        at: *at,
                        from: from.to_string(),
                        to: to.to_string(),
                    })
                })
                .collect();
            let cycle = cycle.iter().map(|name| name.to_string()).collect();
            out.push(FlowProblem::CallCycle { links, cycle }.into());
        }
    }
}

impl CallGraph {
    /// The longest chain of nested calls, if it is longer than
    /// [`MAX_CALL_DEPTH`], from the first workflow that starts one. Only
    /// for a graph without cycles.
    fn report_depth(&self, out: &mut Vec<Problem>) {
        let below = self.longest_chains();
        let deepest = self
            .workflows
            .iter()
            .filter_map(|(name, _)| below.get(name.as_str()).map(|b| (name.as_str(), *b)))
            .fold(None, |best: Option<(&str, Below)>, (name, b)| match best {
                Some((_, kept)) if kept.0 >= b.0 => best,
                _ => Some((name, b)),
            });
        let Some((root, (depth, Some(first)))) = deepest else {
            return;
        };
        if depth <= MAX_CALL_DEPTH {
            return;
        }
        let mut chain = vec![root.to_string()];
        let mut next = Some(first);
        while let Some(call) = next {
            let (_, callee, _) = &self.calls[call];
            chain.push(callee.clone());
            next = below.get(callee.as_str()).and_then(|(_, n)| *n);
        }
        out.push(
            FlowProblem::CallsTooDeep {
                at: self.calls[first].2,
                depth,
                chain,
            }
            .into(),
        );
    }

    /// For each workflow, how many calls nest below it at most and the
    /// first call on that chain: a post-order walk with its own stack, so
    /// a long chain does not recurse.
    fn longest_chains(&self) -> HashMap<&str, Below> {
        let mut calls_of: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, (caller, _, _)) in self.calls.iter().enumerate() {
            calls_of.entry(caller.as_str()).or_default().push(i);
        }
        let known: HashSet<&str> = self.workflows.iter().map(|(n, _)| n.as_str()).collect();
        let mut below: HashMap<&str, Below> = HashMap::new();
        for (root, _) in &self.workflows {
            let mut stack = vec![(root.as_str(), false)];
            while let Some((name, callees_done)) = stack.pop() {
                if below.contains_key(name) {
                    continue;
                }
                let calls = calls_of.get(name).map(Vec::as_slice).unwrap_or(&[]);
                if !callees_done {
                    stack.push((name, true));
                    let callees = calls.iter().map(|&i| self.calls[i].1.as_str());
                    stack.extend(callees.filter(|c| known.contains(c)).map(|c| (c, false)));
                    continue;
                }
                let longest = calls
                    .iter()
                    .filter_map(|&i| below.get(self.calls[i].1.as_str()).map(|b| (b.0 + 1, i)))
                    .max_by_key(|(depth, _)| *depth);
                below.insert(name, longest.map_or((0, None), |(d, i)| (d, Some(i))));
            }
        }
        below
    }
}

/// How many calls nest below a workflow at most, and the first call on
/// that chain (an index into [`CallGraph::calls`]).
type Below = (usize, Option<usize>);

#[cfg(test)]
mod tests {
    use super::*;

    fn edges(pairs: &'static [(u32, u32)]) -> impl Fn(u32) -> Vec<u32> {
        move |n| {
            pairs
                .iter()
                .filter(|(a, _)| *a == n)
                .map(|(_, b)| *b)
                .collect()
        }
    }

    #[test]
    fn finds_one_shortest_cycle_per_component_in_order() {
        let found = cycles(
            &[1, 2, 3, 4, 5],
            edges(&[(1, 2), (2, 3), (3, 1), (3, 2), (4, 4), (4, 5)]),
        );
        assert_eq!(found, vec![vec![1, 2, 3], vec![4]]);
    }

    #[test]
    fn a_long_chain_has_no_cycle_and_does_not_recurse() {
        let order: Vec<u32> = (0..100_000).collect();
        assert!(cycles(&order, |n| vec![n + 1]).is_empty());
    }
}
