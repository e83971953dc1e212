//! Argument conversion for the function library: Terraform's (cty's) automatic
//! conversion of a value to a parameter type, and type unification of collection
//! elements (the `list(any)`-style parameters of collection functions).
//!
//! This is a private copy of the rules the library needs, so that the functions work
//! whatever the state of `lang::convert`; error messages follow cty's wording
//! ("string required", "a number is required", ...). Marks are expected to have been
//! removed by the dispatcher, but nested `Sensitive` values are tolerated (kept).

use std::collections::BTreeMap;

use crate::lang::value::{friendly_type_name, Number, Type, Value};

/// The canonical string of a number, as `tostring` and string conversion produce it.
pub fn number_string(n: Number) -> String {
    n.to_string()
}

/// Converts a primitive to a string ("string required" otherwise).
pub fn to_string(v: &Value) -> Result<String, String> {
    match v.unmark().0 {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(number_string(n.clone())),
        Value::Bool(b) => Ok(b.to_string()),
        Value::Null(_) => Err("argument must not be null".into()),
        _ => Err("string required".into()),
    }
}

/// Converts a primitive to a number.
pub fn to_number(v: &Value) -> Result<Number, String> {
    match v.unmark().0 {
        Value::Number(n) => Ok(n.clone()),
        Value::String(s) => parse_number(s).ok_or_else(|| "a number is required".to_string()),
        Value::Null(_) => Err("argument must not be null".into()),
        _ => Err("number required".into()),
    }
}

/// Terraform's string-to-number conversion: decimal syntax only, no surrounding space.
pub fn parse_number(s: &str) -> Option<Number> {
    Number::parse_string(s)
}

/// Converts a primitive to a bool.
pub fn to_bool(v: &Value) -> Result<bool, String> {
    match v.unmark().0 {
        Value::Bool(b) => Ok(*b),
        // cty accepts "1" and "0" as well.
        Value::String(s) if s == "true" || s == "1" => Ok(true),
        Value::String(s) if s == "false" || s == "0" => Ok(false),
        Value::String(_) => Err("a bool is required".into()),
        Value::Null(_) => Err("argument must not be null".into()),
        _ => Err("bool required".into()),
    }
}

/// The type an element contributes to unification: `None` for untyped nulls and
/// unknowns, which fit any type.
fn unify_input(v: &Value) -> Option<Type> {
    match v.unmark().0 {
        Value::Null(Type::Dynamic) | Value::Unknown(Type::Dynamic) => None,
        other => Some(other.type_of()),
    }
}

/// Finds a single type all the given types convert to, as cty's `convert.Unify` does.
pub fn unify(types: &[Type]) -> Option<Type> {
    let concrete: Vec<&Type> = types.iter().filter(|t| **t != Type::Dynamic).collect();
    let Some(first) = concrete.first() else {
        return Some(Type::Dynamic);
    };
    if concrete.iter().all(|t| *t == *first) {
        return Some((*first).clone());
    }
    if concrete.iter().all(|t| t.is_primitive()) {
        if concrete.iter().any(|t| **t == Type::String) {
            return Some(Type::String);
        }
        return None;
    }
    let all = |f: fn(&Type) -> bool| concrete.iter().all(|t| f(t));
    if all(|t| matches!(t, Type::List(_))) {
        let inner: Vec<Type> = concrete
            .iter()
            .filter_map(|t| t.element().cloned())
            .collect();
        return unify(&inner).map(Type::list);
    }
    if all(|t| matches!(t, Type::Set(_))) {
        let inner: Vec<Type> = concrete
            .iter()
            .filter_map(|t| t.element().cloned())
            .collect();
        return unify(&inner).map(Type::set);
    }
    if all(|t| matches!(t, Type::Map(_) | Type::Object(_))) {
        let mut inner = Vec::new();
        for t in &concrete {
            match t {
                Type::Map(e) => inner.push((**e).clone()),
                Type::Object(attrs) => inner.extend(attrs.values().cloned()),
                _ => {}
            }
        }
        // Objects with identical attribute names unify attribute-wise.
        if all(|t| matches!(t, Type::Object(_))) {
            let names: Vec<Vec<&String>> = concrete
                .iter()
                .map(|t| match t {
                    Type::Object(a) => a.keys().collect(),
                    _ => Vec::new(),
                })
                .collect();
            if names.iter().all(|n| *n == names[0]) {
                let mut out = BTreeMap::new();
                for k in names[0].iter() {
                    let ts: Vec<Type> = concrete
                        .iter()
                        .filter_map(|t| match t {
                            Type::Object(a) => a.get(*k).cloned(),
                            _ => None,
                        })
                        .collect();
                    out.insert((*k).clone(), unify(&ts)?);
                }
                return Some(Type::Object(out));
            }
        }
        return unify(&inner).map(Type::map);
    }
    if all(|t| matches!(t, Type::List(_) | Type::Tuple(_))) {
        if all(|t| matches!(t, Type::Tuple(_))) {
            let lens: Vec<usize> = concrete
                .iter()
                .map(|t| match t {
                    Type::Tuple(ts) => ts.len(),
                    _ => 0,
                })
                .collect();
            if lens.iter().all(|l| *l == lens[0]) {
                let mut out = Vec::new();
                for i in 0..lens[0] {
                    let ts: Vec<Type> = concrete
                        .iter()
                        .filter_map(|t| match t {
                            Type::Tuple(ts) => ts.get(i).cloned(),
                            _ => None,
                        })
                        .collect();
                    out.push(unify(&ts)?);
                }
                return Some(Type::Tuple(out));
            }
        }
        let mut inner = Vec::new();
        for t in &concrete {
            match t {
                Type::List(e) => inner.push((**e).clone()),
                Type::Tuple(ts) => inner.extend(ts.iter().cloned()),
                _ => {}
            }
        }
        return unify(&inner).map(Type::list);
    }
    None
}

/// Unifies the types of the given element values.
pub fn unify_values(vs: &[Value]) -> Option<Type> {
    let ts: Vec<Type> = vs.iter().filter_map(unify_input).collect();
    unify(&ts)
}

fn type_phrase(t: &Type) -> String {
    friendly_type_name(t)
}

/// Converts `v` to `ty` following cty's conversion rules. Errors carry a path prefix
/// (`element 2: ...`, `attribute "a": ...`) like cty's.
pub fn convert(v: &Value, ty: &Type) -> Result<Value, String> {
    if let Value::Sensitive(inner) = v {
        return convert(inner, ty).map(Value::mark_sensitive);
    }
    match (v, ty) {
        (_, Type::Dynamic) => Ok(v.clone()),
        (Value::Null(_), t) => Ok(Value::Null(t.clone())),
        (Value::Unknown(_), t) => Ok(Value::Unknown(t.clone())),
        (_, Type::String) => to_string(v).map(Value::String),
        (_, Type::Number) => to_number(v).map(Value::Number),
        (_, Type::Bool) => to_bool(v).map(Value::Bool),
        (Value::List(vs) | Value::Set(vs) | Value::Tuple(vs), Type::List(et) | Type::Set(et)) => {
            let et: Type = if **et == Type::Dynamic {
                unify_values(vs)
                    .ok_or_else(|| "all elements must have the same type".to_string())?
            } else {
                (**et).clone()
            };
            let mut out = Vec::with_capacity(vs.len());
            for (i, e) in vs.iter().enumerate() {
                out.push(convert(e, &et).map_err(|m| format!("element {i}: {m}"))?);
            }
            if matches!(ty, Type::Set(_)) {
                Ok(Value::set_from(out))
            } else {
                Ok(Value::List(out))
            }
        }
        (Value::Map(m) | Value::Object(m), Type::Map(et)) => {
            let vals: Vec<Value> = m.values().cloned().collect();
            let et: Type = if **et == Type::Dynamic {
                unify_values(&vals)
                    .ok_or_else(|| "all map elements must have the same type".to_string())?
            } else {
                (**et).clone()
            };
            let mut out = BTreeMap::new();
            for (k, e) in m {
                out.insert(
                    k.clone(),
                    convert(e, &et).map_err(|msg| format!("element {k:?}: {msg}"))?,
                );
            }
            Ok(Value::Map(out))
        }
        (Value::List(vs) | Value::Tuple(vs) | Value::Set(vs), Type::Tuple(ts)) => {
            if vs.len() != ts.len() {
                return Err(format!("tuple required with exactly {} elements", ts.len()));
            }
            let mut out = Vec::with_capacity(vs.len());
            for (i, (e, t)) in vs.iter().zip(ts).enumerate() {
                out.push(convert(e, t).map_err(|m| format!("element {i}: {m}"))?);
            }
            Ok(Value::Tuple(out))
        }
        (Value::Map(m) | Value::Object(m), Type::Object(attrs)) => {
            let mut out = BTreeMap::new();
            for (k, t) in attrs {
                match m.get(k) {
                    Some(e) => {
                        out.insert(
                            k.clone(),
                            convert(e, t).map_err(|msg| format!("attribute {k:?}: {msg}"))?,
                        );
                    }
                    None => return Err(format!("attribute {k:?} is required")),
                }
            }
            Ok(Value::Object(out))
        }
        (_, t) => Err(format!("{} required", type_phrase(t))),
    }
}

/// Converts a sequence argument (list, set or tuple) to its elements unified to a single
/// type, as a `list(any)` parameter does.
pub fn to_list(v: &Value) -> Result<Vec<Value>, String> {
    match v.unmark().0 {
        Value::List(vs) | Value::Set(vs) => Ok(vs.clone()),
        Value::Tuple(vs) => {
            let et = unify_values(vs)
                .ok_or_else(|| "all elements must have the same type".to_string())?;
            vs.iter()
                .enumerate()
                .map(|(i, e)| convert(e, &et).map_err(|m| format!("element {i}: {m}")))
                .collect()
        }
        Value::Null(_) => Err("argument must not be null".into()),
        _ => Err("list of any single type required".into()),
    }
}

/// Converts a sequence argument to a list of strings.
pub fn to_string_list(v: &Value) -> Result<Vec<Value>, String> {
    match v.unmark().0 {
        Value::List(vs) | Value::Set(vs) | Value::Tuple(vs) => vs
            .iter()
            .enumerate()
            .map(|(i, e)| convert(e, &Type::String).map_err(|m| format!("element {i}: {m}")))
            .collect(),
        Value::Null(_) => Err("argument must not be null".into()),
        _ => Err("list of string required".into()),
    }
}
