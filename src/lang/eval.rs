//! Expression evaluation over the hcl-edit syntax tree.
//!
//! Owns turning an `Expression` into a `Value`: literals, templates (with `%{if}`/`%{for}`
//! and `~` strip markers), operators, conditionals, for-expressions, splats, indexing,
//! function calls (including the lazy `can` and `try`, and `templatefile`), unknown
//! propagation and sensitive-mark propagation. It also extracts references for the graph.
//!
//! It never reads state or calls providers: references to `var`, `local`, resources and
//! the rest are answered by a `Scope`, which the engine implements.

use std::collections::BTreeMap;
use std::sync::Arc;

use hcl_edit::expr::{BinaryOperator, Expression, ObjectKey, TraversalOperator, UnaryOperator};
use hcl_edit::template::{Directive, Element, Template};
use hcl_edit::Span as _;

use crate::addrs::ResourceMode;
use crate::config::Expr;
use crate::diag::{Diagnostic, SourceFile, Span};
use crate::lang::convert;
use crate::lang::funcs::{self, FuncCtx};
use crate::lang::value::{Number, Type, Value};

/// The root of a reference: what a `Scope` is asked for.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RefRoot {
    Var(String),
    Local(String),
    Module(String),
    Resource {
        mode: ResourceMode,
        type_: String,
        name: String,
    },
    CountIndex,
    EachKey,
    EachValue,
    Path(String),
    SelfRef,
    Terraform(String),
}

impl std::fmt::Display for RefRoot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RefRoot::Var(n) => write!(f, "var.{n}"),
            RefRoot::Local(n) => write!(f, "local.{n}"),
            RefRoot::Module(n) => write!(f, "module.{n}"),
            RefRoot::Resource {
                mode: ResourceMode::Data,
                type_,
                name,
            } => write!(f, "data.{type_}.{name}"),
            RefRoot::Resource { type_, name, .. } => write!(f, "{type_}.{name}"),
            RefRoot::CountIndex => f.write_str("count.index"),
            RefRoot::EachKey => f.write_str("each.key"),
            RefRoot::EachValue => f.write_str("each.value"),
            RefRoot::Path(n) => write!(f, "path.{n}"),
            RefRoot::SelfRef => f.write_str("self"),
            RefRoot::Terraform(n) => write!(f, "terraform.{n}"),
        }
    }
}

/// A reference found in an expression, with its span.
#[derive(Clone, Debug)]
pub struct Reference {
    pub root: RefRoot,
    pub span: Span,
    /// The first traversal step after the root, when it is a static attribute name or
    /// key (`module.m.OUTPUT`, `aws_instance.x[KEY]`): lets the graph be precise.
    pub next_attr: Option<String>,
}

/// Answers references for the evaluator. Implemented by the engine.
pub trait Scope {
    /// The value a reference root stands for. Errors carry the reference's span.
    fn resolve(&self, root: &RefRoot, span: &Span) -> Result<Value, Diagnostic>;
    /// `root[key]` answered without building the whole value of `root`, for a scope where
    /// that value is a large collection (a resource or module call with thousands of
    /// instances): building and cloning it for each of N references is quadratic. `None`
    /// means "not here": the evaluator indexes `resolve(root)` as usual, so an answer must
    /// equal that indexing and anything unusual (unknown, marked or missing keys) is left
    /// to the general path and its diagnostics.
    fn resolve_index(&self, _root: &RefRoot, _key: &Value, _span: &Span) -> Option<Value> {
        None
    }
    /// Context for the function library.
    fn func_ctx(&self) -> FuncCtx<'_>;
}

type EResult = Result<Value, Diagnostic>;

/// Evaluates an expression.
pub fn eval(expr: &Expr, scope: &dyn Scope) -> EResult {
    eval_with(expr, scope, Vec::new())
}

/// Evaluates a syntax tree whose spans point into `file` (an expression parsed once and
/// evaluated for several module instances).
pub fn eval_syntax(tree: &Expression, file: &Arc<SourceFile>, scope: &dyn Scope) -> EResult {
    Evaluator {
        scope,
        file,
        locals: Vec::new(),
    }
    .eval(tree)
}

/// Evaluates an expression with extra bound names (for `dynamic` blocks' iterators).
pub fn eval_with(expr: &Expr, scope: &dyn Scope, bound: Vec<(String, Value)>) -> EResult {
    let tree = expr.syntax()?;
    Evaluator {
        scope,
        file: &expr.file,
        locals: bound,
    }
    .eval(&tree)
}

/// Renders a template file's text with the given variables (`templatefile`).
pub fn render_template(
    text: &str,
    name: &str,
    vars: &BTreeMap<String, Value>,
    scope: &dyn Scope,
) -> EResult {
    let file = SourceFile::new(name, text);
    let tpl = hcl_edit::parser::parse_template(text).map_err(|e| {
        let off = e.location().offset().min(text.len());
        Diagnostic::error("Invalid template", e.message().to_string())
            .with_span(Span::new(&file, off..(off + 1).min(text.len())))
    })?;
    // As Terraform does, every variable the template refers to must be in `vars`,
    // checked before rendering (also in branches that are not taken).
    for (name, range) in free_names(&tpl) {
        if !vars.contains_key(&name) {
            let range = range.unwrap_or(0..0);
            let (l1, c1) = file.line_col(range.start);
            let (_, c2) = file.line_col(range.end);
            return Err(Diagnostic::error(
                "Invalid function argument",
                format!("Invalid value for \"vars\" parameter of \"templatefile\": vars map does not contain key {name:?}, referenced at {}:{l1},{c1}-{c2}.", file.name),
            ));
        }
    }
    let scope = TemplateScope { inner: scope };
    let ev = Evaluator {
        scope: &scope,
        file: &file,
        locals: vars.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
    };
    ev.template(&tpl, 0..text.len(), None)
}

/// The names a template refers to that it does not bind itself (HCL's `Variables()`
/// roots), in source order, with their spans.
fn free_names(t: &Template) -> Vec<(String, Option<std::ops::Range<usize>>)> {
    use hcl_edit::visit::{self, Visit};
    struct Free {
        bound: Vec<String>,
        out: Vec<(String, Option<std::ops::Range<usize>>)>,
    }
    impl Visit for Free {
        fn visit_expr(&mut self, e: &Expression) {
            match e {
                Expression::Variable(v) => {
                    if !self.bound.iter().any(|b| b == v.as_str()) {
                        self.out.push((v.as_str().to_string(), v.span()));
                    }
                }
                _ => visit::visit_expr(self, e),
            }
        }
        fn visit_object_item(&mut self, key: &ObjectKey, value: &hcl_edit::expr::ObjectValue) {
            // A bare identifier key is a literal, not a reference.
            if let ObjectKey::Expression(k) = key {
                if !matches!(k, Expression::Variable(_)) {
                    self.visit_expr(k);
                }
            }
            self.visit_expr(value.expr());
        }
        fn visit_for_expr(&mut self, f: &hcl_edit::expr::ForExpr) {
            self.visit_expr(&f.intro.collection_expr);
            let n = self.bound.len();
            self.bound
                .extend(f.intro.key_var.iter().map(|k| k.as_str().to_string()));
            self.bound.push(f.intro.value_var.as_str().to_string());
            if let Some(k) = &f.key_expr {
                self.visit_expr(k);
            }
            self.visit_expr(&f.value_expr);
            if let Some(c) = &f.cond {
                self.visit_expr(&c.expr);
            }
            self.bound.truncate(n);
        }
        fn visit_for_template_expr(&mut self, f: &hcl_edit::template::ForTemplateExpr) {
            self.visit_expr(&f.collection_expr);
            let n = self.bound.len();
            self.bound
                .extend(f.key_var.iter().map(|k| k.as_str().to_string()));
            self.bound.push(f.value_var.as_str().to_string());
            self.visit_template(&f.template);
            self.bound.truncate(n);
        }
    }
    let mut v = Free {
        bound: Vec::new(),
        out: Vec::new(),
    };
    v.visit_template(t);
    v.out
}

/// A scope that refuses every reference: templatefile templates see only their vars.
struct TemplateScope<'a> {
    inner: &'a dyn Scope,
}

impl Scope for TemplateScope<'_> {
    fn resolve(&self, root: &RefRoot, span: &Span) -> EResult {
        Err(Diagnostic::error("Invalid reference in template", format!("A template given to templatefile can refer only to the variables passed to it, not to {root}.")).with_span(span.clone()))
    }
    fn func_ctx(&self) -> FuncCtx<'_> {
        self.inner.func_ctx()
    }
}

struct Evaluator<'a> {
    scope: &'a dyn Scope,
    file: &'a Arc<SourceFile>,
    /// Names bound by for-expressions, template for-directives and dynamic iterators;
    /// innermost last.
    locals: Vec<(String, Value)>,
}

fn unknown() -> Value {
    Value::unknown()
}

impl<'a> Evaluator<'a> {
    fn span_of(&self, e: &impl hcl_edit::Span) -> Span {
        Span::from_opt(self.file, e.span())
    }

    /// The part of an expression HCL 2.10's `StartRange` names, which Terraform's
    /// diagnostics about a function argument point at ("Too many function arguments",
    /// "Invalid function argument"): the opening bracket of a collection or `for`, the
    /// operator of a unary operation, the condition's or left operand's start, a
    /// function's name and `(`, a splat's marker, an index's `[` when its key is not a
    /// literal, a template's first literal token (a heredoc's first line; the empty spot
    /// after `""`), and otherwise the whole expression.
    fn start_span(&self, e: &Expression) -> Span {
        Span::new(self.file, self.start_range(e))
    }

    fn start_range(&self, e: &Expression) -> std::ops::Range<usize> {
        let whole = e.span().unwrap_or(0..0);
        let first = whole.start..(whole.start + 1).min(whole.end);
        match e {
            Expression::Array(_) | Expression::Object(_) | Expression::ForExpr(_) => first,
            Expression::UnaryOp(_) => first,
            // hcl-edit folds `-1` into a literal; HCL keeps the negation as an operator.
            Expression::Number(_) if self.file.text.get(whole.clone()).is_some_and(|t| t.starts_with('-')) => first,
            Expression::Parenthesis(p) => self.start_range(p.inner()),
            Expression::Conditional(c) => self.start_range(&c.cond_expr),
            Expression::BinaryOp(b) => self.start_range(&b.lhs_expr),
            Expression::FuncCall(f) => self.call_start_range(f),
            // The literal token inside the quotes; `""` has none, and HCL puts an empty
            // one just after the closing quote.
            Expression::String(_) if whole.len() >= 2 => {
                if whole.len() == 2 {
                    whole.end..whole.end
                } else {
                    whole.start + 1..whole.end - 1
                }
            }
            Expression::StringTemplate(t) => {
                // `"${x}"` alone is wrapped, and the wrapper's range is the whole string.
                if t.as_single_element().is_some_and(|el| matches!(el, Element::Interpolation(_))) {
                    return whole;
                }
                self.template_start_range(t, false).unwrap_or(whole)
            }
            Expression::HeredocTemplate(h) => self
                .template_start_range(&h.template, true)
                .unwrap_or(whole.end..whole.end),
            Expression::Traversal(t) => {
                let mut at: Option<std::ops::Range<usize>> = None;
                let mut legacy_splat = false;
                for op in t.operators.iter() {
                    let r = op.span().unwrap_or(0..0);
                    match op.value() {
                        // `[*]` takes every step after it into the splat.
                        TraversalOperator::FullSplat(_) => return r,
                        // `.*` takes only the attribute steps after it.
                        TraversalOperator::AttrSplat(_) => {
                            at = Some(r);
                            legacy_splat = true;
                        }
                        TraversalOperator::GetAttr(_) | TraversalOperator::LegacyIndex(_)
                            if legacy_splat => {}
                        TraversalOperator::Index(k)
                            if !matches!(
                                k,
                                Expression::Number(_)
                                    | Expression::String(_)
                                    | Expression::Bool(_)
                                    | Expression::Null(_)
                            ) =>
                        {
                            at = Some(r.start..(r.start + 1).min(r.end));
                            legacy_splat = false;
                        }
                        _ => {
                            at = None;
                            legacy_splat = false;
                        }
                    }
                }
                at.unwrap_or(whole)
            }
            _ => whole,
        }
    }

    /// A call's name through its `(`: where HCL points "Error in function call".
    fn call_start_range(&self, f: &hcl_edit::expr::FuncCall) -> std::ops::Range<usize> {
        let whole = f.span().unwrap_or(0..0);
        let name = f.name.name.span().unwrap_or(whole.clone());
        let open = self
            .file
            .text
            .get(name.end..whole.end)
            .and_then(|t| t.find('('))
            .map(|i| name.end + i + 1)
            .unwrap_or(name.end);
        let start = f
            .name
            .namespace
            .first()
            .and_then(|n| n.span())
            .map_or(name.start, |r| r.start);
        start..open
    }

    /// The start range of a template's first part (see `start_range`): its first literal
    /// token (for a heredoc, the first line with its newline), or the start range of its
    /// first interpolation's expression, `%{ if }`'s condition, or `%{ for ... }` itself.
    fn template_start_range(&self, t: &Template, heredoc: bool) -> Option<std::ops::Range<usize>> {
        match t.iter().next()? {
            Element::Literal(s) => {
                let r = s.span()?;
                let text = self.file.text.get(r.clone())?;
                let end = match (heredoc, text.find('\n')) {
                    (true, Some(i)) => r.start + i + 1,
                    _ => r.end,
                };
                Some(r.start..end)
            }
            Element::Interpolation(i) => Some(self.start_range(&i.expr)),
            Element::Directive(d) => match d.as_ref() {
                Directive::If(i) => Some(self.start_range(&i.if_expr.cond_expr)),
                Directive::For(f) => {
                    let start = d.span()?.start;
                    let after = f.for_expr.collection_expr.span()?.end;
                    let close = self.file.text.get(after..)?.find('}')? + after + 1;
                    Some(start..close)
                }
            },
        }
    }

    /// An identifier or plain quoted object key as the source text spells it: the
    /// parser may have seen a placeholder there (`lang::parse_with_repeated_keys`).
    fn object_key_text(&self, key: &impl hcl_edit::Span, parsed: &str, quoted: bool) -> String {
        let text = key.span().and_then(|r| self.file.text.get(r));
        let text = match (text, quoted) {
            (Some(t), true) => t.strip_prefix('"').and_then(|t| t.strip_suffix('"')),
            (t, false) => t,
            (None, true) => None,
        };
        match text {
            // Same length, and no escapes, so no other spelling of the same key.
            Some(t) if t.len() == parsed.len() && !t.contains(['\\', '$', '%']) => t.to_string(),
            _ => parsed.to_string(),
        }
    }

    fn err(&self, span: Span, summary: &str, detail: impl Into<String>) -> Diagnostic {
        Diagnostic::error(summary, detail).with_span(span)
    }

    fn eval(&self, e: &Expression) -> EResult {
        match e {
            Expression::Null(_) => Ok(Value::null()),
            Expression::Bool(b) => Ok(Value::Bool(*b.value())),
            Expression::Number(n) => {
                // The literal's own text, at Terraform's 512 bits (hcl-edit keeps an f64).
                let text = n.span().and_then(|r| self.file.text.get(r)).map(str::trim);
                match text.and_then(Number::parse) {
                    Some(v) => Ok(Value::Number(v)),
                    None => Ok(Value::Number(Number::from_f64(
                        n.value().as_f64().unwrap_or(0.0),
                    ))),
                }
            }
            Expression::String(s) => Ok(Value::String(s.as_str().to_string())),
            Expression::Array(arr) => {
                let mut out = Vec::with_capacity(arr.len());
                for item in arr.iter() {
                    out.push(self.eval(item)?);
                }
                Ok(Value::Tuple(out))
            }
            Expression::Object(obj) => {
                let mut out = BTreeMap::new();
                let mut any_unknown_key = false;
                let mut sensitive_key = false;
                for (k, v) in obj.iter() {
                    let key = match k {
                        ObjectKey::Ident(i) => self.object_key_text(i, i.as_str(), false),
                        ObjectKey::Expression(ke) => {
                            // A bare identifier key (`{ foo = 1 }`) is literal in Terraform.
                            if let Expression::Variable(v) = ke {
                                self.object_key_text(v, v.as_str(), false)
                            } else if let Expression::String(st) = ke {
                                self.object_key_text(st, st.as_str(), true)
                            } else if let Expression::Null(_) = ke {
                                // `{null = 1}`: the keyword is a literal key too.
                                "null".to_string()
                            } else {
                                let kv = self.eval(ke)?;
                                let (kv, marked) = kv.into_unmarked();
                                sensitive_key |= marked;
                                if kv.is_unknown() {
                                    any_unknown_key = true;
                                    continue;
                                }
                                match self.to_string_value(&kv) {
                                    Some(s) => s,
                                    None => {
                                        return Err(self.err(
                                            self.span_of(ke),
                                            "Invalid object key",
                                            format!(
                                                "An object key must be a string; this is {}.",
                                                kv.friendly_type()
                                            ),
                                        ))
                                    }
                                }
                            }
                        }
                    };
                    let val = self.eval(v.expr())?;
                    out.insert(key, val);
                }
                if any_unknown_key {
                    return Ok(unknown());
                }
                Ok(Value::Object(out).with_mark(sensitive_key))
            }
            Expression::StringTemplate(t) => self.template(t, e.span().unwrap_or(0..0), None),
            Expression::HeredocTemplate(h) => {
                let range = e.span().unwrap_or(0..0);
                let flush = self.file.text.get(range.clone()).is_some_and(|t| t.starts_with("<<-"));
                let lits = self.heredoc_literals(&h.template, flush);
                self.template(&h.template, range, lits.as_ref())
            }
            Expression::Parenthesis(p) => self.eval(p.inner()),
            Expression::Variable(v) => self.variable(v.as_str(), self.span_of(v)),
            Expression::Traversal(t) => self.traversal(t),
            Expression::Conditional(c) => self.conditional(c),
            Expression::FuncCall(f) => self.func_call(f, e),
            Expression::UnaryOp(u) => self.unary(u),
            Expression::BinaryOp(b) => self.binary(b),
            Expression::ForExpr(f) => self.for_expr(f),
        }
    }

    fn lookup_local(&self, name: &str) -> Option<&Value> {
        self.locals
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v)
    }

    /// A bare identifier: a bound name, `self`, or an incomplete reference.
    fn variable(&self, name: &str, span: Span) -> EResult {
        if let Some(v) = self.lookup_local(name) {
            return Ok(v.clone());
        }
        if name == "self" {
            return self.scope.resolve(&RefRoot::SelfRef, &span);
        }
        let detail = match name {
            "var" => "The \"var\" object cannot be accessed directly. Instead, access one of its attributes.",
            "local" => "The \"local\" object cannot be accessed directly. Instead, access one of its attributes.",
            "module" => "The \"module\" object cannot be accessed directly. Instead, access one of its attributes.",
            "count" | "each" | "path" | "data" | "terraform" => "This object cannot be accessed directly. Instead, access one of its attributes.",
            _ => {
                return Err(self
                    .err(span, "Invalid reference", format!("A reference to a resource type must be followed by at least one attribute access, specifying the resource name; \"{name}\" alone refers to nothing."))
                    .with_help("If you meant a string, put it in quotes."))
            }
        };
        Err(self.err(span, "Invalid reference", detail))
    }

    fn traversal(&self, t: &hcl_edit::expr::Traversal) -> EResult {
        let ops = &t.operators;
        // A reference root consumes some leading attribute steps.
        let (base, consumed) = match &t.expr {
            Expression::Variable(v) if self.lookup_local(v.as_str()).is_none() => {
                match parse_root(v.as_str(), ops) {
                    RootParse::Root(root, n) => {
                        let covered = ref_span_ops(&root, ops, n);
                        let end = if covered == 0 { v.span() } else { ops[covered - 1].span() };
                        let span = Span::from_opt(self.file, join_ranges(v.span(), end));
                        match ops.get(n).map(|op| op.value()) {
                            // `resource.name[key]` / `module.name[key]`: ask for the one instance.
                            Some(TraversalOperator::Index(ie)) => {
                                let key = self.eval(ie)?;
                                match self.scope.resolve_index(&root, &key, &span) {
                                    Some(v) => (v, n + 1),
                                    None => {
                                        let whole = self.scope.resolve(&root, &span)?;
                                        (self.index(whole, key, self.span_of(&ops[n]))?, n + 1)
                                    }
                                }
                            }
                            _ => (self.scope.resolve(&root, &span)?, n),
                        }
                    }
                    RootParse::Invalid(msg) => {
                        return Err(self.err(self.span_of(t), "Invalid reference", msg));
                    }
                    RootParse::NotARoot => (self.variable(v.as_str(), self.span_of(v))?, 0),
                }
            }
            other => (self.eval(other)?, 0),
        };
        self.apply_ops(base, &ops[consumed..])
    }

    fn apply_ops(&self, mut cur: Value, ops: &[hcl_edit::Decorated<TraversalOperator>]) -> EResult {
        for (i, op) in ops.iter().enumerate() {
            let span = self.span_of(op);
            match op.value() {
                TraversalOperator::GetAttr(name) => {
                    cur = self.get_attr(cur, name.as_str(), span)?
                }
                TraversalOperator::Index(ie) => {
                    let key = self.eval(ie)?;
                    cur = self.index(cur, key, span)?;
                }
                TraversalOperator::LegacyIndex(n) => {
                    cur = self.index(cur, Value::int(*n.value() as i64), span)?
                }
                TraversalOperator::AttrSplat(_) | TraversalOperator::FullSplat(_) => {
                    let rest = &ops[i + 1..];
                    return self.splat(cur, rest);
                }
            }
        }
        Ok(cur)
    }

    fn splat(&self, v: Value, rest: &[hcl_edit::Decorated<TraversalOperator>]) -> EResult {
        let (v, marked) = v.into_unmarked();
        // HCL: a splat over a list or set yields a list, over a tuple a tuple.
        let as_list = matches!(v, Value::List(_) | Value::Set(_));
        let items: Vec<Value> = match v {
            Value::Unknown(_) => return Ok(unknown().with_mark(marked)),
            Value::Null(_) => return Ok(Value::Tuple(Vec::new()).with_mark(marked)),
            Value::List(vs) | Value::Tuple(vs) | Value::Set(vs) => vs,
            other => {
                // A splat on a single value treats it as a one-element list.
                let r = self.apply_ops(other, rest)?;
                return Ok(Value::Tuple(vec![r]).with_mark(marked));
            }
        };
        let mut out = Vec::with_capacity(items.len());
        for it in items {
            out.push(self.apply_ops(it, rest)?);
        }
        if as_list {
            return Ok(Value::List(out).with_mark(marked));
        }
        Ok(Value::Tuple(out).with_mark(marked))
    }

    fn get_attr(&self, v: Value, name: &str, span: Span) -> EResult {
        let (v, marked) = v.into_unmarked();
        let r = match v {
            Value::Unknown(_) => unknown(),
            Value::Object(mut m) => match m.remove(name) {
                Some(x) => x,
                None => {
                    return Err(self.err(span, "Unsupported attribute", format!("This object does not have an attribute named \"{name}\".")));
                }
            },
            Value::Map(mut m) => match m.remove(name) {
                Some(x) => x,
                None => return Err(self.err(span, "Missing map element", format!("This map does not have an element with the key \"{name}\"."))),
            },
            Value::Null(_) => {
                return Err(self.err(span, "Attempt to get attribute from null value", "This value is null, so it does not have any attributes."))
            }
            Value::List(_) | Value::Tuple(_) | Value::Set(_) => {
                return Err(self
                    .err(span, "Unsupported attribute", format!("This value does not have any attributes: it is a list of {} elements.", v.as_seq().map(|s| s.len()).unwrap_or(0)))
                    .with_help(format!("Use a splat to get \"{name}\" from every element (`[*].{name}`), or an index to pick one (`[0].{name}`).")))
            }
            other => {
                return Err(self.err(span, "Unsupported attribute", format!("Can't access attributes on a primitive-typed value ({}).", other.friendly_type())))
            }
        };
        Ok(r.with_mark(marked))
    }

    fn index(&self, v: Value, key: Value, span: Span) -> EResult {
        let (v, m1) = v.into_unmarked();
        let (key, m2) = key.into_unmarked();
        let marked = m1 || m2;
        if v.is_unknown() || key.is_unknown() {
            return Ok(unknown().with_mark(marked));
        }
        if key.is_null() {
            return Err(self.err(
                span,
                "Invalid index",
                "Can't use a null value as an indexing key.",
            ));
        }
        let r = match v {
            Value::List(vs) | Value::Tuple(vs) => {
                let n = match convert::convert(&key, &Type::Number).ok().and_then(|k| k.as_number()) {
                    Some(n) => n,
                    None => return Err(self.err(span, "Invalid index", "The given key does not identify an element in this collection value: a number is required.")),
                };
                let Some(i) = n.as_i64() else {
                    return Err(self.err(span, "Invalid index", "The given key does not identify an element in this collection value: indexes must be whole numbers."));
                };
                if i < 0 || i as usize >= vs.len() {
                    return Err(self.err(span, "Invalid index", format!("The given key does not identify an element in this collection value: the collection has {} element{}, index {i} is out of range.", vs.len(), if vs.len() == 1 { "" } else { "s" })));
                }
                vs.into_iter().nth(i as usize).unwrap_or(Value::null())
            }
            Value::Map(mut m) | Value::Object(mut m) => {
                let k = match self.to_string_value(&key) {
                    Some(k) => k,
                    None => return Err(self.err(span, "Invalid index", "The given key does not identify an element in this collection value: a string is required.")),
                };
                match m.remove(&k) {
                    Some(x) => x,
                    None => return Err(self.err(span, "Invalid index", format!("The given key does not identify an element in this collection value: there is no element with the key {k:?}."))),
                }
            }
            Value::Set(_) => {
                return Err(self
                    .err(span, "Invalid index", "Elements of a set are identified only by their value and don't have any separate index or key to select with, so it's only possible to perform operations across all elements of the set.")
                    .with_help("Convert it to a list with tolist() to index it."))
            }
            Value::Null(_) => return Err(self.err(span, "Attempt to index null value", "This value is null, so it does not have any indices.")),
            other => return Err(self.err(span, "Invalid index", format!("This value does not have any indices: it is a {}.", other.friendly_type()))),
        };
        Ok(r.with_mark(marked))
    }

    /// A primitive as a string (for keys and templates).
    fn to_string_value(&self, v: &Value) -> Option<String> {
        match v.unmark().0 {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    fn conditional(&self, c: &hcl_edit::expr::Conditional) -> EResult {
        let cond = self.eval(&c.cond_expr)?;
        let (cond, cm) = cond.into_unmarked();
        let t = self.eval(&c.true_expr)?;
        let f = self.eval(&c.false_expr)?;
        let cond_b = match &cond {
            Value::Unknown(_) => {
                let ty = convert::unify(&[t.type_of(), f.type_of()]).unwrap_or(Type::Dynamic);
                return Ok(Value::Unknown(ty).with_mark(cm));
            }
            Value::Null(_) => {
                return Err(self.err(
                    self.span_of(&c.cond_expr),
                    "Null condition",
                    "The condition value is null. Conditions must either be true or false.",
                ))
            }
            v => match convert::convert(v, &Type::Bool)
                .ok()
                .and_then(|b| b.as_bool())
            {
                Some(b) => b,
                None => {
                    return Err(self.err(
                        self.span_of(&c.cond_expr),
                        "Incorrect condition type",
                        format!(
                            "The condition expression must be of type bool, not {}.",
                            v.friendly_type()
                        ),
                    ))
                }
            },
        };
        // Both results are converted to their common type, as Terraform does.
        let (tt, ft) = (t.type_of(), f.type_of());
        let chosen = if cond_b { t } else { f };
        let chosen = if tt != ft {
            match convert::unify(&[tt, ft]) {
                Some(ty) if !ty.has_dynamic() => convert::convert(&chosen, &ty).unwrap_or(chosen),
                _ => chosen,
            }
        } else {
            chosen
        };
        Ok(chosen.with_mark(cm))
    }

    fn unary(&self, u: &hcl_edit::expr::UnaryOp) -> EResult {
        let v = self.eval(&u.expr)?;
        let (v, m) = v.into_unmarked();
        let span = self.span_of(&u.expr);
        let r = match u.operator.value() {
            UnaryOperator::Neg => match v {
                Value::Unknown(_) => Value::Unknown(Type::Number),
                v => match self.num_operand(&v, &span, "-")? {
                    n => Value::Number(n.neg()),
                },
            },
            UnaryOperator::Not => match v {
                Value::Unknown(_) => Value::Unknown(Type::Bool),
                v => Value::Bool(!self.bool_operand(&v, &span, "!")?),
            },
        };
        Ok(r.with_mark(m))
    }

    fn num_operand(&self, v: &Value, span: &Span, op: &str) -> Result<Number, Diagnostic> {
        if v.is_null() {
            // HCL converts the operand, then the operator's function rejects the null.
            let _ = op;
            return Err(self.err(
                span.clone(),
                "Operation failed",
                "Error during operation: argument must not be null.",
            ));
        }
        convert::convert(v, &Type::Number)
            .ok()
            .and_then(|n| n.as_number())
            .ok_or_else(|| {
                self.err(
                    span.clone(),
                    "Invalid operand",
                    format!(
                        "Unsuitable value for operand of {op}: a number is required, not {}.",
                        v.friendly_type()
                    ),
                )
            })
    }

    fn bool_operand(&self, v: &Value, span: &Span, op: &str) -> Result<bool, Diagnostic> {
        if v.is_null() {
            let _ = op;
            return Err(self.err(
                span.clone(),
                "Operation failed",
                "Error during operation: argument must not be null.",
            ));
        }
        convert::convert(v, &Type::Bool)
            .ok()
            .and_then(|n| n.as_bool())
            .ok_or_else(|| {
                self.err(
                    span.clone(),
                    "Invalid operand",
                    format!(
                        "Unsuitable value for operand of {op}: a bool is required, not {}.",
                        v.friendly_type()
                    ),
                )
            })
    }

    fn binary(&self, b: &hcl_edit::expr::BinaryOp) -> EResult {
        use BinaryOperator as Op;
        let op = *b.operator.value();
        let l = self.eval(&b.lhs_expr)?;
        let r = self.eval(&b.rhs_expr)?;
        let (l, lm) = l.into_unmarked();
        let (r, rm) = r.into_unmarked();
        let marked = lm || rm;
        let (ls, rs) = (self.span_of(&b.lhs_expr), self.span_of(&b.rhs_expr));
        let sym = op_symbol(op);
        let result = match op {
            Op::Eq | Op::NotEq => {
                if !l.is_wholly_known() || !r.is_wholly_known() {
                    Value::Unknown(Type::Bool)
                } else {
                    let eq = l.equals(&r);
                    Value::Bool(if op == Op::Eq { eq } else { !eq })
                }
            }
            Op::And | Op::Or => {
                // Terraform does not short-circuit, but an unknown side is decided by the
                // other when it settles the result.
                let lb = if l.is_unknown() {
                    None
                } else {
                    Some(self.bool_operand(&l, &ls, sym)?)
                };
                let rb = if r.is_unknown() {
                    None
                } else {
                    Some(self.bool_operand(&r, &rs, sym)?)
                };
                match (op, lb, rb) {
                    (Op::And, Some(false), _) | (Op::And, _, Some(false)) => Value::Bool(false),
                    (Op::Or, Some(true), _) | (Op::Or, _, Some(true)) => Value::Bool(true),
                    (_, Some(x), Some(y)) => {
                        Value::Bool(if op == Op::And { x && y } else { x || y })
                    }
                    _ => Value::Unknown(Type::Bool),
                }
            }
            _ => {
                if l.is_unknown() || r.is_unknown() {
                    let ty = if matches!(op, Op::Plus | Op::Minus | Op::Mul | Op::Div | Op::Mod) {
                        Type::Number
                    } else {
                        Type::Bool
                    };
                    return Ok(Value::Unknown(ty).with_mark(marked));
                }
                let x = self.num_operand(&l, &ls, sym)?;
                let y = self.num_operand(&r, &rs, sym)?;
                let arith = |r: Result<Number, crate::lang::number::NaN>| {
                    r.map(Value::Number).map_err(|_| {
                        self.err(ls.to(&rs), "Operation failed", "Error during operation: can't divide zero by zero or infinity by infinity.")
                    })
                };
                match op {
                    Op::Plus => arith(x.add(&y))?,
                    Op::Minus => arith(x.sub(&y))?,
                    Op::Mul => arith(x.mul(&y))?,
                    // Terraform 1.0.3 gives infinities for a division by zero (x/0) and a
                    // zero modulus returns the left operand, as cty does.
                    Op::Div => arith(x.div(&y))?,
                    Op::Mod => arith(x.rem(&y))?,
                    Op::Less => Value::Bool(x < y),
                    Op::LessEq => Value::Bool(x <= y),
                    Op::Greater => Value::Bool(x > y),
                    Op::GreaterEq => Value::Bool(x >= y),
                    _ => unreachable!("handled above: equality and logical operators"),
                }
            }
        };
        Ok(result.with_mark(marked))
    }

    fn for_expr(&self, f: &hcl_edit::expr::ForExpr) -> EResult {
        let coll = self.eval(&f.intro.collection_expr)?;
        let (coll, cm) = coll.into_unmarked();
        let span = self.span_of(&f.intro.collection_expr);
        let pairs: Vec<(Value, Value)> = match coll {
            Value::Unknown(_) => return Ok(unknown().with_mark(cm)),
            Value::Null(_) => {
                return Err(self.err(
                    span,
                    "Iteration over null value",
                    "A null value cannot be used as the collection in a 'for' expression.",
                ))
            }
            Value::List(vs) | Value::Tuple(vs) => vs
                .into_iter()
                .enumerate()
                .map(|(i, v)| (Value::int(i as i64), v))
                .collect(),
            Value::Set(vs) => vs.into_iter().map(|v| (v.clone(), v)).collect(),
            Value::Map(m) | Value::Object(m) => {
                m.into_iter().map(|(k, v)| (Value::String(k), v)).collect()
            }
            other => {
                return Err(self.err(
                    span,
                    "Iteration over non-iterable value",
                    format!(
                    "A value of type {} cannot be used as the collection in a 'for' expression.",
                    other.friendly_type()
                ),
                ))
            }
        };
        let key_var = f.intro.key_var.as_ref().map(|k| k.as_str().to_string());
        let val_var = f.intro.value_var.as_str().to_string();
        let mut ev = Evaluator {
            scope: self.scope,
            file: self.file,
            locals: self.locals.clone(),
        };
        let base = ev.locals.len();
        let mut tuple = Vec::new();
        let mut object: BTreeMap<String, Value> = BTreeMap::new();
        let mut groups: BTreeMap<String, Vec<Value>> = BTreeMap::new();
        let mut unknown_result = false;
        for (k, v) in pairs {
            ev.locals.truncate(base);
            if let Some(kv) = &key_var {
                ev.locals.push((kv.clone(), k));
            }
            ev.locals.push((val_var.clone(), v));
            if let Some(cond) = &f.cond {
                let c = ev.eval(&cond.expr)?;
                if c.is_unknown() {
                    unknown_result = true;
                    continue;
                }
                let cspan = ev.span_of(&cond.expr);
                if c.is_null() {
                    return Err(ev.err(
                        cspan,
                        "Condition is null",
                        "The value of the 'if' clause must not be null.",
                    ));
                }
                let keep = match convert::convert(&c.unmark().0.clone(), &Type::Bool)
                    .ok()
                    .and_then(|b| b.as_bool())
                {
                    Some(b) => b,
                    None => {
                        return Err(ev.err(
                            cspan,
                            "Invalid 'for' condition",
                            format!(
                                "The 'if' clause value is invalid: bool required, not {}.",
                                c.friendly_type()
                            ),
                        ));
                    }
                };
                if !keep {
                    continue;
                }
            }
            match &f.key_expr {
                Some(ke) => {
                    let key = ev.eval(ke)?;
                    if key.is_unknown() {
                        unknown_result = true;
                        continue;
                    }
                    let kspan = ev.span_of(ke);
                    let Some(ks) = ev.to_string_value(&key) else {
                        return Err(ev.err(
                            kspan,
                            "Invalid object key",
                            format!(
                                "Key expression in 'for' expression must be a string, not {}.",
                                key.friendly_type()
                            ),
                        ));
                    };
                    let val = ev.eval(&f.value_expr)?;
                    if f.grouping {
                        groups.entry(ks).or_default().push(val);
                    } else {
                        if object.contains_key(&ks) {
                            return Err(ev
                                .err(kspan, "Duplicate object key", format!("Two different items produced the key {ks:?} in this 'for' expression. If duplicates are expected, use the ellipsis (...) after the value expression to enable grouping by key."))
                                .with_help("Add `...` after the value expression to group values by key."));
                        }
                        object.insert(ks, val);
                    }
                }
                None => tuple.push(ev.eval(&f.value_expr)?),
            }
        }
        if unknown_result {
            return Ok(unknown().with_mark(cm));
        }
        let r = match &f.key_expr {
            Some(_) if f.grouping => Value::Object(
                groups
                    .into_iter()
                    .map(|(k, v)| (k, Value::Tuple(v)))
                    .collect(),
            ),
            Some(_) => Value::Object(object),
            None => Value::Tuple(tuple),
        };
        Ok(r.with_mark(cm))
    }

    fn func_call(&self, f: &hcl_edit::expr::FuncCall, whole: &Expression) -> EResult {
        let name = f.name.name.as_str();
        let call_span = self.span_of(whole);
        if f.name.is_namespaced() {
            return Err(self.err(call_span, "Call to unknown function", format!("There is no function named \"{}::{name}\": provider-defined functions are not supported.", f.name.namespace.iter().map(|i| i.as_str()).collect::<Vec<_>>().join("::"))));
        }
        if !funcs::exists(name) {
            let mut d = self.err(
                self.span_of(&f.name.name),
                "Call to unknown function",
                format!("There is no function named \"{name}\"."),
            );
            let all: Vec<&str> = funcs::names().collect();
            if let Some(s) = crate::config::load::did_you_mean(name, &all) {
                d = d.with_help(format!("Did you mean \"{s}\"?"));
            }
            return Err(d);
        }
        let args: Vec<&Expression> = f.args.iter().collect();
        if let Some((min, max)) = funcs::arity(name) {
            let n = args.len();
            if n < min || max.map(|m| n > m).unwrap_or(false) && !f.args.expand_final() {
                let expect = match max {
                    Some(m) if m == min => format!("{min}"),
                    Some(m) => format!("{min} to {m}"),
                    None => format!("at least {min}"),
                };
                // As HCL: a missing argument is pointed at by the closing parenthesis, an
                // extra one by itself.
                let span = match max.and_then(|m| args.get(m)) {
                    Some(extra) if n >= min => self.start_span(extra),
                    _ => Span::new(self.file, call_span.end.saturating_sub(1)..call_span.end),
                };
                return Err(self.err(
                    span,
                    if n < min {
                        "Not enough function arguments"
                    } else {
                        "Too many function arguments"
                    },
                    format!(
                        "Function \"{name}\" expects {expect} argument{}, but {n} {} given.",
                        if expect == "1" { "" } else { "s" },
                        if n == 1 { "was" } else { "were" }
                    ),
                )
                .with_context(call_span.start..call_span.end));
            }
        }
        // Lazy functions evaluate their arguments themselves. As in Terraform, the
        // references in their arguments are resolved first (when the evaluation scope
        // is built), so an undeclared reference is an error `can`/`try` do not catch.
        if matches!(name, "can" | "try") {
            if args.is_empty() {
                return Err(self.err(
                    Span::new(self.file, self.call_start_range(f)),
                    "Error in function call",
                    format!(
                        "Call to function \"{name}\" failed: at least one argument is required."
                    ),
                )
                .with_context(call_span.start..call_span.end));
            }
            let bound: Vec<&str> = self.locals.iter().map(|(n, _)| n.as_str()).collect();
            for a in &args {
                for r in references_in(a, self.file, &bound) {
                    self.scope.resolve(&r.root, &r.span)?;
                }
            }
        }
        match name {
            "can" => {
                return Ok(match self.eval(args[0]) {
                    Ok(v) if !v.is_wholly_known() => Value::Unknown(Type::Bool),
                    Ok(_) => Value::Bool(true),
                    Err(_) => Value::Bool(false),
                });
            }
            "try" => {
                let mut last = None;
                for a in &args {
                    match self.eval(a) {
                        Ok(v) if !v.is_wholly_known() => return Ok(unknown()),
                        Ok(v) => return Ok(v),
                        Err(d) => last = Some(d),
                    }
                }
                return Err(self.err(
                    Span::new(self.file, self.call_start_range(f)),
                    "Error in function call",
                    format!(
                        "Call to function \"try\" failed: no expression succeeded:\n{}",
                        last.map(|d| format!("- {}", d.summary + ": " + &d.detail))
                            .unwrap_or_default()
                    ),
                )
                .with_context(call_span.start..call_span.end));
            }
            _ => {}
        }
        let mut vals = Vec::with_capacity(args.len());
        for a in &args {
            vals.push(self.eval(a)?);
        }
        if f.args.expand_final() {
            let last = vals.pop().unwrap_or(Value::null());
            let (last, m) = last.into_unmarked();
            match last {
                Value::List(vs) | Value::Tuple(vs) | Value::Set(vs) => vals.extend(vs.into_iter().map(|v| v.with_mark(m))),
                Value::Unknown(_) => return Ok(unknown()),
                _ => {
                    return Err(self.err(self.span_of(*args.last().unwrap_or(&whole)), "Invalid expanding argument value", "The expanding argument (indicated by ...) must be of a tuple, list, or set type."))
                }
            }
        }
        if name == "templatefile" {
            let at = Span::new(self.file, self.call_start_range(f));
            return self
                .templatefile(vals, &args, at)
                .map_err(|d| d.with_context(call_span.start..call_span.end));
        }
        let ctx = self.scope.func_ctx();
        funcs::call(name, vals, &ctx).map_err(|e| {
            let span = match e.arg.and_then(|i| args.get(i)) {
                Some(a) => self.start_span(a),
                None => Span::new(self.file, self.call_start_range(f)),
            };
            let detail = match e.arg {
                Some(i) => format!(
                    "Invalid value for argument {} of \"{name}\": {}",
                    i + 1,
                    e.message
                ),
                None => format!("Call to function \"{name}\" failed: {}", e.message),
            };
            Diagnostic::error(
                if e.arg.is_some() {
                    "Invalid function argument"
                } else {
                    "Error in function call"
                },
                detail,
            )
            .with_span(span)
            .with_context(call_span.start..call_span.end)
        })
    }

    fn templatefile(&self, vals: Vec<Value>, args: &[&Expression], span: Span) -> EResult {
        let (path, vars) = (&vals[0], &vals[1]);
        if !path.is_wholly_known() || !vars.is_wholly_known() {
            return Ok(Value::Unknown(Type::String));
        }
        let Some(p) = path.as_str() else {
            return Err(self.err(
                self.start_span(args[0]),
                "Invalid function argument",
                "Invalid value for \"path\" parameter of \"templatefile\": string required.",
            ));
        };
        let Some(vmap) = vars.as_map() else {
            return Err(self.err(
                self.start_span(args[1]),
                "Invalid function argument",
                "Invalid value for \"vars\" parameter of \"templatefile\": a map or object is required.",
            ));
        };
        let ctx = self.scope.func_ctx();
        let full = ctx.cwd.join(p);
        let text = std::fs::read_to_string(&full).map_err(|e| {
            self.err(
                self.start_span(args[0]),
                "Invalid function argument",
                format!("Invalid value for \"path\" parameter of \"templatefile\": no file exists at {p:?}: {e}."),
            )
        })?;
        render_template(&text, p, vmap, self.scope).map_err(|d| {
            if d.summary == "Invalid function argument" {
                return d.with_span(self.start_span(args[1]));
            }
            Diagnostic::error(
                "Error in function call",
                format!(
                    "Call to function \"templatefile\" failed: {}: {}{}",
                    d.summary,
                    d.detail,
                    d.span
                        .map(|s| format!(" (at {})", s.location()))
                        .unwrap_or_default()
                ),
            )
            .with_span(span)
        })
    }

    // ---- templates ---------------------------------------------------------------------

    fn template(&self, t: &Template, range: std::ops::Range<usize>, lits: Lits<'_>) -> EResult {
        // A template that is exactly one interpolation yields the value itself.
        if let Some(Element::Interpolation(i)) = t.as_single_element() {
            return self.eval(&i.expr);
        }
        let mut out = String::new();
        let mut state = TplState {
            unknown: false,
            sensitive: false,
        };
        self.render(t, &mut out, &mut state, false, false, lits)?;
        let _ = range;
        if state.unknown {
            return Ok(Value::Unknown(Type::String).with_mark(state.sensitive));
        }
        Ok(Value::String(out).with_mark(state.sensitive))
    }

    /// Renders elements into `out`. `trim_first`/`trim_last` apply strip markers of the
    /// enclosing directive to this template's first and last literal.
    fn render(
        &self,
        t: &Template,
        out: &mut String,
        st: &mut TplState,
        trim_first: bool,
        trim_last: bool,
        lits: Lits<'_>,
    ) -> Result<(), Diagnostic> {
        let elems: Vec<&Element> = t.iter().collect();
        for (i, el) in elems.iter().enumerate() {
            match el {
                Element::Literal(s) => {
                    if let Some(v) = lits.and_then(|m| s.span().and_then(|r| m.get(&r.start))) {
                        out.push_str(v);
                        continue;
                    }
                    let mut text: &str = s.value();
                    let strip_before = if i == 0 {
                        trim_first
                    } else {
                        strips_after(elems[i - 1])
                    };
                    let strip_after = if i + 1 == elems.len() {
                        trim_last
                    } else {
                        strips_before(elems[i + 1])
                    };
                    if strip_before {
                        text = text.trim_start();
                    }
                    if strip_after {
                        text = text.trim_end();
                    }
                    out.push_str(text);
                }
                Element::Interpolation(ip) => {
                    let v = self.eval(&ip.expr)?;
                    self.append_interp(&v, &ip.expr, out, st)?;
                }
                Element::Directive(d) => match d.as_ref() {
                    Directive::If(ifd) => {
                        let c = self.eval(&ifd.if_expr.cond_expr)?;
                        let (c, m) = c.into_unmarked();
                        st.sensitive |= m;
                        if c.is_unknown() {
                            st.unknown = true;
                            continue;
                        }
                        let cspan = self.span_of(&ifd.if_expr.cond_expr);
                        // HCL rewrites `%{if}` into a conditional expression: its errors.
                        if c.is_null() {
                            return Err(self.err(cspan, "Null condition", "The condition value is null. Conditions must either be true or false."));
                        }
                        let Some(b) = convert::convert(&c, &Type::Bool)
                            .ok()
                            .and_then(|b| b.as_bool())
                        else {
                            return Err(self.err(
                                cspan,
                                "Incorrect condition type",
                                format!(
                                    "The condition expression must be of type bool, not {}.",
                                    c.friendly_type()
                                ),
                            ));
                        };
                        let else_strip_start =
                            ifd.else_expr.as_ref().map(|e| e.strip.strip_start());
                        if b {
                            let end_strip =
                                else_strip_start.unwrap_or(ifd.endif_expr.strip.strip_start());
                            self.render(
                                &ifd.if_expr.template,
                                out,
                                st,
                                ifd.if_expr.strip.strip_end(),
                                end_strip,
                                lits,
                            )?;
                        } else if let Some(e) = &ifd.else_expr {
                            self.render(
                                &e.template,
                                out,
                                st,
                                e.strip.strip_end(),
                                ifd.endif_expr.strip.strip_start(),
                                lits,
                            )?;
                        }
                    }
                    Directive::For(fd) => {
                        let fx = &fd.for_expr;
                        let coll = self.eval(&fx.collection_expr)?;
                        let (coll, m) = coll.into_unmarked();
                        st.sensitive |= m;
                        let pairs: Vec<(Value, Value)> = match coll {
                            Value::Unknown(_) => {
                                st.unknown = true;
                                continue;
                            }
                            // HCL rewrites `%{for}` into a 'for' expression: its errors.
                            Value::Null(_) => {
                                return Err(self.err(self.span_of(&fx.collection_expr), "Iteration over null value", "A null value cannot be used as the collection in a 'for' expression."))
                            }
                            Value::List(vs) | Value::Tuple(vs) => vs.into_iter().enumerate().map(|(i, v)| (Value::int(i as i64), v)).collect(),
                            Value::Set(vs) => vs.into_iter().map(|v| (v.clone(), v)).collect(),
                            Value::Map(m) | Value::Object(m) => m.into_iter().map(|(k, v)| (Value::String(k), v)).collect(),
                            other => {
                                return Err(self.err(self.span_of(&fx.collection_expr), "Iteration over non-iterable value", format!("A value of type {} cannot be used as the collection in a 'for' expression.", other.friendly_type())))
                            }
                        };
                        let mut ev = Evaluator {
                            scope: self.scope,
                            file: self.file,
                            locals: self.locals.clone(),
                        };
                        let base = ev.locals.len();
                        for (k, v) in pairs {
                            ev.locals.truncate(base);
                            if let Some(kv) = &fx.key_var {
                                ev.locals.push((kv.as_str().to_string(), k));
                            }
                            ev.locals.push((fx.value_var.as_str().to_string(), v));
                            ev.render(
                                &fx.template,
                                out,
                                st,
                                fx.strip.strip_end(),
                                fd.endfor_expr.strip.strip_start(),
                                lits,
                            )?;
                        }
                    }
                },
            }
        }
        Ok(())
    }

    fn append_interp(
        &self,
        v: &Value,
        e: &Expression,
        out: &mut String,
        st: &mut TplState,
    ) -> Result<(), Diagnostic> {
        let (v, m) = v.unmark();
        st.sensitive |= m;
        match v {
            Value::Unknown(_) => st.unknown = true,
            Value::Null(_) => {
                return Err(self.err(self.span_of(e), "Invalid template interpolation value", "The expression result is null. Cannot include a null value in a string template."))
            }
            other => match self.to_string_value(other) {
                Some(s) => out.push_str(&s),
                None => {
                    return Err(self.err(
                        self.span_of(e),
                        "Invalid template interpolation value",
                        format!("Cannot include the given value in a string template: string required, not {}.", other.friendly_type()),
                    ))
                }
            },
        }
        Ok(())
    }
}

struct TplState {
    unknown: bool,
    sensitive: bool,
}

/// Whether the element ends with a `~}` that strips the whitespace after it.
/// Literal values of a heredoc by the byte offset where each literal starts.
type Lits<'l> = Option<&'l std::collections::HashMap<usize, String>>;

/// One item of a template in source order, as HCL's template parser sees it: a literal
/// token (a heredoc line, or the part of a line up to a `${` or `%{`), or a `${ }` or
/// `%{ }` sequence with its strip markers.
enum TplTok {
    Lit { start: usize, val: String },
    Seq,
}

impl<'a> Evaluator<'a> {
    /// What HCL 2.10 makes of a heredoc's literals, which hcl-edit does differently:
    /// the scanner cuts them into one token per line, a strip marker trims only the
    /// token next to it, and `<<-` removes the smallest indentation of the tokens that
    /// begin a line (a line that begins with a `${`/`%{`, or whose first token a strip
    /// marker emptied, counts as unindented) from those tokens only
    /// (`flushHeredocTemplateParts`). `None` when a literal has no span (the caller
    /// then renders hcl-edit's values).
    fn heredoc_literals(&self, t: &Template, flush: bool) -> Option<std::collections::HashMap<usize, String>> {
        fn flatten(t: &Template, out: &mut Vec<(Option<std::ops::Range<usize>>, bool, bool)>) {
            for el in t.iter() {
                match el {
                    Element::Literal(s) => out.push((Some(s.span().unwrap_or(usize::MAX..usize::MAX)), false, false)),
                    Element::Interpolation(i) => out.push((None, i.strip.strip_start(), i.strip.strip_end())),
                    Element::Directive(d) => match d.as_ref() {
                        Directive::If(i) => {
                            out.push((None, i.if_expr.strip.strip_start(), i.if_expr.strip.strip_end()));
                            flatten(&i.if_expr.template, out);
                            if let Some(e) = &i.else_expr {
                                out.push((None, e.strip.strip_start(), e.strip.strip_end()));
                                flatten(&e.template, out);
                            }
                            out.push((None, i.endif_expr.strip.strip_start(), i.endif_expr.strip.strip_end()));
                        }
                        Directive::For(f) => {
                            out.push((None, f.for_expr.strip.strip_start(), f.for_expr.strip.strip_end()));
                            flatten(&f.for_expr.template, out);
                            out.push((None, f.endfor_expr.strip.strip_start(), f.endfor_expr.strip.strip_end()));
                        }
                    },
                }
            }
        }
        let mut items = Vec::new();
        flatten(t, &mut items);
        // Literal tokens, each remembering which literal element it belongs to.
        let mut toks: Vec<TplTok> = Vec::new();
        for (idx, (span, _, _)) in items.iter().enumerate() {
            let Some(span) = span else {
                toks.push(TplTok::Seq);
                continue;
            };
            let raw = self.file.text.get(span.clone())?;
            let ltrim = idx > 0 && items[idx - 1].0.is_none() && items[idx - 1].2;
            let rtrim = items.get(idx + 1).is_some_and(|n| n.0.is_none() && n.1);
            let pieces: Vec<&str> = raw.split_inclusive('\n').collect();
            let n = pieces.len();
            for (k, piece) in pieces.into_iter().enumerate() {
                let mut val = piece.replace("$${", "${").replace("%%{", "%{");
                if k == 0 && ltrim {
                    val = val.trim_start().to_string();
                }
                if k + 1 == n && rtrim {
                    val = val.trim_end().to_string();
                }
                toks.push(TplTok::Lit { start: span.start, val });
            }
        }
        if flush {
            let mut min = usize::MAX;
            let mut newline = true;
            let mut adjust = Vec::new();
            for (i, tok) in toks.iter().enumerate() {
                if newline {
                    newline = false;
                    let spaces = match tok {
                        TplTok::Lit { val, .. } => {
                            let trimmed = val.trim_start();
                            if trimmed.is_empty() && val.ends_with('\n') {
                                usize::MAX
                            } else {
                                adjust.push(i);
                                val[..val.len() - trimmed.len()].chars().count()
                            }
                        }
                        TplTok::Seq => 0,
                    };
                    min = min.min(spaces);
                }
                if let TplTok::Lit { val, .. } = tok {
                    newline = val.ends_with('\n');
                }
            }
            for i in adjust {
                if let TplTok::Lit { val, .. } = &mut toks[i] {
                    let cut: usize = val.chars().take(min).map(char::len_utf8).sum();
                    val.replace_range(..cut, "");
                }
            }
        }
        let mut out: std::collections::HashMap<usize, String> = Default::default();
        for tok in toks {
            if let TplTok::Lit { start, val } = tok {
                if start == usize::MAX {
                    return None;
                }
                out.entry(start).or_default().push_str(&val);
            }
        }
        Some(out)
    }
}

fn strips_after(el: &Element) -> bool {
    match el {
        Element::Interpolation(i) => i.strip.strip_end(),
        Element::Directive(d) => match d.as_ref() {
            Directive::If(i) => i.endif_expr.strip.strip_end(),
            Directive::For(f) => f.endfor_expr.strip.strip_end(),
        },
        Element::Literal(_) => false,
    }
}

/// Whether the element starts with a `{~` that strips the whitespace before it.
fn strips_before(el: &Element) -> bool {
    match el {
        Element::Interpolation(i) => i.strip.strip_start(),
        Element::Directive(d) => match d.as_ref() {
            Directive::If(i) => i.if_expr.strip.strip_start(),
            Directive::For(f) => f.for_expr.strip.strip_start(),
        },
        Element::Literal(_) => false,
    }
}

fn op_symbol(op: BinaryOperator) -> &'static str {
    use BinaryOperator as Op;
    match op {
        Op::Eq => "==",
        Op::NotEq => "!=",
        Op::LessEq => "<=",
        Op::GreaterEq => ">=",
        Op::Less => "<",
        Op::Greater => ">",
        Op::Plus => "+",
        Op::Minus => "-",
        Op::Mul => "*",
        Op::Div => "/",
        Op::Mod => "%",
        Op::And => "&&",
        Op::Or => "||",
    }
}

fn join_ranges(
    a: Option<std::ops::Range<usize>>,
    b: Option<std::ops::Range<usize>>,
) -> Option<std::ops::Range<usize>> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.start.min(b.start)..a.end.max(b.end)),
        (a, b) => a.or(b),
    }
}

enum RootParse {
    /// The root and how many traversal operators it consumed.
    Root(RefRoot, usize),
    Invalid(String),
    NotARoot,
}

fn attr_name(op: Option<&hcl_edit::Decorated<TraversalOperator>>) -> Option<&str> {
    match op.map(|o| o.value()) {
        Some(TraversalOperator::GetAttr(i)) => Some(i.as_str()),
        _ => None,
    }
}

/// Recognises a reference root at the start of a traversal.
/// How many traversal steps a reference's span covers: the `n` its root consumes, and
/// for a module call, as Terraform's `parseModuleCallRef` has it, also a static instance
/// key and the output name after it (`module.db["eu"].endpoint`).
fn ref_span_ops(root: &RefRoot, ops: &[hcl_edit::Decorated<TraversalOperator>], n: usize) -> usize {
    if !matches!(root, RefRoot::Module(_)) {
        return n;
    }
    let mut k = n;
    let static_key = |op: &hcl_edit::Decorated<TraversalOperator>| match op.value() {
        TraversalOperator::LegacyIndex(_) => true,
        TraversalOperator::Index(e) => matches!(
            e,
            Expression::Number(_) | Expression::String(_) | Expression::Bool(_) | Expression::Null(_)
        ),
        _ => false,
    };
    if ops.get(k).is_some_and(static_key) {
        k += 1;
    }
    if ops.get(k).is_some_and(|op| matches!(op.value(), TraversalOperator::GetAttr(_))) {
        k += 1;
    }
    k
}

fn parse_root(first: &str, ops: &[hcl_edit::Decorated<TraversalOperator>]) -> RootParse {
    let a0 = attr_name(ops.first());
    let need = |what: &str| {
        RootParse::Invalid(format!(
            "The \"{first}\" object must be followed by an attribute name, like `{first}.{what}`."
        ))
    };
    match first {
        "var" => a0.map(|n| RootParse::Root(RefRoot::Var(n.into()), 1)).unwrap_or_else(|| need("name")),
        "local" => a0.map(|n| RootParse::Root(RefRoot::Local(n.into()), 1)).unwrap_or_else(|| need("name")),
        "module" => a0.map(|n| RootParse::Root(RefRoot::Module(n.into()), 1)).unwrap_or_else(|| need("name")),
        "path" => a0.map(|n| RootParse::Root(RefRoot::Path(n.into()), 1)).unwrap_or_else(|| need("module")),
        "terraform" => a0.map(|n| RootParse::Root(RefRoot::Terraform(n.into()), 1)).unwrap_or_else(|| need("workspace")),
        "count" => match a0 {
            Some("index") => RootParse::Root(RefRoot::CountIndex, 1),
            _ => RootParse::Invalid("The \"count\" object has only the attribute \"index\".".into()),
        },
        "each" => match a0 {
            Some("key") => RootParse::Root(RefRoot::EachKey, 1),
            Some("value") => RootParse::Root(RefRoot::EachValue, 1),
            _ => RootParse::Invalid("The \"each\" object has only the attributes \"key\" and \"value\".".into()),
        },
        "self" => RootParse::Root(RefRoot::SelfRef, 0),
        "data" => match (a0, attr_name(ops.get(1))) {
            (Some(t), Some(n)) => RootParse::Root(RefRoot::Resource { mode: ResourceMode::Data, type_: t.into(), name: n.into() }, 2),
            _ => RootParse::Invalid("A reference to a data source must be followed by the type and the name, like `data.aws_ami.ubuntu`.".into()),
        },
        other => match a0 {
            Some(n) => RootParse::Root(RefRoot::Resource { mode: ResourceMode::Managed, type_: other.into(), name: n.into() }, 1),
            None if ops.is_empty() => RootParse::NotARoot,
            None => RootParse::Invalid(format!("A reference to a resource type must be followed by at least one attribute access, specifying the resource name, like `{other}.NAME`.")),
        },
    }
}

/// Every reference in an expression, skipping names bound inside it (for-expressions,
/// template for-directives) and the names in `bound`.
///
/// The expression's text parsed when the configuration was loaded; should it not parse
/// now, it has no references here and its evaluation reports the error.
pub fn references(expr: &Expr, bound: &[&str]) -> Vec<Reference> {
    match expr.syntax() {
        Ok(tree) => references_in(&tree, &expr.file, bound),
        Err(_) => Vec::new(),
    }
}

/// `references` of a syntax tree whose spans point into `file`.
pub fn references_in(e: &Expression, file: &Arc<SourceFile>, bound: &[&str]) -> Vec<Reference> {
    let mut out = Vec::new();
    let mut names: Vec<String> = bound.iter().map(|s| s.to_string()).collect();
    collect_refs(e, file, &mut names, &mut out);
    out
}

fn collect_refs(
    e: &Expression,
    file: &Arc<SourceFile>,
    bound: &mut Vec<String>,
    out: &mut Vec<Reference>,
) {
    match e {
        Expression::Null(_)
        | Expression::Bool(_)
        | Expression::Number(_)
        | Expression::String(_) => {}
        Expression::Array(a) => a.iter().for_each(|x| collect_refs(x, file, bound, out)),
        Expression::Object(o) => {
            for (k, v) in o.iter() {
                if let ObjectKey::Expression(ke) = k {
                    if !matches!(ke, Expression::Variable(_)) {
                        collect_refs(ke, file, bound, out);
                    }
                }
                collect_refs(v.expr(), file, bound, out);
            }
        }
        Expression::StringTemplate(t) => collect_template_refs(t, file, bound, out),
        Expression::HeredocTemplate(h) => collect_template_refs(&h.template, file, bound, out),
        Expression::Parenthesis(p) => collect_refs(p.inner(), file, bound, out),
        Expression::Variable(v) => {
            if v.as_str() == "self" && !bound.iter().any(|b| b == "self") {
                out.push(Reference {
                    root: RefRoot::SelfRef,
                    span: Span::from_opt(file, v.span()),
                    next_attr: None,
                });
            }
        }
        Expression::Traversal(t) => {
            if let Expression::Variable(v) = &t.expr {
                if !bound.iter().any(|b| b == v.as_str()) {
                    if let RootParse::Root(root, n) = parse_root(v.as_str(), &t.operators) {
                        let covered = ref_span_ops(&root, &t.operators, n);
                        let end = if covered == 0 {
                            v.span()
                        } else {
                            t.operators[covered - 1].span()
                        };
                        let next_attr = match t.operators.get(n).map(|o| o.value()) {
                            Some(TraversalOperator::GetAttr(i)) => Some(i.as_str().to_string()),
                            Some(TraversalOperator::Index(Expression::String(s))) => {
                                Some(s.as_str().to_string())
                            }
                            _ => None,
                        };
                        out.push(Reference {
                            root,
                            span: Span::from_opt(file, join_ranges(v.span(), end)),
                            next_attr,
                        });
                    }
                }
            } else {
                collect_refs(&t.expr, file, bound, out);
            }
            for op in &t.operators {
                if let TraversalOperator::Index(ie) = op.value() {
                    collect_refs(ie, file, bound, out);
                }
            }
        }
        Expression::Conditional(c) => {
            collect_refs(&c.cond_expr, file, bound, out);
            collect_refs(&c.true_expr, file, bound, out);
            collect_refs(&c.false_expr, file, bound, out);
        }
        Expression::FuncCall(f) => f
            .args
            .iter()
            .for_each(|a| collect_refs(a, file, bound, out)),
        Expression::UnaryOp(u) => collect_refs(&u.expr, file, bound, out),
        Expression::BinaryOp(b) => {
            collect_refs(&b.lhs_expr, file, bound, out);
            collect_refs(&b.rhs_expr, file, bound, out);
        }
        Expression::ForExpr(f) => {
            collect_refs(&f.intro.collection_expr, file, bound, out);
            let n = bound.len();
            if let Some(k) = &f.intro.key_var {
                bound.push(k.as_str().to_string());
            }
            bound.push(f.intro.value_var.as_str().to_string());
            if let Some(k) = &f.key_expr {
                collect_refs(k, file, bound, out);
            }
            collect_refs(&f.value_expr, file, bound, out);
            if let Some(c) = &f.cond {
                collect_refs(&c.expr, file, bound, out);
            }
            bound.truncate(n);
        }
    }
}

fn collect_template_refs(
    t: &Template,
    file: &Arc<SourceFile>,
    bound: &mut Vec<String>,
    out: &mut Vec<Reference>,
) {
    for el in t.iter() {
        match el {
            Element::Literal(_) => {}
            Element::Interpolation(i) => collect_refs(&i.expr, file, bound, out),
            Element::Directive(d) => match d.as_ref() {
                Directive::If(i) => {
                    collect_refs(&i.if_expr.cond_expr, file, bound, out);
                    collect_template_refs(&i.if_expr.template, file, bound, out);
                    if let Some(e) = &i.else_expr {
                        collect_template_refs(&e.template, file, bound, out);
                    }
                }
                Directive::For(f) => {
                    collect_refs(&f.for_expr.collection_expr, file, bound, out);
                    let n = bound.len();
                    if let Some(k) = &f.for_expr.key_var {
                        bound.push(k.as_str().to_string());
                    }
                    bound.push(f.for_expr.value_var.as_str().to_string());
                    collect_template_refs(&f.for_expr.template, file, bound, out);
                    bound.truncate(n);
                }
            },
        }
    }
}
