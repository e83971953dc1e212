//! `terrane console`: the interactive expression prompt. Not implemented yet (another
//! issue covers it); the subcommand exists so that users get a clear message.

use super::{CliError, CmdResult, Ctx};

#[derive(clap::Args, Debug, Default)]
pub struct Args {
    /// Path of the state file.
    #[arg(long, value_name = "PATH")]
    pub state: Option<std::path::PathBuf>,
    /// Set a root variable (accepted for compatibility).
    #[arg(long = "var", value_name = "NAME=VALUE")]
    pub var: Vec<String>,
    /// Read root variable values from a file (accepted for compatibility).
    #[arg(long = "var-file", value_name = "FILE")]
    pub var_file: Vec<String>,
}

pub fn run(_ctx: &Ctx, _args: Args) -> CmdResult {
    Err(CliError::error(
        "Command not implemented",
        "`terrane console` is not implemented yet; it is tracked in its own issue.",
    ))
}
