//! Terraform's provisioners: `file`, `remote-exec` and `local-exec`, run after a resource
//! instance is created (and, with `when = destroy`, before it is destroyed).
//!
//! Owns the schema of each provisioner's body, evaluating a resource's provisioners and
//! connection blocks against a scope the engine supplies (`prepare`), and running them
//! (`run`), streaming their output to `crate::progress` as `ADDR (KIND): line`. The
//! engine owns when they run and what a failure means for the state (a failed
//! creation-time provisioner taints the instance). SSH sessions come from `crate::ssh`.
//!
//! Secrets: when a provisioner's configuration contains a sensitive value its output and
//! its command are not shown (Terraform's rule); connection passwords and keys are removed
//! from every line and message.

use std::path::{Path, PathBuf};

use crate::config::{Body, Provisioner};
use crate::diag::{Diagnostic, Diagnostics, Span};
use crate::engine::eval::decode_body;
use crate::lang::eval::Scope;
use crate::lang::value::{Type, Value};
use crate::providers::{AttributeSchema, BlockSchema};
use crate::ssh::conn::connection_schema;
use crate::ssh::pool::{with_host, ExecOutput, OpError};
use crate::ssh::{ConnInfo, SshError};

/// The provisioners terrane runs.
pub const KINDS: &[&str] = &["file", "remote-exec", "local-exec"];

/// The schema of a provisioner's body (without `when`, `on_failure` and `connection`).
pub fn schema(kind: &str) -> Option<BlockSchema> {
    let s = || AttributeSchema::optional(Type::String);
    let list = || AttributeSchema::optional(Type::list(Type::String));
    Some(match kind {
        "file" => BlockSchema::new()
            .attr("source", s())
            .attr("content", s())
            .attr("destination", AttributeSchema::required(Type::String)),
        "remote-exec" => BlockSchema::new()
            .attr("inline", list())
            .attr("script", s())
            .attr("scripts", list()),
        "local-exec" => BlockSchema::new()
            .attr("command", AttributeSchema::required(Type::String))
            .attr("working_dir", s())
            .attr("interpreter", list())
            .attr(
                "environment",
                AttributeSchema::optional(Type::map(Type::String)),
            )
            .attr("quiet", AttributeSchema::optional(Type::Bool)),
        _ => return None,
    })
}

/// A provisioner evaluated and ready to run.
pub struct Prepared {
    pub kind: String,
    pub config: Value,
    pub conn: Option<ConnInfo>,
    pub on_failure_continue: bool,
    pub span: Span,
}

/// Checks the kinds and arguments of a resource's provisioners (validate and plan).
pub fn check(
    provisioners: &[Provisioner],
    resource_conn: Option<&Body>,
    scope: &dyn Scope,
) -> Diagnostics {
    let mut diags = Diagnostics::new();
    for p in provisioners {
        match schema(&p.kind) {
            None => diags.push(
                Diagnostic::error("Unsupported provisioner", format!("terrane has no provisioner \"{}\".", p.kind))
                    .with_span(p.span.clone())
                    .with_help(format!("The provisioners are {}; the `ssh_file` and `ssh_exec` resources configure hosts idempotently.", KINDS.join(", "))),
            ),
            Some(s) => {
                decode_body(&p.body, &s, scope, &[], &p.span, &format!("a provisioner \"{}\" block", p.kind), &mut diags);
                if let Some(c) = p.connection.as_ref().or(resource_conn) {
                    decode_body(c, &connection_schema(), scope, &[], &p.span, "a connection block", &mut diags);
                }
            }
        }
    }
    diags
}

/// Evaluates the provisioners that run at creation (`destroy` false) or destruction,
/// with `scope` answering `self`. A provisioner's own connection block replaces the
/// resource's.
pub fn prepare(
    provisioners: &[Provisioner],
    resource_conn: Option<&Body>,
    scope: &dyn Scope,
    destroy: bool,
) -> (Vec<Prepared>, Diagnostics) {
    let mut diags = Diagnostics::new();
    let mut out = Vec::new();
    for p in provisioners.iter().filter(|p| p.when_destroy == destroy) {
        let Some(s) = schema(&p.kind) else { continue };
        let mut d = Diagnostics::new();
        let config = decode_body(
            &p.body,
            &s,
            scope,
            &[],
            &p.span,
            &format!("a provisioner \"{}\" block", p.kind),
            &mut d,
        );
        let conn = if p.kind == "local-exec" {
            None
        } else {
            match p.connection.as_ref().or(resource_conn) {
                None => {
                    d.push(
                        Diagnostic::error("Missing connection configuration", format!("The provisioner \"{}\" needs a connection block, in the provisioner or in its resource.", p.kind))
                            .with_span(p.span.clone())
                            .with_help("Add `connection { host = self.public_ip, user = \"...\", private_key = file(\"...\") }` to the resource."),
                    );
                    None
                }
                Some(c) => {
                    let v = decode_body(
                        c,
                        &connection_schema(),
                        scope,
                        &[],
                        &p.span,
                        "a connection block",
                        &mut d,
                    );
                    if d.has_errors() {
                        None
                    } else {
                        match ConnInfo::from_value(&v) {
                            Ok(ci) => Some(ci),
                            Err(m) => {
                                d.push(
                                    Diagnostic::error("Invalid connection settings", m)
                                        .with_span(p.span.clone()),
                                );
                                None
                            }
                        }
                    }
                }
            }
        };
        if !config.is_wholly_known() && !d.has_errors() {
            d.push(Diagnostic::error("Provisioner configuration not known", format!("The provisioner \"{}\" refers to values that are still unknown after the resource was created.", p.kind)).with_span(p.span.clone()));
        }
        let bad = d.has_errors();
        diags.extend(d);
        if !bad {
            out.push(Prepared {
                kind: p.kind.clone(),
                config,
                conn,
                on_failure_continue: p.on_failure_continue,
                span: p.span.clone(),
            });
        }
    }
    (out, diags)
}

/// Runs prepared provisioners in order for the instance `addr`. Returns the diagnostics:
/// an error stops the rest unless the failing one has `on_failure = continue`, whose
/// failure is a warning.
pub async fn run(addr: &str, list: Vec<Prepared>) -> Diagnostics {
    let mut diags = Diagnostics::new();
    for p in list {
        let label = format!("{addr} ({})", p.kind);
        crate::progress::line(addr, &format!("Provisioning with '{}'...", p.kind));
        let quiet = p.config.contains_sensitive()
            || p.config.get_attr("quiet").and_then(|q| q.as_bool()) == Some(true);
        let hidden = p.config.contains_sensitive();
        if hidden {
            crate::progress::line(
                &label,
                "(output suppressed due to sensitive value in config)",
            );
        }
        let config = p.config.clone().deep_unmark();
        let result = match p.kind.as_str() {
            "local-exec" => local_exec(&label, &config, quiet).await,
            kind => {
                let Some(conn) = p.conn.clone() else { continue };
                let secrets = conn_secrets(&conn);
                let kind = kind.to_string();
                let label2 = label.clone();
                let r = tokio::task::spawn_blocking(move || {
                    remote(&kind, &label2, &config, &conn, quiet)
                })
                .await;
                match r {
                    Ok(r) => r.map_err(|f| f.redacted(&secrets)),
                    Err(e) => Err(Failure {
                        summary: "Provisioner failed".into(),
                        detail: format!("The provisioner task failed: {e}"),
                        help: None,
                    }),
                }
            }
        };
        if let Err(f) = result {
            let detail = if hidden {
                format!("{addr}: the provisioner failed; its details are hidden because its configuration contains sensitive values.")
            } else {
                format!("{addr}: {}", f.detail)
            };
            if p.on_failure_continue {
                diags.push(
                    Diagnostic::warning(
                        format!("{} (continuing: on_failure = continue)", f.summary),
                        detail,
                    )
                    .with_span(p.span.clone()),
                );
                continue;
            }
            let mut d = Diagnostic::error(f.summary, detail).with_span(p.span.clone());
            d = d.with_help(f.help.unwrap_or_else(|| "Fix the cause and apply again: the instance is tainted and will be replaced. Add `on_failure = continue` to the provisioner to ignore failures.".into()));
            diags.push(d);
            break;
        }
    }
    diags
}

/// Why a provisioner failed.
#[derive(Debug)]
struct Failure {
    summary: String,
    detail: String,
    help: Option<String>,
}

impl Failure {
    fn redacted(mut self, secrets: &[String]) -> Failure {
        for s in secrets {
            self.detail = self.detail.replace(s.as_str(), "(sensitive value)");
        }
        self
    }
    fn ssh(e: SshError) -> Failure {
        Failure {
            summary: e.summary().to_string(),
            detail: e.to_string(),
            help: e.help().map(|h| h.to_string()),
        }
    }
    fn command(what: &str, out_status: i32, tail: &[String]) -> Failure {
        let mut detail = format!("{what} exited with status {out_status}.");
        if !tail.is_empty() {
            detail.push_str("\nLast lines of its output:\n");
            for l in tail {
                detail.push_str(&format!("  {l}\n"));
            }
        }
        Failure {
            summary: "Provisioner command failed".into(),
            detail,
            help: None,
        }
    }
}

fn conn_secrets(c: &ConnInfo) -> Vec<String> {
    let mut v: Vec<String> = std::iter::once(&c.target)
        .chain(c.bastion.iter())
        .flat_map(|e| e.password.iter().chain(e.private_key.iter()).cloned())
        .filter(|s| !s.is_empty())
        .collect();
    v.sort_by_key(|s| std::cmp::Reverse(s.len()));
    v
}

fn strs(v: &Value, name: &str) -> Vec<String> {
    v.get_attr(name)
        .and_then(|l| l.as_seq())
        .map(|l| {
            l.iter()
                .filter_map(|x| x.as_str().map(|s| s.to_string()))
                .collect()
        })
        .unwrap_or_default()
}

fn str_of<'a>(v: &'a Value, name: &str) -> Option<&'a str> {
    v.get_attr(name).and_then(|x| x.as_str())
}

/// `file` and `remote-exec` (blocking: runs on the blocking pool).
fn remote(
    kind: &str,
    label: &str,
    config: &Value,
    conn: &ConnInfo,
    quiet: bool,
) -> Result<(), Failure> {
    let secrets = conn_secrets(conn);
    let emit = |line: &str| {
        if !quiet {
            let mut l = line.to_string();
            for s in &secrets {
                l = l.replace(s.as_str(), "(sensitive value)");
            }
            crate::progress::line(label, &l);
        }
    };
    match kind {
        "file" => {
            let dest = str_of(config, "destination")
                .unwrap_or_default()
                .to_string();
            let uploads = file_uploads(config, &dest)?;
            let r = with_host(conn, None, label, |h| {
                for (remote_path, bytes) in &uploads {
                    h.upload(remote_path, bytes, None, None, None)?;
                }
                Ok(())
            });
            r.map(|_| ()).map_err(Failure::ssh)
        }
        "remote-exec" => {
            let mut scripts: Vec<(String, String)> = Vec::new();
            let inline = strs(config, "inline");
            if !inline.is_empty() {
                scripts.push((
                    "the inline commands".into(),
                    format!("{}\n", inline.join("\n")),
                ));
            }
            let files: Vec<String> = str_of(config, "script")
                .map(|s| vec![s.to_string()])
                .unwrap_or_else(|| strs(config, "scripts"));
            for f in files {
                let text = std::fs::read_to_string(&f).map_err(|e| Failure {
                    summary: "Cannot read provisioner script".into(),
                    detail: format!("Cannot read {f}: {e}."),
                    help: None,
                })?;
                scripts.push((format!("the script {f}"), text));
            }
            if scripts.is_empty() {
                return Err(Failure {
                    summary: "Nothing to run".into(),
                    detail: "The remote-exec provisioner needs `inline`, `script` or `scripts`."
                        .into(),
                    help: None,
                });
            }
            for (what, text) in scripts {
                let path = conn
                    .script_path
                    .replace("%RAND%", &format!("{}", rand::random::<u32>()));
                let q = crate::ssh::shell_quote(&path);
                let r = with_host(conn, None, label, |h| {
                    h.upload(&path, text.as_bytes(), Some("0700"), None, None)?;
                    let out = h.exec(
                        &format!("{q}; rc=$?; rm -f -- {q}; exit $rc"),
                        None,
                        &mut |_, l| emit(l),
                    )?;
                    Ok::<ExecOutput, OpError>(out)
                });
                let (out, _) = r.map_err(Failure::ssh)?;
                if out.status != 0 {
                    let what = if what == "the inline commands" {
                        format!("The inline commands\n  {}\n", inline.join("\n  "))
                    } else {
                        what
                    };
                    return Err(Failure::command(&what, out.status, &out.tail));
                }
            }
            Ok(())
        }
        other => Err(Failure {
            summary: "Unsupported provisioner".into(),
            detail: format!("No provisioner {other}."),
            help: None,
        }),
    }
}

/// The files a `file` provisioner uploads: `content`, a single file, or a directory
/// (Terraform's rule: `dir/` uploads its contents into the destination, `dir` uploads
/// the directory itself).
fn file_uploads(config: &Value, dest: &str) -> Result<Vec<(String, Vec<u8>)>, Failure> {
    if let Some(c) = str_of(config, "content") {
        return Ok(vec![(dest.to_string(), c.as_bytes().to_vec())]);
    }
    let Some(src) = str_of(config, "source") else {
        return Err(Failure {
            summary: "Nothing to upload".into(),
            detail: "The file provisioner needs `source` or `content`.".into(),
            help: None,
        });
    };
    let read_err = |p: &Path, e: std::io::Error| Failure {
        summary: "Cannot read file to upload".into(),
        detail: format!("Cannot read {}: {e}.", p.display()),
        help: None,
    };
    let sp = PathBuf::from(src);
    if !sp.is_dir() {
        let bytes = std::fs::read(&sp).map_err(|e| read_err(&sp, e))?;
        return Ok(vec![(dest.to_string(), bytes)]);
    }
    let base = if src.ends_with('/') {
        dest.trim_end_matches('/').to_string()
    } else {
        format!(
            "{}/{}",
            dest.trim_end_matches('/'),
            sp.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        )
    };
    let mut out = Vec::new();
    let mut stack = vec![(sp.clone(), base)];
    while let Some((dir, remote)) = stack.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|e| read_err(&dir, e))?;
        for e in entries {
            let e = e.map_err(|err| read_err(&dir, err))?;
            let p = e.path();
            let r = format!("{remote}/{}", e.file_name().to_string_lossy());
            if p.is_dir() {
                stack.push((p, r));
            } else {
                let bytes = std::fs::read(&p).map_err(|err| read_err(&p, err))?;
                out.push((r, bytes));
            }
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

/// `local-exec`: the command through the interpreter (default `/bin/sh -c`).
async fn local_exec(label: &str, config: &Value, quiet: bool) -> Result<(), Failure> {
    use tokio::io::{AsyncBufReadExt, BufReader};
    let command = str_of(config, "command").unwrap_or_default().to_string();
    let mut interp = strs(config, "interpreter");
    if interp.is_empty() {
        interp = vec!["/bin/sh".into(), "-c".into()];
    }
    let mut cmd = tokio::process::Command::new(&interp[0]);
    cmd.args(&interp[1..])
        .arg(&command)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    if let Some(wd) = str_of(config, "working_dir") {
        cmd.current_dir(wd);
    }
    if let Some(env) = config.get_attr("environment").and_then(|e| e.as_map()) {
        for (k, v) in env {
            if let Some(s) = v.as_str() {
                cmd.env(k, s);
            }
        }
    }
    let mut child = cmd.spawn().map_err(|e| Failure {
        summary: "Cannot run local-exec command".into(),
        detail: format!("Starting {} failed: {e}.", interp[0]),
        help: None,
    })?;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    let out = child.stdout.take().map(|s| {
        let tx = tx.clone();
        tokio::spawn(async move {
            let mut l = BufReader::new(s).lines();
            while let Ok(Some(line)) = l.next_line().await {
                let _ = tx.send(line);
            }
        })
    });
    let err = child.stderr.take().map(|s| {
        let tx = tx.clone();
        tokio::spawn(async move {
            let mut l = BufReader::new(s).lines();
            while let Ok(Some(line)) = l.next_line().await {
                let _ = tx.send(line);
            }
        })
    });
    drop(tx);
    let mut tail: Vec<String> = Vec::new();
    while let Some(line) = rx.recv().await {
        if !quiet {
            crate::progress::line(label, &line);
        }
        tail.push(line);
        if tail.len() > crate::ssh::pool::TAIL_LINES {
            tail.remove(0);
        }
    }
    for h in [out, err].into_iter().flatten() {
        let _ = h.await;
    }
    let status = child.wait().await.map_err(|e| Failure {
        summary: "local-exec failed".into(),
        detail: e.to_string(),
        help: None,
    })?;
    if !status.success() {
        let code = status.code().unwrap_or(-1);
        return Err(Failure::command(
            &format!("The command\n  {command}\n"),
            code,
            &tail,
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directory_uploads_follow_the_trailing_slash_rule() {
        let d = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(d.path().join("site/css")).expect("mkdir");
        std::fs::write(d.path().join("site/index.html"), "i").expect("write");
        std::fs::write(d.path().join("site/css/a.css"), "a").expect("write");
        let src = d.path().join("site");
        let with = Value::object([("source", Value::from(format!("{}/", src.display())))]);
        let paths: Vec<String> = file_uploads(&with, "/var/www")
            .expect("uploads")
            .into_iter()
            .map(|(p, _)| p)
            .collect();
        assert_eq!(paths, vec!["/var/www/css/a.css", "/var/www/index.html"]);
        let without = Value::object([("source", Value::from(src.display().to_string()))]);
        let paths: Vec<String> = file_uploads(&without, "/var/www")
            .expect("uploads")
            .into_iter()
            .map(|(p, _)| p)
            .collect();
        assert_eq!(
            paths,
            vec!["/var/www/site/css/a.css", "/var/www/site/index.html"]
        );
    }

    #[tokio::test]
    async fn local_exec_failure_names_command_and_status() {
        let cfg = Value::object([(
            "command",
            Value::from("echo first; echo second >&2; exit 4"),
        )]);
        let f = local_exec("x (local-exec)", &cfg, true)
            .await
            .err()
            .expect("fails");
        assert!(
            f.detail.contains("exit 4") && f.detail.contains("status 4"),
            "{}",
            f.detail
        );
        assert!(
            f.detail.contains("first") && f.detail.contains("second"),
            "{}",
            f.detail
        );
        let ok = Value::object([
            ("command", Value::from("test \"$GREETING\" = hi")),
            (
                "environment",
                Value::Map([("GREETING".to_string(), Value::from("hi"))].into()),
            ),
        ]);
        assert!(local_exec("x", &ok, true).await.is_ok());
    }
}
