//! State: what terrane knows exists in the world.
//!
//! Owns the in-memory model (`State`), its versioned file format (`statefile`) and the
//! storage and locking of that file (`backend`, `local`, `s3`), and its encryption at rest
//! (`encryption`). The model knows nothing of
//! configuration or providers: attribute values are stored untyped, and the engine
//! re-types them with the provider schema when it loads them (`engine`).
//!
//! Every write bumps the serial; a write whose lineage differs from the stored one is
//! refused.

pub mod backend;
pub mod conformance;
pub mod encryption;
pub mod local;
pub mod s3;
pub mod statefile;

use std::collections::{BTreeMap, BTreeSet};

use crate::addrs::{AbsResource, AbsResourceInstance, InstanceKey};
use crate::lang::value::Value;

/// Whether an object is healthy or must be replaced on the next apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ObjectStatus {
    Ready,
    /// Created, but a later step of its creation (a provisioner) failed.
    Tainted,
}

/// One real object, as last seen.
#[derive(Clone, Debug)]
pub struct InstanceObject {
    pub status: ObjectStatus,
    pub schema_version: u64,
    /// The attributes, wholly known, without sensitive marks.
    pub attributes: Value,
    /// Resources this object depended on when it was last applied: deletions run in
    /// reverse of this order even after the configuration no longer says so.
    pub dependencies: Vec<AbsResource>,
    pub create_before_destroy: bool,
    /// Opaque provider data (e.g. recorded host key fingerprints).
    pub private: Option<serde_json::Value>,
    /// Top-level attributes whose value was sensitive when the object was recorded (from
    /// the configuration's marks); Terraform's `sensitive_attributes`. The marks are
    /// restored when the object is read back, so a later plan, `show` or reference never
    /// prints what the configuration marked sensitive.
    pub sensitive_attrs: BTreeSet<String>,
}

impl InstanceObject {
    /// The top-level attributes of `v` (or of its configuration `config`) that hold a
    /// sensitive mark anywhere inside them.
    pub fn sensitive_attrs_of(v: &Value, config: Option<&Value>) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        for src in [Some(v), config].into_iter().flatten() {
            if let Value::Object(m) = src.unmark().0 {
                for (k, x) in m {
                    if x.contains_sensitive() {
                        out.insert(k.clone());
                    }
                }
            }
        }
        out
    }

    /// `v` (this object's attributes, typed) with the recorded sensitive marks restored.
    pub fn restore_marks(&self, v: Value) -> Value {
        if self.sensitive_attrs.is_empty() {
            return v;
        }
        let (v, marked) = v.into_unmarked();
        let Value::Object(m) = v else { return v.with_mark(marked) };
        let m = m
            .into_iter()
            .map(|(k, x)| {
                let x = if self.sensitive_attrs.contains(&k) && !x.is_null() { x.mark_sensitive() } else { x };
                (k, x)
            })
            .collect();
        Value::Object(m).with_mark(marked)
    }
}

/// A resource and its instances.
#[derive(Clone, Debug)]
pub struct ResourceState {
    /// The provider configuration address, e.g. `provider["terrane/aws"].west`.
    pub provider: String,
    pub instances: BTreeMap<InstanceKey, InstanceObject>,
}

/// An intent recorded before a create call, cleared after its result is recorded. A
/// pending intent found at the start of a run means the create may have happened.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PendingCreate {
    pub address: String,
    pub provider: String,
    pub token: String,
    pub started: String,
}

#[derive(Clone, Debug)]
pub struct OutputState {
    pub value: Value,
    pub sensitive: bool,
}

/// The whole state of one working directory (one workspace).
#[derive(Clone, Debug)]
pub struct State {
    /// Random ID chosen when the state was first created; never changes.
    pub lineage: String,
    /// Bumped on every write.
    pub serial: u64,
    pub terrane_version: String,
    pub outputs: BTreeMap<String, OutputState>,
    pub resources: BTreeMap<AbsResource, ResourceState>,
    pub pending: Vec<PendingCreate>,
}

impl State {
    /// A new, empty state with a fresh lineage.
    pub fn new() -> State {
        State {
            lineage: uuid::Uuid::new_v4().to_string(),
            serial: 0,
            terrane_version: env!("CARGO_PKG_VERSION").to_string(),
            outputs: BTreeMap::new(),
            resources: BTreeMap::new(),
            pending: Vec::new(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.resources.values().all(|r| r.instances.is_empty()) && self.pending.is_empty()
    }

    pub fn instance(&self, addr: &AbsResourceInstance) -> Option<&InstanceObject> {
        self.resources
            .get(&addr.abs_resource())
            .and_then(|r| r.instances.get(&addr.key))
    }

    /// Sets (or with `None` removes) one instance; a resource left with no instance goes.
    pub fn set_instance(
        &mut self,
        addr: &AbsResourceInstance,
        provider: &str,
        obj: Option<InstanceObject>,
    ) {
        let res = addr.abs_resource();
        match obj {
            Some(o) => {
                let r = self.resources.entry(res).or_insert_with(|| ResourceState {
                    provider: provider.to_string(),
                    instances: BTreeMap::new(),
                });
                r.provider = provider.to_string();
                r.instances.insert(addr.key.clone(), o);
            }
            None => {
                if let Some(r) = self.resources.get_mut(&res) {
                    r.instances.remove(&addr.key);
                    if r.instances.is_empty() {
                        self.resources.remove(&res);
                    }
                }
            }
        }
    }

    /// Every instance address, in address order.
    pub fn instance_addrs(&self) -> Vec<AbsResourceInstance> {
        let mut out = Vec::new();
        for (res, r) in &self.resources {
            for key in r.instances.keys() {
                out.push(res.instance(key.clone()));
            }
        }
        out
    }
}

impl Default for State {
    fn default() -> Self {
        State::new()
    }
}

/// What differs between two states, by address: for history listings and restore
/// previews.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StateDiff {
    pub added: Vec<String>,
    pub removed: Vec<String>,
    pub changed: Vec<String>,
    /// Root outputs added, removed or changed.
    pub outputs: Vec<String>,
}

impl StateDiff {
    pub fn is_empty(&self) -> bool {
        self.added.is_empty()
            && self.removed.is_empty()
            && self.changed.is_empty()
            && self.outputs.is_empty()
    }
}

/// A comparable fingerprint of one instance (status, attributes, dependencies, private).
fn instance_fingerprint(o: &InstanceObject) -> String {
    let deps: Vec<String> = o.dependencies.iter().map(|d| d.to_string()).collect();
    serde_json::json!([
        o.status == ObjectStatus::Tainted,
        o.schema_version,
        o.attributes.to_json(),
        deps,
        o.create_before_destroy,
        o.private,
    ])
    .to_string()
}

/// The instances and outputs added, removed and changed from `old` to `new`.
pub fn diff(old: &State, new: &State) -> StateDiff {
    let map = |s: &State| -> BTreeMap<String, String> {
        s.instance_addrs()
            .into_iter()
            .filter_map(|a| {
                s.instance(&a)
                    .map(|o| (a.to_string(), instance_fingerprint(o)))
            })
            .collect()
    };
    let (a, b) = (map(old), map(new));
    let mut d = StateDiff::default();
    for (k, v) in &b {
        match a.get(k) {
            None => d.added.push(k.clone()),
            Some(ov) if ov != v => d.changed.push(k.clone()),
            Some(_) => {}
        }
    }
    d.removed = a.keys().filter(|k| !b.contains_key(*k)).cloned().collect();
    let out = |s: &State| -> BTreeMap<String, String> {
        s.outputs
            .iter()
            .map(|(k, o)| (k.clone(), format!("{}{}", o.sensitive, o.value.to_json())))
            .collect()
    };
    let (oa, ob) = (out(old), out(new));
    for k in oa.keys().chain(ob.keys()) {
        if oa.get(k) != ob.get(k) && !d.outputs.contains(k) {
            d.outputs.push(k.clone());
        }
    }
    d.outputs.sort();
    d
}
