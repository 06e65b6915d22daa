//! Reading a model's reply as a value of the step's type, forgiving what
//! models commonly get wrong: code fences, prose around the JSON, trailing
//! commas, single quotes, an enum name in another case. Every repair is
//! named, for the run record.

use serde_json::Value;

use crate::plan::types::{Type, Types};

/// The reply as a JSON value, moved towards the type where it clearly
/// means one (not yet checked against it), and the repairs applied; `Err`
/// says why it cannot be read.
pub fn parse(text: &str, ty: &Type, types: &Types) -> Result<(Value, Vec<String>), String> {
    let (value, mut repairs) = read_json(text, ty, types)?;
    let value = super::coerce::coerce(value, ty, types, &mut repairs);
    Ok((value, repairs))
}

fn read_json(text: &str, ty: &Type, types: &Types) -> Result<(Value, Vec<String>), String> {
    let mut repairs = Vec::new();
    if ty.is_text() {
        // Text is the contract: taken exactly as the model wrote it.
        return Ok((Value::String(text.to_string()), repairs));
    }
    let mut body = text.trim().to_string();
    // Valid JSON of the right shape is what was meant, even when a string
    // in it holds a fence or braces that the repairs below would cut.
    if let Ok(value) = serde_json::from_str::<Value>(&body) {
        if super::value::conform(value.clone(), ty, types).is_ok() {
            return Ok((value, repairs));
        }
    }
    if let Some(inner) = fenced(&body) {
        body = inner;
        repairs.push("code fence stripped".to_string());
    }
    if let Some(variants) = types.variants(ty) {
        if let Some(read) = enum_variant(&body, variants, &mut repairs)? {
            return Ok((Value::String(read), repairs));
        }
    }
    if let Ok(value) = serde_json::from_str::<Value>(&body) {
        return Ok((value, repairs));
    }
    if let Some(json) = embedded_json(&body) {
        if json.len() < body.len() {
            repairs.push("prose around the JSON removed".to_string());
        }
        body = json;
    }
    if let Ok(value) = serde_json::from_str::<Value>(&body) {
        return Ok((value, repairs));
    }
    let without_commas = trailing_commas_removed(&body);
    if without_commas != body {
        repairs.push("trailing comma removed".to_string());
        body = without_commas;
        if let Ok(value) = serde_json::from_str::<Value>(&body) {
            return Ok((value, repairs));
        }
    }
    if let Some((json, fixes)) = super::json5ish::rewrite(&body) {
        if let Ok(value) = serde_json::from_str::<Value>(&json) {
            repairs.extend(fixes.into_iter().map(String::from));
            return Ok((value, repairs));
        }
    }
    Err(match serde_json::from_str::<Value>(&body) {
        Err(e) => format!("the reply is not valid JSON ({e})"),
        Ok(_) => "the reply is not valid JSON".to_string(),
    })
}

/// An enum's variant in a reply: the word alone (any case, quoted, with
/// punctuation), a list of one (`["One"]`), or the one variant the prose
/// mentions ("The answer is One."). Two variants mentioned is an error
/// naming both: guessing between them would be a silent wrong answer.
fn enum_variant(
    body: &str,
    variants: &[String],
    repairs: &mut Vec<String>,
) -> Result<Option<String>, String> {
    let unwrapped = body
        .strip_prefix('[')
        .and_then(|rest| rest.strip_suffix(']'))
        .filter(|inner| !inner.contains(','));
    let word = unwrapped.unwrap_or(body).trim_matches(|c: char| {
        matches!(c, '"' | '\'' | '`' | '.' | '!' | '*') || c.is_whitespace()
    });
    if let Some(variant) = variants.iter().find(|v| v.eq_ignore_ascii_case(word)) {
        if unwrapped.is_some() {
            repairs.push("a list of one read as its item".to_string());
        }
        if variant != word {
            repairs.push(format!("enum name `{word}` read as `{variant}`"));
        }
        return Ok(Some(variant.clone()));
    }
    let named: Vec<&String> = variants.iter().filter(|v| mentions(body, v)).collect();
    match named.as_slice() {
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

/// Whether `text` has `word` as a whole word, in any case (`One` in "the
/// answer is one.", not in "someone").
fn mentions(text: &str, word: &str) -> bool {
    let lower = text.to_lowercase();
    let word = word.to_lowercase();
    let is_word_char = |c: char| c.is_alphanumeric() || c == '_';
    lower.match_indices(&word).any(|(at, _)| {
        let before = lower[..at].chars().next_back();
        let after = lower[at + word.len()..].chars().next();
        !before.is_some_and(is_word_char) && !after.is_some_and(is_word_char)
    })
}

/// The inside of a ```` ``` ```` fence, if the text is (or holds) one.
fn fenced(text: &str) -> Option<String> {
    let start = text.find("```")?;
    let after = &text[start + 3..];
    let after = after.split_once('\n').map_or(after, |(lang, rest)| {
        if lang.trim().chars().all(|c| c.is_ascii_alphanumeric()) {
            rest
        } else {
            after
        }
    });
    let end = after.find("```")?;
    Some(after[..end].trim().to_string())
}

/// From the first `{` or `[` to the last matching `}` or `]`.
fn embedded_json(text: &str) -> Option<String> {
    let start = text.find(['{', '['])?;
    let close = if text[start..].starts_with('{') {
        '}'
    } else {
        ']'
    };
    let end = text.rfind(close)?;
    (end > start).then(|| text[start..=end].to_string())
}

/// `[1, 2,]` → `[1, 2]`, outside strings.
fn trailing_commas_removed(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut in_string = false;
    let mut escaped = false;
    for (i, &c) in chars.iter().enumerate() {
        if in_string {
            out.push(c);
            match c {
                '\\' if !escaped => escaped = true,
                '"' if !escaped => in_string = false,
                _ => escaped = false,
            }
            continue;
        }
        if c == '"' {
            in_string = true;
        }
        if c == ',' {
            let next = chars[i + 1..].iter().find(|c| !c.is_whitespace());
            if matches!(next, Some('}' | ']')) {
                continue;
            }
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::types::TypeDef;
    use serde_json::json;

    fn read(text: &str, ty: &Type) -> (Value, Vec<String>) {
        parse(text, ty, &Types::default()).expect("readable")
    }

    #[test]
    fn fences_prose_commas_and_quotes_are_repaired_and_named() {
        let list = Type::List(Box::new(Type::Int));
        assert_eq!(read("[1, 2]", &list), (json!([1, 2]), vec![]));
        let (value, repairs) = read("Here you go:\n```json\n[1, 2,]\n```\nAnything else?", &list);
        assert_eq!(value, json!([1, 2]));
        assert_eq!(repairs, ["code fence stripped", "trailing comma removed"]);
        let (value, repairs) = read("Sure! {'a': 1} Hope that helps.", &Type::Json);
        assert_eq!(value, json!({"a": 1}));
        assert_eq!(
            repairs,
            ["prose around the JSON removed", "single quotes replaced"]
        );
    }

    #[test]
    fn enum_names_are_read_in_any_case() {
        let mut types = Types::default();
        types.0.insert(
            "Size".into(),
            TypeDef::Enum {
                variants: vec!["small".into(), "large".into()],
            },
        );
        let size = Type::Named("Size".into());
        let (value, repairs) = parse("Large.", &size, &types).expect("readable");
        assert_eq!(value, json!("large"));
        assert_eq!(repairs, ["enum name `Large` read as `large`"]);
        assert_eq!(
            parse("\"small\"", &size, &types).expect("readable").0,
            json!("small")
        );
    }

    fn sizes() -> Types {
        let mut types = Types::default();
        types.0.insert(
            "Size".into(),
            TypeDef::Enum {
                variants: vec!["small".into(), "large".into()],
            },
        );
        types
    }

    #[test]
    fn enums_are_read_from_lists_of_one_and_prose_but_never_guessed() {
        let (types, size) = (sizes(), Type::Named("Size".into()));
        let read = |text: &str| parse(text, &size, &types);
        assert_eq!(
            read("[\"Large\"]").expect("readable"),
            (
                json!("large"),
                vec![
                    "a list of one read as its item".to_string(),
                    "enum name `Large` read as `large`".to_string()
                ]
            )
        );
        assert_eq!(
            read("The answer is **Small**, I think.").expect("readable"),
            (
                json!("small"),
                vec!["enum `small` found in the prose".to_string()]
            )
        );
        assert_eq!(
            read("Not small but large.").expect_err("two named"),
            "the reply names `small` and `large`, not one of them"
        );
        assert!(read("smallish").is_err(), "a whole word only");
    }

    #[test]
    fn valid_json_of_the_right_shape_is_taken_as_is() {
        let mut types = Types::default();
        types.0.insert(
            "Note".into(),
            TypeDef::Record {
                fields: vec![crate::plan::types::Field {
                    name: "code".into(),
                    ty: Type::String,
                }],
            },
        );
        let text = r#"{"code": "```rust\nfn main() { }\n```"}"#;
        let (value, repairs) = parse(text, &Type::Named("Note".into()), &types).expect("readable");
        assert_eq!(value, json!({"code": "```rust\nfn main() { }\n```"}));
        assert!(repairs.is_empty(), "{repairs:?}");
    }

    #[test]
    fn garbage_is_an_error_in_words() {
        let error = parse(
            "I cannot answer that.",
            &Type::List(Box::new(Type::Int)),
            &Types::default(),
        )
        .expect_err("not JSON");
        assert!(error.starts_with("the reply is not valid JSON"), "{error}");
        assert_eq!(
            read("  plain text\n", &Type::String).0,
            json!("  plain text\n")
        );
    }
}
