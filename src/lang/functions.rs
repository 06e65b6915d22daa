//! The built-in functions, in one table: the checker types calls against
//! [`Signature::params`] and [`Signature::returns`], the runtime runs
//! [`Function::call`], and `docs/language.md` lists [`Signature::doc`].

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::value::{equal, render};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Function {
    Len,
    Join,
    Split,
    Lower,
    Upper,
    Trim,
    Contains,
    Matches,
    Json,
    ToString,
}

/// What a parameter accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Param {
    /// Text: a string or a component.
    Text,
    /// A list.
    List,
    /// Something with a length or members: a string, a list or a map.
    Sized,
    /// Any value.
    Any,
}

/// What a call gives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Returns {
    Int,
    Text,
    TextList,
    Bool,
}

pub struct Signature {
    pub function: Function,
    pub name: &'static str,
    pub params: &'static [Param],
    pub returns: Returns,
    /// The signature as the documentation writes it.
    pub doc: &'static str,
}

pub const FUNCTIONS: &[Signature] = &[
    Signature {
        function: Function::Len,
        name: "len",
        params: &[Param::Sized],
        returns: Returns::Int,
        doc: "`len(string | list | map) -> int`",
    },
    Signature {
        function: Function::Join,
        name: "join",
        params: &[Param::List, Param::Text],
        returns: Returns::Text,
        doc: "`join(list, string) -> string`",
    },
    Signature {
        function: Function::Split,
        name: "split",
        params: &[Param::Text, Param::Text],
        returns: Returns::TextList,
        doc: "`split(string, string) -> string[]`",
    },
    Signature {
        function: Function::Lower,
        name: "lower",
        params: &[Param::Text],
        returns: Returns::Text,
        doc: "`lower(string) -> string`",
    },
    Signature {
        function: Function::Upper,
        name: "upper",
        params: &[Param::Text],
        returns: Returns::Text,
        doc: "`upper(string) -> string`",
    },
    Signature {
        function: Function::Trim,
        name: "trim",
        params: &[Param::Text],
        returns: Returns::Text,
        doc: "`trim(string) -> string`",
    },
    Signature {
        function: Function::Contains,
        name: "contains",
        params: &[Param::Sized, Param::Any],
        returns: Returns::Bool,
        doc: "`contains(string | list | map, value) -> bool`",
    },
    Signature {
        function: Function::Matches,
        name: "matches",
        params: &[Param::Text, Param::Text],
        returns: Returns::Bool,
        doc: "`matches(string, regex) -> bool`",
    },
    Signature {
        function: Function::Json,
        name: "json",
        params: &[Param::Any],
        returns: Returns::Text,
        doc: "`json(value) -> string` (the value as JSON text)",
    },
    Signature {
        function: Function::ToString,
        name: "to_string",
        params: &[Param::Any],
        returns: Returns::Text,
        doc: "`to_string(value) -> string`",
    },
];

/// The function called `name`, if there is one.
pub fn lookup(name: &str) -> Option<&'static Signature> {
    FUNCTIONS.iter().find(|s| s.name == name)
}

/// Every function's name, for `did you mean`.
pub fn names() -> impl Iterator<Item = &'static str> {
    FUNCTIONS.iter().map(|s| s.name)
}

impl Function {
    pub fn signature(self) -> &'static Signature {
        // Every variant has its row: the table test below says so.
        FUNCTIONS
            .iter()
            .find(|s| s.function == self)
            .unwrap_or(&FUNCTIONS[0])
    }

    pub fn name(self) -> &'static str {
        self.signature().name
    }

    /// Calls the function on checked arguments.
    pub fn call(self, args: &[Value]) -> Result<Value, String> {
        let text = |i: usize| args.get(i).map(render).unwrap_or_default();
        Ok(match self {
            Function::Len => Value::from(match args.first() {
                Some(Value::String(s)) => s.chars().count(),
                Some(Value::Array(items)) => items.len(),
                Some(Value::Object(map)) => map.len(),
                _ => 0,
            }),
            Function::Join => {
                let items = match args.first() {
                    Some(Value::Array(items)) => items.iter().map(render).collect::<Vec<_>>(),
                    _ => Vec::new(),
                };
                Value::String(items.join(&text(1)))
            }
            Function::Split => Value::Array(
                text(0)
                    .split(text(1).as_str())
                    .map(|s| Value::String(s.to_string()))
                    .collect(),
            ),
            Function::Lower => Value::String(text(0).to_lowercase()),
            Function::Upper => Value::String(text(0).to_uppercase()),
            Function::Trim => Value::String(text(0).trim().to_string()),
            Function::Contains => Value::Bool(match (args.first(), args.get(1)) {
                (Some(Value::Array(items)), Some(needle)) => items.iter().any(|i| equal(i, needle)),
                (Some(Value::Object(map)), Some(key)) => map.contains_key(&render(key)),
                _ => text(0).contains(&text(1)),
            }),
            Function::Matches => {
                let pattern = regex_lite::Regex::new(&text(1))
                    .map_err(|e| format!("bad regular expression: {e}"))?;
                Value::Bool(pattern.is_match(&text(0)))
            }
            Function::Json => Value::String(args.first().map(Value::to_string).unwrap_or_default()),
            Function::ToString => Value::String(text(0)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_function_has_one_row() {
        for row in FUNCTIONS {
            assert_eq!(row.function.name(), row.name);
            assert_eq!(lookup(row.name).map(|s| s.function), Some(row.function));
        }
    }

    #[test]
    fn functions_follow_their_signatures() {
        let call = |f: Function, args: &[Value]| f.call(args).ok();
        assert_eq!(call(Function::Len, &[json!("héllo")]), Some(json!(5)));
        assert_eq!(
            call(Function::Join, &[json!(["a", "b"]), json!(", ")]),
            Some(json!("a, b"))
        );
        assert_eq!(
            call(Function::Split, &[json!("a-b"), json!("-")]),
            Some(json!(["a", "b"]))
        );
        assert_eq!(
            call(Function::Contains, &[json!([1, 2]), json!(2)]),
            Some(json!(true))
        );
        assert_eq!(
            call(Function::Matches, &[json!("v1.2"), json!(r"^v\d")]),
            Some(json!(true))
        );
        assert_eq!(
            call(Function::Json, &[json!({"a": 1})]),
            Some(json!(r#"{"a":1}"#))
        );
        assert!(Function::Matches.call(&[json!("x"), json!("(")]).is_err());
    }
}
