//! Canonical formatting of configuration files: the output of `terraform fmt` (Terraform
//! 1.0.3) byte for byte.
//!
//! Owns the HCL token stream (`lexer`, split exactly as Terraform's scanner splits it),
//! hclwrite's layout rules over it (`layout`), the rewrites Terraform's fmt adds
//! (`terraform`) and a unified diff for `-diff` (`diff`). A file must parse before it is
//! formatted (with hcl-edit, as `config` parses it); otherwise the result is a syntax
//! diagnostic and nothing is rewritten. Finding files, writing them and printing belong
//! to `cli::fmt`.

pub mod diff;
pub mod layout;
pub mod lexer;
pub mod terraform;

use std::sync::Arc;

use crate::diag::{Diagnostic, Diagnostics, SourceFile, Span};

/// Formats `src` (the text of a `.tf` or `.tfvars` file named `name`). Errors are syntax
/// diagnostics; the caller must then leave the file untouched.
pub fn format_source(name: &str, src: &str) -> Result<String, Diagnostics> {
    let file = SourceFile::new(name, src);
    let tokens = lexer::lex(src);
    check_syntax(&file, &tokens)?;
    let mut tokens = terraform::rewrite(tokens);
    layout::format(&mut tokens);
    let mut out = String::with_capacity(src.len() + src.len() / 8);
    for t in &tokens {
        out.extend(std::iter::repeat(' ').take(t.spaces_before));
        out.push_str(&t.text);
    }
    Ok(out)
}

/// The file must be valid native syntax; the token rewrites assume it.
fn check_syntax(file: &Arc<SourceFile>, tokens: &[lexer::Token]) -> Result<(), Diagnostics> {
    // Terraform's scanner skips a byte order mark; hcl-edit does not.
    let bom = if file.text.starts_with('\u{feff}') {
        3
    } else {
        0
    };
    let text = &file.text[bom..];
    if let Err(e) = crate::lang::check_syntax_in_pieces(text, crate::config::load::parse_pieces(text.len())) {
        let off = (e.location().offset() + bom).min(file.text.len());
        let end = file.text[off..]
            .chars()
            .next()
            .map(|c| off + c.len_utf8())
            .unwrap_or(off);
        let msg = e.message().trim();
        let detail = if msg.is_empty() {
            "The file could not be parsed here.".to_string()
        } else {
            format!("{msg}.")
        };
        return Err(Diagnostic::error("Invalid syntax", detail)
            .with_span(Span::new(file, off..end))
            .with_label("the parser stopped here")
            .with_help("fmt only rewrites files that parse; fix the syntax and run it again")
            .into());
    }
    // hcl-edit accepts a few things Terraform's scanner rejects; the tokens show them.
    for t in tokens {
        let (summary, detail) = match t.kind {
            lexer::Kind::Invalid => (
                "Invalid character",
                format!("The character {:?} is not used within the language.", t.text.chars().next().unwrap_or(' ')),
            ),
            lexer::Kind::QuotedNewline => (
                "Invalid multi-line string",
                "Quoted strings may not be split over multiple lines. To produce a multi-line string, either use the \\n escape to represent a newline character or use the \"heredoc\" multi-line template syntax.".to_string(),
            ),
            _ => continue,
        };
        let end = t.offset + t.text.chars().next().map(|c| c.len_utf8()).unwrap_or(0);
        return Err(Diagnostic::error(summary, detail)
            .with_span(Span::new(file, t.offset..end))
            .into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(src: &str) -> String {
        match format_source("t.tf", src) {
            Ok(s) => s,
            Err(d) => panic!("{d}"),
        }
    }

    #[test]
    fn aligns_equals_and_indents() {
        assert_eq!(
            fmt("resource \"a\" \"b\" {\nx=1\nlonger_name   =   \"v\"\n   nested {\n y = [1,2]\n}\n}\n"),
            "resource \"a\" \"b\" {\n  x           = 1\n  longer_name = \"v\"\n  nested {\n    y = [1, 2]\n  }\n}\n"
        );
    }

    #[test]
    fn unwraps_interpolation_only_strings_and_quotes_labels() {
        assert_eq!(
            fmt("resource a /* c */ b {\n  x = \"${var.y}\"\n}\n"),
            "resource \"a\" \"b\" {\n  x = var.y\n}\n"
        );
    }

    #[test]
    fn invalid_input_is_a_diagnostic() {
        let err = format_source("t.tf", "a = [\n").unwrap_err();
        assert!(err.has_errors());
        let err = format_source("t.tf", "a = 1\na = 2\n").unwrap_err();
        let d = err.iter().next().expect("one diagnostic");
        assert_eq!(d.span.as_ref().map(|s| (s.start, s.end)), Some((6, 7)));
        // A byte order mark shifts nothing: the span still points into the original text.
        let err = format_source("t.tf", "\u{feff}a = 1\na = 2\n").unwrap_err();
        let d = err.iter().next().expect("one diagnostic");
        assert_eq!(d.span.as_ref().map(|s| s.start), Some(9));
    }
}
