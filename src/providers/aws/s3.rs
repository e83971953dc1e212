//! S3 resources: `aws_s3_bucket`, `aws_s3_bucket_versioning`, `aws_s3_bucket_policy`,
//! `aws_s3_bucket_public_access_block`, `aws_s3_bucket_lifecycle_configuration` and
//! `aws_s3_object`; the plan-time `etag` of objects (MD5 of the content, as S3 computes
//! it for single-part uploads without KMS); and finding a bucket by its ownership tags.

use std::collections::BTreeMap;

use aws_sdk_s3::types::{
    AbortIncompleteMultipartUpload, BucketLifecycleConfiguration, BucketLocationConstraint,
    BucketVersioningStatus, CreateBucketConfiguration, ExpirationStatus, LifecycleExpiration,
    LifecycleRule, LifecycleRuleFilter, NoncurrentVersionExpiration,
    PublicAccessBlockConfiguration, Tag, Tagging, VersioningConfiguration,
};
use base64::Engine as _;

use super::{
    aws_diag, err_code, is_not_found, is_ownership_tag, os, req_str, tag_values, wait_for, with,
    Clients, CreateResult, TAG_TOKEN,
};
use crate::lang::value::{Type, Value};
use crate::providers::sdk::{attr, get_bool, get_i64, get_str};
use crate::providers::{ObjectIdentity, ProviderDiag};

pub fn handles(t: &str) -> bool {
    matches!(
        t,
        "aws_s3_bucket"
            | "aws_s3_bucket_versioning"
            | "aws_s3_bucket_policy"
            | "aws_s3_bucket_public_access_block"
            | "aws_s3_bucket_lifecycle_configuration"
            | "aws_s3_object"
    )
}

/// S3 tag values allow letters, digits, spaces and `_ . : / = + - @`; an address with
/// other characters (`["key"]`) is stored base64-encoded behind "b64:".
fn s3_tag_value(v: &str) -> String {
    if v.chars()
        .all(|c| c.is_alphanumeric() || " _.:/=+-@".contains(c))
    {
        v.to_string()
    } else {
        format!(
            "b64:{}",
            base64::engine::general_purpose::STANDARD.encode(v)
        )
    }
}

fn md5_hex(bytes: &[u8]) -> String {
    use md5::Digest;
    hex::encode(md5::Md5::digest(bytes))
}

/// Object content from `content`, `content_base64` or `source` (None when unknown).
fn object_body(v: &Value) -> Result<Option<Vec<u8>>, ProviderDiag> {
    if let Some(c) = get_str(v, "content") {
        return Ok(Some(c.as_bytes().to_vec()));
    }
    if let Some(c) = get_str(v, "content_base64") {
        return base64::engine::general_purpose::STANDARD
            .decode(c)
            .map(Some)
            .map_err(|e| {
                ProviderDiag::error(
                    "Invalid content_base64",
                    format!("content_base64 is not valid base64: {e}."),
                )
                .at(crate::providers::attr_path(&["content_base64"]))
            });
    }
    if let Some(p) = get_str(v, "source") {
        return std::fs::read(p).map(Some).map_err(|e| {
            ProviderDiag::error("Cannot read source", format!("Reading {p:?}: {e}."))
                .at(crate::providers::attr_path(&["source"]))
        });
    }
    Ok(
        if attr(v, "content").is_null()
            && attr(v, "content_base64").is_null()
            && attr(v, "source").is_null()
        {
            Some(Vec::new())
        } else {
            None
        },
    )
}

/// Plan adjustments: an object's `etag` follows its content; `version_id` changes with it.
pub fn plan_fixups(
    t: &str,
    planned: &mut BTreeMap<String, Value>,
    prior: Option<&Value>,
    config: &Value,
) {
    match t {
        "aws_s3_object" => {
            if attr(config, "etag").is_null() {
                let etag = match object_body(config) {
                    Ok(Some(b)) => Value::String(md5_hex(&b)),
                    _ => Value::Unknown(Type::String),
                };
                planned.insert("etag".into(), etag);
            }
            planned.insert("id".into(), attr(config, "key").clone());
            let same = prior.map(|p| {
                let keys = [
                    "etag",
                    "content_type",
                    "content",
                    "content_base64",
                    "source",
                ];
                keys.iter()
                    .all(|k| attr(p, k).same_as(planned.get(*k).unwrap_or(&Value::NULL)))
            });
            if same != Some(true) {
                planned.insert("version_id".into(), Value::Unknown(Type::String));
            }
        }
        "aws_s3_bucket_versioning"
        | "aws_s3_bucket_policy"
        | "aws_s3_bucket_public_access_block"
        | "aws_s3_bucket_lifecycle_configuration" => {
            planned.insert("id".into(), attr(config, "bucket").clone());
        }
        "aws_s3_bucket" => {
            if let Some(b) = get_str(config, "bucket") {
                let region_known = prior.and_then(|p| get_str(p, "region")).map(String::from);
                planned.insert("id".into(), b.into());
                planned.insert("arn".into(), format!("arn:aws:s3:::{b}").into());
                planned.insert(
                    "bucket_domain_name".into(),
                    format!("{b}.s3.amazonaws.com").into(),
                );
                if let Some(r) = region_known {
                    planned.insert(
                        "bucket_regional_domain_name".into(),
                        format!("{b}.s3.{r}.amazonaws.com").into(),
                    );
                }
            }
        }
        _ => {}
    }
}

fn s3_tags(tags: &[(String, String)]) -> Result<Tagging, ProviderDiag> {
    let t: Result<Vec<Tag>, _> = tags
        .iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect();
    let t = t.map_err(|e| ProviderDiag::error("Invalid tag", e.to_string()))?;
    Tagging::builder()
        .set_tag_set(Some(t))
        .build()
        .map_err(|e| ProviderDiag::error("Invalid tags", e.to_string()))
}

async fn bucket_tags(c: &Clients, bucket: &str) -> Result<Vec<(String, String)>, ProviderDiag> {
    match c.s3.get_bucket_tagging().bucket(bucket).send().await {
        Ok(r) => Ok(r
            .tag_set()
            .iter()
            .map(|t| (t.key().to_string(), t.value().to_string()))
            .collect()),
        Err(e) if matches!(err_code(&e), Some("NoSuchTagSet" | "NoSuchTagSetError")) => {
            Ok(Vec::new())
        }
        Err(e) => Err(aws_diag("GetBucketTagging", &e)),
    }
}

pub async fn recover_bucket(
    c: &Clients,
    ident: &ObjectIdentity,
) -> Result<Option<Value>, ProviderDiag> {
    let r =
        c.s3.list_buckets()
            .send()
            .await
            .map_err(|e| aws_diag("ListBuckets", &e))?;
    for b in r.buckets() {
        let Some(name) = b.name() else { continue };
        let tags = match bucket_tags(c, name).await {
            Ok(t) => t,
            Err(_) => continue,
        };
        if tags
            .iter()
            .any(|(k, v)| k == TAG_TOKEN && v == &ident.token)
        {
            let seed = Value::object([
                ("id", Value::from(name)),
                ("bucket", name.into()),
                ("force_destroy", false.into()),
            ]);
            return read_bucket(c, name, &seed).await;
        }
    }
    Ok(None)
}

pub async fn read(c: &Clients, t: &str, prior: &Value) -> Result<Option<Value>, ProviderDiag> {
    match t {
        "aws_s3_bucket" => {
            read_bucket(
                c,
                get_str(prior, "id")
                    .or(get_str(prior, "bucket"))
                    .unwrap_or_default(),
                prior,
            )
            .await
        }
        "aws_s3_bucket_versioning" => read_versioning(c, prior).await,
        "aws_s3_bucket_policy" => read_policy(c, prior).await,
        "aws_s3_bucket_public_access_block" => read_pab(c, prior).await,
        "aws_s3_bucket_lifecycle_configuration" => read_lifecycle(c, prior).await,
        "aws_s3_object" => read_object(c, prior).await,
        _ => Err(crate::providers::sdk::unsupported_resource(t)),
    }
}

pub async fn create(c: &Clients, t: &str, planned: &Value, ident: &ObjectIdentity) -> CreateResult {
    let e = |d: ProviderDiag| (None, d);
    match t {
        "aws_s3_bucket" => {
            let name = match (
                get_str(planned, "bucket"),
                get_str(planned, "bucket_prefix"),
            ) {
                (Some(b), _) => b.to_string(),
                (None, Some(p)) => format!("{p}{}", super::ec2_net::unique_suffix()),
                (None, None) => format!("terraform-{}", super::ec2_net::unique_suffix()),
            };
            let mut req = c.s3.create_bucket().bucket(&name);
            if c.region != "us-east-1" {
                req = req.create_bucket_configuration(
                    CreateBucketConfiguration::builder()
                        .location_constraint(BucketLocationConstraint::from(c.region.as_str()))
                        .build(),
                );
            }
            match req.send().await {
                Ok(_) => {}
                // Tags are written after the bucket exists, so a crash in between leaves
                // a bucket recover cannot find by tag: the next create finds it ours.
                Err(x) if err_code(&x) == Some("BucketAlreadyOwnedByYou") => {}
                Err(x) => return Err((None, aws_diag("CreateBucket", &x))),
            }
            let partial = with(
                planned,
                vec![
                    ("id", name.as_str().into()),
                    ("bucket", name.as_str().into()),
                ],
            );
            let mut tags = super::create_tags(planned, ident);
            for (k, v) in tags.iter_mut() {
                if is_ownership_tag(k) {
                    *v = s3_tag_value(v);
                }
            }
            let tagging = s3_tags(&tags).map_err(|d| (Some(partial.clone()), d))?;
            c.s3.put_bucket_tagging()
                .bucket(&name)
                .tagging(tagging)
                .send()
                .await
                .map_err(|x| (Some(partial.clone()), aws_diag("PutBucketTagging", &x)))?;
            wait_for(
                c,
                &format!("bucket {name} to exist"),
                std::time::Duration::from_secs(120),
                || read_bucket(c, &name, &partial),
            )
            .await
            .map_err(|d| (Some(partial.clone()), d))
        }
        _ => {
            put_sub(c, t, planned).await.map_err(e)?;
            let read_back = with(planned, vec![("id", attr(planned, "bucket").clone())]);
            match read(c, t, &read_back)
                .await
                .map_err(|d| (Some(read_back.clone()), d))?
            {
                Some(v) => Ok(v),
                None => Err((
                    Some(read_back),
                    ProviderDiag::error(
                        "Object not found after create",
                        format!("{t} was written but could not be read back."),
                    ),
                )),
            }
        }
    }
}

/// Writes a bucket sub-resource or an object (create and update are the same call).
async fn put_sub(c: &Clients, t: &str, planned: &Value) -> Result<(), ProviderDiag> {
    let bucket = req_str(planned, "bucket")?;
    match t {
        "aws_s3_bucket_versioning" => {
            let vc = attr(planned, "versioning_configuration")
                .as_seq()
                .and_then(|s| s.first())
                .cloned()
                .unwrap_or(Value::null());
            let status = get_str(&vc, "status").unwrap_or("Enabled");
            if status == "Disabled" {
                // Versioning that was never enabled is "Disabled"; nothing to write.
                return Ok(());
            }
            let mut conf =
                VersioningConfiguration::builder().status(BucketVersioningStatus::from(status));
            if let Some(m) = get_str(&vc, "mfa_delete") {
                conf = conf.mfa_delete(aws_sdk_s3::types::MfaDelete::from(m));
            }
            c.s3.put_bucket_versioning()
                .bucket(bucket)
                .set_expected_bucket_owner(
                    get_str(planned, "expected_bucket_owner").map(String::from),
                )
                .versioning_configuration(conf.build())
                .send()
                .await
                .map_err(|x| aws_diag("PutBucketVersioning", &x))?;
        }
        "aws_s3_bucket_policy" => {
            c.s3.put_bucket_policy()
                .bucket(bucket)
                .policy(req_str(planned, "policy")?)
                .send()
                .await
                .map_err(|x| aws_diag("PutBucketPolicy", &x))?;
        }
        "aws_s3_bucket_public_access_block" => {
            let b = |n: &str| get_bool(planned, n).unwrap_or(false);
            let conf = PublicAccessBlockConfiguration::builder()
                .block_public_acls(b("block_public_acls"))
                .block_public_policy(b("block_public_policy"))
                .ignore_public_acls(b("ignore_public_acls"))
                .restrict_public_buckets(b("restrict_public_buckets"))
                .build();
            c.s3.put_public_access_block()
                .bucket(bucket)
                .public_access_block_configuration(conf)
                .send()
                .await
                .map_err(|x| aws_diag("PutPublicAccessBlock", &x))?;
        }
        "aws_s3_bucket_lifecycle_configuration" => {
            let mut rules = Vec::new();
            for r in attr(planned, "rule").as_seq().unwrap_or_default() {
                let first = |n: &str| attr(r, n).as_seq().and_then(|s| s.first()).cloned();
                let mut rb = LifecycleRule::builder()
                    .id(req_str(r, "id")?)
                    .status(ExpirationStatus::from(req_str(r, "status")?));
                let prefix = first("filter")
                    .and_then(|f| get_str(&f, "prefix").map(String::from))
                    .unwrap_or_default();
                rb = rb.filter(LifecycleRuleFilter::builder().prefix(prefix).build());
                if let Some(x) = first("expiration").and_then(|x| get_i64(&x, "days")) {
                    rb = rb.expiration(LifecycleExpiration::builder().days(x as i32).build());
                }
                if let Some(x) = first("noncurrent_version_expiration")
                    .and_then(|x| get_i64(&x, "noncurrent_days"))
                {
                    rb = rb.noncurrent_version_expiration(
                        NoncurrentVersionExpiration::builder()
                            .noncurrent_days(x as i32)
                            .build(),
                    );
                }
                if let Some(x) = first("abort_incomplete_multipart_upload")
                    .and_then(|x| get_i64(&x, "days_after_initiation"))
                {
                    rb = rb.abort_incomplete_multipart_upload(
                        AbortIncompleteMultipartUpload::builder()
                            .days_after_initiation(x as i32)
                            .build(),
                    );
                }
                rules.push(
                    rb.build().map_err(|e| {
                        ProviderDiag::error("Invalid lifecycle rule", e.to_string())
                    })?,
                );
            }
            let conf = BucketLifecycleConfiguration::builder()
                .set_rules(Some(rules))
                .build()
                .map_err(|e| {
                    ProviderDiag::error("Invalid lifecycle configuration", e.to_string())
                })?;
            c.s3.put_bucket_lifecycle_configuration()
                .bucket(bucket)
                .lifecycle_configuration(conf)
                .send()
                .await
                .map_err(|x| aws_diag("PutBucketLifecycleConfiguration", &x))?;
        }
        "aws_s3_object" => {
            let body = object_body(planned)?.unwrap_or_default();
            let tags: Vec<String> = attr(planned, "tags_all")
                .as_map()
                .map(|m| {
                    m.iter()
                        .filter_map(|(k, v)| v.as_str().map(|v| format!("{}={}", enc(k), enc(v))))
                        .collect()
                })
                .unwrap_or_default();
            c.s3.put_object()
                .bucket(bucket)
                .key(req_str(planned, "key")?)
                .body(body.into())
                .set_content_type(get_str(planned, "content_type").map(String::from))
                .set_tagging(if tags.is_empty() {
                    None
                } else {
                    Some(tags.join("&"))
                })
                .send()
                .await
                .map_err(|x| aws_diag("PutObject", &x))?;
        }
        _ => return Err(crate::providers::sdk::unsupported_resource(t)),
    }
    Ok(())
}

fn enc(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

pub async fn update(
    c: &Clients,
    t: &str,
    prior: &Value,
    planned: &Value,
) -> Result<Value, ProviderDiag> {
    match t {
        "aws_s3_bucket" => {
            let bucket = req_str(prior, "id")?;
            if !attr(prior, "tags_all").same_as(attr(planned, "tags_all")) {
                // Bucket tagging is replaced as a whole: keep the ownership tags.
                let mut tags: Vec<(String, String)> = bucket_tags(c, bucket)
                    .await?
                    .into_iter()
                    .filter(|(k, _)| is_ownership_tag(k))
                    .collect();
                if let Some(m) = attr(planned, "tags_all").as_map() {
                    tags.extend(
                        m.iter()
                            .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string()))),
                    );
                }
                c.s3.put_bucket_tagging()
                    .bucket(bucket)
                    .tagging(s3_tags(&tags)?)
                    .send()
                    .await
                    .map_err(|x| aws_diag("PutBucketTagging", &x))?;
            }
        }
        "aws_s3_object" => {
            let content_keys = [
                "etag",
                "content_type",
                "content",
                "content_base64",
                "source",
            ];
            let content_changed = content_keys
                .iter()
                .any(|k| !attr(prior, k).same_as(attr(planned, k)));
            if content_changed {
                put_sub(c, t, planned).await?;
            } else if !attr(prior, "tags_all").same_as(attr(planned, "tags_all")) {
                let tags: Vec<(String, String)> = attr(planned, "tags_all")
                    .as_map()
                    .map(|m| {
                        m.iter()
                            .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string())))
                            .collect()
                    })
                    .unwrap_or_default();
                c.s3.put_object_tagging()
                    .bucket(req_str(planned, "bucket")?)
                    .key(req_str(planned, "key")?)
                    .tagging(s3_tags(&tags)?)
                    .send()
                    .await
                    .map_err(|x| aws_diag("PutObjectTagging", &x))?;
            }
        }
        _ => put_sub(c, t, planned).await?,
    }
    let p = with(planned, vec![("id", attr(prior, "id").clone())]);
    read(c, t, &p).await?.ok_or_else(|| {
        ProviderDiag::error(
            "Object vanished",
            format!("{t} was not found after updating it."),
        )
    })
}

pub async fn delete(c: &Clients, t: &str, prior: &Value) -> Result<(), ProviderDiag> {
    let ok_if_gone = |r: Result<(), ProviderDiag>, code: Option<&str>| {
        if is_not_found(code) {
            Ok(())
        } else {
            r
        }
    };
    match t {
        "aws_s3_bucket" => {
            let bucket = req_str(prior, "id")?;
            if get_bool(prior, "force_destroy") == Some(true) {
                empty_bucket(c, bucket).await?;
            }
            match c.s3.delete_bucket().bucket(bucket).send().await {
                Ok(_) => {}
                Err(e) if is_not_found(err_code(&e)) => return Ok(()),
                Err(e) => {
                    let mut d = aws_diag("DeleteBucket", &e);
                    if err_code(&e) == Some("BucketNotEmpty") {
                        d.detail.push_str(" Set force_destroy = true (and apply) to delete a bucket with its objects.");
                    }
                    return Err(d);
                }
            }
            wait_for(
                c,
                &format!("bucket {bucket} to be deleted"),
                std::time::Duration::from_secs(120),
                || async {
                    match c.s3.head_bucket().bucket(bucket).send().await {
                        Ok(_) => Ok(None),
                        Err(e)
                            if is_not_found(err_code(&e))
                                || e.raw_response()
                                    .map(|r| r.status().as_u16() == 404)
                                    .unwrap_or(false) =>
                        {
                            Ok(Some(()))
                        }
                        Err(e) => Err(aws_diag("HeadBucket", &e)),
                    }
                },
            )
            .await
        }
        "aws_s3_bucket_versioning" => {
            // Versioning cannot be turned off once on; deleting the resource suspends it.
            let bucket = req_str(prior, "bucket")?;
            let status = attr(prior, "versioning_configuration")
                .as_seq()
                .and_then(|s| s.first())
                .and_then(|v| get_str(v, "status"))
                .unwrap_or("Enabled");
            if status == "Disabled" {
                return Ok(());
            }
            let conf = VersioningConfiguration::builder()
                .status(BucketVersioningStatus::Suspended)
                .build();
            let r =
                c.s3.put_bucket_versioning()
                    .bucket(bucket)
                    .versioning_configuration(conf)
                    .send()
                    .await;
            match r {
                Ok(_) => Ok(()),
                Err(e) => ok_if_gone(Err(aws_diag("PutBucketVersioning", &e)), err_code(&e)),
            }
        }
        "aws_s3_bucket_policy" => match c
            .s3
            .delete_bucket_policy()
            .bucket(req_str(prior, "bucket")?)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) => ok_if_gone(Err(aws_diag("DeleteBucketPolicy", &e)), err_code(&e)),
        },
        "aws_s3_bucket_public_access_block" => match c
            .s3
            .delete_public_access_block()
            .bucket(req_str(prior, "bucket")?)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) => ok_if_gone(Err(aws_diag("DeletePublicAccessBlock", &e)), err_code(&e)),
        },
        "aws_s3_bucket_lifecycle_configuration" => match c
            .s3
            .delete_bucket_lifecycle()
            .bucket(req_str(prior, "bucket")?)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) => ok_if_gone(Err(aws_diag("DeleteBucketLifecycle", &e)), err_code(&e)),
        },
        "aws_s3_object" => match c
            .s3
            .delete_object()
            .bucket(req_str(prior, "bucket")?)
            .key(req_str(prior, "key")?)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) => ok_if_gone(Err(aws_diag("DeleteObject", &e)), err_code(&e)),
        },
        _ => Err(crate::providers::sdk::unsupported_resource(t)),
    }
}

/// Deletes every object version and delete marker of a bucket (`force_destroy`).
async fn empty_bucket(c: &Clients, bucket: &str) -> Result<(), ProviderDiag> {
    use aws_sdk_s3::types::{Delete, ObjectIdentifier};
    loop {
        let r = match c.s3.list_object_versions().bucket(bucket).send().await {
            Ok(r) => r,
            Err(e) if is_not_found(err_code(&e)) => return Ok(()),
            Err(e) => return Err(aws_diag("ListObjectVersions", &e)),
        };
        let mut ids = Vec::new();
        for v in r.versions() {
            ids.push(
                ObjectIdentifier::builder()
                    .set_key(v.key().map(String::from))
                    .set_version_id(v.version_id().map(String::from))
                    .build(),
            );
        }
        for m in r.delete_markers() {
            ids.push(
                ObjectIdentifier::builder()
                    .set_key(m.key().map(String::from))
                    .set_version_id(m.version_id().map(String::from))
                    .build(),
            );
        }
        let ids: Vec<ObjectIdentifier> = ids.into_iter().filter_map(Result::ok).collect();
        if ids.is_empty() {
            return Ok(());
        }
        let del = Delete::builder()
            .set_objects(Some(ids))
            .quiet(true)
            .build()
            .map_err(|e| ProviderDiag::error("Invalid delete request", e.to_string()))?;
        c.s3.delete_objects()
            .bucket(bucket)
            .delete(del)
            .send()
            .await
            .map_err(|e| aws_diag("DeleteObjects", &e))?;
    }
}

async fn bucket_exists(c: &Clients, bucket: &str) -> Result<bool, ProviderDiag> {
    match c.s3.head_bucket().bucket(bucket).send().await {
        Ok(_) => Ok(true),
        Err(e)
            if is_not_found(err_code(&e))
                || e.raw_response()
                    .map(|r| r.status().as_u16() == 404)
                    .unwrap_or(false) =>
        {
            Ok(false)
        }
        Err(e) => Err(aws_diag("HeadBucket", &e)),
    }
}

async fn read_bucket(
    c: &Clients,
    bucket: &str,
    prior: &Value,
) -> Result<Option<Value>, ProviderDiag> {
    if bucket.is_empty() || !bucket_exists(c, bucket).await? {
        return Ok(None);
    }
    let (tags, tags_all) = tag_values(c, bucket_tags(c, bucket).await?, prior);
    Ok(Some(with(
        prior,
        vec![
            ("id", bucket.into()),
            ("bucket", bucket.into()),
            ("arn", format!("arn:aws:s3:::{bucket}").into()),
            (
                "bucket_domain_name",
                format!("{bucket}.s3.amazonaws.com").into(),
            ),
            (
                "bucket_regional_domain_name",
                format!("{bucket}.s3.{}.amazonaws.com", c.region).into(),
            ),
            ("region", c.region.as_str().into()),
            (
                "force_destroy",
                Value::Bool(get_bool(prior, "force_destroy").unwrap_or(false)),
            ),
            ("tags", tags),
            ("tags_all", tags_all),
        ],
    )))
}

async fn read_versioning(c: &Clients, prior: &Value) -> Result<Option<Value>, ProviderDiag> {
    let bucket = req_str(prior, "bucket")?;
    let r = match c.s3.get_bucket_versioning().bucket(bucket).send().await {
        Ok(r) => r,
        Err(e) if is_not_found(err_code(&e)) => return Ok(None),
        Err(e) => return Err(aws_diag("GetBucketVersioning", &e)),
    };
    let status = r
        .status()
        .map(|s| s.as_str().to_string())
        .unwrap_or_else(|| "Disabled".into());
    let prior_vc = attr(prior, "versioning_configuration")
        .as_seq()
        .and_then(|s| s.first())
        .cloned();
    let mfa = match r.mfa_delete() {
        Some(m) => Value::from(m.as_str()),
        None => prior_vc
            .as_ref()
            .map(|v| attr(v, "mfa_delete").clone())
            .unwrap_or(Value::Null(Type::String)),
    };
    let vc = Value::List(vec![Value::object([
        ("status", Value::from(status)),
        ("mfa_delete", mfa),
    ])]);
    Ok(Some(with(
        prior,
        vec![
            ("id", bucket.into()),
            ("bucket", bucket.into()),
            ("versioning_configuration", vc),
        ],
    )))
}

async fn read_policy(c: &Clients, prior: &Value) -> Result<Option<Value>, ProviderDiag> {
    let bucket = req_str(prior, "bucket")?;
    let r = match c.s3.get_bucket_policy().bucket(bucket).send().await {
        Ok(r) => r,
        Err(e) if is_not_found(err_code(&e)) => return Ok(None),
        Err(e) => return Err(aws_diag("GetBucketPolicy", &e)),
    };
    let policy = r.policy().unwrap_or_default();
    // The same document in other whitespace or key order is no change.
    let parse = |s: &str| serde_json::from_str::<serde_json::Value>(s).ok();
    let kept = match (get_str(prior, "policy"), parse(policy)) {
        (Some(p), Some(remote)) if parse(p).as_ref() == Some(&remote) => p.to_string(),
        _ => policy.to_string(),
    };
    Ok(Some(with(
        prior,
        vec![
            ("id", bucket.into()),
            ("bucket", bucket.into()),
            ("policy", kept.into()),
        ],
    )))
}

async fn read_pab(c: &Clients, prior: &Value) -> Result<Option<Value>, ProviderDiag> {
    let bucket = req_str(prior, "bucket")?;
    let r = match c.s3.get_public_access_block().bucket(bucket).send().await {
        Ok(r) => r,
        Err(e) if is_not_found(err_code(&e)) => return Ok(None),
        Err(e) => return Err(aws_diag("GetPublicAccessBlock", &e)),
    };
    let Some(conf) = r.public_access_block_configuration() else {
        return Ok(None);
    };
    let b = |v: Option<bool>| Value::Bool(v.unwrap_or(false));
    Ok(Some(with(
        prior,
        vec![
            ("id", bucket.into()),
            ("bucket", bucket.into()),
            ("block_public_acls", b(conf.block_public_acls())),
            ("block_public_policy", b(conf.block_public_policy())),
            ("ignore_public_acls", b(conf.ignore_public_acls())),
            ("restrict_public_buckets", b(conf.restrict_public_buckets())),
        ],
    )))
}

async fn read_lifecycle(c: &Clients, prior: &Value) -> Result<Option<Value>, ProviderDiag> {
    let bucket = req_str(prior, "bucket")?;
    let r = match c
        .s3
        .get_bucket_lifecycle_configuration()
        .bucket(bucket)
        .send()
        .await
    {
        Ok(r) => r,
        Err(e) if is_not_found(err_code(&e)) => return Ok(None),
        Err(e) => return Err(aws_diag("GetBucketLifecycleConfiguration", &e)),
    };
    let days = |name: &str, d: Option<i32>| match d {
        Some(n) => Value::List(vec![Value::object([(name, Value::int(n as i64))])]),
        None => Value::List(Vec::new()),
    };
    let rules: Vec<Value> = r
        .rules()
        .iter()
        .map(|rule| {
            let prefix = rule.filter().and_then(|f| f.prefix());
            Value::object([
                ("id", os(rule.id())),
                ("status", Value::from(rule.status().as_str())),
                (
                    "filter",
                    Value::List(vec![Value::object([("prefix", os(prefix))])]),
                ),
                (
                    "expiration",
                    days("days", rule.expiration().and_then(|e| e.days())),
                ),
                (
                    "noncurrent_version_expiration",
                    days(
                        "noncurrent_days",
                        rule.noncurrent_version_expiration()
                            .and_then(|e| e.noncurrent_days()),
                    ),
                ),
                (
                    "abort_incomplete_multipart_upload",
                    days(
                        "days_after_initiation",
                        rule.abort_incomplete_multipart_upload()
                            .and_then(|e| e.days_after_initiation()),
                    ),
                ),
            ])
        })
        .collect();
    // A filter with an empty prefix reads back as the configuration wrote it.
    let prior_rules = attr(prior, "rule")
        .as_seq()
        .map(|s| s.to_vec())
        .unwrap_or_default();
    let rules: Vec<Value> = rules
        .into_iter()
        .enumerate()
        .map(|(i, r)| {
            let Some(pr) = prior_rules.get(i) else {
                return r;
            };
            let pf = attr(pr, "filter");
            let empty_prefix = attr(&r, "filter")
                .as_seq()
                .and_then(|s| s.first())
                .map(|f| get_str(f, "prefix").is_none())
                .unwrap_or(true);
            if empty_prefix
                && pf
                    .as_seq()
                    .map(|s| {
                        s.iter()
                            .all(|f| get_str(f, "prefix").unwrap_or("").is_empty())
                    })
                    .unwrap_or(true)
            {
                with(&r, vec![("filter", pf.clone())])
            } else {
                r
            }
        })
        .collect();
    Ok(Some(with(
        prior,
        vec![
            ("id", bucket.into()),
            ("bucket", bucket.into()),
            ("rule", Value::List(rules)),
        ],
    )))
}

async fn read_object(c: &Clients, prior: &Value) -> Result<Option<Value>, ProviderDiag> {
    let bucket = req_str(prior, "bucket")?;
    let key = req_str(prior, "key")?;
    let r = match c.s3.head_object().bucket(bucket).key(key).send().await {
        Ok(r) => r,
        Err(e)
            if is_not_found(err_code(&e))
                || e.raw_response()
                    .map(|r| r.status().as_u16() == 404)
                    .unwrap_or(false) =>
        {
            return Ok(None)
        }
        Err(e) => return Err(aws_diag("HeadObject", &e)),
    };
    let tags = match c
        .s3
        .get_object_tagging()
        .bucket(bucket)
        .key(key)
        .send()
        .await
    {
        Ok(t) => t
            .tag_set()
            .iter()
            .map(|t| (t.key().to_string(), t.value().to_string()))
            .collect(),
        Err(e) => return Err(aws_diag("GetObjectTagging", &e)),
    };
    let (tags, tags_all) = tag_values(c, tags, prior);
    let etag = r.e_tag().map(|e| e.trim_matches('"').to_string());
    Ok(Some(with(
        prior,
        vec![
            ("id", key.into()),
            ("etag", os(etag.as_deref())),
            ("content_type", os(r.content_type())),
            ("version_id", os(r.version_id().filter(|v| *v != "null"))),
            ("tags", tags),
            ("tags_all", tags_all),
        ],
    )))
}
