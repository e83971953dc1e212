//! The local state backend against the backend conformance suite, plus what only a local
//! file has: file modes, backup and history files, corrupt files, locks held by other
//! processes.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use terrane::state::backend::{Backend, LockInfo, StateError};
use terrane::state::conformance::{run_all, sample_state};
use terrane::state::local::{holder_is_dead, LocalBackend};

fn state_path(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join("state").join("terraform.tfstate")
}

fn mode_of(p: &Path) -> u32 {
    std::fs::metadata(p)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .permissions()
        .mode()
        & 0o777
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn local_backend_passes_the_conformance_suite() {
    let dir = tempfile::tempdir().unwrap();
    let path = state_path(&dir);
    run_all(|| {
        let path = path.clone();
        async move { Box::new(LocalBackend::new(path)) as Box<dyn Backend> }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn files_are_private_and_earlier_versions_are_kept() {
    let dir = tempfile::tempdir().unwrap();
    let path = state_path(&dir);
    let b = LocalBackend::new(path.clone());
    assert!(b.read().await.unwrap().is_none(), "no file, no state");

    let lineage = "lin-1";
    // Three runs (a backend value each), as three commands would write.
    for serial in 1..=3 {
        LocalBackend::new(path.clone())
            .write(&sample_state(lineage, serial, &format!("v{serial}")))
            .await
            .unwrap();
    }
    assert_eq!(mode_of(&path), 0o600);
    let backup = b.backup_path();
    assert_eq!(backup, PathBuf::from(format!("{}.backup", path.display())));
    assert_eq!(mode_of(&backup), 0o600);
    let backed_up =
        terrane::state::statefile::from_json(&std::fs::read_to_string(&backup).unwrap(), "backup")
            .unwrap();
    assert_eq!(
        backed_up.serial, 2,
        "the backup is the version before the last run"
    );

    let hist_dir = b.history_dir();
    assert_eq!(mode_of(&hist_dir), 0o700);
    for serial in [1, 2] {
        let f = hist_dir.join(format!("{serial}.tfstate"));
        assert!(f.exists(), "{} should exist", f.display());
        assert_eq!(mode_of(&f), 0o600);
    }
    assert!(
        !hist_dir.join("3.tfstate").exists(),
        "the current version is not history yet"
    );
    let hist = b.history().await.unwrap();
    assert_eq!(
        hist.iter().map(|h| h.serial).collect::<Vec<_>>(),
        vec![2, 1]
    );
    assert!(hist
        .iter()
        .all(|h| h.lineage == lineage && !h.written.is_empty()));
    assert_eq!(b.read_version(&hist[1]).await.unwrap().serial, 1);

    // No temp files left behind.
    let leftovers: Vec<_> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp-"))
        .collect();
    assert!(leftovers.is_empty(), "temp files left: {leftovers:?}");

    // The lock file is private too.
    let info = LockInfo::new("apply");
    b.lock(&info).await.unwrap();
    assert_eq!(mode_of(&b.lock_path()), 0o600);
    let held = b.lock_info().await.unwrap().unwrap();
    assert_eq!(
        held.path,
        path.display().to_string(),
        "lock() fills in the path"
    );
    b.unlock(&info.id).await.unwrap();
    assert!(!b.lock_path().exists());
}

#[tokio::test(flavor = "multi_thread")]
async fn equal_serial_is_a_no_op_when_identical_and_refused_otherwise() {
    let dir = tempfile::tempdir().unwrap();
    let b = LocalBackend::new(state_path(&dir));
    let st = sample_state("lin", 5, "same");
    b.write(&st).await.unwrap();
    b.write(&st).await.unwrap();
    assert!(
        b.history().await.unwrap().is_empty(),
        "an identical rewrite keeps no version"
    );
    match b.write(&sample_state("lin", 5, "different")).await {
        Err(StateError::SerialConflict {
            stored: 5,
            given: 5,
        }) => {}
        other => panic!("expected SerialConflict, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn empty_file_is_no_state_and_corrupt_file_names_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = state_path(&dir);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let b = LocalBackend::new(path.clone());

    std::fs::write(&path, "").unwrap();
    assert!(
        b.read().await.unwrap().is_none(),
        "an empty file is no state"
    );
    b.write(&sample_state("lin", 1, "over-empty"))
        .await
        .unwrap();

    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, &text[..text.len() / 2]).unwrap();
    let expect_corrupt = |r: Result<(), StateError>, what: &str| match r {
        Err(StateError::Corrupt { path: p, reason }) => {
            assert_eq!(
                p,
                path.display().to_string(),
                "{what}: Corrupt must name the file"
            );
            assert!(!reason.is_empty());
            let msg = StateError::Corrupt { path: p, reason }.to_string();
            assert!(msg.contains("terraform.tfstate"), "{msg}");
        }
        other => panic!("{what}: expected Corrupt, got {other:?}"),
    };
    expect_corrupt(b.read().await.map(|_| ()), "read of a truncated file");
    expect_corrupt(
        b.write(&sample_state("lin", 2, "x")).await,
        "write over a truncated file",
    );

    std::fs::write(&path, [0xff, 0xfe, 0x00]).unwrap();
    expect_corrupt(b.read().await.map(|_| ()), "read of binary garbage");
    std::fs::write(&path, r#"{"version": 3, "serial": 1, "lineage": "l"}"#).unwrap();
    match b.read().await {
        Err(StateError::Corrupt { reason, .. }) => {
            assert!(reason.contains("version 3"), "{reason}")
        }
        other => panic!("expected Corrupt for version 3, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn lock_held_by_another_process_is_reported_with_its_holder() {
    let dir = tempfile::tempdir().unwrap();
    let path = state_path(&dir);
    let b = LocalBackend::new(path.clone());

    let mut child = std::process::Command::new("sleep")
        .arg("30")
        .spawn()
        .expect("spawn sleep");
    let mut theirs = LockInfo::new("apply");
    theirs.pid = child.id();
    theirs.who = format!("someone@{}", terrane::state::backend::hostname());
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(b.lock_path(), serde_json::to_string(&theirs).unwrap()).unwrap();

    let mine = LockInfo::new("plan");
    match b.lock(&mine).await {
        Err(StateError::Locked(h)) => {
            assert_eq!(h.id, theirs.id);
            assert_eq!(h.who, theirs.who);
            assert_eq!(h.operation, "apply");
            assert_eq!(h.pid, child.id());
            assert!(!holder_is_dead(&h), "the sleep process is alive");
        }
        other => panic!("expected Locked, got {other:?}"),
    }
    assert_eq!(
        b.lock_info().await.unwrap().map(|h| h.id),
        Some(theirs.id.clone())
    );

    child.kill().unwrap();
    child.wait().unwrap();
    let h = b.lock_info().await.unwrap().unwrap();
    assert!(
        holder_is_dead(&h),
        "the sleep process was killed and reaped"
    );
    // A dead holder does not release the lock by itself: that takes an explicit unlock.
    assert!(matches!(b.lock(&mine).await, Err(StateError::Locked(_))));
    b.unlock(&theirs.id).await.unwrap();
    b.lock(&mine).await.unwrap();
    b.unlock(&mine.id).await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn unreadable_lock_file_still_means_locked() {
    let dir = tempfile::tempdir().unwrap();
    let path = state_path(&dir);
    let b = LocalBackend::new(path.clone());
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(b.lock_path(), "{ torn").unwrap();
    match b.lock(&LockInfo::new("apply")).await {
        Err(StateError::Locked(h)) => {
            assert_eq!(h.path, path.display().to_string());
            assert!(h.operation.contains("unreadable"), "{}", h.operation);
        }
        other => panic!("expected Locked, got {other:?}"),
    }
    assert!(b.lock_info().await.unwrap().is_some());
    match b.unlock("whatever").await {
        Err(StateError::Corrupt { path: p, .. }) => assert!(p.ends_with(".lock.info"), "{p}"),
        other => panic!("expected Corrupt for an unreadable lock, got {other:?}"),
    }
    assert!(
        b.lock_path().exists(),
        "a lock that cannot be checked is not removed"
    );
}

#[test]
fn holder_is_dead_for_a_dead_pid() {
    let mut child = std::process::Command::new("true")
        .spawn()
        .expect("spawn true");
    let pid = child.id();
    child.wait().unwrap();
    let mut info = LockInfo::new("apply");
    info.pid = pid;
    assert!(
        holder_is_dead(&info),
        "pid {pid} has exited and been reaped"
    );
    info.who = "someone@elsewhere.invalid".into();
    assert!(
        !holder_is_dead(&info),
        "a pid on another host cannot be judged"
    );
}

#[tokio::test]
async fn one_run_keeps_one_history_version_however_many_checkpoints_it_writes() {
    use terrane::state::backend::Backend;
    let d = tempfile::tempdir().unwrap();
    let path = d.path().join("terraform.tfstate");
    let mut st = terrane::state::State::new();
    // First run: creates the state, then writes checkpoints as an apply does.
    let run1 = terrane::state::local::LocalBackend::new(path.clone());
    for _ in 0..5 {
        st.serial += 1;
        run1.write(&st).await.unwrap();
    }
    // Second run: its first write keeps the first run's final version; its checkpoints
    // keep nothing more.
    let run2 = terrane::state::local::LocalBackend::new(path.clone());
    for _ in 0..5 {
        st.serial += 1;
        run2.write(&st).await.unwrap();
    }
    let serials: Vec<u64> = run2.history().await.unwrap().iter().map(|h| h.serial).collect();
    assert_eq!(serials.iter().filter(|s| **s == 5).count(), 1, "{serials:?}");
    assert!(serials.len() <= 2, "checkpoints must not each be kept: {serials:?}");
    assert_eq!(run2.read().await.unwrap().unwrap().serial, 10);
    // Another writer in between is still detected: a stale serial is refused.
    let mut old = st.clone();
    old.serial = 7;
    assert!(run2.write(&old).await.is_err());
}
