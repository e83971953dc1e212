//! Collection functions: alltrue, anytrue, chunklist, coalesce, coalescelist, compact,
//! concat, contains, distinct, element, flatten, index, keys, length, list and map (legacy,
//! always an error as in Terraform 1.x), lookup, matchkeys, merge, one, range, reverse,
//! setintersection, setproduct, setsubtract, setunion, slice, sort, sum, transpose,
//! values, zipmap.
//!
//! Result kinds follow Terraform 1.0: for example `concat` of tuples is a tuple, `keys`
//! of an object is a tuple, `element` refuses sets. Functions flagged PARTIAL_OK in the
//! registry receive arguments that may contain unknown elements and handle them here.
//! `range` accumulates in `f64`, so fractional steps can differ from Terraform's exact
//! decimal arithmetic in the last digits.

use std::collections::BTreeMap;

use unicode_segmentation::UnicodeSegmentation;

use super::conv::{self, convert, unify_values};
use super::{int_arg, list_arg, num_arg, str_arg, str_list_arg, FResult, FuncError};
use crate::lang::value::{Number, Type, Value};

pub(super) fn call(name: &str, a: &[Value]) -> Option<FResult> {
    Some(match name {
        "alltrue" => all_any(a, true),
        "anytrue" => all_any(a, false),
        "chunklist" => chunklist(a),
        "coalesce" => coalesce(a),
        "coalescelist" => coalescelist(a),
        "compact" => str_list_arg(a, 0).map(|vs| {
            Value::List(vs.into_iter().filter(|v| !v.is_null() && v.as_str() != Some("")).collect())
        }),
        "concat" => concat(a),
        "contains" => contains(a),
        "distinct" => list_arg(a, 0).map(|vs| {
            let mut out: Vec<Value> = Vec::new();
            for v in vs {
                if !out.iter().any(|o| o.equals(&v)) {
                    out.push(v);
                }
            }
            Value::List(out)
        }),
        "element" => element(a),
        "flatten" => flatten(a),
        "index" => index(a),
        "keys" => keys(a),
        "length" => length(a),
        "list" => Err(FuncError::new(
            "the \"list\" function was deprecated in Terraform v0.12 and is no longer available; use tolist([ ... ]) syntax to write a literal list",
        )),
        "map" => Err(FuncError::new(
            "the \"map\" function was deprecated in Terraform v0.12 and is no longer available; use tomap({ ... }) syntax to write a literal map",
        )),
        "lookup" => lookup(a),
        "matchkeys" => matchkeys(a),
        "merge" => merge(a),
        "one" => one(a),
        "range" => range(a),
        "reverse" => reverse(a),
        "setintersection" | "setsubtract" | "setunion" => set_op(name, a),
        "setproduct" => setproduct(a),
        "slice" => slice(a),
        "sort" => sort(a),
        "sum" => sum(a),
        "transpose" => transpose(a),
        "values" => values(a),
        "zipmap" => zipmap(a),
        _ => return None,
    })
}

fn all_any(a: &[Value], all: bool) -> FResult {
    let vs = match a[0].as_seq() {
        Some(vs) => vs,
        None => return Err(FuncError::arg(0, "list of bool required")),
    };
    let mut unknown = false;
    for (i, v) in vs.iter().enumerate() {
        if v.is_unknown() {
            unknown = true;
            continue;
        }
        if v.is_null() {
            if all {
                return Ok(Value::Bool(false));
            }
            continue;
        }
        let b = conv::to_bool(v).map_err(|m| FuncError::arg(0, format!("element {i}: {m}")))?;
        if b != all {
            return Ok(Value::Bool(!all));
        }
    }
    if unknown {
        return Ok(Value::Unknown(Type::Bool));
    }
    Ok(Value::Bool(all))
}

fn chunklist(a: &[Value]) -> FResult {
    if a[1].is_unknown() {
        return Ok(Value::unknown());
    }
    let vs = list_arg(a, 0)?;
    // gocty's int conversion inside the implementation: a plain error.
    let size = super::numeric::go_int(&num_arg(a, 1)?).map_err(FuncError::new)?;
    if size < 0 {
        return Err(FuncError::new("the size argument must be positive"));
    }
    if vs.is_empty() {
        return Ok(Value::List(vec![]));
    }
    if size == 0 {
        return Ok(Value::List(vec![Value::List(vs)]));
    }
    let size = usize::try_from(size).unwrap_or(usize::MAX);
    Ok(Value::List(
        vs.chunks(size).map(|c| Value::List(c.to_vec())).collect(),
    ))
}

fn coalesce(a: &[Value]) -> FResult {
    let ty =
        unify_values(a).ok_or_else(|| FuncError::new("all arguments must have the same type"))?;
    if a.is_empty() {
        return Err(FuncError::new("all arguments must have the same type"));
    }
    for v in a {
        if v.is_unknown() {
            return Ok(Value::Unknown(ty));
        }
        if v.is_null() {
            continue;
        }
        let c = convert(v, &ty).map_err(FuncError::new)?;
        if c.as_str() == Some("") {
            continue;
        }
        return Ok(c);
    }
    Err(FuncError::new("no non-null, non-empty-string arguments"))
}

fn coalescelist(a: &[Value]) -> FResult {
    if a.is_empty() {
        return Err(FuncError::new("at least one argument is required"));
    }
    for v in a {
        if v.is_unknown() {
            return Ok(Value::unknown());
        }
        if v.is_null() {
            // Terraform 1.0.3 checks every argument's type first; null has none.
            return Err(FuncError::new(
                "coalescelist arguments must be lists or tuples, got dynamic",
            ));
        }
        match v {
            Value::List(vs) | Value::Tuple(vs) => {
                if !vs.is_empty() {
                    return Ok(v.clone());
                }
            }
            _ => {
                return Err(FuncError::new(
                    "coalescelist arguments must be lists or tuples",
                ))
            }
        }
    }
    Err(FuncError::new("no non-null arguments"))
}

fn concat(a: &[Value]) -> FResult {
    if a.is_empty() {
        return Err(FuncError::new("at least one argument is required"));
    }
    let mut all_lists = true;
    let mut out = Vec::new();
    for (i, v) in a.iter().enumerate() {
        match v {
            Value::List(vs) => out.extend(vs.iter().cloned()),
            Value::Tuple(vs) => {
                all_lists = false;
                out.extend(vs.iter().cloned())
            }
            Value::Unknown(_) => return Ok(Value::unknown()),
            other => {
                return Err(FuncError::arg(
                    i,
                    format!(
                        "all arguments must be lists or tuples; got {}",
                        other.friendly_type()
                    ),
                ));
            }
        }
    }
    if all_lists {
        // Lists unify to a list of a common element type; otherwise a tuple.
        let tys: Vec<Type> = a
            .iter()
            .filter_map(|v| v.type_of().element().cloned())
            .collect();
        if let Some(et) = conv::unify(&tys) {
            if let Ok(conv) = out
                .iter()
                .map(|v| convert(v, &et))
                .collect::<Result<Vec<_>, _>>()
            {
                return Ok(Value::List(conv));
            }
        }
    }
    Ok(Value::Tuple(out))
}

fn seq_or_err<'v>(v: &'v Value, i: usize, msg: &str) -> Result<&'v [Value], FuncError> {
    v.as_seq().ok_or_else(|| FuncError::arg(i, msg.to_string()))
}

fn contains(a: &[Value]) -> FResult {
    if !matches!(a[0], Value::List(_) | Value::Set(_) | Value::Tuple(_)) {
        return Err(FuncError::new("argument must be list, tuple, or set"));
    }
    let vs = seq_or_err(&a[0], 0, "argument must be list, tuple, or set")?;
    Ok(Value::Bool(vs.iter().any(|v| {
        v.type_of() == a[1].type_of() && v.equals(&a[1]) || same_kind_equal(v, &a[1])
    })))
}

/// Equality of values whose static types could differ only in element detail.
fn same_kind_equal(x: &Value, y: &Value) -> bool {
    x.equals(y)
}

fn element(a: &[Value]) -> FResult {
    let vs = match &a[0] {
        Value::List(vs) | Value::Tuple(vs) => vs,
        Value::Unknown(_) => return Ok(Value::unknown()),
        other => {
            return Err(FuncError::new(format!(
                "cannot read elements from {}",
                other.friendly_type()
            )))
        }
    };
    if a[1].is_unknown() {
        return Ok(Value::unknown());
    }
    let idx = num_arg(a, 1)?;
    let i =
        super::numeric::go_int(&idx).map_err(|e| FuncError::new(format!("invalid index: {e}")))?;
    if vs.is_empty() {
        return Err(FuncError::new(
            "cannot use element function with an empty list",
        ));
    }
    if i < 0 {
        return Err(FuncError::new(
            "cannot use element function with a negative index",
        ));
    }
    let n = vs.len() as i64;
    Ok(vs[(i % n) as usize].clone())
}

fn flatten(a: &[Value]) -> FResult {
    fn walk(v: &Value, out: &mut Vec<Value>) -> bool {
        match v {
            Value::List(vs) | Value::Set(vs) | Value::Tuple(vs) => vs.iter().all(|e| walk(e, out)),
            Value::Unknown(t)
                if matches!(
                    t,
                    Type::Dynamic | Type::List(_) | Type::Set(_) | Type::Tuple(_)
                ) =>
            {
                false
            }
            other => {
                out.push(other.clone());
                true
            }
        }
    }
    let vs = a[0]
        .as_seq()
        .ok_or_else(|| FuncError::new("can only flatten lists, sets and tuples"))?;
    let mut out = Vec::new();
    for v in vs {
        if !walk(v, &mut out) {
            return Ok(Value::unknown());
        }
    }
    Ok(Value::Tuple(out))
}

fn index(a: &[Value]) -> FResult {
    let vs = match &a[0] {
        Value::List(vs) | Value::Tuple(vs) => vs,
        _ => return Err(FuncError::new("argument must be a list or tuple")),
    };
    for (i, v) in vs.iter().enumerate() {
        if v.equals(&a[1]) && v.type_of() == a[1].type_of()
            || (v.equals(&a[1]) && !v.type_of().is_primitive())
        {
            return Ok(Value::int(i as i64));
        }
    }
    Err(FuncError::new("item not found"))
}

fn keys(a: &[Value]) -> FResult {
    match &a[0] {
        Value::Map(m) => Ok(Value::List(
            m.keys().map(|k| Value::String(k.clone())).collect(),
        )),
        Value::Object(m) => Ok(Value::Tuple(
            m.keys().map(|k| Value::String(k.clone())).collect(),
        )),
        _ => Err(FuncError::arg(0, "must have map or object type")),
    }
}

fn values(a: &[Value]) -> FResult {
    match &a[0] {
        Value::Map(m) => Ok(Value::List(m.values().cloned().collect())),
        Value::Object(m) => Ok(Value::Tuple(m.values().cloned().collect())),
        _ => Err(FuncError::new(
            "values() requires a map as the first argument",
        )),
    }
}

fn length(a: &[Value]) -> FResult {
    Ok(Value::int(match &a[0] {
        Value::String(s) => s.graphemes(true).count() as i64,
        Value::List(vs) | Value::Tuple(vs) => vs.len() as i64,
        Value::Set(vs) => {
            if vs.iter().any(|v| !v.is_wholly_known()) {
                return Ok(Value::Unknown(Type::Number));
            }
            vs.len() as i64
        }
        Value::Map(m) | Value::Object(m) => m.len() as i64,
        _ => {
            return Err(FuncError::new(
                "argument must be a string, a collection type, or a structural type",
            ))
        }
    }))
}

fn lookup(a: &[Value]) -> FResult {
    if a.len() > 3 {
        return Err(FuncError::new(format!(
            "lookup() takes two or three arguments, got {}",
            a.len()
        )));
    }
    let key = str_arg(a, 1)?;
    if a.iter().any(|v| v.is_unknown()) {
        return Ok(Value::unknown());
    }
    match &a[0] {
        Value::Object(m) => match (m.get(&key), a.get(2)) {
            (Some(v), _) => Ok(v.clone()),
            (None, Some(d)) => Ok(d.clone()),
            (None, None) => Err(FuncError::arg(
                0,
                format!("the given object has no attribute {key:?}"),
            )),
        },
        Value::Map(m) => {
            let ety = m.values().next().map(|v| v.type_of());
            match (m.get(&key), a.get(2)) {
                (Some(v), _) => Ok(v.clone()),
                (None, Some(d)) => match ety {
                    Some(t) => convert(d, &t).map_err(|_| {
                        FuncError::arg(
                            2,
                            "the default value must have the same type as the map elements",
                        )
                    }),
                    None => Ok(d.clone()),
                },
                (None, None) => Err(FuncError::new(format!("lookup failed to find '{key}'"))),
            }
        }
        _ => Err(FuncError::arg(
            0,
            "lookup() requires a map as the first argument",
        )),
    }
}

fn matchkeys(a: &[Value]) -> FResult {
    let vals = list_arg(a, 0)?;
    let keys = list_arg(a, 1)?;
    let search = list_arg(a, 2)?;
    if vals.len() != keys.len() {
        return Err(FuncError::new("length of keys and values should be equal"));
    }
    let kt = unify_values(&keys);
    let st = unify_values(&search);
    let (keys, search) = match (kt, st) {
        (Some(k), Some(s)) if k == s || keys.is_empty() || search.is_empty() => (keys, search),
        (Some(k), Some(s)) => match conv::unify(&[k, s]) {
            Some(t) => (
                keys.iter()
                    .map(|v| convert(v, &t))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|_| {
                        FuncError::arg(1, "keys and searchset must be of the same type")
                    })?,
                search
                    .iter()
                    .map(|v| convert(v, &t))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|_| {
                        FuncError::arg(2, "keys and searchset must be of the same type")
                    })?,
            ),
            None => {
                return Err(FuncError::arg(
                    1,
                    "keys and searchset must be of the same type",
                ))
            }
        },
        _ => {
            return Err(FuncError::arg(
                1,
                "keys and searchset must be of the same type",
            ))
        }
    };
    let out: Vec<Value> = vals
        .into_iter()
        .zip(keys.iter())
        .filter(|(_, k)| search.iter().any(|s| s.equals(k)))
        .map(|(v, _)| v)
        .collect();
    Ok(Value::List(out))
}

fn merge(a: &[Value]) -> FResult {
    let mut out = BTreeMap::new();
    let mut all_maps = true;
    for v in a {
        match v {
            Value::Null(_) => continue,
            Value::Unknown(_) => return Ok(Value::unknown()),
            Value::Map(m) => out.extend(m.iter().map(|(k, v)| (k.clone(), v.clone()))),
            Value::Object(m) => {
                all_maps = false;
                out.extend(m.iter().map(|(k, v)| (k.clone(), v.clone())))
            }
            other => {
                let ty = match other.type_of() {
                    Type::Tuple(_) => "tuple".to_string(),
                    Type::Object(_) => "object".to_string(),
                    t => t.to_string(),
                };
                return Err(FuncError::new(format!(
                    "arguments must be maps or objects, got {ty:?}"
                )));
            }
        }
    }
    // Only non-empty maps of one element type merge to a map (an empty map's element
    // type is unknown to Terraform, which then builds an object).
    let maps: Vec<&Value> = a.iter().filter(|v| !v.is_null()).collect();
    if all_maps
        && !maps.is_empty()
        && maps
            .iter()
            .all(|v| matches!(v, Value::Map(m) if !m.is_empty()))
    {
        let tys: Vec<Type> = maps.iter().map(|v| v.type_of()).collect();
        if tys.windows(2).all(|w| w[0] == w[1]) {
            return Ok(Value::Map(out));
        }
    }
    Ok(Value::Object(out))
}

fn one(a: &[Value]) -> FResult {
    let err = || {
        FuncError::arg(
            0,
            "must be a list, set, or tuple value with either zero or one elements",
        )
    };
    let vs = a[0].as_seq().ok_or_else(err)?;
    match vs {
        [] => Ok(Value::null()),
        [v] => Ok(v.clone()),
        _ => Err(err()),
    }
}

/// cty's `range`: big-number arithmetic (`0.1` steps accumulate at 512 bits, as in
/// Terraform), at most 1024 elements.
fn range(a: &[Value]) -> FResult {
    if a.is_empty() || a.len() > 3 {
        return Err(FuncError::new("must have one, two, or three arguments"));
    }
    let mut n = Vec::new();
    for i in 0..a.len() {
        n.push(num_arg(a, i)?);
    }
    let int = |i: i64| Number::from_i64(i);
    let (start, end, step) = match &n[..] {
        [e] => (int(0), e.clone(), int(if e.is_negative() { -1 } else { 1 })),
        [s, e] => (
            s.clone(),
            e.clone(),
            int(if e.cmp_num(s).is_lt() { -1 } else { 1 }),
        ),
        [s, e, st] => (s.clone(), e.clone(), st.clone()),
        _ => return Err(FuncError::new("must have one, two, or three arguments")),
    };
    // A zero step is not rejected up front (as in Terraform 1.0.3): the loop stops at
    // the 1024-element limit, a plain call error.
    let down = step.is_negative();
    if down && end.cmp_num(&start).is_gt() {
        return Err(FuncError::arg(
            1,
            "end must be less than start when step is negative",
        ));
    }
    if !down && end.cmp_num(&start).is_lt() {
        return Err(FuncError::arg(
            1,
            "end must be greater than start when step is positive",
        ));
    }
    let mut out = Vec::new();
    let mut x = start;
    loop {
        let c = x.cmp_num(&end);
        if (down && c.is_le()) || (!down && c.is_ge()) {
            break;
        }
        if out.len() >= 1024 {
            return Err(FuncError::new(
                "more than 1024 values were generated; either decrease the difference between start and end or use a smaller step",
            ));
        }
        let next = x
            .add(&step)
            .map_err(|_| FuncError::new("can't add opposing infinities"))?;
        out.push(Value::Number(x));
        x = next;
    }
    Ok(Value::List(out))
}

fn reverse(a: &[Value]) -> FResult {
    match &a[0] {
        Value::List(vs) | Value::Set(vs) => Ok(Value::List(vs.iter().rev().cloned().collect())),
        Value::Tuple(vs) => Ok(Value::Tuple(vs.iter().rev().cloned().collect())),
        _ => Err(FuncError::arg(0, "can only reverse list or tuple values")),
    }
}

fn set_op(name: &str, a: &[Value]) -> FResult {
    let mut sets: Vec<Vec<Value>> = Vec::new();
    for i in 0..a.len() {
        sets.push(list_arg(a, i).map_err(|e| {
            FuncError::arg(
                i,
                e.message
                    .replace("list of any single type", "set of any single type"),
            )
        })?);
    }
    let all: Vec<Value> = sets.iter().flatten().cloned().collect();
    let ty = unify_values(&all)
        .ok_or_else(|| FuncError::new("given sets must all have compatible element types"))?;
    let mut conv_sets = Vec::new();
    for s in sets {
        let c: Result<Vec<Value>, String> = s.iter().map(|v| convert(v, &ty)).collect();
        conv_sets.push(
            c.map_err(|_| FuncError::new("given sets must all have compatible element types"))?,
        );
    }
    let has = |s: &[Value], v: &Value| s.iter().any(|x| x.equals(v));
    let first = conv_sets.first().cloned().unwrap_or_default();
    let out: Vec<Value> = match name {
        "setunion" => conv_sets.into_iter().flatten().collect(),
        "setintersection" => first
            .into_iter()
            .filter(|v| conv_sets[1..].iter().all(|s| has(s, v)))
            .collect(),
        _ => first
            .into_iter()
            .filter(|v| !conv_sets[1..].iter().any(|s| has(s, v)))
            .collect(),
    };
    Ok(Value::set_from(out))
}

fn setproduct(a: &[Value]) -> FResult {
    if a.len() < 2 {
        return Err(FuncError::new("at least two arguments are required"));
    }
    let mut any_set = false;
    let mut lists = Vec::new();
    for (i, v) in a.iter().enumerate() {
        if matches!(v, Value::Set(_)) {
            any_set = true;
        }
        if v.is_unknown() {
            return Ok(Value::unknown());
        }
        lists.push(list_arg(a, i)?);
    }
    let total: usize = lists
        .iter()
        .map(|l| l.len())
        .try_fold(1usize, |acc, n| acc.checked_mul(n))
        .unwrap_or(usize::MAX);
    if total > 1 << 20 {
        return Err(FuncError::new("the product is too large"));
    }
    let mut out: Vec<Vec<Value>> = vec![vec![]];
    for l in &lists {
        let mut next = Vec::with_capacity(out.len() * l.len());
        for prefix in &out {
            for e in l {
                let mut p = prefix.clone();
                p.push(e.clone());
                next.push(p);
            }
        }
        out = next;
    }
    let out: Vec<Value> = out.into_iter().map(Value::Tuple).collect();
    Ok(if any_set {
        Value::set_from(out)
    } else {
        Value::List(out)
    })
}

fn slice(a: &[Value]) -> FResult {
    let (vs, tuple) = match &a[0] {
        Value::List(vs) => (vs, false),
        Value::Tuple(vs) => (vs, true),
        Value::Unknown(_) => return Ok(Value::unknown()),
        _ => return Err(FuncError::arg(0, "must be a list or tuple value")),
    };
    if a[1].is_unknown() || a[2].is_unknown() {
        return Ok(Value::unknown());
    }
    let start = int_arg(a, 1)?;
    let end = int_arg(a, 2)?;
    if start < 0 {
        return Err(FuncError::arg(1, "start index must not be less than zero"));
    }
    if end > vs.len() as i64 {
        return Err(FuncError::arg(
            2,
            "end index must not be greater than the length of the list",
        ));
    }
    if start > end {
        return Err(FuncError::arg(
            1,
            "start index must not be greater than end index",
        ));
    }
    let out = vs[start as usize..end as usize].to_vec();
    Ok(if tuple {
        Value::Tuple(out)
    } else {
        Value::List(out)
    })
}

fn sort(a: &[Value]) -> FResult {
    let vs = str_list_arg(a, 0)?;
    let mut strs = Vec::with_capacity(vs.len());
    for (i, v) in vs.iter().enumerate() {
        match v {
            Value::String(s) => strs.push(s.clone()),
            _ => {
                return Err(FuncError::new(format!(
                    "given list element {i} is null; a null string cannot be sorted"
                )))
            }
        }
    }
    strs.sort();
    Ok(Value::List(strs.into_iter().map(Value::String).collect()))
}

/// Terraform's `sum`: the first element must already be a number (cty's `Add` on
/// anything else panics, which the call reports as a plain error); later elements
/// convert; the total is exact.
fn sum(a: &[Value]) -> FResult {
    let vs = match &a[0] {
        Value::List(vs) | Value::Set(vs) | Value::Tuple(vs) => vs,
        _ => return Err(FuncError::arg(0, "cannot sum noniterable")),
    };
    if vs.is_empty() {
        return Err(FuncError::arg(0, "cannot sum an empty list"));
    }
    let not_numbers = || FuncError::arg(0, "argument must be list, set, or tuple of number values");
    if vs[0].is_null() {
        return Err(not_numbers());
    }
    let first = match vs[0].unmark().0 {
        Value::Number(n) => Some(n.clone()),
        _ => None,
    };
    let not_added =
        |v: &Value| FuncError::new(format!("can't compute sum of {} values", v.friendly_type()));
    let mut total = first.clone();
    for v in &vs[1..] {
        if v.is_null() {
            return Err(not_numbers());
        }
        let n = conv::to_number(v).map_err(|_| not_numbers())?;
        let Some(t) = &total else {
            return Err(not_added(&vs[0]));
        };
        total = Some(
            t.add(&n)
                .map_err(|_| FuncError::new("can't compute sum of opposing infinities"))?,
        );
    }
    total.map(Value::Number).ok_or_else(|| not_added(&vs[0]))
}

fn transpose(a: &[Value]) -> FResult {
    let m = a[0]
        .as_map()
        .ok_or_else(|| FuncError::arg(0, "map of list of string required"))?;
    let mut out: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for (k, v) in m {
        let items = conv::to_string_list(v)
            .map_err(|e| FuncError::arg(0, format!("element {k:?}: {e}")))?;
        for it in items {
            match it {
                Value::String(s) => out.entry(s).or_default().push(Value::String(k.clone())),
                _ => return Err(FuncError::new("input must not contain null list elements")),
            }
        }
    }
    Ok(Value::Map(
        out.into_iter().map(|(k, v)| (k, Value::List(v))).collect(),
    ))
}

fn zipmap(a: &[Value]) -> FResult {
    let keys = str_list_arg(a, 0)?;
    let (vals, tuple) = match &a[1] {
        Value::List(vs) | Value::Set(vs) => (vs.clone(), false),
        Value::Tuple(vs) => (vs.clone(), true),
        _ => return Err(FuncError::arg(1, "list or tuple required")),
    };
    if keys.len() != vals.len() {
        return Err(FuncError::new(format!(
            "number of keys ({}) does not match number of values ({})",
            keys.len(),
            vals.len()
        )));
    }
    let mut out = BTreeMap::new();
    for (k, v) in keys.iter().zip(vals) {
        match k {
            Value::String(s) => {
                out.insert(s.clone(), v);
            }
            Value::Unknown(_) => return Ok(Value::unknown()),
            _ => return Err(FuncError::new("keys must not be null")),
        }
    }
    Ok(if tuple {
        Value::Object(out)
    } else {
        Value::Map(out)
    })
}

#[cfg(test)]
mod tests {
    use super::super::tests::{check, E};

    #[test]
    fn collections() {
        check(&[
            ("alltrue([])", "true"),
            ("alltrue([\"true\", true])", "true"),
            ("alltrue([1])", "!element 0: bool required"),
            ("alltrue([true, null])", "false"),
            ("anytrue([false, null])", "false"),
            ("anytrue([false, true])", "true"),
            ("anytrue([unknown, true])", "true"),
            ("chunklist([1,2,3], 2)", "tolist([ tolist([ 1, 2, ]), tolist([ 3, ]), ])"),
            ("chunklist([1,2,3], 0)", "tolist([ tolist([ 1, 2, 3, ]), ])"),
            ("chunklist([1,2,3], -1)", "!the size argument must be positive"),
            ("chunklist([], 2)", "tolist([])"),
            ("coalesce(1, \"a\")", "\"1\""),
            ("coalesce(null, \"\", \"b\")", "\"b\""),
            ("coalesce(null, \"\")", "!no non-null, non-empty-string arguments"),
            ("coalesce()", "!all arguments must have the same type"),
            ("coalescelist([], [\"a\"], [1])", "[ \"a\", ]"),
            ("coalescelist([], [])", "!no non-null arguments"),
            ("coalescelist()", "!at least one argument is required"),
            ("coalescelist(\"a\")", "!coalescelist arguments must be lists or tuples"),
            ("compact([\"a\", \"\", null, \"b\"])", "tolist([ \"a\", \"b\", ])"),
            ("compact([1, \"\"])", "tolist([ \"1\", ])"),
            ("compact(\"a\")", E),
            ("concat([\"a\"], [1])", "[ \"a\", 1, ]"),
            ("concat(tolist([\"a\"]), tolist([\"b\"]))", "tolist([ \"a\", \"b\", ])"),
            ("concat()", "!at least one argument is required"),
            ("concat(\"a\")", "!all arguments must be lists or tuples; got string"),
            ("contains([\"a\", 1], 1)", "true"),
            ("contains([\"a\"], \"b\")", "false"),
            ("contains([[1]], [1])", "true"),
            ("contains([\"1\"], 1)", "false"),
            ("contains(\"a\", 1)", E),
            ("distinct([\"b\",\"a\",\"b\"])", "tolist([ \"b\", \"a\", ])"),
            ("distinct([\"a\", 1, \"1\"])", "tolist([ \"a\", \"1\", ])"),
            ("distinct([[1],[1],[2]])", "tolist([ [ 1, ], [ 2, ], ])"),
            ("distinct(1)", E),
            ("element([1,2,3], 5)", "3"),
            ("element([], 0)", "!cannot use element function with an empty list"),
            ("element([1,2,3], -1)", "!cannot use element function with a negative index"),
            ("element(toset([\"b\",\"a\"]), 3)", "!cannot read elements from set of string"),
            ("element(\"a\", 0)", "!cannot read elements from string"),
            ("flatten([[1, [2, [3]]], [], \"x\", null])", "[ 1, 2, 3, \"x\", null, ]"),
            ("flatten(toset([1,2]))", "[ 1, 2, ]"),
            ("flatten(\"a\")", "!can only flatten lists, sets and tuples"),
            ("index([\"a\",\"b\"], \"b\")", "1"),
            ("index([\"a\"], \"z\")", "!item not found"),
            ("index([\"1\"], 1)", "!item not found"),
            ("keys({b=1,a=2})", "[ \"a\", \"b\", ]"),
            ("keys(tomap({}))", "tolist([])"),
            ("keys([])", "!must have map or object type"),
            ("values({b=1,a=\"x\"})", "[ \"x\", 1, ]"),
            ("values(tomap({b=1,a=2}))", "tolist([ 2, 1, ])"),
            ("values({})", "[]"),
            ("values(1)", E),
            ("length(\"héllo\")", "5"),
            ("length({a=1})", "1"),
            ("length(toset([1,1]))", "1"),
            ("length(5)", "!argument must be a string, a collection type, or a structural type"),
            ("list(1,2)", "!the \"list\" function was deprecated"),
            ("map(\"a\", 1)", "!the \"map\" function was deprecated"),
            ("lookup({a=1}, \"b\")", "!the given object has no attribute \"b\" [arg 0]"),
            ("lookup({a=1}, \"b\", \"x\")", "\"x\""),
            ("lookup({a=1, b=\"s\"}, \"a\")", "1"),
            ("lookup({a=\"x\"}, \"a\", 1)", "\"x\""),
            ("lookup(tomap({a=\"x\"}), \"b\")", "!lookup failed to find 'b'"),
            ("lookup(tomap({a=1}), \"b\", \"z\")", "!the default value must have the same type as the map elements [arg 2]"),
            ("lookup({a=1}, \"b\", 2, 3)", "!lookup() takes two or three arguments, got 4"),
            ("lookup(\"a\", \"b\")", "!lookup() requires a map as the first argument"),
            ("matchkeys([\"i-1\",\"i-2\",\"i-3\"], [\"us-west\",\"us-east\",\"us-east\"], [\"us-east\"])", "tolist([ \"i-2\", \"i-3\", ])"),
            ("matchkeys([\"a\"], [\"x\",\"y\"], [\"x\"])", "!length of keys and values should be equal"),
            ("merge({a=1}, {b=\"x\"})", "{ \"a\" = 1 \"b\" = \"x\" }"),
            ("merge(tomap({a=\"1\"}), tomap({b=\"x\"}))", "tomap({ \"a\" = \"1\" \"b\" = \"x\" })"),
            ("merge(tomap({a=1}), tomap({b=\"s\"}))", "{ \"a\" = 1 \"b\" = \"s\" }"),
            ("merge({a=1}, null)", "{ \"a\" = 1 }"),
            ("merge()", "{}"),
            ("merge({a=1}, [\"x\"])", "!arguments must be maps or objects, got \"tuple\""),
            ("one([])", "null"),
            ("one([\"a\"])", "\"a\""),
            ("one([\"a\",\"b\"])", "!must be a list, set, or tuple value with either zero or one elements"),
            ("one(\"a\")", E),
            ("range(3)", "tolist([ 0, 1, 2, ])"),
            ("range(5, 0)", "tolist([ 5, 4, 3, 2, 1, ])"),
            ("range(1.5, 4)", "tolist([ 1.5, 2.5, 3.5, ])"),
            ("range(0, -3, -1)", "tolist([ 0, -1, -2, ])"),
            ("range(3, 1.5)", "tolist([ 3, 2, ])"),
            ("range(-1)", "tolist([ 0, ])"),
            ("range(0)", "tolist([])"),
            ("range(1025)", "!more than 1024 values were generated"),
            ("range(0, 1, 0)", "!more than 1024 values were generated"),
            ("range()", "!must have one, two, or three arguments"),
            ("range(1,2,3,4)", "!must have one, two, or three arguments"),
            ("range(\"a\")", "!a number is required"),
            ("range(1, 10, -1)", "!end must be less than start when step is negative"),
            ("reverse([1,\"a\"])", "[ \"a\", 1, ]"),
            ("reverse(tolist([1,2]))", "tolist([ 2, 1, ])"),
            ("reverse(toset([1,2]))", "tolist([ 2, 1, ])"),
            ("reverse(1)", E),
            ("setintersection([\"a\",\"b\"], [\"b\",\"c\"])", "toset([ \"b\", ])"),
            ("setsubtract([\"a\",\"b\"], [\"b\"])", "toset([ \"a\", ])"),
            ("setunion([\"a\"], [1])", "toset([ \"1\", \"a\", ])"),
            ("setunion([1], [[1]])", "!given sets must all have compatible element types"),
            ("setproduct([\"a\",\"b\"], [1,2])", "tolist([ [ \"a\", 1, ], [ \"a\", 2, ], [ \"b\", 1, ], [ \"b\", 2, ], ])"),
            ("setproduct(toset([\"a\"]), [1])", "toset([ [ \"a\", 1, ], ])"),
            ("setproduct([], [1])", "tolist([])"),
            ("setproduct([\"a\"])", "!at least two arguments are required"),
            ("slice([\"a\",\"b\",\"c\"], 1, 2)", "[ \"b\", ]"),
            ("slice(tolist([\"a\",\"b\"]), 0, 1)", "tolist([ \"a\", ])"),
            ("slice([\"a\",\"b\",\"c\"], 2, 1)", "!start index must not be greater than end index [arg 1]"),
            ("slice([\"a\",\"b\",\"c\"], 0, 4)", "!end index must not be greater than the length of the list [arg 2]"),
            ("slice([\"a\"], -1, 1)", "!start index must not be less than zero [arg 1]"),
            ("sort([3, 10, 1])", "tolist([ \"1\", \"10\", \"3\", ])"),
            ("sort([\"b\", \"a\", 1])", "tolist([ \"1\", \"a\", \"b\", ])"),
            ("sort([[1]])", "!element 0: string required"),
            ("sum([1, 2.5])", "3.5"),
            ("sum([0.1, 0.2])", "0.3"),
            ("range(1, 2, 0.25)", "tolist([ 1, 1.25, 1.5, 1.75, ])"),
            ("range(0, 0.5, 0.1)", "tolist([ 0, 0.1, 0.2, 0.3, 0.4, ])"),
            ("concat(tolist([\"a\"]), tolist([1]))", "tolist([ \"a\", \"1\", ])"),
            ("merge(tomap({}), tomap({a=1}))", "{ \"a\" = 1 }"),
            ("lookup({}, \"a\", null)", "null"),
            ("sum(toset([1,1,2]))", "3"),
            ("sum([])", "!cannot sum an empty list"),
            ("sum(5)", "!cannot sum noniterable"),
            ("sum([null])", "!argument must be list, set, or tuple of number values"),
            ("transpose({a=[\"1\",\"2\"], b=[\"2\",\"3\"]})", "tomap({ \"1\" = tolist([ \"a\", ]) \"2\" = tolist([ \"a\", \"b\", ]) \"3\" = tolist([ \"b\", ]) })"),
            ("transpose({a=[1]})", "tomap({ \"1\" = tolist([ \"a\", ]) })"),
            ("transpose([])", E),
            ("zipmap([\"a\",\"b\"], [1,\"x\"])", "{ \"a\" = 1 \"b\" = \"x\" }"),
            ("zipmap([\"a\",\"b\"], tolist([1,2]))", "tomap({ \"a\" = 1 \"b\" = 2 })"),
            ("zipmap([\"a\",\"a\"], [1,2])", "{ \"a\" = 2 }"),
            ("zipmap([\"a\"], [1,2])", "!number of keys (1) does not match number of values (2)"),
        ]);
    }
}
