//! Root input variables: collects the values given for the root module's variables from
//! every place Terraform reads them, in Terraform's precedence order (later wins):
//! `TF_VAR_name` environment variables, `terraform.tfvars`, `terraform.tfvars.json`,
//! `*.auto.tfvars` and `*.auto.tfvars.json` in lexical order, then `-var` and `-var-file`
//! in command-line order.
//!
//! `.tfvars` files are HCL whose attribute values must be constant expressions: they are
//! evaluated with a scope that refuses every reference. Values keep their source span for
//! later messages. A value for an undeclared variable is a warning when it comes from a
//! file and an error when it comes from `-var`; undeclared environment variables are
//! ignored, as Terraform ignores them. Nothing here converts values to the declared
//! types: that is the engine's job when it evaluates the variables.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::config::load::parse_file;
use crate::config::{Expr, Variable};
use crate::diag::{Diagnostic, Diagnostics, SourceFile, Span};
use crate::engine::{InputValue, InputVar, InputVars};
use crate::lang::eval::{eval, RefRoot, Scope};
use crate::lang::funcs::FuncCtx;
use crate::lang::value::Value;

/// One `-var` or `-var-file` argument, in the order given on the command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VarArg {
    /// `-var 'name=value'`: the raw text after `-var`.
    Var(String),
    /// `-var-file=PATH`, relative to the working directory.
    File(String),
}

/// A scope for constant expressions: every reference is refused.
pub struct ConstScope {
    pub cwd: PathBuf,
}

impl Scope for ConstScope {
    fn resolve(&self, root: &RefRoot, span: &Span) -> Result<Value, Diagnostic> {
        Err(Diagnostic::error(
            "Variables not allowed",
            format!(
                "Variables may not be used here; `{root}` cannot be referred to in this context."
            ),
        )
        .with_span(span.clone())
        .with_help("Use a literal value, such as a quoted string, a number, a list or a map."))
    }
    fn func_ctx(&self) -> FuncCtx<'_> {
        FuncCtx {
            cwd: &self.cwd,
            impure_unknown: false,
        }
    }
}

/// Evaluates a constant expression (no references), e.g. a tfvars value or a backend
/// `path`.
pub fn eval_const(expr: &Expr, cwd: &Path) -> Result<Value, Diagnostic> {
    eval(
        expr,
        &ConstScope {
            cwd: cwd.to_path_buf(),
        },
    )
}

/// Collects the root variable values. `env` is the process environment (passed in so
/// that tests need not touch the real one), `cwd` the working directory, `cli` the
/// `-var`/`-var-file` arguments in command-line order, `declared` the root module's
/// variable declarations.
pub fn collect(
    cwd: &Path,
    env: impl IntoIterator<Item = (String, String)>,
    cli: &[VarArg],
    declared: &BTreeMap<String, Variable>,
) -> (InputVars, Diagnostics) {
    let mut vars = InputVars::new();
    let mut diags = Diagnostics::new();

    // 1. TF_VAR_name: undeclared ones are ignored (they may be meant for other configs).
    let mut env: Vec<(String, String)> = env.into_iter().collect();
    env.sort();
    for (k, v) in env {
        if let Some(name) = k.strip_prefix("TF_VAR_") {
            if declared.contains_key(name) {
                vars.insert(
                    name.to_string(),
                    InputVar {
                        value: InputValue::Raw(v),
                        span: None,
                        source: k.clone(),
                    },
                );
            }
        }
    }

    // 2. terraform.tfvars, terraform.tfvars.json, then *.auto.tfvars(.json) lexically.
    let mut files: Vec<PathBuf> = Vec::new();
    for n in ["terraform.tfvars", "terraform.tfvars.json"] {
        let p = cwd.join(n);
        if p.is_file() {
            files.push(p);
        }
    }
    let mut auto: Vec<PathBuf> = match std::fs::read_dir(cwd) {
        Ok(rd) => rd
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| {
                let n = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
                (n.ends_with(".auto.tfvars") || n.ends_with(".auto.tfvars.json")) && p.is_file()
            })
            .collect(),
        Err(_) => Vec::new(),
    };
    auto.sort_by(|a, b| a.file_name().cmp(&b.file_name()));
    files.extend(auto);
    for p in files {
        read_var_file(&p, cwd, declared, &mut vars, &mut diags);
    }

    // 3. -var and -var-file in command-line order.
    for arg in cli {
        match arg {
            VarArg::Var(raw) => match raw.split_once('=') {
                Some((name, value)) => {
                    let name = name.trim();
                    if name.is_empty() {
                        diags.push(
                            Diagnostic::error("Invalid -var option", format!("The given -var option {raw:?} is not correctly specified: the variable name is empty."))
                                .with_help("Give the option as -var 'NAME=VALUE'."),
                        );
                    } else if !declared.contains_key(name) {
                        diags.push(undeclared_error(name, declared));
                    } else {
                        vars.insert(
                            name.to_string(),
                            InputVar { value: InputValue::Raw(value.to_string()), span: None, source: "-var".into() },
                        );
                    }
                }
                None => diags.push(
                    Diagnostic::error(
                        "Invalid -var option",
                        format!("The given -var option {raw:?} is not correctly specified. It must be a variable name and a value separated by an equals sign."),
                    )
                    .with_help(format!("Write it as -var '{raw}=VALUE'.")),
                ),
            },
            VarArg::File(f) => {
                let p = cwd.join(f);
                if !p.is_file() {
                    diags.push(Diagnostic::error(
                        "Failed to read variables file",
                        format!("Given variables file {f} does not exist."),
                    ));
                    continue;
                }
                read_var_file(&p, cwd, declared, &mut vars, &mut diags);
            }
        }
    }
    (vars, diags)
}

/// Whether a variable takes `-var`/`TF_VAR_` text as a plain string (no type, `any`, or
/// a primitive type) rather than as an expression (Terraform's rule).
fn takes_raw_string(v: &Variable) -> bool {
    match &v.type_expr {
        None => true,
        Some(e) => matches!(e.span().text().trim(), "string" | "number" | "bool" | "any"),
    }
}

/// Turns collected inputs into plain values, as a saved plan stores them: raw text for a
/// primitive-typed variable stays a string (the engine converts it), raw text for a
/// complex-typed one is parsed and evaluated as a constant expression.
pub fn to_values(
    vars: &InputVars,
    declared: &BTreeMap<String, Variable>,
    cwd: &Path,
) -> Result<BTreeMap<String, Value>, Diagnostics> {
    let mut out = BTreeMap::new();
    let mut diags = Diagnostics::new();
    for (name, iv) in vars {
        let v = match &iv.value {
            InputValue::Value(v) => v.clone(),
            InputValue::Raw(raw) => {
                if declared.get(name).map(takes_raw_string).unwrap_or(true) {
                    Value::String(raw.clone())
                } else {
                    let file = SourceFile::new(iv.source.clone(), raw.clone());
                    match hcl_edit::parser::parse_expr(raw) {
                        Ok(expr) => match eval_const(&Expr::parsed(file, expr), cwd) {
                            Ok(v) => v,
                            Err(d) => {
                                diags.push(d);
                                continue;
                            }
                        },
                        Err(e) => {
                            let off = e.location().offset().min(raw.len());
                            diags.push(
                                Diagnostic::error("Invalid expression for variable", format!("The value given for var.{name} in {} is not a valid expression: {}.", iv.source, e.message()))
                                    .with_span(Span::new(&file, off..(off + 1).min(raw.len()))),
                            );
                            continue;
                        }
                    }
                }
            }
        };
        out.insert(name.clone(), v);
    }
    diags.into_result(out)
}

/// The inputs of a saved plan's variable values.
pub fn from_values(values: &BTreeMap<String, Value>) -> InputVars {
    values
        .iter()
        .map(|(k, v)| {
            (
                k.clone(),
                InputVar {
                    value: InputValue::Value(v.clone()),
                    span: None,
                    source: "the saved plan".into(),
                },
            )
        })
        .collect()
}

fn undeclared_error(name: &str, declared: &BTreeMap<String, Variable>) -> Diagnostic {
    let d = Diagnostic::error(
        "Value for undeclared variable",
        format!("A variable named \"{name}\" was assigned on the command line, but the root module does not declare a variable of that name."),
    );
    let names: Vec<&str> = declared.keys().map(|s| s.as_str()).collect();
    match crate::config::load::did_you_mean(name, &names) {
        Some(s) => d.with_help(format!("Did you mean \"{s}\"?")),
        None => d.with_help(format!(
            "To use this value, add a \"variable\" block named \"{name}\" to the configuration."
        )),
    }
}

fn undeclared_warning(name: &str, span: Option<Span>, source: &str) -> Diagnostic {
    Diagnostic::warning(
        "Value for undeclared variable",
        format!("The root module does not declare a variable named \"{name}\" but a value was found in file \"{source}\". If you meant to use this value, add a \"variable\" block to the configuration."),
    )
    .with_opt_span(span)
}

fn display(p: &Path, cwd: &Path) -> String {
    p.strip_prefix(cwd)
        .unwrap_or(p)
        .to_string_lossy()
        .to_string()
}

/// Reads one variables file (HCL, or JSON when its name ends in `.json`).
fn read_var_file(
    path: &Path,
    cwd: &Path,
    declared: &BTreeMap<String, Variable>,
    vars: &mut InputVars,
    diags: &mut Diagnostics,
) {
    let name = display(path, cwd);
    let text = match std::fs::read(path).map(String::from_utf8) {
        Ok(Ok(t)) => t,
        Ok(Err(_)) => {
            diags.push(Diagnostic::error(
                "Failed to read variables file",
                format!("{name} is not valid UTF-8 text."),
            ));
            return;
        }
        Err(e) => {
            diags.push(Diagnostic::error(
                "Failed to read variables file",
                format!("Reading {name}: {e}."),
            ));
            return;
        }
    };
    let file = SourceFile::new(name.clone(), text);
    let (values, file_diags) = if name.ends_with(".json") {
        match parse_json(&file) {
            Ok(v) => (v, Diagnostics::new()),
            Err(d) => (Vec::new(), d),
        }
    } else {
        parse_hcl(&file, cwd)
    };
    diags.extend(file_diags);
    for (k, v, span) in values {
        if !declared.contains_key(&k) {
            diags.push(undeclared_warning(&k, span, &name));
            continue;
        }
        vars.insert(
            k,
            InputVar {
                value: InputValue::Value(v),
                span,
                source: name.clone(),
            },
        );
    }
}

type FileValues = Vec<(String, Value, Option<Span>)>;

/// The values of a tfvars file that evaluated, and the problems with the others.
fn parse_hcl(file: &Arc<SourceFile>, cwd: &Path) -> (FileValues, Diagnostics) {
    let body = match parse_file(file) {
        Ok(b) => b,
        Err(d) => return (Vec::new(), d.into()),
    };
    let mut diags = Diagnostics::new();
    for b in &body.blocks {
        diags.push(
            Diagnostic::error("Unexpected block", "Blocks are not allowed in a variables file; it may contain only NAME = VALUE assignments.")
                .with_span(b.ident_span.clone()),
        );
    }
    let mut out = Vec::new();
    for a in &body.attrs {
        match eval_const(&a.expr, cwd) {
            Ok(v) => out.push((a.name.clone(), v, Some(a.expr.span()))),
            Err(d) => diags.push(d),
        }
    }
    (out, diags)
}

fn parse_json(file: &Arc<SourceFile>) -> Result<FileValues, Diagnostics> {
    let j: serde_json::Value = match serde_json::from_str(&file.text) {
        Ok(j) => j,
        Err(e) => {
            let off = offset_of(&file.text, e.line(), e.column());
            let end = (off + 1).min(file.text.len());
            return Err(
                Diagnostic::error("Invalid JSON in variables file", format!("{e}."))
                    .with_span(Span::new(file, off..end))
                    .into(),
            );
        }
    };
    match j {
        serde_json::Value::Object(m) => Ok(m
            .iter()
            .map(|(k, v)| (k.clone(), Value::from_json(v), None))
            .collect()),
        _ => Err(Diagnostic::error(
            "Invalid variables file",
            format!(
                "The root value of {} must be a JSON object whose properties are variable names.",
                file.name
            ),
        )
        .with_span(Span::new(file, 0..file.text.len().min(1)))
        .into()),
    }
}

/// Byte offset of a 1-based line and column (as serde_json reports them).
fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let mut off = 0;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            return (off + column.saturating_sub(1)).min(text.len());
        }
        off += l.len();
    }
    text.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn declared(names: &[&str]) -> BTreeMap<String, Variable> {
        let file = SourceFile::new("x.tf", "");
        names
            .iter()
            .map(|n| {
                (
                    n.to_string(),
                    Variable {
                        name: n.to_string(),
                        span: Span::new(&file, 0..0),
                        type_expr: None,
                        default: None,
                        description: None,
                        sensitive: false,
                        nullable: true,
                        validations: Vec::new(),
                    },
                )
            })
            .collect()
    }

    fn raw(v: &InputVar) -> String {
        match &v.value {
            InputValue::Raw(s) => s.clone(),
            InputValue::Value(v) => format!("{v:?}"),
        }
    }

    #[test]
    fn precedence_later_wins() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(
            dir.path().join("terraform.tfvars"),
            "a = \"file\"\nb = \"file\"\nc = 1 + 2\n",
        )
        .expect("write");
        std::fs::write(dir.path().join("x.auto.tfvars.json"), "{\"b\": \"auto\"}").expect("write");
        std::fs::write(dir.path().join("extra.tfvars"), "d = \"extra\"\n").expect("write");
        let env = vec![
            ("TF_VAR_a".to_string(), "env".to_string()),
            ("TF_VAR_e".to_string(), "env".to_string()),
        ];
        let cli = vec![
            VarArg::Var("d=cli".into()),
            VarArg::File("extra.tfvars".into()),
        ];
        let (vars, diags) = collect(dir.path(), env, &cli, &declared(&["a", "b", "c", "d", "e"]));
        assert!(diags.is_empty(), "{diags}");
        assert_eq!(vars["a"].source, "terraform.tfvars");
        assert_eq!(vars["b"].source, "x.auto.tfvars.json");
        assert_eq!(vars["d"].source, "extra.tfvars");
        assert_eq!(raw(&vars["e"]), "env");
        match &vars["c"].value {
            InputValue::Value(v) => assert_eq!(v.as_number().map(|n| n.as_f64()), Some(3.0)),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn errors_and_warnings() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("terraform.tfvars"), "zz = 1\nb = var.x\n").expect("write");
        let cli = vec![VarArg::Var("nope".into()), VarArg::Var("q=1".into())];
        let (_, diags) = collect(dir.path(), Vec::new(), &cli, &declared(&["b"]));
        let sums: Vec<String> = diags
            .iter()
            .map(|d| format!("{:?}:{}", d.severity, d.summary))
            .collect();
        assert!(
            sums.contains(&"Warning:Value for undeclared variable".to_string()),
            "{sums:?}"
        );
        assert!(
            sums.contains(&"Error:Variables not allowed".to_string()),
            "{sums:?}"
        );
        assert!(
            sums.contains(&"Error:Invalid -var option".to_string()),
            "{sums:?}"
        );
        assert!(
            sums.contains(&"Error:Value for undeclared variable".to_string()),
            "{sums:?}"
        );
    }

    #[test]
    fn syntax_error_has_location() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("terraform.tfvars"), "a = \"ok\"\nb = = 2\n")
            .expect("write");
        let (_, diags) = collect(dir.path(), Vec::new(), &[], &declared(&["a", "b"]));
        let d = diags.iter().next().expect("a diagnostic");
        assert!(d.is_error());
        let span = d.span.as_ref().expect("span");
        assert_eq!(span.file.line_col(span.start).0, 2);
    }
}
