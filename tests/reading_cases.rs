//! Replies as models write them, each read as a declared type: the cases a
//! schema-aligned reader must get right (basics, records, lists, enums,
//! code in strings, cut-off replies), written for spesc's types. Each case
//! is a type, a reply and the value it must read as — or `None` where it
//! must be refused rather than guessed.

// A test fails by panicking; `expect` says where and why.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod support;

use std::path::Path;

use serde_json::{json, Value};
use spesc::plan::compile;
use spesc::plan::types::{Type, Types};
use spesc::runtime::reading::read;
use spesc::source::SourceMap;
use support::run::Files;

const TYPES: &str = r#"
model m { provider = mock }
type Key { key: string }
type Keys { key: string  array: int[]  object: Key }
type Foo { hi: string[] }
type Optional { foo: string? }
type Pair { one: string  two: string? }
type Nest { foo: Key }
type Resume { name: string  email: string?  experience: string[]  skills: string[] }
type Education { school: string  degree: string  year: int }
type Answer { content: float }
type Simple { answer: Answer }
type Code { kind: string  code: string }
type Circle { function_name: string  diameter: int }
type Flag { my_field_0: bool  my_field_1: string }
type Count { count: int }
type Aliased {
  key: string alias "key-dash"
  key2: string alias "key21"
  key3: string alias "key with space"
  key4: string
}
type Text { text: string }
type Local { id: string  english: string  portuguese: string? }
enum Category { ONE, TWO }
enum Pascal { One, Two }
enum Described {
  ONE alias "k1",
  TWO alias "k-2-3.1_1",
  THREE alias "NUMBER THREE",
}
enum Spam { SPAM, NOT_SPAM }
"#;

/// The plan's types: a workflow with a step of each, so each is lowered.
fn types() -> Types {
    let names: Vec<&str> = TYPES
        .lines()
        .filter_map(|line| {
            let rest = line.strip_prefix("type ").or(line.strip_prefix("enum "))?;
            rest.split_whitespace().next()
        })
        .collect();
    let steps: Vec<String> = names
        .iter()
        .enumerate()
        .map(|(i, name)| format!("  step s{i}: {name} {{ model = m  prompt = \"x\" }}\n"))
        .collect();
    let results: Vec<String> = (0..names.len()).map(|i| format!("a{i}: s{i}")).collect();
    let text = format!(
        "{TYPES}workflow w() -> json {{\n{}  return {{ {} }}\n}}\n",
        steps.concat(),
        results.join(", ")
    );
    let mut sources = SourceMap::new();
    let file = sources.add("cases.spes", &text);
    let compiled = compile(
        &mut sources,
        &[(file, Path::new("cases.spes").into())],
        &Files,
        &Default::default(),
    );
    match compiled.plan {
        Some(plan) => plan.types,
        None => panic!(
            "{}",
            spesc::diagnostic::render::rich(&sources, &compiled.diagnostics, false)
        ),
    }
}

/// `Name`, `Name[]`, `Name?` or a built-in.
fn ty(text: &str) -> Type {
    if let Some(inner) = text.strip_suffix("[]") {
        return Type::List(Box::new(ty(inner)));
    }
    if let Some(inner) = text.strip_suffix('?') {
        return Type::Optional(Box::new(ty(inner)));
    }
    match text {
        "string" => Type::String,
        "int" => Type::Int,
        "float" => Type::Float,
        "bool" => Type::Bool,
        name => Type::Named(name.to_string()),
    }
}

/// (name, type, reply, what it must read as; `None`: refused).
fn cases() -> Vec<(&'static str, &'static str, &'static str, Option<Value>)> {
    vec![
        // Basics.
        ("null for an optional", "string?", "null", Some(Value::Null)),
        ("Null is text", "string?", "Null", Some(json!("Null"))),
        ("an int", "int", "12111", Some(json!(12111))),
        ("thousands", "int", "12,111", Some(json!(12111))),
        ("text is as written", "string", "\"hello\"", Some(json!("\"hello\""))),
        ("True", "bool", "True", Some(json!(true))),
        ("false", "bool", "false", Some(json!(false))),
        ("a float", "float", "12111.123", Some(json!(12111.123))),
        ("US separators", "float", "12,111.123", Some(json!(12111.123))),
        ("European separators", "float", "12.111,123", Some(json!(12111.123))),
        ("a decimal comma", "float", "3,5", Some(json!(3.5))),
        ("a fraction", "float", "1/5", Some(json!(0.2))),
        ("ints as text", "string[]", "[1, 2, 3]", Some(json!(["1", "2", "3"]))),
        ("ints as floats", "float[]", "[1, 2, 3]", Some(json!([1, 2, 3]))),
        ("spaces", "Key", " { \"key\" : \"v\" } ", Some(json!({"key": "v"}))),
        ("prose around", "Foo", "The output is: {\"hi\": [\"a\", \"b\"]} as asked.", Some(json!({"hi": ["a", "b"]}))),
        ("two objects, the last", "Key", "{\"key\": \"one\"} {\"key\": \"two\"}", Some(json!({"key": "two"}))),
        ("two objects as a list", "Key[]", "{\"key\": \"one\"} then {\"key\": \"two\"}", Some(json!([{"key": "one"}, {"key": "two"}]))),
        ("a trailing comma", "int[]", "[1, 2, 3,]", Some(json!([1, 2, 3]))),
        ("cut off", "int[]", "[1, 2, 3", Some(json!([1, 2, 3]))),
        ("cut off inside", "Keys", "{\"key\": \"v\", \"object\": {\"key\": \"w\"}, \"array\": [1, 2", Some(json!({"key": "v", "array": [1, 2], "object": {"key": "w"}}))),
        ("a cut string", "Key", "{\"key\": \"val", Some(json!({"key": "val"}))),
        ("a fence", "Keys", "some text\n```json\n{\n  \"key\": \"v\",\n  \"array\": [1, 2, 3],\n  \"object\": {\"key\": \"w\"}\n}\n```", Some(json!({"key": "v", "array": [1, 2, 3], "object": {"key": "w"}}))),
        ("two fences, the one that fits", "int[]", "```json\n{\"key\": \"v\"}\n```\n\n```json\n[\"1\", \"2\"]\n```", Some(json!([1, 2]))),
        ("comments and quotes in a fence", "Keys", "```json\n{\n  key: \"v\",\n  array: [1, 2, 3, /* three */],\n  object: { // the object\n    key: 'w'\n  },\n}\n```", Some(json!({"key": "v", "array": [1, 2, 3], "object": {"key": "w"}}))),
        ("unquoted text with spaces", "Nest", "{\n  foo: {\n    key: value with space\n  }\n}", Some(json!({"foo": {"key": "value with space"}}))),
        ("raw newlines", "Key", "{\"key\": \"a long\nthing\n\nwith lines\"}", Some(json!({"key": "a long\nthing\n\nwith lines"}))),
        ("unquoted prose with commas", "Flag", "{\n  \"my_field_0\": true,\n  \"my_field_1\": **One part, another part**\n\nMore, and more. Then \"a quote\" here.\n}", Some(json!({"my_field_0": true, "my_field_1": "**One part, another part**\n\nMore, and more. Then \"a quote\" here."}))),
        ("braces in prose", "Local[]", "For the placeholder {player_name} I kept it.\n\nJSON Output:\n```\n[\n  {\"id\": \"a\", \"English\": \"Find {player_name}\", \"Portuguese\": \"Encontre {player_name}\"}\n]\n```", Some(json!([{"id": "a", "english": "Find {player_name}", "portuguese": "Encontre {player_name}"}]))),
        // Records.
        ("a one-item list from one", "Foo[]", "{\"hi\": \"a\"}", Some(json!([{"hi": ["a"]}]))),
        ("a string holding a list", "Key", "{\"key\": \"[\\\"bar\\\"]\"}", Some(json!({"key": "[\"bar\"]"}))),
        ("a string holding a fence", "Key", "{\"key\": \"Try:\\n```json\\n{\\\"a\\\": 1}\\n```\"}", Some(json!({"key": "Try:\n```json\n{\"a\": 1}\n```"}))),
        ("a missing optional", "Optional", "{}", Some(json!({"foo": null}))),
        ("an empty optional", "Optional", "{\"foo\": \"\"}", Some(json!({"foo": ""}))),
        ("the fenced object that fits", "Pair", "Here:\n```json\n{\"one\": \"hi\", \"two\": \"hello\"}\n```\n\n```json\n{\"other\": {\"k\": \"v\"}, \"list\": []}\n```", Some(json!({"one": "hi", "two": "hello"}))),
        ("a complete one over a cut one", "Nest", "```json\n{\"foo\": {\"key\": \"hi\"}}\n```\nand\n```json\n{\"foo\": {\"key\": \"two\"", Some(json!({"foo": {"key": "hi"}}))),
        ("a resume", "Resume", "{\"name\": \"Lee\", \"email\": null, \"experience\": [\"Minister since 2024\", \"Member (MP) since 1991\"], \"skills\": [\"politics\"]}", Some(json!({"name": "Lee", "email": null, "experience": ["Minister since 2024", "Member (MP) since 1991"], "skills": ["politics"]}))),
        ("aliases", "Aliased", "{\"key-dash\": \"a\", \"key21\": \"b\", \"key with space\": \"c\", \"key4\": \"d\"}", Some(json!({"key": "a", "key2": "b", "key3": "c", "key4": "d"}))),
        ("keys with spaces around", "Simple", "{\" answer \": {\" content \": 78.54}}", Some(json!({"answer": {"content": 78.54}}))),
        ("a list of records", "Education[]", "[{\"school\": \"A\", \"degree\": \"B\", \"year\": 2015}, {\"school\": \"C\", \"degree\": \"D\", \"year\": 2019}]", Some(json!([{"school": "A", "degree": "B", "year": 2015}, {"school": "C", "degree": "D", "year": 2019}]))),
        ("comments on each field", "Circle", "{\n  // what it does\n  function_name: 'circle.circumference',\n  // the diameter (with a \", \")\n  diameter: 10,\n}", Some(json!({"function_name": "circle.circumference", "diameter": 10}))),
        ("an unknown member after", "Circle", "{\n  function_name: 'circle.circumference',\n  diameter: 10,\n  Some key: \"Some value\"\n}\nand this", Some(json!({"function_name": "circle.circumference", "diameter": 10}))),
        ("prose is no record", "Text", "My inner string", None),
        ("a number is a record of one", "Count", "1214", Some(json!({"count": 1214}))),
        ("a bool is a record of one", "Flag", " true ", None),
        // Code in strings.
        ("backticks", "Code", "{\"kind\": \"code\", \"code\": `print(\"Hello, world!\")`}", Some(json!({"kind": "code", "code": "print(\"Hello, world!\")"}))),
        ("single quotes around code", "Code", "{\"kind\": \"code\", \"code\": 'print(\"Hello, world!\")'}", Some(json!({"kind": "code", "code": "print(\"Hello, world!\")"}))),
        ("triple quotes", "Code", "{\"kind\": \"code\", \"code\": \"\"\"print(\"Hello, world!\")\"\"\"}", Some(json!({"kind": "code", "code": "print(\"Hello, world!\")"}))),
        ("triple quotes dedented", "Code", "{\n  \"code\": \"\"\"\n      def main():\n        print(\"hi\")\n  \"\"\",\n  \"kind\": \"code\",\n}", Some(json!({"kind": "code", "code": "def main():\n  print(\"hi\")"}))),
        ("unescaped quotes", "Code", "{\"kind\": \"code\", \"code\": \"print(\"Hello, world!\")\"}", Some(json!({"kind": "code", "code": "print(\"Hello, world!\")"}))),
        ("quotes in single quotes", "Code", "{\"kind\": \"code\", \"code\": 'print('Hello, world!')'}", Some(json!({"kind": "code", "code": "print('Hello, world!')"}))),
        ("backticks in backticks", "Code", "{\"kind\": \"code\", \"code\": `console.log(`Hello`)`}", Some(json!({"kind": "code", "code": "console.log(`Hello`)"}))),
        ("a fence as a value", "Code", "Compare:\n\n{\n  \"code\": ```typescript\nconst a = { b: \"}}]]\" };\n```,\n  \"kind\": \"code\",\n}\n\nBoth work.", Some(json!({"kind": "code", "code": "const a = { b: \"}}]]\" };"}))),
        ("a fence in a string", "Code", "```json\n{\n  \"code\": \"```\nconst x = require('y');\n```\",\n  \"kind\": \"code\",\n}\n```", Some(json!({"kind": "code", "code": "```\nconst x = require('y');\n```"}))),
        // Enums.
        ("exact", "Category", "TWO", Some(json!("TWO"))),
        ("any case", "Category", "two", Some(json!("TWO"))),
        ("quoted", "Category", "\"TWO\"", Some(json!("TWO"))),
        ("a list of one", "Category", "[\"TWO\"]", Some(json!("TWO"))),
        ("with a description after", "Category", "\"ONE: the first\"", Some(json!("ONE"))),
        ("in prose", "Category", "The answer is One", Some(json!("ONE"))),
        ("emphasised", "Category", "**one** is the answer", Some(json!("ONE"))),
        ("upper case for Pascal", "Pascal", "**ONE** is the answer", Some(json!("One"))),
        ("the exact case decides", "Category", "TWO\" is one of the right answers.", Some(json!("TWO"))),
        ("two named, any case", "Category", "Two\" is one of the right answers.", None),
        ("two named", "Category", "\"ONE - is the answer, not TWO\"", None),
        ("an alias", "Described", "k1", Some(json!("ONE"))),
        ("an alias with punctuation", "Described", "k-2-3.1_1", Some(json!("TWO"))),
        ("an alias with a space", "Described", "NUMBER THREE", Some(json!("THREE"))),
        ("an alias in another case", "Described", "number three", Some(json!("THREE"))),
        ("an alias and its description", "Described", "k1: the first value", Some(json!("ONE"))),
        ("an alias in prose", "Described", "I would think k-2-3.1_1 is the best", Some(json!("TWO"))),
        ("enums by alias in a list", "Described[]", "Something like this!\n```json\n[k1, \"k-2-3.1_1\", \"NUMBER THREE\"]\n```", Some(json!(["ONE", "TWO", "THREE"]))),
        ("null for an optional enum", "Described?", "No form applies, so:\n\n```json\nnull\n```\n\nThat means none.", Some(Value::Null)),
        ("a bullet", "Spam", "Urgency ($^{$_{Ω}$rel}$) is typical of spam. So:\n\n- **SPAM**", Some(json!("SPAM"))),
    ]
}

#[test]
fn every_case_reads_as_it_should() {
    let types = types();
    let mut failed = Vec::new();
    let all = cases();
    for (name, type_text, reply, expected) in &all {
        let got = read(reply, &ty(type_text), &types);
        match (expected, got) {
            (Some(want), Ok(reading)) if reading.value == *want => {}
            (None, Err(_)) => {}
            (want, got) => failed.push(format!(
                "{name} ({type_text}): {reply:?}\n    wanted {want:?}\n    got    {:?}",
                got.map(|r| (r.value, r.repairs))
            )),
        }
    }
    assert!(
        failed.is_empty(),
        "{} of {} cases read wrongly:\n{}",
        failed.len(),
        all.len(),
        failed.join("\n")
    );
}
