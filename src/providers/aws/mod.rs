//! The built-in "aws" provider, on the official Rust SDK (`aws-config`, `aws-sdk-ec2`,
//! `aws-sdk-s3`, `aws-sdk-sts`), with the resource, data source and attribute names of
//! Terraform's AWS provider.
//!
//! Owns the provider configuration (region, profile, static keys, `default_tags`,
//! `endpoints`, `s3_use_path_style`, `max_retries`; `AWS_ENDPOINT_URL` and the standard
//! credential chain come from `aws-config`), one set of SDK clients per provider instance
//! (built on first use, so `configure` makes no network calls), the dispatch of every
//! request to the resource family that implements it (`ec2_net`, `ec2_compute`, `s3`,
//! `data`), ownership tags, error conversion and the polling waiters they share.
//!
//! Ownership: every object terrane creates carries the tags `terrane:lineage`,
//! `terrane:address` and `terrane:token` (the create attempt's token), and `RunInstances`
//! and `CreateVolume` use the token as their `ClientToken`, so that `recover` can find
//! the object of an interrupted create again. These tags are hidden from `tags` and
//! `tags_all`. Validation that needs no API (CIDR blocks, instance types, AMI id shape)
//! lives in `validate`; a missing AMI is found with `DescribeImages` at plan time.

mod data;
mod ec2_compute;
mod ec2_net;
mod s3;
mod schema;
mod validate;

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use super::sdk::{
    apply_error, attr, get_bool, get_i64, get_str, import_error, object_map, plan_by_schema,
    plan_error, read_error, unsupported_resource,
};
use super::{
    ApplyRequest, ApplyResponse, BlockSchema, ImportResponse, ObjectIdentity, PlanRequest,
    PlanResponse, Provider, ProviderDiag, ProviderDiags, ProviderSchema, ReadResponse,
};
use crate::lang::value::{Type, Value};

/// Tag keys that tie an object to terrane's state; never shown in `tags`/`tags_all`.
pub const TAG_LINEAGE: &str = "terrane:lineage";
pub const TAG_ADDRESS: &str = "terrane:address";
pub const TAG_TOKEN: &str = "terrane:token";

pub fn new_provider() -> Arc<dyn Provider> {
    Arc::new(AwsProvider::new())
}

/// The provider block, resolved.
#[derive(Clone, Debug, Default)]
struct Settings {
    region: Option<String>,
    profile: Option<String>,
    access_key: Option<String>,
    secret_key: Option<String>,
    token: Option<String>,
    default_tags: BTreeMap<String, String>,
    ec2_endpoint: Option<String>,
    s3_endpoint: Option<String>,
    sts_endpoint: Option<String>,
    s3_use_path_style: Option<bool>,
    max_retries: u32,
}

/// The SDK clients of one provider instance, and what resources need from its settings.
pub(crate) struct Clients {
    pub ec2: aws_sdk_ec2::Client,
    pub s3: aws_sdk_s3::Client,
    pub sts: aws_sdk_sts::Client,
    pub region: String,
    pub default_tags: BTreeMap<String, String>,
    /// Poll interval bounds of the waiters.
    pub poll: (Duration, Duration),
}

/// The "aws" provider.
pub struct AwsProvider {
    schema: ProviderSchema,
    settings: Mutex<Settings>,
    clients: tokio::sync::OnceCell<Result<Arc<Clients>, ProviderDiag>>,
}

impl Default for AwsProvider {
    fn default() -> Self {
        Self::new()
    }
}

impl AwsProvider {
    pub fn new() -> AwsProvider {
        AwsProvider {
            schema: schema::provider_schema(),
            settings: Mutex::new(Settings {
                max_retries: 25,
                ..Settings::default()
            }),
            clients: tokio::sync::OnceCell::new(),
        }
    }

    fn block(&self, type_name: &str) -> Option<&BlockSchema> {
        self.schema.resources.get(type_name).map(|r| &r.block)
    }

    async fn clients(&self) -> Result<Arc<Clients>, ProviderDiag> {
        let settings = self.settings.lock().map(|s| s.clone()).unwrap_or_default();
        self.clients
            .get_or_init(|| build_clients(settings))
            .await
            .clone()
    }
}

async fn build_clients(s: Settings) -> Result<Arc<Clients>, ProviderDiag> {
    use aws_config::retry::RetryConfig;
    // Standard retry mode retries throttling errors, 5xx answers and transient network
    // failures with exponential backoff and jitter.
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .retry_config(RetryConfig::standard().with_max_attempts(s.max_retries.max(1)));
    if let Some(r) = &s.region {
        loader = loader.region(aws_config::Region::new(r.clone()));
    }
    if let Some(p) = &s.profile {
        loader = loader.profile_name(p);
    }
    if let (Some(a), Some(k)) = (&s.access_key, &s.secret_key) {
        loader = loader.credentials_provider(aws_sdk_ec2::config::Credentials::new(
            a,
            k,
            s.token.clone(),
            None,
            "terrane-provider-config",
        ));
    }
    let conf = loader.load().await;
    let Some(region) = conf.region().map(|r| r.to_string()) else {
        return Err(ProviderDiag::error(
            "Missing AWS region",
            "The aws provider needs a region: set `region` in the provider block, or AWS_REGION (or AWS_DEFAULT_REGION) in the environment, or a region in the AWS profile.",
        ));
    };
    let emulated = conf.endpoint_url().is_some() || s.ec2_endpoint.is_some();
    let mut ec2 = aws_sdk_ec2::config::Builder::from(&conf);
    if let Some(e) = &s.ec2_endpoint {
        ec2 = ec2.endpoint_url(e);
    }
    let mut s3 = aws_sdk_s3::config::Builder::from(&conf);
    if let Some(e) = &s.s3_endpoint {
        s3 = s3.endpoint_url(e);
    }
    // A custom endpoint (an emulator, a proxy) rarely has wildcard DNS for virtual-hosted
    // bucket names: path style unless the configuration says otherwise.
    let custom_s3 = conf.endpoint_url().is_some() || s.s3_endpoint.is_some();
    s3 = s3.force_path_style(s.s3_use_path_style.unwrap_or(custom_s3));
    let mut sts = aws_sdk_sts::config::Builder::from(&conf);
    if let Some(e) = &s.sts_endpoint {
        sts = sts.endpoint_url(e);
    }
    let poll = if emulated {
        (Duration::from_millis(20), Duration::from_millis(500))
    } else {
        (Duration::from_millis(500), Duration::from_secs(5))
    };
    Ok(Arc::new(Clients {
        ec2: aws_sdk_ec2::Client::from_conf(ec2.build()),
        s3: aws_sdk_s3::Client::from_conf(s3.build()),
        sts: aws_sdk_sts::Client::from_conf(sts.build()),
        region,
        default_tags: s.default_tags,
        poll,
    }))
}

fn string_map(v: &Value) -> BTreeMap<String, String> {
    v.as_map()
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

/// The first object of a nested block value (a single block, or the first of a list/set).
fn first_block(v: &Value) -> Option<&Value> {
    match v {
        Value::Object(_) => Some(v),
        _ => v.as_seq().and_then(|s| s.first()),
    }
}

#[async_trait::async_trait]
impl Provider for AwsProvider {
    fn schema(&self) -> &ProviderSchema {
        &self.schema
    }

    fn validate_resource(&self, type_name: &str, config: &Value) -> ProviderDiags {
        validate::resource(type_name, config)
    }

    async fn configure(&self, config: &Value) -> ProviderDiags {
        let mut diags = Vec::new();
        let mut s = Settings {
            region: get_str(config, "region").map(String::from),
            profile: get_str(config, "profile").map(String::from),
            access_key: get_str(config, "access_key").map(String::from),
            secret_key: get_str(config, "secret_key").map(String::from),
            token: get_str(config, "token").map(String::from),
            s3_use_path_style: get_bool(config, "s3_use_path_style"),
            max_retries: get_i64(config, "max_retries")
                .map(|n| n.clamp(0, 100) as u32 + 1)
                .unwrap_or(25),
            ..Settings::default()
        };
        if s.access_key.is_some() != s.secret_key.is_some() {
            diags.push(ProviderDiag::error("Incomplete static credentials", "Set both access_key and secret_key, or neither (to use the standard credential chain)."));
        }
        if let Some(dt) = first_block(attr(config, "default_tags")) {
            s.default_tags = string_map(attr(dt, "tags"));
        }
        if let Some(ep) = first_block(attr(config, "endpoints")) {
            s.ec2_endpoint = get_str(ep, "ec2").map(String::from);
            s.s3_endpoint = get_str(ep, "s3").map(String::from);
            s.sts_endpoint = get_str(ep, "sts").map(String::from);
            for (name, url) in [
                ("ec2", &s.ec2_endpoint),
                ("s3", &s.s3_endpoint),
                ("sts", &s.sts_endpoint),
            ] {
                if let Some(u) = url {
                    if !(u.starts_with("http://") || u.starts_with("https://")) {
                        diags.push(ProviderDiag::error("Invalid endpoint URL", format!("endpoints.{name} must be an http:// or https:// URL, got {u:?}.")).at(vec![super::PathStep::Attr("endpoints".into())]));
                    }
                }
            }
        }
        if let Some(r) = &s.region {
            if !validate::region_shape(r) {
                diags.push(
                    ProviderDiag::error(
                        "Invalid AWS region",
                        format!("{r:?} is not an AWS region name (like \"us-east-1\")."),
                    )
                    .at(super::attr_path(&["region"])),
                );
            }
        }
        if let Ok(mut cur) = self.settings.lock() {
            *cur = s;
        }
        diags
    }

    async fn read_resource(&self, type_name: &str, prior: &Value) -> ReadResponse {
        let Some(block) = self.block(type_name) else {
            return read_error(unsupported_resource(type_name));
        };
        let c = match self.clients().await {
            Ok(c) => c,
            Err(d) => return read_error(d),
        };
        match read(&c, type_name, prior).await {
            Ok(v) => ReadResponse {
                new_state: v.map(|v| normalize(v, block)),
                diags: Vec::new(),
            },
            Err(d) => read_error(d),
        }
    }

    async fn plan_change(&self, req: PlanRequest<'_>) -> PlanResponse {
        let Some(block) = self.block(req.type_name) else {
            return plan_error(unsupported_resource(req.type_name));
        };
        let config = schema::fill_nested_computed(block, req.config, req.prior);
        // An unset optional+computed attribute that AWS left empty (a key_name of an
        // instance launched without one) stays empty rather than becoming unknown.
        let mut defaults = schema::defaults(req.type_name);
        if let Some(prior) = req.prior {
            for (name, a) in &block.attributes {
                let unset = attr(&config, name).is_null() && attr(prior, name).is_null();
                if a.optional && a.computed && unset && !defaults.iter().any(|(n, _)| n == name) {
                    defaults.push((name.as_str(), Value::Null(a.ty.clone())));
                }
            }
        }
        let mut p = plan_by_schema(block, req.prior, &config, &defaults);
        let default_tags = self
            .settings
            .lock()
            .map(|s| s.default_tags.clone())
            .unwrap_or_default();
        if block.attributes.contains_key("tags_all") {
            let tags = attr(req.config, "tags");
            let all = if tags.is_wholly_known() {
                let mut m: BTreeMap<String, Value> = default_tags
                    .iter()
                    .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                    .collect();
                m.extend(
                    string_map(tags)
                        .into_iter()
                        .map(|(k, v)| (k, Value::String(v))),
                );
                Value::Map(m)
            } else {
                Value::Unknown(Type::map(Type::String))
            };
            p.planned.insert("tags_all".into(), all);
        }
        let mut diags = Vec::new();
        if req.type_name == "aws_instance" {
            if let Some(ami) = get_str(req.config, "ami") {
                let changed = req
                    .prior
                    .map(|pr| get_str(pr, "ami") != Some(ami))
                    .unwrap_or(true);
                if changed {
                    match self.clients().await {
                        Ok(c) => diags.extend(ec2_compute::check_ami(&c, ami).await),
                        Err(d) => diags.push(d),
                    }
                }
            }
        }
        s3::plan_fixups(req.type_name, &mut p.planned, req.prior, req.config);
        let mut resp = p.into_response();
        resp.diags = diags;
        resp
    }

    async fn apply_change(&self, req: ApplyRequest<'_>) -> ApplyResponse {
        let Some(block) = self.block(req.type_name) else {
            return apply_error(None, unsupported_resource(req.type_name));
        };
        let c = match self.clients().await {
            Ok(c) => c,
            Err(d) => return apply_error(req.prior.cloned(), d),
        };
        let ty = req.type_name;
        let result = match (req.prior, req.planned) {
            (None, Some(planned)) => create(&c, ty, planned, req.identity).await,
            (Some(prior), Some(planned)) => update(&c, ty, prior, planned)
                .await
                .map_err(|d| (Some(prior.clone()), d)),
            (Some(prior), None) => match delete(&c, ty, prior).await {
                Ok(()) => {
                    return ApplyResponse {
                        new_state: None,
                        diags: Vec::new(),
                    }
                }
                Err(d) => Err((Some(prior.clone()), d)),
            },
            (None, None) => {
                return ApplyResponse {
                    new_state: None,
                    diags: Vec::new(),
                }
            }
        };
        match result {
            Ok(v) => ApplyResponse {
                new_state: Some(normalize(v, block)),
                diags: Vec::new(),
            },
            Err((partial, d)) => apply_error(partial.map(|v| normalize(v, block)), d),
        }
    }

    async fn import(&self, type_name: &str, id: &str) -> ImportResponse {
        let Some(block) = self.block(type_name) else {
            return import_error(
                "Unsupported resource type",
                format!("The aws provider has no resource type {type_name:?}."),
            );
        };
        let c = match self.clients().await {
            Ok(c) => c,
            Err(d) => {
                return ImportResponse {
                    state: None,
                    diags: vec![d],
                }
            }
        };
        // Terraform's import id of an association is SUBNET_OR_GATEWAY/ROUTE_TABLE.
        let resolved;
        let id = match (type_name, id.split_once('/')) {
            ("aws_route_table_association", Some((target, rtb))) => {
                match ec2_net::existing_association(&c, rtb, target).await {
                    Ok(Some(a)) => {
                        resolved = a;
                        resolved.as_str()
                    }
                    Ok(None) => {
                        return import_error(
                            "Cannot import non-existent remote object",
                            format!("The route table {rtb} has no association with {target}."),
                        )
                    }
                    Err(d) => {
                        return ImportResponse {
                            state: None,
                            diags: vec![d],
                        }
                    }
                }
            }
            _ => id,
        };
        let mut values: Vec<(&str, Value)> = vec![("id", Value::from(id))];
        values.extend(schema::defaults(type_name));
        let seed = super::sdk::object_with(block, values);
        let seed = match ty_import_seed(type_name, id, seed) {
            Ok(s) => s,
            Err(d) => {
                return ImportResponse {
                    state: None,
                    diags: vec![d],
                }
            }
        };
        match read(&c, type_name, &seed).await {
            Ok(Some(v)) => ImportResponse { state: Some(normalize(v, block)), diags: Vec::new() },
            Ok(None) => import_error("Cannot import non-existent remote object", format!("While attempting to import an existing object to {type_name}, the provider detected that no object exists with the given id {id:?}. Only pre-existing objects can be imported; check that the id is correct and that it is associated with the provider's configured region or endpoint.")),
            Err(d) => ImportResponse { state: None, diags: vec![d] },
        }
    }

    async fn read_data(&self, type_name: &str, config: &Value) -> ReadResponse {
        let Some(block) = self.schema.data_sources.get(type_name).map(|r| &r.block) else {
            return read_error(ProviderDiag::error(
                "Unsupported data source",
                format!("The aws provider has no data source {type_name:?}."),
            ));
        };
        let c = match self.clients().await {
            Ok(c) => c,
            Err(d) => return read_error(d),
        };
        match data::read(&c, type_name, config).await {
            Ok(v) => ReadResponse {
                new_state: Some(normalize(v, block)),
                diags: Vec::new(),
            },
            Err(d) => read_error(d),
        }
    }

    async fn recover(
        &self,
        type_name: &str,
        identity: &ObjectIdentity,
    ) -> Result<Option<Value>, ProviderDiags> {
        let Some(block) = self.block(type_name) else {
            return Err(vec![unsupported_resource(type_name)]);
        };
        let c = self.clients().await.map_err(|d| vec![d])?;
        let found = match type_name {
            "aws_s3_bucket" => s3::recover_bucket(&c, identity).await,
            _ => match ec2_net::recover_id(&c, type_name, identity).await {
                Ok(Some(id)) => {
                    // The interrupted create may have stopped before its last step.
                    if type_name == "aws_security_group" {
                        ec2_net::revoke_default_egress(&c, &id).await.map_err(|d| vec![d])?;
                    }
                    let seed = super::sdk::object_with(block, {
                        let mut v: Vec<(&str, Value)> = vec![("id", Value::from(id.as_str()))];
                        v.extend(schema::defaults(type_name));
                        v
                    });
                    read(&c, type_name, &seed).await
                }
                Ok(None) => Ok(None),
                Err(d) => Err(d),
            },
        };
        found
            .map(|v| v.map(|v| normalize(v, block)))
            .map_err(|d| vec![d])
    }
}

/// Import ids that are not the object's own id (`aws_volume_attachment`:
/// DEVICE:VOLUME:INSTANCE, as Terraform).
fn ty_import_seed(type_name: &str, id: &str, seed: Value) -> Result<Value, ProviderDiag> {
    let mut m = object_map(&seed);
    match type_name {
        "aws_volume_attachment" => {
            let parts: Vec<&str> = id.split(':').collect();
            let [dev, vol, inst] = parts[..] else {
                return Err(ProviderDiag::error(
                    "Invalid import id",
                    format!("Expected DEVICE_NAME:VOLUME_ID:INSTANCE_ID, got {id:?}."),
                ));
            };
            m.insert("device_name".into(), dev.into());
            m.insert("volume_id".into(), vol.into());
            m.insert("instance_id".into(), inst.into());
        }
        "aws_s3_bucket_versioning"
        | "aws_s3_bucket_policy"
        | "aws_s3_bucket_public_access_block"
        | "aws_s3_bucket_lifecycle_configuration" => {
            m.insert("bucket".into(), id.into());
        }
        "aws_s3_bucket" => {
            m.insert("bucket".into(), id.into());
        }
        "aws_s3_object" => {
            let Some((b, k)) = id.split_once('/') else {
                return Err(ProviderDiag::error(
                    "Invalid import id",
                    format!("Expected BUCKET/KEY, got {id:?}."),
                ));
            };
            m.insert("bucket".into(), b.into());
            m.insert("key".into(), k.into());
        }
        "aws_key_pair" => {
            m.insert("key_name".into(), id.into());
        }
        _ => {}
    }
    Ok(Value::Object(m))
}

/// Brings a value to the exact shape and types of the schema (as the state stores it).
fn normalize(v: Value, block: &BlockSchema) -> Value {
    Value::from_json_typed(&v.to_json(), &block.value_type())
}

async fn read(c: &Clients, ty: &str, prior: &Value) -> Result<Option<Value>, ProviderDiag> {
    match ty {
        t if ec2_net::handles(t) => ec2_net::read(c, t, prior).await,
        t if ec2_compute::handles(t) => ec2_compute::read(c, t, prior).await,
        t if s3::handles(t) => s3::read(c, t, prior).await,
        _ => Err(unsupported_resource(ty)),
    }
}

/// A create's result: the new object, or an error with whatever partial object exists.
type CreateResult = Result<Value, (Option<Value>, ProviderDiag)>;

async fn create(c: &Clients, ty: &str, planned: &Value, id: &ObjectIdentity) -> CreateResult {
    match ty {
        t if ec2_net::handles(t) => ec2_net::create(c, t, planned, id).await,
        t if ec2_compute::handles(t) => ec2_compute::create(c, t, planned, id).await,
        t if s3::handles(t) => s3::create(c, t, planned, id).await,
        _ => Err((None, unsupported_resource(ty))),
    }
}

async fn update(
    c: &Clients,
    ty: &str,
    prior: &Value,
    planned: &Value,
) -> Result<Value, ProviderDiag> {
    match ty {
        t if ec2_net::handles(t) => ec2_net::update(c, t, prior, planned).await,
        t if ec2_compute::handles(t) => ec2_compute::update(c, t, prior, planned).await,
        t if s3::handles(t) => s3::update(c, t, prior, planned).await,
        _ => Err(unsupported_resource(ty)),
    }
}

async fn delete(c: &Clients, ty: &str, prior: &Value) -> Result<(), ProviderDiag> {
    match ty {
        t if ec2_net::handles(t) => ec2_net::delete(c, t, prior).await,
        t if ec2_compute::handles(t) => ec2_compute::delete(c, t, prior).await,
        t if s3::handles(t) => s3::delete(c, t, prior).await,
        _ => Err(unsupported_resource(ty)),
    }
}

// ---------------------------------------------------------------------------------------
// Shared helpers

/// The AWS error code of a failed SDK call, if the service sent one.
pub(crate) fn err_code<E: ProvideErrorMetadata>(e: &E) -> Option<&str> {
    e.code()
}

/// An SDK error as a diagnostic naming the AWS operation and error code.
pub(crate) fn aws_diag<E>(op: &str, e: &E) -> ProviderDiag
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match e.code() {
        Some(code) => ProviderDiag::error(
            format!("AWS {op} failed: {code}"),
            format!(
                "{op} returned {code}: {}",
                e.message().unwrap_or("no message")
            ),
        ),
        None => ProviderDiag::error(
            format!("AWS {op} failed"),
            format!(
                "{op}: {}",
                aws_smithy_types::error::display::DisplayErrorContext(e)
            ),
        ),
    }
}

/// True for the error codes AWS uses when an object does not exist.
pub(crate) fn is_not_found(code: Option<&str>) -> bool {
    match code {
        Some(c) => {
            c.ends_with(".NotFound")
                || c.ends_with(".Malformed") && c.starts_with("InvalidInstanceID")
                || matches!(
                    c,
                    "NoSuchBucket"
                        | "NoSuchKey"
                        | "NotFound"
                        | "NoSuchBucketPolicy"
                        | "NoSuchPublicAccessBlockConfiguration"
                        | "NoSuchLifecycleConfiguration"
                        | "InvalidKeyPair.NotFound"
                        | "InvalidAllocationID.NotFound"
                        | "InvalidGroup.NotFound"
                )
        }
        None => false,
    }
}

/// Polls `check` until it returns `Some`, with intervals growing from the client's
/// minimum to its maximum, for at most `timeout`.
pub(crate) async fn wait_for<T, F, Fut>(
    c: &Clients,
    what: &str,
    timeout: Duration,
    mut check: F,
) -> Result<T, ProviderDiag>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<T>, ProviderDiag>>,
{
    let start = tokio::time::Instant::now();
    let mut delay = c.poll.0;
    loop {
        if let Some(v) = check().await? {
            return Ok(v);
        }
        if start.elapsed() > timeout {
            return Err(ProviderDiag::error(
                "Timed out waiting",
                format!(
                    "Gave up waiting for {what} after {} seconds.",
                    timeout.as_secs()
                ),
            ));
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 3 / 2).min(c.poll.1);
    }
}

/// The ownership tags of a create, plus the object's own tags (`tags_all`).
pub(crate) fn create_tags(planned: &Value, id: &ObjectIdentity) -> Vec<(String, String)> {
    let mut t: Vec<(String, String)> = string_map(attr(planned, "tags_all")).into_iter().collect();
    t.push((TAG_LINEAGE.into(), id.lineage.clone()));
    t.push((TAG_ADDRESS.into(), id.address.clone()));
    t.push((TAG_TOKEN.into(), id.token.clone()));
    t
}

pub(crate) fn is_ownership_tag(k: &str) -> bool {
    k == TAG_LINEAGE || k == TAG_ADDRESS || k == TAG_TOKEN
}

/// `tags` and `tags_all` from an object's AWS tags: ownership tags dropped; `tags` is
/// `tags_all` without the provider's default tags, except keys the prior `tags` had.
pub(crate) fn tag_values(c: &Clients, aws: Vec<(String, String)>, prior: &Value) -> (Value, Value) {
    let all: BTreeMap<String, String> = aws
        .into_iter()
        .filter(|(k, _)| !is_ownership_tag(k))
        .collect();
    let prior_tags = attr(prior, "tags");
    let prior_keys = string_map(prior_tags);
    let own: BTreeMap<String, Value> = all
        .iter()
        .filter(|(k, v)| prior_keys.contains_key(*k) || c.default_tags.get(*k) != Some(v))
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    let tags = if own.is_empty() && prior_tags.is_null() {
        Value::Null(Type::map(Type::String))
    } else {
        Value::Map(own)
    };
    (
        tags,
        Value::Map(
            all.into_iter()
                .map(|(k, v)| (k, Value::String(v)))
                .collect(),
        ),
    )
}

/// Tag changes between two `tags_all` values: (to set, to remove).
pub(crate) fn tag_diff(prior: &Value, planned: &Value) -> (Vec<(String, String)>, Vec<String>) {
    let old = string_map(attr(prior, "tags_all"));
    let new = string_map(attr(planned, "tags_all"));
    let set = new
        .iter()
        .filter(|(k, v)| old.get(*k) != Some(v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let remove = old
        .keys()
        .filter(|k| !new.contains_key(*k))
        .cloned()
        .collect();
    (set, remove)
}

/// A string value, null when absent or empty.
pub(crate) fn os(s: Option<&str>) -> Value {
    match s {
        Some(s) if !s.is_empty() => Value::String(s.to_string()),
        _ => Value::Null(Type::String),
    }
}

/// A set of strings.
pub(crate) fn str_set<'a>(items: impl IntoIterator<Item = &'a str>) -> Value {
    Value::set_from(items.into_iter().map(Value::from).collect())
}

/// The strings of a list or set attribute.
pub(crate) fn strings(v: &Value) -> Vec<String> {
    v.as_seq()
        .map(|s| {
            s.iter()
                .filter_map(|x| x.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// A required string attribute of a planned or prior object.
pub(crate) fn req_str<'a>(v: &'a Value, name: &str) -> Result<&'a str, ProviderDiag> {
    get_str(v, name).ok_or_else(|| {
        ProviderDiag::error(
            "Missing value",
            format!("The attribute {name:?} has no known value."),
        )
        .at(super::attr_path(&[name]))
    })
}

/// The prior object with some attributes replaced.
pub(crate) fn with(prior: &Value, values: Vec<(&str, Value)>) -> Value {
    let mut m = object_map(prior);
    for (k, v) in values {
        m.insert(k.to_string(), v);
    }
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clients(default_tags: &[(&str, &str)]) -> Clients {
        let conf = aws_sdk_ec2::Config::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .build();
        let s3 = aws_sdk_s3::Config::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .build();
        let sts = aws_sdk_sts::Config::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .build();
        Clients {
            ec2: aws_sdk_ec2::Client::from_conf(conf),
            s3: aws_sdk_s3::Client::from_conf(s3),
            sts: aws_sdk_sts::Client::from_conf(sts),
            region: "us-east-1".into(),
            default_tags: default_tags
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            poll: (Duration::from_millis(1), Duration::from_millis(1)),
        }
    }

    fn tags(pairs: &[(&str, &str)]) -> Value {
        Value::Map(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), Value::from(*v)))
                .collect(),
        )
    }

    #[test]
    fn ownership_and_default_tags_are_kept_apart_from_tags() {
        let c = clients(&[("Project", "p")]);
        let aws = vec![
            ("Name".to_string(), "x".to_string()),
            ("Project".into(), "p".into()),
            (TAG_LINEAGE.into(), "l".into()),
            (TAG_TOKEN.into(), "t".into()),
        ];
        let prior = Value::object([("tags", tags(&[("Name", "x")]))]);
        let (own, all) = tag_values(&c, aws.clone(), &prior);
        assert!(own.same_as(&tags(&[("Name", "x")])), "{own:?}");
        assert!(
            all.same_as(&tags(&[("Name", "x"), ("Project", "p")])),
            "{all:?}"
        );
        // A key the configuration sets to the default's value stays in `tags`.
        let prior = Value::object([("tags", tags(&[("Name", "x"), ("Project", "p")]))]);
        let (own, _) = tag_values(&c, aws.clone(), &prior);
        assert!(
            own.same_as(&tags(&[("Name", "x"), ("Project", "p")])),
            "{own:?}"
        );
        // No tags and none configured: null, as the configuration has it.
        let (own, all) = tag_values(
            &c,
            vec![(TAG_ADDRESS.into(), "a".into())],
            &Value::object([("tags", Value::Null(Type::map(Type::String)))]),
        );
        assert!(own.is_null());
        assert!(all.same_as(&tags(&[])));
    }

    #[test]
    fn tag_diff_sets_changed_and_removes_dropped_keys() {
        let prior = Value::object([("tags_all", tags(&[("a", "1"), ("b", "2")]))]);
        let planned = Value::object([("tags_all", tags(&[("a", "1"), ("b", "3"), ("c", "4")]))]);
        let (set, remove) = tag_diff(&prior, &planned);
        assert_eq!(
            set,
            vec![("b".to_string(), "3".to_string()), ("c".into(), "4".into())]
        );
        assert!(remove.is_empty());
        let (set, remove) = tag_diff(&planned, &prior);
        assert_eq!(set, vec![("b".to_string(), "2".to_string())]);
        assert_eq!(remove, vec!["c".to_string()]);
    }

    #[test]
    fn not_found_codes() {
        for c in [
            "InvalidVpcID.NotFound",
            "InvalidInstanceID.NotFound",
            "InvalidInstanceID.Malformed",
            "NoSuchBucket",
            "NoSuchBucketPolicy",
            "NotFound",
        ] {
            assert!(is_not_found(Some(c)), "{c}");
        }
        for c in [
            "DependencyViolation",
            "UnauthorizedOperation",
            "InvalidParameterValue",
        ] {
            assert!(!is_not_found(Some(c)), "{c}");
        }
        assert!(!is_not_found(None));
    }

    #[tokio::test]
    async fn planning_fills_tags_all_and_keeps_empty_computed_values() {
        let p = AwsProvider::new();
        let cfg = Value::object([
            ("region", Value::from("us-east-1")),
            (
                "default_tags",
                Value::List(vec![Value::object([("tags", tags(&[("Project", "p")]))])]),
            ),
        ]);
        assert!(p.configure(&cfg).await.is_empty());
        let block = p.schema().resources["aws_vpc"].block.clone();
        let config = crate::providers::sdk::object_with(
            &block,
            vec![
                ("cidr_block", "10.0.0.0/16".into()),
                ("tags", tags(&[("Name", "n")])),
            ],
        );
        let r = p
            .plan_change(PlanRequest {
                type_name: "aws_vpc",
                prior: None,
                config: &config,
            })
            .await;
        assert!(r.diags.is_empty());
        assert!(attr(&r.planned, "tags_all").same_as(&tags(&[("Name", "n"), ("Project", "p")])));
        assert_eq!(get_str(&r.planned, "instance_tenancy"), Some("default"));
        assert!(attr(&r.planned, "id").is_unknown());

        // An instance launched without a key pair: an unset key_name stays null, so the
        // next plan neither replaces nor updates it.
        let block = p.schema().resources["aws_instance"].block.clone();
        let prior = crate::providers::sdk::object_with(
            &block,
            vec![
                ("id", "i-1".into()),
                ("ami", "ami-12345678".into()),
                ("instance_type", "t3.micro".into()),
                ("subnet_id", "subnet-12345678".into()),
                ("tags_all", tags(&[("Project", "p")])),
                ("root_block_device", Value::List(Vec::new())),
            ],
        );
        let config = crate::providers::sdk::object_with(
            &block,
            vec![
                ("ami", "ami-12345678".into()),
                ("instance_type", "t3.micro".into()),
            ],
        );
        let r = p
            .plan_change(PlanRequest {
                type_name: "aws_instance",
                prior: Some(&prior),
                config: &config,
            })
            .await;
        assert!(r.requires_replace.is_empty(), "{:?}", r.requires_replace);
        assert!(attr(&r.planned, "key_name").is_null());
        assert_eq!(get_str(&r.planned, "subnet_id"), Some("subnet-12345678"));
    }

    #[test]
    fn nested_computed_attributes_take_the_prior_block() {
        let schema = schema::provider_schema();
        let block = &schema.resources["aws_instance"].block;
        let root = Value::object([
            ("volume_size", Value::int(8)),
            ("volume_type", "gp2".into()),
            ("delete_on_termination", true.into()),
            ("encrypted", false.into()),
            ("iops", Value::Null(Type::Number)),
            ("device_name", "/dev/sda1".into()),
            ("volume_id", "vol-1".into()),
        ]);
        let prior = Value::object([("root_block_device", Value::List(vec![root.clone()]))]);
        // Omitted: the prior block.
        let cfg = schema::fill_nested_computed(
            block,
            &Value::object([("root_block_device", Value::List(Vec::new()))]),
            Some(&prior),
        );
        assert!(attr(&cfg, "root_block_device").same_as(&Value::List(vec![root.clone()])));
        // Partly set: the rest from the prior block.
        let partial = Value::object([
            ("volume_size", Value::int(20)),
            ("volume_type", Value::Null(Type::String)),
            ("delete_on_termination", Value::Null(Type::Bool)),
            ("encrypted", Value::Null(Type::Bool)),
            ("iops", Value::Null(Type::Number)),
            ("device_name", Value::Null(Type::String)),
            ("volume_id", Value::Null(Type::String)),
        ]);
        let cfg = schema::fill_nested_computed(
            block,
            &Value::object([("root_block_device", Value::List(vec![partial.clone()]))]),
            Some(&prior),
        );
        let got = &attr(&cfg, "root_block_device").as_seq().unwrap()[0];
        assert_eq!(get_i64(got, "volume_size"), Some(20));
        assert_eq!(get_str(got, "volume_type"), Some("gp2"));
        // On create: unknown until AWS says.
        let cfg = schema::fill_nested_computed(
            block,
            &Value::object([("root_block_device", Value::List(vec![partial]))]),
            None,
        );
        let got = &attr(&cfg, "root_block_device").as_seq().unwrap()[0];
        assert!(attr(got, "volume_id").is_unknown());
    }
}
