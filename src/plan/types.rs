//! Types in the plan: what the runtime checks values against. A type is
//! written as the language writes it (`Outline[]?`, `map<int>`); records
//! and enums are looked up by name in the plan's [`Types`] table, so the
//! plan's JSON stays readable and carries each declaration once.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub use crate::lang::about::About;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Type {
    String,
    Int,
    Float,
    Bool,
    /// Any JSON value.
    Json,
    /// Milliseconds.
    Duration,
    List(Box<Type>),
    /// `map<T>`: string keys.
    Map(Box<Type>),
    Optional(Box<Type>),
    /// A record or an enum of the plan's [`Types`].
    Named(String),
}

/// A declared (or synthesized) record or enum.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TypeDef {
    Record {
        fields: Vec<Field>,
    },
    Enum {
        variants: Vec<String>,
        /// A variant's description and aliases, by its name.
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        about: BTreeMap<String, About>,
    },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Field {
    pub name: String,
    #[serde(rename = "type")]
    pub ty: Type,
    #[serde(flatten)]
    pub about: About,
}

impl Field {
    pub fn new(name: impl Into<String>, ty: Type) -> Field {
        Field {
            name: name.into(),
            ty,
            about: About::default(),
        }
    }
}

/// Records and enums by name.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Types(pub BTreeMap<String, TypeDef>);

impl Types {
    pub fn get(&self, name: &str) -> Option<&TypeDef> {
        self.0.get(name)
    }

    /// The record a type names, if it is one (through `?`).
    pub fn record(&self, ty: &Type) -> Option<&[Field]> {
        match ty.unwrap_optional() {
            Type::Named(name) => match self.get(name)? {
                TypeDef::Record { fields } => Some(fields),
                TypeDef::Enum { .. } => None,
            },
            _ => None,
        }
    }

    /// The enum a type names (through `?`): its variants and what they
    /// say of themselves.
    pub fn enumeration(&self, ty: &Type) -> Option<(&[String], &BTreeMap<String, About>)> {
        match ty.unwrap_optional() {
            Type::Named(name) => match self.get(name)? {
                TypeDef::Enum { variants, about } => Some((variants, about)),
                TypeDef::Record { .. } => None,
            },
            _ => None,
        }
    }
}

impl Type {
    pub fn unwrap_optional(&self) -> &Type {
        match self {
            Type::Optional(inner) => inner,
            other => other,
        }
    }

    pub fn is_optional(&self) -> bool {
        matches!(self, Type::Optional(_))
    }

    /// Whether a reply of this type is text, taken as the model wrote it.
    pub fn is_text(&self) -> bool {
        matches!(self.unwrap_optional(), Type::String)
    }
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Type::String => f.write_str("string"),
            Type::Int => f.write_str("int"),
            Type::Float => f.write_str("float"),
            Type::Bool => f.write_str("bool"),
            Type::Json => f.write_str("json"),
            Type::Duration => f.write_str("duration"),
            Type::List(of) => write!(f, "{of}[]"),
            Type::Map(of) => write!(f, "map<{of}>"),
            Type::Optional(of) => write!(f, "{of}?"),
            Type::Named(name) => f.write_str(name),
        }
    }
}

impl std::str::FromStr for Type {
    type Err = String;

    /// The written form back: suffixes are peeled from the end, so a
    /// synthesized record's name (`loop \`refine\``) reads as one name.
    fn from_str(text: &str) -> Result<Type, String> {
        let text = text.trim();
        if let Some(inner) = text.strip_suffix("[]") {
            return Ok(Type::List(Box::new(inner.parse()?)));
        }
        if let Some(inner) = text.strip_suffix('?') {
            return Ok(Type::Optional(Box::new(inner.parse()?)));
        }
        if let Some(inner) = text.strip_prefix("map<").and_then(|t| t.strip_suffix('>')) {
            return Ok(Type::Map(Box::new(inner.parse()?)));
        }
        Ok(match text {
            "" => return Err("an empty type".to_string()),
            "string" => Type::String,
            "int" => Type::Int,
            "float" => Type::Float,
            "bool" => Type::Bool,
            "json" => Type::Json,
            "duration" => Type::Duration,
            name => Type::Named(name.to_string()),
        })
    }
}

impl Serialize for Type {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Type {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Type, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_read_back_what_they_write() {
        for text in [
            "Outline[]?",
            "map<int>[]",
            "string",
            "loop `refine`",
            "{a: int[]}[]",
        ] {
            let ty: Type = text.parse().expect("a type");
            assert_eq!(ty.to_string(), text);
        }
        assert_eq!(
            "int[]?".parse::<Type>(),
            Ok(Type::Optional(Box::new(Type::List(Box::new(Type::Int)))))
        );
    }
}
