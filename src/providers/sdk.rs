//! The provider SDK: what every compiled-in provider (builtin, aws, ssh, and the mock)
//! shares. Reading attributes out of object values, comparing values while ignoring
//! sensitive marks, the schema-driven planner (`plan_by_schema`) that implements the
//! planning contract (configuration for set arguments, defaults for unset
//! optional+computed ones, prior values for computed attributes, `Unknown` for computed
//! attributes on create or replace, and `requires_replace` for every force-new attribute
//! whose value differs from the prior one: an unknown value counts as different), and
//! the constructors of error responses.
//!
//! Marks: planned values are copied verbatim from the prior state and the configuration
//! (so the engine's prior/planned comparison is not disturbed by marks this module adds);
//! values generated at apply time for sensitive attributes are marked sensitive.

use std::collections::BTreeMap;

use super::{
    attr_path, ApplyResponse, AttrPath, BlockSchema, ImportResponse, Nesting, PlanResponse,
    ProviderDiag, ReadResponse,
};
use crate::lang::value::{Number, Type, Value};

// ---------------------------------------------------------------------------------------
// Reading attributes

static NULL_VALUE: Value = Value::NULL;

/// An attribute of an object value; null when absent (or when `obj` is not an object).
pub(crate) fn attr<'a>(obj: &'a Value, name: &str) -> &'a Value {
    obj.get_attr(name).unwrap_or(&NULL_VALUE)
}

/// A known, non-null string attribute (marks ignored).
pub(crate) fn get_str<'a>(obj: &'a Value, name: &str) -> Option<&'a str> {
    attr(obj, name).as_str()
}

/// A known bool attribute (marks ignored; "true"/"false" strings accepted).
pub(crate) fn get_bool(obj: &Value, name: &str) -> Option<bool> {
    let v = attr(obj, name);
    v.as_bool().or_else(|| match v.as_str() {
        Some("true") => Some(true),
        Some("false") => Some(false),
        _ => None,
    })
}

/// A known number attribute (marks ignored; numeric strings accepted).
pub(crate) fn get_number(obj: &Value, name: &str) -> Option<Number> {
    let v = attr(obj, name);
    v.as_number().or_else(|| v.as_str().and_then(Number::parse))
}

/// What an integer attribute holds.
pub(crate) enum IntAttr {
    Null,
    Unknown,
    Int(i64),
    /// Known but not a whole number (or not a number at all).
    NotInt,
}

pub(crate) fn get_int(obj: &Value, name: &str) -> IntAttr {
    let v = attr(obj, name);
    if v.is_null() {
        IntAttr::Null
    } else if !v.is_wholly_known() {
        IntAttr::Unknown
    } else {
        match get_number(obj, name).and_then(|n| n.as_i64()) {
            Some(i) => IntAttr::Int(i),
            None => IntAttr::NotInt,
        }
    }
}

/// The known integer value of an attribute, if it has one.
pub(crate) fn get_i64(obj: &Value, name: &str) -> Option<i64> {
    match get_int(obj, name) {
        IntAttr::Int(i) => Some(i),
        _ => None,
    }
}

/// True when the attribute is or contains an unknown value.
pub(crate) fn is_unknown_attr(obj: &Value, name: &str) -> bool {
    !attr(obj, name).is_wholly_known()
}

/// The value of an argument at apply time: the planned value when it is wholly known,
/// else the configuration's (the engine may hand over a plan made before some values
/// were known).
pub(crate) fn arg<'a>(planned: &'a Value, config: &'a Value, name: &str) -> &'a Value {
    let p = attr(planned, name);
    if p.is_wholly_known() {
        p
    } else {
        attr(config, name)
    }
}

// ---------------------------------------------------------------------------------------
// Comparing and coercing values

/// True when both values are wholly known and equal, ignoring sensitive marks, the
/// type carried by nulls, and list/tuple and map/object distinctions.
pub(crate) fn value_eq(a: &Value, b: &Value) -> bool {
    if !a.is_wholly_known() || !b.is_wholly_known() {
        return false;
    }
    let (a, b) = (a.clone().deep_unmark(), b.clone().deep_unmark());
    a.same_as(&b)
}

/// Coerces a configuration value to a primitive or `map(string)` attribute type where
/// Terraform would convert automatically (numbers and bools to strings, numeric strings
/// to numbers, objects to maps). Unknowns, nulls and marks are kept; anything that does
/// not convert is returned unchanged.
pub(crate) fn coerce(v: &Value, ty: &Type) -> Value {
    match v {
        Value::Sensitive(inner) => coerce(inner, ty).mark_sensitive(),
        Value::Null(_) => Value::Null(ty.clone()),
        Value::Unknown(_) => Value::Unknown(ty.clone()),
        _ => match ty {
            Type::String => match v {
                Value::Number(n) => Value::String(n.to_string()),
                Value::Bool(b) => Value::String(b.to_string()),
                _ => v.clone(),
            },
            Type::Number => match v {
                Value::String(s) => Number::parse(s)
                    .map(Value::Number)
                    .unwrap_or_else(|| v.clone()),
                _ => v.clone(),
            },
            Type::Bool => match v {
                Value::String(s) if s == "true" => Value::Bool(true),
                Value::String(s) if s == "false" => Value::Bool(false),
                _ => v.clone(),
            },
            Type::Map(elem) => match v {
                Value::Map(m) | Value::Object(m) => Value::Map(
                    m.iter()
                        .map(|(k, e)| (k.clone(), coerce(e, elem)))
                        .collect(),
                ),
                _ => v.clone(),
            },
            _ => v.clone(),
        },
    }
}

// ---------------------------------------------------------------------------------------
// Planning

/// The result of `plan_by_schema`.
pub(crate) struct SchemaPlan {
    /// Every attribute (and nested block) of the schema.
    pub planned: BTreeMap<String, Value>,
    pub requires_replace: Vec<AttrPath>,
}

impl SchemaPlan {
    pub fn into_response(self) -> PlanResponse {
        PlanResponse {
            planned: Value::Object(self.planned),
            requires_replace: self.requires_replace,
            diags: Vec::new(),
        }
    }
}

/// A computed attribute the configuration cannot set.
pub(crate) fn computed_only(a: &super::AttributeSchema) -> bool {
    a.computed && !a.optional && !a.required
}

/// Plans a create (`prior` None) or update of an object with schema `block`:
/// - required/optional arguments: the configuration value (coerced to the attribute's
///   primitive or map(string) type), null when unset;
/// - optional+computed arguments left unset: the default from `defaults` if there is one,
///   else the prior value, else unknown;
/// - computed-only attributes: the prior value, or unknown on create;
/// - nested blocks: the configuration value (an empty list/set when absent).
///
/// A force-new attribute or block whose planned value differs from the prior one (or is
/// unknown) is listed in `requires_replace`; the object is then planned as a new one:
/// computed-only attributes, and optional+computed ones without configuration or default,
/// become unknown.
pub(crate) fn plan_by_schema(
    block: &BlockSchema,
    prior: Option<&Value>,
    config: &Value,
    defaults: &[(&str, Value)],
) -> SchemaPlan {
    let mut planned = BTreeMap::new();
    let default_of = |name: &str| {
        defaults
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.clone())
    };
    for (name, a) in &block.attributes {
        let cfg = attr(config, name);
        let v = if computed_only(a) {
            match prior {
                Some(p) => attr(p, name).clone(),
                None => Value::Unknown(a.ty.clone()),
            }
        } else if !cfg.is_null() {
            coerce(cfg, &a.ty)
        } else if a.computed {
            match (default_of(name), prior) {
                (Some(d), _) => d,
                (None, Some(p)) if !attr(p, name).is_null() => attr(p, name).clone(),
                (None, _) => Value::Unknown(a.ty.clone()),
            }
        } else {
            Value::Null(a.ty.clone())
        };
        planned.insert(name.clone(), v);
    }
    for (name, b) in &block.blocks {
        let cfg = attr(config, name);
        let v = if !cfg.is_null() {
            cfg.clone()
        } else {
            match b.nesting {
                Nesting::Single => Value::Null(b.block.value_type()),
                Nesting::List => Value::List(Vec::new()),
                Nesting::Set => Value::Set(Vec::new()),
            }
        };
        planned.insert(name.clone(), v);
    }

    let mut requires_replace = Vec::new();
    if let Some(p) = prior {
        let forced = block
            .attributes
            .iter()
            .filter(|(_, a)| a.force_new)
            .map(|(n, _)| n)
            .chain(
                block
                    .blocks
                    .iter()
                    .filter(|(_, b)| b.force_new)
                    .map(|(n, _)| n),
            );
        for name in forced {
            let new = planned.get(name.as_str()).unwrap_or(&NULL_VALUE);
            if !value_eq(attr(p, name), new) {
                requires_replace.push(attr_path(&[name.as_str()]));
            }
        }
    }
    if !requires_replace.is_empty() {
        for (name, a) in &block.attributes {
            let unset_without_default = a.optional
                && a.computed
                && attr(config, name).is_null()
                && default_of(name).is_none();
            if computed_only(a) || unset_without_default {
                planned.insert(name.clone(), Value::Unknown(a.ty.clone()));
            }
        }
    }
    SchemaPlan {
        planned,
        requires_replace,
    }
}

/// Replaces `obj[name]` with `make()` when it is absent or not wholly known.
pub(crate) fn fill_unknown(
    obj: &mut BTreeMap<String, Value>,
    name: &str,
    make: impl FnOnce() -> Value,
) {
    let known = obj.get(name).map(|v| v.is_wholly_known()).unwrap_or(false);
    if !known {
        obj.insert(name.to_string(), make());
    }
}

/// The attributes of an object value as a map (empty when it is not an object).
pub(crate) fn object_map(v: &Value) -> BTreeMap<String, Value> {
    v.as_map().cloned().unwrap_or_default()
}

// ---------------------------------------------------------------------------------------
// Responses

pub(crate) fn unsupported_resource(type_name: &str) -> ProviderDiag {
    ProviderDiag::error(
        "Unsupported resource type",
        format!("This provider has no resource type {type_name:?}."),
    )
}

pub(crate) fn plan_error(d: ProviderDiag) -> PlanResponse {
    PlanResponse {
        planned: Value::null(),
        requires_replace: Vec::new(),
        diags: vec![d],
    }
}

pub(crate) fn apply_error(new_state: Option<Value>, d: ProviderDiag) -> ApplyResponse {
    ApplyResponse {
        new_state,
        diags: vec![d],
    }
}

pub(crate) fn read_error(d: ProviderDiag) -> ReadResponse {
    ReadResponse {
        new_state: None,
        diags: vec![d],
    }
}

pub(crate) fn import_error(summary: &str, detail: impl Into<String>) -> ImportResponse {
    ImportResponse {
        state: None,
        diags: vec![ProviderDiag::error(summary, detail)],
    }
}

/// A null-filled object of the schema's attributes, overlaid with `values`: the shape of
/// an imported object.
pub(crate) fn object_with(block: &BlockSchema, values: Vec<(&str, Value)>) -> Value {
    let mut m: BTreeMap<String, Value> = block
        .attributes
        .iter()
        .map(|(k, a)| (k.clone(), Value::Null(a.ty.clone())))
        .collect();
    for (k, v) in values {
        m.insert(k.to_string(), v);
    }
    Value::Object(m)
}

#[cfg(test)]
pub(crate) mod testutil {
    //! Helpers for the providers' unit tests.
    use super::*;
    use crate::providers::{ObjectIdentity, PathStep, ProviderDiags};

    pub fn identity() -> ObjectIdentity {
        ObjectIdentity {
            lineage: "lineage".into(),
            address: "x.y".into(),
            token: "tok".into(),
        }
    }

    /// A configuration object: every schema attribute null, overlaid with `values`.
    pub fn config(block: &BlockSchema, values: Vec<(&str, Value)>) -> Value {
        object_with(block, values)
    }

    pub fn errors_at(d: &ProviderDiags) -> Vec<String> {
        d.iter()
            .filter(|d| d.error)
            .map(|d| {
                d.path
                    .as_ref()
                    .map(|p| {
                        p.iter()
                            .map(|s| match s {
                                PathStep::Attr(a) => a.clone(),
                                PathStep::Index(i) => format!("[{i}]"),
                                PathStep::Key(k) => format!("[{k:?}]"),
                            })
                            .collect::<Vec<_>>()
                            .join(".")
                    })
                    .unwrap_or_default()
            })
            .collect()
    }

    pub fn rr_names(rr: &[AttrPath]) -> Vec<String> {
        rr.iter()
            .map(|p| match p.first() {
                Some(PathStep::Attr(a)) => a.clone(),
                _ => String::new(),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::AttributeSchema;

    fn block() -> BlockSchema {
        BlockSchema::new()
            .attr("name", AttributeSchema::required(Type::String).force_new())
            .attr("size", AttributeSchema::optional(Type::Number))
            .attr("flag", AttributeSchema::optional_computed(Type::Bool))
            .attr("tags", AttributeSchema::optional(Type::map(Type::String)))
            .attr("id", AttributeSchema::computed(Type::String))
    }

    #[test]
    fn create_plan_fills_defaults_and_unknowns() {
        let cfg = object_with(
            &block(),
            vec![
                ("name", "a".into()),
                ("tags", Value::object([("n", Value::int(1))])),
            ],
        );
        let p = plan_by_schema(&block(), None, &cfg, &[("flag", Value::Bool(true))]);
        assert!(p.requires_replace.is_empty());
        assert_eq!(p.planned["name"], Value::from("a"));
        assert_eq!(p.planned["flag"], Value::Bool(true));
        assert!(p.planned["id"].is_unknown());
        assert!(p.planned["size"].is_null());
        assert_eq!(
            p.planned["tags"],
            Value::Map([("n".to_string(), Value::from("1"))].into())
        );
    }

    #[test]
    fn update_keeps_computed_and_force_new_replaces() {
        let prior = object_with(
            &block(),
            vec![
                ("name", "a".into()),
                ("flag", Value::Bool(true)),
                ("id", "i-1".into()),
            ],
        );
        let cfg = object_with(
            &block(),
            vec![("name", "a".into()), ("size", Value::int(3))],
        );
        let p = plan_by_schema(&block(), Some(&prior), &cfg, &[]);
        assert!(p.requires_replace.is_empty());
        assert_eq!(p.planned["id"], Value::from("i-1"));
        assert_eq!(p.planned["flag"], Value::Bool(true));

        let cfg = object_with(&block(), vec![("name", "b".into())]);
        let p = plan_by_schema(&block(), Some(&prior), &cfg, &[]);
        assert_eq!(testutil::rr_names(&p.requires_replace), vec!["name"]);
        assert!(p.planned["id"].is_unknown());
        assert!(p.planned["flag"].is_unknown());

        let cfg = object_with(&block(), vec![("name", Value::Unknown(Type::String))]);
        let p = plan_by_schema(&block(), Some(&prior), &cfg, &[]);
        assert_eq!(testutil::rr_names(&p.requires_replace), vec!["name"]);
    }

    #[test]
    fn value_eq_ignores_marks_but_not_unknowns() {
        assert!(value_eq(
            &Value::from("a").mark_sensitive(),
            &Value::from("a")
        ));
        assert!(!value_eq(&Value::unknown(), &Value::unknown()));
        assert!(value_eq(&Value::Null(Type::String), &Value::null()));
        assert!(!value_eq(&Value::from("a"), &Value::from("b")));
    }
}
