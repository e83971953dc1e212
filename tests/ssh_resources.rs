//! The "ssh" provider against real OpenSSH servers (private sshd instances on 127.0.0.1):
//! file upload and drift correction, exec with triggers and checks, a failing command,
//! a changed or pinned host key, agent and key-file authentication, a host that comes up
//! late, the `ssh_host` data source, and secrets kept out of output.

mod common;

use common::sshd::*;

fn write(dir: &std::path::Path, tf: &str) {
    std::fs::write(dir.join("main.tf"), tf).expect("write main.tf");
}

fn file_tf(s: &Sshd, path: &std::path::Path, content: &str) -> String {
    format!(
        "resource \"ssh_file\" \"site\" {{\n  path    = \"{}\"\n  content = \"{content}\"\n  mode    = \"0640\"\n  {}\n}}\n\noutput \"fp\" {{\n  value = ssh_file.site.host_key_fingerprint\n}}\n",
        path.display(),
        s.connection_hcl()
    )
}

#[test]
fn file_upload_drift_and_removal() {
    let Some(s) = Sshd::start_new() else { return };
    let work = tempfile::tempdir().expect("tempdir");
    let target = s.path("etc/site.conf");
    write(work.path(), &file_tf(&s, &target, "hello\\n"));
    let t = ok(terrane(work.path(), &["apply", "-auto-approve"]));
    // The key read with file() is sensitive in the schema: the plan does not show it.
    assert!(
        !t.contains("PRIVATE KEY") && t.contains("private_key") && t.contains("(sensitive value)"),
        "{t}"
    );
    assert_eq!(
        std::fs::read_to_string(&target).expect("uploaded"),
        "hello\n"
    );
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&target)
            .expect("meta")
            .permissions()
            .mode()
            & 0o7777,
        0o640
    );
    // The host key was trusted on first use and recorded in the state.
    let out = ok(terrane(work.path(), &["output", "-raw", "fp"]));
    assert_eq!(out.trim(), s.host_fingerprint());

    // Nothing changed: no changes.
    let o = terrane(work.path(), &["plan", "-detailed-exitcode"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));

    // Changed on the host: drift, and apply puts it back.
    std::fs::write(&target, "tampered\n").expect("tamper");
    let o = terrane(work.path(), &["plan", "-detailed-exitcode"]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(2), "{t}");
    assert!(t.contains("sha256"), "{t}");
    ok(terrane(work.path(), &["apply", "-auto-approve"]));
    assert_eq!(
        std::fs::read_to_string(&target).expect("restored"),
        "hello\n"
    );

    // Mode changed on the host: corrected too.
    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    ok(terrane(work.path(), &["apply", "-auto-approve"]));
    assert_eq!(
        std::fs::metadata(&target)
            .expect("meta")
            .permissions()
            .mode()
            & 0o7777,
        0o640
    );

    // Deleted on the host: re-created.
    std::fs::remove_file(&target).expect("rm");
    ok(terrane(work.path(), &["apply", "-auto-approve"]));
    assert!(target.exists());

    // Destroy removes the file.
    ok(terrane(work.path(), &["destroy", "-auto-approve"]));
    assert!(!target.exists());
}

#[test]
fn exec_runs_on_create_and_when_triggers_change() {
    let Some(s) = Sshd::start_new() else { return };
    let work = tempfile::tempdir().expect("tempdir");
    let log = s.path("runs.log");
    let marker = s.path("marker");
    let tf = |v: &str| {
        format!(
            "variable \"v\" {{\n  default = \"{v}\"\n}}\nresource \"ssh_exec\" \"deploy\" {{\n  commands = [\"echo run-${{var.v}} >> {log}\", \"touch {marker}\", \"echo deployed ${{var.v}}\"]\n  check    = \"test -f {marker}\"\n  destroy_commands = [\"echo destroyed >> {log}\"]\n  triggers = {{ v = var.v }}\n  {}\n}}\noutput \"out\" {{\n  value = ssh_exec.deploy.stdout\n}}\n",
            s.connection_hcl(),
            log = log.display(),
            marker = marker.display()
        )
    };
    write(work.path(), &tf("1"));
    let t = ok(terrane(work.path(), &["apply", "-auto-approve"]));
    // Output is streamed with the address as prefix.
    assert!(t.contains("ssh_exec.deploy: deployed 1"), "{t}");
    assert_eq!(
        ok(terrane(work.path(), &["output", "-raw", "out"])),
        "deployed 1\n"
    );
    ok(terrane(work.path(), &["apply", "-auto-approve"]));
    assert_eq!(std::fs::read_to_string(&log).expect("log"), "run-1\n");

    // A changed trigger runs the commands again.
    write(work.path(), &tf("2"));
    ok(terrane(work.path(), &["apply", "-auto-approve"]));
    assert_eq!(
        std::fs::read_to_string(&log).expect("log"),
        "run-1\nrun-2\n"
    );

    // The check fails at refresh: the plan shows it, apply runs the commands again.
    std::fs::remove_file(&marker).expect("rm marker");
    let o = terrane(work.path(), &["plan", "-detailed-exitcode"]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(2), "{t}");
    assert!(t.contains("healthy") && t.contains("false -> true"), "{t}");
    ok(terrane(work.path(), &["apply", "-auto-approve"]));
    assert!(marker.exists());
    assert_eq!(
        std::fs::read_to_string(&log).expect("log"),
        "run-1\nrun-2\nrun-2\n"
    );

    ok(terrane(work.path(), &["destroy", "-auto-approve"]));
    assert_eq!(
        std::fs::read_to_string(&log).expect("log"),
        "run-1\nrun-2\nrun-2\ndestroyed\n"
    );
}

#[test]
fn failing_command_is_a_diagnostic_and_taints() {
    let Some(s) = Sshd::start_new() else { return };
    let work = tempfile::tempdir().expect("tempdir");
    write(
        work.path(),
        &format!("resource \"ssh_exec\" \"bad\" {{\n  commands = [\"echo step one\", \"echo oops >&2\", \"exit 3\", \"echo never\"]\n  {}\n}}\n", s.connection_hcl()),
    );
    let t = fails(terrane(work.path(), &["apply", "-auto-approve"]));
    assert!(t.contains("Remote command failed"), "{t}");
    assert!(t.contains("exit 3"), "the command is shown: {t}");
    assert!(t.contains("status 3"), "the status is shown: {t}");
    assert!(
        t.contains("step one") && t.contains("oops"),
        "the last lines are shown: {t}"
    );
    assert!(!t.contains("ssh_exec.bad: never"), "{t}");
    assert!(
        !t.contains("PRIVATE KEY"),
        "the key leaked into the plan: {t}"
    );
    let st = std::fs::read_to_string(work.path().join("state/terraform.tfstate")).expect("state");
    assert!(st.contains("\"tainted\""), "{st}");
    let t = ok(terrane(work.path(), &["plan"]));
    assert!(t.contains("tainted"), "{t}");
}

#[test]
fn changed_host_key_stops_with_both_fingerprints() {
    let Some(mut s) = Sshd::start_new() else {
        return;
    };
    let work = tempfile::tempdir().expect("tempdir");
    let target = s.path("f.txt");
    write(work.path(), &file_tf(&s, &target, "x"));
    ok(terrane(work.path(), &["apply", "-auto-approve"]));
    let old = s.host_fingerprint();
    s.rotate_host_key();
    let new = s.host_fingerprint();
    assert_ne!(old, new);
    let t = fails(terrane(work.path(), &["plan"]));
    assert!(t.contains("SSH host key mismatch"), "{t}");
    let t: String = t.split_whitespace().collect();
    assert!(
        t.contains(&old) && t.contains(&new),
        "both fingerprints are named: {t}"
    );
    // Nothing was written to the impostor.
    std::fs::remove_file(&target).expect("rm");
    fails(terrane(work.path(), &["apply", "-auto-approve"]));
    assert!(!target.exists());
}

#[test]
fn pinned_and_known_host_keys() {
    let Some(s) = Sshd::start_new() else { return };
    let work = tempfile::tempdir().expect("tempdir");
    let target = s.path("pinned.txt");
    // A pin that matches (the public key line) works; a wrong one is refused.
    let conn = s.connection_hcl().replace(
        "timeout",
        &format!("host_key = \"{}\"\n    timeout", s.host_pub()),
    );
    let tf = format!(
        "resource \"ssh_file\" \"f\" {{\n  path = \"{}\"\n  content = \"x\"\n  {conn}\n}}\n",
        target.display()
    );
    write(work.path(), &tf);
    ok(terrane(work.path(), &["apply", "-auto-approve"]));
    let wrong = "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    write(work.path(), &tf.replace(&s.host_pub(), wrong));
    // The refresh still uses the recorded connection; the apply uses the new pin.
    let t = fails(terrane(work.path(), &["apply", "-auto-approve"]));
    // miette wraps long lines: compare without whitespace.
    let t: String = t.split_whitespace().collect();
    assert!(
        t.contains(wrong) && t.contains(&s.host_fingerprint()),
        "{t}"
    );

    // known_hosts: a wrong entry for the host is refused before anything is recorded.
    let work2 = tempfile::tempdir().expect("tempdir");
    let other = Sshd::new().expect("keys");
    let entry = format!("[127.0.0.1]:{} {}\n", s.port, other.host_pub());
    std::fs::write(s.path("known_hosts"), entry).expect("known_hosts");
    write(work2.path(), &file_tf(&s, &s.path("kh.txt"), "x"));
    let t = fails(terrane(work2.path(), &["apply", "-auto-approve"]));
    let t: String = t.split_whitespace().collect();
    assert!(
        t.contains("known_hosts") && t.contains(&other.host_fingerprint()),
        "{t}"
    );
    // The right entry is accepted.
    std::fs::write(
        s.path("known_hosts"),
        format!("[127.0.0.1]:{} {}\n", s.port, s.host_pub()),
    )
    .expect("known_hosts");
    ok(terrane(work2.path(), &["apply", "-auto-approve"]));
}

#[test]
fn agent_authentication() {
    let Some(s) = Sshd::start_new() else { return };
    let sock = s.path("agent.sock");
    let agent = std::process::Command::new(
        std::env::var("TERRANE_SSH_AGENT").unwrap_or_else(|_| "ssh-agent".into()),
    )
    .arg("-D")
    .arg("-a")
    .arg(&sock)
    .stdout(std::process::Stdio::null())
    .stderr(std::process::Stdio::null())
    .spawn()
    .expect("ssh-agent");
    let _agent = KillOnDrop(agent);
    for _ in 0..100 {
        if sock.exists() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let added = std::process::Command::new("ssh-add")
        .arg(s.client_key())
        .env("SSH_AUTH_SOCK", &sock)
        .output()
        .expect("ssh-add");
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    let work = tempfile::tempdir().expect("tempdir");
    let target = s.path("agent.txt");
    let conn = format!("connection {{\n    host = \"127.0.0.1\"\n    port = {}\n    user = \"{}\"\n    timeout = \"5s\"\n  }}", s.port, s.user);
    write(work.path(), &format!("resource \"ssh_file\" \"f\" {{\n  path = \"{}\"\n  content = \"by agent\"\n  {conn}\n}}\n", target.display()));
    // Without the agent there is no way in.
    let t = fails(terrane(work.path(), &["apply", "-auto-approve"]));
    assert!(
        t.contains("Timeout waiting for SSH") || t.contains("authenticate"),
        "{t}"
    );
    ok(terrane_env(
        work.path(),
        &["apply", "-auto-approve"],
        &[("SSH_AUTH_SOCK", sock.to_str().expect("utf8"))],
    ));
    assert_eq!(std::fs::read_to_string(&target).expect("file"), "by agent");
}

struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn key_from_a_sensitive_variable_never_shows() {
    let Some(s) = Sshd::start_new() else { return };
    let work = tempfile::tempdir().expect("tempdir");
    let key = std::fs::read_to_string(s.client_key()).expect("key");
    let key_body = key.lines().nth(1).expect("key line").to_string();
    std::fs::write(
        work.path().join("terraform.tfvars"),
        format!("ssh_key = <<EOT\n{key}EOT\nssh_password = \"pw-very-secret-123\"\n"),
    )
    .expect("tfvars");
    let tf = format!(
        "variable \"ssh_key\" {{\n  sensitive = true\n}}\nvariable \"ssh_password\" {{\n  sensitive = true\n}}\nresource \"ssh_exec\" \"e\" {{\n  commands = [\"echo hi\"]\n  connection {{\n    host = \"127.0.0.1\"\n    port = {}\n    user = \"{}\"\n    private_key = var.ssh_key\n    password = var.ssh_password\n    timeout = \"10s\"\n  }}\n}}\n",
        s.port, s.user
    );
    write(work.path(), &tf);
    let plan = ok(terrane(work.path(), &["plan"]));
    let apply = ok(terrane(work.path(), &["apply", "-auto-approve"]));
    // A failure to connect (wrong port) shows no secret either.
    write(
        work.path(),
        &tf.replace(
            &format!("port = {}", s.port),
            &format!("port = {}", free_port()),
        )
        .replace("10s", "2s")
        .replace("echo hi", "echo again"),
    );
    let failed = fails(terrane(work.path(), &["apply", "-auto-approve"]));
    for t in [&plan, &apply, &failed] {
        assert!(
            !t.contains(&key_body)
                && !t.contains("pw-very-secret-123")
                && !t.contains("PRIVATE KEY"),
            "a secret leaked:\n{t}"
        );
    }
    assert!(failed.contains("Timeout waiting for SSH"), "{failed}");
}

#[test]
fn host_that_comes_up_late() {
    let Some(mut s) = Sshd::new() else { return };
    let work = tempfile::tempdir().expect("tempdir");
    let target = s.path("late.txt");
    write(
        work.path(),
        &file_tf(&s, &target, "late").replace("\"20s\"", "\"60s\""),
    );
    let dir = work.path().to_path_buf();
    let child = std::thread::spawn(move || terrane(&dir, &["apply", "-auto-approve"]));
    std::thread::sleep(std::time::Duration::from_secs(3));
    s.start();
    let t = ok(child.join().expect("join"));
    assert!(
        t.contains("Waiting for SSH on"),
        "what is awaited is said: {t}"
    );
    assert_eq!(std::fs::read_to_string(&target).expect("file"), "late");
}

#[test]
fn host_facts_data_source() {
    let Some(s) = Sshd::start_new() else { return };
    let work = tempfile::tempdir().expect("tempdir");
    write(
        work.path(),
        &format!("data \"ssh_host\" \"h\" {{\n  {}\n}}\noutput \"hostname\" {{\n  value = data.ssh_host.h.hostname\n}}\noutput \"fp\" {{\n  value = data.ssh_host.h.host_key_fingerprint\n}}\noutput \"os\" {{\n  value = data.ssh_host.h.os_id\n}}\n", s.connection_hcl()),
    );
    ok(terrane(work.path(), &["apply", "-auto-approve"]));
    let hn = ok(terrane(work.path(), &["output", "-raw", "hostname"]));
    let local = std::fs::read_to_string("/proc/sys/kernel/hostname").expect("hostname");
    assert_eq!(hn.trim(), local.trim());
    assert_eq!(
        ok(terrane(work.path(), &["output", "-raw", "fp"])).trim(),
        s.host_fingerprint()
    );
    let os = std::fs::read_to_string("/etc/os-release").unwrap_or_default();
    let id = ok(terrane(work.path(), &["output", "-raw", "os"]));
    assert!(os.contains(&format!("ID={}", id.trim())), "{id}");
}

#[test]
fn bastion_is_the_only_way_in() {
    // The target and the bastion run in a network namespace. The target accepts its user
    // only from 127.0.0.1 inside the namespace, which only the bastion can reach.
    let Some(mut target) = Sshd::new() else {
        return;
    };
    let Some(ns) = Netns::create() else { return };
    let Some(mut bastion) = Sshd::new() else {
        return;
    };
    for s in [&mut target, &mut bastion] {
        s.netns = Some(ns.name.clone());
        s.probe_host = ns.ns_ip.clone();
    }
    target.listen = "0.0.0.0".into();
    target.extra = format!("AllowUsers {}@127.0.0.1", target.user);
    target.start();
    bastion.listen = ns.ns_ip.clone();
    // The bastion accepts the target's client key too.
    std::fs::copy(
        target.path("authorized_keys"),
        bastion.path("authorized_keys"),
    )
    .expect("keys");
    bastion.start();

    let work = tempfile::tempdir().expect("tempdir");
    let file = target.path("via-bastion.txt");
    let key = target.client_key();
    let direct = format!(
        "resource \"ssh_file\" \"f\" {{\n  path = \"{}\"\n  content = \"hi\"\n  connection {{\n    host = \"{}\"\n    port = {}\n    user = \"{}\"\n    private_key = file(\"{}\")\n    timeout = \"3s\"\n  }}\n}}\n",
        file.display(),
        ns.ns_ip,
        target.port,
        target.user,
        key.display()
    );
    write(work.path(), &direct);
    // Straight to the target: refused (AllowUsers), so the retries time out.
    let t = fails(terrane(work.path(), &["apply", "-auto-approve"]));
    assert!(t.contains("refused") || t.contains("Timeout"), "{t}");
    assert!(!file.exists());

    let via = direct
        .replace(
            &format!("host = \"{}\"", ns.ns_ip),
            &format!(
                "host = \"127.0.0.1\"\n    bastion_host = \"{}\"\n    bastion_port = {}",
                ns.ns_ip, bastion.port
            ),
        )
        .replace("3s", "20s");
    write(work.path(), &via);
    ok(terrane(work.path(), &["apply", "-auto-approve"]));
    assert_eq!(
        std::fs::read_to_string(&file).expect("written through the bastion"),
        "hi"
    );
    // Drift is read through the bastion as well.
    std::fs::write(&file, "changed").expect("tamper");
    ok(terrane(work.path(), &["apply", "-auto-approve"]));
    assert_eq!(std::fs::read_to_string(&file).expect("restored"), "hi");
    assert!(target.log().contains("127.0.0.1"), "{}", target.log());
}

#[test]
fn example_ssh_host() {
    let Some(s) = Sshd::start_new() else { return };
    let work = tempfile::tempdir().expect("tempdir");
    let example =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/ssh-host/main.tf");
    std::fs::copy(&example, work.path().join("main.tf")).expect("copy example");
    let nginx = s.path("nginx");
    let args = |cmd: &'static str| -> Vec<String> {
        vec![
            cmd.to_string(),
            "-auto-approve".into(),
            "-var".into(),
            "host=127.0.0.1".into(),
            "-var".into(),
            format!("port={}", s.port),
            "-var".into(),
            format!("user={}", s.user),
            "-var".into(),
            format!("private_key_path={}", s.client_key().display()),
            "-var".into(),
            format!("nginx_dir={}", nginx.display()),
            "-var".into(),
            format!(
                "reload_command=echo reloaded >> {}/reloads",
                nginx.display()
            ),
        ]
    };
    let run = |cmd: &'static str| {
        let a = args(cmd);
        let a: Vec<&str> = a.iter().map(|s| s.as_str()).collect();
        terrane(work.path(), &a)
    };
    let t = ok(run("apply"));
    let site = nginx.join("sites-available/example.com.conf");
    let conf = std::fs::read_to_string(&site).expect("site written");
    assert!(conf.contains("server_name example.com;"), "{conf}");
    let link =
        std::fs::read_link(nginx.join("sites-enabled/example.com.conf")).expect("site enabled");
    assert_eq!(link, site);
    assert_eq!(
        std::fs::read_to_string(nginx.join("reloads")).expect("reloaded"),
        "reloaded\n"
    );
    assert!(t.contains(&s.host_fingerprint()), "{t}");

    // Edited on the host: put back, and nginx reloaded again.
    std::fs::write(&site, "server { }").expect("tamper");
    ok(run("apply"));
    assert!(std::fs::read_to_string(&site)
        .expect("site")
        .contains("server_name example.com;"));
    assert_eq!(
        std::fs::read_to_string(nginx.join("reloads")).expect("reloaded"),
        "reloaded\nreloaded\n"
    );

    ok(run("destroy"));
    assert!(!site.exists());
    assert!(!nginx.join("sites-enabled/example.com.conf").exists());
}

#[test]
fn one_connection_per_host_within_a_run() {
    let Some(s) = Sshd::start_new() else { return };
    let work = tempfile::tempdir().expect("tempdir");
    let mut tf = String::new();
    for i in 0..4 {
        tf.push_str(&format!(
            "resource \"ssh_file\" \"f{i}\" {{\n  path = \"{}\"\n  content = \"{i}\"\n  {}\n}}\n",
            s.path(&format!("reuse{i}.txt")).display(),
            s.connection_hcl()
        ));
    }
    write(work.path(), &tf);
    ok(terrane(work.path(), &["apply", "-auto-approve"]));
    let accepted = s.log().matches("Accepted publickey").count();
    assert_eq!(
        accepted,
        1,
        "four resources on one host share one session:\n{}",
        s.log()
    );
}
