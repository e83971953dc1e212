//! The differential suite: every expression in `tests/lang_differential/exprs/*.txt`,
//! evaluated by terrane as `terrane console` evaluates it (an empty configuration in a
//! copy of `tests/lang_differential/fixtures`, no state), compared with what Terraform
//! 1.0.3's console printed (`expected.jsonl`, recorded by `scripts/oracle/record.py`).
//!
//! A case that Terraform answered must print byte-for-byte the same; a case Terraform
//! rejected must fail with the same diagnostic summary. Cases where terrane deliberately
//! differs are listed in `differs.json` with the reason and terrane's answer. Cases
//! terrane does not match yet are listed in `known_gaps.txt`: the suite fails when a new
//! mismatch appears, and also when a listed gap starts to pass (so the list only shrinks).
//!
//! Functions with random results (`bcrypt`, `uuid`, `timestamp`) cannot agree byte for
//! byte: for them `random_matches` checks the properties both answers must share.
//!
//! `oracle_still_agrees` re-runs a sample through the oracle itself when
//! `TERRANE_TERRAFORM` is set (always under `CI=true`), so the recording cannot rot.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use terrane::engine::{Engine, InputVars};
use terrane::plan::render::render_value;
use terrane::providers::Registry;
use terrane::state::State;

#[derive(serde::Deserialize, Clone)]
struct Case {
    expr: String,
    file: String,
    out: Option<String>,
    error: Option<String>,
}

#[derive(serde::Deserialize)]
struct Differs {
    reason: String,
    /// terrane's console output, or `error: SUMMARY`.
    terrane: String,
}

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/lang_differential")
}

fn cases() -> Vec<Case> {
    let text = std::fs::read_to_string(corpus().join("expected.jsonl"))
        .expect("expected.jsonl is committed");
    text.lines()
        .map(|l| serde_json::from_str(l).expect("a recorded case"))
        .collect()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), dest).unwrap();
        }
    }
}

/// What terrane's console prints for one expression, or `error: SUMMARY`.
fn terrane_answer(session: &terrane::engine::EvalSession<'_>, expr: &str) -> String {
    match session.eval(expr) {
        Ok(v) => format!("{}\n", render_value(&v, 0)),
        Err(d) => format!("error: {}", d.summary),
    }
}

fn expected_answer(c: &Case) -> String {
    match (&c.out, &c.error) {
        (Some(o), _) => o.clone(),
        (None, Some(e)) => format!("error: {e}"),
        (None, None) => panic!("case {:?} has neither out nor error", c.expr),
    }
}

#[test]
fn corpus_matches_terraform() {
    let tmp = tempfile::tempdir().unwrap();
    let work = tmp.path().join("w");
    copy_dir(&corpus().join("fixtures"), &work);
    let work = work.canonicalize().unwrap();
    let config = terrane::config::load_dir_with_files(&work, Vec::new())
        .0
        .expect("an empty configuration");
    let engine = Engine::new(config, Registry::builtin(), work.clone());
    let vars = InputVars::new();
    let state = State::new();
    let (session, diags) = engine.eval_session(&state, &vars);
    assert!(!diags.has_errors(), "empty configuration: {diags:?}");

    let differs: BTreeMap<String, Differs> =
        serde_json::from_str(&std::fs::read_to_string(corpus().join("differs.json")).unwrap())
            .unwrap();
    let gaps: BTreeSet<String> = std::fs::read_to_string(corpus().join("known_gaps.txt"))
        .unwrap()
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect();

    let all = cases();
    assert!(all.len() >= 1500, "the corpus has {} cases", all.len());
    let mut mismatches = Vec::new();
    let mut fixed_gaps = Vec::new();
    for c in &all {
        let got = terrane_answer(&session, &c.expr);
        let want = match differs.get(&c.expr) {
            Some(d) => {
                assert!(
                    !d.reason.is_empty(),
                    "{}: a deliberate difference needs a reason",
                    c.expr
                );
                assert_ne!(
                    d.terrane,
                    expected_answer(c),
                    "{}: listed in differs.json but Terraform agrees",
                    c.expr
                );
                d.terrane.clone()
            }
            None => expected_answer(c),
        };
        let ok = got == want || random_matches(&c.expr, &got, &want);
        match (ok, gaps.contains(&c.expr)) {
            (false, false) => mismatches.push(format!(
                "[{}] {}\n   terrane: {got:?}\n     want: {want:?}",
                c.file, c.expr
            )),
            (true, true) => fixed_gaps.push(c.expr.clone()),
            _ => {}
        }
    }
    if std::env::var_os("TERRANE_WRITE_GAPS").is_some() {
        // Maintenance: rewrite known_gaps.txt as the current mismatches.
        let mut text = String::from("# Expressions terrane does not yet evaluate as Terraform 1.0.3 does (see lang_differential.rs).\n");
        for c in &all {
            let want = differs
                .get(&c.expr)
                .map(|d| d.terrane.clone())
                .unwrap_or_else(|| expected_answer(c));
            let got = terrane_answer(&session, &c.expr);
            if got != want && !random_matches(&c.expr, &got, &want) {
                text += &format!("{}\n", c.expr);
            }
        }
        std::fs::write(corpus().join("known_gaps.txt"), text).unwrap();
        return;
    }
    let unknown_gaps: Vec<&String> = gaps
        .iter()
        .filter(|g| !all.iter().any(|c| &c.expr == *g))
        .collect();
    let mut report = String::new();
    if !mismatches.is_empty() {
        report += &format!(
            "{} case(s) differ from Terraform 1.0.3:\n{}\n",
            mismatches.len(),
            mismatches.join("\n")
        );
    }
    if !fixed_gaps.is_empty() {
        report += &format!(
            "{} case(s) in known_gaps.txt pass now; remove them:\n{}\n",
            fixed_gaps.len(),
            fixed_gaps.join("\n")
        );
    }
    if !unknown_gaps.is_empty() {
        report +=
            &format!("known_gaps.txt names expressions not in the corpus: {unknown_gaps:?}\n");
    }
    assert!(report.is_empty(), "{report}");
}

/// For functions with random results: both answers have the same shape, and terrane's
/// is a valid answer for the arguments (a bcrypt hash of the input with the recorded
/// cost, a version-4 UUID, an RFC 3339 UTC timestamp).
fn random_matches(expr: &str, got: &str, want: &str) -> bool {
    let unquote = |s: &str| -> Option<String> { serde_json::from_str(s.trim_end()).ok() };
    let (Some(g), Some(w)) = (unquote(got), unquote(want)) else {
        return false;
    };
    if let Some(args) = expr.strip_prefix("bcrypt(") {
        // Only literal string inputs are checked this way.
        let Some(input) = args
            .split_once(',')
            .map(|(a, _)| a)
            .or_else(|| args.strip_suffix(')'))
            .and_then(|a| serde_json::from_str::<String>(a.trim()).ok())
        else {
            return false;
        };
        return g.len() == 60
            && g[..7] == w[..7]
            && bcrypt::verify(input.as_bytes(), &g).unwrap_or(false);
    }
    if expr == "uuid()" {
        let b = g.as_bytes();
        return g.len() == 36
            && w.len() == 36
            && [8, 13, 18, 23].iter().all(|&i| b[i] == b'-')
            && b[14] == b'4'
            && matches!(b[19], b'8' | b'9' | b'a' | b'b');
    }
    if expr == "timestamp()" {
        return g.len() == w.len() && g.ends_with('Z') && g.as_bytes()[10] == b'T';
    }
    false
}

/// Re-runs a sample of the corpus (every 25th case) through the oracle and compares with
/// the recording.
#[test]
fn oracle_still_agrees() {
    let Some(tf) = std::env::var_os("TERRANE_TERRAFORM") else {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("TERRANE_TERRAFORM is not set under CI=true: scripts/setup/10-terraform.sh installs the oracle");
        }
        eprintln!("skipping oracle_still_agrees: TERRANE_TERRAFORM is not set (source scripts/setup/10-terraform.sh)");
        return;
    };
    let mut failures = Vec::new();
    for c in cases().iter().step_by(25) {
        let tmp = tempfile::tempdir().unwrap();
        let work = tmp.path().join("w");
        copy_dir(&corpus().join("fixtures"), &work);
        // The state (and its lock) live outside the fixture directory, so that
        // `fileset(".", "**")` sees only the fixtures.
        let state = tmp.path().join("state").join("terraform.tfstate");
        let mut child = std::process::Command::new(&tf)
            .args(["console", "-no-color"])
            .arg(format!("-state={}", state.display()))
            .current_dir(&work)
            .env("CHECKPOINT_DISABLE", "1")
            .env("HOME", tmp.path())
            .env("TF_CLI_CONFIG_FILE", "/dev/null")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("run the oracle");
        {
            use std::io::Write;
            let mut stdin = child.stdin.take().unwrap();
            writeln!(stdin, "{}", c.expr).unwrap();
        }
        let out = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        let got = if out.status.success() {
            stdout
        } else {
            match stderr.lines().find_map(|l| l.strip_prefix("Error: ")) {
                Some(s) => format!("error: {s}"),
                None => format!("error without summary: {stderr}"),
            }
        };
        if got != expected_answer(c) {
            failures.push(format!(
                "{}\n  oracle now: {got:?}\n  recorded:   {:?}",
                c.expr,
                expected_answer(c)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "the recording no longer matches the oracle:\n{}",
        failures.join("\n")
    );
}

/// Functions whose every call fails, so the corpus cannot show a working call.
const NO_WORKING_CALL: &[(&str, &str)] = &[
    ("list", "removed in Terraform 0.15: every call is an error"),
    ("map", "removed in Terraform 0.15: every call is an error"),
];

/// Every function in terrane's table is in the corpus with at least one call that works
/// and one that fails (as Terraform 1.0.3 answered, or as `differs.json` says terrane
/// answers for functions Terraform 1.0.3 does not have).
#[test]
fn every_function_is_covered() {
    let differs: BTreeMap<String, Differs> =
        serde_json::from_str(&std::fs::read_to_string(corpus().join("differs.json")).unwrap())
            .unwrap();
    let all = cases();
    let answers: Vec<(String, bool)> = all
        .iter()
        .map(|c| match differs.get(&c.expr) {
            Some(d) => (c.expr.clone(), !d.terrane.starts_with("error: ")),
            None => (
                c.expr.clone(),
                c.out.is_some() || c.error.as_deref() == Some("Call to unknown function"),
            ),
        })
        .collect();
    let mut missing = Vec::new();
    for name in terrane::lang::funcs::names() {
        let calls: Vec<&(String, bool)> = answers
            .iter()
            .filter(|(e, _)| calls_function(e, name))
            .collect();
        // A Terraform "unknown function" answer without a differs.json entry is neither.
        let unknown_fn = |e: &str| {
            !differs.contains_key(e)
                && all
                    .iter()
                    .any(|c| c.expr == e && c.error.as_deref() == Some("Call to unknown function"))
        };
        let works = calls.iter().any(|(e, ok)| *ok && !unknown_fn(e));
        let fails = calls.iter().any(|(e, ok)| !*ok && !unknown_fn(e));
        if !works && !NO_WORKING_CALL.iter().any(|(n, _)| *n == name) {
            missing.push(format!("{name}: no call that works"));
        }
        if !fails {
            missing.push(format!("{name}: no call that fails"));
        }
    }
    assert!(
        missing.is_empty(),
        "functions without table cases in tests/lang_differential/exprs:\n{}",
        missing.join("\n")
    );
}

/// True when `expr` calls function `name` (not as part of a longer identifier).
fn calls_function(expr: &str, name: &str) -> bool {
    let b = expr.as_bytes();
    let pat = format!("{name}(");
    expr.match_indices(&pat).any(|(i, _)| {
        i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_' || b[i - 1] == b'.')
    })
}

/// A bad argument's diagnostic names the function and the argument, and points where
/// Terraform points: at the argument's start as HCL's `StartRange` has it (a quoted
/// string's text inside the quotes, a collection's opening bracket, a conditional's
/// condition). tests/validate_json/func_ranges checks those ranges against Terraform.
#[test]
fn bad_arguments_are_located() {
    // (call, the text the diagnostic points at, the argument's 1-based position)
    let calls: &[(&str, &str, usize)] = &[
        ("upper([])", "[", 1),
        ("substr(\"abc\", \"x\", 1)", "x", 2),
        ("join(\",\", [\"a\"], {})", "{", 3),
        ("abs(\"x\")", "x", 1),
        ("parseint(\"zz\",  63)", "63", 2),
        ("split(null, \"a\")", "null", 1),
        ("base64decode(  true ? [] : [] )", "true", 1),
        ("lookup({a=1}, [], 1)", "[", 2),
        ("keys(\"str\")", "str", 1),
        ("file(\"missing.txt\")", "missing.txt", 1),
        ("jsondecode(1 == 1 ? null : \"\")", "1", 1),
        ("format(\"%s\", \"a\", \"b\")", "b", 3),
        ("textencodebase64(\"x\", \"nope\")", "nope", 2),
        ("tonumber(\"one\")", "one", 1),
        ("setunion([\"a\"], \"b\")", "b", 2),
        ("regex(\"(\", \"a\")", "(", 1),
        ("formatdate(\"YYYY\", \"yesterday\")", "yesterday", 2),
        ("templatefile(\"greet.tmpl\", {})", "{", 2),
        ("keys(-(1))", "-", 1),
        ("upper((([])))", "[", 1),
        ("upper([for x in [] : x])", "[", 1),
    ];
    let tmp = tempfile::tempdir().unwrap();
    let work = tmp.path().join("w");
    copy_dir(&corpus().join("fixtures"), &work);
    let config = terrane::config::load_dir_with_files(&work, Vec::new())
        .0
        .expect("an empty configuration");
    let engine = Engine::new(config, Registry::builtin(), work.clone());
    let vars = InputVars::new();
    let state = State::new();
    let (session, _) = engine.eval_session(&state, &vars);
    let mut failures = Vec::new();
    for (src, arg, pos) in calls {
        let name = &src[..src.find('(').unwrap()];
        match session.eval(src) {
            Ok(v) => failures.push(format!("{src}: worked ({v:?})")),
            Err(d) => {
                let span_text = d.span.as_ref().map(|s| s.text().to_string());
                let names_fn = d.detail.contains(&format!("\"{name}\""));
                let names_arg =
                    d.detail.contains(&format!("argument {pos}")) || d.detail.contains("parameter");
                if d.summary != "Invalid function argument"
                    || span_text.as_deref() != Some(*arg)
                    || !names_fn
                    || !names_arg
                {
                    failures.push(format!(
                        "{src}: {} / {:?} at {span_text:?} (want the span of {arg:?}, argument {pos})",
                        d.summary, d.detail
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The configuration suite: each `configs/NAME/` (heredocs, template directives with
/// strip markers, splats, optional attributes: what does not fit on a console line) is
/// applied by terrane (`terrane apply -auto-approve`, then `terrane output -json`) and
/// each output compared with what Terraform 1.0.3 gave (`expected.json`, recorded by
/// `scripts/oracle/record_configs.py`). `configs/known_gaps.txt` lists `NAME.OUTPUT`s
/// terrane does not match yet (the suite fails when one starts to match).
#[test]
fn configs_match_terraform() {
    let root = corpus().join("configs");
    let gaps: BTreeSet<String> = std::fs::read_to_string(root.join("known_gaps.txt"))
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect();
    let mut report = Vec::new();
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    assert!(dirs.len() >= 3, "the configuration suite is missing");
    for dir in dirs {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let tmp = tempfile::tempdir().unwrap();
        let work = tmp.path().join("w");
        copy_dir(&dir, &work);
        std::fs::remove_file(work.join("expected.json")).unwrap();
        let run = |args: &[&str]| {
            std::process::Command::new(env!("CARGO_BIN_EXE_terrane"))
                .args(args)
                .current_dir(&work)
                .env("NO_COLOR", "1")
                .output()
                .expect("run terrane")
        };
        let applied = run(&["apply", "-auto-approve", "-no-color"]);
        let want: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("expected.json")).unwrap())
                .unwrap();
        let got: serde_json::Value = if applied.status.success() {
            let out = run(&["output", "-json"]);
            serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null)
        } else {
            serde_json::Value::Null
        };
        for (output, w) in want.as_object().unwrap() {
            let key = format!("{name}.{output}");
            let g = got.get(output);
            let ok = g == Some(w);
            match (ok, gaps.contains(&key)) {
                (false, false) => report.push(format!(
                    "{key}: terrane {} / want {w}{}",
                    g.map(|g| g.to_string()).unwrap_or_else(|| "nothing".into()),
                    if applied.status.success() {
                        String::new()
                    } else {
                        format!(
                            "\n  apply failed: {}",
                            String::from_utf8_lossy(&applied.stderr)
                        )
                    }
                )),
                (true, true) => {
                    report.push(format!("{key}: passes now; remove it from known_gaps.txt"))
                }
                _ => {}
            }
        }
    }
    assert!(report.is_empty(), "{}", report.join("\n"));
}
