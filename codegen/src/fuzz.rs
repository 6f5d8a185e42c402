//! Entry points shared by the fuzz targets (`fuzz/`) and the test that replays their corpus on the stable
//! toolchain (`codegen/tests/fuzz_corpus.rs`): any bytes in, `Ok` or `Err` out. Each function panics only
//! when the generator broke a promise, which is what a fuzzer reports as a crash:
//!
//! * nothing in the pipeline may panic, whatever the input;
//! * every Rust file generated parses (`syn::parse_file`);
//! * a schema compared with itself shows no change, and the JSON report is JSON.

use std::collections::HashSet;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::Path;
use std::sync::{Mutex, PoisonError};

use crate::Options;

/// Separates the two schemas of a [`diff`] input: `OLD \0 NEW`.
pub const DIFF_SEPARATOR: u8 = 0;

/// What [`generate`] made of an input, for tests that want to know which way it went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Not UTF-8: the CLI refuses it when reading the file.
    NotText,
    /// Bindings generated, or schemas compared.
    Accepted,
    /// An error naming the file and the JSON pointer.
    Rejected,
}

/// Generates Rust and Python from `data` read as a schema file, as `codegen generate` would.
pub fn generate(data: &[u8]) -> Outcome {
    let Ok(text) = std::str::from_utf8(data) else {
        return Outcome::NotText;
    };
    match crate::generate_from_text(Path::new("fuzz.json"), text, &Options::default()) {
        Ok(output) => {
            for warning in &output.warnings {
                let _ = warning.to_string();
            }
            let _ = output.summary.to_string();
            for file in output.files.iter().filter(|f| f.path.ends_with(".rs")) {
                if let Err(e) = parses(&file.contents) {
                    panic!("{} does not parse: {e}\n{}", file.path, file.contents);
                }
            }
            Outcome::Accepted
        }
        Err(e) => {
            let _ = e.to_string();
            Outcome::Rejected
        }
    }
}

/// Compares the two schemas of `data` (`OLD \0 NEW`) as `codegen diff` would, and renders the report both
/// ways. Without a separator the schema is compared with itself, which must show no change.
pub fn diff(data: &[u8]) -> Outcome {
    let (old, new) = match data.iter().position(|&b| b == DIFF_SEPARATOR) {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, data),
    };
    let (Ok(old), Ok(new)) = (std::str::from_utf8(old), std::str::from_utf8(new)) else {
        return Outcome::NotText;
    };
    match crate::diff_texts((Path::new("old.json"), old), (Path::new("new.json"), new)) {
        Ok(report) => {
            if old == new {
                assert!(report.changes.is_empty(), "a schema compared with itself changed: {report:?}");
            }
            let _ = crate::diff::human(&report, "old.json", "new.json");
            let json = crate::diff::json(&report, "old.json", "new.json");
            if let Err(e) = serde_json::from_str::<serde_json::Value>(&json) {
                panic!("the JSON report is not JSON ({e}): {json}");
            }
            Outcome::Accepted
        }
        Err(e) => {
            let _ = e.to_string();
            Outcome::Rejected
        }
    }
}

/// `syn::parse_file`, skipped for text already parsed in this process: most inputs that generate share files
/// that do not depend on the schema but for the header (`wire.rs`), and parsing them each time would take
/// most of a fuzz run. The header's comment lines are left out of the comparison, and only them: a header
/// line that is not a comment stays in and is parsed.
fn parses(contents: &str) -> syn::Result<()> {
    static PARSED: Mutex<Option<HashSet<u64>>> = Mutex::new(None);
    let mut body = contents.trim_start();
    while body.starts_with("//") {
        body = body.split_once('\n').map_or("", |(_, rest)| rest);
    }
    let mut hasher = DefaultHasher::new();
    body.hash(&mut hasher);
    let key = hasher.finish();
    if PARSED.lock().unwrap_or_else(PoisonError::into_inner).get_or_insert_with(HashSet::new).contains(&key) {
        return Ok(());
    }
    syn::parse_file(contents)?;
    PARSED.lock().unwrap_or_else(PoisonError::into_inner).get_or_insert_with(HashSet::new).insert(key);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::parses;

    #[test]
    fn only_the_header_comment_is_left_out_of_what_was_parsed_before() {
        assert!(parses("// Schema: a.json\n\npub struct A;\n").is_ok());
        assert!(parses("// Schema: b.json\n\npub struct A;\n").is_ok());
        // A header line that escaped its comment is code, and is parsed.
        assert!(parses("// Schema: a\nb.json\n\npub struct A;\n").is_err());
        assert!(parses("pub struct A").is_err());
    }
}
