//! Private OpenSSH servers for the SSH tests: each `Sshd` has its own config, host key,
//! client key and authorized_keys in a temporary directory and listens on 127.0.0.1 (or
//! inside a network namespace). Under `CI=true` a missing sshd fails the test; elsewhere
//! the test is skipped with a message.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub fn sshd_bin() -> Option<PathBuf> {
    let p = std::env::var_os("TERRANE_SSHD")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/sbin/sshd"));
    if p.exists() {
        return Some(p);
    }
    if std::env::var("CI").map(|v| v == "true").unwrap_or(false) {
        panic!("sshd is missing ({}): run the tests through scripts/test.sh, which installs openssh-server", p.display());
    }
    eprintln!(
        "skipping: sshd not found at {} (run scripts/test.sh to install it)",
        p.display()
    );
    None
}

pub fn keygen(path: &Path) {
    let st =
        Command::new(std::env::var("TERRANE_SSH_KEYGEN").unwrap_or_else(|_| "ssh-keygen".into()))
            .args(["-q", "-t", "ed25519", "-N", "", "-C", "terrane-test", "-f"])
            .arg(path)
            .status()
            .expect("run ssh-keygen");
    assert!(st.success(), "ssh-keygen failed");
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

pub fn user_name() -> String {
    // SAFETY: getpwuid returns a pointer to static storage or null; it is read at once.
    unsafe {
        let pw = libc::getpwuid(libc::getuid());
        assert!(!pw.is_null(), "no passwd entry for the current user");
        std::ffi::CStr::from_ptr((*pw).pw_name)
            .to_string_lossy()
            .into_owned()
    }
}

pub struct Sshd {
    pub dir: tempfile::TempDir,
    pub port: u16,
    pub listen: String,
    pub user: String,
    /// Extra sshd_config lines.
    pub extra: String,
    /// `ip netns exec NAME` prefix, when the server runs in a namespace.
    pub netns: Option<String>,
    /// The address the host reaches the server at (for the start-up probe).
    pub probe_host: String,
    child: Option<Child>,
}

impl Sshd {
    /// Keys and config, not started.
    pub fn new() -> Option<Sshd> {
        sshd_bin()?;
        let _ = std::fs::create_dir_all("/run/sshd");
        let dir = tempfile::tempdir().expect("tempdir");
        keygen(&dir.path().join("host_key"));
        keygen(&dir.path().join("client_key"));
        std::fs::copy(
            dir.path().join("client_key.pub"),
            dir.path().join("authorized_keys"),
        )
        .expect("authorized_keys");
        Some(Sshd {
            dir,
            port: free_port(),
            listen: "127.0.0.1".into(),
            user: user_name(),
            extra: String::new(),
            netns: None,
            probe_host: "127.0.0.1".into(),
            child: None,
        })
    }

    /// A started server.
    pub fn start_new() -> Option<Sshd> {
        let mut s = Sshd::new()?;
        s.start();
        Some(s)
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn client_key(&self) -> PathBuf {
        self.path("client_key")
    }

    /// The host's public key line.
    pub fn host_pub(&self) -> String {
        std::fs::read_to_string(self.path("host_key.pub"))
            .expect("host key")
            .trim()
            .to_string()
    }

    /// `ssh-keygen -lf`'s SHA256 fingerprint of the host key.
    pub fn host_fingerprint(&self) -> String {
        let o = Command::new("ssh-keygen")
            .arg("-lf")
            .arg(self.path("host_key.pub"))
            .output()
            .expect("ssh-keygen -l");
        String::from_utf8_lossy(&o.stdout)
            .split_whitespace()
            .nth(1)
            .expect("fingerprint")
            .to_string()
    }

    pub fn start(&mut self) {
        let d = self.dir.path();
        let config = format!(
            "Port {port}\nListenAddress {listen}\nHostKey {d}/host_key\nAuthorizedKeysFile {d}/authorized_keys\nPidFile none\nUsePAM no\nStrictModes no\nPermitRootLogin yes\nPasswordAuthentication no\nKbdInteractiveAuthentication no\nAllowTcpForwarding yes\nSubsystem sftp internal-sftp\nLogLevel VERBOSE\n{extra}\n",
            port = self.port,
            listen = self.listen,
            d = d.display(),
            extra = self.extra
        );
        std::fs::write(d.join("sshd_config"), config).expect("sshd_config");
        let sshd = sshd_bin().expect("sshd");
        let log = std::fs::File::create(d.join("sshd.log")).expect("log");
        let mut cmd = match &self.netns {
            Some(ns) => {
                let mut c = Command::new("ip");
                c.args(["netns", "exec", ns]).arg(&sshd);
                c
            }
            None => Command::new(&sshd),
        };
        let child = cmd
            .arg("-D")
            .arg("-e")
            .arg("-f")
            .arg(d.join("sshd_config"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start sshd");
        self.child = Some(child);
        self.wait_listening();
    }

    fn wait_listening(&mut self) {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(20) {
            if std::net::TcpStream::connect((self.probe_host.as_str(), self.port)).is_ok() {
                return;
            }
            if let Some(Ok(Some(st))) = self.child.as_mut().map(|c| c.try_wait()) {
                panic!("sshd exited ({st}): {}", self.log());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("sshd did not start: {}", self.log());
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.path("sshd.log")).unwrap_or_default()
    }

    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// A new host key (the host was "rebuilt"), same port.
    pub fn rotate_host_key(&mut self) {
        self.stop();
        let _ = std::fs::remove_file(self.path("host_key"));
        let _ = std::fs::remove_file(self.path("host_key.pub"));
        keygen(&self.path("host_key"));
        self.start();
    }

    /// HCL for a connection block to this server with the client key from a file.
    pub fn connection_hcl(&self) -> String {
        format!(
            "connection {{\n    host        = \"{}\"\n    port        = {}\n    user        = \"{}\"\n    private_key = file(\"{}\")\n    timeout     = \"20s\"\n    known_hosts_file = \"{}\"\n  }}",
            self.listen,
            self.port,
            self.user,
            self.client_key().display(),
            self.path("known_hosts").display()
        )
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Runs the built terrane binary in `dir`.
pub fn terrane(dir: &Path, args: &[&str]) -> Output {
    terrane_env(dir, args, &[])
}

pub fn terrane_env(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_terrane"));
    c.args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("SSH_AUTH_SOCK")
        .stdin(Stdio::null());
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("run terrane")
}

pub fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[track_caller]
pub fn ok(o: Output) -> String {
    let t = text(&o);
    assert!(o.status.success(), "terrane failed ({}):\n{t}", o.status);
    t
}

#[track_caller]
pub fn fails(o: Output) -> String {
    let t = text(&o);
    assert!(!o.status.success(), "terrane should have failed:\n{t}");
    t
}

/// A network namespace joined to the host by a veth pair: the host side is
/// `10.N.M.1/30`, the namespace side `10.N.M.2/30`. Deleted on drop.
pub struct Netns {
    pub name: String,
    pub host_ip: String,
    pub ns_ip: String,
}

fn ip(args: &[&str]) -> Result<(), String> {
    let o = Command::new("ip")
        .args(args)
        .output()
        .map_err(|e| e.to_string())?;
    if o.status.success() {
        Ok(())
    } else {
        Err(format!(
            "ip {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&o.stderr)
        ))
    }
}

impl Netns {
    /// `None` (skip) when namespaces cannot be made here, except under CI.
    pub fn create() -> Option<Netns> {
        let id = std::process::id() % 250;
        let salt: u32 = (std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0)
            / 1000)
            % 60;
        let (a, b) = (200 + (id % 50), salt * 4);
        let n = Netns {
            name: format!("terrane-ssh-{}-{salt}", std::process::id()),
            host_ip: format!("10.{a}.{b}.1"),
            ns_ip: format!("10.{a}.{b}.2"),
        };
        let (vh, vn) = (format!("tvh{}{salt}", id), format!("tvn{}{salt}", id));
        let r = (|| {
            ip(&["netns", "add", &n.name])?;
            ip(&["link", "add", &vh, "type", "veth", "peer", "name", &vn])?;
            ip(&["link", "set", &vn, "netns", &n.name])?;
            ip(&["addr", "add", &format!("{}/30", n.host_ip), "dev", &vh])?;
            ip(&["link", "set", &vh, "up"])?;
            ip(&[
                "netns",
                "exec",
                &n.name,
                "ip",
                "addr",
                "add",
                &format!("{}/30", n.ns_ip),
                "dev",
                &vn,
            ])?;
            ip(&["netns", "exec", &n.name, "ip", "link", "set", &vn, "up"])?;
            ip(&["netns", "exec", &n.name, "ip", "link", "set", "lo", "up"])
        })();
        match r {
            Ok(()) => Some(n),
            Err(e) => {
                let _ = ip(&["netns", "del", &n.name]);
                let _ = ip(&["link", "del", &vh]);
                if std::env::var("CI").map(|v| v == "true").unwrap_or(false) {
                    panic!("cannot create a network namespace for the bastion test: {e}");
                }
                eprintln!("skipping: cannot create a network namespace ({e})");
                None
            }
        }
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        // Deleting the namespace deletes its end of the veth pair, and with it ours.
        let _ = ip(&["netns", "del", &self.name]);
    }
}
