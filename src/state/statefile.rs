//! The state file format: `State` to and from versioned JSON text.
//!
//! Owns the on-disk layout, which follows Terraform's state format version 4 so that the
//! files can be read with the tools people already know (`jq`, Terraform's own docs):
//! `version`, `terraform_version`, `serial`, `lineage`, `outputs`, `resources` (each with
//! `module`, `mode`, `type`, `name`, `provider` and `instances`), plus terrane's own
//! `terrane_version` and a `pending` array of create intents. Writing is pure and
//! deterministic (same `State`, same bytes). Reading never panics: anything malformed is a
//! `StateError::Corrupt` naming the file and the field that is wrong.
//!
//! This module must not do I/O, take locks or judge lineage and serial (that is the
//! backends' job), and it must not type attribute values: attributes come back untyped via
//! `Value::from_json` and the engine re-types them with the provider schema.

use std::collections::BTreeMap;

use serde_json::{Map, Value as J};

use crate::addrs::{
    AbsResource, AbsResourceInstance, InstanceKey, ModuleInstance, Resource, ResourceMode,
};
use crate::lang::value::{Type, Value};
use crate::state::backend::StateError;
use crate::state::{
    DeposedKey, InstanceObject, ObjectStatus, OutputState, PendingCreate, ResourceState, State,
};

/// The only state format version terrane reads and writes.
pub const FORMAT_VERSION: u64 = 4;

// ---- writing -----------------------------------------------------------------------------

/// Serialises `state` as pretty-printed JSON ending in a newline. Deterministic: maps are
/// written in key order and resources in address order. `terraform_version` and
/// `terrane_version` both carry `state.terrane_version` (the caller decides which version
/// is recorded; `State::new` uses the running one).
pub fn to_json(state: &State) -> String {
    let mut top = Map::new();
    top.insert("version".into(), J::from(FORMAT_VERSION));
    top.insert(
        "terraform_version".into(),
        J::String(state.terrane_version.clone()),
    );
    top.insert(
        "terrane_version".into(),
        J::String(state.terrane_version.clone()),
    );
    top.insert("serial".into(), J::from(state.serial));
    top.insert("lineage".into(), J::String(state.lineage.clone()));

    let mut outputs = Map::new();
    for (name, out) in &state.outputs {
        let mut o = Map::new();
        o.insert("value".into(), out.value.to_json());
        o.insert("type".into(), type_to_json(&out.value.type_of()));
        o.insert("sensitive".into(), J::Bool(out.sensitive));
        outputs.insert(name.clone(), J::Object(o));
    }
    top.insert("outputs".into(), J::Object(outputs));

    let resources: Vec<J> = state
        .resources
        .iter()
        .map(|(addr, rs)| resource_to_json(addr, rs))
        .collect();
    top.insert("resources".into(), J::Array(resources));

    if !state.pending.is_empty() {
        let pending: Vec<J> = state.pending.iter().map(pending_to_json).collect();
        top.insert("pending".into(), J::Array(pending));
    }

    let j = J::Object(top);
    // Serialising a `serde_json::Value` only fails for non-string map keys, which a
    // `Value` cannot have; the compact form is an infallible fallback all the same.
    let mut text = serde_json::to_string_pretty(&j).unwrap_or_else(|_| j.to_string());
    text.push('\n');
    text
}

fn pending_to_json(p: &PendingCreate) -> J {
    let mut o = Map::new();
    o.insert("address".into(), J::String(p.address.clone()));
    o.insert("provider".into(), J::String(p.provider.clone()));
    o.insert("token".into(), J::String(p.token.clone()));
    o.insert("started".into(), J::String(p.started.clone()));
    J::Object(o)
}

fn resource_to_json(addr: &AbsResource, rs: &ResourceState) -> J {
    let mut o = Map::new();
    if !addr.module.is_root() {
        o.insert("module".into(), J::String(addr.module.to_string()));
    }
    let mode = match addr.resource.mode {
        ResourceMode::Managed => "managed",
        ResourceMode::Data => "data",
    };
    o.insert("mode".into(), J::String(mode.into()));
    o.insert("type".into(), J::String(addr.resource.type_.clone()));
    o.insert("name".into(), J::String(addr.resource.name.clone()));
    o.insert("provider".into(), J::String(rs.provider.clone()));
    // Terraform's order: by instance key, each current object before its deposed ones,
    // those by deposed key.
    let mut objects: Vec<(&InstanceKey, Option<&DeposedKey>, &InstanceObject)> = rs
        .instances
        .iter()
        .map(|(key, obj)| (key, None, obj))
        .chain(rs.deposed.iter().map(|((key, dk), obj)| (key, Some(dk), obj)))
        .collect();
    objects.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
    let instances: Vec<J> = objects
        .into_iter()
        .map(|(key, dk, obj)| instance_to_json(key, dk, obj))
        .collect();
    o.insert("instances".into(), J::Array(instances));
    J::Object(o)
}

fn instance_to_json(key: &InstanceKey, deposed: Option<&DeposedKey>, obj: &InstanceObject) -> J {
    let mut o = Map::new();
    match key {
        InstanceKey::None => {}
        InstanceKey::Int(i) => {
            o.insert("index_key".into(), J::from(*i));
        }
        InstanceKey::Str(s) => {
            o.insert("index_key".into(), J::String(s.clone()));
        }
    }
    if obj.status == ObjectStatus::Tainted {
        o.insert("status".into(), J::String("tainted".into()));
    }
    if let Some(dk) = deposed {
        o.insert("deposed".into(), J::String(dk.to_string()));
    }
    o.insert("schema_version".into(), J::from(obj.schema_version));
    o.insert("attributes".into(), obj.attributes.to_json());
    // Terraform's path encoding: one `get_attr` step per recorded top-level attribute.
    let sensitive: Vec<J> = obj
        .sensitive_attrs
        .iter()
        .map(|a| serde_json::json!([{"type": "get_attr", "value": a}]))
        .collect();
    o.insert("sensitive_attributes".into(), J::Array(sensitive));
    if let Some(p) = &obj.private {
        o.insert("private".into(), p.clone());
    }
    let deps: Vec<J> = obj
        .dependencies
        .iter()
        .map(|d| J::String(d.to_string()))
        .collect();
    o.insert("dependencies".into(), J::Array(deps));
    if obj.create_before_destroy {
        o.insert("create_before_destroy".into(), J::Bool(true));
    }
    J::Object(o)
}

/// Terraform's JSON type encoding: `"string"`, `["list","string"]`,
/// `["object",{"a":"number"}]`, `["tuple",["bool"]]`, `"dynamic"`.
pub fn type_to_json(t: &Type) -> J {
    match t {
        Type::Dynamic => J::String("dynamic".into()),
        Type::Bool => J::String("bool".into()),
        Type::Number => J::String("number".into()),
        Type::String => J::String("string".into()),
        Type::List(e) => J::Array(vec![J::String("list".into()), type_to_json(e)]),
        Type::Set(e) => J::Array(vec![J::String("set".into()), type_to_json(e)]),
        Type::Map(e) => J::Array(vec![J::String("map".into()), type_to_json(e)]),
        Type::Tuple(ts) => J::Array(vec![
            J::String("tuple".into()),
            J::Array(ts.iter().map(type_to_json).collect()),
        ]),
        Type::Object(m) => J::Array(vec![
            J::String("object".into()),
            J::Object(
                m.iter()
                    .map(|(k, t)| (k.clone(), type_to_json(t)))
                    .collect(),
            ),
        ]),
    }
}

/// Decodes Terraform's JSON type encoding (the inverse of `type_to_json`). An object
/// type's optional third element (its optional attributes) is accepted and ignored.
pub fn type_from_json(j: &J) -> Result<Type, String> {
    match j {
        J::String(s) => match s.as_str() {
            "dynamic" => Ok(Type::Dynamic),
            "bool" => Ok(Type::Bool),
            "number" => Ok(Type::Number),
            "string" => Ok(Type::String),
            other => Err(format!("unknown type {other:?}")),
        },
        J::Array(a) => {
            let kind = a
                .first()
                .and_then(J::as_str)
                .ok_or_else(|| "a type array must start with its kind".to_string())?;
            let arg = a
                .get(1)
                .ok_or_else(|| format!("type {kind:?} has no element type"))?;
            match kind {
                "list" => Ok(Type::list(type_from_json(arg)?)),
                "set" => Ok(Type::set(type_from_json(arg)?)),
                "map" => Ok(Type::map(type_from_json(arg)?)),
                "tuple" => {
                    let elems = arg.as_array().ok_or_else(|| {
                        "a tuple type needs an array of element types".to_string()
                    })?;
                    Ok(Type::Tuple(
                        elems.iter().map(type_from_json).collect::<Result<_, _>>()?,
                    ))
                }
                "object" => {
                    let attrs = arg.as_object().ok_or_else(|| {
                        "an object type needs an object of attribute types".to_string()
                    })?;
                    let mut m = BTreeMap::new();
                    for (k, t) in attrs {
                        m.insert(k.clone(), type_from_json(t)?);
                    }
                    Ok(Type::Object(m))
                }
                other => Err(format!("unknown type kind {other:?}")),
            }
        }
        _ => Err("a type must be a string or an array".to_string()),
    }
}

// ---- reading -----------------------------------------------------------------------------

/// Parses state file text. `path_for_errors` names the file in `StateError::Corrupt`.
/// Required: `version` (must be 4), `serial`, `lineage`. Everything else may be missing.
/// Attribute and output values come back untyped (`Value::from_json`), except that an
/// output with a `type` is decoded with that type.
pub fn from_json(text: &str, path_for_errors: &str) -> Result<State, StateError> {
    let corrupt = |reason: String| StateError::Corrupt {
        path: path_for_errors.to_string(),
        reason,
    };
    if text.trim().is_empty() {
        return Err(corrupt("the file is empty".into()));
    }
    let j: J = serde_json::from_str(text).map_err(|e| {
        let what = if e.is_eof() {
            "the file is truncated"
        } else {
            "invalid JSON"
        };
        corrupt(format!(
            "{what} (line {}, column {}): {e}",
            e.line(),
            e.column()
        ))
    })?;
    let top = j
        .as_object()
        .ok_or_else(|| corrupt("the top level is not a JSON object".into()))?;

    match top.get("version") {
        None => return Err(corrupt("there is no \"version\" field; this is not a Terraform-format state file".into())),
        Some(v) => match v.as_u64() {
            Some(FORMAT_VERSION) => {}
            Some(n) => {
                return Err(corrupt(format!(
                    "unsupported state format version {n}: terrane reads only version {FORMAT_VERSION} \
                     (the format of Terraform 0.12 and later)"
                )))
            }
            None => return Err(corrupt(format!("\"version\" must be a whole number, found {v}"))),
        },
    }

    let serial = match top.get("serial") {
        Some(v) => v.as_u64().ok_or_else(|| {
            corrupt(format!(
                "\"serial\" must be a non-negative whole number, found {v}"
            ))
        })?,
        None => return Err(corrupt("there is no \"serial\" field".into())),
    };
    let lineage = match top.get("lineage") {
        Some(J::String(s)) => s.clone(),
        Some(v) => return Err(corrupt(format!("\"lineage\" must be a string, found {v}"))),
        None => return Err(corrupt("there is no \"lineage\" field".into())),
    };
    let terrane_version = match (top.get("terrane_version"), top.get("terraform_version")) {
        (Some(J::String(s)), _) => s.clone(),
        (_, Some(J::String(s))) => s.clone(),
        _ => String::new(),
    };

    let mut outputs = BTreeMap::new();
    match top.get("outputs") {
        None | Some(J::Null) => {}
        Some(J::Object(m)) => {
            for (name, o) in m {
                let out =
                    read_output(name, o).map_err(|r| corrupt(format!("outputs.{name}: {r}")))?;
                outputs.insert(name.clone(), out);
            }
        }
        Some(v) => {
            return Err(corrupt(format!(
                "\"outputs\" must be an object, found {}",
                kind(v)
            )))
        }
    }

    let mut resources: BTreeMap<AbsResource, ResourceState> = BTreeMap::new();
    match top.get("resources") {
        None | Some(J::Null) => {}
        Some(J::Array(rs)) => {
            for (i, r) in rs.iter().enumerate() {
                let (addr, rstate) = read_resource(r)
                    .map_err(|reason| corrupt(format!("resources[{i}]: {reason}")))?;
                if resources.contains_key(&addr) {
                    return Err(corrupt(format!(
                        "resources[{i}]: {addr} appears more than once"
                    )));
                }
                resources.insert(addr, rstate);
            }
        }
        Some(v) => {
            return Err(corrupt(format!(
                "\"resources\" must be an array, found {}",
                kind(v)
            )))
        }
    }

    let mut pending = Vec::new();
    match top.get("pending") {
        None | Some(J::Null) => {}
        Some(J::Array(ps)) => {
            for (i, p) in ps.iter().enumerate() {
                let pc: PendingCreate = serde_json::from_value(p.clone())
                    .map_err(|e| corrupt(format!("pending[{i}]: {e}")))?;
                pending.push(pc);
            }
        }
        Some(v) => {
            return Err(corrupt(format!(
                "\"pending\" must be an array, found {}",
                kind(v)
            )))
        }
    }

    Ok(State {
        lineage,
        serial,
        terrane_version,
        outputs,
        resources,
        pending,
    })
}

/// "an object", "a string", ... for messages.
fn kind(v: &J) -> &'static str {
    match v {
        J::Null => "null",
        J::Bool(_) => "a boolean",
        J::Number(_) => "a number",
        J::String(_) => "a string",
        J::Array(_) => "an array",
        J::Object(_) => "an object",
    }
}

fn read_output(_name: &str, o: &J) -> Result<OutputState, String> {
    let o = o
        .as_object()
        .ok_or_else(|| format!("expected an object, found {}", kind(o)))?;
    let sensitive = match o.get("sensitive") {
        None | Some(J::Null) => false,
        Some(J::Bool(b)) => *b,
        Some(v) => {
            return Err(format!(
                "\"sensitive\" must be a boolean, found {}",
                kind(v)
            ))
        }
    };
    let raw = o.get("value").cloned().unwrap_or(J::Null);
    let value = match o.get("type") {
        None | Some(J::Null) => Value::from_json(&raw),
        Some(t) => {
            let ty = type_from_json(t).map_err(|r| format!("\"type\": {r}"))?;
            Value::from_json_typed(&raw, &ty)
        }
    };
    Ok(OutputState { value, sensitive })
}

fn req_str<'a>(o: &'a Map<String, J>, field: &str) -> Result<&'a str, String> {
    match o.get(field) {
        Some(J::String(s)) => Ok(s),
        Some(v) => Err(format!("\"{field}\" must be a string, found {}", kind(v))),
        None => Err(format!("there is no \"{field}\" field")),
    }
}

fn read_resource(r: &J) -> Result<(AbsResource, ResourceState), String> {
    let o = r
        .as_object()
        .ok_or_else(|| format!("expected an object, found {}", kind(r)))?;
    let module = match o.get("module") {
        None | Some(J::Null) => ModuleInstance::root(),
        Some(J::String(s)) => s
            .parse::<ModuleInstance>()
            .map_err(|e| format!("\"module\": {e}"))?,
        Some(v) => return Err(format!("\"module\" must be a string, found {}", kind(v))),
    };
    let mode = match o.get("mode") {
        None | Some(J::Null) => ResourceMode::Managed,
        Some(J::String(s)) if s == "managed" => ResourceMode::Managed,
        Some(J::String(s)) if s == "data" => ResourceMode::Data,
        Some(v) => {
            return Err(format!(
                "\"mode\" must be \"managed\" or \"data\", found {v}"
            ))
        }
    };
    let type_ = req_str(o, "type")?.to_string();
    let name = req_str(o, "name")?.to_string();
    let provider = match o.get("provider") {
        None | Some(J::Null) => String::new(),
        Some(J::String(s)) => s.clone(),
        Some(v) => return Err(format!("\"provider\" must be a string, found {}", kind(v))),
    };
    let addr = AbsResource {
        module,
        resource: Resource { mode, type_, name },
    };

    let mut instances = BTreeMap::new();
    let mut deposed = BTreeMap::new();
    match o.get("instances") {
        None | Some(J::Null) => {}
        Some(J::Array(is)) => {
            for (i, inst) in is.iter().enumerate() {
                let (key, dk, obj) =
                    read_instance(inst).map_err(|r| format!("{addr}: instances[{i}]: {r}"))?;
                match dk {
                    None => {
                        if instances.contains_key(&key) {
                            return Err(format!(
                                "{addr}: instances[{i}]: instance {} appears more than once",
                                addr.instance(key)
                            ));
                        }
                        instances.insert(key, obj);
                    }
                    Some(dk) => {
                        let k = (key, dk);
                        if deposed.contains_key(&k) {
                            return Err(format!(
                                "{addr}: instances[{i}]: deposed object {} of {} appears more than once",
                                k.1,
                                addr.instance(k.0.clone())
                            ));
                        }
                        deposed.insert(k, obj);
                    }
                }
            }
        }
        Some(v) => {
            return Err(format!(
                "{addr}: \"instances\" must be an array, found {}",
                kind(v)
            ))
        }
    }
    Ok((
        addr,
        ResourceState {
            provider,
            instances,
            deposed,
        },
    ))
}

/// One entry of `instances`: its instance key, its deposed key when it is a deposed
/// object, and the object.
fn read_instance(inst: &J) -> Result<(InstanceKey, Option<DeposedKey>, InstanceObject), String> {
    let o = inst
        .as_object()
        .ok_or_else(|| format!("expected an object, found {}", kind(inst)))?;
    let deposed = match o.get("deposed") {
        None | Some(J::Null) => None,
        // Terraform writes an empty string for no deposed key in some versions' tools.
        Some(J::String(s)) if s.is_empty() => None,
        Some(J::String(s)) => Some(DeposedKey::parse(s).ok_or_else(|| {
            format!("\"deposed\" must be a key of eight hex digits, found {s:?}")
        })?),
        Some(v) => return Err(format!("\"deposed\" must be a string, found {}", kind(v))),
    };
    let key = match o.get("index_key") {
        None | Some(J::Null) => InstanceKey::None,
        Some(J::String(s)) => InstanceKey::Str(s.clone()),
        Some(J::Number(n)) => InstanceKey::Int(
            n.as_i64()
                .ok_or_else(|| format!("\"index_key\" must be a whole number, found {n}"))?,
        ),
        Some(v) => {
            return Err(format!(
                "\"index_key\" must be a number or a string, found {}",
                kind(v)
            ))
        }
    };
    let status = match o.get("status") {
        None | Some(J::Null) => ObjectStatus::Ready,
        Some(J::String(s)) if s.is_empty() => ObjectStatus::Ready,
        Some(J::String(s)) if s == "tainted" => ObjectStatus::Tainted,
        Some(v) => {
            return Err(format!(
                "\"status\" must be \"tainted\" or absent, found {v}"
            ))
        }
    };
    let schema_version = match o.get("schema_version") {
        None | Some(J::Null) => 0,
        Some(v) => v.as_u64().ok_or_else(|| {
            format!("\"schema_version\" must be a non-negative whole number, found {v}")
        })?,
    };
    let attributes = match o.get("attributes") {
        Some(a) => Value::from_json(a),
        None if o.get("attributes_flat").is_some_and(|a| !a.is_null()) => {
            return Err("only legacy \"attributes_flat\" are recorded; refresh this state with Terraform 0.12 or later first".into())
        }
        None => Value::null(),
    };
    let private = match o.get("private") {
        None | Some(J::Null) => None,
        Some(p) => Some(p.clone()),
    };
    let sensitive_attrs = read_sensitive_attributes(o.get("sensitive_attributes"))?;
    let mut dependencies = Vec::new();
    match o.get("dependencies") {
        None | Some(J::Null) => {}
        Some(J::Array(ds)) => {
            for (i, d) in ds.iter().enumerate() {
                let s = d.as_str().ok_or_else(|| {
                    format!("dependencies[{i}] must be a string, found {}", kind(d))
                })?;
                dependencies
                    .push(parse_resource_addr(s).map_err(|r| format!("dependencies[{i}]: {r}"))?);
            }
        }
        Some(v) => {
            return Err(format!(
                "\"dependencies\" must be an array, found {}",
                kind(v)
            ))
        }
    }
    let create_before_destroy = match o.get("create_before_destroy") {
        None | Some(J::Null) => false,
        Some(J::Bool(b)) => *b,
        Some(v) => {
            return Err(format!(
                "\"create_before_destroy\" must be a boolean, found {}",
                kind(v)
            ))
        }
    };
    Ok((
        key,
        deposed,
        InstanceObject {
            status,
            schema_version,
            attributes,
            dependencies,
            create_before_destroy,
            private,
            sensitive_attrs,
        },
    ))
}

/// Terraform's `sensitive_attributes`: a list of paths, each a list of steps
/// (`{"type":"get_attr","value":"input"}`, `{"type":"index","value":{...}}`). terrane
/// marks whole top-level attributes, so a deeper path marks the attribute it starts in:
/// coarser than Terraform, never less safe.
fn read_sensitive_attributes(j: Option<&J>) -> Result<std::collections::BTreeSet<String>, String> {
    let mut out = std::collections::BTreeSet::new();
    let paths = match j {
        None | Some(J::Null) => return Ok(out),
        Some(J::Array(ps)) => ps,
        Some(v) => return Err(format!("\"sensitive_attributes\" must be an array, found {}", kind(v))),
    };
    for (i, p) in paths.iter().enumerate() {
        let first = p.as_array().and_then(|steps| steps.first());
        let name = first
            .filter(|s| s.get("type").and_then(J::as_str) == Some("get_attr"))
            .and_then(|s| s.get("value"))
            .and_then(J::as_str)
            .ok_or_else(|| format!("sensitive_attributes[{i}] must be a path starting with an attribute name, found {p}"))?;
        out.insert(name.to_string());
    }
    Ok(out)
}

/// Parses a resource address (`module.a["x"].aws_instance.web`); an instance key on the
/// resource itself is refused, since dependencies name whole resources.
fn parse_resource_addr(s: &str) -> Result<AbsResource, String> {
    let inst: AbsResourceInstance = s
        .parse()
        .map_err(|e: crate::addrs::AddrParseError| e.to_string())?;
    if !inst.key.is_none() {
        return Err(format!("{s:?} names a resource instance, not a resource"));
    }
    Ok(inst.abs_resource())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::addrs::ModuleStep;

    fn rich_state() -> State {
        let mut st = State::new();
        st.serial = 7;
        st.terrane_version = "0.1.0".into();
        st.outputs.insert(
            "ip".into(),
            OutputState {
                value: Value::string("10.0.0.1"),
                sensitive: false,
            },
        );
        st.outputs.insert(
            "secret".into(),
            OutputState {
                value: Value::object([
                    ("a", Value::int(1)),
                    ("b", Value::List(vec![Value::string("x")])),
                ]),
                sensitive: true,
            },
        );
        st.outputs.insert(
            "nothing".into(),
            OutputState {
                value: Value::null(),
                sensitive: false,
            },
        );

        let module = ModuleInstance(vec![
            ModuleStep {
                name: "a".into(),
                key: InstanceKey::Str("we \"quote\" \\ here".into()),
            },
            ModuleStep {
                name: "b".into(),
                key: InstanceKey::Int(3),
            },
        ]);
        let dep_root = AbsResource {
            module: ModuleInstance::root(),
            resource: Resource::managed("aws_vpc", "main"),
        };
        let dep_mod = AbsResource {
            module: module.clone(),
            resource: Resource::data("aws_ami", "ubuntu"),
        };

        let web = AbsResource {
            module: ModuleInstance::root(),
            resource: Resource::managed("aws_instance", "web"),
        };
        st.set_instance(
            &web.instance(InstanceKey::Int(0)),
            "provider[\"terrane/aws\"]",
            Some(InstanceObject {
                status: ObjectStatus::Tainted,
                schema_version: 2,
                attributes: Value::object([
                    ("id", Value::string("i-123")),
                    ("count", Value::number(2.5)),
                    ("tags", Value::object([("Name", Value::string("web"))])),
                    ("nothing", Value::null()),
                ]),
                dependencies: vec![dep_root.clone(), dep_mod.clone()],
                create_before_destroy: true,
                private: Some(serde_json::json!("c2VjcmV0")),
                sensitive_attrs: ["tags".to_string()].into(),
            }),
        );
        st.set_instance(
            &web.instance(InstanceKey::Int(1)),
            "provider[\"terrane/aws\"]",
            Some(InstanceObject {
                status: ObjectStatus::Ready,
                schema_version: 0,
                attributes: Value::object([("id", Value::string("i-456"))]),
                dependencies: vec![],
                create_before_destroy: false,
                private: None,
                sensitive_attrs: Default::default(),
            }),
        );
        let inner = AbsResource {
            module: module.clone(),
            resource: Resource::managed("terraform_data", "x"),
        };
        st.set_instance(
            &inner.instance(InstanceKey::Str("k \"q\"".into())),
            "provider[\"terraform.io/builtin/terraform\"]",
            Some(InstanceObject {
                status: ObjectStatus::Ready,
                schema_version: 0,
                attributes: Value::object([("id", Value::string("abc"))]),
                dependencies: vec![dep_root],
                create_before_destroy: false,
                private: None,
                sensitive_attrs: Default::default(),
            }),
        );
        st.set_instance(
            &dep_mod.instance(InstanceKey::None),
            "provider[\"terrane/aws\"]",
            Some(InstanceObject {
                status: ObjectStatus::Ready,
                schema_version: 1,
                attributes: Value::object([("id", Value::string("ami-1"))]),
                dependencies: vec![],
                create_before_destroy: false,
                private: None,
                sensitive_attrs: Default::default(),
            }),
        );
        // An old object of a create_before_destroy replacement of web[1], and one of
        // web[5], whose current object is gone.
        for (key, dk, id) in [(1, "0badf00d", "i-old"), (5, "00000001", "i-older")] {
            st.set_deposed(
                &web.instance(InstanceKey::Int(key)),
                &DeposedKey::parse(dk).unwrap(),
                "provider[\"terrane/aws\"]",
                Some(InstanceObject {
                    status: ObjectStatus::Ready,
                    schema_version: 0,
                    attributes: Value::object([("id", Value::string(id))]),
                    dependencies: vec![],
                    create_before_destroy: true,
                    private: None,
                    sensitive_attrs: Default::default(),
                }),
            );
        }
        st.pending.push(PendingCreate {
            address: "aws_instance.web[2]".into(),
            provider: "provider[\"terrane/aws\"]".into(),
            token: "tok-1".into(),
            started: "2024-01-02T03:04:05Z".into(),
        });
        st
    }

    #[test]
    fn round_trip_is_exact_and_deterministic() {
        let st = rich_state();
        let text = to_json(&st);
        assert!(text.ends_with("}\n"));
        assert_eq!(text, to_json(&st), "writing is deterministic");
        let back = from_json(&text, "t.tfstate").expect("own output parses");
        assert_eq!(to_json(&back), text, "read then write gives the same bytes");

        assert_eq!(back.lineage, st.lineage);
        assert_eq!(back.serial, 7);
        assert_eq!(back.terrane_version, "0.1.0");
        assert_eq!(back.pending, st.pending);
        assert_eq!(back.resources.len(), st.resources.len());
        for addr in st.instance_addrs() {
            let (a, b) = (
                st.instance(&addr).unwrap(),
                back.instance(&addr).expect("instance survives"),
            );
            assert_eq!(a.status, b.status, "{addr}");
            assert_eq!(a.schema_version, b.schema_version, "{addr}");
            assert_eq!(a.attributes, b.attributes, "{addr}");
            assert_eq!(a.dependencies, b.dependencies, "{addr}");
            assert_eq!(a.create_before_destroy, b.create_before_destroy, "{addr}");
            assert_eq!(a.private, b.private, "{addr}");
        }
        assert_eq!(back.deposed_addrs(), st.deposed_addrs());
        assert_eq!(back.deposed_addrs().len(), 2);
        for (addr, dk) in st.deposed_addrs() {
            let (a, b) = (st.deposed(&addr, &dk).unwrap(), back.deposed(&addr, &dk).unwrap());
            assert_eq!(a.attributes, b.attributes, "{addr} {dk}");
            assert_eq!(a.create_before_destroy, b.create_before_destroy, "{addr} {dk}");
        }
        for (k, o) in &st.outputs {
            let b = &back.outputs[k];
            assert_eq!(o.value, b.value, "output {k}");
            assert_eq!(o.sensitive, b.sensitive, "output {k}");
        }
    }

    #[test]
    fn layout_follows_terraform_v4() {
        let st = rich_state();
        let j: J = serde_json::from_str(&to_json(&st)).unwrap();
        assert_eq!(j["version"], 4);
        assert_eq!(j["terraform_version"], "0.1.0");
        assert_eq!(j["terrane_version"], "0.1.0");
        assert_eq!(j["serial"], 7);
        assert_eq!(j["outputs"]["ip"]["type"], "string");
        assert_eq!(j["outputs"]["secret"]["sensitive"], true);
        assert_eq!(
            j["outputs"]["secret"]["type"],
            serde_json::json!(["object", {"a": "number", "b": ["list", "string"]}])
        );
        let rs = j["resources"].as_array().unwrap();
        let root = rs.iter().find(|r| r["type"] == "aws_instance").unwrap();
        assert!(root.get("module").is_none(), "module omitted at root");
        assert_eq!(root["mode"], "managed");
        assert_eq!(root["name"], "web");
        assert_eq!(root["provider"], "provider[\"terrane/aws\"]");
        let i0 = &root["instances"][0];
        assert_eq!(i0["index_key"], 0);
        assert_eq!(i0["status"], "tainted");
        assert_eq!(i0["schema_version"], 2);
        assert_eq!(
            i0["sensitive_attributes"],
            serde_json::json!([[{"type": "get_attr", "value": "tags"}]])
        );
        assert_eq!(
            i0["dependencies"],
            serde_json::json!([
                "aws_vpc.main",
                "module.a[\"we \\\"quote\\\" \\\\ here\"].module.b[3].data.aws_ami.ubuntu"
            ])
        );
        assert_eq!(i0["create_before_destroy"], true);
        // Terraform's order: web[1] current, web[1] deposed, web[5] deposed only.
        let objs = root["instances"].as_array().unwrap();
        assert_eq!(objs.len(), 4);
        assert!(objs[1].get("deposed").is_none());
        assert_eq!((&objs[2]["index_key"], &objs[2]["deposed"]), (&J::from(1), &J::from("0badf00d")));
        assert_eq!((&objs[3]["index_key"], &objs[3]["deposed"]), (&J::from(5), &J::from("00000001")));
        let i1 = &root["instances"][1];
        assert_eq!(i1["sensitive_attributes"], serde_json::json!([]));
        assert!(
            i1.get("status").is_none()
                && i1.get("private").is_none()
                && i1.get("create_before_destroy").is_none()
        );
        let data = rs.iter().find(|r| r["mode"] == "data").unwrap();
        assert_eq!(
            data["module"],
            "module.a[\"we \\\"quote\\\" \\\\ here\"].module.b[3]"
        );
        assert!(data["instances"][0].get("index_key").is_none());
        let td = rs.iter().find(|r| r["type"] == "terraform_data").unwrap();
        assert_eq!(td["instances"][0]["index_key"], "k \"q\"");
        assert_eq!(j["pending"][0]["token"], "tok-1");

        let mut empty = State::new();
        empty.serial = 1;
        let j: J = serde_json::from_str(&to_json(&empty)).unwrap();
        assert!(j.get("pending").is_none(), "pending omitted when empty");
        assert_eq!(j["resources"], serde_json::json!([]));
    }

    #[test]
    fn reads_a_terraform_written_file_with_missing_optional_fields() {
        let text = r#"{
          "version": 4,
          "terraform_version": "1.5.7",
          "serial": 3,
          "lineage": "abc",
          "outputs": {"n": {"value": [1, 2]}, "l": {"value": ["a"], "type": ["list", "string"]}},
          "resources": [
            {"mode": "managed", "type": "null_resource", "name": "x", "provider": "provider[\"registry.terraform.io/hashicorp/null\"]",
             "instances": [{"schema_version": 0, "attributes": {"id": "1", "triggers": {"a": "s", "b": "t"}}, "sensitive_attributes": [[{"type": "get_attr", "value": "triggers"}, {"type": "index", "value": {"value": "a", "type": "string"}}]], "private": "bnVsbA=="}]},
            {"module": "module.m[\"k\"]", "type": "null_resource", "name": "y", "instances": [{"index_key": "a"}]}
          ],
          "check_results": null
        }"#;
        let st = from_json(text, "x.tfstate").unwrap();
        assert_eq!(st.serial, 3);
        assert_eq!(st.terrane_version, "1.5.7");
        assert_eq!(
            st.outputs["n"].value,
            Value::Tuple(vec![Value::int(1), Value::int(2)])
        );
        assert!(matches!(st.outputs["l"].value, Value::List(_)));
        let x: AbsResourceInstance = "null_resource.x".parse().unwrap();
        assert_eq!(
            st.instance(&x).unwrap().private,
            Some(serde_json::json!("bnVsbA=="))
        );
        // Terraform's deeper path marks the whole top-level attribute it starts in.
        let xo = st.instance(&x).unwrap();
        assert_eq!(xo.sensitive_attrs, ["triggers".to_string()].into());
        let shown = xo.restore_marks(xo.attributes.clone());
        assert!(matches!(shown.get_attr("triggers"), Some(Value::Sensitive(_))));
        assert!(!matches!(shown.get_attr("id"), Some(Value::Sensitive(_))));
        let y: AbsResourceInstance = "module.m[\"k\"].null_resource.y[\"a\"]".parse().unwrap();
        let yo = st.instance(&y).unwrap();
        assert!(yo.attributes.is_null());
        assert_eq!(yo.status, ObjectStatus::Ready);

        let minimal = from_json(r#"{"version":4,"serial":0,"lineage":"l"}"#, "m").unwrap();
        assert!(
            minimal.resources.is_empty()
                && minimal.outputs.is_empty()
                && minimal.pending.is_empty()
        );
    }

    /// A state with deposed objects as Terraform 1.0.3 writes it: the fixture is the
    /// output of `terraform state pull` (1.0.3, no provider needed) on a hand-made state
    /// with a current and a deposed object of `null_resource.x[1]` and only a deposed,
    /// tainted object of `null_resource.x[0]`.
    #[test]
    fn reads_deposed_objects_written_by_terraform() {
        let text = include_str!("../../tests/fixtures/state/terraform-1.0.3-deposed.tfstate");
        let st = from_json(text, "tf.tfstate").unwrap();
        let x0: AbsResourceInstance = "null_resource.x[0]".parse().unwrap();
        let x1: AbsResourceInstance = "null_resource.x[1]".parse().unwrap();
        assert!(st.instance(&x0).is_none(), "x[0] has only a deposed object");
        assert_eq!(st.instance(&x1).unwrap().attributes.get_attr("id"), Some(&Value::string("new")));
        let deposed = st.deposed_addrs();
        assert_eq!(
            deposed.iter().map(|(a, k)| format!("{a} {k}")).collect::<Vec<_>>(),
            ["null_resource.x[0] 00000001", "null_resource.x[1] 0badf00d"]
        );
        let old = st.deposed(&x0, &DeposedKey::parse("00000001").unwrap()).unwrap();
        assert_eq!(old.status, ObjectStatus::Tainted);
        let old = st.deposed(&x1, &DeposedKey::parse("0badf00d").unwrap()).unwrap();
        assert_eq!(old.attributes.get_attr("id"), Some(&Value::string("old")));
        assert!(old.create_before_destroy);
        // Written back, the instances come out in Terraform's order with the same fields.
        let ours: J = serde_json::from_str(&to_json(&st)).unwrap();
        let theirs: J = serde_json::from_str(text).unwrap();
        let strip = |j: &J| -> Vec<J> {
            j["resources"][0]["instances"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| {
                    let mut i = i.clone();
                    if i["dependencies"] == serde_json::json!([]) {
                        i.as_object_mut().unwrap().remove("dependencies");
                    }
                    i
                })
                .collect()
        };
        assert_eq!(strip(&ours), strip(&theirs));
    }

    fn corrupt_reason(text: &str) -> String {
        match from_json(text, "dir/terraform.tfstate") {
            Err(StateError::Corrupt { path, reason }) => {
                assert_eq!(path, "dir/terraform.tfstate");
                reason
            }
            other => panic!("expected Corrupt for {text:?}, got {other:?}"),
        }
    }

    #[test]
    fn bad_input_is_corrupt_not_a_panic() {
        assert!(corrupt_reason(r#"{"version":3,"serial":1,"lineage":"l"}"#).contains("version 3"));
        assert!(corrupt_reason(r#"{"version":"4","serial":1,"lineage":"l"}"#).contains("version"));
        assert!(corrupt_reason(r#"{"serial":1,"lineage":"l"}"#).contains("version"));
        assert!(corrupt_reason(r#"{"version":4,"lineage":"l"}"#).contains("serial"));
        assert!(corrupt_reason(r#"{"version":4,"serial":-1,"lineage":"l"}"#).contains("serial"));
        assert!(corrupt_reason(r#"{"version":4,"serial":1}"#).contains("lineage"));
        assert!(corrupt_reason("").contains("empty"));
        assert!(corrupt_reason("[1,2]").contains("object"));
        assert!(corrupt_reason("not json").contains("invalid JSON"));
        let base = r#"{"version":4,"serial":1,"lineage":"l","resources":[RES]}"#;
        for (res, needle) in [
            (r#"{"mode":"weird","type":"t","name":"n"}"#, "mode"),
            (r#"{"type":"t"}"#, "name"),
            (r#"{"module":"module.","type":"t","name":"n"}"#, "module"),
            (
                r#"{"type":"t","name":"n","instances":[{"index_key":1.5}]}"#,
                "index_key",
            ),
            (
                r#"{"type":"t","name":"n","instances":[{"index_key":true}]}"#,
                "index_key",
            ),
            (
                r#"{"type":"t","name":"n","instances":[{"status":"gone"}]}"#,
                "status",
            ),
            (
                r#"{"type":"t","name":"n","instances":[{"sensitive_attributes":[[{"type":"index","value":{"value":0,"type":"number"}}]]}]}"#,
                "sensitive_attributes[0]",
            ),
            (
                r#"{"type":"t","name":"n","instances":[{"sensitive_attributes":{}}]}"#,
                "sensitive_attributes",
            ),
            (
                r#"{"type":"t","name":"n","instances":[{"dependencies":["t.x[0]"]}]}"#,
                "dependencies[0]",
            ),
            (
                r#"{"type":"t","name":"n","instances":[{"dependencies":[1]}]}"#,
                "dependencies[0]",
            ),
            (
                r#"{"type":"t","name":"n","instances":[{"deposed":"xyz"}]}"#,
                "deposed",
            ),
            (
                r#"{"type":"t","name":"n","instances":[{"deposed":1}]}"#,
                "deposed",
            ),
            (
                r#"{"type":"t","name":"n","instances":[{"deposed":"0000000a"},{"deposed":"0000000a"}]}"#,
                "more than once",
            ),
            (
                r#"{"type":"t","name":"n","instances":[{},{}]}"#,
                "more than once",
            ),
            (
                r#"{"type":"t","name":"n"},{"type":"t","name":"n"}"#,
                "more than once",
            ),
            (
                r#"{"type":"t","name":"n","instances":[{"schema_version":-2}]}"#,
                "schema_version",
            ),
            (
                r#"{"type":"t","name":"n","instances":[{"attributes_flat":{"id":"1"}}]}"#,
                "attributes_flat",
            ),
        ] {
            let reason = corrupt_reason(&base.replace("RES", res));
            assert!(reason.contains(needle), "{res}: {reason}");
            assert!(reason.contains("resources["), "{res}: {reason}");
        }
        assert!(corrupt_reason(
            r#"{"version":4,"serial":1,"lineage":"l","outputs":{"o":{"value":1,"type":["nope"]}}}"#
        )
        .contains("outputs.o"));
        assert!(corrupt_reason(
            r#"{"version":4,"serial":1,"lineage":"l","pending":[{"address":1}]}"#
        )
        .contains("pending[0]"));
    }

    #[test]
    fn every_truncation_is_corrupt() {
        let text = to_json(&rich_state());
        let mut cut = 0;
        // Stop short of the closing brace: only the complete text is valid.
        while cut < text.trim_end().len() {
            if text.is_char_boundary(cut) {
                let _ = corrupt_reason(&text[..cut]);
            }
            cut += 7;
        }
        assert!(corrupt_reason(&text[..text.len() / 2]).contains("truncated"));
    }

    #[test]
    fn types_round_trip() {
        let t = Type::Object(
            [
                ("a".to_string(), Type::list(Type::String)),
                (
                    "b".to_string(),
                    Type::Tuple(vec![Type::Bool, Type::Dynamic]),
                ),
                ("c".to_string(), Type::map(Type::set(Type::Number))),
            ]
            .into_iter()
            .collect(),
        );
        assert_eq!(type_from_json(&type_to_json(&t)).unwrap(), t);
        assert!(type_from_json(&serde_json::json!(["object", {}, ["a"]])).is_ok());
        assert!(type_from_json(&serde_json::json!(["list"])).is_err());
        assert!(type_from_json(&serde_json::json!(42)).is_err());
    }
}
