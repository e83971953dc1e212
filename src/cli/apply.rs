//! `terrane apply [PLAN]`: plans (or loads a saved plan), asks for approval unless
//! `-auto-approve` or a plan file was given, applies through the engine under the state
//! lock, and reports "Apply complete!" with the root outputs. `destroy` reuses this with a
//! destroy plan.
//!
//! A saved plan is refused when the configuration changed since it was made, or when the
//! state's lineage or serial differ from the ones it was made against. Exit codes: 0, or
//! 1 on any error or when the user does not approve.

use std::path::PathBuf;
use std::sync::Arc;

use crate::addrs::ResourceMode;
use crate::engine::vars::{self, VarArg};
use crate::engine::{ApplyOptions, InputVars};
use crate::plan::file::read_plan_file_with;
use crate::plan::render::{render_plan, RenderOptions};
use crate::plan::{Action, Plan};
use crate::state::backend::Backend;
use crate::state::State;

use super::plan::{make_plan, open, OpFlags, OpSettings, Session};
use super::ui::format_outputs;
use super::workdir::{read_state, read_state_opt, with_lock, write_final_state};
use super::{CliError, CmdResult, Ctx, EXIT_OK};

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub flags: OpFlags,
    /// Skip the interactive approval.
    #[arg(long = "auto-approve", action = clap::ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", value_name = "BOOL")]
    pub auto_approve: bool,
    /// Destroy every object in the state (same as `terrane destroy`).
    #[arg(long, action = clap::ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", value_name = "BOOL")]
    pub destroy: bool,
    /// A plan saved by `terrane plan -out`: apply exactly it, without asking.
    #[arg(value_name = "PLAN")]
    pub plan_file: Option<PathBuf>,
}

pub fn run(ctx: &Ctx, args: Args, var_order: Vec<VarArg>) -> CmdResult {
    let settings = OpSettings::resolve(&args.flags, var_order)?;
    match &args.plan_file {
        Some(file) => {
            if !settings.vars.is_empty() {
                return Err(CliError::error(
                    "Can't set variables when applying a saved plan",
                    "The -var and -var-file options cannot be used when applying a saved plan file, because a saved plan includes the variable values that were set when it was created.",
                ));
            }
            apply_saved(ctx, &settings, file)
        }
        None => operate(ctx, &settings, args.auto_approve, args.destroy),
    }
}

/// Plan, approve, apply: the body of `apply` and `destroy`.
pub fn operate(ctx: &Ctx, settings: &OpSettings, auto_approve: bool, destroy: bool) -> CmdResult {
    let session = open(ctx, settings)?;
    catch_interrupts(ctx, &session.engine);
    let b = session.backend.clone();
    let op = if destroy { "destroy" } else { "apply" };
    ctx.rt.block_on(with_lock(
        ctx,
        &*b,
        op,
        settings.lock,
        settings.lock_timeout,
        async {
            let prior = read_state(&*b).await?;
            let (plan, warnings) = make_plan(&session, &prior, settings, destroy).await?;
            ctx.ui.out(&render_plan(
                &plan,
                &RenderOptions {
                    color: ctx.ui.color,
                },
            ));
            ctx.ui.diags(&warnings);
            if !plan.is_empty() && !auto_approve {
                approve(ctx, settings, destroy)?;
            }
            apply_plan(
                ctx,
                &session,
                &plan,
                prior,
                session.variables.clone(),
                settings.parallelism,
            )
            .await
        },
    ))
}

/// Terraform's approval prompt; anything but "yes" cancels.
fn approve(ctx: &Ctx, settings: &OpSettings, destroy: bool) -> Result<(), CliError> {
    if !settings.input {
        return Err(CliError::error(
            "Approval required",
            "The -input=false option forbids asking for approval interactively; add -auto-approve to apply without asking, or apply a saved plan file.",
        ));
    }
    let (question, cancelled) = if destroy {
        (
            "\nDo you really want to destroy all resources?\n  terrane will destroy all your managed infrastructure, as shown above.\n  There is no undo. Only 'yes' will be accepted to confirm.\n\n  Enter a value: ",
            "\nDestroy cancelled.",
        )
    } else {
        (
            "\nDo you want to perform these actions?\n  terrane will perform the actions described above.\n  Only 'yes' will be accepted to approve.\n\n  Enter a value: ",
            "\nApply cancelled.",
        )
    };
    let answer = ctx.prompt(&ctx.ui.bold(question));
    if answer.as_deref() == Some("yes") {
        ctx.ui.out("\n");
        Ok(())
    } else {
        Err(CliError::Cancelled(cancelled.to_string()))
    }
}

/// `apply PLANFILE`: checks the plan against the configuration and the state, then
/// applies it exactly.
fn apply_saved(ctx: &Ctx, settings: &OpSettings, file: &std::path::Path) -> CmdResult {
    let config = super::workdir::load_config(ctx)?;
    let crypt = super::encryption::resolve(ctx, &config)?.plan;
    let saved = read_plan_file_with(&ctx.cwd.join(file), crypt.as_deref())
        .map_err(|e| CliError::error("Failed to load the saved plan", format!("{e}.")))?;
    let session = open(ctx, settings)?;
    catch_interrupts(ctx, &session.engine);
    if saved.config_digest != session.digest {
        return Err(CliError::error(
            "Saved plan does not match the configuration",
            format!("The plan file {} was made from a different configuration: the configuration has changed since this plan was made. Create a new plan with `terrane plan -out`.", file.display()),
        ));
    }
    let plan = saved.plan;
    let variables = vars::from_values(&saved.variables);
    let b = session.backend.clone();
    let op = if plan.destroy { "destroy" } else { "apply" };
    ctx.rt.block_on(with_lock(ctx, &*b, op, settings.lock, settings.lock_timeout, async {
        let prior = match read_state_opt(&*b).await? {
            Some(s) if s.lineage == plan.lineage && s.serial == plan.serial => s,
            None if plan.serial == 0 => State { lineage: plan.lineage.clone(), ..State::new() },
            Some(s) => {
                return Err(CliError::error(
                    "Saved plan is stale",
                    format!(
                        "The given plan file can no longer be applied because the state was changed by another operation after the plan was created (the plan was made against state {} serial {}, the state is now {} serial {}). Create a new plan.",
                        plan.lineage, plan.serial, s.lineage, s.serial
                    ),
                ))
            }
            None => {
                return Err(CliError::error(
                    "Saved plan is stale",
                    format!("The plan was made against state serial {}, but there is no state now. Create a new plan.", plan.serial),
                ))
            }
        };
        apply_plan(ctx, &session, &plan, prior, variables, settings.parallelism).await
    }))
}

/// (added, changed, destroyed) as Terraform reports them (managed resources only).
fn counts(plan: &Plan) -> (usize, usize, usize) {
    let (mut add, mut change, mut destroy) = (0, 0, 0);
    for c in plan
        .changes
        .iter()
        .filter(|c| c.addr.resource.mode == ResourceMode::Managed)
    {
        match c.action {
            Action::Create => add += 1,
            Action::Update => change += 1,
            Action::Delete => destroy += 1,
            Action::DeleteThenCreate | Action::CreateThenDelete => {
                add += 1;
                destroy += 1;
            }
            Action::NoOp | Action::Read => {}
        }
    }
    (add, change, destroy)
}

/// Applies `plan` (the lock is held by the caller), persists the final state and
/// reports. Errors exit 1 after the skipped list is printed.
pub async fn apply_plan(
    ctx: &Ctx,
    session: &Session,
    plan: &Plan,
    prior: State,
    variables: InputVars,
    parallelism: usize,
) -> CmdResult {
    let opts = ApplyOptions {
        parallelism,
        variables,
    };
    let backend: Arc<dyn Backend> = session.backend.clone();
    let mut outcome = session
        .engine
        .apply(plan, prior, &opts, backend.clone())
        .await;
    // SSH sessions are reused within one run only.
    crate::ssh::pool::clear();
    let mut diags = outcome.diags;
    if let Err(CliError::Diags(d)) = write_final_state(&*backend, &mut outcome.state).await {
        diags.extend(d);
    }
    for (addr, reason) in &outcome.skipped {
        ctx.ui.outln(&format!("skipped: {addr} (because {reason})"));
    }
    if diags.has_errors() {
        return Err(CliError::Diags(diags));
    }
    ctx.ui.diags(&diags);
    let (add, change, destroy) = counts(plan);
    if plan.destroy {
        ctx.ui.outln(&ctx.ui.green(&format!(
            "\nDestroy complete! Resources: {destroy} destroyed."
        )));
    } else {
        ctx.ui.outln(&ctx.ui.green(&format!(
            "\nApply complete! Resources: {add} added, {change} changed, {destroy} destroyed."
        )));
        if !outcome.state.outputs.is_empty() {
            ctx.ui.outln(&ctx.ui.green("\nOutputs:\n"));
            ctx.ui.out(&format_outputs(&outcome.state.outputs));
        }
    }
    Ok(EXIT_OK)
}

/// SIGINT and SIGTERM raise the engine's interrupt level instead of killing terrane, so
/// that the state is always saved: the first starts nothing new and lets running
/// operations finish; the second stops waiting for them (their create intents are
/// already in the state, and the next run reconciles them).
fn catch_interrupts(ctx: &Ctx, engine: &crate::engine::Engine) {
    use tokio::signal::unix::{signal, SignalKind};
    // Registered before returning, so that no signal falls between here and the task.
    let _guard = ctx.rt.enter();
    let (Ok(mut int), Ok(mut term)) = (signal(SignalKind::interrupt()), signal(SignalKind::terminate())) else { return };
    let level = engine.interrupt.clone();
    ctx.rt.spawn(async move {
        loop {
            tokio::select! {
                _ = int.recv() => {}
                _ = term.recv() => {}
            }
            let mut now = 0;
            level.send_modify(|l| {
                *l = l.saturating_add(1);
                now = *l;
            });
            match now {
                1 => crate::cli::ui::write_err("\nInterrupt received.\nPlease wait for terrane to exit or data loss may occur.\nGracefully shutting down...\n\n"),
                2 => crate::cli::ui::write_err("\nTwo interrupts received. Exiting without waiting for running operations; their create intents are saved in the state and the next plan or apply reconciles them.\n\n"),
                _ => {}
            }
        }
    });
}
