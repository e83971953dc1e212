//! Terraform's numbers: binary floating point with a per-value precision, as Go's
//! `math/big.Float` (which cty uses) has them.
//!
//! Owns the representation, the arithmetic HCL and cty perform (`+ - * / %`, negation,
//! comparison), parsing (`big.ParseFloat(s, 10, 512, ToNearestEven)`, including Go's
//! way of scaling by powers of five) and the canonical text (`Text('f', -1)`: the
//! shortest decimal that rounds back to the value at its own precision). Literals carry
//! 512 bits, integers from functions 64, results of float64 math (`pow`, `log`) 53, so
//! `0.1+0.2` prints `0.3`, `1/3` prints 155 digits and `pow(2,64)` prints
//! `18446744073709550000`, exactly as Terraform 1.0.3 does.
//!
//! Rounding is always to nearest, ties to even (Go's default mode).

use std::cmp::Ordering;
use std::fmt;

use num_bigint::{BigInt, BigUint, Sign};
use num_integer::Integer;
use num_traits::{One, ToPrimitive, Zero};

/// The precision of number literals and of strings converted to numbers.
pub const LITERAL_PREC: u32 = 512;

#[derive(Clone, Debug, PartialEq, Eq)]
enum Form {
    Zero,
    /// `mant * 2^exp`, `mant` odd (so equal values have equal fields) with at most
    /// `prec` bits.
    Finite {
        mant: BigUint,
        exp: i64,
    },
    Inf,
}

/// A Terraform number (see the module documentation).
#[derive(Clone)]
pub struct Number {
    neg: bool,
    form: Form,
    prec: u32,
}

/// Division of zero by zero or subtraction of equal infinities: Go's `ErrNaN`, which
/// Terraform reports as "Operation failed".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NaN;

impl Number {
    fn zero(neg: bool, prec: u32) -> Number {
        Number {
            neg,
            form: Form::Zero,
            prec,
        }
    }
    pub fn infinity(neg: bool) -> Number {
        Number {
            neg,
            form: Form::Inf,
            prec: 0,
        }
    }

    /// `mant * 2^exp` rounded to `prec` bits.
    fn from_parts(neg: bool, mant: BigUint, exp: i64, prec: u32) -> Number {
        Number::from_parts_sticky(neg, mant, exp, prec, false)
    }

    /// Like `from_parts`, where `sticky` says the true value is slightly larger in
    /// magnitude than `mant * 2^exp` (bits were lost below `mant`'s last bit).
    fn from_parts_sticky(
        neg: bool,
        mut mant: BigUint,
        mut exp: i64,
        prec: u32,
        sticky: bool,
    ) -> Number {
        if mant.is_zero() {
            return Number::zero(neg, prec);
        }
        let bits = mant.bits() as i64;
        let excess = bits - prec as i64;
        if excess > 0 || sticky {
            let excess = excess.max(0) as u64;
            let (kept, half, rest_nonzero) = if excess == 0 {
                (mant.clone(), false, false)
            } else {
                let kept = &mant >> excess;
                let half = mant.bit(excess - 1);
                let low_mask = (BigUint::one() << (excess - 1)) - BigUint::one();
                let rest = !(&mant & &low_mask).is_zero();
                (kept, half, rest)
            };
            let sticky_all = rest_nonzero || sticky;
            // Round half to even; `sticky` alone (excess == 0) never rounds up.
            let up = half && (sticky_all || kept.bit(0));
            mant = if up { kept + BigUint::one() } else { kept };
            exp += excess as i64;
        }
        // Normalize: strip trailing zero bits.
        let tz = mant.trailing_zeros().unwrap_or(0);
        if tz > 0 {
            mant >>= tz;
            exp += tz as i64;
        }
        Number {
            neg,
            form: Form::Finite { mant, exp },
            prec,
        }
    }

    /// An `f64` as Go's `SetFloat64` stores it (precision 53). NaN becomes zero.
    pub fn from_f64(f: f64) -> Number {
        if f.is_nan() {
            return Number::zero(false, 53);
        }
        if f.is_infinite() {
            return Number::infinity(f < 0.0);
        }
        if f == 0.0 {
            return Number::zero(f.is_sign_negative(), 53);
        }
        let bits = f.to_bits();
        let neg = bits >> 63 == 1;
        let e = ((bits >> 52) & 0x7ff) as i64;
        let frac = bits & ((1u64 << 52) - 1);
        let (mant, exp) = if e == 0 {
            (frac, -1074)
        } else {
            (frac | (1u64 << 52), e - 1075)
        };
        Number::from_parts(neg, BigUint::from(mant), exp, 53)
    }

    /// An integer as Go's `SetInt64` stores it (precision 64).
    pub fn from_i64(i: i64) -> Number {
        Number::from_bigint(&BigInt::from(i))
    }

    /// An integer as Go's `SetInt` stores it: precision the larger of its bit length and 64.
    pub fn from_bigint(i: &BigInt) -> Number {
        let prec = (i.bits() as u32).max(64);
        Number::from_parts(i.sign() == Sign::Minus, i.magnitude().clone(), 0, prec)
    }

    /// This number's precision in bits.
    pub fn prec(&self) -> u32 {
        self.prec
    }

    /// The value rounded to `prec` bits.
    pub fn with_prec(&self, prec: u32) -> Number {
        match &self.form {
            Form::Finite { mant, exp } => Number::from_parts(self.neg, mant.clone(), *exp, prec),
            _ => Number {
                prec,
                ..self.clone()
            },
        }
    }

    pub fn is_zero(&self) -> bool {
        self.form == Form::Zero
    }
    pub fn is_infinite(&self) -> bool {
        self.form == Form::Inf
    }
    pub fn is_negative(&self) -> bool {
        self.neg && !self.is_zero()
    }
    /// The sign bit (true for -0 as well).
    pub fn sign_bit(&self) -> bool {
        self.neg
    }

    /// The nearest `f64` (infinities beyond its range, subnormals rounded).
    pub fn as_f64(&self) -> f64 {
        let sign = if self.neg { -1.0 } else { 1.0 };
        match &self.form {
            Form::Zero => 0.0 * sign,
            Form::Inf => f64::INFINITY * sign,
            Form::Finite { mant, exp } => {
                let bits = mant.bits() as i64;
                // The exponent of the leading bit.
                let top = exp + bits - 1;
                if top > 1023 {
                    return f64::INFINITY * sign;
                }
                // Subnormals keep fewer bits.
                let keep = if top < -1022 {
                    (53 - (-1022 - top)).max(0)
                } else {
                    53
                };
                if keep == 0 {
                    // Below half the smallest subnormal (or exactly half: ties to even, 0).
                    let half_min = -1075;
                    if top > half_min || top == half_min && bits > 1 {
                        return f64::from_bits(1) * sign;
                    }
                    return 0.0 * sign;
                }
                let r = Number::from_parts(false, mant.clone(), *exp, keep as u32);
                let Form::Finite { mant, exp } = r.form else {
                    return 0.0 * sign;
                };
                let m = mant.to_u64().unwrap_or(0) as f64;
                sign * m * 2f64.powi(0) * pow2(exp)
            }
        }
    }

    /// The value as an `i64` when it is an integer in range.
    pub fn as_i64(&self) -> Option<i64> {
        let (i, exact) = self.to_bigint_trunc()?;
        if !exact {
            return None;
        }
        i.to_i64()
    }

    pub fn is_integer(&self) -> bool {
        matches!(self.to_bigint_trunc(), Some((_, true)))
    }

    /// The integer part (truncated toward zero) and whether it is exact; None for
    /// infinities.
    pub fn to_bigint_trunc(&self) -> Option<(BigInt, bool)> {
        match &self.form {
            Form::Zero => Some((BigInt::zero(), true)),
            Form::Inf => None,
            Form::Finite { mant, exp } => {
                let sign = if self.neg { Sign::Minus } else { Sign::Plus };
                if *exp >= 0 {
                    Some((BigInt::from_biguint(sign, mant << (*exp as u64)), true))
                } else {
                    let sh = (-*exp) as u64;
                    let q = mant >> sh;
                    // mant is odd, so a negative exponent always leaves a fraction.
                    Some((BigInt::from_biguint(sign, q), false))
                }
            }
        }
    }

    /// Parses Terraform's number syntax as `big.ParseFloat(s, 10, 512, ToNearestEven)`
    /// does (decimal digits with an optional fraction and exponent; a sign; no spaces).
    pub fn parse(s: &str) -> Option<Number> {
        Number::parse_prec(s, LITERAL_PREC)
    }

    /// cty's string-to-number conversion (`big.ParseFloat(s, 10, 512, ToNearestEven)`),
    /// which also accepts `Inf`/`inf` with an optional sign.
    pub fn parse_string(s: &str) -> Option<Number> {
        let (neg, body) = match s.as_bytes().first() {
            Some(b'-') => (true, &s[1..]),
            Some(b'+') => (false, &s[1..]),
            _ => (false, s),
        };
        if body == "Inf" || body == "inf" {
            return Some(Number::infinity(neg));
        }
        Number::parse(s)
    }

    pub fn parse_prec(s: &str, prec: u32) -> Option<Number> {
        let b = s.as_bytes();
        let mut i = 0;
        let mut neg = false;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            neg = b[i] == b'-';
            i += 1;
        }
        let mut digits = BigUint::zero();
        let mut ndigits = 0;
        let mut frac: i64 = 0;
        let mut seen_point = false;
        while i < b.len() {
            match b[i] {
                c @ b'0'..=b'9' => {
                    digits = digits * 10u32 + (c - b'0') as u32;
                    ndigits += 1;
                    if seen_point {
                        frac -= 1;
                    }
                }
                b'.' if !seen_point => seen_point = true,
                _ => break,
            }
            i += 1;
        }
        if ndigits == 0 {
            return None;
        }
        let mut exp10: i64 = 0;
        if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
            i += 1;
            let mut eneg = false;
            if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
                eneg = b[i] == b'-';
                i += 1;
            }
            let st = i;
            while i < b.len() && b[i].is_ascii_digit() {
                exp10 = exp10
                    .saturating_mul(10)
                    .saturating_add((b[i] - b'0') as i64);
                i += 1;
            }
            if i == st {
                return None;
            }
            if eneg {
                exp10 = -exp10;
            }
        }
        if i != b.len() {
            return None;
        }
        if digits.is_zero() {
            return Some(Number::zero(neg, prec));
        }
        // Go: value = digits * 2^(exp2) * 5^(exp5), exp2 = exp5 = frac + exp10; the
        // mantissa is kept exact until the power of five is applied at `prec`.
        let e = frac.saturating_add(exp10);
        if e.abs() > 1 << 31 {
            return None;
        }
        let z = Number {
            neg,
            form: Form::Finite {
                mant: digits.clone(),
                exp: 0,
            },
            prec,
        };
        let z = match &z.form {
            Form::Finite { mant, .. } => {
                let tz = mant.trailing_zeros().unwrap_or(0);
                Number {
                    neg,
                    form: Form::Finite {
                        mant: mant >> tz,
                        exp: tz as i64 + e,
                    },
                    prec,
                }
            }
            _ => z,
        };
        if e == 0 {
            return Some(z.with_prec(prec));
        }
        let p = pow5(e.unsigned_abs(), prec + 64);
        Some(if e < 0 {
            quo(&z, &p, prec).ok()?
        } else {
            mul(&z, &p, prec)
        })
    }

    pub fn neg(&self) -> Number {
        Number {
            neg: !self.neg,
            ..self.clone()
        }
    }
    pub fn abs(&self) -> Number {
        Number {
            neg: false,
            ..self.clone()
        }
    }

    pub fn add(&self, o: &Number) -> Result<Number, NaN> {
        add(self, o, self.prec.max(o.prec))
    }
    pub fn sub(&self, o: &Number) -> Result<Number, NaN> {
        add(self, &o.neg(), self.prec.max(o.prec))
    }
    pub fn mul(&self, o: &Number) -> Result<Number, NaN> {
        if (self.is_infinite() && o.is_zero()) || (self.is_zero() && o.is_infinite()) {
            return Err(NaN);
        }
        Ok(mul(self, o, self.prec.max(o.prec)))
    }
    pub fn div(&self, o: &Number) -> Result<Number, NaN> {
        quo(self, o, self.prec.max(o.prec))
    }
    /// cty's `Modulo`: `a - b * trunc(a / b)`, and `a` itself when `b` is zero.
    pub fn rem(&self, o: &Number) -> Result<Number, NaN> {
        if o.is_zero() {
            return Ok(self.clone());
        }
        if self.is_infinite() || o.is_infinite() {
            return Err(NaN);
        }
        let q = self.div(o)?;
        let (qi, _) = q.to_bigint_trunc().ok_or(NaN)?;
        // `(&big.Float{}).SetInt(i)`: precision max(bits, 64).
        let work = Number::from_bigint(&qi);
        let work = mul(o, &work, o.prec.max(work.prec));
        add(self, &work.neg(), self.prec.max(work.prec))
    }

    /// Go's `Float.Cmp` (-0 equals 0).
    pub fn cmp_num(&self, o: &Number) -> Ordering {
        let sa = self.sign_class();
        let sb = o.sign_class();
        if sa != sb {
            return sa.cmp(&sb);
        }
        let mag = self.cmp_abs(o);
        if sa < 0 {
            mag.reverse()
        } else {
            mag
        }
    }

    fn sign_class(&self) -> i8 {
        match self.form {
            Form::Zero => 0,
            _ if self.neg => -1,
            _ => 1,
        }
    }

    fn cmp_abs(&self, o: &Number) -> Ordering {
        match (&self.form, &o.form) {
            (Form::Zero, Form::Zero) | (Form::Inf, Form::Inf) => Ordering::Equal,
            (Form::Zero, _) | (_, Form::Inf) => Ordering::Less,
            (_, Form::Zero) | (Form::Inf, _) => Ordering::Greater,
            (Form::Finite { mant: ma, exp: ea }, Form::Finite { mant: mb, exp: eb }) => {
                let ta = ea + ma.bits() as i64;
                let tb = eb + mb.bits() as i64;
                if ta != tb {
                    return ta.cmp(&tb);
                }
                let e = (*ea).min(*eb);
                let a = ma << ((ea - e) as u64);
                let b = mb << ((eb - e) as u64);
                a.cmp(&b)
            }
        }
    }

    /// The exact decimal expansion: digits (no leading or trailing zeros) and the
    /// decimal exponent `exp` such that the value is `0.DIGITS * 10^exp`.
    fn decimal(mant: &BigUint, exp: i64) -> Decimal {
        let (digits, point) = if exp >= 0 {
            let s = (mant << (exp as u64)).to_str_radix(10);
            let n = s.len() as i64;
            (s, n)
        } else {
            let k = (-exp) as u32;
            let s = (mant * BigUint::from(5u32).pow(k)).to_str_radix(10);
            let n = s.len() as i64;
            (s, n - k as i64)
        };
        let mut d = Decimal {
            mant: digits.into_bytes(),
            exp: point,
        };
        d.trim();
        d
    }

    /// What every `Text` format starts with: the sign, then the mantissa, binary exponent
    /// and exact decimal digits; `Err` holds the whole text of an infinity (`+Inf`).
    fn text_start(&self) -> Result<(String, BigUint, i64, Decimal), String> {
        let mut out = String::new();
        if self.neg {
            out.push('-');
        }
        let (mant, exp) = match &self.form {
            Form::Inf => {
                if !self.neg {
                    out.push('+');
                }
                out.push_str("Inf");
                return Err(out);
            }
            Form::Zero => (BigUint::zero(), 0),
            Form::Finite { mant, exp } => (mant.clone(), *exp),
        };
        let d = if mant.is_zero() {
            Decimal {
                mant: Vec::new(),
                exp: 0,
            }
        } else {
            Number::decimal(&mant, exp)
        };
        Ok((out, mant, exp, d))
    }

    /// Go's `Text('f', prec)`; `prec < 0` is the shortest representation.
    pub fn text_f(&self, prec: i32) -> String {
        let (mut out, mant, exp, mut d) = match self.text_start() {
            Ok(start) => start,
            Err(inf) => return inf,
        };
        let prec = if prec < 0 {
            if !mant.is_zero() {
                round_shortest(&mut d, &mant, exp, self.prec);
            }
            (d.mant.len() as i64 - d.exp).max(0)
        } else {
            let n = d.exp + prec as i64;
            d.round(n);
            prec as i64
        };
        // fmtF
        if d.exp > 0 {
            let m = (d.mant.len() as i64).min(d.exp) as usize;
            out.push_str(std::str::from_utf8(&d.mant[..m]).unwrap_or("0"));
            for _ in m as i64..d.exp {
                out.push('0');
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
        out
    }

    /// Go's `Text('e', prec)` (`prec < 0`: shortest), as `%e` formats a big.Float.
    pub fn text_e(&self, prec: i32, upper: bool) -> String {
        let (mut out, mant, exp, mut d) = match self.text_start() {
            Ok(start) => start,
            Err(inf) => return inf,
        };
        let prec = if prec < 0 {
            if !mant.is_zero() {
                round_shortest(&mut d, &mant, exp, self.prec);
            }
            (d.mant.len() as i64 - 1).max(0)
        } else {
            d.round(1 + prec as i64);
            prec as i64
        };
        let first = if d.mant.is_empty() { b'0' } else { d.mant[0] };
        out.push(first as char);
        if prec > 0 {
            out.push('.');
            for i in 1..=prec {
                out.push(d.at(i) as char);
            }
        }
        out.push(if upper { 'E' } else { 'e' });
        let e = if d.mant.is_empty() { 0 } else { d.exp - 1 };
        if e < 0 {
            out.push('-');
        } else {
            out.push('+');
        }
        let ea = e.abs();
        if ea < 10 {
            out.push('0');
        }
        out.push_str(&ea.to_string());
        out
    }
}

impl Number {
    /// Go's `Text('g', prec)` for `prec >= 1`; at 10 digits it is `big.Float.String()`,
    /// which cty writes into a set element's hash bytes.
    pub fn text_g(&self, prec: i32) -> String {
        let (mut out, _, _, mut d) = match self.text_start() {
            Ok(start) => start,
            Err(inf) => return inf,
        };
        let mut prec = i64::from(prec.max(1));
        d.round(prec);
        let n = d.mant.len() as i64;
        let mut eprec = prec;
        if eprec > n && n >= d.exp {
            eprec = n;
        }
        let x = d.exp - 1;
        if x < -4 || x >= eprec {
            // fmtE with prec-1 fractional digits.
            prec = prec.min(n) - 1;
            out.push(if d.mant.is_empty() { '0' } else { d.mant[0] as char });
            if prec > 0 {
                out.push('.');
                for i in 1..=prec {
                    out.push(d.at(i) as char);
                }
            }
            out.push('e');
            let e = if d.mant.is_empty() { 0 } else { x };
            out.push(if e < 0 { '-' } else { '+' });
            if e.abs() < 10 {
                out.push('0');
            }
            out.push_str(&e.abs().to_string());
        } else {
            if prec > d.exp {
                prec = n;
            }
            // fmtF with max(prec-exp, 0) fractional digits.
            let frac = (prec - d.exp).max(0);
            if d.exp > 0 {
                let m = n.min(d.exp) as usize;
                out.push_str(std::str::from_utf8(&d.mant[..m]).unwrap_or("0"));
                for _ in m as i64..d.exp {
                    out.push('0');
                }
            } else {
                out.push('0');
            }
            if frac > 0 {
                out.push('.');
                for i in 0..frac {
                    out.push(d.at(d.exp + i) as char);
                }
            }
        }
        out
    }
}

fn pow2(e: i64) -> f64 {
    // 2^e for the exponents `as_f64` produces (down to -1074), in two steps to avoid
    // underflowing an intermediate.
    if e < -1000 {
        2f64.powi(-1000) * 2f64.powi((e + 1000) as i32)
    } else if e > 1000 {
        2f64.powi(1000) * 2f64.powi((e - 1000) as i32)
    } else {
        2f64.powi(e as i32)
    }
}

/// Go's `Float.pow5`: exact up to 5^27, then square-and-multiply at `prec` bits.
fn pow5(n: u64, prec: u32) -> Number {
    const M: u64 = 27;
    if n <= M {
        return Number::from_parts(false, BigUint::from(5u32).pow(n as u32), 0, prec.max(64));
    }
    let mut z = Number::from_parts(false, BigUint::from(5u32).pow(M as u32), 0, prec);
    let mut n = n - M;
    let mut f = Number::from_parts(false, BigUint::from(5u32), 0, prec + 64);
    while n > 0 {
        if n & 1 != 0 {
            z = mul(&z, &f, z.prec);
        }
        f = mul(&f, &f, f.prec);
        n >>= 1;
    }
    z
}

fn add(a: &Number, b: &Number, prec: u32) -> Result<Number, NaN> {
    match (&a.form, &b.form) {
        (Form::Inf, Form::Inf) => {
            if a.neg != b.neg {
                Err(NaN)
            } else {
                Ok(Number::infinity(a.neg))
            }
        }
        (Form::Inf, _) => Ok(Number::infinity(a.neg)),
        (_, Form::Inf) => Ok(Number::infinity(b.neg)),
        // Go: -0 + -0 = -0, otherwise +0 for a zero sum.
        (Form::Zero, Form::Zero) => Ok(Number::zero(a.neg && b.neg, prec)),
        (Form::Zero, _) => Ok(b.with_prec(prec)),
        (_, Form::Zero) => Ok(a.with_prec(prec)),
        (Form::Finite { mant: ma, exp: ea }, Form::Finite { mant: mb, exp: eb }) => {
            let e = (*ea).min(*eb);
            let x = BigInt::from_biguint(
                if a.neg { Sign::Minus } else { Sign::Plus },
                ma << ((ea - e) as u64),
            );
            let y = BigInt::from_biguint(
                if b.neg { Sign::Minus } else { Sign::Plus },
                mb << ((eb - e) as u64),
            );
            let s = x + y;
            if s.is_zero() {
                return Ok(Number::zero(false, prec));
            }
            Ok(Number::from_parts(
                s.sign() == Sign::Minus,
                s.magnitude().clone(),
                e,
                prec,
            ))
        }
    }
}

fn mul(a: &Number, b: &Number, prec: u32) -> Number {
    let neg = a.neg != b.neg;
    match (&a.form, &b.form) {
        (Form::Inf, _) | (_, Form::Inf) => Number::infinity(neg),
        (Form::Zero, _) | (_, Form::Zero) => Number::zero(neg, prec),
        (Form::Finite { mant: ma, exp: ea }, Form::Finite { mant: mb, exp: eb }) => {
            Number::from_parts(neg, ma * mb, ea + eb, prec)
        }
    }
}

fn quo(a: &Number, b: &Number, prec: u32) -> Result<Number, NaN> {
    let neg = a.neg != b.neg;
    match (&a.form, &b.form) {
        (Form::Zero, Form::Zero) | (Form::Inf, Form::Inf) => Err(NaN),
        (Form::Zero, _) | (_, Form::Inf) => Ok(Number::zero(neg, prec)),
        (Form::Inf, _) | (_, Form::Zero) => Ok(Number::infinity(neg)),
        (Form::Finite { mant: ma, exp: ea }, Form::Finite { mant: mb, exp: eb }) => {
            // Enough quotient bits for rounding: prec + 2, plus the sticky remainder.
            let shift = (prec as i64 + 2 + mb.bits() as i64 - ma.bits() as i64).max(0) as u64;
            let num = ma << shift;
            let (q, r) = num.div_rem(mb);
            Ok(Number::from_parts_sticky(
                neg,
                q,
                ea - eb - shift as i64,
                prec,
                !r.is_zero(),
            ))
        }
    }
}

/// Go's `decimal`: `0.mant * 10^exp`, mant in ASCII digits without trailing zeros.
struct Decimal {
    mant: Vec<u8>,
    exp: i64,
}

impl Decimal {
    fn trim(&mut self) {
        while self.mant.last() == Some(&b'0') {
            self.mant.pop();
        }
        if self.mant.is_empty() {
            self.exp = 0;
        }
    }
    fn at(&self, i: i64) -> u8 {
        if i >= 0 && (i as usize) < self.mant.len() {
            self.mant[i as usize]
        } else {
            b'0'
        }
    }
    fn round(&mut self, n: i64) {
        if n < 0 || n as usize >= self.mant.len() {
            return;
        }
        if self.should_round_up(n as usize) {
            self.round_up(n as usize)
        } else {
            self.round_down(n as usize)
        }
    }
    fn should_round_up(&self, n: usize) -> bool {
        if self.mant[n] == b'5' && n + 1 == self.mant.len() {
            return n > 0 && (self.mant[n - 1] - b'0') & 1 != 0;
        }
        self.mant[n] >= b'5'
    }
    fn round_up(&mut self, mut n: usize) {
        if n >= self.mant.len() {
            return;
        }
        while n > 0 && self.mant[n - 1] >= b'9' {
            n -= 1;
        }
        if n == 0 {
            self.mant.truncate(1);
            self.mant[0] = b'1';
            self.exp += 1;
            return;
        }
        self.mant[n - 1] += 1;
        self.mant.truncate(n);
    }
    fn round_down(&mut self, n: usize) {
        if n >= self.mant.len() {
            return;
        }
        self.mant.truncate(n);
        self.trim();
    }
}

/// Go's `roundShortest`: the shortest decimal in the interval of values that round to
/// `mant * 2^exp` at precision `prec`.
fn round_shortest(d: &mut Decimal, mant: &BigUint, exp: i64, prec: u32) {
    if d.mant.is_empty() {
        return;
    }
    let s = mant.bits() as i64 - (prec as i64 + 1);
    let (m, e) = if s < 0 {
        (mant << ((-s) as u64), exp + s)
    } else {
        (mant >> (s as u64), exp + s)
    };
    let lower = Number::decimal(&(&m - BigUint::one()), e);
    let upper = Number::decimal(&(&m + BigUint::one()), e);
    let inclusive = !m.bit(1);
    // Align the bounds with d: `decimal` trims, so compare digit positions by exponent.
    let lower = Aligned::new(lower, d.exp);
    let upper = Aligned::new(upper, d.exp);
    for i in 0..d.mant.len() {
        let mdig = d.mant[i];
        let l = lower.at(i);
        let u = upper.at(i);
        let okdown = l != mdig || inclusive && i + 1 == lower.len();
        let okup = mdig != u && (inclusive || mdig + 1 < u || i + 1 < upper.len());
        match (okdown, okup) {
            (true, true) => {
                d.round(i as i64 + 1);
                return;
            }
            (true, false) => {
                d.round_down(i + 1);
                return;
            }
            (false, true) => {
                d.round_up(i + 1);
                return;
            }
            _ => {}
        }
    }
}

/// A bound's digits seen at the digit positions of the value being rounded. Go's
/// decimals for x, lower and upper share the exponent except when a bound crosses a
/// power of ten; Go then compares digit by digit anyway (the bound has its own
/// exponent), so we do the same: positions are the bound's own.
struct Aligned {
    d: Decimal,
}

impl Aligned {
    fn new(d: Decimal, _x_exp: i64) -> Aligned {
        Aligned { d }
    }
    fn at(&self, i: usize) -> u8 {
        self.d.at(i as i64)
    }
    fn len(&self) -> usize {
        self.d.mant.len()
    }
}

impl fmt::Display for Number {
    /// Terraform's canonical form (`Text('f', -1)`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text_f(-1))
    }
}

impl fmt::Debug for Number {
    /// The value only: the precision is an evaluation detail (so values read back from
    /// a plan or state file, at 512 bits, show as they were written).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Number({})", self.text_f(-1))
    }
}

impl PartialEq for Number {
    fn eq(&self, o: &Number) -> bool {
        self.cmp_num(o) == Ordering::Equal
    }
}

impl PartialOrd for Number {
    fn partial_cmp(&self, o: &Number) -> Option<Ordering> {
        Some(self.cmp_num(o))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Number {
        Number::parse(s).unwrap()
    }

    #[test]
    fn literals_print_as_terraform_does() {
        for (src, want) in [
            ("1", "1"),
            ("0.1", "0.1"),
            ("1.5", "1.5"),
            ("1e3", "1000"),
            ("1E-3", "0.001"),
            (
                "123456789012345678901234567890",
                "123456789012345678901234567890",
            ),
            ("9007199254740993", "9007199254740993"),
            ("0.000000000000000000001", "0.000000000000000000001"),
            ("9.999999999999999e22", "99999999999999990000000"),
            ("1e-5", "0.00001"),
        ] {
            assert_eq!(p(src).to_string(), want, "{src}");
        }
        assert!(Number::parse("").is_none());
        assert!(Number::parse("1e").is_none());
        assert!(Number::parse("0x10").is_none());
        assert!(Number::parse("Inf").is_none());
    }

    #[test]
    fn arithmetic_matches_big_float() {
        let third = p("1").div(&p("3")).unwrap();
        assert_eq!(third.to_string(), format!("0.{}5", "3".repeat(154)));
        assert_eq!(p("0.1").add(&p("0.2")).unwrap().to_string(), "0.3");
        assert_eq!(
            p("1e20").add(&p("1")).unwrap().to_string(),
            "100000000000000000001"
        );
        assert_eq!(p("0").mul(&p("-1")).unwrap().to_string(), "-0");
        assert_eq!(p("1").div(&p("0")).unwrap().to_string(), "+Inf");
        assert_eq!(p("0").div(&p("0")), Err(NaN));
        assert_eq!(p("-5").rem(&p("3")).unwrap().to_string(), "-2");
        assert_eq!(p("5.5").rem(&p("2")).unwrap().to_string(), "1.5");
        assert_eq!(p("1").rem(&p("0")).unwrap().to_string(), "1");
        assert_eq!(
            Number::from_f64(2f64.powi(64)).to_string(),
            "18446744073709550000"
        );
        assert_eq!(Number::from_f64(0.1).as_f64(), 0.1);
        assert_eq!(p("0.1").as_f64(), 0.1);
        assert_eq!(p("1e400").as_f64(), f64::INFINITY);
        assert_eq!(p("2").cmp_num(&p("10")), Ordering::Less);
        assert_eq!(p("-0"), p("0"));
    }

    #[test]
    fn shortest_g_format_as_big_float_string() {
        // What Go's `big.Float.String()` (`Text('g', 10)`) prints for these.
        for (lit, want) in [
            ("0", "0"),
            ("1", "1"),
            ("1.5", "1.5"),
            ("100", "100"),
            ("-3", "-3"),
            ("0.0001", "0.0001"),
            ("0.00001", "1e-05"),
            ("1e20", "1e+20"),
            ("12345678901", "1.23456789e+10"),
            ("1234567890", "1234567890"),
            ("0.1", "0.1"),
        ] {
            assert_eq!(p(lit).text_g(10), want, "{lit}");
        }
    }

    #[test]
    fn fixed_and_exponent_formats() {
        let third = p("1").div(&p("3")).unwrap();
        assert_eq!(third.text_f(30), format!("0.{}", "3".repeat(30)));
        assert_eq!(p("3.14159").text_f(2), "3.14");
        assert_eq!(p("2.5").text_f(0), "2");
        assert_eq!(p("1234.5678").text_e(6, false), "1.234568e+03");
        assert_eq!(p("0").text_e(6, false), "0.000000e+00");
    }
}
