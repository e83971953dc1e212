//! `terrane state list|show|rm|mv|pull|push|history|restore`: inspecting and editing the
//! state by hand.
//!
//! `pull` prints the state as plain JSON (decrypted). `push` writes a state file as it is
//! (no serial bump) under the lock; the backend refuses another lineage, a lower serial,
//! and an equal serial with other content, unless `-force`. `history` reads every kept
//! version and shows what each write changed; `restore SERIAL` shows what bringing a
//! version back would change, asks, and writes it as a new serial of the same lineage.
//!
//! `list` and `show` only read. `rm` and `mv` take the state lock, change the state in
//! memory, and write it once with a bumped serial; any address that matches nothing is an
//! error and nothing is written. `-dry-run` shows what would change without writing.

use std::path::PathBuf;
use std::sync::Arc;

use clap::Subcommand;

use super::ui::format_attributes;
use super::workdir::{
    self, load_config, parse_duration, read_state_opt, with_lock, write_changed_state,
};
use super::{CliError, CmdResult, Ctx, EXIT_OK};
use crate::addrs::{AbsResource, AbsResourceInstance, InstanceKey, ResourceMode};
use crate::diag::Diagnostic;
use crate::state::backend::{Backend, StateError};
use crate::state::{InstanceObject, ObjectStatus, State};

#[derive(Subcommand, Debug)]
pub enum StateCommand {
    /// List the resource instances in the state.
    List(ListArgs),
    /// Show one resource instance's attributes.
    Show(ShowArgs),
    /// Forget resource instances without destroying them.
    Rm(RmArgs),
    /// Move (rename) an object in the state.
    Mv(MvArgs),
    /// Print the current state (decrypted) as JSON on stdout.
    Pull(PullArgs),
    /// Replace the stored state with a state file (checks lineage and serial).
    Push(PushArgs),
    /// List the earlier versions of the state with what each write changed.
    History(HistoryArgs),
    /// Bring back an earlier version as a new serial, after showing what it changes.
    Restore(RestoreArgs),
}

#[derive(clap::Args, Debug)]
pub struct PullArgs {
    #[command(flatten)]
    pub flags: StateFlags,
}

#[derive(clap::Args, Debug)]
pub struct PushArgs {
    #[command(flatten)]
    pub flags: StateFlags,
    #[command(flatten)]
    pub lock: LockFlags,
    /// Write even when lineage or serial say the push would lose data.
    #[arg(long, action = clap::ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", value_name = "BOOL")]
    pub force: bool,
    /// The state file to push, or `-` for stdin.
    #[arg(value_name = "PATH")]
    pub path: String,
}

#[derive(clap::Args, Debug)]
pub struct HistoryArgs {
    #[command(flatten)]
    pub flags: StateFlags,
}

#[derive(clap::Args, Debug)]
pub struct RestoreArgs {
    #[command(flatten)]
    pub flags: StateFlags,
    #[command(flatten)]
    pub lock: LockFlags,
    /// Don't ask for confirmation.
    #[arg(long = "auto-approve", action = clap::ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", value_name = "BOOL")]
    pub auto_approve: bool,
    /// The serial of the version to bring back (see `terrane state history`).
    #[arg(value_name = "SERIAL")]
    pub serial: u64,
}

#[derive(clap::Args, Debug, Clone)]
pub struct StateFlags {
    /// Path of the state file (overrides the backend configuration).
    #[arg(long, value_name = "PATH")]
    pub state: Option<PathBuf>,
}

#[derive(clap::Args, Debug, Clone)]
pub struct LockFlags {
    /// Lock the state while working (-lock=false to skip; not recommended).
    #[arg(long, action = clap::ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "true", value_name = "BOOL")]
    pub lock: bool,
    /// How long to retry taking the lock (e.g. 30s).
    #[arg(long = "lock-timeout", default_value = "0s", value_name = "DURATION")]
    pub lock_timeout: String,
    /// Show what would change without changing anything.
    #[arg(long = "dry-run")]
    pub dry_run: bool,
}

#[derive(clap::Args, Debug)]
pub struct ListArgs {
    #[command(flatten)]
    pub flags: StateFlags,
    /// Only instances whose `id` attribute is this.
    #[arg(long, value_name = "ID")]
    pub id: Option<String>,
    /// Only instances at or under these addresses.
    #[arg(value_name = "ADDRESS")]
    pub addresses: Vec<String>,
}

#[derive(clap::Args, Debug)]
pub struct ShowArgs {
    #[command(flatten)]
    pub flags: StateFlags,
    #[arg(value_name = "ADDRESS")]
    pub address: String,
}

#[derive(clap::Args, Debug)]
pub struct RmArgs {
    #[command(flatten)]
    pub flags: StateFlags,
    #[command(flatten)]
    pub lock: LockFlags,
    #[arg(value_name = "ADDRESS", required = true)]
    pub addresses: Vec<String>,
}

#[derive(clap::Args, Debug)]
pub struct MvArgs {
    #[command(flatten)]
    pub flags: StateFlags,
    #[command(flatten)]
    pub lock: LockFlags,
    #[arg(value_name = "SOURCE")]
    pub source: String,
    #[arg(value_name = "DESTINATION")]
    pub destination: String,
}

pub fn run(ctx: &Ctx, cmd: StateCommand) -> CmdResult {
    match cmd {
        StateCommand::List(a) => list(ctx, a),
        StateCommand::Show(a) => show(ctx, a),
        StateCommand::Rm(a) => rm(ctx, a),
        StateCommand::Mv(a) => mv(ctx, a),
        StateCommand::Pull(a) => pull(ctx, a),
        StateCommand::Push(a) => push(ctx, a),
        StateCommand::History(a) => history(ctx, a),
        StateCommand::Restore(a) => restore(ctx, a),
    }
}

fn open_backend(ctx: &Ctx, flags: &StateFlags) -> Result<Arc<dyn Backend>, CliError> {
    let config = load_config(ctx)?;
    workdir::open_backend(ctx, flags.state.as_deref(), &config)
}

fn parse_addr(s: &str) -> Result<AbsResourceInstance, CliError> {
    s.parse::<AbsResourceInstance>().map_err(|e| {
        CliError::from(
            Diagnostic::error("Invalid address", format!("{e}."))
                .with_help("A resource instance address looks like aws_instance.web, aws_instance.web[0] or module.net.aws_vpc.main."),
        )
    })
}

fn no_state() -> CliError {
    CliError::error(
        "No state file was found!",
        "State management commands require a state file. Run this command in a directory where terrane has been run or use the -state flag to point the command to a specific state location.",
    )
}

/// Whether instance address text `s` is at or under the address `filter`.
fn under(s: &str, filter: &str) -> bool {
    s == filter
        || (s.starts_with(filter)
            && matches!(s.as_bytes().get(filter.len()), Some(b'.') | Some(b'[')))
}

/// One instance as `state show` prints it.
pub fn render_instance(
    addr: &AbsResourceInstance,
    obj: &InstanceObject,
    provider: &str,
) -> String {
    render_object(addr, None, obj, provider)
}

/// One object as `show` and `state show` print it: the current object of an instance,
/// or one of its deposed objects (`# ADDR: (deposed object KEY)`, as Terraform prints it).
pub fn render_object(
    addr: &AbsResourceInstance,
    deposed: Option<&crate::state::DeposedKey>,
    obj: &InstanceObject,
    _provider: &str,
) -> String {
    let mut tainted = if obj.status == ObjectStatus::Tainted {
        " (tainted)".to_string()
    } else {
        String::new()
    };
    if let Some(k) = deposed {
        tainted.push_str(&format!(" (deposed object {k})"));
    }
    let kind = match addr.resource.mode {
        ResourceMode::Managed => "resource",
        ResourceMode::Data => "data",
    };
    format!(
        "# {addr}:{tainted}\n{kind} \"{}\" \"{}\" {{\n{}}}\n",
        addr.resource.type_,
        addr.resource.name,
        format_attributes(&crate::engine::typed_state_value(&crate::providers::Registry::builtin(), addr, obj))
    )
}

fn list(ctx: &Ctx, a: ListArgs) -> CmdResult {
    let b = open_backend(ctx, &a.flags)?;
    let Some(state) = ctx.rt.block_on(read_state_opt(&*b))? else {
        return Err(no_state());
    };
    // An instance whose only objects are deposed is listed too (once).
    let mut addrs = state.instance_addrs();
    addrs.extend(state.deposed_addrs().into_iter().map(|(a, _)| a));
    addrs.sort();
    addrs.dedup();
    for addr in addrs {
        let s = addr.to_string();
        if !a.addresses.is_empty() && !a.addresses.iter().any(|f| under(&s, f)) {
            continue;
        }
        if let Some(id) = &a.id {
            let has = state
                .instance(&addr)
                .and_then(|o| o.attributes.get_attr("id"))
                .and_then(|v| v.as_str())
                == Some(id.as_str());
            if !has {
                continue;
            }
        }
        ctx.ui.outln(&s);
    }
    Ok(EXIT_OK)
}

fn show(ctx: &Ctx, a: ShowArgs) -> CmdResult {
    let addr = parse_addr(&a.address)?;
    let b = open_backend(ctx, &a.flags)?;
    let Some(state) = ctx.rt.block_on(read_state_opt(&*b))? else {
        return Err(no_state());
    };
    let deposed: Vec<_> = state.deposed_addrs().into_iter().filter(|(a, _)| *a == addr).collect();
    match (state.instance(&addr), state.resources.get(&addr.abs_resource())) {
        (cur, Some(rs)) if cur.is_some() || !deposed.is_empty() => {
            // The current object, then the deposed ones an interrupted
            // create_before_destroy replacement left.
            let mut blocks: Vec<String> = cur.map(|obj| render_instance(&addr, obj, &rs.provider)).into_iter().collect();
            for (a, k) in &deposed {
                if let Some(obj) = state.deposed(a, k) {
                    blocks.push(render_object(a, Some(k), obj, &rs.provider));
                }
            }
            ctx.ui.out(&blocks.join("\n"));
            Ok(EXIT_OK)
        }
        _ => Err(CliError::error(
            "No instance found for the given address!",
            "This command requires that the address references one specific instance. To view the available instances, use \"terrane state list\". Please modify the address to reference a specific instance.",
        )),
    }
}

/// The instances an address names: itself, or every instance of a resource when the
/// address has no key and the resource's instances are keyed.
fn matching(state: &State, addr: &AbsResourceInstance) -> Vec<AbsResourceInstance> {
    let exists = |a: &AbsResourceInstance| state.instance(a).is_some() || state.deposed_addrs().iter().any(|(d, _)| d == a);
    if exists(addr) {
        return vec![addr.clone()];
    }
    if addr.key == InstanceKey::None {
        if let Some(rs) = state.resources.get(&addr.abs_resource()) {
            let mut keys: Vec<&InstanceKey> = rs.instances.keys().chain(rs.deposed.keys().map(|(k, _)| k)).collect();
            keys.sort();
            keys.dedup();
            return keys
                .into_iter()
                .map(|k| addr.abs_resource().instance(k.clone()))
                .collect();
        }
    }
    Vec::new()
}

fn no_match(addr: &str) -> Diagnostic {
    Diagnostic::error(
        "Invalid target address",
        format!("No matching objects found for {addr}. To view the available instances, use \"terrane state list\". Please modify the address to reference a specific instance."),
    )
}

fn rm(ctx: &Ctx, a: RmArgs) -> CmdResult {
    let addrs = a
        .addresses
        .iter()
        .map(|s| parse_addr(s))
        .collect::<Result<Vec<_>, _>>()?;
    let timeout = parse_duration(&a.lock.lock_timeout)?;
    let b = open_backend(ctx, &a.flags)?;
    let dry = a.lock.dry_run;
    ctx.rt.block_on(with_lock(
        ctx,
        &*b,
        "state rm",
        a.lock.lock && !dry,
        timeout,
        async {
            let Some(mut state) = read_state_opt(&*b).await? else {
                return Err(no_state());
            };
            let mut removed = Vec::new();
            let mut diags = crate::diag::Diagnostics::new();
            for (text, addr) in a.addresses.iter().zip(&addrs) {
                let found = matching(&state, addr);
                if found.is_empty() {
                    diags.push(no_match(text));
                }
                for inst in found {
                    // With its deposed objects, as Terraform's `state rm` forgets the
                    // whole instance.
                    state.remove_instance(&inst);
                    removed.push(inst);
                }
            }
            if diags.has_errors() {
                return Err(CliError::Diags(diags));
            }
            let verb = if dry { "Would remove" } else { "Removed" };
            for r in &removed {
                ctx.ui.outln(&format!("{verb} {r}"));
            }
            if dry {
                ctx.ui.outln(&format!(
                    "Would have removed {} resource instance(s).",
                    removed.len()
                ));
                return Ok(EXIT_OK);
            }
            write_changed_state(&*b, &mut state).await?;
            ctx.ui.outln(&format!(
                "Successfully removed {} resource instance(s).",
                removed.len()
            ));
            Ok(EXIT_OK)
        },
    ))
}

fn mv(ctx: &Ctx, a: MvArgs) -> CmdResult {
    let src = parse_addr(&a.source)?;
    let dst = parse_addr(&a.destination)?;
    let timeout = parse_duration(&a.lock.lock_timeout)?;
    let b = open_backend(ctx, &a.flags)?;
    let dry = a.lock.dry_run;
    ctx.rt.block_on(with_lock(ctx, &*b, "state mv", a.lock.lock && !dry, timeout, async {
        let Some(mut state) = read_state_opt(&*b).await? else {
            return Err(no_state());
        };
        if src.resource.type_ != dst.resource.type_ || src.resource.mode != dst.resource.mode {
            return Err(CliError::error(
                "Invalid state move request",
                format!("Cannot move {src} to {dst}: resource types don't match."),
            ));
        }
        let exists_err = || {
            CliError::error(
                "Invalid target address",
                format!("Cannot move to {dst}: there is already a resource instance at that address in the current state."),
            )
        };
        let moved: usize;
        if state.instance(&src).is_some() {
            // One instance.
            if state.instance(&dst).is_some() {
                return Err(exists_err());
            }
            let src_res = src.abs_resource();
            let provider = state.resources.get(&src_res).map(|r| r.provider.clone()).unwrap_or_default();
            state.move_instance(&src, &dst, &provider);
            moved = 1;
        } else if src.key == InstanceKey::None && dst.key == InstanceKey::None && state.resources.contains_key(&src.abs_resource()) {
            // A whole resource with keyed instances.
            let dst_res: AbsResource = dst.abs_resource();
            if state.resources.contains_key(&dst_res) {
                return Err(exists_err());
            }
            let Some(rs) = state.resources.remove(&src.abs_resource()) else {
                return Err(CliError::from(no_match(&a.source)));
            };
            moved = rs.instances.len();
            state.resources.insert(dst_res, rs);
        } else {
            return Err(CliError::from(no_match(&a.source)));
        }
        let verb = if dry { "Would move" } else { "Move" };
        ctx.ui.outln(&format!("{verb} \"{src}\" to \"{dst}\""));
        if dry {
            return Ok(EXIT_OK);
        }
        write_changed_state(&*b, &mut state).await?;
        ctx.ui.outln(&format!("Successfully moved {moved} object(s)."));
        Ok(EXIT_OK)
    }))
}

fn pull(ctx: &Ctx, a: PullArgs) -> CmdResult {
    let b = open_backend(ctx, &a.flags)?;
    if let Some(state) = ctx.rt.block_on(read_state_opt(&*b))? {
        ctx.ui.out(&crate::state::statefile::to_json(&state));
    }
    Ok(EXIT_OK)
}

fn push(ctx: &Ctx, a: PushArgs) -> CmdResult {
    let config = load_config(ctx)?;
    let b = workdir::open_backend(ctx, a.flags.state.as_deref(), &config)?;
    let (bytes, name) = if a.path == "-" {
        let mut buf = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut buf).map_err(|e| {
            CliError::error("Failed to read the state", format!("Reading stdin: {e}."))
        })?;
        (buf, "<stdin>".to_string())
    } else {
        let p = ctx.cwd.join(&a.path);
        let buf = std::fs::read(&p).map_err(|e| {
            CliError::error(
                "Failed to read the state",
                format!("Reading {}: {e}.", p.display()),
            )
        })?;
        (buf, a.path.clone())
    };
    // A plain file is always accepted; an encrypted one needs the configured keys.
    let codec = if crate::state::encryption::is_encrypted(&bytes) {
        super::encryption::resolve(ctx, &config)?.state_codec()
    } else {
        crate::state::encryption::StateCodec::plain()
    };
    let state = match codec.decode(&bytes, &name) {
        Ok(Some(s)) => s,
        Ok(None) => {
            return Err(CliError::error(
                "Empty state file",
                format!("{name} holds no state."),
            ))
        }
        Err(e) => return Err(workdir::state_error("Failed to read the state", &e).into()),
    };
    let timeout = parse_duration(&a.lock.lock_timeout)?;
    ctx.rt.block_on(with_lock(
        ctx,
        &*b,
        "state push",
        a.lock.lock,
        timeout,
        async {
            let r = if a.force {
                b.overwrite(&state).await
            } else {
                b.write(&state).await
            };
            match r {
                Ok(()) => Ok(EXIT_OK),
                Err(e @ (StateError::LineageMismatch { .. } | StateError::SerialConflict { .. })) => Err(Diagnostic::error(
                    "Failed to push the state",
                    format!("{e}. Pushing it would replace a state it does not descend from, or newer work."),
                )
                .with_help("Check with `terrane state pull` what is stored; add -force to replace it anyway (the replaced version is kept in the history).")
                .into()),
                Err(e) => Err(workdir::state_error("Failed to push the state", &e).into()),
            }
        },
    ))
}

/// One line per changed address: `+ added`, `- removed`, `~ changed`, and outputs.
fn describe_diff(d: &crate::state::StateDiff) -> Vec<String> {
    let mut out = Vec::new();
    out.extend(d.added.iter().map(|a| format!("+ {a}")));
    out.extend(d.changed.iter().map(|a| format!("~ {a}")));
    out.extend(d.removed.iter().map(|a| format!("- {a}")));
    out.extend(d.outputs.iter().map(|o| format!("~ output.{o}")));
    out
}

fn history(ctx: &Ctx, a: HistoryArgs) -> CmdResult {
    let b = open_backend(ctx, &a.flags)?;
    let (current, versions) = ctx.rt.block_on(async {
        let current = read_state_opt(&*b).await?;
        let entries = b.history().await.map_err(|e| {
            CliError::from(workdir::state_error("Failed to list the state history", &e))
        })?;
        let mut versions = Vec::new();
        for e in entries {
            // A version that cannot be read is listed with why, not hidden.
            let st = b.read_version(&e).await.map_err(|err| err.to_string());
            versions.push((e, st));
        }
        Ok::<_, CliError>((current, versions))
    })?;
    let Some(current) = current else {
        return Err(no_state());
    };
    ctx.ui
        .outln(&format!("{:<8} {:<22} CHANGES", "SERIAL", "WRITTEN"));
    let empty = State {
        lineage: current.lineage.clone(),
        ..State::new()
    };
    let mut rows: Vec<(String, String, Option<&State>, String)> = Vec::new();
    rows.push((
        current.serial.to_string(),
        "(current)".into(),
        Some(&current),
        String::new(),
    ));
    for (e, st) in &versions {
        let note = match st {
            Ok(s) if s.lineage != current.lineage => format!(" (another lineage: {})", s.lineage),
            Ok(_) => String::new(),
            Err(why) => format!(" (unreadable: {why})"),
        };
        rows.push((
            e.serial.to_string(),
            e.written.clone(),
            st.as_ref().ok(),
            note,
        ));
    }
    for i in 0..rows.len() {
        let (serial, written, st, note) = &rows[i];
        let older = match rows.get(i + 1) {
            Some((_, _, Some(o), _)) => Some(*o),
            Some((_, _, None, _)) => None,
            None => Some(&empty),
        };
        let changes = match (st, older) {
            (Some(_), None) => "unknown (the version before is unreadable)".to_string(),
            (Some(s), Some(older)) => {
                let d = describe_diff(&crate::state::diff(older, s));
                if d.is_empty() {
                    "no resource changes".to_string()
                } else {
                    d.join(", ")
                }
            }
            (None, _) => String::new(),
        };
        ctx.ui
            .outln(&format!("{serial:<8} {written:<22} {changes}{note}"));
    }
    Ok(EXIT_OK)
}

fn restore(ctx: &Ctx, a: RestoreArgs) -> CmdResult {
    let b = open_backend(ctx, &a.flags)?;
    let timeout = parse_duration(&a.lock.lock_timeout)?;
    let dry = a.lock.dry_run;
    ctx.rt.block_on(with_lock(ctx, &*b, "state restore", a.lock.lock && !dry, timeout, async {
        let Some(current) = read_state_opt(&*b).await? else {
            return Err(no_state());
        };
        let entries = b
            .history()
            .await
            .map_err(|e| CliError::from(workdir::state_error("Failed to list the state history", &e)))?;
        let mut chosen = None;
        for e in entries.iter().filter(|e| e.serial == a.serial) {
            let st = b
                .read_version(e)
                .await
                .map_err(|err| CliError::from(workdir::state_error("Failed to read the earlier version", &err)))?;
            if st.lineage == current.lineage {
                chosen = Some(st);
                break;
            }
        }
        let Some(mut restored) = chosen else {
            let known: Vec<String> = entries.iter().map(|e| e.serial.to_string()).collect();
            return Err(CliError::from(
                Diagnostic::error(
                    "No such version",
                    format!("The history of {} has no version with serial {} and lineage {}.", b.describe(), a.serial, current.lineage),
                )
                .with_help(if known.is_empty() { "The history is empty.".to_string() } else { format!("Kept serials: {}. See `terrane state history`.", known.join(", ")) }),
            ));
        };
        let d = crate::state::diff(&current, &restored);
        ctx.ui.outln(&format!(
            "Restoring serial {} over the current serial {} changes:",
            a.serial, current.serial
        ));
        let lines = describe_diff(&d);
        if lines.is_empty() {
            ctx.ui.outln("  nothing (the resources and outputs are the same)");
        }
        for l in &lines {
            ctx.ui.outln(&format!("  {l}"));
        }
        if dry {
            return Ok(EXIT_OK);
        }
        if !a.auto_approve {
            let answer = ctx.prompt(&ctx.ui.bold(
                "\nDo you want to restore this version?\n  Only 'yes' will be accepted to confirm.\n\n  Enter a value: ",
            ));
            if answer.as_deref() != Some("yes") {
                return Err(CliError::Cancelled("Restore cancelled.".into()));
            }
        }
        restored.serial = current.serial + 1;
        b.write(&restored)
            .await
            .map_err(|e| CliError::from(workdir::state_error("Failed to persist state", &e)))?;
        ctx.ui.outln(&format!(
            "Restored serial {} as serial {}.",
            a.serial, restored.serial
        ));
        Ok(EXIT_OK)
    }))
}
