//! Finding moto's S3 emulator for the S3 backend tests, and making buckets on it.
//!
//! `scripts/setup/20-moto.sh` starts the server and exports `TERRANE_MOTO_ENDPOINT`. Under
//! `CI=true` a missing server fails the test; elsewhere the test is skipped with a message.

#![allow(dead_code)]

use aws_sdk_s3::types::{BucketVersioningStatus, VersioningConfiguration};

/// The emulator's endpoint, or `None` (after printing why) when the test should skip.
pub fn endpoint(test: &str) -> Option<String> {
    match std::env::var("TERRANE_MOTO_ENDPOINT") {
        Ok(e) if !e.is_empty() => Some(e),
        _ => {
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!("{test}: TERRANE_MOTO_ENDPOINT is not set; run the suite with scripts/test.sh, which starts moto");
            }
            eprintln!(
                "skipping {test}: TERRANE_MOTO_ENDPOINT is not set (scripts/test.sh starts moto)"
            );
            None
        }
    }
}

/// Dummy credentials and region for the SDK, as the setup script exports them.
pub fn dummy_credentials() {
    for (k, v) in [
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_DEFAULT_REGION", "us-east-1"),
        ("AWS_REGION", "us-east-1"),
    ] {
        if std::env::var_os(k).is_none() {
            // SAFETY: set before any thread of the test reads the environment.
            unsafe { std::env::set_var(k, v) };
        }
    }
}

/// A client on the emulator.
pub async fn client(endpoint: &str) -> aws_sdk_s3::Client {
    dummy_credentials();
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .load()
        .await;
    let conf = aws_sdk_s3::config::Builder::from(&sdk)
        .endpoint_url(endpoint)
        .force_path_style(true)
        .build();
    aws_sdk_s3::Client::from_conf(conf)
}

/// Creates a new bucket with a unique name, with versioning on when asked.
pub async fn bucket(endpoint: &str, prefix: &str, versioned: bool) -> String {
    let c = client(endpoint).await;
    let name = format!(
        "{prefix}-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    );
    c.create_bucket()
        .bucket(&name)
        .send()
        .await
        .unwrap_or_else(|e| panic!("creating bucket {name}: {e:?}"));
    if versioned {
        c.put_bucket_versioning()
            .bucket(&name)
            .versioning_configuration(
                VersioningConfiguration::builder()
                    .status(BucketVersioningStatus::Enabled)
                    .build(),
            )
            .send()
            .await
            .unwrap_or_else(|e| panic!("enabling versioning on {name}: {e:?}"));
    }
    name
}

/// A private moto server for one test (so that tests can run in parallel and count what
/// they leave behind), stopped when dropped.
pub struct PrivateMoto {
    child: std::process::Child,
    pub endpoint: String,
}

impl Drop for PrivateMoto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts a private server from `TERRANE_MOTO_SERVER`, or `None` (after printing why)
/// when the test should skip; under `CI=true` a missing server fails the test.
pub fn private_server() -> Option<PrivateMoto> {
    let Some(server) = std::env::var_os("TERRANE_MOTO_SERVER") else {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("TERRANE_MOTO_SERVER is not set: run the suite through scripts/test.sh (CI must not skip AWS tests)");
        }
        eprintln!("skipping: TERRANE_MOTO_SERVER is not set (run scripts/test.sh to install moto)");
        return None;
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let child = std::process::Command::new(server)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start moto_server");
    let m = PrivateMoto { child, endpoint: format!("http://127.0.0.1:{port}") };
    for _ in 0..600 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Some(m);
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("moto_server did not start on port {port}");
}

/// `terrane ARGS` in `dir`, pointed at the emulator at `endpoint` with dummy credentials
/// and no shared AWS configuration of the machine's user.
pub fn terrane_on(dir: &std::path::Path, endpoint: &str, args: &[&str]) -> std::process::Command {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_terrane"));
    c.args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", dir.join("no-aws-config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", dir.join("no-aws-credentials"))
        .env_remove("AWS_PROFILE")
        .stdin(std::process::Stdio::null());
    c
}
