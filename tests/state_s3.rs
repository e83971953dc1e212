//! The S3 backend against moto's S3 emulator: the backend conformance suite, plus what
//! only S3 has (the lock object, history from bucket versions, conditional state writes,
//! encryption of the stored object).

mod support;

use support::moto;
use terrane::state::backend::{Backend, LockInfo, StateError};
use terrane::state::conformance::{run_all, sample_state};
use terrane::state::encryption::StateCodec;
use terrane::state::s3::{S3Backend, S3Settings};

fn settings(endpoint: &str, bucket: &str, key: &str) -> S3Settings {
    S3Settings {
        bucket: bucket.into(),
        key: key.into(),
        region: Some("us-east-1".into()),
        endpoint: Some(endpoint.into()),
        use_lockfile: true,
        encrypt: true,
        ..S3Settings::default()
    }
}

async fn backend(endpoint: &str, bucket: &str, key: &str) -> S3Backend {
    moto::dummy_credentials();
    S3Backend::connect(settings(endpoint, bucket, key), StateCodec::plain())
        .await
        .expect("connect")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn s3_backend_passes_the_conformance_suite() {
    let Some(ep) = moto::endpoint("s3_backend_passes_the_conformance_suite") else {
        return;
    };
    let bucket = moto::bucket(&ep, "conformance", true).await;
    run_all(|| {
        let (ep, bucket) = (ep.clone(), bucket.clone());
        async move {
            Box::new(backend(&ep, &bucket, "env/prod/terraform.tfstate").await) as Box<dyn Backend>
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn lock_is_a_tflock_object_holding_the_lock_info() {
    let Some(ep) = moto::endpoint("lock_is_a_tflock_object_holding_the_lock_info") else {
        return;
    };
    let bucket = moto::bucket(&ep, "lockobj", true).await;
    let b = backend(&ep, &bucket, "a/terraform.tfstate").await;
    assert_eq!(b.lock_key(), "a/terraform.tfstate.tflock");
    let info = LockInfo::new("apply");
    b.lock(&info).await.unwrap();

    let c = moto::client(&ep).await;
    let obj = c
        .get_object()
        .bucket(&bucket)
        .key("a/terraform.tfstate.tflock")
        .send()
        .await
        .expect("the lock object exists");
    let body = obj.body.collect().await.unwrap().into_bytes();
    let stored: LockInfo = serde_json::from_slice(&body).expect("lock info JSON");
    assert_eq!(stored.id, info.id);
    assert_eq!(stored.operation, "apply");
    assert_eq!(stored.path, format!("s3://{bucket}/a/terraform.tfstate"));
    assert!(!stored.who.is_empty() && !stored.created.is_empty());

    // A lock object written by someone else (e.g. Terraform) is respected.
    b.unlock(&info.id).await.unwrap();
    let foreign = LockInfo::new("OperationTypeApply");
    c.put_object()
        .bucket(&bucket)
        .key("a/terraform.tfstate.tflock")
        .body(serde_json::to_vec(&foreign).unwrap().into())
        .send()
        .await
        .unwrap();
    match b.lock(&LockInfo::new("plan")).await {
        Err(StateError::Locked(h)) => assert_eq!(h.id, foreign.id),
        other => panic!("expected Locked, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn state_writes_are_conditional_and_carry_serial_metadata() {
    let Some(ep) = moto::endpoint("state_writes_are_conditional_and_carry_serial_metadata") else {
        return;
    };
    let bucket = moto::bucket(&ep, "condwrite", true).await;
    let b = backend(&ep, &bucket, "terraform.tfstate").await;
    b.write(&sample_state("lin", 1, "one")).await.unwrap();
    let c = moto::client(&ep).await;
    let head = c
        .head_object()
        .bucket(&bucket)
        .key("terraform.tfstate")
        .send()
        .await
        .unwrap();
    let meta = head.metadata().expect("metadata");
    assert_eq!(meta.get("terrane-serial").map(String::as_str), Some("1"));
    assert_eq!(meta.get("terrane-lineage").map(String::as_str), Some("lin"));
    assert_eq!(
        head.server_side_encryption().map(|s| s.as_str()),
        Some("AES256"),
        "encrypt = true asks for server-side encryption"
    );

    // Without versioning there is no history, and history() says how to fix that.
    let plain_bucket = moto::bucket(&ep, "noversions", false).await;
    let nb = backend(&ep, &plain_bucket, "terraform.tfstate").await;
    nb.write(&sample_state("lin", 1, "one")).await.unwrap();
    nb.write(&sample_state("lin", 2, "two")).await.unwrap();
    match nb.history().await {
        Err(StateError::Other(m)) => assert!(m.contains("put-bucket-versioning"), "{m}"),
        other => panic!("expected an error naming versioning, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn unreachable_endpoint_is_an_error_not_a_hang_or_panic() {
    moto::dummy_credentials();
    let mut s = settings("http://127.0.0.1:1", "b", "k");
    s.secret_key = Some("very-secret-key-value".into());
    s.access_key = Some("AKIA".into());
    let b = S3Backend::connect(s, StateCodec::plain()).await.unwrap();
    let dbg = format!("{b:?}");
    assert!(!dbg.contains("very-secret-key-value"), "{dbg}");
    match b.read().await {
        Err(e) => {
            let m = e.to_string();
            assert!(m.contains("s3://b/k"), "{m}");
            assert!(!m.contains("very-secret-key-value"), "{m}");
        }
        Ok(v) => panic!("expected an error, got {v:?}"),
    }
}
