//! The registry of diagnostic codes and their `spesc explain` pages.
//!
//! Each code has one page in `docs/errors/CODE.md`, embedded in the binary
//! here. Adding a code means adding it to the list below and writing its
//! page; the build fails if the page is missing.

use std::fmt;

macro_rules! codes {
    ($($code:ident),* $(,)?) => {
        /// A stable diagnostic code: `E…` for errors, `W…` for warnings.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Code {
            $($code),*
        }

        impl Code {
            /// Every code, in order.
            pub const ALL: &'static [Code] = &[$(Code::$code),*];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(Code::$code => stringify!($code)),*
                }
            }

            /// The long explanation printed by `spesc explain`.
            pub fn explanation(self) -> &'static str {
                match self {
                    $(Code::$code => include_str!(
                        concat!("../../docs/errors/", stringify!($code), ".md")
                    )),*
                }
            }
        }
    };
}

codes! {
    E0001,
    E0101,
    E0102,
    E0103,
    E0104,
    E0201,
    E0202,
    E0203,
    E0204,
    E0205,
    E0206,
    E0207,
    E0208,
    E0301,
    E0302,
    E0303,
    E0401,
    E0402,
    W0501,
    W0502,
    W0503,
    W0504,
    W0505,
    W0506,
    W0507,
    W0508,
    W0509,
}

impl Code {
    /// Parses `E0001`, `e0001` or just `0001`.
    pub fn parse(text: &str) -> Option<Code> {
        let text = text.trim().to_ascii_uppercase();
        Code::ALL.iter().copied().find(|code| {
            let name = code.as_str();
            name == text || name[1..] == text
        })
    }

    pub fn severity(self) -> super::Severity {
        if self.as_str().starts_with('W') {
            super::Severity::Warning
        } else {
            super::Severity::Error
        }
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_parse_with_or_without_the_letter() {
        assert_eq!(Code::parse("E0001"), Some(Code::E0001));
        assert_eq!(Code::parse("e0001"), Some(Code::E0001));
        assert_eq!(Code::parse("0001"), Some(Code::E0001));
        assert_eq!(Code::parse("E9999"), None);
    }

    #[test]
    fn every_page_starts_with_its_code() {
        for code in Code::ALL {
            assert!(
                code.explanation().starts_with(&format!("# {code}")),
                "docs/errors/{code}.md must start with `# {code}`"
            );
        }
    }
}
