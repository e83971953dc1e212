//! The built-in "ssh" provider: idempotent host configuration over SSH, which Terraform's
//! provisioners are not (they run once, at creation, and never see drift).
//!
//! - `ssh_file`: a file on a host (`content` or local `source`, `mode`, `owner`,
//!   `group`). Refresh reads its SHA-256, mode and ownership back, so a change made on
//!   the host shows as drift and apply puts the file back; deleting the resource removes
//!   the file unless `keep_on_destroy`.
//! - `ssh_exec`: `commands` (or a `script`) run on create, and again when `commands`,
//!   `script` or `triggers` change (an in-place update, so `destroy_commands` run only at
//!   deletion); `stdout` of the last run is exported; a `check` command that fails at
//!   refresh marks the resource for a re-run (`healthy` false -> true in the plan).
//! - data source `ssh_host`: facts (hostname, kernel, architecture, OS release) and the
//!   host key fingerprint.
//!
//! Each names its host with a `connection` block of the provisioners' form. The host key
//! fingerprint is recorded in the state (`host_key_fingerprint`) on first use and checked
//! on every later connection. Sessions come from `crate::ssh` and run on tokio's blocking
//! pool. Connection secrets are removed from every message and output line.

use std::collections::BTreeMap;
use std::sync::Arc;

use sha2::Digest as _;

use crate::providers::sdk::{attr, get_bool, get_str, object_map, plan_by_schema, value_eq};
use crate::lang::value::{Type, Value};
use crate::providers::{
    attr_path, ApplyRequest, ApplyResponse, AttributeSchema, BlockSchema, NestedBlockSchema,
    Nesting, PlanRequest, PlanResponse, Provider, ProviderDiag, ProviderDiags, ProviderSchema,
    ReadResponse, ResourceSchema,
};
use crate::ssh::conn::connection_schema;
use crate::ssh::pool::{with_host, ExecOutput};
use crate::ssh::{shell_quote, ConnInfo, SshError};

pub const SSH_FILE: &str = "ssh_file";
pub const SSH_EXEC: &str = "ssh_exec";
pub const SSH_HOST: &str = "ssh_host";

pub fn new_provider() -> Arc<dyn Provider> {
    Arc::new(SshProvider { schema: schema() })
}

pub struct SshProvider {
    schema: ProviderSchema,
}

fn conn_block() -> NestedBlockSchema {
    NestedBlockSchema {
        nesting: Nesting::Single,
        min_items: 1,
        max_items: 1,
        force_new: false,
        block: connection_schema(),
    }
}

fn common(b: BlockSchema) -> BlockSchema {
    b.block("connection", conn_block())
        .attr(
            "id",
            AttributeSchema::computed(Type::String)
                .describe("user@host:port and what the resource manages."),
        )
        .attr(
            "host_key_fingerprint",
            AttributeSchema::computed(Type::String)
                .describe("The SHA256 fingerprint of the host key, trusted on first use."),
        )
}

fn schema() -> ProviderSchema {
    let file = common(
        BlockSchema::new()
            .attr(
                "path",
                AttributeSchema::required(Type::String)
                    .force_new()
                    .describe("The absolute path of the file on the host."),
            )
            .attr(
                "content",
                AttributeSchema::optional(Type::String).describe("The file's content."),
            )
            .attr(
                "sensitive_content",
                AttributeSchema::optional(Type::String)
                    .sensitive()
                    .describe("The file's content, kept out of plans."),
            )
            .attr(
                "source",
                AttributeSchema::optional(Type::String).describe("A local file to upload."),
            )
            .attr(
                "mode",
                AttributeSchema::optional_computed(Type::String)
                    .describe("The file mode in octal (default 0644)."),
            )
            .attr(
                "owner",
                AttributeSchema::optional_computed(Type::String).describe("The owning user."),
            )
            .attr(
                "group",
                AttributeSchema::optional_computed(Type::String).describe("The owning group."),
            )
            .attr(
                "keep_on_destroy",
                AttributeSchema::optional(Type::Bool)
                    .describe("Leave the file on the host when the resource is destroyed."),
            )
            .attr(
                "revision",
                AttributeSchema::computed(Type::String).describe(
                    "Changes whenever terrane writes the file (also when it corrects drift): use it in an ssh_exec's triggers to reload a service.",
                ),
            )
            .attr(
                "sha256",
                AttributeSchema::computed(Type::String)
                    .describe("The SHA-256 of the content on the host."),
            ),
    );
    let exec = common(
        BlockSchema::new()
            .attr(
                "commands",
                AttributeSchema::optional(Type::list(Type::String)).describe(
                    "Commands run in order on create and whenever they or the triggers change.",
                ),
            )
            .attr(
                "script",
                AttributeSchema::optional(Type::String)
                    .describe("A script run instead of commands."),
            )
            .attr(
                "triggers",
                AttributeSchema::optional(Type::map(Type::String))
                    .describe("Any change re-runs the commands."),
            )
            .attr(
                "destroy_commands",
                AttributeSchema::optional(Type::list(Type::String))
                    .describe("Commands run when the resource is destroyed."),
            )
            .attr(
                "check",
                AttributeSchema::optional(Type::String)
                    .describe("A command run at refresh; when it fails the commands run again."),
            )
            .attr(
                "healthy",
                AttributeSchema::computed(Type::Bool)
                    .describe("Whether `check` passed at the last refresh (null without a check)."),
            )
            .attr(
                "stdout",
                AttributeSchema::computed(Type::String)
                    .describe("The standard output of the last run."),
            ),
    );
    let host = common(
        BlockSchema::new()
            .attr("hostname", AttributeSchema::computed(Type::String))
            .attr("kernel", AttributeSchema::computed(Type::String))
            .attr("arch", AttributeSchema::computed(Type::String))
            .attr(
                "os_id",
                AttributeSchema::computed(Type::String)
                    .describe("ID from /etc/os-release (debian, ubuntu, ...)."),
            )
            .attr(
                "os_version",
                AttributeSchema::computed(Type::String)
                    .describe("VERSION_ID from /etc/os-release."),
            )
            .attr(
                "os_release",
                AttributeSchema::computed(Type::map(Type::String))
                    .describe("Every field of /etc/os-release."),
            ),
    );
    let mut s = ProviderSchema::default();
    s.resources.insert(
        SSH_FILE.into(),
        ResourceSchema {
            version: 0,
            block: file,
        },
    );
    s.resources.insert(
        SSH_EXEC.into(),
        ResourceSchema {
            version: 0,
            block: exec,
        },
    );
    s.data_sources.insert(
        SSH_HOST.into(),
        ResourceSchema {
            version: 0,
            block: host,
        },
    );
    s
}

/// Secrets of a connection, removed from anything shown.
fn secrets(c: &ConnInfo) -> Vec<String> {
    let mut v = Vec::new();
    for ep in std::iter::once(&c.target).chain(c.bastion.iter()) {
        v.extend(ep.password.iter().cloned());
        if let Some(k) = &ep.private_key {
            v.push(k.clone());
            // A key's lines on their own, should any be echoed.
            v.extend(
                k.lines()
                    .map(|l| l.trim().to_string())
                    .filter(|l| l.len() > 16),
            );
        }
    }
    v.retain(|s| !s.is_empty());
    v.sort_by_key(|s| std::cmp::Reverse(s.len()));
    v
}

fn redact(s: &str, secrets: &[String]) -> String {
    let mut s = s.to_string();
    for x in secrets {
        s = s.replace(x.as_str(), "(sensitive value)");
    }
    s
}

fn ssh_diag(e: &SshError, secrets: &[String]) -> ProviderDiag {
    let mut detail = e.to_string();
    if let Some(h) = e.help() {
        detail.push_str(&format!("\n\nHint: {h}"));
    }
    ProviderDiag::error(e.summary(), redact(&detail, secrets)).at(attr_path(&["connection"]))
}

fn conn_of(v: &Value) -> Result<ConnInfo, ProviderDiag> {
    ConnInfo::from_value(attr(v, "connection")).map_err(|m| {
        ProviderDiag::error("Invalid SSH connection settings", m).at(attr_path(&["connection"]))
    })
}

/// The fingerprint recorded in `prior`, when it was recorded for the same host.
fn recorded(prior: Option<&Value>, c: &ConnInfo) -> Option<String> {
    let p = prior?;
    let pc = attr(p, "connection");
    let same_host = get_str(pc, "host") == Some(c.target.host.as_str())
        && crate::providers::sdk::get_i64(pc, "port").unwrap_or(22) == i64::from(c.target.port);
    if !same_host {
        return None;
    }
    get_str(p, "host_key_fingerprint").map(|s| s.to_string())
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    // NOTE: a panic in ssh2 code is a bug; it surfaces as the task's panic.
    match tokio::task::spawn_blocking(f).await {
        Ok(t) => t,
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    }
}

/// One command's failure: the command, its status and the last lines of its output.
fn command_failed(host: &str, cmd: &str, out: &ExecOutput, secrets: &[String]) -> ProviderDiag {
    let mut d = format!(
        "The command\n  {}\non {host} exited with status {}.",
        cmd.trim(),
        out.status
    );
    if !out.tail.is_empty() {
        d.push_str("\nLast lines of its output:\n");
        for l in &out.tail {
            d.push_str(&format!("  {l}\n"));
        }
    }
    ProviderDiag::error("Remote command failed", redact(&d, secrets))
}

fn file_content(cfg: &Value) -> Result<Option<Vec<u8>>, ProviderDiag> {
    if let Some(c) = get_str(cfg, "content").or_else(|| get_str(cfg, "sensitive_content")) {
        return Ok(Some(c.as_bytes().to_vec()));
    }
    if let Some(src) = get_str(cfg, "source") {
        return std::fs::read(src).map(Some).map_err(|e| {
            ProviderDiag::error(
                "Cannot read source file",
                format!("Cannot read {src}: {e}."),
            )
            .at(attr_path(&["source"]))
        });
    }
    Ok(None)
}

fn sha256_hex(b: &[u8]) -> String {
    hex::encode(sha2::Sha256::digest(b))
}

/// "644" or "0644" -> "0644".
fn norm_mode(m: &str) -> Option<String> {
    let m = m.trim().trim_start_matches("0o");
    let n = u32::from_str_radix(m, 8).ok().filter(|n| *n <= 0o7777)?;
    Some(format!("{n:04o}"))
}

impl SshProvider {
    fn validate_file(&self, config: &Value) -> ProviderDiags {
        let mut d = Vec::new();
        let n = ["content", "sensitive_content", "source"]
            .iter()
            .filter(|a| !attr(config, a).is_null())
            .count();
        if n != 1 {
            d.push(ProviderDiag::error(
                "Invalid ssh_file content",
                "Set exactly one of `content`, `sensitive_content` or `source`.",
            ));
        }
        if let Some(m) = get_str(config, "mode") {
            if norm_mode(m).is_none() {
                d.push(
                    ProviderDiag::error(
                        "Invalid file mode",
                        format!("The mode \"{m}\" is not an octal file mode like \"0644\"."),
                    )
                    .at(attr_path(&["mode"])),
                );
            }
        }
        if let Some(p) = get_str(config, "path") {
            if !p.starts_with('/') {
                d.push(ProviderDiag::error("Relative path", format!("The path \"{p}\" must be absolute: the remote working directory depends on the user.")).at(attr_path(&["path"])));
            }
        }
        d
    }

    fn validate_exec(&self, config: &Value) -> ProviderDiags {
        let has_cmds = attr(config, "commands")
            .as_seq()
            .map(|s| !s.is_empty())
            .unwrap_or(!attr(config, "commands").is_null());
        let has_script = !attr(config, "script").is_null();
        if has_cmds == has_script {
            return vec![ProviderDiag::error(
                "Invalid ssh_exec",
                "Set exactly one of `commands` (a non-empty list) or `script`.",
            )];
        }
        Vec::new()
    }
}

/// The commands an `ssh_exec` value runs, as one script.
fn exec_script(v: &Value, field: &str) -> Option<String> {
    if field == "commands" {
        if let Some(s) = get_str(v, "script") {
            return Some(s.to_string());
        }
    }
    let cmds: Vec<String> = attr(v, field)
        .as_seq()?
        .iter()
        .filter_map(|c| c.as_str().map(|s| s.to_string()))
        .collect();
    if cmds.is_empty() {
        return None;
    }
    // Stop at the first failing command, like a list of provisioner commands should.
    Some(format!("set -e\n{}\n", cmds.join("\n")))
}

/// Whether an update of `ssh_exec` runs the commands again.
fn exec_rerun(prior: &Value, planned: &Value) -> bool {
    ["commands", "script", "triggers"]
        .iter()
        .any(|a| !value_eq(attr(prior, a), attr(planned, a)))
        || get_bool(prior, "healthy") == Some(false)
}

fn id_of(c: &ConnInfo, what: &str) -> String {
    format!("{}:{what}", c.target.display())
}

#[async_trait::async_trait]
impl Provider for SshProvider {
    fn schema(&self) -> &ProviderSchema {
        &self.schema
    }

    fn validate_resource(&self, type_name: &str, config: &Value) -> ProviderDiags {
        match type_name {
            SSH_FILE => self.validate_file(config),
            SSH_EXEC => self.validate_exec(config),
            _ => Vec::new(),
        }
    }

    async fn read_resource(&self, type_name: &str, prior: &Value) -> ReadResponse {
        let c = match conn_of(prior) {
            Ok(c) => c,
            Err(d) => {
                return ReadResponse {
                    new_state: Some(prior.clone()),
                    diags: vec![d],
                }
            }
        };
        let sec = secrets(&c);
        let rec = recorded(Some(prior), &c);
        let label = get_str(prior, "id").unwrap_or(type_name).to_string();
        match type_name {
            SSH_FILE => {
                let Some(path) = get_str(prior, "path").map(|s| s.to_string()) else {
                    return ReadResponse {
                        new_state: None,
                        diags: Vec::new(),
                    };
                };
                let cmd = format!("if [ -e {p} ]; then stat -c '%a %U %G' -- {p} && sha256sum -- {p}; else echo absent; fi", p = shell_quote(&path));
                let c2 = c.clone();
                let r = blocking(move || {
                    with_host(&c2, rec.as_deref(), &label, |h| {
                        h.exec(&cmd, None, &mut |_, _| {})
                    })
                })
                .await;
                match r {
                    Err(e) => ReadResponse {
                        new_state: Some(prior.clone()),
                        diags: vec![ssh_diag(&e, &sec)],
                    },
                    Ok((out, _)) if out.status != 0 => ReadResponse {
                        new_state: Some(prior.clone()),
                        diags: vec![command_failed(
                            &c.target.display(),
                            &format!("stat {path}"),
                            &out,
                            &sec,
                        )],
                    },
                    Ok((out, key)) => {
                        let mut lines = out.stdout.lines();
                        let first = lines.next().unwrap_or_default();
                        if first == "absent" {
                            return ReadResponse {
                                new_state: None,
                                diags: Vec::new(),
                            };
                        }
                        let mut m = object_map(prior);
                        let f: Vec<&str> = first.split_whitespace().collect();
                        if let [mode, owner, group] = f[..] {
                            m.insert(
                                "mode".into(),
                                Value::from(norm_mode(mode).unwrap_or_else(|| mode.to_string())),
                            );
                            m.insert("owner".into(), Value::from(owner));
                            m.insert("group".into(), Value::from(group));
                        }
                        if let Some(sum) = lines.next().and_then(|l| l.split_whitespace().next()) {
                            m.insert("sha256".into(), Value::from(sum));
                        }
                        m.insert("host_key_fingerprint".into(), Value::from(key.fingerprint));
                        ReadResponse {
                            new_state: Some(Value::Object(m)),
                            diags: Vec::new(),
                        }
                    }
                }
            }
            SSH_EXEC => {
                let Some(check) = get_str(prior, "check").map(|s| s.to_string()) else {
                    return ReadResponse {
                        new_state: Some(prior.clone()),
                        diags: Vec::new(),
                    };
                };
                let c2 = c.clone();
                let r = blocking(move || {
                    with_host(&c2, rec.as_deref(), &label, |h| {
                        h.exec(&check, None, &mut |_, _| {})
                    })
                })
                .await;
                match r {
                    Err(e) => ReadResponse {
                        new_state: Some(prior.clone()),
                        diags: vec![ssh_diag(&e, &sec)],
                    },
                    Ok((out, key)) => {
                        let mut m = object_map(prior);
                        m.insert("healthy".into(), Value::Bool(out.status == 0));
                        m.insert("host_key_fingerprint".into(), Value::from(key.fingerprint));
                        ReadResponse {
                            new_state: Some(Value::Object(m)),
                            diags: Vec::new(),
                        }
                    }
                }
            }
            _ => ReadResponse {
                new_state: Some(prior.clone()),
                diags: Vec::new(),
            },
        }
    }

    async fn plan_change(&self, req: PlanRequest<'_>) -> PlanResponse {
        let Some(rs) = self.schema.resources.get(req.type_name) else {
            return crate::providers::sdk::plan_error(crate::providers::sdk::unsupported_resource(req.type_name));
        };
        let defaults: Vec<(&str, Value)> = if req.type_name == SSH_FILE {
            vec![("mode", Value::from("0644"))]
        } else {
            Vec::new()
        };
        let mut p = plan_by_schema(&rs.block, req.prior, req.config, &defaults);
        let mut diags = Vec::new();
        match req.type_name {
            SSH_FILE => {
                if let Some(m) = p
                    .planned
                    .get("mode")
                    .and_then(|m| m.as_str())
                    .and_then(norm_mode)
                {
                    p.planned.insert("mode".into(), Value::from(m));
                }
                match file_content(req.config) {
                    Ok(Some(b)) => {
                        p.planned
                            .insert("sha256".into(), Value::from(sha256_hex(&b)));
                    }
                    Ok(None) => {
                        p.planned
                            .insert("sha256".into(), Value::Unknown(Type::String));
                    }
                    Err(d) if req.config.is_wholly_known() => diags.push(d),
                    Err(_) => {
                        p.planned
                            .insert("sha256".into(), Value::Unknown(Type::String));
                    }
                }
                let rewritten = match req.prior {
                    None => true,
                    Some(pr) => [
                        "path",
                        "content",
                        "sensitive_content",
                        "source",
                        "sha256",
                        "mode",
                        "owner",
                        "group",
                    ]
                    .iter()
                    .any(|a| !value_eq(attr(pr, a), p.planned.get(*a).unwrap_or(&Value::NULL))),
                };
                if rewritten {
                    p.planned
                        .insert("revision".into(), Value::Unknown(Type::String));
                }
            }
            SSH_EXEC => {
                let check = !attr(req.config, "check").is_null();
                p.planned.insert(
                    "healthy".into(),
                    if check {
                        Value::Bool(true)
                    } else {
                        Value::Null(Type::Bool)
                    },
                );
                let planned = Value::Object(p.planned.clone());
                if req.prior.map(|pr| exec_rerun(pr, &planned)).unwrap_or(true) {
                    p.planned
                        .insert("stdout".into(), Value::Unknown(Type::String));
                }
            }
            _ => {}
        }
        let conn = attr(req.config, "connection");
        if conn.is_wholly_known() {
            if let Ok(c) = ConnInfo::from_value(conn) {
                let what = match req.type_name {
                    SSH_FILE => get_str(req.config, "path").unwrap_or("file").to_string(),
                    _ => "exec".to_string(),
                };
                p.planned.insert("id".into(), Value::from(id_of(&c, &what)));
                // A new host's key is learnt at apply.
                if recorded(req.prior, &c).is_none() {
                    p.planned
                        .insert("host_key_fingerprint".into(), Value::Unknown(Type::String));
                }
            }
        } else {
            p.planned.insert("id".into(), Value::Unknown(Type::String));
            p.planned
                .insert("host_key_fingerprint".into(), Value::Unknown(Type::String));
        }
        let mut r = p.into_response();
        r.diags = diags;
        r
    }

    async fn apply_change(&self, req: ApplyRequest<'_>) -> ApplyResponse {
        let addr = req.identity.address.clone();
        // Delete.
        let Some(planned) = req.planned else {
            let Some(prior) = req.prior else {
                return ApplyResponse {
                    new_state: None,
                    diags: Vec::new(),
                };
            };
            let c = match conn_of(prior) {
                Ok(c) => c,
                Err(d) => {
                    return ApplyResponse {
                        new_state: Some(prior.clone()),
                        diags: vec![d],
                    }
                }
            };
            let sec = secrets(&c);
            let rec = recorded(Some(prior), &c);
            let cmd = match req.type_name {
                SSH_FILE if get_bool(prior, "keep_on_destroy") != Some(true) => {
                    get_str(prior, "path").map(|p| format!("rm -f -- {}", shell_quote(p)))
                }
                SSH_EXEC => exec_script(prior, "destroy_commands"),
                _ => None,
            };
            let Some(cmd) = cmd else {
                return ApplyResponse {
                    new_state: None,
                    diags: Vec::new(),
                };
            };
            let (c2, cmd2, label, sec2) = (c.clone(), cmd.clone(), addr.clone(), sec.clone());
            let r = blocking(move || {
                with_host(&c2, rec.as_deref(), &label, |h| {
                    h.exec(&cmd2, None, &mut |_, l| {
                        crate::progress::line(&label, &redact(l, &sec2))
                    })
                })
            })
            .await;
            return match r {
                Err(e) => ApplyResponse {
                    new_state: Some(prior.clone()),
                    diags: vec![ssh_diag(&e, &sec)],
                },
                Ok((out, _)) if out.status != 0 => ApplyResponse {
                    new_state: Some(prior.clone()),
                    diags: vec![command_failed(&c.target.display(), &cmd, &out, &sec)],
                },
                Ok(_) => ApplyResponse {
                    new_state: None,
                    diags: Vec::new(),
                },
            };
        };
        let c = match conn_of(req.config) {
            Ok(c) => c,
            Err(d) => {
                return ApplyResponse {
                    new_state: req.prior.cloned(),
                    diags: vec![d],
                }
            }
        };
        let sec = secrets(&c);
        let rec = recorded(req.prior, &c);
        let mut m = object_map(planned);
        m.insert(
            "id".into(),
            Value::from(id_of(
                &c,
                &if req.type_name == SSH_FILE {
                    get_str(planned, "path").unwrap_or("file").to_string()
                } else {
                    "exec".into()
                },
            )),
        );
        match req.type_name {
            SSH_FILE => {
                let content = match file_content(req.config) {
                    Ok(Some(b)) => b,
                    Ok(None) => Vec::new(),
                    Err(d) => {
                        return ApplyResponse {
                            new_state: req.prior.cloned(),
                            diags: vec![d],
                        }
                    }
                };
                let path = get_str(planned, "path").unwrap_or_default().to_string();
                let mode = get_str(&Value::Object(m.clone()), "mode").map(|s| s.to_string());
                let (owner, group) = (
                    get_str(req.config, "owner").map(|s| s.to_string()),
                    get_str(req.config, "group").map(|s| s.to_string()),
                );
                let (c2, label, content2) = (c.clone(), addr.clone(), content.clone());
                let r = blocking(move || {
                    with_host(&c2, rec.as_deref(), &label, |h| {
                        h.upload(
                            &path,
                            &content2,
                            mode.as_deref(),
                            owner.as_deref(),
                            group.as_deref(),
                        )?;
                        let q = shell_quote(&path);
                        h.exec(&format!("stat -c '%U %G' -- {q}"), None, &mut |_, _| {})
                    })
                })
                .await;
                match r {
                    Err(e) => ApplyResponse {
                        new_state: req.prior.cloned(),
                        diags: vec![ssh_diag(&e, &sec)],
                    },
                    Ok((out, key)) => {
                        let f: Vec<&str> = out.stdout.split_whitespace().collect();
                        if let [owner, group] = f[..] {
                            m.insert("owner".into(), Value::from(owner));
                            m.insert("group".into(), Value::from(group));
                        }
                        m.insert("sha256".into(), Value::from(sha256_hex(&content)));
                        if !attr(planned, "revision").is_wholly_known()
                            || attr(planned, "revision").is_null()
                        {
                            m.insert(
                                "revision".into(),
                                Value::from(uuid::Uuid::new_v4().to_string()),
                            );
                        }
                        m.insert("host_key_fingerprint".into(), Value::from(key.fingerprint));
                        ApplyResponse {
                            new_state: Some(Value::Object(m)),
                            diags: Vec::new(),
                        }
                    }
                }
            }
            SSH_EXEC => {
                let rerun = req.prior.map(|p| exec_rerun(p, planned)).unwrap_or(true);
                let script = exec_script(req.config, "commands").unwrap_or_default();
                let check = get_str(req.config, "check").map(|s| s.to_string());
                let (c2, label, sec2, script2) =
                    (c.clone(), addr.clone(), sec.clone(), script.clone());
                let r = blocking(move || {
                    with_host(&c2, rec.as_deref(), &label, |h| {
                        let run = if rerun {
                            Some(h.exec("sh -s", Some(script2.as_bytes()), &mut |_, l| {
                                crate::progress::line(&label, &redact(l, &sec2))
                            })?)
                        } else {
                            None
                        };
                        let healthy = match (&check, run.as_ref().map(|o| o.status)) {
                            (Some(chk), None | Some(0)) => {
                                Some(h.exec(chk, None, &mut |_, _| {})?.status == 0)
                            }
                            _ => None,
                        };
                        Ok((run, healthy))
                    })
                })
                .await;
                match r {
                    Err(e) => ApplyResponse {
                        new_state: req.prior.cloned(),
                        diags: vec![ssh_diag(&e, &sec)],
                    },
                    Ok(((Some(out), _), key)) if out.status != 0 => {
                        // The commands ran partly: the object exists, and is tainted by the engine.
                        m.insert("stdout".into(), Value::from(redact(&out.stdout, &sec)));
                        m.insert("host_key_fingerprint".into(), Value::from(key.fingerprint));
                        ApplyResponse {
                            new_state: Some(Value::Object(m)),
                            diags: vec![command_failed(&c.target.display(), &script, &out, &sec)],
                        }
                    }
                    Ok(((run, healthy), key)) => {
                        let mut diags = Vec::new();
                        if let Some(out) = run {
                            m.insert("stdout".into(), Value::from(redact(&out.stdout, &sec)));
                        } else if let Some(p) = req.prior {
                            m.insert("stdout".into(), attr(p, "stdout").clone());
                        }
                        if let Some(h) = healthy {
                            m.insert("healthy".into(), Value::Bool(h));
                            if !h {
                                diags.push(ProviderDiag::error("Check still failing", format!("The commands ran, but the check `{}` still fails on {}.", get_str(req.config, "check").unwrap_or_default(), c.target.display())).at(attr_path(&["check"])));
                            }
                        }
                        m.insert("host_key_fingerprint".into(), Value::from(key.fingerprint));
                        ApplyResponse {
                            new_state: Some(Value::Object(m)),
                            diags,
                        }
                    }
                }
            }
            other => ApplyResponse {
                new_state: None,
                diags: vec![crate::providers::sdk::unsupported_resource(other)],
            },
        }
    }

    async fn read_data(&self, type_name: &str, config: &Value) -> ReadResponse {
        if type_name != SSH_HOST {
            return ReadResponse {
                new_state: None,
                diags: vec![ProviderDiag::error(
                    "Unsupported data source",
                    format!("No data source {type_name}."),
                )],
            };
        }
        let c = match conn_of(config) {
            Ok(c) => c,
            Err(d) => {
                return ReadResponse {
                    new_state: None,
                    diags: vec![d],
                }
            }
        };
        let sec = secrets(&c);
        let label = format!("data.{SSH_HOST} ({})", c.target.display());
        let c2 = c.clone();
        let cmd = "uname -n; uname -r; uname -m; cat /etc/os-release 2>/dev/null || true";
        let r =
            blocking(move || with_host(&c2, None, &label, |h| h.exec(cmd, None, &mut |_, _| {})))
                .await;
        match r {
            Err(e) => ReadResponse {
                new_state: None,
                diags: vec![ssh_diag(&e, &sec)],
            },
            Ok((out, key)) => {
                let mut lines = out.stdout.lines();
                let mut m = object_map(config);
                for k in ["hostname", "kernel", "arch"] {
                    m.insert(
                        k.into(),
                        Value::from(lines.next().unwrap_or_default().trim()),
                    );
                }
                let mut osr = BTreeMap::new();
                for l in lines {
                    if let Some((k, v)) = l.split_once('=') {
                        osr.insert(
                            k.trim().to_string(),
                            Value::from(v.trim().trim_matches('"')),
                        );
                    }
                }
                m.insert(
                    "os_id".into(),
                    osr.get("ID").cloned().unwrap_or(Value::Null(Type::String)),
                );
                m.insert(
                    "os_version".into(),
                    osr.get("VERSION_ID")
                        .cloned()
                        .unwrap_or(Value::Null(Type::String)),
                );
                m.insert("os_release".into(), Value::Map(osr));
                m.insert("id".into(), Value::from(c.target.display()));
                m.insert("host_key_fingerprint".into(), Value::from(key.fingerprint));
                ReadResponse {
                    new_state: Some(Value::Object(m)),
                    diags: Vec::new(),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_normalise() {
        assert_eq!(norm_mode("644").as_deref(), Some("0644"));
        assert_eq!(norm_mode("0755").as_deref(), Some("0755"));
        assert_eq!(norm_mode("rw"), None);
        assert_eq!(norm_mode("99999"), None);
    }

    #[test]
    fn secrets_are_redacted() {
        let c = ConnInfo::from_value(&Value::object([
            ("host", Value::from("h")),
            ("password", Value::from("hunter2hunter2")),
        ]))
        .expect("conn");
        let s = secrets(&c);
        assert_eq!(
            redact("login with hunter2hunter2 failed", &s),
            "login with (sensitive value) failed"
        );
    }

    #[test]
    fn exec_reruns_on_trigger_change_or_failed_check() {
        let a = Value::object([
            ("commands", Value::List(vec![Value::from("x")])),
            (
                "triggers",
                Value::Map([("v".to_string(), Value::from("1"))].into()),
            ),
        ]);
        let b = Value::object([
            ("commands", Value::List(vec![Value::from("x")])),
            (
                "triggers",
                Value::Map([("v".to_string(), Value::from("2"))].into()),
            ),
        ]);
        assert!(!exec_rerun(&a, &a));
        assert!(exec_rerun(&a, &b));
        let mut sick = object_map(&a);
        sick.insert("healthy".into(), Value::Bool(false));
        assert!(exec_rerun(&Value::Object(sick), &a));
    }
}
