//! Issue 6's kill test: `terrane apply` of `examples/aws-stack` against moto's AWS
//! emulator is killed with SIGKILL at a random moment, then `terrane apply` runs again.
//! After every round:
//! - the state file parses and holds no unresolved create intent;
//! - every object in the emulator that carries terrane's ownership tag for this state's
//!   lineage is in the state exactly once: the address its tag names holds its id, and no
//!   two objects claim the same address (no orphan, no duplicate);
//! - a final `plan -detailed-exitcode` says `No changes.` (exit 0).
//!
//! `TERRANE_KILL_ROUNDS` sets the number of rounds (default 30; the README describes a
//! 200-round run). Each round has a private emulator. Under CI=true a missing emulator
//! fails the test; elsewhere it is skipped with a message.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

mod support;

use base64::Engine as _;
use rand::Rng;

fn moto() -> support::moto::PrivateMoto {
    support::moto::private_server().expect("TERRANE_MOTO_SERVER is set")
}

fn terrane(dir: &Path, endpoint: &str, args: &[&str]) -> Command {
    support::moto::terrane_on(dir, endpoint, args)
}

fn text(o: &Output) -> String {
    format!("--- stdout\n{}\n--- stderr\n{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn example() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/aws-stack/main.tf");
    std::fs::copy(src, d.path().join("main.tf")).unwrap();
    d
}

/// Every object in the emulator tagged with `lineage`, as (address tag, object id).
async fn tagged_objects(endpoint: &str, lineage: &str) -> Vec<(String, String)> {
    tagged_objects_with_tokens(endpoint, lineage).await.into_iter().map(|(a, id, _)| (a, id)).collect()
}

/// Every object in the emulator tagged with `lineage`, as (address tag, object id,
/// create token tag).
async fn tagged_objects_with_tokens(endpoint: &str, lineage: &str) -> Vec<(String, String, String)> {
    let conf = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(aws_sdk_ec2::config::Credentials::new("testing", "testing", None, None, "test"))
        .load()
        .await;
    let ec2 = aws_sdk_ec2::Client::new(&conf);
    let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&conf).force_path_style(true).build());
    let mut out = Vec::new();

    // EC2: every tag of every resource, grouped by resource.
    let mut by_id: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let mut token = None;
    loop {
        let r = ec2.describe_tags().set_next_token(token.clone()).max_results(1000).send().await.expect("DescribeTags");
        for t in r.tags() {
            by_id.entry(t.resource_id().unwrap_or_default().to_string()).or_default().insert(t.key().unwrap_or_default().to_string(), t.value().unwrap_or_default().to_string());
        }
        token = r.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    // Terminated instances keep their tags in moto but no longer exist.
    let mut terminated = std::collections::BTreeSet::new();
    let inst = ec2.describe_instances().send().await.expect("DescribeInstances");
    for res in inst.reservations() {
        for i in res.instances() {
            if i.state().and_then(|s| s.name()).map(|n| n.as_str()) == Some("terminated") {
                terminated.insert(i.instance_id().unwrap_or_default().to_string());
            }
        }
    }
    // Deleted VPCs, subnets, security groups, gateways and route tables keep their tags
    // in moto's DescribeTags too: only those that still exist count.
    let mut existing = std::collections::BTreeSet::new();
    for v in ec2.describe_vpcs().send().await.expect("DescribeVpcs").vpcs() {
        existing.insert(v.vpc_id().unwrap_or_default().to_string());
    }
    for v in ec2.describe_subnets().send().await.expect("DescribeSubnets").subnets() {
        existing.insert(v.subnet_id().unwrap_or_default().to_string());
    }
    for v in ec2.describe_security_groups().send().await.expect("DescribeSecurityGroups").security_groups() {
        existing.insert(v.group_id().unwrap_or_default().to_string());
    }
    for v in ec2.describe_internet_gateways().send().await.expect("DescribeInternetGateways").internet_gateways() {
        existing.insert(v.internet_gateway_id().unwrap_or_default().to_string());
    }
    for v in ec2.describe_route_tables().send().await.expect("DescribeRouteTables").route_tables() {
        existing.insert(v.route_table_id().unwrap_or_default().to_string());
    }
    let gone = |id: &str| ["vpc-", "subnet-", "sg-", "igw-", "rtb-"].iter().any(|p| id.starts_with(p)) && !existing.contains(id);
    for (id, tags) in by_id {
        if tags.get("terrane:lineage").map(String::as_str) == Some(lineage) && !terminated.contains(&id) && !gone(&id) {
            out.push((tags.get("terrane:address").cloned().unwrap_or_default(), id, tags.get("terrane:token").cloned().unwrap_or_default()));
        }
    }

    // S3: bucket tags.
    let buckets = s3.list_buckets().send().await.expect("ListBuckets");
    for b in buckets.buckets() {
        let name = b.name().unwrap_or_default().to_string();
        let Ok(t) = s3.get_bucket_tagging().bucket(&name).send().await else { continue };
        let tags: BTreeMap<&str, &str> = t.tag_set().iter().map(|t| (t.key(), t.value())).collect();
        if tags.get("terrane:lineage") == Some(&lineage) {
            let mut addr = tags.get("terrane:address").copied().unwrap_or_default().to_string();
            if let Some(b64) = addr.strip_prefix("b64:") {
                addr = String::from_utf8(base64::engine::general_purpose::STANDARD.decode(b64).unwrap()).unwrap();
            }
            out.push((addr, name, tags.get("terrane:token").copied().unwrap_or_default().to_string()));
        }
    }
    out
}

/// The checks made after every round; `what` names the round for messages.
fn check_round(dir: &Path, endpoint: &str, what: &str, rt: &tokio::runtime::Runtime) {
    let text = std::fs::read_to_string(dir.join("state/terraform.tfstate")).unwrap_or_else(|e| panic!("{what}: no state: {e}"));
    let state = terrane::state::statefile::from_json(&text, "state").unwrap_or_else(|e| panic!("{what}: the state does not parse: {e}"));
    assert!(state.pending.is_empty(), "{what}: unresolved intents after a successful apply: {:?}", state.pending);
    let objects = rt.block_on(tagged_objects(endpoint, &state.lineage));
    assert!(!objects.is_empty(), "{what}: the stack left no tagged object");
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    for (addr, id) in &objects {
        if let Some(other) = seen.insert(addr.clone(), id.clone()) {
            panic!("{what}: duplicate objects for {addr}: {other} and {id}");
        }
        let a: terrane::addrs::AbsResourceInstance = addr.parse().unwrap_or_else(|e| panic!("{what}: tag {addr:?} is not an address: {e:?}"));
        let obj = state.instance(&a).unwrap_or_else(|| panic!("{what}: {id} (tagged {addr}) is not in the state: an orphan"));
        let sid = obj.attributes.clone().to_json()["id"].as_str().unwrap_or_default().to_string();
        assert_eq!(sid, *id, "{what}: {addr} in the state is {sid}, the tagged object is {id}");
    }
}

#[test]
fn kill_9_at_random_moments_never_loses_or_duplicates_a_resource() {
    let Some(probe) = support::moto::private_server() else { return };
    drop(probe);
    let rounds: usize = std::env::var("TERRANE_KILL_ROUNDS").ok().and_then(|s| s.parse().ok()).unwrap_or(30);
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let mut rng = rand::thread_rng();

    // An undisturbed apply sets the window in which the kills fall, and tells how many
    // state writes an apply makes.
    let (window, writes) = {
        let m = moto();
        let d = example();
        let t = Instant::now();
        let o = terrane(d.path(), &m.endpoint, &["apply", "-auto-approve"]).output().unwrap();
        assert!(o.status.success(), "the undisturbed apply failed:\n{}", text(&o));
        check_round(d.path(), &m.endpoint, "undisturbed apply", &rt);
        (t.elapsed(), state_serial(d.path()))
    };

    let mut killed_mid_run = 0;
    for round in 0..rounds {
        let m = moto();
        let d = example();
        // Even rounds: a moment within the first 60% of an undisturbed apply's time (it
        // may fall in the refresh and plan). Odd rounds: right after a random state write
        // but the last, plus a few milliseconds, which lands inside the creates however
        // the machine's load changes the durations.
        let mut child;
        let what;
        if round % 2 == 0 || writes < 2 {
            let delay = Duration::from_millis(rng.gen_range(0..(window.as_millis() * 6 / 10).max(1) as u64));
            what = format!("round {round} (kill after {delay:?} of a {window:?} apply)");
            child = terrane(d.path(), &m.endpoint, &["apply", "-auto-approve"]).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
            std::thread::sleep(delay);
        } else {
            let after = rng.gen_range(1..writes);
            let delay = Duration::from_millis(rng.gen_range(0..30));
            what = format!("round {round} (kill {delay:?} after state write {after} of {writes})");
            child = terrane(d.path(), &m.endpoint, &["apply", "-auto-approve"]).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
            wait_for_state_write(d.path(), after - 1);
            std::thread::sleep(delay);
        }
        if child.try_wait().unwrap().is_none() {
            killed_mid_run += 1;
        }
        let _ = child.kill(); // SIGKILL
        child.wait().unwrap();

        let o = terrane(d.path(), &m.endpoint, &["apply", "-auto-approve"]).output().unwrap();
        assert!(o.status.success(), "{what}: the apply after the kill failed:\n{}", text(&o));
        check_round(d.path(), &m.endpoint, &what, &rt);
        let p = terrane(d.path(), &m.endpoint, &["plan", "-detailed-exitcode"]).output().unwrap();
        assert_eq!(p.status.code(), Some(0), "{what}: the apply did not converge:\n{}", text(&p));
    }
    // The test means something only if most kills landed while terrane was running.
    eprintln!("{killed_mid_run} of {rounds} kills hit a running apply");
    assert!(killed_mid_run * 3 >= rounds, "only {killed_mid_run} of {rounds} kills hit a running apply");
}

/// Ctrl-C during an apply: the first stops new work and lets running calls finish, the
/// second stops waiting; either way terrane exits non-zero with the state saved, and the
/// next apply finishes the job with nothing lost or duplicated.
#[test]
fn interrupted_applies_save_the_state_and_the_next_apply_converges() {
    let Some(probe) = support::moto::private_server() else { return };
    drop(probe);
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    for signals in [1, 2] {
        let m = moto();
        let d = example();
        let child = terrane(d.path(), &m.endpoint, &["apply", "-auto-approve"]).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        // Wait until the apply has recorded something (it is well into creating), then
        // interrupt it.
        let state = d.path().join("state/terraform.tfstate");
        let t = Instant::now();
        while !state.exists() && t.elapsed() < Duration::from_secs(60) {
            std::thread::sleep(Duration::from_millis(20));
        }
        for _ in 0..signals {
            // SAFETY: sends a signal to our own child, which has not been waited for.
            unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
            std::thread::sleep(Duration::from_millis(30));
        }
        let o = child.wait_with_output().unwrap();
        let what = format!("{signals} interrupt(s)");
        let err = String::from_utf8_lossy(&o.stderr);
        if o.status.success() {
            // The apply won the race and finished first: nothing to check but the end state.
            eprintln!("{what}: the apply finished before the interrupt");
        } else {
            assert_eq!(o.status.code(), Some(1), "{what}:\n{}", text(&o));
            assert!(err.contains("Interrupt received"), "{what}:\n{err}");
            assert!(err.contains("Apply interrupted"), "{what}:\n{err}");
        }
        let st = terrane::state::statefile::from_json(&std::fs::read_to_string(&state).unwrap(), "state").expect("the saved state parses");
        if signals == 1 {
            assert!(st.pending.is_empty(), "a graceful stop settles every running create: {:?}", st.pending);
        }
        let o = terrane(d.path(), &m.endpoint, &["apply", "-auto-approve"]).output().unwrap();
        assert!(o.status.success(), "{what}: the next apply failed:\n{}", text(&o));
        check_round(d.path(), &m.endpoint, &what, &rt);
        let p = terrane(d.path(), &m.endpoint, &["plan", "-detailed-exitcode"]).output().unwrap();
        assert_eq!(p.status.code(), Some(0), "{what}:\n{}", text(&p));
    }
}

// ---- create_before_destroy replacements ----------------------------------------------

/// A VPC with two subnets and a security group, every one `create_before_destroy`:
/// changing `cidr` replaces all four (new VPC, then new subnets and group in it, then
/// the old subnets and group, then the old VPC, which AWS refuses to delete while it
/// still holds subnets).
const CBD_STACK: &str = r#"
variable "cidr" {
  type = string
}

provider "aws" {
  region = "us-east-1"
}

resource "aws_vpc" "main" {
  cidr_block = var.cidr

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_subnet" "part" {
  count      = 2
  vpc_id     = aws_vpc.main.id
  cidr_block = cidrsubnet(var.cidr, 8, count.index)

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_security_group" "web" {
  name   = "web"
  vpc_id = aws_vpc.main.id

  lifecycle {
    create_before_destroy = true
  }
}
"#;

const CIDR_BEFORE: &str = "cidr=10.1.0.0/16";
const CIDR_AFTER: &str = "cidr=10.2.0.0/16";

/// The serial of the state in `dir` (0 when there is none yet).
fn state_serial(dir: &Path) -> u64 {
    std::fs::read_to_string(dir.join("state/terraform.tfstate"))
        .ok()
        .and_then(|t| terrane::state::statefile::from_json(&t, "state").ok())
        .map(|s| s.serial)
        .unwrap_or(0)
}

/// Waits (at most a minute) until the state in `dir` has a serial above `serial`.
fn wait_for_state_write(dir: &Path, serial: u64) {
    let t = Instant::now();
    while state_serial(dir) <= serial && t.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn cbd_stack() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("main.tf"), CBD_STACK).unwrap();
    d
}

/// Every object tagged with the state's lineage is named by the state: as the current
/// object of its address, as one of its deposed objects, or (`allow_pending`: right
/// after a kill) by the pending create intent whose token it carries. No object is named
/// twice. Returns the number of deposed objects in the state.
fn check_cbd_state(dir: &Path, endpoint: &str, what: &str, allow_pending: bool, rt: &tokio::runtime::Runtime) -> usize {
    let path = dir.join("state/terraform.tfstate");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{what}: no state: {e}"));
    let state = terrane::state::statefile::from_json(&text, "state").unwrap_or_else(|e| panic!("{what}: the state does not parse: {e}"));
    if !allow_pending {
        assert!(state.pending.is_empty(), "{what}: unresolved intents after a successful apply: {:?}", state.pending);
    }
    let id_of = |o: &terrane::state::InstanceObject| o.attributes.clone().to_json()["id"].as_str().unwrap_or_default().to_string();
    // Every object the state names, with how.
    let mut named: BTreeMap<String, String> = BTreeMap::new();
    for a in state.instance_addrs() {
        if let Some(o) = state.instance(&a) {
            assert!(named.insert(id_of(o), format!("{a}")).is_none(), "{what}: {} is named twice", id_of(o));
        }
    }
    for (a, k) in state.deposed_addrs() {
        if let Some(o) = state.deposed(&a, &k) {
            assert!(named.insert(id_of(o), format!("{a} (deposed {k})")).is_none(), "{what}: {} is named twice", id_of(o));
        }
    }
    let objects = rt.block_on(tagged_objects_with_tokens(endpoint, &state.lineage));
    assert!(!objects.is_empty(), "{what}: the stack left no tagged object");
    for (addr, id, token) in &objects {
        match named.get(id) {
            Some(how) => assert!(how.starts_with(addr.as_str()), "{what}: {id} is tagged {addr} but the state has it as {how}"),
            None => {
                let intent = state.pending.iter().any(|p| p.token == *token && p.address == *addr);
                assert!(allow_pending && intent, "{what}: {id} (tagged {addr}) is not in the state: an orphan\n{text}");
            }
        }
    }
    // And nothing the state names is missing from the world (a deleted object dropped).
    let ids: std::collections::BTreeSet<&str> = objects.iter().map(|(_, id, _)| id.as_str()).collect();
    if !allow_pending {
        for (id, how) in &named {
            assert!(ids.contains(id.as_str()), "{what}: the state names {id} ({how}), which no longer exists");
        }
    }
    state.deposed_addrs().len()
}

/// Issue 6, deposed objects: `terrane apply` of a create_before_destroy replacement is
/// killed with SIGKILL at a random moment, then applied again. After the kill every tagged
/// object is in the state (current, deposed, or behind its create intent); after the
/// next apply each is in the state exactly once, no deposed object is left, and a plan
/// says `No changes.`
///
/// `TERRANE_CBD_KILL_ROUNDS` sets the number of rounds (default 10). Each round has a
/// private emulator. Under CI=true a missing emulator fails the test.
#[test]
fn kill_9_during_create_before_destroy_replacements_leaves_no_orphan() {
    let Some(probe) = support::moto::private_server() else { return };
    drop(probe);
    let rounds: usize = std::env::var("TERRANE_CBD_KILL_ROUNDS").ok().and_then(|s| s.parse().ok()).unwrap_or(10);
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let mut rng = rand::thread_rng();
    let setup = |m: &support::moto::PrivateMoto, d: &Path| {
        let o = terrane(d, &m.endpoint, &["apply", "-auto-approve", "-var", CIDR_BEFORE]).output().unwrap();
        assert!(o.status.success(), "the first apply failed:\n{}", text(&o));
    };

    // An undisturbed replacement tells how many state writes it makes (deposals and
    // create intents, results, deletions). Each round kills right after a randomly chosen
    // write but the last, plus a random few milliseconds: a moment inside the replacement
    // however fast or slow the loaded machine runs it (timing by the clock missed most
    // applies when the load changed between the measurement and the rounds).
    let writes = {
        let m = moto();
        let d = cbd_stack();
        setup(&m, d.path());
        let start = state_serial(d.path());
        let o = terrane(d.path(), &m.endpoint, &["apply", "-auto-approve", "-var", CIDR_AFTER]).output().unwrap();
        assert!(o.status.success(), "the undisturbed replacement failed:\n{}", text(&o));
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(out.contains("4 added, 0 changed, 4 destroyed"), "every object is replaced:\n{out}");
        assert_eq!(check_cbd_state(d.path(), &m.endpoint, "undisturbed replacement", false, &rt), 0);
        state_serial(d.path()) - start
    };
    assert!(writes >= 2, "the replacement wrote the state only {writes} time(s)");

    let (mut killed_mid_run, mut left_deposed) = (0, 0);
    for round in 0..rounds {
        let m = moto();
        let d = cbd_stack();
        setup(&m, d.path());
        let after = rng.gen_range(1..writes);
        let delay = Duration::from_millis(rng.gen_range(0..30));
        let what = format!("round {round} (kill {delay:?} after state write {after} of {writes})");
        let serial = state_serial(d.path());
        let mut child = terrane(d.path(), &m.endpoint, &["apply", "-auto-approve", "-var", CIDR_AFTER]).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
        wait_for_state_write(d.path(), serial + after - 1);
        std::thread::sleep(delay);
        if child.try_wait().unwrap().is_none() {
            killed_mid_run += 1;
        }
        let _ = child.kill(); // SIGKILL
        child.wait().unwrap();
        if check_cbd_state(d.path(), &m.endpoint, &format!("{what}, right after the kill"), true, &rt) > 0 {
            left_deposed += 1;
        }

        let o = terrane(d.path(), &m.endpoint, &["apply", "-auto-approve", "-var", CIDR_AFTER]).output().unwrap();
        assert!(o.status.success(), "{what}: the apply after the kill failed:\n{}", text(&o));
        assert_eq!(check_cbd_state(d.path(), &m.endpoint, &what, false, &rt), 0, "{what}: deposed objects left");
        let p = terrane(d.path(), &m.endpoint, &["plan", "-detailed-exitcode", "-var", CIDR_AFTER]).output().unwrap();
        assert_eq!(p.status.code(), Some(0), "{what}: the apply did not converge:\n{}", text(&p));
        assert!(String::from_utf8_lossy(&p.stdout).contains("No changes."), "{what}:\n{}", text(&p));
        // Exactly one object per address: one VPC, two subnets, one group.
        let lineage = terrane::state::statefile::from_json(&std::fs::read_to_string(d.path().join("state/terraform.tfstate")).unwrap(), "state").unwrap().lineage;
        let mut addrs: Vec<String> = rt.block_on(tagged_objects(&m.endpoint, &lineage)).into_iter().map(|(a, _)| a).collect();
        addrs.sort();
        assert_eq!(addrs, ["aws_security_group.web", "aws_subnet.part[0]", "aws_subnet.part[1]", "aws_vpc.main"], "{what}");
    }
    eprintln!("{killed_mid_run} of {rounds} kills hit a running apply; {left_deposed} left deposed objects");
    assert!(killed_mid_run * 3 >= rounds, "only {killed_mid_run} of {rounds} kills hit a running apply");
}
