//! The walk: visits the graph in dependency order, evaluating each node for every module
//! instance, with provider calls running concurrently (bounded by `parallelism`). When a
//! node fails, everything that depends on it is skipped and reported as skipped.
//!
//! One walker serves validate, plan and apply; `Mode` selects what a resource node does.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use petgraph::graph::NodeIndex;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::eval::{decode_body, Binding, EvalScope, Expansion, Store};
use super::graph::{provider_addr_string, resolve_provider, EngineGraph, Node};
use super::{Engine, InputValue, InputVars};
use crate::addrs::{AbsResourceInstance, ModuleInstance, ModulePath, Resource};
use crate::config::{Config, Expr, ResourceConfig};
use crate::diag::{Diagnostic, Diagnostics, Span};
use crate::lang::eval::{eval, eval_syntax, references_in, RefRoot};
use crate::lang::typeexpr;
use crate::lang::value::{Type, Value};
use crate::plan::{Plan, ResourceChange};
use crate::providers::{AttrPath, PathStep, Provider, ProviderDiag};
use crate::state::{DeposedKey, State};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Mode {
    Validate,
    Plan,
    Apply,
    /// `console`: resources take their values from the prior state (unknown when absent);
    /// no provider is configured or called.
    Eval,
}

/// What one instance's provider work produced.
pub struct Outcome {
    pub addr: AbsResourceInstance,
    pub config: Value,
    /// Refresh result (plan): `Some(None)` when the object is gone.
    pub refreshed: Option<Option<Value>>,
    pub planned: Option<Value>,
    pub requires_replace: Vec<AttrPath>,
    /// Apply result.
    pub new_state: Option<Option<Value>>,
    pub diags: Vec<ProviderDiag>,
    /// Diagnostics that already carry a span (provisioner failures).
    pub spanned: Diagnostics,
    pub kind: OutcomeKind,
    /// The token of the create intent this outcome settles (apply: recorded before the
    /// create; plan: a pending intent from an interrupted apply, looked up by `recover`).
    pub token: Option<String>,
    /// Plan: the refreshed object was found by `recover`, not read from the state.
    pub adopted: bool,
    /// The deposed object this outcome is about (plan: its refresh; apply: its deletion).
    pub deposed: Option<DeposedKey>,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum OutcomeKind {
    Plan,
    PlanOrphan,
    /// The refresh of a deposed object, which is planned for deletion.
    PlanDeposed,
    ReadData,
    Apply,
    Destroy,
}

pub struct Walker<'e> {
    pub engine: &'e Engine,
    pub mode: Mode,
    pub store: Store,
    pub diags: Diagnostics,
    pub vars: &'e InputVars,
    pub parallelism: usize,
    /// Plan: the prior state. Apply: the state being built.
    pub state: State,
    pub refresh: bool,
    pub replace: Vec<AbsResourceInstance>,
    pub changes: BTreeMap<AbsResourceInstance, ResourceChange>,
    pub drift: Vec<ResourceChange>,
    pub plan: Option<&'e Plan>,
    /// Where each address's change is in `plan.changes`, built on first use: looking
    /// changes up by scanning made apply quadratic in the number of instances.
    plan_index: std::cell::OnceCell<HashMap<AbsResourceInstance, usize>>,
    pub visited: HashSet<AbsResourceInstance>,
    pub skipped: Vec<(String, String)>,
    pub applied: usize,
    /// Apply: the deposed key under which each create-before-destroy replacement of
    /// this run put its old object (in the state, until its deletion).
    pub deposed: HashMap<AbsResourceInstance, DeposedKey>,
    /// Plan: the deletions planned for deposed objects, and the deposed objects that
    /// refresh found gone.
    pub deposed_changes: BTreeMap<(AbsResourceInstance, DeposedKey), ResourceChange>,
    pub gone_deposed: Vec<(AbsResourceInstance, DeposedKey)>,
    /// Plan: the deposed objects the walk looked at (the rest belong to resources no
    /// longer in the configuration).
    pub visited_deposed: HashSet<(AbsResourceInstance, DeposedKey)>,
    /// Set when the state changed and should be persisted.
    pub dirty: bool,
    /// The graph being walked (for the dependencies recorded in state).
    pub graph_for_deps: Option<&'e EngineGraph>,
    /// Where apply persists state as it goes.
    pub backend: Option<Arc<dyn crate::state::backend::Backend>>,
    last_write: std::time::Instant,
    /// How long the last state write took: the next incremental write waits at least
    /// four times that, so writing never takes more than a fifth of the run however big
    /// the state grows (a fixed interval would make a large apply quadratic).
    write_cost: std::time::Duration,
    /// Create intents (issue 6): the generation of the newest intent added to the state,
    /// the newest generation known to be written, and the channel on which creates wait
    /// for their intent to be durable (`(durable generation, a write failed)`).
    intent_gen: u64,
    durable_gen: u64,
    pub(super) durable_tx: tokio::sync::watch::Sender<(u64, bool)>,
    /// Plan: tokens of pending intents resolved by `recover`, and the objects adopted.
    pub resolved_intents: Vec<String>,
    pub adopted: Vec<crate::plan::AdoptedObject>,
    /// Interrupt level from the CLI (1: start nothing new; 2: stop now).
    interrupt: tokio::sync::watch::Receiver<u8>,
    /// The highest interrupt level this walk obeyed.
    pub interrupted: u8,
}

type Fut = futures::future::BoxFuture<'static, Outcome>;

impl<'e> Walker<'e> {
    pub fn new(engine: &'e Engine, mode: Mode, vars: &'e InputVars, state: State, parallelism: usize) -> Walker<'e> {
        Walker {
            engine,
            mode,
            store: Store::new(),
            diags: Diagnostics::new(),
            vars,
            parallelism: parallelism.max(1),
            state,
            refresh: true,
            replace: Vec::new(),
            changes: BTreeMap::new(),
            drift: Vec::new(),
            plan: None,
            plan_index: std::cell::OnceCell::new(),
            visited: HashSet::new(),
            skipped: Vec::new(),
            applied: 0,
            deposed: HashMap::new(),
            deposed_changes: BTreeMap::new(),
            gone_deposed: Vec::new(),
            visited_deposed: HashSet::new(),
            dirty: false,
            graph_for_deps: None,
            backend: None,
            last_write: std::time::Instant::now(),
            write_cost: std::time::Duration::ZERO,
            intent_gen: 0,
            durable_gen: 0,
            durable_tx: tokio::sync::watch::channel((0, false)).0,
            resolved_intents: Vec::new(),
            adopted: Vec::new(),
            interrupt: engine.interrupt.subscribe(),
            interrupted: 0,
        }
    }

    /// The planned change of one instance (apply).
    pub(super) fn planned_change(&self, addr: &AbsResourceInstance) -> Option<&'e ResourceChange> {
        let plan = self.plan?;
        let index = self.plan_index.get_or_init(|| {
            let mut m = HashMap::with_capacity(plan.changes.len());
            // Changes to deposed objects are not the instance's change.
            for (i, c) in plan.changes.iter().enumerate().filter(|(_, c)| c.deposed.is_none()) {
                // The first change of an address wins, as the scan this replaces did.
                m.entry(c.addr.clone()).or_insert(i);
            }
            m
        });
        index.get(addr).map(|&i| &plan.changes[i])
    }

    fn cfg(&self) -> &'e Config {
        &self.engine.config
    }

    pub(super) fn scope<'a>(&'a self, m: &'a ModuleInstance, binding: Binding) -> EvalScope<'a> {
        EvalScope {
            config: self.cfg(),
            store: &self.store,
            module: m,
            binding,
            self_value: None,
            cwd: &self.engine.cwd,
            all_unknown: self.mode == Mode::Validate,
            impure_unknown: !matches!(self.mode, Mode::Apply | Mode::Eval),
        }
    }

    /// Walks the whole graph.
    pub async fn walk(&mut self, g: &EngineGraph) {
        let graph = &g.graph;
        let n = graph.len();
        let mut remaining: Vec<usize> = (0..n).map(|i| graph.dependencies(NodeIndex::new(i)).count()).collect();
        let mut ready: std::collections::BTreeSet<(Node, NodeIndex)> = graph.indices().filter(|i| remaining[i.index()] == 0).map(|i| (graph.node(i).clone(), i)).collect();
        let mut skip_reason: HashMap<NodeIndex, String> = HashMap::new();
        let sem = Arc::new(Semaphore::new(self.parallelism));
        let mut tasks: JoinSet<(NodeIndex, Outcome)> = JoinSet::new();
        let mut pending: HashMap<NodeIndex, (usize, Vec<Outcome>)> = HashMap::new();
        let mut done = 0usize;

        loop {
            while let Some((node, idx)) = ready.pop_first() {
                // After a first interrupt nothing new starts; what runs may finish.
                if *self.interrupt.borrow() >= 1 && self.mode != Mode::Validate {
                    self.interrupted = self.interrupted.max(1);
                    skip_reason.entry(idx).or_insert_with(|| "the run was interrupted".to_string());
                }
                let ok = if let Some(reason) = skip_reason.get(&idx) {
                    self.skipped.push((node.to_string(), reason.clone()));
                    false
                } else {
                    match self.prepare(&node) {
                        Err(()) => false,
                        Ok(list) if list.is_empty() => self.finish(&node, Vec::new()).is_ok(),
                        Ok(list) => {
                            pending.insert(idx, (list.len(), Vec::new()));
                            for f in list {
                                let sem = sem.clone();
                                tasks.spawn(async move {
                                    let _permit = sem.acquire_owned().await;
                                    (idx, f.await)
                                });
                            }
                            continue;
                        }
                    }
                };
                done += 1;
                self.complete(graph, idx, ok, &mut skip_reason, &mut remaining, &mut ready);
                self.persist(false).await;
            }
            if done == n {
                break;
            }
            // Creates wait until their intents are in the state on disk: one write covers
            // every intent added since the last one.
            self.flush_intents().await;
            let mut interrupt = self.interrupt.clone();
            let res = loop {
                // Results recorded but not yet written are written within the write
                // interval even while every running call is slow.
                let flush_at = tokio::time::Instant::from_std(self.last_write) + self.write_interval();
                tokio::select! {
                    res = tasks.join_next() => break Some(res),
                    _ = wait_for_level(&mut interrupt, 2) => break None,
                    _ = tokio::time::sleep_until(flush_at), if self.dirty => {
                        self.persist(true).await;
                    }
                }
            };
            let Some(res) = res else {
                // A second interrupt: stop waiting. Dropping `tasks` aborts the calls in
                // flight; their create intents stay recorded for the next run.
                self.interrupted = 2;
                break;
            };
            let Some(res) = res else { break };
            let (idx, outcome) = match res {
                Ok(x) => x,
                Err(e) => {
                    self.diags.push(Diagnostic::error("Internal error", format!("A provider task failed: {e}")));
                    continue;
                }
            };
            let node = graph.node(idx).clone();
            // Record progress as each instance completes, not only when the node does.
            if self.mode == Mode::Apply {
                self.record_apply(&node, &outcome);
            }
            let entry = pending.entry(idx).or_insert((0, Vec::new()));
            entry.1.push(outcome);
            if entry.1.len() < entry.0 {
                self.persist(false).await;
                continue;
            }
            let (_, outcomes) = pending.remove(&idx).unwrap_or_default();
            let ok = self.finish(&node, outcomes).is_ok();
            done += 1;
            self.complete(graph, idx, ok, &mut skip_reason, &mut remaining, &mut ready);
            self.persist(false).await;
        }
    }

    /// Writes the state when it changed. Writes are coalesced (see `write_interval`) so that
    /// persisting as instances complete stays linear in the number of instances; `force`
    /// writes now (end of the walk, create intents). False when the write failed.
    pub async fn persist(&mut self, force: bool) -> bool {
        if !self.dirty {
            return true;
        }
        if !force && self.last_write.elapsed() < self.write_interval() {
            return true;
        }
        let Some(b) = self.backend.clone() else { return true };
        self.state.serial += 1;
        let started = std::time::Instant::now();
        let ok = match b.write(&self.state).await {
            Ok(()) => true,
            Err(e) => {
                self.diags.push(Diagnostic::error("Failed to persist state", format!("Writing the state to {} failed: {e}.", b.describe())));
                false
            }
        };
        self.dirty = false;
        self.last_write = std::time::Instant::now();
        self.write_cost = started.elapsed();
        ok
    }

    /// The least time between two incremental state writes (see `write_cost`).
    fn write_interval(&self) -> std::time::Duration {
        (self.write_cost * 4).max(std::time::Duration::from_millis(100))
    }

    /// Registers a create intent in the state; the returned receiver tells the create
    /// when the intent is durable (see `intent_durable`).
    pub(super) fn add_intent(&mut self, intent: crate::state::PendingCreate) -> (u64, tokio::sync::watch::Receiver<(u64, bool)>) {
        self.state.pending.push(intent);
        self.needs_durable()
    }

    /// Asks for the state as it is now (create intents, deposed objects, recorded
    /// results) to be written before the caller's provider call; the returned receiver
    /// tells when it is durable. Calls made meanwhile share one write (group commit).
    pub(super) fn needs_durable(&mut self) -> (u64, tokio::sync::watch::Receiver<(u64, bool)>) {
        self.intent_gen += 1;
        self.dirty = true;
        (self.intent_gen, self.durable_tx.subscribe())
    }

    /// Writes the state if intents were added since the last write, then wakes the
    /// creates waiting for them (group commit).
    async fn flush_intents(&mut self) {
        if self.intent_gen <= self.durable_gen {
            return;
        }
        if self.persist(true).await {
            self.durable_gen = self.intent_gen;
            self.durable_tx.send_replace((self.durable_gen, false));
        } else {
            self.durable_tx.send_replace((self.durable_gen, true));
        }
    }

    fn complete(
        &mut self,
        graph: &crate::graph::Graph<Node>,
        idx: NodeIndex,
        ok: bool,
        skip_reason: &mut HashMap<NodeIndex, String>,
        remaining: &mut [usize],
        ready: &mut std::collections::BTreeSet<(Node, NodeIndex)>,
    ) {
        if !ok {
            let why = skip_reason.get(&idx).cloned().unwrap_or_else(|| format!("{} failed", graph.node(idx)));
            for d in graph.dependents(idx) {
                skip_reason.entry(d).or_insert_with(|| why.clone());
            }
        }
        let deps: Vec<NodeIndex> = graph.dependents(idx).collect();
        for d in deps {
            remaining[d.index()] -= 1;
            if remaining[d.index()] == 0 {
                ready.insert((graph.node(d).clone(), d));
            }
        }
    }

    /// Synchronous evaluation of a node, returning its provider work.
    fn prepare(&mut self, node: &Node) -> Result<Vec<Fut>, ()> {
        match node {
            Node::Resource(m, r) => self.prepare_resource(m, r),
            Node::Destroy(m, r) => self.prepare_destroy(m, r),
            Node::Provider(m, key) => {
                self.provider_node(m, key)?;
                Ok(Vec::new())
            }
            _ => Ok(Vec::new()),
        }
    }

    fn finish(&mut self, node: &Node, outcomes: Vec<Outcome>) -> Result<(), ()> {
        let before = self.diags.error_count();
        match node {
            Node::Variable(m, name) => self.variable_node(m, name),
            Node::Local(m, name) => {
                let Some(l) = self.cfg().descendant(m).and_then(|c| c.module.locals.get(name)) else { return Ok(()) };
                for mi in self.store.instances_of(m) {
                    match eval(&l.expr, &self.scope(&mi, Binding::default())) {
                        Ok(v) => {
                            self.store.locals.insert((mi, name.clone()), v);
                        }
                        Err(d) => self.diags.push(d),
                    }
                }
            }
            Node::ModuleCall(m, name) => self.module_call_node(m, name),
            Node::Output(m, name) => self.output_node(m, name),
            Node::Provider(..) => {}
            Node::Resource(m, r) => self.finish_resource(m, r, outcomes),
            Node::Destroy(..) => {
                for o in outcomes {
                    for d in o.diags.iter().filter(|d| d.error) {
                        self.diags.push(Diagnostic::error(d.summary.clone(), format!("{}: {}", o.addr, d.detail)));
                    }
                    self.diags.extend(o.spanned);
                }
            }
        }
        if self.diags.error_count() > before {
            Err(())
        } else {
            Ok(())
        }
    }

    fn variable_node(&mut self, m: &ModulePath, name: &str) {
        let cfg = self.cfg();
        let Some(c) = cfg.descendant(m) else { return };
        let Some(var) = c.module.variables.get(name) else { return };
        let constraint = match &var.type_expr {
            Some(te) => match te.syntax().map(|tree| typeexpr::parse_type_constraint(&tree)) {
                Ok(Ok(t)) => t,
                Err(d) => {
                    self.diags.push(d);
                    return;
                }
                Ok(Err(e)) => {
                    let span = e.span.map(|r| Span::new(&te.file, r)).unwrap_or_else(|| te.span());
                    self.diags.push(Diagnostic::error(e.summary, e.detail).with_span(span));
                    return;
                }
            },
            None => typeexpr::TypeConstraint::any(),
        };
        // Each validation rule's condition, parsed once for every instance of the module;
        // a condition may refer only to its own variable.
        let mut rules = Vec::new();
        for v in &var.validations {
            let tree = match v.condition.syntax() {
                Ok(t) => t,
                Err(d) => {
                    self.diags.push(d);
                    continue;
                }
            };
            let mut valid = true;
            for r in references_in(&tree, &v.condition.file, &[]) {
                if !matches!(&r.root, RefRoot::Var(n) if n == name) {
                    valid = false;
                    self.diags.push(
                        Diagnostic::error("Invalid reference in variable validation", format!("The condition for variable \"{name}\" can only refer to the variable itself, using var.{name}."))
                            .with_span(r.span),
                    );
                }
            }
            if valid {
                rules.push((v, tree));
            }
        }
        for mi in self.store.instances_of(m) {
            let mut span = var.span.clone();
            // The raw value: from the inputs (root) or the caller (module), else the default.
            let raw: Option<Value> = if m.is_root() {
                match self.vars.get(name) {
                    Some(iv) => {
                        if let Some(s) = &iv.span {
                            span = s.clone();
                        }
                        match &iv.value {
                            InputValue::Value(v) => Some(v.clone()),
                            InputValue::Raw(s) => {
                                if constraint.ty().is_primitive() || *constraint.ty() == Type::Dynamic && !looks_like_expr(s) {
                                    Some(Value::String(s.clone()))
                                } else {
                                    match parse_raw_expr(s, &iv.source, &self.engine.cwd) {
                                        Ok(v) => Some(v),
                                        Err(d) => {
                                            self.diags.push(d);
                                            return;
                                        }
                                    }
                                }
                            }
                        }
                    }
                    None => None,
                }
            } else {
                let call = cfg.descendant(&ModulePath(m.0[..m.0.len() - 1].to_vec())).and_then(|p| p.module.module_calls.get(&m.0[m.0.len() - 1]));
                match call.and_then(|c| c.inputs.iter().find(|i| i.name == name)) {
                    Some(input) => {
                        span = input.expr.span();
                        let parent = mi.parent().unwrap_or_default();
                        let binding = self.store.call_bindings.get(&mi).cloned().unwrap_or_default();
                        match eval(&input.expr, &self.scope(&parent, binding)) {
                            Ok(v) => Some(v),
                            Err(d) => {
                                self.diags.push(d);
                                return;
                            }
                        }
                    }
                    None => None,
                }
            };
            let raw = raw.filter(|v| !(v.is_null() && !var.nullable));
            let value = match raw {
                Some(v) => v,
                None => match &var.default {
                    Some(d) => match eval(d, &self.scope(&mi, Binding::default())) {
                        Ok(v) => {
                            // A default that does not fit the type is the default's fault.
                            span = d.span();
                            v
                        }
                        Err(d) => {
                            self.diags.push(d);
                            return;
                        }
                    },
                    None if matches!(self.mode, Mode::Validate | Mode::Eval) => Value::unknown(),
                    None => {
                        self.diags.push(
                            Diagnostic::error("No value for required variable", format!("The root module input variable \"{name}\" is not set, and has no default value."))
                                .with_span(var.span.clone())
                                .with_help(format!("Pass a value with -var '{name}=...', a .tfvars file, or the TF_VAR_{name} environment variable.")),
                        );
                        return;
                    }
                },
            };
            let value = match constraint.convert(&value) {
                Ok(v) => v,
                Err(e) => {
                    self.diags.push(Diagnostic::error("Invalid value for input variable", format!("The given value is not suitable for var.{name}, which has type {constraint}: {e}.")).with_span(span.clone()));
                    return;
                }
            };
            let value = value.with_mark(var.sensitive);
            self.store.vars.insert((mi.clone(), name.to_string()), value);
            for (v, condition) in &rules {
                let scope = self.scope(&mi, Binding::default());
                match eval_syntax(condition, &v.condition.file, &scope) {
                    Ok(c) if c.as_bool() == Some(false) => {
                        let msg = eval(&v.error_message, &scope).ok().and_then(|m| m.as_str().map(|s| s.to_string())).unwrap_or_else(|| "The value is not valid.".into());
                        self.diags.push(
                            Diagnostic::error("Invalid value for variable", format!("{msg}\n\nThis was checked by the validation rule at {}.", v.condition.span().location()))
                                .with_span(span.clone())
                                .with_related(v.condition.span(), "validation rule"),
                        );
                    }
                    Ok(_) => {}
                    Err(d) => self.diags.push(d),
                }
            }
        }
    }

    fn module_call_node(&mut self, m: &ModulePath, name: &str) {
        let Some(call) = self.cfg().descendant(m).and_then(|c| c.module.module_calls.get(name)) else { return };
        let mut children = Vec::new();
        for mi in self.store.instances_of(m) {
            let Some(exp) = self.expansion(&mi, call.count.as_ref(), call.for_each.as_ref()) else { continue };
            for k in exp.keys() {
                let ci = mi.child(name, k.clone());
                self.store.call_bindings.insert(ci.clone(), exp.binding(&k));
                children.push(ci);
            }
            self.store.calls.insert((mi.clone(), name.to_string()), exp);
        }
        self.store.module_instances.insert(m.child(name), children);
    }

    /// Evaluates count/for_each. None (with a diagnostic) when invalid or unknown.
    pub(super) fn expansion(&mut self, mi: &ModuleInstance, count: Option<&Expr>, for_each: Option<&Expr>) -> Option<Expansion> {
        if let Some(c) = count {
            let v = match eval(c, &self.scope(mi, Binding::default())) {
                Ok(v) => v,
                Err(d) => {
                    self.diags.push(d);
                    return None;
                }
            };
            if !v.is_wholly_known() {
                if self.mode == Mode::Validate {
                    return Some(Expansion::Count(1));
                }
                self.diags.push(
                    Diagnostic::error("Invalid count argument", "The \"count\" value depends on resource attributes that cannot be determined until apply, so terrane cannot predict how many instances will be created.")
                        .with_span(c.span())
                        .with_help("Make count depend only on values known at plan time, or apply the resources it depends on first."),
                );
                return None;
            }
            let n = crate::lang::convert::convert(&v, &Type::Number).ok().and_then(|n| n.as_number()).and_then(|n| n.as_i64());
            return match n {
                Some(n) if n >= 0 => Some(Expansion::Count(n)),
                _ => {
                    self.diags.push(
                        Diagnostic::error("Invalid count argument", format!("The given \"count\" argument value is unsuitable: must be a whole number greater than or equal to 0, not {}.", v.friendly_type()))
                            .with_span(c.span()),
                    );
                    None
                }
            };
        }
        if let Some(fe) = for_each {
            let v = match eval(fe, &self.scope(mi, Binding::default())) {
                Ok(v) => v,
                Err(d) => {
                    self.diags.push(d);
                    return None;
                }
            };
            if self.mode == Mode::Validate && !v.is_wholly_known() {
                return Some(Expansion::ForEach(BTreeMap::from([("validate".to_string(), Value::unknown())])));
            }
            if v.contains_sensitive() {
                self.diags.push(
                    Diagnostic::error("Invalid for_each argument", "Sensitive values, or values derived from sensitive values, cannot be used as for_each arguments: the keys would be disclosed in the plan.")
                        .with_span(fe.span())
                        .with_help("Use nonsensitive() on the keys if they are not secret."),
                );
                return None;
            }
            if !v.is_wholly_known() {
                self.diags.push(
                    Diagnostic::error("Invalid for_each argument", "The \"for_each\" value depends on resource attributes that cannot be determined until apply, so terrane cannot predict how many instances will be created.")
                        .with_span(fe.span())
                        .with_help("Use keys that are known at plan time, such as names from variables."),
                );
                return None;
            }
            return match v {
                Value::Map(m) | Value::Object(m) => Some(Expansion::ForEach(m)),
                Value::Set(items) => {
                    let mut m = BTreeMap::new();
                    for it in items {
                        match it.as_str() {
                            Some(s) => {
                                m.insert(s.to_string(), it.clone());
                            }
                            None => {
                                self.diags.push(Diagnostic::error("Invalid for_each set argument", "The given \"for_each\" argument value is unsuitable: a set must contain only strings.").with_span(fe.span()));
                                return None;
                            }
                        }
                    }
                    Some(Expansion::ForEach(m))
                }
                other => {
                    self.diags.push(
                        Diagnostic::error("Invalid for_each argument", format!("The given \"for_each\" argument value is unsuitable: the \"for_each\" argument must be a map, or set of strings, and you have provided a value of type {}.", other.friendly_type()))
                            .with_span(fe.span())
                            .with_help("Convert a list with toset(...)."),
                    );
                    None
                }
            };
        }
        Some(Expansion::Single)
    }

    fn output_node(&mut self, m: &ModulePath, name: &str) {
        let Some(o) = self.cfg().descendant(m).and_then(|c| c.module.outputs.get(name)) else { return };
        for mi in self.store.instances_of(m) {
            match eval(&o.value, &self.scope(&mi, Binding::default())) {
                Ok(v) => {
                    if m.is_root() && v.contains_sensitive() && !o.sensitive && !matches!(self.mode, Mode::Validate | Mode::Eval) {
                        self.diags.push(
                            Diagnostic::error("Output refers to sensitive values", "To reduce the risk of accidentally exporting sensitive data that was intended to be only internal, terrane requires that any root module output containing sensitive data be explicitly marked as sensitive, to confirm your intent.")
                                .with_span(o.span.clone())
                                .with_help("Add `sensitive = true` to the output block."),
                        );
                        continue;
                    }
                    self.store.outputs.insert((mi, name.to_string()), v.with_mark(o.sensitive));
                }
                Err(d) => self.diags.push(d),
            }
        }
        self.store.invalidate_module_outputs(m);
    }

    fn provider_node(&mut self, m: &ModulePath, key: &str) -> Result<(), ()> {
        let name = key.split('.').next().unwrap_or(key).to_string();
        // An unknown provider is reported once per resource type by `unknown_types`.
        let Some(factory) = self.engine.registry.get(&name) else { return Ok(()) };
        let provider = factory();
        let cfg_block = self.cfg().descendant(m).and_then(|c| c.module.providers.iter().find(|p| p.key() == key));
        let config = match cfg_block {
            Some(pb) => {
                let mi = self.store.instances_of(m).into_iter().next().unwrap_or_default();
                let mut d = Diagnostics::new();
                let v = decode_body(&pb.body, &provider.schema().provider, &self.scope(&mi, Binding::default()), &[], &pb.span, &format!("the provider \"{name}\" configuration"), &mut d);
                let bad = d.has_errors();
                self.diags.extend(d);
                if bad {
                    return Err(());
                }
                v
            }
            None => {
                if key.contains('.') && !matches!(self.mode, Mode::Validate | Mode::Eval) {
                    self.diags.push(Diagnostic::error("Provider configuration not present", format!("No provider configuration {key} exists in {}. An aliased provider must be declared or passed in with `providers`.", if m.is_root() { "the root module".into() } else { m.to_string() })));
                    return Err(());
                }
                Value::Object(provider.schema().provider.attributes.iter().map(|(k, a)| (k.clone(), Value::Null(a.ty.clone()))).collect())
            }
        };
        if !matches!(self.mode, Mode::Validate | Mode::Eval) {
            // NOTE: configure runs inline on the walk's thread; the compiled-in providers
            // configure locally without network round trips.
            let pd = futures::executor::block_on(provider.configure(&config.deep_unmark()));
            if let Some(e) = pd.iter().find(|d| d.error) {
                self.diags.push(Diagnostic::error(e.summary.clone(), format!("Configuring provider \"{key}\": {}", e.detail)).with_opt_span(cfg_block.map(|p| p.span.clone())));
                return Err(());
            }
        }
        self.store.providers.insert((m.clone(), key.to_string()), provider);
        Ok(())
    }

    pub(super) fn provider_for(&self, m: &ModulePath, rc: Option<&ResourceConfig>, r: &Resource) -> (Option<Arc<dyn Provider>>, String) {
        let pref = rc.map(|c| c.provider_ref()).unwrap_or_else(|| crate::config::ProviderRef { name: r.implied_provider().into(), alias: None });
        let (pm, pk) = if self.cfg().descendant(m).is_some() { resolve_provider(self.cfg(), m, &pref) } else { (ModulePath::root(), pref.key()) };
        (self.store.providers.get(&(pm.clone(), pk.clone())).cloned(), provider_addr_string(&pm, &pk))
    }
}

fn looks_like_expr(s: &str) -> bool {
    let t = s.trim_start();
    t.starts_with('[') || t.starts_with('{')
}

/// Parses a `-var` value as an expression (for non-string variables).
fn parse_raw_expr(s: &str, source: &str, cwd: &std::path::Path) -> Result<Value, Diagnostic> {
    let file = crate::diag::SourceFile::new(format!("<value for {source}>"), s);
    let expr = hcl_edit::parser::parse_expr(s)
        .map_err(|e| Diagnostic::error("Invalid expression for variable value", format!("The value given by {source} could not be parsed: {}", e.message())).with_span(Span::new(&file, 0..s.len())))?;
    eval(&Expr::parsed(file, expr), &NoRefs { cwd })
}

struct NoRefs<'a> {
    cwd: &'a std::path::Path,
}

impl crate::lang::eval::Scope for NoRefs<'_> {
    fn resolve(&self, _root: &crate::lang::eval::RefRoot, span: &Span) -> Result<Value, Diagnostic> {
        Err(Diagnostic::error("Variables not allowed", "Variables may not be used here.").with_span(span.clone()))
    }
    fn func_ctx(&self) -> crate::lang::funcs::FuncCtx<'_> {
        crate::lang::funcs::FuncCtx { cwd: self.cwd, impure_unknown: false }
    }
}

/// The span of an attribute path's first attribute in a body, for provider diagnostics.
pub fn path_span(rc: &ResourceConfig, path: &Option<AttrPath>) -> Span {
    if let Some(p) = path {
        if let Some(PathStep::Attr(a)) = p.first() {
            if let Some(at) = rc.body.attr(a) {
                return at.expr.span();
            }
            if let Some(b) = rc.body.blocks_of(a).next() {
                return b.ident_span.clone();
            }
        }
    }
    rc.span.clone()
}

/// Waits until the interrupt level reaches `level`; forever when nobody can interrupt.
async fn wait_for_level(rx: &mut tokio::sync::watch::Receiver<u8>, level: u8) {
    if rx.wait_for(|l| *l >= level).await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// Waits until the create intent of generation `gen` is in the state on disk. False when
/// writing the state failed: the create must not happen, since it could be lost.
pub(super) async fn intent_durable(rx: &mut tokio::sync::watch::Receiver<(u64, bool)>, gen: u64) -> bool {
    match rx.wait_for(|(g, failed)| *g >= gen || *failed).await {
        Ok(v) => v.0 >= gen,
        Err(_) => false,
    }
}
