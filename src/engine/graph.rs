//! Builds the engine's dependency graph from the configuration (and, for deletions, the
//! state), in explicit steps. Nodes are static: one per variable, local, output, module
//! call, provider configuration and resource of each module in the tree; the walk
//! expands them into instances.

use std::collections::BTreeMap;
use std::fmt;

use petgraph::graph::NodeIndex;

use crate::addrs::{ModulePath, Resource, ResourceMode};
use crate::config::{Config, Expr, ProviderRef};
use crate::diag::{Diagnostic, Diagnostics, Span};
use crate::graph::Graph;
use crate::lang::eval::{references, RefRoot};

/// A node of the engine's graph.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Node {
    /// A provider configuration: the module that declares (or implies) it, and its key.
    Provider(ModulePath, String),
    Variable(ModulePath, String),
    Local(ModulePath, String),
    ModuleCall(ModulePath, String),
    Resource(ModulePath, Resource),
    /// Deletion of the instances of a resource that the plan deletes or replaces.
    Destroy(ModulePath, Resource),
    Output(ModulePath, String),
}

fn prefix(m: &ModulePath) -> String {
    if m.is_root() {
        String::new()
    } else {
        format!("{m}.")
    }
}

impl fmt::Display for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Node::Provider(m, k) => {
                let (name, alias) = k.split_once('.').map(|(n, a)| (n, Some(a))).unwrap_or((k.as_str(), None));
                write!(f, "{}provider[\"terrane/{name}\"]{}", prefix(m), alias.map(|a| format!(".{a}")).unwrap_or_default())
            }
            Node::Variable(m, n) => write!(f, "{}var.{n}", prefix(m)),
            Node::Local(m, n) => write!(f, "{}local.{n}", prefix(m)),
            Node::ModuleCall(m, n) => write!(f, "{}module.{n}", prefix(m)),
            Node::Resource(m, r) => write!(f, "{}{r}", prefix(m)),
            Node::Destroy(m, r) => write!(f, "{}{r} (destroy)", prefix(m)),
            Node::Output(m, n) => write!(f, "{}output.{n}", prefix(m)),
        }
    }
}

/// The provider address string stored in state for a provider node.
pub fn provider_addr_string(m: &ModulePath, key: &str) -> String {
    Node::Provider(m.clone(), key.to_string()).to_string()
}

/// Resolves which provider node serves `pref` in module `path`: a block in that module,
/// a `providers` mapping of the call, or inheritance of the default configuration from
/// the parent; at the root, an implicit empty configuration.
pub fn resolve_provider(root: &Config, path: &ModulePath, pref: &ProviderRef) -> (ModulePath, String) {
    let mut path = path.clone();
    let mut key = pref.key();
    loop {
        if let Some(c) = root.descendant(&path) {
            if c.module.providers.iter().any(|p| p.key() == key) {
                return (path, key);
            }
        }
        if path.is_root() {
            return (path, key);
        }
        let call_name = path.0.last().cloned().unwrap_or_default();
        let parent = ModulePath(path.0[..path.0.len() - 1].to_vec());
        let call = root.descendant(&parent).and_then(|p| p.module.module_calls.get(&call_name));
        if let Some(call) = call {
            if let Some((_, to)) = call.providers.iter().find(|(child, _)| child.key() == key) {
                key = to.key();
                path = parent;
                continue;
            }
        }
        if key.contains('.') {
            // An aliased provider is never inherited implicitly; Terraform requires it to
            // be passed. Resolve to the child path so the walk reports it as missing.
            return (path, key);
        }
        path = parent;
    }
}

/// The graph the walk visits.
pub struct EngineGraph {
    pub graph: Graph<Node>,
}

/// How the plan deletes a static resource's instances.
#[derive(Clone, Copy, Debug, Default)]
pub struct DestroyKind {
    /// Some instance is replaced delete-then-create (the resource stays in config).
    pub replace: bool,
    /// Some instance is replaced create-then-delete.
    pub create_before_destroy: bool,
}

/// What the graph needs to know to order deletions.
#[derive(Default)]
pub struct DestroyInfo {
    pub destroys: BTreeMap<(ModulePath, Resource), DestroyKind>,
    /// For every resource in state: the resources its instances depended on.
    pub state_deps: BTreeMap<(ModulePath, Resource), Vec<(ModulePath, Resource)>>,
}

/// Adds edges for every reference in `expr`, evaluated in module `m`.
fn add_refs(g: &mut Graph<Node>, cfg: &Config, m: &ModulePath, from: NodeIndex, expr: &Expr, bound: &[&str], diags: &mut Diagnostics) {
    for r in references(expr, bound) {
        if let Some(to) = ref_node(cfg, m, &r.root, r.next_attr.as_deref(), &r.span, diags) {
            for t in to {
                let ti = g.add(t);
                g.depend(from, ti, Some(r.span.clone()));
            }
        }
    }
}

fn module_name(m: &ModulePath) -> String {
    if m.is_root() {
        "the root module".to_string()
    } else {
        m.to_string()
    }
}

/// The nodes a reference in module `m` depends on; reports undeclared references.
fn ref_node(root: &Config, m: &ModulePath, r: &RefRoot, next: Option<&str>, span: &Span, diags: &mut Diagnostics) -> Option<Vec<Node>> {
    let module = &root.descendant(m)?.module;
    // Summaries and details as Terraform words them.
    let undeclared = |what: &str, detail: String, hint: Option<String>| {
        let mut d = Diagnostic::error(format!("Reference to undeclared {what}"), detail).with_span(span.clone());
        if let Some(h) = hint {
            d = d.with_help(h);
        }
        d
    };
    match r {
        RefRoot::Var(n) => {
            if !module.variables.contains_key(n) {
                let names: Vec<&str> = module.variables.keys().map(|s| s.as_str()).collect();
                let detail = match crate::config::load::did_you_mean(n, &names) {
                    Some(s) => format!("An input variable with the name \"{n}\" has not been declared. Did you mean \"{s}\"?"),
                    None => format!("An input variable with the name \"{n}\" has not been declared. This variable can be declared with a variable \"{n}\" {{}} block."),
                };
                diags.push(undeclared("input variable", detail, None));
                return None;
            }
            Some(vec![Node::Variable(m.clone(), n.clone())])
        }
        RefRoot::Local(n) => {
            if !module.locals.contains_key(n) {
                let names: Vec<&str> = module.locals.keys().map(|s| s.as_str()).collect();
                let mut detail = format!("A local value with the name \"{n}\" has not been declared.");
                if let Some(s) = crate::config::load::did_you_mean(n, &names) {
                    detail.push_str(&format!(" Did you mean \"{s}\"?"));
                }
                diags.push(undeclared("local value", detail, None));
                return None;
            }
            Some(vec![Node::Local(m.clone(), n.clone())])
        }
        RefRoot::Module(n) => {
            let Some(child) = root.descendant(&m.child(n)) else {
                if !module.module_calls.contains_key(n) {
                    diags.push(undeclared("module", format!("No module call named \"{n}\" is declared in {}.", module_name(m)), None));
                }
                return None;
            };
            let cp = m.child(n);
            let mut nodes = vec![Node::ModuleCall(m.clone(), n.clone())];
            match next {
                Some(o) if child.module.outputs.contains_key(o) => nodes.push(Node::Output(cp, o.to_string())),
                _ => nodes.extend(child.module.outputs.keys().map(|o| Node::Output(cp.clone(), o.clone()))),
            }
            Some(nodes)
        }
        RefRoot::Resource { mode, type_, name } => {
            let res = Resource { mode: *mode, type_: type_.clone(), name: name.clone() };
            if !module.resources.contains_key(&res) {
                let hint = if *mode == ResourceMode::Managed && module.resources.keys().all(|r| r.type_ != *type_) {
                    format!("There is no resource of type \"{type_}\" here. If this is meant to be a variable, use var.{type_}; a string needs quotes.")
                } else {
                    "Check the resource type and name.".to_string()
                };
                diags.push(
                    Diagnostic::error("Reference to undeclared resource", format!("A {} \"{type_}\" \"{name}\" has not been declared in {}.", if *mode == ResourceMode::Data { "data resource" } else { "managed resource" }, module_name(m)))
                        .with_span(span.clone())
                        .with_help(hint),
                );
                return None;
            }
            Some(vec![Node::Resource(m.clone(), res)])
        }
        _ => Some(Vec::new()),
    }
}

/// Builds the graph for the configuration, plus `Destroy` nodes for the deletions in
/// `destroy` ordered in reverse of the dependencies recorded in state.
pub fn build(cfg: &Config, destroy: &DestroyInfo) -> (EngineGraph, Diagnostics) {
    let mut diags = Diagnostics::new();
    let mut g: Graph<Node> = Graph::new();

    for c in cfg.all() {
        let m = &c.path;
        let module = &c.module;
        // Step 1: every node of a child module depends on its call's expansion.
        let call_node = (!m.is_root()).then(|| g.add(Node::ModuleCall(ModulePath(m.0[..m.0.len() - 1].to_vec()), m.0[m.0.len() - 1].clone())));
        let in_module = |g: &mut Graph<Node>, n: Node| {
            let i = g.add(n);
            if let Some(ci) = call_node {
                g.depend(i, ci, None);
            }
            i
        };

        // Step 2: variables. (Their validation rules may refer only to the variable
        // itself, so they add no edges; the walk checks that as it evaluates them.)
        for v in module.variables.values() {
            in_module(&mut g, Node::Variable(m.clone(), v.name.clone()));
        }
        // Step 3: a child module's variables depend on the call's arguments.
        if !m.is_root() {
            let parent = ModulePath(m.0[..m.0.len() - 1].to_vec());
            let name = m.0[m.0.len() - 1].clone();
            if let Some(call) = cfg.descendant(&parent).and_then(|p| p.module.module_calls.get(&name)) {
                for input in &call.inputs {
                    if !module.variables.contains_key(&input.name) {
                        let names: Vec<&str> = module.variables.keys().map(|s| s.as_str()).collect();
                        let mut d = Diagnostic::error("Unsupported argument", format!("An argument named \"{}\" is not expected here: module.{name} declares no variable \"{}\".", input.name, input.name))
                            .with_span(input.name_span.clone());
                        if let Some(s) = crate::config::load::did_you_mean(&input.name, &names) {
                            d = d.with_help(format!("Did you mean \"{s}\"?"));
                        }
                        diags.push(d);
                        continue;
                    }
                    let vi = g.add(Node::Variable(m.clone(), input.name.clone()));
                    add_refs(&mut g, cfg, &parent, vi, &input.expr, &[], &mut diags);
                }
                for v in module.variables.values() {
                    if v.default.is_none() && !call.inputs.iter().any(|i| i.name == v.name) {
                        diags.push(
                            Diagnostic::error("Missing required argument", format!("The argument \"{}\" is required, but no definition was found: module.{name} declares variable \"{}\" without a default.", v.name, v.name))
                                .with_span(call.span.clone()),
                        );
                    }
                }
            }
        }

        // Step 4: locals.
        for l in module.locals.values() {
            let li = in_module(&mut g, Node::Local(m.clone(), l.name.clone()));
            add_refs(&mut g, cfg, m, li, &l.expr, &[], &mut diags);
        }

        // Step 5: module calls depend on their count/for_each and depends_on.
        for call in module.module_calls.values() {
            let ci = in_module(&mut g, Node::ModuleCall(m.clone(), call.name.clone()));
            for e in call.count.iter().chain(call.for_each.iter()).chain(call.depends_on.iter()) {
                add_refs(&mut g, cfg, m, ci, e, &[], &mut diags);
            }
        }

        // Step 6: provider configurations.
        for p in &module.providers {
            let pi = in_module(&mut g, Node::Provider(m.clone(), p.key()));
            for a in &p.body.attrs {
                add_refs(&mut g, cfg, m, pi, &a.expr, &[], &mut diags);
            }
            for b in &p.body.blocks {
                for a in &b.body.attrs {
                    add_refs(&mut g, cfg, m, pi, &a.expr, &[], &mut diags);
                }
            }
        }

        // Step 7: resources depend on their provider and on everything they refer to.
        for r in module.resources.values() {
            let ri = in_module(&mut g, Node::Resource(m.clone(), r.addr.clone()));
            let (pm, pk) = resolve_provider(cfg, m, &r.provider_ref());
            let pi = g.add(Node::Provider(pm, pk));
            g.depend(ri, pi, r.provider_span.clone());
            for e in r.count.iter().chain(r.for_each.iter()).chain(r.depends_on.iter()).chain(r.lifecycle.replace_triggered_by.iter()) {
                add_refs(&mut g, cfg, m, ri, e, &[], &mut diags);
            }
            add_body_refs(&mut g, cfg, m, ri, &r.body, &mut Vec::new(), &mut diags);
            for body in r.connection.iter().chain(r.provisioners.iter().map(|p| &p.body)).chain(r.provisioners.iter().filter_map(|p| p.connection.as_ref())) {
                add_body_refs(&mut g, cfg, m, ri, body, &mut vec!["self".to_string()], &mut diags);
            }
        }

        // Step 8: outputs.
        for o in module.outputs.values() {
            let oi = in_module(&mut g, Node::Output(m.clone(), o.name.clone()));
            add_refs(&mut g, cfg, m, oi, &o.value, &[], &mut diags);
            for e in &o.depends_on {
                add_refs(&mut g, cfg, m, oi, e, &[], &mut diags);
            }
        }
    }

    // Step 9: destroy nodes need their provider; a delete-then-create replacement
    // deletes before it creates, a create-before-destroy one the other way round.
    for ((m, r), kind) in &destroy.destroys {
        let di = g.add(Node::Destroy(m.clone(), r.clone()));
        if let Some(ri) = g.get(&Node::Resource(m.clone(), r.clone())) {
            if kind.create_before_destroy {
                g.depend(di, ri, None);
            } else if kind.replace {
                g.depend(ri, di, None);
            }
        }
        let pref = cfg
            .descendant(m)
            .and_then(|c| c.module.resources.get(r))
            .map(|rc| rc.provider_ref())
            .unwrap_or_else(|| ProviderRef { name: r.implied_provider().to_string(), alias: None });
        let (pm, pk) = if cfg.descendant(m).is_some() { resolve_provider(cfg, m, &pref) } else { (ModulePath::root(), pref.key()) };
        let pi = g.add(Node::Provider(pm, pk));
        g.depend(di, pi, None);
    }
    // Step 10: X is deleted only after everything that depended on X (per state) is
    // deleted too, or has been updated to stop using it (unless X is replaced
    // delete-then-create: then dependents are updated after X's new object exists).
    for ((ym, yr), deps) in &destroy.state_deps {
        for (xm, xr) in deps {
            let Some(kind) = destroy.destroys.get(&(xm.clone(), xr.clone())) else { continue };
            let Some(dx) = g.get(&Node::Destroy(xm.clone(), xr.clone())) else { continue };
            if destroy.destroys.contains_key(&(ym.clone(), yr.clone())) {
                if let Some(dy) = g.get(&Node::Destroy(ym.clone(), yr.clone())) {
                    if dx != dy {
                        g.depend(dx, dy, None);
                    }
                }
            } else if !(kind.replace && !kind.create_before_destroy) {
                if let Some(ry) = g.get(&Node::Resource(ym.clone(), yr.clone())) {
                    g.depend(dx, ry, None);
                }
            }
        }
    }

    diags.0.extend(g.cycles());
    (EngineGraph { graph: g }, diags)
}

/// References in a resource body, including `dynamic` blocks (whose iterator name is
/// bound inside `content`).
fn add_body_refs(g: &mut Graph<Node>, cfg: &Config, m: &ModulePath, from: NodeIndex, body: &crate::config::Body, bound: &mut Vec<String>, diags: &mut Diagnostics) {
    let b: Vec<String> = bound.clone();
    let b: Vec<&str> = b.iter().map(|s| s.as_str()).collect();
    for a in &body.attrs {
        add_refs(g, cfg, m, from, &a.expr, &b, diags);
    }
    for blk in &body.blocks {
        if blk.ident == "dynamic" {
            let iter_name = blk
                .body
                .attr("iterator")
                .and_then(|a| a.expr.syntax().ok())
                .and_then(|t| crate::config::load::static_traversal(&t))
                .and_then(|n| n.into_iter().next())
                .or_else(|| blk.labels.first().cloned())
                .unwrap_or_default();
            // `for_each` is the only argument evaluated: `iterator` is a name, and any
            // other argument (`labels`: nested blocks take none) is reported when the
            // body is decoded.
            if let Some(a) = blk.body.attr("for_each") {
                add_refs(g, cfg, m, from, &a.expr, &b, diags);
            }
            let n = bound.len();
            bound.push(iter_name);
            for c in blk.body.blocks_of("content") {
                add_body_refs(g, cfg, m, from, &c.body, bound, diags);
            }
            bound.truncate(n);
        } else {
            add_body_refs(g, cfg, m, from, &blk.body, bound, diags);
        }
    }
}
