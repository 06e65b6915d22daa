//! The checker's types: what a value is, after names are resolved.

use std::collections::BTreeMap;
use std::fmt;
use std::rc::Rc;

use crate::lang::about::About;
use crate::source::Span;

/// A type. Records and enums are shared (`Rc`) because every use of
/// `Outline` points at the same declaration.
#[derive(Clone, Debug)]
pub enum Ty {
    String,
    Int,
    Float,
    Bool,
    /// Any JSON value: fields and indexes on it are `json` too.
    Json,
    Duration,
    List(Box<Ty>),
    /// `map<T>`: string keys.
    Map(Box<Ty>),
    Optional(Box<Ty>),
    Record(Rc<RecordTy>),
    Enum(Rc<EnumTy>),
    /// A prompt fragment: interpolates as its text.
    Component,
    /// A name that failed to resolve or an expression that failed to type.
    /// It fits everywhere, so one mistake is reported once, not at every use.
    Error,
}

/// A record: a declared `type`, a built-in (`ExecResult`, `Review`), a
/// loop's result, `previous`, or a record literal.
#[derive(Debug)]
pub struct RecordTy {
    pub name: String,
    pub fields: Vec<(String, Ty)>,
    /// Where it is declared, for "`Outline` is declared here" labels.
    pub decl: Option<Span>,
    /// Declared types compare by name; literals and synthesized records by
    /// their fields.
    pub nominal: bool,
    /// A field's description and aliases, by its name.
    pub about: BTreeMap<String, About>,
}

#[derive(Debug)]
pub struct EnumTy {
    pub name: String,
    pub variants: Vec<String>,
    pub decl: Option<Span>,
    /// A variant's description and aliases, by its name.
    pub about: BTreeMap<String, About>,
}

impl RecordTy {
    pub fn field(&self, name: &str) -> Option<&Ty> {
        self.fields.iter().find(|(n, _)| n == name).map(|(_, t)| t)
    }

    /// `` `title`, `sections` and `audience` ``, for "it has …" notes.
    pub fn field_list(&self) -> String {
        let names: Vec<&str> = self.fields.iter().map(|(n, _)| n.as_str()).collect();
        crate::suggest::all_of(&names)
    }
}

impl Ty {
    /// Whether a value of this type can hold free text: an enum's variant,
    /// a number or a bool is one of a few known values, so it cannot carry
    /// instructions into a `system` prompt (W0506).
    pub fn carries_text(&self) -> bool {
        match self {
            Ty::String | Ty::Json | Ty::Map(_) | Ty::Component => true,
            Ty::List(of) | Ty::Optional(of) => of.carries_text(),
            Ty::Record(r) => r.fields.iter().any(|(_, ty)| ty.carries_text()),
            Ty::Int | Ty::Float | Ty::Bool | Ty::Duration | Ty::Enum(_) | Ty::Error => false,
        }
    }

    pub fn list(of: Ty) -> Ty {
        Ty::List(Box::new(of))
    }

    pub fn optional(of: Ty) -> Ty {
        match of {
            Ty::Optional(_) | Ty::Error => of,
            other => Ty::Optional(Box::new(other)),
        }
    }

    pub fn is_error(&self) -> bool {
        matches!(self, Ty::Error)
    }

    pub fn is_optional(&self) -> bool {
        matches!(self, Ty::Optional(_))
    }

    /// The type without its `?`.
    pub fn unwrap_optional(&self) -> &Ty {
        match self {
            Ty::Optional(inner) => inner,
            other => other,
        }
    }

    pub fn is_numeric(&self) -> bool {
        matches!(self, Ty::Int | Ty::Float | Ty::Json | Ty::Error)
    }

    /// Whether a value of type `self` may be used where `expected` is
    /// required. `int` widens to `float`; anything fits `json`; `T` fits
    /// `T?`; a record literal fits a declared type with the same fields.
    pub fn fits(&self, expected: &Ty) -> bool {
        match (self, expected) {
            (Ty::Error, _) | (_, Ty::Error) | (_, Ty::Json) | (Ty::Json, _) => true,
            (Ty::Int, Ty::Float) => true,
            (Ty::Optional(a), Ty::Optional(b)) => a.fits(b),
            (Ty::Optional(_), _) => false,
            (a, Ty::Optional(b)) => a.fits(b),
            (Ty::List(a), Ty::List(b)) | (Ty::Map(a), Ty::Map(b)) => a.fits(b),
            (Ty::Record(a), Ty::Record(b)) => record_fits(a, b),
            // `env = { HOME: "/tmp" }`: a record literal is a map.
            (Ty::Record(r), Ty::Map(of)) if !r.nominal => r.fields.iter().all(|(_, t)| t.fits(of)),
            (Ty::Enum(a), Ty::Enum(b)) => a.name == b.name,
            (Ty::Component, Ty::String) | (Ty::String, Ty::Component) => true,
            (a, b) => std::mem::discriminant(a) == std::mem::discriminant(b),
        }
    }

    /// The type both `a` and `b` fit, for `match` arms, `if` branches and
    /// list items; `None` when they have nothing in common.
    pub fn join(a: &Ty, b: &Ty) -> Option<Ty> {
        if a.fits(b) {
            Some(b.clone())
        } else if b.fits(a) {
            Some(a.clone())
        } else {
            None
        }
    }
}

fn record_fits(found: &RecordTy, expected: &RecordTy) -> bool {
    if expected.nominal && found.nominal {
        return found.name == expected.name;
    }
    // Structural: every field the expected record needs is there and fits,
    // and nothing unknown is added.
    expected
        .fields
        .iter()
        .all(|(name, ty)| match found.field(name) {
            Some(f) => f.fits(ty),
            None => ty.is_optional(),
        })
        && found
            .fields
            .iter()
            .all(|(name, _)| expected.field(name).is_some())
}

impl fmt::Display for Ty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ty::String => f.write_str("string"),
            Ty::Int => f.write_str("int"),
            Ty::Float => f.write_str("float"),
            Ty::Bool => f.write_str("bool"),
            Ty::Json => f.write_str("json"),
            Ty::Duration => f.write_str("duration"),
            Ty::List(of) => write!(f, "{of}[]"),
            Ty::Map(of) => write!(f, "map<{of}>"),
            Ty::Optional(of) => write!(f, "{of}?"),
            Ty::Record(r) => f.write_str(&r.name),
            Ty::Enum(e) => f.write_str(&e.name),
            Ty::Component => f.write_str("component"),
            Ty::Error => f.write_str("{unknown}"),
        }
    }
}

/// `ExecResult { code: int, stdout: string, stderr: string }`
pub fn exec_result() -> Ty {
    Ty::Record(Rc::new(RecordTy {
        name: "ExecResult".to_string(),
        fields: vec![
            ("code".to_string(), Ty::Int),
            ("stdout".to_string(), Ty::String),
            ("stderr".to_string(), Ty::String),
        ],
        decl: None,
        nominal: true,
        about: Default::default(),
    }))
}

/// `enum Decision { approve, reject, revise }`
pub fn decision() -> Rc<EnumTy> {
    Rc::new(EnumTy {
        name: "Decision".to_string(),
        variants: ["approve", "reject", "revise"].map(String::from).to_vec(),
        decl: None,
        about: BTreeMap::new(),
    })
}

/// `Review { decision: Decision, comment: string? }`
pub fn review() -> Ty {
    Ty::Record(Rc::new(RecordTy {
        name: "Review".to_string(),
        fields: vec![
            ("decision".to_string(), Ty::Enum(decision())),
            ("comment".to_string(), Ty::optional(Ty::String)),
        ],
        decl: None,
        nominal: true,
        about: Default::default(),
    }))
}

/// The built-in type a name stands for, if any.
pub fn builtin(name: &str) -> Option<Ty> {
    Some(match name {
        "string" => Ty::String,
        "int" => Ty::Int,
        "float" => Ty::Float,
        "bool" => Ty::Bool,
        "json" => Ty::Json,
        "duration" => Ty::Duration,
        "ExecResult" => exec_result(),
        "Review" => review(),
        "Decision" => Ty::Enum(decision()),
        _ => return None,
    })
}

pub const BUILTIN_TYPES: &[&str] = &[
    "string",
    "int",
    "float",
    "bool",
    "json",
    "duration",
    "ExecResult",
    "Review",
    "Decision",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ints_widen_to_floats_and_values_fit_optionals() {
        assert!(Ty::Int.fits(&Ty::Float));
        assert!(!Ty::Float.fits(&Ty::Int));
        assert!(Ty::String.fits(&Ty::optional(Ty::String)));
        assert!(!Ty::optional(Ty::String).fits(&Ty::String));
        assert!(Ty::list(Ty::Int).fits(&Ty::list(Ty::Float)));
        assert_eq!(Ty::optional(Ty::list(Ty::String)).to_string(), "string[]?");
    }

    #[test]
    fn errors_fit_everything_so_they_do_not_cascade() {
        assert!(Ty::Error.fits(&Ty::Bool));
        assert!(Ty::Bool.fits(&Ty::Error));
    }

    #[test]
    fn record_literals_fit_declared_records_by_fields() {
        let declared = |name: &str, nominal| {
            Rc::new(RecordTy {
                name: name.to_string(),
                fields: vec![
                    ("a".to_string(), Ty::Int),
                    ("b".to_string(), Ty::optional(Ty::String)),
                ],
                decl: None,
                nominal,
                about: Default::default(),
            })
        };
        let literal = Ty::Record(Rc::new(RecordTy {
            name: "record".to_string(),
            fields: vec![("a".to_string(), Ty::Int)],
            decl: None,
            nominal: false,
            about: Default::default(),
        }));
        assert!(literal.fits(&Ty::Record(declared("T", true))));
        assert!(literal.fits(&Ty::Map(Box::new(Ty::Int))));
        assert!(!Ty::Record(declared("T", true)).fits(&Ty::Map(Box::new(Ty::Int))));
        assert!(!Ty::Record(declared("T", true)).fits(&Ty::Record(declared("U", true))));
    }
}
