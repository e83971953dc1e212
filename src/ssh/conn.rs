//! Connection settings: the schema of a `connection` block (Terraform's SSH arguments,
//! plus `known_hosts_file`) and their decoding from the evaluated block.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use crate::lang::value::{Type, Value};
use crate::providers::{AttributeSchema, BlockSchema};

/// The default `timeout`: how long to keep trying while a host boots.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);

/// The schema of a `connection` block, for provisioners and the `ssh_*` resources alike.
pub fn connection_schema() -> BlockSchema {
    let s = |d: &str| AttributeSchema::optional(Type::String).describe(d);
    BlockSchema::new()
        .attr("type", s("The connection type; only \"ssh\" is supported."))
        .attr("host", AttributeSchema::required(Type::String).describe("The address of the host to connect to."))
        .attr("port", AttributeSchema::optional(Type::Number).describe("The SSH port (default 22)."))
        .attr("user", s("The user to log in as (default root)."))
        .attr("password", s("A password for password authentication.").sensitive())
        .attr("private_key", s("The contents of an SSH private key (for example `file(\"~/.ssh/id_ed25519\")`).").sensitive())
        .attr("certificate", s("Not supported: an SSH certificate."))
        .attr("agent", AttributeSchema::optional(Type::Bool).describe("Use ssh-agent (SSH_AUTH_SOCK) to authenticate (default true when no private_key is given)."))
        .attr("agent_identity", s("The agent identity (public key comment) to use."))
        .attr("host_key", s("The host's public key (`ssh-ed25519 AAAA...`) or its fingerprint (`SHA256:...`): pins it."))
        .attr("known_hosts_file", s("A known_hosts file to honour (default ~/.ssh/known_hosts)."))
        .attr("target_platform", s("The target platform; only \"unix\" is supported."))
        .attr("timeout", s("How long to keep trying to connect, like \"30s\" or \"5m\" (default 5m)."))
        .attr("script_path", s("Where remote-exec uploads its script (default /tmp/terraform_%RAND%.sh)."))
        .attr("bastion_host", s("A jump host to connect through."))
        .attr("bastion_host_key", s("The bastion's public key or fingerprint."))
        .attr("bastion_port", AttributeSchema::optional(Type::Number).describe("The bastion's SSH port (default: port)."))
        .attr("bastion_user", s("The user on the bastion (default: user)."))
        .attr("bastion_password", s("The bastion password (default: password).").sensitive())
        .attr("bastion_private_key", s("The bastion private key (default: private_key).").sensitive())
}

/// One SSH endpoint: where to connect, as whom, with which credentials.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Endpoint {
    pub host: String,
    pub port: u16,
    pub user: String,
    pub password: Option<String>,
    pub private_key: Option<String>,
    pub agent: bool,
    pub agent_identity: Option<String>,
    pub host_key: Option<String>,
}

impl Endpoint {
    /// `user@host:port`, for messages.
    pub fn display(&self) -> String {
        format!("{}@{}:{}", self.user, self.host, self.port)
    }
}

// Secrets stay out of debug output.
impl fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Endpoint")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "<sensitive>"))
            .field(
                "private_key",
                &self.private_key.as_ref().map(|_| "<sensitive>"),
            )
            .field("agent", &self.agent)
            .field("host_key", &self.host_key)
            .finish()
    }
}

/// A decoded `connection` block.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ConnInfo {
    pub target: Endpoint,
    pub bastion: Option<Endpoint>,
    pub known_hosts_file: Option<PathBuf>,
    pub timeout: Duration,
    pub script_path: String,
}

fn str_attr(v: &Value, name: &str) -> Option<String> {
    v.get_attr(name)
        .and_then(|x| x.as_str())
        .map(|s| s.to_string())
        .filter(|s| !s.is_empty())
}

fn port_attr(v: &Value, name: &str) -> Result<Option<u16>, String> {
    let Some(x) = v.get_attr(name).filter(|x| !x.is_null()) else {
        return Ok(None);
    };
    let n = x
        .as_number()
        .and_then(|n| n.as_i64())
        .or_else(|| x.as_str().and_then(|s| s.parse().ok()));
    match n.and_then(|n| u16::try_from(n).ok()) {
        Some(p) if p > 0 => Ok(Some(p)),
        _ => Err(format!(
            "The argument \"{name}\" must be a port number between 1 and 65535."
        )),
    }
}

/// Parses Go-style durations as Terraform writes them: "30s", "5m", "1h30m", "500ms".
pub fn parse_duration(s: &str) -> Option<Duration> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    let mut total = 0f64;
    let mut rest = s;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if num_len == 0 {
            return None;
        }
        let n: f64 = rest[..num_len].parse().ok()?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let factor = match &rest[..unit_len] {
            "ms" => 0.001,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return None,
        };
        rest = &rest[unit_len..];
        total += n * factor;
    }
    Some(Duration::from_secs_f64(total))
}

impl ConnInfo {
    /// Decodes an evaluated `connection` block (marks ignored). Errors are messages for
    /// a diagnostic; they never quote secret values.
    pub fn from_value(v: &Value) -> Result<ConnInfo, String> {
        let v = v.clone().deep_unmark();
        if let Some(t) = str_attr(&v, "type") {
            if t != "ssh" {
                return Err(format!("The connection type \"{t}\" is not supported: terrane connects over \"ssh\" only."));
            }
        }
        if let Some(t) = str_attr(&v, "target_platform") {
            if t != "unix" {
                return Err(format!("The target platform \"{t}\" is not supported: terrane configures \"unix\" hosts only."));
            }
        }
        if str_attr(&v, "certificate").is_some() {
            return Err(
                "SSH certificates are not supported yet; use `private_key` or the agent.".into(),
            );
        }
        let host = str_attr(&v, "host").ok_or("The connection block needs a `host`.")?;
        let port = port_attr(&v, "port")?.unwrap_or(22);
        let user = str_attr(&v, "user").unwrap_or_else(|| "root".to_string());
        let password = str_attr(&v, "password");
        let private_key = str_attr(&v, "private_key");
        let agent = match v.get_attr("agent").and_then(|a| a.as_bool()) {
            Some(a) => a,
            None => private_key.is_none(),
        };
        let target = Endpoint {
            host,
            port,
            user,
            password,
            private_key,
            agent,
            agent_identity: str_attr(&v, "agent_identity"),
            host_key: str_attr(&v, "host_key"),
        };
        let bastion = str_attr(&v, "bastion_host").map(|bh| {
            let private_key =
                str_attr(&v, "bastion_private_key").or_else(|| target.private_key.clone());
            Ok::<_, String>(Endpoint {
                host: bh,
                port: port_attr(&v, "bastion_port")?.unwrap_or(target.port),
                user: str_attr(&v, "bastion_user").unwrap_or_else(|| target.user.clone()),
                password: str_attr(&v, "bastion_password").or_else(|| target.password.clone()),
                agent: target.agent || private_key.is_none(),
                private_key,
                agent_identity: target.agent_identity.clone(),
                host_key: str_attr(&v, "bastion_host_key"),
            })
        });
        let bastion = bastion.transpose()?;
        let timeout = match str_attr(&v, "timeout") {
            Some(t) => parse_duration(&t).ok_or_else(|| {
                format!("The timeout \"{t}\" is not a duration like \"30s\", \"5m\" or \"1h\".")
            })?,
            None => DEFAULT_TIMEOUT,
        };
        let known_hosts_file = match str_attr(&v, "known_hosts_file") {
            Some(p) => Some(expand_home(&p)),
            None => std::env::var_os("HOME")
                .map(|h| PathBuf::from(h).join(".ssh/known_hosts"))
                .filter(|p| p.exists()),
        };
        Ok(ConnInfo {
            target,
            bastion,
            known_hosts_file,
            timeout,
            script_path: str_attr(&v, "script_path")
                .unwrap_or_else(|| "/tmp/terraform_%RAND%.sh".into()),
        })
    }
}

fn expand_home(p: &str) -> PathBuf {
    match (p.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(h)) => PathBuf::from(h).join(rest),
        _ => PathBuf::from(p),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_in_go_syntax() {
        assert_eq!(parse_duration("5m"), Some(Duration::from_secs(300)));
        assert_eq!(parse_duration("1h30m"), Some(Duration::from_secs(5400)));
        assert_eq!(parse_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_duration("1.5s"), Some(Duration::from_millis(1500)));
        assert_eq!(parse_duration("5"), None);
        assert_eq!(parse_duration("m"), None);
        assert_eq!(parse_duration("5x"), None);
    }

    #[test]
    fn defaults_and_bastion_inheritance() {
        let v = Value::object([
            ("host", Value::from("10.0.0.5")),
            ("private_key", Value::from("KEY").mark_sensitive()),
            ("bastion_host", Value::from("jump")),
        ]);
        let c = ConnInfo::from_value(&v).expect("decodes");
        assert_eq!(c.target.port, 22);
        assert_eq!(c.target.user, "root");
        assert!(!c.target.agent);
        assert_eq!(c.timeout, DEFAULT_TIMEOUT);
        let b = c.bastion.clone().expect("bastion");
        assert_eq!(
            (b.host.as_str(), b.port, b.user.as_str()),
            ("jump", 22, "root")
        );
        assert_eq!(b.private_key.as_deref(), Some("KEY"));
        // Debug output never shows the key.
        assert!(!format!("{c:?}").contains("KEY"));
    }

    #[test]
    fn bad_settings_are_messages() {
        let v = Value::object([("host", Value::from("h")), ("type", Value::from("winrm"))]);
        assert!(ConnInfo::from_value(&v).unwrap_err().contains("winrm"));
        let v = Value::object([("host", Value::from("h")), ("port", Value::int(70000))]);
        assert!(ConnInfo::from_value(&v).is_err());
        let v = Value::object([("host", Value::from("h")), ("timeout", Value::from("soon"))]);
        assert!(ConnInfo::from_value(&v).unwrap_err().contains("soon"));
    }
}
