//! Crash safety and interrupts of the engine (issue 6), with the recording mock: a create
//! intent is on disk before every create call; an apply abandoned at any point (its future
//! dropped, as a `kill -9` would leave things) is reconciled by the next plan, with no
//! orphan and no duplicate; interrupts stop new work and save the state.
//!
//! The end-to-end proof against a real API is the kill test against the AWS emulator
//! (`tests/kill_apply.rs`); these tests pin down the engine's part of the protocol.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use terrane::config::load::load_dir;
use terrane::engine::{ApplyOptions, Engine, PlanOptions};
use terrane::providers::mock::{mock_registry_with_builtins, MockProvider};
use terrane::state::backend::Backend;
use terrane::state::local::LocalBackend;
use terrane::state::State;

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/engine/crash")
}

fn engine(mock: &Arc<MockProvider>) -> Engine {
    let (config, diags) = load_dir(&fixture());
    assert!(!diags.has_errors());
    Engine::new(config.unwrap(), mock_registry_with_builtins(mock.clone()), fixture())
}

async fn plan(e: &Engine, st: &State) -> terrane::plan::Plan {
    let (p, d) = e.plan(st, &PlanOptions::default()).await;
    p.unwrap_or_else(|| panic!("{:?}", d.iter().map(|d| d.to_string()).collect::<Vec<_>>()))
}

fn names_in_world(mock: &MockProvider) -> Vec<String> {
    let mut v: Vec<String> = mock.world().values().map(|o| o.value.clone().to_json()["name"].as_str().unwrap_or("?").to_string()).collect();
    v.sort();
    v
}

#[tokio::test]
async fn every_create_finds_its_intent_already_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("terraform.tfstate");
    let backend = Arc::new(LocalBackend::new(path.clone()));
    let mock = Arc::new(MockProvider::new());
    let seen: Arc<Mutex<Vec<(String, bool)>>> = Arc::default();
    let (seen2, path2) = (seen.clone(), path.clone());
    mock.set_apply_hook(Arc::new(move |action, identity| {
        if action != "create" {
            return;
        }
        let text = std::fs::read_to_string(&path2).unwrap_or_default();
        let on_disk = serde_json::from_str::<serde_json::Value>(&text).ok().and_then(|j| j["pending"].as_array().cloned()).unwrap_or_default();
        let found = on_disk.iter().any(|p| p["token"] == identity.token.as_str() && p["address"] == identity.address.as_str());
        seen2.lock().unwrap().push((identity.address.clone(), found));
    }));
    let e = engine(&mock);
    let st = State::new();
    let p = plan(&e, &st).await;
    let out = e.apply(&p, st, &ApplyOptions::default(), backend.clone()).await;
    assert!(!out.diags.has_errors());
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 6, "{seen:?}");
    assert!(seen.iter().all(|(_, found)| *found), "a create ran before its intent was durable: {seen:?}");
    // Settled: no intent left, every object recorded.
    let disk = backend.read().await.unwrap().unwrap();
    assert!(disk.pending.is_empty());
    assert_eq!(disk.instance_addrs().len(), 7);
}

/// Runs apply until `cut` has passed, then drops it mid-flight, like a kill -9 (what
/// survives is what was written to disk).
async fn apply_and_abandon(e: &Engine, backend: Arc<LocalBackend>, cut: Duration) {
    let st = backend.read().await.unwrap().unwrap_or_else(State::new);
    let p = plan(e, &st).await;
    let r = tokio::time::timeout(cut, e.apply(&p, st, &ApplyOptions::default(), backend)).await;
    assert!(r.is_err(), "the apply was meant to be cut short");
}

#[tokio::test]
async fn objects_created_before_a_crash_are_adopted_not_duplicated() {
    let dir = tempfile::tempdir().unwrap();
    let backend = Arc::new(LocalBackend::new(dir.path().join("terraform.tfstate")));
    let mock = Arc::new(MockProvider::new());
    // Every create happens at once, then the provider takes a minute to answer: the
    // crash comes after the objects exist and before terrane hears of them.
    mock.set_after_apply_delay(Duration::from_secs(60));
    let e = engine(&mock);
    apply_and_abandon(&e, backend.clone(), Duration::from_secs(2)).await;
    let crashed = backend.read().await.unwrap().expect("intents were written");
    assert_eq!(crashed.pending.len(), 5, "five creates were in flight");
    assert_eq!(mock.world().len(), 5);

    mock.set_after_apply_delay(Duration::ZERO);
    let p = plan(&e, &crashed).await;
    assert_eq!(p.adopted.len(), 5, "every object is found by its token");
    assert_eq!(p.resolved_intents.len(), 5);
    assert!(!p.is_empty());
    let creates: Vec<String> = p.changes.iter().filter(|c| c.action == terrane::plan::Action::Create).map(|c| c.addr.to_string()).collect();
    assert_eq!(creates, ["mock_thing.after"], "adopted objects are not created again");
    let out = e.apply(&p, crashed, &ApplyOptions::default(), backend.clone()).await;
    assert!(!out.diags.has_errors());
    let disk = backend.read().await.unwrap().unwrap();
    assert!(disk.pending.is_empty());
    assert_eq!(disk.instance_addrs().len(), 7);
    // Exactly one object per name: nothing orphaned, nothing duplicated.
    assert_eq!(names_in_world(&mock).len(), 6);
    assert!(plan(&e, &disk).await.is_empty());
}

#[tokio::test]
async fn intents_of_creates_that_never_happened_are_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let backend = Arc::new(LocalBackend::new(dir.path().join("terraform.tfstate")));
    let mock = Arc::new(MockProvider::new());
    // The crash comes after the intents are written and before any create.
    mock.set_apply_delay(Duration::from_secs(60));
    let e = engine(&mock);
    apply_and_abandon(&e, backend.clone(), Duration::from_secs(2)).await;
    let crashed = backend.read().await.unwrap().unwrap();
    assert_eq!(crashed.pending.len(), 5);
    assert!(mock.world().is_empty());

    mock.set_apply_delay(Duration::ZERO);
    let p = plan(&e, &crashed).await;
    assert!(p.adopted.is_empty());
    assert_eq!(p.resolved_intents.len(), 5);
    assert_eq!(p.counts(), (6, 0, 0), "everything but the recorded terraform_data");
    let out = e.apply(&p, crashed, &ApplyOptions::default(), backend.clone()).await;
    assert!(!out.diags.has_errors());
    assert_eq!(names_in_world(&mock).len(), 6);
    let disk = backend.read().await.unwrap().unwrap();
    assert!(disk.pending.is_empty());
    assert!(plan(&e, &disk).await.is_empty());
}

#[tokio::test]
async fn destroy_after_a_crash_deletes_what_the_crash_left() {
    let dir = tempfile::tempdir().unwrap();
    let backend = Arc::new(LocalBackend::new(dir.path().join("terraform.tfstate")));
    let mock = Arc::new(MockProvider::new());
    mock.set_after_apply_delay(Duration::from_secs(60));
    let e = engine(&mock);
    apply_and_abandon(&e, backend.clone(), Duration::from_secs(2)).await;
    mock.set_after_apply_delay(Duration::ZERO);
    let crashed = backend.read().await.unwrap().unwrap();
    let (p, d) = e.plan(&crashed, &PlanOptions { destroy: true, ..Default::default() }).await;
    let p = p.unwrap_or_else(|| panic!("{d:?}"));
    assert_eq!(p.counts().2, 6, "the adopted objects are destroyed, and the recorded one");
    let out = e.apply(&p, crashed, &ApplyOptions::default(), backend.clone()).await;
    assert!(!out.diags.has_errors(), "{:?}", out.diags.iter().map(|d| d.to_string()).collect::<Vec<_>>());
    assert!(mock.world().is_empty(), "nothing is left behind: {:?}", names_in_world(&mock));
    let disk = backend.read().await.unwrap().unwrap();
    assert!(disk.pending.is_empty() && disk.instance_addrs().is_empty());
}

#[tokio::test]
async fn first_interrupt_finishes_running_work_and_starts_nothing_new() {
    let dir = tempfile::tempdir().unwrap();
    let backend = Arc::new(LocalBackend::new(dir.path().join("terraform.tfstate")));
    let mock = Arc::new(MockProvider::new());
    let e = Arc::new(engine(&mock));
    // Interrupt as soon as the first create reaches the provider.
    let interrupt = e.interrupt.clone();
    mock.set_apply_hook(Arc::new(move |action, _| {
        if action == "create" {
            interrupt.send_replace(1);
        }
    }));
    mock.set_apply_delay(Duration::from_millis(200));
    let st = State::new();
    let p = plan(&e, &st).await;
    let out = e.apply(&p, st, &ApplyOptions::default(), backend.clone()).await;
    assert!(out.diags.has_errors(), "an interrupted apply fails");
    let text: String = out.diags.iter().map(|d| d.to_string()).collect();
    assert!(text.contains("interrupted"), "{text}");
    // The five servers were already running (one node) and finished; `after` never began.
    assert_eq!(names_in_world(&mock).len(), 5);
    assert!(out.skipped.iter().any(|(a, why)| a.contains("mock_thing.after") && why.contains("interrupted")), "{:?}", out.skipped);
    let disk = backend.read().await.unwrap().unwrap();
    assert!(disk.pending.is_empty());
    assert_eq!(disk.instance_addrs().iter().filter(|a| a.to_string().starts_with("mock_thing.server")).count(), 5);
}

#[tokio::test]
async fn second_interrupt_stops_waiting_and_keeps_the_intents() {
    let dir = tempfile::tempdir().unwrap();
    let backend = Arc::new(LocalBackend::new(dir.path().join("terraform.tfstate")));
    let mock = Arc::new(MockProvider::new());
    let e = engine(&mock);
    let interrupt = e.interrupt.clone();
    mock.set_apply_hook(Arc::new(move |action, _| {
        if action == "create" {
            interrupt.send_replace(2);
        }
    }));
    mock.set_after_apply_delay(Duration::from_secs(60));
    let st = State::new();
    let p = plan(&e, &st).await;
    // Returns promptly although the provider would take a minute.
    let out = tokio::time::timeout(Duration::from_secs(30), e.apply(&p, st, &ApplyOptions::default(), backend.clone())).await.expect("the second interrupt stops waiting");
    assert!(out.diags.has_errors());
    let disk = backend.read().await.unwrap().unwrap();
    assert!(!disk.pending.is_empty(), "the abandoned creates' intents are saved");
    // The next run adopts whatever they made (and is not interrupted).
    mock.set_apply_hook(Arc::new(|_, _| {}));
    mock.set_after_apply_delay(Duration::ZERO);
    e.interrupt.send_replace(0);
    let p = plan(&e, &disk).await;
    let out = e.apply(&p, disk, &ApplyOptions::default(), backend.clone()).await;
    assert!(!out.diags.has_errors());
    assert_eq!(names_in_world(&mock).len(), 6);
}

#[tokio::test]
async fn the_plan_shows_what_it_recovered() {
    let dir = tempfile::tempdir().unwrap();
    let backend = Arc::new(LocalBackend::new(dir.path().join("terraform.tfstate")));
    let mock = Arc::new(MockProvider::new());
    mock.set_after_apply_delay(Duration::from_secs(60));
    let e = engine(&mock);
    apply_and_abandon(&e, backend.clone(), Duration::from_secs(2)).await;
    mock.set_after_apply_delay(Duration::ZERO);
    let crashed = backend.read().await.unwrap().unwrap();
    let p = plan(&e, &crashed).await;
    let shown = terrane::plan::render::render_plan(&p, &Default::default());
    assert!(shown.contains("Recovered from an interrupted apply"), "{shown}");
    assert!(shown.contains("# mock_thing.server[0] was created by an interrupted apply; it is adopted into the state"), "{shown}");
}
