//! `terrane graph`: prints the configuration's dependency graph in DOT, for Graphviz.

use super::workdir::load_config;
use super::{CliError, CmdResult, Ctx, EXIT_OK};
use crate::engine::Engine;
use crate::providers::Registry;

#[derive(clap::Args, Debug, Default)]
pub struct Args {}

pub fn run(ctx: &Ctx, _args: Args) -> CmdResult {
    let config = load_config(ctx)?;
    let engine = Engine::new(config, Registry::builtin(), ctx.cwd.clone());
    let dot = engine.graph_dot().map_err(CliError::Diags)?;
    ctx.ui.out(&dot);
    if !dot.ends_with('\n') {
        ctx.ui.out("\n");
    }
    Ok(EXIT_OK)
}
