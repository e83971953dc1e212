//! Plans: the decided changes, before they are applied.
//!
//! Owns the `Plan` model (one `ResourceChange` per instance with its action and reason,
//! output changes, the drift found by refresh), its rendering for people (`render`), and
//! the saved-plan file (`file`). Deciding the actions is the engine's job (`engine::plan`);
//! this module only describes and shows them.

pub mod file;
pub mod render;

use crate::addrs::AbsResourceInstance;
use crate::lang::value::Value;
use crate::providers::AttrPath;
use crate::state::DeposedKey;

/// What will happen to one resource instance.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    NoOp,
    Create,
    /// A data source read during apply (its configuration depends on pending changes).
    Read,
    Update,
    /// Replace: delete the old object, then create the new one.
    DeleteThenCreate,
    /// Replace under `create_before_destroy`: create the new one, then delete the old.
    CreateThenDelete,
    Delete,
}

impl Action {
    pub fn is_replace(self) -> bool {
        matches!(self, Action::DeleteThenCreate | Action::CreateThenDelete)
    }
    /// The symbol Terraform prints in front of the resource.
    pub fn symbol(self) -> &'static str {
        match self {
            Action::NoOp => " ",
            Action::Create => "+",
            Action::Read => "<=",
            Action::Update => "~",
            Action::DeleteThenCreate => "-/+",
            Action::CreateThenDelete => "+/-",
            Action::Delete => "-",
        }
    }
}

/// Why an action was chosen, where it is not obvious.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum ActionReason {
    None,
    /// Replace because these attributes cannot be updated in place.
    ReplaceBecauseCannotUpdate,
    /// Replace because the object is tainted.
    ReplaceBecauseTainted,
    /// Replace because of `replace_triggered_by` naming this reference.
    ReplaceByTriggers { trigger: String },
    /// Replace because `-replace=ADDR` asked for it.
    ReplaceByRequest,
    /// Delete because the resource is no longer in the configuration.
    DeleteBecauseNoResourceConfig,
    /// Delete because `count` no longer includes this index.
    DeleteBecauseCountIndex,
    /// Delete because `for_each` no longer includes this key.
    DeleteBecauseEachKey,
    /// Delete because the module containing it is gone.
    DeleteBecauseNoModule,
    /// Create because the object was deleted outside terrane.
    CreateBecauseGone,
    /// Read during apply because the configuration has values not known until then.
    ReadBecauseConfigUnknown,
}

/// The planned change to one resource instance.
#[derive(Clone, Debug)]
pub struct ResourceChange {
    pub addr: AbsResourceInstance,
    /// Provider configuration address, as stored in state.
    pub provider: String,
    pub action: Action,
    pub reason: ActionReason,
    /// The refreshed prior object (sensitive attributes marked); `None` for create/read.
    pub before: Option<Value>,
    /// The planned object (may contain unknowns; sensitive marked); `None` for delete.
    pub after: Option<Value>,
    /// For replacements: the attributes whose change forces it.
    pub requires_replace: Vec<AttrPath>,
    /// Set when a `moved` block renamed the instance.
    pub moved_from: Option<AbsResourceInstance>,
    /// Set when the change is to a deposed object of the instance (always a delete),
    /// not to its current object.
    pub deposed: Option<DeposedKey>,
}

impl ResourceChange {
    /// A deletion of the instance's current object, or of its deposed object `deposed`.
    pub fn delete(addr: AbsResourceInstance, provider: String, reason: ActionReason, before: Value, deposed: Option<DeposedKey>) -> ResourceChange {
        ResourceChange { addr, provider, action: Action::Delete, reason, before: Some(before), after: None, requires_replace: Vec::new(), moved_from: None, deposed }
    }
}

/// The planned change to one root output.
#[derive(Clone, Debug)]
pub struct OutputChange {
    pub name: String,
    pub action: Action,
    pub before: Option<Value>,
    pub after: Option<Value>,
    pub sensitive: bool,
}

/// A change found outside terrane by refresh (shown as "Objects have changed outside of
/// terrane"), with `Update` for a changed object and `Delete` for a vanished one.
pub type Drift = ResourceChange;

/// An object that a create intent left by an interrupted apply turned out to have made
/// (found by the provider's `recover`): apply records it in the state first.
#[derive(Clone, Debug)]
pub struct AdoptedObject {
    pub addr: AbsResourceInstance,
    pub provider: String,
    /// The object as the provider reads it (no sensitive marks).
    pub value: Value,
}

/// Everything `plan` decided.
#[derive(Clone, Debug, Default)]
pub struct Plan {
    /// Every instance change, including no-ops, in address order.
    pub changes: Vec<ResourceChange>,
    pub outputs: Vec<OutputChange>,
    pub drift: Vec<Drift>,
    /// The lineage and serial of the state this plan was made against: a saved plan is
    /// refused when the state has moved on.
    pub lineage: String,
    pub serial: u64,
    /// True for `destroy` plans.
    pub destroy: bool,
    /// Objects adopted from the pending create intents of an interrupted apply.
    pub adopted: Vec<AdoptedObject>,
    /// Tokens of the pending create intents this plan resolved (adopted, or confirmed
    /// never created); apply removes them from the state.
    pub resolved_intents: Vec<String>,
    /// Deposed objects that refresh found gone: apply removes them from the state.
    pub gone_deposed: Vec<(AbsResourceInstance, DeposedKey)>,
}

impl Plan {
    /// (add, change, destroy) as Terraform counts them: a replace counts as add and destroy.
    pub fn counts(&self) -> (usize, usize, usize) {
        let (mut add, mut change, mut destroy) = (0, 0, 0);
        for c in &self.changes {
            match c.action {
                Action::Create => add += 1,
                Action::Update => change += 1,
                Action::Delete => destroy += 1,
                Action::DeleteThenCreate | Action::CreateThenDelete => {
                    add += 1;
                    destroy += 1
                }
                Action::NoOp | Action::Read => {}
            }
        }
        (add, change, destroy)
    }

    /// True when applying would change nothing (resources, outputs, or addresses moved
    /// by `moved` blocks, which apply records in the state).
    pub fn is_empty(&self) -> bool {
        self.changes.iter().all(|c| matches!(c.action, Action::NoOp) && c.moved_from.is_none())
            && self.resolved_intents.is_empty()
            && self.gone_deposed.is_empty()
            && self.outputs.iter().all(|o| o.action == Action::NoOp)
    }
}
