//! Values and types of the Terraform language.
//!
//! Owns `Value` (with unknown values and sensitive marks), `Type` and `Number`. A value
//! is dynamically typed like cty's: lists, sets and tuples, and maps and objects, are
//! kept apart because Terraform prints and converts them differently. Conversions
//! between types live in `lang::convert`; functions in `lang::funcs`.
//!
//! Invariants:
//! - `Value::Set` elements are unique and in cty's iteration order (`set_order`).
//! - `Value::Sensitive` never directly wraps another `Sensitive`.
//! - Map and object keys are kept sorted (`BTreeMap`), as Terraform iterates them.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt;

pub use super::number::Number;

/// A type, or type constraint (`Dynamic` is `any`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Type {
    Dynamic,
    Bool,
    Number,
    String,
    List(Box<Type>),
    Set(Box<Type>),
    Map(Box<Type>),
    Tuple(Vec<Type>),
    Object(BTreeMap<String, Type>),
}

impl Type {
    pub fn list(t: Type) -> Type {
        Type::List(Box::new(t))
    }
    pub fn set(t: Type) -> Type {
        Type::Set(Box::new(t))
    }
    pub fn map(t: Type) -> Type {
        Type::Map(Box::new(t))
    }
    pub fn is_primitive(&self) -> bool {
        matches!(self, Type::Bool | Type::Number | Type::String)
    }
    pub fn has_dynamic(&self) -> bool {
        match self {
            Type::Dynamic => true,
            Type::List(t) | Type::Set(t) | Type::Map(t) => t.has_dynamic(),
            Type::Tuple(ts) => ts.iter().any(|t| t.has_dynamic()),
            Type::Object(m) => m.values().any(|t| t.has_dynamic()),
            _ => false,
        }
    }
    /// The element type of a list, set or map.
    pub fn element(&self) -> Option<&Type> {
        match self {
            Type::List(t) | Type::Set(t) | Type::Map(t) => Some(t),
            _ => None,
        }
    }
}

impl fmt::Display for Type {
    /// The type-constraint syntax (`list(string)`, `object({a=number})`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Type::Dynamic => f.write_str("dynamic"),
            Type::Bool => f.write_str("bool"),
            Type::Number => f.write_str("number"),
            Type::String => f.write_str("string"),
            Type::List(t) => write!(f, "list({t})"),
            Type::Set(t) => write!(f, "set({t})"),
            Type::Map(t) => write!(f, "map({t})"),
            Type::Tuple(ts) => {
                f.write_str("tuple([")?;
                for (i, t) in ts.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{t}")?;
                }
                f.write_str("])")
            }
            Type::Object(m) => {
                f.write_str("object({")?;
                for (i, (k, t)) in m.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{k}={t}")?;
                }
                f.write_str("})")
            }
        }
    }
}

/// A value of the language.
#[derive(Clone, Debug)]
pub enum Value {
    /// A null of the given type (`Type::Dynamic` when untyped).
    Null(Type),
    /// A value not known until apply ("known after apply"), of the given type.
    Unknown(Type),
    Bool(bool),
    Number(Number),
    String(String),
    List(Vec<Value>),
    /// Elements unique and in cty's iteration order (`set_order`).
    Set(Vec<Value>),
    Tuple(Vec<Value>),
    Map(BTreeMap<String, Value>),
    Object(BTreeMap<String, Value>),
    /// A value marked sensitive; the mark propagates through every operation on it.
    Sensitive(Box<Value>),
}

impl Value {
    pub const NULL: Value = Value::Null(Type::Dynamic);

    pub fn null() -> Value {
        Value::Null(Type::Dynamic)
    }
    pub fn unknown() -> Value {
        Value::Unknown(Type::Dynamic)
    }
    pub fn string(s: impl Into<String>) -> Value {
        Value::String(s.into())
    }
    pub fn number(f: f64) -> Value {
        Value::Number(Number::from_f64(f))
    }
    pub fn int(i: i64) -> Value {
        Value::Number(Number::from_i64(i))
    }
    pub fn object<K: Into<String>>(items: impl IntoIterator<Item = (K, Value)>) -> Value {
        Value::Object(items.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }
    /// Builds a set: removes duplicates (the first one stays) and puts the elements in
    /// the order Terraform iterates them (`set_order`).
    pub fn set_from(mut items: Vec<Value>) -> Value {
        items.sort_by(set_order);
        // Equal values compare `Equal`, so duplicates sit in the same run of ties.
        let mut out: Vec<Value> = Vec::with_capacity(items.len());
        let mut run_start = 0;
        for v in items {
            if out
                .last()
                .is_some_and(|l| set_order(l, &v) != Ordering::Equal)
            {
                run_start = out.len();
            }
            if !out[run_start..].iter().any(|k| k.equals(&v)) {
                out.push(v);
            }
        }
        Value::Set(out)
    }

    /// Marks the value sensitive (idempotent).
    pub fn mark_sensitive(self) -> Value {
        match self {
            Value::Sensitive(_) => self,
            v => Value::Sensitive(Box::new(v)),
        }
    }
    /// Marks `self` sensitive when `sensitive` is true.
    pub fn with_mark(self, sensitive: bool) -> Value {
        if sensitive {
            self.mark_sensitive()
        } else {
            self
        }
    }
    /// The value without its top-level mark, and whether it had one.
    pub fn unmark(&self) -> (&Value, bool) {
        match self {
            Value::Sensitive(v) => (v, true),
            v => (v, false),
        }
    }
    pub fn into_unmarked(self) -> (Value, bool) {
        match self {
            Value::Sensitive(v) => (*v, true),
            v => (v, false),
        }
    }
    /// True when the value or anything inside it is marked sensitive.
    pub fn contains_sensitive(&self) -> bool {
        match self {
            Value::Sensitive(_) => true,
            Value::List(vs) | Value::Set(vs) | Value::Tuple(vs) => {
                vs.iter().any(|v| v.contains_sensitive())
            }
            Value::Map(m) | Value::Object(m) => m.values().any(|v| v.contains_sensitive()),
            _ => false,
        }
    }
    /// Removes every sensitive mark, deeply.
    pub fn deep_unmark(self) -> Value {
        match self {
            Value::Sensitive(v) => v.deep_unmark(),
            Value::List(vs) => Value::List(vs.into_iter().map(Value::deep_unmark).collect()),
            Value::Set(vs) => Value::Set(vs.into_iter().map(Value::deep_unmark).collect()),
            Value::Tuple(vs) => Value::Tuple(vs.into_iter().map(Value::deep_unmark).collect()),
            Value::Map(m) => Value::Map(m.into_iter().map(|(k, v)| (k, v.deep_unmark())).collect()),
            Value::Object(m) => {
                Value::Object(m.into_iter().map(|(k, v)| (k, v.deep_unmark())).collect())
            }
            v => v,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self.unmark().0, Value::Null(_))
    }
    /// True when this value itself is unknown (not whether it contains unknowns).
    pub fn is_unknown(&self) -> bool {
        matches!(self.unmark().0, Value::Unknown(_))
    }
    /// True when the value is wholly known: no unknown anywhere inside.
    pub fn is_wholly_known(&self) -> bool {
        match self {
            Value::Unknown(_) => false,
            Value::Sensitive(v) => v.is_wholly_known(),
            Value::List(vs) | Value::Set(vs) | Value::Tuple(vs) => {
                vs.iter().all(|v| v.is_wholly_known())
            }
            Value::Map(m) | Value::Object(m) => m.values().all(|v| v.is_wholly_known()),
            _ => true,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self.unmark().0 {
            Value::String(s) => Some(s),
            _ => None,
        }
    }
    pub fn as_bool(&self) -> Option<bool> {
        match self.unmark().0 {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }
    pub fn as_number(&self) -> Option<Number> {
        match self.unmark().0 {
            Value::Number(n) => Some(n.clone()),
            _ => None,
        }
    }
    /// Elements of a list, set or tuple.
    pub fn as_seq(&self) -> Option<&[Value]> {
        match self.unmark().0 {
            Value::List(v) | Value::Set(v) | Value::Tuple(v) => Some(v),
            _ => None,
        }
    }
    /// Attributes of an object or elements of a map.
    pub fn as_map(&self) -> Option<&BTreeMap<String, Value>> {
        match self.unmark().0 {
            Value::Map(m) | Value::Object(m) => Some(m),
            _ => None,
        }
    }
    /// An attribute of an object (or map element), if present.
    pub fn get_attr(&self, name: &str) -> Option<&Value> {
        self.as_map().and_then(|m| m.get(name))
    }

    /// The dynamic type of the value (for null and unknown, the type they carry).
    pub fn type_of(&self) -> Type {
        match self {
            Value::Null(t) | Value::Unknown(t) => t.clone(),
            Value::Bool(_) => Type::Bool,
            Value::Number(_) => Type::Number,
            Value::String(_) => Type::String,
            Value::List(vs) => Type::list(vs.first().map(|v| v.type_of()).unwrap_or(Type::Dynamic)),
            Value::Set(vs) => Type::set(vs.first().map(|v| v.type_of()).unwrap_or(Type::Dynamic)),
            Value::Tuple(vs) => Type::Tuple(vs.iter().map(|v| v.type_of()).collect()),
            Value::Map(m) => Type::map(
                m.values()
                    .next()
                    .map(|v| v.type_of())
                    .unwrap_or(Type::Dynamic),
            ),
            Value::Object(m) => {
                Type::Object(m.iter().map(|(k, v)| (k.clone(), v.type_of())).collect())
            }
            Value::Sensitive(v) => v.type_of(),
        }
    }

    /// A short name of the value's kind, for messages ("string", "list of string", "object").
    pub fn friendly_type(&self) -> String {
        friendly_type_name(&self.type_of())
    }

    /// A total order by kind, then by content, unknowns and nulls last. Not the order
    /// of set elements (that is `set_order`).
    pub fn cmp_total(&self, other: &Value) -> Ordering {
        fn rank(v: &Value) -> u8 {
            match v {
                Value::Bool(_) => 0,
                Value::Number(_) => 1,
                Value::String(_) => 2,
                Value::List(_) => 3,
                Value::Tuple(_) => 4,
                Value::Set(_) => 5,
                Value::Map(_) => 6,
                Value::Object(_) => 7,
                Value::Sensitive(v) => rank(v),
                Value::Null(_) => 8,
                Value::Unknown(_) => 9,
            }
        }
        let (a, b) = (self.unmark().0, other.unmark().0);
        match rank(a).cmp(&rank(b)) {
            Ordering::Equal => {}
            o => return o,
        }
        match (a, b) {
            (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
            (Value::Number(x), Value::Number(y)) => x
                .as_f64()
                .partial_cmp(&y.as_f64())
                .unwrap_or(Ordering::Equal),
            (Value::String(x), Value::String(y)) => x.cmp(y),
            (Value::List(x), Value::List(y))
            | (Value::Tuple(x), Value::Tuple(y))
            | (Value::Set(x), Value::Set(y)) => {
                for (p, q) in x.iter().zip(y.iter()) {
                    match p.cmp_total(q) {
                        Ordering::Equal => {}
                        o => return o,
                    }
                }
                x.len().cmp(&y.len())
            }
            (Value::Map(x), Value::Map(y)) | (Value::Object(x), Value::Object(y)) => {
                for ((k1, v1), (k2, v2)) in x.iter().zip(y.iter()) {
                    match k1.cmp(k2).then_with(|| v1.cmp_total(v2)) {
                        Ordering::Equal => {}
                        o => return o,
                    }
                }
                x.len().cmp(&y.len())
            }
            _ => Ordering::Equal,
        }
    }

    /// Terraform's `==`: same type kind and same content. Marks are ignored here; callers
    /// propagate them. Unknown operands must be handled by the caller.
    pub fn equals(&self, other: &Value) -> bool {
        let (a, b) = (self.unmark().0, other.unmark().0);
        match (a, b) {
            (Value::Null(_), Value::Null(_)) => true,
            (Value::Bool(x), Value::Bool(y)) => x == y,
            (Value::Number(x), Value::Number(y)) => x == y,
            (Value::String(x), Value::String(y)) => x == y,
            (Value::List(x), Value::List(y))
            | (Value::Tuple(x), Value::Tuple(y))
            | (Value::Set(x), Value::Set(y)) => {
                x.len() == y.len() && x.iter().zip(y).all(|(p, q)| p.equals(q))
            }
            (Value::Map(x), Value::Map(y)) | (Value::Object(x), Value::Object(y)) => {
                x.len() == y.len()
                    && x.iter()
                        .zip(y)
                        .all(|((k1, v1), (k2, v2))| k1 == k2 && v1.equals(v2))
            }
            _ => false,
        }
    }

    /// Structural equality that also compares unknowns and marks, used by the planner to
    /// decide whether anything changed.
    pub fn same_as(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Sensitive(a), Value::Sensitive(b)) => a.same_as(b),
            (Value::Sensitive(_), _) | (_, Value::Sensitive(_)) => false,
            (Value::Unknown(_), Value::Unknown(_)) => true,
            (Value::Unknown(_), _) | (_, Value::Unknown(_)) => false,
            (Value::List(x), Value::List(y))
            | (Value::Tuple(x), Value::Tuple(y))
            | (Value::Set(x), Value::Set(y)) => {
                x.len() == y.len() && x.iter().zip(y).all(|(p, q)| p.same_as(q))
            }
            // Lists and tuples of the same elements are the same attribute value once stored.
            (Value::List(x), Value::Tuple(y)) | (Value::Tuple(x), Value::List(y)) => {
                x.len() == y.len() && x.iter().zip(y).all(|(p, q)| p.same_as(q))
            }
            (Value::Map(x), Value::Map(y))
            | (Value::Object(x), Value::Object(y))
            | (Value::Map(x), Value::Object(y))
            | (Value::Object(x), Value::Map(y)) => {
                x.len() == y.len()
                    && x.iter()
                        .zip(y)
                        .all(|((k1, v1), (k2, v2))| k1 == k2 && v1.same_as(v2))
            }
            (a, b) => a.equals(b),
        }
    }

    // ---- JSON (state files, `output -json`, jsonencode) --------------------------------

    /// Converts a wholly known value to JSON. Unknowns become null; marks are dropped
    /// (the caller records sensitive paths separately).
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            Value::Null(_) | Value::Unknown(_) => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Number(n) => number_to_json(n.clone()),
            Value::String(s) => J::String(s.clone()),
            Value::List(vs) | Value::Set(vs) | Value::Tuple(vs) => {
                J::Array(vs.iter().map(|v| v.to_json()).collect())
            }
            Value::Map(m) | Value::Object(m) => {
                J::Object(m.iter().map(|(k, v)| (k.clone(), v.to_json())).collect())
            }
            Value::Sensitive(v) => v.to_json(),
        }
    }

    /// Converts JSON to a value without a schema: arrays become tuples, objects objects.
    pub fn from_json(j: &serde_json::Value) -> Value {
        use serde_json::Value as J;
        match j {
            J::Null => Value::null(),
            J::Bool(b) => Value::Bool(*b),
            J::Number(n) => Value::Number(Number::from_f64(n.as_f64().unwrap_or(0.0))),
            J::String(s) => Value::String(s.clone()),
            J::Array(a) => Value::Tuple(a.iter().map(Value::from_json).collect()),
            J::Object(o) => Value::Object(
                o.iter()
                    .map(|(k, v)| (k.clone(), Value::from_json(v)))
                    .collect(),
            ),
        }
    }

    /// Converts JSON to a value of the given type (lists, sets and maps where the type says).
    pub fn from_json_typed(j: &serde_json::Value, ty: &Type) -> Value {
        use serde_json::Value as J;
        match (j, ty) {
            (J::Null, t) => Value::Null(t.clone()),
            (J::Array(a), Type::List(t)) => {
                Value::List(a.iter().map(|v| Value::from_json_typed(v, t)).collect())
            }
            (J::Array(a), Type::Set(t)) => {
                Value::set_from(a.iter().map(|v| Value::from_json_typed(v, t)).collect())
            }
            (J::Array(a), Type::Tuple(ts)) => Value::Tuple(
                a.iter()
                    .enumerate()
                    .map(|(i, v)| Value::from_json_typed(v, ts.get(i).unwrap_or(&Type::Dynamic)))
                    .collect(),
            ),
            (J::Object(o), Type::Map(t)) => Value::Map(
                o.iter()
                    .map(|(k, v)| (k.clone(), Value::from_json_typed(v, t)))
                    .collect(),
            ),
            (J::Object(o), Type::Object(attrs)) => {
                let mut m = BTreeMap::new();
                for (k, t) in attrs {
                    m.insert(
                        k.clone(),
                        o.get(k)
                            .map(|v| Value::from_json_typed(v, t))
                            .unwrap_or(Value::Null(t.clone())),
                    );
                }
                Value::Object(m)
            }
            (J::Number(n), Type::String) => Value::String(n.to_string()),
            (J::Bool(b), Type::String) => Value::String(b.to_string()),
            (j, _) => Value::from_json(j),
        }
    }
}

/// The order Terraform (go-cty 1.9) iterates a set in: `Set.Values` lists the hash
/// buckets in ascending order, then sorts stably by `setRules.Less`. Less puts known
/// values first, then unknowns, then null; strings compare bytewise, numbers by value,
/// false before true; any other element type compares its hash bytes
/// (`set_hash_bytes`). Values with the same hash bytes share a bucket, so they tie here
/// and keep their insertion order, as the stable sort keeps it.
pub fn set_order(a: &Value, b: &Value) -> Ordering {
    let (a, b) = (a.unmark().0, b.unmark().0);
    match (a.is_null(), b.is_null()) {
        (true, true) => return Ordering::Equal,
        (false, true) => return Ordering::Less,
        (true, false) => return Ordering::Greater,
        _ => {}
    }
    match (a.is_unknown(), b.is_unknown()) {
        (true, true) => return Ordering::Equal,
        (false, true) => return Ordering::Less,
        (true, false) => return Ordering::Greater,
        _ => {}
    }
    match (a, b) {
        (Value::String(x), Value::String(y)) => x.cmp(y),
        (Value::Number(x), Value::Number(y)) => x.cmp_num(y),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        _ => {
            let (mut ha, mut hb) = (String::new(), String::new());
            set_hash_bytes(a, &mut ha);
            set_hash_bytes(b, &mut hb);
            ha.as_bytes().cmp(hb.as_bytes())
        }
    }
}

/// go-cty's `appendSetHashBytes`: a value's text in a set's hash.
fn set_hash_bytes(v: &Value, out: &mut String) {
    match v {
        Value::Sensitive(v) => set_hash_bytes(v, out),
        Value::Unknown(_) => out.push('?'),
        Value::Null(_) => out.push('~'),
        Value::Number(n) => out.push_str(&n.text_g(10)),
        Value::Bool(b) => out.push(if *b { 'T' } else { 'F' }),
        Value::String(s) => go_quote_into(s, out),
        Value::Map(m) => {
            out.push('{');
            for (k, e) in m {
                go_quote_into(k, out);
                out.push(':');
                set_hash_bytes(e, out);
                out.push(';');
            }
            out.push('}');
        }
        Value::List(vs) | Value::Set(vs) => {
            out.push('[');
            for e in vs {
                set_hash_bytes(e, out);
                out.push(';');
            }
            out.push(']');
        }
        // Object attributes go by name order, which the BTreeMap keeps.
        Value::Object(m) => {
            out.push('<');
            for e in m.values() {
                set_hash_bytes(e, out);
                out.push(';');
            }
            out.push('>');
        }
        Value::Tuple(vs) => {
            out.push('<');
            for e in vs {
                set_hash_bytes(e, out);
                out.push(';');
            }
            out.push('>');
        }
    }
}

/// Go's `strconv.Quote` as Go 1.16 (Terraform 1.0.3's) writes it: the console prints
/// strings this way, plans print them this way, and cty hashes set elements with it.
/// NOTE: Go keeps every rune `unicode.IsPrint` accepts; `go_unprintable` lists controls,
/// separators other than the ASCII space, format characters and private use, which is
/// Go's answer for every assigned character (unassigned ones are kept here).
pub fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    go_quote_into(s, &mut out);
    out
}

fn go_quote_into(s: &str, out: &mut String) {
    use std::fmt::Write;
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if go_unprintable(c) => {
                if (c as u32) < 0x10000 {
                    let _ = write!(out, "\\u{:04x}", c as u32);
                } else {
                    let _ = write!(out, "\\U{:08x}", c as u32);
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn go_unprintable(c: char) -> bool {
    matches!(c as u32,
        0x7f..=0xa0 | 0xad | 0x1680 | 0x2000..=0x200f | 0x2028..=0x202f | 0x205f..=0x2064
        | 0x2066..=0x206f | 0x3000 | 0xfeff | 0xfff9..=0xfffb | 0xe000..=0xf8ff
        | 0xf0000..=0x10ffff)
}

fn number_to_json(n: Number) -> serde_json::Value {
    if let Some(i) = n.as_i64() {
        serde_json::Value::Number(i.into())
    } else {
        serde_json::Number::from_f64(n.as_f64())
            .map(serde_json::Value::Number)
            .unwrap_or(serde_json::Value::Null)
    }
}

/// "string", "number", "list of string", "object", ... as Terraform names types in errors.
pub fn friendly_type_name(t: &Type) -> String {
    match t {
        Type::Dynamic => "dynamic".into(),
        Type::Bool => "bool".into(),
        Type::Number => "number".into(),
        Type::String => "string".into(),
        Type::List(e) => format!("list of {}", friendly_type_name(e)),
        Type::Set(e) => format!("set of {}", friendly_type_name(e)),
        Type::Map(e) => format!("map of {}", friendly_type_name(e)),
        Type::Tuple(_) => "tuple".into(),
        Type::Object(_) => "object".into(),
    }
}

impl PartialEq for Value {
    fn eq(&self, other: &Value) -> bool {
        self.same_as(other)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::String(s.to_string())
    }
}
impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::String(s)
    }
}
impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}
impl From<i64> for Value {
    fn from(i: i64) -> Value {
        Value::int(i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strs(v: &[&str]) -> Value {
        Value::List(v.iter().map(|s| Value::from(*s)).collect())
    }

    #[test]
    fn sets_iterate_in_cty_order() {
        // Non-primitive elements order by their hash bytes: `["a";]` < `[]`.
        let set = Value::set_from(vec![strs(&[]), strs(&["a"]), strs(&[])]);
        assert_eq!(set, Value::Set(vec![strs(&["a"]), strs(&[])]));
        // Primitive elements sort by value, null last.
        let set = Value::set_from(vec![Value::int(10), Value::null(), Value::int(9)]);
        assert_eq!(set, Value::Set(vec![Value::int(9), Value::int(10), Value::null()]));
        // Equal hash bytes (10 significant digits) keep their insertion order.
        let n = |i: i64| Value::List(vec![Value::int(i)]);
        let set = Value::set_from(vec![n(12345678902), n(12345678901)]);
        assert_eq!(set, Value::Set(vec![n(12345678902), n(12345678901)]));
    }

    #[test]
    fn go_quote_as_go_1_16() {
        assert_eq!(go_quote("a\"\\\n\u{7f}\u{a0}é😀\u{e000}"), "\"a\\\"\\\\\\n\\u007f\\u00a0é😀\\ue000\"");
    }
}
