//! Type constraint expressions (`list(string)`, `object({a = optional(number, 1)})`).
//!
//! Owns parsing a type constraint from the hcl-edit syntax tree into a `TypeConstraint`
//! (the type, which object attributes are optional, and the `optional(T, default)`
//! defaults at any depth), applying those defaults to a value the way Terraform 1.3+
//! does for input variables, and printing a constraint back in Terraform's syntax. It
//! mirrors HCL's `ext/typeexpr` and Terraform's variable `type` handling (bare `list` and
//! `map`, the rejected pre-0.12 quoted forms). It must not evaluate anything but literal
//! default values (no references, no function calls), convert values itself (that is
//! `lang::convert`), or panic on any input: every problem is a `TypeExprError` carrying
//! the span of the offending sub-expression.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;

use hcl_edit::expr::{Expression, FuncCall, ObjectKey};
use hcl_edit::template::{Element, Template};
use hcl_edit::Span;

use crate::lang::convert::{self, ConvertError, TargetType};
use crate::lang::value::{Number, Type, Value};

const INVALID_TYPE: &str = "Invalid type specification";

/// A parsed type constraint: the type, its optional object attributes and their defaults.
#[derive(Clone, Debug, PartialEq)]
pub struct TypeConstraint {
    target: TargetType,
    /// Plain type (no optional markers), cached for `ty()`.
    ty: Type,
    defaults: Option<Defaults>,
}

/// Defaults for optional attributes somewhere inside a type (HCL's `typeexpr.Defaults`).
#[derive(Clone, Debug, PartialEq)]
struct Defaults {
    kind: Kind,
    /// Default value per optional object attribute, already converted to its type.
    values: BTreeMap<String, Value>,
    /// Defaults below this level: by attribute name for objects, by index for tuples,
    /// and under `""` for the element of a list, set or map.
    children: BTreeMap<String, Defaults>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    Object,
    Tuple,
    Collection,
}

impl TypeConstraint {
    /// The `any` constraint: every value is accepted as is.
    pub fn any() -> TypeConstraint {
        TypeConstraint::of(Type::Dynamic)
    }

    /// A constraint that is exactly `ty`, with no optional attributes.
    pub fn of(ty: Type) -> TypeConstraint {
        TypeConstraint {
            target: TargetType::from_type(&ty),
            ty,
            defaults: None,
        }
    }

    /// The type, without optional-attribute markers.
    pub fn ty(&self) -> &Type {
        &self.ty
    }

    /// The conversion target, with optional attributes marked.
    pub fn target(&self) -> &TargetType {
        &self.target
    }

    /// True when some object attribute has an `optional(T, default)` default.
    pub fn has_defaults(&self) -> bool {
        self.defaults.is_some()
    }

    /// Applies optional-attribute defaults (not to a top-level null, so that a nullable
    /// variable can still be set to null), then converts (variables, `-var` values).
    pub fn convert(&self, v: &Value) -> Result<Value, ConvertError> {
        let v = match &self.defaults {
            Some(d) if !v.is_null() => d.apply(v),
            _ => v.clone(),
        };
        convert::convert_target(&v, &self.target)
    }

    /// Applies the optional-attribute defaults only, without converting. Permissive:
    /// values that do not fit the type are left for `convert` to reject.
    pub fn apply_defaults(&self, v: &Value) -> Value {
        match &self.defaults {
            Some(d) => d.apply(v),
            None => v.clone(),
        }
    }
}

impl Defaults {
    fn child(&self, key: ChildKey<'_>) -> Option<&Defaults> {
        match (key, self.kind) {
            (ChildKey::Index(i), Kind::Tuple) => self.children.get(&i.to_string()),
            (ChildKey::Name(n), Kind::Object) => self.children.get(n),
            _ => self.children.get(""),
        }
    }

    fn apply(&self, v: &Value) -> Value {
        if v.is_null() || v.is_unknown() || (self.values.is_empty() && self.children.is_empty()) {
            return v.clone();
        }
        let (inner, marked) = v.unmark();
        let out = match inner {
            Value::List(vs) | Value::Set(vs) | Value::Tuple(vs) => {
                let values: Vec<Value> = vs
                    .iter()
                    .enumerate()
                    .map(|(i, x)| match self.child(ChildKey::Index(i)) {
                        Some(d) => d.apply(x),
                        None => x.clone(),
                    })
                    .collect();
                match inner {
                    Value::Set(_) if values.is_empty() => inner.clone(),
                    Value::List(_) if values.is_empty() => inner.clone(),
                    Value::Set(_) => match unify_values(&values) {
                        Some(c) => Value::set_from(c),
                        None => Value::Tuple(values),
                    },
                    Value::List(_) => match unify_values(&values) {
                        Some(c) => Value::List(c),
                        None => Value::Tuple(values),
                    },
                    _ => Value::Tuple(values),
                }
            }
            Value::Map(m) | Value::Object(m) => {
                let mut values: BTreeMap<String, Value> = m
                    .iter()
                    .map(|(k, x)| {
                        let x = match self.child(ChildKey::Name(k)) {
                            Some(d) => d.apply(x),
                            None => x.clone(),
                        };
                        (k.clone(), x)
                    })
                    .collect();
                for (key, default) in &self.values {
                    if values.get(key).is_none_or(Value::is_null) {
                        let d = match self.children.get(key) {
                            Some(child) => child.apply(default),
                            None => default.clone(),
                        };
                        values.insert(key.clone(), d);
                    }
                }
                match inner {
                    Value::Map(_) if values.is_empty() => inner.clone(),
                    Value::Map(_) => {
                        let vs: Vec<Value> = values.values().cloned().collect();
                        match unify_values(&vs) {
                            Some(c) => Value::Map(values.keys().cloned().zip(c).collect()),
                            None => Value::Object(values),
                        }
                    }
                    _ => Value::Object(values),
                }
            }
            other => other.clone(),
        };
        out.with_mark(marked)
    }
}

#[derive(Clone, Copy)]
enum ChildKey<'a> {
    Index(usize),
    Name(&'a str),
}

/// Converts all `values` to their unified type, as HCL's defaults do (`UnifyUnsafe`).
fn unify_values(values: &[Value]) -> Option<Vec<Value>> {
    let types: Vec<Type> = values.iter().map(convert::value_type).collect();
    let u = convert::unify(&types)?;
    values
        .iter()
        .map(|v| convert::convert(v, &u).ok())
        .collect()
}

// ---- display ----------------------------------------------------------------------------

impl fmt::Display for TypeConstraint {
    /// The constraint syntax as Terraform prints it (`list(string)`,
    /// `object({a=string,b=optional(number, 1)})`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_target(f, &self.target, self.defaults.as_ref())
    }
}

fn write_target(f: &mut fmt::Formatter<'_>, t: &TargetType, d: Option<&Defaults>) -> fmt::Result {
    let child = |key: &str| d.and_then(|d| d.children.get(key));
    match t {
        TargetType::Dynamic => f.write_str("any"),
        TargetType::Bool => f.write_str("bool"),
        TargetType::Number => f.write_str("number"),
        TargetType::String => f.write_str("string"),
        TargetType::List(e) | TargetType::Set(e) | TargetType::Map(e) => {
            f.write_str(match t {
                TargetType::List(_) => "list(",
                TargetType::Set(_) => "set(",
                _ => "map(",
            })?;
            write_target(f, e, child(""))?;
            f.write_str(")")
        }
        TargetType::Tuple(ts) => {
            f.write_str("tuple([")?;
            for (i, et) in ts.iter().enumerate() {
                if i > 0 {
                    f.write_str(",")?;
                }
                write_target(f, et, child(&i.to_string()))?;
            }
            f.write_str("])")
        }
        TargetType::Object { attrs, optional } => {
            f.write_str("object({")?;
            for (i, (name, at)) in attrs.iter().enumerate() {
                if i > 0 {
                    f.write_str(",")?;
                }
                if is_identifier(name) {
                    f.write_str(name)?;
                } else {
                    write!(f, "{name:?}")?;
                }
                f.write_str("=")?;
                if optional.contains(name) {
                    f.write_str("optional(")?;
                    write_target(f, at, child(name))?;
                    if let Some(v) = d.and_then(|d| d.values.get(name)) {
                        f.write_str(", ")?;
                        write_literal(f, v)?;
                    }
                    f.write_str(")")?;
                } else {
                    write_target(f, at, child(name))?;
                }
            }
            f.write_str("})")
        }
    }
}

fn is_identifier(s: &str) -> bool {
    let mut cs = s.chars();
    matches!(cs.next(), Some(c) if c.is_alphabetic() || c == '_')
        && cs.all(|c| c.is_alphanumeric() || c == '_' || c == '-')
}

/// A value as an HCL literal (for defaults in `Display`).
fn write_literal(f: &mut fmt::Formatter<'_>, v: &Value) -> fmt::Result {
    match v {
        Value::Null(_) | Value::Unknown(_) => f.write_str("null"),
        Value::Bool(b) => write!(f, "{b}"),
        Value::Number(n) => write!(f, "{n}"),
        Value::String(s) => write!(f, "{}", serde_json::Value::String(s.clone())),
        Value::List(vs) | Value::Set(vs) | Value::Tuple(vs) => {
            f.write_str("[")?;
            for (i, x) in vs.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write_literal(f, x)?;
            }
            f.write_str("]")
        }
        Value::Map(m) | Value::Object(m) => {
            f.write_str("{")?;
            for (i, (k, x)) in m.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                if is_identifier(k) {
                    f.write_str(k)?;
                } else {
                    write!(f, "{}", serde_json::Value::String(k.clone()))?;
                }
                f.write_str(" = ")?;
                write_literal(f, x)?;
            }
            f.write_str("}")
        }
        Value::Sensitive(x) => write_literal(f, x),
    }
}

// ---- errors -------------------------------------------------------------------------------

/// A problem in a type constraint expression.
#[derive(Clone, Debug, PartialEq)]
pub struct TypeExprError {
    /// Byte range of the offending sub-expression in the source, when known.
    pub span: Option<Range<usize>>,
    /// Short summary ("Invalid type specification").
    pub summary: String,
    /// What was wrong, in Terraform's words.
    pub detail: String,
}

impl fmt::Display for TypeExprError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.summary, self.detail)
    }
}

impl std::error::Error for TypeExprError {}

fn err(span: Option<Range<usize>>, summary: &str, detail: impl Into<String>) -> TypeExprError {
    TypeExprError {
        span,
        summary: summary.to_string(),
        detail: detail.into(),
    }
}

fn invalid(span: Option<Range<usize>>, detail: impl Into<String>) -> TypeExprError {
    err(span, INVALID_TYPE, detail)
}

// ---- parsing ------------------------------------------------------------------------------

/// Parses a variable's `type` expression (a type constraint: `any` and `optional(...)`
/// are allowed). Besides HCL's type syntax this accepts Terraform's legacy bare `list`
/// and `map` (meaning `list(any)` and `map(any)`), and rejects the pre-0.12 quoted forms
/// (`"string"`) with Terraform's own diagnostics.
pub fn parse_type_constraint(expr: &Expression) -> Result<TypeConstraint, TypeExprError> {
    if let Expression::String(s) = expr {
        return Err(quoted_type_error(s.value(), expr.span()));
    }
    match keyword(expr) {
        Some("list") => return Ok(TypeConstraint::of(Type::list(Type::Dynamic))),
        Some("map") => return Ok(TypeConstraint::of(Type::map(Type::Dynamic))),
        _ => {}
    }
    let (target, defaults) = get_type(expr)?;
    Ok(TypeConstraint {
        ty: target.to_type(),
        target,
        defaults,
    })
}

fn quoted_type_error(s: &str, span: Option<Range<usize>>) -> TypeExprError {
    const OLD: &str = "Terraform 0.11 and earlier required type constraints to be given in quotes, but that form is now deprecated and will be removed in a future version of Terraform.";
    match s {
        "string" => err(span, "Invalid quoted type constraints", format!("{OLD} Remove the quotes around \"string\".")),
        "list" | "map" => err(
            span,
            "Invalid quoted type constraints",
            format!(
                "{OLD} Remove the quotes around \"{s}\" and write {s}(string) instead to explicitly indicate that the {s} elements are strings."
            ),
        ),
        _ => err(
            span,
            "Invalid legacy variable type hint",
            "To provide a full type expression, remove the surrounding quotes and give the type expression directly.",
        ),
    }
}

fn keyword(expr: &Expression) -> Option<&str> {
    match expr {
        Expression::Variable(v) => Some(v.value().as_str()),
        _ => None,
    }
}

const KEYWORDS: [&str; 10] = [
    "bool", "string", "number", "any", "list", "map", "set", "object", "tuple", "optional",
];

fn did_you_mean(name: &str) -> String {
    let best = KEYWORDS
        .iter()
        .filter(|k| **k != "optional")
        .map(|k| (levenshtein(name, k), *k))
        .filter(|(d, _)| *d < 3)
        .min_by_key(|(d, _)| *d);
    match best {
        Some((_, k)) => format!(" Did you mean \"{k}\"?"),
        None => String::new(),
    }
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

fn collection_defaults(kind: Kind, d: Option<Defaults>) -> Option<Defaults> {
    d.map(|d| Defaults {
        kind,
        values: BTreeMap::new(),
        children: [(String::new(), d)].into_iter().collect(),
    })
}

fn structured_defaults(
    kind: Kind,
    values: BTreeMap<String, Value>,
    children: BTreeMap<String, Defaults>,
) -> Option<Defaults> {
    if values.is_empty() && children.is_empty() {
        None
    } else {
        Some(Defaults {
            kind,
            values,
            children,
        })
    }
}

/// The span of a call's parenthesised arguments (`(...)`), derived from the call's own
/// span when the parser recorded none for the arguments.
fn args_span(call: &FuncCall) -> Option<Range<usize>> {
    call.args.span().or_else(|| {
        let whole = call.span()?;
        let name_end = call.name.name.span()?.end;
        (name_end <= whole.end).then_some(name_end..whole.end)
    })
}

fn range_between(a: Option<Range<usize>>, b: Option<Range<usize>>) -> Option<Range<usize>> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.start.min(b.start)..a.end.max(b.end)),
        (a, b) => a.or(b),
    }
}

/// HCL's `getType` in constraint mode with defaults.
fn get_type(expr: &Expression) -> Result<(TargetType, Option<Defaults>), TypeExprError> {
    if let Some(kw) = keyword(expr) {
        return match kw {
            "bool" => Ok((TargetType::Bool, None)),
            "string" => Ok((TargetType::String, None)),
            "number" => Ok((TargetType::Number, None)),
            "any" => Ok((TargetType::Dynamic, None)),
            "list" | "map" | "set" => Err(invalid(
                expr.span(),
                format!("The {kw} type constructor requires one argument specifying the element type."),
            )),
            "object" => Err(invalid(
                expr.span(),
                "The object type constructor requires one argument specifying the attribute types and values as a map.",
            )),
            "tuple" => Err(invalid(
                expr.span(),
                "The tuple type constructor requires one argument specifying the element types as a list.",
            )),
            _ => Err(invalid(
                expr.span(),
                format!("The keyword \"{kw}\" is not a valid type specification.{}", did_you_mean(kw)),
            )),
        };
    }
    let Expression::FuncCall(call) = expr else {
        return Err(invalid(
            expr.span(),
            "A type specification is either a primitive type keyword (bool, number, string) or a complex type constructor call, like list(string).",
        ));
    };
    let name = call.name.name.value().as_str();
    if call.name.is_namespaced() {
        return Err(invalid(
            expr.span(),
            format!("Keyword \"{name}\" is not a valid type constructor."),
        ));
    }
    let args: Vec<&Expression> = call.args.iter().collect();
    match name {
        "bool" | "string" | "number" => {
            return Err(invalid(
                args_span(call),
                format!("Primitive type keyword \"{name}\" does not expect arguments."),
            ))
        }
        "any" => {
            return Err(invalid(
                args_span(call),
                format!("Type constraint keyword \"{name}\" does not expect arguments."),
            ))
        }
        "list" | "set" | "map" | "object" | "tuple" if args.len() != 1 => {
            let span = if args.len() > 1 {
                range_between(args[1].span(), args[args.len() - 1].span())
            } else {
                args_span(call)
            };
            let detail = match name {
                "object" => "The object type constructor requires one argument specifying the attribute types and values as a map.".to_string(),
                "tuple" => "The tuple type constructor requires one argument specifying the element types as a list.".to_string(),
                _ => format!("The {name} type constructor requires one argument specifying the element type."),
            };
            return Err(invalid(span, detail));
        }
        _ => {}
    }
    match name {
        "list" | "set" | "map" => {
            let (ety, d) = get_type(args[0])?;
            let t = match name {
                "list" => TargetType::List(Box::new(ety)),
                "set" => TargetType::Set(Box::new(ety)),
                _ => TargetType::Map(Box::new(ety)),
            };
            Ok((t, collection_defaults(Kind::Collection, d)))
        }
        "object" => object_type(args[0]),
        "tuple" => {
            let Expression::Array(elems) = args[0] else {
                return Err(invalid(
                    args[0].span(),
                    "Tuple type constructor requires a list of element types.",
                ));
            };
            let mut etys = Vec::new();
            let mut children = BTreeMap::new();
            for (i, e) in elems.iter().enumerate() {
                let (ety, d) = get_type(e)?;
                etys.push(ety);
                if let Some(d) = d {
                    children.insert(i.to_string(), d);
                }
            }
            Ok((
                TargetType::Tuple(etys),
                structured_defaults(Kind::Tuple, BTreeMap::new(), children),
            ))
        }
        "optional" => Err(invalid(
            call.name.name.span(),
            "Keyword \"optional\" is valid only as a modifier for object type attributes.",
        )),
        _ => Err(invalid(
            expr.span(),
            format!(
                "Keyword \"{name}\" is not a valid type constructor.{}",
                did_you_mean(name)
            ),
        )),
    }
}

fn object_type(arg: &Expression) -> Result<(TargetType, Option<Defaults>), TypeExprError> {
    let Expression::Object(obj) = arg else {
        return Err(invalid(
            arg.span(),
            "Object type constructor requires a map whose keys are attribute names and whose values are the corresponding attribute types.",
        ));
    };
    let mut attrs = BTreeMap::new();
    let mut optional = std::collections::BTreeSet::new();
    let mut values = BTreeMap::new();
    let mut children = BTreeMap::new();
    for (key, value) in obj.iter() {
        let name = match key {
            ObjectKey::Ident(id) => id.value().as_str().to_string(),
            ObjectKey::Expression(e) => match keyword(e) {
                Some(k) => k.to_string(),
                None => {
                    return Err(invalid(
                        key.span(),
                        "Object constructor map keys must be attribute names.",
                    ))
                }
            },
        };
        if attrs.contains_key(&name) {
            return Err(invalid(
                key.span(),
                "Object constructor map keys must be unique.",
            ));
        }
        let mut aty_expr = value.expr();
        let mut default_expr = None;
        if let Expression::FuncCall(call) = aty_expr {
            if !call.name.is_namespaced() && call.name.name.value().as_str() == "optional" {
                let (ty_arg, def) = optional_args(call)?;
                aty_expr = ty_arg;
                default_expr = def;
                optional.insert(name.clone());
            }
        }
        let (aty, adefaults) = get_type(aty_expr)?;
        if let Some(dexpr) = default_expr {
            let raw = eval_literal(dexpr)?;
            let conv = convert::convert_target(&raw, &aty).map_err(|e| {
                err(
                    dexpr.span(),
                    "Invalid default value for optional attribute",
                    format!("This default value is not compatible with the attribute's type constraint: {e}."),
                )
            })?;
            values.insert(name.clone(), conv);
        }
        if let Some(d) = adefaults {
            children.insert(name.clone(), d);
        }
        attrs.insert(name, aty);
    }
    Ok((
        TargetType::Object { attrs, optional },
        structured_defaults(Kind::Object, values, children),
    ))
}

/// The type argument and optional default of `optional(T)` / `optional(T, default)`.
fn optional_args(call: &FuncCall) -> Result<(&Expression, Option<&Expression>), TypeExprError> {
    let args: Vec<&Expression> = call.args.iter().collect();
    match args.as_slice() {
        [] => Err(invalid(args_span(call), "Optional attribute modifier requires the attribute type as its argument.")),
        [t] => Ok((t, None)),
        [t, d] => Ok((t, Some(d))),
        _ => Err(invalid(
            args_span(call),
            "Optional attribute modifier expects at most two arguments: the attribute type, and a default value.",
        )),
    }
}

// ---- literal default values ---------------------------------------------------------------

/// Evaluates a default value written as a literal: null, bools, numbers, strings
/// (templates whose interpolations are themselves literals), arrays, objects, unary
/// `-`/`!` and parentheses. References and function calls are errors.
fn eval_literal(expr: &Expression) -> Result<Value, TypeExprError> {
    match expr {
        Expression::Null(_) => Ok(Value::null()),
        Expression::Bool(b) => Ok(Value::Bool(*b.value())),
        Expression::Number(n) => match n.value().as_f64() {
            Some(f) if f.is_finite() => Ok(Value::Number(Number::from_f64(f))),
            _ => Err(err(
                expr.span(),
                "Invalid number literal",
                "This number cannot be represented.",
            )),
        },
        Expression::String(s) => Ok(Value::String(s.value().clone())),
        Expression::StringTemplate(t) => eval_template(t).map(Value::String),
        Expression::HeredocTemplate(h) => eval_template(&h.template).map(Value::String),
        Expression::Parenthesis(p) => eval_literal(p.inner()),
        Expression::Array(a) => a
            .iter()
            .map(eval_literal)
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Tuple),
        Expression::Object(o) => {
            let mut m = BTreeMap::new();
            for (k, v) in o.iter() {
                let key = match k {
                    ObjectKey::Ident(id) => id.value().as_str().to_string(),
                    ObjectKey::Expression(Expression::Variable(id)) => {
                        id.value().as_str().to_string()
                    }
                    ObjectKey::Expression(e) => {
                        let kv = eval_literal(e)?;
                        match convert::convert(&kv, &Type::String) {
                            Ok(Value::String(s)) => s,
                            _ => {
                                return Err(err(
                                    e.span(),
                                    "Incorrect key type",
                                    "Can't use this value as a key: a string is required.",
                                ))
                            }
                        }
                    }
                };
                m.insert(key, eval_literal(v.expr())?);
            }
            Ok(Value::Object(m))
        }
        Expression::UnaryOp(op) => {
            let v = eval_literal(&op.expr)?;
            match (op.operator.value(), &v) {
                (hcl_edit::expr::UnaryOperator::Neg, Value::Number(n)) => {
                    Ok(Value::Number(Number::from_f64(-n.as_f64())))
                }
                (hcl_edit::expr::UnaryOperator::Not, Value::Bool(b)) => Ok(Value::Bool(!b)),
                _ => Err(err(
                    expr.span(),
                    "Invalid operand",
                    "Unsuitable value for unary operand.",
                )),
            }
        }
        Expression::Variable(_) | Expression::Traversal(_) | Expression::ForExpr(_) => Err(err(
            expr.span(),
            "Variables not allowed",
            "Variables may not be used here.",
        )),
        Expression::FuncCall(_) => Err(err(
            expr.span(),
            "Function calls not allowed",
            "Functions may not be called here.",
        )),
        Expression::Conditional(_) | Expression::BinaryOp(_) => Err(err(
            expr.span(),
            "Unsupported default value",
            "A default value for an optional attribute must be a literal value.",
        )),
    }
}

fn eval_template(t: &Template) -> Result<String, TypeExprError> {
    let mut out = String::new();
    for el in t.iter() {
        match el {
            Element::Literal(s) => out.push_str(s.value()),
            Element::Interpolation(i) => {
                let v = eval_literal(&i.expr)?;
                match convert::convert(&v, &Type::String) {
                    Ok(Value::String(s)) => out.push_str(&s),
                    _ => {
                        return Err(err(
                            i.expr.span(),
                            "Invalid template interpolation value",
                            "Cannot include the given value in a string template: string required.",
                        ))
                    }
                }
            }
            Element::Directive(_) => {
                return Err(err(
                    t.span(),
                    "Unsupported default value",
                    "A default value for an optional attribute must be a literal value.",
                ))
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(src: &str) -> Result<TypeConstraint, TypeExprError> {
        let expr: Expression = match src.parse() {
            Ok(e) => e,
            Err(e) => panic!("test source {src:?} does not parse: {e}"),
        };
        parse_type_constraint(&expr)
    }
    fn ok(src: &str) -> TypeConstraint {
        match parse(src) {
            Ok(t) => t,
            Err(e) => panic!("{src}: {e}"),
        }
    }
    fn bad(src: &str) -> TypeExprError {
        match parse(src) {
            Ok(t) => panic!("{src} parsed as {t}"),
            Err(e) => e,
        }
    }
    /// The source text the error's span points at.
    fn spanned<'a>(src: &'a str, e: &TypeExprError) -> &'a str {
        let r = e.span.clone().unwrap_or(0..0);
        &src[r]
    }
    fn s(x: &str) -> Value {
        Value::string(x)
    }
    fn n(x: f64) -> Value {
        Value::number(x)
    }
    fn oty(items: Vec<(&str, Type)>) -> Type {
        Type::Object(items.into_iter().map(|(k, t)| (k.to_string(), t)).collect())
    }
    /// Strict comparison: kinds (list vs tuple, map vs object) and null types must match.
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
    fn conv(tc: &TypeConstraint, v: Value) -> Value {
        match tc.convert(&v) {
            Ok(x) => x,
            Err(e) => panic!("converting {v:?} to {tc}: {e}"),
        }
    }

    #[test]
    fn primitives_and_any() {
        assert_eq!(ok("string").ty(), &Type::String);
        assert_eq!(ok("number").ty(), &Type::Number);
        assert_eq!(ok("bool").ty(), &Type::Bool);
        assert_eq!(ok("any").ty(), &Type::Dynamic);
        assert_eq!(TypeConstraint::any().ty(), &Type::Dynamic);
        assert_eq!(TypeConstraint::of(Type::Number).to_string(), "number");
    }

    #[test]
    fn every_constructor() {
        assert_eq!(ok("list(string)").ty(), &Type::list(Type::String));
        assert_eq!(ok("set(number)").ty(), &Type::set(Type::Number));
        assert_eq!(ok("map(bool)").ty(), &Type::map(Type::Bool));
        assert_eq!(ok("list(any)").ty(), &Type::list(Type::Dynamic));
        assert_eq!(
            ok("tuple([string, number])").ty(),
            &Type::Tuple(vec![Type::String, Type::Number])
        );
        assert_eq!(ok("tuple([])").ty(), &Type::Tuple(vec![]));
        assert_eq!(
            ok("object({name = string, tags = map(string)})").ty(),
            &oty(vec![
                ("name", Type::String),
                ("tags", Type::map(Type::String))
            ])
        );
        assert_eq!(ok("object({})").ty(), &oty(vec![]));
        assert_eq!(
            ok("list(object({a = set(tuple([bool]))}))").ty(),
            &Type::list(oty(vec![("a", Type::set(Type::Tuple(vec![Type::Bool])))]))
        );
    }

    #[test]
    fn legacy_bare_list_and_map() {
        assert_eq!(ok("list").ty(), &Type::list(Type::Dynamic));
        assert_eq!(ok("map").ty(), &Type::map(Type::Dynamic));
        // Only at the top level, as in Terraform.
        let src = "list(map)";
        let e = bad(src);
        assert_eq!(
            e.detail,
            "The map type constructor requires one argument specifying the element type."
        );
        assert_eq!(spanned(src, &e), "map");
        assert_eq!(
            bad("set").detail,
            "The set type constructor requires one argument specifying the element type."
        );
    }

    #[test]
    fn legacy_quoted_types_are_rejected_like_terraform() {
        let e = bad("\"string\"");
        assert_eq!(e.summary, "Invalid quoted type constraints");
        assert!(
            e.detail.ends_with("Remove the quotes around \"string\"."),
            "{}",
            e.detail
        );
        let e = bad("\"list\"");
        assert!(e.detail.ends_with(
            "write list(string) instead to explicitly indicate that the list elements are strings."
        ));
        let e = bad("\"map\"");
        assert!(e
            .detail
            .contains("Remove the quotes around \"map\" and write map(string)"));
        let src = "\"foo\"";
        let e = bad(src);
        assert_eq!(e.summary, "Invalid legacy variable type hint");
        assert_eq!(spanned(src, &e), "\"foo\"");
    }

    #[test]
    fn display_round_trips() {
        for src in [
            "string",
            "any",
            "list(string)",
            "set(map(number))",
            "tuple([string,bool])",
            "object({a=string,b=list(any)})",
            "object({a=optional(string),b=optional(number, 3)})",
            "object({x=optional(list(object({y=optional(string, \"d\")})), [])})",
        ] {
            let tc = ok(src);
            assert_eq!(tc.to_string(), src);
            assert_eq!(ok(&tc.to_string()), tc);
        }
        assert_eq!(ok("list").to_string(), "list(any)");
        assert_eq!(
            ok("object({b = number, a = string})").to_string(),
            "object({a=string,b=number})"
        );
    }

    #[test]
    fn errors_carry_spans_and_terraform_wording() {
        let src = "strin";
        let e = bad(src);
        assert_eq!(e.summary, "Invalid type specification");
        assert_eq!(
            e.detail,
            "The keyword \"strin\" is not a valid type specification. Did you mean \"string\"?"
        );
        assert_eq!(e.span, Some(0..5));

        let src = "list(lst(string))";
        let e = bad(src);
        assert_eq!(
            e.detail,
            "Keyword \"lst\" is not a valid type constructor. Did you mean \"list\"?"
        );
        assert_eq!(spanned(src, &e), "lst(string)");

        let e = bad("frobnicate");
        assert_eq!(
            e.detail,
            "The keyword \"frobnicate\" is not a valid type specification."
        );

        let src = "map(string(1))";
        let e = bad(src);
        assert_eq!(
            e.detail,
            "Primitive type keyword \"string\" does not expect arguments."
        );
        assert_eq!(spanned(src, &e), "(1)");

        let e = bad("any()");
        assert_eq!(
            e.detail,
            "Type constraint keyword \"any\" does not expect arguments."
        );

        let src = "list(string, number, bool)";
        let e = bad(src);
        assert_eq!(
            e.detail,
            "The list type constructor requires one argument specifying the element type."
        );
        assert_eq!(spanned(src, &e), "number, bool");

        let src = "(string)";
        let e = bad(src);
        assert!(e
            .detail
            .starts_with("A type specification is either a primitive type keyword"));
        assert_eq!(spanned(src, &e), "(string)");

        assert!(bad("object")
            .detail
            .starts_with("The object type constructor requires one argument"));
        assert!(bad("tuple")
            .detail
            .starts_with("The tuple type constructor requires one argument"));
        assert!(bad("object()")
            .detail
            .starts_with("The object type constructor requires one argument"));

        let src = "tuple(string)";
        let e = bad(src);
        assert_eq!(
            e.detail,
            "Tuple type constructor requires a list of element types."
        );
        assert_eq!(spanned(src, &e), "string");

        let src = "object([string])";
        let e = bad(src);
        assert!(e
            .detail
            .starts_with("Object type constructor requires a map whose keys are attribute names"));
        assert_eq!(spanned(src, &e), "[string]");

        let src = "object({\"a\" = string})";
        let e = bad(src);
        assert_eq!(
            e.detail,
            "Object constructor map keys must be attribute names."
        );
        assert_eq!(spanned(src, &e).trim(), "\"a\"");

        // (Duplicate attribute names are already rejected by the HCL parser.)

        let src = "list(optional(string))";
        let e = bad(src);
        assert_eq!(
            e.detail,
            "Keyword \"optional\" is valid only as a modifier for object type attributes."
        );
        assert_eq!(spanned(src, &e), "optional");

        let e = bad("object({a = optional()})");
        assert_eq!(
            e.detail,
            "Optional attribute modifier requires the attribute type as its argument."
        );
        let e = bad("object({a = optional(string, \"x\", \"y\")})");
        assert_eq!(e.detail, "Optional attribute modifier expects at most two arguments: the attribute type, and a default value.");

        let src = "object({a = list(strng)})";
        let e = bad(src);
        assert_eq!(spanned(src, &e), "strng");
        assert!(e.to_string().starts_with("Invalid type specification: "));
    }

    #[test]
    fn default_values_must_be_literals_of_the_type() {
        let src = "object({a = optional(number, \"x\")})";
        let e = bad(src);
        assert_eq!(e.summary, "Invalid default value for optional attribute");
        assert_eq!(e.detail, "This default value is not compatible with the attribute's type constraint: a number is required.");
        assert_eq!(spanned(src, &e), "\"x\"");

        let src = "object({a = optional(string, var.x)})";
        let e = bad(src);
        assert_eq!(e.summary, "Variables not allowed");
        assert_eq!(spanned(src, &e), "var.x");

        let e = bad("object({a = optional(string, foo)})");
        assert_eq!(e.summary, "Variables not allowed");
        let e = bad("object({a = optional(string, upper(\"x\"))})");
        assert_eq!(e.summary, "Function calls not allowed");
        let e = bad("object({a = optional(list(string), [1, {}])})");
        assert_eq!(e.summary, "Invalid default value for optional attribute");
    }

    #[test]
    fn literal_defaults_evaluate() {
        let tc = ok(r#"object({
            s = optional(string, "a${1}b")
            n = optional(number, -2.5)
            b = optional(bool, !true)
            l = optional(list(string), ["x", 1])
            m = optional(map(number), { k = 1, "q r" = 2 })
            z = optional(string, null)
            p = optional(number, (3))
        })"#);
        let got = conv(&tc, Value::object(Vec::<(&str, Value)>::new()));
        let want = Value::object([
            ("s", s("a1b")),
            ("n", n(-2.5)),
            ("b", Value::Bool(false)),
            ("l", Value::List(vec![s("x"), s("1")])),
            (
                "m",
                Value::Map(
                    [("k".to_string(), n(1.0)), ("q r".to_string(), n(2.0))]
                        .into_iter()
                        .collect(),
                ),
            ),
            ("z", Value::Null(Type::String)),
            ("p", n(3.0)),
        ]);
        assert_same(got, want);
    }

    #[test]
    fn optional_without_default_is_null() {
        let tc = ok("object({a = string, b = optional(number)})");
        assert_eq!(
            tc.ty(),
            &oty(vec![("a", Type::String), ("b", Type::Number)])
        );
        assert!(!tc.has_defaults());
        assert_same(
            conv(&tc, Value::object([("a", s("x"))])),
            Value::object([("a", s("x")), ("b", Value::Null(Type::Number))]),
        );
        let e = tc.convert(&Value::object([("b", n(1.0))])).unwrap_err();
        assert_eq!(e.message, "attribute \"a\" is required");
    }

    #[test]
    fn defaults_fill_missing_and_null_attributes() {
        let tc = ok("object({name = string, size = optional(number, 10)})");
        assert!(tc.has_defaults());
        assert_same(
            conv(&tc, Value::object([("name", s("a"))])),
            Value::object([("name", s("a")), ("size", n(10.0))]),
        );
        assert_same(
            conv(
                &tc,
                Value::object([("name", s("a")), ("size", Value::null())]),
            ),
            Value::object([("name", s("a")), ("size", n(10.0))]),
        );
        assert_same(
            conv(&tc, Value::object([("name", s("a")), ("size", s("3"))])),
            Value::object([("name", s("a")), ("size", n(3.0))]),
        );
        // A top-level null stays null (nullable variables).
        assert_same(
            conv(&tc, Value::null()),
            Value::Null(oty(vec![("name", Type::String), ("size", Type::Number)])),
        );
        // Unknowns are left alone.
        assert_same(
            conv(&tc, Value::unknown()),
            Value::Unknown(oty(vec![("name", Type::String), ("size", Type::Number)])),
        );
    }

    #[test]
    fn nested_defaults_in_lists_maps_and_objects() {
        let tc = ok(r#"object({
            rules = list(object({ port = number, proto = optional(string, "tcp") }))
            by_name = optional(map(object({ on = optional(bool, true) })), {})
            inner = optional(object({ x = optional(number, 1), y = optional(object({ z = optional(string, "zz") }), {}) }), {})
        })"#);
        let given = Value::object([(
            "rules",
            Value::Tuple(vec![
                Value::object([("port", n(80.0))]),
                Value::object([("port", n(53.0)), ("proto", s("udp"))]),
            ]),
        )]);
        let got = conv(&tc, given);
        let want = Value::object([
            (
                "rules",
                Value::List(vec![
                    Value::object([("port", n(80.0)), ("proto", s("tcp"))]),
                    Value::object([("port", n(53.0)), ("proto", s("udp"))]),
                ]),
            ),
            ("by_name", Value::Map(BTreeMap::new())),
            (
                "inner",
                Value::object([("x", n(1.0)), ("y", Value::object([("z", s("zz"))]))]),
            ),
        ]);
        assert_same(got, want);

        // Defaults inside map elements.
        let given = Value::object([
            ("rules", Value::Tuple(vec![])),
            (
                "by_name",
                Value::object([
                    ("a", Value::object(Vec::<(&str, Value)>::new())),
                    ("b", Value::object([("on", Value::Bool(false))])),
                ]),
            ),
            (
                "inner",
                Value::object([("y", Value::object(Vec::<(&str, Value)>::new()))]),
            ),
        ]);
        let got = conv(&tc, given);
        let want = Value::object([
            ("rules", Value::List(vec![])),
            (
                "by_name",
                Value::Map(
                    [
                        ("a".to_string(), Value::object([("on", Value::Bool(true))])),
                        ("b".to_string(), Value::object([("on", Value::Bool(false))])),
                    ]
                    .into_iter()
                    .collect(),
                ),
            ),
            (
                "inner",
                Value::object([("x", n(1.0)), ("y", Value::object([("z", s("zz"))]))]),
            ),
        ]);
        assert_same(got, want);
    }

    #[test]
    fn defaults_in_tuple_and_set_elements() {
        let tc = ok("tuple([object({a = optional(number, 7)}), set(object({b = optional(string, \"q\")}))])");
        let given = Value::Tuple(vec![
            Value::object(Vec::<(&str, Value)>::new()),
            Value::Tuple(vec![
                Value::object(Vec::<(&str, Value)>::new()),
                Value::object([("b", s("r"))]),
            ]),
        ]);
        let got = conv(&tc, given);
        let want = Value::Tuple(vec![
            Value::object([("a", n(7.0))]),
            Value::Set(vec![
                Value::object([("b", s("q"))]),
                Value::object([("b", s("r"))]),
            ]),
        ]);
        assert_same(got, want);
    }

    #[test]
    fn sensitive_values_keep_their_mark_through_defaults() {
        let tc = ok("object({a = optional(number, 1)})");
        let got = conv(
            &tc,
            Value::object(Vec::<(&str, Value)>::new()).mark_sensitive(),
        );
        assert_same(got, Value::object([("a", n(1.0))]).mark_sensitive());
    }

    #[test]
    fn apply_defaults_is_permissive() {
        let tc = ok("object({a = optional(number, 1)})");
        // A value of the wrong shape is passed through for convert to reject.
        assert_same(tc.apply_defaults(&s("x")), s("x"));
        assert!(tc.convert(&s("x")).is_err());
        assert_same(
            TypeConstraint::of(Type::String).apply_defaults(&n(1.0)),
            n(1.0),
        );
    }

    #[test]
    fn plain_constraints_convert() {
        assert_same(
            conv(&ok("list(string)"), Value::Tuple(vec![s("a"), n(1.0)])),
            Value::List(vec![s("a"), s("1")]),
        );
        assert_same(
            conv(&ok("any"), Value::Tuple(vec![n(1.0), s("a")])),
            Value::Tuple(vec![n(1.0), s("a")]),
        );
        assert_same(
            conv(&ok("list"), Value::Tuple(vec![s("x"), n(1.0)])),
            Value::List(vec![s("x"), s("1")]),
        );
        assert_same(
            conv(&ok("map"), Value::object([("a", n(1.0)), ("b", s("x"))])),
            Value::Map(
                [("a".to_string(), s("1")), ("b".to_string(), s("x"))]
                    .into_iter()
                    .collect(),
            ),
        );
        let e = ok("list(number)")
            .convert(&Value::Tuple(vec![s("a")]))
            .unwrap_err();
        assert_eq!(e.message, "a number is required");
    }

    #[test]
    fn did_you_mean_only_for_near_misses() {
        assert_eq!(did_you_mean("numbr"), " Did you mean \"number\"?");
        assert_eq!(did_you_mean("boool"), " Did you mean \"bool\"?");
        assert_eq!(did_you_mean("zzzzzzzz"), "");
        assert_eq!(levenshtein("kitten", "sitting"), 3);
    }
}
