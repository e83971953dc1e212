//! `terrane validate`: loads the configuration and runs the engine's static checks;
//! prints the diagnostics, or with `-json` Terraform's validate document:
//! `{"format_version":"0.1","valid":..,"error_count":..,"warning_count":..,"diagnostics":[..]}`.
//! Exit 1 when the configuration is not valid.

use super::{CmdResult, Ctx, EXIT_ERROR, EXIT_OK};
use crate::diag::Diagnostics;
use crate::engine::Engine;
use crate::providers::Registry;

#[derive(clap::Args, Debug, Default)]
pub struct Args {
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

/// All diagnostics for the working directory: loading, then (if it loaded cleanly) the
/// engine's checks.
fn check(ctx: &Ctx) -> Diagnostics {
    let (cfg, mut diags) = crate::config::load_dir(&ctx.cwd);
    if !diags.has_errors() {
        if let Some(cfg) = cfg {
            let engine = Engine::new(cfg, Registry::builtin(), ctx.cwd.clone());
            diags.extend(engine.validate());
        }
    }
    diags
}

pub fn run(ctx: &Ctx, args: Args) -> CmdResult {
    let diags = check(ctx);
    let valid = !diags.has_errors();
    if args.json {
        let j = serde_json::json!({
            "format_version": "0.1",
            "valid": valid,
            "error_count": diags.error_count(),
            "warning_count": diags.warning_count(),
            "diagnostics": diags.iter().map(|d| d.to_json()).collect::<Vec<_>>(),
        });
        let text = serde_json::to_string_pretty(&j).unwrap_or_else(|_| j.to_string());
        ctx.ui.outln(&text);
    } else {
        ctx.ui.diags(&diags);
        if valid {
            let msg = if diags.is_empty() {
                "Success! The configuration is valid.".to_string()
            } else {
                "Success! The configuration is valid, but there were some warnings.".to_string()
            };
            ctx.ui.outln(&ctx.ui.green(&msg));
        }
    }
    Ok(if valid { EXIT_OK } else { EXIT_ERROR })
}
