//! `terrane console` end to end: configuration and state of the working directory,
//! one expression per line on stdin, Terraform's piped-mode output and exit codes.

mod support;

use std::path::Path;
use std::process::Output;

use support::cli::{command, err, out, run_with_stdin};

fn console(dir: &Path, args: &[&str], stdin: &str) -> Output {
    let mut c = command(dir, &["console"]);
    c.args(args);
    run_with_stdin(c, stdin)
}

const CONFIG: &str = r#"
variable "name" {
  type    = string
  default = "world"
}

locals {
  greeting = "hello ${var.name}"
  doubled  = [for i in range(3) : i * 2]
}

resource "random_pet" "a" {
  length = 2
}

resource "random_pet" "b" {
  count = 2
}

module "child" {
  source = "./child"
  word   = local.greeting
}
"#;

const CHILD: &str = r#"
variable "word" {
  type = string
}
output "shout" {
  value = upper(var.word)
}
"#;

const STATE: &str = r#"{
  "version": 4,
  "terraform_version": "0.1.0",
  "serial": 3,
  "lineage": "11111111-2222-3333-4444-555555555555",
  "outputs": {},
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

fn workdir() -> tempfile::TempDir {
    let d = tempfile::tempdir().expect("tempdir");
    std::fs::write(d.path().join("main.tf"), CONFIG).unwrap();
    std::fs::create_dir_all(d.path().join("child")).unwrap();
    std::fs::write(d.path().join("child/main.tf"), CHILD).unwrap();
    std::fs::create_dir_all(d.path().join("state")).unwrap();
    std::fs::write(d.path().join("state/terraform.tfstate"), STATE).unwrap();
    d
}

#[test]
fn piped_mode_prints_the_last_result_like_terraform() {
    let d = workdir();
    let o = console(d.path(), &[], "1 + 1\nlocal.doubled\n");
    assert!(o.status.success(), "{}", err(&o));
    assert_eq!(out(&o), "[\n  0,\n  2,\n  4,\n]\n");
}

#[test]
fn variables_locals_resources_from_state_and_module_outputs() {
    let d = workdir();
    for (expr, want) in [
        ("var.name", "\"world\"\n"),
        ("local.greeting", "\"hello world\"\n"),
        ("random_pet.a.id", "\"neat-cat\"\n"),
        ("random_pet.b[*].id", "[\n  \"b-zero\",\n  \"b-one\",\n]\n"),
        ("random_pet.b[1].id", "\"b-one\"\n"),
        ("module.child.shout", "\"HELLO WORLD\"\n"),
        ("path.module", "\".\"\n"),
        ("terraform.workspace", "\"default\"\n"),
        ("0.1 + 0.2", "0.3\n"),
    ] {
        let o = console(d.path(), &[], &format!("{expr}\n"));
        assert!(o.status.success(), "{expr}: {}", err(&o));
        assert_eq!(out(&o), want, "{expr}");
    }
    let o = console(d.path(), &["-var", "name=there"], "local.greeting\n");
    assert_eq!(out(&o), "\"hello there\"\n", "{}", err(&o));
}

#[test]
fn an_error_stops_with_a_diagnostic_and_exit_1() {
    let d = workdir();
    let o = console(d.path(), &[], "1\nupper(1, 2)\n2\n");
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(out(&o), "");
    let e = err(&o);
    assert!(e.contains("Too many function arguments"), "{e}");
    assert!(e.contains("<console-input>"), "{e}");
    let o = console(d.path(), &[], "var.nope\n");
    assert_eq!(o.status.code(), Some(1));
    assert!(
        err(&o).contains("Reference to undeclared input variable"),
        "{}",
        err(&o)
    );
}

#[test]
fn works_without_configuration_and_stops_at_exit() {
    let d = tempfile::tempdir().unwrap();
    let o = console(d.path(), &[], "\"a\"\nexit\n\"b\"\n");
    assert!(o.status.success(), "{}", err(&o));
    assert_eq!(out(&o), "\"a\"\n");
    let o = console(d.path(), &[], "");
    assert!(o.status.success(), "{}", err(&o));
    assert_eq!(out(&o), "\n");
}
