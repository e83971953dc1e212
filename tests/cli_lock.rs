//! Two `terrane apply` runs on the same state at once: one runs, the other fails at once
//! naming the lock holder, and the state is intact afterwards.

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

fn cmd(dir: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_terrane"));
    c.args(args).current_dir(dir).env("NO_COLOR", "1");
    c
}

fn config(n: usize) -> String {
    let mut s = String::new();
    for i in 0..n {
        let dep = if i == 0 { String::new() } else { format!(" + length(terraform_data.r{}.output)", i - 1) };
        s.push_str(&format!("resource \"terraform_data\" \"r{i}\" {{\n  input = \"r{i}-${{{i}{dep}}}\"\n}}\n\n"));
    }
    s
}

fn state(dir: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(dir.join("state/terraform.tfstate")).expect("state file");
    serde_json::from_str(&text).expect("the state parses")
}

#[test]
fn a_second_apply_fails_at_once_naming_the_holder() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("main.tf"), config(20)).unwrap();

    // A takes the lock, plans, and waits at the approval prompt holding it.
    let mut a = cmd(d.path(), &["apply"]).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let mut a_out = a.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut seen = Vec::new();
        let mut buf = [0u8; 4096];
        let mut told = false;
        loop {
            match a_out.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => seen.extend_from_slice(&buf[..n]),
            }
            if !told && String::from_utf8_lossy(&seen).contains("Enter a value:") {
                tx.send(()).unwrap();
                told = true;
            }
        }
        String::from_utf8_lossy(&seen).into_owned()
    });
    rx.recv_timeout(Duration::from_secs(120)).expect("the first apply reaches its approval prompt");

    // B starts while A holds the lock: it fails at once and says who holds it.
    let b = cmd(d.path(), &["apply", "-auto-approve"]).output().unwrap();
    let b_err = String::from_utf8_lossy(&b.stderr);
    assert!(!b.status.success(), "the second apply must fail while the first holds the lock");
    assert!(b_err.contains("Error acquiring the state lock"), "{b_err}");
    assert!(b_err.contains("Operation: apply"), "{b_err}");
    assert!(b_err.contains(&format!("Pid:       {}", a.id())), "the message names the holding process:\n{b_err}");
    assert!(b_err.contains("Who:"), "{b_err}");
    assert!(!d.path().join("state/terraform.tfstate").exists(), "B wrote nothing");

    // A goes on and completes.
    a.stdin.take().unwrap().write_all(b"yes\n").unwrap();
    let status = a.wait().unwrap();
    let a_text = reader.join().unwrap();
    assert!(status.success(), "{a_text}");
    assert!(a_text.contains("Apply complete! Resources: 20 added"), "{a_text}");

    let st = state(d.path());
    assert_eq!(st["resources"].as_array().unwrap().len(), 20);
    assert!(!d.path().join("state/terraform.tfstate.lock.info").exists(), "the lock is released");
    let again = cmd(d.path(), &["plan"]).output().unwrap();
    assert!(String::from_utf8_lossy(&again.stdout).contains("No changes."));
}

#[test]
fn applies_started_together_never_corrupt_the_state() {
    // Whatever the interleaving, each run either applies or fails on the lock naming its
    // holder; the state ends complete and consistent.
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("main.tf"), config(300)).unwrap();
    let children: Vec<_> = (0..4)
        .map(|_| cmd(d.path(), &["apply", "-auto-approve"]).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap())
        .collect();
    let mut succeeded = 0;
    for c in children {
        let o = c.wait_with_output().unwrap();
        let e = String::from_utf8_lossy(&o.stderr);
        if o.status.success() {
            succeeded += 1;
        } else {
            assert!(e.contains("Error acquiring the state lock") && e.contains("Who:"), "a failed run must fail on the lock only:\n{e}");
        }
    }
    assert!(succeeded >= 1);
    let st = state(d.path());
    assert_eq!(st["resources"].as_array().unwrap().len(), 300);
    let again = cmd(d.path(), &["plan", "-detailed-exitcode"]).output().unwrap();
    assert_eq!(again.status.code(), Some(0), "{}", String::from_utf8_lossy(&again.stdout));
}
