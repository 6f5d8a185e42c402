//! Python source fragments that must be exact: string literals and docstrings that no text can end early.

use crate::emit::{doc_lines, is_bidi_control, is_invisible};

/// A Python string literal, quoted as ruff formats it: double quotes, or single quotes when the text holds
/// more double quotes than single ones. Backslashes, the quote, control characters, line and paragraph
/// separators, and invisible or direction-changing characters are escaped, so the literal is one line
/// that reads as what it holds.
pub fn string(text: &str) -> String {
    let quote = if text.matches('"').count() > text.matches('\'').count() { '\'' } else { '"' };
    let mut out = String::with_capacity(text.len() + 2);
    out.push(quote);
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}') || is_bidi_control(c) || is_invisible(c) => {
                out.push_str(&format!("\\u{:04x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// A docstring body (without the surrounding quotes), or `None` for an empty description.
/// Backslashes and every double quote are escaped, so `"""` in a description cannot end the string.
/// JSON data as a Python expression (`{"decision": "decline"}`), as ruff formats a short one.
pub fn json_value(value: &serde_json::Value) -> String {
    use serde_json::Value;
    match value {
        Value::Null => "None".into(),
        Value::Bool(b) => if *b { "True" } else { "False" }.into(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => string(s),
        Value::Array(items) => format!("[{}]", items.iter().map(json_value).collect::<Vec<_>>().join(", ")),
        Value::Object(members) => {
            let members: Vec<String> =
                members.iter().map(|(k, v)| format!("{}: {}", string(k), json_value(v))).collect();
            format!("{{{}}}", members.join(", "))
        }
    }
}

pub fn docstring(doc: &str) -> Option<String> {
    let lines = doc_lines(doc);
    if lines.iter().all(|l| l.trim().is_empty()) {
        return None;
    }
    let escaped: Vec<String> =
        lines.iter().map(|l| escape_invisible(&l.trim_end().replace('\\', "\\\\").replace('"', "\\\""))).collect();
    Some(escaped.join("\n"))
}

/// Invisible characters that ruff refuses unescaped in string literals, written as escapes
/// (`doc_lines` has escaped those that change the direction of text already).
fn escape_invisible(text: &str) -> String {
    text.chars().map(|c| if is_invisible(c) { format!("\\u{:04x}", c as u32) } else { c.to_string() }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_escaped() {
        assert_eq!(string("a\"b'\\c\nd"), r#""a\"b'\\c\nd""#);
        assert_eq!(string("\u{7}\u{0}\u{85}"), r#""\u0007\u0000\u0085""#);
        assert_eq!(string("l\u{2028}s\u{202e}z\u{200b}"), r#""l\u2028s\u202ez\u200b""#);
    }

    #[test]
    fn strings_are_quoted_as_ruff_formats_them() {
        assert_eq!(string("say \"hi\""), r#"'say "hi"'"#);
        assert_eq!(string("\"\"\""), r#"'"""'"#);
        assert_eq!(string("it's \"x\""), r#"'it\'s "x"'"#);
        assert_eq!(string("'\""), r#""'\"""#);
        assert_eq!(string("'''"), r#""'''""#);
    }

    #[test]
    fn docstrings_cannot_end_early() {
        assert_eq!(docstring("say \"\"\"hi\"\"\" \\").unwrap(), r#"say \"\"\"hi\"\"\" \\"#);
        assert_eq!(docstring("a\u{2028}b").unwrap(), "a\nb");
        assert_eq!(docstring("  \n "), None);
        assert_eq!(docstring("ends with a quote\"").unwrap(), "ends with a quote\\\"");
        assert_eq!(docstring("zero\u{200b}width").unwrap(), "zero\\u200bwidth");
    }
}
