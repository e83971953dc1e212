//! `terrane fmt`: canonical formatting of configuration files. Not implemented yet
//! (another issue covers it); the subcommand and its flags exist so that users get a
//! clear message rather than a usage error.

use super::{CliError, CmdResult, Ctx};

#[derive(clap::Args, Debug, Default)]
pub struct Args {
    /// Only check whether the files are formatted.
    #[arg(long)]
    pub check: bool,
    /// Show the formatting changes as a diff.
    #[arg(long)]
    pub diff: bool,
    /// Also process subdirectories.
    #[arg(long)]
    pub recursive: bool,
    /// Write the result to the files (-write=false to not).
    #[arg(long, action = clap::ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "true", value_name = "BOOL")]
    pub write: bool,
    /// Files or directories to format.
    #[arg(value_name = "TARGET")]
    pub targets: Vec<std::path::PathBuf>,
}

pub fn run(_ctx: &Ctx, _args: Args) -> CmdResult {
    Err(CliError::error(
        "Command not implemented",
        "`terrane fmt` is not implemented yet; it is tracked in its own issue.",
    ))
}
