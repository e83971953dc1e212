//! Loading: reads every `*.tf` file of a directory, parses it with hcl-edit and builds
//! the `Module` model, then follows local module sources to build the `Config` tree.
//!
//! Every structural problem (syntax error, unknown block or argument, duplicate name,
//! bad meta-argument) becomes a diagnostic with its span; loading goes on to report all
//! of them. Nothing here evaluates expressions except literal-only meta-arguments
//! (`source`, `alias`, `sensitive`, lifecycle flags), which Terraform also requires to be
//! literals.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use hcl_edit::expr::{Expression, TraversalOperator};
use hcl_edit::structure::{self, Structure};
use hcl_edit::Span as _;

use super::*;
use crate::addrs::{ModulePath, Resource, ResourceMode};
use crate::diag::{Diagnostic, Diagnostics, SourceFile, Span};

/// How deep module calls may nest before we assume a source cycle.
const MAX_MODULE_DEPTH: usize = 64;

/// Loads the configuration tree rooted at `dir`. Returns the config (possibly partial)
/// and every diagnostic found.
pub fn load_dir(dir: &Path) -> (Option<Config>, Diagnostics) {
    let mut diags = Diagnostics::new();
    let cfg = load_tree(dir, ModulePath::root(), None, 0, &mut diags);
    (cfg, diags)
}

/// Loads a module from given file contents (name, text) instead of the disk; child
/// modules are still read from disk relative to `dir`.
pub fn load_dir_with_files(dir: &Path, files: Vec<(String, String)>) -> (Option<Config>, Diagnostics) {
    let mut diags = Diagnostics::new();
    let module = load_module_from(dir, files, &mut diags);
    let mut children = BTreeMap::new();
    for call in module.module_calls.values() {
        if let Some(c) = load_tree(&call.dir, ModulePath::root().child(&call.name), Some(call), 1, &mut diags) {
            children.insert(call.name.clone(), c);
        }
    }
    (Some(Config { path: ModulePath::root(), module, children }), diags)
}

fn load_tree(dir: &Path, path: ModulePath, call: Option<&ModuleCall>, depth: usize, diags: &mut Diagnostics) -> Option<Config> {
    if depth > MAX_MODULE_DEPTH {
        if let Some(call) = call {
            diags.push(
                Diagnostic::error("Module calls nest too deeply", format!("Module calls are nested more than {MAX_MODULE_DEPTH} levels deep; a module probably calls itself through its source."))
                    .with_span(call.source_span.clone()),
            );
        }
        return None;
    }
    let files = match read_tf_files(dir) {
        Ok(f) => f,
        Err(e) => {
            let d = Diagnostic::error("Cannot read module directory", format!("Reading {}: {e}.", dir.display()));
            diags.push(match call {
                Some(c) => d.with_span(c.source_span.clone()).with_help("Check the module's `source` path; local sources start with ./ or ../"),
                None => d,
            });
            return None;
        }
    };
    if files.is_empty() && call.is_some() {
        if let Some(c) = call {
            diags.push(
                Diagnostic::error("Module has no configuration files", format!("{} contains no .tf files.", dir.display()))
                    .with_span(c.source_span.clone()),
            );
        }
    }
    let module = load_module_from(dir, files, diags);
    let mut children = BTreeMap::new();
    for c in module.module_calls.values() {
        if let Some(child) = load_tree(&c.dir, path.child(&c.name), Some(c), depth + 1, diags) {
            children.insert(c.name.clone(), child);
        }
    }
    Some(Config { path, module, children })
}

/// The `*.tf` files of a directory, sorted by name, with their display names.
fn read_tf_files(dir: &Path) -> std::io::Result<Vec<(String, String)>> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let p = entry.path();
        let is_tf = p.extension().map(|e| e == "tf").unwrap_or(false);
        let hidden = p.file_name().and_then(|n| n.to_str()).map(|n| n.starts_with('.')).unwrap_or(true);
        if is_tf && !hidden && entry.file_type()?.is_file() {
            names.push(p);
        }
    }
    names.sort();
    let mut out = Vec::new();
    for p in names {
        let bytes = std::fs::read(&p)?;
        let text = String::from_utf8(bytes).map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidData, format!("{} is not valid UTF-8", p.display())))?;
        out.push((display_name(&p), text));
    }
    Ok(out)
}

/// The path as users should see it: relative to the working directory when possible.
pub fn display_name(p: &Path) -> String {
    let cwd = std::env::current_dir().ok();
    let rel = cwd.as_ref().and_then(|c| p.strip_prefix(c).ok()).unwrap_or(p);
    let s = rel.to_string_lossy().to_string();
    s.strip_prefix("./").map(|s| s.to_string()).unwrap_or(s)
}

/// A file this big is parsed in pieces on several threads (`lang::parse_body_outline_pieces`).
const PARALLEL_PARSE_PIECE: usize = 128 * 1024;

/// Into how many pieces a file of `len` bytes is cut to be parsed on several threads.
pub fn parse_pieces(len: usize) -> usize {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(8);
    (len / PARALLEL_PARSE_PIECE).min(threads)
}

/// Parses one file into its body (an outline: `lang::parse_body_outline`), reporting a
/// syntax error with its location.
pub fn parse_file(file: &Arc<SourceFile>) -> Result<Body, Diagnostic> {
    let pieces = crate::lang::parse_body_outline_pieces(&file.text, parse_pieces(file.text.len())).map_err(|e| {
        let off = e.location().offset().min(file.text.len());
        let end = (off + 1).min(file.text.len());
        // The parser only notices a missing `}` at the end of the file; point at the block
        // that was never closed instead, as Terraform does.
        if file.text[off..].trim().is_empty() {
            if let Some(open) = unclosed_brace(&file.text) {
                let line_start = file.text[..open].rfind('\n').map(|i| i + 1).unwrap_or(0);
                let head = file.text[line_start..open].trim_start();
                let start = open - head.len();
                return Diagnostic::error("Unclosed configuration block", "There is no closing brace for this block before the end of the file. This may be caused by incorrect brace nesting elsewhere in this file.")
                    .with_span(Span::new(file, start..open + 1))
                    .with_label("this block is never closed")
                    .with_help("Add the missing `}`, or remove a stray `{`.");
            }
        }
        Diagnostic::error("Invalid syntax", syntax_message(e.message()))
            .with_span(Span::new(file, off..end))
            .with_label("the parser stopped here")
    })?;
    let mut body = Body::default();
    for piece in pieces {
        let Body { attrs, blocks } = convert_body(file, piece);
        body.attrs.extend(attrs);
        body.blocks.extend(blocks);
    }
    Ok(body)
}

/// The offset of the outermost `{` that is never closed, skipping strings, comments and
/// heredocs. A heuristic for messages only: the parser has already rejected the file.
fn unclosed_brace(text: &str) -> Option<usize> {
    let b = text.as_bytes();
    let mut stack: Vec<usize> = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'#' => i = text[i..].find('\n').map_or(b.len(), |n| i + n),
            b'/' if b.get(i + 1) == Some(&b'/') => i = text[i..].find('\n').map_or(b.len(), |n| i + n),
            b'/' if b.get(i + 1) == Some(&b'*') => i = text[i + 2..].find("*/").map_or(b.len(), |n| i + 2 + n + 2),
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' && b[i] != b'\n' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
                continue;
            }
            b'<' if text[i..].starts_with("<<") => {
                let rest = text[i + 2..].trim_start_matches('-');
                let ident: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                if !ident.is_empty() {
                    let body_start = text[i..].find('\n').map_or(b.len(), |n| i + n + 1);
                    let mut pos = body_start;
                    let mut closed = b.len();
                    for line in text[body_start..].split_inclusive('\n') {
                        if line.trim() == ident {
                            closed = pos + line.len();
                            break;
                        }
                        pos += line.len();
                    }
                    i = closed;
                    continue;
                }
            }
            b'{' => stack.push(i),
            b'}' => {
                stack.pop();
            }
            _ => {}
        }
        i += 1;
    }
    stack.first().copied()
}

pub(crate) fn syntax_message(m: &str) -> String {
    let m = m.trim();
    if m.is_empty() {
        "The configuration could not be parsed here.".to_string()
    } else {
        let mut s = m.to_string();
        if let Some(c) = s.get(0..1) {
            s.replace_range(0..1, &c.to_uppercase());
        }
        if !s.ends_with('.') {
            s.push('.');
        }
        s
    }
}

/// Converts an hcl-edit body into ours, keeping spans. The body is consumed: its
/// expressions move into ours (a copy would double the configuration's memory while
/// both exist).
pub fn convert_body(file: &Arc<SourceFile>, body: structure::Body) -> Body {
    let mut out = Body::default();
    for s in body {
        match s {
            Structure::Attribute(a) => {
                let name_span = Span::from_opt(file, a.key.span());
                let span = Span::from_opt(file, a.span());
                out.attrs.push(Attr {
                    name: a.key.as_str().to_string(),
                    name_span,
                    expr: match a.value {
                        // A placeholder (or a literal `null`, the same tree).
                        Expression::Null(_) => Expr::at(file, a.value.span().unwrap_or_default()),
                        kept => Expr::parsed_at(file, kept),
                    },
                    span,
                })
            }
            Structure::Block(b) => {
                let ident_span = Span::from_opt(file, b.ident.span());
                let label_spans = b.labels.iter().map(|l| Span::from_opt(file, l.span())).collect();
                let span = Span::from_opt(file, b.span());
                out.blocks.push(BlockCfg {
                    ident: b.ident.as_str().to_string(),
                    labels: b.labels.iter().map(|l| l.as_str().to_string()).collect(),
                    ident_span,
                    label_spans,
                    body: convert_body(file, b.body),
                    span,
                })
            }
        }
    }
    out
}

/// A block header span: from the identifier to the last label.
fn header_span(b: &BlockCfg) -> Span {
    let end = b.body.attrs.first().map(|a| a.span.start).unwrap_or(b.span.end);
    let text = &b.span.file.text[b.span.start..end.min(b.span.file.text.len())];
    let header_len = text.find('{').map(|i| text[..i].trim_end().len()).unwrap_or(text.len());
    Span::new(&b.span.file, b.span.start..b.span.start + header_len)
}

fn load_module_from(dir: &Path, files: Vec<(String, String)>, diags: &mut Diagnostics) -> Module {
    let mut m = Module { dir: dir.to_path_buf(), ..Default::default() };
    for (name, text) in files {
        let file = SourceFile::new(name, text);
        m.files.push(file.clone());
        let body = match parse_file(&file) {
            Ok(b) => b,
            Err(d) => {
                diags.push(d);
                continue;
            }
        };
        for a in &body.attrs {
            diags.push(
                Diagnostic::error("Unsupported argument", format!("An argument named \"{}\" is not expected at the top level of a configuration file.", a.name))
                    .with_span(a.name_span.clone())
                    .with_help("Top-level content must be blocks such as `resource`, `variable` or `locals`."),
            );
        }
        for b in body.blocks {
            load_top_block(&mut m, b, diags);
        }
    }
    m
}

const TOP_BLOCKS: &[&str] = &["terraform", "provider", "variable", "locals", "output", "resource", "data", "module", "moved"];

fn load_top_block(m: &mut Module, b: BlockCfg, diags: &mut Diagnostics) {
    match b.ident.as_str() {
        "terraform" => load_terraform(m, b, diags),
        "provider" => {
            if !expect_labels(&b, &["name"], diags) {
                return;
            }
            let name = b.labels[0].clone();
            let mut body = b.body.clone();
            let alias = take_attr(&mut body, "alias").and_then(|a| literal_string(&a, diags));
            let p = ProviderConfig { name, alias, span: header_span(&b), body };
            if let Some(prev) = m.providers.iter().find(|x| x.key() == p.key()) {
                diags.push(
                    Diagnostic::error("Duplicate provider configuration", format!("A provider configuration for \"{}\" was already given. Each configuration needs a unique `alias`.", p.key()))
                        .with_span(p.span.clone())
                        .with_related(prev.span.clone(), "first configured here"),
                );
                return;
            }
            m.providers.push(p);
        }
        "variable" => {
            if !expect_labels(&b, &["name"], diags) {
                return;
            }
            load_variable(m, b, diags)
        }
        "locals" => {
            if !expect_labels(&b, &[], diags) {
                return;
            }
            for blk in &b.body.blocks {
                diags.push(
                    Diagnostic::error("Unexpected block", format!("A `locals` block holds only arguments; \"{}\" is a block.", blk.ident))
                        .with_span(blk.ident_span.clone()),
                );
            }
            for a in b.body.attrs {
                if let Some(prev) = m.locals.get(&a.name) {
                    diags.push(
                        Diagnostic::error("Duplicate local value definition", format!("A local value named \"{}\" was already defined. Local value names must be unique within a module.", a.name))
                            .with_span(a.span.clone())
                            .with_related(prev.span.clone(), "first defined here"),
                    );
                    continue;
                }
                m.locals.insert(a.name.clone(), Local { name: a.name.clone(), expr: a.expr, span: a.name_span });
            }
        }
        "output" => {
            if !expect_labels(&b, &["name"], diags) {
                return;
            }
            load_output(m, b, diags)
        }
        "resource" | "data" => {
            if !expect_labels(&b, &["type", "name"], diags) {
                return;
            }
            load_resource(m, b, diags)
        }
        "module" => {
            if !expect_labels(&b, &["name"], diags) {
                return;
            }
            load_module_call(m, b, diags)
        }
        "moved" => {
            if !expect_labels(&b, &[], diags) {
                return;
            }
            check_args(&b.body, &["from", "to"], &[], "moved", diags);
            match (b.body.attr("from"), b.body.attr("to")) {
                (Some(f), Some(t)) => m.moved.push(Moved { from: f.expr.clone(), to: t.expr.clone(), span: header_span(&b) }),
                _ => diags.push(
                    Diagnostic::error("Missing required argument", "A `moved` block needs both `from` and `to`.").with_span(header_span(&b)),
                ),
            }
        }
        other => {
            let mut d = Diagnostic::error("Unsupported block type", format!("Blocks of type \"{other}\" are not expected here."))
                .with_span(b.ident_span.clone());
            if let Some(s) = did_you_mean(other, TOP_BLOCKS) {
                d = d.with_help(format!("Did you mean \"{s}\"?"));
            }
            diags.push(d);
        }
    }
}

fn expect_labels(b: &BlockCfg, names: &[&str], diags: &mut Diagnostics) -> bool {
    if b.labels.len() == names.len() {
        return true;
    }
    let detail = if names.is_empty() {
        format!("A `{}` block takes no labels.", b.ident)
    } else {
        format!(
            "A `{}` block takes {} label{}: {}.",
            b.ident,
            names.len(),
            if names.len() == 1 { "" } else { "s" },
            names.iter().map(|n| format!("\"{n}\"")).collect::<Vec<_>>().join(", ")
        )
    };
    diags.push(Diagnostic::error(if b.labels.len() < names.len() { "Missing name for block" } else { "Extraneous label for block" }, detail).with_span(header_span(b)));
    false
}

/// Reports arguments and blocks not in the allowed lists.
fn check_args(body: &Body, attrs: &[&str], blocks: &[&str], what: &str, diags: &mut Diagnostics) {
    for a in &body.attrs {
        if !attrs.contains(&a.name.as_str()) {
            let mut d = Diagnostic::error("Unsupported argument", format!("An argument named \"{}\" is not expected in a `{what}` block.", a.name))
                .with_span(a.name_span.clone());
            if let Some(s) = did_you_mean(&a.name, attrs) {
                d = d.with_help(format!("Did you mean \"{s}\"?"));
            }
            diags.push(d);
        }
    }
    for b in &body.blocks {
        if !blocks.contains(&b.ident.as_str()) {
            let mut d = Diagnostic::error("Unsupported block type", format!("Blocks of type \"{}\" are not expected in a `{what}` block.", b.ident))
                .with_span(b.ident_span.clone());
            if let Some(s) = did_you_mean(&b.ident, blocks) {
                d = d.with_help(format!("Did you mean \"{s}\"?"));
            }
            diags.push(d);
        }
    }
}

/// The closest candidate by edit distance, if close enough to be a likely typo.
pub fn did_you_mean<'a>(given: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (levenshtein(given, c), *c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 4) && *d < c.len())
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

pub fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = if ca == *cb { 0 } else { 1 };
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

fn take_attr(body: &mut Body, name: &str) -> Option<Attr> {
    let i = body.attrs.iter().position(|a| a.name == name)?;
    Some(body.attrs.remove(i))
}

fn take_blocks(body: &mut Body, ident: &str) -> Vec<BlockCfg> {
    let (taken, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut body.blocks).into_iter().partition(|b| b.ident == ident);
    body.blocks = kept;
    taken
}

/// The syntax tree of a configuration expression, for the arguments `load` reads
/// statically. The text parsed a moment ago, so this does not fail; if it did, the
/// error is reported and the expression read as `null`.
fn tree(e: &Expr, diags: &mut Diagnostics) -> Arc<Expression> {
    e.syntax().unwrap_or_else(|d| {
        diags.push(d);
        Arc::new(Expression::Null(hcl_edit::Decorated::new(hcl_edit::expr::Null)))
    })
}

/// A literal string argument (no interpolation).
fn literal_string(a: &Attr, diags: &mut Diagnostics) -> Option<String> {
    match &*tree(&a.expr, diags) {
        Expression::String(s) => Some(s.as_str().to_string()),
        Expression::StringTemplate(t) if t.iter().all(|e| e.is_literal()) => {
            Some(t.iter().filter_map(|e| e.as_literal()).map(|s| s.as_str()).collect())
        }
        _ => {
            diags.push(
                Diagnostic::error("Invalid value", format!("The argument \"{}\" must be a literal string; expressions are not allowed here.", a.name))
                    .with_span(a.expr.span()),
            );
            None
        }
    }
}

fn literal_bool(a: &Attr, diags: &mut Diagnostics) -> bool {
    match &*tree(&a.expr, diags) {
        Expression::Bool(b) => *b.value(),
        _ => {
            diags.push(
                Diagnostic::error("Invalid value", format!("The argument \"{}\" must be the literal true or false.", a.name))
                    .with_span(a.expr.span()),
            );
            false
        }
    }
}

/// The names of a static traversal (`aws.west` → ["aws", "west"]), or None.
pub fn static_traversal(e: &Expression) -> Option<Vec<String>> {
    match e {
        Expression::Variable(v) => Some(vec![v.as_str().to_string()]),
        Expression::Traversal(t) => {
            let mut names = static_traversal(&t.expr)?;
            for op in &t.operators {
                match op.value() {
                    TraversalOperator::GetAttr(i) => names.push(i.as_str().to_string()),
                    _ => return None,
                }
            }
            Some(names)
        }
        _ => None,
    }
}

fn provider_ref(a: &Attr, diags: &mut Diagnostics) -> Option<ProviderRef> {
    match static_traversal(&tree(&a.expr, diags)) {
        Some(n) if n.len() == 1 => Some(ProviderRef { name: n[0].clone(), alias: None }),
        Some(n) if n.len() == 2 => Some(ProviderRef { name: n[0].clone(), alias: Some(n[1].clone()) }),
        _ => {
            diags.push(
                Diagnostic::error("Invalid provider reference", "A provider reference is a provider name, optionally followed by a dot and an alias, like `aws.west`.")
                    .with_span(a.expr.span()),
            );
            None
        }
    }
}

fn list_elements(a: &Attr, diags: &mut Diagnostics) -> Vec<Expr> {
    match &*tree(&a.expr, diags) {
        Expression::Array(arr) => arr.iter().map(|e| a.expr.part(e)).collect(),
        _ => {
            diags.push(Diagnostic::error("Invalid value", format!("The argument \"{}\" must be a list.", a.name)).with_span(a.expr.span()));
            Vec::new()
        }
    }
}

fn load_terraform(m: &mut Module, b: BlockCfg, diags: &mut Diagnostics) {
    check_args(
        &b.body,
        &["required_version", "experiments"],
        &["required_providers", "backend", "encryption", "cloud"],
        "terraform",
        diags,
    );
    if let Some(a) = b.body.attr("required_version") {
        m.terraform.required_version = literal_string(a, diags);
    }
    for blk in &b.body.blocks {
        match blk.ident.as_str() {
            "required_providers" => {
                for a in &blk.body.attrs {
                    let rp = match &*tree(&a.expr, diags) {
                        Expression::Object(o) => {
                            let mut source = format!("hashicorp/{}", a.name);
                            let mut version = None;
                            for (k, v) in o.iter() {
                                let key = match k {
                                    hcl_edit::expr::ObjectKey::Ident(i) => i.as_str().to_string(),
                                    hcl_edit::expr::ObjectKey::Expression(e) => e.as_str().unwrap_or("").to_string(),
                                };
                                let val = v.expr().as_str().map(|s| s.to_string());
                                match (key.as_str(), val) {
                                    ("source", Some(s)) => source = s,
                                    ("version", Some(s)) => version = Some(s),
                                    ("configuration_aliases", _) => {}
                                    _ => diags.push(
                                        Diagnostic::error("Invalid required_providers entry", format!("Provider \"{}\": expected `source` and `version` strings.", a.name))
                                            .with_span(a.expr.span()),
                                    ),
                                }
                            }
                            RequiredProvider { source, version }
                        }
                        Expression::String(s) => RequiredProvider { source: format!("hashicorp/{}", a.name), version: Some(s.as_str().to_string()) },
                        _ => {
                            diags.push(Diagnostic::error("Invalid required_providers entry", "Expected an object with `source` and `version`.").with_span(a.expr.span()));
                            continue;
                        }
                    };
                    m.terraform.required_providers.insert(a.name.clone(), rp);
                }
            }
            "backend" => {
                if expect_labels(blk, &["type"], diags) {
                    if let Some(prev) = &m.terraform.backend {
                        diags.push(
                            Diagnostic::error("Duplicate backend configuration", "A module may have only one backend configuration.")
                                .with_span(header_span(blk))
                                .with_related(prev.span.clone(), "first configured here"),
                        );
                    } else {
                        m.terraform.backend = Some(BackendConfig { kind: blk.labels[0].clone(), span: header_span(blk), body: blk.body.clone() });
                    }
                }
            }
            "encryption" => m.terraform.encryption = Some(blk.clone()),
            "cloud" => diags.push(
                Diagnostic::error("Terraform Cloud is not supported", "terrane does not support the `cloud` block.")
                    .with_span(blk.ident_span.clone())
                    .with_help("Use a `backend \"s3\"` or `backend \"local\"` block instead."),
            ),
            _ => {}
        }
    }
}

fn load_variable(m: &mut Module, b: BlockCfg, diags: &mut Diagnostics) {
    let name = b.labels[0].clone();
    check_args(&b.body, &["type", "default", "description", "sensitive", "nullable"], &["validation"], "variable", diags);
    if let Some(prev) = m.variables.get(&name) {
        diags.push(
            Diagnostic::error("Duplicate variable declaration", format!("A variable named \"{name}\" was already declared. Variable names must be unique within a module."))
                .with_span(header_span(&b))
                .with_related(prev.span.clone(), "first declared here"),
        );
        return;
    }
    if is_reserved_variable_name(&name) {
        diags.push(
            Diagnostic::error("Invalid variable name", format!("The variable name \"{name}\" is reserved for a meta-argument and cannot be declared."))
                .with_span(header_span(&b)),
        );
    }
    let mut validations = Vec::new();
    for v in b.body.blocks_of("validation") {
        check_args(&v.body, &["condition", "error_message"], &[], "validation", diags);
        match (v.body.attr("condition"), v.body.attr("error_message")) {
            (Some(c), Some(e)) => validations.push(Validation { condition: c.expr.clone(), error_message: e.expr.clone() }),
            _ => diags.push(
                Diagnostic::error("Missing required argument", "A `validation` block needs `condition` and `error_message`.").with_span(header_span(v)),
            ),
        }
    }
    let description = b.body.attr("description").and_then(|a| literal_string(a, diags));
    let sensitive = b.body.attr("sensitive").map(|a| literal_bool(a, diags)).unwrap_or(false);
    let nullable = b.body.attr("nullable").map(|a| literal_bool(a, diags)).unwrap_or(true);
    m.variables.insert(
        name.clone(),
        Variable {
            name,
            span: header_span(&b),
            type_expr: b.body.attr("type").map(|a| a.expr.clone()),
            default: b.body.attr("default").map(|a| a.expr.clone()),
            description,
            sensitive,
            nullable,
            validations,
        },
    );
}

fn is_reserved_variable_name(n: &str) -> bool {
    matches!(n, "source" | "version" | "providers" | "count" | "for_each" | "lifecycle" | "depends_on" | "locals")
}

fn load_output(m: &mut Module, b: BlockCfg, diags: &mut Diagnostics) {
    let name = b.labels[0].clone();
    check_args(&b.body, &["value", "description", "sensitive", "depends_on"], &["precondition"], "output", diags);
    if let Some(prev) = m.outputs.get(&name) {
        diags.push(
            Diagnostic::error("Duplicate output definition", format!("An output named \"{name}\" was already defined. Output names must be unique within a module."))
                .with_span(header_span(&b))
                .with_related(prev.span.clone(), "first defined here"),
        );
        return;
    }
    let Some(value) = b.body.attr("value") else {
        diags.push(Diagnostic::error("Missing required argument", "The argument \"value\" is required in an `output` block.").with_span(header_span(&b)));
        return;
    };
    let description = b.body.attr("description").and_then(|a| literal_string(a, diags));
    let sensitive = b.body.attr("sensitive").map(|a| literal_bool(a, diags)).unwrap_or(false);
    let depends_on = b.body.attr("depends_on").map(|a| list_elements(a, diags)).unwrap_or_default();
    m.outputs.insert(name.clone(), Output { name, span: header_span(&b), value: value.expr.clone(), description, sensitive, depends_on });
}

fn load_lifecycle(blk: &BlockCfg, diags: &mut Diagnostics) -> Lifecycle {
    let mut l = Lifecycle::default();
    check_args(&blk.body, &["create_before_destroy", "prevent_destroy", "ignore_changes", "replace_triggered_by"], &["precondition", "postcondition"], "lifecycle", diags);
    if let Some(a) = blk.body.attr("create_before_destroy") {
        l.create_before_destroy = literal_bool(a, diags);
    }
    if let Some(a) = blk.body.attr("prevent_destroy") {
        l.prevent_destroy = literal_bool(a, diags);
        l.prevent_destroy_span = Some(a.span.clone());
    }
    if let Some(a) = blk.body.attr("ignore_changes") {
        match &*tree(&a.expr, diags) {
            Expression::Variable(v) if v.as_str() == "all" => l.ignore_changes = IgnoreChanges::All,
            Expression::Array(arr) => {
                let mut attrs = Vec::new();
                for e in arr.iter() {
                    match static_traversal(e) {
                        Some(names) if !names.is_empty() => attrs.push((names[0].clone(), Span::from_opt(&a.expr.file, e.span()))),
                        _ => diags.push(
                            Diagnostic::error("Invalid ignore_changes entry", "Each entry of `ignore_changes` is an attribute name, like `tags`.")
                                .with_span(Span::from_opt(&a.expr.file, e.span())),
                        ),
                    }
                }
                l.ignore_changes = IgnoreChanges::Attrs(attrs);
            }
            _ => diags.push(
                Diagnostic::error("Invalid ignore_changes", "`ignore_changes` is a list of attribute names, or the keyword `all`.").with_span(a.expr.span()),
            ),
        }
    }
    if let Some(a) = blk.body.attr("replace_triggered_by") {
        l.replace_triggered_by = list_elements(a, diags);
    }
    l
}

fn load_resource(m: &mut Module, b: BlockCfg, diags: &mut Diagnostics) {
    let mode = if b.ident == "data" { ResourceMode::Data } else { ResourceMode::Managed };
    let addr = Resource { mode, type_: b.labels[0].clone(), name: b.labels[1].clone() };
    let span = header_span(&b);
    for (label, what) in [(&addr.type_, "type"), (&addr.name, "name")] {
        if !is_identifier(label) {
            diags.push(
                Diagnostic::error("Invalid resource name", format!("The resource {what} \"{label}\" is not a valid identifier: it must start with a letter or underscore and contain only letters, digits, underscores and dashes."))
                    .with_span(span.clone()),
            );
            return;
        }
    }
    if let Some(prev) = m.resources.get(&addr) {
        diags.push(
            Diagnostic::error(
                if mode == ResourceMode::Data { "Duplicate data resource" } else { "Duplicate resource" },
                format!("A {} named \"{}\" was already declared. Resource names must be unique per type in each module.", addr.type_, addr.name),
            )
            .with_span(span.clone())
            .with_related(prev.span.clone(), "first declared here"),
        );
        return;
    }
    let mut body = b.body.clone();
    let count = take_attr(&mut body, "count").map(|a| a.expr);
    let for_each = take_attr(&mut body, "for_each").map(|a| a.expr);
    if let (Some(c), Some(_)) = (&count, &for_each) {
        diags.push(
            Diagnostic::error("Invalid combination of \"count\" and \"for_each\"", "The \"count\" and \"for_each\" meta-arguments are mutually-exclusive; only one may be used to be explicit about the number of resources to be created.")
                .with_span(c.span()),
        );
    }
    let provider_attr = take_attr(&mut body, "provider");
    let provider = provider_attr.as_ref().and_then(|a| provider_ref(a, diags));
    let depends_on = take_attr(&mut body, "depends_on").map(|a| list_elements(&a, diags)).unwrap_or_default();
    let mut lifecycle = Lifecycle::default();
    for l in take_blocks(&mut body, "lifecycle") {
        if mode == ResourceMode::Data {
            diags.push(Diagnostic::error("Unsupported lifecycle block", "Data resources do not have lifecycle settings.").with_span(l.ident_span.clone()));
            continue;
        }
        lifecycle = load_lifecycle(&l, diags);
    }
    let connection = take_blocks(&mut body, "connection").into_iter().next().map(|c| c.body);
    let mut provisioners = Vec::new();
    for p in take_blocks(&mut body, "provisioner") {
        if p.labels.len() != 1 {
            diags.push(Diagnostic::error("Missing name for block", "A `provisioner` block takes one label: its type.").with_span(header_span(&p)));
            continue;
        }
        let mut pbody = p.body.clone();
        let when_destroy = match take_attr(&mut pbody, "when") {
            Some(a) => match static_traversal(&tree(&a.expr, diags)).as_deref() {
                Some([w]) if w == "destroy" => true,
                Some([w]) if w == "create" => false,
                _ => {
                    diags.push(Diagnostic::error("Invalid \"when\" keyword", "The \"when\" argument is `create` or `destroy`.").with_span(a.expr.span()));
                    false
                }
            },
            None => false,
        };
        let on_failure_continue = match take_attr(&mut pbody, "on_failure") {
            Some(a) => match static_traversal(&tree(&a.expr, diags)).as_deref() {
                Some([w]) if w == "continue" => true,
                Some([w]) if w == "fail" => false,
                _ => {
                    diags.push(Diagnostic::error("Invalid \"on_failure\" keyword", "The \"on_failure\" argument is `continue` or `fail`.").with_span(a.expr.span()));
                    false
                }
            },
            None => false,
        };
        let pconn = take_blocks(&mut pbody, "connection").into_iter().next().map(|c| c.body);
        provisioners.push(Provisioner { kind: p.labels[0].clone(), span: header_span(&p), body: pbody, when_destroy, on_failure_continue, connection: pconn });
    }
    m.resources.insert(
        addr.clone(),
        ResourceConfig {
            addr,
            span,
            provider,
            provider_span: provider_attr.map(|a| a.expr.span()),
            count,
            for_each,
            depends_on,
            lifecycle,
            body,
            connection,
            provisioners,
        },
    );
}

pub fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) if c.is_alphabetic() || c == '_' => {}
        _ => return false,
    }
    chars.all(|c| c.is_alphanumeric() || c == '_' || c == '-')
}

fn load_module_call(m: &mut Module, b: BlockCfg, diags: &mut Diagnostics) {
    let name = b.labels[0].clone();
    let span = header_span(&b);
    if let Some(prev) = m.module_calls.get(&name) {
        diags.push(
            Diagnostic::error("Duplicate module call", format!("A module call named \"{name}\" was already defined. Module calls must have unique names within a module."))
                .with_span(span)
                .with_related(prev.span.clone(), "first defined here"),
        );
        return;
    }
    for blk in &b.body.blocks {
        diags.push(
            Diagnostic::error("Unsupported block type", format!("Blocks of type \"{}\" are not expected in a `module` block.", blk.ident))
                .with_span(blk.ident_span.clone()),
        );
    }
    let mut body = b.body.clone();
    let Some(source_attr) = take_attr(&mut body, "source") else {
        diags.push(Diagnostic::error("Missing required argument", "The argument \"source\" is required in a `module` block.").with_span(span));
        return;
    };
    let Some(source) = literal_string(&source_attr, diags) else { return };
    if !(source.starts_with("./") || source.starts_with("../")) {
        diags.push(
            Diagnostic::error("Unsupported module source", format!("The module source \"{source}\" is not a local path. terrane installs no modules from registries or remote locations."))
                .with_span(source_attr.expr.span())
                .with_help("Vendor the module into the repository (for example under modules/) and use a path starting with ./ or ../"),
        );
        return;
    }
    let _ = take_attr(&mut body, "version");
    let count = take_attr(&mut body, "count").map(|a| a.expr);
    let for_each = take_attr(&mut body, "for_each").map(|a| a.expr);
    if let (Some(c), Some(_)) = (&count, &for_each) {
        diags.push(
            Diagnostic::error("Invalid combination of \"count\" and \"for_each\"", "The \"count\" and \"for_each\" meta-arguments are mutually-exclusive.")
                .with_span(c.span()),
        );
    }
    let depends_on = take_attr(&mut body, "depends_on").map(|a| list_elements(&a, diags)).unwrap_or_default();
    let mut providers = Vec::new();
    if let Some(a) = take_attr(&mut body, "providers") {
        match &*tree(&a.expr, diags) {
            Expression::Object(o) => {
                for (k, v) in o.iter() {
                    let key = match k {
                        hcl_edit::expr::ObjectKey::Ident(i) => Some(vec![i.as_str().to_string()]),
                        hcl_edit::expr::ObjectKey::Expression(e) => static_traversal(e),
                    };
                    let val = static_traversal(v.expr());
                    let to_ref = |n: Vec<String>| ProviderRef { name: n[0].clone(), alias: n.get(1).cloned() };
                    match (key, val) {
                        (Some(k), Some(v)) if (1..=2).contains(&k.len()) && (1..=2).contains(&v.len()) => providers.push((to_ref(k), to_ref(v))),
                        _ => diags.push(
                            Diagnostic::error("Invalid providers map", "Each entry maps a child provider name to a parent one, like `aws = aws.west`.")
                                .with_span(a.expr.span()),
                        ),
                    }
                }
            }
            _ => diags.push(Diagnostic::error("Invalid providers map", "The `providers` argument is a map.").with_span(a.expr.span())),
        }
    }
    let dir = normalize(&m.dir.join(&source));
    m.module_calls.insert(
        name.clone(),
        ModuleCall { name, span, source, source_span: source_attr.expr.span(), dir, count, for_each, depends_on, providers, inputs: body.attrs },
    );
}

/// Resolves `.` and `..` lexically so that module paths display cleanly.
fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            c => out.push(c),
        }
    }
    if out.as_os_str().is_empty() {
        out.push(".");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(src: &str) -> (Config, Diagnostics) {
        let (c, d) = load_dir_with_files(Path::new("."), vec![("main.tf".into(), src.into())]);
        (c.unwrap(), d)
    }

    #[test]
    fn loads_every_block_kind() {
        let (c, d) = load(
            r#"
terraform {
  required_providers {
    aws = { source = "hashicorp/aws", version = "~> 5.0" }
  }
  backend "local" { path = "x.tfstate" }
}
provider "aws" { region = "eu-west-1" }
provider "aws" {
  alias  = "west"
  region = "us-west-2"
}
variable "n" {
  type    = number
  default = 2
  validation {
    condition     = var.n > 0
    error_message = "Must be positive."
  }
}
locals { a = 1 }
resource "aws_instance" "web" {
  count    = var.n
  provider = aws.west
  ami      = "ami-1"
  lifecycle {
    create_before_destroy = true
    ignore_changes        = [tags]
  }
}
data "aws_ami" "u" {}
output "o" {
  value     = local.a
  sensitive = true
}
moved {
  from = aws_instance.old
  to   = aws_instance.web
}
"#,
        );
        assert!(d.is_empty(), "{d}");
        let m = &c.module;
        assert_eq!(m.providers.len(), 2);
        assert_eq!(m.providers[1].key(), "aws.west");
        assert_eq!(m.variables["n"].validations.len(), 1);
        let r = &m.resources[&Resource::managed("aws_instance", "web")];
        assert!(r.count.is_some());
        assert_eq!(r.provider_ref().key(), "aws.west");
        assert!(r.lifecycle.create_before_destroy);
        assert!(matches!(r.lifecycle.ignore_changes, IgnoreChanges::Attrs(ref a) if a[0].0 == "tags"));
        assert_eq!(r.body.attrs.len(), 1, "meta-arguments are taken out of the body");
        assert!(m.resources.contains_key(&Resource::data("aws_ami", "u")));
        assert!(m.outputs["o"].sensitive);
        assert_eq!(m.moved.len(), 1);
        assert_eq!(m.terraform.backend.as_ref().unwrap().kind, "local");
    }

    #[test]
    fn unknown_block_and_argument_have_spans() {
        let (_, d) = load("resourse \"a\" \"b\" {}\nvariable \"x\" {\n  tpye = string\n}\n");
        assert_eq!(d.len(), 2, "{d}");
        let first = &d.0[0];
        assert_eq!(first.summary, "Unsupported block type");
        assert_eq!(first.span.as_ref().unwrap().text(), "resourse");
        assert_eq!(first.help.as_deref(), Some("Did you mean \"resource\"?"));
        assert_eq!(d.0[1].span.as_ref().unwrap().text(), "tpye");
        assert_eq!(d.0[1].help.as_deref(), Some("Did you mean \"type\"?"));
    }

    #[test]
    fn syntax_error_points_at_location() {
        let (_, d) = load("locals {\n  a = \n}\n");
        assert_eq!(d.len(), 1);
        assert_eq!(d.0[0].summary, "Invalid syntax");
        let (line, _) = d.0[0].span.as_ref().unwrap().file.line_col(d.0[0].span.as_ref().unwrap().start);
        assert!(line >= 2, "line {line}");
    }

    #[test]
    fn duplicates_are_reported_with_both_places() {
        let (_, d) = load("locals {\n a = 1\n}\nlocals {\n a = 2\n}\n");
        assert_eq!(d.len(), 1);
        assert_eq!(d.0[0].related.len(), 1);
    }

    #[test]
    fn remote_module_source_is_refused_with_hint() {
        let (_, d) = load("module \"m\" {\n  source = \"hashicorp/consul/aws\"\n}\n");
        assert_eq!(d.0[0].summary, "Unsupported module source");
        assert!(d.0[0].help.is_some());
    }
}
