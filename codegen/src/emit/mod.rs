//! Backends: each turns the named IR into files. They print the IR's decisions, and decide only their own
//! language's names (each in its `names` module, beside the templates whose names they must avoid).

pub mod python;
pub mod rust;

use crate::error::Warning;
use crate::ir::Ir;

/// A target language, configured. The pipeline gives every backend asked for its own copy of the named IR,
/// which it names ([`Backend::name`]) and then prints, each on a thread of its own; a new language is a folder here with a type
/// implementing this, and a line where `lib.rs` lists the backends.
pub trait Backend: Sync {
    /// The folder of the output its files go in (`rust`).
    fn folder(&self) -> &'static str;
    /// The language's name in the run's summary (`Rust`).
    fn label(&self) -> &'static str;
    /// Decides the language's own names on `ir`, this backend's copy of the model (its `names::assign`);
    /// what could only be told apart by a number is added to `warnings`.
    fn name(&self, ir: &mut Ir, warnings: &mut Vec<Warning>);
    /// Its files, with paths relative to [`Backend::folder`], from a model [`Backend::name`] has named; the
    /// names it could only tell apart by a number are added to `warnings`.
    fn emit(&self, ir: &Ir, warnings: &mut Vec<Warning>) -> Vec<GeneratedFile>;
}

/// One file of output, relative to the output folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedFile {
    pub path: String,
    pub contents: String,
}

/// Splits a description into lines for doc comments: every line-breaking character ends a line,
/// so no description can continue past its comment.
pub fn doc_lines(doc: &str) -> Vec<String> {
    // Most descriptions are printable ASCII and newlines: those only need splitting.
    let plain = doc.bytes().all(|b| (b' '..=b'~').contains(&b) || b == b'\n' || b == b'\t');
    let mut lines = if plain { split_plain(doc) } else { split_doc(doc) };
    while lines.last().is_some_and(|l| l.trim().is_empty()) {
        lines.pop();
    }
    // Blank lines before the text would only open the comment or docstring with empty lines.
    let text_starts = lines.iter().position(|l| !l.trim().is_empty()).unwrap_or(lines.len());
    lines.drain(..text_starts);
    lines
}

/// [`split_doc`] for text of printable ASCII, tabs and newlines.
fn split_plain(doc: &str) -> Vec<String> {
    doc.split('\n').map(str::to_string).collect()
}

/// [`doc_lines`] for any text, before leading and trailing blank lines are dropped.
fn split_doc(doc: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut current = String::new();
    let mut chars = doc.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                lines.push(std::mem::take(&mut current));
            }
            '\n' | '\u{0b}' | '\u{0c}' | '\u{85}' | '\u{2028}' | '\u{2029}' => lines.push(std::mem::take(&mut current)),
            c if c.is_control() && c != '\t' => {}
            // Characters that change the visible direction of text are refused by rustc in comments and
            // can hide code from a reader; they are written as escapes.
            c if is_bidi_control(c) => current.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => current.push(c),
        }
    }
    lines.push(current);
    lines
}

/// Characters that change the visible direction of text: rustc refuses them in comments, ruff in strings,
/// and they can make code read otherwise than it runs. Generated code only ever holds them as escapes.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' | '\u{061c}')
}

/// Characters of no width that ruff refuses unescaped in Python strings.
pub fn is_invisible(c: char) -> bool {
    matches!(c, '\u{200b}'..='\u{200d}' | '\u{2060}' | '\u{feff}')
}

#[cfg(test)]
mod tests {
    use super::{doc_lines, split_doc, split_plain};

    #[test]
    fn plain_text_splits_as_any_text() {
        for doc in ["", "a", "a\n", "\n\na b\t\n c~\n\n", "x\n \n"] {
            assert_eq!(split_plain(doc), split_doc(doc), "{doc:?}");
        }
    }

    #[test]
    fn every_line_break_ends_a_line() {
        assert_eq!(doc_lines("a\r\nb\rc\u{2028}d\ne\n\n"), ["a", "b", "c", "d", "e"]);
        assert_eq!(doc_lines("x\u{0}y"), ["xy"]);
        assert_eq!(doc_lines("a\u{202e}b"), ["a\\u{202e}b"]);
        assert_eq!(doc_lines("\n \n\u{2028}a\n\nb\n"), ["a", "", "b"]);
    }
}
