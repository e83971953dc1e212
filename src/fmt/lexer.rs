//! The token stream `terrane fmt` works on: HCL native syntax split exactly where
//! Terraform's scanner (hclsyntax's `scan_tokens.rl`) splits it, because canonical
//! formatting is defined over those tokens: which token kinds meet decides the spacing,
//! and which tokens end a line decides the indentation.
//!
//! Every byte of the input belongs to a token or to the spaces/tabs before one, so
//! concatenating `spaces_before` spaces and each token's text reproduces the input (tabs
//! between tokens become spaces, as in Terraform). The lexer never fails: bytes it cannot
//! place become `Invalid` tokens, and the caller checks syntax with a real parser first.

use std::borrow::Cow;

/// Token kinds, named as hclsyntax names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    OBrace,
    CBrace,
    OBrack,
    CBrack,
    OParen,
    CParen,
    OQuote,
    CQuote,
    OHeredoc,
    CHeredoc,
    Star,
    Slash,
    Plus,
    Minus,
    Percent,
    Equal,
    EqualOp,
    NotEqual,
    LessThan,
    LessThanEq,
    GreaterThan,
    GreaterThanEq,
    And,
    Or,
    Bang,
    Dot,
    Comma,
    Ellipsis,
    FatArrow,
    Question,
    Colon,
    TemplateInterp,
    TemplateControl,
    TemplateSeqEnd,
    /// Literal text inside a quoted string.
    QuotedLit,
    /// Literal text inside a heredoc (lines keep their newline).
    StringLit,
    NumberLit,
    Ident,
    /// `#` and `//` comments include their newline; `/* */` comments do not.
    Comment,
    Newline,
    /// A newline inside a quoted string (a syntax error).
    QuotedNewline,
    /// A character the language does not use (`&`, `;`, ...).
    Invalid,
    Eof,
}

/// One token: its kind, its text, and how many spaces precede it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Token<'a> {
    pub kind: Kind,
    /// Borrowed from the source for lexed tokens; owned for those the rewrites make.
    pub text: Cow<'a, str>,
    pub spaces_before: usize,
    /// Byte offset in the source (for tokens the formatter adds: of the token they replace).
    pub offset: usize,
}

impl<'a> Token<'a> {
    pub fn new(kind: Kind, text: impl Into<Cow<'a, str>>) -> Token<'a> {
        Token {
            kind,
            text: text.into(),
            spaces_before: 0,
            offset: 0,
        }
    }
}

enum Mode {
    Main,
    /// Inside `"..."`.
    Quoted,
    /// Inside a heredoc: its closing marker and whether we are at the start of a line.
    Heredoc {
        marker: String,
        start_of_line: bool,
    },
}

fn is_ident_start(c: char) -> bool {
    unicode_ident::is_xid_start(c) || c == '_'
}

fn is_ident_continue(c: char) -> bool {
    unicode_ident::is_xid_continue(c) || c == '-'
}

/// Length in bytes of the identifier at the start of `s`, 0 if there is none.
fn ident_len(s: &str) -> usize {
    let mut chars = s.char_indices();
    match chars.next() {
        Some((_, c)) if is_ident_start(c) => {}
        _ => return 0,
    }
    for (i, c) in chars {
        if !is_ident_continue(c) {
            return i;
        }
    }
    s.len()
}

/// Length of the number literal at the start of `s` (which starts with a digit):
/// digits, dots and exponents, never ending in a dot.
fn number_len(s: &str) -> usize {
    let b = s.as_bytes();
    let mut i = 1;
    loop {
        match b.get(i) {
            Some(c) if c.is_ascii_digit() || *c == b'.' => i += 1,
            Some(b'e' | b'E') => {
                let mut j = i + 1;
                if matches!(b.get(j), Some(b'+' | b'-')) {
                    j += 1;
                }
                if b.get(j).is_some_and(|c| c.is_ascii_digit()) {
                    i = j + 1;
                } else {
                    break;
                }
            }
            _ => break,
        }
    }
    while i > 1 && b[i - 1] == b'.' {
        i -= 1;
    }
    i
}

/// Length of the first character of `s` (at least 1 when `s` is not empty).
fn char_len(s: &str) -> usize {
    s.chars().next().map(|c| c.len_utf8()).unwrap_or(0)
}

/// Splits `src` into tokens, ending with an `Eof` token. A leading UTF-8 byte order mark
/// is dropped; like Terraform, it counts as spaces before the first token.
pub fn lex<'a>(src: &'a str) -> Vec<Token<'a>> {
    // About one token per three bytes of configuration: reserved once, not regrown.
    let mut out: Vec<Token> = Vec::with_capacity(src.len() / 3 + 16);
    let mut p = if src.starts_with('\u{feff}') { 3 } else { 0 };
    let mut last_end = 0;
    let mut modes = vec![Mode::Main];
    let mut braces: i64 = 0;
    let mut ret_braces: Vec<i64> = Vec::new();

    let emit =
        |out: &mut Vec<Token<'a>>, kind: Kind, start: usize, end: usize, last_end: &mut usize| {
            out.push(Token {
                kind,
                text: Cow::Borrowed(&src[start..end]),
                spaces_before: start - *last_end,
                offset: start,
            });
            *last_end = end;
        };

    while p < src.len() {
        let rest = &src[p..];
        let b = rest.as_bytes();
        let mode = modes
            .last_mut()
            .expect("the mode stack always holds Main at the bottom");
        match mode {
            Mode::Main => {
                let c = b[0];
                if c == b' ' || c == b'\t' {
                    p += 1;
                    continue;
                }
                let two = rest.get(..2).unwrap_or("");
                let (kind, len) = if c.is_ascii_digit() {
                    (Kind::NumberLit, number_len(rest))
                } else if c == b'#' || two == "//" {
                    let len = rest.find('\n').map(|i| i + 1).unwrap_or(rest.len());
                    (Kind::Comment, len)
                } else if two == "/*" {
                    match rest[2..].find("*/") {
                        Some(i) => (Kind::Comment, i + 4),
                        None => (Kind::Slash, 1),
                    }
                } else if c == b'\n' {
                    (Kind::Newline, 1)
                } else if two == "\r\n" {
                    (Kind::Newline, 2)
                } else if two == "==" {
                    (Kind::EqualOp, 2)
                } else if two == "!=" {
                    (Kind::NotEqual, 2)
                } else if two == ">=" {
                    (Kind::GreaterThanEq, 2)
                } else if two == "<=" {
                    (Kind::LessThanEq, 2)
                } else if two == "&&" {
                    (Kind::And, 2)
                } else if two == "||" {
                    (Kind::Or, 2)
                } else if rest.starts_with("...") {
                    (Kind::Ellipsis, 3)
                } else if two == "=>" {
                    (Kind::FatArrow, 2)
                } else if two == "~}" {
                    emit(&mut out, Kind::TemplateSeqEnd, p, p + 2, &mut last_end);
                    p += 2;
                    braces -= 1;
                    if ret_braces.last() == Some(&(braces + 1)) {
                        ret_braces.pop();
                        modes.pop();
                    }
                    continue;
                } else if c == b'{' {
                    braces += 1;
                    (Kind::OBrace, 1)
                } else if c == b'}' {
                    if ret_braces.last() == Some(&braces) && modes.len() > 1 {
                        emit(&mut out, Kind::TemplateSeqEnd, p, p + 1, &mut last_end);
                        p += 1;
                        braces -= 1;
                        ret_braces.pop();
                        modes.pop();
                        continue;
                    }
                    braces -= 1;
                    (Kind::CBrace, 1)
                } else if c == b'"' {
                    emit(&mut out, Kind::OQuote, p, p + 1, &mut last_end);
                    p += 1;
                    modes.push(Mode::Quoted);
                    continue;
                } else if let Some(len) = heredoc_intro_len(rest) {
                    let intro = &rest[..len];
                    let marker = intro[2..]
                        .trim_start_matches('-')
                        .trim_end_matches(['\n', '\r'])
                        .to_string();
                    emit(&mut out, Kind::OHeredoc, p, p + len, &mut last_end);
                    p += len;
                    modes.push(Mode::Heredoc {
                        marker,
                        start_of_line: true,
                    });
                    continue;
                } else if ident_len(rest) > 0 {
                    (Kind::Ident, ident_len(rest))
                } else {
                    let kind = match c {
                        b'[' => Kind::OBrack,
                        b']' => Kind::CBrack,
                        b'(' => Kind::OParen,
                        b')' => Kind::CParen,
                        b'.' => Kind::Dot,
                        b',' => Kind::Comma,
                        b'*' => Kind::Star,
                        b'/' => Kind::Slash,
                        b'%' => Kind::Percent,
                        b'+' => Kind::Plus,
                        b'-' => Kind::Minus,
                        b'=' => Kind::Equal,
                        b'<' => Kind::LessThan,
                        b'>' => Kind::GreaterThan,
                        b'!' => Kind::Bang,
                        b'?' => Kind::Question,
                        b':' => Kind::Colon,
                        _ => Kind::Invalid,
                    };
                    (kind, char_len(rest))
                };
                emit(&mut out, kind, p, p + len, &mut last_end);
                p += len;
            }
            Mode::Quoted => {
                if let Some(len) = template_intro_len(rest) {
                    let kind = if b[0] == b'$' {
                        Kind::TemplateInterp
                    } else {
                        Kind::TemplateControl
                    };
                    emit(&mut out, kind, p, p + len, &mut last_end);
                    p += len;
                    braces += 1;
                    ret_braces.push(braces);
                    modes.push(Mode::Main);
                    continue;
                }
                let c = b[0];
                let (kind, len) = if c == b'"' {
                    modes.pop();
                    (Kind::CQuote, 1)
                } else if c == b'\r' || c == b'\n' {
                    (
                        Kind::QuotedNewline,
                        rest.find(|ch| ch != '\r' && ch != '\n')
                            .unwrap_or(rest.len()),
                    )
                } else if c == b'$' || c == b'%' {
                    // `$${` and `%%{` are escapes; a lone `$` or `%` is its own literal.
                    let len = match rest.get(1..) {
                        Some(r) if template_intro_len(r).is_some() => {
                            1 + template_intro_len(r).unwrap_or(0)
                        }
                        _ => 1,
                    };
                    (Kind::QuotedLit, len)
                } else {
                    (Kind::QuotedLit, quoted_literal_len(rest))
                };
                emit(&mut out, kind, p, p + len, &mut last_end);
                p += len;
            }
            Mode::Heredoc {
                marker,
                start_of_line,
            } => {
                if let Some(len) = template_intro_len(rest) {
                    let kind = if b[0] == b'$' {
                        Kind::TemplateInterp
                    } else {
                        Kind::TemplateControl
                    };
                    *start_of_line = false;
                    emit(&mut out, kind, p, p + len, &mut last_end);
                    p += len;
                    braces += 1;
                    ret_braces.push(braces);
                    modes.push(Mode::Main);
                    continue;
                }
                let lit = heredoc_literal_len(rest);
                let after = &rest[lit..];
                let eol = if after.starts_with('\n') {
                    1
                } else if after.starts_with("\r\n") {
                    2
                } else {
                    0
                };
                if eol == 0 {
                    if lit == 0 {
                        // A stray `\r`: the scanner gives up on the rest of the input.
                        emit(&mut out, Kind::Invalid, p, src.len(), &mut last_end);
                        p = src.len();
                        continue;
                    }
                    *start_of_line = false;
                    emit(&mut out, Kind::StringLit, p, p + lit, &mut last_end);
                    p += lit;
                    continue;
                }
                if *start_of_line && rest[..lit].trim() == marker.as_str() {
                    emit(&mut out, Kind::CHeredoc, p, p + lit, &mut last_end);
                    emit(
                        &mut out,
                        Kind::Newline,
                        p + lit,
                        p + lit + eol,
                        &mut last_end,
                    );
                    p += lit + eol;
                    modes.pop();
                    continue;
                }
                *start_of_line = true;
                emit(&mut out, Kind::StringLit, p, p + lit + eol, &mut last_end);
                p += lit + eol;
            }
        }
    }
    out.push(Token {
        kind: Kind::Eof,
        text: Cow::Borrowed(""),
        spaces_before: src.len() - last_end,
        offset: src.len(),
    });
    out
}

/// `${`, `${~`, `%{` or `%{~` at the start of `s`: its length.
fn template_intro_len(s: &str) -> Option<usize> {
    if s.starts_with("${") || s.starts_with("%{") {
        Some(if s[2..].starts_with('~') { 3 } else { 2 })
    } else {
        None
    }
}

/// `<<EOT` or `<<-EOT` followed by a newline: the length including the newline.
fn heredoc_intro_len(s: &str) -> Option<usize> {
    let r = s.strip_prefix("<<")?;
    let dash = usize::from(r.starts_with('-'));
    let id = ident_len(&r[dash..]);
    if id == 0 {
        return None;
    }
    let after = &r[dash + id..];
    let nl = if after.starts_with('\n') {
        1
    } else if after.starts_with("\r\n") {
        2
    } else {
        return None;
    };
    Some(2 + dash + id + nl)
}

/// Literal characters of a quoted string: anything but `$`, `%`, `"`, a newline; a
/// backslash escapes the character after it.
fn quoted_literal_len(s: &str) -> usize {
    let mut it = s.char_indices().peekable();
    while let Some((i, c)) = it.next() {
        match c {
            '$' | '%' | '"' | '\r' | '\n' => return i,
            '\\' => match it.peek() {
                Some((_, '\r' | '\n')) | None => return if i == 0 { 1 } else { i },
                Some(_) => {
                    it.next();
                }
            },
            _ => {}
        }
    }
    s.len()
}

/// Literal characters of a heredoc line up to a template sequence or the end of line.
/// A `$` or `%` that does not start a sequence is a literal of its own (as in
/// Terraform's scanner); `$${` and `%%{` are escapes.
fn heredoc_literal_len(s: &str) -> usize {
    let b = s.as_bytes();
    if b.first().is_some_and(|c| *c == b'$' || *c == b'%') {
        return 1 + s.get(1..).and_then(template_intro_len).unwrap_or(0);
    }
    s.find(['$', '%', '\r', '\n']).unwrap_or(s.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Vec<(Kind, String)> {
        lex(src).into_iter().map(|t| (t.kind, t.text.into_owned())).collect()
    }

    #[test]
    fn round_trips_every_byte() {
        let src = "a = \"x${b}y\" # c\r\nblock \"l\" {\n  h = <<-EOT\n  x ${y} $z\n  EOT\n}\n";
        let toks = lex(src);
        let back: String = toks
            .iter()
            .map(|t| format!("{}{}", " ".repeat(t.spaces_before), t.text))
            .collect();
        assert_eq!(back, src);
    }

    #[test]
    fn splits_like_hclsyntax() {
        use Kind::*;
        let got = kinds("x = \"a$b%%{c}${d}\"\n");
        let want = [
            (Ident, "x"),
            (Equal, "="),
            (OQuote, "\""),
            (QuotedLit, "a"),
            (QuotedLit, "$"),
            (QuotedLit, "b"),
            (QuotedLit, "%%{"),
            (QuotedLit, "c}"),
            (TemplateInterp, "${"),
            (Ident, "d"),
            (TemplateSeqEnd, "}"),
            (CQuote, "\""),
            (Newline, "\n"),
            (Eof, ""),
        ];
        assert_eq!(
            got,
            want.iter()
                .map(|(k, s)| (*k, s.to_string()))
                .collect::<Vec<_>>()
        );
    }

    #[test]
    fn heredoc_markers_and_numbers() {
        use Kind::*;
        let got = kinds("h = <<EOT\nx\n  EOT\nn = 1.5e+3.\n");
        let want = [
            (Ident, "h"),
            (Equal, "="),
            (OHeredoc, "<<EOT\n"),
            (StringLit, "x\n"),
            (CHeredoc, "  EOT"),
            (Newline, "\n"),
            (Ident, "n"),
            (Equal, "="),
            (NumberLit, "1.5e+3"),
            (Dot, "."),
            (Newline, "\n"),
            (Eof, ""),
        ];
        assert_eq!(
            got,
            want.iter()
                .map(|(k, s)| (*k, s.to_string()))
                .collect::<Vec<_>>()
        );
    }
}
