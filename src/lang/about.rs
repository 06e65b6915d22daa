//! What a record field or an enum variant says about itself: its `///`
//! description, which the output format a prompt carries shows the model,
//! and its `alias` names, which a reply may use for it.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct About {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
}

impl About {
    pub fn is_empty(&self) -> bool {
        self.description.is_none() && self.aliases.is_empty()
    }

    /// Whether a reply's `word` names this field or variant (`name`):
    /// the name or an alias, in any case.
    pub fn names(&self, name: &str, word: &str) -> bool {
        name.eq_ignore_ascii_case(word) || self.aliases.iter().any(|a| a.eq_ignore_ascii_case(word))
    }
}
