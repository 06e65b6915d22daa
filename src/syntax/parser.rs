//! The pest parser generated from `grammar/spes.pest`. `Rule` and `Pair`
//! never leave the `syntax` module.

#[derive(pest_derive::Parser)]
#[grammar = "../grammar/spes.pest"]
pub(super) struct SpesParser;
