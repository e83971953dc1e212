//! A recording mock provider for ENGINE unit tests. It proves nothing about real
//! providers; it lets engine tests see exactly which provider calls were made, in which
//! order and with how much parallelism, and inject failures and out-of-band changes.
//!
//! This module owns `MockProvider` (a configurable schema, a call log, an in-memory
//! "world" of objects keyed by id, failure and delay injection, a high-water mark of
//! concurrent applies) and the registry helpers that let a test hand one shared instance
//! to the engine.
//!
//! How tests get the shared instance: `ProviderFactory` is a plain `fn` pointer, so it
//! cannot capture an `Arc`. `register_mock` parks a `Weak` reference to the test's mock in
//! one of `SLOTS` global slots and registers that slot's factory, which hands out clones of
//! the same `Arc` every time the engine instantiates the provider. Keep your
//! `Arc<MockProvider>` alive for the whole test; a slot whose mock was dropped is reused.
//!
//! ```ignore
//! let mock = Arc::new(MockProvider::new());
//! let registry = mock_registry(mock.clone());          // "mock" only
//! // or: let mut r = Registry::builtin(); register_mock(&mut r, "mock", mock.clone());
//! // ... run the engine with `registry` ...
//! assert_eq!(mock.calls(), vec!["validate mock_thing", "plan mock_thing", "apply create mock_thing name=a"]);
//! ```
//!
//! Call log entries (`calls()`): `configure`, `validate TYPE`, `plan TYPE`,
//! `apply create|update|delete TYPE name=N`, `read TYPE id=I`, `read_data TYPE name=N`,
//! `import TYPE id=I`, `recover TYPE token=T`. `N` is the object's `name` attribute
//! (`?` when unknown, `null` when null). `apply_events()` additionally logs
//! `begin …`/`end …` around every apply, for ordering assertions across delays.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

use super::sdk::{attr, computed_only, get_str, plan_by_schema};
use super::{
    attr_path, ApplyRequest, ApplyResponse, AttributeSchema, BlockSchema, ImportResponse,
    ObjectIdentity, PlanRequest, PlanResponse, Provider, ProviderDiag, ProviderDiags,
    ProviderFactory, ProviderSchema, ReadResponse, Registry, ResourceSchema,
};
use crate::lang::value::{Type, Value};

pub const MOCK_THING: &str = "mock_thing";
pub const MOCK_LOOKUP: &str = "mock_lookup";

/// The default schema: provider argument `region` (optional string); resource
/// `mock_thing` with `name` (required string), `size` (optional number, updatable),
/// `zone` (optional string, force-new), `tags` (optional map(string)), `secret`
/// (optional sensitive string) and `id` (computed string); data source `mock_lookup`
/// with `name` (required string) and computed `id` and `value` (strings).
pub fn default_schema() -> ProviderSchema {
    let mut s = ProviderSchema {
        provider: BlockSchema::new().attr("region", AttributeSchema::optional(Type::String)),
        ..Default::default()
    };
    s.resources.insert(
        MOCK_THING.to_string(),
        ResourceSchema {
            version: 0,
            block: BlockSchema::new()
                .attr("name", AttributeSchema::required(Type::String))
                .attr("size", AttributeSchema::optional(Type::Number))
                .attr("zone", AttributeSchema::optional(Type::String).force_new())
                .attr("tags", AttributeSchema::optional(Type::map(Type::String)))
                .attr(
                    "secret",
                    AttributeSchema::optional(Type::String).sensitive(),
                )
                .attr("id", AttributeSchema::computed(Type::String)),
        },
    );
    s.data_sources.insert(
        MOCK_LOOKUP.to_string(),
        ResourceSchema {
            version: 0,
            block: BlockSchema::new()
                .attr("name", AttributeSchema::required(Type::String))
                .attr("id", AttributeSchema::computed(Type::String))
                .attr("value", AttributeSchema::computed(Type::String)),
        },
    );
    s
}

/// One object in the mock's world.
#[derive(Clone, Debug)]
pub struct WorldObject {
    pub type_name: String,
    /// The attributes, without sensitive marks.
    pub value: Value,
    /// The create token of the apply that made it (for `recover`).
    pub token: String,
}

/// Called at the start of every `apply_change` with the request's action ("create",
/// "update", "delete") and identity: lets a test look at the world (the state file on
/// disk, say) at the moment the provider is asked to act.
pub type ApplyHook = Arc<dyn Fn(&str, &ObjectIdentity) + Send + Sync>;

#[derive(Default)]
struct Inner {
    calls: Vec<String>,
    events: Vec<String>,
    world: BTreeMap<String, WorldObject>,
    fail_names: BTreeSet<String>,
    fail_validate_names: BTreeSet<String>,
    lookups: BTreeMap<String, String>,
    apply_delay: Duration,
    after_apply_delay: Duration,
    apply_hook: Option<ApplyHook>,
    /// `apply_change` calls of this action ("create", "update", "delete") never answer,
    /// as if the process died during the call: before acting (`false`) or after (`true`).
    stall: Option<(String, bool)>,
    configured: Option<Value>,
}

/// A provider that records its calls and keeps its objects in memory. Any resource type
/// of its schema works generically: arguments come from the configuration, computed
/// attributes are filled at create (`id` = "mock-N", other strings "computed-ATTR",
/// numbers 0, bools false, collections empty).
pub struct MockProvider {
    schema: ProviderSchema,
    inner: Mutex<Inner>,
    next_id: AtomicU64,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
}

impl Default for MockProvider {
    fn default() -> Self {
        Self::new()
    }
}

/// Decrements the in-flight count when an apply ends (even if its future is dropped).
struct InFlight<'a>(&'a AtomicUsize);
impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

fn describe(v: &Value) -> String {
    if v.is_null() {
        "null".to_string()
    } else if !v.is_wholly_known() {
        "?".to_string()
    } else if let Some(s) = v.as_str() {
        s.to_string()
    } else {
        v.clone().deep_unmark().to_json().to_string()
    }
}

/// A placeholder value for a computed attribute of type `ty`.
fn computed_placeholder(name: &str, ty: &Type) -> Value {
    match ty {
        Type::String => Value::String(format!("computed-{name}")),
        Type::Number => Value::int(0),
        Type::Bool => Value::Bool(false),
        Type::List(_) => Value::List(Vec::new()),
        Type::Set(_) => Value::Set(Vec::new()),
        Type::Tuple(_) => Value::Tuple(Vec::new()),
        Type::Map(_) => Value::Map(BTreeMap::new()),
        Type::Object(_) | Type::Dynamic => Value::Null(ty.clone()),
    }
}

/// Replaces every unknown inside `v` by null (for arguments still unknown at apply).
fn resolve_unknowns(v: &Value) -> Value {
    match v {
        Value::Unknown(t) => Value::Null(t.clone()),
        Value::Sensitive(inner) => resolve_unknowns(inner).mark_sensitive(),
        Value::List(vs) => Value::List(vs.iter().map(resolve_unknowns).collect()),
        Value::Set(vs) => Value::set_from(vs.iter().map(resolve_unknowns).collect()),
        Value::Tuple(vs) => Value::Tuple(vs.iter().map(resolve_unknowns).collect()),
        Value::Map(m) => Value::Map(
            m.iter()
                .map(|(k, e)| (k.clone(), resolve_unknowns(e)))
                .collect(),
        ),
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, e)| (k.clone(), resolve_unknowns(e)))
                .collect(),
        ),
        other => other.clone(),
    }
}

impl MockProvider {
    /// A mock with `default_schema()`.
    pub fn new() -> Self {
        Self::with_schema(default_schema())
    }

    /// A mock with a schema of the test's choosing.
    pub fn with_schema(schema: ProviderSchema) -> Self {
        MockProvider {
            schema,
            inner: Mutex::new(Inner::default()),
            next_id: AtomicU64::new(1),
            in_flight: AtomicUsize::new(0),
            max_in_flight: AtomicUsize::new(0),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A poisoned lock only means a test thread panicked; the data is still usable.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn record(&self, call: String) {
        self.lock().calls.push(call);
    }

    // ---- inspection ----------------------------------------------------------------

    /// Every call so far, in order.
    pub fn calls(&self) -> Vec<String> {
        self.lock().calls.clone()
    }
    /// The calls that start with `prefix` (e.g. "apply").
    pub fn calls_starting(&self, prefix: &str) -> Vec<String> {
        self.lock()
            .calls
            .iter()
            .filter(|c| c.starts_with(prefix))
            .cloned()
            .collect()
    }
    pub fn clear_calls(&self) {
        let mut i = self.lock();
        i.calls.clear();
        i.events.clear();
    }
    /// `begin apply …` and `end apply …` for every apply, in the order they happened.
    pub fn apply_events(&self) -> Vec<String> {
        self.lock().events.clone()
    }
    /// The highest number of `apply_change` calls seen running at the same time.
    pub fn max_concurrent_applies(&self) -> usize {
        self.max_in_flight.load(Ordering::SeqCst)
    }
    /// The objects that exist, by id.
    pub fn world(&self) -> BTreeMap<String, WorldObject> {
        self.lock().world.clone()
    }
    /// The object with this id, if it exists.
    pub fn object(&self, id: &str) -> Option<Value> {
        self.lock().world.get(id).map(|o| o.value.clone())
    }
    /// The id of the object whose `name` is `name`, if one exists.
    pub fn id_of_name(&self, name: &str) -> Option<String> {
        self.lock()
            .world
            .iter()
            .find(|(_, o)| get_str(&o.value, "name") == Some(name))
            .map(|(id, _)| id.clone())
    }
    /// The configuration of the last `configure` call.
    pub fn configured(&self) -> Option<Value> {
        self.lock().configured.clone()
    }

    // ---- injection -----------------------------------------------------------------

    /// Deletes an object out of band; returns whether it existed.
    pub fn delete_behind_the_back(&self, id: &str) -> bool {
        self.lock().world.remove(id).is_some()
    }
    /// Changes one attribute of an object out of band; returns whether it existed.
    pub fn change_behind_the_back(&self, id: &str, attr_name: &str, value: Value) -> bool {
        let mut i = self.lock();
        let Some(o) = i.world.get_mut(id) else {
            return false;
        };
        let mut m = o.value.as_map().cloned().unwrap_or_default();
        m.insert(attr_name.to_string(), value.deep_unmark());
        o.value = Value::Object(m);
        true
    }
    /// Creates an object out of band (e.g. to import it); `value` should hold its `id`.
    pub fn insert_behind_the_back(&self, type_name: &str, id: &str, value: Value) {
        let value = value.deep_unmark();
        self.lock().world.insert(
            id.to_string(),
            WorldObject {
                type_name: type_name.to_string(),
                value,
                token: String::new(),
            },
        );
    }
    /// Makes every apply (create, update or delete) of an object with this `name` fail.
    pub fn fail_on_name(&self, name: &str) {
        self.lock().fail_names.insert(name.to_string());
    }
    /// Makes `validate_resource` report an error at `name` for objects with this name.
    pub fn fail_validate_on_name(&self, name: &str) {
        self.lock().fail_validate_names.insert(name.to_string());
    }
    pub fn clear_failures(&self) {
        let mut i = self.lock();
        i.fail_names.clear();
        i.fail_validate_names.clear();
    }
    /// Makes every apply sleep this long (on the tokio timer) before doing its work.
    pub fn set_apply_delay(&self, d: Duration) {
        self.lock().apply_delay = d;
    }
    /// Makes every apply sleep this long AFTER doing its work, before answering (a crash
    /// in that window leaves an object the state does not know).
    pub fn set_after_apply_delay(&self, d: Duration) {
        self.lock().after_apply_delay = d;
    }
    /// Makes every `apply_change` of `action` hang forever, before it acts or (with
    /// `after_acting`) once the world has changed: the moment a crash would interrupt.
    pub fn set_stall(&self, action: &str, after_acting: bool) {
        self.lock().stall = Some((action.to_string(), after_acting));
    }

    pub fn clear_stall(&self) {
        self.lock().stall = None;
    }

    /// See `ApplyHook`.
    pub fn set_apply_hook(&self, hook: ApplyHook) {
        self.lock().apply_hook = Some(hook);
    }
    /// The `value` that data source `mock_lookup` returns for `name` (default
    /// "value-of-NAME").
    pub fn set_lookup(&self, name: &str, value: &str) {
        self.lock()
            .lookups
            .insert(name.to_string(), value.to_string());
    }

    fn resource_block(&self, type_name: &str) -> Option<&BlockSchema> {
        self.schema.resources.get(type_name).map(|r| &r.block)
    }

    /// The new object for a create or update: arguments from the plan (or config where
    /// the plan is unknown), computed attributes from the plan, then from the prior
    /// object, then placeholders.
    fn build_object(
        &self,
        block: &BlockSchema,
        prior: Option<&Value>,
        planned: &Value,
        config: &Value,
    ) -> Value {
        let mut m = BTreeMap::new();
        for (name, a) in &block.attributes {
            let p = attr(planned, name);
            let v = if p.is_wholly_known() {
                p.clone()
            } else if !computed_only(a) && attr(config, name).is_wholly_known() {
                attr(config, name).clone()
            } else if let Some(prev) = prior
                .map(|pr| attr(pr, name))
                .filter(|v| a.computed && !v.is_null() && v.is_wholly_known())
            {
                prev.clone()
            } else if name == "id" {
                Value::String(format!(
                    "mock-{}",
                    self.next_id.fetch_add(1, Ordering::SeqCst)
                ))
            } else if a.computed {
                computed_placeholder(name, &a.ty)
            } else {
                resolve_unknowns(p)
            };
            m.insert(name.clone(), v);
        }
        for name in block.blocks.keys() {
            m.insert(name.clone(), resolve_unknowns(attr(planned, name)));
        }
        Value::Object(m)
    }
}

#[async_trait::async_trait]
impl Provider for MockProvider {
    fn schema(&self) -> &ProviderSchema {
        &self.schema
    }

    fn validate_resource(&self, type_name: &str, config: &Value) -> ProviderDiags {
        let mut i = self.lock();
        i.calls.push(format!("validate {type_name}"));
        if !self.schema.resources.contains_key(type_name)
            && !self.schema.data_sources.contains_key(type_name)
        {
            return vec![ProviderDiag::error(
                "Unsupported resource type",
                format!("The mock has no type {type_name:?}."),
            )];
        }
        match get_str(config, "name") {
            Some(n) if i.fail_validate_names.contains(n) => vec![ProviderDiag::error(
                "Invalid name",
                format!("The mock was told to reject name {n:?}."),
            )
            .at(attr_path(&["name"]))],
            _ => Vec::new(),
        }
    }

    async fn configure(&self, config: &Value) -> ProviderDiags {
        let mut i = self.lock();
        i.calls.push("configure".to_string());
        i.configured = Some(config.clone());
        Vec::new()
    }

    async fn read_resource(&self, type_name: &str, prior: &Value) -> ReadResponse {
        let id = get_str(prior, "id").unwrap_or_default().to_string();
        let mut i = self.lock();
        i.calls.push(format!("read {type_name} id={id}"));
        let new_state = i
            .world
            .get(&id)
            .filter(|o| o.type_name == type_name)
            .map(|o| o.value.clone());
        ReadResponse {
            new_state,
            diags: Vec::new(),
        }
    }

    async fn plan_change(&self, req: PlanRequest<'_>) -> PlanResponse {
        self.record(format!("plan {}", req.type_name));
        let Some(block) = self.resource_block(req.type_name) else {
            return PlanResponse {
                planned: Value::null(),
                requires_replace: Vec::new(),
                diags: vec![ProviderDiag::error(
                    "Unsupported resource type",
                    format!("The mock has no type {:?}.", req.type_name),
                )],
            };
        };
        plan_by_schema(block, req.prior, req.config, &[]).into_response()
    }

    async fn apply_change(&self, req: ApplyRequest<'_>) -> ApplyResponse {
        let action = match (req.prior, req.planned) {
            (None, _) => "create",
            (Some(_), None) => "delete",
            (Some(_), Some(_)) => "update",
        };
        let subject = req
            .planned
            .or(req.prior)
            .map(|v| describe(attr(v, "name")))
            .unwrap_or_else(|| "null".into());
        let what = format!("{action} {} name={subject}", req.type_name);

        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        let _guard = InFlight(&self.in_flight);
        self.max_in_flight.fetch_max(now, Ordering::SeqCst);
        let (delay, after, hook, fail, stall) = {
            let mut i = self.lock();
            i.calls.push(format!("apply {what}"));
            i.events.push(format!("begin apply {what}"));
            let stall = i.stall.clone().filter(|(a, _)| a == action).map(|(_, after)| after);
            (i.apply_delay, i.after_apply_delay, i.apply_hook.clone(), i.fail_names.contains(&subject), stall)
        };
        if let Some(h) = hook {
            h(action, req.identity);
        }
        if stall == Some(false) {
            std::future::pending::<()>().await;
        }
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        let resp = self.apply_inner(&req, fail);
        if stall == Some(true) {
            std::future::pending::<()>().await;
        }
        // The object exists now; a crash during this sleep loses only the response.
        if !after.is_zero() {
            tokio::time::sleep(after).await;
        }
        self.lock().events.push(format!("end apply {what}"));
        resp
    }

    async fn import(&self, type_name: &str, id: &str) -> ImportResponse {
        let mut i = self.lock();
        i.calls.push(format!("import {type_name} id={id}"));
        match i.world.get(id).filter(|o| o.type_name == type_name) {
            Some(o) => ImportResponse {
                state: Some(o.value.clone()),
                diags: Vec::new(),
            },
            None => ImportResponse {
                state: None,
                diags: vec![ProviderDiag::error(
                    "Cannot import non-existent remote object",
                    format!("No {type_name} with id {id:?}."),
                )],
            },
        }
    }

    async fn read_data(&self, type_name: &str, config: &Value) -> ReadResponse {
        let name = attr(config, "name");
        let mut i = self.lock();
        i.calls
            .push(format!("read_data {type_name} name={}", describe(name)));
        if !self.schema.data_sources.contains_key(type_name) {
            return ReadResponse {
                new_state: None,
                diags: vec![ProviderDiag::error(
                    "Unsupported data source",
                    format!("No data source {type_name}."),
                )],
            };
        }
        let Some(n) = name.as_str() else {
            return ReadResponse {
                new_state: None,
                diags: vec![
                    ProviderDiag::error("Missing name", "name must be a known string.")
                        .at(attr_path(&["name"])),
                ],
            };
        };
        let value = i
            .lookups
            .get(n)
            .cloned()
            .unwrap_or_else(|| format!("value-of-{n}"));
        let state = Value::object([
            ("name", name.clone()),
            ("id", Value::String(format!("lookup-{n}"))),
            ("value", Value::String(value)),
        ]);
        ReadResponse {
            new_state: Some(state),
            diags: Vec::new(),
        }
    }

    async fn recover(
        &self,
        type_name: &str,
        identity: &ObjectIdentity,
    ) -> Result<Option<Value>, ProviderDiags> {
        let mut i = self.lock();
        i.calls
            .push(format!("recover {type_name} token={}", identity.token));
        Ok(i.world
            .values()
            .find(|o| o.type_name == type_name && o.token == identity.token)
            .map(|o| o.value.clone()))
    }
}

impl MockProvider {
    fn apply_inner(&self, req: &ApplyRequest<'_>, fail: bool) -> ApplyResponse {
        if fail {
            return ApplyResponse {
                new_state: req.prior.cloned(),
                diags: vec![ProviderDiag::error(
                    "Mock apply failed",
                    "The mock was told to fail applies for this name.",
                )],
            };
        }
        let Some(block) = self.resource_block(req.type_name) else {
            return ApplyResponse {
                new_state: req.prior.cloned(),
                diags: vec![ProviderDiag::error(
                    "Unsupported resource type",
                    format!("The mock has no type {:?}.", req.type_name),
                )],
            };
        };
        let Some(planned) = req.planned else {
            if let Some(id) = req.prior.and_then(|p| get_str(p, "id")) {
                self.lock().world.remove(id);
            }
            return ApplyResponse {
                new_state: None,
                diags: Vec::new(),
            };
        };
        let obj = self.build_object(block, req.prior, planned, req.config);
        let id = get_str(&obj, "id").unwrap_or_default().to_string();
        let mut i = self.lock();
        let token = match req.prior {
            Some(_) => i
                .world
                .get(&id)
                .map(|o| o.token.clone())
                .unwrap_or_default(),
            None => req.identity.token.clone(),
        };
        i.world.insert(
            id,
            WorldObject {
                type_name: req.type_name.to_string(),
                value: obj.clone().deep_unmark(),
                token,
            },
        );
        ApplyResponse {
            new_state: Some(obj),
            diags: Vec::new(),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Sharing one instance through the registry

/// How many mocks can be registered at the same time (across concurrently running tests).
pub const SLOTS: usize = 64;

static SLOT_TABLE: [Mutex<Option<Weak<MockProvider>>>; SLOTS] = [const { Mutex::new(None) }; SLOTS];
static NEXT_SLOT: AtomicUsize = AtomicUsize::new(0);

fn slot_factory<const N: usize>() -> Arc<dyn Provider> {
    let slot = SLOT_TABLE[N].lock().unwrap_or_else(|e| e.into_inner());
    match slot.as_ref().and_then(Weak::upgrade) {
        Some(m) => m,
        // The test dropped its mock: hand out a fresh, unshared one rather than failing.
        None => Arc::new(MockProvider::new()),
    }
}

macro_rules! factories {
    ($($n:literal)*) => { [$(slot_factory::<$n> as ProviderFactory),*] };
}

static FACTORIES: [ProviderFactory; SLOTS] = factories!(
    0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31
    32 33 34 35 36 37 38 39 40 41 42 43 44 45 46 47 48 49 50 51 52 53 54 55 56 57 58 59 60 61 62 63
);

/// Parks `mock` in a free slot and returns that slot's factory. A slot is free when its
/// mock has been dropped; if all `SLOTS` are in use the least recently claimed is taken
/// over (only possible with more than `SLOTS` live mocks at once).
pub fn mock_factory(mock: &Arc<MockProvider>) -> ProviderFactory {
    let start = NEXT_SLOT.fetch_add(1, Ordering::SeqCst);
    for k in 0..SLOTS {
        let n = (start + k) % SLOTS;
        let mut slot = SLOT_TABLE[n].lock().unwrap_or_else(|e| e.into_inner());
        let free = slot.as_ref().map(|w| w.strong_count() == 0).unwrap_or(true);
        if free {
            *slot = Some(Arc::downgrade(mock));
            return FACTORIES[n];
        }
    }
    let n = start % SLOTS;
    *SLOT_TABLE[n].lock().unwrap_or_else(|e| e.into_inner()) = Some(Arc::downgrade(mock));
    FACTORIES[n]
}

/// Registers `mock` under `name` in `r`; every instantiation returns the same `Arc`.
pub fn register_mock(r: &mut Registry, name: &str, mock: &Arc<MockProvider>) {
    r.register(name, mock_factory(mock));
}

/// A registry holding only `mock`, under the name "mock".
pub fn mock_registry(mock: Arc<MockProvider>) -> Registry {
    let mut r = Registry::empty();
    register_mock(&mut r, "mock", &mock);
    r
}

/// The compiled-in providers plus `mock` under the name "mock".
pub fn mock_registry_with_builtins(mock: Arc<MockProvider>) -> Registry {
    let mut r = Registry::builtin();
    register_mock(&mut r, "mock", &mock);
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id() -> ObjectIdentity {
        ObjectIdentity {
            lineage: "l".into(),
            address: "mock_thing.a".into(),
            token: "tok-1".into(),
        }
    }

    fn thing(name: &str, zone: Option<&str>, size: Option<i64>) -> Value {
        Value::object([
            ("name", Value::from(name)),
            (
                "zone",
                zone.map(Value::from).unwrap_or(Value::Null(Type::String)),
            ),
            (
                "size",
                size.map(Value::int).unwrap_or(Value::Null(Type::Number)),
            ),
            ("tags", Value::Null(Type::map(Type::String))),
            ("secret", Value::Null(Type::String)),
            ("id", Value::Null(Type::String)),
        ])
    }

    async fn create(m: &MockProvider, c: &Value) -> ApplyResponse {
        let plan = m
            .plan_change(PlanRequest {
                type_name: MOCK_THING,
                prior: None,
                config: c,
            })
            .await;
        let ident = id();
        m.apply_change(ApplyRequest {
            type_name: MOCK_THING,
            prior: None,
            planned: Some(&plan.planned),
            config: c,
            identity: &ident,
        })
        .await
    }

    #[tokio::test]
    async fn records_calls_and_keeps_a_world() {
        let m = MockProvider::new();
        let c = thing("a", Some("z1"), Some(1));
        assert!(m.validate_resource(MOCK_THING, &c).is_empty());
        let s = create(&m, &c).await.new_state.expect("created");
        let oid = get_str(&s, "id").expect("id").to_string();
        assert!(oid.starts_with("mock-"));
        assert_eq!(m.object(&oid).as_ref(), Some(&s));
        let r = m.read_resource(MOCK_THING, &s).await;
        assert_eq!(r.new_state.as_ref(), Some(&s));

        // Update in place for size; replace for zone.
        let c2 = thing("a", Some("z1"), Some(2));
        let p = m
            .plan_change(PlanRequest {
                type_name: MOCK_THING,
                prior: Some(&s),
                config: &c2,
            })
            .await;
        assert!(p.requires_replace.is_empty());
        assert_eq!(attr(&p.planned, "id"), attr(&s, "id"));
        let c3 = thing("a", Some("z2"), Some(1));
        let p = m
            .plan_change(PlanRequest {
                type_name: MOCK_THING,
                prior: Some(&s),
                config: &c3,
            })
            .await;
        assert_eq!(p.requires_replace, vec![attr_path(&["zone"])]);
        assert!(attr(&p.planned, "id").is_unknown());

        assert!(m.change_behind_the_back(&oid, "size", Value::int(9)));
        let r = m
            .read_resource(MOCK_THING, &s)
            .await
            .new_state
            .expect("exists");
        assert_eq!(attr(&r, "size"), &Value::int(9));
        assert!(m.delete_behind_the_back(&oid));
        assert!(m.read_resource(MOCK_THING, &s).await.new_state.is_none());

        assert_eq!(
            m.calls(),
            vec![
                "validate mock_thing".to_string(),
                "plan mock_thing".into(),
                "apply create mock_thing name=a".into(),
                format!("read mock_thing id={oid}"),
                "plan mock_thing".into(),
                "plan mock_thing".into(),
                format!("read mock_thing id={oid}"),
                format!("read mock_thing id={oid}"),
            ]
        );
    }

    #[tokio::test]
    async fn update_delete_recover_and_failures() {
        let m = MockProvider::new();
        let s = create(&m, &thing("a", None, None))
            .await
            .new_state
            .expect("created");
        let ident = id();
        let c2 = thing("a", None, Some(5));
        let p = m
            .plan_change(PlanRequest {
                type_name: MOCK_THING,
                prior: Some(&s),
                config: &c2,
            })
            .await;
        let u = m
            .apply_change(ApplyRequest {
                type_name: MOCK_THING,
                prior: Some(&s),
                planned: Some(&p.planned),
                config: &c2,
                identity: &ident,
            })
            .await
            .new_state
            .expect("updated");
        assert_eq!(attr(&u, "id"), attr(&s, "id"));
        assert_eq!(attr(&u, "size"), &Value::int(5));
        let rec = m.recover(MOCK_THING, &ident).await.ok().flatten();
        assert_eq!(rec.as_ref(), Some(&u));

        m.fail_on_name("b");
        let r = create(&m, &thing("b", None, None)).await;
        assert!(r.new_state.is_none() && super::super::has_errors(&r.diags));
        let r = m
            .apply_change(ApplyRequest {
                type_name: MOCK_THING,
                prior: Some(&u),
                planned: None,
                config: &Value::null(),
                identity: &ident,
            })
            .await;
        assert!(r.new_state.is_none() && r.diags.is_empty());
        assert!(m.world().is_empty());
        assert_eq!(
            m.calls_starting("apply"),
            vec![
                "apply create mock_thing name=a",
                "apply update mock_thing name=a",
                "apply create mock_thing name=b",
                "apply delete mock_thing name=a"
            ]
        );

        m.fail_validate_on_name("bad");
        let d = m.validate_resource(MOCK_THING, &thing("bad", None, None));
        assert_eq!(
            d.first().and_then(|d| d.path.clone()),
            Some(attr_path(&["name"]))
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn records_max_concurrency() {
        let m = Arc::new(MockProvider::new());
        m.set_apply_delay(Duration::from_millis(50));
        let mut tasks = Vec::new();
        for n in ["a", "b", "c"] {
            let m = m.clone();
            tasks.push(tokio::spawn(async move {
                create(&m, &thing(n, None, None)).await.diags.len()
            }));
        }
        for t in tasks {
            assert_eq!(t.await.ok(), Some(0));
        }
        assert_eq!(m.max_concurrent_applies(), 3);
        assert_eq!(m.world().len(), 3);
        assert_eq!(m.apply_events().len(), 6);
    }

    #[tokio::test]
    async fn registry_hands_out_the_shared_instance() {
        let a = Arc::new(MockProvider::new());
        let b = Arc::new(MockProvider::new());
        let ra = mock_registry(a.clone());
        let rb = mock_registry_with_builtins(b.clone());
        let pa = ra.get("mock").map(|f| f());
        let pb = rb.get("mock").map(|f| f());
        assert!(rb.get("random").is_some());
        if let Some(p) = pa {
            p.validate_resource(MOCK_THING, &thing("x", None, None));
        }
        if let Some(p) = pb {
            let _ = p
                .read_data(MOCK_LOOKUP, &Value::object([("name", Value::from("k"))]))
                .await;
        }
        assert_eq!(a.calls(), vec!["validate mock_thing"]);
        assert_eq!(b.calls(), vec!["read_data mock_lookup name=k"]);
    }

    #[tokio::test]
    async fn data_source_lookup() {
        let m = MockProvider::new();
        m.set_lookup("k", "v");
        let r = m
            .read_data(MOCK_LOOKUP, &Value::object([("name", Value::from("k"))]))
            .await
            .new_state
            .expect("data");
        assert_eq!(get_str(&r, "value"), Some("v"));
        let r = m
            .read_data(MOCK_LOOKUP, &Value::object([("name", Value::from("z"))]))
            .await
            .new_state
            .expect("data");
        assert_eq!(get_str(&r, "value"), Some("value-of-z"));
    }
}
