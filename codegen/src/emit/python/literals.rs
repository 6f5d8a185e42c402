//! Python source fragments that must be exact: string literals and docstrings that no text can end early.

use crate::emit::doc_lines;

/// A double-quoted Python string literal. JSON string syntax is a subset of Python's, and JSON escapes
/// every quote, backslash and control character.
pub fn string(text: &str) -> String {
    serde_json::to_string(text).expect("strings serialise")
}

/// A docstring body (without the surrounding quotes), or `None` for an empty description.
/// Backslashes and every double quote are escaped, so `"""` in a description cannot end the string.
pub fn docstring(doc: &str) -> Option<String> {
    let lines = doc_lines(doc);
    if lines.iter().all(|l| l.trim().is_empty()) {
        return None;
    }
    let escaped: Vec<String> = lines
        .iter()
        .map(|l| escape_invisible(&l.trim_end().replace('\\', "\\\\").replace('"', "\\\"")))
        .collect();
    Some(escaped.join("\n"))
}

/// Invisible characters that ruff refuses unescaped in string literals, written as escapes.
fn escape_invisible(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\u{200b}'..='\u{200d}' | '\u{2060}' | '\u{feff}' => format!("\\u{:04x}", c as u32),
            c => c.to_string(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_escaped() {
        assert_eq!(string("a\"b\\c\nd"), r#""a\"b\\c\nd""#);
        assert_eq!(string("\u{7}"), r#""\u0007""#);
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
