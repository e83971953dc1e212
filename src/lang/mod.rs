//! The language: values, types, conversions, functions and expression evaluation.
//!
//! Owns everything that turns an hcl-edit expression into a `Value`. It never reads
//! state files or calls providers: the engine hands it a `Scope` that answers references.

pub mod convert;
pub mod eval;
pub mod funcs;
pub mod number;
pub mod typeexpr;
pub mod value;

pub use value::{Number, Type, Value};
