//! The working directory as the commands see it: loading the configuration, finding the
//! state (`-state`, else the root module's `backend "local"` or `backend "s3"` block, else
//! `state/terraform.tfstate`), checking it against the backend `init` recorded in
//! `.terraform/terrane-backend.json`, opening it with the configured encryption, reading and writing the state,
//! and taking and always releasing the state lock, with Terraform's lock-info message
//! when someone else holds it.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::config::Config;
use crate::diag::{Diagnostic, Diagnostics};
use crate::engine::vars::eval_const;
use crate::state::backend::{Backend, LockInfo, StateError};
use crate::state::encryption::StateCodec;
use crate::state::local::{holder_is_dead, LocalBackend};
use crate::state::s3::{S3Backend, S3Settings};
use crate::state::State;

use super::{CliError, Ctx};

/// The default state file, relative to the working directory.
pub const DEFAULT_STATE_PATH: &str = "state/terraform.tfstate";

/// Loads the configuration of the working directory. Warnings are printed; errors
/// become the `CliError`.
pub fn load_config(ctx: &Ctx) -> Result<Config, CliError> {
    let (cfg, diags) = crate::config::load_dir(&ctx.cwd);
    if diags.has_errors() {
        return Err(CliError::Diags(diags));
    }
    ctx.ui.diags(&diags);
    cfg.ok_or_else(|| {
        CliError::error(
            "Failed to load configuration",
            format!(
                "No configuration could be loaded from {}.",
                ctx.cwd.display()
            ),
        )
    })
}

/// Where the state lives, as configured (before anything is connected).
#[derive(Clone, Debug)]
pub enum BackendSpec {
    Local(PathBuf),
    S3(S3Settings),
}

impl BackendSpec {
    /// What identifies the storage (not how it is reached): two specs with the same
    /// identity are the same state. Recorded by `init`; never holds credentials.
    pub fn identity(&self) -> serde_json::Value {
        match self {
            BackendSpec::Local(p) => serde_json::json!({"type": "local", "path": p}),
            BackendSpec::S3(s) => serde_json::json!({
                "type": "s3", "bucket": s.bucket, "key": s.key,
                "region": s.region, "endpoint": s.endpoint,
            }),
        }
    }

    pub fn describe(&self) -> String {
        match self {
            BackendSpec::Local(p) => format!("local ({})", p.display()),
            BackendSpec::S3(s) => format!("s3 (s3://{}/{})", s.bucket, s.key),
        }
    }
}

/// Where the state lives: `-state=PATH`, else the root module's backend block (`local`
/// with an optional `path`, or `s3`), else `state/terraform.tfstate`; relative paths are
/// under the working directory.
pub fn backend_spec(
    ctx: &Ctx,
    flag: Option<&Path>,
    config: Option<&Config>,
) -> Result<BackendSpec, CliError> {
    if let Some(p) = flag {
        return Ok(BackendSpec::Local(ctx.cwd.join(p)));
    }
    let Some(b) = config.and_then(|c| c.module.terraform.backend.as_ref()) else {
        return Ok(BackendSpec::Local(ctx.cwd.join(DEFAULT_STATE_PATH)));
    };
    match b.kind.as_str() {
        "local" => {
            if let Some(attr) = b.body.attr("path") {
                let v = eval_const(&attr.expr, &ctx.cwd)?;
                return match v.as_str() {
                    Some(s) if !s.is_empty() => Ok(BackendSpec::Local(ctx.cwd.join(s))),
                    _ => Err(Diagnostic::error(
                        "Invalid backend path",
                        "The local backend's `path` must be a non-empty string.",
                    )
                    .with_span(attr.expr.span())
                    .into()),
                };
            }
            Ok(BackendSpec::Local(ctx.cwd.join(DEFAULT_STATE_PATH)))
        }
        "s3" => s3_settings(ctx, b).map(BackendSpec::S3),
        other => Err(Diagnostic::error(
            "Unsupported backend type",
            format!("terrane supports the \"local\" and \"s3\" backends; this configuration asks for \"{other}\"."),
        )
        .with_span(b.span.clone())
        .into()),
    }
}

/// Arguments of `backend "s3"` that terrane accepts and has no use for (they tune
/// Terraform's credential checks, which the SDK here does not make).
const S3_IGNORED: &[&str] = &[
    "skip_credentials_validation",
    "skip_region_validation",
    "skip_requesting_account_id",
    "skip_metadata_api_check",
    "skip_s3_checksum",
];

fn s3_settings(ctx: &Ctx, b: &crate::config::BackendConfig) -> Result<S3Settings, CliError> {
    let mut diags = Diagnostics::new();
    let mut s = S3Settings {
        use_lockfile: true,
        ..S3Settings::default()
    };
    let string = |a: &crate::config::Attr, diags: &mut Diagnostics| -> Option<String> {
        match eval_const(&a.expr, &ctx.cwd) {
            Ok(v) => match v.as_str() {
                Some(x) if !x.is_empty() => Some(x.to_string()),
                _ => {
                    diags.push(
                        Diagnostic::error(
                            "Invalid backend setting",
                            format!("`{}` must be a non-empty string.", a.name),
                        )
                        .with_span(a.expr.span()),
                    );
                    None
                }
            },
            Err(d) => {
                diags.push(d);
                None
            }
        }
    };
    let boolean = |a: &crate::config::Attr, diags: &mut Diagnostics| -> Option<bool> {
        match eval_const(&a.expr, &ctx.cwd).map(|v| v.as_bool()) {
            Ok(Some(x)) => Some(x),
            Ok(None) => {
                diags.push(
                    Diagnostic::error(
                        "Invalid backend setting",
                        format!("`{}` must be true or false.", a.name),
                    )
                    .with_span(a.expr.span()),
                );
                None
            }
            Err(d) => {
                diags.push(d);
                None
            }
        }
    };
    for a in &b.body.attrs {
        match a.name.as_str() {
            "bucket" => s.bucket = string(a, &mut diags).unwrap_or_default(),
            "key" => s.key = string(a, &mut diags).unwrap_or_default(),
            "region" => s.region = string(a, &mut diags),
            "endpoint" => s.endpoint = string(a, &mut diags),
            "profile" => s.profile = string(a, &mut diags),
            "access_key" => s.access_key = string(a, &mut diags),
            "secret_key" => s.secret_key = string(a, &mut diags),
            "kms_key_id" => s.kms_key_id = string(a, &mut diags),
            "use_path_style" | "force_path_style" => s.use_path_style = boolean(a, &mut diags),
            "use_lockfile" => s.use_lockfile = boolean(a, &mut diags).unwrap_or(true),
            "encrypt" => s.encrypt = boolean(a, &mut diags).unwrap_or(false),
            "dynamodb_table" => diags.push(
                Diagnostic::error("DynamoDB locking is not supported", "terrane locks S3 state with a lock object beside the state (`use_lockfile = true`, the default), not with a DynamoDB table.")
                    .with_span(a.span.clone())
                    .with_help("Remove `dynamodb_table`."),
            ),
            name if S3_IGNORED.contains(&name) => {}
            name => diags.push(
                Diagnostic::error("Unsupported backend setting", format!("The s3 backend has no setting \"{name}\"."))
                    .with_span(a.name_span.clone())
                    .with_help("Settings: bucket, key, region, endpoint (or endpoints { s3 = ... }), use_path_style, use_lockfile, encrypt, kms_key_id, profile, access_key, secret_key."),
            ),
        }
    }
    for blk in &b.body.blocks {
        if blk.ident == "endpoints" {
            for a in &blk.body.attrs {
                if a.name == "s3" {
                    s.endpoint = string(a, &mut diags);
                }
            }
        } else {
            diags.push(
                Diagnostic::error(
                    "Unsupported block type",
                    format!("The s3 backend has no \"{}\" block.", blk.ident),
                )
                .with_span(blk.ident_span.clone()),
            );
        }
    }
    for (field, value) in [("bucket", &s.bucket), ("key", &s.key)] {
        if value.is_empty() && !diags.has_errors() {
            diags.push(
                Diagnostic::error(
                    "Missing backend setting",
                    format!("The s3 backend needs `{field}`."),
                )
                .with_span(b.span.clone()),
            );
        }
    }
    if s.access_key.is_some() != s.secret_key.is_some() {
        diags.push(
            Diagnostic::error(
                "Incomplete credentials",
                "`access_key` and `secret_key` must be set together.",
            )
            .with_span(b.span.clone()),
        );
    }
    if diags.has_errors() {
        return Err(CliError::Diags(diags));
    }
    Ok(s)
}

/// The file where `init` records which backend the working directory was initialised
/// with, so that a changed backend block is noticed instead of silently starting over
/// with an empty state.
pub fn backend_record_path(ctx: &Ctx) -> PathBuf {
    ctx.cwd.join(".terraform").join("terrane-backend.json")
}

/// The identity `init` recorded, if any.
pub fn recorded_backend(ctx: &Ctx) -> Option<serde_json::Value> {
    let text = std::fs::read_to_string(backend_record_path(ctx)).ok()?;
    serde_json::from_str(&text).ok()
}

/// Records `spec` as the initialised backend.
pub fn record_backend(ctx: &Ctx, spec: &BackendSpec) -> Result<(), CliError> {
    let path = backend_record_path(ctx);
    let fail = |e: std::io::Error| {
        CliError::error(
            "Failed to record the backend",
            format!("Writing {}: {e}.", path.display()),
        )
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(fail)?;
    }
    let mut text = serde_json::to_string_pretty(&spec.identity()).unwrap_or_default();
    text.push('\n');
    std::fs::write(&path, text).map_err(fail)
}

/// Connects to the storage of `spec`, reading and writing through `codec`.
pub fn connect(
    ctx: &Ctx,
    spec: &BackendSpec,
    codec: StateCodec,
) -> Result<Arc<dyn Backend>, CliError> {
    match spec {
        BackendSpec::Local(p) => Ok(Arc::new(LocalBackend::with_codec(p.clone(), codec))),
        BackendSpec::S3(s) => ctx
            .rt
            .block_on(S3Backend::connect(s.clone(), codec))
            .map(|b| Arc::new(b) as Arc<dyn Backend>)
            .map_err(|e| state_error("Failed to configure the s3 backend", &e).into()),
    }
}

/// The state backend of a command: resolved from `-state` or the configuration, checked
/// against what `init` recorded, with the configured encryption.
pub fn open_backend(
    ctx: &Ctx,
    flag: Option<&Path>,
    config: &Config,
) -> Result<Arc<dyn Backend>, CliError> {
    let spec = backend_spec(ctx, flag, Some(config))?;
    if flag.is_none() {
        check_initialized(ctx, &spec, config)?;
    }
    let enc = super::encryption::resolve(ctx, config)?;
    connect(ctx, &spec, enc.state_codec())
}

fn check_initialized(ctx: &Ctx, spec: &BackendSpec, config: &Config) -> Result<(), CliError> {
    let span = config
        .module
        .terraform
        .backend
        .as_ref()
        .map(|b| b.span.clone());
    match recorded_backend(ctx) {
        Some(r) if r == spec.identity() => Ok(()),
        None if matches!(spec, BackendSpec::Local(_)) => Ok(()),
        None => Err(Diagnostic::error(
            "Backend initialization required, please run \"terrane init\"",
            format!("This configuration stores its state in the {} backend, which this working directory has not been initialised with.", spec.describe()),
        )
        .with_opt_span(span)
        .with_help("Run `terrane init` (add -migrate-state to move an existing local state there).")
        .into()),
        Some(_) => Err(Diagnostic::error(
            "Backend configuration changed",
            format!("The backend configuration has changed since `terrane init` (it is now {}); running with it could start from an empty state and duplicate every resource.", spec.describe()),
        )
        .with_opt_span(span)
        .with_help("Run `terrane init -migrate-state` to move the state to the new backend, or `terrane init -reconfigure` to use it as it is.")
        .into()),
    }
}

/// Turns a backend error into a diagnostic.
pub fn state_error(summary: &str, e: &StateError) -> Diagnostic {
    match e {
        StateError::Locked(info) => lock_error(info, &e.to_string()),
        _ => Diagnostic::error(summary, format!("{e}.")),
    }
}

/// Terraform's "Error acquiring the state lock" with the holder's lock info.
pub fn lock_error(info: &LockInfo, message: &str) -> Diagnostic {
    let detail = format!(
        "Error message: {message}\nLock Info:\n  ID:        {}\n  Path:      {}\n  Operation: {}\n  Who:       {}\n  Pid:       {}\n  Version:   {}\n  Created:   {}\n  Info:      \n\nterrane acquires a state lock to protect the state from being written\nby multiple users at the same time. Please resolve the issue above and try\nagain. For most commands, you can disable locking with the \"-lock=false\"\nflag, but this is not recommended.",
        info.id, info.path, info.operation, info.who, info.pid, info.version, info.created
    );
    let d = Diagnostic::error("Error acquiring the state lock", detail);
    if holder_is_dead(info) {
        d.with_help(format!(
            "The process that holds this lock (pid {}) no longer exists. If no other terrane run is using this state, release the lock with `terrane force-unlock {}`.",
            info.pid, info.id
        ))
    } else {
        d
    }
}

/// Reads the state; no stored state is an empty `State::new()`.
pub async fn read_state(b: &dyn Backend) -> Result<State, CliError> {
    match b.read().await {
        Ok(Some(s)) => Ok(s),
        Ok(None) => Ok(State::new()),
        Err(e) => Err(state_error("Failed to load state", &e).into()),
    }
}

/// Reads the state, `None` when there is none.
pub async fn read_state_opt(b: &dyn Backend) -> Result<Option<State>, CliError> {
    b.read()
        .await
        .map_err(|e| state_error("Failed to load state", &e).into())
}

/// Writes a changed state: bumps the serial past the stored one, then writes.
pub async fn write_changed_state(b: &dyn Backend, state: &mut State) -> Result<(), CliError> {
    let stored = read_state_opt(b).await?;
    if let Some(s) = stored {
        state.serial = state.serial.max(s.serial) + 1;
    } else {
        state.serial += 1;
    }
    b.write(state)
        .await
        .map_err(|e| state_error("Failed to persist state", &e).into())
}

/// Writes the final state of an apply once more: nothing when the stored state is the
/// same, else with a serial past the stored one.
pub async fn write_final_state(b: &dyn Backend, state: &mut State) -> Result<(), CliError> {
    let stored = read_state_opt(b).await?;
    if let Some(s) = &stored {
        if crate::state::statefile::to_json(s) == crate::state::statefile::to_json(state) {
            return Ok(());
        }
        if state.serial <= s.serial {
            state.serial = s.serial + 1;
        }
    } else if state.is_empty() && state.outputs.is_empty() && state.serial == 0 {
        // Nothing was ever stored and nothing exists: don't create a state file.
        return Ok(());
    }
    b.write(state)
        .await
        .map_err(|e| state_error("Failed to persist state", &e).into())
}

/// A held lock, released by `release`.
pub struct Held {
    id: Option<String>,
}

/// Takes the state lock for `operation` unless `enabled` is false. With a timeout,
/// retries once a second until it passes.
pub async fn acquire(
    b: &dyn Backend,
    operation: &str,
    enabled: bool,
    timeout: Duration,
) -> Result<Held, CliError> {
    if !enabled {
        return Ok(Held { id: None });
    }
    let info = LockInfo::new(operation);
    let start = Instant::now();
    let mut broke_stale = false;
    loop {
        match b.lock(&info).await {
            Ok(()) => {
                return Ok(Held {
                    id: Some(info.id.clone()),
                })
            }
            // A lock left by a terrane that died on this very host (kill -9, power loss
            // of the process) can never be released by its holder: take it over, once.
            // Never for another host, or a pid that exists (possibly reused): those wait.
            Err(StateError::Locked(held)) if !broke_stale && crate::state::local::holder_is_dead(&held) => {
                broke_stale = true;
                if b.unlock(&held.id).await.is_ok() {
                    super::ui::write_err(&format!(
                        "Warning: released a stale state lock (ID {}) left by pid {} on this host, which is no longer running (operation {}, since {}).\n\n",
                        held.id, held.pid, held.operation, held.created
                    ));
                }
            }
            Err(StateError::Locked(_)) if start.elapsed() < timeout => {
                tokio::time::sleep(Duration::from_millis(500).min(timeout)).await;
            }
            Err(e) => return Err(state_error("Error acquiring the state lock", &e).into()),
        }
    }
}

/// Releases a lock taken by `acquire`; a failure is a diagnostic to print.
pub async fn release(b: &dyn Backend, held: Held) -> Diagnostics {
    let mut diags = Diagnostics::new();
    if let Some(id) = held.id {
        if let Err(e) = b.unlock(&id).await {
            diags.push(
                Diagnostic::error("Error releasing the state lock", format!("{e}.")).with_help(
                    format!(
                    "The state may still be locked; release it with `terrane force-unlock {id}`."
                ),
                ),
            );
        }
    }
    diags
}

/// Runs `work` under the state lock, releasing it afterwards whatever happened. A
/// failure to release is added to the error (or printed after success).
pub async fn with_lock<T, F>(
    ctx: &Ctx,
    b: &dyn Backend,
    operation: &str,
    enabled: bool,
    timeout: Duration,
    work: F,
) -> Result<T, CliError>
where
    F: std::future::Future<Output = Result<T, CliError>>,
{
    let held = acquire(b, operation, enabled, timeout).await?;
    let result = work.await;
    let rel = release(b, held).await;
    match result {
        Ok(v) if rel.is_empty() => Ok(v),
        Ok(_) => Err(CliError::Diags(rel)),
        Err(CliError::Diags(mut d)) => {
            d.extend(rel);
            Err(CliError::Diags(d))
        }
        Err(other) => {
            ctx.ui.diags(&rel);
            Err(other)
        }
    }
}

/// Parses `-lock-timeout` values: `0`, `30s`, `5m`, `1h`, `500ms`.
pub fn parse_duration(s: &str) -> Result<Duration, CliError> {
    let s = s.trim();
    let bad = || {
        CliError::error(
            "Invalid -lock-timeout value",
            format!("{s:?} is not a duration; use a value such as 0s, 30s or 5m."),
        )
    };
    let (num, unit) = match s.find(|c: char| !c.is_ascii_digit() && c != '.') {
        Some(i) => (&s[..i], &s[i..]),
        None => (s, "s"),
    };
    let n: f64 = num.parse().map_err(|_| bad())?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" => n,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => return Err(bad()),
    };
    if !secs.is_finite() || secs < 0.0 {
        return Err(bad());
    }
    Ok(Duration::from_secs_f64(secs))
}
