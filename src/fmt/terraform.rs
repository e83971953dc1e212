//! The token rewrites `terraform fmt` (1.0.3) makes on top of hclwrite's layout:
//! - an attribute whose whole value is one interpolation, `"${expr}"`, becomes `expr`;
//! - in a top-level `variable` block, `type = list` / `map` / `set` gains `(any)` and the
//!   legacy quoted types `"string"`, `"list"`, `"map"` become `string`, `list(string)`,
//!   `map(string)`;
//! - block labels are rewritten in the quoted form, dropping comments between them.
//!
//! It walks the body structure (attributes and blocks) over the token stream; objects
//! inside expressions are not bodies and are left alone, as Terraform leaves them.

use super::lexer::{Kind, Token};

struct Walk<'a> {
    toks: Vec<Token<'a>>,
    i: usize,
    out: Vec<Token<'a>>,
}

/// Applies Terraform's rewrites to a token stream of a syntactically valid file.
pub fn rewrite(toks: Vec<Token<'_>>) -> Vec<Token<'_>> {
    let mut w = Walk {
        out: Vec::with_capacity(toks.len() + toks.len() / 16),
        toks,
        i: 0,
    };
    w.body(&[], false);
    while w.i < w.toks.len() {
        w.emit_next();
    }
    w.out
}

fn is_line_end(t: &Token) -> bool {
    t.kind == Kind::Newline
        || t.kind == Kind::Eof
        || (t.kind == Kind::Comment && t.text.ends_with('\n'))
}

fn depth_change(k: Kind) -> i64 {
    match k {
        Kind::OBrace
        | Kind::OBrack
        | Kind::OParen
        | Kind::TemplateInterp
        | Kind::TemplateControl
        | Kind::OQuote
        | Kind::OHeredoc => 1,
        Kind::CBrace
        | Kind::CBrack
        | Kind::CParen
        | Kind::TemplateSeqEnd
        | Kind::CQuote
        | Kind::CHeredoc => -1,
        _ => 0,
    }
}

impl<'a> Walk<'a> {
    fn peek(&self) -> Option<&Token<'a>> {
        self.toks.get(self.i)
    }

    fn emit_next(&mut self) {
        if let Some(t) = self.toks.get(self.i) {
            self.out.push(t.clone());
        }
        self.i += 1;
    }

    /// Walks body items until the end of input or (in a block) its closing brace.
    fn body(&mut self, in_blocks: &[String], in_block: bool) {
        while let Some(t) = self.peek() {
            match t.kind {
                Kind::Eof => return,
                Kind::CBrace if in_block => return,
                Kind::Newline | Kind::Comment => self.emit_next(),
                Kind::Ident => {
                    let mut j = self.i + 1;
                    while self
                        .toks
                        .get(j)
                        .is_some_and(|t| t.kind == Kind::Comment && !t.text.ends_with('\n'))
                    {
                        j += 1;
                    }
                    if self.toks.get(j).is_some_and(|t| t.kind == Kind::Equal) {
                        let name = t.text.clone();
                        self.attribute(
                            j,
                            in_blocks.len() == 1 && in_blocks[0] == "variable" && name == "type",
                            in_block,
                        );
                    } else {
                        self.block(in_blocks);
                    }
                }
                _ => self.emit_next(),
            }
        }
    }

    /// An attribute: `self.i` is its name, `eq` its `=`.
    fn attribute(&mut self, eq: usize, is_variable_type: bool, in_block: bool) {
        while self.i <= eq {
            self.emit_next();
        }
        let start = self.i;
        let mut k = start;
        let mut depth = 0i64;
        while let Some(t) = self.toks.get(k) {
            if depth <= 0 && (is_line_end(t) || (in_block && t.kind == Kind::CBrace)) {
                break;
            }
            depth += depth_change(t.kind);
            k += 1;
        }
        let mut s = start;
        while s < k && self.toks[s].kind == Kind::Comment {
            s += 1;
        }
        let mut e = k;
        while e > s && self.toks[e - 1].kind == Kind::Comment {
            e -= 1;
        }
        self.out.extend_from_slice(&self.toks[start..s]);
        let expr = &self.toks[s..e];
        let new = if is_variable_type {
            type_expr(expr)
        } else {
            value_expr(expr)
        };
        self.out.extend(new);
        self.out.extend_from_slice(&self.toks[e..k]);
        self.i = k;
    }

    /// A block: `self.i` is its type name.
    fn block(&mut self, in_blocks: &[String]) {
        let ty = self.toks[self.i].clone();
        let ty_offset = ty.offset;
        self.emit_next();
        let mut labels: Vec<Option<String>> = Vec::new();
        let mut after_last_label = self.i;
        let mut k = self.i;
        loop {
            let Some(t) = self.toks.get(k) else { return };
            match t.kind {
                Kind::OBrace => break,
                Kind::Ident => {
                    labels.push(Some(t.text.to_string()));
                    k += 1;
                    after_last_label = k;
                }
                Kind::OQuote => {
                    let mut m = k + 1;
                    while self
                        .toks
                        .get(m)
                        .is_some_and(|t| t.kind != Kind::CQuote && !is_line_end(t))
                    {
                        m += 1;
                    }
                    if !self.toks.get(m).is_some_and(|t| t.kind == Kind::CQuote) {
                        return; // not a block header; the syntax check has reported it
                    }
                    labels.push(match &self.toks[k + 1..m] {
                        [] => Some(String::new()),
                        [lit] if lit.kind == Kind::QuotedLit => unescape(&lit.text),
                        _ => None,
                    });
                    k = m + 1;
                    after_last_label = k;
                }
                Kind::Comment if !t.text.ends_with('\n') => k += 1,
                _ => return, // not a block header; the syntax check has reported it
            }
        }
        for label in labels.into_iter().flatten() {
            self.out.push(Token {
                offset: ty_offset,
                ..Token::new(Kind::OQuote, "\"")
            });
            let text = escape(&label);
            if !text.is_empty() {
                self.out.push(Token {
                    offset: ty_offset,
                    ..Token::new(Kind::QuotedLit, text)
                });
            }
            self.out.push(Token {
                offset: ty_offset,
                ..Token::new(Kind::CQuote, "\"")
            });
        }
        self.i = after_last_label;
        // Comments between the last label and `{` stay; then the `{` itself.
        while self.peek().is_some_and(|t| t.kind != Kind::OBrace) {
            self.emit_next();
        }
        self.emit_next();
        let mut inner = in_blocks.to_vec();
        inner.push(ty.text.into_owned());
        self.body(&inner, true);
        if self.peek().is_some_and(|t| t.kind == Kind::CBrace) {
            self.emit_next();
        }
    }
}

/// `"${expr}"` → `expr` when the template is exactly one interpolation.
fn value_expr<'a>(tokens: &[Token<'a>]) -> Vec<Token<'a>> {
    let n = tokens.len();
    if n < 5
        || tokens[0].kind != Kind::OQuote
        || tokens[1].kind != Kind::TemplateInterp
        || tokens[n - 2].kind != Kind::TemplateSeqEnd
        || tokens[n - 1].kind != Kind::CQuote
    {
        return tokens.to_vec();
    }
    let inside = &tokens[2..n - 2];
    let mut quotes = 0i64;
    for t in inside {
        match t.kind {
            Kind::OQuote => quotes += 1,
            Kind::CQuote => quotes -= 1,
            _ if quotes > 0 => {}
            Kind::TemplateInterp | Kind::TemplateSeqEnd | Kind::QuotedLit => {
                return tokens.to_vec()
            }
            _ => {}
        }
    }
    let s = inside
        .iter()
        .position(|t| t.kind != Kind::Newline)
        .unwrap_or(inside.len());
    let e = inside
        .iter()
        .rposition(|t| t.kind != Kind::Newline)
        .map(|i| i + 1)
        .unwrap_or(s)
        .max(s);
    inside[s..e].to_vec()
}

/// Type constraints of `variable` blocks in their modern spelling.
fn type_expr<'a>(tokens: &[Token<'a>]) -> Vec<Token<'a>> {
    let at = |kind, text: &str| Token {
        offset: tokens.first().map(|t| t.offset).unwrap_or(0),
        ..Token::new(kind, text.to_string())
    };
    let call = |name: &str, arg: &str| {
        vec![
            at(Kind::Ident, name),
            at(Kind::OParen, "("),
            at(Kind::Ident, arg),
            at(Kind::CParen, ")"),
        ]
    };
    match tokens {
        [kw] if kw.kind == Kind::Ident && matches!(&*kw.text, "list" | "map" | "set") => {
            let mut v = call(&kw.text, "any");
            v[0] = kw.clone();
            v
        }
        [o, s, c]
            if o.kind == Kind::OQuote && s.kind == Kind::QuotedLit && c.kind == Kind::CQuote =>
        {
            match &*s.text {
                "string" => vec![at(Kind::Ident, "string")],
                "list" => call("list", "string"),
                "map" => call("map", "string"),
                _ => tokens.to_vec(),
            }
        }
        _ => tokens.to_vec(),
    }
}

/// The value of a quoted literal's text (escapes resolved); `None` when an escape is
/// invalid.
fn unescape(s: &str) -> Option<String> {
    let mut out = String::new();
    let mut it = s.chars().peekable();
    while let Some(c) = it.next() {
        match c {
            '\\' => match it.next()? {
                'n' => out.push('\n'),
                'r' => out.push('\r'),
                't' => out.push('\t'),
                '"' => out.push('"'),
                '\\' => out.push('\\'),
                u @ ('u' | 'U') => {
                    let n = if u == 'u' { 4 } else { 8 };
                    let hex: String = (0..n).filter_map(|_| it.next()).collect();
                    if hex.len() != n {
                        return None;
                    }
                    out.push(char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?);
                }
                _ => return None,
            },
            '$' | '%' if it.peek() == Some(&c) => {
                // `$${` and `%%{` stand for `${` and `%{`.
                let mut ahead = it.clone();
                ahead.next();
                if ahead.peek() == Some(&'{') {
                    it.next();
                }
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    Some(out)
}

/// A string as a quoted literal, the way hclwrite writes one.
fn escape(s: &str) -> String {
    let mut out = String::new();
    let chars: Vec<char> = s.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '$' | '%' => {
                out.push(c);
                if chars.get(i + 1) == Some(&'{') {
                    out.push(c);
                }
            }
            c if !is_print(c) => {
                if (c as u32) < 0x10000 {
                    out.push_str(&format!("\\u{:04x}", c as u32));
                } else {
                    out.push_str(&format!("\\U{:08x}", c as u32));
                }
            }
            c => out.push(c),
        }
    }
    out
}

/// An approximation of Go's `unicode.IsPrint`: letters, marks, numbers, punctuation,
/// symbols and the ASCII space; not controls, other spaces, format characters or
/// private-use characters.
fn is_print(c: char) -> bool {
    if c == ' ' {
        return true;
    }
    let u = c as u32;
    let format_char = matches!(u, 0xAD | 0x600..=0x605 | 0x61C | 0x6DD | 0x70F | 0x180E | 0x200B..=0x200F
        | 0x202A..=0x202E | 0x2060..=0x2064 | 0x2066..=0x206F | 0xFEFF | 0xFFF9..=0xFFFB);
    let private = matches!(u, 0xE000..=0xF8FF | 0xF0000..=0x10FFFF);
    !(c.is_control() || c.is_whitespace() || format_char || private)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_escapes_round_trip() {
        assert_eq!(unescape(r#"a\"b\u00e9\\"#).as_deref(), Some("a\"bé\\"));
        assert_eq!(escape("a\"b\u{a0}\t"), r#"a\"b\u00a0\t"#);
        assert_eq!(unescape(r"\q"), None);
    }
}
