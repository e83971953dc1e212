//! SSH sessions to configured hosts, on the `ssh2` crate (libssh2): what provisioners
//! (`provision`) and the `ssh` provider (`providers::ssh`) share.
//!
//! Owns the connection settings decoded from a `connection` block (`ConnInfo`), connecting
//! with retries until the timeout while a host boots, host key verification (a pinned
//! `host_key`, `known_hosts`, or trust on first use against a fingerprint the caller
//! recorded), authentication (private key, agent, password), bastions through
//! `direct-tcpip` channels, one reused session per host within a run (`pool`), and the
//! operations run on a host (`Host::exec`, `Host::upload`). It never decides when to run
//! anything: the engine and the provider do.
//!
//! ssh2 is blocking: callers run these functions on tokio's blocking pool
//! (`tokio::task::spawn_blocking`). Secrets (private keys, passwords) never appear in
//! `Debug` output or error messages.

pub mod bastion;
pub mod conn;
pub mod hostkey;
pub mod pool;

pub use conn::{ConnInfo, Endpoint};
pub use hostkey::{fingerprint, HostKeyCheck};
pub use pool::{connect, Host};

use std::fmt;

/// Why an SSH operation failed. Messages never contain secrets.
#[derive(Debug, Clone)]
pub enum SshError {
    /// The host presented a key that differs from the trusted one: never retried.
    HostKeyMismatch {
        host: String,
        expected: String,
        actual: String,
        source: String,
    },
    /// Gave up waiting for the host (connect, handshake or authentication kept failing).
    Timeout {
        what: String,
        last: String,
        secs: u64,
    },
    /// Connection settings that cannot work (no host, unreadable key, ...).
    Config(String),
    /// A failure talking to a connected host.
    Session(String),
}

impl fmt::Display for SshError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SshError::HostKeyMismatch { host, expected, actual, source } => write!(
                f,
                "The host key of {host} has changed: expected {expected} ({source}), but the host presented {actual}. This can mean the host was rebuilt, or that someone is intercepting the connection."
            ),
            SshError::Timeout { what, last, secs } => write!(f, "Timed out after {secs}s waiting for {what}. Last error: {last}"),
            SshError::Config(m) | SshError::Session(m) => f.write_str(m),
        }
    }
}

impl SshError {
    pub fn summary(&self) -> &'static str {
        match self {
            SshError::HostKeyMismatch { .. } => "SSH host key mismatch",
            SshError::Timeout { .. } => "Timeout waiting for SSH",
            SshError::Config(_) => "Invalid SSH connection settings",
            SshError::Session(_) => "SSH error",
        }
    }
    /// A fix, when one is known.
    pub fn help(&self) -> Option<&'static str> {
        match self {
            SshError::HostKeyMismatch { .. } => Some("If the host was rebuilt on purpose, set `host_key` in the connection block to its new key (or fingerprint), or replace the resource (`-replace=ADDR`) so that the new key is trusted."),
            SshError::Timeout { .. } => Some("Check that the host is up, that the port is reachable and that the user and key are right; raise `timeout` in the connection block for hosts that boot slowly."),
            _ => None,
        }
    }
}

/// Quotes a string for a POSIX shell.
pub fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_survives_single_quotes() {
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
    }
}
