//! Encryption at rest through the terrane binary: an existing plain state is encrypted
//! (migration with an `unencrypted` fallback), the files hold nothing in clear, a wrong
//! passphrase fails clearly and changes nothing, key rotation reads with the old key and
//! writes with the new, saved plans are encrypted, and the passphrase never reaches the
//! output.

mod support;

use std::path::Path;
use std::process::Output;

use support::cli::{command, err, out};

const OLD_PASS: &str = "old-passphrase-0123456789";
const NEW_PASS: &str = "new-passphrase-9876543210";

fn run_env(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = command(dir, args);
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("run terrane")
}

#[track_caller]
fn ok(o: &Output, what: &str) -> String {
    assert!(
        o.status.success(),
        "{what} failed\nstdout:\n{}\nstderr:\n{}",
        out(o),
        err(o)
    );
    out(o)
}

const RESOURCES: &str = r#"
variable "stamp" {
  type    = string
  default = "first"
}

variable "passphrase" {
  type      = string
  sensitive = true
}

resource "terraform_data" "secretive" {
  input = "top-secret-${var.stamp}"
}

output "stamp" {
  value = terraform_data.secretive.output
}
"#;

/// The encryption block: `keys` are (provider name, passphrase expression); the state is
/// written with the first, the rest are fallbacks.
fn config(methods: &[(&str, &str)], unencrypted_fallback: bool) -> String {
    let mut s = String::from("terraform {\n  encryption {\n");
    for (name, pass) in methods {
        s.push_str(&format!(
            "    key_provider \"argon2\" \"{name}\" {{\n      passphrase = {pass}\n      memory_kib = 1024\n      iterations = 1\n    }}\n    method \"xchacha20_poly1305\" \"{name}\" {{\n      keys = key_provider.argon2.{name}\n    }}\n"
        ));
    }
    s.push_str("    method \"unencrypted\" \"plain\" {}\n");
    s.push_str(&format!(
        "    state {{\n      method = method.xchacha20_poly1305.{}\n",
        methods[0].0
    ));
    for (name, _) in &methods[1..] {
        s.push_str(&format!(
            "      fallback {{\n        method = method.xchacha20_poly1305.{name}\n      }}\n"
        ));
    }
    if unencrypted_fallback {
        s.push_str("      fallback {\n        method = method.unencrypted.plain\n      }\n");
    }
    s.push_str(&format!(
        "    }}\n    plan {{\n      method = method.xchacha20_poly1305.{}\n    }}\n  }}\n}}\n",
        methods[0].0
    ));
    s.push_str(RESOURCES);
    s
}

fn state_text(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("state/terraform.tfstate")).expect("state file")
}

fn assert_nothing_in_clear(text: &str, what: &str) {
    for secret in [
        "top-secret",
        "terraform_data",
        OLD_PASS,
        NEW_PASS,
        "lineage\"",
    ] {
        assert!(
            !text.contains(secret),
            "{what} contains {secret:?} in clear:\n{text}"
        );
    }
    assert!(
        text.contains("terrane_encryption"),
        "{what} is not an envelope:\n{text}"
    );
}

#[test]
fn encrypt_existing_state_wrong_key_rotation_and_plans() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    let main = dir.join("main.tf");
    let old_env = [("TF_VAR_passphrase", OLD_PASS)];

    // A plain state first.
    std::fs::write(&main, RESOURCES).unwrap();
    ok(
        &run_env(dir, &["apply", "-auto-approve"], &old_env),
        "plain apply",
    );
    assert!(state_text(dir).contains("top-secret-first"));

    // Without the unencrypted fallback the plain state is refused, with a hint.
    std::fs::write(&main, config(&[("old", "var.passphrase")], false)).unwrap();
    let o = run_env(dir, &["plan"], &old_env);
    assert_eq!(o.status.code(), Some(1));
    assert!(err(&o).contains("method.unencrypted"), "{}", err(&o));

    // With it, the next write encrypts.
    std::fs::write(&main, config(&[("old", "var.passphrase")], true)).unwrap();
    ok(
        &run_env(
            dir,
            &["apply", "-auto-approve", "-var", "stamp=second"],
            &old_env,
        ),
        "migrating apply",
    );
    let enc = state_text(dir);
    assert_nothing_in_clear(&enc, "the state");
    let hist_dir = dir.join("state/terraform.tfstate.history");
    assert!(hist_dir.is_dir());

    // Reads go through the key: output, state list, state pull.
    let o = run_env(dir, &["output", "-raw", "stamp"], &old_env);
    assert_eq!(ok(&o, "output"), "top-secret-second");
    std::fs::write(&main, config(&[("old", "var.passphrase")], false)).unwrap();
    let o = run_env(dir, &["state", "pull"], &old_env);
    assert!(ok(&o, "pull").contains("top-secret-second"));

    // A wrong passphrase fails clearly, does not print it, and changes nothing.
    let before = std::fs::read(dir.join("state/terraform.tfstate")).unwrap();
    let wrong = [("TF_VAR_passphrase", "wrong-passphrase-0000000")];
    for args in [
        &["apply", "-auto-approve", "-var", "stamp=third"][..],
        &["plan"][..],
        &["state", "list"][..],
    ] {
        let o = run_env(dir, args, &wrong);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {}", out(&o));
        assert!(
            err(&o).contains("cannot be decrypted"),
            "{args:?}: {}",
            err(&o)
        );
        assert!(!err(&o).contains("wrong-passphrase") && !out(&o).contains("wrong-passphrase"));
    }
    assert_eq!(
        std::fs::read(dir.join("state/terraform.tfstate")).unwrap(),
        before,
        "nothing changed"
    );
    // Too short a passphrase is a configuration error pointing at it, without the value.
    let o = run_env(dir, &["plan"], &[("TF_VAR_passphrase", "short")]);
    assert!(err(&o).contains("at least 16"), "{}", err(&o));
    assert!(!err(&o).contains("\"short\""), "{}", err(&o));

    // Rotation: new key first, old key as fallback; the write uses the new one.
    std::fs::write(
        &main,
        config(
            &[
                ("new", &format!("\"{NEW_PASS}\"")),
                ("old", "var.passphrase"),
            ],
            false,
        ),
    )
    .unwrap();
    ok(
        &run_env(
            dir,
            &["apply", "-auto-approve", "-var", "stamp=rotated"],
            &old_env,
        ),
        "rotating apply",
    );
    let rotated = state_text(dir);
    assert_nothing_in_clear(&rotated, "the rotated state");
    assert!(
        rotated.contains("method.xchacha20_poly1305.new"),
        "{rotated}"
    );
    // The old key alone can no longer read it; the new one alone can.
    std::fs::write(&main, config(&[("old", "var.passphrase")], false)).unwrap();
    let o = run_env(dir, &["plan"], &old_env);
    assert!(err(&o).contains("cannot be decrypted"), "{}", err(&o));
    std::fs::write(&main, config(&[("new", "var.passphrase")], false)).unwrap();
    let new_env = [("TF_VAR_passphrase", NEW_PASS)];
    let o = run_env(
        dir,
        &["plan", "-detailed-exitcode", "-var", "stamp=rotated"],
        &new_env,
    );
    assert_eq!(o.status.code(), Some(0), "{}{}", out(&o), err(&o));

    // History still reads (its versions are encrypted with the old key, read through the
    // fallback).
    std::fs::write(
        &main,
        config(
            &[
                ("new", "var.passphrase"),
                ("old", &format!("\"{OLD_PASS}\"")),
            ],
            false,
        ),
    )
    .unwrap();
    let o = run_env(dir, &["state", "history"], &new_env);
    let h = ok(&o, "history");
    assert!(h.contains("~ terraform_data.secretive"), "{h}");
    // Versions written with either key read; the one plain version before the migration
    // is listed as unreadable (plain files need the unencrypted fallback), not hidden.
    let unreadable: Vec<&str> = h.lines().filter(|l| l.contains("(unreadable:")).collect();
    assert_eq!(unreadable.len(), 1, "{h}");
    assert!(unreadable[0].starts_with("1 "), "{h}");
    assert!(
        h.lines()
            .nth(2)
            .is_some_and(|l| l.contains("the version before is unreadable")),
        "{h}"
    );

    // Saved plans are encrypted too and apply with the key.
    let o = run_env(
        dir,
        &["plan", "-out", "p.tfplan", "-var", "stamp=planned"],
        &new_env,
    );
    ok(&o, "plan -out");
    let plan_text = std::fs::read_to_string(dir.join("p.tfplan")).unwrap();
    assert!(
        !plan_text.contains("top-secret") && plan_text.contains("terrane_encryption"),
        "{plan_text}"
    );
    let o = run_env(dir, &["show", "p.tfplan"], &new_env);
    assert!(ok(&o, "show plan").contains("top-secret-planned"));
    ok(
        &run_env(dir, &["apply", "p.tfplan"], &new_env),
        "apply plan",
    );
    let o = run_env(dir, &["output", "-raw", "stamp"], &new_env);
    assert_eq!(ok(&o, "output"), "top-secret-planned");

    // Without any encryption block, the encrypted state is refused, not misread.
    std::fs::write(&main, RESOURCES).unwrap();
    let o = run_env(dir, &["plan"], &new_env);
    assert_eq!(o.status.code(), Some(1));
    assert!(err(&o).contains("encrypted"), "{}", err(&o));
}
