//! Shared helpers of the integration tests.

pub mod cli;
pub mod moto;
