//! The `mock` provider: a deterministic reply of the requested type, so
//! every workflow runs offline with no key.
//!
//! A reply is a function of the step's id, its rendered prompt and the
//! attempt number. Replies are built to pass the step's `check`s where a
//! plain guess would not: strings and numbers written in the checks
//! (`this.winner == "for"`, `contains(this, "def ")`, `len(this) > 1500`)
//! are offered as candidates, strings a check wants absent (`not
//! contains(this, "TODO")`, `this != "n/a"`) are kept out, and the engine
//! keeps the first candidate that passes every check. Text replies quote
//! the start of the prompt, so a run shows its inputs reaching the model.

use serde_json::{Map, Value};

use crate::lang::value::number;
use crate::plan::types::{Type, TypeDef, Types};

/// Literals harvested from a step's checks.
#[derive(Clone, Debug, Default)]
pub struct Hints {
    pub strings: Vec<String>,
    pub numbers: Vec<f64>,
    /// Strings the checks want absent (`not contains`, `!=`, `not matches`).
    pub avoid: Vec<String>,
    /// The prompt as sent, quoted at the start of text replies.
    pub prompt: String,
}

/// How many candidates the engine tries against the checks.
pub const CANDIDATES: u64 = 12;

/// Candidate `n` of a reply of type `ty`, seeded by `seed`.
pub fn reply(ty: &Type, types: &Types, seed: u64, n: u64, hints: &Hints) -> Value {
    Candidate { types, n, hints }.value(ty, mix(seed, n), 0)
}

struct Candidate<'a> {
    types: &'a Types,
    n: u64,
    hints: &'a Hints,
}

impl Candidate<'_> {
    fn value(&self, ty: &Type, seed: u64, depth: usize) -> Value {
        let (n, hints) = (self.n, self.hints);
        match ty {
            Type::String | Type::Json => Value::String(text(seed, n, hints)),
            Type::Int => Value::from(integer(n, hints)),
            Type::Float => number(float(n, hints)),
            Type::Duration => Value::from(1000 * (1 + n as i64)),
            Type::Bool => Value::Bool(n.is_multiple_of(2)),
            Type::Optional(inner) => self.value(inner, seed, depth),
            Type::List(of) => {
                let len = if depth > 2 { 1 } else { list_len(n, hints) };
                Value::Array(
                    (0..len)
                        .map(|i| self.value(of, mix(seed, i), depth + 1))
                        .collect(),
                )
            }
            Type::Map(of) => {
                let mut map = Map::new();
                for i in 0..2u64 {
                    map.insert(format!("key{i}"), self.value(of, mix(seed, i), depth + 1));
                }
                Value::Object(map)
            }
            Type::Named(name) => match self.types.get(name) {
                Some(TypeDef::Enum { variants, .. }) => {
                    let pick = (seed as usize).wrapping_add(n as usize) % variants.len().max(1);
                    variants
                        .get(pick)
                        .cloned()
                        .map_or(Value::Null, Value::String)
                }
                Some(TypeDef::Record { fields }) => {
                    let mut map = Map::new();
                    for (i, field) in fields.iter().enumerate() {
                        let field_seed = mix(seed, i as u64 + 100);
                        map.insert(
                            field.name.clone(),
                            self.value(&field.ty, field_seed, depth + 1),
                        );
                    }
                    Value::Object(map)
                }
                None => Value::Null,
            },
        }
    }
}

/// Lengths to try for lists: the small whole numbers the checks mention
/// (`len(this.questions) == questions`), then 3, 4, 5.
fn list_len(n: u64, hints: &Hints) -> u64 {
    let mut lengths: Vec<u64> = small_counts(hints);
    lengths.extend([3, 4, 5]);
    lengths[n as usize % lengths.len()]
}

fn small_counts(hints: &Hints) -> Vec<u64> {
    hints
        .numbers
        .iter()
        .filter(|v| v.fract() == 0.0 && **v >= 1.0 && **v <= 64.0)
        .map(|v| *v as u64)
        .collect()
}

/// Candidates 0.. : a hint string as it is; a word of each small length
/// the checks mention (`len(this.currency) == 3`); then text that contains
/// every hint, long enough for `len(this) > N` checks, or short.
fn text(seed: u64, n: u64, hints: &Hints) -> String {
    let n = n as usize;
    if let Some(exact) = hints.strings.get(n) {
        return without(exact.clone(), &hints.avoid);
    }
    let counts = small_counts(hints);
    if let Some(len) = n
        .checked_sub(hints.strings.len())
        .and_then(|i| counts.get(i))
    {
        return "MOCK".chars().cycle().take(*len as usize).collect();
    }
    let target_len = hints
        .numbers
        .iter()
        .filter(|v| **v > 0.0 && **v < 100_000.0)
        .map(|v| *v as usize + 1)
        .max()
        .unwrap_or(0)
        .max(if n.is_multiple_of(2) { 120 } else { 40 });
    let mut out = format!("Mock reply {:04x}", seed & 0xffff);
    match quote(&hints.prompt) {
        Some(quoted) => out.push_str(&format!(" to \"{quoted}\". ")),
        None => out.push_str(". "),
    }
    for hint in &hints.strings {
        out.push_str(hint);
        out.push(' ');
    }
    const FILLER: &str = "This text stands in for a model's answer. ";
    while out.chars().count() < target_len {
        out.push_str(FILLER);
    }
    without(out.trim_end().to_string(), &hints.avoid)
}

/// The start of a prompt, on one line: enough to recognise it.
fn quote(prompt: &str) -> Option<String> {
    const MOST: usize = 60;
    let words: Vec<&str> = prompt.split_whitespace().collect();
    if words.is_empty() {
        return None;
    }
    let line = words.join(" ").replace('"', "'");
    if line.chars().count() <= MOST {
        return Some(line);
    }
    let cut: String = line.chars().take(MOST).collect();
    Some(format!("{}…", cut.trim_end()))
}

/// `text` with every string the checks want absent taken out (case as
/// written: `contains` compares exactly).
fn without(mut text: String, avoid: &[String]) -> String {
    for unwanted in avoid.iter().filter(|s| !s.is_empty()) {
        while text.contains(unwanted.as_str()) {
            text = text.replace(unwanted.as_str(), "");
        }
    }
    text
}

fn integer(n: u64, hints: &Hints) -> i64 {
    const PLAIN: [i64; 6] = [3, 1, 5, 10, 2, 0];
    let hinted: Vec<i64> = hints
        .numbers
        .iter()
        .filter(|v| v.fract() == 0.0)
        .flat_map(|v| [*v as i64, *v as i64 + 1])
        .collect();
    PLAIN
        .iter()
        .chain(hinted.iter())
        .nth(n as usize % (PLAIN.len() + hinted.len()))
        .copied()
        .unwrap_or(3)
}

fn float(n: u64, hints: &Hints) -> f64 {
    const PLAIN: [f64; 5] = [0.9, 0.5, 0.1, 1.0, 0.0];
    let all: Vec<f64> = PLAIN.iter().chain(hints.numbers.iter()).copied().collect();
    all.get(n as usize % all.len()).copied().unwrap_or(0.9)
}

/// A cheap, well-spread mix of two numbers (splitmix64's finalizer).
pub fn mix(a: u64, b: u64) -> u64 {
    let mut z = a ^ b.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A stable seed for a step: FNV-1a over its id and rendered prompt.
pub fn seed(id: &str, prompt: &str) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in id.bytes().chain([0]).chain(prompt.bytes()) {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_are_deterministic_and_typed() {
        let ty = Type::List(Box::new(Type::Int));
        let types = Types::default();
        let a = reply(&ty, &types, 7, 0, &Hints::default());
        assert_eq!(a, reply(&ty, &types, 7, 0, &Hints::default()));
        assert!(a
            .as_array()
            .is_some_and(|items| items.iter().all(Value::is_i64)));
    }

    #[test]
    fn hints_shape_the_candidates() {
        let hints = Hints {
            strings: vec!["for".into(), "against".into()],
            numbers: vec![500.0],
            ..Hints::default()
        };
        let types = Types::default();
        assert_eq!(
            reply(&Type::String, &types, 1, 0, &hints),
            Value::String("for".into())
        );
        assert_eq!(
            reply(&Type::String, &types, 1, 1, &hints),
            Value::String("against".into())
        );
        let long = reply(&Type::String, &types, 1, 2, &hints);
        assert!(long
            .as_str()
            .is_some_and(|s| s.len() > 500 && s.contains("against")));
    }

    #[test]
    fn text_quotes_the_prompt_and_leaves_out_what_checks_refuse() {
        let hints = Hints {
            avoid: vec!["model".into(), "TODO".into()],
            prompt: "Greet  Ada\n in one \"friendly\" sentence.".into(),
            ..Hints::default()
        };
        let Value::String(text) = reply(&Type::String, &Types::default(), 1, 0, &hints) else {
            panic!("a string type gets a string");
        };
        assert!(
            text.contains("to \"Greet Ada in one 'friendly' sentence.\""),
            "{text}"
        );
        assert!(!text.contains("model") && !text.contains("TODO"), "{text}");
    }
}
