//! Reading the Python expressions the views hold: the names one mentions, and quoting names in it.

use crate::emit::python::literals::string;

/// `text` with each whole-identifier mention of `names` quoted.
pub(in crate::emit::python) fn quote_names(text: &str, names: &[String]) -> String {
    let mut out = text.to_string();
    for name in names {
        let mut result = String::new();
        let mut rest = out.as_str();
        while let Some(at) = find_name(rest, name) {
            result.push_str(&rest[..at]);
            result.push_str(&string(name));
            rest = &rest[at + name.len()..];
        }
        result.push_str(rest);
        out = result;
    }
    out
}

/// The names a Python expression mentions, outside string literals: identifiers, and dotted names
/// (`_v2.Thread`) whole.
pub(in crate::emit::python) fn identifiers(text: &str) -> impl Iterator<Item = &str> {
    let mut names = Vec::new();
    let mut start = None;
    let mut quote = None;
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        if let Some(q) = quote {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, c) if c == q => quote = None,
                _ => {}
            }
            continue;
        }
        if c.is_ascii_alphanumeric() || c == '_' || c == '.' {
            start.get_or_insert(i);
            continue;
        }
        if let Some(s) = start.take() {
            names.push(&text[s..i]);
        }
        if c == '"' || c == '\'' {
            quote = Some(c);
        }
    }
    if let Some(s) = start {
        names.push(&text[s..]);
    }
    names.into_iter()
}

/// Where `text` first names `name` as a whole identifier.
fn find_name(text: &str, name: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut from = 0;
    while let Some(at) = text[from..].find(name) {
        let start = from + at;
        let end = start + name.len();
        let before = start.checked_sub(1).map(|b| bytes[b]);
        let after = bytes.get(end).copied();
        let ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_' || c == b'.' || c == b'"';
        if !before.is_some_and(ident) && !after.is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'"') {
            return Some(start);
        }
        from = end;
    }
    None
}
