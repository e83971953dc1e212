//! `format` and `formatlist`: cty's printf-like formatter, with its verbs
//! (%v %#v %t %b %d %o %x %X %e %E %f %g %G %s %q %%), flags (space + - 0 #), widths,
//! precisions and explicit argument indexes (`%[2]s`), and its error messages.
//!
//! Numbers are formatted following Go's `math/big` formatting, which cty uses: `%g`
//! and `%v` use the shortest representation with an exponent from 1e+06 upwards,
//! integers print exactly. Because our numbers are `f64`, integers beyond 2^53 print
//! as the nearest double (Terraform prints them exactly). Widths and string precisions
//! count grapheme clusters.

use unicode_segmentation::UnicodeSegmentation;

use super::conv;
use super::encoding::json_string;
use super::strings::sv;
use super::{str_arg, FResult, FuncError};
use crate::lang::value::{Number, Type, Value};

/// The largest width or precision accepted, to bound the output's size.
const MAX_WIDTH: usize = 1 << 20;

pub(super) fn format_func(a: &[Value]) -> FResult {
    let f = str_arg(a, 0)?;
    if a[1..].iter().any(|v| !v.is_wholly_known()) {
        return Ok(Value::Unknown(Type::String));
    }
    format_values(&f, &a[1..])
        .map(|s| sv(&s))
        .map_err(|e| match e.strip_prefix(TOO_MANY) {
            // cty's formatFSM returns this one as an argument error.
            Some(rest) => {
                let (i, msg) = rest.split_once(':').unwrap_or(("1", rest));
                FuncError::arg(i.parse().unwrap_or(1), msg)
            }
            None => FuncError::new(e),
        })
}

/// Marks the extraneous-arguments error of `format_values` ("\u{0}N:message", N the
/// function argument index), which `format` reports against the argument.
const TOO_MANY: &str = "\u{0}";

pub(super) fn formatlist_func(a: &[Value]) -> FResult {
    let f = str_arg(a, 0)?;
    let args = &a[1..];
    if args.is_empty() {
        return format_values(&f, args)
            .map(|s| Value::List(vec![sv(&s)]))
            .map_err(|e| FuncError::new(e.trim_start_matches(TOO_MANY)));
    }
    let mut iter_len: Option<(usize, usize)> = None;
    let mut unknown = false;
    for (i, arg) in args.iter().enumerate() {
        if arg.is_unknown() {
            unknown = true;
            continue;
        }
        if let Some(vs) = arg.as_seq() {
            match iter_len {
                None => iter_len = Some((vs.len(), i)),
                Some((l, chooser)) if l != vs.len() => {
                    return Err(FuncError::arg(
                        i + 1,
                        format!("argument {} has length {}, which is inconsistent with argument {} of length {}", i + 1, vs.len(), chooser + 1, l),
                    ));
                }
                _ => {}
            }
        }
    }
    if unknown {
        return Ok(Value::Unknown(Type::list(Type::String)));
    }
    let n = match iter_len {
        Some((0, _)) => return Ok(Value::List(vec![])),
        Some((l, _)) => l,
        None => 1,
    };
    let mut out = Vec::with_capacity(n);
    'results: for it in 0..n {
        let mut fa = Vec::with_capacity(args.len());
        for arg in args {
            let v = match arg.as_seq() {
                Some(vs) => vs.get(it).cloned().unwrap_or(Value::null()),
                None => arg.clone(),
            };
            if !v.is_wholly_known() {
                out.push(Value::Unknown(Type::String));
                continue 'results;
            }
            fa.push(v);
        }
        match format_values(&f, &fa) {
            Ok(s) => out.push(sv(&s)),
            Err(e) => {
                let e = match e.strip_prefix(TOO_MANY) {
                    Some(rest) => rest.split_once(':').map_or(rest, |(_, m)| m).to_string(),
                    None => e,
                };
                return Err(FuncError::new(format!(
                    "error on format iteration {it}: {e}"
                )));
            }
        }
    }
    Ok(Value::List(out))
}

#[derive(Default)]
struct Verb<'a> {
    raw: &'a str,
    offset: usize,
    arg: usize,
    mode: char,
    zero: bool,
    sharp: bool,
    plus: bool,
    minus: bool,
    space: bool,
    width: Option<usize>,
    prec: Option<usize>,
}

/// Formats `args` by `f` (cty's formatFSM).
pub(super) fn format_values(f: &str, args: &[Value]) -> Result<String, String> {
    let b = f.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(f.len());
    let mut next_arg = 1usize;
    let mut highest = 0usize;
    let mut p = 0;
    while p < b.len() {
        if b[p] != b'%' {
            out.push(b[p]);
            p += 1;
            continue;
        }
        let ts = p;
        p += 1;
        if p < b.len() && b[p] == b'%' {
            out.push(b'%');
            p += 1;
            continue;
        }
        let mut v = Verb {
            offset: ts,
            arg: next_arg,
            ..Default::default()
        };
        let eof = |p: usize| p >= b.len();
        // flags
        while !eof(p) {
            match b[p] {
                b'0' => v.zero = true,
                b'#' => v.sharp = true,
                b'-' => v.minus = true,
                b'+' => v.plus = true,
                b' ' => v.space = true,
                _ => break,
            }
            p += 1;
        }
        let bad = |p: usize| -> String {
            if p >= b.len() {
                format!("invalid format string starting at offset {p}")
            } else {
                let c = f[p..].chars().next().unwrap_or('?');
                format!("unrecognized format character '{c}' at offset {p}")
            }
        };
        let num = |p: &mut usize| -> Option<usize> {
            if *p < b.len() && (b'1'..=b'9').contains(&b[*p]) {
                let mut n: usize = 0;
                while *p < b.len() && b[*p].is_ascii_digit() {
                    n = n.saturating_mul(10).saturating_add((b[*p] - b'0') as usize);
                    *p += 1;
                }
                Some(n)
            } else {
                None
            }
        };
        // argument index
        if !eof(p) && b[p] == b'[' {
            p += 1;
            match num(&mut p) {
                Some(n) => v.arg = n,
                None => return Err(bad(p)),
            }
            if eof(p) || b[p] != b']' {
                return Err(bad(p));
            }
            p += 1;
        }
        v.width = num(&mut p);
        if !eof(p) && b[p] == b'.' {
            p += 1;
            let mut n: usize = 0;
            while !eof(p) && b[p].is_ascii_digit() {
                n = n.saturating_mul(10).saturating_add((b[p] - b'0') as usize);
                p += 1;
            }
            v.prec = Some(n);
        }
        if eof(p) || !b[p].is_ascii_alphabetic() {
            return Err(bad(p));
        }
        v.mode = b[p] as char;
        p += 1;
        v.raw = &f[ts..p];
        if v.width.is_some_and(|w| w > MAX_WIDTH) || v.prec.is_some_and(|w| w > MAX_WIDTH) {
            return Err(format!(
                "unsupported value for {:?} at {}: width or precision is too large",
                v.raw, v.offset
            ));
        }
        let s = append(&v, args)?;
        out.extend_from_slice(s.as_bytes());
        next_arg = v.arg + 1;
        highest = highest.max(v.arg);
    }
    if highest < args.len() {
        // Extraneous arguments are an error, as in cty, to catch mistakes.
        let first_bad = highest + 1;
        return Err(if highest == 0 {
            format!("{TOO_MANY}{first_bad}:too many arguments; no verbs in format string")
        } else {
            format!(
                "{TOO_MANY}{first_bad}:too many arguments; only {highest} used by format string"
            )
        });
    }
    // Only whole UTF-8 sequences were copied, so this cannot fail; be lossy regardless.
    Ok(String::from_utf8(out)
        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()))
}

fn append(v: &Verb, args: &[Value]) -> Result<String, String> {
    let Some(arg) = v.arg.checked_sub(1).and_then(|i| args.get(i)) else {
        return Err(format!(
            "not enough arguments for {:?} at {}: need index {} but have {} total",
            v.raw,
            v.offset,
            v.arg,
            args.len()
        ));
    };
    let arg = arg.unmark().0;
    if v.mode != 'v' && arg.is_null() {
        return Err(format!(
            "unsupported value for {:?} at {}: null value cannot be formatted",
            v.raw, v.offset
        ));
    }
    let unsupported =
        |m: String| format!("unsupported value for {:?} at {}: {}", v.raw, v.offset, m);
    match v.mode {
        'v' => {
            if !v.sharp {
                match arg {
                    Value::String(s) => return Ok(pad_width(v, s.clone())),
                    Value::Number(n) => {
                        return Ok(pad_width(v, format_float(n.as_f64(), 'g', None)))
                    }
                    _ => {}
                }
            }
            Ok(pad_width(
                v,
                super::encoding::to_json(arg).map_err(unsupported)?,
            ))
        }
        't' => {
            let b = conv::to_bool(arg).map_err(unsupported)?;
            Ok(b.to_string())
        }
        'b' | 'd' | 'o' | 'x' | 'X' | 'e' | 'E' | 'f' | 'g' | 'G' => {
            let n = conv::to_number(arg).map_err(unsupported)?;
            if matches!(v.mode, 'b' | 'd' | 'o' | 'x' | 'X') {
                match n.to_bigint_trunc() {
                    Some((i, true)) => Ok(format_int(v, &i)),
                    _ => Err(unsupported("an integer is required".into())),
                }
            } else {
                Ok(float_with_flags(v, &n))
            }
        }
        's' | 'q' => {
            let mut s = conv::to_string(arg).map_err(unsupported)?;
            if let Some(p) = v.prec.filter(|p| *p > 0) {
                s = s.graphemes(true).take(p).collect();
            }
            if v.mode == 'q' {
                s = json_string(&s);
            }
            Ok(pad_width(v, s))
        }
        m => Err(format!(
            "unsupported format verb '{m}' in {:?} at offset {}",
            v.raw, v.offset
        )),
    }
}

/// cty's formatPadWidth: pads to the width in grapheme clusters.
fn pad_width(v: &Verb, s: String) -> String {
    let Some(w) = v.width else { return s };
    let n = s.graphemes(true).count();
    if n >= w {
        return s;
    }
    let pad = (if v.zero { "0" } else { " " }).repeat(w - n);
    if v.minus {
        s + &pad
    } else {
        pad + &s
    }
}

/// Go's big.Int formatting with fmt flags.
fn format_int(v: &Verb, n: &num_bigint::BigInt) -> String {
    let neg = n.sign() == num_bigint::Sign::Minus;
    let a = n.magnitude();
    let digits = match v.mode {
        'b' => a.to_str_radix(2),
        'o' => a.to_str_radix(8),
        'x' => a.to_str_radix(16),
        'X' => a.to_str_radix(16).to_ascii_uppercase(),
        _ => a.to_str_radix(10),
    };
    let prefix = if v.sharp {
        match v.mode {
            'b' => "0b",
            'o' => "0",
            'x' => "0x",
            'X' => "0X",
            _ => "",
        }
    } else {
        ""
    };
    let sign = if neg {
        "-"
    } else if v.plus {
        "+"
    } else if v.space {
        " "
    } else {
        ""
    };
    let mut zeros = 0;
    let mut digits = digits;
    if let Some(p) = v.prec {
        if digits.len() < p {
            zeros = p - digits.len();
        } else if digits == "0" && p == 0 {
            digits = String::new();
        }
    }
    let (mut left, mut right) = (0, 0);
    let len = sign.len() + prefix.len() + zeros + digits.len();
    if let Some(w) = v.width.filter(|w| *w > len) {
        let d = w - len;
        if v.minus {
            right = d;
        } else if v.zero && v.prec.is_none() {
            zeros = d;
        } else {
            left = d;
        }
    }
    format!(
        "{}{sign}{prefix}{}{digits}{}",
        " ".repeat(left),
        "0".repeat(zeros),
        " ".repeat(right)
    )
}

/// Go's big.Float.Format with fmt flags, for %e %E %f %g %G.
fn float_with_flags(v: &Verb, num: &Number) -> String {
    let n = num.as_f64();
    let mut buf = match v.mode {
        // Exact at the number's own precision, as big.Float formats.
        'f' => num.text_f(v.prec.unwrap_or(6) as i32),
        'e' | 'E' => num.text_e(v.prec.unwrap_or(6) as i32, v.mode == 'E'),
        _ => format_float(n, v.mode, v.prec),
    };
    let sign;
    if let Some(rest) = buf.strip_prefix('-') {
        sign = "-";
        buf = rest.to_string();
    } else if let Some(rest) = buf.strip_prefix('+') {
        sign = if v.space { " " } else { "+" };
        buf = rest.to_string();
    } else if v.plus {
        sign = "+";
    } else if v.space {
        sign = " ";
    } else {
        sign = "";
    }
    let padding = v
        .width
        .filter(|w| *w > sign.len() + buf.len())
        .map(|w| w - sign.len() - buf.len())
        .unwrap_or(0);
    if v.zero && !v.minus && n.is_finite() {
        format!("{sign}{}{buf}", "0".repeat(padding))
    } else if v.minus {
        format!("{sign}{buf}{}", " ".repeat(padding))
    } else {
        format!("{}{sign}{buf}", " ".repeat(padding))
    }
}

/// Decimal digits (no trailing zeros) with value 0.mant × 10^exp.
struct Decimal {
    mant: Vec<u8>,
    exp: i64,
}

impl Decimal {
    /// Parses Rust's `{:e}` output ("1.2345e6") of a non-negative number.
    fn from_sci(s: &str) -> Decimal {
        let (m, e) = s.split_once('e').unwrap_or((s, "0"));
        let e: i64 = e.parse().unwrap_or(0);
        let mut mant: Vec<u8> = m.bytes().filter(|c| c.is_ascii_digit()).collect();
        while mant.last() == Some(&b'0') {
            mant.pop();
        }
        if mant.is_empty() {
            return Decimal { mant, exp: 0 };
        }
        Decimal { mant, exp: e + 1 }
    }
    fn at(&self, i: i64) -> u8 {
        if i >= 0 && (i as usize) < self.mant.len() {
            self.mant[i as usize]
        } else {
            b'0'
        }
    }
}

/// Go's big.Float.Text(fmt, prec) for a double; `prec` None means Go's default
/// (6 for e/f, shortest for g).
pub(super) fn format_float(n: f64, mode: char, prec: Option<usize>) -> String {
    if n.is_infinite() {
        return if n > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    let neg = n < 0.0;
    let a = n.abs();
    let lower = mode.to_ascii_lowercase();
    let (shortest, mut prec) = match (lower, prec) {
        ('g', None) => (true, 0i64),
        (_, None) => (false, 6i64),
        (_, Some(p)) => (false, p as i64),
    };
    let d = if shortest {
        let d = Decimal::from_sci(&format!("{a:e}"));
        prec = d.mant.len() as i64;
        d
    } else {
        match lower {
            'e' => Decimal::from_sci(&format!("{:.*e}", prec as usize, a)),
            'f' => {
                // Round to `prec` decimals via Rust's exact formatting.
                let s = format!("{:.*}", prec as usize, a);
                let (ip, fp) = s.split_once('.').unwrap_or((&s, ""));
                let all: String = format!("{ip}{fp}");
                let lead = all.len() - all.trim_start_matches('0').len();
                let digits = &all[lead..];
                if digits.is_empty() {
                    Decimal {
                        mant: vec![],
                        exp: 0,
                    }
                } else {
                    let mut dd = Decimal {
                        mant: digits.as_bytes().to_vec(),
                        exp: ip.len() as i64 - lead as i64,
                    };
                    while dd.mant.last() == Some(&b'0') {
                        dd.mant.pop();
                    }
                    dd
                }
            }
            _ => {
                if prec == 0 {
                    prec = 1;
                }
                Decimal::from_sci(&format!("{:.*e}", (prec - 1) as usize, a))
            }
        }
    };
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    match lower {
        'e' => fmt_e(&mut out, mode, prec, &d),
        'f' => fmt_f(&mut out, prec, &d),
        _ => {
            let mut eprec = prec;
            let nd = d.mant.len() as i64;
            if eprec > nd && nd >= d.exp {
                eprec = nd;
            }
            if shortest {
                eprec = 6;
            }
            let exp = d.exp - 1;
            let e = if mode == 'G' { 'E' } else { 'e' };
            if exp < -4 || exp >= eprec {
                if prec > nd {
                    prec = nd;
                }
                fmt_e(&mut out, e, prec - 1, &d);
            } else {
                if prec > d.exp {
                    prec = nd;
                }
                fmt_f(&mut out, (prec - d.exp).max(0), &d);
            }
        }
    }
    out
}

fn fmt_e(out: &mut String, e: char, prec: i64, d: &Decimal) {
    out.push(d.mant.first().map(|c| *c as char).unwrap_or('0'));
    if prec > 0 {
        out.push('.');
        for i in 1..=prec {
            out.push(d.at(i) as char);
        }
    }
    out.push(if e.is_ascii_uppercase() { 'E' } else { 'e' });
    let exp = if d.mant.is_empty() { 0 } else { d.exp - 1 };
    out.push(if exp < 0 { '-' } else { '+' });
    if exp.abs() < 10 {
        out.push('0');
    }
    out.push_str(&exp.abs().to_string());
}

fn fmt_f(out: &mut String, prec: i64, d: &Decimal) {
    if d.exp > 0 {
        for i in 0..d.exp {
            out.push(d.at(i) as char);
        }
    } else {
        out.push('0');
    }
    if prec > 0 {
        out.push('.');
        for i in 0..prec {
            out.push(d.at(d.exp + i) as char);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{check, E};

    #[test]
    fn format() {
        check(&[
            ("format(\"%05.1f\", 3.14159)", "\"003.1\""),
            ("format(\"%v\", 1234567)", "\"1.234567e+06\""),
            ("format(\"%v\", 0.0001)", "\"0.0001\""),
            ("format(\"%v\", 1e21)", "\"1e+21\""),
            ("format(\"%g\", 100000)", "\"100000\""),
            ("format(\"%f\", 3)", "\"3.000000\""),
            ("format(\"%e\", 1234.5)", "\"1.234500e+03\""),
            (
                "format(\"%5.2f|%-8s|%08d|%+d|% d|%x|%X|%o|%b\", 3.14159, \"ab\", -42, 5, 5, 255, 255, 8, 5)",
                "\" 3.14|ab      |-0000042|+5| 5|ff|FF|10|101\"",
            ),
            ("format(\"%#v\", \"a\")", "\"\\\"a\\\"\""),
            ("format(\"%v\", [1,\"a\"])", "\"[1,\\\"a\\\"]\""),
            ("format(\"%v\", {a=1})", "\"{\\\"a\\\":1}\""),
            ("format(\"%q\", \"a\\\"b\")", "\"\\\"a\\\\\\\"b\\\"\""),
            ("format(\"%t\", \"true\")", "\"true\""),
            ("format(\"%d\", 1.5)", "!unsupported value for \"%d\" at 0: an integer is required"),
            ("format(\"%s\")", "!not enough arguments for \"%s\" at 0: need index 1 but have 0 total"),
            ("format(\"%z\", 1)", "!unsupported format verb 'z' in \"%z\" at offset 0"),
            ("format(\"%[2]s %s %[1]s\", \"a\", \"b\")", "!not enough arguments for \"%s\" at 6: need index 3 but have 2 total"),
            ("format(\"%[2]s %[1]s\", \"a\", \"b\")", "\"b a\""),
            ("format(\"%.3s\", \"abcdef\")", "\"abc\""),
            ("format(\"%s\", null)", "!unsupported value for \"%s\" at 0: null value cannot be formatted"),
            ("format(\"%v\", null)", "\"null\""),
            ("format(\"%5s|\", \"é\")", "\"    é|\""),
            ("format(\"%\", 1)", "!invalid format string starting at offset 1"),
            ("format(\"%#x\", 255)", "\"0xff\""),
            ("format(\"%*d\", 3, 4)", "!unrecognized format character '*' at offset 1"),
            ("format(\"%d\", \"12\")", "\"12\""),
            ("format(\"%d\", \"x\")", "!unsupported value for \"%d\" at 0: a number is required"),
            ("format(\"%s\", [1])", "!unsupported value for \"%s\" at 0: string required"),
            ("format(\"%t\", 1)", "!unsupported value for \"%t\" at 0: bool required"),
            ("format(\"%.2e %G %g\", 12345.678, 1e-7, 1e-7)", "\"1.23e+04 1E-07 1e-07\""),
            ("format(\"%10.3v|\", 3.14159)", "\"   3.14159|\""),
            ("format(\"%05s\", \"a\")", "\"0000a\""),
            ("format(\"%-05d|\", 3)", "\"3    |\""),
            ("format(\"%.0f %.1f\", 2.5, 0.25)", "\"2 0.2\""),
            ("format(\"%d\", 1e30)", "\"1000000000000000000000000000000\""),
            ("format(\"%%|%v|%v\", true, unknown)", "(known after apply)"),
            ("format(\"%.3g|%g|%G\", 1.0, 0.000012345, 1e100)", "\"1|1.2345e-05|1E+100\""),
            ("format(\"%8.3e|%-9.2f|%+.1f\", -1234.5678, 1.005, 2)", "\"-1.235e+03|1.00     |+2.0\""),
            ("format(1)", "\"1\""),
            ("format([])", E),
        ]);
    }

    #[test]
    fn formatlist() {
        check(&[
            ("formatlist(\"Hello, %s!\", [\"Valentina\", \"Ander\"])", "tolist([ \"Hello, Valentina!\", \"Hello, Ander!\", ])"),
            ("formatlist(\"%s, %s!\", \"Salutations\", [\"Valentina\", \"Ander\"])", "tolist([ \"Salutations, Valentina!\", \"Salutations, Ander!\", ])"),
            ("formatlist(\"%s=%s\", [\"a\"], [\"b\", \"c\"])", "!argument 2 has length 2, which is inconsistent with argument 1 of length 1"),
            ("formatlist(\"x\")", "tolist([ \"x\", ])"),
            ("formatlist(\"%s\", [])", "tolist([])"),
            ("formatlist(\"%d\", [\"a\"])", "!error on format iteration 0: unsupported value for \"%d\" at 0: a number is required"),
        ]);
    }
}
