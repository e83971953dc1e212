//! Date and time functions: formatdate, timeadd, timecmp, timestamp.
//!
//! Timestamps are parsed as Go's `time.Parse(time.RFC3339, ...)` parses them (one-digit
//! hours accepted, fractional seconds accepted and dropped on output, lowercase `t`/`z`
//! rejected) with cty's rewording of its errors; durations follow Go's
//! `time.ParseDuration`. UTC offsets beyond ±24h, which Go accepts, are rejected here.

use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDate, Timelike, Utc};

use super::{str_arg, FResult, FuncError};
use crate::lang::value::Value;

pub(super) fn call(name: &str, a: &[Value]) -> Option<FResult> {
    Some(match name {
        "formatdate" => formatdate(a),
        "timeadd" => timeadd(a),
        "timecmp" => timecmp(a),
        "timestamp" => Ok(Value::String(rfc3339(&Utc::now().fixed_offset()))),
        _ => return None,
    })
}

/// A Go time.ParseError, reworded as cty's parseTimestamp does.
fn parse_error(layout_elem: &str, value_elem: &str, message: &str) -> String {
    if layout_elem.is_empty() && value_elem.is_empty() && !message.is_empty() {
        return format!("not a valid RFC3339 timestamp{message}");
    }
    let what = match layout_elem {
        "2006" => "year",
        "01" => "month",
        "02" => "day of month",
        "15" => "hour",
        "04" => "minute",
        "05" => "second",
        "Z07:00" => "UTC offset",
        "T" => return "not a valid RFC3339 timestamp: missing required time introducer 'T'".into(),
        ":" | "-" => {
            return if value_elem.is_empty() {
                format!("not a valid RFC3339 timestamp: end of string where {layout_elem:?} is expected")
            } else {
                format!("not a valid RFC3339 timestamp: found {value_elem:?} where {layout_elem:?} is expected")
            }
        }
        _ => "timestamp segment",
    };
    if value_elem.is_empty() {
        format!("not a valid RFC3339 timestamp: end of string before {what}")
    } else {
        format!("not a valid RFC3339 timestamp: cannot use {value_elem:?} as {what}")
    }
}

/// Go's getnum: one or two digits (exactly two when `fixed`).
fn getnum(s: &str, fixed: bool) -> Option<(u32, &str)> {
    let b = s.as_bytes();
    if b.is_empty() || !b[0].is_ascii_digit() {
        return None;
    }
    if b.len() < 2 || !b[1].is_ascii_digit() {
        if fixed {
            return None;
        }
        return Some(((b[0] - b'0') as u32, &s[1..]));
    }
    Some((((b[0] - b'0') * 10 + (b[1] - b'0')) as u32, &s[2..]))
}

/// Parses an RFC 3339 timestamp as Go's time.Parse does.
pub(super) fn parse_timestamp(ts: &str) -> Result<DateTime<FixedOffset>, String> {
    let mut v = ts;
    let lit = |v: &mut &str, c: &str| -> Result<(), String> {
        if let Some(rest) = v.strip_prefix(c) {
            *v = rest;
            Ok(())
        } else {
            Err(parse_error(c, v, ""))
        }
    };
    // year
    if v.len() < 4 || !v.as_bytes()[..4].iter().all(u8::is_ascii_digit) {
        return Err(parse_error("2006", v, ""));
    }
    let year: i32 = v[..4].parse().map_err(|_| parse_error("2006", v, ""))?;
    v = &v[4..];
    lit(&mut v, "-")?;
    let (month, rest) = getnum(v, true).ok_or_else(|| parse_error("01", v, ""))?;
    if month == 0 || month > 12 {
        return Err(parse_error("01", rest, ""));
    }
    v = rest;
    lit(&mut v, "-")?;
    let (day, rest) = getnum(v, true).ok_or_else(|| parse_error("02", v, ""))?;
    v = rest;
    lit(&mut v, "T")?;
    let (hour, rest) = getnum(v, false).ok_or_else(|| parse_error("15", v, ""))?;
    if hour >= 24 {
        return Err(parse_error("15", rest, ""));
    }
    v = rest;
    lit(&mut v, ":")?;
    let (min, rest) = getnum(v, true).ok_or_else(|| parse_error("04", v, ""))?;
    if min >= 60 {
        return Err(parse_error("04", rest, ""));
    }
    v = rest;
    lit(&mut v, ":")?;
    let (sec, rest) = getnum(v, true).ok_or_else(|| parse_error("05", v, ""))?;
    if sec >= 60 {
        return Err(parse_error("05", rest, ""));
    }
    v = rest;
    let mut nanos: u32 = 0;
    if v.len() >= 2 && v.starts_with('.') && v.as_bytes()[1].is_ascii_digit() {
        let digits: String = v[1..].chars().take_while(|c| c.is_ascii_digit()).collect();
        let mut scale = 100_000_000u32;
        for d in digits.bytes().take(9) {
            nanos += (d - b'0') as u32 * scale;
            scale /= 10;
        }
        v = &v[1 + digits.len()..];
    }
    let offset_secs: i32 = if let Some(rest) = v.strip_prefix('Z') {
        v = rest;
        0
    } else {
        let b = v.as_bytes();
        let digits_ok = b.len() >= 6 && [1, 2, 4, 5].iter().all(|i| b[*i].is_ascii_digit());
        if !digits_ok || !(b[0] == b'+' || b[0] == b'-') || b[3] != b':' {
            return Err(parse_error("Z07:00", v, ""));
        }
        let hh: i32 = v[1..3].parse().map_err(|_| parse_error("Z07:00", v, ""))?;
        let mm: i32 = v[4..6].parse().map_err(|_| parse_error("Z07:00", v, ""))?;
        let s = (hh * 3600 + mm * 60) * if b[0] == b'-' { -1 } else { 1 };
        v = &v[6..];
        s
    };
    if !v.is_empty() {
        return Err(parse_error("", v, &format!(": extra text: {v}")));
    }
    let date = NaiveDate::from_ymd_opt(year, month, day)
        .ok_or_else(|| parse_error("", "", ": day out of range"))?;
    let naive = date
        .and_hms_nano_opt(hour, min, sec, nanos)
        .ok_or_else(|| parse_error("", "", ": day out of range"))?;
    let off = FixedOffset::east_opt(offset_secs).ok_or_else(|| parse_error("Z07:00", ts, ""))?;
    naive
        .and_local_timezone(off)
        .single()
        .ok_or_else(|| parse_error("Z07:00", ts, ""))
}

/// Go's time.RFC3339 output (no fractional seconds).
fn rfc3339(t: &DateTime<FixedOffset>) -> String {
    format!("{}{}", t.format("%Y-%m-%dT%H:%M:%S"), zone(t, true))
}

/// "Z" or "+hh:mm" (`colon`) / "+hhmm".
fn zone(t: &DateTime<FixedOffset>, z_for_utc: bool) -> String {
    let secs = t.offset().local_minus_utc();
    if secs == 0 && z_for_utc {
        return "Z".into();
    }
    let sign = if secs < 0 { '-' } else { '+' };
    let a = secs.abs();
    format!("{sign}{:02}:{:02}", a / 3600, (a % 3600) / 60)
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

fn formatdate(a: &[Value]) -> FResult {
    let f = str_arg(a, 0)?;
    let ts = str_arg(a, 1)?;
    let t = parse_timestamp(&ts).map_err(|m| FuncError::arg(1, m))?;
    let mut out = String::new();
    let b = f.as_bytes();
    let mut i = 0;
    let bad = |tok: &str, why: &str| {
        FuncError::arg(
            0,
            if why.is_empty() {
                format!("invalid date format verb {tok:?}")
            } else {
                format!("invalid date format verb {tok:?}: {why}")
            },
        )
    };
    while i < b.len() {
        let c = b[i];
        if c == b'\'' {
            if b.get(i + 1) == Some(&b'\'') {
                out.push('\'');
                i += 2;
                continue;
            }
            // Quoted literal up to the closing quote; '' inside is an escaped quote.
            let mut j = i + 1;
            let mut lit = Vec::new();
            let mut closed = false;
            while j < b.len() {
                if b[j] == b'\'' {
                    if b.get(j + 1) == Some(&b'\'') {
                        lit.push(b'\'');
                        j += 2;
                        continue;
                    }
                    closed = true;
                    break;
                }
                lit.push(b[j]);
                j += 1;
            }
            if !closed {
                return Err(FuncError::arg(0, "unterminated literal '"));
            }
            out.push_str(&String::from_utf8_lossy(&lit));
            i = j + 1;
            continue;
        }
        if c.is_ascii_alphabetic() {
            let mut j = i;
            while j < b.len() && b[j] == c {
                j += 1;
            }
            let tok = &f[i..j];
            let n = j - i;
            i = j;
            match (c, n) {
                (b'Y', 2) => out.push_str(&format!("{:02}", t.year().rem_euclid(100))),
                (b'Y', 4) => out.push_str(&format!("{:04}", t.year())),
                (b'Y', _) => return Err(bad(tok, "year must either be \"YY\" or \"YYYY\"")),
                (b'M', 1) => out.push_str(&t.month().to_string()),
                (b'M', 2) => out.push_str(&format!("{:02}", t.month())),
                (b'M', 3) => out.push_str(&MONTHS[t.month0() as usize][..3]),
                (b'M', 4) => out.push_str(MONTHS[t.month0() as usize]),
                (b'M', _) => {
                    return Err(bad(
                        tok,
                        "month must be \"M\", \"MM\", \"MMM\", or \"MMMM\"",
                    ))
                }
                (b'D', 1) => out.push_str(&t.day().to_string()),
                (b'D', 2) => out.push_str(&format!("{:02}", t.day())),
                (b'D', _) => return Err(bad(tok, "day of month must either be \"D\" or \"DD\"")),
                (b'E', 3) => out.push_str(&DAYS[t.weekday().num_days_from_monday() as usize][..3]),
                (b'E', 4) => out.push_str(DAYS[t.weekday().num_days_from_monday() as usize]),
                (b'E', _) => {
                    return Err(bad(tok, "day of week must either be \"EEE\" or \"EEEE\""))
                }
                (b'h', 1) => out.push_str(&t.hour().to_string()),
                (b'h', 2) => out.push_str(&format!("{:02}", t.hour())),
                (b'h', _) => return Err(bad(tok, "24-hour must either be \"h\" or \"hh\"")),
                (b'H', 1 | 2) => {
                    let h = match t.hour() % 12 {
                        0 => 12,
                        h => h,
                    };
                    out.push_str(&if n == 1 {
                        h.to_string()
                    } else {
                        format!("{h:02}")
                    });
                }
                (b'H', _) => return Err(bad(tok, "12-hour must either be \"H\" or \"HH\"")),
                (b'A' | b'a', 2) => {
                    let pm = t.hour() >= 12;
                    out.push_str(match (c == b'A', pm) {
                        (true, false) => "AM",
                        (true, true) => "PM",
                        (false, false) => "am",
                        (false, true) => "pm",
                    });
                }
                (b'A' | b'a', _) => {
                    let l = c as char;
                    return Err(bad(tok, &format!("must be \"{l}{l}\"")));
                }
                (b'm', 1) => out.push_str(&t.minute().to_string()),
                (b'm', 2) => out.push_str(&format!("{:02}", t.minute())),
                (b'm', _) => return Err(bad(tok, "minute must either be \"m\" or \"mm\"")),
                (b's', 1) => out.push_str(&t.second().to_string()),
                (b's', 2) => out.push_str(&format!("{:02}", t.second())),
                (b's', _) => return Err(bad(tok, "second must either be \"s\" or \"ss\"")),
                (b'Z', 1) => out.push_str(&zone(&t, true)),
                (b'Z', 3) => {
                    let z = zone(&t, false).replace(':', "");
                    out.push_str(if z == "+0000" { "UTC" } else { &z });
                }
                (b'Z', 4) => out.push_str(&zone(&t, false).replace(':', "")),
                (b'Z', 5) => out.push_str(&zone(&t, false)),
                (b'Z', _) => return Err(bad(tok, "timezone must be Z, ZZZZ, or ZZZZZ")),
                _ => return Err(bad(tok, "")),
            }
            continue;
        }
        // Literal run up to the next letter or quote.
        let mut j = i + 1;
        while j < b.len() && !b[j].is_ascii_alphabetic() && b[j] != b'\'' {
            j += 1;
        }
        out.push_str(&f[i..j]);
        i = j;
    }
    Ok(Value::String(out))
}

/// Go's time.ParseDuration, in nanoseconds.
pub(super) fn parse_duration(orig: &str) -> Result<i64, String> {
    let invalid = || format!("time: invalid duration {orig:?}");
    let mut s = orig;
    let mut neg = false;
    if let Some(c) = s.chars().next() {
        if c == '-' || c == '+' {
            neg = c == '-';
            s = &s[1..];
        }
    }
    if s == "0" {
        return Ok(0);
    }
    if s.is_empty() {
        return Err(invalid());
    }
    let mut total: i128 = 0;
    while !s.is_empty() {
        let int_len = s.bytes().take_while(u8::is_ascii_digit).count();
        let int_part = &s[..int_len];
        s = &s[int_len..];
        let mut frac_part = "";
        if let Some(rest) = s.strip_prefix('.') {
            let fl = rest.bytes().take_while(u8::is_ascii_digit).count();
            frac_part = &rest[..fl];
            s = &rest[fl..];
            if int_len == 0 && fl == 0 {
                return Err(invalid());
            }
        } else if int_len == 0 {
            return Err(invalid());
        }
        let unit_len = s
            .find(|c: char| c == '.' || c.is_ascii_digit())
            .unwrap_or(s.len());
        let unit = &s[..unit_len];
        s = &s[unit_len..];
        if unit.is_empty() {
            return Err(format!("time: missing unit in duration {orig:?}"));
        }
        let scale: i128 = match unit {
            "ns" => 1,
            "us" | "µs" | "μs" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => return Err(format!("time: unknown unit {unit:?} in duration {orig:?}")),
        };
        let iv: i128 = if int_part.is_empty() {
            0
        } else {
            int_part.parse().map_err(|_| invalid())?
        };
        let mut v = iv.checked_mul(scale).ok_or_else(invalid)?;
        if !frac_part.is_empty() {
            let mut f: i128 = 0;
            let mut div: i128 = 1;
            for d in frac_part.bytes().take(30) {
                f = f * 10 + (d - b'0') as i128;
                div *= 10;
            }
            v += f * scale / div;
        }
        total = total.checked_add(v).ok_or_else(invalid)?;
        if total > i64::MAX as i128 {
            return Err(invalid());
        }
    }
    let t = if neg { -total } else { total };
    i64::try_from(t).map_err(|_| invalid())
}

fn timeadd(a: &[Value]) -> FResult {
    let ts = str_arg(a, 0)?;
    let d = str_arg(a, 1)?;
    let t = parse_timestamp(&ts).map_err(FuncError::new)?;
    let ns = parse_duration(&d).map_err(FuncError::new)?;
    let out = t
        .checked_add_signed(Duration::nanoseconds(ns))
        .ok_or_else(|| FuncError::new("the resulting time is out of range"))?;
    Ok(Value::String(rfc3339(&out)))
}

fn timecmp(a: &[Value]) -> FResult {
    let x = parse_timestamp(&str_arg(a, 0)?).map_err(|m| FuncError::arg(0, m))?;
    let y = parse_timestamp(&str_arg(a, 1)?).map_err(|m| FuncError::arg(1, m))?;
    Ok(Value::int(match x.cmp(&y) {
        std::cmp::Ordering::Less => -1,
        std::cmp::Ordering::Equal => 0,
        std::cmp::Ordering::Greater => 1,
    }))
}

#[cfg(test)]
mod tests {
    use super::super::tests::check;

    #[test]
    fn datetime() {
        check(&[
            (
                "formatdate(\"DD MMM YYYY hh:mm ZZZ\", \"2018-01-02T23:12:01Z\")",
                "\"02 Jan 2018 23:12 UTC\"",
            ),
            (
                "formatdate(\"EEEE, DD-MMM-YY hh:mm:ss ZZZ\", \"2018-01-02T23:12:01-08:00\")",
                "\"Tuesday, 02-Jan-18 23:12:01 -0800\"",
            ),
            (
                "formatdate(\"h:mm AA 'o''clock' ''\", \"2018-01-02T13:05:09.5+05:30\")",
                "\"13:05 PM o'clock '\"",
            ),
            (
                "formatdate(\"Z ZZZZ ZZZZZ\", \"2018-01-02T13:05:09Z\")",
                "\"Z +0000 +00:00\"",
            ),
            (
                "formatdate(\"M D h m s YY MMMM EEE\", \"2008-01-02T03:04:05Z\")",
                "\"1 2 3 4 5 08 January Wed\"",
            ),
            (
                "formatdate(\"H HH aa\", \"2018-01-02T00:05:09Z\")",
                "\"12 12 am\"",
            ),
            (
                "formatdate(\"YYY\", \"2018-01-02T13:05:09Z\")",
                "!invalid date format verb \"YYY\": year must either be \"YY\" or \"YYYY\"",
            ),
            (
                "formatdate(\"x\", \"2018-01-02T13:05:09Z\")",
                "!invalid date format verb \"x\" [arg 0]",
            ),
            (
                "formatdate(\"a\", \"2018-01-02T13:05:09Z\")",
                "!invalid date format verb \"a\": must be \"aa\"",
            ),
            (
                "formatdate(\"'abc\", \"2018-01-02T13:05:09Z\")",
                "!unterminated literal '",
            ),
            (
                "formatdate(\"YYYY\", \"2018-01-02\")",
                "!not a valid RFC3339 timestamp: missing required time introducer 'T' [arg 1]",
            ),
            ("formatdate(\"YYYY\", \"2018-01-02T1:00:00Z\")", "\"2018\""),
            (
                "formatdate(\"YYYY\", \"2018-13-02T10:00:00Z\")",
                "!not a valid RFC3339 timestamp: cannot use \"-02T10:00:00Z\" as month",
            ),
            (
                "formatdate(\"YYYY\", \"2018-01-02T10:00:00\")",
                "!not a valid RFC3339 timestamp: end of string before UTC offset",
            ),
            (
                "formatdate(\"YYYY\", \"2018-02-30T10:00:00Z\")",
                "!not a valid RFC3339 timestamp: day out of range",
            ),
            (
                "formatdate(\"YYYY\", \"2018-01-02T10:00:00Zx\")",
                "!not a valid RFC3339 timestamp: cannot use \"x\" as timestamp segment",
            ),
            (
                "formatdate(\"YYYY\", \"2018-01-02T10:00:60Z\")",
                "!not a valid RFC3339 timestamp: cannot use \"Z\" as second",
            ),
            (
                "formatdate(\"YYYY\", \"2018-01-02T24:00:00Z\")",
                "!not a valid RFC3339 timestamp: cannot use \":00:00Z\" as hour",
            ),
            (
                "formatdate(\"YYYY\", \"2018-01-02t10:00:00z\")",
                "!missing required time introducer 'T'",
            ),
            (
                "timeadd(\"2017-11-22T00:00:00Z\", \"10m\")",
                "\"2017-11-22T00:10:00Z\"",
            ),
            (
                "timeadd(\"2017-11-22T00:00:00Z\", \"-1.5h\")",
                "\"2017-11-21T22:30:00Z\"",
            ),
            (
                "timeadd(\"2017-11-22T00:00:00+01:00\", \"1h30m5s100ms\")",
                "\"2017-11-22T01:30:05+01:00\"",
            ),
            (
                "timeadd(\"2017-11-22T00:00:00.5Z\", \"1us\")",
                "\"2017-11-22T00:00:00Z\"",
            ),
            (
                "timeadd(\"2017-11-22T00:00:00Z\", \"0\")",
                "\"2017-11-22T00:00:00Z\"",
            ),
            (
                "timeadd(\"2017-11-22T00:00:00Z\", \"1d\")",
                "!time: unknown unit \"d\" in duration \"1d\"",
            ),
            (
                "timeadd(\"2017-11-22T00:00:00Z\", \"\")",
                "!time: invalid duration \"\"",
            ),
            (
                "timeadd(\"2017-11-22T00:00:00Z\", \"1\")",
                "!time: missing unit in duration \"1\"",
            ),
            (
                "timeadd(\"2017-11-22\", \"1h\")",
                "!not a valid RFC3339 timestamp: missing required time introducer 'T'",
            ),
            (
                "timecmp(\"2017-11-22T00:00:00Z\", \"2017-11-22T01:00:00+01:00\")",
                "0",
            ),
            (
                "timecmp(\"2017-11-22T00:00:00Z\", \"2017-11-22T00:00:01Z\")",
                "-1",
            ),
            ("timecmp(\"2017-11-22T00:00:00Z\", \"x\")", "![arg 1]"),
            (
                "timecmp(\"2017-11-22T00:00:00+00:€\", \"x\")",
                "!cannot use \"+00:€\" as UTC offset [arg 0]",
            ),
            (
                "formatdate(\"YYYY-MM-DD'T'hh:mm:ssZ\", \"2023-06-15T08:30:00+02:00\")",
                "\"2023-06-15T08:30:00+02:00\"",
            ),
        ]);
    }
}
