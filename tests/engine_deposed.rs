//! Deposed objects (issue 6): a `create_before_destroy` replacement deposes the old
//! object in the state on disk before it creates the new one, and deletes the old one
//! only once the new one is recorded. A crash (the apply future dropped, as `kill -9`
//! leaves things) at each step of that sequence leaves a state that names every object
//! in the mock's world; the next plan deletes the deposed object and apply converges to
//! exactly one object.
//!
//! The crash moments are exact: the mock hangs the chosen provider call forever and the
//! hook tells the test to drop the apply right then. The end-to-end proof against a real
//! API is `tests/kill_apply.rs` (the create_before_destroy kill test against moto).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use terrane::config::load::load_dir;
use terrane::engine::{ApplyOptions, Engine, InputValue, InputVar, InputVars, PlanOptions};
use terrane::plan::{Action, Plan};
use terrane::providers::mock::{mock_registry_with_builtins, MockProvider};
use terrane::state::backend::Backend;
use terrane::state::local::LocalBackend;
use terrane::state::State;

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/engine/cbd")
}

fn engine(mock: &Arc<MockProvider>) -> Engine {
    let (config, diags) = load_dir(&fixture());
    assert!(!diags.has_errors());
    Engine::new(
        config.unwrap(),
        mock_registry_with_builtins(mock.clone()),
        fixture(),
    )
}

fn zone(z: &str) -> PlanOptions {
    let mut variables = InputVars::new();
    variables.insert(
        "zone".into(),
        InputVar {
            value: InputValue::Raw(z.into()),
            span: None,
            source: "-var".into(),
        },
    );
    PlanOptions {
        variables,
        ..Default::default()
    }
}

async fn plan(e: &Engine, st: &State, z: &str) -> Plan {
    let (p, d) = e.plan(st, &zone(z)).await;
    p.unwrap_or_else(|| panic!("{:?}", d.iter().map(|d| d.to_string()).collect::<Vec<_>>()))
}

async fn apply(e: &Engine, st: State, z: &str, backend: &Arc<LocalBackend>) -> State {
    let p = plan(e, &st, z).await;
    let out = e
        .apply(
            &p,
            st,
            &ApplyOptions {
                variables: zone(z).variables,
                ..Default::default()
            },
            backend.clone(),
        )
        .await;
    assert!(
        !out.diags.has_errors(),
        "{:?}",
        out.diags.iter().map(|d| d.to_string()).collect::<Vec<_>>()
    );
    backend.read().await.unwrap().unwrap()
}

/// (id, zone) of every object named `name` in the mock's world.
fn objects_named(mock: &MockProvider, name: &str) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = mock
        .world()
        .iter()
        .filter(|(_, o)| o.value.clone().to_json()["name"] == name)
        .map(|(id, o)| {
            (
                id.clone(),
                o.value.clone().to_json()["zone"]
                    .as_str()
                    .unwrap_or("")
                    .to_string(),
            )
        })
        .collect();
    v.sort();
    v
}

fn web() -> terrane::addrs::AbsResourceInstance {
    "mock_thing.web".parse().unwrap()
}

fn id_of(obj: &terrane::state::InstanceObject) -> String {
    obj.attributes.clone().to_json()["id"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// Applies zone "a", then the replacement to zone "b", dropping that apply at the moment
/// the mock's `action` call starts (`stall_after`: once it has acted). Returns what is on
/// disk afterwards.
async fn crash_during_replacement(
    mock: &Arc<MockProvider>,
    e: &Engine,
    backend: &Arc<LocalBackend>,
    action: &'static str,
    stall_after: bool,
) -> State {
    let prior = backend.read().await.unwrap().unwrap_or_else(State::new);
    let st = apply(e, prior, "a", backend).await;
    mock.set_stall(action, stall_after);
    let reached = Arc::new(tokio::sync::Notify::new());
    let r2 = reached.clone();
    mock.set_apply_hook(Arc::new(move |a, _| {
        if a == action {
            r2.notify_one();
        }
    }));
    let p = plan(e, &st, "b").await;
    assert_eq!(
        p.changes.iter().find(|c| c.addr == web()).map(|c| c.action),
        Some(Action::CreateThenDelete)
    );
    let opts = ApplyOptions {
        variables: zone("b").variables,
        ..Default::default()
    };
    tokio::select! {
        _ = e.apply(&p, st, &opts, backend.clone()) => panic!("the apply was meant to hang in {action}"),
        _ = reached.notified() => {}
    }
    // (A call stalled after acting changed the world before it hung: the hook fires
    // first, but nothing awaits between the hook and the change.)
    mock.clear_stall();
    mock.set_apply_hook(Arc::new(|_, _| {}));
    backend.read().await.unwrap().unwrap()
}

#[tokio::test]
async fn a_crash_before_the_old_object_is_deleted_leaves_it_deposed_and_the_next_apply_deletes_it()
{
    let dir = tempfile::tempdir().unwrap();
    let backend = Arc::new(LocalBackend::new(dir.path().join("terraform.tfstate")));
    let mock = Arc::new(MockProvider::new());
    let e = engine(&mock);
    let crashed = crash_during_replacement(&mock, &e, &backend, "delete", false).await;

    // Two web objects exist; the state on disk names both: new current, old deposed.
    let webs = objects_named(&mock, "web");
    assert_eq!(webs.len(), 2, "{webs:?}");
    let (old, new) = (
        webs.iter().find(|(_, z)| z == "a").unwrap().0.clone(),
        webs.iter().find(|(_, z)| z == "b").unwrap().0.clone(),
    );
    assert_eq!(
        crashed.instance(&web()).map(id_of),
        Some(new.clone()),
        "the new object is current on disk"
    );
    let deposed = crashed.deposed_addrs();
    assert_eq!(deposed.len(), 1, "{deposed:?}");
    assert_eq!(deposed[0].0, web());
    assert_eq!(
        crashed.deposed(&web(), &deposed[0].1).map(id_of),
        Some(old.clone()),
        "the old object is deposed on disk"
    );
    assert!(
        crashed.pending.is_empty(),
        "the create's intent was settled with its result"
    );
    // The dependent was moved to the new object before the old one was to be deleted.
    let client: terrane::addrs::AbsResourceInstance = "mock_thing.client".parse().unwrap();
    assert_eq!(
        crashed
            .instance(&client)
            .unwrap()
            .attributes
            .clone()
            .to_json()["tags"]["web"],
        new.as_str()
    );

    // The next plan: exactly the deletion of the deposed object.
    let p = plan(&e, &crashed, "b").await;
    let changes: Vec<_> = p
        .changes
        .iter()
        .filter(|c| c.action != Action::NoOp)
        .collect();
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert_eq!(
        (
            changes[0].action,
            &changes[0].addr,
            changes[0].deposed.as_ref()
        ),
        (Action::Delete, &web(), Some(&deposed[0].1))
    );
    assert_eq!(p.counts(), (0, 0, 1));
    let shown = terrane::plan::render::render_plan(&p, &Default::default());
    assert!(
        shown.contains(&format!(
            "  # mock_thing.web (deposed object {}) will be destroyed\n",
            deposed[0].1
        )),
        "{shown}"
    );
    assert!(
        shown.contains("Plan: 0 to add, 0 to change, 1 to destroy."),
        "{shown}"
    );

    let done = apply(&e, crashed, "b", &backend).await;
    assert_eq!(
        objects_named(&mock, "web"),
        [(new.clone(), "b".to_string())],
        "exactly one web object, the new one"
    );
    assert_eq!(objects_named(&mock, "client").len(), 1);
    assert!(done.deposed_addrs().is_empty());
    assert!(plan(&e, &done, "b").await.is_empty());
}

#[tokio::test]
async fn a_crash_after_deposing_and_before_the_create_is_reconciled_through_the_intent() {
    let dir = tempfile::tempdir().unwrap();
    let backend = Arc::new(LocalBackend::new(dir.path().join("terraform.tfstate")));
    let mock = Arc::new(MockProvider::new());
    let e = engine(&mock);
    let crashed = crash_during_replacement(&mock, &e, &backend, "create", false).await;

    // Nothing was created; on disk the old object is deposed, with the create's intent.
    let webs = objects_named(&mock, "web");
    assert_eq!(webs.len(), 1);
    assert!(
        crashed.instance(&web()).is_none(),
        "the old object is no longer current"
    );
    let deposed = crashed.deposed_addrs();
    assert_eq!(deposed.len(), 1);
    assert_eq!(
        crashed.deposed(&web(), &deposed[0].1).map(id_of),
        Some(webs[0].0.clone())
    );
    assert_eq!(
        crashed
            .pending
            .iter()
            .map(|p| p.address.as_str())
            .collect::<Vec<_>>(),
        ["mock_thing.web"]
    );

    let p = plan(&e, &crashed, "b").await;
    assert!(
        p.adopted.is_empty() && p.resolved_intents.len() == 1,
        "the intent made nothing"
    );
    let web_changes: Vec<_> = p
        .changes
        .iter()
        .filter(|c| c.addr == web())
        .map(|c| (c.action, c.deposed.is_some()))
        .collect();
    assert_eq!(
        web_changes,
        [(Action::Create, false), (Action::Delete, true)]
    );

    let done = apply(&e, crashed, "b", &backend).await;
    let webs = objects_named(&mock, "web");
    assert_eq!(webs.len(), 1, "{webs:?}");
    assert_eq!(webs[0].1, "b");
    assert_eq!(done.instance(&web()).map(id_of), Some(webs[0].0.clone()));
    assert!(done.deposed_addrs().is_empty() && done.pending.is_empty());
    assert!(plan(&e, &done, "b").await.is_empty());
}

#[tokio::test]
async fn a_crash_after_the_create_acted_adopts_the_new_object_and_deletes_the_old() {
    let dir = tempfile::tempdir().unwrap();
    let backend = Arc::new(LocalBackend::new(dir.path().join("terraform.tfstate")));
    let mock = Arc::new(MockProvider::new());
    let e = engine(&mock);
    let crashed = crash_during_replacement(&mock, &e, &backend, "create", true).await;

    let webs = objects_named(&mock, "web");
    assert_eq!(
        webs.len(),
        2,
        "the new object exists, unknown to the state but for its intent"
    );
    let new = webs.iter().find(|(_, z)| z == "b").unwrap().0.clone();
    assert!(crashed.instance(&web()).is_none());
    assert_eq!(crashed.deposed_addrs().len(), 1);
    assert_eq!(crashed.pending.len(), 1);

    let p = plan(&e, &crashed, "b").await;
    assert_eq!(
        p.adopted.iter().map(|a| a.addr.clone()).collect::<Vec<_>>(),
        [web()]
    );
    let web_changes: Vec<_> = p
        .changes
        .iter()
        .filter(|c| c.addr == web() && c.action != Action::NoOp)
        .map(|c| (c.action, c.deposed.is_some()))
        .collect();
    assert_eq!(
        web_changes,
        [(Action::Delete, true)],
        "the adopted object is kept, the deposed one deleted"
    );

    let done = apply(&e, crashed, "b", &backend).await;
    assert_eq!(
        objects_named(&mock, "web"),
        [(new.clone(), "b".to_string())]
    );
    assert_eq!(done.instance(&web()).map(id_of), Some(new));
    assert!(done.deposed_addrs().is_empty() && done.pending.is_empty());
    assert!(plan(&e, &done, "b").await.is_empty());
}

#[tokio::test]
async fn every_create_of_a_replacement_finds_the_old_object_deposed_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("terraform.tfstate");
    let backend = Arc::new(LocalBackend::new(path.clone()));
    let mock = Arc::new(MockProvider::new());
    let e = engine(&mock);
    let st = apply(&e, State::new(), "a", &backend).await;
    let old = st.instance(&web()).map(id_of).unwrap();
    let seen: Arc<std::sync::Mutex<Vec<String>>> = Arc::default();
    let (seen2, path2) = (seen.clone(), path.clone());
    mock.set_apply_hook(Arc::new(move |action, identity| {
        let disk =
            terrane::state::statefile::from_json(&std::fs::read_to_string(&path2).unwrap(), "disk")
                .unwrap();
        let deposed: Vec<String> = disk
            .deposed_addrs()
            .iter()
            .filter_map(|(a, k)| disk.deposed(a, k))
            .map(id_of)
            .collect();
        let current = disk.instance(&web()).map(id_of).unwrap_or_default();
        seen2.lock().unwrap().push(format!(
            "{action} {} current={current} deposed={deposed:?}",
            identity.address
        ));
    }));
    apply(&e, st, "b", &backend).await;
    // (The dependent's update needs no write first: it is not a crash window.)
    let seen: Vec<String> = seen
        .lock()
        .unwrap()
        .iter()
        .filter(|s| !s.starts_with("update"))
        .cloned()
        .collect();
    let new = objects_named(&mock, "web")[0].0.clone();
    assert_eq!(
        seen,
        [
            format!("create mock_thing.web current= deposed=[\"{old}\"]"),
            format!("delete mock_thing.web current={new} deposed=[\"{old}\"]"),
        ]
    );
    assert_eq!(objects_named(&mock, "web").len(), 1);
    assert!(backend
        .read()
        .await
        .unwrap()
        .unwrap()
        .deposed_addrs()
        .is_empty());
}

#[tokio::test]
async fn a_failed_create_that_made_nothing_makes_the_old_object_current_again() {
    let dir = tempfile::tempdir().unwrap();
    let backend = Arc::new(LocalBackend::new(dir.path().join("terraform.tfstate")));
    let mock = Arc::new(MockProvider::new());
    let e = engine(&mock);
    let st = apply(&e, State::new(), "a", &backend).await;
    let old = st.instance(&web()).map(id_of).unwrap();
    mock.fail_on_name("web");
    let p = plan(&e, &st, "b").await;
    let out = e
        .apply(
            &p,
            st,
            &ApplyOptions {
                variables: zone("b").variables,
                ..Default::default()
            },
            backend.clone(),
        )
        .await;
    assert!(out.diags.has_errors());
    let disk = backend.read().await.unwrap().unwrap();
    assert_eq!(
        disk.instance(&web()).map(id_of),
        Some(old.clone()),
        "the old object is current again"
    );
    assert!(disk.deposed_addrs().is_empty());
    assert_eq!(
        objects_named(&mock, "web"),
        [(old, "a".to_string())],
        "and it was not deleted"
    );
    // The replacement is simply planned again.
    mock.clear_failures();
    let p = plan(&e, &disk, "b").await;
    assert_eq!(
        p.changes.iter().find(|c| c.addr == web()).map(|c| c.action),
        Some(Action::CreateThenDelete)
    );
}

#[tokio::test]
async fn destroy_deletes_deposed_objects_and_a_vanished_one_is_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let backend = Arc::new(LocalBackend::new(dir.path().join("terraform.tfstate")));
    let mock = Arc::new(MockProvider::new());
    let e = engine(&mock);
    let crashed = crash_during_replacement(&mock, &e, &backend, "delete", false).await;
    let (p, d) = e
        .plan(
            &crashed,
            &PlanOptions {
                destroy: true,
                ..zone("b")
            },
        )
        .await;
    let p = p.unwrap_or_else(|| panic!("{d:?}"));
    assert_eq!(
        p.counts(),
        (0, 0, 3),
        "two current objects and the deposed one"
    );
    let out = e
        .apply(
            &p,
            crashed,
            &ApplyOptions {
                variables: zone("b").variables,
                ..Default::default()
            },
            backend.clone(),
        )
        .await;
    assert!(
        !out.diags.has_errors(),
        "{:?}",
        out.diags.iter().map(|d| d.to_string()).collect::<Vec<_>>()
    );
    assert!(mock.world().is_empty(), "{:?}", mock.world());
    assert!(backend.read().await.unwrap().unwrap().is_empty());

    // A deposed object deleted outside terrane: refresh drops it, shown as drift.
    let crashed = crash_during_replacement(&mock, &e, &backend, "delete", false).await;
    let (dpath, dk) = crashed.deposed_addrs().remove(0);
    let old = id_of(crashed.deposed(&dpath, &dk).unwrap());
    assert!(mock.delete_behind_the_back(&old));
    let p = plan(&e, &crashed, "b").await;
    assert!(
        p.changes.iter().all(|c| c.action == Action::NoOp),
        "{:?}",
        p.changes
    );
    assert_eq!(p.gone_deposed, [(web(), dk.clone())]);
    assert!(!p.is_empty(), "apply must still drop it from the state");
    let shown = terrane::plan::render::render_plan(&p, &Default::default());
    assert!(
        shown.contains(&format!(
            "# mock_thing.web (deposed object {dk}) has been deleted"
        )),
        "{shown}"
    );
    let done = apply(&e, crashed, "b", &backend).await;
    assert!(done.deposed_addrs().is_empty());
    assert!(plan(&e, &done, "b").await.is_empty());
}
