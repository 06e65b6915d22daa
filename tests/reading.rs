//! Reading replies as their types, over many values and many texts: a
//! property test (every type in `examples/` and random types; random
//! values written as JSON, dressed in what models add — prose, fences,
//! trailing commas, single quotes, unquoted keys, a cut-off tail — read
//! back as the same value) and a robustness test (any text never panics
//! and never gives a value that does not fit its type).

// A test fails by panicking; `expect` says where and why.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod support;

use std::path::Path;

use serde_json::{Map, Value};
use spesc::plan::compile;
use spesc::plan::types::{Field, Type, TypeDef, Types};
use spesc::runtime::reading::read;
use spesc::runtime::value::conform;
use spesc::source::SourceMap;
use support::run::Files;

/// xorshift64: the same cases on every run, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn chance(&mut self, one_in: u64) -> bool {
        self.next().is_multiple_of(one_in)
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Every record and enum the examples declare, with the types to read:
/// each of them, a list of each, and each optional.
fn example_types() -> (Types, Vec<Type>) {
    let mut all = Types::default();
    let mut wanted = Vec::new();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("examples/")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "spes"))
        .collect();
    files.sort();
    for path in files {
        let text = std::fs::read_to_string(&path).expect("readable");
        let name = path.display().to_string();
        let mut sources = SourceMap::new();
        let file = sources.add(&name, &text);
        let compiled = compile(
            &mut sources,
            &[(file, path.clone())],
            &Files,
            &Default::default(),
        );
        let plan = compiled.plan.unwrap_or_else(|| panic!("{name} compiles"));
        for (type_name, def) in plan.types.0 {
            let ty = Type::Named(type_name.clone());
            wanted.push(Type::List(Box::new(ty.clone())));
            wanted.push(Type::Optional(Box::new(ty.clone())));
            wanted.push(ty);
            all.0.insert(type_name, def);
        }
    }
    assert!(wanted.len() > 30, "the examples declare types");
    (all, wanted)
}

/// A random type, its records and enums entered in `types`.
fn random_type(rng: &mut Rng, types: &mut Types, depth: usize) -> Type {
    let leaf = depth > 3 || rng.chance(3);
    match rng.below(if leaf { 5 } else { 10 }) {
        0 => Type::String,
        1 => Type::Int,
        2 => Type::Float,
        3 => Type::Bool,
        4 => {
            let name = format!("E{}", types.0.len());
            let count = 1 + rng.below(4);
            let variants = (0..count).map(|i| format!("{}_{i}", word(rng))).collect();
            let def = TypeDef::Enum {
                variants,
                about: Default::default(),
            };
            types.0.insert(name.clone(), def);
            Type::Named(name)
        }
        5 | 6 => Type::List(Box::new(random_type(rng, types, depth + 1))),
        // `T??` is no type: the language has one `?`.
        7 => match random_type(rng, types, depth + 1) {
            optional @ Type::Optional(_) => optional,
            inner => Type::Optional(Box::new(inner)),
        },
        8 => Type::Map(Box::new(random_type(rng, types, depth + 1))),
        _ => {
            let name = format!("R{}", types.0.len());
            types
                .0
                .insert(name.clone(), TypeDef::Record { fields: vec![] });
            let count = 1 + rng.below(5);
            let fields = (0..count)
                .map(|i| {
                    let ty = random_type(rng, types, depth + 1);
                    Field::new(format!("{}_{i}", word(rng)), ty)
                })
                .collect();
            types.0.insert(name.clone(), TypeDef::Record { fields });
            Type::Named(name)
        }
    }
}

fn word(rng: &mut Rng) -> String {
    rng.pick(&[
        "title", "score", "Name", "x", "déjà", "tags", "is_ok", "count",
    ])
    .to_string()
}

/// A random value of `ty`, as reading gives it (optional fields present,
/// as `null` or a value).
fn random_value(rng: &mut Rng, ty: &Type, types: &Types, depth: usize) -> Value {
    match ty {
        Type::String => Value::String(random_text(rng)),
        Type::Int => Value::from(rng.next() as i64 % 100_000 - 50_000),
        Type::Float => Value::from((rng.next() % 20_000) as f64 / 4.0 - 2_500.125),
        Type::Bool => Value::Bool(rng.chance(2)),
        Type::Json | Type::Duration => Value::from(rng.below(1000)),
        Type::Optional(inner) => match rng.chance(3) {
            true => Value::Null,
            false => random_value(rng, inner, types, depth),
        },
        Type::List(of) => {
            let count = if depth > 3 { 0 } else { rng.below(4) };
            Value::Array(
                (0..count)
                    .map(|_| random_value(rng, of, types, depth + 1))
                    .collect(),
            )
        }
        Type::Map(of) => {
            let count = if depth > 3 { 0 } else { rng.below(3) };
            let map: Map<String, Value> = (0..count)
                .map(|i| {
                    (
                        format!("{}{i}", word(rng)),
                        random_value(rng, of, types, depth + 1),
                    )
                })
                .collect();
            Value::Object(map)
        }
        Type::Named(name) => match types.get(name) {
            Some(TypeDef::Enum { variants, .. }) => Value::String(rng.pick(variants).clone()),
            Some(TypeDef::Record { fields }) => Value::Object(
                fields
                    .iter()
                    .map(|f| (f.name.clone(), random_value(rng, &f.ty, types, depth + 1)))
                    .collect(),
            ),
            None => Value::Null,
        },
    }
}

/// Text with what trips readers up: quotes of every kind, braces, commas,
/// colons, backslashes, newlines, non-ASCII.
fn random_text(rng: &mut Rng) -> String {
    const PIECES: &[&str] = &[
        "a",
        "Ada",
        " ",
        "\"",
        "'",
        "{",
        "}",
        "[",
        "]",
        ",",
        ":",
        "\\",
        "\n",
        "é",
        "☃",
        "//",
        "/*",
        "null",
        "12",
        "true",
        "He said \"hi\"",
        "it's",
    ];
    (0..rng.below(6)).map(|_| *rng.pick(PIECES)).collect()
}

/// How a model may dress a value's JSON.
struct Dress {
    single_quotes: bool,
    unquoted_keys: bool,
    trailing_commas: bool,
    pretty: bool,
}

fn write(value: &Value, dress: &Dress, depth: usize, out: &mut String) {
    let indent = |out: &mut String, depth: usize| {
        if dress.pretty {
            out.push('\n');
            out.push_str(&"  ".repeat(depth));
        }
    };
    match value {
        Value::String(s) => write_string(s, dress.single_quotes, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                indent(out, depth + 1);
                write(item, dress, depth + 1, out);
                if i + 1 < items.len() || dress.trailing_commas {
                    out.push_str(", ");
                }
            }
            indent(out, depth);
            out.push(']');
        }
        Value::Object(fields) => {
            out.push('{');
            for (i, (key, item)) in fields.iter().enumerate() {
                indent(out, depth + 1);
                let bare = key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
                if dress.unquoted_keys && bare {
                    out.push_str(key);
                } else {
                    write_string(key, dress.single_quotes, out);
                }
                out.push_str(": ");
                write(item, dress, depth + 1, out);
                if i + 1 < fields.len() || dress.trailing_commas {
                    out.push_str(", ");
                }
            }
            indent(out, depth);
            out.push('}');
        }
        other => out.push_str(&other.to_string()),
    }
}

fn write_string(text: &str, single: bool, out: &mut String) {
    if !single {
        out.push_str(&Value::String(text.to_string()).to_string());
        return;
    }
    out.push('\'');
    for c in text.chars() {
        match c {
            '\'' => out.push_str("\\'"),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('\'');
}

/// `value` as a model may write it.
fn dressed(rng: &mut Rng, value: &Value) -> String {
    let dress = Dress {
        single_quotes: rng.chance(3),
        unquoted_keys: rng.chance(2),
        trailing_commas: rng.chance(3),
        pretty: rng.chance(2),
    };
    let mut json = String::new();
    write(value, &dress, 0, &mut json);
    let container = value.is_object() || value.is_array();
    let cut = container && rng.chance(4);
    if cut {
        // Cut off: the closers at the end never arrived (and the quote
        // of a string there), which leaves the value as it was.
        let kept = json.trim_end_matches([']', '}', ' ', '\n', ',']);
        let kept = kept.strip_suffix(['"', '\'']).unwrap_or(kept);
        json = kept.to_string();
    }
    let fence = rng.chance(2);
    if fence {
        let tag = rng.pick(&["json", "", "jsonc", "JSON"]);
        // A reply cut off ends where it was cut: no closing fence.
        let close = if cut { "" } else { "\n```" };
        json = format!("```{tag}\n{json}{close}");
    }
    // Prose only around what the text can find in it: an object or a
    // list (a bare scalar in prose is not read out of it).
    if container && rng.chance(2) {
        let before = rng.pick(&[
            "Sure! Here it is:",
            "Replace {player_name} with yours. Result:",
            "I've read it: it's this.",
        ]);
        let after = match cut {
            true => "",
            false => rng.pick(&["", "Hope that helps!", "Let me know: I'm here."]),
        };
        json = match cut {
            true => format!("{before}\n{json}"),
            false => format!("{before}\n{json}\n{after}"),
        };
    }
    json
}

fn reads_back(rng: &mut Rng, ty: &Type, types: &Types, cases: usize) {
    for _ in 0..cases {
        let value = random_value(rng, ty, types, 0);
        let value = conform(value, ty, types).expect("a generated value fits");
        let text = dressed(rng, &value);
        match read(&text, ty, types) {
            Ok(reading) => assert_eq!(
                reading.value, value,
                "{ty}: read {text:?} with {:?}",
                reading.repairs
            ),
            Err(error) => panic!("{ty}: {text:?} did not read: {error}"),
        }
    }
}

#[test]
fn values_of_every_example_type_read_back_through_model_noise() {
    let (types, wanted) = example_types();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for ty in wanted.iter().filter(|ty| !ty.is_text()) {
        reads_back(&mut rng, ty, &types, 40);
    }
}

#[test]
fn values_of_random_types_read_back_through_model_noise() {
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    for _ in 0..400 {
        let mut types = Types::default();
        let ty = random_type(&mut rng, &mut types, 0);
        if ty.is_text() {
            continue;
        }
        reads_back(&mut rng, &ty, &types, 10);
    }
}

/// Any text, as bytes made text, or as a soup of the pieces JSON-like
/// text is made of.
fn random_reply(rng: &mut Rng) -> String {
    if rng.chance(3) {
        let bytes: Vec<u8> = (0..rng.below(200)).map(|_| rng.next() as u8).collect();
        return String::from_utf8_lossy(&bytes).into_owned();
    }
    const PIECES: &[&str] = &[
        "{",
        "}",
        "[",
        "]",
        ",",
        ":",
        "\"",
        "'",
        "`",
        "\"\"\"",
        "```",
        "```json\n",
        "/",
        "*",
        "//",
        "/*",
        "*/",
        "\\",
        "\\u",
        "\\ud83d",
        "\n",
        " ",
        "a",
        "1",
        "-",
        ".",
        "e",
        "true",
        "fa",
        "null",
        "None",
        "é",
        "x y",
        "title",
        "\"title\"",
        "score",
        "12,111",
        "$5",
        "yes",
    ];
    (0..rng.below(60)).map(|_| *rng.pick(PIECES)).collect()
}

#[test]
fn any_text_reads_without_a_panic_and_never_as_a_value_that_does_not_fit() {
    let (mut types, mut wanted) = example_types();
    let mut rng = Rng(0xdead_beef_cafe_f00d);
    for _ in 0..60 {
        wanted.push(random_type(&mut rng, &mut types, 0));
    }
    wanted.extend([Type::Int, Type::Float, Type::Bool, Type::Json]);
    for _ in 0..30_000 {
        let ty = rng.pick(&wanted).clone();
        let text = random_reply(&mut rng);
        if let Ok(reading) = read(&text, &ty, &types) {
            assert_eq!(
                conform(reading.value.clone(), &ty, &types),
                Ok(reading.value.clone()),
                "{ty}: {text:?} read as a value that does not fit"
            );
        }
    }
}
