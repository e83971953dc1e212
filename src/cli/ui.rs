//! Printing for the CLI: stdout text, diagnostics rendered by miette on stderr, ANSI
//! styling only when colour is wanted, the rendering of state attributes for
//! `state show` (`format_attributes`), and of output lists (`format_outputs`).
//!
//! Writes ignore I/O errors (a closed pipe must not panic the process).

use std::io::Write;

use miette::{GraphicalReportHandler, GraphicalTheme};

use crate::diag::{Diagnostic, Diagnostics};
use crate::lang::value::Value;
use crate::plan::render::render_value;

/// Writes text to stdout, ignoring errors (e.g. a closed pipe).
pub fn write_out(s: &str) {
    let mut o = std::io::stdout().lock();
    let _ = o.write_all(s.as_bytes());
    let _ = o.flush();
}

/// Writes text to stderr, ignoring errors.
pub fn write_err(s: &str) {
    let mut o = std::io::stderr().lock();
    let _ = o.write_all(s.as_bytes());
    let _ = o.flush();
}

/// The CLI's printer.
pub struct Ui {
    pub color: bool,
    handler: GraphicalReportHandler,
}

impl Ui {
    pub fn new(color: bool) -> Ui {
        let theme = if color {
            GraphicalTheme::unicode()
        } else {
            GraphicalTheme::unicode_nocolor()
        };
        Ui {
            color,
            handler: GraphicalReportHandler::new_themed(theme).with_links(false),
        }
    }

    pub fn out(&self, s: &str) {
        write_out(s);
    }

    pub fn outln(&self, s: &str) {
        write_out(&format!("{s}\n"));
    }

    /// Bold text when colour is on.
    pub fn bold(&self, s: &str) -> String {
        if self.color {
            format!("\x1b[1m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }

    /// Bold green text when colour is on (success messages).
    pub fn green(&self, s: &str) -> String {
        if self.color {
            format!("\x1b[1;32m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }

    /// Renders one diagnostic (through `miette::Report`) as text.
    pub fn render_diag(&self, d: &Diagnostic) -> String {
        let report = miette::Report::new(d.to_miette());
        let mut s = String::new();
        if self.handler.render_report(&mut s, &*report).is_err() {
            s = format!("{d}\n");
        }
        s
    }

    /// Prints one diagnostic to stderr.
    pub fn diag(&self, d: &Diagnostic) {
        write_err(&self.render_diag(d));
        write_err("\n");
    }

    /// Prints diagnostics to stderr, warnings and errors alike, in order.
    pub fn diags(&self, ds: &Diagnostics) {
        for d in ds.iter() {
            self.diag(d);
        }
    }
}

/// Renders the top-level attributes of a state object the way `terrane state show`
/// prints them: one `name = value` line each, aligned, indented by four spaces.
pub fn format_attributes(v: &Value) -> String {
    // Attributes the schema marks sensitive stay marked: render_value hides them.
    let v = match v {
        Value::Sensitive(inner) => inner.as_ref(),
        other => other,
    };
    let Some(m) = v.as_map() else {
        return format!("    {}\n", render_value(v, 4));
    };
    let width = m
        .iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, _)| k.chars().count())
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    for (k, val) in m {
        if val.is_null() {
            continue;
        }
        let gap = " ".repeat(width - k.chars().count());
        out.push_str(&format!("    {k}{gap} = {}\n", render_value(val, 4)));
    }
    out
}

/// The `name = value` lines of root outputs, as `terrane output` and the "Outputs:"
/// section of apply print them; sensitive values show as `<sensitive>`.
pub fn format_outputs(
    outputs: &std::collections::BTreeMap<String, crate::state::OutputState>,
) -> String {
    let mut out = String::new();
    for (name, o) in outputs {
        let v = if o.sensitive || o.value.contains_sensitive() {
            "<sensitive>".to_string()
        } else {
            render_value(&o.value, 0)
        };
        out.push_str(&format!("{name} = {v}\n"));
    }
    out
}
