//! terrane: a declarative infrastructure provisioner for Terraform's language.
//!
//! The flow is config → lang → graph → plan → apply → state; see docs/ARCHITECTURE.md.

pub mod addrs;
pub mod cli;
pub mod config;
pub mod diag;
pub mod engine;
pub mod fmt;
pub mod graph;
pub mod lang;
pub mod plan;
pub mod progress;
pub mod provision;
pub mod providers;
pub mod ssh;
pub mod state;
