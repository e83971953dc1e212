//! Type conversion: Terraform's (cty's) automatic conversions between values and types.
//!
//! Owns `convert` (and `convert_target` for targets with `optional(...)` object
//! attributes), type unification (`unify`, the common type Terraform picks for list and
//! map construction and conditional branches), the conformance test `type_conforms`, and
//! the English mismatch messages cty produces ("attribute \"x\" is required",
//! "element 1: string required, but have object"). It mirrors go-cty's `convert` package
//! rule for rule, in its "unsafe" mode (the one `convert.Convert` uses), so that values
//! convert exactly as they do in Terraform. It must not evaluate expressions, know about
//! variables or diagnostics, or panic on any value: every failure is a `ConvertError`.
//!
//! terrane's `Value` carries no static type for collections, so the type of a value is
//! recovered from its contents (`value_type`); untyped nulls and unknowns
//! (`Type::Dynamic`) act as cty's `DynamicPseudoType` and convert to anything.

use std::collections::{BTreeMap, BTreeSet};

use crate::lang::value::{Number, Type, Value};

/// Why a value could not be converted, with the path inside the value where it failed.
#[derive(Debug, Clone, PartialEq)]
pub struct ConvertError {
    /// Human path inside the value in Terraform's notation (`.name` for an attribute,
    /// `[2]` for an index, `["a"]` for a map key, e.g. `.tags["a"]`), empty at the top level.
    pub path: String,
    pub message: String,
}

impl std::fmt::Display for ConvertError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

impl std::error::Error for ConvertError {}

/// A conversion target: a `Type` whose object types may mark some attributes optional
/// (what `optional(T)` in a type constraint produces). A missing optional attribute
/// converts to a null of the attribute's type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TargetType {
    Dynamic,
    Bool,
    Number,
    String,
    List(Box<TargetType>),
    Set(Box<TargetType>),
    Map(Box<TargetType>),
    Tuple(Vec<TargetType>),
    Object {
        attrs: BTreeMap<String, TargetType>,
        /// Names (all keys of `attrs`) of the attributes that may be absent.
        optional: BTreeSet<String>,
    },
}

impl TargetType {
    /// The target with no optional attributes anywhere.
    pub fn from_type(t: &Type) -> TargetType {
        match t {
            Type::Dynamic => TargetType::Dynamic,
            Type::Bool => TargetType::Bool,
            Type::Number => TargetType::Number,
            Type::String => TargetType::String,
            Type::List(e) => TargetType::List(Box::new(TargetType::from_type(e))),
            Type::Set(e) => TargetType::Set(Box::new(TargetType::from_type(e))),
            Type::Map(e) => TargetType::Map(Box::new(TargetType::from_type(e))),
            Type::Tuple(ts) => TargetType::Tuple(ts.iter().map(TargetType::from_type).collect()),
            Type::Object(m) => TargetType::Object {
                attrs: m
                    .iter()
                    .map(|(k, t)| (k.clone(), TargetType::from_type(t)))
                    .collect(),
                optional: BTreeSet::new(),
            },
        }
    }

    /// The plain type, with every optional-attribute marker dropped (cty's
    /// `WithoutOptionalAttributesDeep`).
    pub fn to_type(&self) -> Type {
        match self {
            TargetType::Dynamic => Type::Dynamic,
            TargetType::Bool => Type::Bool,
            TargetType::Number => Type::Number,
            TargetType::String => Type::String,
            TargetType::List(e) => Type::list(e.to_type()),
            TargetType::Set(e) => Type::set(e.to_type()),
            TargetType::Map(e) => Type::map(e.to_type()),
            TargetType::Tuple(ts) => Type::Tuple(ts.iter().map(TargetType::to_type).collect()),
            TargetType::Object { attrs, .. } => Type::Object(
                attrs
                    .iter()
                    .map(|(k, t)| (k.clone(), t.to_type()))
                    .collect(),
            ),
        }
    }

    /// True when some object type at any depth has an optional attribute.
    pub fn has_optional(&self) -> bool {
        match self {
            TargetType::List(e) | TargetType::Set(e) | TargetType::Map(e) => e.has_optional(),
            TargetType::Tuple(ts) => ts.iter().any(TargetType::has_optional),
            TargetType::Object { attrs, optional } => {
                !optional.is_empty() || attrs.values().any(TargetType::has_optional)
            }
            _ => false,
        }
    }
}

impl From<&Type> for TargetType {
    fn from(t: &Type) -> TargetType {
        TargetType::from_type(t)
    }
}

/// Converts `v` to type `ty` following Terraform's rules. Unknown and null values convert
/// to unknown/null of the target type; sensitive marks are kept.
pub fn convert(v: &Value, ty: &Type) -> Result<Value, ConvertError> {
    convert_target(v, &TargetType::from_type(ty))
}

/// Converts `v` to a target that may have optional object attributes. Missing optional
/// attributes become nulls (defaults are the caller's business: see `lang::typeexpr`).
pub fn convert_target(v: &Value, want: &TargetType) -> Result<Value, ConvertError> {
    let mut path = Vec::new();
    conv_value(v, want, &mut path)
}

/// Converts to a list of any single element type (`tolist`).
pub fn convert_to_list(v: &Value) -> Result<Value, ConvertError> {
    convert(v, &Type::list(Type::Dynamic))
}

/// Converts to a set of any single element type (`toset`).
pub fn convert_to_set(v: &Value) -> Result<Value, ConvertError> {
    convert(v, &Type::set(Type::Dynamic))
}

/// Converts to a map of any single element type (`tomap`).
pub fn convert_to_map(v: &Value) -> Result<Value, ConvertError> {
    convert(v, &Type::map(Type::Dynamic))
}

/// The most general type all of `types` convert to, as Terraform picks it for
/// conditional branches and collection construction (cty's `UnifyUnsafe`): `[number,
/// string]` gives `string`, `[object({a=number}), object({b=number})]` gives
/// `map(number)`. `None` when there is none, or when `types` is empty.
pub fn unify(types: &[Type]) -> Option<Type> {
    unify_impl(types, true)
}

/// Whether a conversion from values of type `from` to type `to` exists at all (it may
/// still fail for particular values, e.g. `"abc"` to number).
pub fn can_convert(from: &Type, to: &Type) -> bool {
    conversion_exists(from, &TargetType::from_type(to), true)
}

/// The English reason why type `got` does not convert to `want`, as cty words it.
pub fn mismatch_message(got: &Type, want: &Type) -> String {
    mismatch(got, &TargetType::from_type(want))
}

/// True when `v` already is a value of type `ty` without any conversion. `Dynamic` in
/// `ty` accepts anything; untyped nulls and unknowns conform to every type. Marks are
/// looked through.
pub fn type_conforms(v: &Value, ty: &Type) -> bool {
    if *ty == Type::Dynamic {
        return true;
    }
    match (v.unmark().0, ty) {
        (Value::Null(t) | Value::Unknown(t), _) => *t == Type::Dynamic || t == ty,
        (Value::Bool(_), Type::Bool)
        | (Value::Number(_), Type::Number)
        | (Value::String(_), Type::String) => true,
        (Value::List(vs), Type::List(e)) | (Value::Set(vs), Type::Set(e)) => {
            vs.iter().all(|x| type_conforms(x, e))
        }
        (Value::Tuple(vs), Type::Tuple(ts)) => {
            vs.len() == ts.len() && vs.iter().zip(ts).all(|(x, t)| type_conforms(x, t))
        }
        (Value::Map(m), Type::Map(e)) => m.values().all(|x| type_conforms(x, e)),
        (Value::Object(m), Type::Object(ts)) => {
            m.len() == ts.len()
                && m.iter()
                    .zip(ts)
                    .all(|((k1, x), (k2, t))| k1 == k2 && type_conforms(x, t))
        }
        _ => false,
    }
}

/// The type of a value for conversion purposes. Like `Value::type_of`, but a
/// collection's element type is taken from its first element that is not of type
/// `Dynamic` (an untyped null), so `[null, "a"]` as a list is a list of string.
pub fn value_type(v: &Value) -> Type {
    fn elem_type<'a>(mut it: impl Iterator<Item = &'a Value>) -> Type {
        let mut first = None;
        for x in &mut it {
            let t = value_type(x);
            if t != Type::Dynamic {
                return t;
            }
            first.get_or_insert(t);
        }
        first.unwrap_or(Type::Dynamic)
    }
    match v {
        Value::Null(t) | Value::Unknown(t) => t.clone(),
        Value::Bool(_) => Type::Bool,
        Value::Number(_) => Type::Number,
        Value::String(_) => Type::String,
        Value::List(vs) => Type::list(elem_type(vs.iter())),
        Value::Set(vs) => Type::set(elem_type(vs.iter())),
        Value::Map(m) => Type::map(elem_type(m.values())),
        Value::Tuple(vs) => Type::Tuple(vs.iter().map(value_type).collect()),
        Value::Object(m) => {
            Type::Object(m.iter().map(|(k, x)| (k.clone(), value_type(x))).collect())
        }
        Value::Sensitive(x) => value_type(x),
    }
}

/// "list of string", "object", "any type" / "dynamic": cty's `FriendlyName` (and, with
/// `constraint`, `FriendlyNameForConstraint`).
pub fn friendly_name(t: &Type, constraint: bool) -> String {
    fn elem(e: &Type, constraint: bool) -> String {
        if constraint && *e == Type::Dynamic {
            "any single type".to_string()
        } else {
            friendly_name(e, constraint)
        }
    }
    match t {
        Type::Dynamic if constraint => "any type".into(),
        Type::Dynamic => "dynamic".into(),
        Type::Bool => "bool".into(),
        Type::Number => "number".into(),
        Type::String => "string".into(),
        Type::List(e) => format!("list of {}", elem(e, constraint)),
        Type::Set(e) => format!("set of {}", elem(e, constraint)),
        Type::Map(e) => format!("map of {}", elem(e, constraint)),
        Type::Tuple(_) => "tuple".into(),
        Type::Object(_) => "object".into(),
    }
}

// ---- paths ---------------------------------------------------------------------------

enum Step {
    Attr(String),
    Index(usize),
    Key(String),
}

fn path_string(path: &[Step]) -> String {
    let mut s = String::new();
    for step in path {
        match step {
            Step::Attr(n) => {
                s.push('.');
                s.push_str(n);
            }
            Step::Index(i) => s.push_str(&format!("[{i}]")),
            Step::Key(k) => s.push_str(&format!("[{k:?}]")),
        }
    }
    s
}

fn err_at(path: &[Step], message: impl Into<String>) -> ConvertError {
    ConvertError {
        path: path_string(path),
        message: message.into(),
    }
}

fn with_step<T>(path: &mut Vec<Step>, step: Step, f: impl FnOnce(&mut Vec<Step>) -> T) -> T {
    path.push(step);
    let r = f(path);
    path.pop();
    r
}

// ---- type-level: does a conversion exist? (cty's getConversion) ----------------------

fn is_collection(t: &Type) -> bool {
    matches!(t, Type::List(_) | Type::Set(_) | Type::Map(_))
}

/// cty's `getConversion(in, out, unsafe) != nil`, with the equal-types shortcut every
/// caller in cty applies first.
fn conversion_exists(from: &Type, to: &TargetType, unsafe_: bool) -> bool {
    if *from == to.to_type() && !to.has_optional() {
        return true;
    }
    match (from, to) {
        (_, TargetType::Dynamic) => true,
        (Type::Dynamic, _) => unsafe_,
        (Type::Number | Type::Bool, TargetType::String) => true,
        (Type::String, TargetType::Number | TargetType::Bool) => unsafe_,
        (Type::Bool, TargetType::Bool)
        | (Type::Number, TargetType::Number)
        | (Type::String, TargetType::String) => true,
        (Type::Object(in_attrs), TargetType::Object { attrs, optional }) => {
            attrs
                .iter()
                .all(|(name, out_aty)| match in_attrs.get(name) {
                    None => optional.contains(name),
                    Some(in_aty) => conversion_exists(in_aty, out_aty, unsafe_),
                })
        }
        (Type::Tuple(ins), TargetType::Tuple(outs)) => {
            ins.len() == outs.len()
                && ins
                    .iter()
                    .zip(outs)
                    .all(|(i, o)| conversion_exists(i, o, unsafe_))
        }
        (Type::List(e) | Type::Set(e), TargetType::List(oe)) => conversion_exists(e, oe, unsafe_),
        (Type::List(e), TargetType::Set(oe)) => unsafe_ && conversion_exists(e, oe, unsafe_),
        (Type::Set(e), TargetType::Set(oe)) => conversion_exists(e, oe, unsafe_),
        (Type::Map(e), TargetType::Map(oe)) => conversion_exists(e, oe, unsafe_),
        (Type::Tuple(ets), TargetType::List(oe) | TargetType::Set(oe)) => {
            tuple_to_seq_elem(ets, oe, unsafe_).is_some()
        }
        (Type::Object(atys), TargetType::Map(oe)) => {
            object_to_map_elem(atys, oe, unsafe_).is_some()
        }
        (Type::Map(e), TargetType::Object { attrs, optional }) => {
            unsafe_
                && attrs.iter().all(|(name, aty)| {
                    conversion_exists(e, aty, unsafe_) || optional.contains(name)
                })
        }
        _ => false,
    }
}

/// The element target a tuple of `ets` converts to as a list or set of `oe`, if it can.
fn tuple_to_seq_elem(ets: &[Type], oe: &TargetType, unsafe_: bool) -> Option<TargetType> {
    if ets.is_empty() {
        return Some(oe.clone());
    }
    let ety = if *oe == TargetType::Dynamic {
        let u = unify_impl(ets, unsafe_)?;
        if u == Type::Dynamic && ets.iter().any(|t| *t != Type::Dynamic) {
            return None;
        }
        TargetType::from_type(&u)
    } else {
        oe.clone()
    };
    if ets.iter().all(|t| conversion_exists(t, &ety, unsafe_)) {
        Some(ety)
    } else {
        None
    }
}

/// The element target an object with attribute types `atys` converts to as a map of `oe`.
fn object_to_map_elem(
    atys: &BTreeMap<String, Type>,
    oe: &TargetType,
    unsafe_: bool,
) -> Option<TargetType> {
    if atys.is_empty() {
        return Some(oe.clone());
    }
    let ety = if *oe == TargetType::Dynamic {
        let all: Vec<Type> = atys.values().cloned().collect();
        TargetType::from_type(&unify_impl(&all, unsafe_)?)
    } else {
        oe.clone()
    };
    if atys.values().all(|t| conversion_exists(t, &ety, unsafe_)) {
        Some(ety)
    } else {
        None
    }
}

// ---- value-level conversion ---------------------------------------------------------

fn conv_value(v: &Value, want: &TargetType, path: &mut Vec<Step>) -> Result<Value, ConvertError> {
    if let Value::Sensitive(inner) = v {
        return conv_value(inner, want, path).map(Value::mark_sensitive);
    }
    if *want == TargetType::Dynamic {
        return Ok(v.clone());
    }
    let in_ty = value_type(v);
    if !conversion_exists(&in_ty, want, true) {
        return Err(err_at(path, mismatch(&in_ty, want)));
    }
    match v {
        Value::Null(t) => return Ok(Value::Null(dynamic_replace(t, &want.to_type()))),
        Value::Unknown(t) => return Ok(Value::Unknown(dynamic_replace(t, &want.to_type()))),
        _ => {}
    }
    match (v, want) {
        // Primitives.
        (Value::String(_), TargetType::String)
        | (Value::Number(_), TargetType::Number)
        | (Value::Bool(_), TargetType::Bool) => Ok(v.clone()),
        (Value::Number(n), TargetType::String) => Ok(Value::String(n.to_string())),
        (Value::Bool(b), TargetType::String) => Ok(Value::String(b.to_string())),
        (Value::String(s), TargetType::Number) => match parse_number(s) {
            Some(n) => Ok(Value::Number(n)),
            None => Err(err_at(path, "a number is required")),
        },
        (Value::String(s), TargetType::Bool) => match s.as_str() {
            "true" | "1" => Ok(Value::Bool(true)),
            "false" | "0" => Ok(Value::Bool(false)),
            _ => Err(err_at(
                path,
                match s.to_lowercase().as_str() {
                    "true" => "a bool is required; to convert from string, use lowercase \"true\"",
                    "false" => {
                        "a bool is required; to convert from string, use lowercase \"false\""
                    }
                    _ => "a bool is required",
                },
            )),
        },

        // Structural targets.
        (Value::Object(m), TargetType::Object { attrs, optional }) => {
            let mut out = BTreeMap::new();
            for (name, x) in m {
                if let Some(aty) = attrs.get(name) {
                    let c = with_step(path, Step::Attr(name.clone()), |p| conv_value(x, aty, p))?;
                    out.insert(name.clone(), c);
                }
            }
            fill_missing(&mut out, attrs, optional, path, |name| {
                format!("attribute {name:?} is required")
            })?;
            Ok(Value::Object(out))
        }
        (Value::Map(m), TargetType::Object { attrs, optional }) => {
            let ety = match &in_ty {
                Type::Map(e) => (**e).clone(),
                _ => Type::Dynamic,
            };
            let mut out = BTreeMap::new();
            for (name, x) in m {
                let Some(aty) = attrs.get(name) else { continue };
                if !conversion_exists(&value_type(x), aty, true) && optional.contains(name) {
                    return Err(err_at(
                        path,
                        format!(
                            "map element type is incompatible with attribute {name:?}: {}",
                            mismatch(&ety, aty)
                        ),
                    ));
                }
                let c = with_step(path, Step::Key(name.clone()), |p| conv_value(x, aty, p))?;
                out.insert(name.clone(), c);
            }
            fill_missing(&mut out, attrs, optional, path, |name| {
                format!("map has no element for required attribute {name:?}")
            })?;
            Ok(Value::Object(out))
        }
        (Value::Tuple(vs), TargetType::Tuple(ts)) => {
            if vs.len() != ts.len() {
                return Err(err_at(path, mismatch(&in_ty, want)));
            }
            let mut out = Vec::with_capacity(vs.len());
            for (i, (x, t)) in vs.iter().zip(ts).enumerate() {
                out.push(with_step(path, Step::Index(i), |p| conv_value(x, t, p))?);
            }
            Ok(Value::Tuple(out))
        }

        // Collection targets from collections.
        (Value::List(vs) | Value::Set(vs), TargetType::List(ety)) => {
            if matches!(v, Value::Set(_)) && vs.len() != 1 && !v.is_wholly_known() {
                // A set with unknowns has an unknown length: so has the list.
                let e = match &in_ty {
                    Type::Set(e) => dynamic_replace(e, &ety.to_type()),
                    _ => ety.to_type(),
                };
                return Ok(Value::Unknown(Type::list(e)));
            }
            Ok(Value::List(conv_elems(vs, ety, path)?))
        }
        (Value::List(vs) | Value::Set(vs), TargetType::Set(ety)) => {
            Ok(Value::set_from(conv_elems(vs, ety, path)?))
        }
        (Value::Map(m), TargetType::Map(ety)) => {
            let mut out = BTreeMap::new();
            for (k, x) in m {
                out.insert(
                    k.clone(),
                    with_step(path, Step::Key(k.clone()), |p| conv_value(x, ety, p))?,
                );
            }
            if is_collection(&ety.to_type()) || matches!(**ety, TargetType::Object { .. }) {
                out = unify_map_elems(out, path, false)?;
            }
            Ok(Value::Map(out))
        }

        // Collection targets from structural values.
        (Value::Tuple(vs), TargetType::List(oe) | TargetType::Set(oe)) => {
            let ets: Vec<Type> = vs.iter().map(value_type).collect();
            let Some(ety) = tuple_to_seq_elem(&ets, oe, true) else {
                return Err(err_at(path, mismatch(&in_ty, want)));
            };
            let mut out = Vec::with_capacity(vs.len());
            for (i, x) in vs.iter().enumerate() {
                out.push(with_step(path, Step::Index(i), |p| conv_value(x, &ety, p))?);
            }
            if matches!(want, TargetType::Set(_)) {
                if !all_same_type(out.iter()) {
                    return Err(err_at(
                        path,
                        "element types must all match for conversion to set",
                    ));
                }
                Ok(Value::set_from(out))
            } else {
                Ok(Value::List(unify_list_elems(out, path)?))
            }
        }
        (Value::Object(m), TargetType::Map(oe)) => {
            let atys: BTreeMap<String, Type> =
                m.iter().map(|(k, x)| (k.clone(), value_type(x))).collect();
            let Some(ety) = object_to_map_elem(&atys, oe, true) else {
                return Err(err_at(path, mismatch(&in_ty, want)));
            };
            let mut out = BTreeMap::new();
            for (k, x) in m {
                out.insert(
                    k.clone(),
                    with_step(path, Step::Key(k.clone()), |p| conv_value(x, &ety, p))?,
                );
            }
            if is_collection(&ety.to_type()) || matches!(ety, TargetType::Object { .. }) {
                out = unify_map_elems(out, path, true)?;
            }
            if !all_same_type(out.values()) {
                return Err(err_at(
                    path,
                    "attribute types must all match for conversion to map",
                ));
            }
            Ok(Value::Map(out))
        }
        _ => Err(err_at(path, mismatch(&in_ty, want))),
    }
}

/// Adds nulls for missing optional attributes; fails on a missing required one.
fn fill_missing(
    out: &mut BTreeMap<String, Value>,
    attrs: &BTreeMap<String, TargetType>,
    optional: &BTreeSet<String>,
    path: &[Step],
    required_msg: impl Fn(&str) -> String,
) -> Result<(), ConvertError> {
    for (name, aty) in attrs {
        if !out.contains_key(name) {
            if optional.contains(name) {
                out.insert(name.clone(), Value::Null(aty.to_type()));
            } else {
                return Err(err_at(path, required_msg(name)));
            }
        }
    }
    Ok(())
}

fn conv_elems(
    vs: &[Value],
    ety: &TargetType,
    path: &mut Vec<Step>,
) -> Result<Vec<Value>, ConvertError> {
    let mut out = Vec::with_capacity(vs.len());
    for (i, x) in vs.iter().enumerate() {
        out.push(with_step(path, Step::Index(i), |p| conv_value(x, ety, p))?);
    }
    Ok(out)
}

/// Types equal, treating `Dynamic` (untyped nulls, empty collections) as a wildcard.
fn types_compatible(a: &Type, b: &Type) -> bool {
    match (a, b) {
        (Type::Dynamic, _) | (_, Type::Dynamic) => true,
        (Type::List(x), Type::List(y))
        | (Type::Set(x), Type::Set(y))
        | (Type::Map(x), Type::Map(y)) => types_compatible(x, y),
        (Type::Tuple(x), Type::Tuple(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| types_compatible(p, q))
        }
        (Type::Object(x), Type::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((k1, p), (k2, q))| k1 == k2 && types_compatible(p, q))
        }
        (a, b) => a == b,
    }
}

fn all_same_type<'a>(mut it: impl Iterator<Item = &'a Value>) -> bool {
    let Some(first) = it.next() else { return true };
    let t = value_type(first);
    it.all(|x| types_compatible(&value_type(x), &t))
}

/// cty's `conversionUnifyListElements`.
fn unify_list_elems(elems: Vec<Value>, path: &mut Vec<Step>) -> Result<Vec<Value>, ConvertError> {
    if elems.is_empty() {
        return Ok(elems);
    }
    let tys: Vec<Type> = elems.iter().map(value_type).collect();
    let Some(u) = unify_impl(&tys, true) else {
        return Err(err_at(
            path,
            "cannot find a common base type for all elements",
        ));
    };
    let target = TargetType::from_type(&u);
    let mut out = Vec::with_capacity(elems.len());
    for (i, (x, t)) in elems.into_iter().zip(tys).enumerate() {
        if t == u {
            out.push(x);
        } else {
            out.push(with_step(path, Step::Index(i), |p| {
                conv_value(&x, &target, p)
            })?);
        }
    }
    Ok(out)
}

/// cty's `conversionUnifyCollectionElements`.
fn unify_map_elems(
    elems: BTreeMap<String, Value>,
    path: &mut Vec<Step>,
    unsafe_: bool,
) -> Result<BTreeMap<String, Value>, ConvertError> {
    if elems.is_empty() {
        return Ok(elems);
    }
    let tys: Vec<Type> = elems.values().map(value_type).collect();
    let Some(u) = unify_impl(&tys, unsafe_) else {
        return Err(err_at(
            path,
            "cannot find a common base type for all elements",
        ));
    };
    let target = TargetType::from_type(&u);
    let mut out = BTreeMap::new();
    for ((k, x), t) in elems.into_iter().zip(tys) {
        let c = if t == u {
            x
        } else {
            with_step(path, Step::Key(k.clone()), |p| conv_value(&x, &target, p))?
        };
        out.insert(k, c);
    }
    Ok(out)
}

/// cty's `dynamicReplace`: `out`, with `Dynamic` parts filled in from `in_ty`.
fn dynamic_replace(in_ty: &Type, out: &Type) -> Type {
    match (in_ty, out) {
        (Type::Dynamic, _) => out.clone(),
        (_, Type::Dynamic) => in_ty.clone(),
        (_, Type::Bool | Type::Number | Type::String) => out.clone(),
        (Type::Map(ie), Type::Map(oe)) => Type::map(dynamic_replace(ie, oe)),
        (Type::Object(atys), Type::Map(oe)) => {
            let all: Vec<Type> = atys.values().cloned().collect();
            let u = unify_impl(&all, true).unwrap_or(Type::Dynamic);
            Type::map(dynamic_replace(&u, oe))
        }
        (Type::Map(ie), Type::Object(oattrs)) => Type::Object(
            oattrs
                .iter()
                .map(|(k, t)| (k.clone(), dynamic_replace(ie, t)))
                .collect(),
        ),
        (Type::Object(iattrs), Type::Object(oattrs)) => Type::Object(
            oattrs
                .iter()
                .map(|(k, t)| {
                    (
                        k.clone(),
                        iattrs
                            .get(k)
                            .map(|it| dynamic_replace(it, t))
                            .unwrap_or_else(|| t.clone()),
                    )
                })
                .collect(),
        ),
        (Type::Object(_), _) => out.clone(),
        (Type::List(ie) | Type::Set(ie), Type::Set(oe)) => Type::set(dynamic_replace(ie, oe)),
        (Type::List(ie) | Type::Set(ie), Type::List(oe)) => Type::list(dynamic_replace(ie, oe)),
        (Type::Tuple(ets), Type::Set(oe) | Type::List(oe)) => {
            let u = unify_impl(ets, true).unwrap_or(Type::Dynamic);
            let e = dynamic_replace(&u, oe);
            if matches!(out, Type::Set(_)) {
                Type::set(e)
            } else {
                Type::list(e)
            }
        }
        (Type::Tuple(ets), Type::Tuple(ots)) => Type::Tuple(
            ots.iter()
                .enumerate()
                .map(|(i, t)| {
                    ets.get(i)
                        .map(|it| dynamic_replace(it, t))
                        .unwrap_or_else(|| t.clone())
                })
                .collect(),
        ),
        _ => out.clone(),
    }
}

/// Terraform's string-to-number conversion (Go's `big.ParseFloat` in base 10, 512 bits):
/// optional sign, digits with an optional fraction (`1.`, `.5`), optional exponent, or
/// `Inf`; no whitespace, underscores or hex.
fn parse_number(s: &str) -> Option<Number> {
    Number::parse_string(s)
}

// ---- unification (cty's unify.go) -----------------------------------------------------

fn unify_impl(types: &[Type], unsafe_: bool) -> Option<Type> {
    if types.is_empty() {
        return None;
    }
    if types.iter().all(|t| *t == types[0]) {
        return Some(types[0].clone());
    }
    let (mut map_ct, mut list_ct, mut set_ct, mut obj_ct, mut tup_ct, mut dyn_ct) =
        (0, 0, 0, 0, 0, 0);
    for t in types {
        match t {
            Type::Map(_) => map_ct += 1,
            Type::List(_) => list_ct += 1,
            Type::Set(_) => set_ct += 1,
            Type::Object(_) => obj_ct += 1,
            Type::Tuple(_) => tup_ct += 1,
            Type::Dynamic => dyn_ct += 1,
            _ => {}
        }
    }
    let n = types.len();
    if map_ct > 0 && map_ct + dyn_ct == n {
        return unify_collections(types, unsafe_, dyn_ct > 0, Type::map);
    } else if map_ct > 0 && map_ct + obj_ct + dyn_ct == n {
        if let Some(t @ Type::Map(_)) = unify_objects_as_maps(types, unsafe_) {
            return Some(t);
        }
    } else if list_ct > 0 && list_ct + dyn_ct == n {
        return unify_collections(types, unsafe_, dyn_ct > 0, Type::list);
    } else if list_ct > 0 && list_ct + tup_ct + dyn_ct == n {
        if let Some(t @ Type::List(_)) = unify_tuples_as_list(types, unsafe_) {
            return Some(t);
        }
    } else if set_ct > 0 && set_ct + dyn_ct == n {
        return unify_collections(types, unsafe_, dyn_ct > 0, Type::set);
    } else if obj_ct > 0 && obj_ct + dyn_ct == n {
        return unify_object_types(types, unsafe_, dyn_ct > 0);
    } else if tup_ct > 0 && tup_ct + dyn_ct == n {
        return unify_tuple_types(types, unsafe_, dyn_ct > 0);
    } else if obj_ct > 0 && tup_ct > 0 {
        return None;
    }

    'pref: for want_idx in sort_types(types) {
        let want = &types[want_idx];
        let target = TargetType::from_type(want);
        for (i, t) in types.iter().enumerate() {
            if i == want_idx || t == want {
                continue;
            }
            if !conversion_exists(t, &target, unsafe_) {
                continue 'pref;
            }
        }
        return Some(want.clone());
    }
    None
}

fn all_convert(types: &[Type], to: &Type, unsafe_: bool) -> bool {
    let target = TargetType::from_type(to);
    types
        .iter()
        .all(|t| t == to || conversion_exists(t, &target, unsafe_))
}

fn unify_collections(
    types: &[Type],
    unsafe_: bool,
    has_dynamic: bool,
    make: fn(Type) -> Type,
) -> Option<Type> {
    if has_dynamic {
        return Some(Type::Dynamic);
    }
    let etys: Vec<Type> = types.iter().filter_map(|t| t.element().cloned()).collect();
    let ret = make(unify_impl(&etys, unsafe_)?);
    all_convert(types, &ret, unsafe_).then_some(ret)
}

fn unify_objects_as_maps(types: &[Type], unsafe_: bool) -> Option<Type> {
    let objs: Vec<Type> = types
        .iter()
        .filter(|t| matches!(t, Type::Object(_)))
        .cloned()
        .collect();
    let m @ Type::Map(_) = unify_object_types_to_map(&objs, unsafe_)? else {
        return None;
    };
    let mapped: Vec<Type> = types
        .iter()
        .map(|t| {
            if matches!(t, Type::Object(_)) {
                m.clone()
            } else {
                t.clone()
            }
        })
        .collect();
    match unify_impl(&mapped, unsafe_)? {
        t @ Type::Map(_) => Some(t),
        _ => None,
    }
}

fn unify_tuples_as_list(types: &[Type], unsafe_: bool) -> Option<Type> {
    let tuples: Vec<Type> = types
        .iter()
        .filter(|t| matches!(t, Type::Tuple(_)))
        .cloned()
        .collect();
    let l @ Type::List(_) = unify_tuple_types_to_list(&tuples, unsafe_)? else {
        return None;
    };
    let listed: Vec<Type> = types
        .iter()
        .map(|t| {
            if matches!(t, Type::Tuple(_)) {
                l.clone()
            } else {
                t.clone()
            }
        })
        .collect();
    match unify_impl(&listed, unsafe_)? {
        t @ Type::List(_) => Some(t),
        _ => None,
    }
}

fn unify_object_types(types: &[Type], unsafe_: bool, has_dynamic: bool) -> Option<Type> {
    if has_dynamic {
        return Some(Type::Dynamic);
    }
    let attrs_of = |t: &Type| match t {
        Type::Object(m) => Some(m.clone()),
        _ => None,
    };
    let first = attrs_of(&types[0])?;
    for t in &types[1..] {
        let this = attrs_of(t)?;
        if this.len() != first.len() || this.keys().any(|k| !first.contains_key(k)) {
            return unify_object_types_to_map(types, unsafe_);
        }
    }
    let mut ret = BTreeMap::new();
    for name in first.keys() {
        let across: Vec<Type> = types
            .iter()
            .filter_map(|t| attrs_of(t).and_then(|m| m.get(name).cloned()))
            .collect();
        ret.insert(name.clone(), unify_impl(&across, unsafe_)?);
    }
    let ret = Type::Object(ret);
    if all_convert(types, &ret, unsafe_) {
        Some(ret)
    } else {
        unify_object_types_to_map(types, unsafe_)
    }
}

fn unify_object_types_to_map(types: &[Type], unsafe_: bool) -> Option<Type> {
    let mut atys = Vec::new();
    for t in types {
        if let Type::Object(m) = t {
            atys.extend(m.values().cloned());
        }
    }
    let ret = Type::map(unify_impl(&atys, unsafe_)?);
    all_convert(types, &ret, unsafe_).then_some(ret)
}

fn unify_tuple_types(types: &[Type], unsafe_: bool, has_dynamic: bool) -> Option<Type> {
    if has_dynamic {
        return Some(Type::Dynamic);
    }
    let elems_of = |t: &Type| match t {
        Type::Tuple(v) => v.clone(),
        _ => Vec::new(),
    };
    let first = elems_of(&types[0]);
    if types[1..].iter().any(|t| elems_of(t).len() != first.len()) {
        return unify_tuple_types_to_list(types, unsafe_);
    }
    let mut ret = Vec::with_capacity(first.len());
    for idx in 0..first.len() {
        let across: Vec<Type> = types
            .iter()
            .filter_map(|t| elems_of(t).get(idx).cloned())
            .collect();
        ret.push(unify_impl(&across, unsafe_)?);
    }
    let ret = Type::Tuple(ret);
    if all_convert(types, &ret, unsafe_) {
        Some(ret)
    } else {
        unify_tuple_types_to_list(types, unsafe_)
    }
}

fn unify_tuple_types_to_list(types: &[Type], unsafe_: bool) -> Option<Type> {
    let mut etys = Vec::new();
    for t in types {
        if let Type::Tuple(v) = t {
            etys.extend(v.iter().cloned());
        }
    }
    let ret = Type::list(unify_impl(&etys, unsafe_)?);
    all_convert(types, &ret, unsafe_).then_some(ret)
}

/// cty's `compareTypes`: negative when `a` is the more general (preferred) type.
fn compare_types(a: &Type, b: &Type) -> i32 {
    if *a == Type::Dynamic || *b == Type::Dynamic {
        return match (*a == Type::Dynamic, *b == Type::Dynamic) {
            (false, _) => -1,
            (true, false) => 1,
            (true, true) => 0,
        };
    }
    if a.is_primitive() && b.is_primitive() && (*a == Type::String || *b == Type::String) {
        return match (*a == Type::String, *b == Type::String) {
            (false, _) => 1,
            (true, false) => -1,
            (true, true) => 0,
        };
    }
    match (a, b) {
        (Type::List(x), Type::List(y))
        | (Type::Set(x), Type::Set(y))
        | (Type::Map(x), Type::Map(y)) => return compare_types(x, y),
        _ => {}
    }
    let swapped = matches!(
        (a, b),
        (Type::Tuple(_), Type::List(_))
            | (Type::Object(_), Type::Map(_))
            | (Type::Set(_), Type::Tuple(_))
            | (Type::Set(_), Type::List(_))
    );
    let (a, b, swap) = if swapped { (b, a, -1) } else { (a, b, 1) };
    match (a, b) {
        (Type::Tuple(_) | Type::List(_), Type::Set(_)) => -swap,
        (Type::List(_), Type::Tuple(_)) => -swap,
        (Type::Map(_), Type::Object(_)) => -swap,
        (Type::Object(x), Type::Object(y)) => {
            if x.len() != y.len() || x.keys().any(|k| !y.contains_key(k)) {
                return 0;
            }
            super_side(
                x.keys()
                    .filter_map(|k| Some(compare_types(x.get(k)?, y.get(k)?))),
                swap,
            )
        }
        (Type::Tuple(x), Type::Tuple(y)) => {
            if x.len() != y.len() {
                return 0;
            }
            super_side(x.iter().zip(y).map(|(p, q)| compare_types(p, q)), swap)
        }
        _ => 0,
    }
}

fn super_side(cmps: impl Iterator<Item = i32>, swap: i32) -> i32 {
    let (mut a_super, mut b_super) = (false, false);
    for c in cmps {
        if c < 0 {
            a_super = true;
        } else if c > 0 {
            b_super = true;
        }
    }
    match (a_super, b_super) {
        (true, false) => -swap,
        (false, true) => swap,
        _ => 0,
    }
}

/// cty's `sortTypes`: indices of `tys`, most general first (a stable topological sort).
fn sort_types(tys: &[Type]) -> Vec<usize> {
    let l = tys.len();
    let mut edges: Vec<Vec<usize>> = vec![Vec::new(); l];
    for i in 0..l {
        for j in i + 1..l {
            let c = compare_types(&tys[i], &tys[j]);
            if c < 0 {
                edges[i].push(j);
            } else if c > 0 {
                edges[j].push(i);
            }
        }
    }
    let mut in_degree = vec![0usize; l];
    for outs in &edges {
        for &j in outs {
            in_degree[j] += 1;
        }
    }
    let mut result: Vec<usize> = (0..l).filter(|&i| in_degree[i] == 0).collect();
    let mut head = 0;
    while head < result.len() {
        let i = result[head];
        head += 1;
        for &j in &edges[i] {
            in_degree[j] -= 1;
            if in_degree[j] == 0 {
                result.push(j);
            }
        }
    }
    result
}

// ---- mismatch messages (cty's mismatch_msg.go) ----------------------------------------

fn target_friendly(t: &TargetType, constraint: bool) -> String {
    friendly_name(&t.to_type(), constraint)
}

fn mismatch(got: &Type, want: &TargetType) -> String {
    let want_elem_dynamic = matches!(want, TargetType::List(e) | TargetType::Set(e) | TargetType::Map(e) if **e == TargetType::Dynamic);
    match (got, want) {
        (Type::Object(_), TargetType::Object { .. }) => mismatch_objects(got, want),
        (Type::Tuple(_), TargetType::List(_)) if want_elem_dynamic => {
            "all list elements must have the same type".into()
        }
        (Type::Tuple(_), TargetType::Set(_)) if want_elem_dynamic => {
            "all set elements must have the same type".into()
        }
        (Type::Object(_), TargetType::Map(_)) if want_elem_dynamic => {
            "all map elements must have the same type".into()
        }
        (
            Type::Tuple(_) | Type::Object(_),
            TargetType::List(_) | TargetType::Set(_) | TargetType::Map(_),
        ) => mismatch_from_structural(got, want),
        (
            Type::List(ge) | Type::Set(ge) | Type::Map(ge),
            TargetType::List(we) | TargetType::Set(we) | TargetType::Map(we),
        ) => {
            let kind_ok = match want {
                TargetType::List(_) | TargetType::Set(_) => {
                    matches!(got, Type::List(_) | Type::Set(_))
                }
                _ => matches!(got, Type::Map(_)),
            };
            if !kind_ok {
                return format!("{} required", target_friendly(want, true));
            }
            let noun = match want {
                TargetType::List(_) => "list element type",
                TargetType::Set(_) => "set element type",
                _ => "map element type",
            };
            format!("incorrect {noun}: {}", mismatch(ge, we))
        }
        _ if !likely_confusing(got, want) => {
            format!(
                "{} required, but have {}",
                target_friendly(want, false),
                friendly_name(got, false)
            )
        }
        _ => format!("{} required", target_friendly(want, true)),
    }
}

fn mismatch_objects(got: &Type, want: &TargetType) -> String {
    let (Type::Object(got_atys), TargetType::Object { attrs, optional }) = (got, want) else {
        return "incorrect object attributes".into();
    };
    let mut missing = Vec::new();
    let mut unsafe_mismatch: Option<String> = None;
    let mut safe_mismatch: Option<String> = None;
    for (name, want_aty) in attrs {
        let Some(got_aty) = got_atys.get(name) else {
            if !optional.contains(name) {
                missing.push(name.clone());
            }
            continue;
        };
        if *got_aty == want_aty.to_type() && !want_aty.has_optional() {
            continue;
        }
        if unsafe_mismatch.is_some() {
            continue;
        }
        if !conversion_exists(got_aty, want_aty, true) {
            unsafe_mismatch = Some(format!(
                "attribute {name:?}: {}",
                mismatch(got_aty, want_aty)
            ));
        }
        if safe_mismatch.is_some() {
            continue;
        }
        if !conversion_exists(got_aty, want_aty, false) {
            safe_mismatch = Some(format!(
                "attribute {name:?}: {}",
                mismatch(got_aty, want_aty)
            ));
        }
    }
    match missing.len() {
        0 => {}
        1 => return format!("attribute {:?} is required", missing[0]),
        2 => {
            return format!(
                "attributes {:?} and {:?} are required",
                missing[0], missing[1]
            )
        }
        _ => {
            let (last, init) = match missing.split_last() {
                Some(x) => x,
                None => return "incorrect object attributes".into(),
            };
            let mut buf = String::new();
            for n in init {
                buf.push_str(&format!("{n:?}, "));
            }
            buf.push_str(&format!("and {last:?}"));
            return format!("attributes {buf} are required");
        }
    }
    unsafe_mismatch
        .or(safe_mismatch)
        .unwrap_or_else(|| "incorrect object attributes".into())
}

fn mismatch_from_structural(got: &Type, want: &TargetType) -> String {
    let constraint_required = || format!("{} required", target_friendly(want, true));
    let wety = match (got, want) {
        (Type::Tuple(_), TargetType::List(e) | TargetType::Set(e)) => e,
        (Type::Object(_), TargetType::Map(e)) => e,
        _ => return constraint_required(),
    };
    let wety_plain = wety.to_type();
    let all_must = || format!("all elements must be {}", target_friendly(wety, true));
    match got {
        Type::Tuple(ets) => {
            for (i, gety) in ets.iter().enumerate() {
                if *gety == wety_plain || conversion_exists(gety, wety, true) {
                    continue;
                }
                return format!("element {i}: {}", mismatch(gety, wety));
            }
            all_must()
        }
        Type::Object(atys) => {
            for (name, gaty) in atys {
                if *gaty == wety_plain || conversion_exists(gaty, wety, true) {
                    continue;
                }
                return format!("element {name:?}: {}", mismatch(gaty, wety));
            }
            all_must()
        }
        _ => constraint_required(),
    }
}

/// cty's `typesAreLikelyToCauseConfusion`.
fn likely_confusing(got: &Type, want: &TargetType) -> bool {
    let want_t = want.to_type();
    if got.is_primitive() != want_t.is_primitive() {
        return false;
    }
    if want_t == Type::String {
        return false;
    }
    if (want_t == Type::Bool && *got == Type::Number)
        || (*got == Type::Bool && want_t == Type::Number)
    {
        return false;
    }
    if let (Some(ge), Some(we)) = (got.element(), want_t.element()) {
        if !ge.has_dynamic() && we.has_dynamic() {
            return false;
        }
    }
    if matches!(got, Type::Tuple(_)) && matches!(want_t, Type::Object(_)) {
        return false;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: &str) -> Value {
        Value::string(x)
    }
    fn n(x: f64) -> Value {
        Value::number(x)
    }
    fn tup(vs: Vec<Value>) -> Value {
        Value::Tuple(vs)
    }
    fn obj(items: Vec<(&str, Value)>) -> Value {
        Value::object(items)
    }
    fn oty(items: Vec<(&str, Type)>) -> Type {
        Type::Object(items.into_iter().map(|(k, t)| (k.to_string(), t)).collect())
    }
    fn ok(v: &Value, t: &Type) -> Value {
        match convert(v, t) {
            Ok(x) => x,
            Err(e) => panic!("converting {v:?} to {t}: {e}"),
        }
    }
    fn fail(v: &Value, t: &Type) -> ConvertError {
        match convert(v, t) {
            Ok(x) => panic!("converting {v:?} to {t} gave {x:?}"),
            Err(e) => e,
        }
    }
    /// Strict structural comparison: kinds (list vs tuple, map vs object) must match.
    fn same(a: &Value, b: &Value) -> bool {
        match (a, b) {
            (Value::Sensitive(x), Value::Sensitive(y)) => same(x, y),
            (Value::Null(x), Value::Null(y)) | (Value::Unknown(x), Value::Unknown(y)) => x == y,
            (Value::List(x), Value::List(y))
            | (Value::Set(x), Value::Set(y))
            | (Value::Tuple(x), Value::Tuple(y)) => {
                x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(p, q))
            }
            (Value::Map(x), Value::Map(y)) | (Value::Object(x), Value::Object(y)) => {
                x.len() == y.len()
                    && x.iter()
                        .zip(y)
                        .all(|((k1, p), (k2, q))| k1 == k2 && same(p, q))
            }
            (Value::Bool(x), Value::Bool(y)) => x == y,
            (Value::Number(x), Value::Number(y)) => x == y,
            (Value::String(x), Value::String(y)) => x == y,
            _ => false,
        }
    }
    #[track_caller]
    fn assert_same(got: Value, want: Value) {
        assert!(same(&got, &want), "got {got:?}, want {want:?}");
    }

    // ---- primitives ----

    #[test]
    fn number_to_string_is_canonical() {
        assert_same(ok(&n(1.0), &Type::String), s("1"));
        assert_same(ok(&n(0.1), &Type::String), s("0.1"));
        assert_same(ok(&n(-2.5), &Type::String), s("-2.5"));
        assert_same(ok(&n(1e21), &Type::String), s("1000000000000000000000"));
        assert_same(ok(&n(1e-7), &Type::String), s("0.0000001"));
    }

    #[test]
    fn bool_to_string() {
        assert_same(ok(&Value::Bool(true), &Type::String), s("true"));
        assert_same(ok(&Value::Bool(false), &Type::String), s("false"));
    }

    #[test]
    fn string_to_number_uses_terraform_syntax() {
        for (text, want) in [
            ("1", 1.0),
            ("1.", 1.0),
            (".5", 0.5),
            ("+5", 5.0),
            ("-0.25", -0.25),
            ("1e3", 1000.0),
            ("1E+2", 100.0),
            ("00012", 12.0),
        ] {
            assert_same(ok(&s(text), &Type::Number), n(want));
        }
        for bad in [
            "", " 1", "1 ", "0x10", "1_000", "NaN", "1e", ".", "-", "e5", "1.2.3", "abc",
        ] {
            let e = fail(&s(bad), &Type::Number);
            assert_eq!(e.message, "a number is required", "for {bad:?}");
            assert_eq!(e.path, "");
        }
    }

    #[test]
    fn string_to_bool() {
        assert_same(ok(&s("true"), &Type::Bool), Value::Bool(true));
        assert_same(ok(&s("false"), &Type::Bool), Value::Bool(false));
        // cty (and so Terraform) also accepts "1" and "0".
        assert_same(ok(&s("1"), &Type::Bool), Value::Bool(true));
        assert_same(ok(&s("0"), &Type::Bool), Value::Bool(false));
        assert_eq!(fail(&s("yes"), &Type::Bool).message, "a bool is required");
        assert_eq!(
            fail(&s("True"), &Type::Bool).message,
            "a bool is required; to convert from string, use lowercase \"true\""
        );
        assert_eq!(
            fail(&s("FALSE"), &Type::Bool).message,
            "a bool is required; to convert from string, use lowercase \"false\""
        );
    }

    #[test]
    fn number_and_bool_never_convert() {
        assert_eq!(
            fail(&Value::Bool(true), &Type::Number).message,
            "number required, but have bool"
        );
        assert_eq!(
            fail(&n(1.0), &Type::Bool).message,
            "bool required, but have number"
        );
    }

    #[test]
    fn structural_to_primitive_fails() {
        assert_eq!(
            fail(&tup(vec![]), &Type::String).message,
            "string required, but have tuple"
        );
        assert_eq!(
            fail(&obj(vec![]), &Type::Number).message,
            "number required, but have object"
        );
        assert_eq!(
            fail(&s("x"), &oty(vec![("a", Type::String)])).message,
            "object required, but have string"
        );
    }

    // ---- null, unknown, dynamic, marks ----

    #[test]
    fn null_and_unknown_take_the_target_type() {
        let t = Type::list(Type::String);
        assert_same(ok(&Value::null(), &t), Value::Null(t.clone()));
        assert_same(ok(&Value::unknown(), &t), Value::Unknown(t.clone()));
        // Dynamic parts of the target are filled from the source type.
        assert_same(
            ok(
                &Value::Null(Type::list(Type::Number)),
                &Type::list(Type::Dynamic),
            ),
            Value::Null(Type::list(Type::Number)),
        );
        assert_same(
            ok(&Value::Unknown(Type::Number), &Type::String),
            Value::Unknown(Type::String),
        );
        // A typed null still needs a type-level conversion.
        assert_eq!(
            fail(&Value::Null(Type::Bool), &Type::Number).message,
            "number required, but have bool"
        );
    }

    #[test]
    fn to_dynamic_passes_through() {
        let v = tup(vec![n(1.0), s("a")]);
        assert_same(ok(&v, &Type::Dynamic), v.clone());
    }

    #[test]
    fn sensitive_marks_are_kept() {
        let v = n(5.0).mark_sensitive();
        assert_same(ok(&v, &Type::String), s("5").mark_sensitive());
        let v = tup(vec![n(1.0).mark_sensitive(), s("a")]);
        assert_same(
            ok(&v, &Type::list(Type::String)),
            Value::List(vec![s("1").mark_sensitive(), s("a")]),
        );
        let v = Value::null().mark_sensitive();
        assert_same(
            ok(&v, &Type::Number),
            Value::Null(Type::Number).mark_sensitive(),
        );
        // Errors inside marked values are still reported.
        assert_eq!(
            fail(&s("x").mark_sensitive(), &Type::Number).message,
            "a number is required"
        );
    }

    // ---- collections ----

    #[test]
    fn tuple_to_list_unifies_elements() {
        // tolist(["a", 1]) is a list of string.
        let v = tup(vec![s("a"), n(1.0)]);
        assert_same(
            ok(&v, &Type::list(Type::Dynamic)),
            Value::List(vec![s("a"), s("1")]),
        );
        assert_same(
            convert_to_list(&tup(vec![s("a"), n(1.0), Value::Bool(true)])).unwrap(),
            Value::List(vec![s("a"), s("1"), s("true")]),
        );
        // tolist([null, "a"]) types the null.
        assert_same(
            ok(
                &tup(vec![Value::null(), s("a")]),
                &Type::list(Type::Dynamic),
            ),
            Value::List(vec![Value::Null(Type::String), s("a")]),
        );
        // tolist(["a", true, {}]) fails.
        let e = fail(
            &tup(vec![s("a"), Value::Bool(true), obj(vec![])]),
            &Type::list(Type::Dynamic),
        );
        assert_eq!(e.message, "all list elements must have the same type");
        let e = fail(&tup(vec![n(1.0), obj(vec![])]), &Type::set(Type::Dynamic));
        assert_eq!(e.message, "all set elements must have the same type");
    }

    #[test]
    fn tuple_to_list_of_concrete_type() {
        let v = tup(vec![n(1.0), Value::Bool(false)]);
        assert_same(
            ok(&v, &Type::list(Type::String)),
            Value::List(vec![s("1"), s("false")]),
        );
        let e = fail(&tup(vec![s("a"), obj(vec![])]), &Type::list(Type::String));
        assert_eq!(e.message, "element 1: string required, but have object");
        assert_eq!(e.path, "");
        let e = fail(&tup(vec![s("1"), s("x")]), &Type::list(Type::Number));
        assert_eq!(
            (e.path.as_str(), e.message.as_str()),
            ("[1]", "a number is required")
        );
        assert_eq!(e.to_string(), "[1]: a number is required");
        assert_same(
            ok(&tup(vec![]), &Type::list(Type::String)),
            Value::List(vec![]),
        );
    }

    #[test]
    fn nested_tuples_unify_to_lists() {
        // tolist([[], ["a"]]) is a list of list of string.
        let v = tup(vec![tup(vec![]), tup(vec![s("a")])]);
        assert_same(
            ok(&v, &Type::list(Type::Dynamic)),
            Value::List(vec![Value::List(vec![]), Value::List(vec![s("a")])]),
        );
        // tolist([[1], ["a", true]]) as list(list(string)).
        let v = tup(vec![
            tup(vec![n(1.0)]),
            tup(vec![s("a"), Value::Bool(true)]),
        ]);
        assert_same(
            ok(&v, &Type::list(Type::list(Type::String))),
            Value::List(vec![
                Value::List(vec![s("1")]),
                Value::List(vec![s("a"), s("true")]),
            ]),
        );
    }

    #[test]
    fn list_of_objects_unifies() {
        // tolist([{a=1},{b=2}]) gives a list of map(number).
        let v = tup(vec![obj(vec![("a", n(1.0))]), obj(vec![("b", n(2.0))])]);
        let want = Value::List(vec![
            Value::Map([("a".to_string(), n(1.0))].into_iter().collect()),
            Value::Map([("b".to_string(), n(2.0))].into_iter().collect()),
        ]);
        assert_same(ok(&v, &Type::list(Type::Dynamic)), want);
        // tolist([{a=1},{a="x"}]) gives a list of object({a=string}).
        let v = tup(vec![obj(vec![("a", n(1.0))]), obj(vec![("a", s("x"))])]);
        assert_same(
            ok(&v, &Type::list(Type::Dynamic)),
            Value::List(vec![obj(vec![("a", s("1"))]), obj(vec![("a", s("x"))])]),
        );
        // tolist([{a=1},{a=true}]) fails.
        let v = tup(vec![
            obj(vec![("a", n(1.0))]),
            obj(vec![("a", Value::Bool(true))]),
        ]);
        assert_eq!(
            fail(&v, &Type::list(Type::Dynamic)).message,
            "all list elements must have the same type"
        );
        // Elements converted to object({a=any}) are unified afterwards.
        let t = Type::list(oty(vec![("a", Type::Dynamic)]));
        let v = tup(vec![obj(vec![("a", n(1.0))]), obj(vec![("a", s("x"))])]);
        assert_same(
            ok(&v, &t),
            Value::List(vec![obj(vec![("a", s("1"))]), obj(vec![("a", s("x"))])]),
        );
    }

    #[test]
    fn list_element_missing_attribute() {
        let t = Type::list(oty(vec![("a", Type::Number)]));
        let v = tup(vec![obj(vec![("a", n(1.0))]), obj(vec![("b", n(2.0))])]);
        assert_eq!(
            fail(&v, &t).message,
            "element 1: attribute \"a\" is required"
        );
    }

    #[test]
    fn to_set_sorts_and_dedups() {
        // toset(["a", 1, "a", "1"]) has two elements.
        let v = tup(vec![s("a"), n(1.0), s("a"), s("1")]);
        assert_same(
            ok(&v, &Type::set(Type::Dynamic)),
            Value::Set(vec![s("1"), s("a")]),
        );
        let l = Value::List(vec![s("b"), s("a"), s("b")]);
        assert_same(
            convert_to_set(&l).unwrap(),
            Value::Set(vec![s("a"), s("b")]),
        );
        assert_eq!(
            fail(&tup(vec![tup(vec![])]), &Type::set(Type::String)).message,
            "element 0: string required, but have tuple"
        );
    }

    #[test]
    fn list_set_conversions() {
        let set = Value::Set(vec![n(1.0), n(2.0)]);
        assert_same(
            ok(&set, &Type::list(Type::String)),
            Value::List(vec![s("1"), s("2")]),
        );
        let list = Value::List(vec![s("2"), s("1")]);
        assert_same(
            ok(&list, &Type::set(Type::Number)),
            Value::Set(vec![n(1.0), n(2.0)]),
        );
        assert_same(ok(&list, &Type::list(Type::Dynamic)), list.clone());
        // A set with unknowns has an unknown length: so does the list made from it.
        let set = Value::Set(vec![s("a"), Value::Unknown(Type::String)]);
        assert_same(
            ok(&set, &Type::list(Type::String)),
            Value::Unknown(Type::list(Type::String)),
        );
        // Lists never become tuples or maps.
        assert_eq!(
            fail(&list, &Type::map(Type::String)).message,
            "map of string required"
        );
        assert_eq!(
            fail(&list, &Type::Tuple(vec![Type::String, Type::String])).message,
            "tuple required"
        );
        assert_eq!(
            fail(&obj(vec![]), &Type::list(Type::String)).message,
            "list of string required"
        );
        assert_eq!(
            fail(&tup(vec![]), &Type::map(Type::String)).message,
            "map of string required"
        );
    }

    #[test]
    fn collection_element_type_mismatch() {
        let l = Value::List(vec![tup(vec![])]);
        assert_eq!(
            fail(&l, &Type::list(Type::Number)).message,
            "incorrect list element type: number required, but have tuple"
        );
        let m = Value::Map([("a".to_string(), Value::Bool(true))].into_iter().collect());
        assert_eq!(
            fail(&m, &Type::map(Type::Number)).message,
            "incorrect map element type: number required, but have bool"
        );
    }

    #[test]
    fn object_to_map() {
        // tomap({a=1, b="x"}) is a map of string.
        let v = obj(vec![("a", n(1.0)), ("b", s("x"))]);
        let want = Value::Map(
            [("a".to_string(), s("1")), ("b".to_string(), s("x"))]
                .into_iter()
                .collect(),
        );
        assert_same(ok(&v, &Type::map(Type::Dynamic)), want.clone());
        assert_same(convert_to_map(&v).unwrap(), want);
        // tomap({a=1, b=true}) fails.
        let v = obj(vec![("a", n(1.0)), ("b", Value::Bool(true))]);
        assert_eq!(
            fail(&v, &Type::map(Type::Dynamic)).message,
            "all map elements must have the same type"
        );
        // tomap({a=[1], b=["x"]}) unifies the tuples to tuple([string]).
        let v = obj(vec![("a", tup(vec![n(1.0)])), ("b", tup(vec![s("x")]))]);
        let want = Value::Map(
            [
                ("a".to_string(), tup(vec![s("1")])),
                ("b".to_string(), tup(vec![s("x")])),
            ]
            .into_iter()
            .collect(),
        );
        assert_same(ok(&v, &Type::map(Type::Dynamic)), want);
        // map(number) from {a="x"} fails at the element.
        let e = fail(&obj(vec![("a", s("x"))]), &Type::map(Type::Number));
        assert_eq!(
            (e.path.as_str(), e.message.as_str()),
            ("[\"a\"]", "a number is required")
        );
        let e = fail(&obj(vec![("a", tup(vec![]))]), &Type::map(Type::String));
        assert_eq!(e.message, "element \"a\": string required, but have tuple");
        assert_same(
            ok(&obj(vec![]), &Type::map(Type::String)),
            Value::Map(BTreeMap::new()),
        );
    }

    #[test]
    fn map_of_lists_unifies_elements() {
        // map(list(string)) from {a=["x"], b=[1]}.
        let v = obj(vec![("a", tup(vec![s("x")])), ("b", tup(vec![n(1.0)]))]);
        let want = Value::Map(
            [
                ("a".to_string(), Value::List(vec![s("x")])),
                ("b".to_string(), Value::List(vec![s("1")])),
            ]
            .into_iter()
            .collect(),
        );
        assert_same(ok(&v, &Type::map(Type::list(Type::String))), want);
        // map(list(any)) picks the common element type.
        let v = obj(vec![("a", tup(vec![s("x")])), ("b", tup(vec![n(1.0)]))]);
        let want = Value::Map(
            [
                ("a".to_string(), Value::List(vec![s("x")])),
                ("b".to_string(), Value::List(vec![s("1")])),
            ]
            .into_iter()
            .collect(),
        );
        assert_same(ok(&v, &Type::map(Type::list(Type::Dynamic))), want);
    }

    #[test]
    fn map_to_map() {
        let m = Value::Map([("a".to_string(), n(1.0))].into_iter().collect());
        assert_same(
            ok(&m, &Type::map(Type::String)),
            Value::Map([("a".to_string(), s("1"))].into_iter().collect()),
        );
    }

    // ---- objects and tuples ----

    #[test]
    fn object_to_object() {
        let t = oty(vec![("name", Type::String), ("size", Type::Number)]);
        let v = obj(vec![
            ("name", s("x")),
            ("size", s("2")),
            ("extra", Value::Bool(true)),
        ]);
        // Extra attributes are dropped; attributes converted.
        assert_same(ok(&v, &t), obj(vec![("name", s("x")), ("size", n(2.0))]));
        assert_eq!(
            fail(&obj(vec![]), &oty(vec![("name", Type::String)])).message,
            "attribute \"name\" is required"
        );
        assert_eq!(
            fail(
                &obj(vec![]),
                &oty(vec![("a", Type::String), ("b", Type::String)])
            )
            .message,
            "attributes \"a\" and \"b\" are required"
        );
        assert_eq!(
            fail(
                &obj(vec![]),
                &oty(vec![
                    ("a", Type::String),
                    ("b", Type::String),
                    ("c", Type::String)
                ])
            )
            .message,
            "attributes \"a\", \"b\", and \"c\" are required"
        );
        let e = fail(
            &obj(vec![("name", tup(vec![]))]),
            &oty(vec![("name", Type::String)]),
        );
        assert_eq!(
            e.message,
            "attribute \"name\": string required, but have tuple"
        );
        let e = fail(
            &obj(vec![("a", tup(vec![s("x")]))]),
            &oty(vec![("a", Type::list(Type::Number))]),
        );
        assert_eq!(
            (e.path.as_str(), e.message.as_str()),
            (".a[0]", "a number is required")
        );
        let e = fail(
            &obj(vec![("a", obj(vec![("b", s("x"))]))]),
            &oty(vec![("a", oty(vec![("b", Type::Bool)]))]),
        );
        assert_eq!(e.to_string(), ".a.b: a bool is required");
    }

    #[test]
    fn map_to_object() {
        let m = Value::Map(
            [("a".to_string(), s("1")), ("z".to_string(), s("9"))]
                .into_iter()
                .collect(),
        );
        assert_same(
            ok(&m, &oty(vec![("a", Type::Number)])),
            obj(vec![("a", n(1.0))]),
        );
        let e = fail(&m, &oty(vec![("a", Type::Number), ("b", Type::Number)]));
        assert_eq!(e.message, "map has no element for required attribute \"b\"");
        let bad = Value::Map([("a".to_string(), s("x"))].into_iter().collect());
        let e = fail(&bad, &oty(vec![("a", Type::Number)]));
        assert_eq!(
            (e.path.as_str(), e.message.as_str()),
            ("[\"a\"]", "a number is required")
        );
    }

    #[test]
    fn optional_attributes_become_null() {
        let mut attrs = BTreeMap::new();
        attrs.insert("a".to_string(), TargetType::String);
        attrs.insert(
            "b".to_string(),
            TargetType::List(Box::new(TargetType::Number)),
        );
        let want = TargetType::Object {
            attrs,
            optional: ["b".to_string()].into_iter().collect(),
        };
        let got = convert_target(&obj(vec![("a", s("x"))]), &want).unwrap();
        assert_same(
            got,
            obj(vec![
                ("a", s("x")),
                ("b", Value::Null(Type::list(Type::Number))),
            ]),
        );
        let e = convert_target(&obj(vec![("b", tup(vec![]))]), &want).unwrap_err();
        assert_eq!(e.message, "attribute \"a\" is required");
        // From a map too.
        let m = Value::Map([("a".to_string(), s("x"))].into_iter().collect());
        assert_same(
            convert_target(&m, &want).unwrap(),
            obj(vec![
                ("a", s("x")),
                ("b", Value::Null(Type::list(Type::Number))),
            ]),
        );
        // A present optional attribute the map's element type cannot convert to fails.
        let m = Value::Map(
            [("a".to_string(), s("x")), ("b".to_string(), s("y"))]
                .into_iter()
                .collect(),
        );
        let e = convert_target(&m, &want).unwrap_err();
        assert_eq!(e.message, "map element type is incompatible with attribute \"b\": list of number required, but have string");
    }

    #[test]
    fn tuple_to_tuple() {
        let t = Type::Tuple(vec![Type::String, Type::Number]);
        assert_same(
            ok(&tup(vec![n(1.0), s("2")]), &t),
            tup(vec![s("1"), n(2.0)]),
        );
        assert_eq!(fail(&tup(vec![s("a")]), &t).message, "tuple required");
        let e = fail(&tup(vec![s("a"), s("b")]), &t);
        assert_eq!(
            (e.path.as_str(), e.message.as_str()),
            ("[1]", "a number is required")
        );
    }

    #[test]
    fn conformance() {
        assert!(type_conforms(&s("a"), &Type::String));
        assert!(!type_conforms(&s("a"), &Type::Number));
        assert!(type_conforms(
            &Value::List(vec![s("a")]),
            &Type::list(Type::String)
        ));
        assert!(!type_conforms(
            &tup(vec![s("a")]),
            &Type::list(Type::String)
        ));
        assert!(type_conforms(&Value::null(), &Type::list(Type::String)));
        assert!(type_conforms(
            &obj(vec![("a", n(1.0))]),
            &oty(vec![("a", Type::Number)])
        ));
        assert!(!type_conforms(
            &obj(vec![("a", n(1.0)), ("b", n(1.0))]),
            &oty(vec![("a", Type::Number)])
        ));
        assert!(type_conforms(&tup(vec![s("a")]), &Type::Dynamic));
        assert!(type_conforms(&n(1.0).mark_sensitive(), &Type::Number));
    }

    // ---- unify ----

    #[test]
    fn unify_primitives() {
        assert_eq!(unify(&[Type::Number, Type::String]), Some(Type::String));
        assert_eq!(
            unify(&[Type::Bool, Type::String, Type::Number]),
            Some(Type::String)
        );
        assert_eq!(unify(&[Type::Number, Type::Bool]), None);
        assert_eq!(unify(&[Type::Number, Type::Number]), Some(Type::Number));
        assert_eq!(unify(&[Type::Number, Type::Dynamic]), Some(Type::Number));
        assert_eq!(unify(&[Type::Dynamic, Type::Dynamic]), Some(Type::Dynamic));
        assert_eq!(unify(&[]), None);
    }

    #[test]
    fn unify_collections_and_structures() {
        assert_eq!(
            unify(&[Type::list(Type::Number), Type::list(Type::String)]),
            Some(Type::list(Type::String))
        );
        assert_eq!(
            unify(&[Type::list(Type::String), Type::set(Type::String)]),
            Some(Type::list(Type::String))
        );
        assert_eq!(
            unify(&[Type::list(Type::String), Type::Dynamic]),
            Some(Type::Dynamic)
        );
        assert_eq!(
            unify(&[Type::map(Type::Number), Type::map(Type::Bool)]),
            None
        );
        // Objects with the same attributes unify attribute-wise...
        assert_eq!(
            unify(&[
                oty(vec![("a", Type::Number)]),
                oty(vec![("a", Type::String)])
            ]),
            Some(oty(vec![("a", Type::String)]))
        );
        // ...otherwise to a map.
        assert_eq!(
            unify(&[
                oty(vec![("a", Type::Number)]),
                oty(vec![("b", Type::Number)])
            ]),
            Some(Type::map(Type::Number))
        );
        assert_eq!(
            unify(&[oty(vec![("a", Type::Number)]), oty(vec![("b", Type::Bool)])]),
            None
        );
        // Objects with maps.
        assert_eq!(
            unify(&[oty(vec![("a", Type::Number)]), Type::map(Type::String)]),
            Some(Type::map(Type::String))
        );
        // Tuples: same length element-wise, else a list.
        assert_eq!(
            unify(&[
                Type::Tuple(vec![Type::Number]),
                Type::Tuple(vec![Type::String])
            ]),
            Some(Type::Tuple(vec![Type::String]))
        );
        assert_eq!(
            unify(&[
                Type::Tuple(vec![]),
                Type::Tuple(vec![Type::String, Type::Number])
            ]),
            Some(Type::list(Type::String))
        );
        assert_eq!(
            unify(&[Type::Tuple(vec![Type::Number]), Type::list(Type::String)]),
            Some(Type::list(Type::String))
        );
        assert_eq!(unify(&[Type::Tuple(vec![]), oty(vec![])]), None);
        assert_eq!(unify(&[Type::String, oty(vec![])]), None);
    }

    #[test]
    fn value_type_skips_untyped_nulls() {
        let l = Value::List(vec![Value::null(), s("a")]);
        assert_eq!(value_type(&l), Type::list(Type::String));
        assert_eq!(value_type(&Value::List(vec![])), Type::list(Type::Dynamic));
    }

    #[test]
    fn friendly_names() {
        assert_eq!(
            friendly_name(&Type::list(Type::Dynamic), true),
            "list of any single type"
        );
        assert_eq!(
            friendly_name(&Type::list(Type::Dynamic), false),
            "list of dynamic"
        );
        assert_eq!(friendly_name(&Type::Dynamic, true), "any type");
        assert_eq!(
            friendly_name(&Type::map(Type::set(Type::Bool)), false),
            "map of set of bool"
        );
        assert!(can_convert(&Type::String, &Type::Number));
        assert!(!can_convert(&Type::Bool, &Type::Number));
        assert_eq!(
            mismatch_message(&Type::Bool, &Type::Number),
            "number required, but have bool"
        );
    }
}
