//! `terrane console`: evaluates expressions in the context of the working directory's
//! configuration and state, as `terraform console` does.
//!
//! With stdin a terminal it prompts (`> `) and prints each result; errors are shown and
//! the prompt continues. With stdin piped it behaves as Terraform 1.0.3's piped mode:
//! lines are evaluated in order, the first error is reported and the exit code is 1,
//! and otherwise only the last line's result is printed. `exit` ends the session.
//! Results print in `repl.FormatValue`'s form (`plan::render::render_value`).

use std::io::{BufRead, IsTerminal, Write};

use super::workdir::{open_backend, read_state_opt};
use super::{CliError, CmdResult, Ctx, EXIT_OK};
use crate::engine::vars::{self, VarArg};
use crate::engine::Engine;
use crate::plan::render::render_value;
use crate::providers::Registry;
use crate::state::State;

#[derive(clap::Args, Debug, Default)]
pub struct Args {
    /// Path of the state file.
    #[arg(long, value_name = "PATH")]
    pub state: Option<std::path::PathBuf>,
    /// Set a root variable.
    #[arg(long = "var", value_name = "NAME=VALUE")]
    pub var: Vec<String>,
    /// Read root variable values from a file.
    #[arg(long = "var-file", value_name = "FILE")]
    pub var_file: Vec<String>,
}

pub fn run(ctx: &Ctx, args: Args) -> CmdResult {
    // Terraform's console works in a directory without configuration.
    let (cfg, diags) = crate::config::load_dir(&ctx.cwd);
    if diags.has_errors() {
        return Err(CliError::Diags(diags));
    }
    ctx.ui.diags(&diags);
    let config = match cfg {
        Some(c) => c,
        None => crate::config::load_dir_with_files(&ctx.cwd, Vec::new())
            .0
            .ok_or_else(|| {
                CliError::error(
                    "Failed to load configuration",
                    "No configuration could be loaded.",
                )
            })?,
    };
    let var_args: Vec<VarArg> = args
        .var_file
        .iter()
        .cloned()
        .map(VarArg::File)
        .chain(args.var.iter().cloned().map(VarArg::Var))
        .collect();
    let (variables, diags) = vars::collect(
        &ctx.cwd,
        ctx.env.iter().cloned(),
        &var_args,
        &config.module.variables,
    );
    if diags.has_errors() {
        return Err(CliError::Diags(diags));
    }
    ctx.ui.diags(&diags);
    let b = open_backend(ctx, args.state.as_deref(), &config)?;
    let state = ctx
        .rt
        .block_on(read_state_opt(&*b))?
        .unwrap_or_else(State::new);
    let engine = Engine::new(config, Registry::builtin(), ctx.cwd.clone());
    let (session, diags) = engine.eval_session(&state, &variables);
    if diags.has_errors() {
        return Err(CliError::Diags(diags));
    }
    ctx.ui.diags(&diags);

    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        let mut line = String::new();
        loop {
            print!("> ");
            let _ = std::io::stdout().flush();
            line.clear();
            match stdin.lock().read_line(&mut line) {
                Ok(0) | Err(_) => {
                    println!();
                    return Ok(EXIT_OK);
                }
                Ok(_) => {}
            }
            let src = line.trim();
            if src == "exit" {
                return Ok(EXIT_OK);
            }
            if src.is_empty() {
                continue;
            }
            match session.eval(src) {
                Ok(v) => ctx.ui.outln(&render_value(&v, 0)),
                Err(d) => ctx.ui.diag(&d),
            }
        }
    }
    let mut last = String::new();
    for line in stdin.lock().lines() {
        let line = line
            .map_err(|e| CliError::error("Failed to read input", format!("Reading stdin: {e}.")))?;
        let src = line.trim();
        if src == "exit" {
            break;
        }
        if src.is_empty() {
            last.clear();
            continue;
        }
        match session.eval(src) {
            Ok(v) => last = render_value(&v, 0),
            Err(d) => return Err(CliError::Diags(d.into())),
        }
    }
    ctx.ui.outln(&last);
    Ok(EXIT_OK)
}
