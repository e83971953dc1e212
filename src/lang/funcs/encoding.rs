//! Encoding functions: base64decode, base64encode, base64gzip, base64gunzip, csvdecode,
//! jsondecode, jsonencode, textdecodebase64, textencodebase64, urldecode, urlencode,
//! yamldecode, yamlencode; plus the JSON serialisation shared with `format("%v")`.
//!
//! JSON output follows cty's `json.Marshal` (Go's escaping, including `\u003c` for `<`,
//! numbers in plain decimal). YAML output reproduces go-yaml's emitter as cty's
//! yamlencode drives it (double-quoted strings, literal blocks for multi-line strings,
//! folding of long double-quoted lines at column 80). yamldecode uses serde_yaml, a
//! YAML 1.2 parser: unlike Terraform (YAML 1.1) it keeps `yes`/`no`/`on`/`off` and
//! timestamps as strings, and its error messages differ.

use std::collections::BTreeMap;

use base64::Engine;

use super::strings::sv;
use super::{str_arg, FResult, FuncError};
use crate::lang::value::Value;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

pub(super) fn call(name: &str, a: &[Value]) -> Option<FResult> {
    Some(match name {
        "base64encode" => str_arg(a, 0).map(|s| Value::String(B64.encode(s.as_bytes()))),
        "base64decode" => base64decode(a),
        "base64gzip" => str_arg(a, 0).map(|s| Value::String(B64.encode(gzip(s.as_bytes())))),
        "base64gunzip" => base64gunzip(a),
        "csvdecode" => csvdecode(a),
        "jsondecode" => str_arg(a, 0).and_then(|s| jsondecode(&s)),
        "jsonencode" => to_json(&a[0]).map(Value::String).map_err(FuncError::new),
        "textencodebase64" => textencodebase64(a),
        "textdecodebase64" => textdecodebase64(a),
        "urlencode" => str_arg(a, 0).map(|s| Value::String(urlencode(&s))),
        "urldecode" => urldecode(a),
        "yamldecode" => str_arg(a, 0).and_then(|s| yamldecode(&s)),
        "yamlencode" => Ok(Value::String(yamlencode(&a[0]))),
        _ => return None,
    })
}

// ---- JSON ----------------------------------------------------------------------------

/// A JSON string literal escaped as Go's encoding/json escapes it (HTML-safe).
pub(super) fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", c as u32))
            }
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// cty's json.Marshal of a wholly known value.
pub(super) fn to_json(v: &Value) -> Result<String, String> {
    let mut out = String::new();
    write_json(v, &mut out)?;
    Ok(out)
}

fn write_json(v: &Value, out: &mut String) -> Result<(), String> {
    match v {
        Value::Null(_) => out.push_str("null"),
        Value::Unknown(_) => return Err("value is not known".into()),
        Value::Sensitive(inner) => write_json(inner, out)?,
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            if n.is_infinite() {
                return Err("cannot serialize infinity as JSON".into());
            }
            // cty: `Text('f', -1)`, exact at the number's own precision.
            out.push_str(&n.to_string())
        }
        Value::String(s) => out.push_str(&json_string(s)),
        Value::List(vs) | Value::Set(vs) | Value::Tuple(vs) => {
            out.push('[');
            for (i, e) in vs.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(e, out)?;
            }
            out.push(']');
        }
        Value::Map(m) | Value::Object(m) => {
            out.push('{');
            for (i, (k, e)) in m.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&json_string(k));
                out.push(':');
                write_json(e, out)?;
            }
            out.push('}');
        }
    }
    Ok(())
}

fn jsondecode(s: &str) -> FResult {
    let mut de = serde_json::Deserializer::from_str(s);
    let j: serde_json::Value = match serde::Deserialize::deserialize(&mut de) {
        Ok(j) => j,
        Err(e) if e.is_eof() => {
            // Go reports a truncated literal or string as "unexpected EOF".
            let t = s.trim_end();
            let partial =
                t.ends_with(|c: char| c.is_ascii_alphanumeric()) || t.matches('"').count() % 2 == 1;
            return Err(FuncError::new(if partial {
                "unexpected EOF"
            } else {
                "EOF"
            }));
        }
        Err(e) if e.to_string().starts_with("number out of range") => {
            // Go's decoder has no range limit (cty parses numbers at 512 bits).
            let mut r = JsonReader {
                b: s.as_bytes(),
                i: 0,
            };
            if let Some(v) = r.value() {
                r.ws();
                if r.i == r.b.len() {
                    return Ok(v);
                }
            }
            return Err(FuncError::new(strip_position(&e.to_string())));
        }
        Err(e) => return Err(FuncError::new(strip_position(&e.to_string()))),
    };
    if de.end().is_err() {
        return Err(FuncError::new("extraneous data after JSON object"));
    }
    // serde_json validated the text (and gives Go-like messages); the value is read
    // again here so that numbers keep every digit (cty parses them at 512 bits).
    let mut r = JsonReader {
        b: s.as_bytes(),
        i: 0,
    };
    Ok(r.value().unwrap_or_else(|| json_value(&j)))
}

fn strip_position(msg: &str) -> String {
    match msg.find(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg.to_string(),
    }
}

/// Reads already-validated JSON into a value (arrays are tuples, objects are objects
/// with the last duplicate key winning, strings NFC-normalised, numbers exact).
struct JsonReader<'a> {
    b: &'a [u8],
    i: usize,
}

impl JsonReader<'_> {
    fn ws(&mut self) {
        while self.i < self.b.len() && matches!(self.b[self.i], b' ' | b'\t' | b'\n' | b'\r') {
            self.i += 1;
        }
    }
    fn value(&mut self) -> Option<Value> {
        self.ws();
        let c = *self.b.get(self.i)?;
        Some(match c {
            b'{' => {
                self.i += 1;
                let mut m = BTreeMap::new();
                loop {
                    self.ws();
                    match self.b.get(self.i)? {
                        b'}' => {
                            self.i += 1;
                            break;
                        }
                        b',' => self.i += 1,
                        _ => {
                            let k = self.string()?;
                            self.ws();
                            self.i += 1; // ':'
                            let v = self.value()?;
                            m.insert(k, v);
                        }
                    }
                }
                Value::Object(m)
            }
            b'[' => {
                self.i += 1;
                let mut vs = Vec::new();
                loop {
                    self.ws();
                    match self.b.get(self.i)? {
                        b']' => {
                            self.i += 1;
                            break;
                        }
                        b',' => self.i += 1,
                        _ => vs.push(self.value()?),
                    }
                }
                Value::Tuple(vs)
            }
            b'"' => sv(&self.string()?),
            b't' => {
                self.i += 4;
                Value::Bool(true)
            }
            b'f' => {
                self.i += 5;
                Value::Bool(false)
            }
            b'n' => {
                self.i += 4;
                Value::null()
            }
            _ => {
                let st = self.i;
                while self.i < self.b.len()
                    && matches!(
                        self.b[self.i],
                        b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E'
                    )
                {
                    self.i += 1;
                }
                let text = std::str::from_utf8(&self.b[st..self.i]).ok()?;
                Value::Number(crate::lang::value::Number::parse(text)?)
            }
        })
    }
    fn string(&mut self) -> Option<String> {
        let st = self.i;
        self.i += 1;
        while self.i < self.b.len() {
            match self.b[self.i] {
                b'\\' => self.i += 2,
                b'"' => {
                    self.i += 1;
                    let text = std::str::from_utf8(&self.b[st..self.i]).ok()?;
                    return serde_json::from_str::<String>(text).ok();
                }
                _ => self.i += 1,
            }
        }
        None
    }
}

/// JSON to a value: arrays are tuples, objects are objects, strings NFC-normalised.
fn json_value(j: &serde_json::Value) -> Value {
    use serde_json::Value as J;
    match j {
        J::String(s) => sv(s),
        J::Array(a) => Value::Tuple(a.iter().map(json_value).collect()),
        J::Object(o) => Value::Object(o.iter().map(|(k, v)| (k.clone(), json_value(v))).collect()),
        other => Value::from_json(other),
    }
}

// ---- base64, gzip, text encodings, URLs -------------------------------------------------

fn base64decode(a: &[Value]) -> FResult {
    let s = str_arg(a, 0)?;
    let bytes = B64
        .decode(s.as_bytes())
        .map_err(|_| FuncError::new(format!("failed to decode base64 data '{s}'")))?;
    String::from_utf8(bytes).map(Value::String).map_err(|_| {
        FuncError::new("the result of decoding the provided string is not valid UTF-8")
    })
}

/// Gzip as Terraform's base64gzip writes it: default compression, a sync flush and an
/// empty final stored block (Go's gzip.Writer Flush + Close). Go's and zlib's deflate
/// choose the same fixed-Huffman block for short inputs; longer inputs can compress
/// to different (equally valid) bytes.
fn gzip(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    let mut comp = flate2::Compress::new(flate2::Compression::default(), false);
    let mut buf = Vec::with_capacity(data.len() + 64);
    let mut input = data;
    loop {
        if buf.capacity() - buf.len() < 64 {
            buf.reserve(data.len() / 2 + 64);
        }
        let before = comp.total_in();
        let status = comp.compress_vec(input, &mut buf, flate2::FlushCompress::Sync);
        let used = (comp.total_in() - before) as usize;
        input = &input[used.min(input.len())..];
        match status {
            Ok(_) if input.is_empty() && buf.capacity() > buf.len() => break,
            Ok(_) => continue,
            Err(_) => break,
        }
    }
    out.extend_from_slice(&buf);
    out.extend_from_slice(&[0x01, 0x00, 0x00, 0xff, 0xff]);
    let mut crc = flate2::Crc::new();
    crc.update(data);
    out.extend_from_slice(&crc.sum().to_le_bytes());
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out
}

fn base64gunzip(a: &[Value]) -> FResult {
    let s = str_arg(a, 0)?;
    let bytes = B64
        .decode(s.as_bytes())
        .map_err(|_| FuncError::new(format!("failed to decode base64 data '{s}'")))?;
    let mut d = flate2::read::GzDecoder::new(&bytes[..]);
    let mut out = Vec::new();
    std::io::Read::read_to_end(&mut d, &mut out)
        .map_err(|e| FuncError::new(format!("failed to gunzip bytestream: {e}")))?;
    String::from_utf8(out).map(Value::String).map_err(|_| {
        FuncError::new("the result of decoding the provided string is not valid UTF-8")
    })
}

/// A single-byte code page as golang.org/x/text's `charmap` defines it: `table` holds the
/// characters of bytes 0x80..=0xFF (all 256 bytes when the page is not an ASCII
/// superset, as EBCDIC is not); U+FFFD marks a byte the page leaves undefined.
pub(super) struct CodePage {
    pub(super) ascii_superset: bool,
    pub(super) table: &'static str,
}

impl CodePage {
    fn first(&self) -> u32 {
        if self.ascii_superset {
            0x80
        } else {
            0
        }
    }
    fn encode(&self, s: &str) -> Option<Vec<u8>> {
        s.chars()
            .map(|c| {
                if self.ascii_superset && c.is_ascii() {
                    return Some(c as u8);
                }
                if c == '\u{fffd}' {
                    return None;
                }
                self.table
                    .chars()
                    .position(|t| t == c)
                    .map(|i| (self.first() + i as u32) as u8)
            })
            .collect()
    }
    fn decode(&self, bytes: &[u8]) -> String {
        let table: Vec<char> = self.table.chars().collect();
        bytes
            .iter()
            .map(|&b| {
                if self.ascii_superset && b.is_ascii() {
                    b as char
                } else {
                    table[(u32::from(b) - self.first()) as usize]
                }
            })
            .collect()
    }
}

/// How terrane encodes one of the encodings Terraform 1.0.3 accepts (golang.org/x/text
/// v0.3.5's `ianaindex`). Single-byte code pages are x/text's tables (`codepages.rs`);
/// the multi-byte encodings go through encoding_rs, whose tables are the WHATWG indexes
/// x/text was generated from, with x/text's departures from the WHATWG encoders and
/// decoders (`Codec::EucJp`, `ShiftJis`, `Iso2022Jp`, `HzGb2312`) done here.
#[derive(Clone, Copy)]
pub(super) enum Codec {
    Ascii,
    Utf8,
    /// Big-endian, with a byte order mark written and honoured.
    Utf16,
    Utf16Be,
    Utf16Le,
    Page(&'static CodePage),
    Whatwg(&'static encoding_rs::Encoding),
    /// x/text also encodes JIS X 0212 (0x8F lead byte), which the WHATWG encoder does not.
    EucJp,
    /// x/text does not decode the user-defined area (0xF040..) nor encode U+00A5/U+203E.
    ShiftJis,
    /// x/text writes half-width katakana as JIS X 0201 (`ESC ( I`), not as full-width.
    Iso2022Jp,
    /// Not in the WHATWG standard (its label names the `replacement` encoding).
    HzGb2312,
}

/// The encoding an IANA name or alias (case-insensitive, surrounding space ignored)
/// stands for, and its IANA name.
fn text_encoding(name: &str) -> Option<(Codec, &'static str)> {
    let n = name
        .trim_matches(|c: char| c.is_whitespace())
        .to_lowercase();
    super::codepages::ENCODINGS
        .iter()
        .find(|(_, aliases, _)| aliases.contains(&n.as_str()))
        .map(|(iana, _, codec)| (*codec, *iana))
}

fn unsupported_encoding(name: &str) -> FuncError {
    FuncError::arg(
        1,
        format!("{name:?} is not a supported IANA encoding name or alias in this Terraform version"),
    )
}

fn textencodebase64(a: &[Value]) -> FResult {
    let s = str_arg(a, 0)?;
    let enc_name = str_arg(a, 1)?;
    let (codec, canonical) = text_encoding(&enc_name).ok_or_else(|| unsupported_encoding(&enc_name))?;
    let unrepresentable = || {
        FuncError::arg(
            0,
            format!(
                "the given string contains characters that cannot be represented in {canonical}"
            ),
        )
    };
    let bytes: Vec<u8> = match codec {
        Codec::Ascii => {
            if !s.is_ascii() {
                return Err(unrepresentable());
            }
            s.into_bytes()
        }
        Codec::Utf8 => s.into_bytes(),
        Codec::Utf16 | Codec::Utf16Be => {
            let mut v = if matches!(codec, Codec::Utf16) {
                vec![0xfe, 0xff]
            } else {
                vec![]
            };
            s.encode_utf16()
                .for_each(|u| v.extend_from_slice(&u.to_be_bytes()));
            v
        }
        Codec::Utf16Le => s.encode_utf16().flat_map(|u| u.to_le_bytes()).collect(),
        Codec::Page(page) => page.encode(&s).ok_or_else(unrepresentable)?,
        Codec::Whatwg(enc) => whatwg_encode(enc, &s).ok_or_else(unrepresentable)?,
        Codec::ShiftJis => {
            if s.contains(WHATWG_ONLY_JIS) {
                return Err(unrepresentable());
            }
            whatwg_encode(encoding_rs::SHIFT_JIS, &s).ok_or_else(unrepresentable)?
        }
        Codec::EucJp => euc_jp_encode(&s).ok_or_else(unrepresentable)?,
        Codec::Iso2022Jp => iso_2022_jp_encode(&s).ok_or_else(unrepresentable)?,
        Codec::HzGb2312 => hz_encode(&s).ok_or_else(unrepresentable)?,
    };
    Ok(Value::String(B64.encode(bytes)))
}

/// Encodes with encoding_rs, `None` when a character has no mapping (x/text's encoders
/// fail there too, where the WHATWG encoder would write an HTML character reference).
fn whatwg_encode(enc: &'static encoding_rs::Encoding, s: &str) -> Option<Vec<u8>> {
    let mut encoder = enc.new_encoder();
    let mut out = Vec::with_capacity(s.len() * 2 + 8);
    let mut src = s;
    loop {
        let need = encoder
            .max_buffer_length_from_utf8_without_replacement(src.len())
            .unwrap_or(src.len() * 4 + 16);
        out.reserve(need);
        let (res, read) =
            encoder.encode_from_utf8_to_vec_without_replacement(src, &mut out, true);
        src = &src[read..];
        match res {
            encoding_rs::EncoderResult::InputEmpty => return Some(out),
            encoding_rs::EncoderResult::OutputFull => continue,
            encoding_rs::EncoderResult::Unmappable(_) => return None,
        }
    }
}

/// Characters the WHATWG Japanese encoders write (as ASCII bytes, or as U+FF0D's code)
/// but x/text's cannot.
const WHATWG_ONLY_JIS: [char; 3] = ['\u{a5}', '\u{203e}', '\u{2212}'];

/// The one- or two-byte EUC-JP (JIS X 0208 or half-width katakana) code of `c`.
fn euc_jp_char(c: char) -> Option<Vec<u8>> {
    if WHATWG_ONLY_JIS.contains(&c) {
        return None;
    }
    let mut buf = [0u8; 4];
    whatwg_encode(encoding_rs::EUC_JP, c.encode_utf8(&mut buf))
}

/// JIS X 0212 codes by character, from encoding_rs's EUC-JP decoder (`0x8F b1 b2`).
fn jis0212_codes() -> &'static std::collections::HashMap<char, [u8; 2]> {
    static CODES: std::sync::OnceLock<std::collections::HashMap<char, [u8; 2]>> =
        std::sync::OnceLock::new();
    CODES.get_or_init(|| {
        let mut m = std::collections::HashMap::new();
        for b1 in 0xa1..=0xfeu8 {
            for b2 in 0xa1..=0xfeu8 {
                let code = [0x8f, b1, b2];
                let (text, bad) = encoding_rs::EUC_JP.decode_without_bom_handling(&code);
                let mut cs = text.chars();
                if let (false, Some(c), None) = (bad, cs.next(), cs.next()) {
                    m.entry(c).or_insert([b1, b2]);
                }
            }
        }
        m
    })
}

fn euc_jp_encode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len());
    for c in s.chars() {
        if c.is_ascii() {
            out.push(c as u8);
            continue;
        }
        match euc_jp_char(c) {
            // WHATWG writes U+00A5 and U+203E as ASCII bytes; x/text has no code for them.
            Some(b) if b.len() == 2 => out.extend_from_slice(&b),
            _ => {
                let [b1, b2] = *jis0212_codes().get(&c)?;
                out.extend_from_slice(&[0x8f, b1, b2]);
            }
        }
    }
    Some(out)
}

/// x/text's ISO-2022-JP encoder: ASCII, JIS X 0208 (`ESC $ B`) and half-width katakana
/// (`ESC ( I`), back to ASCII at the end.
fn iso_2022_jp_encode(s: &str) -> Option<Vec<u8>> {
    #[derive(PartialEq)]
    enum State {
        Ascii,
        Jis0208,
        Katakana,
    }
    let mut state = State::Ascii;
    let mut out = Vec::with_capacity(s.len());
    let mut switch = |out: &mut Vec<u8>, to: State, esc: &[u8]| {
        if state != to {
            out.extend_from_slice(esc);
            state = to;
        }
    };
    for c in s.chars() {
        if c.is_ascii() {
            switch(&mut out, State::Ascii, b"\x1b(B");
            out.push(c as u8);
        } else if ('\u{ff61}'..='\u{ff9f}').contains(&c) {
            switch(&mut out, State::Katakana, b"\x1b(I");
            out.push((c as u32 - 0xff40) as u8);
        } else {
            match euc_jp_char(c) {
                Some(b) if b.len() == 2 && b[0] >= 0xa1 => {
                    switch(&mut out, State::Jis0208, b"\x1b$B");
                    out.extend_from_slice(&[b[0] - 0x80, b[1] - 0x80]);
                }
                _ => return None,
            }
        }
    }
    switch(&mut out, State::Ascii, b"\x1b(B");
    Some(out)
}

/// x/text's HZ-GB-2312 encoder: `~{`..`~}` around GB 2312 codes (GBK codes with both
/// bytes in 0xA1..=0xFE, less 0x80), `~~` for a tilde, no `~}` at the very end.
fn hz_encode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len());
    let mut gb = false;
    for c in s.chars() {
        if c == '~' {
            out.extend_from_slice(b"~~");
        } else if c.is_ascii() {
            if gb {
                out.extend_from_slice(b"~}");
                gb = false;
            }
            out.push(c as u8);
        } else {
            let mut buf = [0u8; 4];
            // GBK writes the euro sign as 0x80; x/text's GB 2312 table has it at A2E3.
            let b = if c == '€' {
                vec![0xa2, 0xe3]
            } else {
                whatwg_encode(encoding_rs::GBK, c.encode_utf8(&mut buf))?
            };
            if b.len() != 2 || !(0xa1..0xfe).contains(&b[0]) || !(0xa1..0xff).contains(&b[1]) {
                return None;
            }
            if !gb {
                out.extend_from_slice(b"~{");
                gb = true;
            }
            out.extend_from_slice(&[b[0] - 0x80, b[1] - 0x80]);
        }
    }
    Some(out)
}

/// x/text's HZ-GB-2312 decoder; U+FFFD where the input is not valid HZ.
fn hz_decode(bytes: &[u8]) -> String {
    let mut out = String::new();
    let mut gb = false;
    let mut i = 0;
    while i < bytes.len() {
        let c0 = bytes[i];
        if c0 >= 0x80 {
            out.push('\u{fffd}');
            i += 1;
            continue;
        }
        if c0 == b'~' {
            match bytes.get(i + 1) {
                Some(b'{') => gb = true,
                Some(b'}') => gb = false,
                Some(b'~') => out.push('~'),
                Some(b'\n') => {}
                _ => out.push('\u{fffd}'),
            }
            i += 2;
            continue;
        }
        if !gb {
            out.push(c0 as char);
            i += 1;
            continue;
        }
        let Some(&c1) = bytes.get(i + 1) else {
            out.push('\u{fffd}');
            break;
        };
        let decoded = if (0x21..0x7e).contains(&c0) && (0x21..0x7f).contains(&c1) {
            let code = [c0 | 0x80, c1 | 0x80];
            let (t, bad) = encoding_rs::GBK.decode_without_bom_handling(&code);
            (!bad).then(|| t.into_owned())
        } else {
            None
        };
        out.push_str(decoded.as_deref().unwrap_or("\u{fffd}"));
        i += 2;
    }
    out
}

fn textdecodebase64(a: &[Value]) -> FResult {
    let s = str_arg(a, 0)?;
    let enc_name = str_arg(a, 1)?;
    let (codec, canonical) = text_encoding(&enc_name).ok_or_else(|| unsupported_encoding(&enc_name))?;
    let bytes = B64.decode(s.as_bytes()).map_err(|e| {
        let off = match e {
            base64::DecodeError::InvalidByte(o, _)
            | base64::DecodeError::InvalidLastSymbol(o, _) => o,
            _ => 0,
        };
        FuncError::arg(
            0,
            format!("the given value is has an invalid base64 symbol at offset {off}"),
        )
    })?;
    let text: String = match codec {
        Codec::Ascii => bytes
            .iter()
            .map(|&b| if b.is_ascii() { b as char } else { '\u{fffd}' })
            .collect(),
        Codec::Utf8 => String::from_utf8_lossy(&bytes).into_owned(),
        Codec::Utf16 | Codec::Utf16Le | Codec::Utf16Be => {
            let (mut le, mut body) = (matches!(codec, Codec::Utf16Le), &bytes[..]);
            if matches!(codec, Codec::Utf16) {
                if body.starts_with(&[0xff, 0xfe]) {
                    le = true;
                    body = &body[2..];
                } else if body.starts_with(&[0xfe, 0xff]) {
                    body = &body[2..];
                }
            }
            let units: Vec<u16> = body
                .chunks(2)
                .map(|c| {
                    if c.len() == 2 {
                        if le {
                            u16::from_le_bytes([c[0], c[1]])
                        } else {
                            u16::from_be_bytes([c[0], c[1]])
                        }
                    } else {
                        0xfffd
                    }
                })
                .collect();
            String::from_utf16_lossy(&units)
        }
        Codec::Page(page) => page.decode(&bytes),
        Codec::Whatwg(enc) => enc.decode_without_bom_handling(&bytes).0.into_owned(),
        Codec::EucJp => encoding_rs::EUC_JP.decode_without_bom_handling(&bytes).0.into_owned(),
        Codec::Iso2022Jp => encoding_rs::ISO_2022_JP
            .decode_without_bom_handling(&bytes)
            .0
            .into_owned(),
        Codec::ShiftJis => {
            let text = encoding_rs::SHIFT_JIS
                .decode_without_bom_handling(&bytes)
                .0
                .into_owned();
            // WHATWG maps the user-defined area to private use characters; x/text
            // leaves it undefined.
            if text.chars().any(|c| ('\u{e000}'..='\u{e757}').contains(&c)) {
                "\u{fffd}".to_string()
            } else {
                text
            }
        }
        Codec::HzGb2312 => hz_decode(&bytes),
    };
    // Terraform rejects any U+FFFD in the result, decoded from bad input or not.
    if text.contains('\u{fffd}') {
        return Err(FuncError::arg(
            0,
            format!("the given string contains symbols that are not defined for {canonical}"),
        ));
    }
    Ok(sv(&text))
}

/// Go's url.QueryEscape.
fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Go's url.QueryUnescape (OpenTofu's urldecode).
fn urldecode(a: &[Value]) -> FResult {
    let s = str_arg(a, 0)?;
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                let hex = b
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(v) if b[i + 1].is_ascii_hexdigit() && b[i + 2].is_ascii_hexdigit() => {
                        out.push(v)
                    }
                    _ => {
                        let end = (i + 3).min(b.len());
                        let bad = String::from_utf8_lossy(&b[i..end]);
                        return Err(FuncError::new(format!("invalid URL escape {bad:?}")));
                    }
                }
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out).map(|s| sv(&s)).map_err(|_| {
        FuncError::new("the result of decoding the provided string is not valid UTF-8")
    })
}

// ---- CSV -------------------------------------------------------------------------------

fn csvdecode(a: &[Value]) -> FResult {
    let s = str_arg(a, 0)?;
    check_csv_quotes(&s)?;
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(s.as_bytes());
    let mut records = rdr.records();
    let headers: Vec<String> = match records.next() {
        None => return Err(FuncError::new("missing header line")),
        Some(Err(e)) => return Err(csv_error(&e, 1)),
        Some(Ok(r)) => r.iter().map(str::to_string).collect(),
    };
    for (i, h) in headers.iter().enumerate() {
        if headers[..i].contains(h) {
            return Err(FuncError::new(format!("duplicate column name {h:?}")));
        }
    }
    let mut rows = Vec::new();
    for rec in records {
        let rec = rec.map_err(|e| csv_error(&e, 0))?;
        let line = rec.position().map(|p| p.line()).unwrap_or(0);
        if rec.len() != headers.len() {
            return Err(FuncError::new(format!(
                "CSV parse error on line {line}: wrong number of fields"
            )));
        }
        let mut m = BTreeMap::new();
        for (h, v) in headers.iter().zip(rec.iter()) {
            m.insert(h.clone(), sv(v));
        }
        rows.push(Value::Object(m));
    }
    Ok(Value::List(rows))
}

/// Go's encoding/csv rejects what the csv crate tolerates: a quoted field that never
/// ends, and a quote inside an unquoted field.
fn check_csv_quotes(s: &str) -> Result<(), FuncError> {
    let b = s.as_bytes();
    let mut line = 1u64;
    let mut i = 0;
    let mut field_start = true;
    let err = |line: u64| {
        FuncError::new(format!(
            "CSV parse error on line {line}: extraneous or missing \" in quoted-field"
        ))
    };
    while i < b.len() {
        match b[i] {
            b'"' if field_start => {
                i += 1;
                loop {
                    match b.get(i) {
                        None => return Err(err(line + 1)),
                        Some(b'"') if b.get(i + 1) == Some(&b'"') => i += 2,
                        Some(b'"') => {
                            i += 1;
                            break;
                        }
                        Some(c) => {
                            if *c == b'\n' {
                                line += 1;
                            }
                            i += 1;
                        }
                    }
                }
                match b.get(i) {
                    None | Some(b',') | Some(b'\n') | Some(b'\r') => {}
                    Some(_) => return Err(err(line)),
                }
                field_start = false;
            }
            b'"' => {
                return Err(FuncError::new(format!(
                    "CSV parse error on line {line}: bare \" in non-quoted-field"
                )))
            }
            b',' => {
                field_start = true;
                i += 1;
            }
            b'\n' => {
                line += 1;
                field_start = true;
                i += 1;
            }
            _ => {
                field_start = false;
                i += 1;
            }
        }
    }
    Ok(())
}

fn csv_error(e: &csv::Error, line: u64) -> FuncError {
    let line = e.position().map(|p| p.line()).unwrap_or(line);
    FuncError::new(format!("CSV parse error on line {line}: {e}"))
}

// ---- YAML ------------------------------------------------------------------------------

fn yamldecode(s: &str) -> FResult {
    let has_content = s.lines().any(|l| {
        let t = l.trim();
        !t.is_empty() && !t.starts_with('#') && t != "---"
    });
    if !has_content {
        return Err(FuncError::new(
            "on line 1, column 1: missing start of document",
        ));
    }
    super::yaml::decode(s)
}

/// cty's yamlencode: go-yaml's emitter output.
pub(super) fn yamlencode(v: &Value) -> String {
    let mut e = Yaml { out: String::new() };
    match v.unmark().0 {
        Value::List(vs) | Value::Set(vs) | Value::Tuple(vs) if !vs.is_empty() => e.seq(vs, 0),
        Value::Map(m) | Value::Object(m) if !m.is_empty() => e.map(m, 0, false),
        other => {
            let plain = e.scalar(other, 2);
            e.out.push('\n');
            if plain {
                e.out.push_str("...\n");
            }
        }
    }
    e.out
}

struct Yaml {
    out: String,
}

fn is_break(c: char) -> bool {
    matches!(c, '\n' | '\r' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

/// go-yaml's is_printable.
fn is_printable(c: char) -> bool {
    let u = c as u32;
    u == 0x0a
        || (0x20..=0x7e).contains(&u)
        || (0xa0..=0xd7ff).contains(&u)
        || ((0xe000..=0xfffd).contains(&u) && u != 0xfeff)
}

impl Yaml {
    fn column(&self) -> usize {
        self.out
            .rsplit('\n')
            .next()
            .map(|l| l.chars().count())
            .unwrap_or(0)
    }

    fn indent_to(&mut self, n: usize) {
        self.out.push_str(&" ".repeat(n));
    }

    /// A block mapping whose first line starts at the current position when `inline`.
    fn map(&mut self, m: &BTreeMap<String, Value>, indent: usize, inline: bool) {
        for (i, (k, v)) in m.iter().enumerate() {
            if i > 0 || !inline {
                self.indent_to(indent);
            }
            self.out.push_str(&double_quoted_key(k));
            self.out.push(':');
            self.value(v, indent, true);
        }
    }

    fn seq(&mut self, vs: &[Value], indent: usize) {
        for (i, v) in vs.iter().enumerate() {
            let _ = i;
            self.indent_to(indent);
            self.out.push('-');
            self.value(v, indent, false);
        }
    }

    /// A value after "key:" (`in_map`) or "-", at collection indent `indent`.
    fn value(&mut self, v: &Value, indent: usize, in_map: bool) {
        match v.unmark().0 {
            Value::List(vs) | Value::Set(vs) | Value::Tuple(vs) if !vs.is_empty() => {
                if in_map {
                    self.out.push('\n');
                    self.seq(vs, indent);
                } else {
                    self.out.push(' ');
                    // The nested sequence's first item continues this line.
                    let start = self.out.len();
                    self.seq(vs, indent + 2);
                    // Remove the indentation of the first nested item.
                    self.out.replace_range(start..start + indent + 2, "");
                }
            }
            Value::Map(m) | Value::Object(m) if !m.is_empty() => {
                if in_map {
                    self.out.push('\n');
                    self.map(m, indent + 2, false);
                } else {
                    self.out.push(' ');
                    self.map(m, indent + 2, true);
                }
            }
            other => {
                self.out.push(' ');
                self.scalar(other, indent + 2);
                self.out.push('\n');
            }
        }
    }

    /// Writes a scalar (or empty collection); returns true for plain scalars.
    fn scalar(&mut self, v: &Value, indent: usize) -> bool {
        match v {
            Value::Null(_) | Value::Unknown(_) => self.out.push_str("null"),
            Value::Bool(b) => self.out.push_str(if *b { "true" } else { "false" }),
            Value::Number(n) => self.out.push_str(&n.to_string()),
            Value::List(_) | Value::Set(_) | Value::Tuple(_) => {
                self.out.push_str("[]");
                return false;
            }
            Value::Map(_) | Value::Object(_) => {
                self.out.push_str("{}");
                return false;
            }
            Value::Sensitive(inner) => return self.scalar(inner, indent),
            Value::String(s) => {
                if s.contains('\n') && literal_allowed(s) {
                    self.literal(s, indent);
                } else {
                    self.double_quoted(s, indent, true);
                }
                return false;
            }
        }
        true
    }

    fn literal(&mut self, s: &str, indent: usize) {
        self.out.push('|');
        if s.starts_with(' ') || s.starts_with(is_break) {
            self.out.push('2');
        }
        let mut rev = s.chars().rev();
        match (rev.next(), rev.next()) {
            (Some(l), _) if !is_break(l) => self.out.push('-'),
            (Some(_), None) => self.out.push('+'),
            (Some(_), Some(p)) if is_break(p) => self.out.push('+'),
            _ => {}
        }
        self.out.push('\n');
        let pad = " ".repeat(indent);
        let body: Vec<String> = s
            .split('\n')
            .map(|l| {
                if l.is_empty() {
                    String::new()
                } else {
                    format!("{pad}{l}")
                }
            })
            .collect();
        self.out.push_str(&body.join("\n"));
        if s.ends_with('\n') {
            // The last break is already written; drop the newline `value` will add.
            if self.out.ends_with('\n') {
                self.out.pop();
            }
        }
    }

    fn double_quoted(&mut self, s: &str, indent: usize, allow_breaks: bool) {
        self.out.push('"');
        let chars: Vec<char> = s.chars().collect();
        let mut spaces = false;
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            if !is_printable(c) || c == '\u{feff}' || is_break(c) || c == '"' || c == '\\' {
                let esc = match c {
                    '\0' => "\\0".to_string(),
                    '\u{7}' => "\\a".into(),
                    '\u{8}' => "\\b".into(),
                    '\t' => "\\t".into(),
                    '\n' => "\\n".into(),
                    '\u{b}' => "\\v".into(),
                    '\u{c}' => "\\f".into(),
                    '\r' => "\\r".into(),
                    '\u{1b}' => "\\e".into(),
                    '"' => "\\\"".into(),
                    '\\' => "\\\\".into(),
                    '\u{85}' => "\\N".into(),
                    '\u{a0}' => "\\_".into(),
                    '\u{2028}' => "\\L".into(),
                    '\u{2029}' => "\\P".into(),
                    c if (c as u32) <= 0xff => format!("\\x{:02X}", c as u32),
                    c if (c as u32) <= 0xffff => format!("\\u{:04X}", c as u32),
                    c => format!("\\U{:08X}", c as u32),
                };
                self.out.push_str(&esc);
                spaces = false;
            } else if c == ' ' {
                if allow_breaks && !spaces && self.column() > 80 && i != 0 && i != chars.len() - 1 {
                    self.out.push('\n');
                    self.indent_to(indent);
                    if chars.get(i + 1) == Some(&' ') {
                        self.out.push('\\');
                    }
                } else {
                    self.out.push(' ');
                }
                spaces = true;
            } else {
                self.out.push(c);
                spaces = false;
            }
            i += 1;
        }
        self.out.push('"');
    }
}

fn double_quoted_key(k: &str) -> String {
    let mut e = Yaml { out: String::new() };
    e.double_quoted(k, 0, false);
    e.out
}

/// go-yaml's analysis: may this string be written as a literal block?
fn literal_allowed(s: &str) -> bool {
    let chars: Vec<char> = s.chars().collect();
    if chars
        .iter()
        .any(|c| !is_printable(*c) && !is_break(*c) || *c == '\u{feff}')
    {
        return false;
    }
    if chars.iter().any(|c| matches!(c, '\r' | '\u{85}')) {
        return false;
    }
    for w in chars.windows(2) {
        if w[0] == ' ' && is_break(w[1]) {
            return false;
        }
    }
    chars.last() != Some(&' ')
}

#[cfg(test)]
mod tests {
    use super::super::tests::{check, E};

    #[test]
    fn encoding() {
        check(&[
            ("base64encode(\"hello\")", "\"aGVsbG8=\""),
            ("base64encode([])", E),
            ("base64decode(\"aGVsbG8=\")", "\"hello\""),
            ("base64decode(\"aGVsbG8\")", "!failed to decode base64 data 'aGVsbG8'"),
            ("base64decode(\"/w==\")", "!the result of decoding the provided string is not valid UTF-8"),
            ("base64gzip(\"hello\")", "\"H4sIAAAAAAAA/8pIzcnJBwAAAP//AQAA//+GphA2BQAAAA==\""),
            ("base64gzip([])", E),
            ("base64gunzip(base64gzip(\"hello world\"))", "\"hello world\""),
            ("base64gunzip(\"aGVsbG8=\")", E),
            ("csvdecode(\"a,b\\n1,2\\n3,4\\n\")", "tolist([ { \"a\" = \"1\" \"b\" = \"2\" }, { \"a\" = \"3\" \"b\" = \"4\" }, ])"),
            ("csvdecode(\"a,b\")", "tolist([])"),
            ("csvdecode(\"a,b\\n1\\n\")", "!CSV parse error on line 2: wrong number of fields"),
            ("csvdecode(\"\")", "!missing header line"),
            ("csvdecode(\"a,a\\n1,2\\n\")", "!duplicate column name \"a\""),
            ("jsondecode(\"nul\")", "!unexpected EOF"),
            ("jsonencode(1e21)", "\"1000000000000000000000\""),
            ("jsonencode(1e-7)", "\"0.0000001\""),
            ("jsonencode(0.1)", "\"0.1\""),
            (
                "jsonencode({b=1, a=[\"<&>\", true, null], \"\\u2028\"=\"é\"})",
                r#""{\"a\":[\"\\u003c\\u0026\\u003e\",true,null],\"b\":1,\"\\u2028\":\"é\"}""#,
            ),
            ("jsonencode(tomap({z=1}))", "\"{\\\"z\\\":1}\""),
            ("jsonencode(toset([3,1]))", "\"[1,3]\""),
            ("jsonencode(\"\\u0008\\u000c\\u0001\\t\\n\\r\")", r#""\"\\u0008\\u000c\\u0001\\t\\n\\r\"""#),
            ("jsonencode(null)", "\"null\""),
            ("jsonencode(unknown)", "(known after apply)"),
            ("jsondecode(\"{\\\"b\\\":1,\\\"a\\\":[1,\\\"x\\\",null,{}]}\")", "{ \"a\" = [ 1, \"x\", null, {}, ] \"b\" = 1 }"),
            ("jsondecode(\"1.5e3\")", "1500"),
            ("jsondecode(\"[\")", "!EOF"),
            ("jsondecode(\"\")", "!EOF"),
            ("jsondecode(\"{\\\"a\\\":1} x\")", "!extraneous data after JSON object"),
            ("textencodebase64(\"hé\", \"UTF-16LE\")", "\"aADpAA==\""),
            ("textencodebase64(\"hé\", \"UTF-16\")", "\"/v8AaADp\""),
            ("textencodebase64(\"hé\", \"UTF-16BE\")", "\"AGgA6Q==\""),
            ("textencodebase64(\"hé\", \"ISO-8859-1\")", "\"aOk=\""),
            ("textencodebase64(\"h€\", \"windows-1252\")", "\"aIA=\""),
            ("textencodebase64(\"h€\", \"ISO-8859-1\")", "!the given string contains characters that cannot be represented in ISO_8859-1:1987"),
            ("textencodebase64(\"h\", \"nope\")", "!\"nope\" is not a supported IANA encoding name or alias in this Terraform version"),
            ("textdecodebase64(\"aOk=\", \"ISO-8859-1\")", "\"hé\""),
            ("textdecodebase64(\"//5oAOkA\", \"UTF-16\")", "\"hé\""),
            ("textdecodebase64(\"aOk\", \"ISO-8859-1\")", "!the given value is has an invalid base64 symbol"),
            ("urlencode(\"a b&c/d~é_.-*\")", "\"a+b%26c%2Fd~%C3%A9_.-%2A\""),
            ("urlencode([])", E),
            ("urldecode(\"a+b%26c%2Fd~%C3%A9\")", "\"a b&c/d~é\""),
            ("urldecode(\"%zz\")", "!invalid URL escape \"%zz\""),
            ("yamldecode(\"a: 1\\nb: [x, 2.5, true, null]\\nc: {d: e}\\n\")", "{ \"a\" = 1 \"b\" = [ \"x\", 2.5, true, null, ] \"c\" = { \"d\" = \"e\" } }"),
            ("yamldecode(\"0x10\")", "16"),
            ("yamldecode(\"\")", "!missing start of document"),
            ("yamldecode(\"[\")", E),
            ("yamldecode(\"---\\na: 1\\n---\\nb: 2\\n\")", E),
        ]);
    }

    #[test]
    fn yamlencode() {
        check(&[
            (
                "yamlencode({a=1, b=\"x\", c=[1, \"two\", true, null], d={}, e=[], f=\"multi\\nline\", g=\"true\", h=\"\", i=\"1.5\", j=1.5, k=1e30, l=\"a: b\", m=\"-x\"})",
                "<<EOT\n\"a\": 1\n\"b\": \"x\"\n\"c\":\n- 1\n- \"two\"\n- true\n- null\n\"d\": {}\n\"e\": []\n\"f\": |-\n  multi\n  line\n\"g\": \"true\"\n\"h\": \"\"\n\"i\": \"1.5\"\n\"j\": 1.5\n\"k\": 1000000000000000000000000000000\n\"l\": \"a: b\"\n\"m\": \"-x\"\nEOT",
            ),
            (
                "yamlencode([{a=1,b=[1,2]}, [3,[4]], \"x\\n\", \"a\\n\\n\", \"\\tb\\u0001é\\\"\\\\\", \"  lead\\nx\", \"trail \\nx\", 0.1, -5, {\"x y\"={}}, \"x\\n \"])",
                "<<EOT\n- \"a\": 1\n  \"b\":\n  - 1\n  - 2\n- - 3\n  - - 4\n- |\n  x\n- |+\n  a\n\n- \"\\tb\\x01é\\\"\\\\\"\n- |2-\n    lead\n  x\n- \"trail \\nx\"\n- 0.1\n- -5\n- \"x y\": {}\n- \"x\\n \"\nEOT",
            ),
            ("yamlencode(\"a\")", "<<EOT\n\"a\"\nEOT"),
            ("yamlencode(null)", "<<EOT\nnull\n...\nEOT"),
            ("yamlencode(true)", "<<EOT\ntrue\n...\nEOT"),
            ("yamlencode([])", "<<EOT\n[]\nEOT"),
            ("yamlencode({a={b={c=1}}, l=[[]]})", "<<EOT\n\"a\":\n  \"b\":\n    \"c\": 1\n\"l\":\n- []\nEOT"),
            ("yamlencode(\"a\\n\")", "<<EOT\n|\n  a\nEOT"),
            ("yamlencode([\"\\u2028\", \"~\", \"null\", \"😀\", \"\\ufeff\", \"\\u0085\", \"\\ra\"])", "<<EOT\n- \"\\L\"\n- \"~\"\n- \"null\"\n- \"\\U0001F600\"\n- \"\\uFEFF\"\n- \"\\N\"\n- \"\\ra\"\nEOT"),
            (
                "yamlencode(\"aaaa bbbb cccc dddd eeee ffff gggg hhhh iiii jjjj kkkk llll mmmm nnnn oooo pppp qqqq rrrr ssss\")",
                "<<EOT\n\"aaaa bbbb cccc dddd eeee ffff gggg hhhh iiii jjjj kkkk llll mmmm nnnn oooo pppp qqqq\n  rrrr ssss\"\nEOT",
            ),
            ("yamlencode({a=[{}], b=[{x=1}]})", "<<EOT\n\"a\":\n- {}\n\"b\":\n- \"x\": 1\nEOT"),
        ]);
    }
}
