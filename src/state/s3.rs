//! The S3 state backend: the state as one object in a bucket, its lock as a second object
//! beside it, its history in the bucket's object versions.
//!
//! Owns the objects `<key>` (the state, written with `statefile` through the `StateCodec`,
//! so possibly encrypted) and `<key>.tflock` (the lock: the `LockInfo` JSON, as Terraform's
//! `use_lockfile` writes it). It talks to S3 through aws-sdk-s3 and must not interpret the
//! state beyond lineage and serial; it takes no lock on its own (callers lock around
//! read-modify-write), exactly like the local backend.
//!
//! Exclusion. The lock is taken with a conditional put (`If-None-Match: *`): S3 accepts it
//! only when no lock object exists, atomically, so a second writer fails at once and is
//! told who holds the lock. After a put that S3 accepted, the lock is read back and must
//! carry our ID. That costs one GET and protects against stores whose conditional put is a
//! check-then-write rather than atomic: moto 5.1's server checks `If-None-Match` and then
//! writes, without a lock across the two, on a threaded HTTP server, so two puts arriving
//! together can both be accepted; the later one wins, and the read-back makes the earlier
//! taker see that it lost. State writes are conditional too (`If-Match` on the ETag read
//! just before, or `If-None-Match: *` when there was no state), so a writer that skipped
//! the lock (`-lock=false`) still cannot silently replace a version it never saw.
//!
//! History is S3 object versioning: every version of `<key>` except the current one is a
//! history entry; serial and lineage are stored as object metadata
//! (`x-amz-meta-terrane-serial`, `-lineage`) so that listing needs a HEAD per version,
//! not a download. A bucket without versioning keeps no history, and `history` says so.

use std::fmt;

use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{BucketVersioningStatus, ServerSideEncryption};
use aws_sdk_s3::Client;

use crate::state::backend::{Backend, HistoryEntry, LockInfo, StateError};
use crate::state::encryption::StateCodec;
use crate::state::{statefile, State};

/// Metadata keys on every state object this backend writes.
const META_SERIAL: &str = "terrane-serial";
const META_LINEAGE: &str = "terrane-lineage";

/// The settings of a `backend "s3"` block, resolved by the CLI.
#[derive(Clone, Default)]
pub struct S3Settings {
    pub bucket: String,
    pub key: String,
    /// Falls back to the SDK's usual sources (AWS_REGION, the profile).
    pub region: Option<String>,
    /// A custom S3 endpoint (an emulator, a private S3-compatible store).
    pub endpoint: Option<String>,
    /// Path-style addressing (`endpoint/bucket/key`); defaults to on with a custom endpoint.
    pub use_path_style: Option<bool>,
    /// Take the lock object; without it no lock is taken at all.
    pub use_lockfile: bool,
    /// Server-side encryption of the state object (SSE-S3, or SSE-KMS with `kms_key_id`).
    pub encrypt: bool,
    pub kms_key_id: Option<String>,
    pub profile: Option<String>,
    pub access_key: Option<String>,
    /// Never printed: `Debug` redacts it.
    pub secret_key: Option<String>,
}

impl fmt::Debug for S3Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Settings")
            .field("bucket", &self.bucket)
            .field("key", &self.key)
            .field("region", &self.region)
            .field("endpoint", &self.endpoint)
            .field("use_path_style", &self.use_path_style)
            .field("use_lockfile", &self.use_lockfile)
            .field("encrypt", &self.encrypt)
            .field("kms_key_id", &self.kms_key_id)
            .field("profile", &self.profile)
            .field("access_key", &self.access_key.as_ref().map(|_| "(set)"))
            .field(
                "secret_key",
                &self.secret_key.as_ref().map(|_| "(redacted)"),
            )
            .finish()
    }
}

/// A state stored as an S3 object.
#[derive(Clone)]
pub struct S3Backend {
    client: Client,
    settings: S3Settings,
    codec: StateCodec,
}

impl fmt::Debug for S3Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Backend")
            .field("settings", &self.settings)
            .finish()
    }
}

/// What an S3 call failed with, for the error messages.
fn sdk_err<E, R>(what: String) -> impl FnOnce(aws_sdk_s3::error::SdkError<E, R>) -> StateError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: fmt::Debug,
{
    move |e| {
        let detail = match e.as_service_error() {
            Some(se) => format!(
                "{}{}",
                se.code().unwrap_or("error"),
                se.message().map(|m| format!(": {m}")).unwrap_or_default()
            ),
            None => aws_smithy_types::error::display::DisplayErrorContext(&e).to_string(),
        };
        StateError::Other(format!("{what}: {detail}"))
    }
}

/// The HTTP status of a failed call, when the service answered.
fn status_of<E, R>(e: &aws_sdk_s3::error::SdkError<E, R>) -> Option<u16>
where
    R: HttpStatus,
{
    e.raw_response().map(|r| r.status_code())
}

/// The raw response type of SDK errors, reduced to what we need of it.
trait HttpStatus {
    fn status_code(&self) -> u16;
}

impl HttpStatus for aws_smithy_runtime_api::client::orchestrator::HttpResponse {
    fn status_code(&self) -> u16 {
        self.status().as_u16()
    }
}

/// 412 Precondition Failed (the condition did not hold) or 409 ConditionalRequestConflict
/// (S3 saw a concurrent conditional write to the same key): either way someone else won.
fn lost_condition(status: Option<u16>) -> bool {
    matches!(status, Some(412) | Some(409))
}

/// One stored object: its bytes, ETag and version.
struct Stored {
    bytes: Vec<u8>,
    etag: Option<String>,
}

impl S3Backend {
    /// Connects (lazily: no request is made here) with the SDK's credential chain, or the
    /// static keys and profile of the settings.
    pub async fn connect(settings: S3Settings, codec: StateCodec) -> Result<S3Backend, StateError> {
        if settings.bucket.is_empty() || settings.key.is_empty() {
            return Err(StateError::Other(
                "the S3 backend needs a bucket and a key".into(),
            ));
        }
        let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
        if let Some(r) = &settings.region {
            loader = loader.region(aws_config::Region::new(r.clone()));
        }
        if let Some(p) = &settings.profile {
            loader = loader.profile_name(p);
        }
        if let (Some(a), Some(s)) = (&settings.access_key, &settings.secret_key) {
            loader = loader.credentials_provider(aws_sdk_s3::config::Credentials::new(
                a.clone(),
                s.clone(),
                None,
                None,
                "terrane-backend-config",
            ));
        }
        let sdk = loader.load().await;
        if sdk.region().is_none() {
            return Err(StateError::Other(
                "no AWS region for the S3 backend: set `region` in the backend block or AWS_REGION"
                    .into(),
            ));
        }
        let mut b = aws_sdk_s3::config::Builder::from(&sdk);
        if let Some(e) = &settings.endpoint {
            b = b.endpoint_url(e.clone());
        }
        let path_style = settings
            .use_path_style
            .unwrap_or(settings.endpoint.is_some());
        b = b.force_path_style(path_style);
        Ok(S3Backend {
            client: Client::from_conf(b.build()),
            settings,
            codec,
        })
    }

    pub fn settings(&self) -> &S3Settings {
        &self.settings
    }

    /// The lock object's key: `<key>.tflock`, as Terraform names it.
    pub fn lock_key(&self) -> String {
        format!("{}.tflock", self.settings.key)
    }

    fn url(&self) -> String {
        format!("s3://{}/{}", self.settings.bucket, self.settings.key)
    }

    /// Reads one object (optionally one version of it); `None` when it does not exist.
    async fn get(&self, key: &str, version: Option<&str>) -> Result<Option<Stored>, StateError> {
        let mut req = self
            .client
            .get_object()
            .bucket(&self.settings.bucket)
            .key(key);
        if let Some(v) = version {
            req = req.version_id(v);
        }
        let out = match req.send().await {
            Ok(o) => o,
            Err(e) => {
                if e.as_service_error().map(|s| s.is_no_such_key()) == Some(true)
                    || status_of(&e) == Some(404) && version.is_none()
                {
                    return Ok(None);
                }
                return Err(sdk_err(format!(
                    "reading s3://{}/{key}",
                    self.settings.bucket
                ))(e));
            }
        };
        let etag = out.e_tag().map(|s| s.to_string());
        let bytes = out
            .body
            .collect()
            .await
            .map_err(|e| {
                StateError::Other(format!("reading s3://{}/{key}: {e}", self.settings.bucket))
            })?
            .into_bytes()
            .to_vec();
        Ok(Some(Stored { bytes, etag }))
    }

    fn decode(&self, bytes: &[u8], what: &str) -> Result<Option<State>, StateError> {
        self.codec.decode(bytes, what)
    }

    /// The current lock, `Ok(None)` when there is none. An object that cannot be parsed
    /// still means "locked" and is reported with what is known.
    async fn read_lock(&self) -> Result<Option<(LockInfo, Option<String>)>, StateError> {
        let key = self.lock_key();
        let Some(obj) = self.get(&key, None).await? else {
            return Ok(None);
        };
        let info = match serde_json::from_slice::<LockInfo>(&obj.bytes) {
            Ok(i) => i,
            Err(e) => LockInfo {
                id: String::new(),
                operation: format!(
                    "unknown (lock object s3://{}/{key} is unreadable: {e})",
                    self.settings.bucket
                ),
                who: "unknown".into(),
                version: String::new(),
                created: "an unknown time".into(),
                path: self.url(),
                pid: 0,
            },
        };
        Ok(Some((info, obj.etag)))
    }

    /// Whether the bucket keeps object versions.
    async fn versioning_enabled(&self) -> Result<bool, StateError> {
        let out = self
            .client
            .get_bucket_versioning()
            .bucket(&self.settings.bucket)
            .send()
            .await
            .map_err(sdk_err(format!(
                "reading the versioning setting of bucket {}",
                self.settings.bucket
            )))?;
        Ok(out.status() == Some(&BucketVersioningStatus::Enabled))
    }

    /// Puts the state object, conditionally on what was there before.
    async fn put_state(
        &self,
        state: &State,
        bytes: Vec<u8>,
        prev_etag: Option<&str>,
    ) -> Result<
        (),
        aws_sdk_s3::error::SdkError<
            aws_sdk_s3::operation::put_object::PutObjectError,
            aws_smithy_runtime_api::client::orchestrator::HttpResponse,
        >,
    > {
        let mut req = self
            .client
            .put_object()
            .bucket(&self.settings.bucket)
            .key(&self.settings.key)
            .content_type("application/json")
            .metadata(META_SERIAL, state.serial.to_string())
            .metadata(META_LINEAGE, state.lineage.clone())
            .body(ByteStream::from(bytes));
        req = match prev_etag {
            Some(etag) => req.if_match(etag),
            None => req.if_none_match("*"),
        };
        if self.settings.encrypt {
            req = match &self.settings.kms_key_id {
                Some(k) => req
                    .server_side_encryption(ServerSideEncryption::AwsKms)
                    .ssekms_key_id(k),
                None => req.server_side_encryption(ServerSideEncryption::Aes256),
            };
        }
        req.send().await.map(|_| ())
    }

    /// The checks every write makes against the stored state (same rules as the local
    /// backend): `Ok(true)` to write, `Ok(false)` when the write is an identical no-op.
    fn check_against(&self, stored: &State, state: &State) -> Result<bool, StateError> {
        if stored.lineage != state.lineage {
            return Err(StateError::LineageMismatch {
                stored: stored.lineage.clone(),
                given: state.lineage.clone(),
            });
        }
        if state.serial < stored.serial {
            return Err(StateError::SerialConflict {
                stored: stored.serial,
                given: state.serial,
            });
        }
        if state.serial == stored.serial {
            if statefile::to_json(stored) == statefile::to_json(state) {
                return Ok(false);
            }
            return Err(StateError::SerialConflict {
                stored: stored.serial,
                given: state.serial,
            });
        }
        Ok(true)
    }

    async fn write_inner(&self, state: &State, force: bool) -> Result<(), StateError> {
        let what = self.url();
        let current = self.get(&self.settings.key, None).await?;
        let mut etag = None;
        if let Some(cur) = &current {
            etag = cur.etag.clone();
            if !force {
                if let Some(stored) = self.decode(&cur.bytes, &what)? {
                    if !self.check_against(&stored, state)? {
                        return Ok(());
                    }
                }
            }
        }
        let bytes = self.codec.encode(state)?;
        match self.put_state(state, bytes, etag.as_deref()).await {
            Ok(()) => Ok(()),
            Err(e) if lost_condition(status_of(&e)) => {
                // Someone wrote between our read and our put: report against what is
                // there now.
                if let Some(cur) = self.get(&self.settings.key, None).await? {
                    if let Some(stored) = self.decode(&cur.bytes, &what)? {
                        self.check_against(&stored, state)?;
                        return Err(StateError::SerialConflict {
                            stored: stored.serial,
                            given: state.serial,
                        });
                    }
                }
                Err(StateError::Other(format!(
                    "{what} was changed by another writer while this one was being written; read it again and retry"
                )))
            }
            Err(e) => Err(sdk_err(format!("writing {what}"))(e)),
        }
    }
}

#[async_trait::async_trait]
impl Backend for S3Backend {
    fn describe(&self) -> String {
        self.url()
    }

    async fn read(&self) -> Result<Option<State>, StateError> {
        match self.get(&self.settings.key, None).await? {
            None => Ok(None),
            Some(obj) => self.decode(&obj.bytes, &self.url()),
        }
    }

    async fn write(&self, state: &State) -> Result<(), StateError> {
        self.write_inner(state, false).await
    }

    async fn overwrite(&self, state: &State) -> Result<(), StateError> {
        self.write_inner(state, true).await
    }

    async fn lock(&self, info: &LockInfo) -> Result<(), StateError> {
        if !self.settings.use_lockfile {
            return Ok(());
        }
        let mut info = info.clone();
        info.path = self.url();
        let body = serde_json::to_vec_pretty(&info)
            .map_err(|e| StateError::Other(format!("encoding lock info: {e}")))?;
        let key = self.lock_key();
        let put = self
            .client
            .put_object()
            .bucket(&self.settings.bucket)
            .key(&key)
            .content_type("application/json")
            .if_none_match("*")
            .body(ByteStream::from(body))
            .send()
            .await;
        match put {
            Ok(_) => {}
            Err(e) if lost_condition(status_of(&e)) => {}
            Err(e) => {
                return Err(sdk_err(format!(
                    "taking the lock s3://{}/{key}",
                    self.settings.bucket
                ))(e))
            }
        }
        // Read back: the lock is ours only if it carries our ID (see the module comment;
        // this also covers a put whose success response was lost and which the SDK
        // retried into a 412).
        match self.read_lock().await? {
            Some((held, _)) if held.id == info.id => Ok(()),
            Some((held, _)) => Err(StateError::Locked(Box::new(held))),
            None => Err(StateError::Locked(Box::new(LockInfo {
                id: String::new(),
                operation: "unknown (the lock was released while it was being taken)".into(),
                who: "unknown".into(),
                version: String::new(),
                created: String::new(),
                path: self.url(),
                pid: 0,
            }))),
        }
    }

    async fn unlock(&self, id: &str) -> Result<(), StateError> {
        if !self.settings.use_lockfile {
            return Ok(());
        }
        let key = self.lock_key();
        match self.read_lock().await? {
            None => Err(StateError::NotLocked),
            Some((held, _)) if held.id.is_empty() => Err(StateError::Corrupt {
                path: format!("s3://{}/{key}", self.settings.bucket),
                reason: format!(
                    "the lock object cannot be read ({}), so lock ID {id:?} cannot be checked against it; if no terrane process is using this state, delete the object by hand",
                    held.operation
                ),
            }),
            Some((held, _)) if held.id != id => Err(StateError::LockIdMismatch {
                given: id.to_string(),
                held: held.id,
            }),
            Some(_) => self
                .client
                .delete_object()
                .bucket(&self.settings.bucket)
                .key(&key)
                .send()
                .await
                .map(|_| ())
                .map_err(sdk_err(format!(
                    "releasing the lock s3://{}/{key}",
                    self.settings.bucket
                ))),
        }
    }

    async fn lock_info(&self) -> Result<Option<LockInfo>, StateError> {
        if !self.settings.use_lockfile {
            return Ok(None);
        }
        Ok(self.read_lock().await?.map(|(i, _)| i))
    }

    async fn history(&self) -> Result<Vec<HistoryEntry>, StateError> {
        if !self.versioning_enabled().await? {
            return Err(StateError::Other(format!(
                "bucket {} does not keep object versions, so {} has no history; enable versioning on the bucket (aws s3api put-bucket-versioning --bucket {} --versioning-configuration Status=Enabled)",
                self.settings.bucket,
                self.url(),
                self.settings.bucket
            )));
        }
        let mut versions = Vec::new();
        let (mut key_marker, mut version_marker): (Option<String>, Option<String>) = (None, None);
        loop {
            let out = self
                .client
                .list_object_versions()
                .bucket(&self.settings.bucket)
                .prefix(&self.settings.key)
                .set_key_marker(key_marker.clone())
                .set_version_id_marker(version_marker.clone())
                .send()
                .await
                .map_err(sdk_err(format!("listing the versions of {}", self.url())))?;
            for v in out.versions() {
                if v.key() != Some(self.settings.key.as_str()) || v.is_latest() == Some(true) {
                    continue;
                }
                let Some(id) = v.version_id() else { continue };
                let written = v
                    .last_modified()
                    .and_then(|t| t.fmt(aws_smithy_types::date_time::Format::DateTime).ok())
                    .unwrap_or_default();
                versions.push((id.to_string(), written));
            }
            if out.is_truncated() == Some(true) {
                key_marker = out.next_key_marker().map(str::to_string);
                version_marker = out.next_version_id_marker().map(str::to_string);
                if key_marker.is_none() && version_marker.is_none() {
                    break;
                }
            } else {
                break;
            }
        }
        let mut entries = Vec::with_capacity(versions.len());
        for (id, written) in versions {
            let head = self
                .client
                .head_object()
                .bucket(&self.settings.bucket)
                .key(&self.settings.key)
                .version_id(&id)
                .send()
                .await
                .map_err(sdk_err(format!("reading version {id} of {}", self.url())))?;
            let meta = head.metadata();
            let serial = meta
                .and_then(|m| m.get(META_SERIAL))
                .and_then(|s| s.parse::<u64>().ok());
            let lineage = meta.and_then(|m| m.get(META_LINEAGE)).cloned();
            let (serial, lineage) = match (serial, lineage) {
                (Some(s), Some(l)) => (s, l),
                // Written by another tool: read the version itself.
                _ => match self.get(&self.settings.key, Some(&id)).await? {
                    Some(obj) => match self.decode(&obj.bytes, &self.url()) {
                        Ok(Some(st)) => (st.serial, st.lineage),
                        _ => (0, String::new()),
                    },
                    None => continue,
                },
            };
            entries.push(HistoryEntry {
                serial,
                lineage,
                written,
                reference: id,
            });
        }
        // Versions come newest first; keep that order among equal serials.
        entries.sort_by(|a, b| b.serial.cmp(&a.serial));
        Ok(entries)
    }

    async fn read_version(&self, entry: &HistoryEntry) -> Result<State, StateError> {
        let what = format!("{} (version {})", self.url(), entry.reference);
        match self.get(&self.settings.key, Some(&entry.reference)).await? {
            Some(obj) => self
                .decode(&obj.bytes, &what)?
                .ok_or_else(|| StateError::Other(format!("{what} is empty"))),
            None => Err(StateError::Other(format!("{what} no longer exists"))),
        }
    }
}
