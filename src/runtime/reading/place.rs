//! Where a value sits in a reply: inside a code fence or not, with prose
//! around it or not — the repairs its context needs. Found once per
//! reply, so each candidate's context is known in constant time.

use std::ops::Range;

const FENCE: &str = "code fence stripped";
const PROSE: &str = "prose around the JSON removed";

/// A reply's fences and the span of its non-blank text.
pub struct Places<'t> {
    text: &'t str,
    fences: Vec<Fence>,
    /// From the first non-blank byte to just after the last.
    content: Range<usize>,
}

/// ```` ```json … ``` ````: all of it, and its body without blanks.
struct Fence {
    outer: Range<usize>,
    body: Range<usize>,
}

impl<'t> Places<'t> {
    pub fn of(text: &'t str) -> Self {
        Places {
            text,
            fences: fences(text),
            content: trimmed(text, 0..text.len()),
        }
    }

    /// The repairs a value at `start..end` needs to be read alone.
    pub fn context(&self, start: usize, end: usize) -> Vec<String> {
        let mut repairs = Vec::new();
        let around = match self.fence_at(start) {
            Some(fence) => {
                repairs.push(FENCE.to_string());
                let inside = fence.body.start < start || fence.body.end > end;
                (inside, fence.outer.clone())
            }
            None => (false, start..end),
        };
        let (inside, span) = around;
        if inside || self.content.start < span.start || self.content.end > span.end {
            repairs.push(PROSE.to_string());
        }
        repairs
    }

    /// The text an enum's name is looked for in: the body of the reply's
    /// only fence, or the reply.
    pub fn body(&self) -> (&'t str, Vec<String>) {
        match self.fences.as_slice() {
            [fence] => (&self.text[fence.body.clone()], vec![FENCE.to_string()]),
            _ => (&self.text[self.content.clone()], Vec::new()),
        }
    }

    /// What a scalar may be read from: the reply, and each fence's body
    /// that holds no object or list (those are found as values).
    pub fn scalars(&self) -> Vec<(&'t str, Vec<String>)> {
        let mut found = vec![(&self.text[self.content.clone()], Vec::new())];
        for fence in &self.fences {
            let body = &self.text[fence.body.clone()];
            if !body.starts_with(['{', '[']) {
                found.push((body, self.context(fence.body.start, fence.body.end)));
            }
        }
        found.retain(|(body, _)| !body.is_empty() && !body.starts_with(['{', '[']));
        found
    }

    fn fence_at(&self, at: usize) -> Option<&Fence> {
        let after = self.fences.partition_point(|f| f.outer.start <= at);
        self.fences[..after].last().filter(|f| f.outer.end > at)
    }
}

/// Every fence, in order; one that is never closed runs to the end (the
/// reply was cut off in it).
fn fences(text: &str) -> Vec<Fence> {
    let mut found = Vec::new();
    let mut at = 0;
    while let Some(offset) = text[at..].find("```") {
        let open = at + offset;
        let after = open + 3;
        let tag_end = text[after..].find('\n').map_or(text.len(), |i| after + i);
        let is_tag = text[after..tag_end]
            .trim()
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-+_.".contains(c));
        let body_start = if is_tag { tag_end } else { after };
        let (body_end, end) = match text[body_start..].find("```") {
            Some(i) => (body_start + i, body_start + i + 3),
            None => (text.len(), text.len()),
        };
        found.push(Fence {
            outer: open..end,
            body: trimmed(text, body_start..body_end),
        });
        at = end;
    }
    found
}

/// `range` without the blanks at either end.
fn trimmed(text: &str, range: Range<usize>) -> Range<usize> {
    let slice = &text[range.clone()];
    let start = range.start + (slice.len() - slice.trim_start().len());
    let end = range.start + slice.trim_end().len();
    start..end.max(start)
}
