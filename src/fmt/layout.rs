//! Whitespace layout over a token stream: the rules of hclwrite's `format` (HCL v2.10,
//! the version Terraform 1.0.3 ships), which is what makes `terraform fmt` output
//! canonical. Only `spaces_before` of tokens changes; tokens are never added, removed or
//! reordered here (`super::terraform` does the few token rewrites Terraform's fmt adds).
//!
//! Three passes over lines: indentation from the net bracket count of each line,
//! spacing between neighbouring tokens, then vertical alignment of `=` in runs of
//! single-line attributes and of trailing comments in runs of commented lines.

use unicode_segmentation::UnicodeSegmentation;

use super::lexer::{Kind, Token};

/// One line split into cells, as index ranges into the token vector. `assign` starts at
/// the `=` of a single-line attribute; `comment` is a trailing line comment.
#[derive(Clone, Debug, Default)]
struct Line {
    lead: (usize, usize),
    assign: Option<(usize, usize)>,
    comment: Option<(usize, usize)>,
}

fn is_newline(t: &Token) -> bool {
    t.kind == Kind::Newline || (t.kind == Kind::Comment && t.text.ends_with('\n'))
}

fn bracket_change(t: &Token) -> i64 {
    match t.kind {
        Kind::OBrace
        | Kind::OBrack
        | Kind::OParen
        | Kind::TemplateControl
        | Kind::TemplateInterp => 1,
        Kind::CBrace | Kind::CBrack | Kind::CParen | Kind::TemplateSeqEnd => -1,
        _ => 0,
    }
}

/// Display columns of a run of tokens: spaces plus grapheme clusters.
fn columns(tokens: &[Token]) -> usize {
    tokens
        .iter()
        .map(|t| t.spaces_before + t.text.graphemes(true).count())
        .sum()
}

/// Lays out `tokens` (ending with `Eof`) in place.
pub fn format(tokens: &mut [Token]) {
    let lines = lines(tokens);
    indent(tokens, &lines);
    spaces(tokens, &lines);
    cells(tokens, &lines);
}

fn lines(tokens: &[Token]) -> Vec<Line> {
    let mut lines = Vec::new();
    let mut start = 0;
    for (i, t) in tokens.iter().enumerate() {
        if t.kind == Kind::Eof {
            lines.push(Line {
                lead: (start, i),
                ..Line::default()
            });
            start = usize::MAX;
            break;
        }
        if is_newline(t) {
            lines.push(Line {
                lead: (start, i + 1),
                ..Line::default()
            });
            start = i + 1;
        }
    }
    if start != usize::MAX && start < tokens.len() {
        lines.push(Line {
            lead: (start, tokens.len()),
            ..Line::default()
        });
    }
    for line in &mut lines {
        let (s, e) = line.lead;
        if e == s {
            continue;
        }
        let mut e = e;
        if e - s > 1 && tokens[e - 1].kind == Kind::Comment {
            line.comment = Some((e - 1, e));
            e -= 1;
            line.lead = (s, e);
        }
        for i in s + 1..e {
            if tokens[i].kind == Kind::Equal {
                // Only a whole single-line expression after `=` makes an assign cell.
                let net: i64 = tokens[i..e].iter().map(bracket_change).sum();
                if net == 0 {
                    line.assign = Some((i, e));
                    line.lead = (s, i);
                }
                break;
            }
        }
    }
    lines
}

fn indent(tokens: &mut [Token], lines: &[Line]) {
    let mut indents: Vec<i64> = Vec::new();
    for line in lines {
        let (s, e) = line.lead;
        if s == e {
            continue;
        }
        if tokens[s].kind == Kind::Newline {
            tokens[s].spaces_before = 0;
            continue;
        }
        let mut net = 0;
        for t in &tokens[s..e] {
            net += bracket_change(t);
            if t.kind == Kind::OHeredoc {
                break;
            }
        }
        if let Some((a, b)) = line.assign {
            net += tokens[a..b].iter().map(bracket_change).sum::<i64>();
        }
        if net > 0 {
            tokens[s].spaces_before = 2 * indents.len();
            indents.push(net);
        } else {
            if net < 0 {
                let mut closed = -net;
                while closed > 0 {
                    let Some(top) = indents.last_mut() else { break };
                    if closed > *top {
                        closed -= *top;
                        indents.pop();
                    } else if closed < *top {
                        *top -= closed;
                        closed = 0;
                    } else {
                        indents.pop();
                        closed = 0;
                    }
                }
            }
            tokens[s].spaces_before = 2 * indents.len();
        }
    }
}

fn spaces(tokens: &mut [Token], lines: &[Line]) {
    for line in lines {
        space_cell(tokens, line.lead, false);
        if let Some(a) = line.assign {
            space_cell(tokens, a, true);
        }
    }
}

fn space_cell(tokens: &mut [Token], (s, e): (usize, usize), assign: bool) {
    if assign && s < e {
        tokens[s].spaces_before = 1;
    }
    for i in s..e {
        if i + 1 >= e {
            break;
        }
        let before = if i > s { Some(&tokens[i - 1]) } else { None };
        let space = space_after(&tokens[i], before, &tokens[i + 1]);
        tokens[i + 1].spaces_before = usize::from(space);
    }
}

/// hclwrite's `spaceAfterToken`: whether `subject` is followed by one space when
/// `after` comes next (`before` is `None` at the start of a cell).
fn space_after(subject: &Token, before: Option<&Token>, after: &Token) -> bool {
    use Kind::*;
    let sk = subject.kind;
    let ak = after.kind;
    let before_kind = before.map(|b| b.kind);
    if ak == Newline || ak == Eof {
        return false;
    }
    if sk == Ident && ak == OParen {
        return false;
    }
    if sk == Dot || ak == Dot {
        return false;
    }
    if ak == Comma || ak == Ellipsis {
        return false;
    }
    if sk == Comma {
        return true;
    }
    if matches!(sk, QuotedLit | StringLit | OQuote | OHeredoc)
        || matches!(ak, QuotedLit | StringLit | CQuote | CHeredoc)
    {
        return false;
    }
    if sk == Ident && subject.text == "in" && before_kind == Some(Ident) {
        return true;
    }
    if ak == OBrack && (sk == Ident || sk == NumberLit || bracket_change(subject) < 0) {
        return false;
    }
    if sk == Bang {
        return false;
    }
    if sk == Minus {
        return match before_kind {
            None => false,
            Some(
                OParen | OBrace | OBrack | Equal | Colon | Comma | Question | Plus | Star | Slash
                | Percent | Minus | EqualOp | NotEqual | GreaterThan | GreaterThanEq | LessThan
                | LessThanEq | And | Or | Bang,
            ) => false,
            Some(_) => true,
        };
    }
    if sk == OBrace || ak == CBrace {
        return !(sk == OBrace && ak == CBrace);
    }
    if matches!(sk, TemplateInterp | TemplateControl) && ak == OBrace {
        return true;
    }
    if sk == CBrace && ak == TemplateSeqEnd {
        return true;
    }
    if sk == TemplateSeqEnd && matches!(ak, TemplateInterp | TemplateControl) {
        return false;
    }
    if bracket_change(subject) > 0 {
        return false;
    }
    if bracket_change(after) < 0 {
        return false;
    }
    true
}

fn cells(tokens: &mut [Token], lines: &[Line]) {
    // `=` of consecutive single-line attributes line up one column after the longest
    // name; a line without an assign cell ends the run.
    let mut chain_start: Option<usize> = None;
    let mut max = 0;
    let close_assign = |tokens: &mut [Token], from: usize, to: usize, max: usize| {
        for line in &lines[from..to] {
            let cols = columns(&tokens[line.lead.0..line.lead.1]);
            if let Some((a, _)) = line.assign {
                tokens[a].spaces_before = max.saturating_sub(cols) + 1;
            }
        }
    };
    for (i, line) in lines.iter().enumerate() {
        if line.assign.is_none() {
            if let Some(s) = chain_start.take() {
                close_assign(tokens, s, i, max);
                max = 0;
            }
        } else {
            chain_start.get_or_insert(i);
            max = max.max(columns(&tokens[line.lead.0..line.lead.1]));
        }
    }
    if let Some(s) = chain_start.take() {
        close_assign(tokens, s, lines.len(), max);
    }

    // Trailing comments of consecutive lines line up likewise.
    let width = |tokens: &[Token], line: &Line| {
        columns(&tokens[line.lead.0..line.lead.1])
            + line
                .assign
                .map(|(a, b)| columns(&tokens[a..b]))
                .unwrap_or(0)
    };
    let close_comment = |tokens: &mut [Token], from: usize, to: usize, max: usize| {
        for line in &lines[from..to] {
            let cols = width(tokens, line);
            if let Some((c, _)) = line.comment {
                tokens[c].spaces_before = max.saturating_sub(cols) + 1;
            }
        }
    };
    max = 0;
    for (i, line) in lines.iter().enumerate() {
        if line.comment.is_none() {
            if let Some(s) = chain_start.take() {
                close_comment(tokens, s, i, max);
                max = 0;
            }
        } else {
            chain_start.get_or_insert(i);
            max = max.max(width(tokens, line));
        }
    }
    if let Some(s) = chain_start.take() {
        close_comment(tokens, s, lines.len(), max);
    }
}
