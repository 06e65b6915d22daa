//! The `mock` provider: a deterministic reply of the requested type, so
//! every workflow runs offline with no key.
//!
//! A reply is a function of the step's id, its rendered prompt and the
//! attempt number. Replies are built to pass the step's `check`s where a
//! plain guess would not: strings and numbers written in the checks
//! (`this.winner == "for"`, `contains(this, "def ")`, `len(this) > 1500`)
//! are offered as candidates, and the engine keeps the first candidate that
//! passes every check.

use serde_json::{Map, Value};

use super::value::number;
use crate::check::types::Ty;

/// Literals harvested from a step's checks.
#[derive(Clone, Debug, Default)]
pub struct Hints {
    pub strings: Vec<String>,
    pub numbers: Vec<f64>,
}

/// How many candidates the engine tries against the checks.
pub const CANDIDATES: u64 = 12;

/// Candidate `n` of a reply of type `ty`, seeded by `seed`.
pub fn reply(ty: &Ty, seed: u64, n: u64, hints: &Hints) -> Value {
    value(ty, mix(seed, n), n, hints, 0)
}

fn value(ty: &Ty, seed: u64, n: u64, hints: &Hints, depth: usize) -> Value {
    match ty {
        Ty::String | Ty::Component | Ty::Json | Ty::Error => Value::String(text(seed, n, hints)),
        Ty::Int => Value::from(integer(n, hints)),
        Ty::Float => number(float(n, hints)),
        Ty::Duration => Value::from(1000 * (1 + n as i64)),
        Ty::Bool => Value::Bool(n.is_multiple_of(2)),
        Ty::Optional(inner) => value(inner, seed, n, hints, depth),
        Ty::Enum(e) => {
            let pick = (seed as usize + n as usize) % e.variants.len().max(1);
            e.variants
                .get(pick)
                .cloned()
                .map_or(Value::Null, Value::String)
        }
        Ty::List(of) => {
            let len = if depth > 2 { 1 } else { list_len(n, hints) };
            Value::Array(
                (0..len)
                    .map(|i| value(of, mix(seed, i), n, hints, depth + 1))
                    .collect(),
            )
        }
        Ty::Map(of) => {
            let mut map = Map::new();
            for i in 0..2u64 {
                map.insert(
                    format!("key{i}"),
                    value(of, mix(seed, i), n, hints, depth + 1),
                );
            }
            Value::Object(map)
        }
        Ty::Record(record) => {
            let mut map = Map::new();
            for (i, (name, field)) in record.fields.iter().enumerate() {
                let field_seed = mix(seed, i as u64 + 100);
                map.insert(name.clone(), value(field, field_seed, n, hints, depth + 1));
            }
            Value::Object(map)
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
        return exact.clone();
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
    let mut out = format!("Mock reply {:04x}. ", seed & 0xffff);
    for hint in &hints.strings {
        out.push_str(hint);
        out.push(' ');
    }
    const FILLER: &str = "This text stands in for a model's answer. ";
    while out.chars().count() < target_len {
        out.push_str(FILLER);
    }
    out.trim_end().to_string()
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
        let ty = Ty::list(Ty::Int);
        assert_eq!(
            reply(&ty, 7, 0, &Hints::default()),
            reply(&ty, 7, 0, &Hints::default())
        );
        let value = reply(&ty, 7, 0, &Hints::default());
        assert!(super::super::value::conform(value, &ty).is_ok());
    }

    #[test]
    fn hints_shape_the_candidates() {
        let hints = Hints {
            strings: vec!["for".into(), "against".into()],
            numbers: vec![500.0],
        };
        assert_eq!(
            reply(&Ty::String, 1, 0, &hints),
            Value::String("for".into())
        );
        assert_eq!(
            reply(&Ty::String, 1, 1, &hints),
            Value::String("against".into())
        );
        let long = reply(&Ty::String, 1, 2, &hints);
        assert!(long
            .as_str()
            .is_some_and(|s| s.len() > 500 && s.contains("against")));
    }
}
