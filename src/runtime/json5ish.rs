//! JSON as models write it when they write it loosely, rewritten as JSON:
//! `//` and `/* */` comments, unquoted keys and string values, single-,
//! backtick- and triple-quoted strings, raw newlines in strings, trailing
//! commas and missing commas between members. One pass over the text;
//! each kind of fix is named, for the run record.

use std::collections::BTreeSet;

/// Where the scan is: what the next bare word would be.
#[derive(Clone, Copy, PartialEq)]
enum Place {
    Key,
    Value,
}

struct Rewrite {
    out: String,
    fixes: BTreeSet<&'static str>,
    /// Innermost last: `true` for an object.
    open: Vec<bool>,
    place: Place,
    /// The last thing written ends a value (a comma may be missing).
    after_value: bool,
}

/// The text as JSON, and what was fixed; `None` when nothing needed it,
/// or when it is not an object or a list (bare prose is not loose JSON).
pub fn rewrite(text: &str) -> Option<(String, Vec<&'static str>)> {
    if !text.trim_start().starts_with(['{', '[']) {
        return None;
    }
    let chars: Vec<char> = text.chars().collect();
    let mut r = Rewrite {
        out: String::with_capacity(text.len() + 16),
        fixes: BTreeSet::new(),
        open: Vec::new(),
        place: Place::Value,
        after_value: false,
    };
    let mut i = 0;
    while i < chars.len() {
        i = r.step(&chars, i);
    }
    if r.fixes.is_empty() {
        return None;
    }
    Some((r.out, r.fixes.into_iter().collect()))
}

impl Rewrite {
    /// Handles what starts at `i`; gives where the next thing starts.
    fn step(&mut self, chars: &[char], i: usize) -> usize {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        match c {
            c if c.is_whitespace() => {
                self.out.push(c);
                i + 1
            }
            '/' if next == Some('/') => {
                self.fixes.insert("comments removed");
                (i..chars.len())
                    .find(|&j| chars[j] == '\n')
                    .unwrap_or(chars.len())
            }
            '/' if next == Some('*') => {
                self.fixes.insert("comments removed");
                (i + 2..chars.len().saturating_sub(1))
                    .find(|&j| chars[j] == '*' && chars[j + 1] == '/')
                    .map_or(chars.len(), |j| j + 2)
            }
            '{' | '[' => {
                self.before_value();
                self.out.push(c);
                self.open.push(c == '{');
                self.place = if c == '{' { Place::Key } else { Place::Value };
                self.after_value = false;
                i + 1
            }
            '}' | ']' => {
                if self.out.trim_end().ends_with(',') {
                    let keep = self.out.trim_end().len() - 1;
                    self.out.truncate(keep);
                    self.fixes.insert("trailing comma removed");
                }
                self.out.push(c);
                self.open.pop();
                self.after_value = true;
                i + 1
            }
            ',' => {
                self.out.push(',');
                self.place = self.member_start();
                self.after_value = false;
                i + 1
            }
            ':' => {
                self.out.push(':');
                self.place = Place::Value;
                self.after_value = false;
                i + 1
            }
            '"' if next == Some('"') && chars.get(i + 2) == Some(&'"') => {
                let end = find_from(chars, i + 3, &['"', '"', '"']);
                self.fixes.insert("triple-quoted string read");
                self.string(&chars[i + 3..end.min(chars.len())]);
                (end + 3).min(chars.len())
            }
            '"' => {
                let (end, raw_newline) = double_quoted_end(chars, i + 1);
                self.before_value();
                for &ch in &chars[i..end.min(chars.len())] {
                    if ch == '\n' {
                        self.out.push_str("\\n");
                    } else {
                        self.out.push(ch);
                    }
                }
                if raw_newline {
                    self.fixes.insert("raw newline in a string escaped");
                }
                self.done_string();
                end
            }
            '\'' | '`' => {
                let end = (i + 1..chars.len())
                    .find(|&j| chars[j] == c && chars[j - 1] != '\\')
                    .unwrap_or(chars.len());
                self.fixes.insert("single quotes replaced");
                self.string(&chars[i + 1..end]);
                (end + 1).min(chars.len())
            }
            _ => self.bare(chars, i),
        }
    }

    /// A bare word: a key, a literal, or a string value written unquoted.
    fn bare(&mut self, chars: &[char], i: usize) -> usize {
        // After a value with no comma, this starts the next member.
        self.before_value();
        let place = self.place;
        let stops = |ch: char| match place {
            Place::Key => ch == ':' || ch.is_whitespace() || "{}[],\"'".contains(ch),
            Place::Value => ch == '\n' || "{}[],".contains(ch),
        };
        let end = (i..chars.len())
            .find(|&j| stops(chars[j]))
            .unwrap_or(chars.len());
        let end = end.max(i + 1);
        let word: String = chars[i..end].iter().collect();
        let word = word.trim_end();
        let is_literal = matches!(word, "true" | "false" | "null") || word.parse::<f64>().is_ok();
        if place == Place::Key && self.open.last() == Some(&true) {
            self.fixes.insert("unquoted keys quoted");
            self.string_raw(word);
        } else if is_literal {
            self.before_value();
            self.out.push_str(word);
            self.after_value = true;
        } else {
            self.fixes.insert("unquoted text quoted");
            self.string_raw(word);
        }
        end
    }

    /// A string's content (unescaped) as a JSON string.
    fn string(&mut self, content: &[char]) {
        let text: String = content.iter().collect();
        self.string_raw(&text.replace("\\'", "'").replace("\\`", "`"));
    }

    fn string_raw(&mut self, text: &str) {
        self.before_value();
        self.out
            .push_str(&serde_json::Value::String(text.to_string()).to_string());
        self.done_string();
    }

    fn done_string(&mut self) {
        self.after_value = self.place == Place::Value || self.open.last() != Some(&true);
    }

    /// A value (or key) is about to be written: a comma goes first if the
    /// model left it out between two members.
    fn before_value(&mut self) {
        if self.after_value {
            self.out.push(',');
            self.fixes.insert("missing comma added");
            self.place = self.member_start();
        }
        self.after_value = false;
    }

    fn member_start(&self) -> Place {
        if self.open.last() == Some(&true) {
            Place::Key
        } else {
            Place::Value
        }
    }
}

/// Where a `"…"` string that starts at `from` ends (after its closing
/// quote), and whether it held a raw newline.
fn double_quoted_end(chars: &[char], from: usize) -> (usize, bool) {
    let mut raw_newline = false;
    let mut j = from;
    while j < chars.len() {
        match chars[j] {
            '\\' => j += 1,
            '"' => return (j + 1, raw_newline),
            '\n' => raw_newline = true,
            _ => {}
        }
        j += 1;
    }
    (chars.len(), raw_newline)
}

fn find_from(chars: &[char], from: usize, pattern: &[char]) -> usize {
    (from..chars.len())
        .find(|&j| chars[j..].starts_with(pattern))
        .unwrap_or(chars.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn read(text: &str) -> (Value, Vec<&'static str>) {
        let (json, fixes) = rewrite(text).expect("something to fix");
        let value = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{json}: {e}"));
        (value, fixes)
    }

    #[test]
    fn json5_like_text_becomes_json() {
        let (value, fixes) = read(
            "{\n  // the name\n  name: 'Ada \"the first\" Lovelace',\n  role: engineer\n  /* born */ year: 1815,\n  tags: [`a`, b,],\n}",
        );
        assert_eq!(
            value,
            json!({"name": "Ada \"the first\" Lovelace", "role": "engineer", "year": 1815, "tags": ["a", "b"]})
        );
        assert_eq!(
            fixes,
            [
                "comments removed",
                "missing comma added",
                "single quotes replaced",
                "trailing comma removed",
                "unquoted keys quoted",
                "unquoted text quoted"
            ]
        );
    }

    #[test]
    fn raw_newlines_and_triple_quotes_are_read() {
        let (value, _) = read("{\"a\": \"one\ntwo\", \"b\": \"\"\"x \"y\"\nz\"\"\"}");
        assert_eq!(value, json!({"a": "one\ntwo", "b": "x \"y\"\nz"}));
    }

    #[test]
    fn valid_json_and_prose_are_left_alone() {
        assert!(rewrite("{\"a\": [1, 2], \"b\": \"c: d\"}").is_none());
        assert!(rewrite("I cannot answer that.").is_none());
    }

    #[test]
    fn any_text_is_rewritten_without_a_panic() {
        const PIECES: &[&str] = &[
            "{", "}", "[", "]", ",", ":", "\"", "'", "`", "\"\"\"", "/", "*", "//", "/*", "\\",
            "\n", " ", "a", "1", "true", "é", "x y",
        ];
        let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
        for _ in 0..20_000 {
            let mut text = String::from("{");
            for _ in 0..(seed % 24) {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                text.push_str(PIECES[(seed % PIECES.len() as u64) as usize]);
            }
            let _ = rewrite(&text);
        }
    }
}
