//! The conformance suite every state backend must pass (local file, S3, any later one).
//!
//! Owns the executable statement of the `Backend` contract: round trip, serials and
//! history, lineage and serial refusals, lock exclusion and release, and no lost update
//! under concurrent lock-read-bump-write. It is test support shipped in the library so that
//! integration tests of every backend can call `run_all`; like any test helper it panics
//! (with a message) when a backend breaks the contract. It must not be called by
//! production code, and it must not depend on any one backend's storage layout.

use std::future::Future;
use std::time::Duration;

use crate::addrs::{AbsResource, InstanceKey, ModuleInstance, ModuleStep, Resource};
use crate::lang::value::Value;
use crate::state::backend::{Backend, LockInfo, StateError};
use crate::state::{statefile, InstanceObject, ObjectStatus, OutputState, PendingCreate, State};

/// Writes per writer in the concurrency check.
const WRITES_PER_WRITER: u64 = 25;
/// Lock attempts a writer makes before the suite declares the lock stuck.
const MAX_LOCK_ATTEMPTS: u32 = 20_000;

/// Runs every check. `make` must return a new handle on the SAME storage each time it is
/// called (so two handles can contend for the lock), and that storage must hold no state
/// and no lock when the suite starts. Checks run in order and build on each other.
pub async fn run_all<F, Fut>(make: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = Box<dyn Backend>>,
{
    let a = make().await;
    let b = make().await;
    assert!(
        !a.describe().is_empty(),
        "describe() must say where the state lives"
    );

    empty_storage(&*a).await;
    let lineage = round_trip(&*a, &*b).await;
    // Each version is written by a handle of its own, as separate runs write: a backend
    // may keep one version per run rather than every checkpoint of a run (local does).
    serial_and_history(&make, &*b, &lineage).await;
    lineage_mismatch_refused(&*a, &lineage).await;
    serial_conflict_refused(&*a, &lineage).await;
    locking(&*a, &*b).await;
    concurrent_writers(make().await, make().await, make().await).await;
}

/// A state exercising every part of the format; `marker` makes versions distinguishable.
pub fn sample_state(lineage: &str, serial: u64, marker: &str) -> State {
    let mut st = State::new();
    st.lineage = lineage.to_string();
    st.serial = serial;
    st.outputs.insert(
        "marker".into(),
        OutputState {
            value: Value::string(marker),
            sensitive: false,
        },
    );
    st.outputs.insert(
        "secret".into(),
        OutputState {
            value: Value::string("hunter2"),
            sensitive: true,
        },
    );
    let module = ModuleInstance(vec![ModuleStep {
        name: "m".into(),
        key: InstanceKey::Str("a \"quoted\" key".into()),
    }]);
    let vpc = AbsResource {
        module: ModuleInstance::root(),
        resource: Resource::managed("aws_vpc", "main"),
    };
    st.set_instance(
        &vpc.instance(InstanceKey::None),
        "provider[\"terrane/aws\"]",
        Some(InstanceObject {
            status: ObjectStatus::Ready,
            schema_version: 1,
            attributes: Value::object([
                ("id", Value::string("vpc-1")),
                ("marker", Value::string(marker)),
            ]),
            dependencies: vec![],
            create_before_destroy: false,
            private: None,
            sensitive_attrs: Default::default(),
        }),
    );
    let web = AbsResource {
        module,
        resource: Resource::managed("aws_instance", "web"),
    };
    st.set_instance(
        &web.instance(InstanceKey::Int(0)),
        "provider[\"terrane/aws\"]",
        Some(InstanceObject {
            status: ObjectStatus::Tainted,
            schema_version: 0,
            attributes: Value::object([("id", Value::string("i-1")), ("size", Value::int(3))]),
            dependencies: vec![vpc],
            create_before_destroy: true,
            private: Some(serde_json::json!({"k": "v"})),
            sensitive_attrs: ["size".to_string()].into(),
        }),
    );
    st.pending.push(PendingCreate {
        address: "aws_instance.other".into(),
        provider: "provider[\"terrane/aws\"]".into(),
        token: format!("token-{marker}"),
        started: "2024-01-01T00:00:00Z".into(),
    });
    st
}

fn marker_of(st: &State) -> String {
    st.outputs
        .get("marker")
        .and_then(|o| o.value.as_str())
        .unwrap_or("<none>")
        .to_string()
}

async fn read_some(b: &dyn Backend, what: &str) -> State {
    match b.read().await {
        Ok(Some(st)) => st,
        Ok(None) => panic!("{what}: {} read no state after a write", b.describe()),
        Err(e) => panic!("{what}: {} read failed: {e}", b.describe()),
    }
}

async fn empty_storage(a: &dyn Backend) {
    match a.read().await {
        Ok(None) => {}
        Ok(Some(st)) => panic!(
            "run_all needs empty storage, but {} holds serial {}",
            a.describe(),
            st.serial
        ),
        Err(e) => panic!("reading empty storage {} failed: {e}", a.describe()),
    }
    match a.lock_info().await {
        Ok(None) => {}
        other => panic!("empty storage must not be locked, lock_info gave {other:?}"),
    }
}

async fn round_trip(a: &dyn Backend, b: &dyn Backend) -> String {
    let st = sample_state(&uuid::Uuid::new_v4().to_string(), 1, "v1");
    if let Err(e) = a.write(&st).await {
        panic!("round trip: first write to {} failed: {e}", a.describe());
    }
    let back = read_some(b, "round trip").await;
    assert_eq!(
        statefile::to_json(&back),
        statefile::to_json(&st),
        "round trip: the state read through another handle differs from the one written"
    );
    st.lineage
}

async fn serial_and_history<F, Fut>(make: &F, b: &dyn Backend, lineage: &str)
where
    F: Fn() -> Fut,
    Fut: Future<Output = Box<dyn Backend>>,
{
    for (serial, marker) in [(2, "v2"), (3, "v3")] {
        let a = make().await;
        let st = sample_state(lineage, serial, marker);
        if let Err(e) = a.write(&st).await {
            panic!("writing serial {serial} failed: {e}");
        }
        let back = read_some(b, "serial").await;
        assert_eq!(
            back.serial, serial,
            "the stored serial must be the one last written"
        );
        assert_eq!(
            marker_of(&back),
            marker,
            "the stored state must be the one last written"
        );
    }
    let hist = match b.history().await {
        Ok(h) => h,
        Err(e) => panic!("history() failed: {e}"),
    };
    let serials: Vec<u64> = hist.iter().map(|h| h.serial).collect();
    assert!(
        serials.contains(&1) && serials.contains(&2),
        "history must list serials 1 and 2, got {serials:?}"
    );
    assert!(
        serials.windows(2).all(|w| w[0] >= w[1]),
        "history must be newest first, got {serials:?}"
    );
    for h in &hist {
        assert_eq!(
            h.lineage, lineage,
            "history entry for serial {} has the wrong lineage",
            h.serial
        );
        assert!(
            !h.reference.is_empty(),
            "history entry for serial {} has no reference",
            h.serial
        );
    }
    for (serial, marker) in [(1, "v1"), (2, "v2")] {
        let Some(entry) = hist.iter().find(|h| h.serial == serial) else {
            panic!("history lost serial {serial}");
        };
        let old = match b.read_version(entry).await {
            Ok(s) => s,
            Err(e) => panic!("read_version(serial {serial}) failed: {e}"),
        };
        assert_eq!(old.serial, serial, "read_version returned the wrong serial");
        assert_eq!(
            marker_of(&old),
            marker,
            "read_version(serial {serial}) returned other content"
        );
        assert_eq!(
            statefile::to_json(&old),
            statefile::to_json(&sample_state(lineage, serial, marker)),
            "read_version(serial {serial}) must return the version exactly as written"
        );
    }
}

async fn lineage_mismatch_refused(a: &dyn Backend, lineage: &str) {
    let other = sample_state("some-other-lineage", 100, "intruder");
    match a.write(&other).await {
        Err(StateError::LineageMismatch { stored, given }) => {
            assert_eq!(
                stored, lineage,
                "LineageMismatch must name the stored lineage"
            );
            assert_eq!(
                given, "some-other-lineage",
                "LineageMismatch must name the given lineage"
            );
        }
        other => panic!("a write with a different lineage must be LineageMismatch, got {other:?}"),
    }
    let st = read_some(a, "lineage mismatch").await;
    assert_eq!(
        (st.serial, marker_of(&st)),
        (3, "v3".to_string()),
        "a refused write must leave the state alone"
    );
}

async fn serial_conflict_refused(a: &dyn Backend, lineage: &str) {
    let stale = sample_state(lineage, 2, "stale");
    match a.write(&stale).await {
        Err(StateError::SerialConflict { stored, given }) => {
            assert_eq!(
                (stored, given),
                (3, 2),
                "SerialConflict must name both serials"
            );
        }
        other => panic!("a write with a lower serial must be SerialConflict, got {other:?}"),
    }
    let st = read_some(a, "serial conflict").await;
    assert_eq!(
        (st.serial, marker_of(&st)),
        (3, "v3".to_string()),
        "a refused write must leave the state alone"
    );
}

fn assert_holder(got: &LockInfo, want: &LockInfo, what: &str) {
    assert_eq!(got.id, want.id, "{what}: wrong lock ID");
    assert_eq!(got.who, want.who, "{what}: wrong holder");
    assert_eq!(got.operation, want.operation, "{what}: wrong operation");
}

async fn expect_locked_by(b: &dyn Backend, attempt: &LockInfo, holder: &LockInfo, what: &str) {
    match b.lock(attempt).await {
        Err(StateError::Locked(h)) => assert_holder(&h, holder, what),
        other => panic!("{what}: lock must fail with Locked while held, got {other:?}"),
    }
}

async fn locking(a: &dyn Backend, b: &dyn Backend) {
    let mut first = LockInfo::new("apply");
    first.who = "alice@conformance".into();
    let mut second = LockInfo::new("plan");
    second.who = "bob@conformance".into();

    if let Err(e) = a.lock(&first).await {
        panic!("taking a free lock failed: {e}");
    }
    match b.lock_info().await {
        Ok(Some(h)) => assert_holder(&h, &first, "lock_info"),
        other => panic!("lock_info must report the holder, got {other:?}"),
    }
    expect_locked_by(b, &second, &first, "second handle").await;
    expect_locked_by(a, &second, &first, "same handle (locks are not reentrant)").await;

    match b.unlock(&second.id).await {
        Err(StateError::LockIdMismatch { given, held }) => {
            assert_eq!(given, second.id, "LockIdMismatch must name the given ID");
            assert_eq!(held, first.id, "LockIdMismatch must name the held ID");
        }
        other => panic!("unlock with the wrong ID must be LockIdMismatch, got {other:?}"),
    }
    match a.lock_info().await {
        Ok(Some(h)) => assert_holder(&h, &first, "after a refused unlock"),
        other => panic!("a refused unlock must leave the lock held, lock_info gave {other:?}"),
    }
    expect_locked_by(b, &second, &first, "after a refused unlock").await;

    // Any handle may release with the right ID (that is how force-unlock works).
    if let Err(e) = b.unlock(&first.id).await {
        panic!("unlock with the right ID failed: {e}");
    }
    match a.lock_info().await {
        Ok(None) => {}
        other => panic!("after unlock lock_info must be None, got {other:?}"),
    }
    match a.unlock(&first.id).await {
        Err(StateError::NotLocked) => {}
        other => panic!("unlocking a free lock must be NotLocked, got {other:?}"),
    }
    if let Err(e) = b.lock(&second).await {
        panic!("locking again after unlock failed: {e}");
    }
    expect_locked_by(a, &first, &second, "relocked by the other handle").await;
    if let Err(e) = b.unlock(&second.id).await {
        panic!("final unlock failed: {e}");
    }
}

fn counter_of(st: &State) -> i64 {
    st.outputs
        .get("counter")
        .and_then(|o| o.value.as_number())
        .and_then(|n| n.as_i64())
        .unwrap_or(0)
}

async fn writer(backend: Box<dyn Backend>, name: String) {
    for round in 0..WRITES_PER_WRITER {
        let info = LockInfo::new(&format!("{name} round {round}"));
        let mut attempts = 0u32;
        loop {
            match backend.lock(&info).await {
                Ok(()) => break,
                Err(StateError::Locked(_)) => {
                    attempts += 1;
                    assert!(
                        attempts < MAX_LOCK_ATTEMPTS,
                        "{name}: the lock was never released"
                    );
                    tokio::time::sleep(Duration::from_millis(1 + u64::from(attempts % 3))).await;
                }
                Err(e) => panic!("{name}: lock failed: {e}"),
            }
        }
        let mut st = read_some(&*backend, &name).await;
        st.serial += 1;
        let counter = counter_of(&st) + 1;
        st.outputs.insert(
            "counter".into(),
            OutputState {
                value: Value::int(counter),
                sensitive: false,
            },
        );
        st.outputs.insert(
            "marker".into(),
            OutputState {
                value: Value::string(format!("{name}-{round}")),
                sensitive: false,
            },
        );
        if let Err(e) = backend.write(&st).await {
            panic!(
                "{name}: write of serial {} under the lock failed: {e}",
                st.serial
            );
        }
        if let Err(e) = backend.unlock(&info.id).await {
            panic!("{name}: unlock failed: {e}");
        }
    }
}

async fn concurrent_writers(a: Box<dyn Backend>, b: Box<dyn Backend>, observer: Box<dyn Backend>) {
    let before = read_some(&*observer, "concurrent writers").await;
    let (serial0, counter0) = (before.serial, counter_of(&before));
    let tasks = [
        tokio::spawn(writer(a, "writer-a".into())),
        tokio::spawn(writer(b, "writer-b".into())),
    ];
    for t in tasks {
        match t.await {
            Ok(()) => {}
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(e) => panic!("a writer task failed: {e}"),
        }
    }
    let after = read_some(&*observer, "after concurrent writers").await;
    let writes = 2 * WRITES_PER_WRITER;
    assert_eq!(
        after.serial,
        serial0 + writes,
        "final serial must be the initial one plus {writes}"
    );
    assert_eq!(
        counter_of(&after),
        counter0 + writes as i64,
        "an update was lost: the counter missed increments"
    );
    match observer.lock_info().await {
        Ok(None) => {}
        other => panic!("every writer unlocked, yet lock_info gave {other:?}"),
    }
}
