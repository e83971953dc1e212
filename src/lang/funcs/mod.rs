//! The built-in function library: Terraform 1.x's functions (plus a few cheap OpenTofu
//! additions), evaluated as Terraform evaluates them.
//!
//! This module owns the public API the evaluator calls (`exists`, `arity`, `call`,
//! `names`, `FuncCtx`, `FuncError`), the registry of functions with their parameter
//! names, and the dispatcher policy shared by every function: argument count checks,
//! null arguments, unknown arguments (the result is unknown unless the function knows
//! better) and sensitive marks (the result is marked when any argument contains a mark).
//! The functions themselves live in the submodules, grouped as Terraform's
//! documentation groups them. `can`, `try` and `templatefile` are registered here but
//! evaluated by the evaluator.

use crate::lang::value::{Number, Value};

mod cidr;
mod codepages;
mod collections;
mod conv;
mod crypto;
mod datetime;
mod encoding;
mod filesystem;
mod format;
mod general;
mod numeric;
mod strings;
#[cfg(test)]
mod tests;
mod yaml;

/// What a function call may depend on besides its arguments.
pub struct FuncCtx<'a> {
    /// Directory that relative paths in file functions resolve against (the working directory).
    pub cwd: &'a std::path::Path,
    /// During plan, impure functions (uuid, timestamp, bcrypt) return unknown, as Terraform does.
    pub impure_unknown: bool,
}

/// A failed call. `message` is cty's bare message (no trailing period); use `summary`
/// and `detail` for Terraform's diagnostic wording.
#[derive(Debug, Clone, PartialEq)]
pub struct FuncError {
    /// 0-based index of the offending argument.
    pub arg: Option<usize>,
    pub message: String,
}

impl FuncError {
    pub fn new(message: impl Into<String>) -> FuncError {
        FuncError {
            arg: None,
            message: message.into(),
        }
    }
    pub fn arg(i: usize, message: impl Into<String>) -> FuncError {
        FuncError {
            arg: Some(i),
            message: message.into(),
        }
    }
    /// Terraform's diagnostic summary for this error.
    pub fn summary(&self) -> &'static str {
        if self.arg.is_some() {
            "Invalid function argument"
        } else {
            "Error in function call"
        }
    }
    /// Terraform's diagnostic detail for this error in a call to `func`, e.g.
    /// `Invalid value for "str" parameter: string required.`
    pub fn detail(&self, func: &str) -> String {
        match self.arg {
            Some(i) => format!(
                "Invalid value for \"{}\" parameter: {}.",
                param_name(func, i).unwrap_or("?"),
                self.message
            ),
            None => format!("Call to function \"{func}\" failed: {}.", self.message),
        }
    }
}

impl std::fmt::Display for FuncError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for FuncError {}

/// Result of a function implementation.
pub(crate) type FResult = Result<Value, FuncError>;

// Dispatcher flags.
/// Top-level null arguments are passed to the function (otherwise an error).
const NULL_OK: u8 = 1;
/// Only the variadic arguments may be null.
const NULL_VAR: u8 = 2;
/// The function handles unknown arguments itself (otherwise the result is unknown).
const UNKNOWN_OK: u8 = 4;
/// The function handles nested unknowns itself (otherwise an argument that is not
/// wholly known makes the result unknown).
const PARTIAL_OK: u8 = 8;
/// The function handles sensitive marks itself.
const MARKS_OK: u8 = 16;
/// Handled by the evaluator.
const EVALUATOR: u8 = 32;

struct Spec {
    name: &'static str,
    params: &'static [&'static str],
    /// Name of the variadic parameter, if any.
    var: Option<&'static str>,
    flags: u8,
}

const fn s(
    name: &'static str,
    params: &'static [&'static str],
    var: Option<&'static str>,
    flags: u8,
) -> Spec {
    Spec {
        name,
        params,
        var,
        flags,
    }
}

const P: u8 = PARTIAL_OK;

static SPECS: &[Spec] = &[
    // numeric
    s("abs", &["num"], None, 0),
    s("ceil", &["num"], None, 0),
    s("floor", &["num"], None, 0),
    s("log", &["num", "base"], None, 0),
    s("max", &[], Some("numbers"), 0),
    s("min", &[], Some("numbers"), 0),
    s("parseint", &["number", "base"], None, 0),
    s("pow", &["num", "power"], None, 0),
    s("signum", &["num"], None, 0),
    // strings
    s("chomp", &["str"], None, 0),
    s("endswith", &["str", "suffix"], None, 0),
    s("format", &["format"], Some("args"), NULL_VAR),
    s("formatlist", &["format"], Some("args"), NULL_VAR | P),
    s("indent", &["spaces", "str"], None, 0),
    s("join", &["separator"], Some("lists"), 0),
    s("lower", &["str"], None, 0),
    s("regex", &["pattern", "string"], None, 0),
    s("regexall", &["pattern", "string"], None, 0),
    s("replace", &["str", "substr", "replace"], None, 0),
    s("split", &["separator", "str"], None, 0),
    s("startswith", &["str", "prefix"], None, 0),
    s("strcontains", &["str", "substr"], None, 0),
    s("strrev", &["str"], None, 0),
    s("substr", &["str", "offset", "length"], None, 0),
    s("title", &["str"], None, 0),
    s("trim", &["str", "cutset"], None, 0),
    s("trimprefix", &["str", "prefix"], None, 0),
    s("trimsuffix", &["str", "suffix"], None, 0),
    s("trimspace", &["str"], None, 0),
    s("upper", &["str"], None, 0),
    // collections
    s("alltrue", &["list"], None, P),
    s("anytrue", &["list"], None, P),
    s("chunklist", &["list", "size"], None, P),
    s("coalesce", &[], Some("vals"), NULL_OK | UNKNOWN_OK | P),
    s("coalescelist", &[], Some("vals"), NULL_OK | UNKNOWN_OK | P),
    s("compact", &["list"], None, 0),
    s("concat", &[], Some("seqs"), P),
    s("contains", &["list", "value"], None, 0),
    s("distinct", &["list"], None, 0),
    s("element", &["list", "index"], None, P),
    s("flatten", &["list"], None, P),
    s("index", &["list", "value"], None, 0),
    s("keys", &["inputMap"], None, P),
    s("length", &["value"], None, P),
    s("list", &[], Some("vals"), NULL_OK | UNKNOWN_OK | P),
    s(
        "lookup",
        &["inputMap", "key"],
        Some("default"),
        NULL_VAR | P,
    ),
    s("map", &[], Some("vals"), NULL_OK | UNKNOWN_OK | P),
    s("matchkeys", &["values", "keys", "searchset"], None, 0),
    s("merge", &[], Some("maps"), NULL_VAR | P),
    s("one", &["list"], None, P),
    s("range", &[], Some("params"), 0),
    s("reverse", &["list"], None, P),
    s("setintersection", &["first_set"], Some("other_sets"), 0),
    s("setproduct", &[], Some("sets"), P),
    s("setsubtract", &["a", "b"], None, 0),
    s("setunion", &["first_set"], Some("other_sets"), 0),
    s("slice", &["list", "start_index", "end_index"], None, P),
    s("sort", &["list"], None, 0),
    s("sum", &["list"], None, 0),
    s("transpose", &["values"], None, 0),
    s("values", &["mapping"], None, P),
    s("zipmap", &["keys", "values"], None, P),
    // encoding
    s("base64decode", &["str"], None, 0),
    s("base64encode", &["str"], None, 0),
    s("base64gzip", &["str"], None, 0),
    s("base64gunzip", &["str"], None, 0),
    s("csvdecode", &["str"], None, 0),
    s("jsondecode", &["str"], None, 0),
    s("jsonencode", &["val"], None, NULL_OK),
    s("textdecodebase64", &["source", "encoding"], None, 0),
    s("textencodebase64", &["string", "encoding"], None, 0),
    s("urldecode", &["str"], None, 0),
    s("urlencode", &["str"], None, 0),
    s("yamldecode", &["src"], None, 0),
    s("yamlencode", &["value"], None, NULL_OK),
    // filesystem
    s("abspath", &["path"], None, 0),
    s("basename", &["path"], None, 0),
    s("dirname", &["path"], None, 0),
    s("file", &["path"], None, 0),
    s("filebase64", &["path"], None, 0),
    s("fileexists", &["path"], None, 0),
    s("fileset", &["path", "pattern"], None, 0),
    s("pathexpand", &["path"], None, 0),
    s("templatefile", &["path", "vars"], None, EVALUATOR),
    // date and time
    s("formatdate", &["format", "time"], None, 0),
    s("timeadd", &["timestamp", "duration"], None, 0),
    s("timecmp", &["timestamp_a", "timestamp_b"], None, 0),
    s("timestamp", &[], None, 0),
    // hash and crypto
    s("base64sha256", &["str"], None, 0),
    s("base64sha512", &["str"], None, 0),
    s("bcrypt", &["str"], Some("cost"), 0),
    s("filebase64sha256", &["path"], None, 0),
    s("filebase64sha512", &["path"], None, 0),
    s("filemd5", &["path"], None, 0),
    s("filesha1", &["path"], None, 0),
    s("filesha256", &["path"], None, 0),
    s("filesha512", &["path"], None, 0),
    s("md5", &["str"], None, 0),
    s("rsadecrypt", &["ciphertext", "privatekey"], None, 0),
    s("sha1", &["str"], None, 0),
    s("sha256", &["str"], None, 0),
    s("sha512", &["str"], None, 0),
    s("uuid", &[], None, 0),
    s("uuidv5", &["namespace", "name"], None, 0),
    // IP network
    s(
        "cidrcontains",
        &["containing_prefix", "contained_ip_or_prefix"],
        None,
        0,
    ),
    s("cidrhost", &["prefix", "hostnum"], None, 0),
    s("cidrnetmask", &["prefix"], None, 0),
    s("cidrsubnet", &["prefix", "newbits", "netnum"], None, 0),
    s("cidrsubnets", &["prefix"], Some("newbits"), 0),
    // type conversion and general
    s("can", &["expression"], None, EVALUATOR),
    s("try", &["expressions"], Some("expressions"), EVALUATOR),
    s(
        "nonsensitive",
        &["value"],
        None,
        NULL_OK | UNKNOWN_OK | P | MARKS_OK,
    ),
    s(
        "sensitive",
        &["value"],
        None,
        NULL_OK | UNKNOWN_OK | P | MARKS_OK,
    ),
    s("tobool", &["v"], None, NULL_OK | UNKNOWN_OK | P),
    s("tolist", &["v"], None, NULL_OK | UNKNOWN_OK | P),
    s("tomap", &["v"], None, NULL_OK | UNKNOWN_OK | P),
    s("tonumber", &["v"], None, NULL_OK | UNKNOWN_OK | P),
    s("toset", &["v"], None, NULL_OK | UNKNOWN_OK | P),
    s("tostring", &["v"], None, NULL_OK | UNKNOWN_OK | P),
    s(
        "type",
        &["value"],
        None,
        NULL_OK | UNKNOWN_OK | P | MARKS_OK,
    ),
];

fn spec(name: &str) -> Option<&'static Spec> {
    SPECS.iter().find(|s| s.name == name)
}

/// True when `name` is a built-in function.
pub fn exists(name: &str) -> bool {
    spec(name).is_some()
}

/// (minimum args, maximum args or None when variadic)
pub fn arity(name: &str) -> Option<(usize, Option<usize>)> {
    let sp = spec(name)?;
    Some(match name {
        // `try` is variadic only; with no arguments the call itself fails.
        "try" => (0, None),
        _ => (
            sp.params.len(),
            if sp.var.is_some() {
                None
            } else {
                Some(sp.params.len())
            },
        ),
    })
}

/// The name of parameter `i` of function `name` (variadic parameters share one name),
/// as Terraform names it in "Invalid value for ... parameter" messages.
pub fn param_name(name: &str, i: usize) -> Option<&'static str> {
    let sp = spec(name)?;
    sp.params.get(i).copied().or(sp.var)
}

/// Every function name, in alphabetical order.
pub fn names() -> impl Iterator<Item = &'static str> {
    let mut v: Vec<&'static str> = SPECS.iter().map(|s| s.name).collect();
    v.sort_unstable();
    v.into_iter()
}

/// Calls function `name` with already-evaluated arguments.
pub fn call(name: &str, args: Vec<Value>, ctx: &FuncCtx) -> Result<Value, FuncError> {
    let Some(sp) = spec(name) else {
        return Err(FuncError::new(format!(
            "There is no function named \"{name}\""
        )));
    };
    if sp.flags & EVALUATOR != 0 {
        return Err(FuncError::new(format!(
            "function \"{name}\" is evaluated by the expression evaluator"
        )));
    }
    let (min, max) = arity(name).unwrap_or((0, None));
    if args.len() < min || max.is_some_and(|m| args.len() > m) {
        return Err(FuncError::new(arity_message(sp, args.len())));
    }
    if sp.flags & MARKS_OK != 0 {
        return dispatch(name, &args, ctx);
    }
    let sensitive = args.iter().any(|a| a.contains_sensitive());
    let args: Vec<Value> = args.into_iter().map(Value::deep_unmark).collect();
    for (i, a) in args.iter().enumerate() {
        let is_var = i >= sp.params.len();
        let null_ok = sp.flags & NULL_OK != 0 || (is_var && sp.flags & NULL_VAR != 0);
        if a.is_null() && !null_ok {
            return Err(FuncError::arg(i, "argument must not be null"));
        }
    }
    if sp.flags & UNKNOWN_OK == 0 && args.iter().any(|a| a.is_unknown()) {
        return Ok(Value::unknown().with_mark(sensitive));
    }
    if sp.flags & PARTIAL_OK == 0 && args.iter().any(|a| !a.is_wholly_known()) {
        return Ok(Value::unknown().with_mark(sensitive));
    }
    let impure = matches!(name, "uuid" | "timestamp" | "bcrypt");
    if impure && ctx.impure_unknown {
        return Ok(Value::Unknown(crate::lang::value::Type::String).with_mark(sensitive));
    }
    dispatch(name, &args, ctx).map(|v| v.with_mark(sensitive))
}

fn arity_message(sp: &Spec, got: usize) -> String {
    let n = sp.params.len();
    if sp.var.is_some() {
        format!(
            "Function \"{}\" expects at least {} argument(s). Missing value for \"{}\"",
            sp.name,
            n,
            sp.params.get(got).copied().unwrap_or("?")
        )
    } else if got < n {
        format!(
            "Function \"{}\" expects {} argument(s). Missing value for \"{}\"",
            sp.name,
            n,
            sp.params.get(got).copied().unwrap_or("?")
        )
    } else {
        format!("Function \"{}\" expects only {} argument(s)", sp.name, n)
    }
}

fn dispatch(name: &str, a: &[Value], ctx: &FuncCtx) -> FResult {
    if let Some(r) = numeric::call(name, a) {
        return r;
    }
    if let Some(r) = strings::call(name, a) {
        return r;
    }
    if let Some(r) = collections::call(name, a) {
        return r;
    }
    if let Some(r) = encoding::call(name, a) {
        return r;
    }
    if let Some(r) = filesystem::call(name, a, ctx) {
        return r;
    }
    if let Some(r) = datetime::call(name, a) {
        return r;
    }
    if let Some(r) = crypto::call(name, a, ctx) {
        return r;
    }
    if let Some(r) = cidr::call(name, a) {
        return r;
    }
    if let Some(r) = general::call(name, a) {
        return r;
    }
    Err(FuncError::new(format!(
        "function {name} is not implemented yet"
    )))
}

// ---- argument helpers shared by the submodules ---------------------------------------

/// Argument `i` as a string (numbers and bools convert).
pub(crate) fn str_arg(a: &[Value], i: usize) -> Result<String, FuncError> {
    conv::to_string(arg(a, i)?).map_err(|m| FuncError::arg(i, m))
}

/// Argument `i` as a number (numeric strings convert).
pub(crate) fn num_arg(a: &[Value], i: usize) -> Result<Number, FuncError> {
    conv::to_number(arg(a, i)?).map_err(|m| FuncError::arg(i, m))
}

/// Argument `i` as a whole number fitting i64, with cty's gocty messages.
pub(crate) fn int_arg(a: &[Value], i: usize) -> Result<i64, FuncError> {
    let n = num_arg(a, i)?;
    let f = n.as_f64();
    if f.fract() != 0.0 {
        return Err(FuncError::arg(i, "value must be a whole number"));
    }
    n.as_i64().ok_or_else(|| {
        FuncError::arg(
            i,
            "value must be a whole number, between -9223372036854775808 and 9223372036854775807",
        )
    })
}

/// Argument `i` as list elements (list, set or tuple, unified to one type).
pub(crate) fn list_arg(a: &[Value], i: usize) -> Result<Vec<Value>, FuncError> {
    conv::to_list(arg(a, i)?).map_err(|m| FuncError::arg(i, m))
}

/// Argument `i` as elements of a list of strings.
pub(crate) fn str_list_arg(a: &[Value], i: usize) -> Result<Vec<Value>, FuncError> {
    conv::to_string_list(arg(a, i)?).map_err(|m| FuncError::arg(i, m))
}

fn arg(a: &[Value], i: usize) -> Result<&Value, FuncError> {
    a.get(i)
        .ok_or_else(|| FuncError::arg(i, "missing argument"))
}
