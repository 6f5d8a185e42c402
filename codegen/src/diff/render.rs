//! The two outputs of a report: text for people, JSON for tools (format documented in the README).

use serde::Serialize;
use serde_json::Value;

use super::{Change, ChangeKind, Report};

/// The version of the JSON format; raised when a field changes meaning or goes away.
pub const JSON_FORMAT: u32 = 1;

/// One line per change, methods first, then one group per definition; breaking lines start with
/// `BREAKING`. The last line counts them.
pub fn human(report: &Report, old: &str, new: &str) -> String {
    let mut out = format!("Changes from {old} to {new}\n");
    let mut group: Option<String> = None;
    for c in &report.changes {
        let heading = if c.kind.is_method() { "methods".to_string() } else { c.definition.clone() };
        if group.as_deref() != Some(heading.as_str()) {
            out.push_str(&format!("\n{heading}\n"));
            group = Some(heading);
        }
        let mark = if c.is_breaking() { "BREAKING  " } else { "compatible" };
        out.push_str(&format!("  {mark}  {}: {}{} ({})\n", c.path, c.kind.phrase(), detail(c), c.reason));
    }
    if report.changes.is_empty() {
        out.push_str("\nNo changes.\n");
    } else {
        out.push_str(&format!(
            "\n{} change(s): {} breaking, {} compatible.\n",
            report.changes.len(),
            report.breaking(),
            report.compatible()
        ));
    }
    out
}

/// The old and new values of a change, as they read best on one line.
fn detail(c: &Change) -> String {
    // Defaults are JSON values: shown as JSON so `"1"` and `1` stay apart; the rest are words.
    let show = |v: &Value| match v {
        Value::String(s) if c.kind != ChangeKind::FieldDefaultChanged => s.clone(),
        other => other.to_string(),
    };
    match (&c.old, &c.new) {
        (Some(o), Some(n)) => format!(": {} → {}", show(o), show(n)),
        (Some(o), None) if c.kind == ChangeKind::FieldDefaultChanged => format!(": {} → none", show(o)),
        (None, Some(n)) if c.kind == ChangeKind::FieldDefaultChanged => format!(": none → {}", show(n)),
        (Some(o), None) => format!(": was {}", show(o)),
        (None, Some(n)) => format!(": {}", show(n)),
        (None, None) => String::new(),
    }
}

#[derive(Serialize)]
struct JsonReport<'a> {
    format: u32,
    old: &'a str,
    new: &'a str,
    breaking: usize,
    compatible: usize,
    changes: &'a [Change],
}

/// The report as pretty-printed JSON, ending with a newline.
pub fn json(report: &Report, old: &str, new: &str) -> String {
    let doc = JsonReport {
        format: JSON_FORMAT,
        old,
        new,
        breaking: report.breaking(),
        compatible: report.compatible(),
        changes: &report.changes,
    };
    // Serialising plain strings, numbers and JSON values cannot fail.
    let mut text = serde_json::to_string_pretty(&doc).unwrap_or_default();
    text.push('\n');
    text
}
