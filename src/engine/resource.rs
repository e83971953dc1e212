//! Resource nodes of the walk: expanding a resource into instances, evaluating their
//! configuration, asking the provider to refresh, plan and apply, deciding each
//! instance's action, and recording results in the state.

use std::sync::Arc;

use futures::future::BoxFuture;
use futures::FutureExt;

use super::eval::{decode_body, mark_sensitive, retype, Binding, EvalScope, Store};
use super::graph::Node;
use super::walk::{path_span, Mode, Outcome, OutcomeKind, Walker};
use crate::addrs::{AbsResource, AbsResourceInstance, InstanceKey, ModuleInstance, ModulePath, ModuleStep, Resource, ResourceMode};
use crate::config::{IgnoreChanges, ResourceConfig};
use crate::diag::{Diagnostic, Diagnostics};
use crate::lang::eval::{references, RefRoot};
use crate::lang::value::Value;
use crate::plan::{Action, ActionReason, ResourceChange};
use crate::providers::{ApplyRequest, BlockSchema, ObjectIdentity, PlanRequest, Provider};
use crate::state::{DeposedKey, InstanceObject, ObjectStatus};

type Fut = BoxFuture<'static, Outcome>;

fn outcome(addr: AbsResourceInstance, config: Value, kind: OutcomeKind) -> Outcome {
    Outcome { addr, config, refreshed: None, planned: None, requires_replace: Vec::new(), new_state: None, diags: Vec::new(), spanned: Diagnostics::new(), kind, token: None, adopted: false, deposed: None }
}

/// Refreshes an object the configuration no longer plans (an orphan or a deposed object)
/// into `o.refreshed`; without refresh the stored value stands.
fn refresh_fut(mut o: Outcome, p: Arc<dyn Provider>, ty: String, prior: Value, refresh: bool) -> Fut {
    async move {
        if refresh {
            let rr = p.read_resource(&ty, &prior).await;
            o.diags = rr.diags;
            o.refreshed = Some(rr.new_state);
        } else {
            o.refreshed = Some(Some(prior));
        }
        o
    }
    .boxed()
}

/// What provisioners are evaluated against once their instance exists: a copy of the
/// walk's values at the time the instance's apply starts (its dependencies are done).
struct ScopeSnapshot {
    config: Arc<crate::config::Config>,
    store: Store,
    module: ModuleInstance,
    binding: Binding,
    cwd: std::path::PathBuf,
}

impl ScopeSnapshot {
    fn scope(&self, self_value: Value) -> EvalScope<'_> {
        EvalScope { config: &self.config, store: &self.store, module: &self.module, binding: self.binding.clone(), self_value: Some(self_value), cwd: &self.cwd, all_unknown: false, impure_unknown: false }
    }
}

/// The body a provider decodes: a `connection` block, which the configuration keeps
/// apart for provisioners, goes back in when the resource type's schema has one (the
/// `ssh_*` resources).
fn provider_body<'a>(rc: &'a ResourceConfig, schema: &BlockSchema) -> std::borrow::Cow<'a, crate::config::Body> {
    match (&rc.connection, schema.blocks.contains_key("connection")) {
        (Some(c), true) => {
            let mut b = rc.body.clone();
            b.blocks.push(crate::config::BlockCfg { ident: "connection".into(), labels: Vec::new(), ident_span: rc.span.clone(), label_spans: Vec::new(), body: c.clone(), span: rc.span.clone() });
            std::borrow::Cow::Owned(b)
        }
        _ => std::borrow::Cow::Borrowed(&rc.body),
    }
}

/// Applies `ignore_changes`: the listed attributes keep their prior values.
fn ignore_changes(config: Value, prior: Option<&Value>, ic: &IgnoreChanges) -> Value {
    let Some(p) = prior.and_then(|p| p.as_map()) else { return config };
    let Value::Object(mut c) = config else { return config };
    match ic {
        IgnoreChanges::None => {}
        IgnoreChanges::All => {
            for (k, v) in p {
                c.insert(k.clone(), v.clone());
            }
        }
        IgnoreChanges::Attrs(attrs) => {
            for (a, _) in attrs {
                if let Some(v) = p.get(a) {
                    c.insert(a.clone(), v.clone());
                }
            }
        }
    }
    Value::Object(c)
}

fn replace_action(rc: &ResourceConfig) -> Action {
    if rc.lifecycle.create_before_destroy {
        Action::CreateThenDelete
    } else {
        Action::DeleteThenCreate
    }
}

/// One diagnostic for a resource type no built-in provider has (or an unknown provider).
pub fn unknown_type_diag(rc: &ResourceConfig, provider_known: bool) -> Diagnostic {
    let kind = if rc.is_data() { "data source" } else { "resource type" };
    if provider_known {
        Diagnostic::error(format!("Invalid {kind}"), format!("The provider \"{}\" does not support {kind} \"{}\".", rc.provider_ref().name, rc.addr.type_)).with_span(rc.span.clone())
    } else {
        Diagnostic::error("Provider not available", format!("The {kind} \"{}\" needs the provider \"{}\", which is not built into terrane.", rc.addr.type_, rc.provider_ref().name))
            .with_span(rc.span.clone())
            .with_help("terrane's providers are compiled in; this build has: terraform, random, local, aws, ssh.")
    }
}

impl<'e> Walker<'e> {
    fn schema_of(&self, provider: &Option<Arc<dyn Provider>>, r: &Resource) -> Option<BlockSchema> {
        let s = provider.as_ref()?.schema();
        let rs = if r.mode == ResourceMode::Data { s.data_sources.get(&r.type_) } else { s.resources.get(&r.type_) };
        rs.map(|x| x.block.clone())
    }

    pub(super) fn prepare_resource(&mut self, m: &ModulePath, r: &Resource) -> Result<Vec<Fut>, ()> {
        let cfg = self.engine.config.clone();
        let Some(rc) = cfg.descendant(m).and_then(|c| c.module.resources.get(r)) else { return Ok(Vec::new()) };
        let (provider, _) = self.provider_for(m, Some(rc), r);
        // An unknown type was reported once by `Engine::unknown_types`; fail quietly.
        let (Some(schema), Some(provider)) = (self.schema_of(&provider, r), provider) else { return Err(()) };
        let mut futs: Vec<Fut> = Vec::new();
        let mut failed = false;
        for mi in self.store.instances_of(m) {
            let abs = AbsResource { module: mi.clone(), resource: r.clone() };
            let Some(exp) = self.expansion(&mi, rc.count.as_ref(), rc.for_each.as_ref()) else {
                failed = true;
                continue;
            };
            self.store.resources.entry(abs.clone()).or_default().expansion = Some(exp.clone());
            self.store.invalidate_resource(&abs);
            let keys = exp.keys();
            if self.mode == Mode::Eval {
                // Console: the values recorded in state, as Terraform's eval walk reads them.
                for key in &keys {
                    let addr = abs.instance(key.clone());
                    let v = match self.state.instance(&addr) {
                        Some(obj) => mark_sensitive(obj.restore_marks(retype(&obj.attributes, &schema)), &schema, None),
                        None => Value::unknown(),
                    };
                    self.store.set_resource_value(&abs, key.clone(), v);
                }
                continue;
            }
            for key in &keys {
                let addr = abs.instance(key.clone());
                self.visited.insert(addr.clone());
                let mut d = Diagnostics::new();
                let what = format!("a resource \"{}\" \"{}\" block", r.type_, r.name);
                let config = decode_body(&provider_body(rc, &schema), &schema, &self.scope(&mi, exp.binding(key)), &[], &rc.span, &what, &mut d);
                if !rc.provisioners.is_empty() && self.mode != Mode::Apply {
                    let mut sc = self.scope(&mi, exp.binding(key));
                    sc.self_value = Some(Value::unknown());
                    sc.all_unknown = true;
                    d.extend(crate::provision::check(&rc.provisioners, rc.connection.as_ref(), &sc));
                }
                let bad = d.has_errors();
                self.diags.extend(d);
                if bad {
                    failed = true;
                    continue;
                }
                let mut bad = false;
                for pd in provider.validate_resource(&r.type_, &config) {
                    let diag = if pd.error { Diagnostic::error(pd.summary, pd.detail) } else { Diagnostic::warning(pd.summary, pd.detail) };
                    bad |= diag.is_error();
                    self.diags.push(diag.with_span(path_span(rc, &pd.path)));
                }
                if bad {
                    failed = true;
                    continue;
                }
                match self.mode {
                    Mode::Validate | Mode::Eval => {}
                    Mode::Plan => futs.push(self.plan_instance_fut(&provider, rc, &schema, addr, config)),
                    Mode::Apply => {
                        if let Some(f) = self.apply_instance_fut(&provider, rc, &schema, addr, config) {
                            futs.push(f);
                        }
                    }
                }
            }
            // Orphans: instances in state whose key is no longer expanded.
            if self.mode == Mode::Plan {
                let orphan_keys: Vec<InstanceKey> =
                    self.state.resources.get(&abs).map(|rs| rs.instances.keys().filter(|k| !keys.contains(k)).cloned().collect()).unwrap_or_default();
                for k in orphan_keys {
                    let addr = abs.instance(k);
                    self.visited.insert(addr.clone());
                    let Some(obj) = self.state.instance(&addr) else { continue };
                    let prior = retype(&obj.attributes, &schema);
                    let p = provider.clone();
                    let ty = r.type_.clone();
                    let refresh = self.refresh && r.mode == ResourceMode::Managed;
                    futs.push(refresh_fut(outcome(addr, Value::null(), OutcomeKind::PlanOrphan), p, ty, prior, refresh));
                }
                // Deposed objects (left by an interrupted create_before_destroy
                // replacement): refreshed, then planned for deletion if they still exist.
                let deposed: Vec<(InstanceKey, DeposedKey, Value)> = self
                    .state
                    .resources
                    .get(&abs)
                    .map(|rs| rs.deposed.iter().map(|((k, dk), obj)| (k.clone(), dk.clone(), retype(&obj.attributes, &schema))).collect())
                    .unwrap_or_default();
                for (k, dk, prior) in deposed {
                    let addr = abs.instance(k);
                    self.visited_deposed.insert((addr.clone(), dk.clone()));
                    let p = provider.clone();
                    let ty = r.type_.clone();
                    let refresh = self.refresh && r.mode == ResourceMode::Managed;
                    let mut o = outcome(addr, Value::null(), OutcomeKind::PlanDeposed);
                    o.deposed = Some(dk);
                    futs.push(refresh_fut(o, p, ty, prior, refresh));
                }
            }
        }
        if failed {
            return Err(());
        }
        Ok(futs)
    }

    fn plan_instance_fut(&self, provider: &Arc<dyn Provider>, rc: &ResourceConfig, schema: &BlockSchema, addr: AbsResourceInstance, config: Value) -> Fut {
        let p = provider.clone();
        let ty = rc.addr.type_.clone();
        let is_data = rc.is_data();
        let prior = self.state.instance(&addr).map(|o| (retype(&o.attributes, schema), o.status));
        // A create intent left by an interrupted apply: ask the provider whether the
        // object exists before deciding to create it (again).
        let intent = if prior.is_none() && !self.state.pending.is_empty() {
            let a = addr.to_string();
            self.state.pending.iter().find(|p| p.address == a).map(|p| ObjectIdentity { lineage: self.state.lineage.clone(), address: a.clone(), token: p.token.clone() })
        } else {
            None
        };
        let refresh = self.refresh;
        let ic = rc.lifecycle.ignore_changes.clone();
        async move {
            let mut o = outcome(addr, config.clone(), if is_data { OutcomeKind::ReadData } else { OutcomeKind::Plan });
            if is_data {
                if config.is_wholly_known() {
                    let rr = p.read_data(&ty, &config.clone().deep_unmark()).await;
                    o.diags = rr.diags;
                    o.planned = rr.new_state;
                }
                return o;
            }
            let mut current = prior.as_ref().map(|(v, _)| v.clone());
            if let Some(identity) = &intent {
                o.token = Some(identity.token.clone());
                match p.recover(&ty, identity).await {
                    Ok(Some(v)) => {
                        current = Some(v);
                        o.adopted = true;
                    }
                    Ok(None) => {}
                    Err(d) => {
                        o.diags.extend(d);
                        return o;
                    }
                }
            }
            if let (Some(pv), true) = (&current, refresh) {
                let rr = p.read_resource(&ty, pv).await;
                o.diags.extend(rr.diags);
                current = rr.new_state;
            }
            o.refreshed = Some(current.clone());
            if o.diags.iter().any(|d| d.error) {
                return o;
            }
            let tainted = prior.as_ref().map(|(_, s)| *s == ObjectStatus::Tainted).unwrap_or(false);
            let cfg = ignore_changes(config, current.as_ref(), &ic).deep_unmark();
            let prior_for_plan = if tainted { None } else { current.as_ref() };
            let resp = p.plan_change(PlanRequest { type_name: &ty, prior: prior_for_plan, config: &cfg }).await;
            o.diags.extend(resp.diags);
            // A replacement is planned as a fresh create.
            if !resp.requires_replace.is_empty() && !tainted {
                let fresh = p.plan_change(PlanRequest { type_name: &ty, prior: None, config: &cfg }).await;
                o.diags.extend(fresh.diags);
                o.planned = Some(fresh.planned);
            } else {
                o.planned = Some(resp.planned);
            }
            o.requires_replace = resp.requires_replace;
            o
        }
        .boxed()
    }

    pub(super) fn finish_resource(&mut self, m: &ModulePath, r: &Resource, outcomes: Vec<Outcome>) {
        let cfg = self.engine.config.clone();
        let Some(rc) = cfg.descendant(m).and_then(|c| c.module.resources.get(r)) else { return };
        let (provider, paddr) = self.provider_for(m, Some(rc), r);
        let Some(schema) = self.schema_of(&provider, r) else { return };
        for o in outcomes {
            for pd in &o.diags {
                let d = if pd.error { Diagnostic::error(pd.summary.clone(), format!("{}: {}", o.addr, pd.detail)) } else { Diagnostic::warning(pd.summary.clone(), format!("{}: {}", o.addr, pd.detail)) };
                self.diags.push(d.with_span(path_span(rc, &pd.path)));
            }
            let provisioner_failed = o.spanned.has_errors();
            self.diags.extend(o.spanned.clone());
            if o.diags.iter().any(|d| d.error) || provisioner_failed {
                continue;
            }
            if self.mode == Mode::Plan {
                if let Some(t) = &o.token {
                    self.resolved_intents.push(t.clone());
                    if let (true, Some(Some(v))) = (o.adopted, &o.refreshed) {
                        self.adopted.push(crate::plan::AdoptedObject { addr: o.addr.clone(), provider: paddr.clone(), value: v.clone().deep_unmark() });
                    }
                }
            }
            match (self.mode, o.kind) {
                (Mode::Plan, OutcomeKind::Plan) => self.decide(rc, &schema, &paddr, o),
                (Mode::Plan, OutcomeKind::PlanOrphan) => {
                    let stored = self.state.instance(&o.addr).cloned();
                    let prior = stored.as_ref().map(|x| retype(&x.attributes, &schema));
                    self.note_drift(&o, prior.as_ref(), &schema, &paddr);
                    let restore = |v: Value| match &stored {
                        Some(x) => x.restore_marks(v),
                        None => v,
                    };
                    if let Some(Some(cur)) = &o.refreshed {
                        let reason = match o.addr.key {
                            InstanceKey::Int(_) => ActionReason::DeleteBecauseCountIndex,
                            InstanceKey::Str(_) => ActionReason::DeleteBecauseEachKey,
                            InstanceKey::None => ActionReason::DeleteBecauseNoResourceConfig,
                        };
                        let c = ResourceChange::delete(o.addr.clone(), paddr.clone(), reason, mark_sensitive(restore(cur.clone()), &schema, None), None);
                        self.add_change(rc, c);
                    }
                }
                (Mode::Plan, OutcomeKind::PlanDeposed) => {
                    let Some(dk) = o.deposed.clone() else { continue };
                    let Some(stored) = self.state.deposed(&o.addr, &dk).cloned() else { continue };
                    let prior = mark_sensitive(stored.restore_marks(retype(&stored.attributes, &schema)), &schema, None);
                    let change = |action, before: Value| ResourceChange {
                        addr: o.addr.clone(),
                        provider: paddr.clone(),
                        action,
                        reason: ActionReason::None,
                        before: Some(before),
                        after: None,
                        requires_replace: Vec::new(),
                        moved_from: None,
                        deposed: Some(dk.clone()),
                    };
                    match &o.refreshed {
                        // Gone already: dropped from the state by apply, shown as drift.
                        Some(None) => {
                            self.drift.push(change(Action::Delete, prior));
                            self.gone_deposed.push((o.addr.clone(), dk.clone()));
                        }
                        Some(Some(cur)) => {
                            let c = change(Action::Delete, mark_sensitive(stored.restore_marks(cur.clone()), &schema, None));
                            self.deposed_changes.insert((o.addr.clone(), dk.clone()), c);
                        }
                        None => {}
                    }
                }
                (_, OutcomeKind::ReadData) => {
                    let abs = o.addr.abs_resource();
                    match o.planned {
                        Some(v) => {
                            let v = mark_sensitive(v, &schema, Some(&o.config));
                            match self.mode {
                                // Apply uses exactly what plan read (a no-op change carrying
                                // the value) instead of reading again.
                                Mode::Plan => {
                                    let c = ResourceChange { addr: o.addr.clone(), provider: paddr.clone(), action: Action::NoOp, reason: ActionReason::None, before: None, after: Some(v.clone()), requires_replace: Vec::new(), moved_from: None, deposed: None };
                                    self.changes.insert(o.addr.clone(), c);
                                }
                                // Data sources are recorded in the state, as Terraform does,
                                // so `state show` and `console` see them.
                                Mode::Apply => {
                                    let obj = InstanceObject { status: ObjectStatus::Ready, schema_version: 0, sensitive_attrs: InstanceObject::sensitive_attrs_of(&v, None), attributes: v.clone().deep_unmark(), dependencies: Vec::new(), create_before_destroy: false, private: None };
                                    self.state.set_instance(&o.addr, &paddr, Some(obj));
                                    self.dirty = true;
                                }
                                Mode::Validate | Mode::Eval => {}
                            }
                            self.store.set_resource_value(&abs, o.addr.key.clone(), v);
                        }
                        None => {
                            // The configuration is not known yet: read during apply.
                            self.store.set_resource_value(&abs, o.addr.key.clone(), Value::unknown());
                            if self.mode == Mode::Plan {
                                let c = ResourceChange {
                                    addr: o.addr.clone(),
                                    provider: paddr.clone(),
                                    action: Action::Read,
                                    reason: ActionReason::ReadBecauseConfigUnknown,
                                    before: None,
                                    after: Some(mark_sensitive(o.config.clone(), &schema, Some(&o.config))),
                                    requires_replace: Vec::new(),
                                    moved_from: None,
                deposed: None,
                                };
                                self.changes.insert(o.addr.clone(), c);
                            }
                        }
                    }
                }
                (Mode::Apply, OutcomeKind::Apply) => {
                    if let Some(obj) = self.state.instance(&o.addr) {
                        let v = mark_sensitive(obj.restore_marks(retype(&obj.attributes, &schema)), &schema, Some(&o.config));
                        self.store.set_resource_value(&o.addr.abs_resource(), o.addr.key.clone(), v);
                    }
                }
                _ => {}
            }
        }
        // Instances without provider work (no-ops in apply) still need their values.
        if self.mode == Mode::Apply {
            for mi in self.store.instances_of(m) {
                let abs = AbsResource { module: mi.clone(), resource: r.clone() };
                let keys = self.store.resources.get(&abs).and_then(|rv| rv.expansion.clone()).map(|e| e.keys()).unwrap_or_default();
                for k in keys {
                    let have = self.store.resources.get(&abs).map(|rv| rv.values.contains_key(&k)).unwrap_or(false);
                    if !have {
                        if let Some(obj) = self.state.instance(&abs.instance(k.clone())) {
                            let v = mark_sensitive(obj.restore_marks(retype(&obj.attributes, &schema)), &schema, None);
                            self.store.set_resource_value(&abs, k, v);
                        }
                    }
                }
            }
        }
    }

    fn note_drift(&mut self, o: &Outcome, prior: Option<&Value>, schema: &BlockSchema, paddr: &str) {
        let (Some(prior), Some(refreshed)) = (prior, &o.refreshed) else { return };
        let stored = self.state.instance(&o.addr);
        let restore = |v: Value| match stored {
            Some(x) => x.restore_marks(v),
            None => v,
        };
        let change = |action, after: Option<Value>| ResourceChange {
            addr: o.addr.clone(),
            provider: paddr.to_string(),
            action,
            reason: ActionReason::None,
            before: Some(mark_sensitive(restore(prior.clone()), schema, None)),
            after: after.map(|a| mark_sensitive(restore(a), schema, None)),
            requires_replace: Vec::new(),
            moved_from: None,
            deposed: None,
        };
        match refreshed {
            None => self.drift.push(change(Action::Delete, None)),
            Some(cur) if !cur.same_as(prior) => self.drift.push(change(Action::Update, Some(cur.clone()))),
            _ => {}
        }
    }

    fn add_change(&mut self, rc: &ResourceConfig, c: ResourceChange) {
        if rc.lifecycle.prevent_destroy && (c.action == Action::Delete || c.action.is_replace()) {
            self.diags.push(prevent_destroy_diag(rc, &c.addr));
        }
        self.changes.insert(c.addr.clone(), c);
    }

    /// Decides one instance's action from its refreshed prior and the provider's plan.
    fn decide(&mut self, rc: &ResourceConfig, schema: &BlockSchema, paddr: &str, o: Outcome) {
        let stored = self.state.instance(&o.addr).cloned();
        let prior_typed = stored.as_ref().map(|x| retype(&x.attributes, schema));
        self.note_drift(&o, prior_typed.as_ref(), schema, paddr);
        let current = o.refreshed.clone().flatten();
        let tainted = stored.as_ref().map(|s| s.status == ObjectStatus::Tainted).unwrap_or(false);
        let planned = o.planned.clone().unwrap_or_else(Value::unknown);
        let triggered = self.replace_trigger(rc, &o.addr);
        let (action, reason) = match &current {
            None => (Action::Create, if stored.is_some() { ActionReason::CreateBecauseGone } else { ActionReason::None }),
            Some(_) if tainted => (replace_action(rc), ActionReason::ReplaceBecauseTainted),
            Some(_) if self.replace.contains(&o.addr) => (replace_action(rc), ActionReason::ReplaceByRequest),
            Some(_) if triggered.is_some() => (replace_action(rc), ActionReason::ReplaceByTriggers { trigger: triggered.clone().unwrap_or_default() }),
            Some(_) if !o.requires_replace.is_empty() => (replace_action(rc), ActionReason::ReplaceBecauseCannotUpdate),
            Some(cur) if cur.same_as(&planned) => (Action::NoOp, ActionReason::None),
            Some(_) => (Action::Update, ActionReason::None),
        };
        let after = mark_sensitive(planned.clone(), schema, Some(&o.config));
        let visible = if action == Action::NoOp { mark_sensitive(current.clone().unwrap_or(planned), schema, Some(&o.config)) } else { after.clone() };
        self.store.set_resource_value(&o.addr.abs_resource(), o.addr.key.clone(), visible);
        let c = ResourceChange {
            addr: o.addr.clone(),
            provider: paddr.to_string(),
            action,
            reason,
            before: current.map(|c| {
                let c = match &stored {
                    Some(x) => x.restore_marks(c),
                    None => c,
                };
                mark_sensitive(c, schema, None)
            }),
            after: Some(after),
            requires_replace: if action.is_replace() { o.requires_replace } else { Vec::new() },
            moved_from: None,
            deposed: None,
        };
        self.add_change(rc, c);
    }

    /// The first `replace_triggered_by` reference whose resource has a planned change.
    fn replace_trigger(&self, rc: &ResourceConfig, addr: &AbsResourceInstance) -> Option<String> {
        for e in &rc.lifecycle.replace_triggered_by {
            for r in references(e, &[]) {
                if let RefRoot::Resource { mode, type_, name } = &r.root {
                    let abs = AbsResource { module: addr.module.clone(), resource: Resource { mode: *mode, type_: type_.clone(), name: name.clone() } };
                    let changed = self.changes.range(abs.instance(InstanceKey::None)..).take_while(|(a, _)| a.abs_resource() == abs).any(|(_, c)| c.action != Action::NoOp);
                    if changed {
                        return Some(r.span.text().to_string());
                    }
                }
            }
        }
        None
    }

    // ---- apply -------------------------------------------------------------------------

    /// A copy of what an instance's provisioners may refer to.
    fn snapshot(&self, addr: &AbsResourceInstance) -> ScopeSnapshot {
        let binding = self.store.resources.get(&addr.abs_resource()).and_then(|rv| rv.expansion.as_ref()).map(|e| e.binding(&addr.key)).unwrap_or_default();
        ScopeSnapshot { config: self.engine.config.clone(), store: self.store.clone(), module: addr.module.clone(), binding, cwd: self.engine.cwd.clone() }
    }

    fn apply_instance_fut(&mut self, provider: &Arc<dyn Provider>, rc: &ResourceConfig, schema: &BlockSchema, addr: AbsResourceInstance, config: Value) -> Option<Fut> {
        let plan = self.plan?;
        // A destroy plan only deletes; instances it does not name are left alone.
        if plan.destroy {
            return None;
        }
        let Some(change) = self.planned_change(&addr) else {
            if self.state.instance(&addr).is_none() {
                self.diags.push(Diagnostic::error("Inconsistent apply", format!("{addr} is not in the plan, but the configuration now has it. Run plan again.")).with_span(rc.span.clone()));
            }
            return None;
        };
        let p = provider.clone();
        let ty = rc.addr.type_.clone();
        let kind = change.action;
        if kind == Action::NoOp && rc.is_data() {
            // Read during plan: the plan carries the value.
            let value = change.after.clone();
            return Some(
                async move {
                    let mut o = outcome(addr, config, OutcomeKind::ReadData);
                    o.planned = value.map(|v| v.deep_unmark());
                    o
                }
                .boxed(),
            );
        }
        if kind == Action::Read {
            return Some(
                async move {
                    let mut o = outcome(addr, config.clone(), OutcomeKind::ReadData);
                    let rr = p.read_data(&ty, &config.deep_unmark()).await;
                    o.diags = rr.diags;
                    o.planned = rr.new_state;
                    o
                }
                .boxed(),
            );
        }
        if !matches!(kind, Action::Create | Action::Update | Action::DeleteThenCreate | Action::CreateThenDelete) {
            return None;
        }
        // Delete-then-create already deleted the old object; create-then-delete deposes
        // it (in the state, under a new deposed key) until its Destroy node deletes it.
        let prior = if kind == Action::Update { self.state.instance(&addr).map(|o| retype(&o.attributes, schema)) } else { None };
        let mut deposed_now = false;
        if kind == Action::CreateThenDelete {
            if let Some(key) = self.state.depose(&addr) {
                self.deposed.insert(addr.clone(), key);
                self.dirty = true;
                deposed_now = true;
            }
        }
        let identity = ObjectIdentity { lineage: self.state.lineage.clone(), address: addr.to_string(), token: uuid::Uuid::new_v4().to_string() };
        // Crash safety: a create that makes something outside terrane is first recorded
        // as an intent in the state on disk, so that a crash at any point leaves a trace
        // that the next run resolves with `recover`. A deposal is written in the same
        // write: were the old object still current on disk, the next plan would not look
        // for what the intent made.
        let mut wait = None;
        let intent = prior.is_none() && self.backend.is_some() && p.create_needs_intent(&ty);
        if intent {
            let intent = crate::state::PendingCreate {
                address: identity.address.clone(),
                provider: change.provider.clone(),
                token: identity.token.clone(),
                started: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            };
            wait = Some(self.add_intent(intent));
        } else if deposed_now && self.backend.is_some() {
            wait = Some(self.needs_durable());
        }
        let ic = rc.lifecycle.ignore_changes.clone();
        // Creation-time provisioners run after a create (not an update), as in Terraform.
        let provisioners = (kind != Action::Update && rc.provisioners.iter().any(|p| !p.when_destroy)).then(|| (rc.provisioners.clone(), rc.connection.clone(), self.snapshot(&addr), schema.clone()));
        Some(
            async move {
                let mut o = outcome(addr, config.clone(), OutcomeKind::Apply);
                if let Some((gen, mut rx)) = wait {
                    if intent {
                        o.token = Some(identity.token.clone());
                    }
                    if !super::walk::intent_durable(&mut rx, gen).await {
                        o.diags.push(crate::providers::ProviderDiag::error("Create not started", "The create intent could not be written to the state, so the object was not created: terrane never creates what it could lose track of."));
                        return o;
                    }
                }
                // The plan was made against the refreshed object, but the state holds the
                // one stored before the refresh: an update starts from the object as it
                // is now, so that changes made outside terrane are corrected too.
                let mut prior = prior;
                if let Some(pv) = &prior {
                    let rr = p.read_resource(&ty, pv).await;
                    if rr.diags.iter().any(|d| d.error) {
                        o.diags.extend(rr.diags);
                        return o;
                    }
                    if let Some(current) = rr.new_state {
                        prior = Some(current);
                    }
                }
                let cfg = ignore_changes(config, prior.as_ref(), &ic).deep_unmark();
                let pr = p.plan_change(PlanRequest { type_name: &ty, prior: prior.as_ref(), config: &cfg }).await;
                o.diags.extend(pr.diags);
                if o.diags.iter().any(|d| d.error) {
                    return o;
                }
                let ar = p.apply_change(ApplyRequest { type_name: &ty, prior: prior.as_ref(), planned: Some(&pr.planned), config: &cfg, identity: &identity }).await;
                o.diags.extend(ar.diags);
                if let (Some((provs, conn, snap, schema)), Some(new), false) = (provisioners, &ar.new_state, o.diags.iter().any(|d| d.error)) {
                    let self_value = mark_sensitive(retype(new, &schema), &schema, Some(&o.config));
                    let (prepared, d) = crate::provision::prepare(&provs, conn.as_ref(), &snap.scope(self_value), false);
                    o.spanned.extend(d);
                    if !o.spanned.has_errors() {
                        o.spanned.extend(crate::provision::run(&o.addr.to_string(), prepared).await);
                    }
                }
                o.new_state = Some(ar.new_state);
                o
            }
            .boxed(),
        )
    }

    pub(super) fn prepare_destroy(&mut self, m: &ModulePath, r: &Resource) -> Result<Vec<Fut>, ()> {
        let Some(plan) = self.plan else { return Ok(Vec::new()) };
        let rc = self.engine.config.descendant(m).and_then(|c| c.module.resources.get(r)).cloned();
        let (provider, _) = self.provider_for(m, rc.as_ref(), r);
        let Some(provider) = provider else {
            self.diags.push(Diagnostic::error("Provider not available", format!("Cannot delete {r}: no provider \"{}\" is configured.", r.implied_provider())));
            return Err(());
        };
        let Some(schema) = self.schema_of(&Some(provider.clone()), r) else { return Err(()) };
        let mut futs: Vec<Fut> = Vec::new();
        for c in &plan.changes {
            if c.addr.module.static_path() != *m || c.addr.resource != *r {
                continue;
            }
            let dk = match (c.action, &c.deposed) {
                (Action::Delete, Some(k)) => Some(k.clone()),
                (Action::Delete | Action::DeleteThenCreate, None) => None,
                // The old object this run deposed; none when the create failed before
                // making anything (the old object is current again) or never ran.
                (Action::CreateThenDelete, None) => match self.deposed.get(&c.addr) {
                    Some(k) => Some(k.clone()),
                    None => continue,
                },
                _ => continue,
            };
            let obj = match &dk {
                Some(k) => self.state.deposed(&c.addr, k).cloned(),
                None => self.state.instance(&c.addr).cloned(),
            };
            let Some(obj) = obj else { continue };
            // An old object is deleted only once the state on disk records what replaced
            // it: a crash then leaves the new object current and the old one deposed.
            let wait = (dk.is_some() && self.dirty && self.backend.is_some()).then(|| self.needs_durable());
            let prior = retype(&obj.attributes, &schema);
            let p = provider.clone();
            let ty = r.type_.clone();
            let addr = c.addr.clone();
            let identity = ObjectIdentity { lineage: self.state.lineage.clone(), address: addr.to_string(), token: String::new() };
            // Destroy-time provisioners, evaluated now with `self` the object being
            // destroyed (they run only while their resource is still configured).
            let mut pre_diags = Diagnostics::new();
            let mut destroy_provs = Vec::new();
            if let Some(rc) = rc.as_ref().filter(|rc| rc.provisioners.iter().any(|p| p.when_destroy)) {
                let mut sc = self.scope(&addr.module, instance_binding(&addr.key));
                sc.self_value = Some(mark_sensitive(prior.clone(), &schema, None));
                let (prepared, d) = crate::provision::prepare(&rc.provisioners, rc.connection.as_ref(), &sc, true);
                destroy_provs = prepared;
                pre_diags = d;
            }
            futs.push(
                async move {
                    let mut o = outcome(addr, Value::null(), OutcomeKind::Destroy);
                    o.deposed = dk;
                    if let Some((gen, mut rx)) = wait {
                        if !super::walk::intent_durable(&mut rx, gen).await {
                            o.diags.push(crate::providers::ProviderDiag::error("Delete not started", "The state could not be written, so the deposed object was not deleted: it stays recorded for the next run."));
                            return o;
                        }
                    }
                    o.spanned = pre_diags;
                    if !o.spanned.has_errors() && !destroy_provs.is_empty() {
                        o.spanned.extend(crate::provision::run(&o.addr.to_string(), destroy_provs).await);
                    }
                    if o.spanned.has_errors() {
                        // The object stays: a failed destroy-time provisioner stops its deletion.
                        o.new_state = Some(Some(prior));
                        return o;
                    }
                    let ar = p.apply_change(ApplyRequest { type_name: &ty, prior: Some(&prior), planned: None, config: &Value::null(), identity: &identity }).await;
                    o.diags = ar.diags;
                    o.new_state = Some(ar.new_state);
                    o
                }
                .boxed(),
            );
        }
        Ok(futs)
    }

    /// Records one finished apply or destroy in the state, as soon as it completes.
    pub(super) fn record_apply(&mut self, node: &Node, o: &Outcome) {
        // The create's intent is settled in the same write that records its result.
        if let Some(t) = &o.token {
            self.state.pending.retain(|p| &p.token != t);
            self.dirty = true;
        }
        let Some(new_state) = &o.new_state else {
            // The create never reached the provider (its intent could not be written, or
            // planning it failed): a deposed old object is current again.
            if o.kind == OutcomeKind::Apply {
                self.restore_deposed(&o.addr);
            }
            return;
        };
        // A failed creation-time provisioner taints the new object, as in Terraform.
        let failed = o.diags.iter().any(|d| d.error) || o.spanned.has_errors();
        let change = self.planned_change(&o.addr);
        let provider = change.map(|c| c.provider.clone()).unwrap_or_default();
        match o.kind {
            OutcomeKind::Destroy => {
                if failed {
                    return;
                }
                match &o.deposed {
                    Some(k) => {
                        self.state.set_deposed(&o.addr, k, &provider, None);
                        if self.deposed.get(&o.addr) == Some(k) {
                            self.deposed.remove(&o.addr);
                        }
                    }
                    None => self.state.set_instance(&o.addr, &provider, None),
                }
                self.applied += 1;
                self.dirty = true;
            }
            OutcomeKind::Apply => {
                let Node::Resource(m, r) = node else { return };
                match new_state {
                    Some(v) => {
                        let cbd = self.engine.config.descendant(m).and_then(|c| c.module.resources.get(r)).map(|c| c.lifecycle.create_before_destroy).unwrap_or(false);
                        let obj = InstanceObject {
                            // A partial object from a failed create is kept, tainted, so that
                            // it is not lost.
                            status: if failed { ObjectStatus::Tainted } else { ObjectStatus::Ready },
                            schema_version: 0,
                            attributes: v.clone().deep_unmark(),
                            dependencies: self.resource_deps(m, r),
                            create_before_destroy: cbd,
                            private: None,
                            sensitive_attrs: InstanceObject::sensitive_attrs_of(v, Some(&o.config)),
                        };
                        self.state.set_instance(&o.addr, &provider, Some(obj));
                        self.dirty = true;
                        if !failed {
                            self.applied += 1;
                        }
                    }
                    None if !failed => {
                        self.state.set_instance(&o.addr, &provider, None);
                        self.dirty = true;
                    }
                    None => self.restore_deposed(&o.addr),
                }
            }
            _ => {}
        }
    }

    /// After a create_before_destroy replacement's create failed without making an
    /// object: the old object, deposed for it, is current again (as in Terraform) and is
    /// not deleted.
    fn restore_deposed(&mut self, addr: &AbsResourceInstance) {
        if let Some(k) = self.deposed.remove(addr) {
            self.state.restore_deposed(addr, &k);
            self.dirty = true;
        }
    }

    /// The resources a resource depends on (directly or through locals, variables,
    /// outputs and module calls), recorded in state to order later deletions.
    fn resource_deps(&self, m: &ModulePath, r: &Resource) -> Vec<AbsResource> {
        let Some(g) = self.graph_for_deps else { return Vec::new() };
        let Some(start) = g.graph.get(&Node::Resource(m.clone(), r.clone())) else { return Vec::new() };
        let mut out = std::collections::BTreeSet::new();
        let mut seen = std::collections::HashSet::new();
        let mut stack: Vec<_> = g.graph.dependencies(start).collect();
        while let Some(n) = stack.pop() {
            if !seen.insert(n) {
                continue;
            }
            match g.graph.node(n) {
                Node::Resource(dm, dr) => {
                    // Recorded by static module path (keys do not matter for ordering).
                    let module = ModuleInstance(dm.0.iter().map(|n| ModuleStep { name: n.clone(), key: InstanceKey::None }).collect());
                    out.insert(AbsResource { module, resource: dr.clone() });
                }
                Node::Provider(..) => {}
                _ => stack.extend(g.graph.dependencies(n)),
            }
        }
        out.into_iter().collect()
    }
}

/// `count.index` or `each.key` of an instance being destroyed (`each.value` is not
/// available to destroy-time provisioners, as in Terraform).
fn instance_binding(key: &InstanceKey) -> Binding {
    match key {
        InstanceKey::Int(i) => Binding { count: Some(*i), each: None },
        InstanceKey::Str(k) => Binding { count: None, each: Some((Value::String(k.clone()), Value::null())) },
        InstanceKey::None => Binding::default(),
    }
}

/// The error for a plan that would destroy an instance whose resource has
/// `lifecycle { prevent_destroy = true }`, pointing at that argument.
pub(crate) fn prevent_destroy_diag(rc: &ResourceConfig, addr: &AbsResourceInstance) -> Diagnostic {
    Diagnostic::error("Instance cannot be destroyed", format!("Resource {addr} has lifecycle.prevent_destroy set, but the plan calls for this resource to be destroyed. To avoid this error and continue with the plan, either disable lifecycle.prevent_destroy or change the configuration so that it is not destroyed."))
        .with_span(rc.lifecycle.prevent_destroy_span.clone().unwrap_or_else(|| rc.span.clone()))
        .with_help("Set prevent_destroy = false first if destroying this object is intended.")
}
