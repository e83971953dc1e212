//! Static configuration: the `*.tf` files of a directory and its module tree, parsed
//! with hcl-edit into a typed model that keeps every span.
//!
//! Owns loading (`load`), the model types below, and structural checks (unknown blocks
//! and arguments, duplicates, meta-arguments). It never evaluates an expression: values
//! are `lang`'s job, and the engine decides when to evaluate what.

pub mod load;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use hcl_edit::expr::Expression;
use hcl_edit::Span as _;

use crate::addrs::{ModulePath, Resource, ResourceMode};
use crate::diag::{SourceFile, Span};

pub use load::{load_dir, load_dir_with_files};

/// An unevaluated expression and the file it came from.
#[derive(Clone, Debug)]
pub struct Expr {
    pub file: Arc<SourceFile>,
    pub expr: Expression,
}

impl Expr {
    pub fn span(&self) -> Span {
        Span::from_opt(&self.file, self.expr.span())
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
