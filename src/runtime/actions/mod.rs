//! The actions a step can take besides calling a model: a local command
//! ([`exec`]), an HTTP request ([`fetch`]), a question for a person
//! ([`ask`], on the terminal through [`person`]).

mod ask;
mod exec;
mod fetch;
mod person;
