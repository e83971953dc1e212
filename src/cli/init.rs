//! `terrane init`: checks that the configuration loads and that every provider it needs
//! is built into terrane (there is nothing to download), and creates the directory the
//! state will live in.

use std::collections::BTreeMap;

use super::workdir::{load_config, state_path};
use super::{CliError, CmdResult, Ctx, EXIT_OK};
use crate::diag::{Diagnostic, Diagnostics, Span};
use crate::providers::Registry;

#[derive(clap::Args, Debug, Default)]
pub struct Args {
    /// Accepted for compatibility; terrane never asks during init.
    #[arg(long, action = clap::ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "true", value_name = "BOOL")]
    pub input: bool,
    /// Accepted for compatibility; built-in providers need no upgrade.
    #[arg(long, action = clap::ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", value_name = "BOOL")]
    pub upgrade: bool,
    /// Accepted for compatibility; the local backend needs no reconfiguration.
    #[arg(long, action = clap::ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", value_name = "BOOL")]
    pub reconfigure: bool,
}

pub fn run(ctx: &Ctx, _args: Args) -> CmdResult {
    let config = load_config(ctx)?;
    ctx.ui.out(&ctx.ui.bold("\nInitializing the backend...\n"));
    let path = state_path(ctx, None, Some(&config))?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| {
            CliError::error(
                "Failed to create the state directory",
                format!("Creating {}: {e}.", dir.display()),
            )
        })?;
    }

    // Every provider the configuration needs, with a place to point at.
    let mut needed: BTreeMap<String, Option<Span>> = BTreeMap::new();
    for c in config.all() {
        let m = &c.module;
        for name in m.terraform.required_providers.keys() {
            needed.entry(name.clone()).or_insert(None);
        }
        for p in &m.providers {
            needed
                .entry(p.name.clone())
                .or_insert_with(|| Some(p.span.clone()));
        }
        for r in m.resources.values() {
            let span = r.provider_span.clone().unwrap_or_else(|| r.span.clone());
            needed.entry(r.provider_ref().name).or_insert(Some(span));
        }
    }
    let registry = Registry::builtin();
    let builtin: Vec<String> = registry.names().map(|s| s.to_string()).collect();
    ctx.ui
        .out(&ctx.ui.bold("\nInitializing provider plugins...\n"));
    let mut diags = Diagnostics::new();
    for (name, span) in &needed {
        if registry.get(name).is_some() {
            ctx.ui
                .outln(&format!("- Using built-in provider \"{name}\""));
        } else {
            diags.push(
                Diagnostic::error(
                    "Provider not available",
                    format!("The configuration needs the provider \"{name}\", which is not built into terrane. Built-in providers: {}.", builtin.join(", ")),
                )
                .with_opt_span(span.clone()),
            );
        }
    }
    if diags.has_errors() {
        return Err(CliError::Diags(diags));
    }
    ctx.ui.out(
        &ctx.ui
            .green("\nterrane has been successfully initialized!\n"),
    );
    ctx.ui.out("\nYou may now begin working with terrane. Try running \"terrane plan\" to see\nany changes that are required for your infrastructure. All terrane commands\nshould now work.\n");
    Ok(EXIT_OK)
}
