//! Diagnostics: the one model for every problem terrane reports.
//!
//! Owns the `Diagnostic` value (severity, summary, detail, a labelled source span, a
//! help line), the `SourceFile` registry that spans point into, and the two renderers:
//! human (through miette, at the CLI edge) and Terraform's `validate -json` shape.
//! Library code returns and accumulates diagnostics; it never prints. Printing belongs
//! to `cli`.

use std::fmt;
use std::ops::Range;
use std::sync::Arc;

/// A source file that spans point into. Shared (`Arc`) by every span of the file.
#[derive(Debug)]
pub struct SourceFile {
    /// The path as the user should see it (relative to the working directory).
    pub name: String,
    pub text: String,
    /// Byte offset of the start of every line, for line/column lookups.
    line_starts: Vec<usize>,
}

impl SourceFile {
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Arc<SourceFile> {
        let text = text.into();
        let mut line_starts = vec![0];
        for (i, b) in text.bytes().enumerate() {
            if b == b'\n' {
                line_starts.push(i + 1);
            }
        }
        Arc::new(SourceFile { name: name.into(), text, line_starts })
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        let start = self.line_starts[line];
        let col = self.text.get(start..offset).map(|s| s.chars().count()).unwrap_or(offset - start);
        (line + 1, col + 1)
    }
}

/// A byte range in one source file.
#[derive(Clone)]
pub struct Span {
    pub file: Arc<SourceFile>,
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(file: &Arc<SourceFile>, range: Range<usize>) -> Span {
        Span { file: file.clone(), start: range.start, end: range.end.max(range.start) }
    }
    /// A span from an optional hcl-edit range; the whole-file start when there is none.
    pub fn from_opt(file: &Arc<SourceFile>, range: Option<Range<usize>>) -> Span {
        Span::new(file, range.unwrap_or(0..0))
    }
    pub fn text(&self) -> &str {
        self.file.text.get(self.start..self.end).unwrap_or("")
    }
    /// `file:line,col` as users read it in messages.
    pub fn location(&self) -> String {
        let (l, c) = self.file.line_col(self.start);
        format!("{}:{}", self.file.name, format_args!("{l},{c}"))
    }
    /// The smallest span covering both (same file assumed).
    pub fn to(&self, other: &Span) -> Span {
        Span { file: self.file.clone(), start: self.start.min(other.start), end: self.end.max(other.end) }
    }
}

impl fmt::Debug for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}[{}..{}]", self.file.name, self.start, self.end)
    }
}

impl PartialEq for Span {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.file, &other.file) && self.start == other.start && self.end == other.end
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
}

/// One problem, with where it is and how to fix it.
#[derive(Clone, Debug)]
pub struct Diagnostic {
    pub severity: Severity,
    /// Short, sentence-case, no trailing period: "Unsupported argument".
    pub summary: String,
    /// What was wrong, why, and (if known) how to fix it.
    pub detail: String,
    /// The exact span of the offending token or expression.
    pub span: Option<Span>,
    /// Extra spans with their own labels (e.g. every edge of a cycle).
    pub related: Vec<(Span, String)>,
    /// A fix, when one is known.
    pub help: Option<String>,
    /// Label for the primary span; defaults to the summary.
    pub label: Option<String>,
    /// The byte range of the construct around the span (HCL's diagnostic `Context`,
    /// e.g. the whole function call for a bad argument): `validate -json`'s snippet
    /// shows every line of it, as Terraform's does.
    pub context: Option<Range<usize>>,
}

impl Diagnostic {
    pub fn error(summary: impl Into<String>, detail: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Error,
            summary: summary.into(),
            detail: detail.into(),
            span: None,
            related: Vec::new(),
            help: None,
            label: None,
            context: None,
        }
    }
    pub fn warning(summary: impl Into<String>, detail: impl Into<String>) -> Diagnostic {
        Diagnostic { severity: Severity::Warning, ..Diagnostic::error(summary, detail) }
    }
    /// The construct around the span (see `context`), in the span's file.
    pub fn with_context(mut self, range: Range<usize>) -> Diagnostic {
        self.context = Some(range);
        self
    }
    pub fn with_span(mut self, span: Span) -> Diagnostic {
        self.span = Some(span);
        self
    }
    pub fn with_opt_span(mut self, span: Option<Span>) -> Diagnostic {
        if self.span.is_none() {
            self.span = span;
        }
        self
    }
    pub fn with_help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }
    pub fn with_label(mut self, label: impl Into<String>) -> Diagnostic {
        self.label = Some(label.into());
        self
    }
    pub fn with_related(mut self, span: Span, label: impl Into<String>) -> Diagnostic {
        self.related.push((span, label.into()));
        self
    }
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    /// A plain one-paragraph rendering, for logs and tests.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sev = match self.severity {
            Severity::Error => "Error",
            Severity::Warning => "Warning",
        };
        write!(f, "{sev}: {}", self.summary)?;
        if let Some(span) = &self.span {
            write!(f, " (at {})", span.location())?;
        }
        if !self.detail.is_empty() {
            write!(f, ": {}", self.detail)?;
        }
        Ok(())
    }
}

/// An accumulating list of diagnostics (`diags.push(...)`, `diags.extend(...)`).
#[derive(Clone, Debug, Default)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    pub fn new() -> Diagnostics {
        Diagnostics(Vec::new())
    }
    pub fn push(&mut self, d: Diagnostic) {
        self.0.push(d);
    }
    pub fn extend(&mut self, other: Diagnostics) {
        self.0.extend(other.0);
    }
    pub fn has_errors(&self) -> bool {
        self.0.iter().any(|d| d.is_error())
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
    pub fn iter(&self) -> std::slice::Iter<'_, Diagnostic> {
        self.0.iter()
    }
    pub fn error_count(&self) -> usize {
        self.0.iter().filter(|d| d.is_error()).count()
    }
    pub fn warning_count(&self) -> usize {
        self.0.len() - self.error_count()
    }
    /// `Err(self)` when any error is present, else `Ok(value)` (warnings dropped).
    pub fn into_result<T>(self, value: T) -> Result<T, Diagnostics> {
        if self.has_errors() {
            Err(self)
        } else {
            Ok(value)
        }
    }
}

impl From<Diagnostic> for Diagnostics {
    fn from(d: Diagnostic) -> Self {
        Diagnostics(vec![d])
    }
}

impl IntoIterator for Diagnostics {
    type Item = Diagnostic;
    type IntoIter = std::vec::IntoIter<Diagnostic>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------
// miette rendering

/// Adapter that lets miette render one of our diagnostics with its source snippet.
#[derive(Debug)]
pub struct MietteDiag {
    summary: String,
    detail: String,
    severity: Severity,
    help: Option<String>,
    src: Option<miette::NamedSource<String>>,
    labels: Vec<miette::LabeledSpan>,
}

impl fmt::Display for MietteDiag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.summary)
    }
}

impl std::error::Error for MietteDiag {}

impl miette::Diagnostic for MietteDiag {
    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        let mut parts = Vec::new();
        if !self.detail.is_empty() {
            parts.push(self.detail.clone());
        }
        if let Some(h) = &self.help {
            parts.push(format!("hint: {h}"));
        }
        if parts.is_empty() {
            None
        } else {
            Some(Box::new(parts.join("\n")))
        }
    }
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.src.as_ref().map(|s| s as &dyn miette::SourceCode)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        if self.labels.is_empty() {
            None
        } else {
            Some(Box::new(self.labels.iter().cloned()))
        }
    }
}

impl Diagnostic {
    /// Converts to a miette diagnostic. Related spans in other files than the primary one
    /// are appended to the detail as `file:line,col: label` lines.
    pub fn to_miette(&self) -> MietteDiag {
        let mut detail = self.detail.clone();
        let mut labels = Vec::new();
        let mut src = None;
        if let Some(span) = &self.span {
            src = Some(miette::NamedSource::new(span.file.name.clone(), span.file.text.clone()));
            let label = self.label.clone().unwrap_or_else(|| "here".to_string());
            labels.push(miette::LabeledSpan::new_primary_with_span(
                Some(label),
                (span.start, span.end - span.start),
            ));
            for (r, l) in &self.related {
                if Arc::ptr_eq(&r.file, &span.file) {
                    labels.push(miette::LabeledSpan::new_with_span(Some(l.clone()), (r.start, r.end - r.start)));
                } else {
                    detail.push_str(&format!("\n  {}: {}", r.location(), l));
                }
            }
        } else {
            for (r, l) in &self.related {
                detail.push_str(&format!("\n  {}: {}", r.location(), l));
            }
        }
        MietteDiag { summary: self.summary.clone(), detail, severity: self.severity, help: self.help.clone(), src, labels }
    }
}

// ---------------------------------------------------------------------------------------
// Terraform's `validate -json` shape

#[derive(serde::Serialize)]
pub struct JsonPos {
    pub line: usize,
    pub column: usize,
    pub byte: usize,
}

#[derive(serde::Serialize)]
pub struct JsonRange {
    pub filename: String,
    pub start: JsonPos,
    pub end: JsonPos,
}

#[derive(serde::Serialize)]
pub struct JsonDiagnostic {
    pub severity: &'static str,
    pub summary: String,
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub range: Option<JsonRange>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snippet: Option<JsonSnippet>,
}

/// The source excerpt Terraform attaches to a diagnostic: the enclosing top-level block's
/// header (`context`), the whole lines the range covers (`code`), and where the range
/// lies within them. `values` (expression values Terraform shows for some evaluation
/// errors) is always empty here.
#[derive(serde::Serialize)]
pub struct JsonSnippet {
    pub context: Option<String>,
    pub code: String,
    pub start_line: usize,
    pub highlight_start_offset: usize,
    pub highlight_end_offset: usize,
    pub values: Vec<serde_json::Value>,
}

impl JsonSnippet {
    /// The snippet for the highlight `start..end`, showing the lines of `shown` (which
    /// covers the highlight).
    fn new(file: &SourceFile, start: usize, end: usize, shown: Range<usize>) -> JsonSnippet {
        let text = file.text.as_str();
        let mut code = String::new();
        let mut code_start = None;
        let mut line_start = 0;
        for line in text.split_inclusive('\n') {
            let content = line.trim_end_matches('\n').trim_end_matches('\r');
            let line_end = line_start + content.len();
            // Lines overlapping [start, end): the first line always, then every line
            // that begins before the end.
            if (line_start <= shown.start && shown.start <= line_end) || (line_start > shown.start && line_start < shown.end) {
                code_start.get_or_insert(line_start);
                code.push_str(content);
                code.push('\n');
            }
            line_start += line.len();
        }
        if code.ends_with('\n') {
            code.pop();
        }
        let code_start = code_start.unwrap_or(start);
        let hs = start.saturating_sub(code_start).min(code.len());
        let he = (hs + (end - start)).min(code.len());
        JsonSnippet {
            context: context_string(text, start.checked_sub(1)),
            start_line: file.line_col(code_start).0,
            code,
            highlight_start_offset: hs,
            highlight_end_offset: he,
            values: Vec::new(),
        }
    }
}

/// The header (`resource "a" "b"`) of the top-level block containing `offset`, as
/// Terraform's `ContextString` writes it.
fn context_string(text: &str, offset: Option<usize>) -> Option<String> {
    let offset = offset?;
    let body = crate::lang::parse_body_outline(text.strip_prefix('\u{feff}').unwrap_or(text)).ok()?;
    let bom = if text.starts_with('\u{feff}') { 3 } else { 0 };
    let block = body.blocks().find(|b| {
        let r = hcl_edit::Span::span(*b);
        r.is_some_and(|r| r.start + bom <= offset && offset < r.end + bom)
    })?;
    let mut s = block.ident.as_str().to_string();
    for l in &block.labels {
        let v = match l {
            hcl_edit::structure::BlockLabel::String(v) => v.value().to_string(),
            hcl_edit::structure::BlockLabel::Ident(i) => i.as_str().to_string(),
        };
        s.push(' ');
        s.push_str(&serde_json::Value::String(v).to_string());
    }
    Some(s)
}

impl Diagnostic {
    pub fn to_json(&self) -> JsonDiagnostic {
        // Like Terraform, an empty range is widened to one byte.
        let widen = |s: &Span| if s.end > s.start { s.end } else { s.start + 1 };
        let snippet = self.span.as_ref().map(|s| {
            let shown = match &self.context {
                Some(c) => c.start.min(s.start)..c.end.max(widen(s)),
                None => s.start..widen(s),
            };
            JsonSnippet::new(&s.file, s.start, widen(s), shown)
        });
        let range = self.span.as_ref().map(|s| {
            let (l1, c1) = s.file.line_col(s.start);
            let (l2, c2) = if s.end > s.start { s.file.line_col(s.end) } else { (l1, c1 + 1) };
            JsonRange {
                filename: s.file.name.clone(),
                start: JsonPos { line: l1, column: c1, byte: s.start },
                end: JsonPos { line: l2, column: c2, byte: widen(s) },
            }
        });
        let mut detail = self.detail.clone();
        if let Some(h) = &self.help {
            if !detail.is_empty() {
                detail.push(' ');
            }
            detail.push_str(h);
        }
        JsonDiagnostic {
            severity: match self.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
            },
            summary: self.summary.clone(),
            detail,
            range,
            snippet,
        }
    }
}
