//! Evaluation state of one walk: the values computed so far per module instance, the
//! `Scope` that answers references from them, and decoding of block bodies against
//! provider schemas (including `dynamic` blocks).

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use crate::addrs::{AbsResource, InstanceKey, ModuleInstance, ModulePath, Resource};
use crate::config::{Body, Config};
use crate::diag::{Diagnostic, Diagnostics, Span};
use crate::lang::convert;
use crate::lang::eval::{eval_with, RefRoot, Scope};
use crate::lang::funcs::FuncCtx;
use crate::lang::value::{Type, Value};
use crate::providers::{BlockSchema, Nesting, Provider};

/// How a resource or module call expands into instances.
#[derive(Clone, Debug)]
pub enum Expansion {
    Single,
    Count(i64),
    ForEach(BTreeMap<String, Value>),
}

impl Expansion {
    pub fn keys(&self) -> Vec<InstanceKey> {
        match self {
            Expansion::Single => vec![InstanceKey::None],
            Expansion::Count(n) => (0..*n).map(InstanceKey::Int).collect(),
            Expansion::ForEach(m) => m.keys().map(|k| InstanceKey::Str(k.clone())).collect(),
        }
    }
    /// The `count.index` / `each` binding of one key.
    pub fn binding(&self, key: &InstanceKey) -> Binding {
        match (self, key) {
            (Expansion::Count(_), InstanceKey::Int(i)) => Binding { count: Some(*i), each: None },
            (Expansion::ForEach(m), InstanceKey::Str(k)) => Binding { count: None, each: Some((Value::String(k.clone()), m.get(k).cloned().unwrap_or(Value::null()))) },
            _ => Binding::default(),
        }
    }
    /// Builds the value a reference to the whole resource or call sees.
    pub fn collect(&self, mut get: impl FnMut(&InstanceKey) -> Value) -> Value {
        match self {
            Expansion::Single => get(&InstanceKey::None),
            Expansion::Count(n) => Value::Tuple((0..*n).map(|i| get(&InstanceKey::Int(i))).collect()),
            Expansion::ForEach(m) => Value::Object(m.keys().map(|k| (k.clone(), get(&InstanceKey::Str(k.clone())))).collect()),
        }
    }
}

/// `count.index` and `each.*` for one instance.
#[derive(Clone, Debug, Default)]
pub struct Binding {
    pub count: Option<i64>,
    pub each: Option<(Value, Value)>,
}

#[derive(Clone, Default)]
pub struct ResourceVals {
    pub expansion: Option<Expansion>,
    pub values: BTreeMap<InstanceKey, Value>,
}

/// Everything computed so far in a walk. Cloned as a snapshot for provisioners, which
/// are evaluated after their instance is created, off the walk.
#[derive(Clone, Default)]
pub struct Store {
    pub vars: HashMap<(ModuleInstance, String), Value>,
    pub locals: HashMap<(ModuleInstance, String), Value>,
    pub outputs: HashMap<(ModuleInstance, String), Value>,
    /// The instances of each module in the tree (root: just the root).
    pub module_instances: HashMap<ModulePath, Vec<ModuleInstance>>,
    pub calls: HashMap<(ModuleInstance, String), Expansion>,
    /// The binding each child module instance's call arguments are evaluated with.
    pub call_bindings: HashMap<ModuleInstance, Binding>,
    pub resources: HashMap<AbsResource, ResourceVals>,
    pub providers: HashMap<(ModulePath, String), Arc<dyn Provider>>,
    /// Built whole-resource and whole-module values, dropped when their parts change, so
    /// that many references to one large resource or module call stay linear.
    cache_res: RefCell<HashMap<AbsResource, Value>>,
    cache_mod: RefCell<HashMap<(ModuleInstance, String), Value>>,
}

impl Store {
    pub fn new() -> Store {
        let mut s = Store::default();
        s.module_instances.insert(ModulePath::root(), vec![ModuleInstance::root()]);
        s
    }
    pub fn instances_of(&self, m: &ModulePath) -> Vec<ModuleInstance> {
        self.module_instances.get(m).cloned().unwrap_or_default()
    }
    pub fn invalidate_resource(&self, a: &AbsResource) {
        self.cache_res.borrow_mut().remove(a);
    }
    pub fn invalidate_module_outputs(&self, child_path: &ModulePath) {
        let Some(name) = child_path.0.last() else { return };
        self.cache_mod.borrow_mut().retain(|(_, n), _| n != name);
    }
    pub fn set_resource_value(&mut self, a: &AbsResource, key: InstanceKey, v: Value) {
        self.resources.entry(a.clone()).or_default().values.insert(key, v);
        self.invalidate_resource(a);
    }
}

/// Answers references for one module instance (and one resource instance's binding).
pub struct EvalScope<'a> {
    pub config: &'a Config,
    pub store: &'a Store,
    pub module: &'a ModuleInstance,
    pub binding: Binding,
    pub self_value: Option<Value>,
    pub cwd: &'a std::path::Path,
    /// Validate mode: every reference is unknown.
    pub all_unknown: bool,
    pub impure_unknown: bool,
}

impl<'a> EvalScope<'a> {
    fn module_config(&self) -> Option<&'a Config> {
        self.config.descendant(&self.module.static_path())
    }
}

impl Scope for EvalScope<'_> {
    fn resolve(&self, root: &RefRoot, span: &Span) -> Result<Value, Diagnostic> {
        let not_here = |what: &str, detail: &str| Err(Diagnostic::error(what, detail).with_span(span.clone()));
        match root {
            RefRoot::CountIndex => {
                return match self.binding.count {
                    Some(i) => Ok(Value::int(i)),
                    None if self.all_unknown => Ok(Value::Unknown(Type::Number)),
                    None => not_here("Reference to \"count\" in non-counted context", "The \"count\" object can only be used in \"module\", \"resource\", and \"data\" blocks, and only when the \"count\" argument is set."),
                }
            }
            RefRoot::EachKey | RefRoot::EachValue => {
                return match &self.binding.each {
                    Some((k, v)) => Ok(if *root == RefRoot::EachKey { k.clone() } else { v.clone() }),
                    None if self.all_unknown => Ok(Value::unknown()),
                    None => not_here("Reference to \"each\" in context without for_each", "The \"each\" object can be used only in \"module\" or \"resource\" blocks, and only when the \"for_each\" argument is set."),
                }
            }
            RefRoot::SelfRef => {
                return match &self.self_value {
                    Some(v) => Ok(v.clone()),
                    None if self.all_unknown => Ok(Value::unknown()),
                    None => not_here("Invalid \"self\" reference", "The \"self\" object is not available here: it can be used only in provisioner and connection blocks."),
                }
            }
            RefRoot::Path(p) => {
                return match p.as_str() {
                    "module" => Ok(Value::String(self.module_config().map(|c| relative_dir(&c.module.dir, self.cwd)).unwrap_or_else(|| ".".into()))),
                    "root" => Ok(Value::string(".")),
                    "cwd" => Ok(Value::String(self.cwd.to_string_lossy().to_string())),
                    other => not_here("Invalid \"path\" attribute", &format!("The \"path\" object has no attribute \"{other}\"; use path.module, path.root or path.cwd.")),
                }
            }
            RefRoot::Terraform(a) => {
                return match a.as_str() {
                    "workspace" => Ok(Value::string("default")),
                    other => not_here("Invalid \"terraform\" attribute", &format!("The \"terraform\" object has no attribute \"{other}\"; only terraform.workspace exists.")),
                }
            }
            _ => {}
        }
        if self.all_unknown {
            return Ok(Value::unknown());
        }
        let cfg = self.module_config();
        match root {
            RefRoot::Var(n) => match self.store.vars.get(&(self.module.clone(), n.clone())) {
                Some(v) => Ok(v.clone()),
                None if cfg.map(|c| c.module.variables.contains_key(n)).unwrap_or(false) => Ok(Value::unknown()),
                None => not_here("Reference to undeclared input variable", &format!("An input variable named \"{n}\" has not been declared.")),
            },
            RefRoot::Local(n) => match self.store.locals.get(&(self.module.clone(), n.clone())) {
                Some(v) => Ok(v.clone()),
                None if cfg.map(|c| c.module.locals.contains_key(n)).unwrap_or(false) => Ok(Value::unknown()),
                None => not_here("Reference to undeclared local value", &format!("A local value named \"{n}\" has not been declared.")),
            },
            RefRoot::Module(n) => {
                let Some(child) = cfg.and_then(|c| c.children.get(n)) else {
                    return not_here("Reference to undeclared module", &format!("No module call named \"{n}\" is declared in this module."));
                };
                let key = (self.module.clone(), n.clone());
                if let Some(v) = self.store.cache_mod.borrow().get(&key) {
                    return Ok(v.clone());
                }
                let Some(exp) = self.store.calls.get(&key) else { return Ok(Value::unknown()) };
                let v = exp.collect(|k| module_instance_value(self.store, child, &self.module.child(n, k.clone())));
                self.store.cache_mod.borrow_mut().insert(key, v.clone());
                Ok(v)
            }
            RefRoot::Resource { mode, type_, name } => {
                let res = Resource { mode: *mode, type_: type_.clone(), name: name.clone() };
                if !cfg.map(|c| c.module.resources.contains_key(&res)).unwrap_or(false) {
                    return not_here("Reference to undeclared resource", &format!("A resource \"{type_}\" \"{name}\" has not been declared in this module."));
                }
                let abs = AbsResource { module: self.module.clone(), resource: res };
                if let Some(v) = self.store.cache_res.borrow().get(&abs) {
                    return Ok(v.clone());
                }
                let Some(rv) = self.store.resources.get(&abs) else { return Ok(Value::unknown()) };
                let Some(exp) = &rv.expansion else { return Ok(Value::unknown()) };
                let v = exp.collect(|k| rv.values.get(k).cloned().unwrap_or_else(Value::unknown));
                self.store.cache_res.borrow_mut().insert(abs, v.clone());
                Ok(v)
            }
            _ => Ok(Value::unknown()),
        }
    }

    fn resolve_index(&self, root: &RefRoot, key: &Value, _span: &Span) -> Option<Value> {
        if self.all_unknown {
            return None;
        }
        let cfg = self.module_config()?;
        match root {
            RefRoot::Resource { mode, type_, name } => {
                let res = Resource { mode: *mode, type_: type_.clone(), name: name.clone() };
                if !cfg.module.resources.contains_key(&res) {
                    return None;
                }
                let abs = AbsResource { module: self.module.clone(), resource: res };
                let rv = self.store.resources.get(&abs)?;
                let k = instance_key(rv.expansion.as_ref()?, key)?;
                Some(rv.values.get(&k).cloned().unwrap_or_else(Value::unknown))
            }
            RefRoot::Module(n) => {
                let child = cfg.children.get(n)?;
                let k = instance_key(self.store.calls.get(&(self.module.clone(), n.clone()))?, key)?;
                Some(module_instance_value(self.store, child, &self.module.child(n, k)))
            }
            _ => None,
        }
    }

    fn func_ctx(&self) -> FuncCtx<'_> {
        FuncCtx { cwd: self.cwd, impure_unknown: self.impure_unknown }
    }
}

/// The instance `key` selects in an expansion, when it is a plain known key of it (an
/// in-range whole number for count, an existing string key for for_each).
fn instance_key(exp: &Expansion, key: &Value) -> Option<InstanceKey> {
    match (exp, key) {
        (Expansion::Count(n), Value::Number(num)) => num.as_i64().filter(|i| (0..*n).contains(i)).map(InstanceKey::Int),
        (Expansion::ForEach(m), Value::String(s)) if m.contains_key(s) => Some(InstanceKey::Str(s.clone())),
        _ => None,
    }
}

/// The object a module instance's outputs form (unknown where not yet evaluated).
fn module_instance_value(store: &Store, child: &Config, ci: &ModuleInstance) -> Value {
    Value::Object(child.module.outputs.keys().map(|o| (o.clone(), store.outputs.get(&(ci.clone(), o.clone())).cloned().unwrap_or_else(Value::unknown))).collect())
}

/// `path.module` as Terraform gives it: relative to the working directory, `.` for it.
fn relative_dir(dir: &std::path::Path, cwd: &std::path::Path) -> String {
    let rel = dir.strip_prefix(cwd).unwrap_or(dir);
    let s = rel.to_string_lossy().trim_start_matches("./").to_string();
    if s.is_empty() || s == "." {
        ".".into()
    } else {
        s
    }
}

/// Decodes a block body against a schema into an object value: every schema attribute
/// (null when unset), nested blocks as lists/sets/objects, `dynamic` blocks expanded.
/// Problems (unknown arguments, missing required ones, type mismatches) are diagnostics
/// with spans.
pub fn decode_body(body: &Body, schema: &BlockSchema, scope: &dyn Scope, bound: &[(String, Value)], header: &Span, what: &str, diags: &mut Diagnostics) -> Value {
    let mut out = BTreeMap::new();
    for a in &body.attrs {
        let Some(s) = schema.attributes.get(&a.name) else {
            if schema.blocks.contains_key(&a.name) {
                diags.push(
                    Diagnostic::error("Unsupported argument", format!("An argument named \"{}\" is not expected here. Did you mean to define a block of type \"{}\"?", a.name, a.name))
                        .with_span(a.name_span.clone())
                        .with_help(format!("Write it as a block: `{} {{ ... }}`.", a.name)),
                );
                continue;
            }
            let names: Vec<&str> = schema.attributes.keys().map(|s| s.as_str()).collect();
            let mut d = Diagnostic::error("Unsupported argument", format!("An argument named \"{}\" is not expected in {what}.", a.name)).with_span(a.name_span.clone());
            if let Some(s) = crate::config::load::did_you_mean(&a.name, &names) {
                d = d.with_help(format!("Did you mean \"{s}\"?"));
            }
            diags.push(d);
            continue;
        };
        if s.computed && !s.optional && !s.required {
            diags.push(Diagnostic::error("Invalid or unknown key", format!("The argument \"{}\" is computed by the provider and cannot be set in {what}.", a.name)).with_span(a.name_span.clone()));
            continue;
        }
        match eval_with(&a.expr, scope, bound.to_vec()) {
            Ok(v) => {
                let v = if v.is_unknown() && s.ty != Type::Dynamic {
                    Value::Unknown(s.ty.clone()).with_mark(v.unmark().1)
                } else {
                    match convert::convert(&v, &s.ty) {
                        Ok(c) => c,
                        Err(e) => {
                            diags.push(Diagnostic::error("Incorrect attribute value type", format!("Inappropriate value for attribute \"{}\": {e}.", a.name)).with_span(a.expr.span()));
                            continue;
                        }
                    }
                };
                out.insert(a.name.clone(), v);
            }
            Err(d) => diags.push(d),
        }
    }
    for (name, s) in &schema.attributes {
        if !out.contains_key(name) {
            if s.required && !body.attrs.iter().any(|a| &a.name == name) {
                diags.push(Diagnostic::error("Missing required argument", format!("The argument \"{name}\" is required, but no definition was found in {what}.")).with_span(header.clone()));
            }
            out.insert(name.clone(), Value::Null(s.ty.clone()));
        }
    }
    // Nested blocks, static and dynamic, in source order.
    let mut blocks: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    // Block types a `dynamic` block with an unknown `for_each` generates: their whole
    // value is unknown (HCL's hcldec: any unknown block body makes the list unknown).
    let mut unknown: std::collections::BTreeSet<String> = Default::default();
    for b in &body.blocks {
        if b.ident == "dynamic" {
            match expand_dynamic(b, schema, scope, bound, what, diags) {
                Dynamic::Blocks(name, vals) => blocks.entry(name).or_default().extend(vals),
                Dynamic::Unknown(name) => {
                    unknown.insert(name);
                }
                Dynamic::Invalid => {}
            }
            continue;
        }
        let Some(bs) = schema.blocks.get(&b.ident) else {
            let names: Vec<&str> = schema.blocks.keys().map(|s| s.as_str()).collect();
            let mut d = Diagnostic::error("Unsupported block type", format!("Blocks of type \"{}\" are not expected in {what}.", b.ident)).with_span(b.ident_span.clone());
            if let Some(s) = crate::config::load::did_you_mean(&b.ident, &names) {
                d = d.with_help(format!("Did you mean \"{s}\"?"));
            }
            diags.push(d);
            continue;
        };
        let val = decode_body(&b.body, &bs.block, scope, bound, &b.ident_span, &format!("a \"{}\" block", b.ident), diags);
        blocks.entry(b.ident.clone()).or_default().push(val);
    }
    for (name, bs) in &schema.blocks {
        let items = blocks.remove(name).unwrap_or_default();
        if unknown.contains(name) {
            let ty = bs.block.value_type();
            let ty = match bs.nesting {
                Nesting::Single => ty,
                Nesting::List => Type::list(ty),
                Nesting::Set => Type::set(ty),
            };
            out.insert(name.clone(), Value::Unknown(ty));
            continue;
        }
        if items.len() < bs.min_items {
            diags.push(Diagnostic::error("Insufficient blocks", format!("At least {} \"{name}\" block{} required in {what}.", bs.min_items, if bs.min_items == 1 { " is" } else { "s are" })).with_span(header.clone()));
        }
        if bs.max_items > 0 && items.len() > bs.max_items {
            diags.push(Diagnostic::error("Too many blocks", format!("No more than {} \"{name}\" block{} allowed in {what}.", bs.max_items, if bs.max_items == 1 { " is" } else { "s are" })).with_span(header.clone()));
        }
        let v = match bs.nesting {
            Nesting::Single => items.into_iter().next().unwrap_or(Value::Null(bs.block.value_type())),
            Nesting::List => Value::List(items),
            Nesting::Set => Value::set_from(items),
        };
        out.insert(name.clone(), v);
    }
    Value::Object(out)
}

/// What one `dynamic` block generates.
enum Dynamic {
    /// The blocks of this type, in `for_each`'s order.
    Blocks(String, Vec<Value>),
    /// `for_each` is unknown: how many blocks, and what is in them, is not known yet.
    Unknown(String),
    /// The dynamic block itself is wrong (diagnostics pushed).
    Invalid,
}

/// Expands `dynamic "TYPE" { for_each = ..., iterator = NAME, content { ... } }` as
/// HCL's `ext/dynblock` does: one TYPE block per element of `for_each` (lists and tuples
/// in order with their index as key, sets in their order with the element as key, maps
/// and objects by key), its content evaluated with `NAME` (default: TYPE) bound to
/// `{key, value}` besides the enclosing dynamic blocks' iterators. A null or non-collection
/// `for_each` is an error; an unknown one still decodes `content` (with an unknown
/// iterator) so its mistakes are reported, and makes the whole TYPE value unknown.
fn expand_dynamic(b: &crate::config::BlockCfg, schema: &BlockSchema, scope: &dyn Scope, bound: &[(String, Value)], what: &str, diags: &mut Diagnostics) -> Dynamic {
    if b.labels.len() != 1 {
        let (summary, detail) = if b.labels.is_empty() {
            ("Missing type for dynamic", "All dynamic blocks must have 1 labels (type): the type of block to generate.")
        } else {
            ("Extraneous label for dynamic", "Only 1 labels (type) are expected for dynamic blocks.")
        };
        let span = b.label_spans.get(1).cloned().unwrap_or_else(|| b.ident_span.clone());
        diags.push(Diagnostic::error(summary, detail).with_span(span));
        return Dynamic::Invalid;
    }
    let name = &b.labels[0];
    let label_span = b.label_spans.first().cloned().unwrap_or_else(|| b.ident_span.clone());
    let Some(bs) = schema.blocks.get(name) else {
        let names: Vec<&str> = schema.blocks.keys().map(|s| s.as_str()).collect();
        let mut d = Diagnostic::error("Unsupported block type", format!("Blocks of type \"{name}\" are not expected in {what}.")).with_span(label_span);
        if let Some(s) = crate::config::load::did_you_mean(name, &names) {
            d = d.with_help(format!("Did you mean \"{s}\"?"));
        }
        diags.push(d);
        return Dynamic::Invalid;
    };
    // The dynamic block's own body: `for_each`, `iterator` and one `content` block.
    // Nested blocks have no labels in provider schemas, so there is no `labels` here.
    let before = diags.error_count();
    for a in &b.body.attrs {
        if !matches!(a.name.as_str(), "for_each" | "iterator") {
            diags.push(
                Diagnostic::error("Unsupported argument", format!("An argument named \"{}\" is not expected here.", a.name))
                    .with_span(a.name_span.clone())
                    .with_help(if a.name == "labels" {
                        format!("\"{name}\" blocks take no labels; a dynamic block takes only for_each, iterator and a content block.")
                    } else {
                        "A dynamic block takes only for_each, iterator and a content block.".to_string()
                    }),
            );
        }
    }
    for c in &b.body.blocks {
        if c.ident != "content" {
            diags.push(Diagnostic::error("Unsupported block type", format!("Blocks of type \"{}\" are not expected here.", c.ident)).with_span(c.ident_span.clone()).with_help(format!("Put the \"{name}\" block's contents inside `content {{ ... }}`.")));
        } else if let Some(l) = c.label_spans.first() {
            diags.push(Diagnostic::error("Extraneous label for content", "No labels are expected for content blocks.").with_span(l.clone()));
        }
    }
    let Some(fe) = b.body.attr("for_each") else {
        diags.push(Diagnostic::error("Missing required argument", "The argument \"for_each\" is required, but no definition was found.").with_span(b.ident_span.clone()).with_help("Give the collection to generate one block per element from: `for_each = var.rules`."));
        return Dynamic::Invalid;
    };
    if diags.error_count() > before {
        return Dynamic::Invalid;
    }
    let coll = match eval_with(&fe.expr, scope, bound.to_vec()) {
        Ok(v) => v,
        Err(d) => {
            diags.push(d);
            return Dynamic::Invalid;
        }
    };
    let (coll, marked) = coll.into_unmarked();
    let iterable = |t: &Type| matches!(t, Type::List(_) | Type::Set(_) | Type::Map(_) | Type::Tuple(_) | Type::Object(_) | Type::Dynamic);
    if !iterable(&coll.type_of()) {
        diags.push(Diagnostic::error("Invalid dynamic for_each value", format!("Cannot use a {} value in for_each. An iterable collection is required.", coll.friendly_type())).with_span(fe.expr.span()));
        return Dynamic::Invalid;
    }
    if coll.is_null() {
        diags.push(Diagnostic::error("Invalid dynamic for_each value", "Cannot use a null value in for_each.").with_span(fe.expr.span()).with_help("Use an empty collection (`[]` or `{}`) to generate no blocks."));
        return Dynamic::Invalid;
    }
    let iter = match b.body.attr("iterator") {
        None => name.clone(),
        Some(a) => match a.expr.syntax().ok().and_then(|t| crate::config::load::static_traversal(&t)) {
            Some(n) if n.len() == 1 => n[0].clone(),
            Some(_) => {
                diags.push(Diagnostic::error("Invalid dynamic iterator name", "Dynamic iterator must be a single variable name.").with_span(a.expr.span()));
                return Dynamic::Invalid;
            }
            None => {
                diags.push(Diagnostic::error("Invalid expression", "A single static variable reference is required: only attribute access and indexing with constant keys. No calculations, function calls, template expressions, etc are allowed here.").with_span(a.expr.span()).with_help("Write the iterator's name without quotes: `iterator = rule`."));
                return Dynamic::Invalid;
            }
        },
    };
    let mut contents = b.body.blocks_of("content");
    let Some(content) = contents.next() else {
        diags.push(Diagnostic::error("Missing dynamic content block", "A dynamic block must have a nested block of type \"content\" to describe the body of each generated block.").with_span(b.ident_span.clone()));
        return Dynamic::Invalid;
    };
    if let Some(extra) = contents.next() {
        diags.push(Diagnostic::error("Extraneous dynamic content block", "Only one nested content block is allowed for each dynamic block.").with_span(extra.ident_span.clone()));
        return Dynamic::Invalid;
    }
    let what_inner = format!("a \"{name}\" block");
    let generate = |k: Value, v: Value, diags: &mut Diagnostics| {
        let mut inner = bound.to_vec();
        inner.push((iter.clone(), Value::object([("key", k), ("value", v)])));
        decode_body(&content.body, &bs.block, scope, &inner, &content.ident_span, &what_inner, diags)
    };
    let items: Vec<(Value, Value)> = match coll {
        Value::Unknown(_) => {
            generate(Value::unknown(), Value::unknown(), diags);
            return Dynamic::Unknown(name.clone());
        }
        Value::List(v) | Value::Tuple(v) => v.into_iter().enumerate().map(|(i, x)| (Value::int(i as i64), x)).collect(),
        Value::Set(v) => v.into_iter().map(|x| (x.clone(), x)).collect(),
        Value::Map(m) | Value::Object(m) => m.into_iter().map(|(k, x)| (Value::String(k), x)).collect(),
        // Not iterable, or null: answered above.
        _ => return Dynamic::Invalid,
    };
    let vals = items.into_iter().map(|(k, v)| generate(k, v, diags).with_mark(marked)).collect();
    Dynamic::Blocks(name.clone(), vals)
}

/// Marks the schema's sensitive attributes, and attributes whose config was sensitive.
pub fn mark_sensitive(v: Value, schema: &BlockSchema, config: Option<&Value>) -> Value {
    let (v, marked) = v.into_unmarked();
    let Value::Object(m) = v else { return v.with_mark(marked) };
    let config_sensitive = |name: &str| config.and_then(|c| c.get_attr(name)).map(|c| c.contains_sensitive()).unwrap_or(false);
    // `sensitive_with` follows the configured attribute, or the value's own copy of it
    // when the marks come from the state (no configuration at hand).
    let follows: Vec<&str> = schema.attributes.iter().filter_map(|(k, a)| {
        let src = a.sensitive_with?;
        (config_sensitive(src) || m.get(src).map(|x| x.contains_sensitive()).unwrap_or(false)).then_some(k.as_str())
    }).collect();
    let out = m
        .into_iter()
        .map(|(k, x)| {
            let a = schema.attributes.get(&k);
            let sens = a.map(|a| a.sensitive).unwrap_or(false) || config_sensitive(&k) || follows.contains(&k.as_str());
            let x = if sens && !x.is_null() { x.mark_sensitive() } else { x };
            // Sensitive attributes of nested blocks (a connection block's private_key).
            let x = match schema.blocks.get(&k) {
                Some(b) => match x {
                    Value::List(items) => Value::List(items.into_iter().map(|i| mark_sensitive(i, &b.block, None)).collect()),
                    Value::Set(items) => Value::Set(items.into_iter().map(|i| mark_sensitive(i, &b.block, None)).collect()),
                    Value::Tuple(items) => Value::Tuple(items.into_iter().map(|i| mark_sensitive(i, &b.block, None)).collect()),
                    other => mark_sensitive(other, &b.block, None),
                },
                None => x,
            };
            (k, x)
        })
        .collect();
    Value::Object(out).with_mark(marked)
}

/// Re-types an untyped state value with the schema's type.
pub fn retype(v: &Value, schema: &BlockSchema) -> Value {
    Value::from_json_typed(&v.to_json(), &schema.value_type())
}
