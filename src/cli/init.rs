//! `terrane init`: checks that the configuration loads and that every provider it needs
//! is built into terrane (there is nothing to download), initialises the backend, and
//! records it in `.terraform/terrane-backend.json`.
//!
//! When the backend changed since the last init (or a first init finds a local state
//! while the configuration now asks for S3), the state is not left behind silently:
//! `-migrate-state` copies it (same lineage, same serial) to the new backend under both
//! locks, `-reconfigure` uses the new backend as it is, and without either init refuses.
//! A new backend that already holds an older serial of the same lineage is updated; one
//! that holds anything else is not overwritten unless
//! `-force-copy` (its version is then kept in its history). The old state is left in
//! place: deleting it is for a person to decide once the new one is checked.

use std::collections::BTreeMap;

use super::workdir::{
    self, acquire, backend_spec, connect, load_config, read_state_opt, record_backend,
    recorded_backend, release, state_error, BackendSpec, DEFAULT_STATE_PATH,
};
use super::{CliError, CmdResult, Ctx, EXIT_OK};
use crate::config::Config;
use crate::diag::{Diagnostic, Diagnostics, Span};
use crate::providers::Registry;
use crate::state::backend::Backend;

#[derive(clap::Args, Debug, Default)]
pub struct Args {
    /// Accepted for compatibility; terrane never asks during init.
    #[arg(long, action = clap::ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "true", value_name = "BOOL")]
    pub input: bool,
    /// Accepted for compatibility; built-in providers need no upgrade.
    #[arg(long, action = clap::ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", value_name = "BOOL")]
    pub upgrade: bool,
    /// Use the configured backend as it is, without moving the state from the previous one.
    #[arg(long, action = clap::ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", value_name = "BOOL")]
    pub reconfigure: bool,
    /// Copy the state from the previous backend to the newly configured one.
    #[arg(long = "migrate-state", action = clap::ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", value_name = "BOOL")]
    pub migrate_state: bool,
    /// With -migrate-state: replace a different state already in the new backend.
    #[arg(long = "force-copy", action = clap::ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", value_name = "BOOL")]
    pub force_copy: bool,
}

pub fn run(ctx: &Ctx, args: Args) -> CmdResult {
    let config = load_config(ctx)?;
    ctx.ui.out(&ctx.ui.bold("\nInitializing the backend...\n"));
    init_backend(ctx, &args, &config)?;

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

/// The backend part of init: creates the local state directory, or moves the state from
/// the previous backend, and records the configured one.
fn init_backend(ctx: &Ctx, args: &Args, config: &Config) -> Result<(), CliError> {
    let spec = backend_spec(ctx, None, Some(config))?;
    let enc = super::encryption::resolve(ctx, config)?;
    if let BackendSpec::Local(path) = &spec {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| {
                CliError::error(
                    "Failed to create the state directory",
                    format!("Creating {}: {e}.", dir.display()),
                )
            })?;
        }
    }
    let recorded = recorded_backend(ctx);
    let previous = match &recorded {
        Some(r) if *r == spec.identity() => None,
        Some(r) => Some(spec_from_identity(ctx, r)?),
        // Never initialised: a local state at the default place is what earlier runs used.
        None => {
            let default = BackendSpec::Local(ctx.cwd.join(DEFAULT_STATE_PATH));
            (default.identity() != spec.identity()).then_some(default)
        }
    };
    let new = connect(ctx, &spec, enc.state_codec())?;
    if let BackendSpec::S3(_) = &spec {
        // Reaching the bucket now turns a wrong endpoint or credentials into an init error.
        ctx.rt.block_on(new.read()).map_err(|e| {
            CliError::from(state_error(
                "Failed to read the state from the s3 backend",
                &e,
            ))
        })?;
    }
    if let (Some(prev), false) = (&previous, args.reconfigure) {
        let old = connect(ctx, prev, enc.state_codec())?;
        migrate(ctx, args, prev, &spec, &*old, &*new)?;
    }
    record_backend(ctx, &spec)?;
    ctx.ui
        .outln(&format!("Using the {} backend.", spec.describe()));
    Ok(())
}

/// Rebuilds a backend spec from a recorded identity (credentials come from the usual
/// places; the record never holds them).
fn spec_from_identity(ctx: &Ctx, r: &serde_json::Value) -> Result<BackendSpec, CliError> {
    let s = |k: &str| r.get(k).and_then(|v| v.as_str()).map(str::to_string);
    match s("type").as_deref() {
        Some("local") => Ok(BackendSpec::Local(
            ctx.cwd
                .join(s("path").unwrap_or_else(|| DEFAULT_STATE_PATH.into())),
        )),
        Some("s3") => Ok(BackendSpec::S3(crate::state::s3::S3Settings {
            bucket: s("bucket").unwrap_or_default(),
            key: s("key").unwrap_or_default(),
            region: s("region"),
            endpoint: s("endpoint"),
            use_lockfile: true,
            ..Default::default()
        })),
        _ => Err(CliError::error(
            "Unreadable backend record",
            format!(
                "{} does not describe a backend; delete it and run `terrane init -reconfigure`.",
                workdir::backend_record_path(ctx).display()
            ),
        )),
    }
}

fn migrate(
    ctx: &Ctx,
    args: &Args,
    prev: &BackendSpec,
    spec: &BackendSpec,
    old: &dyn Backend,
    new: &dyn Backend,
) -> Result<(), CliError> {
    let timeout = std::time::Duration::ZERO;
    ctx.rt.block_on(async {
        let held_old = acquire(old, "init -migrate-state", true, timeout).await?;
        let held_new = match acquire(new, "init -migrate-state", true, timeout).await {
            Ok(h) => h,
            Err(e) => {
                ctx.ui.diags(&release(old, held_old).await);
                return Err(e);
            }
        };
        let result = async {
            let Some(state) = read_state_opt(old).await? else {
                return Ok(());
            };
            if !args.migrate_state {
                return Err(CliError::from(
                    crate::diag::Diagnostic::error(
                        "Backend configuration changed",
                        format!("The state is in the {} backend, but the configuration now uses the {} backend.", prev.describe(), spec.describe()),
                    )
                    .with_help("Run `terrane init -migrate-state` to copy the state to the new backend, or `terrane init -reconfigure` to use the new backend without it."),
                ));
            }
            match read_state_opt(new).await? {
                Some(there) if there.lineage == state.lineage && there.serial == state.serial => {
                    ctx.ui.outln("The new backend already holds this state; nothing to copy.");
                    return Ok(());
                }
                // An older copy of the same state (left behind by an earlier migration).
                Some(there) if there.lineage == state.lineage && there.serial < state.serial => {
                    new.write(&state).await
                }
                Some(there) if !args.force_copy => {
                    return Err(CliError::error(
                        "The new backend already has a state",
                        format!("{} holds a state (lineage {}, serial {}) other than the one to migrate (lineage {}, serial {}). Copying would replace it; run `terrane init -migrate-state -force-copy` to do that (the replaced version is kept in the new backend's history).", new.describe(), there.lineage, there.serial, state.lineage, state.serial),
                    ));
                }
                Some(_) => new.overwrite(&state).await,
                None => new.write(&state).await,
            }
            .map_err(|e| CliError::from(state_error("Failed to migrate the state", &e)))?;
            ctx.ui.outln(&format!(
                "Copied the state (serial {}) from the {} backend to the {} backend. The old copy is left in place.",
                state.serial,
                prev.describe(),
                spec.describe()
            ));
            Ok(())
        }
        .await;
        let mut rel = release(new, held_new).await;
        rel.extend(release(old, held_old).await);
        ctx.ui.diags(&rel);
        result
    })
}
