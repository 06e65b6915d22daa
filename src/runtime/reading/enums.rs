//! An enum's variant in a reply: the word alone (any case, quoted, with
//! punctuation, or one of the variant's aliases), a list of one
//! (`["One"]`), or the one variant the prose mentions ("The answer is
//! One."). Two variants mentioned is an error naming both: guessing
//! between them would be a silent wrong answer.

use std::collections::BTreeMap;

use crate::plan::types::About;

pub fn variant(
    body: &str,
    variants: &[String],
    about: &BTreeMap<String, About>,
    repairs: &mut Vec<String>,
) -> Result<Option<String>, String> {
    let unwrapped = body
        .strip_prefix('[')
        .and_then(|rest| rest.strip_suffix(']'))
        .filter(|inner| !inner.contains(','));
    let word = bare(unwrapped.unwrap_or(body));
    if let Some(variant) = named(word, variants, about) {
        if unwrapped.is_some() {
            repairs.push("a list of one read as its item".to_string());
        }
        if variant != word {
            repairs.push(format!("enum name `{word}` read as `{variant}`"));
        }
        return Ok(Some(variant.to_string()));
    }
    let mentioned_as = |exact: bool| -> Vec<&String> {
        variants
            .iter()
            .filter(|v| names_of(v, about).any(|name| mentions(body, name, exact)))
            .collect()
    };
    let mut mentioned = mentioned_as(false);
    if mentioned.len() > 1 {
        // "TWO is one of them": `TWO` as written, `one` only in another case.
        let exact = mentioned_as(true);
        if exact.len() == 1 {
            mentioned = exact;
        }
    }
    match mentioned.as_slice() {
        [] => Ok(None),
        [one] => {
            repairs.push(format!("enum `{one}` found in the prose"));
            Ok(Some((*one).clone()))
        }
        several => {
            let names: Vec<&str> = several.iter().map(|v| v.as_str()).collect();
            Err(format!(
                "the reply names {}, not one of them",
                crate::suggest::all_of(&names)
            ))
        }
    }
}

/// The variant `word` is, by its name or an alias, in any case.
pub fn named<'v>(
    word: &str,
    variants: &'v [String],
    about: &BTreeMap<String, About>,
) -> Option<&'v str> {
    let word = bare(word);
    let names = |v: &String| {
        about
            .get(v)
            .map_or(v.eq_ignore_ascii_case(word), |a| a.names(v, word))
    };
    variants.iter().find(|v| names(v)).map(String::as_str)
}

/// A word without the quotes, emphasis and punctuation around it.
fn bare(word: &str) -> &str {
    word.trim_matches(|c: char| {
        matches!(c, '"' | '\'' | '`' | '.' | '!' | '*') || c.is_whitespace()
    })
}

fn names_of<'a>(
    variant: &'a str,
    about: &'a BTreeMap<String, About>,
) -> impl Iterator<Item = &'a str> {
    let aliases = about
        .get(variant)
        .map(|a| a.aliases.as_slice())
        .unwrap_or_default();
    std::iter::once(variant).chain(aliases.iter().map(String::as_str))
}

/// Whether `text` has `word` as a whole word, in any case unless `exact`
/// (`One` in "the answer is one.", not in "someone").
fn mentions(text: &str, word: &str, exact: bool) -> bool {
    let (lower, word) = match exact {
        true => (text.to_string(), word.to_string()),
        false => (text.to_lowercase(), word.to_lowercase()),
    };
    let is_word_char = |c: char| c.is_alphanumeric() || c == '_';
    lower.match_indices(&word).any(|(at, _)| {
        let before = lower[..at].chars().next_back();
        let after = lower[at + word.len()..].chars().next();
        !before.is_some_and(is_word_char) && !after.is_some_and(is_word_char)
    })
}
