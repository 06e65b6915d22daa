//! The language's fixed vocabulary, which every stage shares: the built-in
//! functions ([`functions`]), what a field or variant says of itself
//! ([`about`]), the operators ([`ops`]), how values read in
//! prompts and conditions ([`value`]), retry policies and the built-in
//! defaults ([`policy`]), model settings ([`model`]) and sizes
//! ([`size`]).
//!
//! Nothing here knows about source text, the checker or the runtime: the
//! checker types against these definitions, lowering copies them into the
//! plan, and the runtime evaluates them, so a function or a default exists
//! in exactly one place.

pub mod about;
pub mod functions;
pub mod model;
pub mod ops;
pub mod policy;
pub mod size;
pub mod value;
