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
    /// Each instance's current object.
    pub instances: BTreeMap<InstanceKey, InstanceObject>,
    /// Deposed objects, by instance key and deposed key: old objects of a
    /// `create_before_destroy` replacement that still exist in the world until their
    /// deletion (Terraform's `states.DeposedKey`). An instance may have deposed objects
    /// and no current one.
    pub deposed: BTreeMap<(InstanceKey, DeposedKey), InstanceObject>,
}

impl ResourceState {
    pub fn new(provider: &str) -> ResourceState {
        ResourceState { provider: provider.to_string(), instances: BTreeMap::new(), deposed: BTreeMap::new() }
    }

    /// True when the resource has no object at all, current or deposed.
    pub fn is_empty(&self) -> bool {
        self.instances.is_empty() && self.deposed.is_empty()
    }
}

/// The key of a deposed object: eight lowercase hex digits, random, as Terraform makes
/// them (`states.NewDeposedKey`), unique within its instance.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DeposedKey(String);

impl DeposedKey {
    /// A fresh random key (never the all-zero key, which reads like "not deposed").
    pub fn random() -> DeposedKey {
        let n: u32 = rand::random::<u32>() & 0x7fff_ffff;
        DeposedKey(format!("{:08x}", n.max(1)))
    }

    /// Parses a key as Terraform writes it: exactly eight hex digits.
    pub fn parse(s: &str) -> Option<DeposedKey> {
        (s.len() == 8 && s.bytes().all(|b| b.is_ascii_hexdigit())).then(|| DeposedKey(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for DeposedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
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
        self.resources.values().all(|r| r.is_empty()) && self.pending.is_empty()
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
                let r = self.resources.entry(res).or_insert_with(|| ResourceState::new(provider));
                r.provider = provider.to_string();
                r.instances.insert(addr.key.clone(), o);
            }
            None => {
                if let Some(r) = self.resources.get_mut(&res) {
                    r.instances.remove(&addr.key);
                    if r.is_empty() {
                        self.resources.remove(&res);
                    }
                }
            }
        }
    }

    /// One deposed object of an instance.
    pub fn deposed(&self, addr: &AbsResourceInstance, key: &DeposedKey) -> Option<&InstanceObject> {
        self.resources.get(&addr.abs_resource()).and_then(|r| r.deposed.get(&(addr.key.clone(), key.clone())))
    }

    /// Sets (or with `None` removes) one deposed object; a resource left with no object
    /// at all goes.
    pub fn set_deposed(&mut self, addr: &AbsResourceInstance, key: &DeposedKey, provider: &str, obj: Option<InstanceObject>) {
        let res = addr.abs_resource();
        match obj {
            Some(o) => {
                let r = self.resources.entry(res).or_insert_with(|| ResourceState::new(provider));
                r.deposed.insert((addr.key.clone(), key.clone()), o);
            }
            None => {
                if let Some(r) = self.resources.get_mut(&res) {
                    r.deposed.remove(&(addr.key.clone(), key.clone()));
                    if r.is_empty() {
                        self.resources.remove(&res);
                    }
                }
            }
        }
    }

    /// Moves an instance's current object to a new deposed key (the first step of a
    /// `create_before_destroy` replacement) and returns that key; `None` when the
    /// instance has no current object.
    pub fn depose(&mut self, addr: &AbsResourceInstance) -> Option<DeposedKey> {
        let r = self.resources.get_mut(&addr.abs_resource())?;
        let obj = r.instances.remove(&addr.key)?;
        let mut key = DeposedKey::random();
        while r.deposed.contains_key(&(addr.key.clone(), key.clone())) {
            key = DeposedKey::random();
        }
        r.deposed.insert((addr.key.clone(), key.clone()), obj);
        Some(key)
    }

    /// Makes a deposed object current again (a replacement whose create made nothing).
    /// Refused (false) when the instance has a current object.
    pub fn restore_deposed(&mut self, addr: &AbsResourceInstance, key: &DeposedKey) -> bool {
        let Some(r) = self.resources.get_mut(&addr.abs_resource()) else { return false };
        if r.instances.contains_key(&addr.key) {
            return false;
        }
        let Some(obj) = r.deposed.remove(&(addr.key.clone(), key.clone())) else { return false };
        r.instances.insert(addr.key.clone(), obj);
        true
    }

    /// Every deposed object's instance address and key, in address order.
    pub fn deposed_addrs(&self) -> Vec<(AbsResourceInstance, DeposedKey)> {
        let mut out = Vec::new();
        for (res, r) in &self.resources {
            for (key, dk) in r.deposed.keys() {
                out.push((res.instance(key.clone()), dk.clone()));
            }
        }
        out
    }

    /// Moves every object of an instance (current and deposed) to another address of the
    /// same resource type (`moved` blocks, `state mv`).
    pub fn move_instance(&mut self, from: &AbsResourceInstance, to: &AbsResourceInstance, provider: &str) {
        let obj = self.instance(from).cloned();
        let deposed: Vec<(DeposedKey, InstanceObject)> = self
            .resources
            .get(&from.abs_resource())
            .map(|r| r.deposed.iter().filter(|((k, _), _)| *k == from.key).map(|((_, dk), o)| (dk.clone(), o.clone())).collect())
            .unwrap_or_default();
        self.remove_instance(from);
        if obj.is_some() {
            self.set_instance(to, provider, obj);
        }
        for (dk, o) in deposed {
            self.set_deposed(to, &dk, provider, Some(o));
        }
    }

    /// Forgets an instance: its current object and its deposed ones (`state rm`).
    pub fn remove_instance(&mut self, addr: &AbsResourceInstance) {
        let res = addr.abs_resource();
        if let Some(r) = self.resources.get_mut(&res) {
            r.instances.remove(&addr.key);
            r.deposed.retain(|(k, _), _| *k != addr.key);
            if r.is_empty() {
                self.resources.remove(&res);
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
        let mut m: BTreeMap<String, String> = s
            .instance_addrs()
            .into_iter()
            .filter_map(|a| {
                s.instance(&a)
                    .map(|o| (a.to_string(), instance_fingerprint(o)))
            })
            .collect();
        for (a, k) in s.deposed_addrs() {
            if let Some(o) = s.deposed(&a, &k) {
                m.insert(format!("{a} (deposed object {k})"), instance_fingerprint(o));
            }
        }
        m
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
