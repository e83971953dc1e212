//! The language: values, types, conversions, functions and expression evaluation.
//!
//! Owns everything that turns an hcl-edit expression into a `Value`. It never reads
//! state files or calls providers: the engine hands it a `Scope` that answers references.

pub mod convert;
pub mod eval;
pub mod funcs;
pub mod number;
pub mod typeexpr;
pub mod value;

pub use value::{Number, Type, Value};

/// Parses one expression as hcl-edit does, also accepting number literals beyond
/// `f64`'s range (`1e400`), which Terraform reads at 512 bits but hcl-edit rejects:
/// when the first parse fails, such literals are replaced by zeros of the same length
/// and the text parsed again. The evaluator reads every literal back from the source
/// text, so the value is exact; the spans are unchanged.
/// An object constructor may repeat a key (see `parse_with_repeated_keys`).
pub fn parse_expr(src: &str) -> Result<hcl_edit::expr::Expression, hcl_edit::parser::Error> {
    parse_with_repeated_keys(src, parse_expr_once)
}

/// Parses a configuration file as hcl-edit does, except that an object constructor may
/// repeat a key (see `parse_with_repeated_keys`).
pub fn parse_body(src: &str) -> Result<hcl_edit::structure::Body, hcl_edit::parser::Error> {
    parse_with_repeated_keys(src, hcl_edit::parser::parse_body)
}

/// Parses a configuration file as `parse_body` does (the same errors), but leaves every
/// argument's expression unbuilt: each is a `null` placeholder carrying the span of the
/// expression's text, which `parse_expr_in` parses when it is needed. The syntax trees
/// of a whole file never exist at once.
pub fn parse_body_outline(src: &str) -> Result<hcl_edit::structure::Body, hcl_edit::parser::Error> {
    parse_with_repeated_keys(src, hcl_edit::parser::parse_body_outline)
}

/// Parses the expression at `range` of a file's text, with spans relative to the start
/// of the file (as if the whole file had been parsed). An object constructor may repeat
/// a key.
pub fn parse_expr_in(
    text: &str,
    range: std::ops::Range<usize>,
) -> Result<hcl_edit::expr::Expression, hcl_edit::parser::Error> {
    let start = range.start;
    parse_with_repeated_keys(&text[..range.end], |t| hcl_edit::parser::parse_expr_at(t, start))
}

/// hcl-edit rejects an object constructor that repeats a key (`{a = 1, a = 2}`), but
/// Terraform accepts it and the last value wins. On that error the repeated key's text
/// is replaced by a placeholder of the same length (another identifier, or other
/// letters inside the quotes) and the text parsed again, until it parses or fails
/// otherwise. The evaluator reads object keys back from the original text
/// (`eval::Evaluator::object_key_text`), so keys and spans stay exact.
fn parse_with_repeated_keys<T>(
    src: &str,
    parse: impl Fn(&str) -> Result<T, hcl_edit::parser::Error>,
) -> Result<T, hcl_edit::parser::Error> {
    let first_err = match parse(src) {
        Ok(v) => return Ok(v),
        Err(e) => e,
    };
    let mut text = src.as_bytes().to_vec();
    let mut err = first_err.clone();
    let mut attempts: std::collections::HashMap<usize, usize> = Default::default();
    // Bounded: each repeated key needs a few attempts at most (a placeholder that
    // happens to equal another key of the object is reported and replaced again).
    for _ in 0..4096 {
        if !err.message().contains("redefined object key") {
            break;
        }
        let off = err.location().offset();
        let n = attempts.entry(off).or_insert(0);
        if !replace_key(&mut text, off, *n) {
            break;
        }
        *n += 1;
        let Ok(patched) = std::str::from_utf8(&text) else {
            break;
        };
        match parse(patched) {
            Ok(v) => return Ok(v),
            Err(e) => err = e,
        }
    }
    Err(first_err)
}

/// Replaces the object key at byte `off` (an identifier, or a quoted string without
/// escapes or templates) by the `attempt`th placeholder of the same length; false when
/// the key is of another form or there is no placeholder left.
fn replace_key(text: &mut [u8], off: usize, attempt: usize) -> bool {
    const LETTERS: &[u8] = b"ZYXWVUTSRQPONMLKJIHGFEDCBAzyxwvutsrqponmlkjihgfedcba";
    let Some(&first) = text.get(off) else {
        return false;
    };
    let (start, end) = if first == b'"' {
        let Some(len) = text[off + 1..].iter().position(|&c| c == b'"') else {
            return false;
        };
        let inner = &text[off + 1..off + 1 + len];
        if len == 0 || inner.iter().any(|&c| matches!(c, b'\\' | b'$' | b'%' | b'\n')) {
            return false;
        }
        (off + 1, off + 1 + len)
    } else if first.is_ascii_alphabetic() || first == b'_' {
        let len = text[off..]
            .iter()
            .take_while(|&&c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
            .count();
        (off, off + len)
    } else {
        return false;
    };
    // The attempt-th word of LETTERS, in base LETTERS.len(), as long as the key.
    let mut k = attempt;
    for i in (start..end).rev() {
        text[i] = LETTERS[k % LETTERS.len()];
        k /= LETTERS.len();
    }
    k == 0
}

fn parse_expr_once(src: &str) -> Result<hcl_edit::expr::Expression, hcl_edit::parser::Error> {
    let first = hcl_edit::parser::parse_expr(src);
    let Err(err) = first else {
        return first;
    };
    let patched = zero_huge_literals(src);
    if patched == src {
        return Err(err);
    }
    hcl_edit::parser::parse_expr(&patched).map_err(|_| err)
}

/// `src` with every number literal outside `f64`'s range turned into zeros (outside
/// quoted strings; good enough for a retry, since the original text failed anyway).
fn zero_huge_literals(src: &str) -> String {
    let b = src.as_bytes();
    let mut out = b.to_vec();
    let mut i = 0;
    let mut in_str = false;
    while i < b.len() {
        let c = b[i];
        if in_str {
            match c {
                b'\\' => i += 1,
                b'"' => in_str = false,
                _ => {}
            }
            i += 1;
            continue;
        }
        if c == b'"' {
            in_str = true;
            i += 1;
            continue;
        }
        let prev_ident =
            i > 0 && (b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_' || b[i - 1] == b'.');
        if c.is_ascii_digit() && !prev_ident {
            let st = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            if i + 1 < b.len() && b[i] == b'.' && b[i + 1].is_ascii_digit() {
                i += 1;
                while i < b.len() && b[i].is_ascii_digit() {
                    i += 1;
                }
            }
            if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
                let mut j = i + 1;
                if j < b.len() && (b[j] == b'+' || b[j] == b'-') {
                    j += 1;
                }
                if j < b.len() && b[j].is_ascii_digit() {
                    while j < b.len() && b[j].is_ascii_digit() {
                        j += 1;
                    }
                    i = j;
                }
            }
            let text = &src[st..i];
            if text.parse::<f64>().map(|f| !f.is_finite()).unwrap_or(false) {
                for o in &mut out[st..i] {
                    if o.is_ascii_digit() {
                        *o = b'0';
                    }
                }
            }
            continue;
        }
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|_| src.to_string())
}
