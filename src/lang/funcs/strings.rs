//! String functions: chomp, endswith, format, formatlist, indent, join, lower, regex,
//! regexall, replace, split, startswith, strcontains, strrev, substr, title, trim,
//! trimprefix, trimsuffix, trimspace, upper.
//!
//! Like cty, lengths and offsets count grapheme clusters, results are NFC-normalised,
//! and case mapping is Go's simple (one character to one character) mapping. Regular
//! expressions use Rust's `regex` crate, whose syntax is RE2's as Go's `regexp` is;
//! error texts of invalid patterns differ from Go's.

use std::collections::BTreeMap;

use regex::Regex;
use unicode_normalization::UnicodeNormalization;
use unicode_segmentation::UnicodeSegmentation;

use super::{format, num_arg, str_arg, str_list_arg, FResult, FuncError};
use crate::lang::value::{Type, Value};

pub(super) fn call(name: &str, a: &[Value]) -> Option<FResult> {
    Some(match name {
        "chomp" => str_arg(a, 0).map(|s| sv(s.trim_end_matches(['\n', '\r']))),
        "endswith" => two(a).map(|(s, x)| Value::Bool(s.ends_with(&x))),
        "startswith" => two(a).map(|(s, x)| Value::Bool(s.starts_with(&x))),
        "strcontains" => two(a).map(|(s, x)| Value::Bool(s.contains(&x))),
        "format" => format::format_func(a),
        "formatlist" => format::formatlist_func(a),
        "indent" => indent(a),
        "join" => join(a),
        "lower" => str_arg(a, 0).map(|s| sv(&lower(&s))),
        "upper" => str_arg(a, 0).map(|s| sv(&upper(&s))),
        "regex" => regex_func(a, false),
        "regexall" => regex_func(a, true),
        "replace" => replace(a),
        "split" => split(a),
        "strrev" => str_arg(a, 0).map(|s| sv(&s.graphemes(true).rev().collect::<String>())),
        "substr" => substr(a),
        "title" => str_arg(a, 0).map(|s| sv(&title(&s))),
        "trim" => two(a).map(|(s, cut)| sv(s.trim_matches(|c: char| cut.contains(c)))),
        "trimprefix" => two(a).map(|(s, p)| sv(s.strip_prefix(p.as_str()).unwrap_or(&s))),
        "trimsuffix" => two(a).map(|(s, p)| sv(s.strip_suffix(p.as_str()).unwrap_or(&s))),
        "trimspace" => str_arg(a, 0).map(|s| sv(s.trim_matches(go_space))),
        _ => return None,
    })
}

/// A string value, NFC-normalised as cty normalises every string.
pub(super) fn sv(s: &str) -> Value {
    if unicode_normalization::is_nfc_quick(s.chars()) == unicode_normalization::IsNormalized::Yes {
        Value::String(s.to_string())
    } else {
        Value::String(s.nfc().collect())
    }
}

fn two(a: &[Value]) -> Result<(String, String), FuncError> {
    Ok((str_arg(a, 0)?, str_arg(a, 1)?))
}

/// Go's unicode.IsSpace.
fn go_space(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n' | '\u{b}' | '\u{c}' | '\r' | ' ' | '\u{85}' | '\u{a0}'
    ) || (c > '\u{ff}' && c.is_whitespace())
}

/// Go's strings.ToLower: one-to-one simple case mapping.
fn lower(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c == 'İ' {
                return 'i';
            }
            let mut m = c.to_lowercase();
            match (m.next(), m.next()) {
                (Some(x), None) => x,
                _ => c,
            }
        })
        .collect()
}

/// Go's strings.ToUpper: one-to-one simple case mapping (so "ß" stays "ß").
fn upper(s: &str) -> String {
    s.chars()
        .map(|c| {
            let mut m = c.to_uppercase();
            match (m.next(), m.next()) {
                (Some(x), None) => x,
                _ => c,
            }
        })
        .collect()
}

/// Go's strings.Title: the first letter of each word in title case, where words are
/// separated by anything that is not a letter, digit or underscore.
fn title(s: &str) -> String {
    fn is_sep(c: char) -> bool {
        if c.is_ascii() {
            return !(c.is_ascii_alphanumeric() || c == '_');
        }
        if c.is_alphanumeric() {
            return false;
        }
        go_space(c)
    }
    let mut prev = ' ';
    s.chars()
        .map(|c| {
            let out = if is_sep(prev) {
                upper(&c.to_string())
            } else {
                c.to_string()
            };
            prev = c;
            out
        })
        .collect()
}

fn indent(a: &[Value]) -> FResult {
    // gocty's int conversion and Go's strings.Repeat (which panics on a negative
    // count) run inside the implementation: plain call errors.
    let n = super::numeric::go_int(&super::num_arg(a, 0)?).map_err(FuncError::new)?;
    let s = str_arg(a, 1)?;
    if n < 0 {
        return Err(FuncError::new("strings: negative Repeat count"));
    }
    let n = usize::try_from(n).unwrap_or(usize::MAX);
    let lines = s.matches('\n').count();
    if n.saturating_mul(lines) > 64 * 1024 * 1024 {
        return Err(FuncError::arg(0, "result would be too large"));
    }
    let pad = " ".repeat(if lines == 0 { 0 } else { n });
    Ok(sv(&s.replace('\n', &format!("\n{pad}"))))
}

fn join(a: &[Value]) -> FResult {
    let sep = str_arg(a, 0)?;
    let lists = &a[1..];
    if lists.is_empty() {
        return Err(FuncError::new("at least one list is required"));
    }
    let mut items: Vec<String> = Vec::new();
    for (li, list) in lists.iter().enumerate() {
        let ai = li + 1;
        let elems = str_list_arg(a, ai)?;
        for (ei, e) in elems.iter().enumerate() {
            match e {
                Value::String(s) => items.push(s.clone()),
                Value::Null(_) => {
                    return Err(FuncError::arg(
                        ai,
                        if lists.len() > 1 {
                            format!(
                                "element {ei} of list {ai} is null; cannot concatenate null values"
                            )
                        } else {
                            format!("element {ei} is null; cannot concatenate null values")
                        },
                    ))
                }
                _ => return Ok(Value::Unknown(Type::String)),
            }
        }
        let _ = list;
    }
    Ok(sv(&items.join(&sep)))
}

fn split(a: &[Value]) -> FResult {
    let sep = str_arg(a, 0)?;
    let s = str_arg(a, 1)?;
    let parts: Vec<Value> = if sep.is_empty() {
        // Go's strings.Split with an empty separator splits into UTF-8 sequences.
        s.chars().map(|c| Value::String(c.to_string())).collect()
    } else {
        s.split(sep.as_str()).map(sv).collect()
    };
    Ok(Value::List(parts))
}

fn substr(a: &[Value]) -> FResult {
    let s = str_arg(a, 0)?;
    let whole = |i: usize| {
        num_arg(a, i).and_then(|n| {
            n.as_i64().ok_or_else(|| FuncError::new("value must be a whole number, between -9223372036854775808 and 9223372036854775807"))
        })
    };
    let mut offset = whole(1)?;
    let length = whole(2)?;
    let gs: Vec<&str> = s.graphemes(true).collect();
    let total = i64::try_from(gs.len()).unwrap_or(i64::MAX);
    // cty's quirks: a negative offset counts from the end (and may stay negative,
    // meaning the start); a zero length means "to the end" unless the offset was
    // non-negative, in which case the result is empty.
    if offset < 0 {
        offset = offset.saturating_add(total);
    } else if length == 0 {
        return Ok(sv(""));
    }
    if offset > total {
        return Ok(sv(""));
    }
    // 0 <= start <= gs.len() here.
    let start = usize::try_from(offset.max(0))
        .unwrap_or(gs.len())
        .min(gs.len());
    let rest = &gs[start..];
    let take = if length <= 0 {
        rest.len()
    } else {
        usize::try_from(length)
            .unwrap_or(usize::MAX)
            .min(rest.len())
    };
    Ok(sv(&rest[..take].concat()))
}

/// Compiles a pattern, reusing the compiled form of a pattern seen before on this thread:
/// a configuration typically repeats one pattern (a validation block on each of thousands
/// of variables), and compiling took most of the time of evaluating such a call.
fn compile(pattern: &str) -> Result<Regex, String> {
    thread_local! {
        static CACHE: std::cell::RefCell<std::collections::HashMap<String, Regex>> = Default::default();
    }
    if let Some(re) = CACHE.with(|c| c.borrow().get(pattern).cloned()) {
        return Ok(re);
    }
    let re = compile_uncached(pattern)?;
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        // Bounded: distinct patterns are few in real configurations, but not necessarily.
        if c.len() >= 256 {
            c.clear();
        }
        c.insert(pattern.to_string(), re.clone());
    });
    Ok(re)
}

fn compile_uncached(pattern: &str) -> Result<Regex, String> {
    Regex::new(pattern).map_err(|e| {
        let msg = e.to_string();
        let last = msg
            .lines()
            .filter(|l| !l.trim().is_empty())
            .last()
            .unwrap_or("")
            .trim()
            .to_string();
        last.strip_prefix("error: ").unwrap_or(&last).to_string()
    })
}

fn regex_func(a: &[Value], all: bool) -> FResult {
    let pattern = str_arg(a, 0)?;
    let s = str_arg(a, 1)?;
    let re =
        compile(&pattern).map_err(|m| FuncError::arg(0, format!("invalid regexp pattern: {m}")))?;
    let names: Vec<Option<&str>> = re.capture_names().skip(1).collect();
    let named = names.iter().filter(|n| n.is_some()).count();
    if named > 0 && named != names.len() {
        return Err(FuncError::arg(
            0,
            "invalid regexp pattern: cannot mix both named and unnamed capture groups",
        ));
    }
    let result = |caps: &regex::Captures| -> Value {
        let get = |i: usize| {
            caps.get(i)
                .map(|m| sv(m.as_str()))
                .unwrap_or(Value::Null(Type::String))
        };
        if names.is_empty() {
            get(0)
        } else if named > 0 {
            let mut m = BTreeMap::new();
            for (i, n) in names.iter().enumerate() {
                if let Some(n) = n {
                    m.insert(n.to_string(), get(i + 1));
                }
            }
            Value::Object(m)
        } else {
            Value::Tuple((1..=names.len()).map(get).collect())
        }
    };
    if all {
        Ok(Value::List(
            re.captures_iter(&s).map(|c| result(&c)).collect(),
        ))
    } else {
        match re.captures(&s) {
            Some(c) => Ok(result(&c)),
            None => Err(FuncError::new(
                "pattern did not match any part of the given string",
            )),
        }
    }
}

fn replace(a: &[Value]) -> FResult {
    let s = str_arg(a, 0)?;
    let sub = str_arg(a, 1)?;
    let rep = str_arg(a, 2)?;
    if sub.len() > 1 && sub.starts_with('/') && sub.ends_with('/') {
        let re = compile(&sub[1..sub.len() - 1])
            .map_err(|m| FuncError::new(format!("error parsing regexp: {m}")))?;
        return Ok(sv(&re.replace_all(&s, rep.as_str())));
    }
    if sub.is_empty() {
        // Go's strings.Replace with an empty old string inserts at every rune boundary.
        let mut out = String::with_capacity(s.len() * (rep.len() + 1) + rep.len());
        out.push_str(&rep);
        for c in s.chars() {
            out.push(c);
            out.push_str(&rep);
        }
        return Ok(sv(&out));
    }
    Ok(sv(&s.replace(&sub, &rep)))
}

#[cfg(test)]
mod tests {
    use super::super::tests::{check, E};

    #[test]
    fn strings() {
        check(&[
            ("chomp(\"a\\n\\r\\n\\n\")", "\"a\""),
            ("chomp(\"a\\r\")", "\"a\""),
            ("chomp([])", E),
            ("startswith(\"hello\", \"he\")", "true"),
            ("endswith(\"hello\", \"he\")", "false"),
            ("strcontains(\"hello\", \"ll\")", "true"),
            ("strcontains([], \"ll\")", E),
            ("indent(2, \"a\\nb\")", "<<EOT\na\n  b\nEOT"),
            ("indent(-1, \"a\\nb\")", E),
            ("join(\",\", [\"a\"], [\"b\", 1])", "\"a,b,1\""),
            ("join(\"-\", toset([\"b\",\"a\"]))", "\"a-b\""),
            ("join(\",\")", "!at least one list is required"),
            (
                "join(\",\", [null])",
                "!element 0 is null; cannot concatenate null values [arg 1]",
            ),
            (
                "join(\",\", [\"a\"], [null])",
                "!element 0 of list 2 is null; cannot concatenate null values [arg 2]",
            ),
            ("join(\",\", null)", "!argument must not be null"),
            ("lower(\"ΑΣ\")", "\"ασ\""),
            ("upper(\"ß\")", "\"ß\""),
            ("upper(5)", "\"5\""),
            ("upper([1])", "!string required"),
            ("regex(\"(a)(b)?\", \"a\")", "[ \"a\", null, ]"),
            (
                "regex(\"(?P<x>a)(?P<y>b)?\", \"ac\")",
                "{ \"x\" = \"a\" \"y\" = null }",
            ),
            ("regex(\"[a-z]+\", \"12abc3\")", "\"abc\""),
            (
                "regex(\"a(b)\", \"xyz\")",
                "!pattern did not match any part of the given string",
            ),
            (
                "regex(\"(?P<x>a)(b)\", \"ab\")",
                "!invalid regexp pattern: cannot mix both named and unnamed capture groups",
            ),
            ("regex(\"(\", \"a\")", "!invalid regexp pattern"),
            (
                "regexall(\"(a)(b)\", \"abab\")",
                "tolist([ [ \"a\", \"b\", ], [ \"a\", \"b\", ], ])",
            ),
            ("regexall(\"a\", \"bbb\")", "tolist([])"),
            (
                "regexall(\"(?P<x>a)\", \"aa\")",
                "tolist([ { \"x\" = \"a\" }, { \"x\" = \"a\" }, ])",
            ),
            ("regexall(\"(\", \"aa\")", E),
            ("replace(\"hello\", \"/l(l)?/\", \"[$1]\")", "\"he[l]o\""),
            ("replace(\"a.b\", \".\", \"-\")", "\"a-b\""),
            ("replace(\"abc\", \"/(?P<x>b)/\", \"${x}$x\")", "\"abbc\""),
            ("replace(\"abc\", \"/[/\", \"x\")", E),
            ("split(\"\", \"\")", "tolist([])"),
            ("split(\",\", \"\")", "tolist([ \"\", ])"),
            ("split(\"\", \"abc\")", "tolist([ \"a\", \"b\", \"c\", ])"),
            ("split(\",\", \"a,,b\")", "tolist([ \"a\", \"\", \"b\", ])"),
            ("split(\",\", [])", E),
            ("strrev(\"héllo\")", "\"olléh\""),
            ("strrev(\"e\\u0301x\")", "\"xé\""),
            ("strrev({})", E),
            ("substr(\"abc\", -5, 2)", "\"ab\""),
            ("substr(\"abcdef\", -3, -1)", "\"def\""),
            ("substr(\"abcdef\", 2, 100)", "\"cdef\""),
            ("substr(\"abc\", 5, 1)", "\"\""),
            ("substr(\"\", -1, 1)", "\"\""),
            ("substr(\"abc\", 1, -2)", "\"bc\""),
            ("substr(\"abc\", -1, 0)", "\"c\""),
            ("substr(\"abc\", 0, 0)", "\"\""),
            ("substr(\"héllo wörld\", 1, 3)", "\"éll\""),
            ("substr(\"abc\", 1.5, 1)", "!value must be a whole number"),
            (
                "title(\"hello wORLD foo-bar o'neil 1st\")",
                "\"Hello WORLD Foo-Bar O'Neil 1st\"",
            ),
            ("title([])", E),
            ("trim(\"?!hello?!\", \"!?\")", "\"hello\""),
            ("trim(\"a\", [])", E),
            ("trimprefix(\"helloworld\", \"hello\")", "\"world\""),
            ("trimprefix(\"helloworld\", \"x\")", "\"helloworld\""),
            ("trimsuffix(\"helloworld\", \"world\")", "\"hello\""),
            ("trimsuffix([], \"world\")", E),
            ("trimspace(\"\\u00a0 a \\n\")", "\"a\""),
            ("trimspace(null)", E),
        ]);
    }
}
