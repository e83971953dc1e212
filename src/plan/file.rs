//! Saved plan files: `terrane plan -out FILE` and `terrane apply FILE`.
//!
//! Owns the on-disk form of a plan (`SavedPlan`: the `Plan`, the root variable values it
//! was made with, and a digest of the configuration), its encoding and decoding, the
//! configuration digest the CLI compares to refuse a plan whose configuration changed, and
//! writing the file safely. It does not decide whether a saved plan may still be applied
//! (the CLI and engine compare digests, lineage and serial) and it never renders a plan.
//!
//! The file is one JSON document: `{"kind": "terrane-plan", "format_version": 1, ...}`.
//! Values use a tagged encoding that keeps everything the plan needs: unknown values,
//! sensitive marks, and the list/set/tuple and map/object distinctions; numbers are
//! decimal strings so that no precision is lost to JSON readers. Addresses are stored as
//! their text and parsed back with `FromStr`; actions and reasons use their serde forms.
//!
//! Like Terraform's, the plan file contains sensitive values in clear (apply needs them),
//! so it must be treated as a secret: `write_plan_file` creates it with mode 0600,
//! atomically (temporary file in the same directory, fsync, rename).
//!
//! With a `plan` block in the `encryption` configuration the whole file is encrypted
//! (`write_plan_file_with`, `read_plan_file_with`; see `state::encryption`).
//!
//! Decoding never panics: a corrupt, truncated or foreign file is an `Err` describing it.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use serde_json::{json, Map, Value as J};
use sha2::{Digest, Sha256};

use super::{Action, ActionReason, OutputChange, Plan, ResourceChange};
use crate::addrs::AbsResourceInstance;
use crate::lang::value::{Number, Type, Value};
use crate::providers::{AttrPath, PathStep};
use crate::state::encryption::{is_encrypted, Crypt};
use crate::state::DeposedKey;

/// The `kind` field of every plan file.
pub const PLAN_FILE_KIND: &str = "terrane-plan";
/// The format version written; files with a higher version are refused.
pub const PLAN_FILE_FORMAT_VERSION: u64 = 1;

/// A plan as saved by `terrane plan -out`.
#[derive(Clone, Debug, Default)]
pub struct SavedPlan {
    pub plan: Plan,
    /// The root module variable values the plan was made with.
    pub variables: BTreeMap<String, Value>,
    /// `config_digest` of the configuration the plan was made from.
    pub config_digest: String,
}

impl SavedPlan {
    /// The file's bytes (pretty-printed JSON with a trailing newline).
    pub fn to_bytes(&self) -> Vec<u8> {
        let p = &self.plan;
        let doc = json!({
            "kind": PLAN_FILE_KIND,
            "format_version": PLAN_FILE_FORMAT_VERSION,
            "terrane_version": env!("CARGO_PKG_VERSION"),
            "config_digest": self.config_digest,
            "variables": self.variables.iter().map(|(k, v)| (k.clone(), encode_value(v))).collect::<Map<String, J>>(),
            "plan": {
                "lineage": p.lineage,
                "serial": p.serial,
                "destroy": p.destroy,
                "changes": p.changes.iter().map(encode_change).collect::<Vec<J>>(),
                "outputs": p.outputs.iter().map(encode_output).collect::<Vec<J>>(),
                "drift": p.drift.iter().map(encode_change).collect::<Vec<J>>(),
                "adopted": p.adopted.iter().map(|a| json!({"address": a.addr.to_string(), "provider": a.provider, "value": encode_value(&a.value)})).collect::<Vec<J>>(),
                "resolved_intents": p.resolved_intents,
                "gone_deposed": p.gone_deposed.iter().map(|(a, k)| json!({"address": a.to_string(), "deposed": k.to_string()})).collect::<Vec<J>>(),
            },
        });
        // Serializing a `serde_json::Value` to a Vec cannot fail (no I/O, string keys).
        let mut bytes = serde_json::to_vec_pretty(&doc).unwrap_or_default();
        bytes.push(b'\n');
        bytes
    }

    /// Reads a plan file; any problem (not JSON, another kind of file, a newer format,
    /// a malformed field) is an error naming what is wrong.
    pub fn from_bytes(b: &[u8]) -> Result<SavedPlan, String> {
        let doc: J = serde_json::from_slice(b)
            .map_err(|e| format!("the plan file is not valid JSON: {e}"))?;
        let top = doc
            .as_object()
            .ok_or("the plan file is not a JSON object")?;
        match top.get("kind").and_then(J::as_str) {
            Some(PLAN_FILE_KIND) => {}
            _ => return Err("the file is not a terrane plan file".into()),
        }
        let version = top
            .get("format_version")
            .and_then(J::as_u64)
            .ok_or("the plan file has no format_version")?;
        if version > PLAN_FILE_FORMAT_VERSION || version == 0 {
            return Err(format!(
                "the plan file has format version {version}, which this version of terrane does not support (it reads version {PLAN_FILE_FORMAT_VERSION}); use the terrane that created it"
            ));
        }
        let config_digest = get_str(top, "config_digest")?.to_string();
        let mut variables = BTreeMap::new();
        for (k, v) in get_obj(top, "variables")? {
            variables.insert(
                k.clone(),
                decode_value(v).map_err(|e| format!("variable {k:?}: {e}"))?,
            );
        }
        let p = get_obj(top, "plan")?;
        let plan = Plan {
            lineage: get_str(p, "lineage")?.to_string(),
            serial: p
                .get("serial")
                .and_then(J::as_u64)
                .ok_or("plan.serial: expected a non-negative integer")?,
            destroy: p
                .get("destroy")
                .and_then(J::as_bool)
                .ok_or("plan.destroy: expected a boolean")?,
            changes: get_arr(p, "changes")?
                .iter()
                .enumerate()
                .map(|(i, c)| decode_change(c).map_err(|e| format!("plan.changes[{i}]: {e}")))
                .collect::<Result<_, _>>()?,
            outputs: get_arr(p, "outputs")?
                .iter()
                .enumerate()
                .map(|(i, c)| decode_output(c).map_err(|e| format!("plan.outputs[{i}]: {e}")))
                .collect::<Result<_, _>>()?,
            drift: get_arr(p, "drift")?
                .iter()
                .enumerate()
                .map(|(i, c)| decode_change(c).map_err(|e| format!("plan.drift[{i}]: {e}")))
                .collect::<Result<_, _>>()?,
            // Absent in plan files written before crash recovery existed.
            adopted: match p.get("adopted") {
                None => Vec::new(),
                Some(_) => get_arr(p, "adopted")?
                    .iter()
                    .enumerate()
                    .map(|(i, a)| {
                        let o = a.as_object().ok_or_else(|| format!("plan.adopted[{i}]: expected an object"))?;
                        Ok(crate::plan::AdoptedObject {
                            addr: parse_addr(get_str(o, "address")?)?,
                            provider: get_str(o, "provider")?.to_string(),
                            value: decode_value(o.get("value").unwrap_or(&J::Null)).map_err(|e| format!("plan.adopted[{i}]: {e}"))?,
                        })
                    })
                    .collect::<Result<_, String>>()?,
            },
            resolved_intents: match p.get("resolved_intents") {
                None => Vec::new(),
                Some(_) => get_arr(p, "resolved_intents")?
                    .iter()
                    .map(|t| t.as_str().map(str::to_string).ok_or_else(|| "plan.resolved_intents: expected strings".to_string()))
                    .collect::<Result<_, String>>()?,
            },
            gone_deposed: match p.get("gone_deposed") {
                None => Vec::new(),
                Some(_) => get_arr(p, "gone_deposed")?
                    .iter()
                    .enumerate()
                    .map(|(i, g)| {
                        let o = g.as_object().ok_or_else(|| format!("plan.gone_deposed[{i}]: expected an object"))?;
                        let key = DeposedKey::parse(get_str(o, "deposed")?).ok_or_else(|| format!("plan.gone_deposed[{i}]: a deposed key is eight hex digits"))?;
                        Ok((parse_addr(get_str(o, "address")?)?, key))
                    })
                    .collect::<Result<_, String>>()?,
            },
        };
        Ok(SavedPlan {
            plan,
            variables,
            config_digest,
        })
    }
}

/// A digest of a configuration: SHA-256 over the (file name, content) pairs sorted by
/// name, each length-prefixed so that no two different sets of files collide by
/// concatenation. Lowercase hex.
pub fn config_digest(files: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = files.iter().collect();
    sorted.sort();
    let mut h = Sha256::new();
    h.update(b"terrane-config-digest-v1\0");
    for (name, content) in sorted {
        h.update((name.len() as u64).to_be_bytes());
        h.update(name.as_bytes());
        h.update((content.len() as u64).to_be_bytes());
        h.update(content.as_bytes());
    }
    hex::encode(h.finalize())
}

/// Writes a plan file readable only by its owner (0600), atomically: readers see the old
/// file or the complete new one, never a partial one.
pub fn write_plan_file(path: &Path, plan: &SavedPlan) -> std::io::Result<()> {
    write_plan_file_with(path, plan, None)
}

/// `write_plan_file`, encrypted with `crypt` when given (the `plan` block of the
/// `encryption` configuration).
pub fn write_plan_file_with(
    path: &Path,
    plan: &SavedPlan,
    crypt: Option<&Crypt>,
) -> std::io::Result<()> {
    let bytes = match crypt {
        None => plan.to_bytes(),
        Some(c) => c
            .encrypt(&plan.to_bytes())
            .map_err(|e| std::io::Error::other(format!("encrypting the plan: {e}")))?,
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    // The temporary file is created with mode 0600 (tempfile's default on Unix); it is set
    // again explicitly so that the guarantee does not depend on that default.
    let mut tmp = tempfile::Builder::new()
        .prefix(".terrane-plan-")
        .suffix(".tmp")
        .tempfile_in(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    tmp.write_all(&bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    #[cfg(unix)]
    {
        // Make the rename durable; failing to open a directory for sync is not an error.
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}

/// Reads and decodes a plan file.
pub fn read_plan_file(path: &Path) -> Result<SavedPlan, String> {
    read_plan_file_with(path, None)
}

/// `read_plan_file`, decrypting with `crypt` when given. An encrypted file without a
/// `crypt`, or a plain one with a `crypt` that has no `unencrypted` fallback, is an error.
pub fn read_plan_file_with(path: &Path, crypt: Option<&Crypt>) -> Result<SavedPlan, String> {
    let bytes = std::fs::read(path)
        .map_err(|e| format!("cannot read plan file {}: {e}", path.display()))?;
    let bytes = match crypt {
        Some(c) => c
            .decrypt(&bytes)
            .map_err(|e| format!("{}: {e}", path.display()))?,
        None if is_encrypted(&bytes) => {
            return Err(format!(
                "{}: the plan file is encrypted, but no `plan` block is configured in the `encryption` block",
                path.display()
            ))
        }
        None => bytes,
    };
    SavedPlan::from_bytes(&bytes).map_err(|e| format!("{}: {e}", path.display()))
}

// ---------------------------------------------------------------------------------------
// Values and types

/// The tagged JSON form of a value: `{"t":"string","v":"x"}`, `{"t":"number","v":"1.5"}`,
/// `{"t":"list"|"set"|"tuple","v":[...]}`, `{"t":"map"|"object","v":{...}}`,
/// `{"t":"null","ty":TYPE}`, `{"t":"unknown","ty":TYPE}`, `{"t":"sensitive","v":VALUE}`.
pub fn encode_value(v: &Value) -> J {
    match v {
        Value::Null(ty) => json!({"t": "null", "ty": encode_type(ty)}),
        Value::Unknown(ty) => json!({"t": "unknown", "ty": encode_type(ty)}),
        Value::Bool(b) => json!({"t": "bool", "v": b}),
        Value::Number(n) => json!({"t": "number", "v": n.to_string()}),
        Value::String(s) => json!({"t": "string", "v": s}),
        Value::List(vs) => {
            json!({"t": "list", "v": vs.iter().map(encode_value).collect::<Vec<J>>()})
        }
        Value::Set(vs) => json!({"t": "set", "v": vs.iter().map(encode_value).collect::<Vec<J>>()}),
        Value::Tuple(vs) => {
            json!({"t": "tuple", "v": vs.iter().map(encode_value).collect::<Vec<J>>()})
        }
        Value::Map(m) => {
            json!({"t": "map", "v": m.iter().map(|(k, v)| (k.clone(), encode_value(v))).collect::<Map<String, J>>()})
        }
        Value::Object(m) => {
            json!({"t": "object", "v": m.iter().map(|(k, v)| (k.clone(), encode_value(v))).collect::<Map<String, J>>()})
        }
        Value::Sensitive(inner) => json!({"t": "sensitive", "v": encode_value(inner)}),
    }
}

/// Decodes `encode_value`'s form, restoring `Value`'s invariants (sorted unique sets, no
/// doubly-marked values).
pub fn decode_value(j: &J) -> Result<Value, String> {
    let o = j.as_object().ok_or("a value must be a JSON object")?;
    let tag = o
        .get("t")
        .and_then(J::as_str)
        .ok_or("a value has no \"t\" tag")?;
    let v = || {
        o.get("v")
            .ok_or_else(|| format!("a {tag} value has no \"v\""))
    };
    let seq = || -> Result<Vec<Value>, String> {
        v()?.as_array()
            .ok_or_else(|| format!("a {tag} value must hold an array"))?
            .iter()
            .map(decode_value)
            .collect()
    };
    let mapping = || -> Result<BTreeMap<String, Value>, String> {
        v()?.as_object()
            .ok_or_else(|| format!("a {tag} value must hold an object"))?
            .iter()
            .map(|(k, e)| decode_value(e).map(|e| (k.clone(), e)))
            .collect()
    };
    let ty = || -> Result<Type, String> {
        decode_type(
            o.get("ty")
                .ok_or_else(|| format!("a {tag} value has no type"))?,
        )
    };
    Ok(match tag {
        "null" => Value::Null(ty()?),
        "unknown" => Value::Unknown(ty()?),
        "bool" => Value::Bool(
            v()?.as_bool()
                .ok_or("a bool value must hold true or false")?,
        ),
        "number" => {
            let s = v()?
                .as_str()
                .ok_or("a number value must hold a decimal string")?;
            Value::Number(Number::parse(s).ok_or_else(|| format!("{s:?} is not a number"))?)
        }
        "string" => Value::String(
            v()?.as_str()
                .ok_or("a string value must hold a string")?
                .to_string(),
        ),
        "list" => Value::List(seq()?),
        "set" => Value::set_from(seq()?),
        "tuple" => Value::Tuple(seq()?),
        "map" => Value::Map(mapping()?),
        "object" => Value::Object(mapping()?),
        "sensitive" => decode_value(v()?)?.mark_sensitive(),
        other => return Err(format!("unknown value tag {other:?}")),
    })
}

/// Types: `"string"`, `"number"`, `"bool"`, `"dynamic"`, `{"list": T}`, `{"set": T}`,
/// `{"map": T}`, `{"tuple": [T, ...]}`, `{"object": {"name": T}}`.
fn encode_type(t: &Type) -> J {
    match t {
        Type::Dynamic => json!("dynamic"),
        Type::Bool => json!("bool"),
        Type::Number => json!("number"),
        Type::String => json!("string"),
        Type::List(e) => json!({"list": encode_type(e)}),
        Type::Set(e) => json!({"set": encode_type(e)}),
        Type::Map(e) => json!({"map": encode_type(e)}),
        Type::Tuple(ts) => json!({"tuple": ts.iter().map(encode_type).collect::<Vec<J>>()}),
        Type::Object(m) => {
            json!({"object": m.iter().map(|(k, t)| (k.clone(), encode_type(t))).collect::<Map<String, J>>()})
        }
    }
}

fn decode_type(j: &J) -> Result<Type, String> {
    if let Some(s) = j.as_str() {
        return match s {
            "dynamic" => Ok(Type::Dynamic),
            "bool" => Ok(Type::Bool),
            "number" => Ok(Type::Number),
            "string" => Ok(Type::String),
            other => Err(format!("unknown type {other:?}")),
        };
    }
    let o = j
        .as_object()
        .filter(|o| o.len() == 1)
        .ok_or("a type must be a name or a one-key object")?;
    let (k, inner) = o
        .iter()
        .next()
        .ok_or("a type must be a name or a one-key object")?;
    match k.as_str() {
        "list" => Ok(Type::list(decode_type(inner)?)),
        "set" => Ok(Type::set(decode_type(inner)?)),
        "map" => Ok(Type::map(decode_type(inner)?)),
        "tuple" => Ok(Type::Tuple(
            inner
                .as_array()
                .ok_or("a tuple type must hold an array")?
                .iter()
                .map(decode_type)
                .collect::<Result<_, _>>()?,
        )),
        "object" => Ok(Type::Object(
            inner
                .as_object()
                .ok_or("an object type must hold an object")?
                .iter()
                .map(|(n, t)| decode_type(t).map(|t| (n.clone(), t)))
                .collect::<Result<_, _>>()?,
        )),
        other => Err(format!("unknown type {other:?}")),
    }
}

// ---------------------------------------------------------------------------------------
// Changes

fn encode_opt_value(v: &Option<Value>) -> J {
    v.as_ref().map(encode_value).unwrap_or(J::Null)
}

fn decode_opt_value(o: &Map<String, J>, key: &str) -> Result<Option<Value>, String> {
    match o.get(key) {
        None | Some(J::Null) => Ok(None),
        Some(j) => decode_value(j).map(Some).map_err(|e| format!("{key}: {e}")),
    }
}

fn encode_path(p: &AttrPath) -> J {
    J::Array(
        p.iter()
            .map(|s| match s {
                PathStep::Attr(n) => json!({"attr": n}),
                PathStep::Index(i) => json!({"index": i}),
                PathStep::Key(k) => json!({"key": k}),
            })
            .collect(),
    )
}

fn decode_path(j: &J) -> Result<AttrPath, String> {
    let steps = j.as_array().ok_or("an attribute path must be an array")?;
    steps
        .iter()
        .map(|s| {
            let o = s
                .as_object()
                .filter(|o| o.len() == 1)
                .ok_or("a path step must be a one-key object")?;
            if let Some(n) = o.get("attr") {
                Ok(PathStep::Attr(
                    n.as_str()
                        .ok_or("attr step must hold a string")?
                        .to_string(),
                ))
            } else if let Some(i) = o.get("index") {
                Ok(PathStep::Index(
                    i.as_i64().ok_or("index step must hold an integer")?,
                ))
            } else if let Some(k) = o.get("key") {
                Ok(PathStep::Key(
                    k.as_str().ok_or("key step must hold a string")?.to_string(),
                ))
            } else {
                Err("unknown path step".to_string())
            }
        })
        .collect()
}

fn encode_change(c: &ResourceChange) -> J {
    json!({
        "addr": c.addr.to_string(),
        "provider": c.provider,
        "action": serde_json::to_value(c.action).unwrap_or(J::Null),
        "reason": serde_json::to_value(&c.reason).unwrap_or(J::Null),
        "before": encode_opt_value(&c.before),
        "after": encode_opt_value(&c.after),
        "requires_replace": c.requires_replace.iter().map(encode_path).collect::<Vec<J>>(),
        "moved_from": c.moved_from.as_ref().map(|a| J::String(a.to_string())).unwrap_or(J::Null),
        "deposed": c.deposed.as_ref().map(|k| J::String(k.to_string())).unwrap_or(J::Null),
    })
}

fn parse_addr(s: &str) -> Result<AbsResourceInstance, String> {
    s.parse::<AbsResourceInstance>().map_err(|e| e.to_string())
}

fn decode_change(j: &J) -> Result<ResourceChange, String> {
    let o = j.as_object().ok_or("a change must be an object")?;
    let addr = parse_addr(get_str(o, "addr")?)?;
    let action: Action = serde_json::from_value(o.get("action").cloned().unwrap_or(J::Null))
        .map_err(|e| format!("{addr}: action: {e}"))?;
    let reason: ActionReason = serde_json::from_value(o.get("reason").cloned().unwrap_or(J::Null))
        .map_err(|e| format!("{addr}: reason: {e}"))?;
    let requires_replace = get_arr(o, "requires_replace")?
        .iter()
        .map(decode_path)
        .collect::<Result<_, _>>()
        .map_err(|e| format!("{addr}: requires_replace: {e}"))?;
    let moved_from = match o.get("moved_from") {
        None | Some(J::Null) => None,
        Some(J::String(s)) => Some(parse_addr(s)?),
        Some(_) => return Err(format!("{addr}: moved_from must be an address")),
    };
    let deposed = match o.get("deposed") {
        None | Some(J::Null) => None,
        Some(J::String(s)) => Some(DeposedKey::parse(s).ok_or_else(|| format!("{addr}: deposed must be a key of eight hex digits"))?),
        Some(_) => return Err(format!("{addr}: deposed must be a string")),
    };
    Ok(ResourceChange {
        provider: get_str(o, "provider")?.to_string(),
        action,
        reason,
        before: decode_opt_value(o, "before").map_err(|e| format!("{addr}: {e}"))?,
        after: decode_opt_value(o, "after").map_err(|e| format!("{addr}: {e}"))?,
        requires_replace,
        moved_from,
        deposed,
        addr,
    })
}

fn encode_output(c: &OutputChange) -> J {
    json!({
        "name": c.name,
        "action": serde_json::to_value(c.action).unwrap_or(J::Null),
        "before": encode_opt_value(&c.before),
        "after": encode_opt_value(&c.after),
        "sensitive": c.sensitive,
    })
}

fn decode_output(j: &J) -> Result<OutputChange, String> {
    let o = j.as_object().ok_or("an output change must be an object")?;
    let name = get_str(o, "name")?.to_string();
    let action: Action = serde_json::from_value(o.get("action").cloned().unwrap_or(J::Null))
        .map_err(|e| format!("output {name}: action: {e}"))?;
    Ok(OutputChange {
        action,
        before: decode_opt_value(o, "before").map_err(|e| format!("output {name}: {e}"))?,
        after: decode_opt_value(o, "after").map_err(|e| format!("output {name}: {e}"))?,
        sensitive: o
            .get("sensitive")
            .and_then(J::as_bool)
            .ok_or_else(|| format!("output {name}: sensitive must be a boolean"))?,
        name,
    })
}

fn get_str<'a>(o: &'a Map<String, J>, key: &str) -> Result<&'a str, String> {
    o.get(key)
        .and_then(J::as_str)
        .ok_or_else(|| format!("{key}: expected a string"))
}

fn get_obj<'a>(o: &'a Map<String, J>, key: &str) -> Result<&'a Map<String, J>, String> {
    o.get(key)
        .and_then(J::as_object)
        .ok_or_else(|| format!("{key}: expected an object"))
}

fn get_arr<'a>(o: &'a Map<String, J>, key: &str) -> Result<&'a Vec<J>, String> {
    o.get(key)
        .and_then(J::as_array)
        .ok_or_else(|| format!("{key}: expected an array"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::attr_path;

    fn addr(s: &str) -> AbsResourceInstance {
        s.parse().expect("test addresses are valid")
    }

    /// Strict comparison: `Value`'s `==` treats lists and tuples (and maps and objects) as
    /// the same, so compare the debug forms, which keep every variant and type.
    fn strict<T: std::fmt::Debug>(v: &T) -> String {
        format!("{v:?}")
    }

    fn all_actions() -> Vec<Action> {
        vec![
            Action::NoOp,
            Action::Create,
            Action::Read,
            Action::Update,
            Action::DeleteThenCreate,
            Action::CreateThenDelete,
            Action::Delete,
        ]
    }

    fn all_reasons() -> Vec<ActionReason> {
        vec![
            ActionReason::None,
            ActionReason::ReplaceBecauseCannotUpdate,
            ActionReason::ReplaceBecauseTainted,
            ActionReason::ReplaceByTriggers {
                trigger: "aws_instance.a.id".into(),
            },
            ActionReason::ReplaceByRequest,
            ActionReason::DeleteBecauseNoResourceConfig,
            ActionReason::DeleteBecauseCountIndex,
            ActionReason::DeleteBecauseEachKey,
            ActionReason::DeleteBecauseNoModule,
            ActionReason::CreateBecauseGone,
            ActionReason::ReadBecauseConfigUnknown,
        ]
    }

    fn rich_value() -> Value {
        Value::object([
            (
                "list_with_unknown",
                Value::List(vec![
                    Value::string("a"),
                    Value::Unknown(Type::String),
                    Value::Null(Type::String),
                ]),
            ),
            (
                "tuple",
                Value::Tuple(vec![Value::int(1), Value::Bool(true)]),
            ),
            (
                "set",
                Value::set_from(vec![Value::string("z"), Value::string("a")]),
            ),
            (
                "map",
                Value::Map(
                    [("k".to_string(), Value::number(0.1))]
                        .into_iter()
                        .collect(),
                ),
            ),
            ("secret", Value::string("s3cr3t").mark_sensitive()),
            (
                "secret_list",
                Value::List(vec![
                    Value::string("x").mark_sensitive(),
                    Value::string("y"),
                ]),
            ),
            (
                "typed_unknown",
                Value::Unknown(Type::Object(
                    [("a".to_string(), Type::list(Type::Number))]
                        .into_iter()
                        .collect(),
                )),
            ),
            (
                "typed_null",
                Value::Null(Type::Tuple(vec![
                    Type::set(Type::Bool),
                    Type::map(Type::Dynamic),
                ])),
            ),
            ("big", Value::number(1e300)),
            ("neg", Value::number(-12345.678)),
            ("huge_int", Value::int(9_007_199_254_740_993)),
            ("unicode", Value::string("héllo \"quoted\"\n\u{1F600}")),
            ("empty_object", Value::object(Vec::<(String, Value)>::new())),
        ])
    }

    fn sample() -> SavedPlan {
        let mut changes = Vec::new();
        for (i, action) in all_actions().into_iter().enumerate() {
            changes.push(ResourceChange {
                addr: addr(&format!("module.m[\"k\"].aws_instance.web[{i}]")),
                provider: "provider[\"registry.terraform.io/hashicorp/aws\"]".into(),
                action,
                reason: ActionReason::None,
                before: if i % 2 == 0 { Some(rich_value()) } else { None },
                after: Some(rich_value()),
                requires_replace: vec![
                    attr_path(&["ami"]),
                    vec![
                        PathStep::Attr("disk".into()),
                        PathStep::Index(0),
                        PathStep::Key("k".into()),
                    ],
                ],
                moved_from: if i == 3 {
                    Some(addr("aws_instance.old"))
                } else {
                    None
                },
                deposed: (i == 4).then(|| crate::state::DeposedKey::parse("1a2b3c4d").unwrap()),
            });
        }
        for (i, reason) in all_reasons().into_iter().enumerate() {
            changes.push(ResourceChange {
                addr: addr(&format!("data.x_y.z[\"r{i}\"]")),
                provider: "provider[\"terrane/builtin/x\"]".into(),
                action: Action::Delete,
                reason,
                before: None,
                after: None,
                requires_replace: Vec::new(),
                moved_from: None,
                deposed: None,
            });
        }
        let plan = Plan {
            drift: vec![changes[3].clone()],
            changes,
            outputs: all_actions()
                .into_iter()
                .map(|a| OutputChange {
                    name: format!("o_{a:?}"),
                    action: a,
                    before: None,
                    after: Some(Value::Unknown(Type::Dynamic)),
                    sensitive: a == Action::Create,
                })
                .collect(),
            lineage: "6f1c0b8e-lineage".into(),
            serial: 42,
            destroy: true,
            adopted: vec![crate::plan::AdoptedObject {
                addr: addr("aws_instance.web[1]"),
                provider: "provider[\"registry.terraform.io/hashicorp/aws\"]".into(),
                value: Value::object([("id", Value::string("i-0abc"))]),
            }],
            resolved_intents: vec!["tok-1".into(), "tok-2".into()],
            gone_deposed: vec![(addr("aws_instance.web[1]"), crate::state::DeposedKey::parse("0000beef").unwrap())],
        };
        let variables = [
            ("region".to_string(), Value::string("eu-west-1")),
            ("password".to_string(), Value::string("pw").mark_sensitive()),
        ]
        .into_iter()
        .collect();
        SavedPlan {
            plan,
            variables,
            config_digest: config_digest(&[("main.tf".into(), "x".into())]),
        }
    }

    #[test]
    fn round_trip_keeps_everything() {
        let saved = sample();
        let bytes = saved.to_bytes();
        let back = SavedPlan::from_bytes(&bytes).expect("round trip");
        assert_eq!(strict(&back.plan), strict(&saved.plan));
        assert_eq!(strict(&back.variables), strict(&saved.variables));
        assert_eq!(back.config_digest, saved.config_digest);
        // And the encoding is stable.
        assert_eq!(back.to_bytes(), bytes);
    }

    #[test]
    fn every_action_and_reason_round_trips() {
        let back = SavedPlan::from_bytes(&sample().to_bytes()).expect("round trip");
        let actions: Vec<Action> = back.plan.changes.iter().take(7).map(|c| c.action).collect();
        assert_eq!(actions, all_actions());
        let reasons: Vec<ActionReason> = back
            .plan
            .changes
            .iter()
            .skip(7)
            .map(|c| c.reason.clone())
            .collect();
        assert_eq!(reasons, all_reasons());
    }

    #[test]
    fn unknowns_sensitive_and_kinds_survive() {
        let v = rich_value();
        let back = decode_value(&encode_value(&v)).expect("decode");
        assert_eq!(strict(&back), strict(&v));
        let list = back
            .get_attr("list_with_unknown")
            .and_then(|l| l.as_seq())
            .expect("list");
        assert!(matches!(list[1], Value::Unknown(Type::String)));
        assert!(matches!(back.get_attr("secret"), Some(Value::Sensitive(_))));
        assert!(matches!(back.get_attr("tuple"), Some(Value::Tuple(_))));
        assert!(matches!(back.get_attr("map"), Some(Value::Map(_))));
        assert!(matches!(
            back.get_attr("empty_object"),
            Some(Value::Object(_))
        ));
        // The sensitive value is in the file (apply needs it): the file is a secret.
        let text = String::from_utf8(
            SavedPlan {
                variables: [("v".to_string(), v)].into_iter().collect(),
                ..SavedPlan::default()
            }
            .to_bytes(),
        )
        .expect("utf-8");
        assert!(text.contains("s3cr3t"));
        assert!(text.contains("\"t\": \"sensitive\""));
    }

    #[test]
    fn decoding_restores_invariants() {
        // Unsorted, duplicated set elements and a doubly-marked value.
        let j = json!({"t": "set", "v": [
            {"t": "string", "v": "b"}, {"t": "string", "v": "a"}, {"t": "string", "v": "b"},
            {"t": "sensitive", "v": {"t": "sensitive", "v": {"t": "string", "v": "c"}}}
        ]});
        let v = decode_value(&j).expect("decode");
        let elems = v.as_seq().expect("set");
        assert_eq!(elems.len(), 3);
        assert_eq!(elems[0].as_str(), Some("a"));
        assert!(
            matches!(&elems[2], Value::Sensitive(inner) if !matches!(**inner, Value::Sensitive(_)))
        );
    }

    #[test]
    fn corrupt_files_are_errors() {
        let good = String::from_utf8(sample().to_bytes()).expect("utf-8");
        let cases: Vec<Vec<u8>> = vec![
            b"".to_vec(),
            b"\xff\xfe garbage".to_vec(),
            b"[]".to_vec(),
            b"{}".to_vec(),
            good.as_bytes()[..good.len() / 2].to_vec(),
            good.replace("\"terrane-plan\"", "\"terraform-plan\"")
                .into_bytes(),
            good.replace("\"format_version\": 1", "\"format_version\": 2")
                .into_bytes(),
            good.replace("\"format_version\": 1", "\"format_version\": \"1\"")
                .into_bytes(),
            good.replacen(
                "module.m[\\\"k\\\"].aws_instance.web[0]",
                "not an address",
                1,
            )
            .into_bytes(),
            good.replacen("\"t\": \"number\"", "\"t\": \"numbr\"", 1)
                .into_bytes(),
            good.replacen("\"v\": \"0.1\"", "\"v\": \"zero point one\"", 1)
                .into_bytes(),
            good.replacen("\"action\": \"create\"", "\"action\": \"explode\"", 1)
                .into_bytes(),
            good.replacen(
                "\"kind\": \"replace_by_triggers\"",
                "\"kind\": \"whatever\"",
                1,
            )
            .into_bytes(),
            good.replacen("\"serial\": 42", "\"serial\": -1", 1)
                .into_bytes(),
            good.replacen("\"ty\": \"string\"", "\"ty\": {\"list\": \"strin\"}", 1)
                .into_bytes(),
            good.replacen("\"index\": 0", "\"index\": \"zero\"", 1)
                .into_bytes(),
        ];
        for (i, bytes) in cases.iter().enumerate() {
            assert!(
                SavedPlan::from_bytes(bytes).is_err(),
                "case {i} should be refused"
            );
        }
        // Each replacement above really applied (otherwise the case tests nothing).
        for (i, bytes) in cases.iter().enumerate().skip(5) {
            assert_ne!(
                bytes.as_slice(),
                good.as_bytes(),
                "case {i} did not change the file"
            );
        }
        let err = SavedPlan::from_bytes(cases[6].as_slice())
            .err()
            .unwrap_or_default();
        assert!(err.contains("format version 2"), "{err}");
        // Deeply nested input is refused by the JSON parser, not a stack overflow.
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(SavedPlan::from_bytes(deep.as_bytes()).is_err());
    }

    #[test]
    fn config_digest_is_order_independent_and_unambiguous() {
        let a = config_digest(&[("a.tf".into(), "x".into()), ("b.tf".into(), "y".into())]);
        let b = config_digest(&[("b.tf".into(), "y".into()), ("a.tf".into(), "x".into())]);
        assert_eq!(a, b);
        assert_eq!(a.len(), 64);
        assert_ne!(
            a,
            config_digest(&[("a.tf".into(), "x".into()), ("b.tf".into(), "z".into())])
        );
        assert_ne!(
            config_digest(&[("ab".into(), "c".into())]),
            config_digest(&[("a".into(), "bc".into())])
        );
        assert_ne!(
            config_digest(&[]),
            config_digest(&[("a".into(), "".into())])
        );
    }

    #[test]
    fn plan_file_is_private_and_replaced_atomically() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("tfplan");
        std::fs::write(&path, b"old").expect("seed");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        }
        let saved = sample();
        write_plan_file(&path, &saved).expect("write");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).expect("stat").permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        let back = read_plan_file(&path).expect("read");
        assert_eq!(strict(&back.plan), strict(&saved.plan));
        // No temporary files are left behind.
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .expect("ls")
            .filter_map(|e| e.ok())
            .map(|e| e.file_name())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
        assert!(read_plan_file(&dir.path().join("missing")).is_err());
    }
}
