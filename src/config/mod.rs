//! Static configuration: the `*.tf` files of a directory and its module tree, parsed
//! with hcl-edit into a typed model that keeps every span.
//!
//! Owns loading (`load`), the model types below, and structural checks (unknown blocks
//! and arguments, duplicates, meta-arguments). It never evaluates an expression: values
//! are `lang`'s job, and the engine decides when to evaluate what.

pub mod load;

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, OnceLock};

use hcl_edit::expr::Expression;
use hcl_edit::Span as _;

use crate::addrs::{ModulePath, Resource, ResourceMode};
use crate::diag::{Diagnostic, SourceFile, Span};

pub use load::{load_dir, load_dir_with_files};

/// An unevaluated expression: the file it came from and where it is in it.
///
/// The syntax tree is not kept with the configuration: hcl-edit's tree of an
/// expression is about seventy times the size of its text (spans, decor, one heap node
/// per sub-expression), and most expressions of a configuration (a root module's locals,
/// outputs, resource arguments) are evaluated once. `load` parses every expression once
/// to check its syntax and keeps only its range; `syntax` parses it again when the
/// engine needs it, and keeps the tree once an expression has been asked for more than
/// `Expr::PARSES_BEFORE_CACHING` times (a module's expressions, evaluated once per
/// instance). Clones share the cache.
#[derive(Clone, Debug)]
pub struct Expr {
    pub file: Arc<SourceFile>,
    /// The expression's text in `file`, without surrounding whitespace or comments.
    pub range: Range<usize>,
    cache: Arc<SyntaxCache>,
}

#[derive(Debug, Default)]
struct SyntaxCache {
    tree: OnceLock<Arc<Expression>>,
    parses: AtomicU32,
}

impl Expr {
    /// How many times an expression is parsed before its tree is kept: twice covers the
    /// common "find its references, then evaluate it once".
    pub const PARSES_BEFORE_CACHING: u32 = 2;

    /// The expression at `range` of `file`, which has been parsed successfully before
    /// (`load` does so for every expression of a configuration).
    pub fn at(file: &Arc<SourceFile>, range: Range<usize>) -> Expr {
        Expr { file: file.clone(), range, cache: Arc::default() }
    }

    /// An expression already parsed from the whole of `file` (a `-var` value, console
    /// input): its tree is kept.
    pub fn parsed(file: Arc<SourceFile>, expr: Expression) -> Expr {
        Expr::parsed_at(&file, expr)
    }

    /// An expression of `file` whose tree (spans relative to the start of `file`) is
    /// already built: kept.
    pub fn parsed_at(file: &Arc<SourceFile>, expr: Expression) -> Expr {
        let range = expr.span().unwrap_or(0..file.text.len());
        let cache = SyntaxCache { tree: OnceLock::from(Arc::new(expr)), parses: AtomicU32::new(0) };
        Expr { file: file.clone(), range, cache: Arc::new(cache) }
    }

    /// A sub-expression of this one (its own range in the same file).
    pub fn part(&self, sub: &Expression) -> Expr {
        Expr::at(&self.file, sub.span().unwrap_or(self.range.clone()))
    }

    pub fn span(&self) -> Span {
        Span::new(&self.file, self.range.clone())
    }

    /// The expression's syntax tree, spans relative to the start of `file`.
    pub fn syntax(&self) -> Result<Arc<Expression>, Diagnostic> {
        if let Some(tree) = self.cache.tree.get() {
            return Ok(tree.clone());
        }
        let tree = crate::lang::parse_expr_in(&self.file.text, self.range.clone()).map_err(|e| {
            // Not expected: the text parsed when the configuration was loaded.
            let off = e.location().offset().clamp(self.range.start, self.range.end);
            Diagnostic::error("Invalid expression", crate::config::load::syntax_message(e.message()))
                .with_span(Span::new(&self.file, off..(off + 1).min(self.range.end)))
        })?;
        let tree = Arc::new(tree);
        if self.cache.parses.fetch_add(1, Ordering::Relaxed) >= Self::PARSES_BEFORE_CACHING {
            let _ = self.cache.tree.set(tree.clone());
        }
        Ok(tree)
    }
}

/// An argument (`name = expr`) with its spans.
#[derive(Clone, Debug)]
pub struct Attr {
    pub name: String,
    pub name_span: Span,
    pub expr: Expr,
    /// The whole `name = expr`.
    pub span: Span,
}

/// A nested block inside a body.
#[derive(Clone, Debug)]
pub struct BlockCfg {
    pub ident: String,
    pub labels: Vec<String>,
    pub ident_span: Span,
    /// One per label, quotes included.
    pub label_spans: Vec<Span>,
    pub body: Body,
    pub span: Span,
}

/// A block body: arguments and nested blocks in source order.
#[derive(Clone, Debug, Default)]
pub struct Body {
    pub attrs: Vec<Attr>,
    pub blocks: Vec<BlockCfg>,
}

impl Body {
    pub fn attr(&self, name: &str) -> Option<&Attr> {
        self.attrs.iter().find(|a| a.name == name)
    }
    pub fn blocks_of<'a>(&'a self, ident: &'a str) -> impl Iterator<Item = &'a BlockCfg> + 'a {
        self.blocks.iter().filter(move |b| b.ident == ident)
    }
}

#[derive(Clone, Debug)]
pub struct Validation {
    pub condition: Expr,
    pub error_message: Expr,
}

#[derive(Clone, Debug)]
pub struct Variable {
    pub name: String,
    pub span: Span,
    pub type_expr: Option<Expr>,
    pub default: Option<Expr>,
    pub description: Option<String>,
    pub sensitive: bool,
    pub nullable: bool,
    pub validations: Vec<Validation>,
}

#[derive(Clone, Debug)]
pub struct Local {
    pub name: String,
    pub expr: Expr,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct Output {
    pub name: String,
    pub span: Span,
    pub value: Expr,
    pub description: Option<String>,
    pub sensitive: bool,
    pub depends_on: Vec<Expr>,
}

#[derive(Clone, Debug)]
pub struct ProviderConfig {
    pub name: String,
    pub alias: Option<String>,
    pub span: Span,
    /// The arguments and blocks, without `alias`.
    pub body: Body,
}

impl ProviderConfig {
    /// `name` or `name.alias`.
    pub fn key(&self) -> String {
        match &self.alias {
            Some(a) => format!("{}.{}", self.name, a),
            None => self.name.clone(),
        }
    }
}

/// A reference to a provider configuration: `aws` or `aws.west`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ProviderRef {
    pub name: String,
    pub alias: Option<String>,
}

impl ProviderRef {
    pub fn key(&self) -> String {
        match &self.alias {
            Some(a) => format!("{}.{}", self.name, a),
            None => self.name.clone(),
        }
    }
}

#[derive(Clone, Debug)]
pub struct ModuleCall {
    pub name: String,
    pub span: Span,
    pub source: String,
    pub source_span: Span,
    /// The directory the source resolves to.
    pub dir: PathBuf,
    pub count: Option<Expr>,
    pub for_each: Option<Expr>,
    pub depends_on: Vec<Expr>,
    /// `providers = { child_key = parent_key }`.
    pub providers: Vec<(ProviderRef, ProviderRef)>,
    /// Input variables, by name.
    pub inputs: Vec<Attr>,
}

#[derive(Clone, Debug, Default)]
pub enum IgnoreChanges {
    #[default]
    None,
    All,
    Attrs(Vec<(String, Span)>),
}

#[derive(Clone, Debug, Default)]
pub struct Lifecycle {
    pub create_before_destroy: bool,
    pub prevent_destroy: bool,
    pub prevent_destroy_span: Option<Span>,
    pub ignore_changes: IgnoreChanges,
    pub replace_triggered_by: Vec<Expr>,
}

#[derive(Clone, Debug)]
pub struct Provisioner {
    pub kind: String,
    pub span: Span,
    pub body: Body,
    pub when_destroy: bool,
    pub on_failure_continue: bool,
    pub connection: Option<Body>,
}

#[derive(Clone, Debug)]
pub struct ResourceConfig {
    pub addr: Resource,
    /// The `resource "type" "name"` header.
    pub span: Span,
    pub provider: Option<ProviderRef>,
    pub provider_span: Option<Span>,
    pub count: Option<Expr>,
    pub for_each: Option<Expr>,
    pub depends_on: Vec<Expr>,
    pub lifecycle: Lifecycle,
    /// The arguments and blocks the provider's schema decodes (no meta-arguments).
    pub body: Body,
    pub connection: Option<Body>,
    pub provisioners: Vec<Provisioner>,
}

impl ResourceConfig {
    /// The provider configuration this resource uses (explicit, or implied by its type).
    pub fn provider_ref(&self) -> ProviderRef {
        self.provider
            .clone()
            .unwrap_or_else(|| ProviderRef { name: self.addr.implied_provider().to_string(), alias: None })
    }
    pub fn is_data(&self) -> bool {
        self.addr.mode == ResourceMode::Data
    }
}

#[derive(Clone, Debug)]
pub struct Moved {
    pub from: Expr,
    pub to: Expr,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct RequiredProvider {
    pub source: String,
    pub version: Option<String>,
}

#[derive(Clone, Debug)]
pub struct BackendConfig {
    pub kind: String,
    pub span: Span,
    pub body: Body,
}

#[derive(Clone, Debug, Default)]
pub struct TerraformBlock {
    pub required_providers: BTreeMap<String, RequiredProvider>,
    pub required_version: Option<String>,
    pub backend: Option<BackendConfig>,
    /// The raw `encryption` block (state encryption), when present.
    pub encryption: Option<BlockCfg>,
}

/// One module: the files of one directory.
#[derive(Clone, Debug, Default)]
pub struct Module {
    pub dir: PathBuf,
    pub files: Vec<Arc<SourceFile>>,
    pub terraform: TerraformBlock,
    pub variables: BTreeMap<String, Variable>,
    pub locals: BTreeMap<String, Local>,
    pub outputs: BTreeMap<String, Output>,
    pub providers: Vec<ProviderConfig>,
    pub module_calls: BTreeMap<String, ModuleCall>,
    pub resources: BTreeMap<Resource, ResourceConfig>,
    pub moved: Vec<Moved>,
}

/// The module tree rooted at the working directory.
#[derive(Clone, Debug)]
pub struct Config {
    pub path: ModulePath,
    pub module: Module,
    pub children: BTreeMap<String, Config>,
}

impl Config {
    /// The module at a static path.
    pub fn descendant(&self, path: &ModulePath) -> Option<&Config> {
        let mut c = self;
        for name in &path.0 {
            c = c.children.get(name)?;
        }
        Some(c)
    }
    /// Every module in the tree, parents before children.
    pub fn all(&self) -> Vec<&Config> {
        let mut out = vec![self];
        let mut i = 0;
        while i < out.len() {
            let c = out[i];
            out.extend(c.children.values());
            i += 1;
        }
        out
    }
    /// Every source file in the tree (for digests and `fmt`).
    pub fn files(&self) -> Vec<Arc<SourceFile>> {
        self.all().iter().flat_map(|c| c.module.files.iter().cloned()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hcl_edit::structure::{Body as HclBody, Structure};
    use hcl_edit::Decorate;

    /// Every configuration text in the repository (examples, modules, test fixtures, the
    /// fmt corpus): the outline parse must fail exactly where the full parse fails, and
    /// otherwise every attribute's expression, kept by the outline or rebuilt alone from
    /// its span, must equal the tree the full parse built (spans included: both point
    /// into the whole file).
    #[test]
    fn every_expression_rebuilds_as_the_whole_file_parsed_it() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = Vec::new();
        for dir in ["examples", "modules", "tests"] {
            collect(&root.join(dir), &mut files);
        }
        assert!(files.len() > 500, "found only {} files", files.len());
        let (mut parsed, mut failed, mut exprs) = (0, 0, 0);
        for path in files {
            let Ok(text) = std::fs::read_to_string(&path) else { continue };
            let full = crate::lang::parse_body(&text);
            let outline = crate::lang::parse_body_outline(&text);
            match (full, outline) {
                (Ok(full), Ok(outline)) => {
                    parsed += 1;
                    exprs += compare(&full, &outline, &text, &path);
                    // In pieces, the same structures.
                    for n in [2, 3, 7] {
                        let pieces = crate::lang::parse_body_outline_pieces(&text, n).unwrap();
                        let joined: Vec<String> = pieces.iter().flat_map(|b| b.iter()).map(|s| format!("{:?}", s.span())).collect();
                        let whole: Vec<String> = outline.iter().map(|s| format!("{:?}", s.span())).collect();
                        assert_eq!(joined, whole, "{} in {n} pieces", path.display());
                        for (piece, s) in pieces.iter().flat_map(|b| b.iter()).zip(outline.iter()) {
                            // Structures compare without their decor (leading blank lines).
                            let (mut a, mut b) = (piece.clone(), s.clone());
                            a.decor_mut().clear();
                            b.decor_mut().clear();
                            assert_eq!(format!("{a:?}"), format!("{b:?}"), "{} in {n} pieces", path.display());
                        }
                    }
                }
                (Err(a), Err(b)) => {
                    failed += 1;
                    assert_eq!((a.location().offset(), a.message()), (b.location().offset(), b.message()), "{}", path.display());
                }
                (a, b) => panic!("{}: full parse {:?}, outline {:?}", path.display(), a.err(), b.err()),
            }
        }
        assert!(parsed > 400 && failed > 10 && exprs > 3000, "{parsed} parsed, {failed} failed, {exprs} expressions");
    }

    fn collect(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        let Ok(rd) = std::fs::read_dir(dir) else { return };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                collect(&p, out);
            } else if matches!(p.extension().and_then(|x| x.to_str()), Some("tf" | "in" | "out" | "tfvars")) {
                out.push(p);
            }
        }
    }

    fn compare(full: &HclBody, outline: &HclBody, text: &str, path: &std::path::Path) -> usize {
        assert_eq!(full.len(), outline.len(), "{}", path.display());
        let mut n = 0;
        for (a, b) in full.iter().zip(outline.iter()) {
            match (a, b) {
                (Structure::Attribute(a), Structure::Attribute(b)) => {
                    let range = b.value.span().expect("placeholder span");
                    assert_eq!(a.value.span(), Some(range.clone()), "{}", path.display());
                    let kept = !matches!(b.value, Expression::Null(_));
                    let small = crate::lang::is_small(&a.value) && !matches!(a.value, Expression::Null(_));
                    assert_eq!(kept, small, "{}: {:?}", path.display(), b.value);
                    let mut rebuilt = if kept { b.value.clone() } else { crate::lang::parse_expr_in(text, range).unwrap() };
                    let mut want = a.value.clone();
                    // The attribute's `= ` space is the only decor outside the range.
                    rebuilt.decor_mut().set_prefix("");
                    want.decor_mut().set_prefix("");
                    assert_eq!(format!("{rebuilt:?}"), format!("{want:?}"), "{}", path.display());
                    n += 1;
                }
                (Structure::Block(a), Structure::Block(b)) => {
                    assert_eq!((a.ident.as_str(), a.span()), (b.ident.as_str(), b.span()), "{}", path.display());
                    n += compare(&a.body, &b.body, text, path);
                }
                _ => panic!("{}: structures differ", path.display()),
            }
        }
        n
    }

    #[test]
    fn repeated_keys_and_late_errors_in_the_outline() {
        let text = "locals {\n  a = { k = 1, k = 2 }\n  b = <<EOT\n  x ${1 + 2}\nEOT\n}\nr \"t\" \"n\" { c = [1, 2] }\n";
        let full = crate::lang::parse_body(text).unwrap();
        let outline = crate::lang::parse_body_outline(text).unwrap();
        assert_eq!(compare(&full, &outline, text, std::path::Path::new("inline")), 3);
        // An error inside a value is the full parse's error.
        let bad = "a = 1\nb {\n  c = [1, 2\n}\n";
        let (e1, e2) = (crate::lang::parse_body(bad).unwrap_err(), crate::lang::parse_body_outline(bad).unwrap_err());
        assert_eq!((e1.location().offset(), e1.message()), (e2.location().offset(), e2.message()));
    }

    #[test]
    fn a_big_file_is_cut_only_between_top_level_structures() {
        let text = concat!(
            "a {\n  x = \"${ \"}\" }\n\"\n}\n",
            "# a comment { with a brace\n",
            "b {\n  y = <<EOT\n}\n\nEOT\n  z = \"$${\"\n}\n",
            "/* { */\n",
            "c { w = [\n 1,\n] }\n",
        );
        let starts: Vec<&str> = super::super::lang::top_level_lines_for_tests(text).iter().map(|&i| &text[i..(i + 3).min(text.len())]).collect();
        assert_eq!(starts, ["# a", "b {", "/* ", "c {", ""]);
        let whole = crate::lang::parse_body_outline(text).unwrap();
        for n in 2..6 {
            let pieces = crate::lang::parse_body_outline_pieces(text, n).unwrap();
            assert!(pieces.len() > 1);
            assert_eq!(pieces.iter().map(|b| b.len()).sum::<usize>(), whole.len());
        }
        // A piece that does not parse: the whole file's error.
        let bad = "a {\n}\nb {\n  x = [1,\n}\nc {\n}\n";
        let e = crate::lang::parse_body_outline_pieces(bad, 3).unwrap_err();
        assert_eq!(e.location().offset(), crate::lang::parse_body_outline(bad).unwrap_err().location().offset());
        // A top-level argument repeated in two pieces: the whole file's error too.
        let dup = "a = 1\nb {\n}\na = 2\n";
        assert!(crate::lang::parse_body_outline_pieces(dup, 3).is_err());
    }

    #[test]
    fn a_tree_is_kept_from_the_third_parse_on() {
        let file = SourceFile::new("t.tf", "x = upper(\"a\")\n");
        let e = Expr::at(&file, 4..14);
        let first = e.syntax().unwrap();
        let second = e.syntax().unwrap();
        assert!(!Arc::ptr_eq(&first, &second), "kept after one parse");
        let third = e.syntax().unwrap();
        let fourth = e.clone().syntax().unwrap();
        assert!(Arc::ptr_eq(&third, &fourth), "not kept after {} parses", Expr::PARSES_BEFORE_CACHING + 1);
        assert_eq!(third.span(), Some(4..14));
        // A tree built elsewhere is kept from the start.
        let file = SourceFile::new("<value>", "[1, 2]");
        let e = Expr::parsed(file.clone(), crate::lang::parse_expr(&file.text).unwrap());
        assert!(Arc::ptr_eq(&e.syntax().unwrap(), &e.syntax().unwrap()));
        assert_eq!(e.range, 0..6);
    }
}
