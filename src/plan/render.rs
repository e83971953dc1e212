//! Plan rendering for people: `terrane plan` output in the shape of Terraform 1.x.
//!
//! Owns the human-readable text of a `Plan`: the legend, one block per resource instance
//! change (attribute-level diffs, nested blocks, `(known after apply)`, `(sensitive value)`,
//! `# forces replacement`), the `Plan: X to add, ...` summary, `Changes to Outputs:`, the
//! drift section ("Objects have changed outside of terrane") and the `No changes.`
//! message; and `render_value`, the `output`/`console` form of one value. It follows
//! Terraform's `internal/command/format/diff.go` (v1.x) so that users recognise it.
//!
//! It must not decide anything: actions, reasons and forced replacements come from the
//! engine through the `Plan`; this module only shows them. It must never print what is
//! inside a `Value::Sensitive`, at any depth, in any diff. It must not panic on any plan.
//!
//! Rendering has no provider schema: attributes whose value is a list or set of objects
//! are shown as nested blocks (as providers declare them), everything else as attributes.
//! `render_plan_with_schemas` takes schemas where the caller has them.

use std::collections::BTreeSet;

use super::{Action, ActionReason, OutputChange, Plan, ResourceChange};
use crate::addrs::ResourceMode;
use crate::lang::value::{friendly_type_name, Type, Value};
use crate::providers::{AttrPath, BlockSchema, Nesting, PathStep};

/// Terraform wraps prose at the terminal width, 78 columns when not a terminal.
const WRAP_COLUMNS: usize = 78;

/// Lists longer than this (product of both lengths) are diffed without a full LCS table.
const LCS_CELL_LIMIT: usize = 4_000_000;

const SENSITIVE_CAPTION: &str = "(sensitive value)";
const FORCES_NEW_CAPTION: &str = " [red]# forces replacement[reset]";

/// How to render.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RenderOptions {
    /// Colour with ANSI escape codes (green +, yellow ~, red -, cyan <=).
    pub color: bool,
}

/// The whole `terrane plan` output for `plan`, as Terraform prints it after refreshing.
pub fn render_plan(plan: &Plan, opts: &RenderOptions) -> String {
    render_plan_with_schemas(plan, opts, &|_| None)
}

/// Like `render_plan`, with the schema of each resource where the caller knows it, so
/// that nested blocks and schema-sensitive attributes are shown exactly.
pub fn render_plan_with_schemas<'s>(
    plan: &Plan,
    opts: &RenderOptions,
    schema_for: &dyn Fn(&ResourceChange) -> Option<&'s BlockSchema>,
) -> String {
    let c = Colorize {
        enabled: opts.color,
    };
    let mut out = String::new();
    out.push_str(&recovered_section(plan, c));

    let drift = drift_section(plan, c, schema_for);
    let have_drift = !drift.is_empty();
    if have_drift {
        out.push_str(&drift);
        out.push('\n');
        out.push_str(&word_wrap(
            "Unless you have made equivalent changes to your configuration, or ignored the relevant attributes using ignore_changes, the following plan may include actions to undo or respond to these changes.",
        ));
        out.push('\n');
    }

    let changes = listed_changes(plan);
    let outputs: Vec<&OutputChange> = plan
        .outputs
        .iter()
        .filter(|o| o.action != Action::NoOp)
        .collect();

    if changes.is_empty() && outputs.is_empty() {
        if have_drift {
            out.push_str(&horizontal_rule(c));
            out.push('\n');
        }
        if plan.destroy {
            out.push_str(&c.color("\n[reset][bold][green]No changes.[reset][bold] No objects need to be destroyed.[reset]\n\n"));
            out.push_str(&word_wrap(
                "Either you have not created any objects yet or the existing objects were already deleted outside of terrane.",
            ));
        } else {
            out.push_str(&c.color("\n[reset][bold][green]No changes.[reset][bold] Your infrastructure matches the configuration.[reset]\n\n"));
            out.push_str(&word_wrap(
                "terrane has compared your real infrastructure against your configuration and found no differences, so no changes are needed.",
            ));
        }
        out.push('\n');
        return out;
    }
    if have_drift {
        out.push_str(&horizontal_rule(c));
        out.push('\n');
    }

    if !changes.is_empty() {
        out.push('\n');
        out.push_str(word_wrap(
            "terrane used the selected providers to generate the following execution plan. Resource actions are indicated with the following symbols:",
        ).trim());
        out.push('\n');
        let has = |a: Action| changes.iter().any(|rc| rc.action == a);
        let legend = [
            (Action::Create, "create"),
            (Action::Update, "update in-place"),
            (Action::Delete, "destroy"),
            (
                Action::DeleteThenCreate,
                "destroy and then create replacement",
            ),
            (
                Action::CreateThenDelete,
                "create replacement and then destroy",
            ),
            (Action::Read, "read (data resources)"),
        ];
        for (action, text) in legend {
            if has(action) {
                out.push_str(&c.color(diff_action_symbol(action)));
                out.push(' ');
                out.push_str(text);
                out.push('\n');
            }
        }
        out.push('\n');
        out.push_str("terrane will perform the following actions:\n\n");
        for rc in &changes {
            out.push_str(&resource_change(rc, c, Language::Proposed, schema_for(rc)));
            out.push('\n');
        }
        out.push_str(&c.color("[reset][bold]Plan:[reset] "));
        let (add, change, destroy) = listed_counts(&changes);
        out.push_str(&format!(
            "{add} to add, {change} to change, {destroy} to destroy.\n"
        ));
    }

    if !outputs.is_empty() {
        out.push_str(&c.color("[reset]\n[bold]Changes to Outputs:[reset]"));
        out.push_str(&output_changes(&outputs, c));
        out.push('\n');
        if changes.is_empty() {
            out.push('\n');
            out.push_str(&word_wrap(
                "You can apply this plan to save these new output values to the terrane state, without changing any real infrastructure.",
            ));
            out.push('\n');
        }
    }
    out
}

/// What the plan settled of an interrupted apply's create intents; empty when none.
fn recovered_section(plan: &Plan, c: Colorize) -> String {
    if plan.resolved_intents.is_empty() && plan.gone_deposed.is_empty() {
        return String::new();
    }
    let mut out = c.color("\n[reset][bold][yellow]Recovered from an interrupted apply[reset]\n\n");
    for a in &plan.adopted {
        out.push_str(&format!("  # {} was created by an interrupted apply; it is adopted into the state\n", a.addr));
    }
    let dropped = plan.resolved_intents.len() - plan.adopted.len();
    if dropped > 0 {
        out.push_str(&format!("  # {dropped} interrupted create(s) never made an object; their intents are dropped\n"));
    }
    for (a, k) in &plan.gone_deposed {
        out.push_str(&format!("  # {a} (deposed object {k}) no longer exists; it is removed from the state\n"));
    }
    out.push('\n');
    out.push_str(&word_wrap("Applying this plan records this in the state, with the changes below."));
    out.push('\n');
    out
}

/// The "Objects have changed outside of terrane" section listing `plan.drift`, without
/// colour; empty when there is no drift to show.
pub fn render_drift(plan: &Plan) -> String {
    drift_section(plan, Colorize { enabled: false }, &|_| None)
}

/// `Plan: 1 to add, 2 to change, 0 to destroy.` counted as Terraform counts the listed
/// changes (a replacement is one add and one destroy; reads and no-ops are not counted).
pub fn render_summary_line(plan: &Plan) -> String {
    let (add, change, destroy) = listed_counts(&listed_changes(plan));
    format!("Plan: {add} to add, {change} to change, {destroy} to destroy.")
}

/// One value as `terrane output NAME` and `terrane console` show it (Terraform's
/// `repl.FormatValue`): HCL-like, with `tolist(...)`/`toset(...)`/`tomap(...)` for
/// collections and heredocs for multi-line strings. `indent` is the current column.
pub fn render_value(v: &Value, indent: usize) -> String {
    match v {
        // repl.FormatValue's caption, which differs from the plan renderer's.
        Value::Sensitive(_) => "(sensitive)".to_string(),
        Value::Unknown(_) => "(known after apply)".to_string(),
        Value::Null(ty) => match ty {
            Type::Dynamic => "null".to_string(),
            Type::String => "tostring(null)".to_string(),
            Type::Number => "tonumber(null)".to_string(),
            Type::Bool => "tobool(null)".to_string(),
            Type::List(e) => format!("tolist(null) /* of {} */", friendly_type_name(e)),
            Type::Set(e) => format!("toset(null) /* of {} */", friendly_type_name(e)),
            Type::Map(e) => format!("tomap(null) /* of {} */", friendly_type_name(e)),
            other => format!("null /* {} */", friendly_type_name(other)),
        },
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => format_multiline_string(s, indent).unwrap_or_else(|| go_quote(s)),
        Value::Tuple(vs) => format_sequence_value(vs, indent),
        Value::List(vs) => format!("tolist({})", format_sequence_value(vs, indent)),
        Value::Set(vs) => format!("toset({})", format_sequence_value(vs, indent)),
        Value::Object(m) => format_mapping_value(m, indent),
        Value::Map(m) => format!("tomap({})", format_mapping_value(m, indent)),
    }
}

fn format_multiline_string(s: &str, indent: usize) -> Option<String> {
    let lines: Vec<&str> = s.split('\n').collect();
    if lines.len() < 2 {
        return None;
    }
    let operator = if indent > 0 { "<<-" } else { "<<" };
    let mut delimiter = String::from("EOT");
    while lines.iter().any(|l| l.trim() == delimiter) {
        delimiter.push('_');
    }
    let pad = " ".repeat(indent);
    let mut out = format!("{operator}{delimiter}");
    for line in &lines {
        out.push('\n');
        out.push_str(&pad);
        out.push_str(line);
    }
    out.push('\n');
    out.push_str(&pad);
    out.push_str(&delimiter);
    Some(out)
}

fn format_sequence_value(vs: &[Value], indent: usize) -> String {
    let mut out = String::from("[");
    for v in vs {
        out.push('\n');
        out.push_str(&" ".repeat(indent + 2));
        out.push_str(&render_value(v, indent + 2));
        out.push(',');
    }
    if !vs.is_empty() {
        out.push('\n');
        out.push_str(&" ".repeat(indent));
    }
    out.push(']');
    out
}

fn format_mapping_value(m: &std::collections::BTreeMap<String, Value>, indent: usize) -> String {
    let mut out = String::from("{");
    for (k, v) in m {
        out.push('\n');
        out.push_str(&" ".repeat(indent + 2));
        out.push_str(&go_quote(k));
        out.push_str(" = ");
        out.push_str(&render_value(v, indent + 2));
    }
    if !m.is_empty() {
        out.push('\n');
        out.push_str(&" ".repeat(indent));
    }
    out.push('}');
    out
}

// ---------------------------------------------------------------------------------------
// Plan-level helpers

/// The changes Terraform lists: not no-ops, not deletions of data resources; in address
/// order (stable, so equal addresses keep the engine's order).
fn listed_changes(plan: &Plan) -> Vec<&ResourceChange> {
    let mut v: Vec<&ResourceChange> = plan
        .changes
        .iter()
        .filter(|rc| rc.action != Action::NoOp)
        .filter(|rc| !(rc.action == Action::Delete && rc.addr.resource.mode == ResourceMode::Data))
        .collect();
    // A deposed object comes right after its instance's current object, as in Terraform.
    v.sort_by(|a, b| (&a.addr, &a.deposed).cmp(&(&b.addr, &b.deposed)));
    v
}

fn listed_counts(changes: &[&ResourceChange]) -> (usize, usize, usize) {
    let (mut add, mut change, mut destroy) = (0, 0, 0);
    for rc in changes {
        match rc.action {
            Action::Create => add += 1,
            Action::Update => change += 1,
            Action::Delete => destroy += 1,
            Action::DeleteThenCreate | Action::CreateThenDelete => {
                add += 1;
                destroy += 1;
            }
            Action::NoOp | Action::Read => {}
        }
    }
    (add, change, destroy)
}

fn drift_section<'s>(
    plan: &Plan,
    c: Colorize,
    schema_for: &dyn Fn(&ResourceChange) -> Option<&'s BlockSchema>,
) -> String {
    let mut drift: Vec<&ResourceChange> = plan
        .drift
        .iter()
        .filter(|d| d.action != Action::NoOp && d.addr.resource.mode == ResourceMode::Managed)
        .collect();
    if drift.is_empty() {
        return String::new();
    }
    drift.sort_by(|a, b| a.addr.cmp(&b.addr));
    let mut out = c.color("[reset]\n[bold][cyan]Note:[reset][bold] Objects have changed outside of terrane[reset]\n\n");
    out.push_str(&word_wrap(
        "terrane detected the following changes made outside of terrane since the last \"terrane apply\":",
    ));
    out.push_str("\n\n");
    for (i, d) in drift.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(&resource_change(d, c, Language::Drift, schema_for(d)));
    }
    out
}

fn horizontal_rule(c: Colorize) -> String {
    c.color(&format!(
        "[dark_gray]\n{}[reset]",
        "─".repeat(WRAP_COLUMNS - 1)
    ))
}

/// Terraform's `format.WordWrap` at the default width: lines that start with a space are
/// kept as they are, others are wrapped at word boundaries.
fn word_wrap(s: &str) -> String {
    let limit = WRAP_COLUMNS - 1;
    let mut out = String::new();
    for (i, line) in s.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        if line.starts_with(' ') {
            out.push_str(line);
            continue;
        }
        let mut current = String::new();
        let mut current_len = 0;
        for word in line.split(' ') {
            let wlen = word.chars().count();
            if current.is_empty() {
                current.push_str(word);
                current_len = wlen;
            } else if current_len + 1 + wlen > limit {
                out.push_str(&current);
                out.push('\n');
                current = word.to_string();
                current_len = wlen;
            } else {
                current.push(' ');
                current.push_str(word);
                current_len += 1 + wlen;
            }
        }
        out.push_str(&current);
    }
    out
}

fn diff_action_symbol(action: Action) -> &'static str {
    match action {
        Action::DeleteThenCreate => "[red]-[reset]/[green]+[reset]",
        Action::CreateThenDelete => "[green]+[reset]/[red]-[reset]",
        Action::Create => "  [green]+[reset]",
        Action::Delete => "  [red]-[reset]",
        Action::Read => " [cyan]<=[reset]",
        Action::Update => "  [yellow]~[reset]",
        Action::NoOp => "   ",
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Language {
    Proposed,
    Drift,
}

/// One resource instance change: heading, notes and the resource block.
fn resource_change(
    rc: &ResourceChange,
    c: Colorize,
    language: Language,
    schema: Option<&BlockSchema>,
) -> String {
    let addr = match &rc.deposed {
        Some(k) => format!("{} (deposed object {k})", rc.addr),
        None => rc.addr.to_string(),
    };
    let bold_addr = format!("{}{}{}", c.color("[bold]  # "), addr, c.color("[reset]"));
    let mut buf = bold_addr.clone();
    match rc.action {
        Action::Create => buf.push_str(" will be created"),
        Action::Read => {
            buf.push_str(" will be read during apply");
            if rc.reason == ActionReason::ReadBecauseConfigUnknown {
                buf.push_str("\n  # (config refers to values not yet known)");
            }
        }
        Action::Update => match language {
            Language::Proposed => buf.push_str(" will be updated in-place"),
            Language::Drift => buf.push_str(" has been changed"),
        },
        Action::DeleteThenCreate | Action::CreateThenDelete => {
            match &rc.reason {
                ActionReason::ReplaceBecauseTainted => {
                    buf.push_str(&c.color(" is tainted, so must be [bold][red]replaced"))
                }
                ActionReason::ReplaceByRequest => {
                    buf.push_str(&c.color(" will be [bold][red]replaced[reset], as requested"))
                }
                ActionReason::ReplaceByTriggers { trigger } => {
                    buf.push_str(&c.color(" will be [bold][red]replaced[reset] due to changes in replace_triggered_by"));
                    if !trigger.is_empty() {
                        buf.push_str(&c.color("[reset]"));
                        buf.push_str(&format!("\n  # (replace_triggered_by {trigger})"));
                    }
                }
                _ => buf.push_str(&c.color(" must be [bold][red]replaced")),
            }
        }
        Action::Delete => {
            match language {
                Language::Proposed => buf.push_str(&c.color(" will be [bold][red]destroyed")),
                Language::Drift => buf.push_str(" has been deleted"),
            }
            match rc.reason {
                ActionReason::DeleteBecauseNoResourceConfig => buf.push_str(&format!(
                    "\n  # (because {} is not in configuration)",
                    rc.addr.resource
                )),
                ActionReason::DeleteBecauseNoModule => buf.push_str(&format!(
                    "\n  # (because {} is not in configuration)",
                    rc.addr.module
                )),
                ActionReason::DeleteBecauseCountIndex => buf.push_str(&format!(
                    "\n  # (because index {} is out of range for count)",
                    rc.addr.key
                )),
                ActionReason::DeleteBecauseEachKey => buf.push_str(&format!(
                    "\n  # (because key {} is not in for_each map)",
                    rc.addr.key
                )),
                _ => {}
            }
        }
        Action::NoOp => match &rc.moved_from {
            Some(from) => {
                buf = format!(
                    "{}{}{} has moved to {}{}{}",
                    c.color("[bold]  # "),
                    from,
                    c.color("[reset]"),
                    c.color("[bold]"),
                    addr,
                    c.color("[reset]")
                );
            }
            None => buf.push_str(" has no changes"),
        },
    }
    buf.push_str(&c.color("[reset]\n"));

    if let Some(from) = &rc.moved_from {
        if rc.action != Action::NoOp {
            buf.push_str(&c.color("  # [reset]"));
            buf.push_str(&format!("(moved from {from})\n"));
        }
    }
    if rc.moved_from.is_some() && rc.action == Action::NoOp {
        buf.push_str("    ");
    } else {
        buf.push_str(&c.color(diff_action_symbol(rc.action)));
        buf.push(' ');
    }
    let r = &rc.addr.resource;
    match r.mode {
        ResourceMode::Managed => buf.push_str(&format!(
            "resource {} {}",
            go_quote(&r.type_),
            go_quote(&r.name)
        )),
        ResourceMode::Data => buf.push_str(&format!(
            "data {} {}",
            go_quote(&r.type_),
            go_quote(&r.name)
        )),
    }
    buf.push_str(" {");

    let null = Value::null();
    let before = rc.before.as_ref().unwrap_or(&null);
    let after = rc.after.as_ref().unwrap_or(&null);
    let mut p = Printer {
        buf,
        c,
        action: rc.action,
        requires_replace: &rc.requires_replace,
    };
    let result = p.write_block_body_diff(schema, before, after, 6, &Vec::new());
    if result.body_written {
        p.buf.push('\n');
        p.buf.push_str("    ");
    }
    p.buf.push_str("}\n");
    p.buf
}

/// The lines under `Changes to Outputs:` (each starting with a newline), rendered as the
/// attributes of a synthetic object as Terraform does.
fn output_changes(outputs: &[&OutputChange], c: Colorize) -> String {
    let mut before = std::collections::BTreeMap::new();
    let mut after = std::collections::BTreeMap::new();
    let mut attrs = Vec::new();
    for o in outputs {
        before.insert(o.name.clone(), o.before.clone().unwrap_or_else(Value::null));
        after.insert(o.name.clone(), o.after.clone().unwrap_or_else(Value::null));
        attrs.push((o.name.clone(), o.sensitive));
    }
    let mut p = Printer {
        buf: String::new(),
        c,
        action: Action::Update,
        requires_replace: &[],
    };
    let mut result = BodyResult::default();
    p.write_attrs_diff(
        &attrs,
        &Value::Object(before),
        &Value::Object(after),
        2,
        &Vec::new(),
        &mut result,
    );
    p.write_skipped_attr(result.skipped_attributes, 4);
    p.buf
}

// ---------------------------------------------------------------------------------------
// Colour

#[derive(Clone, Copy)]
struct Colorize {
    enabled: bool,
}

impl Colorize {
    /// Replaces colorstring codes (`[green]`, `[reset]`, ...) with ANSI escapes, or removes
    /// them when colour is off. Only ever given templates, never user data.
    fn color(&self, template: &str) -> String {
        const CODES: &[(&str, &str)] = &[
            ("[reset]", "\x1b[0m"),
            ("[bold]", "\x1b[1m"),
            ("[dim]", "\x1b[2m"),
            ("[red]", "\x1b[31m"),
            ("[green]", "\x1b[32m"),
            ("[yellow]", "\x1b[33m"),
            ("[cyan]", "\x1b[36m"),
            ("[dark_gray]", "\x1b[90m"),
        ];
        let mut out = String::with_capacity(template.len() + 16);
        let mut rest = template;
        'outer: while let Some(i) = rest.find('[') {
            out.push_str(&rest[..i]);
            rest = &rest[i..];
            for (code, esc) in CODES {
                if let Some(after) = rest.strip_prefix(code) {
                    if self.enabled {
                        out.push_str(esc);
                    }
                    rest = after;
                    continue 'outer;
                }
            }
            out.push('[');
            rest = &rest[1..];
        }
        out.push_str(rest);
        out
    }
}

// ---------------------------------------------------------------------------------------
// Value helpers

fn null_value() -> Value {
    Value::Null(Type::Dynamic)
}

/// True when this value itself carries the sensitive mark (cty's `HasMark`).
fn has_mark(v: &Value) -> bool {
    matches!(v, Value::Sensitive(_))
}

fn is_known(v: &Value) -> bool {
    !v.is_unknown()
}

/// cty's `RawEquals`: unknowns equal unknowns, marks must match.
fn raw_equals(a: &Value, b: &Value) -> bool {
    a.same_as(b)
}

/// Terraform's `ctyEqualValueAndMarks` (and `ctyEqualWithUnknown`): known, equal, same marks.
fn equal_value_and_marks(a: &Value, b: &Value) -> bool {
    a.is_wholly_known() && b.is_wholly_known() && a.same_as(b)
}

/// An attribute of an object (null when absent), with the container's mark carried over.
/// `""` is shown as null as Terraform does for legacy providers, unless anything in the
/// container is sensitive.
fn get_attr_maybe_null(val: &Value, name: &str) -> Value {
    let (inner, marked) = val.unmark();
    match inner {
        Value::Unknown(_) => Value::unknown().with_mark(marked),
        Value::Map(m) | Value::Object(m) => match m.get(name) {
            None => null_value(),
            Some(a) => {
                if matches!(a, Value::String(s) if s.is_empty()) && !val.contains_sensitive() {
                    return null_value();
                }
                a.clone().with_mark(marked)
            }
        },
        _ => null_value(),
    }
}

/// Elements of a known, non-null list, set or tuple (with the container's mark carried).
fn collection_values(v: &Value) -> Vec<Value> {
    let (inner, marked) = v.unmark();
    match inner {
        Value::List(vs) | Value::Set(vs) | Value::Tuple(vs) => {
            vs.iter().map(|e| e.clone().with_mark(marked)).collect()
        }
        _ => Vec::new(),
    }
}

/// Whether `set` contains `v`: `None` when unknowns make that undecidable.
fn has_element(set: &[Value], v: &Value) -> Option<bool> {
    if set.iter().any(|e| equal_value_and_marks(e, v)) {
        return Some(true);
    }
    if !v.is_wholly_known() || set.iter().any(|e| !e.is_wholly_known()) {
        return None;
    }
    Some(false)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Primitive(u8),
    Seq,
    Set,
    Mapping,
    Other,
}

fn kind(v: &Value) -> Kind {
    match v.unmark().0 {
        Value::Bool(_) => Kind::Primitive(0),
        Value::Number(_) => Kind::Primitive(1),
        Value::String(_) => Kind::Primitive(2),
        Value::List(_) | Value::Tuple(_) => Kind::Seq,
        Value::Set(_) => Kind::Set,
        Value::Map(_) | Value::Object(_) => Kind::Mapping,
        _ => Kind::Other,
    }
}

fn is_object(v: &Value) -> bool {
    matches!(v.unmark().0, Value::Object(_))
}

use crate::lang::value::go_quote;

/// An attribute name as HCL would write it: bare when a valid identifier, else quoted.
fn display_attribute_name(name: &str) -> String {
    let mut chars = name.chars();
    let valid = match chars.next() {
        Some(f) if f.is_alphabetic() || f == '_' => {
            chars.all(|c| c.is_alphanumeric() || c == '_' || c == '-')
        }
        _ => false,
    };
    if valid {
        name.to_string()
    } else {
        go_quote(name)
    }
}

/// Terraform's coarse heuristic for attributes shown even when unchanged.
fn identifying_attribute(name: &str) -> bool {
    name == "id" || name == "tags" || name == "name"
}

fn plural(n: usize, one: &'static str, many: &'static str) -> &'static str {
    if n == 1 {
        one
    } else {
        many
    }
}

fn with_step(path: &AttrPath, step: PathStep) -> AttrPath {
    let mut p = path.clone();
    p.push(step);
    p
}

/// Lines as Go's `bufio.Scanner` yields them: no final empty line, `\r` dropped.
fn scan_lines(s: &str) -> Vec<Value> {
    let mut lines: Vec<&str> = s.split('\n').collect();
    if lines.last() == Some(&"") {
        lines.pop();
    }
    lines
        .into_iter()
        .map(|l| Value::String(l.strip_suffix('\r').unwrap_or(l).to_string()))
        .collect()
}

// ---------------------------------------------------------------------------------------
// Sequence diff (Terraform's ctySequenceDiff over objchange.LongestCommonSubsequence)

struct ElemDiff {
    action: Action,
    before: Value,
    after: Value,
}

fn longest_common_subsequence(xs: &[Value], ys: &[Value]) -> Vec<Value> {
    // Common prefix and suffix first: keeps the table small and never shortens the LCS.
    let prefix = xs
        .iter()
        .zip(ys)
        .take_while(|(a, b)| equal_value_and_marks(a, b))
        .count();
    let (xr, yr) = (&xs[prefix..], &ys[prefix..]);
    let suffix = xr
        .iter()
        .rev()
        .zip(yr.iter().rev())
        .take_while(|(a, b)| equal_value_and_marks(a, b))
        .count();
    let xm = &xr[..xr.len() - suffix];
    let ym = &yr[..yr.len() - suffix];

    let mut ret: Vec<Value> = xs[..prefix].to_vec();
    if !xm.is_empty() && !ym.is_empty() && xm.len().saturating_mul(ym.len()) <= LCS_CELL_LIMIT {
        let w = xm.len();
        let mut c = vec![0usize; xm.len() * ym.len()];
        let mut eqs = vec![false; xm.len() * ym.len()];
        for (y, yv) in ym.iter().enumerate() {
            for (x, xv) in xm.iter().enumerate() {
                let idx = w * y + x;
                if equal_value_and_marks(xv, yv) {
                    eqs[idx] = true;
                    c[idx] = if x == 0 || y == 0 {
                        1
                    } else {
                        c[idx - w - 1] + 1
                    };
                } else {
                    let l = if x > 0 { c[idx - 1] } else { 0 };
                    let u = if y > 0 { c[idx - w] } else { 0 };
                    c[idx] = l.max(u);
                }
            }
        }
        let mut mid = Vec::new();
        let (mut x, mut y) = (xm.len() - 1, ym.len() - 1);
        loop {
            let idx = w * y + x;
            if eqs[idx] {
                mid.push(xm[x].clone());
                if x == 0 || y == 0 {
                    break;
                }
                x -= 1;
                y -= 1;
            } else {
                if x == 0 && y == 0 {
                    break;
                }
                let l = if x > 0 { c[idx - 1] } else { 0 };
                let u = if y > 0 { c[idx - w] } else { 0 };
                if l > u {
                    x -= 1;
                } else if y > 0 {
                    y -= 1;
                } else {
                    break;
                }
            }
        }
        mid.reverse();
        ret.extend(mid);
    }
    ret.extend_from_slice(&xr[xr.len() - suffix..]);
    ret
}

fn sequence_diff(old: &[Value], new: &[Value]) -> Vec<ElemDiff> {
    let lcs = longest_common_subsequence(old, new);
    let mut ret = Vec::new();
    let (mut oi, mut ni, mut li) = (0, 0, 0);
    while oi < old.len() || ni < new.len() || li < lcs.len() {
        while oi < old.len() && (li >= lcs.len() || !raw_equals(&old[oi], &lcs[li])) {
            let object_diff = is_object(&old[oi])
                && ni < new.len()
                && is_object(&new[ni])
                && (li >= lcs.len() || !raw_equals(&new[ni], &lcs[li]));
            if object_diff {
                ret.push(ElemDiff {
                    action: Action::Update,
                    before: old[oi].clone(),
                    after: new[ni].clone(),
                });
                oi += 1;
                ni += 1;
                continue;
            }
            ret.push(ElemDiff {
                action: Action::Delete,
                before: old[oi].clone(),
                after: null_value(),
            });
            oi += 1;
        }
        while ni < new.len() && (li >= lcs.len() || !raw_equals(&new[ni], &lcs[li])) {
            ret.push(ElemDiff {
                action: Action::Create,
                before: null_value(),
                after: new[ni].clone(),
            });
            ni += 1;
        }
        if li < lcs.len() {
            ret.push(ElemDiff {
                action: Action::NoOp,
                before: lcs[li].clone(),
                after: lcs[li].clone(),
            });
            li += 1;
            oi += 1;
            ni += 1;
        }
    }
    ret
}

// ---------------------------------------------------------------------------------------
// The block body printer (Terraform's blockBodyDiffPrinter)

#[derive(Default)]
struct BodyResult {
    body_written: bool,
    skipped_attributes: usize,
    skipped_blocks: usize,
}

struct NestedBlock<'s> {
    name: String,
    nesting: Nesting,
    schema: Option<&'s BlockSchema>,
}

struct Printer<'a> {
    buf: String,
    c: Colorize,
    /// The action of the whole resource instance.
    action: Action,
    requires_replace: &'a [AttrPath],
}

/// True for a value that can stand for a list or set of nested blocks: null, or a list or
/// set whose elements are all objects.
fn block_like(v: &Value) -> Option<Option<Nesting>> {
    match v.unmark().0 {
        Value::Null(_) => Some(None),
        Value::List(vs) if vs.iter().all(is_object) => Some(if vs.is_empty() {
            None
        } else {
            Some(Nesting::List)
        }),
        Value::Set(vs) if vs.iter().all(is_object) => Some(if vs.is_empty() {
            None
        } else {
            Some(Nesting::Set)
        }),
        _ => None,
    }
}

/// Splits a body into attributes (name, schema-sensitive) and nested block types, from
/// the schema when there is one and from the values' shapes otherwise.
fn body_layout<'s>(
    schema: Option<&'s BlockSchema>,
    old: &Value,
    new: &Value,
) -> (Vec<(String, bool)>, Vec<NestedBlock<'s>>) {
    let mut names: BTreeSet<&String> = BTreeSet::new();
    for v in [old, new] {
        if let Some(m) = v.as_map() {
            names.extend(m.keys());
        }
    }
    let mut attrs = Vec::new();
    let mut blocks = Vec::new();
    match schema {
        Some(s) => {
            for (name, a) in &s.attributes {
                attrs.push((name.clone(), a.sensitive));
            }
            for (name, b) in &s.blocks {
                blocks.push(NestedBlock {
                    name: name.clone(),
                    nesting: b.nesting,
                    schema: Some(&b.block),
                });
            }
            for name in names {
                if !s.attributes.contains_key(name) && !s.blocks.contains_key(name) {
                    attrs.push((name.clone(), false));
                }
            }
        }
        None => {
            for name in names {
                let ov = old.get_attr(name).cloned().unwrap_or_else(null_value);
                let nv = new.get_attr(name).cloned().unwrap_or_else(null_value);
                match (block_like(&ov), block_like(&nv)) {
                    (Some(a), Some(b)) if a.is_some() || b.is_some() => {
                        let nesting = a.or(b).unwrap_or(Nesting::List);
                        blocks.push(NestedBlock {
                            name: name.clone(),
                            nesting,
                            schema: None,
                        });
                    }
                    _ => attrs.push((name.clone(), false)),
                }
            }
        }
    }
    (attrs, blocks)
}

impl<'a> Printer<'a> {
    fn spaces(&mut self, n: usize) {
        for _ in 0..n {
            self.buf.push(' ');
        }
    }

    fn paint(&mut self, template: &str) {
        let s = self.c.color(template);
        self.buf.push_str(&s);
    }

    fn write_action_symbol(&mut self, action: Action) {
        match action {
            Action::Create => self.paint("[green]+[reset] "),
            Action::Delete => self.paint("[red]-[reset] "),
            Action::Update => self.paint("[yellow]~[reset] "),
            Action::NoOp => self.buf.push_str("  "),
            _ => self.buf.push_str("? "),
        }
    }

    fn path_forces_new(&self, path: &AttrPath) -> bool {
        self.action.is_replace()
            && !path.is_empty()
            && self.requires_replace.iter().any(|p| p == path)
    }

    fn path_or_parent_forces_new(&self, path: &AttrPath) -> bool {
        if self.path_forces_new(path) {
            return true;
        }
        match path.split_last() {
            Some((_, parent)) => self.path_forces_new(&parent.to_vec()),
            None => false,
        }
    }

    fn write_forces_caption_if(&mut self, cond: bool) {
        if cond {
            self.paint(FORCES_NEW_CAPTION);
        }
    }

    fn write_block_body_diff(
        &mut self,
        schema: Option<&BlockSchema>,
        old: &Value,
        new: &Value,
        indent: usize,
        path: &AttrPath,
    ) -> BodyResult {
        let (attrs, blocks) = body_layout(schema, old, new);
        let mut result = BodyResult::default();
        let mut blank_before_blocks =
            self.write_attrs_diff(&attrs, old, new, indent, path, &mut result);
        self.write_skipped_attr(result.skipped_attributes, indent + 2);

        for b in &blocks {
            let ov = get_attr_maybe_null(old, &b.name);
            let nv = get_attr_maybe_null(new, &b.name);
            result.body_written = true;
            result.skipped_blocks +=
                self.write_nested_block_diffs(b, &ov, &nv, blank_before_blocks, indent, path);
            blank_before_blocks = true;
        }
        if result.skipped_blocks > 0 {
            self.buf.push_str("\n\n");
            self.spaces(indent + 2);
            let n = result.skipped_blocks;
            self.paint(&format!(
                "[dark_gray]# ({n} unchanged {} hidden)[reset]",
                plural(n, "block", "blocks")
            ));
        }
        result
    }

    fn write_attrs_diff(
        &mut self,
        attrs: &[(String, bool)],
        old: &Value,
        new: &Value,
        indent: usize,
        path: &AttrPath,
        result: &mut BodyResult,
    ) -> bool {
        let mut shown: Vec<(&String, bool, String, Value, Value)> = Vec::new();
        let mut name_len = 0;
        for (name, sensitive) in attrs {
            let ov = get_attr_maybe_null(old, name);
            let nv = get_attr_maybe_null(new, name);
            if ov.is_null() && nv.is_null() {
                continue;
            }
            let display = display_attribute_name(name);
            name_len = name_len.max(display.chars().count());
            shown.push((name, *sensitive, display, ov, nv));
        }
        shown.sort_by(|a, b| a.0.cmp(b.0));
        if shown.is_empty() {
            return false;
        }
        for (name, sensitive, display, ov, nv) in &shown {
            result.body_written = true;
            let p = with_step(path, PathStep::Attr((*name).clone()));
            if self.write_attr_diff(display, *sensitive, ov, nv, name_len, indent, &p) {
                result.skipped_attributes += 1;
            }
        }
        true
    }

    /// Writes one attribute line; returns true when it was hidden as unchanged.
    #[allow(clippy::too_many_arguments)]
    fn write_attr_diff(
        &mut self,
        name: &str,
        sensitive: bool,
        old: &Value,
        new: &Value,
        name_len: usize,
        indent: usize,
        path: &AttrPath,
    ) -> bool {
        let (action, show_just_new) = if old.is_null() {
            (Action::Create, true)
        } else if new.is_null() {
            (Action::Delete, false)
        } else if equal_value_and_marks(old, new) {
            (Action::NoOp, true)
        } else {
            (Action::Update, false)
        };
        if action == Action::NoOp && !identifying_attribute(name) {
            return true;
        }
        self.buf.push('\n');
        self.write_sensitivity_warning(old, new, indent, action, false);
        self.spaces(indent);
        self.write_action_symbol(action);
        self.paint("[bold]");
        self.buf.push_str(name);
        self.paint("[reset]");
        self.spaces(name_len.saturating_sub(name.chars().count()));
        self.buf.push_str(" = ");
        if sensitive {
            self.buf.push_str(SENSITIVE_CAPTION);
            self.write_forces_caption_if(self.path_forces_new(path));
        } else if show_just_new {
            self.write_value(new, action, indent + 2);
            self.write_forces_caption_if(self.path_forces_new(path));
        } else {
            self.write_value_diff(old, new, indent + 2, path);
        }
        false
    }

    fn write_nested_block_diffs(
        &mut self,
        b: &NestedBlock<'_>,
        old: &Value,
        new: &Value,
        blank_before: bool,
        indent: usize,
        path: &AttrPath,
    ) -> usize {
        let path = with_step(path, PathStep::Attr(b.name.clone()));
        if old.is_null() && new.is_null() {
            return 0;
        }
        if has_mark(old) || has_mark(new) {
            self.write_sensitive_nested_block_diff(&b.name, old, new, indent, blank_before, &path);
            return 0;
        }
        let mut skipped_blocks = 0;
        match b.nesting {
            Nesting::Single => {
                let action = if old.is_null() {
                    Action::Create
                } else if new.is_null() {
                    Action::Delete
                } else if !new.is_wholly_known() || !old.is_wholly_known() || !old.same_as(new) {
                    Action::Update
                } else {
                    Action::NoOp
                };
                if self.write_nested_block_diff(
                    &b.name,
                    b.schema,
                    action,
                    old,
                    new,
                    indent,
                    blank_before,
                    &path,
                ) {
                    return 1;
                }
            }
            Nesting::List => {
                let old_items = collection_values(old);
                let new_items = collection_values(new);
                let common = old_items.len().min(new_items.len());
                let mut blank = blank_before;
                let mut items: Vec<(Action, Value, Value, usize)> = Vec::new();
                for i in 0..common {
                    let action = if raw_equals(&old_items[i], &new_items[i]) {
                        Action::NoOp
                    } else {
                        Action::Update
                    };
                    items.push((action, old_items[i].clone(), new_items[i].clone(), i));
                }
                for (i, o) in old_items.iter().enumerate().skip(common) {
                    items.push((Action::Delete, o.clone(), null_value(), i));
                }
                for (i, n) in new_items.iter().enumerate().skip(common) {
                    items.push((Action::Create, null_value(), n.clone(), i));
                }
                for (action, o, n, i) in items {
                    let p = with_step(&path, PathStep::Index(i as i64));
                    if self.write_nested_block_diff(
                        &b.name, b.schema, action, &o, &n, indent, blank, &p,
                    ) {
                        skipped_blocks += 1;
                    } else {
                        blank = false;
                    }
                }
            }
            Nesting::Set => {
                let old_items = collection_values(old);
                let new_items = collection_values(new);
                if old_items.is_empty() && new_items.is_empty() {
                    return 0;
                }
                let all = match Value::set_from(
                    old_items.iter().chain(new_items.iter()).cloned().collect(),
                ) {
                    Value::Set(vs) => vs,
                    _ => Vec::new(),
                };
                let mut blank = blank_before;
                for val in all {
                    let (action, o, n) = if !is_known(&val) {
                        (Action::Update, null_value(), val)
                    } else if has_element(&old_items, &val) != Some(true) {
                        (Action::Create, null_value(), val)
                    } else if has_element(&new_items, &val) != Some(true) {
                        (Action::Delete, val, null_value())
                    } else {
                        (Action::NoOp, val.clone(), val)
                    };
                    if self.write_nested_block_diff(
                        &b.name, b.schema, action, &o, &n, indent, blank, &path,
                    ) {
                        skipped_blocks += 1;
                    } else {
                        blank = false;
                    }
                }
            }
        }
        skipped_blocks
    }

    fn write_sensitive_nested_block_diff(
        &mut self,
        name: &str,
        old: &Value,
        new: &Value,
        indent: usize,
        blank_before: bool,
        path: &AttrPath,
    ) {
        let action = if old.is_null() {
            Action::Create
        } else if new.is_null() {
            Action::Delete
        } else if !new.is_wholly_known()
            || !old.is_wholly_known()
            || !equal_value_and_marks(old, new)
        {
            Action::Update
        } else {
            Action::NoOp
        };
        if blank_before {
            self.buf.push('\n');
        }
        self.buf.push('\n');
        self.write_sensitivity_warning(old, new, indent, action, true);
        self.spaces(indent);
        self.write_action_symbol(action);
        self.buf.push_str(name);
        self.buf.push_str(" {");
        self.write_forces_caption_if(action != Action::NoOp && self.path_forces_new(path));
        self.buf.push('\n');
        self.spaces(indent + 4);
        self.buf
            .push_str("# At least one attribute in this block is (or was) sensitive,\n");
        self.spaces(indent + 4);
        self.buf
            .push_str("# so its contents will not be displayed.\n");
        self.spaces(indent + 2);
        self.buf.push('}');
    }

    /// Writes one nested block; returns true when it was hidden as unchanged.
    #[allow(clippy::too_many_arguments)]
    fn write_nested_block_diff(
        &mut self,
        name: &str,
        schema: Option<&BlockSchema>,
        action: Action,
        old: &Value,
        new: &Value,
        indent: usize,
        blank_before: bool,
        path: &AttrPath,
    ) -> bool {
        if action == Action::NoOp {
            return true;
        }
        if blank_before {
            self.buf.push('\n');
        }
        self.buf.push('\n');
        self.spaces(indent);
        self.write_action_symbol(action);
        self.buf.push_str(name);
        self.buf.push_str(" {");
        self.write_forces_caption_if(self.path_or_parent_forces_new(path));
        let result = self.write_block_body_diff(schema, old, new, indent + 4, path);
        if result.body_written {
            self.buf.push('\n');
            self.spaces(indent + 2);
        }
        self.buf.push('}');
        false
    }

    fn write_value(&mut self, val: &Value, action: Action, indent: usize) {
        if has_mark(val) {
            self.buf.push_str(SENSITIVE_CAPTION);
            return;
        }
        if !is_known(val) {
            self.buf.push_str("(known after apply)");
            return;
        }
        if val.is_null() {
            self.paint("[dark_gray]null[reset]");
            return;
        }
        match val {
            Value::String(s) => {
                if let Some(jv) = json_container(s) {
                    self.buf.push_str("jsonencode(");
                    if jv
                        .as_seq()
                        .map(|v| v.is_empty())
                        .or_else(|| jv.as_map().map(|m| m.is_empty()))
                        .unwrap_or(true)
                    {
                        self.write_value(&jv, action, 0);
                    } else {
                        self.buf.push('\n');
                        self.spaces(indent + 4);
                        self.write_value(&jv, action, indent + 4);
                        self.buf.push('\n');
                        self.spaces(indent);
                    }
                    self.buf.push(')');
                    return;
                }
                if s.contains('\n') {
                    self.write_value_diff(val, val, indent, &Vec::new());
                    return;
                }
                self.buf.push_str(&go_quote(s));
            }
            Value::Bool(b) => self.buf.push_str(if *b { "true" } else { "false" }),
            Value::Number(n) => self.buf.push_str(&n.to_string()),
            Value::List(vs) | Value::Set(vs) | Value::Tuple(vs) => {
                self.buf.push('[');
                for v in vs {
                    self.buf.push('\n');
                    self.spaces(indent + 2);
                    self.write_action_symbol(action);
                    self.write_value(v, action, indent + 4);
                    self.buf.push(',');
                }
                if !vs.is_empty() {
                    self.buf.push('\n');
                    self.spaces(indent);
                }
                self.buf.push(']');
            }
            Value::Map(m) => {
                self.buf.push('{');
                let key_len = m.keys().map(|k| k.chars().count()).max().unwrap_or(0);
                for (k, v) in m {
                    self.buf.push('\n');
                    self.spaces(indent + 2);
                    self.write_action_symbol(action);
                    self.buf.push_str(&go_quote(k));
                    self.spaces(key_len - k.chars().count());
                    self.buf.push_str(" = ");
                    self.write_value(v, action, indent + 4);
                }
                if !m.is_empty() {
                    self.buf.push('\n');
                    self.spaces(indent);
                }
                self.buf.push('}');
            }
            Value::Object(m) => {
                self.buf.push('{');
                let names: Vec<(String, &Value)> = m
                    .iter()
                    .map(|(k, v)| (display_attribute_name(k), v))
                    .collect();
                let name_len = names
                    .iter()
                    .map(|(d, _)| d.chars().count())
                    .max()
                    .unwrap_or(0);
                for (d, v) in &names {
                    self.buf.push('\n');
                    self.spaces(indent + 2);
                    self.write_action_symbol(action);
                    self.buf.push_str(d);
                    self.spaces(name_len - d.chars().count());
                    self.buf.push_str(" = ");
                    self.write_value(v, action, indent + 4);
                }
                if !names.is_empty() {
                    self.buf.push('\n');
                    self.spaces(indent);
                }
                self.buf.push('}');
            }
            // Handled above; kept for exhaustiveness.
            Value::Null(_) | Value::Unknown(_) | Value::Sensitive(_) => {}
        }
    }

    fn write_value_diff(&mut self, old: &Value, new: &Value, indent: usize, path: &AttrPath) {
        let types_equal = kind(old) == kind(new) && kind(old) != Kind::Other;
        if is_known(old) && is_known(new) && !old.is_null() && !new.is_null() && types_equal {
            if has_mark(old) || has_mark(new) {
                self.buf.push_str(SENSITIVE_CAPTION);
                self.write_forces_caption_if(self.path_forces_new(path));
                return;
            }
            match (old, new) {
                (Value::String(old_s), Value::String(new_s)) => {
                    if let (Some(old_j), Some(new_j)) = (json_any(old_s), json_any(new_s)) {
                        if !(is_json_primitive(&old_j) && is_json_primitive(&new_j)) {
                            let (ojv, njv) = (Value::from_json(&old_j), Value::from_json(&new_j));
                            if !raw_equals(&ojv, &njv) {
                                self.buf.push_str("jsonencode(\n");
                                self.spaces(indent + 2);
                                self.write_action_symbol(Action::Update);
                                self.write_value_diff(&ojv, &njv, indent + 4, path);
                                self.buf.push('\n');
                                self.spaces(indent);
                                self.buf.push(')');
                            } else {
                                if self.path_forces_new(path) {
                                    self.paint("jsonencode( [red]# whitespace changes force replacement[reset]");
                                } else {
                                    self.paint("jsonencode( [dim]# whitespace changes[reset]");
                                }
                                self.buf.push('\n');
                                self.spaces(indent + 4);
                                self.write_value(&ojv, Action::NoOp, indent + 4);
                                self.buf.push('\n');
                                self.spaces(indent);
                                self.buf.push(')');
                            }
                            return;
                        }
                    }
                    if old_s.contains('\n') || new_s.contains('\n') {
                        self.write_heredoc_diff(old_s, new_s, indent, path);
                        return;
                    }
                }
                (Value::Set(o), Value::Set(n)) => {
                    self.write_set_diff(o, n, indent, path);
                    return;
                }
                (Value::List(o) | Value::Tuple(o), Value::List(n) | Value::Tuple(n)) => {
                    self.write_list_diff(o, n, indent, path);
                    return;
                }
                (Value::Map(o), Value::Map(n)) => {
                    self.write_map_diff(o, n, indent, path);
                    return;
                }
                (Value::Map(o) | Value::Object(o), Value::Map(n) | Value::Object(n)) => {
                    self.write_object_diff(o, n, indent, path);
                    return;
                }
                _ => {}
            }
        }
        self.write_value(old, Action::Delete, indent);
        if new.is_null() {
            self.paint(" [dark_gray]->[reset] ");
        } else {
            self.paint(" [yellow]->[reset] ");
        }
        self.write_value(new, Action::Create, indent);
        self.write_forces_caption_if(self.path_forces_new(path));
    }

    fn write_heredoc_diff(&mut self, old_s: &str, new_s: &str, indent: usize, path: &AttrPath) {
        self.buf.push_str("<<-EOT");
        self.write_forces_caption_if(self.path_forces_new(path));
        self.buf.push('\n');
        let old_lines = scan_lines(old_s);
        let new_lines = scan_lines(new_s);
        if old_s == new_s {
            for line in &new_lines {
                self.spaces(indent + 4);
                self.buf.push_str(line.as_str().unwrap_or(""));
                self.buf.push('\n');
            }
        } else {
            for d in sequence_diff(&old_lines, &new_lines) {
                self.spaces(indent + 2);
                self.write_action_symbol(d.action);
                let line = if d.action == Action::Create {
                    &d.after
                } else {
                    &d.before
                };
                self.buf.push_str(line.as_str().unwrap_or(""));
                self.buf.push('\n');
            }
        }
        self.spaces(indent);
        self.buf.push_str("EOT");
    }

    fn write_hidden_elements(&mut self, n: usize, indent: usize) {
        if n > 0 {
            self.write_action_symbol(Action::NoOp);
            self.spaces(indent + 2);
            self.paint(&format!(
                "[dark_gray]# ({n} unchanged {} hidden)[reset]",
                plural(n, "element", "elements")
            ));
            self.buf.push('\n');
        }
    }

    fn write_set_diff(&mut self, old: &[Value], new: &[Value], indent: usize, path: &AttrPath) {
        self.buf.push('[');
        self.write_forces_caption_if(self.path_forces_new(path));
        self.buf.push('\n');
        let removed: Vec<Value> = old
            .iter()
            .filter(|v| has_element(new, v) == Some(false))
            .cloned()
            .collect();
        let added: Vec<Value> = new
            .iter()
            .filter(|v| is_known(v) && has_element(old, v) == Some(false))
            .cloned()
            .collect();
        let all = match Value::set_from(old.iter().chain(new.iter()).cloned().collect()) {
            Value::Set(vs) => vs,
            _ => Vec::new(),
        };
        let mut suppressed = 0;
        for val in &all {
            let action = if !is_known(val) {
                Action::Update
            } else if added.iter().any(|a| raw_equals(a, val)) {
                Action::Create
            } else if removed.iter().any(|r| raw_equals(r, val)) {
                Action::Delete
            } else {
                Action::NoOp
            };
            if action == Action::NoOp {
                suppressed += 1;
                continue;
            }
            self.spaces(indent + 2);
            self.write_action_symbol(action);
            self.write_value(val, action, indent + 4);
            self.buf.push_str(",\n");
        }
        self.write_hidden_elements(suppressed, indent);
        self.spaces(indent);
        self.buf.push(']');
    }

    fn write_list_diff(&mut self, old: &[Value], new: &[Value], indent: usize, path: &AttrPath) {
        self.buf.push('[');
        self.write_forces_caption_if(self.path_forces_new(path));
        self.buf.push('\n');
        let diffs = sequence_diff(old, new);
        let mut suppressed: Vec<usize> = Vec::new();
        let mut change_shown = false;
        let mut i = 0;
        while i < diffs.len() {
            while i < diffs.len() && diffs[i].action == Action::NoOp {
                suppressed.push(i);
                i += 1;
            }
            if !suppressed.is_empty() {
                let mut rest: &[usize] = &suppressed;
                if change_shown {
                    let d = &diffs[rest[0]];
                    self.spaces(indent + 4);
                    self.write_value(&d.after, d.action, indent + 4);
                    self.buf.push_str(",\n");
                    rest = &rest[1..];
                }
                let mut hidden = rest.len();
                let mut next_context = None;
                if hidden > 0 && i < diffs.len() {
                    hidden -= 1;
                    next_context = Some(rest[hidden]);
                }
                self.write_hidden_elements(hidden, indent);
                if let Some(k) = next_context {
                    let d = &diffs[k];
                    self.spaces(indent + 4);
                    self.write_value(&d.after, d.action, indent + 4);
                    self.buf.push_str(",\n");
                }
                suppressed.clear();
            }
            if i >= diffs.len() {
                break;
            }
            let d = &diffs[i];
            self.spaces(indent + 2);
            self.write_action_symbol(d.action);
            match d.action {
                Action::NoOp | Action::Delete => self.write_value(&d.before, d.action, indent + 4),
                Action::Update => self.write_value_diff(&d.before, &d.after, indent + 4, path),
                _ => self.write_value(&d.after, d.action, indent + 4),
            }
            self.buf.push_str(",\n");
            change_shown = true;
            i += 1;
        }
        self.spaces(indent);
        self.buf.push(']');
    }

    fn write_map_diff(
        &mut self,
        old: &std::collections::BTreeMap<String, Value>,
        new: &std::collections::BTreeMap<String, Value>,
        indent: usize,
        path: &AttrPath,
    ) {
        self.buf.push('{');
        self.write_forces_caption_if(self.path_forces_new(path));
        self.buf.push('\n');
        let keys: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
        let key_len = keys.iter().map(|k| k.chars().count()).max().unwrap_or(0);
        let mut suppressed = 0;
        for k in keys {
            let (ov, nv) = (old.get(k), new.get(k));
            let action = match (ov, nv) {
                (None, _) => Action::Create,
                (_, None) => Action::Delete,
                (Some(o), Some(n)) if equal_value_and_marks(o, n) => Action::NoOp,
                _ => Action::Update,
            };
            if action == Action::NoOp {
                suppressed += 1;
                continue;
            }
            let p = with_step(path, PathStep::Key(k.clone()));
            let ov = ov.cloned().unwrap_or_else(null_value);
            let nv = nv.cloned().unwrap_or_else(null_value);
            self.write_sensitivity_warning(&ov, &nv, indent + 2, action, false);
            self.spaces(indent + 2);
            self.write_action_symbol(action);
            self.buf.push_str(&go_quote(k));
            self.spaces(key_len - k.chars().count());
            self.buf.push_str(" = ");
            match action {
                Action::Create | Action::NoOp => {
                    if has_mark(&nv) {
                        self.buf.push_str(SENSITIVE_CAPTION);
                    } else {
                        self.write_value(&nv, action, indent + 4);
                    }
                }
                Action::Delete => self.write_value_diff(&ov, &null_value(), indent + 4, &p),
                _ => {
                    if has_mark(&ov) || has_mark(&nv) {
                        self.buf.push_str(SENSITIVE_CAPTION);
                    } else {
                        self.write_value_diff(&ov, &nv, indent + 4, &p);
                    }
                }
            }
            self.buf.push('\n');
        }
        self.write_hidden_elements(suppressed, indent);
        self.spaces(indent);
        self.buf.push('}');
    }

    fn write_object_diff(
        &mut self,
        old: &std::collections::BTreeMap<String, Value>,
        new: &std::collections::BTreeMap<String, Value>,
        indent: usize,
        path: &AttrPath,
    ) {
        self.buf.push_str("{\n");
        let forces_new = self.path_forces_new(path);
        let keys: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
        let key_len = keys
            .iter()
            .map(|k| display_attribute_name(k).chars().count())
            .max()
            .unwrap_or(0);
        let mut suppressed = 0;
        for k in keys {
            let (ov, nv) = (old.get(k), new.get(k));
            let action = match (ov, nv) {
                (None, _) => Action::Create,
                (_, None) => Action::Delete,
                (Some(o), Some(n)) if equal_value_and_marks(o, n) => Action::NoOp,
                _ => Action::Update,
            };
            if action == Action::NoOp && !identifying_attribute(k) {
                suppressed += 1;
                continue;
            }
            let p = with_step(path, PathStep::Attr(k.clone()));
            let ov = ov.cloned().unwrap_or_else(null_value);
            let nv = nv.cloned().unwrap_or_else(null_value);
            let display = display_attribute_name(k);
            self.spaces(indent + 2);
            self.write_action_symbol(action);
            self.buf.push_str(&display);
            self.spaces(key_len - display.chars().count());
            self.buf.push_str(" = ");
            match action {
                Action::Create | Action::NoOp => self.write_value(&nv, action, indent + 4),
                Action::Delete => self.write_value_diff(&ov, &null_value(), indent + 4, &p),
                _ => self.write_value_diff(&ov, &nv, indent + 4, &p),
            }
            self.buf.push('\n');
        }
        self.write_hidden_elements(suppressed, indent);
        self.spaces(indent);
        self.buf.push('}');
        self.write_forces_caption_if(forces_new);
    }

    fn write_sensitivity_warning(
        &mut self,
        old: &Value,
        new: &Value,
        indent: usize,
        action: Action,
        is_block: bool,
    ) {
        if action == Action::Create || action == Action::Delete {
            return;
        }
        let diff_type = if is_block { "block" } else { "attribute value" };
        let suffix = if !is_block
            && old
                .clone()
                .deep_unmark()
                .same_as(&new.clone().deep_unmark())
        {
            " The value is unchanged."
        } else {
            ""
        };
        if has_mark(new) && !has_mark(old) {
            self.spaces(indent);
            self.paint(&format!("# [yellow]Warning:[reset] this {diff_type} will be marked as sensitive and will not\n"));
            self.spaces(indent);
            self.buf.push_str(&format!(
                "# display in UI output after applying this change.{suffix}\n"
            ));
        }
        if has_mark(old) && !has_mark(new) {
            self.spaces(indent);
            self.paint(&format!("# [yellow]Warning:[reset] this {diff_type} will no longer be marked as sensitive\n"));
            self.spaces(indent);
            self.buf
                .push_str(&format!("# after applying this change.{suffix}\n"));
        }
    }

    fn write_skipped_attr(&mut self, skipped: usize, indent: usize) {
        if skipped > 0 {
            self.buf.push('\n');
            self.spaces(indent);
            self.paint(&format!(
                "[dark_gray]# ({skipped} unchanged {} hidden)[reset]",
                plural(skipped, "attribute", "attributes")
            ));
        }
    }
}

/// A string that is a JSON document of any kind.
fn json_any(s: &str) -> Option<serde_json::Value> {
    serde_json::from_str::<serde_json::Value>(s).ok()
}

fn is_json_primitive(j: &serde_json::Value) -> bool {
    !matches!(
        j,
        serde_json::Value::Array(_) | serde_json::Value::Object(_)
    )
}

/// A string holding a JSON array or object, as the value `jsonencode` would have taken.
fn json_container(s: &str) -> Option<Value> {
    json_any(s)
        .filter(|j| !is_json_primitive(j))
        .map(|j| Value::from_json(&j))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::addrs::AbsResourceInstance;
    use crate::plan::OutputChange;
    use crate::providers::attr_path;

    const SECRET: &str = "hunter2-very-secret";

    fn addr(s: &str) -> AbsResourceInstance {
        s.parse().expect("test addresses are valid")
    }

    fn change(
        a: &str,
        action: Action,
        before: Option<Value>,
        after: Option<Value>,
    ) -> ResourceChange {
        ResourceChange {
            addr: addr(a),
            provider: "provider[\"registry.terraform.io/hashicorp/aws\"]".into(),
            action,
            reason: ActionReason::None,
            before,
            after,
            requires_replace: Vec::new(),
            moved_from: None,
                deposed: None,
        }
    }

    fn plan_of(changes: Vec<ResourceChange>) -> Plan {
        Plan {
            changes,
            ..Plan::default()
        }
    }

    fn plain(plan: &Plan) -> String {
        render_plan(plan, &RenderOptions { color: false })
    }

    fn s(v: &str) -> Value {
        Value::string(v)
    }

    fn instance(ami: &str, size: i64) -> Value {
        Value::object([
            ("ami", s(ami)),
            ("id", s("i-0abc")),
            ("instance_type", s("t3.micro")),
            ("size", Value::int(size)),
            ("monitoring", Value::Bool(false)),
            ("user_data", s("")),
            (
                "tags",
                Value::Map([("Name".to_string(), s("web"))].into_iter().collect()),
            ),
        ])
    }

    #[test]
    fn create() {
        let after = Value::object([
            ("ami", s("ami-123")),
            ("id", Value::Unknown(Type::String)),
            ("instance_type", s("t3.micro")),
            ("count_hint", Value::int(3)),
            ("ratio", Value::number(0.5)),
            ("enabled", Value::Bool(true)),
            ("empty", s("")),
            ("nothing", Value::Null(Type::String)),
            (
                "security_groups",
                Value::set_from(vec![s("sg-b"), s("sg-a")]),
            ),
            (
                "tags",
                Value::Map(
                    [
                        ("Name".to_string(), s("web")),
                        ("Environment".to_string(), s("prod")),
                    ]
                    .into_iter()
                    .collect(),
                ),
            ),
            ("weird name", s("x")),
        ]);
        let plan = plan_of(vec![change(
            "aws_instance.web",
            Action::Create,
            None,
            Some(after),
        )]);
        insta::assert_snapshot!(plain(&plan));
    }

    #[test]
    fn update_in_place() {
        let before = instance("ami-123", 1);
        let mut after = instance("ami-123", 2);
        if let Value::Object(m) = &mut after {
            m.insert(
                "tags".into(),
                Value::Map(
                    [
                        ("Name".to_string(), s("web")),
                        ("Team".to_string(), s("core")),
                    ]
                    .into_iter()
                    .collect(),
                ),
            );
            m.insert("monitoring".into(), Value::Null(Type::Bool));
        }
        let plan = plan_of(vec![change(
            "aws_instance.web",
            Action::Update,
            Some(before),
            Some(after),
        )]);
        let out = plain(&plan);
        assert!(out.contains("~ size          = 1 -> 2"), "{out}");
        assert!(out.contains("# (2 unchanged attributes hidden)"), "{out}");
        insta::assert_snapshot!(out);
    }

    #[test]
    fn destroy_with_reasons() {
        let mut gone = change(
            "aws_instance.old",
            Action::Delete,
            Some(instance("ami-1", 1)),
            None,
        );
        gone.reason = ActionReason::DeleteBecauseNoResourceConfig;
        let mut idx = change(
            "aws_instance.web[2]",
            Action::Delete,
            Some(Value::object([("id", s("i-2"))])),
            None,
        );
        idx.reason = ActionReason::DeleteBecauseCountIndex;
        let mut key = change(
            "aws_instance.each[\"x\"]",
            Action::Delete,
            Some(Value::object([("id", s("i-x"))])),
            None,
        );
        key.reason = ActionReason::DeleteBecauseEachKey;
        let mut module = change(
            "module.old[0].aws_instance.y",
            Action::Delete,
            Some(Value::object([("id", s("i-y"))])),
            None,
        );
        module.reason = ActionReason::DeleteBecauseNoModule;
        // Deleting a data resource is not shown or counted.
        let data = change(
            "data.aws_ami.ubuntu",
            Action::Delete,
            Some(Value::object([("id", s("ami"))])),
            None,
        );
        let plan = plan_of(vec![gone, idx, key, module, data]);
        let out = plain(&plan);
        assert!(out.contains("# (because aws_instance.old is not in configuration)"));
        assert!(out.contains("# (because index [2] is out of range for count)"));
        assert!(out.contains("# (because key [\"x\"] is not in for_each map)"));
        assert!(out.contains("# (because module.old[0] is not in configuration)"));
        assert!(!out.contains("aws_ami"));
        assert!(out.contains("Plan: 0 to add, 0 to change, 4 to destroy."));
        insta::assert_snapshot!(out);
    }

    #[test]
    fn replacement_with_forces_replacement() {
        let before = instance("ami-old", 1);
        let mut after = instance("ami-new", 1);
        if let Value::Object(m) = &mut after {
            m.insert("id".into(), Value::Unknown(Type::String));
        }
        let mut rc = change(
            "aws_instance.web",
            Action::DeleteThenCreate,
            Some(before.clone()),
            Some(after.clone()),
        );
        rc.reason = ActionReason::ReplaceBecauseCannotUpdate;
        rc.requires_replace = vec![attr_path(&["ami"])];
        let mut cbd = change(
            "aws_instance.cbd",
            Action::CreateThenDelete,
            Some(before.clone()),
            Some(after.clone()),
        );
        cbd.reason = ActionReason::ReplaceBecauseTainted;
        let mut req = change(
            "aws_instance.req",
            Action::DeleteThenCreate,
            Some(before.clone()),
            Some(after.clone()),
        );
        req.reason = ActionReason::ReplaceByRequest;
        let mut trig = change(
            "aws_instance.trig",
            Action::DeleteThenCreate,
            Some(before),
            Some(after),
        );
        trig.reason = ActionReason::ReplaceByTriggers {
            trigger: "aws_instance.web.id".into(),
        };
        let plan = plan_of(vec![rc, cbd, req, trig]);
        let out = plain(&plan);
        assert!(
            out.contains("~ ami           = \"ami-old\" -> \"ami-new\" # forces replacement"),
            "{out}"
        );
        assert!(out.contains("-/+ destroy and then create replacement"));
        assert!(out.contains("+/- create replacement and then destroy"));
        assert!(out.contains("# aws_instance.cbd is tainted, so must be replaced"));
        assert!(out.contains("Plan: 4 to add, 0 to change, 4 to destroy."));
        insta::assert_snapshot!(out);
    }

    #[test]
    fn read_during_apply_and_moved() {
        let mut read = change(
            "data.aws_ami.ubuntu",
            Action::Read,
            None,
            Some(Value::object([
                ("id", Value::Unknown(Type::String)),
                ("owners", Value::List(vec![s("099720109477")])),
            ])),
        );
        read.reason = ActionReason::ReadBecauseConfigUnknown;
        let mut moved = change(
            "aws_instance.new_name",
            Action::Update,
            Some(Value::object([("id", s("i-1")), ("size", Value::int(1))])),
            Some(Value::object([("id", s("i-1")), ("size", Value::int(2))])),
        );
        moved.moved_from = Some(addr("aws_instance.old_name"));
        let plan = plan_of(vec![read, moved]);
        let out = plain(&plan);
        assert!(out.contains(" <= read (data resources)"));
        assert!(out.contains(" <= data \"aws_ami\" \"ubuntu\" {"));
        assert!(out.contains("  # (moved from aws_instance.old_name)"));
        insta::assert_snapshot!(out);
    }

    #[test]
    fn sensitive_values_are_never_printed() {
        let secret = || s(SECRET).mark_sensitive();
        let before = Value::object([
            ("id", s("db-1")),
            ("password", secret()),
            ("old_secret", secret()),
            ("list", Value::List(vec![s("a"), secret()])),
            (
                "settings",
                Value::Map(
                    [
                        ("token".to_string(), secret()),
                        ("plain".to_string(), s("p")),
                    ]
                    .into_iter()
                    .collect(),
                ),
            ),
            ("becomes_secret", s("visible-before")),
            (
                "conn",
                Value::object([("user", s("admin")), ("pass", secret())]),
            ),
            ("multi", s(&format!("line1\n{SECRET}\n")).mark_sensitive()),
            (
                "json",
                s(&format!("{{\"k\":\"{SECRET}\"}}")).mark_sensitive(),
            ),
            (
                "block",
                Value::List(vec![Value::object([("key", secret())])]).mark_sensitive(),
            ),
        ]);
        let after = Value::object([
            ("id", s("db-1")),
            ("password", s(&format!("{SECRET}-2")).mark_sensitive()),
            (
                "list",
                Value::List(vec![s("b"), s(&format!("{SECRET}-3")).mark_sensitive()]),
            ),
            (
                "settings",
                Value::Map(
                    [
                        (
                            "token".to_string(),
                            s(&format!("{SECRET}-4")).mark_sensitive(),
                        ),
                        ("plain".to_string(), s("q")),
                    ]
                    .into_iter()
                    .collect(),
                ),
            ),
            ("becomes_secret", s("visible-before").mark_sensitive()),
            (
                "conn",
                Value::object([
                    ("user", s("root")),
                    ("pass", s(&format!("{SECRET}-5")).mark_sensitive()),
                ]),
            ),
            ("multi", s(&format!("line1\n{SECRET}-6\n")).mark_sensitive()),
            (
                "json",
                s(&format!("{{\"k\":\"{SECRET}-7\"}}")).mark_sensitive(),
            ),
            (
                "block",
                Value::List(vec![Value::object([(
                    "key",
                    s(&format!("{SECRET}-8")).mark_sensitive(),
                )])])
                .mark_sensitive(),
            ),
        ]);
        let created = Value::object([
            ("password", secret()),
            ("list", Value::List(vec![secret()])),
            ("whole", Value::object([("a", s(SECRET))]).mark_sensitive()),
        ]);
        let mut plan = plan_of(vec![
            change(
                "aws_db_instance.db",
                Action::Update,
                Some(before.clone()),
                Some(after),
            ),
            change("aws_db_instance.new", Action::Create, None, Some(created)),
            change("aws_db_instance.gone", Action::Delete, Some(before), None),
        ]);
        plan.outputs = vec![
            OutputChange {
                name: "pw".into(),
                action: Action::Create,
                before: None,
                after: Some(secret()),
                sensitive: true,
            },
            OutputChange {
                name: "leaky".into(),
                action: Action::Create,
                before: None,
                after: Some(Value::List(vec![secret()])),
                sensitive: false,
            },
        ];
        for color in [false, true] {
            let out = render_plan(&plan, &RenderOptions { color });
            assert!(!out.contains(SECRET), "secret leaked:\n{out}");
            assert!(!out.contains("hunter2"), "secret leaked:\n{out}");
        }
        let out = plain(&plan);
        assert!(out.contains("(sensitive value)"));
        insta::assert_snapshot!(out);
    }

    #[test]
    fn the_secret_check_can_fail() {
        // The leak assertion above must be able to fail: an unmarked value is printed.
        let plan = plan_of(vec![change(
            "aws_db_instance.db",
            Action::Create,
            None,
            Some(Value::object([("password", s(SECRET))])),
        )]);
        assert!(plain(&plan).contains(SECRET));
    }

    #[test]
    fn unknowns() {
        let before = Value::object([
            ("id", s("vpc-1")),
            ("cidr", s("10.0.0.0/16")),
            ("arn", s("arn:1")),
            ("ids", Value::List(vec![s("a"), s("b")])),
        ]);
        let after = Value::object([
            ("id", s("vpc-1")),
            ("cidr", s("10.1.0.0/16")),
            ("arn", Value::Unknown(Type::String)),
            (
                "ids",
                Value::List(vec![s("a"), Value::Unknown(Type::String)]),
            ),
            ("new_list", Value::Unknown(Type::list(Type::String))),
        ]);
        let plan = plan_of(vec![change(
            "aws_vpc.main",
            Action::Update,
            Some(before),
            Some(after),
        )]);
        let out = plain(&plan);
        assert!(
            out.contains("~ arn      = \"arn:1\" -> (known after apply)"),
            "{out}"
        );
        insta::assert_snapshot!(out);
    }

    #[test]
    fn nested_blocks() {
        let disk = |size: i64, name: &str| {
            Value::object([
                ("device_name", s(name)),
                ("volume_size", Value::int(size)),
                ("encrypted", Value::Bool(true)),
            ])
        };
        let create = Value::object([
            ("ami", s("ami-1")),
            (
                "ebs_block_device",
                Value::List(vec![disk(10, "/dev/sdb"), disk(20, "/dev/sdc")]),
            ),
            ("root_block_device", Value::List(vec![disk(8, "/dev/sda1")])),
            (
                "ingress",
                Value::set_from(vec![Value::object([("port", Value::int(443))])]),
            ),
        ]);
        let before = Value::object([
            ("id", s("i-1")),
            ("ami", s("ami-1")),
            (
                "ebs_block_device",
                Value::List(vec![disk(10, "/dev/sdb"), disk(20, "/dev/sdc")]),
            ),
            ("root_block_device", Value::List(vec![disk(8, "/dev/sda1")])),
            (
                "ingress",
                Value::set_from(vec![
                    Value::object([("port", Value::int(80))]),
                    Value::object([("port", Value::int(22))]),
                ]),
            ),
        ]);
        let after = Value::object([
            ("id", s("i-1")),
            ("ami", s("ami-1")),
            (
                "ebs_block_device",
                Value::List(vec![
                    disk(10, "/dev/sdb"),
                    disk(30, "/dev/sdc"),
                    disk(5, "/dev/sdd"),
                ]),
            ),
            ("root_block_device", Value::List(vec![disk(8, "/dev/sda1")])),
            (
                "ingress",
                Value::set_from(vec![
                    Value::object([("port", Value::int(443))]),
                    Value::object([("port", Value::int(22))]),
                ]),
            ),
        ]);
        let plan = plan_of(vec![
            change("aws_instance.a", Action::Create, None, Some(create)),
            change("aws_instance.b", Action::Update, Some(before), Some(after)),
        ]);
        let out = plain(&plan);
        assert!(out.contains("      + ebs_block_device {"), "{out}");
        assert!(out.contains("      ~ ebs_block_device {"), "{out}");
        assert!(out.contains("# (3 unchanged blocks hidden)"), "{out}");
        insta::assert_snapshot!(out);
    }

    #[test]
    fn collections_strings_and_json() {
        let before = Value::object([
            ("id", s("x")),
            ("list", Value::List((1..=8).map(Value::int).collect())),
            ("set", Value::set_from(vec![s("a"), s("b"), s("c")])),
            ("script", s("#!/bin/sh\necho one\necho two\n")),
            (
                "policy",
                s("{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\"}]}"),
            ),
            ("same_json", s("{\"a\": 1}")),
            (
                "obj",
                Value::object([("a", Value::int(1)), ("b", Value::int(2)), ("name", s("n"))]),
            ),
            (
                "tags",
                Value::Map(
                    [("A".to_string(), s("1")), ("B".to_string(), s("2"))]
                        .into_iter()
                        .collect(),
                ),
            ),
            ("quoted", s("say \"hi\"\t")),
        ]);
        let after = Value::object([
            ("id", s("x")),
            (
                "list",
                Value::List(
                    vec![1, 2, 3, 40, 5, 6, 7, 8]
                        .into_iter()
                        .map(Value::int)
                        .collect(),
                ),
            ),
            ("set", Value::set_from(vec![s("a"), s("c"), s("d")])),
            ("script", s("#!/bin/sh\necho one\necho three\n")),
            (
                "policy",
                s("{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Deny\"}]}"),
            ),
            ("same_json", s("{\"a\":1}")),
            (
                "obj",
                Value::object([("a", Value::int(1)), ("b", Value::int(3)), ("name", s("n"))]),
            ),
            (
                "tags",
                Value::Map([("A".to_string(), s("1"))].into_iter().collect()),
            ),
            ("quoted", s("say \"bye\"")),
        ]);
        let created = Value::object([
            ("script", s("line one\nline two\n")),
            ("policy", s("{\"b\":[1,2],\"a\":{}}")),
            ("empty_list", Value::List(vec![])),
            (
                "obj",
                Value::object([
                    ("long_name", Value::int(1)),
                    ("b", Value::Null(Type::String)),
                ]),
            ),
        ]);
        let plan = plan_of(vec![
            change("aws_thing.a", Action::Update, Some(before), Some(after)),
            change("aws_thing.b", Action::Create, None, Some(created)),
        ]);
        insta::assert_snapshot!(plain(&plan));
    }

    #[test]
    fn outputs_only() {
        let plan = Plan {
            outputs: vec![
                OutputChange {
                    name: "ip".into(),
                    action: Action::Create,
                    before: None,
                    after: Some(Value::Unknown(Type::String)),
                    sensitive: false,
                },
                OutputChange {
                    name: "name".into(),
                    action: Action::Update,
                    before: Some(s("a")),
                    after: Some(s("b")),
                    sensitive: false,
                },
                OutputChange {
                    name: "old".into(),
                    action: Action::Delete,
                    before: Some(s("gone")),
                    after: None,
                    sensitive: false,
                },
                OutputChange {
                    name: "password".into(),
                    action: Action::Update,
                    before: Some(s("x")),
                    after: Some(s("y")),
                    sensitive: true,
                },
                OutputChange {
                    name: "same".into(),
                    action: Action::NoOp,
                    before: Some(s("z")),
                    after: Some(s("z")),
                    sensitive: false,
                },
                OutputChange {
                    name: "list".into(),
                    action: Action::Create,
                    before: None,
                    after: Some(Value::List(vec![s("a"), s("b")])),
                    sensitive: false,
                },
            ],
            ..Plan::default()
        };
        let out = plain(&plan);
        assert!(!out.contains("same"));
        insta::assert_snapshot!(out);
    }

    #[test]
    fn resources_and_outputs() {
        let mut plan = plan_of(vec![change(
            "aws_eip.ip",
            Action::Create,
            None,
            Some(Value::object([("public_ip", Value::Unknown(Type::String))])),
        )]);
        plan.outputs = vec![OutputChange {
            name: "ip".into(),
            action: Action::Create,
            before: None,
            after: Some(Value::Unknown(Type::String)),
            sensitive: false,
        }];
        insta::assert_snapshot!(plain(&plan));
    }

    #[test]
    fn no_changes() {
        let mut plan = plan_of(vec![change(
            "aws_instance.web",
            Action::NoOp,
            Some(instance("a", 1)),
            Some(instance("a", 1)),
        )]);
        plan.outputs = vec![OutputChange {
            name: "x".into(),
            action: Action::NoOp,
            before: Some(s("a")),
            after: Some(s("a")),
            sensitive: false,
        }];
        assert!(plan.is_empty());
        let out = plain(&plan);
        assert!(out.contains("No changes. Your infrastructure matches the configuration."));
        insta::assert_snapshot!(out);
        plan.destroy = true;
        insta::assert_snapshot!("no_changes_destroy", plain(&plan));
    }

    #[test]
    fn drift() {
        let before = instance("ami-1", 1);
        let mut after = instance("ami-1", 1);
        if let Value::Object(m) = &mut after {
            m.insert(
                "tags".into(),
                Value::Map(
                    [
                        ("Name".to_string(), s("web")),
                        ("Owner".to_string(), s("someone")),
                    ]
                    .into_iter()
                    .collect(),
                ),
            );
        }
        let mut plan = plan_of(vec![change(
            "aws_instance.web",
            Action::Update,
            Some(after.clone()),
            Some(before.clone()),
        )]);
        plan.drift = vec![
            change(
                "aws_instance.web",
                Action::Update,
                Some(before.clone()),
                Some(after),
            ),
            change(
                "aws_instance.gone",
                Action::Delete,
                Some(Value::object([("id", s("i-9"))])),
                None,
            ),
        ];
        let out = plain(&plan);
        assert!(out.contains("Note: Objects have changed outside of terrane"));
        assert!(out.contains("# aws_instance.web has been changed"));
        assert!(out.contains("# aws_instance.gone has been deleted"));
        insta::assert_snapshot!(out);
        let only = render_drift(&plan);
        assert!(only.starts_with("\nNote: Objects have changed outside of terrane\n\n"));
        assert!(render_drift(&Plan::default()).is_empty());
        // Drift with nothing to do.
        let quiet = Plan {
            drift: plan.drift.clone(),
            ..Plan::default()
        };
        insta::assert_snapshot!("drift_no_changes", plain(&quiet));
    }

    #[test]
    fn colour_only_when_asked() {
        let plan = plan_of(vec![
            change(
                "aws_instance.a",
                Action::Create,
                None,
                Some(Value::object([("x", Value::int(1))])),
            ),
            change(
                "aws_instance.b",
                Action::Delete,
                Some(Value::object([("x", Value::int(1))])),
                None,
            ),
            change(
                "aws_instance.c",
                Action::Update,
                Some(Value::object([("x", Value::int(1))])),
                Some(Value::object([("x", Value::int(2))])),
            ),
            change(
                "data.x_y.z",
                Action::Read,
                None,
                Some(Value::object([("x", Value::int(1))])),
            ),
        ]);
        let plain_out = plain(&plan);
        assert!(!plain_out.contains('\x1b'));
        let coloured = render_plan(&plan, &RenderOptions { color: true });
        assert!(coloured.contains("\x1b[32m+\x1b[0m"));
        assert!(coloured.contains("\x1b[31m-\x1b[0m"));
        assert!(coloured.contains("\x1b[33m~\x1b[0m"));
        assert!(coloured.contains("\x1b[36m<=\x1b[0m"));
        assert!(!render_drift(&plan).contains('\x1b'));
    }

    #[test]
    fn summary_line() {
        let plan = plan_of(vec![
            change(
                "a_b.c",
                Action::Create,
                None,
                Some(Value::object([("x", Value::int(1))])),
            ),
            change(
                "a_b.d",
                Action::Update,
                Some(Value::object([("x", Value::int(1))])),
                Some(Value::object([("x", Value::int(2))])),
            ),
            change(
                "a_b.e",
                Action::Update,
                Some(Value::object([("x", Value::int(1))])),
                Some(Value::object([("x", Value::int(2))])),
            ),
            change("a_b.f", Action::NoOp, None, None),
        ]);
        assert_eq!(
            render_summary_line(&plan),
            "Plan: 1 to add, 2 to change, 0 to destroy."
        );
    }

    #[test]
    fn values_for_output_and_console() {
        let v = Value::object([
            ("list", Value::List(vec![s("a"), Value::int(2)])),
            ("set", Value::set_from(vec![Value::Bool(true)])),
            ("tuple", Value::Tuple(vec![])),
            (
                "map",
                Value::Map([("k".to_string(), s("v"))].into_iter().collect()),
            ),
            ("secret", s(SECRET).mark_sensitive()),
            ("unknown", Value::unknown()),
            ("null_str", Value::Null(Type::String)),
            ("null_list", Value::Null(Type::list(Type::Number))),
            ("null", Value::null()),
            ("text", s("a\nEOT\nb")),
        ]);
        let out = render_value(&v, 0);
        assert!(!out.contains(SECRET));
        insta::assert_snapshot!(out);
        assert_eq!(render_value(&s("x\"y"), 0), "\"x\\\"y\"");
        assert_eq!(render_value(&Value::number(1.5), 0), "1.5");
        assert_eq!(render_value(&s("a\nb"), 0), "<<EOT\na\nb\nEOT");
    }

    #[test]
    fn odd_inputs_do_not_panic() {
        let weird = vec![
            change(
                "a_b.c",
                Action::Update,
                Some(s("not an object")),
                Some(Value::int(3)),
            ),
            change("a_b.d", Action::Update, None, None),
            change("a_b.e", Action::Create, None, Some(Value::unknown())),
            change(
                "a_b.f",
                Action::Update,
                Some(Value::object([(
                    "x",
                    Value::List(vec![Value::object([("a", Value::int(1))])]),
                )])),
                Some(Value::object([("x", Value::unknown())])),
            ),
            change(
                "a_b.g",
                Action::Update,
                Some(Value::object([(
                    "x",
                    Value::set_from(vec![Value::object([("a", Value::int(1))])]),
                )])),
                Some(Value::object([(
                    "x",
                    Value::Set(vec![Value::unknown(), Value::unknown()]),
                )])),
            ),
            change(
                "a_b.h",
                Action::DeleteThenCreate,
                Some(Value::object([("x", s("{\"a\":"))])),
                Some(Value::object([("x", s("[1,2]"))])),
            ),
            change(
                "a_b.i",
                Action::Update,
                Some(Value::object([("x", Value::List(vec![]))])),
                Some(Value::object([(
                    "x",
                    Value::Tuple(vec![Value::unknown().mark_sensitive()]),
                )])),
            ),
        ];
        let mut plan = plan_of(weird);
        plan.changes[5].requires_replace = vec![vec![], vec![PathStep::Index(-1)]];
        for color in [false, true] {
            let _ = render_plan(&plan, &RenderOptions { color });
        }
        let _ = render_value(
            &Value::Sensitive(Box::new(Value::Sensitive(Box::new(s(SECRET))))),
            3,
        );
        // A long list diff falls back gracefully.
        let big_old = Value::object([("x", Value::List((0..3000).map(Value::int).collect()))]);
        let big_new =
            Value::object([("x", Value::List((0..3000).rev().map(Value::int).collect()))]);
        let out = plain(&plan_of(vec![change(
            "a_b.big",
            Action::Update,
            Some(big_old),
            Some(big_new),
        )]));
        assert!(out.contains("Plan: 0 to add, 1 to change, 0 to destroy."));
    }
}
