//! (placeholder, being written)
use super::FResult;
use crate::lang::value::Value;
pub(super) fn call(_name: &str, _a: &[Value]) -> Option<FResult> { None }
