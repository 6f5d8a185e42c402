//! The nesting limit, checked on the text before anything recursive reads it.
//!
//! Parsing, reading nodes, lowering, naming and printing all recurse once per level of nesting, so a
//! document nested thousands of levels deep would overflow the stack. It is refused first, by a scan
//! that keeps its own stack of containers on the heap and names the JSON pointer where the limit was
//! passed.

use crate::error::escape_pointer_token;

/// How deeply a schema document may nest JSON objects and arrays (the root object is level 1).
///
/// A schema level costs one JSON level (`items`, `additionalProperties`) or two (`properties/x`,
/// `anyOf/0`), so this admits any schema nested 64 levels deep in any spelling, and at least 126
/// levels of schemas. The pipeline runs on a stack sized for it ([`crate::threads::STACK_SIZE`]).
pub const MAX_DEPTH: usize = 256;

/// One open container and where the scan is inside it.
enum Frame {
    /// The key of the member being read, once seen; `expecting_key` until its `:`.
    Object {
        key: String,
        expecting_key: bool,
    },
    Array {
        index: usize,
    },
}

/// The JSON pointer of the first value in `text` that opens a container deeper than `limit`, or `None`
/// when nothing is nested that deep.
///
/// Only nesting is looked at: text that is not JSON is left for the parser to report, and may give
/// `None` here or a pointer made of what was read.
pub fn too_deep(text: &str, limit: usize) -> Option<String> {
    let bytes = text.as_bytes();
    let mut stack: Vec<Frame> = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                let end = string_end(bytes, i)?;
                if let Some(Frame::Object { key, expecting_key: true }) = stack.last_mut() {
                    let literal = &text[i..=end];
                    // Keys are rare next to values; decoding them (escapes included) only when one is a key.
                    *key = serde_json::from_str(literal).unwrap_or_else(|_| literal[1..literal.len() - 1].to_string());
                }
                i = end;
            }
            b'{' | b'[' => {
                if stack.len() == limit {
                    return Some(pointer(&stack));
                }
                stack.push(if bytes[i] == b'{' {
                    Frame::Object { key: String::new(), expecting_key: true }
                } else {
                    Frame::Array { index: 0 }
                });
            }
            b'}' | b']' => {
                stack.pop();
            }
            b':' => {
                if let Some(Frame::Object { expecting_key, .. }) = stack.last_mut() {
                    *expecting_key = false;
                }
            }
            b',' => match stack.last_mut() {
                Some(Frame::Object { expecting_key, .. }) => *expecting_key = true,
                Some(Frame::Array { index }) => *index += 1,
                None => {}
            },
            _ => {}
        }
        i += 1;
    }
    None
}

/// The index of the quote closing the string that opens at `start`.
fn string_end(bytes: &[u8], start: usize) -> Option<usize> {
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return Some(i),
            _ => i += 1,
        }
    }
    None
}

/// The pointer of the value being read in the innermost container of `stack`.
fn pointer(stack: &[Frame]) -> String {
    let mut out = String::new();
    for frame in stack {
        out.push('/');
        match frame {
            Frame::Object { key, .. } => out.push_str(&escape_pointer_token(key)),
            Frame::Array { index } => out.push_str(&index.to_string()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shallow_documents_pass() {
        assert_eq!(too_deep(r#"{"a": [1, {"b": "[[[[{{{{"}]}"#, 3), None);
        assert_eq!(too_deep("[]", 1), None);
    }

    #[test]
    fn the_pointer_names_the_value_past_the_limit() {
        let text = r#"{"x": 1, "a/b": [0, "s]", {"c~": {"d": {}}}]}"#;
        assert_eq!(too_deep(text, 5), None);
        assert_eq!(too_deep(text, 4).as_deref(), Some("/a~1b/2/c~0/d"));
        assert_eq!(too_deep(text, 3).as_deref(), Some("/a~1b/2/c~0"));
        assert_eq!(too_deep(text, 2).as_deref(), Some("/a~1b/2"));
        assert_eq!(too_deep(text, 1).as_deref(), Some("/a~1b"));
        assert_eq!(too_deep(text, 0).as_deref(), Some(""));
    }

    #[test]
    fn escaped_keys_are_decoded_and_escaped_quotes_do_not_end_strings() {
        let text = r#"{"q\"\u0041\\": {"k": "\"{{{"}}"#;
        assert_eq!(too_deep(text, 1).as_deref(), Some("/q\"A\\"));
        assert_eq!(too_deep(text, 2), None);
    }

    #[test]
    fn a_hundred_thousand_levels_are_scanned_without_recursion() {
        let text = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        let at = too_deep(&text, MAX_DEPTH).expect("too deep");
        assert_eq!(at, "/0".repeat(MAX_DEPTH));
    }
}
