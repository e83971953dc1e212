//! Numeric functions: abs, ceil, floor, log, max, min, parseint, pow, signum.
//!
//! Numbers are `f64` behind `Number`, where Terraform uses arbitrary precision: results
//! differ from Terraform beyond 2^53 (e.g. `parseint` of a 30-digit string is rounded)
//! and where Terraform panics on NaN (`log(-1, 2)`) this returns an error instead.

use super::{num_arg, str_arg, FResult, FuncError};
use crate::lang::value::{Number, Value};

pub(super) fn call(name: &str, a: &[Value]) -> Option<FResult> {
    Some(match name {
        "abs" => num_arg(a, 0).map(|n| num(n.as_f64().abs())),
        "ceil" => num_arg(a, 0).map(|n| num(n.as_f64().ceil())),
        "floor" => num_arg(a, 0).map(|n| num(n.as_f64().floor())),
        "signum" => num_arg(a, 0).map(|n| {
            let f = n.as_f64();
            num(if f > 0.0 {
                1.0
            } else if f < 0.0 {
                -1.0
            } else {
                0.0
            })
        }),
        "log" => log(a),
        "pow" => (|| {
            let x = num_arg(a, 0)?.as_f64();
            let y = num_arg(a, 1)?.as_f64();
            finite_or_inf(x.powf(y))
        })(),
        "max" | "min" => minmax(name == "max", a),
        "parseint" => parseint(a),
        _ => return None,
    })
}

fn num(f: f64) -> Value {
    // Avoid "-0" leaking out of ceil/floor/abs.
    Value::number(if f == 0.0 { 0.0 } else { f })
}

/// Terraform's numbers can be infinite but never NaN (cty panics on NaN).
fn finite_or_inf(f: f64) -> FResult {
    if f.is_nan() {
        Err(FuncError::new("the result is not a number (NaN)"))
    } else {
        Ok(num(f))
    }
}

fn log(a: &[Value]) -> FResult {
    let x = num_arg(a, 0)?.as_f64();
    let b = num_arg(a, 1)?.as_f64();
    finite_or_inf(x.ln() / b.ln())
}

fn minmax(max: bool, a: &[Value]) -> FResult {
    if a.is_empty() {
        return Err(FuncError::new("must pass at least one number"));
    }
    let mut best: Option<f64> = None;
    for i in 0..a.len() {
        let f = num_arg(a, i)?.as_f64();
        best = Some(match best {
            None => f,
            Some(b) if (max && f > b) || (!max && f < b) => f,
            Some(b) => b,
        });
    }
    Ok(num(best.unwrap_or(0.0)))
}

fn parseint(a: &[Value]) -> FResult {
    let s = match &a[0] {
        Value::String(s) => s.clone(),
        other => {
            return Err(FuncError::arg(
                0,
                format!(
                    "first argument must be a string, not {}",
                    other.friendly_type()
                ),
            ));
        }
    };
    let base_n = num_arg(a, 1)?;
    let base = match base_n.as_i64() {
        Some(b) if (2..=62).contains(&b) => b as u32,
        _ => {
            return Err(FuncError::arg(
                1,
                "base must be a whole number between 2 and 62 inclusive",
            ))
        }
    };
    let _ = str_arg(a, 0)?;
    let fail = || {
        FuncError::arg(
            0,
            format!("cannot parse {:?} as a base {} integer", s, base),
        )
    };
    let (neg, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, &s[..]),
    };
    if digits.is_empty() {
        return Err(fail());
    }
    // Go's big.Int SetString: digits 0-9, then a-z, then A-Z for bases above 36;
    // letters are case-insensitive up to base 36.
    let mut acc: f64 = 0.0;
    for c in digits.chars() {
        let d = match c {
            '0'..='9' => c as u32 - '0' as u32,
            'a'..='z' => c as u32 - 'a' as u32 + 10,
            'A'..='Z' if base <= 36 => c as u32 - 'A' as u32 + 10,
            'A'..='Z' => c as u32 - 'A' as u32 + 36,
            _ => return Err(fail()),
        };
        if d >= base {
            return Err(fail());
        }
        // Precision is lost above 2^53 (Terraform is exact).
        acc = acc * base as f64 + d as f64;
    }
    if !acc.is_finite() {
        return Err(fail());
    }
    Ok(Value::Number(Number::from_f64(if neg {
        -acc
    } else {
        acc
    })))
}

#[cfg(test)]
mod tests {
    use super::super::tests::{check, E};

    #[test]
    fn numeric() {
        check(&[
            ("abs(-3.5)", "3.5"),
            ("abs(\"x\")", E),
            ("ceil(1.2)", "2"),
            ("ceil([])", E),
            ("floor(-1.5)", "-2"),
            ("floor(null)", E),
            ("signum(-3)", "-1"),
            ("signum(0)", "0"),
            ("signum(\"a\")", E),
            ("log(16, 2)", "4"),
            ("log(-1, 2)", E),
            ("pow(2, 0.5)", "1.4142135623730951"),
            ("pow(3, 2)", "9"),
            ("pow(\"x\", 2)", E),
            ("max(1, \"5\", 3)", "5"),
            ("max()", E),
            ("min(3, 1.5)", "1.5"),
            ("min(\"a\")", E),
            ("parseint(\"ff\", 16)", "255"),
            ("parseint(\"-101\", 2)", "-5"),
            ("parseint(\"+5\", 10)", "5"),
            ("parseint(\"zz\", 36)", "1295"),
            ("parseint(\"ZZ\", 62)", "3843"),
            ("parseint(\"FF\", 10)", E),
            ("parseint(\"zz\", 63)", E),
            ("parseint(12, 10)", E),
            ("parseint(\"\", 10)", E),
            ("parseint(\"0x10\", 16)", E),
        ]);
    }
}
