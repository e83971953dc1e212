//! CLI tests that need no engine: version, validate -json, -chdir, variable errors,
//! output and state commands on hand-written state files, locking and force-unlock.
//! Every test drives the built `terrane` binary in its own temporary directory.

mod support;

use std::path::Path;
use std::process::{Command, Output};

use support::cli::{command, err, out, run_with_stdin};

fn terrane(dir: &Path, args: &[&str]) -> Output {
    terrane_stdin(dir, args, "")
}

fn terrane_stdin(dir: &Path, args: &[&str], stdin: &str) -> Output {
    let mut c = command(dir, args);
    c.env_remove("TF_VAR_foo");
    run_with_stdin(c, stdin)
}

const STATE: &str = r#"{
  "version": 4,
  "terraform_version": "0.1.0",
  "serial": 3,
  "lineage": "11111111-2222-3333-4444-555555555555",
  "outputs": {
    "greeting": { "value": "hello", "type": "string" },
    "secret": { "value": "s3cr3t", "type": "string", "sensitive": true },
    "nums": { "value": [1, 2], "type": ["list", "number"] }
  },
  "resources": [
    {
      "mode": "managed",
      "type": "random_pet",
      "name": "a",
      "provider": "provider[\"registry.terraform.io/hashicorp/random\"]",
      "instances": [ { "schema_version": 0, "attributes": { "id": "neat-cat", "length": 2 } } ]
    },
    {
      "mode": "managed",
      "type": "random_pet",
      "name": "b",
      "provider": "provider[\"registry.terraform.io/hashicorp/random\"]",
      "instances": [
        { "index_key": 0, "schema_version": 0, "attributes": { "id": "b-zero" } },
        { "index_key": 1, "schema_version": 0, "attributes": { "id": "b-one" } }
      ]
    }
  ]
}
"#;

fn dir_with_state() -> tempfile::TempDir {
    let d = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(d.path().join("state")).expect("mkdir");
    std::fs::write(d.path().join("state/terraform.tfstate"), STATE).expect("write state");
    d
}

fn lock_json(id: &str, who: &str, pid: u32) -> String {
    format!(
        r#"{{"ID":"{id}","Operation":"apply","Who":"{who}","Version":"0.1.0","Created":"2024-01-02T03:04:05Z","Path":"state/terraform.tfstate","Pid":{pid}}}"#
    )
}

#[test]
fn version_prints_the_version() {
    let d = tempfile::tempdir().expect("tempdir");
    for args in [&["version"][..], &["-version"][..], &["--version"][..]] {
        let o = terrane(d.path(), args);
        assert!(o.status.success(), "{args:?}: {}", err(&o));
        assert!(
            out(&o).starts_with(&format!("terrane v{}", env!("CARGO_PKG_VERSION"))),
            "{}",
            out(&o)
        );
    }
    let o = terrane(d.path(), &["version", "-json"]);
    let j: serde_json::Value = serde_json::from_str(&out(&o)).expect("json");
    assert_eq!(j["terraform_version"], env!("CARGO_PKG_VERSION"));
}

#[test]
fn usage_errors_exit_1() {
    let d = tempfile::tempdir().expect("tempdir");
    let o = terrane(d.path(), &["no-such-command"]);
    assert_eq!(o.status.code(), Some(1));
    let o = terrane(d.path(), &["plan", "-no-such-flag"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(err(&o).contains("no-such-flag"), "{}", err(&o));
}

#[test]
fn validate_json_reports_an_unknown_block() {
    let d = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        d.path().join("main.tf"),
        "variable \"a\" {}\n\nbogus \"x\" {\n}\n",
    )
    .expect("write");
    let o = terrane(d.path(), &["validate", "-json"]);
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    let j: serde_json::Value = serde_json::from_str(&out(&o)).expect("validate -json is JSON");
    assert_eq!(j["format_version"], "0.1");
    assert_eq!(j["valid"], false);
    assert_eq!(j["error_count"], 1);
    assert_eq!(j["warning_count"], 0);
    let diag = &j["diagnostics"][0];
    assert_eq!(diag["severity"], "error");
    assert!(diag["summary"].is_string());
    assert!(diag["detail"].is_string());
    assert_eq!(diag["range"]["filename"], "main.tf");
    assert_eq!(diag["range"]["start"]["line"], 3);
    assert_eq!(diag["range"]["start"]["column"], 1);
    assert!(diag["range"]["end"]["byte"].as_u64() > diag["range"]["start"]["byte"].as_u64());

    // The human form names the file and the line, and exits 1.
    let o = terrane(d.path(), &["validate"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(err(&o).contains("main.tf:3"), "{}", err(&o));
    assert!(
        !err(&o).contains('\x1b'),
        "NO_COLOR means no ANSI: {}",
        err(&o)
    );
}

#[test]
fn chdir_switches_directory_first() {
    let d = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(d.path().join("sub")).expect("mkdir");
    std::fs::write(d.path().join("sub/main.tf"), "bogus {}\n").expect("write");
    let o = terrane(d.path(), &["-chdir=sub", "validate", "-json"]);
    assert_eq!(o.status.code(), Some(1));
    let j: serde_json::Value = serde_json::from_str(&out(&o)).expect("json");
    assert_eq!(j["diagnostics"][0]["range"]["filename"], "main.tf");

    let o = terrane(d.path(), &["-chdir", "sub", "validate", "-json"]);
    assert_eq!(o.status.code(), Some(1));

    let o = terrane(d.path(), &["-chdir=does-not-exist", "version"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(err(&o).contains("-chdir"), "{}", err(&o));
}

#[test]
fn var_errors() {
    let d = tempfile::tempdir().expect("tempdir");
    std::fs::write(d.path().join("main.tf"), "variable \"foo\" {}\n").expect("write");
    // `-var foo` without `=VALUE`.
    let o = terrane(d.path(), &["plan", "-var", "foo"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(err(&o).contains("Invalid -var option"), "{}", err(&o));
    assert!(
        err(&o).contains("foo=VALUE"),
        "the hint shows the fix: {}",
        err(&o)
    );
    // `-var` with no argument at all.
    let o = terrane(d.path(), &["plan", "-var"]);
    assert_eq!(o.status.code(), Some(1));
    // An undeclared variable on the command line is an error.
    let o = terrane(d.path(), &["plan", "-var=fooo=1"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        err(&o).contains("Value for undeclared variable"),
        "{}",
        err(&o)
    );
    assert!(err(&o).contains("Did you mean \"foo\"?"), "{}", err(&o));
    // A tfvars syntax error names the file and line.
    std::fs::write(d.path().join("bad.tfvars"), "foo = \"ok\"\nfoo = = 1\n").expect("write");
    let o = terrane(d.path(), &["plan", "-var-file=bad.tfvars"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(err(&o).contains("bad.tfvars:2"), "{}", err(&o));
    // A missing var file.
    let o = terrane(d.path(), &["plan", "-var-file", "missing.tfvars"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(err(&o).contains("missing.tfvars"), "{}", err(&o));
}

#[test]
fn output_from_a_state_file() {
    let d = dir_with_state();
    let o = terrane(d.path(), &["output", "-json"]);
    assert!(o.status.success(), "{}", err(&o));
    let j: serde_json::Value = serde_json::from_str(&out(&o)).expect("json");
    assert_eq!(j["greeting"]["value"], "hello");
    assert_eq!(j["greeting"]["type"], "string");
    assert_eq!(j["greeting"]["sensitive"], false);
    assert_eq!(j["secret"]["sensitive"], true);
    assert_eq!(j["secret"]["value"], "s3cr3t");
    assert_eq!(j["nums"]["value"], serde_json::json!([1, 2]));

    let o = terrane(d.path(), &["output"]);
    assert!(o.status.success());
    let text = out(&o);
    assert!(text.contains("greeting = \"hello\""), "{text}");
    assert!(text.contains("secret = <sensitive>"), "{text}");
    assert!(!text.contains("s3cr3t"), "{text}");

    let o = terrane(d.path(), &["output", "-raw", "greeting"]);
    assert_eq!(out(&o), "hello");
    let o = terrane(d.path(), &["output", "-json", "nums"]);
    let j: serde_json::Value = serde_json::from_str(&out(&o)).expect("json");
    assert_eq!(j, serde_json::json!([1, 2]));
    let o = terrane(d.path(), &["output", "-raw", "nums"]);
    assert_eq!(o.status.code(), Some(1));
    let o = terrane(d.path(), &["output", "missing"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        err(&o).contains("Output \"missing\" not found"),
        "{}",
        err(&o)
    );

    // -state points elsewhere.
    let o = terrane(d.path(), &["output", "-state=nowhere.tfstate", "-json"]);
    assert!(o.status.success());
    assert_eq!(out(&o).trim(), "{}");
}

#[test]
fn state_list_show_rm_mv() {
    let d = dir_with_state();
    let o = terrane(d.path(), &["state", "list"]);
    assert!(o.status.success(), "{}", err(&o));
    assert_eq!(out(&o), "random_pet.a\nrandom_pet.b[0]\nrandom_pet.b[1]\n");
    let o = terrane(d.path(), &["state", "list", "random_pet.b"]);
    assert_eq!(out(&o), "random_pet.b[0]\nrandom_pet.b[1]\n");
    let o = terrane(d.path(), &["state", "list", "-id=b-one"]);
    assert_eq!(out(&o), "random_pet.b[1]\n");

    let o = terrane(d.path(), &["state", "show", "random_pet.a"]);
    assert!(o.status.success(), "{}", err(&o));
    assert!(
        out(&o).starts_with("# random_pet.a:\nresource \"random_pet\" \"a\" {\n"),
        "{}",
        out(&o)
    );
    assert!(out(&o).contains("id     = \"neat-cat\""), "{}", out(&o));
    let o = terrane(d.path(), &["state", "show", "random_pet.zz"]);
    assert_eq!(o.status.code(), Some(1));

    let o = terrane(d.path(), &["state", "mv", "random_pet.a", "random_pet.c"]);
    assert!(o.status.success(), "{}", err(&o));
    assert!(
        out(&o).contains("Successfully moved 1 object(s)."),
        "{}",
        out(&o)
    );
    let o = terrane(d.path(), &["state", "rm", "random_pet.b"]);
    assert!(o.status.success(), "{}", err(&o));
    assert!(
        out(&o).contains("Successfully removed 2 resource instance(s)."),
        "{}",
        out(&o)
    );
    let o = terrane(d.path(), &["state", "list"]);
    assert_eq!(out(&o), "random_pet.c\n");
    let o = terrane(d.path(), &["state", "rm", "random_pet.nope"]);
    assert_eq!(o.status.code(), Some(1));

    // The serial moved on, the lineage did not, and no lock was left behind.
    let text = std::fs::read_to_string(d.path().join("state/terraform.tfstate")).expect("read");
    let j: serde_json::Value = serde_json::from_str(&text).expect("json");
    assert!(j["serial"].as_u64() > Some(3));
    assert_eq!(j["lineage"], "11111111-2222-3333-4444-555555555555");
    assert!(!d.path().join("state/terraform.tfstate.lock.info").exists());
}

#[test]
fn state_list_without_state_is_an_error() {
    let d = tempfile::tempdir().expect("tempdir");
    let o = terrane(d.path(), &["state", "list"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(err(&o).contains("No state file was found"), "{}", err(&o));
}

#[test]
fn backend_local_path_is_used() {
    let d = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        d.path().join("main.tf"),
        "terraform {\n  backend \"local\" {\n    path = \"custom/my.tfstate\"\n  }\n}\n",
    )
    .expect("write");
    std::fs::create_dir_all(d.path().join("custom")).expect("mkdir");
    std::fs::write(d.path().join("custom/my.tfstate"), STATE).expect("write");
    let o = terrane(d.path(), &["state", "list"]);
    assert!(o.status.success(), "{}", err(&o));
    assert!(out(&o).contains("random_pet.a"), "{}", out(&o));
}

#[test]
fn held_lock_names_the_holder() {
    let d = dir_with_state();
    let lock = d.path().join("state/terraform.tfstate.lock.info");
    std::fs::write(&lock, lock_json("lock-1234", "alice@elsewhere.example", 77))
        .expect("write lock");
    let o = terrane(d.path(), &["state", "rm", "random_pet.a"]);
    assert_eq!(o.status.code(), Some(1));
    let e = err(&o);
    assert!(e.contains("Error acquiring the state lock"), "{e}");
    assert!(e.contains("lock-1234"), "{e}");
    assert!(e.contains("alice@elsewhere.example"), "{e}");
    assert!(e.contains("Operation: apply"), "{e}");
    // Nothing was removed, and the other holder's lock is untouched.
    let o = terrane(d.path(), &["state", "list"]);
    assert!(out(&o).contains("random_pet.a"));
    assert!(lock.exists());

    // A holder on this host whose process is gone (killed) can never release its lock:
    // the next command takes it over, says so, and goes on.
    let mut child = Command::new("true").spawn().expect("spawn true");
    let dead_pid = child.id();
    child.wait().expect("wait");
    let host = terrane::state::backend::hostname();
    std::fs::write(
        &lock,
        lock_json("lock-dead", &format!("bob@{host}"), dead_pid),
    )
    .expect("write lock");
    let o = terrane(d.path(), &["state", "mv", "random_pet.a", "random_pet.z"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert!(err(&o).contains("released a stale state lock (ID lock-dead)"), "{}", err(&o));
    assert!(err(&o).contains(&format!("pid {dead_pid}")), "{}", err(&o));
    assert!(!lock.exists(), "the command released its own lock at the end");
    assert!(out(&terrane(d.path(), &["state", "list"])).contains("random_pet.z"));
}

#[test]
fn force_unlock_removes_the_lock() {
    let d = dir_with_state();
    let lock = d.path().join("state/terraform.tfstate.lock.info");
    std::fs::write(&lock, lock_json("lock-abc", "alice@elsewhere.example", 77))
        .expect("write lock");

    // Wrong ID: refused.
    let o = terrane(d.path(), &["force-unlock", "-force", "other-id"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(lock.exists());
    // Not confirmed: cancelled.
    let o = terrane_stdin(d.path(), &["force-unlock", "lock-abc"], "no\n");
    assert_eq!(o.status.code(), Some(1));
    assert!(out(&o).contains("force-unlock cancelled."), "{}", out(&o));
    assert!(lock.exists());
    // Confirmed.
    let o = terrane_stdin(d.path(), &["force-unlock", "lock-abc"], "yes\n");
    assert!(o.status.success(), "{}", err(&o));
    assert!(out(&o).contains("successfully unlocked"), "{}", out(&o));
    assert!(!lock.exists());
    // -force, nothing locked any more: an error.
    let o = terrane(d.path(), &["force-unlock", "-force", "lock-abc"]);
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn show_without_state() {
    let d = tempfile::tempdir().expect("tempdir");
    let o = terrane(d.path(), &["show"]);
    assert!(o.status.success(), "{}", err(&o));
    assert_eq!(out(&o), "No state.\n");
    let d = dir_with_state();
    let o = terrane(d.path(), &["show", "-no-color"]);
    assert!(o.status.success(), "{}", err(&o));
    assert!(out(&o).contains("# random_pet.b[1]:"), "{}", out(&o));
    assert!(out(&o).contains("secret = <sensitive>"), "{}", out(&o));
}

/// A state with deposed objects (as Terraform 1.0.3 writes it): `show`, `state list`,
/// `state show`, `state mv` and `state rm` name them and carry them along.
#[test]
fn deposed_objects_in_show_and_state_commands() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/state/terraform-1.0.3-deposed.tfstate");
    std::fs::create_dir_all(dir.path().join("state")).unwrap();
    std::fs::copy(&fixture, dir.path().join("state/terraform.tfstate")).unwrap();
    let d = dir.path();

    let o = terrane(d, &["show"]);
    assert!(o.status.success(), "{}", err(&o));
    let shown = out(&o);
    assert!(shown.contains("# null_resource.x[0]: (tainted) (deposed object 00000001)"), "{shown}");
    assert!(shown.contains("# null_resource.x[1]:\n"), "{shown}");
    assert!(shown.contains("# null_resource.x[1]: (deposed object 0badf00d)"), "{shown}");

    let o = terrane(d, &["state", "list"]);
    assert_eq!(out(&o), "null_resource.x[0]\nnull_resource.x[1]\n", "{}", err(&o));

    let o = terrane(d, &["state", "show", "null_resource.x[1]"]);
    assert!(o.status.success(), "{}", err(&o));
    assert!(out(&o).contains("\"new\"") && out(&o).contains("(deposed object 0badf00d)") && out(&o).contains("\"old\""), "{}", out(&o));

    let o = terrane(d, &["state", "mv", "null_resource.x[1]", "null_resource.y"]);
    assert!(o.status.success(), "{}", err(&o));
    let st = terrane::state::statefile::from_json(&std::fs::read_to_string(d.join("state/terraform.tfstate")).unwrap(), "s").unwrap();
    let moved = st.deposed_addrs().into_iter().map(|(a, k)| format!("{a} {k}")).collect::<Vec<_>>();
    assert_eq!(moved, ["null_resource.x[0] 00000001", "null_resource.y 0badf00d"], "the deposed object moved with its instance");

    let o = terrane(d, &["state", "rm", "null_resource.x[0]"]);
    assert!(o.status.success(), "{}", err(&o));
    let st = terrane::state::statefile::from_json(&std::fs::read_to_string(d.join("state/terraform.tfstate")).unwrap(), "s").unwrap();
    assert_eq!(st.deposed_addrs().len(), 1);
    assert!(st.resources.keys().all(|r| r.to_string() != "null_resource.x"), "a resource left with no object goes");
}
