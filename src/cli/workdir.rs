//! The working directory as the commands see it: loading the configuration, finding the
//! state (`-state`, else the root module's `backend "local"` path, else
//! `state/terraform.tfstate`), opening the local backend, reading and writing the state,
//! and taking and always releasing the state lock, with Terraform's lock-info message
//! when someone else holds it.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::config::Config;
use crate::diag::{Diagnostic, Diagnostics};
use crate::engine::vars::eval_const;
use crate::state::backend::{Backend, LockInfo, StateError};
use crate::state::local::{holder_is_dead, LocalBackend};
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

/// Where the state lives: `-state=PATH`, else the `backend "local" { path = ... }` of the
/// root module, else `state/terraform.tfstate`; relative paths are under the working dir.
pub fn state_path(
    ctx: &Ctx,
    flag: Option<&Path>,
    config: Option<&Config>,
) -> Result<PathBuf, CliError> {
    if let Some(p) = flag {
        return Ok(ctx.cwd.join(p));
    }
    if let Some(b) = config.and_then(|c| c.module.terraform.backend.as_ref()) {
        if b.kind != "local" {
            return Err(Diagnostic::error(
                "Unsupported backend type",
                format!("The command-line interface supports only the \"local\" backend so far; this configuration asks for \"{}\".", b.kind),
            )
            .with_span(b.span.clone())
            .into());
        }
        if let Some(attr) = b.body.attr("path") {
            let v = eval_const(&attr.expr, &ctx.cwd)?;
            return match v.as_str() {
                Some(s) if !s.is_empty() => Ok(ctx.cwd.join(s)),
                _ => Err(Diagnostic::error(
                    "Invalid backend path",
                    "The local backend's `path` must be a non-empty string.",
                )
                .with_span(attr.expr.span())
                .into()),
            };
        }
    }
    Ok(ctx.cwd.join(DEFAULT_STATE_PATH))
}

/// The backend for a state path.
pub fn backend(path: PathBuf) -> Arc<LocalBackend> {
    Arc::new(LocalBackend::new(path))
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
    loop {
        match b.lock(&info).await {
            Ok(()) => {
                return Ok(Held {
                    id: Some(info.id.clone()),
                })
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
