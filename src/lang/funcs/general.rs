//! Type conversion and general functions: tobool, tolist, tomap, tonumber, toset,
//! tostring, sensitive, nonsensitive and type (console-only in Terraform; here it
//! returns the type expression as a string).
//!
//! The conversions use this library's own `conv` rules (cty's), with Terraform's
//! "cannot convert X to Y" wording.

use super::conv::{self, convert};
use super::{FResult, FuncError};
use crate::lang::value::{Type, Value};

pub(super) fn call(name: &str, a: &[Value]) -> Option<FResult> {
    Some(match name {
        "tostring" => to_prim(&a[0], Type::String),
        "tonumber" => to_prim(&a[0], Type::Number),
        "tobool" => to_prim(&a[0], Type::Bool),
        "tolist" => to_coll(&a[0], Type::list(Type::Dynamic), "list of any single type"),
        "toset" => to_coll(&a[0], Type::set(Type::Dynamic), "set of any single type"),
        "tomap" => to_coll(&a[0], Type::map(Type::Dynamic), "map of any single type"),
        "sensitive" => Ok(a[0].clone().mark_sensitive()),
        "nonsensitive" => match &a[0] {
            Value::Sensitive(v) => Ok((**v).clone()),
            Value::Unknown(_) => Ok(a[0].clone()),
            _ => Err(FuncError::arg(
                0,
                "the given value is not sensitive, so this call is redundant",
            )),
        },
        "type" => Ok(Value::String(a[0].type_of().to_string())),
        _ => return None,
    })
}

fn kind_name(v: &Value) -> String {
    match v.type_of() {
        Type::Tuple(_) => "tuple".into(),
        Type::Object(_) => "object".into(),
        t => crate::lang::value::friendly_type_name(&t),
    }
}

fn to_prim(v: &Value, ty: Type) -> FResult {
    match v {
        // Terraform 1.0.3's to* functions do not accept dynamic types, so cty passes
        // an untyped null or unknown through unconverted.
        Value::Null(Type::Dynamic) | Value::Unknown(Type::Dynamic) => return Ok(v.clone()),
        Value::Null(_) => return Ok(Value::Null(ty)),
        Value::Unknown(_) => return Ok(Value::Unknown(ty)),
        _ => {}
    }
    let tname = ty.to_string();
    convert(v, &ty).map_err(|_| {
        let msg = match (v, &ty) {
            (Value::String(s), Type::Number) => format!("cannot convert {s:?} to number; given string must be a decimal representation of a number"),
            (Value::String(s), Type::Bool) => format!("cannot convert {s:?} to bool; only the strings \"true\" or \"false\" are allowed"),
            _ => format!("cannot convert {} to {tname}", kind_name(v)),
        };
        FuncError::arg(0, msg)
    })
}

fn to_coll(v: &Value, ty: Type, phrase: &str) -> FResult {
    match v {
        // Terraform 1.0.3's to* functions do not accept dynamic types, so cty passes
        // an untyped null or unknown through unconverted.
        Value::Null(Type::Dynamic) | Value::Unknown(Type::Dynamic) => return Ok(v.clone()),
        Value::Null(_) => return Ok(Value::Null(ty)),
        Value::Unknown(_) => return Ok(Value::Unknown(ty)),
        _ => {}
    }
    let ok_kind = match ty {
        Type::Map(_) => matches!(v, Value::Map(_) | Value::Object(_)),
        _ => matches!(v, Value::List(_) | Value::Set(_) | Value::Tuple(_)),
    };
    let fail = || FuncError::arg(0, format!("cannot convert {} to {phrase}", kind_name(v)));
    if !ok_kind {
        return Err(fail());
    }
    // Nested objects of differing attributes unify to maps (as cty does).
    let elems: Vec<Value> = match v {
        Value::Map(m) | Value::Object(m) => m.values().cloned().collect(),
        _ => v.as_seq().map(|s| s.to_vec()).unwrap_or_default(),
    };
    // cty 1.9 (tuple to list or set, not object to map): when the elements unify only
    // to `any` (an untyped null beside a structural value), the conversion exists only
    // if every element is untyped.
    let tys: Vec<Type> = elems.iter().map(crate::lang::convert::value_type).collect();
    if !matches!(ty, Type::Map(_))
        && crate::lang::convert::unify(&tys) == Some(Type::Dynamic)
        && tys.iter().any(|t| *t != Type::Dynamic)
    {
        return Err(fail());
    }
    let et = conv::unify_values(&elems).ok_or_else(fail)?;
    let target = match ty {
        Type::List(_) => Type::list(et),
        Type::Set(_) => Type::set(et),
        _ => Type::map(et),
    };
    convert(v, &target).map_err(|_| fail())
}

#[cfg(test)]
mod tests {
    use super::super::tests::check;

    #[test]
    fn conversions() {
        check(&[
            ("tostring([])", "!cannot convert tuple to string"),
            ("tostring(null)", "null"),
            ("tostring(1.50)", "\"1.5\""),
            ("tostring(true)", "\"true\""),
            ("tonumber(\"x\")", "!cannot convert \"x\" to number; given string must be a decimal representation of a number"),
            ("tonumber(\"0x10\")", "!given string must be a decimal representation of a number"),
            ("tonumber(\" 1\")", "!given string must be a decimal representation of a number"),
            ("tonumber(\"1e3\")", "1000"),
            ("tonumber(\".5\")", "0.5"),
            ("tonumber(true)", "!cannot convert bool to number"),
            ("tobool(\"yes\")", "!cannot convert \"yes\" to bool; only the strings \"true\" or \"false\" are allowed"),
            ("tobool(\"true\")", "true"),
            ("tobool(1)", "!cannot convert number to bool"),
            ("tolist(\"a\")", "!cannot convert string to list of any single type"),
            ("tolist([1, \"a\"])", "tolist([ \"1\", \"a\", ])"),
            ("tolist([1, [1]])", "!cannot convert tuple to list of any single type"),
            ("tolist([true, 1])", "!cannot convert tuple to list of any single type"),
            ("tolist({a=1})", "!cannot convert object to list of any single type"),
            ("tolist(toset([2,1]))", "tolist([ 1, 2, ])"),
            ("tolist([{a=1}, {b=2}])", "tolist([ tomap({ \"a\" = 1 }), tomap({ \"b\" = 2 }), ])"),
            ("toset([1, \"a\", 1])", "toset([ \"1\", \"a\", ])"),
            ("toset([true, \"a\"])", "toset([ \"a\", \"true\", ])"),
            ("tomap({a=1, b=\"x\"})", "tomap({ \"a\" = \"1\" \"b\" = \"x\" })"),
            ("tomap({a=1, b=[1]})", "!cannot convert object to map of any single type"),
            ("tomap([])", "!cannot convert tuple to map of any single type"),
            ("tomap({a={x=1}, b={x=\"s\"}})", "tomap({ \"a\" = { \"x\" = \"1\" } \"b\" = { \"x\" = \"s\" } })"),
            ("sensitive(1)", "(sensitive)"),
            ("type([1, \"a\"])", "\"tuple([number, string])\""),
            ("type(tolist([\"a\"]))", "\"list(string)\""),
        ]);
    }
}
