//! Engine tests, one fixture directory per case (Terraform's `testdata/<case>/` habit),
//! run against the recording mock provider with the built-in providers beside it.
//!
//! The mock proves nothing about real providers; these tests pin down what the ENGINE
//! decides and does: which action and reason per instance, in which order the provider
//! is called, what the state holds afterwards. Fixtures live in `tests/fixtures/engine/`;
//! a case with several steps has `step1/`, `step2/`, ... applied in turn against the same
//! state and the same mock "world".

use std::path::{Path, PathBuf};
use std::sync::Arc;

use terrane::addrs::AbsResourceInstance;
use terrane::config::load::load_dir;
use terrane::diag::Diagnostics;
use terrane::engine::{
    ApplyOptions, ApplyOutcome, Engine, InputValue, InputVar, InputVars, PlanOptions,
};
use terrane::lang::value::Value;
use terrane::plan::{Action, ActionReason, Plan};
use terrane::providers::mock::{mock_registry_with_builtins, MockProvider};
use terrane::state::backend::Backend;
use terrane::state::local::LocalBackend;
use terrane::state::State;

fn fixture(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/engine")
        .join(path)
}

fn render(diags: &Diagnostics) -> String {
    let ui = terrane::cli::ui::Ui::new(false);
    diags
        .iter()
        .map(|d| ui.render_diag(d))
        .collect::<Vec<_>>()
        .join("\n")
}

/// One test's world: a mock provider whose objects persist across steps, the state, and a
/// local backend in a temporary directory that apply persists to.
struct World {
    mock: Arc<MockProvider>,
    state: State,
    backend: Arc<LocalBackend>,
    _dir: tempfile::TempDir,
    vars: InputVars,
}

impl World {
    fn new() -> World {
        let dir = tempfile::tempdir().unwrap();
        let backend = Arc::new(LocalBackend::new(dir.path().join("terraform.tfstate")));
        World {
            mock: Arc::new(MockProvider::new()),
            state: State::new(),
            backend,
            _dir: dir,
            vars: InputVars::new(),
        }
    }

    fn set_var(&mut self, name: &str, value: Value) {
        self.vars.insert(
            name.to_string(),
            InputVar {
                value: InputValue::Value(value),
                span: None,
                source: "test".into(),
            },
        );
    }

    fn engine(&self, case: &str) -> Engine {
        let dir = fixture(case);
        let (config, diags) = load_dir(&dir);
        let config =
            config.unwrap_or_else(|| panic!("fixture {case} does not load:\n{}", render(&diags)));
        assert!(!diags.has_errors(), "fixture {case}:\n{}", render(&diags));
        Engine::new(config, mock_registry_with_builtins(self.mock.clone()), dir)
    }

    async fn try_plan(&self, case: &str) -> (Option<Plan>, Diagnostics) {
        let opts = PlanOptions {
            variables: self.vars.clone(),
            ..Default::default()
        };
        self.engine(case).plan(&self.state, &opts).await
    }

    async fn plan(&self, case: &str) -> Plan {
        let (plan, diags) = self.try_plan(case).await;
        plan.unwrap_or_else(|| panic!("plan of {case} failed:\n{}", render(&diags)))
    }

    /// Plans and applies `case`; the world's state becomes the outcome's.
    async fn apply(&mut self, case: &str) -> (Plan, ApplyOutcome) {
        let plan = self.plan(case).await;
        let opts = ApplyOptions {
            variables: self.vars.clone(),
            ..Default::default()
        };
        let out = self
            .engine(case)
            .apply(&plan, self.state.clone(), &opts, self.backend.clone())
            .await;
        self.state = out.state.clone();
        (plan, out)
    }

    /// Applies and asserts it succeeded and that a following plan has no changes.
    async fn converge(&mut self, case: &str) -> Plan {
        let (plan, out) = self.apply(case).await;
        assert!(
            !out.diags.has_errors(),
            "apply of {case} failed:\n{}",
            render(&out.diags)
        );
        let again = self.plan(case).await;
        assert!(
            again.is_empty(),
            "plan after apply of {case} is not empty: {:?}",
            changes(&again)
        );
        plan
    }

    fn addrs(&self) -> Vec<String> {
        self.state
            .instance_addrs()
            .iter()
            .map(|a| a.to_string())
            .collect()
    }

    fn attr(&self, addr: &str, name: &str) -> Value {
        let a: AbsResourceInstance = addr.parse().unwrap();
        let obj = self
            .state
            .instance(&a)
            .unwrap_or_else(|| panic!("{addr} not in state: {:?}", self.addrs()));
        match &obj.attributes {
            Value::Object(m) => m
                .get(name)
                .cloned()
                .unwrap_or_else(|| panic!("{addr} has no {name}")),
            other => panic!("{addr} attributes are {other:?}"),
        }
    }

    /// What the backend holds on disk, parsed back: must equal what apply returned.
    async fn persisted(&self) -> State {
        self.backend
            .read()
            .await
            .unwrap()
            .expect("a state file was written")
    }
}

/// The changes of a plan that do something, as `SYMBOL ADDR (REASON)` lines.
fn changes(plan: &Plan) -> Vec<String> {
    plan.changes
        .iter()
        .filter(|c| c.action != Action::NoOp)
        .map(|c| {
            let reason = match &c.reason {
                ActionReason::None => String::new(),
                r => format!(
                    " ({})",
                    serde_json::to_value(r).unwrap()["kind"].as_str().unwrap()
                ),
            };
            format!("{} {}{}", c.action.symbol(), c.addr, reason)
        })
        .collect()
}

fn s(v: &str) -> Value {
    Value::String(v.to_string())
}

#[tokio::test]
async fn create() {
    let mut w = World::new();
    let plan = w.converge("create").await;
    assert_eq!(changes(&plan), ["+ mock_thing.a"]);
    assert_eq!(plan.counts(), (1, 0, 0));
    assert_eq!(w.addrs(), ["mock_thing.a"]);
    let id = w.attr("mock_thing.a", "id");
    assert_eq!(w.state.outputs["a_id"].value, id);
    assert_eq!(
        w.mock.calls_starting("apply"),
        ["apply create mock_thing name=a"]
    );
    // What is on disk is exactly what apply returned.
    let disk = w.persisted().await;
    assert_eq!(disk.lineage, w.state.lineage);
    assert_eq!(disk.instance_addrs(), w.state.instance_addrs());
}

#[tokio::test]
async fn no_op_makes_no_apply_calls() {
    let mut w = World::new();
    w.converge("create").await;
    w.mock.clear_calls();
    let (plan, out) = w.apply("create").await;
    assert!(plan.is_empty());
    assert_eq!(out.applied, 0);
    assert!(
        w.mock.calls_starting("apply").is_empty(),
        "{:?}",
        w.mock.calls()
    );
}

#[tokio::test]
async fn update_in_place() {
    let mut w = World::new();
    w.converge("update/step1").await;
    let id = w.attr("mock_thing.a", "id");
    let plan = w.converge("update/step2").await;
    assert_eq!(changes(&plan), ["~ mock_thing.a"]);
    assert_eq!(plan.counts(), (0, 1, 0));
    assert_eq!(
        w.attr("mock_thing.a", "id"),
        id,
        "an update keeps the object"
    );
    assert_eq!(w.attr("mock_thing.a", "size"), Value::int(2));
}

#[tokio::test]
async fn replace_names_the_attribute_and_updates_dependents() {
    let mut w = World::new();
    w.converge("replace/step1").await;
    let old_id = w.attr("mock_thing.a", "id");
    w.mock.clear_calls();
    let plan = w.converge("replace/step2").await;
    // b's name embeds a's id, which is unknown until the replacement exists; its name is
    // not force-new, so b is updated in place.
    assert_eq!(
        changes(&plan),
        [
            "-/+ mock_thing.a (replace_because_cannot_update)",
            "~ mock_thing.b"
        ]
    );
    let a = plan
        .changes
        .iter()
        .find(|c| c.addr.to_string() == "mock_thing.a")
        .unwrap();
    assert_eq!(
        format!("{:?}", a.requires_replace),
        format!("{:?}", vec![terrane::providers::attr_path(&["zone"])])
    );
    let new_id = w.attr("mock_thing.a", "id");
    assert_ne!(new_id, old_id);
    assert_eq!(
        w.attr("mock_thing.b", "name"),
        s(&format!("b-{}", new_id.as_str().unwrap()))
    );
    // Delete-then-create: the old object goes before the new one is made.
    let applies = w.mock.calls_starting("apply");
    assert_eq!(
        &applies[..2],
        [
            "apply delete mock_thing name=a",
            "apply create mock_thing name=a"
        ]
    );
    assert!(w.mock.object(old_id.as_str().unwrap()).is_none());
}

#[tokio::test]
async fn create_before_destroy_creates_first() {
    let mut w = World::new();
    w.converge("create_before_destroy/step1").await;
    let old_id = w.attr("mock_thing.a", "id");
    w.mock.clear_calls();
    let plan = w.converge("create_before_destroy/step2").await;
    assert_eq!(
        changes(&plan),
        ["+/- mock_thing.a (replace_because_cannot_update)"]
    );
    assert_eq!(
        w.mock.calls_starting("apply"),
        [
            "apply create mock_thing name=a2",
            "apply delete mock_thing name=a"
        ]
    );
    assert!(w.mock.object(old_id.as_str().unwrap()).is_none());
    assert_eq!(w.addrs(), ["mock_thing.a"]);
    assert_eq!(w.attr("mock_thing.a", "name"), s("a2"));
}

#[tokio::test]
async fn orphans_are_deleted_in_reverse_dependency_order() {
    let mut w = World::new();
    w.converge("delete_orphan/step1").await;
    assert_eq!(
        w.addrs(),
        [
            "mock_thing.gone",
            "mock_thing.keep",
            "module.sub.mock_thing.inner"
        ]
    );
    w.mock.clear_calls();
    let plan = w.converge("delete_orphan/step2").await;
    assert_eq!(
        changes(&plan),
        [
            "- mock_thing.gone (delete_because_no_resource_config)",
            "- module.sub.mock_thing.inner (delete_because_no_module)"
        ]
    );
    assert_eq!(plan.counts(), (0, 0, 2));
    assert_eq!(w.addrs(), ["mock_thing.keep"]);
    let mut deletes = w.mock.calls_starting("apply delete");
    deletes.sort();
    let keep = w.attr("mock_thing.keep", "id");
    assert_eq!(deletes, [format!("apply delete mock_thing name=gone-{}", keep.as_str().unwrap()), "apply delete mock_thing name=inner".to_string()]);
}

#[tokio::test]
async fn deletion_order_follows_state_dependencies() {
    // `gone` depended on `keep`; destroying everything must delete `gone` first, even
    // though the configuration is not consulted for destroy.
    let mut w = World::new();
    w.converge("delete_orphan/step1").await;
    let opts = PlanOptions {
        destroy: true,
        ..Default::default()
    };
    let engine = w.engine("delete_orphan/step1");
    let (plan, diags) = engine.plan(&w.state, &opts).await;
    let plan = plan.unwrap_or_else(|| panic!("{}", render(&diags)));
    assert_eq!(plan.counts(), (0, 0, 3));
    w.mock.clear_calls();
    let out = engine
        .apply(
            &plan,
            w.state.clone(),
            &ApplyOptions::default(),
            w.backend.clone(),
        )
        .await;
    assert!(!out.diags.has_errors(), "{}", render(&out.diags));
    assert!(out.state.instance_addrs().is_empty());
    let events = w.mock.apply_events();
    let pos = |needle: &str| {
        events
            .iter()
            .position(|e| e.starts_with("end") && e.contains(needle))
            .unwrap()
    };
    let begin = |needle: &str| {
        events
            .iter()
            .position(|e| e.starts_with("begin") && e.contains(needle))
            .unwrap()
    };
    assert!(pos("name=gone-") < begin("name=keep"), "{events:?}");
    assert!(w.mock.world().is_empty());
}

#[tokio::test]
async fn data_sources_read_at_plan_or_during_apply() {
    let mut w = World::new();
    w.mock.set_lookup("region", "eu");
    let plan = w.plan("data_read").await;
    // The known data source is read during plan (no change shown); the one whose argument
    // is unknown until mock_thing.a exists is read during apply.
    assert_eq!(
        changes(&plan),
        [
            "+ mock_thing.a",
            "<= data.mock_lookup.late (read_because_config_unknown)"
        ]
    );
    let a = plan
        .changes
        .iter()
        .find(|c| c.addr.to_string() == "mock_thing.a")
        .unwrap();
    let name = match a.after.as_ref().unwrap() {
        Value::Object(m) => m["name"].clone(),
        _ => unreachable!(),
    };
    assert_eq!(name, s("a-eu"));
    let (_, out) = w.apply("data_read").await;
    assert!(!out.diags.has_errors(), "{}", render(&out.diags));
    let a_id = w.attr("mock_thing.a", "id");
    let late = w.attr("data.mock_lookup.late", "name");
    assert_eq!(late, a_id);
    assert!(w.state.outputs.contains_key("late"));
    assert!(w.plan("data_read").await.is_empty());
}

#[tokio::test]
async fn prevent_destroy_refuses_with_a_diagnostic() {
    let mut w = World::new();
    w.converge("prevent_destroy/step1").await;
    let (plan, diags) = w.try_plan("prevent_destroy/step2").await;
    assert!(
        plan.is_none(),
        "a plan that would destroy a protected object must fail"
    );
    let text = render(&diags);
    assert!(text.contains("prevent_destroy"), "{text}");
    assert!(text.contains("mock_thing.db"), "{text}");
    // The span points into the fixture's lifecycle block.
    let d = diags.iter().find(|d| d.is_error()).unwrap();
    assert!(
        d.span
            .as_ref()
            .is_some_and(|s| s.file.name.ends_with("main.tf")),
        "{text}"
    );
    // Destroy is refused as well; nothing was touched.
    let (plan, _) = w
        .engine("prevent_destroy/step1")
        .plan(
            &w.state,
            &PlanOptions {
                destroy: true,
                ..Default::default()
            },
        )
        .await;
    if let Some(plan) = plan {
        let out = w
            .engine("prevent_destroy/step1")
            .apply(
                &plan,
                w.state.clone(),
                &ApplyOptions::default(),
                w.backend.clone(),
            )
            .await;
        assert!(
            out.diags.has_errors(),
            "destroy of a prevent_destroy object must fail"
        );
        assert_eq!(out.state.instance_addrs().len(), 1);
    }
    assert_eq!(w.mock.world().len(), 1);
}

#[tokio::test]
async fn ignore_changes_hides_configured_differences() {
    let mut w = World::new();
    w.converge("ignore_changes/step1").await;
    let plan = w.plan("ignore_changes/step2").await;
    assert!(plan.is_empty(), "{:?}", changes(&plan));
    // A change made outside terrane to an ignored attribute is not undone either.
    let id = w.attr("mock_thing.a", "id");
    w.mock
        .change_behind_the_back(id.as_str().unwrap(), "size", Value::int(9));
    let plan = w.plan("ignore_changes/step2").await;
    assert!(changes(&plan).is_empty(), "{:?}", changes(&plan));
}

#[tokio::test]
async fn replace_triggered_by_replaces_on_upstream_change() {
    let mut w = World::new();
    w.converge("replace_triggered_by/step1").await;
    let server_id = w.attr("mock_thing.server", "id");
    let plan = w.converge("replace_triggered_by/step2").await;
    assert_eq!(
        changes(&plan),
        [
            "~ mock_thing.config",
            "-/+ mock_thing.server (replace_by_triggers)"
        ]
    );
    assert_ne!(w.attr("mock_thing.server", "id"), server_id);
}

#[tokio::test]
async fn nested_modules_with_count_and_for_each() {
    let mut w = World::new();
    let plan = w.converge("nested_modules").await;
    assert_eq!(plan.counts(), (4, 0, 0));
    assert_eq!(
        w.addrs(),
        [
            "module.outer.module.inner[\"eu\"].module.leaf[0].mock_thing.t",
            "module.outer.module.inner[\"eu\"].module.leaf[1].mock_thing.t",
            "module.outer.module.inner[\"us\"].module.leaf[0].mock_thing.t",
            "module.outer.module.inner[\"us\"].module.leaf[1].mock_thing.t",
        ]
    );
    assert_eq!(
        w.attr(
            "module.outer.module.inner[\"us\"].module.leaf[1].mock_thing.t",
            "name"
        ),
        s("app-us-1")
    );
    let out = w.state.outputs["leaf_names"].value.to_json();
    assert_eq!(
        out,
        serde_json::json!({"eu": ["app-eu-0", "app-eu-1"], "us": ["app-us-0", "app-us-1"]})
    );
}

#[tokio::test]
async fn count_and_for_each_add_and_remove_instances() {
    let mut w = World::new();
    let set = |xs: &[&str]| Value::set_from(xs.iter().map(|x| s(x)).collect());
    w.set_var("n", Value::int(3));
    w.set_var("names", set(&["a", "b"]));
    w.converge("count_for_each").await;
    assert_eq!(
        w.addrs(),
        [
            "mock_thing.c[0]",
            "mock_thing.c[1]",
            "mock_thing.c[2]",
            "mock_thing.e[\"a\"]",
            "mock_thing.e[\"b\"]"
        ]
    );
    let c0 = w.attr("mock_thing.c[0]", "id");

    w.set_var("n", Value::int(1));
    w.set_var("names", set(&["b", "c"]));
    let plan = w.converge("count_for_each").await;
    assert_eq!(
        changes(&plan),
        [
            "- mock_thing.c[1] (delete_because_count_index)",
            "- mock_thing.c[2] (delete_because_count_index)",
            "- mock_thing.e[\"a\"] (delete_because_each_key)",
            "+ mock_thing.e[\"c\"]",
        ]
    );
    assert_eq!(
        w.attr("mock_thing.c[0]", "id"),
        c0,
        "remaining instances are untouched"
    );

    w.set_var("n", Value::int(2));
    let plan = w.converge("count_for_each").await;
    assert_eq!(changes(&plan), ["+ mock_thing.c[1]"]);

    // count = 0 and an empty set remove everything.
    w.set_var("n", Value::int(0));
    w.set_var("names", set(&[]));
    let plan = w.converge("count_for_each").await;
    assert_eq!(plan.counts(), (0, 0, 4));
    assert!(w.addrs().is_empty());
    assert!(w.mock.world().is_empty());
}

#[tokio::test]
async fn moved_renames_without_touching_the_object() {
    let mut w = World::new();
    w.converge("moved/step1").await;
    let id = w.attr("mock_thing.old", "id");
    let lid = w.attr("mock_thing.list[0]", "id");
    w.mock.clear_calls();
    let plan = w.converge("moved/step2").await;
    assert_eq!(plan.counts(), (0, 0, 0), "{:?}", changes(&plan));
    assert!(
        !plan.is_empty(),
        "a plan that moves addresses has something to apply"
    );
    let mut moved: Vec<_> = plan
        .changes
        .iter()
        .filter_map(|c| c.moved_from.as_ref().map(|f| format!("{f} -> {}", c.addr)))
        .collect();
    moved.sort();
    assert_eq!(
        moved,
        [
            "mock_thing.list[0] -> mock_thing.map[\"only\"]",
            "mock_thing.old -> mock_thing.new"
        ]
    );
    assert_eq!(w.addrs(), ["mock_thing.map[\"only\"]", "mock_thing.new"]);
    assert_eq!(w.attr("mock_thing.new", "id"), id);
    assert_eq!(w.attr("mock_thing.map[\"only\"]", "id"), lid);
    assert!(
        w.mock.calls_starting("apply").is_empty(),
        "{:?}",
        w.mock.calls()
    );
}

#[tokio::test]
async fn a_cycle_lists_every_edge_with_its_span() {
    let w = World::new();
    let (plan, diags) = w.try_plan("cycle").await;
    assert!(plan.is_none());
    let d = diags
        .iter()
        .find(|d| d.summary.to_lowercase().contains("cycle"))
        .unwrap_or_else(|| panic!("{}", render(&diags)));
    // Four edges: a -> c, c -> local.from_b, local.from_b -> b, b -> a; each with a span
    // on the reference that made it (the referenced object, without the attribute).
    let spans: Vec<String> = d
        .span
        .iter()
        .chain(d.related.iter().map(|(s, _)| s))
        .map(|s| s.text().to_string())
        .collect();
    for r in [
        "mock_thing.c",
        "local.from_b",
        "mock_thing.b",
        "mock_thing.a",
    ] {
        assert!(
            spans.iter().any(|t| t == r),
            "no edge span for {r}: {spans:?}\n{}",
            render(&diags)
        );
    }
    assert!(w.mock.calls_starting("apply").is_empty());
}

#[tokio::test]
async fn unknown_values_flow_through_a_chain() {
    let mut w = World::new();
    let plan = w.plan("unknown_chain").await;
    assert_eq!(plan.counts(), (3, 0, 0));
    let after = |addr: &str| {
        plan.changes
            .iter()
            .find(|c| c.addr.to_string() == addr)
            .unwrap()
            .after
            .clone()
            .unwrap()
    };
    // Every value derived from a.id is unknown at plan time: through a local, a module
    // input, a function call, a module output and a template.
    for (addr, attr) in [
        ("module.m.mock_thing.b", "name"),
        ("mock_thing.c", "name"),
        ("mock_thing.c", "tags"),
    ] {
        match after(addr) {
            Value::Object(m) => assert!(
                !m[attr].is_wholly_known(),
                "{addr}.{attr} should be unknown: {:?}",
                m[attr]
            ),
            other => panic!("{other:?}"),
        }
    }
    let out = plan.outputs.iter().find(|o| o.name == "c_name").unwrap();
    assert!(!out.after.as_ref().unwrap().is_wholly_known());
    let rendered = terrane::plan::render::render_plan(&plan, &Default::default());
    assert!(rendered.contains("(known after apply)"), "{rendered}");

    w.converge("unknown_chain").await;
    let a = w.attr("mock_thing.a", "id");
    let b_name = format!("FROM-{}", a.as_str().unwrap().to_uppercase());
    assert_eq!(w.attr("module.m.mock_thing.b", "name"), s(&b_name));
    let b_id = w.attr("module.m.mock_thing.b", "id");
    assert_eq!(
        w.attr("mock_thing.c", "name"),
        s(&format!("{b_name}-{}", b_id.as_str().unwrap()))
    );
    assert_eq!(
        w.state.outputs["c_name"].value,
        w.attr("mock_thing.c", "name")
    );
}

#[tokio::test]
async fn a_failure_mid_apply_skips_dependents_and_keeps_what_completed() {
    let mut w = World::new();
    w.mock.fail_on_name("broken");
    let (plan, out) = w.apply("apply_failure").await;
    assert_eq!(plan.counts(), (7, 0, 0));
    assert!(out.diags.has_errors());
    let text = render(&out.diags);
    assert!(
        text.contains("mock_thing.broken"),
        "the error names the failing instance:\n{text}"
    );
    // Dependents of the failure, direct and through a module, are skipped and say why.
    let skipped: Vec<&str> = out.skipped.iter().map(|(a, _)| a.as_str()).collect();
    assert!(
        skipped
            .iter()
            .any(|a| a.contains("mock_thing.after_broken")),
        "{skipped:?}"
    );
    assert!(
        skipped.iter().any(|a| a.contains("module.downstream")),
        "{skipped:?}"
    );
    assert!(
        out.skipped
            .iter()
            .all(|(_, why)| why.contains("mock_thing.broken")),
        "{:?}",
        out.skipped
    );
    // The state holds exactly what completed: base and the independent instances.
    let expected = [
        "mock_thing.base",
        "mock_thing.independent[0]",
        "mock_thing.independent[1]",
        "mock_thing.independent[2]",
    ];
    assert_eq!(w.addrs(), expected);
    assert_eq!(out.applied, 4);
    // ... and so does the file on disk, and the provider's world.
    let disk = w.persisted().await;
    assert_eq!(
        disk.instance_addrs()
            .iter()
            .map(|a| a.to_string())
            .collect::<Vec<_>>(),
        expected
    );
    assert_eq!(w.mock.world().len(), 4);
    assert!(!w.state.outputs.contains_key("broken_id"));

    // Once the cause is fixed, the next apply creates only what is missing.
    w.mock.clear_failures();
    let plan = w.converge("apply_failure").await;
    assert_eq!(plan.counts(), (3, 0, 0));
    assert_eq!(w.mock.world().len(), 7);
}

#[tokio::test]
async fn drift_is_refreshed_and_corrected() {
    let mut w = World::new();
    w.converge("drift").await;
    let changed = w.attr("mock_thing.changed", "id");
    let vanished = w.attr("mock_thing.vanished", "id");
    w.mock
        .change_behind_the_back(changed.as_str().unwrap(), "size", Value::int(7));
    w.mock.delete_behind_the_back(vanished.as_str().unwrap());
    let plan = w.plan("drift").await;
    assert_eq!(
        plan.drift.len(),
        2,
        "{:?}",
        plan.drift
            .iter()
            .map(|d| d.addr.to_string())
            .collect::<Vec<_>>()
    );
    assert_eq!(
        changes(&plan),
        [
            "~ mock_thing.changed",
            "~ mock_thing.dependent",
            "+ mock_thing.vanished (create_because_gone)"
        ]
    );
    w.converge("drift").await;
    assert_eq!(w.attr("mock_thing.changed", "size"), Value::int(1));
    let new_vanished = w.attr("mock_thing.vanished", "id");
    assert_ne!(new_vanished, vanished);
    assert_eq!(
        w.attr("mock_thing.dependent", "name"),
        s(&format!("dep-{}", new_vanished.as_str().unwrap()))
    );
}

#[tokio::test]
async fn data_sources_leave_the_state_with_their_configuration() {
    let mut w = World::new();
    w.mock.set_lookup("region", "eu");
    w.converge("data_read").await;
    assert!(w.addrs().contains(&"data.mock_lookup.known".to_string()));
    w.converge("create").await;
    assert!(
        !w.addrs().iter().any(|a| a.starts_with("data.")),
        "{:?}",
        w.addrs()
    );
}
