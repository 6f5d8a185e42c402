//! Entry points shared by the fuzz targets (`fuzz/`) and the test that replays their corpus on the stable
//! toolchain (`codegen/tests/fuzz_corpus.rs`): any bytes in, `Ok` or `Err` out. Each function panics only
//! when the generator broke a promise, which is what a fuzzer reports as a crash:
//!
//! * nothing in the pipeline may panic, whatever the input;
//! * every Rust file generated parses (`syn::parse_file`);
//! * a schema compared with itself shows no change, and the JSON report is JSON.

use std::path::Path;

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
    let Ok(text) = std::str::from_utf8(data) else { return Outcome::NotText };
    match crate::generate_from_text(Path::new("fuzz.json"), text, &Options::default()) {
        Ok(output) => {
            for warning in &output.warnings {
                let _ = warning.to_string();
            }
            let _ = output.summary.to_string();
            for file in output.files.iter().filter(|f| f.path.ends_with(".rs")) {
                if let Err(e) = syn::parse_file(&file.contents) {
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
    let (Ok(old), Ok(new)) = (std::str::from_utf8(old), std::str::from_utf8(new)) else { return Outcome::NotText };
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
