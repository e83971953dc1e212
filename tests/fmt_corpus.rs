//! `terrane fmt` against Terraform 1.0.3: every case in tests/fmt_corpus/cases (recorded
//! by scripts/fmt-corpus.py) must format to exactly Terraform's output, formatting that
//! output again must change nothing, and inputs Terraform refuses must be refused.
//! With `TERRANE_TERRAFORM` set, a sample is also checked against the live binary.

use std::path::{Path, PathBuf};

/// Cases where Terraform 1.0.3's own output no longer parses (its fmt unwraps `"${ # c`
/// across a comment), so formatting it again is an error in Terraform too.
const TERRAFORM_BREAKS: &[&str] = &["templates__line_comments"];

fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fmt_corpus/cases")
}

/// (name, input, expected output or None when Terraform refuses the input)
fn cases() -> Vec<(String, String, Option<String>)> {
    let dir = cases_dir();
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("the corpus directory exists")
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            e.file_name()
                .to_str()
                .and_then(|n| n.strip_suffix(".in"))
                .map(str::to_string)
        })
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|n| {
            let input =
                std::fs::read_to_string(dir.join(format!("{n}.in"))).expect("input is UTF-8");
            let out = std::fs::read_to_string(dir.join(format!("{n}.out"))).ok();
            assert!(
                out.is_some() || dir.join(format!("{n}.err")).exists(),
                "case {n} has neither .out nor .err: re-run scripts/fmt-corpus.py"
            );
            (n, input, out)
        })
        .collect()
}

#[test]
fn corpus_is_broad() {
    let all = cases();
    assert!(all.len() >= 500, "only {} cases", all.len());
    assert!(
        all.iter().filter(|c| c.2.is_none()).count() >= 10,
        "too few rejected inputs"
    );
}

#[test]
fn output_equals_terraform_and_is_idempotent() {
    let mut failures = Vec::new();
    for (name, input, expected) in cases() {
        let got = terrane::fmt::format_source(&format!("{name}.tf"), &input);
        match (expected, got) {
            (Some(want), Ok(got)) => {
                if got != want {
                    failures.push(format!(
                        "{name}: output differs\n--- terraform\n{want:?}\n--- terrane\n{got:?}"
                    ));
                    continue;
                }
                match terrane::fmt::format_source(&format!("{name}.tf"), &got) {
                    Ok(again) if again == got => {}
                    Ok(again) => failures.push(format!("{name}: not idempotent: {again:?}")),
                    Err(_) if TERRAFORM_BREAKS.contains(&name.as_str()) => {}
                    Err(d) => failures.push(format!("{name}: own output does not parse: {d}")),
                }
            }
            (Some(_), Err(d)) => {
                failures.push(format!("{name}: refused input Terraform formats: {d}"))
            }
            (None, Ok(got)) => failures.push(format!(
                "{name}: formatted input Terraform refuses: {got:?}"
            )),
            (None, Err(d)) => {
                if d.iter().any(|d| d.span.is_none()) {
                    failures.push(format!("{name}: a diagnostic without a span: {d}"));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

/// Every 10th committed case against the live Terraform binary: the recorded corpus must
/// still be what Terraform produces. Under CI the oracle must be present.
#[test]
fn committed_corpus_matches_live_terraform() {
    let Some(tf) = std::env::var_os("TERRANE_TERRAFORM") else {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("TERRANE_TERRAFORM is not set under CI: scripts/setup/10-terraform.sh must install the oracle");
        }
        eprintln!("skipping: TERRANE_TERRAFORM is not set (run through scripts/test.sh)");
        return;
    };
    let tmp = tempfile::tempdir().expect("temp dir");
    let mut failures = Vec::new();
    for (name, input, expected) in cases().into_iter().step_by(10) {
        let file = tmp.path().join("case.tf");
        std::fs::write(&file, &input).expect("write case");
        let status = std::process::Command::new(&tf)
            .args(["fmt", "-no-color", "-list=false", "case.tf"])
            .current_dir(tmp.path())
            .env("CHECKPOINT_DISABLE", "1")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .expect("run terraform");
        let live = status
            .success()
            .then(|| std::fs::read_to_string(&file).expect("read result"));
        if live != expected {
            failures.push(name);
        }
    }
    assert!(
        failures.is_empty(),
        "the committed corpus differs from live Terraform for: {failures:?}"
    );
}
