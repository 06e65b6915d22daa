//! JSON as models write it, read in one pass: `//` and `/* */` comments,
//! unquoted keys and string values, single-, backtick- and triple-quoted
//! strings, raw newlines and unescaped quotes inside strings, trailing and
//! missing commas, and a text cut off mid-value (every open string, list
//! and object is closed where the text ends, and the place is kept). Each
//! kind of fix is named, for the run record. Valid JSON reads as
//! `serde_json` reads it.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

/// Deeper nesting than this is not read: a reply is never that deep, and
/// a text of a million `[` must not overflow the stack.
const DEEPEST: usize = 128;

/// A key or a list index on the way from the top value to another.
#[derive(Clone, Debug, PartialEq)]
pub enum Segment {
    Key(String),
    Index(usize),
}

/// One value read from the text.
#[derive(Debug)]
pub struct Loose {
    pub value: Value,
    pub fixes: BTreeSet<&'static str>,
    /// Byte offset just after the value.
    pub end: usize,
    /// Where the text ended inside the value, when it was cut off: the
    /// path to the innermost value still arriving (every value on the way
    /// is unfinished too); `None` when the value is complete.
    pub cut: Option<Vec<Segment>>,
}

/// The value that starts at byte `start` of `text` (a `{` or a `[`), or
/// the byte offset where the text stopped making sense as one.
pub fn read_at(text: &str, start: usize) -> Result<Loose, usize> {
    let mut reader = Reader {
        text,
        bytes: text.as_bytes(),
        at: start,
        fixes: BTreeSet::new(),
        path: Vec::new(),
        cut: None,
    };
    match reader.value() {
        Ok(Some(value)) => Ok(Loose {
            value,
            fixes: reader.fixes,
            end: reader.at,
            cut: reader.cut,
        }),
        Ok(None) | Err(()) => Err(reader.at.max(start + 1)),
    }
}

struct Reader<'t> {
    text: &'t str,
    bytes: &'t [u8],
    at: usize,
    fixes: BTreeSet<&'static str>,
    path: Vec<Segment>,
    cut: Option<Vec<Segment>>,
}

/// `Err` is a text that is not a value here; `Ok(None)` a value that never
/// started because the text ended first.
type Read<T> = Result<Option<T>, ()>;

impl Reader<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn at_end(&mut self) -> bool {
        let end = self.at >= self.bytes.len();
        if end && self.cut.is_none() {
            self.cut = Some(self.path.clone());
        }
        end
    }

    /// Whitespace and comments.
    fn skip_trivia(&mut self) {
        loop {
            while self.peek().is_some_and(|b| b.is_ascii_whitespace()) {
                self.at += 1;
            }
            let rest = &self.bytes[self.at.min(self.bytes.len())..];
            if rest.starts_with(b"//") {
                self.fixes.insert("comments removed");
                self.at += rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
            } else if rest.starts_with(b"/*") {
                self.fixes.insert("comments removed");
                self.at += find(&rest[2..], b"*/").map_or(rest.len(), |i| i + 4);
            } else {
                return;
            }
        }
    }

    fn value(&mut self) -> Read<Value> {
        self.skip_trivia();
        if self.at_end() {
            return Ok(None);
        }
        if self.path.len() >= DEEPEST {
            return Err(());
        }
        match self.bytes[self.at] {
            b'{' => self.object().map(Some),
            b'[' => self.list().map(Some),
            b'`' if self.bytes[self.at..].starts_with(b"```") => {
                Ok(Some(Value::String(self.fenced_code())))
            }
            b'"' | b'\'' | b'`' => Ok(Some(Value::String(self.string()))),
            b'}' | b']' | b',' | b':' => Err(()),
            _ => self.bare().map(Some),
        }
    }

    fn object(&mut self) -> Result<Value, ()> {
        self.at += 1;
        let mut fields = Map::new();
        let mut comma = false;
        while self.member_starts(b'}', &mut comma) {
            if !fields.is_empty() && !comma {
                self.fixes.insert("missing comma added");
            }
            let Some(key) = self.key()? else { break };
            self.skip_trivia();
            if self.at_end() {
                break;
            }
            if self.bytes[self.at] != b':' {
                // `{player_name}` in prose: not an object.
                return Err(());
            }
            self.at += 1;
            self.path.push(Segment::Key(key.clone()));
            let value = self.value()?;
            self.path.pop();
            match value {
                Some(value) => fields.insert(key, value),
                // The text ended before the value: the field never arrived.
                None => break,
            };
            comma = false;
        }
        Ok(Value::Object(fields))
    }

    fn list(&mut self) -> Result<Value, ()> {
        self.at += 1;
        let mut items = Vec::new();
        let mut comma = false;
        while self.member_starts(b']', &mut comma) {
            if !items.is_empty() && !comma {
                self.fixes.insert("missing comma added");
            }
            self.path.push(Segment::Index(items.len()));
            let item = self.value()?;
            self.path.pop();
            match item {
                Some(item) => items.push(item),
                None => break,
            }
            comma = false;
        }
        Ok(Value::Array(items))
    }

    /// Whether another member of an object or list starts here, after
    /// blanks and commas (`comma`: one came since the last member); at
    /// the text's end or a closer, no.
    fn member_starts(&mut self, closer: u8, comma: &mut bool) -> bool {
        loop {
            self.skip_trivia();
            if self.at_end() {
                return false;
            }
            match self.bytes[self.at] {
                b'}' | b']' => {
                    self.close(closer, *comma);
                    return false;
                }
                b',' => {
                    self.at += 1;
                    *comma = true;
                }
                _ => return true,
            }
        }
    }

    /// Ends an object or a list at its closer; a closer of the other kind
    /// (`[1, 2}`) ends it too but is left for the value around it.
    fn close(&mut self, wanted: u8, comma: bool) {
        if comma {
            self.fixes.insert("trailing comma removed");
        }
        if self.bytes[self.at] == wanted {
            self.at += 1;
        } else {
            self.fixes.insert("missing closing bracket added");
        }
    }

    /// A member's key, quoted or bare; `None` when the text ended in it.
    fn key(&mut self) -> Read<String> {
        if matches!(self.bytes[self.at], b'"' | b'\'' | b'`') {
            let before = self.cut.is_some();
            let key = self.string();
            // A key cut off is no key: its field never arrived.
            return Ok((before || self.cut.is_none()).then_some(key));
        }
        // A bare key may hold spaces (`Some key: 1`); it ends at its colon.
        let start = self.at;
        while self
            .peek()
            .is_some_and(|b| !(b == b':' || b == b'\n' || b"{}[],\"'`".contains(&b)))
        {
            self.at += 1;
        }
        let key = self.text[start..self.at].trim();
        if key.is_empty() {
            return Err(());
        }
        if self.at_end() {
            return Ok(None);
        }
        if self.bytes[self.at] != b':' {
            // `{player_name}` in prose: not an object.
            return Err(());
        }
        self.fixes.insert("unquoted keys quoted");
        Ok(Some(key.to_string()))
    }

    /// A quoted string at `self.at`, its quote any of `"`, `'`, `` ` `` or
    /// `"""`; cut off, it is what arrived.
    fn string(&mut self) -> String {
        let quote = self.bytes[self.at];
        if self.bytes[self.at..].starts_with(b"\"\"\"") {
            return self.triple_quoted();
        }
        if quote != b'"' {
            self.fixes.insert("single quotes replaced");
        }
        self.at += 1;
        let mut out = String::new();
        let mut run = self.at;
        while let Some(b) = self.peek() {
            match b {
                b'\\' => {
                    out.push_str(&self.text[run..self.at]);
                    self.escape(&mut out);
                    run = self.at;
                    continue;
                }
                b'\n' => {
                    self.fixes.insert("raw newline in a string escaped");
                }
                b if b == quote => {
                    if self.closes(self.at + 1) {
                        out.push_str(&self.text[run..self.at]);
                        self.at += 1;
                        return out;
                    }
                    self.fixes.insert("unescaped quote kept in a string");
                }
                _ => {}
            }
            self.at += 1;
        }
        out.push_str(&self.text[run..]);
        self.at_end();
        out
    }

    /// Whether a quote just before `from` ends its string: what follows it
    /// ends a value (`,` `:` `}` `]`, a line end, a comment, the text's
    /// end) or starts the next one (a quote, for a missing comma). `"He
    /// said "hi" to me"` keeps its inner quotes.
    fn closes(&self, from: usize) -> bool {
        let rest = &self.bytes[from.min(self.bytes.len())..];
        match rest.iter().position(|&b| b != b' ' && b != b'\t') {
            None => true,
            Some(i) => match rest[i] {
                b',' | b':' | b'}' | b']' | b'\n' | b'\r' | b'"' => true,
                b'/' => matches!(rest.get(i + 1), Some(b'/' | b'*')),
                _ => false,
            },
        }
    }

    fn triple_quoted(&mut self) -> String {
        self.fixes.insert("triple-quoted string read");
        self.at += 3;
        let rest = &self.text[self.at..];
        match find(rest.as_bytes(), b"\"\"\"") {
            Some(i) => {
                self.at += i + 3;
                dedent(&rest[..i])
            }
            None => {
                self.at = self.bytes.len();
                self.at_end();
                dedent(rest)
            }
        }
    }

    /// A value written as a code fence (`"code": ```ts … ```,`): its
    /// code, without the info line, dedented.
    fn fenced_code(&mut self) -> String {
        self.fixes.insert("code fence read as a string");
        self.at += 3;
        let rest = &self.text[self.at..];
        let closing = find(rest.as_bytes(), b"```");
        let info = match (rest.find('\n'), closing) {
            // ```print(1)``` on one line: no info line.
            (Some(line), Some(end)) if end < line => 0,
            (Some(line), _) => line,
            (None, _) => 0,
        };
        let body = &rest[info..];
        let code = match find(body.as_bytes(), b"```") {
            Some(i) => {
                self.at += info + i + 3;
                &body[..i]
            }
            None => {
                self.at = self.bytes.len();
                self.at_end();
                body
            }
        };
        dedent(code)
    }

    /// A `\` escape at `self.at`, written into `out`; an escape JSON does
    /// not know keeps its character.
    fn escape(&mut self, out: &mut String) {
        self.at += 1;
        let Some(b) = self.peek() else {
            return;
        };
        if b == b'u' {
            if let Some(c) = self.unicode_escape() {
                out.push(c);
                return;
            }
        }
        let c = match b {
            b'n' => '\n',
            b't' => '\t',
            b'r' => '\r',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            _ => {
                // Any other character stands for itself (`\"`, `\'`, `\\`).
                let c = self.text[self.at..].chars().next().unwrap_or('\\');
                self.at += c.len_utf8();
                out.push(c);
                return;
            }
        };
        out.push(c);
        self.at += 1;
    }

    /// `\uXXXX` (a surrogate pair as one character) after the `\`.
    fn unicode_escape(&mut self) -> Option<char> {
        let hex = |at: usize| {
            self.text
                .get(at..at + 4)
                .and_then(|h| u32::from_str_radix(h, 16).ok())
        };
        let high = hex(self.at + 1)?;
        self.at += 5;
        if (0xD800..0xDC00).contains(&high) && self.text[self.at..].starts_with("\\u") {
            if let Some(low) = hex(self.at + 2).filter(|l| (0xDC00..0xE000).contains(l)) {
                self.at += 6;
                return char::from_u32(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00));
            }
        }
        Some(char::from_u32(high).unwrap_or('\u{FFFD}'))
    }

    /// A bare word in a value's place: a literal, a number, or text the
    /// model left unquoted (up to the end of the line or the member).
    fn bare(&mut self) -> Result<Value, ()> {
        let start = self.at;
        // A member's text may run on past a comma or a line's end (prose
        // left unquoted) until what follows starts the next member.
        let member = matches!(self.path.last(), Some(Segment::Key(_)));
        while let Some(b) = self.peek() {
            let rest = &self.bytes[self.at..];
            let ends = match b {
                b'}' | b']' => true,
                b',' | b'\n' => !member || next_member(&rest[1..]),
                _ => rest.starts_with(b"//") || rest.starts_with(b"/*"),
            };
            if ends {
                break;
            }
            self.at += 1;
        }
        let ended = self.at_end();
        let word = self.text[start..self.at].trim();
        if word.is_empty() {
            return Err(());
        }
        if let Some(value) = literal(word, ended) {
            if matches!(word, "True" | "False" | "None") {
                self.fixes.insert("Python literal read");
            }
            return Ok(value);
        }
        self.fixes.insert("unquoted text quoted");
        Ok(Value::String(word.to_string()))
    }
}

/// `true`, `false`, `null`, a JSON number; at the text's end also the
/// start of a literal (`tr`), which is all that arrived of it.
fn literal(word: &str, ended: bool) -> Option<Value> {
    match word {
        "" => return None,
        "true" | "True" => return Some(Value::Bool(true)),
        "false" | "False" => return Some(Value::Bool(false)),
        "null" | "None" => return Some(Value::Null),
        _ => {}
    }
    if word.starts_with(|c: char| c == '-' || c.is_ascii_digit()) {
        if let Ok(number @ Value::Number(_)) = serde_json::from_str::<Value>(word) {
            return Some(number);
        }
        // A number cut off after its `.` or `e`.
        let trimmed = word.trim_end_matches(['.', 'e', 'E', '-', '+']);
        if ended && trimmed != word {
            return literal(trimmed, ended);
        }
    }
    if ended {
        for (name, value) in [
            ("true", Value::Bool(true)),
            ("false", Value::Bool(false)),
            ("null", Value::Null),
        ] {
            if name.starts_with(word) {
                return Some(value);
            }
        }
    }
    None
}

/// Whether `rest` (after a comma or a line's end in unquoted text)
/// starts the object's next member or ends it: blanks, then a closer, the
/// end, or a key and its colon.
fn next_member(rest: &[u8]) -> bool {
    // A key is near: looking further would make long prose quadratic. A
    // key the text ends in is one cut off.
    let whole = rest.len() <= 256;
    let rest = &rest[..rest.len().min(256)];
    let start = rest
        .iter()
        .position(|b| !b.is_ascii_whitespace() && *b != b',')
        .unwrap_or(rest.len());
    let rest = &rest[start..];
    let key_end = match rest.first() {
        None | Some(b'}' | b']') => return true,
        Some(b'/') => return matches!(rest.get(1), Some(b'/' | b'*')),
        Some(&quote @ (b'"' | b'\'')) => match rest[1..].iter().position(|&b| b == quote) {
            Some(i) => i + 2,
            None => return whole,
        },
        // A bare key, spaces and all, runs to its colon on this line.
        Some(_) => rest
            .iter()
            .position(|b| b":\n{}[],\"'`".contains(b))
            .unwrap_or(rest.len()),
    };
    let after = &rest[key_end..];
    match after.iter().position(|b| *b != b' ' && *b != b'\t') {
        Some(i) => key_end > 0 && after[i] == b':',
        None => whole,
    }
}

/// A block of text without its first line break, its trailing blank line
/// and the indentation all its lines share (`"""` strings, code fences).
fn dedent(text: &str) -> String {
    if !text.contains('\n') {
        return text.to_string();
    }
    let text = text.strip_prefix('\n').unwrap_or(text);
    let text = text.trim_end();
    let indent = text
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| line.len() - line.trim_start().len())
        .min()
        .unwrap_or(0);
    text.lines()
        .map(|line| line.get(indent..).unwrap_or(line.trim_start()))
        .collect::<Vec<_>>()
        .join("\n")
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests;
