//! Reading a step's text — a model's reply, a command's output, a fetched
//! body — as a value of the step's type. The type guides the reading:
//! valid JSON of the right shape is taken as it is; otherwise every
//! candidate in the text (each JSON-like value in the prose or in a code
//! fence, the text itself for a scalar) is read forgivingly ([`loose`]),
//! moved towards the type ([`coerce`]) and checked against it, and the
//! best fit wins. Every repair is named, for the run record; a value of
//! the wrong shape is never taken.

mod coerce;
mod enums;
pub mod loose;
mod place;

use std::cmp::Reverse;
use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use super::value::conform;
use crate::plan::types::{Type, Types};
use place::Places;

/// A text read as a type: the value (it conforms) and its repairs.
#[derive(Debug, PartialEq)]
pub struct Reading {
    pub value: Value,
    pub repairs: Vec<String>,
}

/// The repair named when a text was cut off and completed.
pub const TRUNCATED: &str = "truncated reply completed";

/// `text` as a value of `ty`; `Err` says why nothing in it is one, with
/// the path of the field that failed.
pub fn read(text: &str, ty: &Type, types: &Types) -> Result<Reading, String> {
    let taken = |value| {
        Ok(Reading {
            value,
            repairs: Vec::new(),
        })
    };
    if matches!(ty, Type::Optional(_)) && text.trim() == "null" {
        return taken(Value::Null);
    }
    if ty.is_text() {
        // Text is the contract: taken exactly as written.
        return taken(Value::String(text.to_string()));
    }
    // Valid JSON of the right shape is what was meant, even when a string
    // in it holds a fence or braces that a candidate search would cut.
    if let Ok(value) = serde_json::from_str::<Value>(text.trim()) {
        if let Ok(value) = conform(value, ty, types) {
            return taken(value);
        }
    }
    let places = Places::of(text);
    if let Some((variants, about)) = types.enumeration(ty) {
        let (body, mut repairs) = places.body();
        if let Some(variant) = enums::variant(body, variants, about, &mut repairs)? {
            return Ok(Reading {
                value: Value::String(variant),
                repairs,
            });
        }
    }
    best_fit(candidates(text, ty, types, &places), ty, types)
}

/// A value still arriving: what of it has arrived, moved towards the type
/// (not checked against it: fields may be missing yet).
#[derive(Debug, PartialEq)]
pub struct Partial {
    pub value: Value,
    /// Each record field present so far, by name.
    pub fields: BTreeMap<String, Arrival>,
}

/// Whether a field has all arrived.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Arrival {
    Complete,
    Arriving,
}

/// What has arrived of a streamed reply, read as `ty`: the text itself for
/// text, else the last object or list in it; `None` before one starts.
pub fn partial(text: &str, ty: &Type, types: &Types) -> Option<Partial> {
    if ty.is_text() {
        return Some(Partial {
            value: Value::String(text.to_string()),
            fields: BTreeMap::new(),
        });
    }
    let (_, read) = values(text).pop()?;
    let value = coerce::coerce(read.value, ty, types, &mut Vec::new());
    let arriving = match read.cut.as_deref() {
        Some([loose::Segment::Key(key), ..]) => Some(key.as_str()),
        _ => None,
    };
    let fields = match (&value, types.record(ty)) {
        (Value::Object(given), Some(declared)) => declared
            .iter()
            .filter(|f| given.contains_key(&f.name))
            .map(|f| {
                let state = match arriving == Some(f.name.as_str()) {
                    true => Arrival::Arriving,
                    false => Arrival::Complete,
                };
                (f.name.clone(), state)
            })
            .collect(),
        _ => BTreeMap::new(),
    };
    Some(Partial { value, fields })
}

/// A value found in the text, before it is read as the type.
struct Candidate {
    value: Value,
    /// Where it was found, how its text was read (`TRUNCATED` among them
    /// when it was cut off).
    repairs: Vec<String>,
    /// Text read as a scalar, not as JSON: when it does not fit, its
    /// error is not the one to report.
    bare: bool,
}

/// Every value the text may mean: each object or list in it (inside a
/// fence or not, [`values`]), several objects as one list for a list type,
/// each fence's scalar, and, for a scalar type, the text itself.
fn candidates(text: &str, ty: &Type, types: &Types, places: &Places) -> Vec<Candidate> {
    let mut found: Vec<Candidate> = values(text)
        .into_iter()
        .map(|(start, read)| {
            let mut repairs = places.context(start, read.end);
            repairs.extend(read.fixes.iter().map(|fix| fix.to_string()));
            if read.cut.is_some() {
                repairs.push(TRUNCATED.to_string());
            }
            Candidate {
                value: read.value,
                repairs,
                bare: false,
            }
        })
        .collect();
    if let Some(list) = one_list(&found, ty) {
        found.push(list);
    }
    for (body, repairs) in places.scalars() {
        let (value, bare) = match serde_json::from_str::<Value>(body) {
            Ok(value) => (value, false),
            Err(_) if wants_scalar(ty, types) => (Value::String(body.to_string()), true),
            Err(_) => continue,
        };
        found.push(Candidate {
            value,
            repairs,
            bare,
        });
    }
    found
}

/// Each object or list in the text, where it starts, in order. One pass:
/// a value's inside is not searched again, and a failed start resumes the
/// search where it stopped, so the search is linear in the text.
fn values(text: &str) -> Vec<(usize, loose::Loose)> {
    let mut found = Vec::new();
    let mut at = 0;
    while let Some(offset) = text[at..].find(['{', '[']) {
        let start = at + offset;
        match loose::read_at(text, start) {
            Ok(read) => {
                at = read.end;
                found.push((start, read));
            }
            Err(stop) => at = stop,
        }
    }
    found
}

/// Several objects in a reply for a list type, as one list of them: a
/// model that answers item by item (`{…} and {…}`).
fn one_list(found: &[Candidate], ty: &Type) -> Option<Candidate> {
    if !matches!(ty.unwrap_optional(), Type::List(_)) {
        return None;
    }
    let objects: Vec<&Candidate> = found.iter().filter(|c| c.value.is_object()).collect();
    if objects.len() < 2 {
        return None;
    }
    let mut repairs: Vec<String> = Vec::new();
    for repair in objects.iter().flat_map(|c| &c.repairs) {
        if !repairs.contains(repair) {
            repairs.push(repair.clone());
        }
    }
    repairs.push(format!("{} values read as one list", objects.len()));
    Some(Candidate {
        value: Value::Array(objects.iter().map(|c| c.value.clone()).collect()),
        repairs,
        bare: false,
    })
}

/// A type whose value a bare word can be (`12,111` for an `int`, `yes`
/// for a `bool`), directly or as a record's only field.
fn wants_scalar(ty: &Type, types: &Types) -> bool {
    match ty.unwrap_optional() {
        Type::Int | Type::Float | Type::Bool | Type::Duration => true,
        named => types
            .record(named)
            .is_some_and(|fields| matches!(fields, [only] if wants_scalar(&only.ty, types))),
    }
}

/// The candidate that fits with the fewest repairs, then the most fields
/// matched, then one that is complete; of equals, the last, saying so when
/// they differ. When none fits, the error is that of the candidate closest
/// to the type.
fn best_fit(found: Vec<Candidate>, ty: &Type, types: &Types) -> Result<Reading, String> {
    let mut fitting: Vec<(Reading, usize)> = Vec::new();
    let mut closest: Option<(usize, String)> = None;
    for candidate in found {
        let bare = candidate.bare;
        match fit(candidate, ty, types) {
            (Ok(reading), matched) => fitting.push((reading, matched)),
            (Err(problem), matched) if !bare => {
                if closest.as_ref().is_none_or(|(most, _)| matched >= *most) {
                    closest = Some((matched, problem));
                }
            }
            (Err(_), _) => {}
        }
    }
    let rank = |(reading, matched): &(Reading, usize)| {
        let complete = !reading.repairs.iter().any(|r| r == TRUNCATED);
        (Reverse(reading.repairs.len()), *matched, complete)
    };
    // `max_by_key` gives the last of equals.
    let Some(best) = (0..fitting.len()).max_by_key(|&i| rank(&fitting[i])) else {
        return Err(closest.map_or_else(
            || "the reply is not valid JSON and holds none".to_string(),
            |(_, problem)| problem,
        ));
    };
    let others = fitting
        .iter()
        .filter(|f| rank(f) == rank(&fitting[best]) && f.0.value != fitting[best].0.value)
        .count();
    let (mut reading, _) = fitting.swap_remove(best);
    if others > 0 {
        reading.repairs.push(format!(
            "{} candidates fit equally well: the last was taken",
            others + 1
        ));
    }
    Ok(reading)
}

/// A candidate read as the type, and how many of its fields it has.
fn fit(candidate: Candidate, ty: &Type, types: &Types) -> (Result<Reading, String>, usize) {
    let Candidate {
        value, mut repairs, ..
    } = candidate;
    let cut = repairs.iter().any(|r| r == TRUNCATED);
    let value = coerce::coerce(value, ty, types, &mut repairs);
    let matched = matched(&value, ty, types);
    let reading = match conform(value, ty, types) {
        Ok(value) => Ok(Reading { value, repairs }),
        Err(problem) => {
            let ty = crate::suggest::a(&format!("`{ty}`"));
            let why = if cut { " (the reply was cut off)" } else { "" };
            Err(format!("the reply is not {ty}: {problem}{why}"))
        }
    };
    (reading, matched)
}

/// How many of the type's fields, at any depth, the value has.
fn matched(value: &Value, ty: &Type, types: &Types) -> usize {
    match (ty.unwrap_optional(), value) {
        (Type::List(of), Value::Array(items)) => items.iter().map(|v| matched(v, of, types)).sum(),
        (Type::Map(of), Value::Object(fields)) => {
            fields.values().map(|v| matched(v, of, types)).sum()
        }
        (ty, Value::Object(given)) => types.record(ty).map_or(0, |fields| {
            fields
                .iter()
                .filter_map(|f| given.get(&f.name).map(|v| 1 + matched(v, &f.ty, types)))
                .sum()
        }),
        _ => 0,
    }
}

#[cfg(test)]
mod tests;
