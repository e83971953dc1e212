//! `yamldecode` as Terraform 1.0.3's go-cty-yaml reads YAML: libyaml's events, with
//! plain scalars resolved by YAML 1.1's rules as go-cty-yaml applies them (`yes`, `on`,
//! `y` are true; `010` is ten; numbers are exact at 512 bits; dates become RFC 3339
//! strings; `.inf` is infinity). Quoted and block scalars are always strings.
//!
//! serde_yaml (YAML 1.2's core schema, `f64` numbers) cannot do this because it does
//! not say whether a scalar was quoted, so this reads libyaml's events directly.

use std::collections::BTreeMap;
use std::mem::MaybeUninit;

use unsafe_libyaml as y;

use super::strings::sv;
use super::FuncError;
use crate::lang::value::{Number, Value};

/// One parsed event, copied out of libyaml.
enum Event {
    DocStart,
    DocEnd,
    StreamEnd,
    Alias(String),
    Scalar {
        anchor: Option<String>,
        tag: Option<String>,
        value: String,
        plain: bool,
    },
    SeqStart(Option<String>),
    SeqEnd,
    MapStart(Option<String>),
    MapEnd,
    Other,
}

struct Parser {
    p: Box<MaybeUninit<y::yaml_parser_t>>,
    _input: Vec<u8>,
}

impl Parser {
    fn new(src: &str) -> Parser {
        let input = src.as_bytes().to_vec();
        let mut p: Box<MaybeUninit<y::yaml_parser_t>> = Box::new(MaybeUninit::uninit());
        // SAFETY: libyaml initialises the parser struct; the input buffer lives (boxed
        // in `_input`, never moved) as long as the parser.
        unsafe {
            let pp = p.as_mut_ptr();
            let _ = y::yaml_parser_initialize(pp).ok;
            y::yaml_parser_set_input_string(pp, input.as_ptr(), input.len() as u64);
        }
        Parser { p, _input: input }
    }

    fn next(&mut self) -> Result<Event, String> {
        // SAFETY: the parser was initialised in `new`; the event is initialised by a
        // successful `yaml_parser_parse` and deleted after its data is copied.
        unsafe {
            let pp = self.p.as_mut_ptr();
            let mut ev = MaybeUninit::<y::yaml_event_t>::uninit();
            if !y::yaml_parser_parse(pp, ev.as_mut_ptr()).ok {
                let parser = &*pp;
                let problem = cstr(parser.problem as *const u8);
                let mark = parser.problem_mark;
                return Err(format!(
                    "on line {}, column {}: {}",
                    mark.line + 1,
                    mark.column + 1,
                    problem
                ));
            }
            let e = ev.assume_init_mut();
            let out = match e.type_ {
                y::YAML_DOCUMENT_START_EVENT => Event::DocStart,
                y::YAML_DOCUMENT_END_EVENT => Event::DocEnd,
                y::YAML_STREAM_END_EVENT => Event::StreamEnd,
                y::YAML_ALIAS_EVENT => Event::Alias(cstr(e.data.alias.anchor)),
                y::YAML_SCALAR_EVENT => {
                    let s = e.data.scalar;
                    let bytes = std::slice::from_raw_parts(s.value, s.length as usize);
                    Event::Scalar {
                        anchor: opt_cstr(s.anchor),
                        tag: opt_cstr(s.tag),
                        value: String::from_utf8_lossy(bytes).into_owned(),
                        plain: s.style == y::YAML_PLAIN_SCALAR_STYLE,
                    }
                }
                y::YAML_SEQUENCE_START_EVENT => {
                    Event::SeqStart(opt_cstr(e.data.sequence_start.anchor))
                }
                y::YAML_SEQUENCE_END_EVENT => Event::SeqEnd,
                y::YAML_MAPPING_START_EVENT => {
                    Event::MapStart(opt_cstr(e.data.mapping_start.anchor))
                }
                y::YAML_MAPPING_END_EVENT => Event::MapEnd,
                _ => Event::Other,
            };
            y::yaml_event_delete(e);
            Ok(out)
        }
    }
}

impl Drop for Parser {
    fn drop(&mut self) {
        // SAFETY: initialised in `new`, deleted once.
        unsafe { y::yaml_parser_delete(self.p.as_mut_ptr()) }
    }
}

/// SAFETY: `p` is null or a NUL-terminated string.
unsafe fn opt_cstr(p: *const u8) -> Option<String> {
    if p.is_null() {
        None
    } else {
        Some(cstr(p))
    }
}

/// SAFETY: `p` is null or a NUL-terminated string.
unsafe fn cstr(p: *const u8) -> String {
    if p.is_null() {
        return String::new();
    }
    std::ffi::CStr::from_ptr(p as *const std::ffi::c_char)
        .to_string_lossy()
        .into_owned()
}

/// Decodes one YAML document.
pub(super) fn decode(src: &str) -> Result<Value, FuncError> {
    let mut p = Parser::new(src);
    let mut anchors: BTreeMap<String, Value> = BTreeMap::new();
    let mut result = None;
    loop {
        match p.next().map_err(FuncError::new)? {
            Event::DocStart => {
                if result.is_some() {
                    return Err(FuncError::new("unexpected extra content after value"));
                }
                let first = p.next().map_err(FuncError::new)?;
                result = Some(node(&mut p, first, &mut anchors)?);
            }
            Event::StreamEnd => break,
            _ => {}
        }
    }
    result.ok_or_else(|| FuncError::new("on line 1, column 1: missing start of document"))
}

fn node(
    p: &mut Parser,
    ev: Event,
    anchors: &mut BTreeMap<String, Value>,
) -> Result<Value, FuncError> {
    let (v, anchor) = match ev {
        Event::Scalar {
            anchor,
            tag,
            value,
            plain,
        } => (scalar(&value, tag.as_deref(), plain)?, anchor),
        Event::Alias(name) => {
            return anchors
                .get(&name)
                .cloned()
                .ok_or_else(|| FuncError::new(format!("unknown anchor '{name}' referenced")))
        }
        Event::SeqStart(anchor) => {
            let mut items = Vec::new();
            loop {
                match p.next().map_err(FuncError::new)? {
                    Event::SeqEnd => break,
                    e => items.push(node(p, e, anchors)?),
                }
            }
            (Value::Tuple(items), anchor)
        }
        Event::MapStart(anchor) => {
            let mut m = BTreeMap::new();
            loop {
                let k = match p.next().map_err(FuncError::new)? {
                    Event::MapEnd => break,
                    e => node(p, e, anchors)?,
                };
                let key = match &k {
                    Value::String(s) => s.clone(),
                    Value::Null(_) => "null".to_string(),
                    Value::Bool(b) => b.to_string(),
                    Value::Number(n) => n.to_string(),
                    _ => {
                        return Err(FuncError::new(
                            "only scalar values can be used as mapping keys",
                        ))
                    }
                };
                let e = p.next().map_err(FuncError::new)?;
                let v = node(p, e, anchors)?;
                m.insert(key, v);
            }
            (Value::Object(m), anchor)
        }
        Event::DocEnd
        | Event::StreamEnd
        | Event::SeqEnd
        | Event::MapEnd
        | Event::DocStart
        | Event::Other => return Err(FuncError::new("unexpected YAML event")),
    };
    if let Some(a) = anchor {
        anchors.insert(a, v.clone());
    }
    Ok(v)
}

const STR_TAG: &str = "tag:yaml.org,2002:str";
const NULL_TAG: &str = "tag:yaml.org,2002:null";
const BOOL_TAG: &str = "tag:yaml.org,2002:bool";

/// go-cty-yaml's scalar resolution.
fn scalar(src: &str, tag: Option<&str>, plain: bool) -> Result<Value, FuncError> {
    match tag {
        Some(STR_TAG) => return Ok(sv(src)),
        Some(NULL_TAG) => return Ok(Value::null()),
        Some(BOOL_TAG) => {
            return match resolve_plain(src)? {
                v @ Value::Bool(_) => Ok(v),
                _ => Err(FuncError::new(format!("cannot decode {src:?} as a bool"))),
            }
        }
        _ => {}
    }
    if !plain && tag.is_none() {
        return Ok(sv(src));
    }
    resolve_plain(src)
}

fn resolve_plain(src: &str) -> Result<Value, FuncError> {
    Ok(match src {
        "" | "~" | "null" | "Null" | "NULL" => Value::null(),
        "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" | "true" | "True" | "TRUE" => {
            Value::Bool(true)
        }
        "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF" | "false" | "False" | "FALSE" => {
            Value::Bool(false)
        }
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            Value::Number(Number::infinity(false))
        }
        "-.inf" | "-.Inf" | "-.INF" => Value::Number(Number::infinity(true)),
        ".nan" | ".NaN" | ".NAN" => {
            return Err(FuncError::new("floating point NaN is not supported"))
        }
        _ => {
            let first = src.as_bytes()[0];
            if first.is_ascii_digit() || matches!(first, b'+' | b'-' | b'.') {
                if let Some(t) = timestamp(src) {
                    return Ok(sv(&t));
                }
                let plain = src.replace('_', "");
                if let Some(n) = Number::parse(&plain) {
                    return Ok(Value::Number(n));
                }
                if let Some(n) = radix_int(&plain) {
                    return Ok(Value::Number(n));
                }
            }
            sv(src)
        }
    })
}

/// `0b1010`, `0o17`, `0x1F` (with an optional minus), as go-cty-yaml accepts them.
fn radix_int(s: &str) -> Option<Number> {
    let (neg, body) = match s.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let (radix, digits) = if let Some(d) = body.strip_prefix("0b") {
        (2, d)
    } else if let Some(d) = body.strip_prefix("0o") {
        (8, d)
    } else if let Some(d) = body.strip_prefix("0x") {
        (16, d)
    } else {
        return None;
    };
    let i = num_bigint::BigInt::parse_bytes(digits.as_bytes(), radix)?;
    Some(Number::from_bigint(&if neg { -i } else { i }))
}

/// A YAML timestamp (`2001-12-14`, `2001-12-14t21:59:43.10-05:00`,
/// `2001-12-14 21:59:43.10`) in Go's RFC 3339 form (no fractional seconds).
fn timestamp(s: &str) -> Option<String> {
    let b = s.as_bytes();
    // Only strings that start like a date: four digits and a dash.
    if b.len() < 8 || !b[..4].iter().all(u8::is_ascii_digit) || b[4] != b'-' {
        return None;
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Some(format!("{}T00:00:00Z", d.format("%Y-%m-%d")));
    }
    let norm = s.replacen(['t', ' '], "T", 1);
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(&norm) {
        let z = if t.offset().local_minus_utc() == 0 {
            "Z".to_string()
        } else {
            t.format("%:z").to_string()
        };
        return Some(format!("{}{z}", t.format("%Y-%m-%dT%H:%M:%S")));
    }
    for f in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S"] {
        if let Ok(t) = chrono::NaiveDateTime::parse_from_str(&norm, f) {
            return Some(format!("{}Z", t.format("%Y-%m-%dT%H:%M:%S")));
        }
    }
    None
}
