//! Test support for the function library: a tiny parser for Terraform expressions
//! made of literals and function calls, and a renderer that prints values as
//! `terraform console` does, so that table tests can quote the console's output.

use std::collections::BTreeMap;

use super::{call, FuncCtx};
use crate::lang::value::{Number, Value};

/// Expected-value marker: the call must fail. `"!text"` also checks the message contains
/// `text`.
pub const E: &str = "!";

/// Runs table cases `(expression, console output)`, comparing with whitespace collapsed.
pub fn check(cases: &[(&str, &str)]) {
    let dir = std::env::temp_dir();
    check_in(&dir, cases)
}

pub fn check_in(dir: &std::path::Path, cases: &[(&str, &str)]) {
    let ctx = FuncCtx {
        cwd: dir,
        impure_unknown: false,
    };
    let mut failures = Vec::new();
    for (expr, want) in cases {
        let got = eval(expr, &ctx);
        match (got, want.strip_prefix('!')) {
            (Ok(v), None) => {
                let g = render(&v);
                if norm(&g) != norm(want) {
                    failures.push(format!("{expr}\n   got: {g}\n  want: {want}"));
                }
            }
            (Err(e), Some(msg)) => {
                if !e.contains(msg) {
                    failures.push(format!(
                        "{expr}\n   got error: {e}\n  want error containing: {msg}"
                    ));
                }
            }
            (Ok(v), Some(_)) => {
                failures.push(format!("{expr}\n   got: {}\n  want an error", render(&v)))
            }
            (Err(e), None) => failures.push(format!("{expr}\n   got error: {e}\n  want: {want}")),
        }
    }
    if !failures.is_empty() {
        panic!(
            "{} case(s) failed:\n{}",
            failures.len(),
            failures.join("\n")
        );
    }
}

fn norm(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Evaluates an expression; errors are rendered as "message [arg i]".
pub fn eval(src: &str, ctx: &FuncCtx) -> Result<Value, String> {
    let mut p = Parser {
        s: src.as_bytes(),
        i: 0,
        ctx,
    };
    let v = p.expr()?;
    p.ws();
    if p.i != p.s.len() {
        return Err(format!("test parser: trailing input at {}", p.i));
    }
    Ok(v)
}

struct Parser<'a, 'c> {
    s: &'a [u8],
    i: usize,
    ctx: &'a FuncCtx<'c>,
}

impl Parser<'_, '_> {
    fn ws(&mut self) {
        while self.i < self.s.len() && (self.s[self.i] as char).is_whitespace() {
            self.i += 1;
        }
    }
    fn peek(&mut self) -> Option<u8> {
        self.ws();
        self.s.get(self.i).copied()
    }
    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.i += 1;
            true
        } else {
            false
        }
    }
    fn expect(&mut self, c: u8) -> Result<(), String> {
        if self.eat(c) {
            Ok(())
        } else {
            Err(format!(
                "test parser: expected {:?} at {}",
                c as char, self.i
            ))
        }
    }
    fn expr(&mut self) -> Result<Value, String> {
        match self.peek() {
            Some(b'"') => self.string().map(Value::String),
            Some(b'[') => {
                self.i += 1;
                let mut items = Vec::new();
                while !self.eat(b']') {
                    items.push(self.expr()?);
                    self.eat(b',');
                }
                Ok(Value::Tuple(items))
            }
            Some(b'{') => {
                self.i += 1;
                let mut m = BTreeMap::new();
                while !self.eat(b'}') {
                    let k = if self.peek() == Some(b'"') {
                        self.string()?
                    } else {
                        self.ident()
                    };
                    if !self.eat(b'=') {
                        self.expect(b':')?;
                    }
                    let v = self.expr()?;
                    m.insert(k, v);
                    self.eat(b',');
                }
                Ok(Value::Object(m))
            }
            Some(c) if c == b'-' || c.is_ascii_digit() => {
                let st = self.i;
                self.i += 1;
                while self.i < self.s.len()
                    && (self.s[self.i].is_ascii_alphanumeric()
                        || self.s[self.i] == b'.'
                        || ((self.s[self.i] == b'-' || self.s[self.i] == b'+')
                            && matches!(self.s[self.i - 1], b'e' | b'E')))
                {
                    self.i += 1;
                }
                let t = std::str::from_utf8(&self.s[st..self.i]).map_err(|e| e.to_string())?;
                // Literals carry 512 bits, as HCL's do.
                let n = Number::parse(t).ok_or_else(|| format!("test parser: bad number {t}"))?;
                Ok(Value::Number(n))
            }
            Some(_) => {
                let id = self.ident();
                match id.as_str() {
                    "true" => return Ok(Value::Bool(true)),
                    "false" => return Ok(Value::Bool(false)),
                    "null" => return Ok(Value::null()),
                    "unknown" => return Ok(Value::unknown()),
                    "" => return Err(format!("test parser: unexpected input at {}", self.i)),
                    _ => {}
                }
                self.expect(b'(')?;
                let mut args = Vec::new();
                while !self.eat(b')') {
                    let v = self.expr()?;
                    if self.peek() == Some(b'.') {
                        self.i += 3;
                        match v.as_seq() {
                            Some(vs) => args.extend(vs.iter().cloned()),
                            None => return Err("test parser: cannot expand".into()),
                        }
                    } else {
                        args.push(v);
                    }
                    self.eat(b',');
                }
                call(&id, args, self.ctx).map_err(|e| match e.arg {
                    Some(i) => format!("{} [arg {i}]", e.message),
                    None => e.message,
                })
            }
            None => Err("test parser: unexpected end".into()),
        }
    }
    fn ident(&mut self) -> String {
        self.ws();
        let st = self.i;
        while self.i < self.s.len()
            && (self.s[self.i].is_ascii_alphanumeric()
                || self.s[self.i] == b'_'
                || self.s[self.i] == b'-')
        {
            self.i += 1;
        }
        String::from_utf8_lossy(&self.s[st..self.i]).into_owned()
    }
    fn string(&mut self) -> Result<String, String> {
        self.expect(b'"')?;
        let mut out = Vec::new();
        loop {
            let Some(&c) = self.s.get(self.i) else {
                return Err("test parser: unterminated string".into());
            };
            self.i += 1;
            match c {
                b'"' => break,
                b'\\' => {
                    let e = self.s.get(self.i).copied().unwrap_or(b'\\');
                    self.i += 1;
                    match e {
                        b'n' => out.push(b'\n'),
                        b't' => out.push(b'\t'),
                        b'r' => out.push(b'\r'),
                        b'u' => {
                            let h = std::str::from_utf8(&self.s[self.i..self.i + 4])
                                .map_err(|e| e.to_string())?;
                            let cp = u32::from_str_radix(h, 16).map_err(|e| e.to_string())?;
                            let ch = char::from_u32(cp).unwrap_or('?');
                            out.extend(ch.to_string().as_bytes());
                            self.i += 4;
                        }
                        other => out.push(other),
                    }
                }
                // `%{` and `${` are written `%%{`/`$${` in Terraform; tests avoid them.
                other => out.push(other),
            }
        }
        String::from_utf8(out).map_err(|e| e.to_string())
    }
}

/// Renders a value as `terraform console` prints it.
pub fn render(v: &Value) -> String {
    let mut out = String::new();
    render_into(v, 0, &mut out);
    out
}

fn render_into(v: &Value, ind: usize, out: &mut String) {
    let pad = "  ".repeat(ind + 1);
    let close = "  ".repeat(ind);
    match v {
        Value::Null(_) => out.push_str("null"),
        Value::Unknown(_) => out.push_str("(known after apply)"),
        Value::Sensitive(_) => out.push_str("(sensitive)"),
        Value::Bool(b) => out.push_str(&b.to_string()),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => {
            if s.contains('\n') {
                out.push_str("<<EOT\n");
                out.push_str(s);
                if !s.ends_with('\n') {
                    out.push('\n');
                }
                out.push_str("EOT");
            } else {
                out.push_str(&serde_json::to_string(s).unwrap_or_default());
            }
        }
        Value::List(vs) | Value::Set(vs) | Value::Tuple(vs) => {
            let (pre, post) = match v {
                Value::List(_) => ("tolist([", "])"),
                Value::Set(_) => ("toset([", "])"),
                _ => ("[", "]"),
            };
            out.push_str(pre);
            if !vs.is_empty() {
                out.push('\n');
                for e in vs {
                    out.push_str(&pad);
                    render_into(e, ind + 1, out);
                    out.push_str(",\n");
                }
                out.push_str(&close);
            }
            out.push_str(post);
        }
        Value::Map(m) | Value::Object(m) => {
            let (pre, post) = if matches!(v, Value::Map(_)) {
                ("tomap({", "})")
            } else {
                ("{", "}")
            };
            out.push_str(pre);
            if !m.is_empty() {
                out.push('\n');
                for (k, e) in m {
                    out.push_str(&pad);
                    out.push_str(&serde_json::to_string(k).unwrap_or_default());
                    out.push_str(" = ");
                    render_into(e, ind + 1, out);
                    out.push('\n');
                }
                out.push_str(&close);
            }
            out.push_str(post);
        }
    }
}

#[test]
fn api() {
    assert!(super::exists("upper"));
    assert!(!super::exists("nosuch"));
    assert_eq!(super::arity("try"), Some((0, None)));
    assert_eq!(super::arity("can"), Some((1, Some(1))));
    assert_eq!(super::arity("templatefile"), Some((2, Some(2))));
    assert_eq!(super::arity("lookup"), Some((2, None)));
    assert!(super::names().any(|n| n == "cidrsubnets"));
    let ctx = FuncCtx {
        cwd: std::path::Path::new("."),
        impure_unknown: true,
    };
    assert!(super::call("uuid", vec![], &ctx).is_ok_and(|v| v.is_unknown()));
    assert!(super::call("try", vec![Value::null()], &ctx).is_err());
    let e = super::call("upper", vec![Value::List(vec![])], &ctx).err();
    assert_eq!(
        e.map(|e| e.detail("upper")),
        Some("Invalid value for \"str\" parameter: string required.".to_string())
    );
}

#[test]
fn marks_and_unknowns() {
    check(&[
        ("upper(unknown)", "(known after apply)"),
        ("upper(sensitive(\"a\"))", "(sensitive)"),
        ("nonsensitive(sensitive(\"a\"))", "\"a\""),
        (
            "nonsensitive(\"a\")",
            "!the given value is not sensitive, so this call is redundant",
        ),
        ("length([unknown, 1])", "2"),
        ("join(\",\", [unknown])", "(known after apply)"),
        ("upper(null)", "!argument must not be null"),
        ("length(null)", "!argument must not be null"),
    ]);
}

/// Prints the rendering of every expression in the file named by `FUNCS_EXPRS` (one per
/// line), for comparison with `terraform console` output. Run with `--ignored`.
#[test]
#[ignore]
fn differential() {
    let Ok(path) = std::env::var("FUNCS_EXPRS") else {
        return;
    };
    let src = std::fs::read_to_string(path).unwrap_or_default();
    let dir = std::env::var("FUNCS_CWD")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| std::env::temp_dir());
    let ctx = FuncCtx {
        cwd: &dir,
        impure_unknown: false,
    };
    for line in src.lines().filter(|l| !l.trim().is_empty()) {
        match eval(line, &ctx) {
            Ok(v) => println!("{line}  =>  {}", norm(&render(&v))),
            Err(e) => println!("{line}  =>  ERROR {e}"),
        }
    }
}

/// Every function with awkward arguments (nulls, unknowns, marks, huge and negative
/// numbers, odd strings) must return a value or an error, never panic.
#[test]
fn no_panics() {
    use crate::lang::value::Type;
    let big = Value::number(1e300);
    let pool: Vec<Value> = vec![
        Value::null(),
        Value::unknown(),
        Value::string(""),
        Value::string("e\u{301}%/(/"),
        Value::string("10.0.0.0/8"),
        Value::string("fd00::/127"),
        Value::string("2018-01-02T00:00:00Z"),
        Value::string("%[9999999999999999999]d %-08.3x %"),
        Value::int(-1),
        Value::int(0),
        Value::number(0.5),
        Value::number(9.3e18),
        big.clone(),
        Value::number(-1e300),
        Value::Bool(true),
        Value::Tuple(vec![]),
        Value::Tuple(vec![
            Value::int(1),
            Value::string("a"),
            Value::null(),
            Value::unknown(),
        ]),
        Value::List(vec![
            Value::List(vec![Value::string("x")]),
            Value::List(vec![]),
        ]),
        Value::set_from(vec![Value::int(3), Value::int(1)]),
        Value::object([
            ("a", Value::int(1)),
            ("b", Value::Tuple(vec![Value::unknown()])),
        ]),
        Value::Map(
            [("k".to_string(), Value::List(vec![Value::string("v")]))]
                .into_iter()
                .collect(),
        ),
        Value::string("x").mark_sensitive(),
        Value::Unknown(Type::list(Type::String)),
    ];
    let dir = std::env::temp_dir();
    let ctx = FuncCtx {
        cwd: &dir,
        impure_unknown: false,
    };
    let small: Vec<Value> = vec![
        Value::null(),
        Value::string("a"),
        Value::int(-3),
        big,
        Value::Tuple(vec![Value::int(2)]),
        Value::object([("x", Value::int(1))]),
    ];
    for name in super::names().filter(|n| *n != "bcrypt") {
        let mut calls: Vec<Vec<Value>> = vec![vec![]];
        for a in &pool {
            calls.push(vec![a.clone()]);
            for b in &pool {
                calls.push(vec![a.clone(), b.clone()]);
            }
        }
        for a in &small {
            for b in &small {
                for c in &small {
                    calls.push(vec![a.clone(), b.clone(), c.clone()]);
                    calls.push(vec![a.clone(), b.clone(), c.clone(), a.clone()]);
                }
            }
        }
        for args in calls {
            let shown = format!("{name}({args:?})");
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                super::call(name, args, &ctx)
            }));
            assert!(r.is_ok(), "panicked: {shown}");
        }
    }
}
