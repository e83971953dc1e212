//! The built-in aws provider against moto's AWS emulator (`moto_server`, installed and
//! found by scripts/setup/20-moto.sh through TERRANE_MOTO_SERVER). Every test starts a
//! private emulator so that tests can run in parallel and count what they leave behind.
//!
//! The terrane binary is pointed at the emulator with AWS_ENDPOINT_URL; the tests look at
//! (and tamper with) the emulator through the AWS SDK directly. Under CI=true a missing
//! emulator fails the test; elsewhere the test is skipped with a message.

use std::path::{Path, PathBuf};
use std::process::Output;

mod support;

use terrane::lang::value::Value;
use terrane::providers::{ApplyRequest, ObjectIdentity, PlanRequest, Provider};

// ---------------------------------------------------------------------------------------
// The emulator

/// A private moto server (see `support::moto::private_server`).
fn moto() -> Option<support::moto::PrivateMoto> {
    support::moto::private_server()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

// ---------------------------------------------------------------------------------------
// Running terrane

fn terrane(dir: &Path, endpoint: &str, args: &[&str]) -> Output {
    support::moto::terrane_on(dir, endpoint, args).output().expect("run terrane")
}

fn text(o: &Output) -> String {
    format!(
        "--- stdout\n{}\n--- stderr\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[track_caller]
fn ok(o: Output) -> String {
    assert!(o.status.success(), "terrane failed:\n{}", text(&o));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn example_dir() -> tempfile::TempDir {
    let d = tempfile::tempdir().expect("tempdir");
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/aws-stack/main.tf");
    std::fs::copy(src, d.path().join("main.tf")).expect("copy example");
    d
}

fn dir_with(main_tf: &str) -> tempfile::TempDir {
    let d = tempfile::tempdir().expect("tempdir");
    std::fs::write(d.path().join("main.tf"), main_tf).expect("write");
    d
}

#[track_caller]
fn assert_no_changes(dir: &Path, endpoint: &str) {
    let o = terrane(dir, endpoint, &["plan", "-detailed-exitcode"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "expected no changes:\n{}",
        text(&o)
    );
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("No changes."),
        "{}",
        text(&o)
    );
}

// ---------------------------------------------------------------------------------------
// Looking at the emulator with the SDK

struct Sdk {
    ec2: aws_sdk_ec2::Client,
    s3: aws_sdk_s3::Client,
}

async fn sdk(endpoint: &str) -> Sdk {
    sdk_in(endpoint, "us-east-1").await
}

async fn sdk_in(endpoint: &str, region: &str) -> Sdk {
    let conf = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new(region.to_string()))
        .endpoint_url(endpoint)
        .credentials_provider(aws_sdk_ec2::config::Credentials::new(
            "testing", "testing", None, None, "test",
        ))
        .load()
        .await;
    let s3 = aws_sdk_s3::config::Builder::from(&conf)
        .force_path_style(true)
        .build();
    Sdk {
        ec2: aws_sdk_ec2::Client::new(&conf),
        s3: aws_sdk_s3::Client::from_conf(s3),
    }
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .worker_threads(2)
        .build()
        .expect("runtime")
}

fn tag_filter(key: &str, value: &str) -> aws_sdk_ec2::types::Filter {
    aws_sdk_ec2::types::Filter::builder()
        .name(format!("tag:{key}"))
        .values(value)
        .build()
}

/// Every kind of object the aws-stack example creates, as found in the emulator
/// (the emulator's default VPC and its default subnets, route table, group and gateway
/// excluded).
async fn inventory(s: &Sdk) -> Vec<String> {
    let mut found = Vec::new();
    let vpcs = s.ec2.describe_vpcs().send().await.expect("DescribeVpcs");
    let default_vpcs: Vec<String> = vpcs
        .vpcs()
        .iter()
        .filter(|v| v.is_default() == Some(true))
        .filter_map(|v| v.vpc_id().map(String::from))
        .collect();
    let ours = |vpc: Option<&str>| {
        vpc.map(|v| !default_vpcs.iter().any(|d| d == v))
            .unwrap_or(true)
    };
    for v in vpcs.vpcs().iter().filter(|v| v.is_default() != Some(true)) {
        found.push(format!("vpc {}", v.vpc_id().unwrap_or_default()));
    }
    for x in s
        .ec2
        .describe_subnets()
        .send()
        .await
        .expect("DescribeSubnets")
        .subnets()
        .iter()
        .filter(|x| ours(x.vpc_id()))
    {
        found.push(format!("subnet {}", x.subnet_id().unwrap_or_default()));
    }
    for x in s
        .ec2
        .describe_internet_gateways()
        .send()
        .await
        .expect("DescribeInternetGateways")
        .internet_gateways()
    {
        if x.attachments().iter().all(|a| ours(a.vpc_id())) {
            found.push(format!(
                "internet gateway {}",
                x.internet_gateway_id().unwrap_or_default()
            ));
        }
    }
    for x in s
        .ec2
        .describe_route_tables()
        .send()
        .await
        .expect("DescribeRouteTables")
        .route_tables()
        .iter()
        .filter(|x| ours(x.vpc_id()))
    {
        found.push(format!(
            "route table {}",
            x.route_table_id().unwrap_or_default()
        ));
    }
    for x in s
        .ec2
        .describe_security_groups()
        .send()
        .await
        .expect("DescribeSecurityGroups")
        .security_groups()
        .iter()
        .filter(|x| ours(x.vpc_id()))
    {
        found.push(format!(
            "security group {}",
            x.group_id().unwrap_or_default()
        ));
    }
    let tagged_rules = s
        .ec2
        .describe_security_group_rules()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("tag-key")
                .values("terrane:lineage")
                .build(),
        )
        .send()
        .await
        .expect("DescribeSecurityGroupRules");
    for x in tagged_rules.security_group_rules() {
        found.push(format!(
            "security group rule {}",
            x.security_group_rule_id().unwrap_or_default()
        ));
    }
    for r in s
        .ec2
        .describe_instances()
        .send()
        .await
        .expect("DescribeInstances")
        .reservations()
    {
        for i in r.instances() {
            let state = i
                .state()
                .and_then(|s| s.name())
                .map(|n| n.as_str().to_string())
                .unwrap_or_default();
            if state != "terminated" {
                found.push(format!(
                    "instance {} ({state})",
                    i.instance_id().unwrap_or_default()
                ));
            }
        }
    }
    for x in s
        .ec2
        .describe_addresses()
        .send()
        .await
        .expect("DescribeAddresses")
        .addresses()
    {
        found.push(format!("address {}", x.allocation_id().unwrap_or_default()));
    }
    for x in s
        .ec2
        .describe_key_pairs()
        .send()
        .await
        .expect("DescribeKeyPairs")
        .key_pairs()
    {
        found.push(format!("key pair {}", x.key_name().unwrap_or_default()));
    }
    for x in s
        .ec2
        .describe_volumes()
        .send()
        .await
        .expect("DescribeVolumes")
        .volumes()
    {
        found.push(format!("volume {}", x.volume_id().unwrap_or_default()));
    }
    for b in
        s.s3.list_buckets()
            .send()
            .await
            .expect("ListBuckets")
            .buckets()
    {
        found.push(format!("bucket {}", b.name().unwrap_or_default()));
    }
    found
}

// ---------------------------------------------------------------------------------------
// Tests

#[test]
fn stack_applies_converges_and_destroy_leaves_nothing() {
    let Some(m) = moto() else { return };
    let d = example_dir();
    let rt = rt();
    let s = rt.block_on(sdk(&m.endpoint));
    assert!(
        rt.block_on(inventory(&s)).is_empty(),
        "the emulator is not empty before the test"
    );

    ok(terrane(d.path(), &m.endpoint, &["init"]));
    let out = ok(terrane(d.path(), &m.endpoint, &["apply", "-auto-approve"]));
    assert!(
        out.contains("Apply complete! Resources: 28 added, 0 changed, 0 destroyed."),
        "{out}"
    );
    assert_no_changes(d.path(), &m.endpoint);

    // What exists is what the configuration says.
    rt.block_on(async {
        let vpcs = s
            .ec2
            .describe_vpcs()
            .filters(tag_filter("Name", "terrane-demo"))
            .send()
            .await
            .unwrap();
        assert_eq!(vpcs.vpcs().len(), 1);
        let vpc = &vpcs.vpcs()[0];
        assert_eq!(vpc.cidr_block(), Some("10.20.0.0/16"));
        let tags: Vec<(&str, &str)> = vpc
            .tags()
            .iter()
            .map(|t| (t.key().unwrap(), t.value().unwrap()))
            .collect();
        assert!(
            tags.contains(&("Project", "terrane-demo")),
            "default tags applied: {tags:?}"
        );
        assert!(
            tags.iter()
                .any(|(k, v)| *k == "terrane:address" && *v == "aws_vpc.main"),
            "ownership tag: {tags:?}"
        );
        assert!(
            tags.iter().any(|(k, _)| *k == "terrane:lineage"),
            "ownership tag: {tags:?}"
        );

        let mut tiers = Vec::new();
        for r in s
            .ec2
            .describe_instances()
            .filters(
                aws_sdk_ec2::types::Filter::builder()
                    .name("instance-state-name")
                    .values("running")
                    .build(),
            )
            .send()
            .await
            .unwrap()
            .reservations()
        {
            for i in r.instances() {
                assert_eq!(i.instance_type().map(|t| t.as_str()), Some("t3.micro"));
                assert_eq!(
                    i.image_id(),
                    Some("ami-1e749f67"),
                    "the aws_ami data source's most recent Ubuntu image"
                );
                tiers.push(
                    i.tags()
                        .iter()
                        .find(|t| t.key() == Some("Tier"))
                        .and_then(|t| t.value())
                        .unwrap_or_default()
                        .to_string(),
                );
            }
        }
        tiers.sort();
        assert_eq!(
            tiers,
            ["app", "cache", "db-primary", "db-replica", "deploy", "lb"]
        );

        let v =
            s.s3.get_bucket_versioning()
                .bucket("terrane-demo-media")
                .send()
                .await
                .unwrap();
        assert_eq!(v.status().map(|s| s.as_str()), Some("Enabled"));
        let p =
            s.s3.get_bucket_policy()
                .bucket("terrane-demo-media")
                .send()
                .await
                .unwrap();
        assert!(p
            .policy()
            .unwrap_or_default()
            .contains("DenyInsecureTransport"));
        let pab =
            s.s3.get_public_access_block()
                .bucket("terrane-demo-media")
                .send()
                .await
                .unwrap();
        assert_eq!(
            pab.public_access_block_configuration()
                .and_then(|c| c.block_public_policy()),
            Some(true)
        );
    });

    let out = ok(terrane(
        d.path(),
        &m.endpoint,
        &["destroy", "-auto-approve"],
    ));
    assert!(
        out.contains("Destroy complete! Resources: 28 destroyed."),
        "{out}"
    );
    let left = rt.block_on(inventory(&s));
    assert!(left.is_empty(), "destroy left objects behind: {left:#?}");
}

#[test]
fn drift_is_planned_and_corrected() {
    let Some(m) = moto() else { return };
    let d = example_dir();
    let rt = rt();
    let s = rt.block_on(sdk(&m.endpoint));
    ok(terrane(d.path(), &m.endpoint, &["apply", "-auto-approve"]));

    // Changes made outside terrane: a tag, a subnet attribute, bucket versioning.
    let (vpc_id, subnet_id) = rt.block_on(async {
        let vpc = s
            .ec2
            .describe_vpcs()
            .filters(tag_filter("Name", "terrane-demo"))
            .send()
            .await
            .unwrap()
            .vpcs()[0]
            .vpc_id()
            .unwrap()
            .to_string();
        let subnet = s
            .ec2
            .describe_subnets()
            .filters(tag_filter("Name", "terrane-demo-public"))
            .send()
            .await
            .unwrap()
            .subnets()[0]
            .subnet_id()
            .unwrap()
            .to_string();
        s.ec2
            .create_tags()
            .resources(&vpc)
            .tags(
                aws_sdk_ec2::types::Tag::builder()
                    .key("Name")
                    .value("hand-edited")
                    .build(),
            )
            .send()
            .await
            .unwrap();
        s.ec2
            .modify_subnet_attribute()
            .subnet_id(&subnet)
            .map_public_ip_on_launch(
                aws_sdk_ec2::types::AttributeBooleanValue::builder()
                    .value(false)
                    .build(),
            )
            .send()
            .await
            .unwrap();
        let suspended = aws_sdk_s3::types::VersioningConfiguration::builder()
            .status(aws_sdk_s3::types::BucketVersioningStatus::Suspended)
            .build();
        s.s3.put_bucket_versioning()
            .bucket("terrane-demo-media")
            .versioning_configuration(suspended)
            .send()
            .await
            .unwrap();
        (vpc, subnet)
    });

    let o = terrane(d.path(), &m.endpoint, &["plan", "-detailed-exitcode"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let plan = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        plan.contains("Objects have changed outside of terrane"),
        "{plan}"
    );
    assert!(
        plan.contains("# aws_vpc.main will be updated in-place"),
        "{plan}"
    );
    assert!(
        plan.contains("\"hand-edited\" -> \"terrane-demo\""),
        "{plan}"
    );
    assert!(
        plan.contains("# aws_subnet.public will be updated in-place"),
        "{plan}"
    );
    assert!(
        plan.contains("map_public_ip_on_launch = false -> true"),
        "{plan}"
    );
    assert!(
        plan.contains("# aws_s3_bucket_versioning.media will be updated in-place"),
        "{plan}"
    );
    assert!(
        plan.contains("Plan: 0 to add, 3 to change, 0 to destroy."),
        "{plan}"
    );

    ok(terrane(d.path(), &m.endpoint, &["apply", "-auto-approve"]));
    rt.block_on(async {
        let vpc = s.ec2.describe_vpcs().vpc_ids(&vpc_id).send().await.unwrap();
        let name = vpc.vpcs()[0]
            .tags()
            .iter()
            .find(|t| t.key() == Some("Name"))
            .and_then(|t| t.value())
            .map(String::from);
        assert_eq!(name.as_deref(), Some("terrane-demo"));
        let sn = s
            .ec2
            .describe_subnets()
            .subnet_ids(&subnet_id)
            .send()
            .await
            .unwrap();
        assert_eq!(sn.subnets()[0].map_public_ip_on_launch(), Some(true));
        let v =
            s.s3.get_bucket_versioning()
                .bucket("terrane-demo-media")
                .send()
                .await
                .unwrap();
        assert_eq!(v.status().map(|s| s.as_str()), Some("Enabled"));
    });
    assert_no_changes(d.path(), &m.endpoint);
}

#[test]
fn deleted_outside_is_recreated_and_dependents_updated() {
    let Some(m) = moto() else { return };
    let d = example_dir();
    let rt = rt();
    let s = rt.block_on(sdk(&m.endpoint));
    ok(terrane(d.path(), &m.endpoint, &["apply", "-auto-approve"]));

    // The internet gateway is detached and deleted behind terrane's back; the public
    // route table's default route now points at nothing.
    let (old_igw, vpc) = rt.block_on(async {
        let igws = s
            .ec2
            .describe_internet_gateways()
            .filters(tag_filter("Name", "terrane-demo"))
            .send()
            .await
            .unwrap();
        let igw = &igws.internet_gateways()[0];
        let id = igw.internet_gateway_id().unwrap().to_string();
        let vpc = igw.attachments()[0].vpc_id().unwrap().to_string();
        s.ec2
            .detach_internet_gateway()
            .internet_gateway_id(&id)
            .vpc_id(&vpc)
            .send()
            .await
            .unwrap();
        s.ec2
            .delete_internet_gateway()
            .internet_gateway_id(&id)
            .send()
            .await
            .unwrap();
        (id, vpc)
    });

    let o = terrane(d.path(), &m.endpoint, &["plan", "-detailed-exitcode"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let plan = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        plan.contains("# aws_internet_gateway.gw has been deleted"),
        "{plan}"
    );
    assert!(
        plan.contains("# aws_internet_gateway.gw will be created"),
        "{plan}"
    );
    assert!(
        plan.contains("# aws_route_table.public will be updated in-place"),
        "{plan}"
    );

    ok(terrane(d.path(), &m.endpoint, &["apply", "-auto-approve"]));
    rt.block_on(async {
        let igws = s
            .ec2
            .describe_internet_gateways()
            .filters(tag_filter("Name", "terrane-demo"))
            .send()
            .await
            .unwrap();
        assert_eq!(igws.internet_gateways().len(), 1);
        let igw = &igws.internet_gateways()[0];
        let new_id = igw.internet_gateway_id().unwrap();
        assert_ne!(new_id, old_igw);
        assert_eq!(igw.attachments()[0].vpc_id(), Some(vpc.as_str()));
        let rts = s
            .ec2
            .describe_route_tables()
            .filters(tag_filter("Name", "terrane-demo-public"))
            .send()
            .await
            .unwrap();
        let default_route = rts.route_tables()[0]
            .routes()
            .iter()
            .find(|r| r.destination_cidr_block() == Some("0.0.0.0/0"))
            .map(|r| r.gateway_id().unwrap_or_default().to_string());
        assert_eq!(
            default_route.as_deref(),
            Some(new_id),
            "the dependent route follows the new gateway"
        );
    });
    assert_no_changes(d.path(), &m.endpoint);
}

const INVALID: &str = r#"provider "aws" {
  region = "us-east-1"
}

resource "aws_vpc" "bad" {
  cidr_block = "10.0.0.1/16"
}

resource "aws_instance" "bad" {
  ami           = "ami-12345678"
  instance_type = "t3.mega"
}
"#;

#[test]
fn invalid_arguments_are_located_before_any_api_call() {
    // No emulator needed: the endpoint is a closed port, so any API call would fail
    // with a connection error instead of these diagnostics.
    let closed = format!("http://127.0.0.1:{}", free_port());
    let d = dir_with(INVALID);
    let o = terrane(d.path(), &closed, &["plan"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(err.contains("Invalid CIDR block"), "{err}");
    assert!(err.contains("\"10.0.0.1/16\" has host bits set; the network address of this block is \"10.0.0.0/16\""), "{err}");
    assert!(
        err.contains("main.tf:6:16"),
        "span of cidr_block's value: {err}"
    );
    assert!(err.contains("Unknown instance type"), "{err}");
    assert!(
        err.contains("main.tf:11:19"),
        "span of instance_type's value: {err}"
    );
    assert!(
        !err.contains("dispatch failure") && !err.contains("onnect"),
        "an API call was made: {err}"
    );
}

#[test]
fn missing_ami_is_found_at_plan_time_with_the_argument_span() {
    let Some(m) = moto() else { return };
    let d = dir_with(
        r#"resource "aws_instance" "web" {
  ami           = "ami-0badc0de"
  instance_type = "t3.micro"
}
"#,
    );
    let o = terrane(d.path(), &m.endpoint, &["plan"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(err.contains("AMI not found"), "{err}");
    assert!(
        err.contains("The AMI \"ami-0badc0de\" does not exist in us-east-1"),
        "{err}"
    );
    assert!(
        err.contains("main.tf:2:19"),
        "span of the ami argument: {err}"
    );
    assert!(err.contains("aws_instance.web"), "{err}");
}

#[test]
fn api_errors_name_the_address_operation_and_code() {
    let Some(m) = moto() else { return };
    let d = dir_with(
        r#"resource "aws_instance" "web" {
  ami           = "ami-1e749f67"
  instance_type = "t3.micro"
  subnet_id     = "subnet-0123abcd"
}
"#,
    );
    let o = terrane(d.path(), &m.endpoint, &["apply", "-auto-approve"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(err.contains("aws_instance.web"), "{err}");
    assert!(err.contains("RunInstances"), "{err}");
    assert!(err.contains("InvalidSubnetID.NotFound"), "{err}");
}

#[test]
fn import_adopts_existing_objects() {
    let Some(m) = moto() else { return };
    let rt = rt();
    let s = rt.block_on(sdk(&m.endpoint));
    let (vpc_id, sg_id) = rt.block_on(async {
        let vpc = s
            .ec2
            .create_vpc()
            .cidr_block("10.9.0.0/16")
            .send()
            .await
            .unwrap()
            .vpc()
            .unwrap()
            .vpc_id()
            .unwrap()
            .to_string();
        let sg = s
            .ec2
            .create_security_group()
            .group_name("legacy")
            .description("made by hand")
            .vpc_id(&vpc)
            .send()
            .await
            .unwrap()
            .group_id()
            .unwrap()
            .to_string();
        s.s3.create_bucket()
            .bucket("legacy-bucket")
            .send()
            .await
            .unwrap();
        (vpc, sg)
    });
    let d = dir_with(
        r#"resource "aws_vpc" "legacy" {
  cidr_block = "10.9.0.0/16"
}

resource "aws_security_group" "legacy" {
  name        = "legacy"
  description = "made by hand"
  vpc_id      = aws_vpc.legacy.id
}

resource "aws_s3_bucket" "legacy" {
  bucket = "legacy-bucket"
}
"#,
    );
    let out = ok(terrane(
        d.path(),
        &m.endpoint,
        &["import", "aws_vpc.legacy", &vpc_id],
    ));
    assert!(out.contains("Import successful!"), "{out}");
    ok(terrane(
        d.path(),
        &m.endpoint,
        &["import", "aws_security_group.legacy", &sg_id],
    ));
    ok(terrane(
        d.path(),
        &m.endpoint,
        &["import", "aws_s3_bucket.legacy", "legacy-bucket"],
    ));
    // An association, by Terraform's SUBNET/ROUTE_TABLE import id.
    let (subnet_id, rtb_id) = rt.block_on(async {
        let subnet = s
            .ec2
            .create_subnet()
            .vpc_id(&vpc_id)
            .cidr_block("10.9.1.0/24")
            .send()
            .await
            .unwrap()
            .subnet()
            .unwrap()
            .subnet_id()
            .unwrap()
            .to_string();
        let rtb = s
            .ec2
            .create_route_table()
            .vpc_id(&vpc_id)
            .send()
            .await
            .unwrap()
            .route_table()
            .unwrap()
            .route_table_id()
            .unwrap()
            .to_string();
        s.ec2
            .associate_route_table()
            .subnet_id(&subnet)
            .route_table_id(&rtb)
            .send()
            .await
            .unwrap();
        (subnet, rtb)
    });
    let mut tf = std::fs::read_to_string(d.path().join("main.tf")).unwrap();
    tf.push_str(&format!("\nresource \"aws_route_table_association\" \"legacy\" {{\n  subnet_id      = \"{subnet_id}\"\n  route_table_id = \"{rtb_id}\"\n}}\n"));
    std::fs::write(d.path().join("main.tf"), tf).unwrap();
    ok(terrane(
        d.path(),
        &m.endpoint,
        &[
            "import",
            "aws_route_table_association.legacy",
            &format!("{subnet_id}/{rtb_id}"),
        ],
    ));
    let shown = ok(terrane(
        d.path(),
        &m.endpoint,
        &["state", "show", "aws_vpc.legacy"],
    ));
    assert!(shown.contains(&vpc_id), "{shown}");
    assert_no_changes(d.path(), &m.endpoint);

    // A second import to the same address is refused; an unknown id is reported.
    let again = terrane(
        d.path(),
        &m.endpoint,
        &["import", "aws_vpc.legacy", &vpc_id],
    );
    assert_eq!(again.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("already managed"),
        "{}",
        text(&again)
    );
    let d2 = dir_with("resource \"aws_vpc\" \"x\" {\n  cidr_block = \"10.1.0.0/16\"\n}\n");
    let missing = terrane(
        d2.path(),
        &m.endpoint,
        &["import", "aws_vpc.x", "vpc-0123abcd"],
    );
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&missing.stderr).contains("non-existent remote object"),
        "{}",
        text(&missing)
    );
}

/// The provider configured against one emulator through the `endpoints` block (not the
/// environment, which the tests share).
async fn provider_for(endpoint: &str) -> std::sync::Arc<dyn Provider> {
    let p = terrane::providers::aws::new_provider();
    let ep = Value::object([
        ("ec2", Value::from(endpoint)),
        ("s3", Value::from(endpoint)),
        ("sts", Value::from(endpoint)),
    ]);
    let cfg = Value::object([
        ("region", Value::from("us-east-1")),
        ("access_key", Value::from("testing")),
        ("secret_key", Value::from("testing")),
        ("endpoints", Value::Set(vec![ep])),
    ]);
    let diags = p.configure(&cfg).await;
    assert!(diags.iter().all(|d| !d.error), "{diags:?}");
    p
}

async fn create(p: &dyn Provider, ty: &str, config: Value, token: &str) -> Value {
    let block = p.schema().resources[ty].block.clone();
    let mut full: std::collections::BTreeMap<String, Value> = block
        .attributes
        .iter()
        .map(|(k, a)| (k.clone(), Value::Null(a.ty.clone())))
        .collect();
    full.extend(config.as_map().cloned().unwrap_or_default());
    let config = Value::Object(full);
    let planned = p
        .plan_change(PlanRequest {
            type_name: ty,
            prior: None,
            config: &config,
        })
        .await;
    assert!(
        planned.diags.iter().all(|d| !d.error),
        "{:?}",
        planned.diags
    );
    let id = ObjectIdentity {
        lineage: "lin-1".into(),
        address: format!("{ty}.x[\"a\"]"),
        token: token.into(),
    };
    let r = p
        .apply_change(ApplyRequest {
            type_name: ty,
            prior: None,
            planned: Some(&planned.planned),
            config: &config,
            identity: &id,
        })
        .await;
    assert!(r.diags.iter().all(|d| !d.error), "{:?}", r.diags);
    r.new_state.expect("created")
}

#[test]
fn recover_finds_the_object_of_an_interrupted_create_by_its_token() {
    let Some(m) = moto() else { return };
    rt().block_on(async {
        let p = provider_for(&m.endpoint).await;
        let vpc = create(
            &*p,
            "aws_vpc",
            Value::object([("cidr_block", Value::from("10.3.0.0/16"))]),
            "tok-vpc",
        )
        .await;
        let subnet = create(
            &*p,
            "aws_subnet",
            Value::object([
                ("vpc_id", vpc.get_attr("id").unwrap().clone()),
                ("cidr_block", Value::from("10.3.1.0/24")),
            ]),
            "tok-subnet",
        )
        .await;
        let inst = create(
            &*p,
            "aws_instance",
            Value::object([
                ("ami", Value::from("ami-1e749f67")),
                ("instance_type", Value::from("t3.micro")),
                ("subnet_id", subnet.get_attr("id").unwrap().clone()),
            ]),
            "tok-inst",
        )
        .await;
        let bucket = create(
            &*p,
            "aws_s3_bucket",
            Value::object([("bucket", Value::from("recovered-bucket"))]),
            "tok-bucket",
        )
        .await;

        for (ty, tok, obj) in [
            ("aws_vpc", "tok-vpc", &vpc),
            ("aws_subnet", "tok-subnet", &subnet),
            ("aws_instance", "tok-inst", &inst),
            ("aws_s3_bucket", "tok-bucket", &bucket),
        ] {
            let id = ObjectIdentity {
                lineage: "lin-1".into(),
                address: format!("{ty}.x[\"a\"]"),
                token: tok.into(),
            };
            let found = p
                .recover(ty, &id)
                .await
                .expect("recover")
                .unwrap_or_else(|| panic!("{ty} not recovered"));
            assert_eq!(
                found.get_attr("id").and_then(|v| v.as_str()),
                obj.get_attr("id").and_then(|v| v.as_str()),
                "{ty}"
            );
            // Ownership tags are not the user's tags.
            assert!(
                found
                    .get_attr("tags_all")
                    .and_then(|t| t.as_map())
                    .map(|m| m.is_empty())
                    .unwrap_or(true),
                "{ty}: {found:?}"
            );
            let other = ObjectIdentity {
                token: "never-used".into(),
                ..id
            };
            assert!(
                p.recover(ty, &other).await.expect("recover").is_none(),
                "{ty} found for a token never used"
            );
        }
    });
}

const MORE: &str = r#"variable "instance_type" {
  type    = string
  default = "t3.micro"
}

provider "aws" {
  region = "us-east-1"
}

data "aws_caller_identity" "me" {}

data "aws_vpc" "default" {
  default = true
}

data "aws_subnets" "default" {
  filter {
    name   = "vpc-id"
    values = [data.aws_vpc.default.id]
  }
}

resource "aws_key_pair" "deploy" {
  key_name   = "deploy"
  public_key = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC3F6tyPEFEzV0LX3X8BsXdMsQz1x2cEikKDEY0aIj41qgxMCP/iteneqXSIFZBp5vizPvaoIR3Um9xK7PGoW8giupGn+EPuxIA4cDM4vzOqOkiMPhz5XK0whEjkVzTo4+S0puvDZuwIsdiW9mxhJc7tgBNL0cYlWSYVkz4G/fslNfRPW5mYAM49f4fhtxPb5ok4Q2Lg9dPKVHO/Bgeu5woMc7RY0p1ej6D4CKFE6lymSDJpW0YHX/wqE9+cfEauh7xZcG0q9t2ta6F6fmX0agvpFyZo8aFbXeUBr7osSCJNgvavWbM/06niWrOvYX2xwWdhXmXSrbX8ZbabVohBK41 test"
}

resource "aws_instance" "box" {
  ami           = "ami-1e749f67"
  instance_type = var.instance_type
  subnet_id     = data.aws_subnets.default.ids[0]
  key_name      = aws_key_pair.deploy.key_name

  root_block_device {
    volume_size = 20
  }
}

resource "aws_eip" "box" {
  instance = aws_instance.box.id
}

resource "aws_ebs_volume" "data" {
  availability_zone = aws_instance.box.availability_zone
  size              = 10
  tags              = { Name = "data" }
}

resource "aws_volume_attachment" "data" {
  device_name = "/dev/sdf"
  volume_id   = aws_ebs_volume.data.id
  instance_id = aws_instance.box.id
}

resource "aws_s3_bucket" "backups" {
  bucket        = "backups-${data.aws_caller_identity.me.account_id}"
  force_destroy = true
}

resource "aws_s3_bucket_lifecycle_configuration" "backups" {
  bucket = aws_s3_bucket.backups.id

  rule {
    id     = "expire"
    status = "Enabled"
    filter {
      prefix = "daily/"
    }
    expiration {
      days = 30
    }
  }
}

resource "aws_s3_object" "readme" {
  bucket       = aws_s3_bucket.backups.id
  key          = "README.txt"
  content      = "backups live here\n"
  content_type = "text/plain"
}
"#;

#[test]
fn compute_storage_and_data_sources_round_trip() {
    let Some(m) = moto() else { return };
    let d = dir_with(MORE);
    let rt = rt();
    let s = rt.block_on(sdk(&m.endpoint));
    let out = ok(terrane(d.path(), &m.endpoint, &["apply", "-auto-approve"]));
    assert!(
        out.contains("Resources: 8 added, 0 changed, 0 destroyed."),
        "{out}"
    );
    assert_no_changes(d.path(), &m.endpoint);

    let instance_id = rt.block_on(async {
        let r = s
            .ec2
            .describe_instances()
            .filters(
                aws_sdk_ec2::types::Filter::builder()
                    .name("instance-state-name")
                    .values("running")
                    .build(),
            )
            .send()
            .await
            .unwrap();
        let i = &r.reservations()[0].instances()[0];
        assert_eq!(i.key_name(), Some("deploy"));
        let vols = s
            .ec2
            .describe_volumes()
            .filters(tag_filter("Name", "data"))
            .send()
            .await
            .unwrap();
        assert_eq!(
            vols.volumes()[0].attachments()[0].instance_id(),
            i.instance_id()
        );
        let addrs = s.ec2.describe_addresses().send().await.unwrap();
        assert_eq!(addrs.addresses()[0].instance_id(), i.instance_id());
        let obj =
            s.s3.get_object()
                .bucket("backups-123456789012")
                .key("README.txt")
                .send()
                .await
                .unwrap();
        assert_eq!(
            obj.body.collect().await.unwrap().into_bytes().as_ref(),
            b"backups live here\n"
        );
        let lc =
            s.s3.get_bucket_lifecycle_configuration()
                .bucket("backups-123456789012")
                .send()
                .await
                .unwrap();
        assert_eq!(lc.rules()[0].expiration().and_then(|e| e.days()), Some(30));
        i.instance_id().unwrap().to_string()
    });

    // The instance type changes in place: the instance is stopped, modified and started.
    let o = terrane(
        d.path(),
        &m.endpoint,
        &["plan", "-var", "instance_type=t3.small"],
    );
    let plan = ok(o);
    assert!(
        plan.contains("# aws_instance.box will be updated in-place"),
        "{plan}"
    );
    assert!(
        plan.contains("Plan: 0 to add, 1 to change, 0 to destroy."),
        "{plan}"
    );
    ok(terrane(
        d.path(),
        &m.endpoint,
        &["apply", "-auto-approve", "-var", "instance_type=t3.small"],
    ));
    rt.block_on(async {
        let r = s
            .ec2
            .describe_instances()
            .instance_ids(&instance_id)
            .send()
            .await
            .unwrap();
        let i = &r.reservations()[0].instances()[0];
        assert_eq!(i.instance_type().map(|t| t.as_str()), Some("t3.small"));
        assert_eq!(
            i.state().and_then(|s| s.name()).map(|n| n.as_str()),
            Some("running")
        );
    });

    // The object's content changes in place; its etag follows.
    let changed = MORE.replace("backups live here", "backups moved");
    std::fs::write(d.path().join("main.tf"), &changed).unwrap();
    let plan = ok(terrane(
        d.path(),
        &m.endpoint,
        &["plan", "-var", "instance_type=t3.small"],
    ));
    assert!(
        plan.contains("# aws_s3_object.readme will be updated in-place"),
        "{plan}"
    );
    ok(terrane(
        d.path(),
        &m.endpoint,
        &["apply", "-auto-approve", "-var", "instance_type=t3.small"],
    ));
    let o = terrane(
        d.path(),
        &m.endpoint,
        &[
            "plan",
            "-detailed-exitcode",
            "-var",
            "instance_type=t3.small",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));

    ok(terrane(
        d.path(),
        &m.endpoint,
        &["destroy", "-auto-approve", "-var", "instance_type=t3.small"],
    ));
    let left = rt.block_on(inventory(&s));
    assert!(left.is_empty(), "destroy left objects behind: {left:#?}");
}

#[test]
fn aliased_providers_work_in_their_own_regions() {
    let Some(m) = moto() else { return };
    let d = dir_with(
        r#"provider "aws" {
  region = "us-east-1"
}

provider "aws" {
  alias  = "west"
  region = "us-west-2"
  default_tags {
    tags = { Region = "west" }
  }
}

resource "aws_vpc" "east" {
  cidr_block = "10.1.0.0/16"
}

resource "aws_vpc" "west" {
  provider   = aws.west
  cidr_block = "10.2.0.0/16"
  tags       = { Name = "west" }
}
"#,
    );
    ok(terrane(d.path(), &m.endpoint, &["apply", "-auto-approve"]));
    assert_no_changes(d.path(), &m.endpoint);
    let rt = rt();
    rt.block_on(async {
        let west = sdk_in(&m.endpoint, "us-west-2").await;
        let v = west
            .ec2
            .describe_vpcs()
            .filters(tag_filter("Name", "west"))
            .send()
            .await
            .unwrap();
        assert_eq!(
            v.vpcs().len(),
            1,
            "the aliased provider's VPC is in us-west-2"
        );
        assert_eq!(v.vpcs()[0].cidr_block(), Some("10.2.0.0/16"));
        assert!(v.vpcs()[0]
            .tags()
            .iter()
            .any(|t| t.key() == Some("Region") && t.value() == Some("west")));
        let east = sdk(&m.endpoint).await;
        let e = east
            .ec2
            .describe_vpcs()
            .filters(
                aws_sdk_ec2::types::Filter::builder()
                    .name("cidr")
                    .values("10.1.0.0/16")
                    .build(),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(
            e.vpcs().len(),
            1,
            "the default provider's VPC is in us-east-1"
        );
        let w = east
            .ec2
            .describe_vpcs()
            .filters(tag_filter("Name", "west"))
            .send()
            .await
            .unwrap();
        assert!(w.vpcs().is_empty());
    });
    ok(terrane(
        d.path(),
        &m.endpoint,
        &["destroy", "-auto-approve"],
    ));
}

#[test]
fn untaggable_creates_repeated_after_a_crash_adopt_what_the_first_made() {
    let Some(m) = moto() else { return };
    rt().block_on(async {
        let p = provider_for(&m.endpoint).await;
        let vpc = create(
            &*p,
            "aws_vpc",
            Value::object([("cidr_block", Value::from("10.4.0.0/16"))]),
            "t1",
        )
        .await;
        let vpc_id = vpc.get_attr("id").unwrap().clone();
        let subnet = create(
            &*p,
            "aws_subnet",
            Value::object([
                ("vpc_id", vpc_id.clone()),
                ("cidr_block", Value::from("10.4.1.0/24")),
            ]),
            "t2",
        )
        .await;
        let rtb = create(
            &*p,
            "aws_route_table",
            Value::object([("vpc_id", vpc_id)]),
            "t3",
        )
        .await;
        let assoc = Value::object([
            ("subnet_id", subnet.get_attr("id").unwrap().clone()),
            ("route_table_id", rtb.get_attr("id").unwrap().clone()),
        ]);
        let first = create(&*p, "aws_route_table_association", assoc.clone(), "t4").await;
        // The state never learnt of `first` (a crash); recover cannot find untagged
        // associations, so the create runs again and must end with the same object.
        let id = ObjectIdentity {
            lineage: "lin-1".into(),
            address: "aws_route_table_association.x[\"a\"]".into(),
            token: "t4".into(),
        };
        assert!(p
            .recover("aws_route_table_association", &id)
            .await
            .expect("recover")
            .is_none());
        let again = create(&*p, "aws_route_table_association", assoc, "t5").await;
        assert_eq!(first.get_attr("id"), again.get_attr("id"));

        let bucket = create(
            &*p,
            "aws_s3_bucket",
            Value::object([("bucket", Value::from("crash-bucket"))]),
            "t6",
        )
        .await;
        let again = create(
            &*p,
            "aws_s3_bucket",
            Value::object([("bucket", Value::from("crash-bucket"))]),
            "t7",
        )
        .await;
        assert_eq!(bucket.get_attr("id"), again.get_attr("id"));
    });
}

/// A tiny EC2 endpoint: answers the first `failures` requests with 503
/// RequestLimitExceeded (throttling), then with one availability zone.
fn flaky_ec2(failures: usize) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::sync::atomic::{AtomicUsize, Ordering};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let count = std::sync::Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let seen = seen.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().expect("clone"));
                let mut out = stream;
                loop {
                    let mut len = 0usize;
                    let mut line = String::new();
                    loop {
                        line.clear();
                        if reader.read_line(&mut line).unwrap_or(0) == 0 {
                            return;
                        }
                        if line == "\r\n" {
                            break;
                        }
                        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                            len = v.trim().parse().unwrap_or(0);
                        }
                    }
                    let mut body = vec![0; len];
                    if reader.read_exact(&mut body).is_err() {
                        return;
                    }
                    let n = seen.fetch_add(1, Ordering::SeqCst);
                    let (status, xml) = if n < failures {
                        ("503 Service Unavailable", "<Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>Request limit exceeded.</Message></Error></Errors><RequestID>r</RequestID></Response>".to_string())
                    } else {
                        ("200 OK", "<DescribeAvailabilityZonesResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\"><requestId>r</requestId><availabilityZoneInfo><item><zoneName>us-east-1a</zoneName><zoneId>use1-az1</zoneId><zoneState>available</zoneState><regionName>us-east-1</regionName></item></availabilityZoneInfo></DescribeAvailabilityZonesResponse>".to_string())
                    };
                    let resp = format!("HTTP/1.1 {status}\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\r\n{xml}", xml.len());
                    if out.write_all(resp.as_bytes()).is_err() {
                        return;
                    }
                }
            });
        }
    });
    (format!("http://{addr}"), count)
}

#[test]
fn throttling_and_5xx_answers_are_retried() {
    rt().block_on(async {
        let (endpoint, count) = flaky_ec2(2);
        let p = provider_for(&endpoint).await;
        let block = p.schema().data_sources["aws_availability_zones"]
            .block
            .clone();
        let cfg = Value::Object(
            block
                .attributes
                .iter()
                .map(|(k, a)| (k.clone(), Value::Null(a.ty.clone())))
                .collect(),
        );
        let r = p.read_data("aws_availability_zones", &cfg).await;
        assert!(r.diags.is_empty(), "{:?}", r.diags);
        let names = r
            .new_state
            .expect("read")
            .get_attr("names")
            .cloned()
            .expect("names");
        assert!(
            names.same_as(&Value::List(vec![Value::from("us-east-1a")])),
            "{names:?}"
        );
        assert_eq!(
            count.load(std::sync::atomic::Ordering::SeqCst),
            3,
            "two throttled answers, then success"
        );

        // A provider that gives up after one attempt reports the throttling with its code.
        let (endpoint, _) = flaky_ec2(usize::MAX);
        let p = terrane::providers::aws::new_provider();
        let ep = Value::object([("ec2", Value::from(endpoint.as_str()))]);
        let c = Value::object([
            ("region", Value::from("us-east-1")),
            ("access_key", Value::from("testing")),
            ("secret_key", Value::from("testing")),
            ("max_retries", Value::int(0)),
            ("endpoints", Value::Set(vec![ep])),
        ]);
        assert!(p.configure(&c).await.is_empty());
        let r = p.read_data("aws_availability_zones", &cfg).await;
        let d = r.diags.first().expect("an error");
        assert!(
            d.summary.contains("DescribeAvailabilityZones")
                && d.summary.contains("RequestLimitExceeded"),
            "{d:?}"
        );
    });
}
