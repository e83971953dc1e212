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
pub fn parse_expr(src: &str) -> Result<hcl_edit::expr::Expression, hcl_edit::parser::Error> {
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
