//! Every example: plan, apply, and a plan right after apply that says `No changes.`.
//!
//! Examples that need no server run here, in a copy of the repository's `examples/` and
//! `modules/` (so relative module sources resolve as they do for users). Examples that
//! need a server are run by the test named in `COVERED_ELSEWHERE`, against that server.
//! A new example must be added to one of the two lists.

use std::path::{Path, PathBuf};
use std::process::Command;

const LOCAL: &[&str] = &["hello", "release"];
const COVERED_ELSEWHERE: &[(&str, &str)] = &[
    ("aws-stack", "tests/aws_moto.rs: stack_applies_converges_and_destroy_leaves_nothing (moto)"),
    ("ssh-host", "tests/ssh_*.rs (a private sshd)"),
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let name = e.file_name();
        // Never copy local run output (state, written files) of someone's earlier run.
        if ["state", "out", ".terraform"].contains(&name.to_str().unwrap_or("")) {
            continue;
        }
        let (src, dst) = (e.path(), to.join(&name));
        if e.file_type().unwrap().is_dir() {
            copy_dir(&src, &dst);
        } else {
            std::fs::copy(&src, &dst).unwrap();
        }
    }
}

fn run(dir: &Path, args: &[&str]) -> (i32, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_terrane")).args(args).current_dir(dir).env("NO_COLOR", "1").output().unwrap();
    (o.status.code().unwrap_or(-1), format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr)))
}

#[test]
fn every_example_is_covered() {
    for e in std::fs::read_dir(root().join("examples")).unwrap() {
        let name = e.unwrap().file_name().into_string().unwrap();
        assert!(
            LOCAL.contains(&name.as_str()) || COVERED_ELSEWHERE.iter().any(|(n, _)| *n == name),
            "examples/{name} is not covered by any test: add it to LOCAL or COVERED_ELSEWHERE"
        );
    }
}

#[test]
fn local_examples_converge() {
    for name in LOCAL {
        let tmp = tempfile::tempdir().unwrap();
        copy_dir(&root().join("examples"), &tmp.path().join("examples"));
        copy_dir(&root().join("modules"), &tmp.path().join("modules"));
        let dir = tmp.path().join("examples").join(name);
        let (code, out) = run(&dir, &["plan", "-detailed-exitcode"]);
        assert_eq!(code, 2, "examples/{name}: the first plan must propose changes:\n{out}");
        let (code, out) = run(&dir, &["apply", "-auto-approve"]);
        assert_eq!(code, 0, "examples/{name}: apply failed:\n{out}");
        let (code, out) = run(&dir, &["plan", "-detailed-exitcode"]);
        assert_eq!(code, 0, "examples/{name}: a plan right after apply must be empty:\n{out}");
        assert!(out.contains("No changes."), "examples/{name}:\n{out}");
    }
}

#[test]
fn a_new_version_changes_exactly_the_releases() {
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(&root().join("examples"), &tmp.path().join("examples"));
    copy_dir(&root().join("modules"), &tmp.path().join("modules"));
    let dir = tmp.path().join("examples/release");
    assert_eq!(run(&dir, &["apply", "-auto-approve"]).0, 0);
    let env = std::fs::read_to_string(dir.join("out/app.env")).unwrap();
    assert!(env.contains("GUNICORN_WORKERS=4\n") && env.contains("RELEASE_ID=site-1.4.2-"), "{env}");
    let (code, out) = run(&dir, &["plan", "-detailed-exitcode", "-var", "app_version=1.5.0"]);
    assert_eq!(code, 2, "{out}");
    // Per tier: the build suffix is replaced (its keeper changed), the release updated,
    // and the env file replaced.
    assert!(out.contains("Plan: 6 to add, 3 to change, 6 to destroy."), "{out}");
}
