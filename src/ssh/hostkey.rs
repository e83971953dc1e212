//! Host key verification. In order: a pinned `host_key` (a public key line or a
//! `SHA256:` fingerprint) must match; else an entry in the known_hosts file must match
//! when there is one; else the fingerprint the caller recorded on first use (in the
//! state) must match; else the key is trusted on first use and the caller records it.
//! A mismatch is never retried and names both fingerprints.

use std::path::Path;

use base64::Engine as _;
use sha2::Digest as _;

use super::SshError;

/// OpenSSH's fingerprint of a public key blob: `SHA256:` and unpadded base64.
pub fn fingerprint(blob: &[u8]) -> String {
    let digest = sha2::Sha256::digest(blob);
    format!(
        "SHA256:{}",
        base64::engine::general_purpose::STANDARD_NO_PAD.encode(digest)
    )
}

/// How a host key came to be trusted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trust {
    Pinned,
    KnownHosts,
    Recorded,
    FirstUse,
}

/// The verified key of a host.
#[derive(Clone, Debug)]
pub struct HostKeyCheck {
    pub fingerprint: String,
    pub trust: Trust,
}

/// The fingerprint a pinned `host_key` stands for: itself when it is a fingerprint,
/// else that of the key in an `ssh-ed25519 AAAA... [comment]` line.
pub fn pinned_fingerprint(pin: &str) -> Result<String, SshError> {
    let pin = pin.trim();
    if pin.starts_with("SHA256:") {
        return Ok(pin.trim_end_matches('=').to_string());
    }
    let mut words = pin.split_whitespace();
    let first = words.next().unwrap_or_default();
    // Either "type base64 [comment]" or just the base64 blob.
    let b64 = if first.starts_with("ssh-") || first.starts_with("ecdsa-") {
        words.next().unwrap_or_default()
    } else {
        first
    };
    match base64::engine::general_purpose::STANDARD.decode(b64) {
        Ok(blob) if !blob.is_empty() => Ok(fingerprint(&blob)),
        _ => Err(SshError::Config("The `host_key` is neither a public key (like \"ssh-ed25519 AAAA...\") nor a fingerprint (like \"SHA256:...\").".into())),
    }
}

/// Verifies the key a host presented (`blob`) against the pin, the known_hosts file and
/// the recorded fingerprint.
pub fn verify(
    host: &str,
    port: u16,
    blob: &[u8],
    pin: Option<&str>,
    known_hosts: Option<&Path>,
    recorded: Option<&str>,
    session: &ssh2::Session,
) -> Result<HostKeyCheck, SshError> {
    let actual = fingerprint(blob);
    let shown = if port == 22 {
        host.to_string()
    } else {
        format!("[{host}]:{port}")
    };
    let mismatch = |expected: String, source: String| SshError::HostKeyMismatch {
        host: shown.clone(),
        expected,
        actual: actual.clone(),
        source,
    };
    if let Some(pin) = pin {
        let expected = pinned_fingerprint(pin)?;
        if expected != actual {
            return Err(mismatch(expected, "pinned by host_key".into()));
        }
        return Ok(HostKeyCheck {
            fingerprint: actual,
            trust: Trust::Pinned,
        });
    }
    if let Some(file) = known_hosts.filter(|f| f.exists()) {
        let mut kh = session
            .known_hosts()
            .map_err(|e| SshError::Session(format!("Cannot use known_hosts: {e}")))?;
        kh.read_file(file, ssh2::KnownHostFileKind::OpenSSH)
            .map_err(|e| {
                SshError::Config(format!(
                    "Cannot read the known_hosts file {}: {e}",
                    file.display()
                ))
            })?;
        match kh.check_port(host, port, blob) {
            ssh2::CheckResult::Match => {
                return Ok(HostKeyCheck {
                    fingerprint: actual,
                    trust: Trust::KnownHosts,
                })
            }
            ssh2::CheckResult::Mismatch => {
                let expected = known_hosts_fingerprint(file, &shown)
                    .unwrap_or_else(|| "a different key".into());
                return Err(mismatch(
                    expected,
                    format!("recorded in {}", file.display()),
                ));
            }
            ssh2::CheckResult::NotFound | ssh2::CheckResult::Failure => {}
        }
    }
    match recorded.filter(|r| !r.is_empty()) {
        Some(r) if r != actual => Err(mismatch(
            r.to_string(),
            "recorded in the state on first use".into(),
        )),
        Some(_) => Ok(HostKeyCheck {
            fingerprint: actual,
            trust: Trust::Recorded,
        }),
        None => Ok(HostKeyCheck {
            fingerprint: actual,
            trust: Trust::FirstUse,
        }),
    }
}

/// The fingerprint of the first plain (unhashed) known_hosts entry for `name`.
fn known_hosts_fingerprint(file: &Path, name: &str) -> Option<String> {
    let text = std::fs::read_to_string(file).ok()?;
    for line in text.lines() {
        let mut w = line.split_whitespace();
        let (Some(names), Some(_ty), Some(key)) = (w.next(), w.next(), w.next()) else {
            continue;
        };
        if names.split(',').any(|n| n == name) {
            return pinned_fingerprint(key).ok();
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_by_key_line_or_fingerprint() {
        // The blob of any key; its fingerprint is what a pin by key line stands for.
        let blob = b"\x00\x00\x00\x0bssh-ed25519\x00\x00\x00\x20abcdefghijabcdefghijabcdefghijab";
        let b64 = base64::engine::general_purpose::STANDARD.encode(blob);
        let fp = fingerprint(blob);
        assert!(fp.starts_with("SHA256:") && !fp.ends_with('='));
        assert_eq!(
            pinned_fingerprint(&format!("ssh-ed25519 {b64} me@host")).expect("key line"),
            fp
        );
        assert_eq!(pinned_fingerprint(&b64).expect("bare blob"), fp);
        assert_eq!(pinned_fingerprint(&fp).expect("fingerprint"), fp);
        assert!(pinned_fingerprint("nonsense!").is_err());
    }
}
