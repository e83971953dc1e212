//! `terrane force-unlock LOCK_ID`: removes the state lock with that ID, after a
//! confirmation unless `-force`. Use it only when the process that held the lock is gone.

use std::path::PathBuf;

use super::workdir::{load_config, open_backend, state_error};
use super::{CliError, CmdResult, Ctx, EXIT_OK};
use crate::state::backend::StateError;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The ID of the lock, as shown in the "Error acquiring the state lock" message.
    #[arg(value_name = "LOCK_ID")]
    pub lock_id: String,
    /// Don't ask for confirmation.
    #[arg(long, action = clap::ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", value_name = "BOOL")]
    pub force: bool,
    /// Path of the state file (overrides the backend configuration).
    #[arg(long, value_name = "PATH")]
    pub state: Option<PathBuf>,
}

pub fn run(ctx: &Ctx, args: Args) -> CmdResult {
    let config = load_config(ctx)?;
    let b = open_backend(ctx, args.state.as_deref(), &config)?;
    if !args.force {
        let answer = ctx.prompt(&ctx.ui.bold(
            "Do you really want to force-unlock?\n  terrane will remove the lock on the remote state.\n  This will allow local terrane commands to modify this state, even though it\n  may still be in use. Only 'yes' will be accepted to confirm.\n\n  Enter a value: ",
        ));
        if answer.as_deref() != Some("yes") {
            return Err(CliError::Cancelled("force-unlock cancelled.".into()));
        }
    }
    match ctx.rt.block_on(b.unlock(&args.lock_id)) {
        Ok(()) => {
            ctx.ui.out(
                &ctx.ui
                    .green("terrane state has been successfully unlocked!\n"),
            );
            ctx.ui.out("\nThe state has been unlocked, and terrane commands should now be able to\nobtain a new lock on the remote state.\n");
            Ok(EXIT_OK)
        }
        Err(e @ (StateError::NotLocked | StateError::LockIdMismatch { .. })) => {
            Err(CliError::error("Failed to unlock state", format!("{e}.")))
        }
        Err(e) => Err(state_error("Failed to unlock state", &e).into()),
    }
}
