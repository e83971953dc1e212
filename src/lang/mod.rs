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

/// Parses a configuration file as `parse_body` does (the same errors), but leaves the
/// arguments' expressions unbuilt, except the smallest (`is_small`): each is a `null`
/// placeholder carrying the span of the expression's text, which `parse_expr_in` parses
/// when it is needed. The syntax trees of a whole file never exist at once.
pub fn parse_body_outline(src: &str) -> Result<hcl_edit::structure::Body, hcl_edit::parser::Error> {
    parse_with_repeated_keys(src, |s| hcl_edit::parser::parse_body_outline(s, is_small))
}

/// `parse_body_outline` of a big file on several threads: the file is cut at the start of
/// lines between top-level structures (`top_level_lines`) into (at most) `pieces` pieces
/// parsed at once, and their bodies returned in order, spans relative to the whole file.
/// Anything unusual (a piece that does not parse, top-level arguments repeated across
/// pieces) falls back to parsing the whole file at once, so the result and the errors
/// are `parse_body_outline`'s.
pub fn parse_body_outline_pieces(
    src: &str,
    pieces: usize,
) -> Result<Vec<hcl_edit::structure::Body>, hcl_edit::parser::Error> {
    in_pieces(
        src,
        pieces,
        |t, start| parse_with_repeated_keys(t, |t| hcl_edit::parser::parse_body_outline_at(t, start, is_small)),
        parse_body_outline,
    )
}

/// Whether a file parses (`fmt`'s check: as `parse_body_outline`, keeping no trees), on
/// several threads as `parse_body_outline_pieces` does; the error is the whole file's.
pub fn check_syntax_in_pieces(src: &str, pieces: usize) -> Result<(), hcl_edit::parser::Error> {
    in_pieces(
        src,
        pieces,
        |t, start| parse_with_repeated_keys(t, |t| hcl_edit::parser::parse_body_outline_at(t, start, |_| false)),
        |t| parse_with_repeated_keys(t, |t| hcl_edit::parser::parse_body_outline(t, |_| false)),
    )
    .map(|_| ())
}

/// The pieces' bodies, each parsed by `piece(&src[..end], start)`, or `whole(src)`.
fn in_pieces(
    src: &str,
    pieces: usize,
    piece: fn(&str, usize) -> Result<hcl_edit::structure::Body, hcl_edit::parser::Error>,
    whole: fn(&str) -> Result<hcl_edit::structure::Body, hcl_edit::parser::Error>,
) -> Result<Vec<hcl_edit::structure::Body>, hcl_edit::parser::Error> {
    if pieces < 2 {
        return whole(src).map(|b| vec![b]);
    }
    let lines = top_level_lines(src);
    let mut cuts = vec![0];
    for k in 1..pieces {
        let want = src.len() * k / pieces;
        match lines.iter().find(|&&l| l >= want) {
            Some(&l) if l > *cuts.last().unwrap_or(&0) && l < src.len() => cuts.push(l),
            _ => {}
        }
    }
    cuts.push(src.len());
    let results: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = cuts
            .windows(2)
            .map(|w| {
                let (start, end) = (w[0], w[1]);
                s.spawn(move || piece(&src[..end], start))
            })
            .collect();
        handles.into_iter().map(|h| h.join().ok().and_then(Result::ok)).collect()
    });
    let mut bodies = Vec::with_capacity(results.len());
    let mut top_attrs = std::collections::HashSet::new();
    for body in results {
        let Some(body) = body else {
            return whole(src).map(|b| vec![b]);
        };
        for a in body.attributes() {
            if !top_attrs.insert(a.key.as_str().to_string()) {
                return whole(src).map(|b| vec![b]);
            }
        }
        bodies.push(body);
    }
    Ok(bodies)
}

#[cfg(test)]
pub(crate) fn top_level_lines_for_tests(src: &str) -> Vec<usize> {
    top_level_lines(src)
}

/// The offsets at which a line starts outside every bracket, string, template, heredoc
/// and comment: where a top-level structure may begin. A scanner, not a parser: a wrong
/// guess only makes a piece of `parse_body_outline_pieces` fail to parse, and the whole
/// file is parsed instead.
fn top_level_lines(src: &str) -> Vec<usize> {
    let b = src.as_bytes();
    let mut out = Vec::new();
    // Open brackets; a template interpolation inside a string is `b'$'`, the string
    // itself `b'"'`.
    let mut stack: Vec<u8> = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if stack.last() == Some(&b'"') {
            match c {
                b'\\' => i += 1,
                b'"' => {
                    stack.pop();
                }
                b'$' | b'%' if b.get(i + 1) == Some(&b'{') => {
                    if b.get(i.wrapping_sub(1)) != Some(&c) {
                        stack.push(b'$');
                    }
                    i += 1;
                }
                _ => {}
            }
            i += 1;
            continue;
        }
        match c {
            b'\n' if stack.is_empty() => out.push(i + 1),
            b'#' => i = src[i..].find('\n').map_or(b.len(), |n| i + n) - 1,
            b'/' if b.get(i + 1) == Some(&b'/') => i = src[i..].find('\n').map_or(b.len(), |n| i + n) - 1,
            b'/' if b.get(i + 1) == Some(&b'*') => i = src[i + 2..].find("*/").map_or(b.len(), |n| i + 2 + n + 1),
            b'"' => stack.push(b'"'),
            b'<' if src[i..].starts_with("<<") => {
                let rest = src[i + 2..].trim_start_matches('-');
                let ident: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                if !ident.is_empty() {
                    // The body runs to the line that is the identifier alone; the newline
                    // ending that line is seen by the loop.
                    let mut pos = src[i..].find('\n').map_or(b.len(), |n| i + n + 1);
                    let mut end = b.len();
                    for line in src[pos..].split_inclusive('\n') {
                        if line.trim() == ident {
                            end = pos + line.trim_end_matches(['\n', '\r']).len();
                            break;
                        }
                        pos += line.len();
                    }
                    i = end;
                    continue;
                }
            }
            b'{' | b'[' | b'(' => stack.push(c),
            b'}' | b']' | b')' => {
                if stack.pop() == Some(b'$') {
                    // The end of an interpolation: back inside its string.
                }
            }
            _ => {}
        }
        i += 1;
    }
    out
}

/// The expressions an outline keeps: literals and static references (`"text"`, `true`,
/// `string`, `aws.west`), a node or two each. They are the values read while the
/// configuration is loaded (descriptions, flags, provider references, type keywords),
/// so keeping them saves parsing them again, and keeping them costs little.
pub fn is_small(e: &hcl_edit::expr::Expression) -> bool {
    use hcl_edit::expr::{Expression, TraversalOperator};
    match e {
        Expression::Null(_) | Expression::Bool(_) | Expression::Number(_) | Expression::String(_) | Expression::Variable(_) => true,
        Expression::Traversal(t) => {
            matches!(t.expr, Expression::Variable(_))
                && t.operators.len() <= 2
                && t.operators.iter().all(|o| matches!(o.value(), TraversalOperator::GetAttr(_)))
        }
        _ => false,
    }
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

#[cfg(test)]
mod tests {
    use hcl_edit::expr::{Expression, ObjectKey};

    fn keys(src: &str) -> Vec<String> {
        let Ok(Expression::Object(o)) = hcl_edit::parser::parse_expr(src) else { panic!("{src}") };
        o.iter()
            .map(|(k, _)| match k {
                ObjectKey::Ident(i) => i.as_str().to_string(),
                ObjectKey::Expression(e) => format!("{e:?}").chars().take(12).collect(),
            })
            .collect()
    }

    /// The patched object-key check of the vendored hcl-edit (hashed, not a scan of every
    /// earlier key) rejects exactly the repeats the published one rejects, at the same place
    /// (the offsets and the three-keys case are what hcl-edit 0.10.0 as published answers).
    #[test]
    fn object_keys_repeat_as_hcl_edit_defines_it() {
        for (src, at) in [
            ("{ a = 1, b = 2, a = 3 }", 16),
            ("{ \"x\" = 1, \"x\" = 2 }", 11),
            ("{ (k) = 1, (k) = 2 }", 11),
            ("{ \"${x}\" = 1, \"${x}\" = 2 }", 14),
            ("{\n  a = 1\n  a = 2\n}", 12),
        ] {
            let e = hcl_edit::parser::parse_expr(src).unwrap_err();
            assert!(e.message().contains("redefined object key"), "{src}: {}", e.message());
            assert_eq!(e.location().offset(), at, "{src}");
        }
        // An identifier, a quoted string and a parenthesised expression are three keys.
        assert_eq!(keys("{ a = 1, \"a\" = 2, (a) = 3 }").len(), 3);
        // Order is source order, also for thousands of keys.
        let big = format!("{{ {} }}", (0..5000).map(|i| format!("k{i} = {i}")).collect::<Vec<_>>().join(", "));
        let k = keys(&big);
        assert_eq!(k.len(), 5000);
        assert_eq!((k[0].as_str(), k[4999].as_str()), ("k0", "k4999"));
        let dup = format!("{{ {}, k17 = 0 }}", (0..5000).map(|i| format!("k{i} = {i}")).collect::<Vec<_>>().join(", "));
        assert!(hcl_edit::parser::parse_expr(&dup).unwrap_err().message().contains("redefined object key"));
    }
}
