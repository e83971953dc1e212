//! `terrane validate -json` against Terraform 1.0.3's (recorded by
//! scripts/validate-json-record.sh into tests/validate_json/*/terraform.json): the same
//! document shape, and for every diagnostic Terraform reports, one from terrane with the
//! same severity, summary and range (line, column, byte), with no exceptions. Terrane's
//! whole output is also snapshotted.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn cases() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/validate_json");
    let mut v: Vec<PathBuf> = std::fs::read_dir(root)
        .expect("fixtures")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    v.sort();
    v
}

fn terrane_validate(dir: &Path) -> Value {
    let o = Command::new(env!("CARGO_BIN_EXE_terrane"))
        .args(["validate", "-json"])
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("run terrane");
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "{}: not JSON ({e}): {}",
            dir.display(),
            String::from_utf8_lossy(&o.stdout)
        )
    })
}

fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    k.sort();
    k
}

fn name(dir: &Path) -> String {
    dir.file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("")
        .to_string()
}

#[test]
fn same_schema_and_diagnostics_as_terraform() {
    let mut failures = Vec::new();
    for dir in cases() {
        let case = name(&dir);
        let tf: Value = serde_json::from_str(
            &std::fs::read_to_string(dir.join("terraform.json")).expect("recorded"),
        )
        .expect("recorded JSON");
        let us = terrane_validate(&dir);
        if keys(&tf) != keys(&us) || tf["format_version"] != us["format_version"] {
            failures.push(format!(
                "{case}: document keys {:?} vs {:?}",
                keys(&tf),
                keys(&us)
            ));
        }
        let tf_diags = tf["diagnostics"].as_array().cloned().unwrap_or_default();
        let us_diags = us["diagnostics"].as_array().cloned().unwrap_or_default();
        for d in &us_diags {
            let allowed = ["detail", "range", "severity", "snippet", "summary"];
            if keys(d).iter().any(|k| !allowed.contains(&k.as_str())) {
                failures.push(format!("{case}: unexpected diagnostic keys {:?}", keys(d)));
            }
            if let (Some(r), Some(s)) = (d.get("range"), d.get("snippet")) {
                if keys(r) != ["end", "filename", "start"]
                    || keys(&r["start"]) != ["byte", "column", "line"]
                {
                    failures.push(format!("{case}: range shape {r}"));
                }
                let want = [
                    "code",
                    "context",
                    "highlight_end_offset",
                    "highlight_start_offset",
                    "start_line",
                    "values",
                ];
                if keys(s) != want {
                    failures.push(format!("{case}: snippet shape {s}"));
                }
            }
        }
        // Terraform cannot validate resources of providers it has not installed; there
        // only terrane's own behaviour is checked (see the tests below).
        if tf_diags
            .iter()
            .any(|d| d["summary"] == "Could not load plugin")
        {
            continue;
        }
        if tf["valid"] != us["valid"] {
            failures.push(format!("{case}: valid {} vs {}", tf["valid"], us["valid"]));
        }
        let same = |u: &Value, t: &Value| {
            u["severity"] == t["severity"]
                && u["summary"] == t["summary"]
                && u["range"] == t["range"]
                && u["snippet"]["context"] == t["snippet"]["context"]
                && u["snippet"]["code"] == t["snippet"]["code"]
                && u["snippet"]["highlight_start_offset"] == t["snippet"]["highlight_start_offset"]
                && u["snippet"]["highlight_end_offset"] == t["snippet"]["highlight_end_offset"]
        };
        for t in &tf_diags {
            if !us_diags.iter().any(|u| same(u, t)) {
                failures.push(format!(
                    "{case}: no terrane diagnostic matches Terraform's {t}"
                ));
            }
        }
        // Nor does terrane report anything Terraform does not.
        for u in &us_diags {
            if !tf_diags.iter().any(|t| same(u, t)) {
                failures.push(format!("{case}: Terraform reports nothing like terrane's {u}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn terrane_output_snapshots() {
    for dir in cases() {
        let us = terrane_validate(&dir);
        insta::assert_json_snapshot!(format!("validate_json__{}", name(&dir)), us);
    }
}

#[test]
fn unknown_resource_type_is_one_diagnostic_per_type() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/validate_json/noprovider");
    let us = terrane_validate(&dir);
    let diags = us["diagnostics"].as_array().cloned().unwrap_or_default();
    assert_eq!(diags.len(), 1, "{us}");
    assert!(
        diags[0]["detail"]
            .as_str()
            .unwrap_or("")
            .contains("aws_foo"),
        "{us}"
    );
}

#[test]
fn builtin_resources_have_their_arguments_and_blocks_checked() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/validate_json/builtin");
    let us = terrane_validate(&dir);
    let mut got: Vec<(String, u64)> = us["diagnostics"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|d| {
            (
                d["summary"].as_str().unwrap_or("").to_string(),
                d["range"]["start"]["line"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    got.sort_by_key(|g| g.1);
    let want = [
        ("Unsupported argument", 2),   // random_pet.lenght
        ("Unsupported block type", 3), // random_pet nope {}
        ("Unsupported argument", 6),   // terraform_data.wrong
        ("Unsupported argument", 10),  // local_file.contnt
    ];
    assert_eq!(
        got,
        want.iter()
            .map(|(s, l)| (s.to_string(), *l))
            .collect::<Vec<_>>()
    );
}
