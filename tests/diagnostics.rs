//! Snapshots of what users see when their configuration is wrong: every fixture in
//! `tests/fixtures/diagnostics/` is loaded, validated and (when validation passes)
//! planned, and the diagnostics are rendered as the CLI renders them without colour.
//!
//! The snapshots pin down the file, line, label and help of each message; a change in
//! wording or location shows up in review (`cargo insta review`).

use std::path::Path;

use terrane::config::load::load_dir;
use terrane::diag::Diagnostics;
use terrane::engine::{Engine, PlanOptions};
use terrane::providers::Registry;
use terrane::state::State;

/// Every diagnostic `case` produces, rendered, with their JSON ranges.
fn diagnose(case: &str) -> String {
    let dir = Path::new("tests/fixtures/diagnostics").join(case);
    let (config, mut diags) = load_dir(&dir);
    if let Some(config) = config {
        if !diags.has_errors() {
            let engine = Engine::new(config, Registry::builtin(), dir.clone());
            diags.extend(engine.validate());
            if !diags.has_errors() {
                let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
                let (_, plan_diags) = rt.block_on(engine.plan(&State::new(), &PlanOptions::default()));
                diags.extend(plan_diags);
            }
        }
    }
    render(&diags)
}

fn render(diags: &Diagnostics) -> String {
    let ui = terrane::cli::ui::Ui::new(false);
    let mut out = String::new();
    for d in diags.iter() {
        out.push_str(&ui.render_diag(d));
        out.push('\n');
    }
    out
}

macro_rules! case {
    ($name:ident) => {
        #[test]
        fn $name() {
            let text = diagnose(stringify!($name));
            assert!(!text.trim().is_empty(), "fixture {} produced no diagnostic", stringify!($name));
            insta::assert_snapshot!(stringify!($name), text);
        }
    };
}

case!(syntax_error);
case!(validation_foreign_reference);
case!(syntax_error_expression);
case!(unknown_block);
case!(unknown_argument);
case!(undeclared_variable);
case!(undeclared_resource);
case!(unknown_function);
case!(function_arity);
case!(function_argument_type);
case!(invalid_type_constraint);
case!(default_type_mismatch);
case!(variable_validation);
case!(duplicate_resource);
case!(unknown_resource_type);
case!(count_and_for_each);
case!(for_each_list);
case!(cycle);
case!(missing_module);
case!(module_missing_input);
case!(type_error_in_expression);

#[test]
fn unknown_resource_type_is_reported_once_per_type() {
    let text = diagnose("unknown_resource_type");
    assert_eq!(text.matches("foo_server").count() >= 1, true);
    assert_eq!(text.matches("×").count(), 1, "one diagnostic for the type, not one per use:\n{text}");
}

#[test]
fn a_sensitive_value_never_appears_in_messages() {
    // The configuration is valid; plan it and render the plan too.
    let dir = Path::new("tests/fixtures/diagnostics/sensitive_output");
    let (config, diags) = load_dir(dir);
    let config = config.unwrap();
    let engine = Engine::new(config, Registry::builtin(), dir.to_path_buf());
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let (plan, plan_diags) = rt.block_on(engine.plan(&State::new(), &PlanOptions::default()));
    let mut all = diags;
    all.extend(plan_diags);
    let text = render(&all);
    // Terraform refuses a root output of a sensitive value unless it is marked sensitive.
    assert!(text.contains("sensitive"), "{text}");
    assert!(!text.contains("hunter2"), "{text}");
    if let Some(plan) = plan {
        let shown = terrane::plan::render::render_plan(&plan, &Default::default());
        assert!(!shown.contains("hunter2"), "{shown}");
    }
}
