//! The built-in "local" provider: the managed resources `local_file` and
//! `local_sensitive_file` and the data sources of the same names, with the attribute
//! names and behaviour of Terraform's local provider (v2). Every argument is force-new.
//! Owns writing, reading and deleting the files and their content hashes.
//!
//! Drift: `read_resource` returns `None` when the file is gone; when its content changed
//! on disk it reports the new content in whichever argument supplied it (`content`,
//! `sensitive_content` or `content_base64`) together with recomputed hashes, so the next
//! plan shows the difference and replaces the file. A file written from `source` has no
//! argument that can show new content, so it is reported gone (Terraform's behaviour for
//! every drifted file) and re-created. Relative filenames are relative to the process's
//! working directory.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use base64::Engine as _;
use md5::Digest as _;

use crate::providers::sdk::{
    apply_error, arg, attr, get_str, object_map, plan_by_schema, plan_error, read_error,
    unsupported_resource,
};
use crate::lang::value::{Type, Value};
use crate::providers::{
    attr_path, has_errors, ApplyRequest, ApplyResponse, AttributeSchema, BlockSchema, PlanRequest,
    PlanResponse, Provider, ProviderDiag, ProviderDiags, ProviderSchema, ReadResponse,
    ResourceSchema,
};

pub const LOCAL_FILE: &str = "local_file";
pub const LOCAL_SENSITIVE_FILE: &str = "local_sensitive_file";

pub fn new_provider() -> Arc<dyn Provider> {
    Arc::new(LocalProvider::new())
}

/// The "local" provider.
pub struct LocalProvider {
    schema: ProviderSchema,
}

impl Default for LocalProvider {
    fn default() -> Self {
        Self::new()
    }
}

/// What distinguishes `local_file` from `local_sensitive_file`.
#[derive(Clone, Copy)]
struct Kind {
    /// Content attributes are sensitive.
    sensitive: bool,
}

impl Kind {
    fn of(type_name: &str) -> Option<Kind> {
        match type_name {
            LOCAL_FILE => Some(Kind { sensitive: false }),
            LOCAL_SENSITIVE_FILE => Some(Kind { sensitive: true }),
            _ => None,
        }
    }
    /// The mutually exclusive arguments that supply the content.
    fn sources(self) -> &'static [&'static str] {
        if self.sensitive {
            &["content", "content_base64", "source"]
        } else {
            &["content", "sensitive_content", "content_base64", "source"]
        }
    }
    fn default_permission(self) -> &'static str {
        if self.sensitive {
            "0700"
        } else {
            "0777"
        }
    }
    fn defaults(self) -> Vec<(&'static str, Value)> {
        let p = self.default_permission();
        vec![
            ("file_permission", Value::from(p)),
            ("directory_permission", Value::from(p)),
        ]
    }
}

fn hash_attrs(block: BlockSchema) -> BlockSchema {
    block
        .attr(
            "id",
            AttributeSchema::computed(Type::String)
                .describe("The hexadecimal encoding of the SHA1 checksum of the file content."),
        )
        .attr(
            "content_md5",
            AttributeSchema::computed(Type::String).describe("MD5 checksum of file content."),
        )
        .attr(
            "content_sha1",
            AttributeSchema::computed(Type::String).describe("SHA1 checksum of file content."),
        )
        .attr(
            "content_sha256",
            AttributeSchema::computed(Type::String).describe("SHA256 checksum of file content."),
        )
        .attr(
            "content_base64sha256",
            AttributeSchema::computed(Type::String)
                .describe("Base64 encoded SHA256 checksum of file content."),
        )
        .attr(
            "content_sha512",
            AttributeSchema::computed(Type::String).describe("SHA512 checksum of file content."),
        )
        .attr(
            "content_base64sha512",
            AttributeSchema::computed(Type::String)
                .describe("Base64 encoded SHA512 checksum of file content."),
        )
}

fn file_block(kind: Kind) -> BlockSchema {
    let content = |d: &str| {
        AttributeSchema::optional(Type::String)
            .force_new()
            .describe(d)
            .with_sensitive(kind.sensitive)
    };
    let mut b = BlockSchema::new()
        .attr(
            "filename",
            AttributeSchema::required(Type::String)
                .force_new()
                .describe("The path to the file that will be created."),
        )
        .attr(
            "content",
            content("Content to store in the file, expected to be a UTF-8 encoded string."),
        )
        .attr(
            "content_base64",
            content(
                "Content to store in the file, expected to be binary encoded as base64 string.",
            ),
        )
        .attr(
            "source",
            AttributeSchema::optional(Type::String)
                .force_new()
                .describe("Path to file to use as source for the one we are creating."),
        )
        .attr(
            "file_permission",
            AttributeSchema::optional_computed(Type::String)
                .force_new()
                .describe("Permissions to set for the output file (in numeric notation)."),
        )
        .attr(
            "directory_permission",
            AttributeSchema::optional_computed(Type::String)
                .force_new()
                .describe("Permissions to set for directories created (in numeric notation)."),
        );
    if !kind.sensitive {
        b = b.attr(
            "sensitive_content",
            AttributeSchema::optional(Type::String)
                .force_new()
                .sensitive()
                .describe("Sensitive content to store in the file (deprecated)."),
        );
    }
    hash_attrs(b)
}

fn data_block(kind: Kind) -> BlockSchema {
    let content = |d: &str| {
        AttributeSchema::computed(Type::String)
            .describe(d)
            .with_sensitive(kind.sensitive)
    };
    hash_attrs(
        BlockSchema::new()
            .attr(
                "filename",
                AttributeSchema::required(Type::String)
                    .describe("Path to the file that will be read."),
            )
            .attr(
                "content",
                content("Raw content of the file that was read, as UTF-8 encoded string."),
            )
            .attr(
                "content_base64",
                content("Base64 encoded version of the file content."),
            ),
    )
}

/// `AttributeSchema::sensitive` only when a condition holds.
trait WithSensitive {
    fn with_sensitive(self, on: bool) -> Self;
}
impl WithSensitive for AttributeSchema {
    fn with_sensitive(self, on: bool) -> Self {
        if on {
            self.sensitive()
        } else {
            self
        }
    }
}

impl LocalProvider {
    pub fn new() -> Self {
        let mut schema = ProviderSchema::default();
        for (name, kind) in [
            (LOCAL_FILE, Kind { sensitive: false }),
            (LOCAL_SENSITIVE_FILE, Kind { sensitive: true }),
        ] {
            schema.resources.insert(
                name.to_string(),
                ResourceSchema {
                    version: 0,
                    block: file_block(kind),
                },
            );
            schema.data_sources.insert(
                name.to_string(),
                ResourceSchema {
                    version: 0,
                    block: data_block(kind),
                },
            );
        }
        LocalProvider { schema }
    }
}

// ---------------------------------------------------------------------------------------
// Helpers

/// The hash attributes of `content`.
fn hashes(content: &[u8]) -> Vec<(&'static str, Value)> {
    let b64 = |d: &[u8]| base64::engine::general_purpose::STANDARD.encode(d);
    let sha1 = sha1::Sha1::digest(content);
    let sha256 = sha2::Sha256::digest(content);
    let sha512 = sha2::Sha512::digest(content);
    vec![
        ("id", Value::String(hex::encode(sha1))),
        (
            "content_md5",
            Value::String(hex::encode(md5::Md5::digest(content))),
        ),
        ("content_sha1", Value::String(hex::encode(sha1))),
        ("content_sha256", Value::String(hex::encode(sha256))),
        ("content_base64sha256", Value::String(b64(&sha256))),
        ("content_sha512", Value::String(hex::encode(sha512))),
        ("content_base64sha512", Value::String(b64(&sha512))),
    ]
}

/// A unix permission in numeric notation ("644", "0755") as a mode.
fn parse_permission(s: &str) -> Option<u32> {
    if !(3..=4).contains(&s.len()) || !s.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
        return None;
    }
    u32::from_str_radix(s, 8).ok().filter(|m| *m <= 0o777)
}

fn invalid(name: &str, detail: impl Into<String>) -> ProviderDiag {
    ProviderDiag::error("Invalid attribute value", detail).at(attr_path(&[name]))
}

fn validate_file(kind: Kind, config: &Value) -> ProviderDiags {
    let mut diags = Vec::new();
    let set: Vec<&str> = kind
        .sources()
        .iter()
        .copied()
        .filter(|n| !attr(config, n).is_null())
        .collect();
    let list = kind.sources().join(", ");
    match set.len() {
        0 => diags.push(ProviderDiag::error(
            "Missing file content",
            format!("Exactly one of {list} must be set."),
        )),
        1 => {}
        _ => {
            for extra in &set[1..] {
                diags.push(
                    ProviderDiag::error(
                        "Conflicting file content arguments",
                        format!(
                            "Exactly one of {list} must be set; {} and {extra} are both set.",
                            set[0]
                        ),
                    )
                    .at(attr_path(&[extra])),
                );
            }
        }
    }
    if let Some(b) = get_str(config, "content_base64") {
        if base64::engine::general_purpose::STANDARD.decode(b).is_err() {
            diags.push(invalid(
                "content_base64",
                "content_base64 is not valid base64.",
            ));
        }
    }
    if get_str(config, "filename") == Some("") {
        diags.push(invalid("filename", "filename must not be empty."));
    }
    for p in ["file_permission", "directory_permission"] {
        if let Some(s) = get_str(config, p) {
            if parse_permission(s).is_none() {
                diags.push(invalid(p, format!("{p} must be a valid unix file permission in numeric notation (e.g. \"0644\"), got {s:?}.")));
            }
        }
    }
    diags
}

/// The bytes the file should hold, from whichever content argument is set in `v`.
async fn desired_content(kind: Kind, v: &Value) -> Result<Vec<u8>, ProviderDiag> {
    for name in kind.sources() {
        let Some(s) = get_str(v, name) else { continue };
        return match *name {
            "content_base64" => base64::engine::general_purpose::STANDARD
                .decode(s)
                .map_err(|e| invalid(name, format!("content_base64 is not valid base64: {e}"))),
            "source" => tokio::fs::read(s).await.map_err(|e| {
                ProviderDiag::error("Cannot read the source file", format!("{s}: {e}"))
                    .at(attr_path(&["source"]))
            }),
            _ => Ok(s.as_bytes().to_vec()),
        };
    }
    Err(ProviderDiag::error(
        "Missing file content",
        format!("Exactly one of {} must be set.", kind.sources().join(", ")),
    ))
}

async fn write_file(
    filename: &str,
    content: &[u8],
    file_perm: u32,
    dir_perm: u32,
) -> std::io::Result<()> {
    use tokio::io::AsyncWriteExt;
    if let Some(parent) = Path::new(filename).parent() {
        if !parent.as_os_str().is_empty() && tokio::fs::metadata(parent).await.is_err() {
            let mut b = tokio::fs::DirBuilder::new();
            b.recursive(true);
            #[cfg(unix)]
            b.mode(dir_perm);
            b.create(parent).await?;
        }
    }
    let mut o = tokio::fs::OpenOptions::new();
    o.write(true).create(true).truncate(true);
    #[cfg(unix)]
    o.mode(file_perm);
    #[cfg(not(unix))]
    let _ = (file_perm, dir_perm);
    let mut f = o.open(filename).await?;
    f.write_all(content).await?;
    f.flush().await?;
    Ok(())
}

async fn create_file(
    kind: Kind,
    planned: &Value,
    config: &Value,
) -> Result<BTreeMap<String, Value>, ProviderDiag> {
    let mut obj = object_map(planned);
    let args = ["filename", "file_permission", "directory_permission"]
        .iter()
        .chain(kind.sources().iter());
    for name in args {
        let v = arg(planned, config, name);
        if !v.is_wholly_known() {
            return Err(ProviderDiag::error(
                "Unknown value at apply",
                format!("{name} must be known when applying."),
            )
            .at(attr_path(&[name])));
        }
        obj.insert(name.to_string(), v.clone());
    }
    for (name, d) in kind.defaults() {
        if obj
            .get(name)
            .map(|v| v.is_null() || !v.is_wholly_known())
            .unwrap_or(true)
        {
            obj.insert(name.to_string(), d);
        }
    }
    let v = Value::Object(obj.clone());
    let filename = get_str(&v, "filename")
        .filter(|f| !f.is_empty())
        .ok_or_else(|| invalid("filename", "filename must be set."))?;
    let perm = |name: &str| {
        get_str(&v, name).and_then(parse_permission).ok_or_else(|| {
            invalid(
                name,
                format!("{name} must be a valid unix file permission."),
            )
        })
    };
    let (file_perm, dir_perm) = (perm("file_permission")?, perm("directory_permission")?);
    let content = desired_content(kind, &v).await?;
    write_file(filename, &content, file_perm, dir_perm)
        .await
        .map_err(|e| {
            ProviderDiag::error("Cannot create the file", format!("{filename}: {e}"))
                .at(attr_path(&["filename"]))
        })?;
    for (k, h) in hashes(&content) {
        obj.insert(k.to_string(), h);
    }
    Ok(obj)
}

// ---------------------------------------------------------------------------------------
// The provider

#[async_trait::async_trait]
impl Provider for LocalProvider {
    /// A file written by a create lost in a crash is overwritten by the next create of the
    /// same path: nothing is orphaned.
    fn create_needs_intent(&self, _type_name: &str) -> bool {
        false
    }

    fn schema(&self) -> &ProviderSchema {
        &self.schema
    }

    fn validate_resource(&self, type_name: &str, config: &Value) -> ProviderDiags {
        match Kind::of(type_name) {
            Some(kind) => validate_file(kind, config),
            None => vec![unsupported_resource(type_name)],
        }
    }

    async fn read_resource(&self, type_name: &str, prior: &Value) -> ReadResponse {
        let Some(kind) = Kind::of(type_name) else {
            return read_error(unsupported_resource(type_name));
        };
        let Some(filename) = get_str(prior, "filename") else {
            return ReadResponse {
                new_state: Some(prior.clone()),
                diags: Vec::new(),
            };
        };
        let content = match tokio::fs::read(filename).await {
            Ok(c) => c,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return ReadResponse {
                    new_state: None,
                    diags: Vec::new(),
                }
            }
            Err(e) => {
                return ReadResponse {
                    new_state: Some(prior.clone()),
                    diags: vec![ProviderDiag::error(
                        "Cannot read the file",
                        format!("{filename}: {e}"),
                    )
                    .at(attr_path(&["filename"]))],
                }
            }
        };
        let now = hashes(&content);
        let unchanged =
            get_str(prior, "id") == Some(hex::encode(sha1::Sha1::digest(&content)).as_str());
        if unchanged {
            return ReadResponse {
                new_state: Some(prior.clone()),
                diags: Vec::new(),
            };
        }
        // Drifted: report the content found in the argument that supplied it.
        let mut obj = object_map(prior);
        let text = || String::from_utf8_lossy(&content).into_owned();
        if !attr(prior, "content").is_null() {
            obj.insert(
                "content".into(),
                Value::String(text()).with_mark(kind.sensitive),
            );
        } else if !attr(prior, "sensitive_content").is_null() {
            obj.insert(
                "sensitive_content".into(),
                Value::String(text()).mark_sensitive(),
            );
        } else if !attr(prior, "content_base64").is_null() {
            let b = base64::engine::general_purpose::STANDARD.encode(&content);
            obj.insert(
                "content_base64".into(),
                Value::String(b).with_mark(kind.sensitive),
            );
        } else {
            return ReadResponse {
                new_state: None,
                diags: Vec::new(),
            };
        }
        for (k, h) in now {
            obj.insert(k.to_string(), h);
        }
        ReadResponse {
            new_state: Some(Value::Object(obj)),
            diags: Vec::new(),
        }
    }

    async fn plan_change(&self, req: PlanRequest<'_>) -> PlanResponse {
        let (Some(kind), Some(schema)) = (
            Kind::of(req.type_name),
            self.schema.resources.get(req.type_name),
        ) else {
            return plan_error(unsupported_resource(req.type_name));
        };
        let diags = validate_file(kind, req.config);
        if has_errors(&diags) {
            return PlanResponse {
                planned: Value::null(),
                requires_replace: Vec::new(),
                diags,
            };
        }
        let mut resp =
            plan_by_schema(&schema.block, req.prior, req.config, &kind.defaults()).into_response();
        resp.diags = diags;
        resp
    }

    async fn apply_change(&self, req: ApplyRequest<'_>) -> ApplyResponse {
        let Some(kind) = Kind::of(req.type_name) else {
            return apply_error(req.prior.cloned(), unsupported_resource(req.type_name));
        };
        let Some(planned) = req.planned else {
            // Delete: a file that is already gone is fine.
            let Some(filename) = req.prior.and_then(|p| get_str(p, "filename")) else {
                return ApplyResponse {
                    new_state: None,
                    diags: Vec::new(),
                };
            };
            return match tokio::fs::remove_file(filename).await {
                Ok(()) => ApplyResponse {
                    new_state: None,
                    diags: Vec::new(),
                },
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => ApplyResponse {
                    new_state: None,
                    diags: Vec::new(),
                },
                Err(e) => apply_error(
                    req.prior.cloned(),
                    ProviderDiag::error("Cannot delete the file", format!("{filename}: {e}"))
                        .at(attr_path(&["filename"])),
                ),
            };
        };
        match create_file(kind, planned, req.config).await {
            Ok(obj) => ApplyResponse {
                new_state: Some(Value::Object(obj)),
                diags: Vec::new(),
            },
            Err(d) => apply_error(req.prior.cloned(), d),
        }
    }

    async fn read_data(&self, type_name: &str, config: &Value) -> ReadResponse {
        let Some(kind) = Kind::of(type_name) else {
            return read_error(ProviderDiag::error(
                "Unsupported data source",
                format!("No data source {type_name}."),
            ));
        };
        let Some(filename) = get_str(config, "filename") else {
            return read_error(
                ProviderDiag::error("Missing filename", "filename must be a known string.")
                    .at(attr_path(&["filename"])),
            );
        };
        let content = match tokio::fs::read(filename).await {
            Ok(c) => c,
            Err(e) => {
                return read_error(
                    ProviderDiag::error("Cannot read the file", format!("{filename}: {e}"))
                        .at(attr_path(&["filename"])),
                )
            }
        };
        let mut obj = BTreeMap::new();
        obj.insert("filename".to_string(), attr(config, "filename").clone());
        obj.insert(
            "content".to_string(),
            Value::String(String::from_utf8_lossy(&content).into_owned()).with_mark(kind.sensitive),
        );
        obj.insert(
            "content_base64".to_string(),
            Value::String(base64::engine::general_purpose::STANDARD.encode(&content))
                .with_mark(kind.sensitive),
        );
        for (k, h) in hashes(&content) {
            obj.insert(k.to_string(), h);
        }
        ReadResponse {
            new_state: Some(Value::Object(obj)),
            diags: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::providers::sdk::testutil::{config, errors_at, identity, rr_names};
    use super::*;

    fn p() -> LocalProvider {
        LocalProvider::new()
    }

    fn cfg(p: &LocalProvider, t: &str, values: Vec<(&str, Value)>) -> Value {
        config(&p.schema.resources[t].block, values)
    }

    async fn create(p: &LocalProvider, t: &str, c: &Value) -> Value {
        assert!(
            p.validate_resource(t, c).is_empty(),
            "{:?}",
            p.validate_resource(t, c)
        );
        let plan = p
            .plan_change(PlanRequest {
                type_name: t,
                prior: None,
                config: c,
            })
            .await;
        assert!(plan.diags.is_empty(), "{:?}", plan.diags);
        assert!(attr(&plan.planned, "id").is_unknown());
        let id = identity();
        let r = p
            .apply_change(ApplyRequest {
                type_name: t,
                prior: None,
                planned: Some(&plan.planned),
                config: c,
                identity: &id,
            })
            .await;
        assert!(r.diags.is_empty(), "{:?}", r.diags);
        let s = r.new_state.expect("state");
        assert!(s.is_wholly_known());
        s
    }

    fn path_str(dir: &tempfile::TempDir, rel: &str) -> String {
        dir.path().join(rel).to_string_lossy().into_owned()
    }

    #[tokio::test]
    async fn create_writes_file_with_hashes_in_new_directories() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = p();
        let f = path_str(&dir, "a/b/out.txt");
        let c = cfg(
            &p,
            LOCAL_FILE,
            vec![
                ("filename", Value::from(f.as_str())),
                ("content", Value::from("hello")),
            ],
        );
        let s = create(&p, LOCAL_FILE, &c).await;
        assert_eq!(std::fs::read_to_string(&f).ok().as_deref(), Some("hello"));
        assert_eq!(
            get_str(&s, "id"),
            Some("aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d")
        );
        assert_eq!(
            get_str(&s, "content_sha1"),
            Some("aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d")
        );
        assert_eq!(
            get_str(&s, "content_md5"),
            Some("5d41402abc4b2a76b9719d911017c592")
        );
        assert_eq!(
            get_str(&s, "content_sha256"),
            Some("2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824")
        );
        assert_eq!(
            get_str(&s, "content_base64sha256"),
            Some("LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=")
        );
        assert_eq!(get_str(&s, "file_permission"), Some("0777"));
        assert_eq!(get_str(&s, "directory_permission"), Some("0777"));
        assert!(get_str(&s, "content_sha512")
            .map(|h| h.len() == 128)
            .unwrap_or(false));

        // No change: the plan is the prior state.
        let plan = p
            .plan_change(PlanRequest {
                type_name: LOCAL_FILE,
                prior: Some(&s),
                config: &c,
            })
            .await;
        assert!(plan.requires_replace.is_empty());
        assert_eq!(plan.planned, s);
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn permissions_are_applied() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let p = p();
        let f = path_str(&dir, "secret.txt");
        let c = cfg(
            &p,
            LOCAL_FILE,
            vec![
                ("filename", Value::from(f.as_str())),
                ("content", Value::from("x")),
                ("file_permission", Value::from("0600")),
            ],
        );
        create(&p, LOCAL_FILE, &c).await;
        let mode = std::fs::metadata(&f)
            .map(|m| m.permissions().mode() & 0o777)
            .unwrap_or(0);
        assert_eq!(mode, 0o600);
    }

    #[tokio::test]
    async fn content_change_replaces() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = p();
        let f = path_str(&dir, "x.txt");
        let c = cfg(
            &p,
            LOCAL_FILE,
            vec![
                ("filename", Value::from(f.as_str())),
                ("content", Value::from("one")),
            ],
        );
        let s = create(&p, LOCAL_FILE, &c).await;
        let c2 = cfg(
            &p,
            LOCAL_FILE,
            vec![
                ("filename", Value::from(f.as_str())),
                ("content", Value::from("two")),
            ],
        );
        let plan = p
            .plan_change(PlanRequest {
                type_name: LOCAL_FILE,
                prior: Some(&s),
                config: &c2,
            })
            .await;
        assert_eq!(rr_names(&plan.requires_replace), vec!["content"]);
        assert!(attr(&plan.planned, "id").is_unknown());
        let c3 = cfg(
            &p,
            LOCAL_FILE,
            vec![
                ("filename", Value::from(f.as_str())),
                ("content", Value::from("one")),
                ("file_permission", Value::from("0644")),
            ],
        );
        let plan = p
            .plan_change(PlanRequest {
                type_name: LOCAL_FILE,
                prior: Some(&s),
                config: &c3,
            })
            .await;
        assert_eq!(rr_names(&plan.requires_replace), vec!["file_permission"]);
    }

    #[tokio::test]
    async fn read_reports_deletion_and_drift_and_delete_removes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = p();
        let f = path_str(&dir, "d.txt");
        let c = cfg(
            &p,
            LOCAL_FILE,
            vec![
                ("filename", Value::from(f.as_str())),
                ("content", Value::from("orig")),
            ],
        );
        let s = create(&p, LOCAL_FILE, &c).await;

        let r = p.read_resource(LOCAL_FILE, &s).await;
        assert_eq!(
            r.new_state.as_ref(),
            Some(&s),
            "unchanged file reads as the prior state"
        );

        std::fs::write(&f, "edited").expect("write");
        let r = p.read_resource(LOCAL_FILE, &s).await;
        let drifted = r.new_state.expect("still exists");
        assert_eq!(get_str(&drifted, "content"), Some("edited"));
        assert_ne!(attr(&drifted, "id"), attr(&s, "id"));
        // The next plan replaces it to restore the configured content.
        let plan = p
            .plan_change(PlanRequest {
                type_name: LOCAL_FILE,
                prior: Some(&drifted),
                config: &c,
            })
            .await;
        assert_eq!(rr_names(&plan.requires_replace), vec!["content"]);

        std::fs::remove_file(&f).expect("remove");
        assert!(p.read_resource(LOCAL_FILE, &s).await.new_state.is_none());

        let s = create(&p, LOCAL_FILE, &c).await;
        let id = identity();
        let r = p
            .apply_change(ApplyRequest {
                type_name: LOCAL_FILE,
                prior: Some(&s),
                planned: None,
                config: &c,
                identity: &id,
            })
            .await;
        assert!(r.diags.is_empty() && r.new_state.is_none());
        assert!(!Path::new(&f).exists());
        // Deleting again (already gone) is not an error.
        let r = p
            .apply_change(ApplyRequest {
                type_name: LOCAL_FILE,
                prior: Some(&s),
                planned: None,
                config: &c,
                identity: &id,
            })
            .await;
        assert!(r.diags.is_empty());
    }

    #[tokio::test]
    async fn base64_source_and_sensitive_variants() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = p();
        let f = path_str(&dir, "bin");
        let c = cfg(
            &p,
            LOCAL_FILE,
            vec![
                ("filename", Value::from(f.as_str())),
                ("content_base64", Value::from("AAEC/w==")),
            ],
        );
        let s = create(&p, LOCAL_FILE, &c).await;
        assert_eq!(std::fs::read(&f).ok(), Some(vec![0, 1, 2, 255]));
        std::fs::write(&f, [9u8]).expect("write");
        let drifted = p
            .read_resource(LOCAL_FILE, &s)
            .await
            .new_state
            .expect("exists");
        assert_eq!(get_str(&drifted, "content_base64"), Some("CQ=="));

        let copy = path_str(&dir, "copy");
        let c = cfg(
            &p,
            LOCAL_FILE,
            vec![
                ("filename", Value::from(copy.as_str())),
                ("source", Value::from(f.as_str())),
            ],
        );
        let s = create(&p, LOCAL_FILE, &c).await;
        assert_eq!(std::fs::read(&copy).ok(), Some(vec![9]));
        std::fs::write(&copy, "changed").expect("write");
        assert!(
            p.read_resource(LOCAL_FILE, &s).await.new_state.is_none(),
            "drifted source copy is re-created"
        );

        let sf = path_str(&dir, "s.txt");
        let c = cfg(
            &p,
            LOCAL_SENSITIVE_FILE,
            vec![
                ("filename", Value::from(sf.as_str())),
                ("content", Value::from("pw").mark_sensitive()),
            ],
        );
        let s = create(&p, LOCAL_SENSITIVE_FILE, &c).await;
        assert_eq!(get_str(&s, "file_permission"), Some("0700"));
        assert_eq!(std::fs::read_to_string(&sf).ok().as_deref(), Some("pw"));
        assert!(p.schema.resources[LOCAL_SENSITIVE_FILE].block.attributes["content"].sensitive);

        let c = cfg(
            &p,
            LOCAL_FILE,
            vec![
                ("filename", Value::from(sf.as_str())),
                ("sensitive_content", Value::from("pw2").mark_sensitive()),
            ],
        );
        create(&p, LOCAL_FILE, &c).await;
        assert_eq!(std::fs::read_to_string(&sf).ok().as_deref(), Some("pw2"));
    }

    #[tokio::test]
    async fn validation_errors_have_paths() {
        let p = p();
        let none = cfg(&p, LOCAL_FILE, vec![("filename", Value::from("f"))]);
        assert_eq!(errors_at(&p.validate_resource(LOCAL_FILE, &none)), vec![""]);
        let two = cfg(
            &p,
            LOCAL_FILE,
            vec![
                ("filename", Value::from("f")),
                ("content", Value::from("a")),
                ("source", Value::from("b")),
            ],
        );
        assert_eq!(
            errors_at(&p.validate_resource(LOCAL_FILE, &two)),
            vec!["source"]
        );
        let bad_b64 = cfg(
            &p,
            LOCAL_FILE,
            vec![
                ("filename", Value::from("f")),
                ("content_base64", Value::from("@@@")),
            ],
        );
        assert_eq!(
            errors_at(&p.validate_resource(LOCAL_FILE, &bad_b64)),
            vec!["content_base64"]
        );
        let bad_perm = cfg(
            &p,
            LOCAL_FILE,
            vec![
                ("filename", Value::from("f")),
                ("content", Value::from("a")),
                ("file_permission", Value::from("0999")),
            ],
        );
        assert_eq!(
            errors_at(&p.validate_resource(LOCAL_FILE, &bad_perm)),
            vec!["file_permission"]
        );
        let unknown = cfg(
            &p,
            LOCAL_FILE,
            vec![
                ("filename", Value::Unknown(Type::String)),
                ("content", Value::Unknown(Type::String)),
            ],
        );
        assert!(p.validate_resource(LOCAL_FILE, &unknown).is_empty());
        let plan = p
            .plan_change(PlanRequest {
                type_name: LOCAL_FILE,
                prior: None,
                config: &two,
            })
            .await;
        assert_eq!(errors_at(&plan.diags), vec!["source"]);
        assert_eq!(parse_permission("644"), Some(0o644));
        assert_eq!(parse_permission("07777"), None);
    }

    #[tokio::test]
    async fn data_source_reads_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = p();
        let f = path_str(&dir, "in.txt");
        std::fs::write(&f, "hello").expect("write");
        let c = Value::object([("filename", Value::from(f.as_str()))]);
        let r = p.read_data(LOCAL_FILE, &c).await;
        let s = r.new_state.expect("data");
        assert_eq!(get_str(&s, "content"), Some("hello"));
        assert_eq!(get_str(&s, "content_base64"), Some("aGVsbG8="));
        assert_eq!(
            get_str(&s, "id"),
            Some("aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d")
        );
        let r = p.read_data(LOCAL_SENSITIVE_FILE, &c).await;
        assert!(matches!(
            r.new_state.as_ref().map(|s| attr(s, "content")),
            Some(Value::Sensitive(_))
        ));
        let missing = Value::object([("filename", Value::from(path_str(&dir, "nope")))]);
        let r = p.read_data(LOCAL_FILE, &missing).await;
        assert_eq!(errors_at(&r.diags), vec!["filename"]);
    }
}
