//! `terrane state history` and `state restore` on the local backend (the S3 side is in
//! `cli_s3.rs`).

mod support;

use std::process::Output;

use support::cli::terrane_stdin as run_stdin;

#[track_caller]
fn ok(o: &Output) -> String {
    assert!(
        o.status.success(),
        "stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

const CONFIG: &str = r#"
variable "n" {
  type    = number
  default = 1
}
resource "terraform_data" "item" {
  count = var.n
  input = "item-${count.index}"
}
resource "terraform_data" "fixed" {
  input = "v${var.n}"
}
"#;

#[test]
fn history_lists_changes_and_restore_brings_a_version_back() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    std::fs::write(dir.join("main.tf"), CONFIG).unwrap();
    for n in ["1", "2", "1"] {
        ok(&run_stdin(
            dir,
            &["apply", "-auto-approve", "-var", &format!("n={n}")],
            "",
        ));
    }
    let h = ok(&run_stdin(dir, &["state", "history"], ""));
    let lines: Vec<&str> = h.lines().collect();
    assert!(
        lines[1].contains("(current)")
            && lines[1].contains("- terraform_data.item[1]")
            && lines[1].contains("~ terraform_data.fixed"),
        "{h}"
    );
    assert!(
        h.lines().any(|l| l.contains("+ terraform_data.item[1]")),
        "{h}"
    );
    assert!(h.lines().any(|l| l.contains("+ terraform_data.item[0]") && l.contains("+ terraform_data.fixed")), "{h}");

    // The version with two items: the one whose line adds item[1].
    let serial: u64 = h
        .lines()
        .find(|l| l.contains("+ terraform_data.item[1]"))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|s| s.parse().ok())
        .expect("a serial");
    let current: serde_json::Value =
        serde_json::from_str(&ok(&run_stdin(dir, &["state", "pull"], ""))).unwrap();

    let o = run_stdin(dir, &["state", "restore", &serial.to_string()], "no\n");
    assert_eq!(o.status.code(), Some(1));
    let preview = String::from_utf8_lossy(&o.stdout);
    assert!(
        preview.contains("+ terraform_data.item[1]") && preview.contains("~ terraform_data.fixed"),
        "{preview}"
    );
    assert!(preview.contains("Restore cancelled."), "{preview}");

    let o = run_stdin(dir, &["state", "restore", &serial.to_string()], "yes\n");
    let text = ok(&o);
    let after: serde_json::Value =
        serde_json::from_str(&ok(&run_stdin(dir, &["state", "pull"], ""))).unwrap();
    assert_eq!(after["lineage"], current["lineage"]);
    assert_eq!(
        after["serial"].as_u64(),
        current["serial"].as_u64().map(|s| s + 1),
        "{text}"
    );
    let list = ok(&run_stdin(dir, &["state", "list"], ""));
    assert!(list.contains("terraform_data.item[1]"), "{list}");
    // The restored state matches a configuration with two items.
    let o = run_stdin(dir, &["plan", "-detailed-exitcode", "-var", "n=2"], "");
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
}
