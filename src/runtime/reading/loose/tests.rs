//! The forgiving JSON reader on its own.

use super::*;
use serde_json::json;

fn read(text: &str) -> (Value, Vec<&'static str>) {
    let loose = read_at(text, 0).unwrap_or_else(|at| panic!("{text:?} stopped at {at}"));
    (loose.value, loose.fixes.into_iter().collect())
}

#[test]
fn json5_like_text_is_read_and_each_fix_named() {
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
fn raw_newlines_triple_quotes_and_unescaped_quotes_are_read() {
    let (value, _) = read("{\"a\": \"one\ntwo\", \"b\": \"\"\"x \"y\"\nz\"\"\"}");
    assert_eq!(value, json!({"a": "one\ntwo", "b": "x \"y\"\nz"}));
    let (value, fixes) = read(r#"{"said": "He said "hi, you" to me", "n": 1}"#);
    assert_eq!(value, json!({"said": "He said \"hi, you\" to me", "n": 1}));
    assert_eq!(fixes, ["unescaped quote kept in a string"]);
    let (value, _) = read("{'note': 'Ada's book'}");
    assert_eq!(value, json!({"note": "Ada's book"}));
}

#[test]
fn a_cut_off_text_is_closed_and_the_place_kept() {
    let cut = |text: &str| {
        let loose = read_at(text, 0).expect("readable");
        (loose.value, loose.cut)
    };
    assert_eq!(
        cut("[1, 2, 3"),
        (json!([1, 2, 3]), Some(vec![Segment::Index(2)])),
        "the 3 may have had more digits"
    );
    assert_eq!(
        cut(r#"{"a": {"b": "unfinish"#),
        (
            json!({"a": {"b": "unfinish"}}),
            Some(vec![Segment::Key("a".into()), Segment::Key("b".into())])
        )
    );
    assert_eq!(cut(r#"{"a": 1, "b"#).0, json!({"a": 1}), "a key cut off");
    assert_eq!(cut(r#"{"a": 1, "b": "#).0, json!({"a": 1}));
    assert_eq!(cut("[true, fa").0, json!([true, false]));
    assert_eq!(cut("[1.").0, json!([1]));
    assert_eq!(cut("[1, 2]").1, None, "complete");
}

#[test]
fn valid_json_reads_as_json() {
    let text = r#"{"a": [1, 2.5, -3e2, "x\"y\\z\u00e9\ud83d\ude00"], "b": {"c": null, "d": true}}"#;
    let (value, fixes) = read(text);
    assert_eq!(value, serde_json::from_str::<Value>(text).unwrap());
    assert!(fixes.is_empty(), "{fixes:?}");
}

#[test]
fn prose_in_braces_is_not_an_object() {
    assert!(read_at("{player_name} wins", 0).is_err());
    assert!(read_at("{a b}", 0).is_err());
}

#[test]
fn nesting_is_bounded() {
    let deep = "[".repeat(100_000);
    assert!(read_at(&deep, 0).is_err());
}
