//! The engine: evaluates the configuration against state through providers.
//!
//! Owns validate, plan and apply: it builds the dependency graph (`graph`), walks it
//! (`walk`) evaluating every variable, local, module call, provider, resource and output
//! per module instance, asks providers to plan and apply, decides each instance's action
//! (`decide`), and records results in the state. It prints nothing: the CLI renders
//! plans and diagnostics.

pub mod vars;

pub mod eval;
pub mod graph;
mod resource;
pub mod walk;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use crate::addrs::AbsResourceInstance;
use crate::config::Config;
use crate::diag::{Diagnostics, Span};
use crate::lang::value::Value;
use crate::plan::{Action, ActionReason, OutputChange, Plan};
use crate::providers::Registry;
use crate::state::backend::Backend;
use crate::state::State;

/// A value given for a root input variable, before conversion to its declared type.
#[derive(Clone, Debug)]
pub enum InputValue {
    /// From `-var` or `TF_VAR_name`: a string, parsed as an expression when the variable's
    /// type is not a primitive (Terraform's rule).
    Raw(String),
    /// From a `.tfvars` file, already evaluated.
    Value(Value),
}

/// A root variable value and where it came from (for messages).
#[derive(Clone, Debug)]
pub struct InputVar {
    pub value: InputValue,
    /// The span in a tfvars file, when it came from one.
    pub span: Option<Span>,
    /// "-var", "TF_VAR_x", "terraform.tfvars", ...
    pub source: String,
}

pub type InputVars = BTreeMap<String, InputVar>;

#[derive(Clone, Debug)]
pub struct PlanOptions {
    pub destroy: bool,
    /// Refresh prior state through providers first (`-refresh=false` turns it off).
    pub refresh: bool,
    /// `-replace=ADDR`: force replacement of these instances.
    pub replace: Vec<AbsResourceInstance>,
    /// Bound on concurrent provider calls (`-parallelism`, default 10).
    pub parallelism: usize,
    pub variables: InputVars,
}

impl Default for PlanOptions {
    fn default() -> Self {
        PlanOptions { destroy: false, refresh: true, replace: Vec::new(), parallelism: 10, variables: BTreeMap::new() }
    }
}

#[derive(Clone, Debug)]
pub struct ApplyOptions {
    pub parallelism: usize,
    pub variables: InputVars,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        ApplyOptions { parallelism: 10, variables: BTreeMap::new() }
    }
}

/// The result of an apply: the new state (always: whatever completed is recorded) and
/// what went wrong, including which instances were skipped because a dependency failed.
pub struct ApplyOutcome {
    pub state: State,
    pub diags: Diagnostics,
    /// Instances applied successfully.
    pub applied: usize,
    /// Addresses skipped because something they depend on failed, with the reason.
    pub skipped: Vec<(String, String)>,
}

/// A loaded configuration plus the providers it can use.
pub struct Engine {
    pub config: Arc<Config>,
    pub registry: Registry,
    /// The working directory (`path.cwd`, `path.root`, file functions).
    pub cwd: PathBuf,
    /// Interrupt level, raised by the CLI on SIGINT/SIGTERM: 1 starts nothing new and
    /// lets running operations finish; 2 stops waiting for them. Walks obey it.
    pub interrupt: Arc<tokio::sync::watch::Sender<u8>>,
}

impl Engine {
    pub fn new(config: Config, registry: Registry, cwd: PathBuf) -> Engine {
        Engine { config: Arc::new(config), registry, cwd, interrupt: Arc::new(tokio::sync::watch::channel(0).0) }
    }

    /// Static checks of the whole configuration: references, function calls, types,
    /// arguments against provider schemas. Needs no state and calls no provider API.
    pub fn validate(&self) -> Diagnostics {
        let (g, mut diags) = graph::build(&self.config, &graph::DestroyInfo::default());
        diags.extend(self.unknown_types());
        // As Terraform does, every expression is still evaluated when some references
        // are undeclared (validate answers every reference with an unknown value, so the
        // undeclared ones are not reported twice); any other error stops here.
        let undeclared = |d: &crate::diag::Diagnostic| d.summary.starts_with("Reference to undeclared ");
        if diags.iter().any(|d| d.severity == crate::diag::Severity::Error && !undeclared(d)) {
            return diags;
        }
        let vars = InputVars::new();
        let mut w = walk::Walker::new(self, walk::Mode::Validate, &vars, State::new(), 10);
        block_on_walk(&mut w, &g);
        diags.extend(w.diags);
        dedup(diags)
    }

    /// One diagnostic per resource type that no compiled-in provider offers.
    fn unknown_types(&self) -> Diagnostics {
        let mut diags = Diagnostics::new();
        let mut seen = std::collections::BTreeSet::new();
        for c in self.config.all() {
            for rc in c.module.resources.values() {
                let name = rc.provider_ref().name;
                let known = self.registry.get(&name).map(|f| {
                    let p = f();
                    let s = p.schema();
                    if rc.is_data() { s.data_sources.contains_key(&rc.addr.type_) } else { s.resources.contains_key(&rc.addr.type_) }
                });
                if known != Some(true) && seen.insert((rc.is_data(), rc.addr.type_.clone())) {
                    diags.push(resource::unknown_type_diag(rc, known.is_some()));
                }
            }
        }
        diags
    }

    /// Plans changes from `prior` to the configuration (or to nothing, for destroy).
    pub async fn plan(&self, prior: &State, opts: &PlanOptions) -> (Option<Plan>, Diagnostics) {
        let (g, mut diags) = graph::build(&self.config, &graph::DestroyInfo::default());
        diags.extend(self.unknown_types());
        if diags.has_errors() {
            return (None, dedup(diags));
        }
        let (prior, moves) = self.apply_moved(prior, &mut diags);
        if opts.destroy {
            // Create intents left by an interrupted apply are resolved by a normal plan
            // first, so that destroy also deletes the objects they made.
            let (mut prior, mut adopted, mut resolved, mut gone) = (prior, Vec::new(), Vec::new(), Vec::new());
            if !prior.pending.is_empty() {
                let (p, d) = Box::pin(self.plan(&prior, &PlanOptions { destroy: false, ..opts.clone() })).await;
                let Some(p) = p else {
                    diags.extend(d);
                    return (None, dedup(diags));
                };
                prior = with_adopted(prior, &p);
                (adopted, resolved, gone) = (p.adopted, p.resolved_intents, p.gone_deposed);
            }
            let mut plan = self.destroy_plan(&prior, &mut diags);
            if diags.has_errors() {
                return (None, dedup(diags));
            }
            (plan.adopted, plan.resolved_intents, plan.gone_deposed) = (adopted, resolved, gone);
            return (Some(plan), diags);
        }
        let mut w = walk::Walker::new(self, walk::Mode::Plan, &opts.variables, prior.clone(), opts.parallelism);
        w.refresh = opts.refresh;
        w.replace = opts.replace.clone();
        w.walk(&g).await;
        diags.extend(std::mem::take(&mut w.diags));
        // Instances in state that the walk never reached: their resource or module is gone.
        for addr in prior.instance_addrs() {
            if w.visited.contains(&addr) {
                continue;
            }
            let obj = prior.instance(&addr).cloned();
            let Some(obj) = obj else { continue };
            let reason = if self.config.descendant(&addr.module.static_path()).map(|c| c.module.resources.contains_key(&addr.resource)).unwrap_or(false) {
                ActionReason::DeleteBecauseNoModule
            } else if self.config.descendant(&addr.module.static_path()).is_none() {
                ActionReason::DeleteBecauseNoModule
            } else {
                ActionReason::DeleteBecauseNoResourceConfig
            };
            if addr.resource.mode == crate::addrs::ResourceMode::Data {
                continue;
            }
            let provider = prior.resources.get(&addr.abs_resource()).map(|r| r.provider.clone()).unwrap_or_default();
            let before = self.typed_state_value(&addr, &obj);
            w.changes.insert(addr.clone(), crate::plan::ResourceChange::delete(addr, provider, reason, before, None));
        }
        // Deposed objects the walk never reached: their resource or module is gone. They
        // are deleted as recorded (no refresh, as for the instances above).
        for (addr, key) in prior.deposed_addrs() {
            if w.visited_deposed.contains(&(addr.clone(), key.clone())) || addr.resource.mode == crate::addrs::ResourceMode::Data {
                continue;
            }
            let Some(obj) = prior.deposed(&addr, &key) else { continue };
            let provider = prior.resources.get(&addr.abs_resource()).map(|r| r.provider.clone()).unwrap_or_default();
            let before = self.typed_state_value(&addr, obj);
            let c = crate::plan::ResourceChange::delete(addr.clone(), provider, ActionReason::None, before, Some(key.clone()));
            w.deposed_changes.insert((addr, key), c);
        }
        let mut plan = Plan { lineage: prior.lineage.clone(), serial: prior.serial, ..Default::default() };
        plan.changes = std::mem::take(&mut w.changes).into_values().collect();
        plan.changes.extend(std::mem::take(&mut w.deposed_changes).into_values());
        plan.changes.sort_by(|a, b| (&a.addr, &a.deposed).cmp(&(&b.addr, &b.deposed)));
        plan.gone_deposed = std::mem::take(&mut w.gone_deposed);
        plan.adopted = std::mem::take(&mut w.adopted);
        plan.resolved_intents = std::mem::take(&mut w.resolved_intents);
        for p in &prior.pending {
            if !plan.resolved_intents.contains(&p.token) {
                diags.push(crate::diag::Diagnostic::warning(
                    "Unresolved create intent",
                    format!("An interrupted apply was creating {} (token {}), but that resource is no longer in the configuration, so terrane cannot ask its provider whether the object exists.", p.address, p.token),
                ).with_help("Restore the resource in the configuration and run plan again, so the object is found and adopted (or confirmed absent)."));
            }
        }
        for c in &mut plan.changes {
            if let Some(from) = moves.get(&c.addr) {
                c.moved_from = Some(from.clone());
            }
        }
        plan.drift = std::mem::take(&mut w.drift);
        plan.outputs = self.output_changes(&prior, &w.store);
        if w.interrupted > 0 {
            diags.push(crate::diag::Diagnostic::error("Plan interrupted", "The plan was interrupted before it finished; nothing was changed."));
        }
        if diags.has_errors() {
            return (None, dedup(diags));
        }
        (Some(plan), dedup(diags))
    }

    fn typed_state_value(&self, addr: &AbsResourceInstance, obj: &crate::state::InstanceObject) -> Value {
        typed_state_value(&self.registry, addr, obj)
    }

    fn destroy_plan(&self, prior: &State, diags: &mut Diagnostics) -> Plan {
        let mut plan = Plan { lineage: prior.lineage.clone(), serial: prior.serial, destroy: true, ..Default::default() };
        for addr in prior.instance_addrs() {
            if addr.resource.mode == crate::addrs::ResourceMode::Data {
                continue;
            }
            let Some(obj) = prior.instance(&addr) else { continue };
            let rc = self.config.descendant(&addr.module.static_path()).and_then(|c| c.module.resources.get(&addr.resource));
            if let Some(rc) = rc.filter(|rc| rc.lifecycle.prevent_destroy) {
                diags.push(resource::prevent_destroy_diag(rc, &addr));
                continue;
            }
            let provider = prior.resources.get(&addr.abs_resource()).map(|r| r.provider.clone()).unwrap_or_default();
            let before = self.typed_state_value(&addr, obj);
            plan.changes.push(crate::plan::ResourceChange::delete(addr, provider, ActionReason::None, before, None));
        }
        for (addr, key) in prior.deposed_addrs() {
            let Some(obj) = prior.deposed(&addr, &key) else { continue };
            let provider = prior.resources.get(&addr.abs_resource()).map(|r| r.provider.clone()).unwrap_or_default();
            let before = self.typed_state_value(&addr, obj);
            plan.changes.push(crate::plan::ResourceChange::delete(addr, provider, ActionReason::None, before, Some(key)));
        }
        plan.changes.sort_by(|a, b| (&a.addr, &a.deposed).cmp(&(&b.addr, &b.deposed)));
        for (name, o) in &prior.outputs {
            plan.outputs.push(OutputChange { name: name.clone(), action: Action::Delete, before: Some(o.value.clone().with_mark(o.sensitive)), after: None, sensitive: o.sensitive });
        }
        plan
    }

    fn output_changes(&self, prior: &State, store: &eval::Store) -> Vec<OutputChange> {
        let mut out = Vec::new();
        let root = crate::addrs::ModuleInstance::root();
        for (name, o) in &self.config.module.outputs {
            let after = store.outputs.get(&(root.clone(), name.clone())).cloned();
            let before = prior.outputs.get(name).map(|p| p.value.clone().with_mark(p.sensitive));
            let action = match (&before, &after) {
                (None, Some(_)) => Action::Create,
                (Some(b), Some(a)) if b.clone().deep_unmark().same_as(&a.clone().deep_unmark()) => Action::NoOp,
                (Some(_), Some(_)) => Action::Update,
                (Some(_), None) => Action::Delete,
                (None, None) => continue,
            };
            out.push(OutputChange { name: name.clone(), action, before, after, sensitive: o.sensitive });
        }
        for (name, p) in &prior.outputs {
            if !self.config.module.outputs.contains_key(name) {
                out.push(OutputChange { name: name.clone(), action: Action::Delete, before: Some(p.value.clone().with_mark(p.sensitive)), after: None, sensitive: p.sensitive });
            }
        }
        out
    }

    /// Applies `moved` blocks to a copy of the state: objects at `from` move to `to`.
    /// Also returns each instance moved, keyed by its new address (for `moved_from`).
    fn apply_moved(&self, prior: &State, diags: &mut Diagnostics) -> (State, BTreeMap<AbsResourceInstance, AbsResourceInstance>) {
        let mut st = prior.clone();
        let mut moves = BTreeMap::new();
        for c in self.config.all() {
            for mv in &c.module.moved {
                let (from, to) = (mv.from.span().text().trim().to_string(), mv.to.span().text().trim().to_string());
                let prefix = if c.path.is_root() { String::new() } else { format!("{}.", c.path) };
                let parse_res = |s: &str| -> Option<crate::addrs::AbsResource> {
                    format!("{prefix}{s}").parse::<AbsResourceInstance>().ok().filter(|a| a.key.is_none()).map(|a| a.abs_resource())
                };
                if let (Some(fa), Some(ta)) = (parse_res(&from), parse_res(&to)) {
                    if st.resources.contains_key(&ta) {
                        continue;
                    }
                    if let Some(r) = st.resources.remove(&fa) {
                        for key in r.instances.keys() {
                            moves.insert(ta.instance(key.clone()), fa.instance(key.clone()));
                        }
                        st.resources.insert(ta, r);
                    }
                    continue;
                }
                match (format!("{prefix}{from}").parse::<AbsResourceInstance>(), format!("{prefix}{to}").parse::<AbsResourceInstance>()) {
                    (Ok(fa), Ok(ta)) => {
                        if st.instance(&ta).is_none() && st.instance(&fa).is_some() {
                            let provider = st.resources.get(&fa.abs_resource()).map(|r| r.provider.clone()).unwrap_or_default();
                            // Its deposed objects move with it.
                            st.move_instance(&fa, &ta, &provider);
                            moves.insert(ta, fa);
                        }
                    }
                    _ => diags.push(
                        crate::diag::Diagnostic::error("Invalid \"moved\" address", "The `from` and `to` of a moved block must be resource or resource instance addresses, like `aws_instance.a` or `aws_instance.a[0]`.")
                            .with_span(mv.span.clone()),
                    ),
                }
            }
        }
        (st, moves)
    }

    /// Applies `plan` to `prior`, persisting the state through `backend` as instances
    /// complete. Returns the final state even on failure.
    pub async fn apply(&self, plan: &Plan, prior: State, opts: &ApplyOptions, backend: Arc<dyn Backend>) -> ApplyOutcome {
        let mut info = graph::DestroyInfo::default();
        for c in &plan.changes {
            let key = (c.addr.module.static_path(), c.addr.resource.clone());
            match c.action {
                // A deposed object of a resource that is still create_before_destroy is
                // deleted after the resource's (new) objects are applied.
                Action::Delete if c.deposed.is_some() => {
                    let cbd = self.config.descendant(&key.0).and_then(|m| m.module.resources.get(&key.1)).map(|rc| rc.lifecycle.create_before_destroy).unwrap_or(false);
                    let kind = info.destroys.entry(key).or_default();
                    kind.create_before_destroy |= cbd;
                }
                Action::Delete => {
                    info.destroys.entry(key).or_default();
                }
                Action::DeleteThenCreate => info.destroys.entry(key).or_default().replace = true,
                Action::CreateThenDelete => info.destroys.entry(key).or_default().create_before_destroy = true,
                _ => {}
            }
        }
        for (res, r) in &prior.resources {
            let deps = info.state_deps.entry((res.module.static_path(), res.resource.clone())).or_default();
            for obj in r.instances.values() {
                for d in &obj.dependencies {
                    let k = (d.module.static_path(), d.resource.clone());
                    if !deps.contains(&k) {
                        deps.push(k);
                    }
                }
            }
        }
        let prior = with_adopted(self.apply_moved(&prior, &mut Diagnostics::new()).0, plan);
        let (g, diags) = graph::build(&self.config, &info);
        if diags.has_errors() {
            return ApplyOutcome { state: prior, diags, applied: 0, skipped: Vec::new() };
        }
        let mut w = walk::Walker::new(self, walk::Mode::Apply, &opts.variables, prior, opts.parallelism);
        w.plan = Some(plan);
        w.graph_for_deps = Some(&g);
        w.backend = Some(backend);
        // Adopted objects and resolved intents change the state before anything runs.
        w.dirty = !plan.resolved_intents.is_empty() || !plan.gone_deposed.is_empty();
        w.walk(&g).await;
        if w.interrupted > 0 {
            let not_started: Vec<&str> = w.skipped.iter().filter(|(_, why)| why.contains("interrupted")).map(|(a, _)| a.as_str()).collect();
            w.diags.push(crate::diag::Diagnostic::error(
                "Apply interrupted",
                format!(
                    "{} instance(s) were applied and recorded before the interrupt; {} step(s) were not started{}.{}",
                    w.applied,
                    not_started.len(),
                    if not_started.is_empty() { String::new() } else { format!(" ({})", not_started.join(", ")) },
                    if w.interrupted >= 2 { " Operations in flight were abandoned; their create intents are recorded in the state, and the next plan or apply finds what they made." } else { "" }
                ),
            ).with_help("Run `terrane apply` again to finish."));
        }
        // Data sources are re-read on every plan, so the plan names each one the
        // configuration still has; the rest left the configuration.
        let planned: std::collections::BTreeSet<_> = plan.changes.iter().map(|c| &c.addr).collect();
        for addr in w.state.instance_addrs() {
            if addr.resource.mode == crate::addrs::ResourceMode::Data && (plan.destroy || !planned.contains(&addr)) {
                let provider = w.state.resources.get(&addr.abs_resource()).map(|r| r.provider.clone()).unwrap_or_default();
                w.state.set_instance(&addr, &provider, None);
            }
        }
        // Root outputs.
        let root = crate::addrs::ModuleInstance::root();
        w.state.outputs.clear();
        if !plan.destroy {
            for (name, o) in &self.config.module.outputs {
                if let Some(v) = w.store.outputs.get(&(root.clone(), name.clone())) {
                    if v.is_wholly_known() {
                        let (v, marked) = (v.clone().deep_unmark(), v.contains_sensitive());
                        w.state.outputs.insert(name.clone(), crate::state::OutputState { value: v, sensitive: o.sensitive || marked });
                    }
                }
            }
        }
        w.dirty = true;
        w.persist(true).await;
        let mut all = diags;
        all.extend(std::mem::take(&mut w.diags));
        ApplyOutcome { state: w.state, diags: dedup(all), applied: w.applied, skipped: w.skipped }
    }

    /// The dependency graph in DOT.
    pub fn graph_dot(&self) -> Result<String, Diagnostics> {
        let (g, diags) = graph::build(&self.config, &graph::DestroyInfo::default());
        if diags.has_errors() {
            return Err(diags);
        }
        Ok(g.graph.dot())
    }

    /// Evaluates one expression in the root module against `state` (for `console`).
    pub fn eval_expr(&self, state: &State, src: &str, vars: &InputVars) -> Result<Value, Diagnostics> {
        let (session, diags) = self.eval_session(state, vars);
        if diags.has_errors() {
            return Err(diags);
        }
        session.eval(src).map_err(Diagnostics::from)
    }

    /// Walks the configuration once against `state` without calling any provider
    /// (resources take their values from state), so that expressions can then be
    /// evaluated in the root module as `terraform console` evaluates them.
    pub fn eval_session<'e>(&'e self, state: &State, vars: &'e InputVars) -> (EvalSession<'e>, Diagnostics) {
        let (g, mut diags) = graph::build(&self.config, &graph::DestroyInfo::default());
        let mut w = walk::Walker::new(self, walk::Mode::Eval, vars, state.clone(), 1);
        if !diags.has_errors() {
            block_on_walk(&mut w, &g);
            diags.extend(std::mem::take(&mut w.diags));
        }
        (EvalSession { w }, dedup(diags))
    }
}

/// The root module's scope after an eval walk: answers `var.x`, `local.x`, resource
/// attributes from state and `module.x` outputs.
pub struct EvalSession<'e> {
    w: walk::Walker<'e>,
}

impl EvalSession<'_> {
    /// Parses and evaluates one line of console input (named `<console-input>`).
    pub fn eval(&self, src: &str) -> Result<Value, crate::diag::Diagnostic> {
        let file = crate::diag::SourceFile::new("<console-input>", src);
        let expr = crate::lang::parse_expr(src).map_err(|e| {
            let off = e.location().offset().min(src.len());
            crate::diag::Diagnostic::error("Invalid expression", e.message().to_string()).with_span(Span::new(&file, off..(off + 1).min(src.len()).max(off)))
        })?;
        let root = crate::addrs::ModuleInstance::root();
        crate::lang::eval::eval(&crate::config::Expr::parsed(file, expr), &self.w.scope(&root, eval::Binding::default()))
    }
}

/// A state object's attributes typed by its provider's schema, with the attributes the
/// schema calls sensitive and the ones recorded sensitive in the state marked (so that
/// they render as `(sensitive value)`).
pub fn typed_state_value(registry: &Registry, addr: &AbsResourceInstance, obj: &crate::state::InstanceObject) -> Value {
    let v = &obj.attributes;
    let name = addr.resource.implied_provider();
    if let Some(f) = registry.get(name) {
        let p = f();
        let s = p.schema();
        let rs = if addr.resource.mode == crate::addrs::ResourceMode::Data { s.data_sources.get(&addr.resource.type_) } else { s.resources.get(&addr.resource.type_) };
        if let Some(rs) = rs {
            return eval::mark_sensitive(obj.restore_marks(eval::retype(v, &rs.block)), &rs.block, None);
        }
    }
    obj.restore_marks(v.clone())
}

/// `prior` with the plan's adopted objects recorded and its resolved intents removed.
fn with_adopted(mut prior: State, plan: &Plan) -> State {
    for (addr, key) in &plan.gone_deposed {
        prior.set_deposed(addr, key, "", None);
    }
    if plan.resolved_intents.is_empty() {
        return prior;
    }
    prior.pending.retain(|p| !plan.resolved_intents.contains(&p.token));
    for a in &plan.adopted {
        let obj = crate::state::InstanceObject {
            status: crate::state::ObjectStatus::Ready,
            schema_version: 0,
            attributes: a.value.clone().deep_unmark(),
            dependencies: Vec::new(),
            create_before_destroy: false,
            private: None,
            sensitive_attrs: Default::default(),
        };
        prior.set_instance(&a.addr, &a.provider, Some(obj));
    }
    prior
}

/// Runs a walk that makes no provider calls to completion from synchronous code.
fn block_on_walk(w: &mut walk::Walker<'_>, g: &graph::EngineGraph) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build();
    match rt {
        Ok(rt) => rt.block_on(w.walk(g)),
        Err(e) => w.diags.push(crate::diag::Diagnostic::error("Internal error", format!("Cannot start the runtime: {e}"))),
    }
}

/// Drops repeated diagnostics (same summary, detail and place).
fn dedup(d: Diagnostics) -> Diagnostics {
    let mut seen = std::collections::HashSet::new();
    Diagnostics(d.0.into_iter().filter(|x| seen.insert((x.summary.clone(), x.detail.clone(), x.span.as_ref().map(|s| (s.file.name.clone(), s.start))))).collect())
}
