//! Text from a source file as a terminal may be shown it. A `.spes` file
//! is anybody's input: control characters in it could retitle or clear the
//! terminal, and bidirectional overrides could make the excerpt read
//! differently from what it is ("trojan source").

use std::borrow::Cow;

/// Whether `c` would act on the terminal, or reorder the text around it,
/// rather than show. Tabs, line feeds and carriage returns are layout.
fn acts(c: char) -> bool {
    (c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
        || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// A source excerpt: each acting character becomes one of the same UTF-8
/// length (`?`, `·` or `�`), so that every span still points where it did.
pub fn source(text: &str) -> Cow<'_, str> {
    if !text.chars().any(acts) {
        return Cow::Borrowed(text);
    }
    let shown = text
        .chars()
        .map(|c| match (acts(c), c.len_utf8()) {
            (false, _) => c,
            (true, 1) => '?',
            (true, 2) => '·',
            (true, _) => '\u{fffd}',
        })
        .collect();
    Cow::Owned(shown)
}

/// A message, label, note or file name: acting characters are written as
/// escapes (`\u{1b}`).
pub fn text(text: &str) -> Cow<'_, str> {
    if !text.chars().any(acts) {
        return Cow::Borrowed(text);
    }
    let mut shown = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if acts(c) {
            shown.extend(c.escape_unicode());
        } else {
            shown.push(c);
        }
    }
    Cow::Owned(shown)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpts_keep_their_length_and_lose_their_effects() {
        let hostile = "a\u{1b}]0;owned\u{7}b\u{9b}c\u{202e}d\te\r\n";
        let shown = source(hostile);
        assert_eq!(shown.len(), hostile.len());
        assert_eq!(shown, "a?]0;owned?b·c\u{fffd}d\te\r\n");
        assert!(matches!(source("plain\ttext\n"), Cow::Borrowed(_)));
    }

    #[test]
    fn messages_spell_out_what_they_hold() {
        assert_eq!(
            text("cannot import `\u{1b}[2J`"),
            "cannot import `\\u{1b}[2J`"
        );
        assert!(matches!(text("plain"), Cow::Borrowed(_)));
    }
}
