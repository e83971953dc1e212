//! Numeric functions: abs, ceil, floor, log, max, min, parseint, pow, signum.
//!
//! As cty does: `abs`, `ceil`, `floor`, `max`, `min` and `parseint` are exact on
//! Terraform's big numbers; `log` and `pow` compute on float64 (`pow` with Go's
//! `math.Pow` algorithm, so results agree to the last bit); `signum` converts its
//! argument to a Go `int` first, so fractions and values beyond 64 bits are errors.
//! Where Terraform panics on NaN (`log(-1, 2)`) this returns an error instead.

use num_bigint::BigInt;

use super::{num_arg, str_arg, FResult, FuncError};
use crate::lang::value::{Number, Value};

pub(super) fn call(name: &str, a: &[Value]) -> Option<FResult> {
    Some(match name {
        "abs" => num_arg(a, 0).map(|n| Value::Number(n.abs())),
        "ceil" => num_arg(a, 0).map(|n| Value::Number(round_int(&n, true))),
        "floor" => num_arg(a, 0).map(|n| Value::Number(round_int(&n, false))),
        "signum" => num_arg(a, 0).and_then(|n| {
            let i = go_int(&n).map_err(FuncError::new)?;
            Ok(Value::Number(Number::from_i64(i.signum())))
        }),
        "log" => log(a),
        "pow" => (|| {
            let x = num_arg(a, 0)?.as_f64();
            let y = num_arg(a, 1)?.as_f64();
            finite_or_inf(go_pow(x, y))
        })(),
        "max" | "min" => minmax(name == "max", a),
        "parseint" => parseint(a),
        _ => return None,
    })
}

/// cty's `ceil`/`floor`: the integer part (`big.Float.Int`), adjusted by one when it
/// lies on the wrong side, stored back at the argument's precision.
fn round_int(n: &Number, up: bool) -> Number {
    let Some((i, exact)) = n.to_bigint_trunc() else {
        return n.clone();
    };
    // Truncation moved toward zero: below the value for positives, above for negatives.
    let i = if exact {
        i
    } else if up && !n.is_negative() {
        i + 1
    } else if !up && n.is_negative() {
        i - 1
    } else {
        i
    };
    Number::from_bigint(&i).with_prec(n.prec().max(1))
}

/// gocty's conversion of a number to a Go `int`, with its messages.
pub(super) fn go_int(n: &Number) -> Result<i64, String> {
    match n.to_bigint_trunc() {
        Some((_, false)) => Err("value must be a whole number".into()),
        Some((i, true)) => i64::try_from(&i).map_err(|_| {
            "value must be a whole number, between -9223372036854775808 and 9223372036854775807"
                .into()
        }),
        None => Err("value must be a whole number".into()),
    }
}

fn num(f: f64) -> Value {
    Value::Number(Number::from_f64(f))
}

/// Go's `math.Pow` (pure Go; amd64 has no assembly version), step for step, so that
/// `pow(10, 23)` and `pow(10, 308)` round as Terraform's do.
fn go_pow(x: f64, y: f64) -> f64 {
    let is_odd_int = |v: f64| {
        if v.abs() >= (1u64 << 53) as f64 {
            return false;
        }
        let (xi, xf) = (v.trunc(), v.fract());
        xf == 0.0 && (xi as i64) & 1 == 1
    };
    if y == 0.0 || x == 1.0 {
        return 1.0;
    }
    if y == 1.0 {
        return x;
    }
    if x.is_nan() || y.is_nan() {
        return f64::NAN;
    }
    if x == 0.0 {
        if y < 0.0 {
            if x.is_sign_negative() && is_odd_int(y) {
                return f64::NEG_INFINITY;
            }
            return f64::INFINITY;
        }
        if x.is_sign_negative() && is_odd_int(y) {
            return x;
        }
        return 0.0;
    }
    if y.is_infinite() {
        if x == -1.0 {
            return 1.0;
        }
        if (x.abs() < 1.0) == (y > 0.0) {
            return 0.0;
        }
        return f64::INFINITY;
    }
    if x.is_infinite() {
        if x < 0.0 {
            return go_pow(1.0 / x, -y);
        }
        return if y < 0.0 { 0.0 } else { f64::INFINITY };
    }
    if y == 0.5 {
        return x.sqrt();
    }
    if y == -0.5 {
        return 1.0 / x.sqrt();
    }
    let ay = y.abs();
    let (mut yi, mut yf) = (ay.trunc(), ay.fract());
    if yf != 0.0 && x < 0.0 {
        return f64::NAN;
    }
    if yi >= 9.223372036854775808e18 {
        if x == -1.0 {
            return 1.0;
        }
        if (x.abs() < 1.0) == (y > 0.0) {
            return 0.0;
        }
        return f64::INFINITY;
    }
    let mut a1 = 1.0f64;
    let mut ae: i64 = 0;
    if yf != 0.0 {
        if yf > 0.5 {
            yf -= 1.0;
            yi += 1.0;
        }
        a1 = (yf * x.ln()).exp();
    }
    let (mut x1, mut xe) = frexp(x);
    let mut i = yi as i64;
    while i != 0 {
        if !(-(1 << 12)..=(1 << 12)).contains(&xe) {
            ae += xe;
            break;
        }
        if i & 1 == 1 {
            a1 *= x1;
            ae += xe;
        }
        x1 *= x1;
        xe <<= 1;
        if x1 < 0.5 {
            x1 += x1;
            xe -= 1;
        }
        i >>= 1;
    }
    if y < 0.0 {
        a1 = 1.0 / a1;
        ae = -ae;
    }
    ldexp(a1, ae)
}

/// Go's `math.Frexp`: `f = frac * 2^exp` with `frac` in [0.5, 1).
fn frexp(f: f64) -> (f64, i64) {
    if f == 0.0 || f.is_infinite() || f.is_nan() {
        return (f, 0);
    }
    let (mut f, mut exp) = (f, 0i64);
    if f.abs() < f64::MIN_POSITIVE {
        f *= (1u64 << 52) as f64;
        exp = -52;
    }
    let bits = f.to_bits();
    exp += ((bits >> 52) & 0x7ff) as i64 - 1022;
    let bits = (bits & !(0x7ff << 52)) | (1022 << 52);
    (f64::from_bits(bits), exp)
}

/// `frac * 2^exp`, exactly rounded (Go's `math.Ldexp`).
fn ldexp(frac: f64, exp: i64) -> f64 {
    if frac == 0.0 || frac.is_infinite() || frac.is_nan() {
        return frac;
    }
    let (m, e) = frexp(frac);
    let n = Number::from_f64(m);
    // Scaling is exact in big arithmetic; as_f64 rounds once, as Ldexp does.
    let exp = (exp + e).clamp(-4000, 4000);
    let scale = if exp >= 0 {
        Number::from_bigint(&(BigInt::from(1) << exp as usize))
    } else {
        Number::from_bigint(&(BigInt::from(1) << (-exp) as usize))
    };
    let r = if exp >= 0 {
        n.mul(&scale)
    } else {
        n.with_prec(2000).div(&scale)
    };
    r.map(|r| r.as_f64()).unwrap_or(f64::NAN)
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

/// cty's `max`/`min`: the first argument that is strictly greater (smaller) than all
/// before it, keeping its own precision.
fn minmax(max: bool, a: &[Value]) -> FResult {
    if a.is_empty() {
        return Err(FuncError::new("must pass at least one number"));
    }
    let mut best = Number::infinity(max);
    for i in 0..a.len() {
        let n = num_arg(a, i)?;
        let better = match n.cmp_num(&best) {
            std::cmp::Ordering::Greater => max,
            std::cmp::Ordering::Less => !max,
            std::cmp::Ordering::Equal => false,
        };
        if better {
            best = n;
        }
    }
    Ok(Value::Number(best))
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
    let mut acc = BigInt::from(0);
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
        acc = acc * base + d;
    }
    // `(&big.Float{}).SetInt(n)`: exact, precision max(bits, 64).
    Ok(Value::Number(Number::from_bigint(&if neg {
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
