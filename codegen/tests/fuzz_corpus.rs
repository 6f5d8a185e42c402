//! Replays the fuzz corpus (`fuzz/corpus/generate`, `fuzz/corpus/diff`: seeds from the fixtures, inputs the
//! fuzzer found interesting, and every input that once crashed the generator) through the functions the fuzz
//! targets call, on the stable toolchain: each must come back `Ok` or `Err`, with no panic.

use std::path::{Path, PathBuf};

use codegen::fuzz::Outcome;

fn corpus(target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus").join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    files
}

/// Runs every input of `target`'s corpus, naming the input before it runs so a panic says which one it was.
fn replay(target: &str, run: fn(&[u8]) -> Outcome) -> Vec<(PathBuf, Outcome)> {
    let files = corpus(target);
    assert!(!files.is_empty(), "the {target} corpus is empty");
    files
        .into_iter()
        .map(|path| {
            eprintln!("{}", path.display());
            let outcome = run(&std::fs::read(&path).unwrap());
            (path, outcome)
        })
        .collect()
}

#[test]
fn every_generate_corpus_input_generates_or_is_rejected() {
    let outcomes = replay("generate", codegen::fuzz::generate);
    // The seeds copied from the fixtures are there to generate, and the error fixtures to be rejected.
    for (path, outcome) in &outcomes {
        let name = path.file_name().unwrap().to_string_lossy();
        if name.starts_with("schemas-") {
            assert_eq!(*outcome, Outcome::Accepted, "{name}");
        } else if name.starts_with("errors-") {
            assert_eq!(*outcome, Outcome::Rejected, "{name}");
        }
    }
}

#[test]
fn every_diff_corpus_input_compares_or_is_rejected() {
    let outcomes = replay("diff", codegen::fuzz::diff);
    assert!(outcomes.iter().any(|(_, outcome)| *outcome == Outcome::Accepted));
}

#[test]
fn a_schema_compared_with_itself_shows_no_change() {
    let schema =
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/schemas/tagged_method.json"))
            .unwrap();
    assert_eq!(codegen::fuzz::diff(&schema), Outcome::Accepted);
    let mut pair = schema.clone();
    pair.push(codegen::fuzz::DIFF_SEPARATOR);
    pair.extend_from_slice(&schema);
    assert_eq!(codegen::fuzz::diff(&pair), Outcome::Accepted);
    assert_eq!(codegen::fuzz::generate(&[0xff, 0xfe]), Outcome::NotText);
}
