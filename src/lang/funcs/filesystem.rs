//! (placeholder, being written)
use super::{FResult, FuncCtx};
use crate::lang::value::Value;
pub(super) fn call(_name: &str, _a: &[Value], _ctx: &FuncCtx) -> Option<FResult> { None }
