//! `terrane show [FILE]`: the state in human form (every resource instance with its
//! attributes, then the outputs), or a saved plan file rendered as `plan` renders it, or
//! a given state file.

use std::path::PathBuf;

use super::state::{render_instance, render_object};
use super::ui::format_outputs;
use super::workdir::{load_config, open_backend, read_state_opt};
use super::{CliError, CmdResult, Ctx, EXIT_OK};
use crate::plan::file::read_plan_file_with;
use crate::plan::render::{render_plan, RenderOptions};
use crate::state::State;

#[derive(clap::Args, Debug, Default)]
pub struct Args {
    /// A saved plan file or a state file; the current state when omitted.
    #[arg(value_name = "FILE")]
    pub path: Option<PathBuf>,
}

/// The human form of a whole state.
pub fn render_state(ctx: &Ctx, state: &State) -> String {
    if state.is_empty() && state.outputs.is_empty() {
        return "No state.\n".into();
    }
    let mut blocks = Vec::new();
    for (res, rs) in &state.resources {
        // Each instance's current object, then its deposed objects (as Terraform's
        // `show` lists them).
        let mut keys: Vec<&crate::addrs::InstanceKey> = rs.instances.keys().chain(rs.deposed.keys().map(|(k, _)| k)).collect();
        keys.sort();
        keys.dedup();
        for key in keys {
            let addr = res.instance(key.clone());
            if let Some(obj) = rs.instances.get(key) {
                blocks.push(render_instance(&addr, obj, &rs.provider));
            }
            for ((_, dk), obj) in rs.deposed.iter().filter(|((k, _), _)| k == key) {
                blocks.push(render_object(&addr, Some(dk), obj, &rs.provider));
            }
        }
    }
    let mut out = blocks.join("\n");
    if !state.outputs.is_empty() {
        out.push_str(&ctx.ui.green("\nOutputs:\n\n"));
        out.push_str(&format_outputs(&state.outputs));
    }
    out
}

pub fn run(ctx: &Ctx, args: Args) -> CmdResult {
    match &args.path {
        Some(p) => {
            let full = ctx.cwd.join(p);
            let crypt = match crate::config::load_dir(&ctx.cwd).0 {
                Some(config) => super::encryption::resolve(ctx, &config)?.plan,
                None => None,
            };
            match read_plan_file_with(&full, crypt.as_deref()) {
                Ok(saved) => {
                    ctx.ui.out(&render_plan(
                        &saved.plan,
                        &RenderOptions {
                            color: ctx.ui.color,
                        },
                    ));
                    Ok(EXIT_OK)
                }
                Err(plan_err) => {
                    let text = std::fs::read_to_string(&full).map_err(|e| {
                        CliError::error(
                            "Failed to read the file",
                            format!("Reading {}: {e}.", p.display()),
                        )
                    })?;
                    match crate::state::statefile::from_json(&text, &p.display().to_string()) {
                        Ok(state) => {
                            ctx.ui.out(&render_state(ctx, &state));
                            Ok(EXIT_OK)
                        }
                        Err(state_err) => Err(CliError::error(
                            "Failed to read the file",
                            format!("{} is neither a saved plan nor a state file.\n  as a plan: {plan_err}\n  as a state: {state_err}", p.display()),
                        )),
                    }
                }
            }
        }
        None => {
            let config = load_config(ctx)?;
            let b = open_backend(ctx, None, &config)?;
            match ctx.rt.block_on(read_state_opt(&*b))? {
                Some(s) => ctx.ui.out(&render_state(ctx, &s)),
                None => ctx.ui.outln("No state."),
            }
            Ok(EXIT_OK)
        }
    }
}
