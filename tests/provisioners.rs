//! Terraform's provisioners (`file`, `remote-exec`, `local-exec`, `when = destroy`,
//! `on_failure`) run by the engine against a real OpenSSH server, on `terraform_data`
//! resources as Terraform users write them on VMs.

mod common;

use common::sshd::*;

fn write(dir: &std::path::Path, tf: &str) {
    std::fs::write(dir.join("main.tf"), tf).expect("write main.tf");
}

#[test]
fn create_and_destroy_time_provisioners() {
    let Some(s) = Sshd::start_new() else { return };
    let work = tempfile::tempdir().expect("tempdir");
    let site = s.path("www/index.html");
    let created = s.path("created.txt");
    let destroyed = s.path("destroyed.txt");
    let local = work.path().join("local.txt");
    std::fs::write(
        work.path().join("script.sh"),
        format!("#!/bin/sh\necho from-script >> {}\n", created.display()),
    )
    .expect("script");
    let tf = format!(
        r#"resource "terraform_data" "web" {{
  input = "v1"
  {conn}

  provisioner "file" {{
    content     = "<h1>${{self.input}}</h1>"
    destination = "{site}"
  }}

  provisioner "remote-exec" {{
    inline = [
      "echo created ${{self.id}} > {created}",
      "echo hello from the host",
    ]
  }}

  provisioner "remote-exec" {{
    script = "script.sh"
  }}

  provisioner "local-exec" {{
    command = "echo $GREETING ${{self.input}} > {local}"
    environment = {{
      GREETING = "hi"
    }}
  }}

  provisioner "remote-exec" {{
    when   = destroy
    inline = ["echo destroyed ${{self.input}} > {destroyed}"]
  }}
}}
"#,
        conn = s.connection_hcl(),
        site = site.display(),
        created = created.display(),
        destroyed = destroyed.display(),
        local = local.display()
    );
    write(work.path(), &tf);
    let t = ok(terrane(work.path(), &["apply", "-auto-approve"]));
    assert!(
        t.contains("terraform_data.web (remote-exec): hello from the host"),
        "output is streamed with the address: {t}"
    );
    assert!(
        t.contains("terraform_data.web: Provisioning with 'file'"),
        "{t}"
    );
    assert_eq!(
        std::fs::read_to_string(&site).expect("file provisioner"),
        "<h1>v1</h1>"
    );
    let c = std::fs::read_to_string(&created).expect("remote-exec");
    assert!(
        c.starts_with("created ") && c.contains("from-script"),
        "{c}"
    );
    assert_eq!(
        std::fs::read_to_string(&local).expect("local-exec"),
        "hi v1\n"
    );

    // Provisioners run at creation only: a second apply does nothing.
    std::fs::remove_file(&created).expect("rm");
    ok(terrane(work.path(), &["apply", "-auto-approve"]));
    assert!(!created.exists());

    ok(terrane(work.path(), &["destroy", "-auto-approve"]));
    assert_eq!(
        std::fs::read_to_string(&destroyed).expect("destroy-time provisioner"),
        "destroyed v1\n"
    );
}

#[test]
fn failing_provisioner_taints_unless_continue() {
    let Some(s) = Sshd::start_new() else { return };
    let work = tempfile::tempdir().expect("tempdir");
    let tf = |on_failure: &str| {
        format!(
            "resource \"terraform_data\" \"vm\" {{\n  input = \"x\"\n  {}\n  provisioner \"remote-exec\" {{\n    {on_failure}\n    inline = [\"echo installing\", \"echo broken >&2\", \"exit 5\"]\n  }}\n}}\n",
            s.connection_hcl()
        )
    };
    write(work.path(), &tf(""));
    let t = fails(terrane(work.path(), &["apply", "-auto-approve"]));
    assert!(t.contains("Provisioner command failed"), "{t}");
    assert!(
        t.contains("status 5") && t.contains("exit 5") && t.contains("broken"),
        "{t}"
    );
    assert!(
        t.contains("provisioner \"remote-exec\""),
        "the diagnostic points at the provisioner: {t}"
    );
    let st = std::fs::read_to_string(work.path().join("state/terraform.tfstate")).expect("state");
    assert!(st.contains("\"tainted\""), "{st}");
    let plan = ok(terrane(work.path(), &["plan"]));
    assert!(
        plan.contains("tainted") && plan.contains("must be replaced"),
        "{plan}"
    );

    // With on_failure = continue the failure is a warning and the object is kept.
    let work2 = tempfile::tempdir().expect("tempdir");
    write(work2.path(), &tf("on_failure = continue"));
    let t = ok(terrane(work2.path(), &["apply", "-auto-approve"]));
    assert!(t.contains("on_failure = continue"), "{t}");
    let st = std::fs::read_to_string(work2.path().join("state/terraform.tfstate")).expect("state");
    assert!(!st.contains("\"tainted\""), "{st}");
}

#[test]
fn failing_destroy_provisioner_keeps_the_object() {
    let Some(s) = Sshd::start_new() else { return };
    let work = tempfile::tempdir().expect("tempdir");
    write(
        work.path(),
        &format!("resource \"terraform_data\" \"vm\" {{\n  input = \"x\"\n  {}\n  provisioner \"remote-exec\" {{\n    when = destroy\n    inline = [\"exit 7\"]\n  }}\n}}\n", s.connection_hcl()),
    );
    ok(terrane(work.path(), &["apply", "-auto-approve"]));
    let t = fails(terrane(work.path(), &["destroy", "-auto-approve"]));
    assert!(t.contains("status 7"), "{t}");
    let list = ok(terrane(work.path(), &["state", "list"]));
    assert!(list.contains("terraform_data.vm"), "{list}");
}

#[test]
fn provisioner_mistakes_are_diagnostics() {
    let work = tempfile::tempdir().expect("tempdir");
    write(work.path(), "resource \"terraform_data\" \"a\" {\n  provisioner \"chef\" {\n  }\n  provisioner \"remote-exec\" {\n    inlin = [\"x\"]\n  }\n}\n");
    let t = fails(terrane(work.path(), &["validate"]));
    assert!(
        t.contains("Unsupported provisioner") && t.contains("chef"),
        "{t}"
    );
    assert!(
        t.contains("Unsupported argument") && t.contains("inlin"),
        "{t}"
    );
}

#[test]
fn sensitive_provisioner_config_hides_output() {
    let Some(s) = Sshd::start_new() else { return };
    let work = tempfile::tempdir().expect("tempdir");
    write(
        work.path(),
        &format!(
            "variable \"token\" {{\n  default = \"tok-s3cr3t-value\"\n  sensitive = true\n}}\nresource \"terraform_data\" \"vm\" {{\n  {}\n  provisioner \"remote-exec\" {{\n    inline = [\"echo using ${{var.token}}\", \"exit 1\"]\n  }}\n}}\n",
            s.connection_hcl()
        ),
    );
    let t = fails(terrane(work.path(), &["apply", "-auto-approve"]));
    assert!(!t.contains("tok-s3cr3t-value"), "the secret leaked:\n{t}");
    assert!(
        t.contains("output suppressed") && t.contains("sensitive"),
        "{t}"
    );
}
