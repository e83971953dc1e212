//! The terrane binary with `backend "s3"` on moto's S3 emulator: init and state migration
//! between local and S3, state pull/push, history and restore, and two concurrent applies
//! of which exactly one proceeds (50 rounds, no lost update).

mod support;

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;

use support::moto;

fn cmd(dir: &Path, args: &[&str]) -> Command {
    let mut c = support::cli::command(dir, args);
    c.env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env_remove("AWS_PROFILE");
    c
}

fn run_stdin(dir: &Path, args: &[&str], stdin: &str) -> Output {
    support::cli::run_with_stdin(cmd(dir, args), stdin)
}

fn run(dir: &Path, args: &[&str]) -> Output {
    run_stdin(dir, args, "")
}

use support::cli::{err, out};

#[track_caller]
fn ok(o: &Output, what: &str) -> String {
    assert!(
        o.status.success(),
        "{what} failed ({:?})\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        out(o),
        err(o)
    );
    out(o)
}

const RESOURCES: &str = r#"
variable "stamp" {
  type    = string
  default = "initial"
}

resource "terraform_data" "stamp" {
  input = var.stamp
}

output "stamp" {
  value = terraform_data.stamp.output
}
"#;

fn backend_block(endpoint: &str, bucket: &str, key: &str) -> String {
    format!(
        r#"
terraform {{
  backend "s3" {{
    bucket       = "{bucket}"
    key          = "{key}"
    region       = "us-east-1"
    endpoint     = "{endpoint}"
    use_lockfile = true
    encrypt      = true
    skip_credentials_validation = true
  }}
}}
"#
    )
}

fn s3_dir(endpoint: &str, bucket: &str, key: &str) -> tempfile::TempDir {
    let d = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        d.path().join("main.tf"),
        format!("{}{RESOURCES}", backend_block(endpoint, bucket, key)),
    )
    .unwrap();
    d
}

async fn object_exists(endpoint: &str, bucket: &str, key: &str) -> bool {
    moto::client(endpoint)
        .await
        .head_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .is_ok()
}

fn pulled(dir: &Path) -> serde_json::Value {
    let o = run(dir, &["state", "pull"]);
    serde_json::from_str(&ok(&o, "state pull")).expect("state pull prints JSON")
}

#[tokio::test(flavor = "multi_thread")]
async fn init_migrates_local_state_to_s3_and_back() {
    let Some(ep) = moto::endpoint("init_migrates_local_state_to_s3_and_back") else {
        return;
    };
    let bucket = moto::bucket(&ep, "migrate", true).await;
    let d = tempfile::tempdir().unwrap();
    let main = d.path().join("main.tf");

    // 1. A local state.
    std::fs::write(&main, RESOURCES).unwrap();
    ok(&run(d.path(), &["init"]), "init (local)");
    ok(
        &run(d.path(), &["apply", "-auto-approve", "-var", "stamp=local"]),
        "apply (local)",
    );
    let local = pulled(d.path());
    assert_eq!(local["outputs"]["stamp"]["value"], "local");

    // 2. The configuration now names S3: commands refuse until init, init refuses
    //    without -migrate-state, and -migrate-state copies lineage and serial.
    std::fs::write(
        &main,
        format!(
            "{}{RESOURCES}",
            backend_block(&ep, &bucket, "app/terraform.tfstate")
        ),
    )
    .unwrap();
    let o = run(d.path(), &["plan"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        err(&o).contains("Backend configuration changed"),
        "{}",
        err(&o)
    );
    let o = run(d.path(), &["init"]);
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
    assert!(err(&o).contains("-migrate-state"), "{}", err(&o));
    assert!(!object_exists(&ep, &bucket, "app/terraform.tfstate").await);

    let o = run(d.path(), &["init", "-migrate-state"]);
    assert!(
        ok(&o, "init -migrate-state").contains("Copied the state"),
        "{}",
        out(&o)
    );
    assert!(object_exists(&ep, &bucket, "app/terraform.tfstate").await);
    assert!(
        !object_exists(&ep, &bucket, "app/terraform.tfstate.tflock").await,
        "init released the lock"
    );
    let remote = pulled(d.path());
    assert_eq!(remote["lineage"], local["lineage"]);
    assert_eq!(remote["serial"], local["serial"]);
    let o = run(
        d.path(),
        &["plan", "-detailed-exitcode", "-var", "stamp=local"],
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "no changes after migration: {}{}",
        out(&o),
        err(&o)
    );

    // 3. Work on S3, then back to local: the S3 state (newer serial) replaces the old
    //    local copy of the same lineage.
    ok(
        &run(
            d.path(),
            &["apply", "-auto-approve", "-var", "stamp=remote"],
        ),
        "apply (s3)",
    );
    std::fs::write(&main, RESOURCES).unwrap();
    let o = run(d.path(), &["plan"]);
    assert!(
        err(&o).contains("Backend configuration changed"),
        "{}",
        err(&o)
    );
    ok(
        &run(d.path(), &["init", "-migrate-state"]),
        "init -migrate-state (back)",
    );
    let back = pulled(d.path());
    assert_eq!(back["lineage"], local["lineage"]);
    assert_eq!(back["outputs"]["stamp"]["value"], "remote");
}

#[tokio::test(flavor = "multi_thread")]
async fn pull_push_history_restore_on_s3() {
    let Some(ep) = moto::endpoint("pull_push_history_restore_on_s3") else {
        return;
    };
    let bucket = moto::bucket(&ep, "history", true).await;
    let d = s3_dir(&ep, &bucket, "terraform.tfstate");
    ok(&run(d.path(), &["init"]), "init");
    for stamp in ["one", "two", "three"] {
        ok(
            &run(
                d.path(),
                &["apply", "-auto-approve", "-var", &format!("stamp={stamp}")],
            ),
            "apply",
        );
    }
    let current = pulled(d.path());
    let serial = current["serial"].as_u64().unwrap();

    let hist = ok(&run(d.path(), &["state", "history"]), "state history");
    let lines: Vec<&str> = hist.lines().collect();
    assert!(lines[0].starts_with("SERIAL"), "{hist}");
    assert!(
        lines[1].starts_with(&serial.to_string()) && lines[1].contains("(current)"),
        "{hist}"
    );
    assert!(lines[1].contains("~ terraform_data.stamp"), "{hist}");
    assert!(
        hist.lines().any(|l| l.contains("+ terraform_data.stamp")),
        "the first apply added the resource:\n{hist}"
    );

    // Restore the version whose stamp was "one".
    let mut one_serial = None;
    for s in 1..serial {
        let o = run(d.path(), &["state", "restore", "-dry-run", &s.to_string()]);
        if o.status.success() {
            // Find it by content: restore it, check, and stop.
            let o = run(
                d.path(),
                &["state", "restore", "-auto-approve", &s.to_string()],
            );
            ok(&o, "state restore");
            assert!(out(&o).contains("~ terraform_data.stamp"), "{}", out(&o));
            let now = pulled(d.path());
            assert_eq!(now["lineage"], current["lineage"], "same lineage");
            assert!(now["serial"].as_u64().unwrap() > serial, "a new serial");
            if now["outputs"]["stamp"]["value"] == "one" {
                one_serial = Some(s);
                break;
            }
        }
    }
    assert!(one_serial.is_some(), "some version held stamp one");
    // Declining changes nothing.
    let before = pulled(d.path());
    let o = run_stdin(d.path(), &["state", "restore", &serial.to_string()], "no\n");
    assert_eq!(o.status.code(), Some(1));
    assert!(out(&o).contains("Restore cancelled."), "{}", out(&o));
    assert_eq!(pulled(d.path()), before);
    let o = run(d.path(), &["state", "restore", "-auto-approve", "999"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(err(&o).contains("No such version"), "{}", err(&o));

    // Push: an older serial is refused, another lineage is refused, -force overrides.
    let file = d.path().join("pushed.tfstate");
    let mut stale = before.clone();
    stale["serial"] = serde_json::json!(1);
    std::fs::write(&file, serde_json::to_string(&stale).unwrap()).unwrap();
    let o = run(d.path(), &["state", "push", "pushed.tfstate"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(err(&o).contains("newer than"), "{}", err(&o));
    let mut foreign = before.clone();
    foreign["lineage"] = serde_json::json!("another-lineage");
    foreign["serial"] = serde_json::json!(1000);
    std::fs::write(&file, serde_json::to_string(&foreign).unwrap()).unwrap();
    let o = run(d.path(), &["state", "push", "pushed.tfstate"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(err(&o).contains("lineage"), "{}", err(&o));
    assert_eq!(pulled(d.path()), before, "refused pushes change nothing");
    let mut next = before.clone();
    next["serial"] = serde_json::json!(before["serial"].as_u64().unwrap() + 1);
    next["outputs"]["stamp"]["value"] = serde_json::json!("pushed");
    std::fs::write(&file, serde_json::to_string(&next).unwrap()).unwrap();
    ok(&run(d.path(), &["state", "push", "pushed.tfstate"]), "push");
    assert_eq!(pulled(d.path())["outputs"]["stamp"]["value"], "pushed");
    std::fs::write(&file, serde_json::to_string(&foreign).unwrap()).unwrap();
    ok(
        &run(d.path(), &["state", "push", "-force", "pushed.tfstate"]),
        "push -force",
    );
    assert_eq!(pulled(d.path())["lineage"], "another-lineage");
}

/// What one apply process did in a round.
enum Event {
    /// It holds the lock and waits at the approval prompt.
    Prompt(usize),
    /// Its stdout closed (it exited).
    Closed(usize, String),
}

fn spawn_apply(dir: &Path, stamp: &str, who: usize, tx: mpsc::Sender<Event>) -> Child {
    let mut child = cmd(dir, &["apply", "-var", &format!("stamp={stamp}")])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn terrane apply");
    let mut stdout = child.stdout.take().expect("stdout");
    std::thread::spawn(move || {
        let mut seen = Vec::new();
        let mut buf = [0u8; 4096];
        let mut prompted = false;
        loop {
            match stdout.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    seen.extend_from_slice(&buf[..n]);
                    if !prompted && String::from_utf8_lossy(&seen).contains("Enter a value:") {
                        prompted = true;
                        let _ = tx.send(Event::Prompt(who));
                    }
                }
            }
        }
        let _ = tx.send(Event::Closed(
            who,
            String::from_utf8_lossy(&seen).into_owned(),
        ));
    });
    child
}

/// Two `terrane apply` processes (two working directories, one S3 state) started together
/// in every round. Whichever takes the lock plans and waits at the approval prompt; the
/// other must fail at once naming the holder. Only then is the winner approved. If the lock
/// did not exclude, both would reach the prompt and the round fails. After every round the
/// stored state is the winner's, with a higher serial: no update is lost.
#[tokio::test(flavor = "multi_thread")]
async fn concurrent_applies_exactly_one_proceeds() {
    let Some(ep) = moto::endpoint("concurrent_applies_exactly_one_proceeds") else {
        return;
    };
    let bucket = moto::bucket(&ep, "concurrent", true).await;
    let dirs = [
        s3_dir(&ep, &bucket, "shared/terraform.tfstate"),
        s3_dir(&ep, &bucket, "shared/terraform.tfstate"),
    ];
    for d in &dirs {
        ok(&run(d.path(), &["init"]), "init");
    }
    let mut last_serial = 0u64;
    let mut wins = [0usize; 2];
    const ROUNDS: usize = 50;
    for round in 0..ROUNDS {
        let (tx, rx) = mpsc::channel();
        let stamps = [format!("r{round}-a"), format!("r{round}-b")];
        let mut children = [
            spawn_apply(dirs[0].path(), &stamps[0], 0, tx.clone()),
            spawn_apply(dirs[1].path(), &stamps[1], 1, tx.clone()),
        ];
        drop(tx);
        let mut winner = None;
        let mut loser = None;
        while winner.is_none() || loser.is_none() {
            match rx.recv().expect("both processes reported") {
                Event::Prompt(w) => {
                    assert!(
                        winner.is_none(),
                        "round {round}: both applies took the lock and reached the approval prompt"
                    );
                    winner = Some(w);
                }
                Event::Closed(w, stdout) => {
                    if winner == Some(w) {
                        panic!("round {round}: the lock holder exited before approval:\n{stdout}");
                    }
                    assert!(
                        loser.is_none(),
                        "round {round}: both applies exited without taking the lock"
                    );
                    loser = Some((w, stdout));
                }
            }
        }
        let (w, (l, _)) = (winner.unwrap(), loser.unwrap());
        let loser_out = children[l].wait_with_output_ref();
        assert_eq!(loser_out.0, Some(1), "round {round}: the loser exits 1");
        let e = &loser_out.1;
        assert!(
            e.contains("Error acquiring the state lock"),
            "round {round}: {e}"
        );
        assert!(
            e.contains("Operation: apply"),
            "round {round}: the holder's operation: {e}"
        );
        assert!(
            e.contains("Who:") && e.contains('@'),
            "round {round}: the holder: {e}"
        );
        assert!(
            e.contains("shared/terraform.tfstate"),
            "round {round}: the path: {e}"
        );

        children[w]
            .stdin
            .take()
            .expect("stdin")
            .write_all(b"yes\n")
            .expect("approve");
        let (code, stderr) = children[w].wait_with_output_ref();
        assert_eq!(
            code,
            Some(0),
            "round {round}: the winner's apply failed: {stderr}"
        );
        for rest in rx.iter() {
            let _ = rest;
        }
        wins[w] += 1;

        let st = pulled(dirs[0].path());
        assert_eq!(
            st["outputs"]["stamp"]["value"], stamps[w],
            "round {round}: the stored state is the winner's"
        );
        let serial = st["serial"].as_u64().unwrap();
        assert!(
            serial > last_serial,
            "round {round}: serial {serial} after {last_serial}"
        );
        last_serial = serial;
        assert!(
            !object_exists(&ep, &bucket, "shared/terraform.tfstate.tflock").await,
            "round {round}: the lock was released"
        );
    }
    eprintln!("concurrent applies: {ROUNDS} rounds, wins {wins:?}, final serial {last_serial}");
}

trait WaitRef {
    fn wait_with_output_ref(&mut self) -> (Option<i32>, String);
}

impl WaitRef for Child {
    /// Waits for the process, returning its exit code and stderr (stdout is read by the
    /// watcher thread).
    fn wait_with_output_ref(&mut self) -> (Option<i32>, String) {
        let mut e = String::new();
        if let Some(mut s) = self.stderr.take() {
            let _ = s.read_to_string(&mut e);
        }
        let status = self.wait().expect("wait");
        (status.code(), e)
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn stuck_lock_is_reported_and_force_unlock_releases_it() {
    let Some(ep) = moto::endpoint("stuck_lock_is_reported_and_force_unlock_releases_it") else {
        return;
    };
    let bucket = moto::bucket(&ep, "forceunlock", true).await;
    let d = s3_dir(&ep, &bucket, "terraform.tfstate");
    ok(&run(d.path(), &["init"]), "init");
    // A lock left behind by a run on another machine.
    let mut stuck = terrane::state::backend::LockInfo::new("apply");
    stuck.who = "carol@build-agent-7".into();
    stuck.path = format!("s3://{bucket}/terraform.tfstate");
    moto::client(&ep)
        .await
        .put_object()
        .bucket(&bucket)
        .key("terraform.tfstate.tflock")
        .body(serde_json::to_vec(&stuck).unwrap().into())
        .send()
        .await
        .unwrap();
    let o = run(d.path(), &["apply", "-auto-approve"]);
    assert_eq!(o.status.code(), Some(1));
    let e = err(&o);
    assert!(e.contains("Error acquiring the state lock"), "{e}");
    assert!(
        e.contains("carol@build-agent-7") && e.contains(&stuck.id),
        "{e}"
    );

    let o = run(d.path(), &["force-unlock", "-force", "not-the-id"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(err(&o).contains("does not match"), "{}", err(&o));
    assert!(object_exists(&ep, &bucket, "terraform.tfstate.tflock").await);

    let o = run(d.path(), &["force-unlock", "-force", &stuck.id]);
    assert!(
        ok(&o, "force-unlock").contains("successfully unlocked"),
        "{}",
        out(&o)
    );
    assert!(!object_exists(&ep, &bucket, "terraform.tfstate.tflock").await);
    ok(
        &run(d.path(), &["apply", "-auto-approve"]),
        "apply after force-unlock",
    );
}
