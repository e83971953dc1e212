//! `terrane state list|show|rm|mv`: inspecting and editing the state by hand.
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
use crate::state::backend::Backend;
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
    _provider: &str,
) -> String {
    let tainted = if obj.status == ObjectStatus::Tainted {
        " (tainted)"
    } else {
        ""
    };
    let kind = match addr.resource.mode {
        ResourceMode::Managed => "resource",
        ResourceMode::Data => "data",
    };
    format!(
        "# {addr}:{tainted}\n{kind} \"{}\" \"{}\" {{\n{}}}\n",
        addr.resource.type_,
        addr.resource.name,
        format_attributes(&obj.attributes)
    )
}

fn list(ctx: &Ctx, a: ListArgs) -> CmdResult {
    let b = open_backend(ctx, &a.flags)?;
    let Some(state) = ctx.rt.block_on(read_state_opt(&*b))? else {
        return Err(no_state());
    };
    for addr in state.instance_addrs() {
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
    match (state.instance(&addr), state.resources.get(&addr.abs_resource())) {
        (Some(obj), Some(rs)) => {
            ctx.ui.out(&render_instance(&addr, obj, &rs.provider));
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
    if state.instance(addr).is_some() {
        return vec![addr.clone()];
    }
    if addr.key == InstanceKey::None {
        if let Some(rs) = state.resources.get(&addr.abs_resource()) {
            return rs
                .instances
                .keys()
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
                    let provider = state
                        .resources
                        .get(&inst.abs_resource())
                        .map(|r| r.provider.clone())
                        .unwrap_or_default();
                    state.set_instance(&inst, &provider, None);
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
            let obj = state.instance(&src).cloned();
            state.set_instance(&src, &provider, None);
            state.set_instance(&dst, &provider, obj);
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
