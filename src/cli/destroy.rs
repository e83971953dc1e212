//! `terrane destroy`: plans the destruction of every object in the state, asks for
//! confirmation unless `-auto-approve`, and applies it ("Destroy complete! Resources: N
//! destroyed."). It is `apply` with a destroy plan; see `apply::operate`.

use crate::engine::vars::VarArg;

use super::plan::{OpFlags, OpSettings};
use super::{CmdResult, Ctx};

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub flags: OpFlags,
    /// Skip the interactive confirmation.
    #[arg(long = "auto-approve", action = clap::ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", value_name = "BOOL")]
    pub auto_approve: bool,
}

pub fn run(ctx: &Ctx, args: Args, var_order: Vec<VarArg>) -> CmdResult {
    let settings = OpSettings::resolve(&args.flags, var_order)?;
    super::apply::operate(ctx, &settings, args.auto_approve, true)
}
