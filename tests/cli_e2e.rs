//! End-to-end CLI tests through the engine with the built-in providers: plan, apply with
//! and without approval, a second plan with no changes, saved plans (and their refusal
//! when stale), outputs, and destroy. Each test runs the built binary in a temporary
//! directory.

mod support;

use support::cli::{err, out, terrane, terrane_stdin};

const HELLO: &str = r#"
variable "greeting" {
  type    = string
  default = "hello"
}

resource "terraform_data" "hello" {
  input = "${var.greeting}, world"
}

output "message" {
  value = terraform_data.hello.output
}
"#;

fn hello_dir() -> tempfile::TempDir {
    let d = tempfile::tempdir().expect("tempdir");
    std::fs::write(d.path().join("main.tf"), HELLO).expect("write");
    d
}

#[test]
fn plan_apply_plan_again() {
    let d = hello_dir();
    let o = terrane(d.path(), &["init"]);
    assert!(o.status.success(), "init: {}", err(&o));
    assert!(
        out(&o).contains("terrane has been successfully initialized!"),
        "{}",
        out(&o)
    );

    let o = terrane(d.path(), &["plan", "-detailed-exitcode"]);
    assert_eq!(o.status.code(), Some(2), "plan: {}", err(&o));
    assert!(out(&o).contains("terraform_data.hello"), "{}", out(&o));

    // Declining the approval changes nothing.
    let o = terrane_stdin(d.path(), &["apply"], "no\n");
    assert_eq!(o.status.code(), Some(1));
    assert!(
        out(&o).contains("Do you want to perform these actions?"),
        "{}",
        out(&o)
    );
    assert!(out(&o).contains("Apply cancelled."), "{}", out(&o));

    let o = terrane(d.path(), &["apply", "-auto-approve"]);
    assert!(o.status.success(), "apply: {}", err(&o));
    assert!(
        out(&o).contains("Apply complete! Resources: 1 added, 0 changed, 0 destroyed."),
        "{}",
        out(&o)
    );
    assert!(
        out(&o).contains("message = \"hello, world\""),
        "{}",
        out(&o)
    );
    assert!(d.path().join("state/terraform.tfstate").exists());
    assert!(!d.path().join("state/terraform.tfstate.lock.info").exists());

    let o = terrane(d.path(), &["plan", "-detailed-exitcode"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "second plan: {}{}",
        out(&o),
        err(&o)
    );
    assert!(out(&o).contains("No changes."), "{}", out(&o));

    let o = terrane(d.path(), &["output", "-raw", "message"]);
    assert_eq!(out(&o), "hello, world");

    let o = terrane(
        d.path(),
        &["plan", "-var", "greeting=hi", "-detailed-exitcode"],
    );
    assert_eq!(o.status.code(), Some(2), "{}", err(&o));

    let o = terrane(d.path(), &["destroy", "-auto-approve"]);
    assert!(o.status.success(), "destroy: {}", err(&o));
    assert!(
        out(&o).contains("Destroy complete! Resources: 1 destroyed."),
        "{}",
        out(&o)
    );
    let o = terrane(d.path(), &["state", "list"]);
    assert_eq!(out(&o), "");
}

#[test]
fn saved_plans_apply_exactly_and_go_stale() {
    let d = hello_dir();
    let o = terrane(d.path(), &["plan", "-var=greeting=hey", "-out=p.tfplan"]);
    assert!(o.status.success(), "{}", err(&o));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(d.path().join("p.tfplan"))
            .expect("plan file")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let o = terrane(d.path(), &["plan", "-out=q.tfplan"]);
    assert!(o.status.success(), "{}", err(&o));

    // No approval prompt for a saved plan; its variables are used.
    let o = terrane(d.path(), &["apply", "p.tfplan"]);
    assert!(o.status.success(), "{}", err(&o));
    assert!(out(&o).contains("message = \"hey, world\""), "{}", out(&o));

    // q.tfplan was made against the state before that apply.
    let o = terrane(d.path(), &["apply", "q.tfplan"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(err(&o).contains("Saved plan is stale"), "{}", err(&o));

    // A changed configuration refuses the plan.
    let o = terrane(d.path(), &["plan", "-out=r.tfplan"]);
    assert!(o.status.success(), "{}", err(&o));
    std::fs::write(
        d.path().join("extra.tf"),
        "output \"x\" {\n  value = 1\n}\n",
    )
    .expect("write");
    let o = terrane(d.path(), &["apply", "r.tfplan"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        err(&o).contains("the configuration has changed since this plan was made"),
        "{}",
        err(&o)
    );
}

#[test]
fn validate_and_graph() {
    let d = hello_dir();
    let o = terrane(d.path(), &["validate"]);
    assert!(o.status.success(), "{}", err(&o));
    assert!(
        out(&o).contains("Success! The configuration is valid."),
        "{}",
        out(&o)
    );
    let o = terrane(d.path(), &["validate", "-json"]);
    let j: serde_json::Value = serde_json::from_str(&out(&o)).expect("json");
    assert_eq!(j["valid"], true);
    assert_eq!(j["error_count"], 0);
    let o = terrane(d.path(), &["graph"]);
    assert!(o.status.success(), "{}", err(&o));
    assert!(out(&o).contains("digraph"), "{}", out(&o));
}

#[test]
fn show_and_state_show_hide_sensitive_attributes() {
    let d = tempfile::tempdir().expect("tempdir");
    std::fs::write(d.path().join("main.tf"), "resource \"random_password\" \"db\" {\n  length = 24\n}\n").unwrap();
    assert!(terrane(d.path(), &["apply", "-auto-approve"]).status.success());
    let state: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(d.path().join("state/terraform.tfstate")).unwrap()).unwrap();
    let secret = state["resources"][0]["instances"][0]["attributes"]["result"].as_str().unwrap().to_string();
    assert_eq!(secret.len(), 24);
    for args in [&["state", "show", "random_password.db"][..], &["show"][..]] {
        let o = terrane(d.path(), args);
        assert!(o.status.success(), "{}", err(&o));
        assert!(!out(&o).contains(&secret), "{args:?} printed the password:\n{}", out(&o));
        assert!(out(&o).contains("result") && out(&o).contains("(sensitive"), "{}", out(&o));
    }
}

#[test]
fn sensitive_marks_from_the_configuration_survive_in_state() {
    // A value the configuration marks sensitive (not the provider's schema) must stay
    // hidden after it is stored: in the state's `sensitive_attributes`, in `state show`,
    // `show`, a later plan's diff and drift, and `console`.
    let d = tempfile::tempdir().expect("tempdir");
    let cfg = |b: u32| {
        format!(
            "variable \"token\" {{\n  type      = string\n  default   = \"s3cr3t-token\"\n  sensitive = true\n}}\n\nresource \"terraform_data\" \"d\" {{\n  input = {{ token = var.token, b = {b} }}\n}}\n"
        )
    };
    std::fs::write(d.path().join("main.tf"), cfg(1)).unwrap();
    let o = terrane(d.path(), &["apply", "-auto-approve"]);
    assert!(o.status.success(), "{}", err(&o));
    let state: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(d.path().join("state/terraform.tfstate")).unwrap()).unwrap();
    assert_eq!(
        state["resources"][0]["instances"][0]["sensitive_attributes"],
        serde_json::json!([[{"type": "get_attr", "value": "input"}]])
    );
    std::fs::write(d.path().join("main.tf"), cfg(2)).unwrap();
    for args in [
        &["state", "show", "terraform_data.d"][..],
        &["show"][..],
        &["plan"][..],
    ] {
        let o = terrane(d.path(), args);
        assert!(o.status.success(), "{args:?}: {}", err(&o));
        let text = out(&o);
        assert!(!text.contains("s3cr3t-token"), "{args:?} printed the token:\n{text}");
        assert!(text.contains("input") && text.contains("(sensitive"), "{args:?}:\n{text}");
    }
    // Sensitive before and after: no "will be marked as sensitive" warning.
    let plan = out(&terrane(d.path(), &["plan"]));
    assert!(!plan.contains("will be marked as sensitive"), "{plan}");
    let o = terrane_stdin(d.path(), &["console"], "terraform_data.d.input\n");
    assert!(!out(&o).contains("s3cr3t-token"), "{}", out(&o));
}
