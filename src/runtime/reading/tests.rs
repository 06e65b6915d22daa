//! Each reading the type guides, with the repairs it records.

use serde_json::{json, Value};

use super::*;
use crate::plan::types::{About, Field, TypeDef};

/// `Person { name: string, age: int?, tags: string[]? }`, `Size { small,
/// large alias "big" }`, `Score { value: float }`.
fn types() -> Types {
    let mut types = Types::default();
    let optional = |ty| Type::Optional(Box::new(ty));
    let mut name = Field::new("name", Type::String);
    name.about.aliases = vec!["full_name".into()];
    types.0.insert(
        "Person".into(),
        TypeDef::Record {
            fields: vec![
                name,
                Field::new("age", optional(Type::Int)),
                Field::new("tags", optional(Type::List(Box::new(Type::String)))),
            ],
        },
    );
    let big = About {
        description: None,
        aliases: vec!["big".into()],
    };
    types.0.insert(
        "Size".into(),
        TypeDef::Enum {
            variants: vec!["small".into(), "large".into()],
            about: [("large".to_string(), big)].into_iter().collect(),
        },
    );
    types.0.insert(
        "Score".into(),
        TypeDef::Record {
            fields: vec![Field::new("value", Type::Float)],
        },
    );
    types
}

fn named(name: &str) -> Type {
    Type::Named(name.into())
}

fn read_as(text: &str, ty: &Type) -> Result<(Value, Vec<String>), String> {
    read(text, ty, &types()).map(|r| (r.value, r.repairs))
}

fn readable(text: &str, ty: &Type) -> (Value, Vec<String>) {
    read_as(text, ty).unwrap_or_else(|e| panic!("{text:?}: {e}"))
}

#[test]
fn valid_json_of_the_right_shape_is_taken_as_is() {
    let text = r#"{"name": "```rust\nfn main() { }\n```", "age": 3}"#;
    let (value, repairs) = readable(text, &named("Person"));
    assert_eq!(
        value,
        json!({"name": "```rust\nfn main() { }\n```", "age": 3, "tags": null})
    );
    assert!(repairs.is_empty(), "{repairs:?}");
}

#[test]
fn fences_prose_and_trailing_commas_are_repaired_and_named() {
    let list = Type::List(Box::new(Type::Int));
    assert_eq!(readable("[1, 2]", &list), (json!([1, 2]), vec![]));
    let (value, repairs) = readable("Here you go:\n```json\n[1, 2,]\n```\nAnything else?", &list);
    assert_eq!(value, json!([1, 2]));
    assert_eq!(
        repairs,
        [
            "code fence stripped",
            "prose around the JSON removed",
            "trailing comma removed"
        ]
    );
    let (value, repairs) = readable("Sure! {'a': 1} Hope that helps.", &Type::Json);
    assert_eq!(value, json!({"a": 1}));
    assert_eq!(
        repairs,
        ["prose around the JSON removed", "single quotes replaced"]
    );
}

#[test]
fn every_candidate_is_tried_and_the_best_fit_wins() {
    let person = named("Person");
    // Braces in the prose are no candidate; the object after them is.
    let (value, _) = readable(
        "Replace {player_name} with the name: {\"name\": \"Ada\"}",
        &person,
    );
    assert_eq!(value["name"], "Ada");
    // Several fences, any tag: the one that fits wins.
    let (value, _) = readable(
        "```python\nprint({1: 2})\n```\nand\n```jsonc\n{\"name\": \"Ada\", \"age\": 36}\n```",
        &person,
    );
    assert_eq!(value, json!({"name": "Ada", "age": 36, "tags": null}));
    // Fewer repairs beat more; then more fields matched.
    let (value, _) = readable("Like {name: 'x'}. The answer: {\"name\": \"Ada\"}", &person);
    assert_eq!(value["name"], "Ada");
    let (value, _) = readable(
        "{\"name\": \"Ada\"} or, in full, {\"name\": \"Ada\", \"age\": 36}",
        &person,
    );
    assert_eq!(value["age"], 36);
    // A tie goes to the last, and says so.
    let (value, repairs) = readable(
        "First {\"name\": \"Ada\"}, then {\"name\": \"Grace\"}",
        &person,
    );
    assert_eq!(value["name"], "Grace");
    assert_eq!(
        repairs,
        [
            "prose around the JSON removed",
            "2 candidates fit equally well: the last was taken"
        ]
    );
}

#[test]
fn unescaped_quotes_and_json5_are_read_against_the_type() {
    let (value, repairs) = readable(
        "{name: 'Ada \"the first\" Lovelace', // who\n age: 36,}",
        &named("Person"),
    );
    assert_eq!(value["name"], "Ada \"the first\" Lovelace");
    assert_eq!(
        repairs,
        [
            "comments removed",
            "single quotes replaced",
            "trailing comma removed",
            "unquoted keys quoted"
        ]
    );
    let (value, repairs) = readable(r#"{"name": "She said "no" twice"}"#, &named("Person"));
    assert_eq!(value["name"], "She said \"no\" twice");
    assert_eq!(repairs, ["unescaped quote kept in a string"]);
}

#[test]
fn a_cut_off_reply_is_completed_where_the_type_allows_it() {
    let list = Type::List(Box::new(Type::Int));
    assert_eq!(
        readable("[1, 2, 3", &list),
        (json!([1, 2, 3]), vec![TRUNCATED.to_string()])
    );
    let (value, repairs) = readable(
        "```json\n{\"name\": \"Ada\", \"tags\": [\"math\", \"poe",
        &named("Person"),
    );
    assert_eq!(
        value,
        json!({"name": "Ada", "age": null, "tags": ["math", "poe"]})
    );
    assert_eq!(repairs, ["code fence stripped", TRUNCATED]);
    let error = read_as("{\"age\": 36, \"na", &named("Person")).expect_err("no name");
    assert_eq!(
        error,
        "the reply is not a `Person`: missing field `name` (the reply was cut off)"
    );
}

#[test]
fn null_is_none_for_an_optional_and_never_the_text_null() {
    let text = Type::Optional(Box::new(Type::String));
    assert_eq!(readable("null", &text).0, Value::Null);
    assert_eq!(
        readable("{\"name\": \"Ada\", \"age\": null}", &named("Person")).0["age"],
        Value::Null
    );
    let error = read_as("{\"name\": null}", &named("Person")).expect_err("required");
    assert!(error.contains("name"), "{error}");
}

#[test]
fn scalars_are_read_from_the_text_itself() {
    assert_eq!(readable("12,111", &Type::Int).0, json!(12111));
    assert_eq!(readable("Yes.", &Type::Bool).0, json!(true));
    assert_eq!(readable("```\n$5\n```", &Type::Int).0, json!(5));
    assert_eq!(
        readable("0.75", &named("Score")),
        (
            json!({"value": 0.75}),
            vec!["a value read as the one field `value`".to_string()]
        )
    );
    assert!(read_as("I cannot answer that.", &Type::Int).is_err());
}

#[test]
fn enums_are_read_in_any_case_quoted_listed_or_in_prose_but_never_guessed() {
    let size = named("Size");
    assert_eq!(readable("large", &size), (json!("large"), vec![]));
    assert_eq!(
        readable("Large.", &size),
        (
            json!("large"),
            vec!["enum name `Large` read as `large`".to_string()]
        )
    );
    assert_eq!(readable("\"small\"", &size).0, json!("small"));
    assert_eq!(readable("'SMALL'!", &size).0, json!("small"));
    assert_eq!(
        readable("[\"Large\"]", &size).1,
        [
            "a list of one read as its item",
            "enum name `Large` read as `large`"
        ]
    );
    assert_eq!(
        readable("The answer is **Small**, I think.", &size),
        (
            json!("small"),
            vec!["enum `small` found in the prose".to_string()]
        )
    );
    assert_eq!(
        read_as("Not small but large.", &size).expect_err("two named"),
        "the reply names `small` and `large`, not one of them"
    );
    assert!(read_as("smallish", &size).is_err(), "a whole word only");
}

#[test]
fn aliases_are_accepted_for_fields_and_variants() {
    assert_eq!(
        readable("BIG", &named("Size")),
        (
            json!("large"),
            vec!["enum name `BIG` read as `large`".to_string()]
        )
    );
    assert_eq!(
        readable("It is big.", &named("Size")).0,
        json!("large"),
        "an alias in the prose"
    );
    let (value, repairs) = readable("{\"full_name\": \"Ada\", \"Age\": 36}", &named("Person"));
    assert_eq!(value, json!({"name": "Ada", "age": 36, "tags": null}));
    assert_eq!(
        repairs,
        ["key `full_name` read as `name`", "key `Age` read as `age`"]
    );
}

#[test]
fn nothing_that_fits_is_an_error_with_the_field_path() {
    let error = read_as(
        "{\"name\": \"Ada\", \"tags\": [\"a\", {\"b\": 1}]}",
        &named("Person"),
    )
    .expect_err("a tag is an object");
    assert_eq!(
        error,
        "the reply is not a `Person`: tags: item 1: expected `string`, found an object"
    );
    let error =
        read_as("I cannot answer that.", &Type::List(Box::new(Type::Int))).expect_err("not JSON");
    assert!(error.starts_with("the reply is not valid JSON"), "{error}");
    assert_eq!(
        readable("  plain text\n", &Type::String).0,
        json!("  plain text\n")
    );
}

#[test]
fn a_reply_still_arriving_is_read_as_far_as_it_has_come() {
    let person = named("Person");
    let so_far = |text: &str| partial(text, &person, &types()).expect("started");
    assert!(partial("Sure, here", &person, &types()).is_none());
    let first = so_far("Sure:\n```json\n{\"name\": \"Ad");
    assert_eq!(first.value, json!({"name": "Ad"}));
    assert_eq!(first.fields["name"], Arrival::Arriving);
    let second = so_far("Sure:\n```json\n{\"name\": \"Ada\", \"tags\": [\"math\"");
    assert_eq!(second.value, json!({"name": "Ada", "tags": ["math"]}));
    assert_eq!(
        second.fields.into_iter().collect::<Vec<_>>(),
        [
            ("name".to_string(), Arrival::Complete),
            ("tags".to_string(), Arrival::Arriving)
        ]
    );
    let text = partial("Dear", &Type::String, &types()).expect("text");
    assert_eq!(text.value, json!("Dear"));
}

#[test]
fn of_equals_a_complete_value_wins_over_one_cut_off() {
    // The complete one needs a fence stripped, the cut one is cut: one
    // repair each, the same fields.
    let (value, repairs) = readable(
        "```json\n{\"name\": \"Ada\"}\n```{\"name\": \"Grace\"",
        &named("Person"),
    );
    assert_eq!(value["name"], "Ada", "{repairs:?}");
}
