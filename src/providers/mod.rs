//! Providers: the contract between the engine and everything that manages real objects.
//!
//! Owns the `Provider` trait (schema, validate, configure, read, plan, apply, import,
//! data-source read, recovery of pending creates), the schema model, and the registry of
//! compiled-in providers. Providers speak in `Value`s and attribute paths; they never see
//! configuration syntax or spans: the engine turns a provider's attribute path into the
//! source span of that attribute. Providers never print; they return diagnostics.

pub mod aws;
pub mod builtin;
pub mod mock;
pub mod sdk;

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::lang::value::{Type, Value};

// ---------------------------------------------------------------------------------------
// Schema

/// One attribute of a resource, data source or provider configuration.
#[derive(Clone, Debug)]
pub struct AttributeSchema {
    pub ty: Type,
    pub description: String,
    pub required: bool,
    pub optional: bool,
    /// Set by the provider (possibly also optional: the provider picks a default).
    pub computed: bool,
    /// A change to this attribute replaces the object.
    pub force_new: bool,
    pub sensitive: bool,
    /// A computed attribute that carries the value of the named configured attribute
    /// (terraform_data's `output` is its `input`) is as sensitive as that attribute.
    /// Terraform does not do this, and prints a sensitive `input` back through `output`
    /// (hashicorp/terraform#35609).
    pub sensitive_with: Option<&'static str>,
}

impl AttributeSchema {
    pub fn required(ty: Type) -> Self {
        AttributeSchema { ty, description: String::new(), required: true, optional: false, computed: false, force_new: false, sensitive: false, sensitive_with: None }
    }
    pub fn optional(ty: Type) -> Self {
        AttributeSchema { required: false, optional: true, ..Self::required(ty) }
    }
    pub fn computed(ty: Type) -> Self {
        AttributeSchema { required: false, computed: true, ..Self::required(ty) }
    }
    pub fn optional_computed(ty: Type) -> Self {
        AttributeSchema { required: false, optional: true, computed: true, ..Self::required(ty) }
    }
    pub fn force_new(mut self) -> Self {
        self.force_new = true;
        self
    }
    pub fn sensitive(mut self) -> Self {
        self.sensitive = true;
        self
    }
    pub fn sensitive_with(mut self, attr: &'static str) -> Self {
        self.sensitive_with = Some(attr);
        self
    }
    pub fn describe(mut self, d: &str) -> Self {
        self.description = d.to_string();
        self
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Nesting {
    /// At most one block; the value is an object or null.
    Single,
    /// Blocks in order; the value is a list of objects.
    List,
    /// Blocks without order; the value is a set of objects.
    Set,
}

#[derive(Clone, Debug)]
pub struct NestedBlockSchema {
    pub nesting: Nesting,
    pub min_items: usize,
    pub max_items: usize,
    pub force_new: bool,
    pub block: BlockSchema,
}

/// The attributes and nested blocks of a resource body.
#[derive(Clone, Debug, Default)]
pub struct BlockSchema {
    pub attributes: BTreeMap<String, AttributeSchema>,
    pub blocks: BTreeMap<String, NestedBlockSchema>,
}

impl BlockSchema {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn attr(mut self, name: &str, a: AttributeSchema) -> Self {
        self.attributes.insert(name.to_string(), a);
        self
    }
    pub fn block(mut self, name: &str, b: NestedBlockSchema) -> Self {
        self.blocks.insert(name.to_string(), b);
        self
    }
    /// The object type of a value conforming to this schema.
    pub fn value_type(&self) -> Type {
        let mut m: BTreeMap<String, Type> = self.attributes.iter().map(|(k, a)| (k.clone(), a.ty.clone())).collect();
        for (k, b) in &self.blocks {
            let inner = b.block.value_type();
            m.insert(
                k.clone(),
                match b.nesting {
                    Nesting::Single => inner,
                    Nesting::List => Type::list(inner),
                    Nesting::Set => Type::set(inner),
                },
            );
        }
        Type::Object(m)
    }
}

#[derive(Clone, Debug)]
pub struct ResourceSchema {
    pub version: u64,
    pub block: BlockSchema,
}

/// Everything a provider declares.
#[derive(Clone, Debug, Default)]
pub struct ProviderSchema {
    pub provider: BlockSchema,
    pub resources: BTreeMap<String, ResourceSchema>,
    pub data_sources: BTreeMap<String, ResourceSchema>,
}

// ---------------------------------------------------------------------------------------
// Requests and responses

/// A step of an attribute path: `root_block_device[0].volume_size`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PathStep {
    Attr(String),
    Index(i64),
    Key(String),
}

pub type AttrPath = Vec<PathStep>;

pub fn attr_path(names: &[&str]) -> AttrPath {
    names.iter().map(|n| PathStep::Attr(n.to_string())).collect()
}

/// A problem reported by a provider, located by attribute path rather than by span.
#[derive(Clone, Debug)]
pub struct ProviderDiag {
    pub error: bool,
    pub summary: String,
    pub detail: String,
    pub path: Option<AttrPath>,
}

impl ProviderDiag {
    pub fn error(summary: impl Into<String>, detail: impl Into<String>) -> Self {
        ProviderDiag { error: true, summary: summary.into(), detail: detail.into(), path: None }
    }
    pub fn warning(summary: impl Into<String>, detail: impl Into<String>) -> Self {
        ProviderDiag { error: false, ..Self::error(summary, detail) }
    }
    pub fn at(mut self, path: AttrPath) -> Self {
        self.path = Some(path);
        self
    }
}

pub type ProviderDiags = Vec<ProviderDiag>;

pub fn has_errors(d: &[ProviderDiag]) -> bool {
    d.iter().any(|d| d.error)
}

/// Identity of the object being changed, for ownership tags and idempotency tokens, so
/// that an object created by an interrupted apply can always be found again.
#[derive(Clone, Debug)]
pub struct ObjectIdentity {
    /// The state lineage.
    pub lineage: String,
    /// The resource instance address, as text.
    pub address: String,
    /// A token unique to this create attempt, recorded in the state before the call.
    pub token: String,
}

pub struct PlanRequest<'a> {
    pub type_name: &'a str,
    /// The refreshed prior state; `None` when the object does not exist yet.
    pub prior: Option<&'a Value>,
    /// The configuration, evaluated: unknown where it depends on pending changes, null for
    /// unset optional attributes.
    pub config: &'a Value,
}

pub struct PlanResponse {
    /// The new state as it will be after apply; unknown where only apply can tell.
    pub planned: Value,
    /// Attributes whose change forces replacement.
    pub requires_replace: Vec<AttrPath>,
    pub diags: ProviderDiags,
}

pub struct ApplyRequest<'a> {
    pub type_name: &'a str,
    /// `None` for create.
    pub prior: Option<&'a Value>,
    /// `None` for delete.
    pub planned: Option<&'a Value>,
    pub config: &'a Value,
    pub identity: &'a ObjectIdentity,
}

pub struct ApplyResponse {
    /// The new state; `None` after a delete. On error, whatever partial object exists
    /// (so that it is recorded, not lost).
    pub new_state: Option<Value>,
    pub diags: ProviderDiags,
}

pub struct ReadResponse {
    /// `None` when the object no longer exists.
    pub new_state: Option<Value>,
    pub diags: ProviderDiags,
}

pub struct ImportResponse {
    pub state: Option<Value>,
    pub diags: ProviderDiags,
}

// ---------------------------------------------------------------------------------------
// The trait

/// A configured provider instance. One value per `provider` block (per alias).
#[async_trait::async_trait]
pub trait Provider: Send + Sync {
    /// The schema. Compiled in, so available before configuration.
    fn schema(&self) -> &ProviderSchema;

    /// Checks a resource configuration without calling out (values may be unknown).
    fn validate_resource(&self, _type_name: &str, _config: &Value) -> ProviderDiags {
        Vec::new()
    }

    /// Configures the instance from its (evaluated) `provider` block.
    async fn configure(&self, _config: &Value) -> ProviderDiags {
        Vec::new()
    }

    /// Refreshes one object; `None` in the response when it is gone.
    async fn read_resource(&self, type_name: &str, prior: &Value) -> ReadResponse;

    /// Proposes the new state for a create or update.
    async fn plan_change(&self, req: PlanRequest<'_>) -> PlanResponse;

    /// Creates, updates or deletes.
    async fn apply_change(&self, req: ApplyRequest<'_>) -> ApplyResponse;

    /// Reads an existing object by its provider ID into a state value.
    async fn import(&self, type_name: &str, _id: &str) -> ImportResponse {
        ImportResponse {
            state: None,
            diags: vec![ProviderDiag::error("Import not supported", format!("The resource type {type_name} cannot be imported."))],
        }
    }

    /// Reads a data source.
    async fn read_data(&self, type_name: &str, _config: &Value) -> ReadResponse {
        ReadResponse {
            new_state: None,
            diags: vec![ProviderDiag::error("Unsupported data source", format!("No data source {type_name}."))],
        }
    }

    /// Whether a create of this type makes something outside terrane that would be
    /// orphaned if terrane died before recording it. When true (the default), the engine
    /// durably records a create intent (address and token) in the state before calling
    /// `apply_change`, and `recover` is asked about it after a crash. Providers whose
    /// objects live only in the state (terraform_data, random_*) say false, which keeps
    /// applies of many such objects free of per-create state writes.
    fn create_needs_intent(&self, _type_name: &str) -> bool {
        true
    }

    /// After a crash: finds the object a create with this identity may have made. `None`
    /// means it was never created.
    async fn recover(&self, _type_name: &str, _identity: &ObjectIdentity) -> Result<Option<Value>, ProviderDiags> {
        Ok(None)
    }
}

/// Makes unconfigured provider instances by local name ("terraform", "random", "aws").
pub type ProviderFactory = fn() -> Arc<dyn Provider>;

/// The compiled-in providers, by name.
#[derive(Clone)]
pub struct Registry {
    factories: BTreeMap<String, ProviderFactory>,
}

impl Registry {
    pub fn empty() -> Registry {
        Registry { factories: BTreeMap::new() }
    }
    /// All compiled-in providers.
    pub fn builtin() -> Registry {
        let mut r = Registry::empty();
        builtin::register(&mut r);
        r.register("aws", aws::new_provider);
        r
    }
    pub fn register(&mut self, name: &str, f: ProviderFactory) {
        self.factories.insert(name.to_string(), f);
    }
    pub fn get(&self, name: &str) -> Option<ProviderFactory> {
        self.factories.get(name).copied()
    }
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.factories.keys().map(|s| s.as_str())
    }
}
