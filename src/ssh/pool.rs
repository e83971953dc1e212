//! Connecting (with retries until the timeout, host key verification, authentication,
//! bastions), one reused session per host within a run, and what runs on a host.
//!
//! A host's session is used by one operation at a time: libssh2 holds the session lock
//! while a blocking read waits, so interleaving channels from several threads on one
//! session would stall them. Work on different hosts runs in parallel.

use std::collections::HashMap;
use std::io::{ErrorKind, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::bastion::{self, Tunnel};
use super::conn::{ConnInfo, Endpoint};
use super::hostkey::{self, HostKeyCheck};
use super::SshError;

/// How many lines of output a failed command's diagnostic shows.
pub const TAIL_LINES: usize = 20;

/// A connected, authenticated host.
pub struct Host {
    session: Mutex<ssh2::Session>,
    /// The verified host key.
    pub key: HostKeyCheck,
    /// `user@host:port`.
    pub name: String,
    // Field order matters: the target session closes before its tunnel and bastion.
    _tunnel: Option<Tunnel>,
    _bastion: Option<ssh2::Session>,
}

/// The result of a command.
#[derive(Debug, Default)]
pub struct ExecOutput {
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
    /// The last lines of stdout and stderr together, in the order they arrived.
    pub tail: Vec<String>,
}

static POOL: Mutex<Option<HashMap<ConnInfo, Arc<Host>>>> = Mutex::new(None);
type Gates = HashMap<ConnInfo, Arc<Mutex<()>>>;
static CONNECTING: Mutex<Option<Gates>> = Mutex::new(None);

/// Forgets every pooled session (their connections close when the last user is done).
/// The CLI calls this at the end of a run.
pub fn clear() {
    if let Ok(mut p) = POOL.lock() {
        *p = None;
    }
}

fn pooled(info: &ConnInfo) -> Option<Arc<Host>> {
    POOL.lock().ok()?.as_ref()?.get(info).cloned()
}

fn forget(info: &ConnInfo) {
    if let Ok(mut p) = POOL.lock() {
        if let Some(m) = p.as_mut() {
            m.remove(info);
        }
    }
}

/// A session to the host of `info`: the pooled one when there is one (its key checked
/// again against `recorded`), else a new connection, retried until `info.timeout` while
/// the host is unreachable or refuses us. `label` prefixes the progress messages.
pub fn connect(
    info: &ConnInfo,
    recorded: Option<&str>,
    label: &str,
) -> Result<Arc<Host>, SshError> {
    if let Some(h) = pooled(info) {
        if let Some(r) = recorded.filter(|r| !r.is_empty() && *r != h.key.fingerprint) {
            if h.key.trust != hostkey::Trust::Pinned && h.key.trust != hostkey::Trust::KnownHosts {
                return Err(SshError::HostKeyMismatch {
                    host: info.target.host.clone(),
                    expected: r.to_string(),
                    actual: h.key.fingerprint.clone(),
                    source: "recorded in the state on first use".into(),
                });
            }
        }
        return Ok(h);
    }
    // One connection per host even when several resources ask at once: the first
    // connects, the others wait for it and reuse its session.
    let gate = {
        let mut g = CONNECTING
            .lock()
            .map_err(|_| SshError::Session("the connection lock is poisoned".into()))?;
        g.get_or_insert_with(HashMap::new)
            .entry(info.clone())
            .or_default()
            .clone()
    };
    let _turn = gate
        .lock()
        .map_err(|_| SshError::Session("the connection lock is poisoned".into()))?;
    if let Some(h) = pooled(info) {
        return Ok(h);
    }
    let h = Arc::new(connect_new(info, recorded, label)?);
    if let Ok(mut p) = POOL.lock() {
        p.get_or_insert_with(HashMap::new)
            .insert(info.clone(), h.clone());
    }
    Ok(h)
}

/// Runs `f` on the host, reconnecting once when a pooled session turned out dead (the
/// host rebooted, or sshd was restarted).
pub fn with_host<T>(
    info: &ConnInfo,
    recorded: Option<&str>,
    label: &str,
    f: impl Fn(&Host) -> Result<T, OpError>,
) -> Result<(T, HostKeyCheck), SshError> {
    let h = connect(info, recorded, label)?;
    match f(&h) {
        Ok(t) => Ok((t, h.key.clone())),
        Err(OpError::Dead(_)) => {
            forget(info);
            let h = connect(info, recorded, label)?;
            match f(&h) {
                Ok(t) => Ok((t, h.key.clone())),
                Err(OpError::Dead(m)) | Err(OpError::Failed(SshError::Session(m))) => {
                    Err(SshError::Session(m))
                }
                Err(OpError::Failed(e)) => Err(e),
            }
        }
        Err(OpError::Failed(e)) => Err(e),
    }
}

/// Why an operation on a host failed.
#[derive(Debug)]
pub enum OpError {
    /// The session is gone (no channel could be opened): reconnect and try again.
    Dead(String),
    Failed(SshError),
}

fn tcp_connect(host: &str, port: u16, limit: Duration) -> Result<TcpStream, String> {
    let addrs: Vec<_> = (host, port)
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {host}: {e}"))?
        .collect();
    let mut last = format!("{host} has no address");
    for a in addrs {
        match TcpStream::connect_timeout(&a, limit.max(Duration::from_millis(100))) {
            Ok(s) => return Ok(s),
            Err(e) => last = format!("{a}: {e}"),
        }
    }
    Err(last)
}

/// Why one connection attempt failed.
enum Attempt {
    Retry(String),
    Fatal(SshError),
}

fn handshake(
    stream: impl std::os::fd::AsRawFd + 'static,
    ep: &Endpoint,
    known_hosts: Option<&std::path::Path>,
    recorded: Option<&str>,
    limit: Duration,
) -> Result<(ssh2::Session, HostKeyCheck), Attempt> {
    let mut s = ssh2::Session::new().map_err(|e| Attempt::Retry(e.to_string()))?;
    s.set_tcp_stream(stream);
    s.set_timeout(limit.as_millis().clamp(1000, 60_000) as u32);
    s.handshake().map_err(|e| {
        Attempt::Retry(format!(
            "SSH handshake with {}:{} failed: {e}",
            ep.host, ep.port
        ))
    })?;
    let (blob, _) = s
        .host_key()
        .ok_or_else(|| Attempt::Retry("the host sent no host key".into()))?;
    let blob = blob.to_vec();
    let key = hostkey::verify(
        &ep.host,
        ep.port,
        &blob,
        ep.host_key.as_deref(),
        known_hosts,
        recorded,
        &s,
    )
    .map_err(Attempt::Fatal)?;
    authenticate(&s, ep).map_err(Attempt::Retry)?;
    // Commands may run for long; only the connection phase is bounded.
    s.set_timeout(0);
    Ok((s, key))
}

fn authenticate(s: &ssh2::Session, ep: &Endpoint) -> Result<(), String> {
    let mut tried = Vec::new();
    if let Some(k) = &ep.private_key {
        tried.push("the private key");
        if s.userauth_pubkey_memory(&ep.user, None, k, None).is_ok() && s.authenticated() {
            return Ok(());
        }
    }
    if ep.agent && std::env::var_os("SSH_AUTH_SOCK").is_some() {
        tried.push("ssh-agent");
        if let Ok(mut agent) = s.agent() {
            if agent.connect().is_ok() && agent.list_identities().is_ok() {
                for id in agent.identities().unwrap_or_default() {
                    if ep
                        .agent_identity
                        .as_deref()
                        .map(|want| id.comment() == want)
                        .unwrap_or(true)
                        && agent.userauth(&ep.user, &id).is_ok()
                        && s.authenticated()
                    {
                        let _ = agent.disconnect();
                        return Ok(());
                    }
                }
                let _ = agent.disconnect();
            }
        }
    }
    if let Some(p) = &ep.password {
        tried.push("the password");
        if s.userauth_password(&ep.user, p).is_ok() && s.authenticated() {
            return Ok(());
        }
    }
    if tried.is_empty() {
        return Err(format!("no way to authenticate as {}: set `private_key` or `password`, or run an ssh-agent (SSH_AUTH_SOCK)", ep.user));
    }
    Err(format!(
        "authentication as {} was refused (tried {})",
        ep.user,
        tried.join(", ")
    ))
}

fn attempt(info: &ConnInfo, recorded: Option<&str>, limit: Duration) -> Result<Host, Attempt> {
    let t = &info.target;
    let name = t.display();
    let kh = info.known_hosts_file.as_deref();
    match &info.bastion {
        None => {
            let tcp = tcp_connect(&t.host, t.port, limit).map_err(Attempt::Retry)?;
            let (session, key) = handshake(tcp, t, kh, recorded, limit)?;
            Ok(Host {
                session: Mutex::new(session),
                key,
                name,
                _tunnel: None,
                _bastion: None,
            })
        }
        Some(b) => {
            let tcp = tcp_connect(&b.host, b.port, limit)
                .map_err(|e| Attempt::Retry(format!("bastion {}: {e}", b.display())))?;
            let poll_fd = tcp.try_clone().map_err(|e| Attempt::Retry(e.to_string()))?;
            // The bastion's key is pinned or in known_hosts, or trusted for this run.
            let (bs, _) = handshake(tcp, b, kh, None, limit).map_err(|a| match a {
                Attempt::Retry(m) => Attempt::Retry(format!("bastion {}: {m}", b.display())),
                f => f,
            })?;
            let (sock, tunnel) = bastion::open(bs.clone(), poll_fd, &t.host, t.port)
                .map_err(|e| Attempt::Retry(e.to_string()))?;
            let (session, key) = handshake(sock, t, kh, recorded, limit)?;
            Ok(Host {
                session: Mutex::new(session),
                key,
                name: format!("{name} via {}", b.display()),
                _tunnel: Some(tunnel),
                _bastion: Some(bs),
            })
        }
    }
}

fn connect_new(info: &ConnInfo, recorded: Option<&str>, label: &str) -> Result<Host, SshError> {
    let start = Instant::now();
    let deadline = start + info.timeout;
    let what = match &info.bastion {
        Some(b) => format!(
            "SSH on {} via bastion {}",
            info.target.display(),
            b.display()
        ),
        None => format!("SSH on {}", info.target.display()),
    };
    let mut delay = Duration::from_millis(250);
    let mut last_report = start;
    let mut reported = false;
    loop {
        let remaining = deadline.saturating_duration_since(Instant::now());
        match attempt(info, recorded, remaining.min(Duration::from_secs(20))) {
            Ok(h) => {
                if reported {
                    crate::progress::line(label, &format!("Connected to {what}."));
                }
                return Ok(h);
            }
            Err(Attempt::Fatal(e)) => return Err(e),
            Err(Attempt::Retry(last)) => {
                let now = Instant::now();
                if now + delay >= deadline {
                    return Err(SshError::Timeout {
                        what,
                        last,
                        secs: info.timeout.as_secs(),
                    });
                }
                if !reported || now.duration_since(last_report) >= Duration::from_secs(10) {
                    crate::progress::line(
                        label,
                        &format!(
                            "Waiting for {what} ({}s elapsed, timeout {}s): {last}",
                            now.duration_since(start).as_secs(),
                            info.timeout.as_secs()
                        ),
                    );
                    reported = true;
                    last_report = now;
                }
                std::thread::sleep(delay);
                delay = (delay * 2).min(Duration::from_secs(5));
            }
        }
    }
}

impl Host {
    /// Runs `command` (through the login shell), feeding `stdin` when given, and hands
    /// each line of output to `on_line(is_stderr, line)` as it arrives.
    pub fn exec(
        &self,
        command: &str,
        stdin: Option<&[u8]>,
        on_line: &mut dyn FnMut(bool, &str),
    ) -> Result<ExecOutput, OpError> {
        let s = self.session.lock().map_err(|_| {
            OpError::Failed(SshError::Session("the session lock is poisoned".into()))
        })?;
        s.set_blocking(true);
        let mut ch = s
            .channel_session()
            .map_err(|e| OpError::Dead(format!("Cannot open a channel to {}: {e}", self.name)))?;
        let failed = |what: &str, e: &dyn std::fmt::Display| {
            OpError::Failed(SshError::Session(format!(
                "{what} on {} failed: {e}",
                self.name
            )))
        };
        ch.exec(command)
            .map_err(|e| failed("Starting a command", &e))?;
        if let Some(input) = stdin {
            ch.write_all(input)
                .map_err(|e| failed("Sending input", &e))?;
        }
        ch.send_eof().map_err(|e| failed("Sending input", &e))?;
        let mut out = ExecOutput::default();
        let (mut pend_out, mut pend_err) = (Vec::<u8>::new(), Vec::<u8>::new());
        let mut buf = vec![0u8; 16 * 1024];
        s.set_blocking(false);
        let result = (|| -> Result<(), OpError> {
            loop {
                let mut got = false;
                for is_err in [false, true] {
                    let r = if is_err {
                        ch.stderr().read(&mut buf)
                    } else {
                        ch.read(&mut buf)
                    };
                    match r {
                        Ok(0) => {}
                        Ok(n) => {
                            got = true;
                            let pend = if is_err { &mut pend_err } else { &mut pend_out };
                            pend.extend_from_slice(&buf[..n]);
                            while let Some(i) = pend.iter().position(|&b| b == b'\n') {
                                let line: Vec<u8> = pend.drain(..=i).collect();
                                emit(&mut out, is_err, &String::from_utf8_lossy(&line), on_line);
                            }
                        }
                        Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                        Err(e) => return Err(failed("Reading output", &e)),
                    }
                }
                if !got {
                    if ch.eof() {
                        return Ok(());
                    }
                    std::thread::sleep(Duration::from_millis(5));
                }
            }
        })();
        s.set_blocking(true);
        result?;
        for (is_err, pend) in [(false, pend_out), (true, pend_err)] {
            if !pend.is_empty() {
                emit(&mut out, is_err, &String::from_utf8_lossy(&pend), on_line);
            }
        }
        ch.wait_close()
            .map_err(|e| failed("Closing the channel", &e))?;
        out.status = ch
            .exit_status()
            .map_err(|e| failed("Reading the exit status", &e))?;
        Ok(out)
    }

    /// Writes `content` to `path` atomically (a temporary file in the same directory,
    /// renamed), creating parent directories, with `mode` and `owner:group` when given.
    pub fn upload(
        &self,
        path: &str,
        content: &[u8],
        mode: Option<&str>,
        owner: Option<&str>,
        group: Option<&str>,
    ) -> Result<(), OpError> {
        let q = super::shell_quote;
        let tmp = format!("{path}.terrane-{}", uuid::Uuid::new_v4().simple());
        let dir = match path.rfind('/') {
            Some(0) => "/".to_string(),
            Some(i) => path[..i].to_string(),
            None => ".".to_string(),
        };
        let mut cmd = format!("umask 077 && mkdir -p -- {} && cat > {}", q(&dir), q(&tmp));
        if let Some(m) = mode {
            cmd.push_str(&format!(" && chmod {} {}", q(m), q(&tmp)));
        } else {
            // Keep the mode of a file being replaced; new files get 0644.
            cmd.push_str(&format!(
                " && {{ chmod --reference={} {} 2>/dev/null || chmod 0644 {}; }}",
                q(path),
                q(&tmp),
                q(&tmp)
            ));
        }
        match (owner, group) {
            (Some(o), Some(g)) => {
                cmd.push_str(&format!(" && chown {} {}", q(&format!("{o}:{g}")), q(&tmp)))
            }
            (Some(o), None) => cmd.push_str(&format!(" && chown {} {}", q(o), q(&tmp))),
            (None, Some(g)) => cmd.push_str(&format!(" && chgrp {} {}", q(g), q(&tmp))),
            (None, None) => {}
        }
        cmd.push_str(&format!(
            " && mv -f -- {} {} || {{ rc=$?; rm -f -- {}; exit $rc; }}",
            q(&tmp),
            q(path),
            q(&tmp)
        ));
        let out = self.exec(&cmd, Some(content), &mut |_, _| {})?;
        if out.status != 0 {
            return Err(OpError::Failed(SshError::Session(format!(
                "Writing {path} on {} failed (exit status {}): {}",
                self.name,
                out.status,
                out.tail.join("\n")
            ))));
        }
        Ok(())
    }
}

fn emit(out: &mut ExecOutput, is_err: bool, line: &str, on_line: &mut dyn FnMut(bool, &str)) {
    if is_err {
        out.stderr.push_str(line);
    } else {
        out.stdout.push_str(line);
    }
    let l = line.trim_end_matches(['\r', '\n']);
    on_line(is_err, l);
    out.tail.push(l.to_string());
    if out.tail.len() > TAIL_LINES {
        out.tail.remove(0);
    }
}
