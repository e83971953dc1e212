//! `terrane plan`: shows the changes the configuration requires, optionally saving them
//! (`-out FILE`) for `terrane apply FILE`.
//!
//! Also owns what plan, apply and destroy share: the operation flags (`OpFlags`), their
//! resolution into `OpSettings`, opening a `Session` (configuration, variables, state
//! backend, configuration digest) and asking the engine for a plan. Exit codes: 0, 1 on
//! error; with `-detailed-exitcode`, 2 when the plan has changes.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::addrs::AbsResourceInstance;
use crate::config::Config;
use crate::diag::Diagnostic;
use crate::engine::vars::{self, VarArg};
use crate::engine::{Engine, InputVars, PlanOptions};
use crate::plan::file::{config_digest, write_plan_file_with, SavedPlan};
use crate::plan::render::{render_plan, RenderOptions};
use crate::plan::Plan;
use crate::providers::Registry;
use crate::state::backend::Backend;
use crate::state::State;

use super::workdir::{self, parse_duration, read_state, with_lock};
use super::{CliError, CmdResult, Ctx, EXIT_CHANGES, EXIT_OK};

/// Flags shared by plan, apply and destroy.
#[derive(clap::Args, Debug, Clone)]
pub struct OpFlags {
    /// Set a root variable: -var 'NAME=VALUE' (repeatable).
    #[arg(long = "var", value_name = "NAME=VALUE")]
    pub var: Vec<String>,
    /// Read root variable values from a .tfvars or .tfvars.json file (repeatable).
    #[arg(long = "var-file", value_name = "FILE")]
    pub var_file: Vec<String>,
    /// Refresh the state through the providers first (-refresh=false to skip).
    #[arg(long, action = clap::ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "true", value_name = "BOOL")]
    pub refresh: bool,
    /// Force replacement of this resource instance (repeatable).
    #[arg(long, value_name = "ADDR")]
    pub replace: Vec<String>,
    /// Limit the number of concurrent operations.
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub parallelism: usize,
    /// Path of the state file (overrides the backend configuration).
    #[arg(long, value_name = "PATH")]
    pub state: Option<PathBuf>,
    /// Lock the state while working (-lock=false to skip; not recommended).
    #[arg(long, action = clap::ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "true", value_name = "BOOL")]
    pub lock: bool,
    /// How long to retry taking the lock (e.g. 30s).
    #[arg(long = "lock-timeout", default_value = "0s", value_name = "DURATION")]
    pub lock_timeout: String,
    /// Ask for input interactively (-input=false to refuse, e.g. in automation).
    #[arg(long, action = clap::ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "true", value_name = "BOOL")]
    pub input: bool,
}

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub flags: OpFlags,
    /// Save the plan to FILE for `terrane apply FILE`.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Plan to destroy every object in the state.
    #[arg(long, action = clap::ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", value_name = "BOOL")]
    pub destroy: bool,
    /// Exit 0 when there are no changes, 1 on error, 2 when there are changes.
    #[arg(long = "detailed-exitcode", action = clap::ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", value_name = "BOOL")]
    pub detailed_exitcode: bool,
}

/// The operation flags, checked and resolved.
#[derive(Clone, Debug)]
pub struct OpSettings {
    pub vars: Vec<VarArg>,
    pub refresh: bool,
    pub replace: Vec<AbsResourceInstance>,
    pub parallelism: usize,
    pub state: Option<PathBuf>,
    pub lock: bool,
    pub lock_timeout: Duration,
    pub input: bool,
}

impl OpSettings {
    pub fn resolve(flags: &OpFlags, vars: Vec<VarArg>) -> Result<OpSettings, CliError> {
        let mut diags = crate::diag::Diagnostics::new();
        let mut replace = Vec::new();
        for r in &flags.replace {
            match r.parse::<AbsResourceInstance>() {
                Ok(a) => replace.push(a),
                Err(e) => diags.push(
                    Diagnostic::error("Invalid -replace option", format!("{e}.")).with_help(
                        "Give a resource instance address, such as -replace='aws_instance.web[0]'.",
                    ),
                ),
            }
        }
        if flags.parallelism == 0 {
            diags.push(Diagnostic::error(
                "Invalid -parallelism option",
                "The parallelism must be at least 1.",
            ));
        }
        let lock_timeout = match parse_duration(&flags.lock_timeout) {
            Ok(d) => d,
            Err(CliError::Diags(d)) => {
                diags.extend(d);
                Duration::ZERO
            }
            Err(other) => return Err(other),
        };
        if diags.has_errors() {
            return Err(CliError::Diags(diags));
        }
        Ok(OpSettings {
            vars,
            refresh: flags.refresh,
            replace,
            parallelism: flags.parallelism,
            state: flags.state.clone(),
            lock: flags.lock,
            lock_timeout,
            input: flags.input,
        })
    }
}

/// Everything an operation works with once the configuration is loaded.
pub struct Session {
    pub engine: Engine,
    pub backend: Arc<dyn Backend>,
    pub variables: InputVars,
    /// `config_digest` of the loaded configuration.
    pub digest: String,
}

/// The digest a saved plan records for a configuration.
pub fn digest_of(config: &Config) -> String {
    let files: Vec<(String, String)> = config
        .files()
        .iter()
        .map(|f| (f.name.clone(), f.text.clone()))
        .collect();
    config_digest(&files)
}

/// Loads the configuration, collects the root variables and opens the state backend.
/// Warnings are printed; errors are returned.
pub fn open(ctx: &Ctx, settings: &OpSettings) -> Result<Session, CliError> {
    let config = workdir::load_config(ctx)?;
    let (variables, diags) = vars::collect(
        &ctx.cwd,
        ctx.env.iter().cloned(),
        &settings.vars,
        &config.module.variables,
    );
    if diags.has_errors() {
        return Err(CliError::Diags(diags));
    }
    ctx.ui.diags(&diags);
    let backend = workdir::open_backend(ctx, settings.state.as_deref(), &config)?;
    let digest = digest_of(&config);
    // Provisioner and ssh_exec output goes to stdout, each line prefixed with its
    // address (plan and apply have no machine-readable mode that would keep it out).
    crate::progress::set_sink(Some(crate::progress::stdout_sink()));
    Ok(Session {
        engine: Engine::new(config, Registry::builtin(), ctx.cwd.clone()),
        backend,
        variables,
        digest,
    })
}

/// Asks the engine for a plan from `prior`. Errors are returned; warnings come back
/// with the plan for the caller to print after it.
pub async fn make_plan(
    session: &Session,
    prior: &State,
    settings: &OpSettings,
    destroy: bool,
) -> Result<(Plan, crate::diag::Diagnostics), CliError> {
    let opts = PlanOptions {
        destroy,
        refresh: settings.refresh,
        replace: settings.replace.clone(),
        parallelism: settings.parallelism,
        variables: session.variables.clone(),
    };
    let (plan, diags) = session.engine.plan(prior, &opts).await;
    match plan {
        Some(p) if !diags.has_errors() => Ok((p, diags)),
        _ => {
            let mut diags = diags;
            if !diags.has_errors() {
                diags.push(Diagnostic::error(
                    "Planning failed",
                    "The engine produced no plan.",
                ));
            }
            Err(CliError::Diags(diags))
        }
    }
}

pub fn run(ctx: &Ctx, args: Args, var_order: Vec<VarArg>) -> CmdResult {
    let settings = OpSettings::resolve(&args.flags, var_order)?;
    let session = open(ctx, &settings)?;
    let b = session.backend.clone();
    let (plan, warnings) = ctx.rt.block_on(with_lock(
        ctx,
        &*b,
        "plan",
        settings.lock,
        settings.lock_timeout,
        async {
            let prior = read_state(&*b).await?;
            make_plan(&session, &prior, &settings, args.destroy).await
        },
    ))?;
    ctx.ui.out(&render_plan(
        &plan,
        &RenderOptions {
            color: ctx.ui.color,
        },
    ));
    ctx.ui.diags(&warnings);

    if let Some(out) = &args.out {
        let variables = vars::to_values(
            &session.variables,
            &session.engine.config.module.variables,
            &ctx.cwd,
        )?;
        let saved = SavedPlan {
            plan: plan.clone(),
            variables,
            config_digest: session.digest.clone(),
        };
        let path = ctx.cwd.join(out);
        let crypt = super::encryption::resolve(ctx, &session.engine.config)?.plan;
        write_plan_file_with(&path, &saved, crypt.as_deref()).map_err(|e| {
            CliError::error(
                "Failed to write plan file",
                format!("Writing {}: {e}.", out.display()),
            )
        })?;
        ctx.ui.out(&format!(
            "\n─────────────────────────────────────────────────────────────────────────────\n\nSaved the plan to: {0}\n\nTo perform exactly these actions, run the following command to apply:\n    terrane apply \"{0}\"\n",
            out.display()
        ));
    } else if !plan.is_empty() {
        ctx.ui.out("\n─────────────────────────────────────────────────────────────────────────────\n\nNote: You didn't use the -out option to save this plan, so terrane can't\nguarantee to take exactly these actions if you run \"terrane apply\" now.\n");
    }

    if args.detailed_exitcode && !plan.is_empty() {
        Ok(EXIT_CHANGES)
    } else {
        Ok(EXIT_OK)
    }
}
