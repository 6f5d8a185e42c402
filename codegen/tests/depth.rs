//! Deeply nested schemas: up to [`codegen::load::MAX_DEPTH`] levels of JSON they generate (the crates of
//! schemas nested 64 levels deep are compiled with the fixture crates, in `fixtures.rs`); past it, the
//! command ends with an error naming the file and the JSON pointer, never with a stack overflow.

mod common;

use std::path::Path;
use std::process::Command;

use codegen::load::MAX_DEPTH;
use codegen::Options;
use common::{most_levels_within, nested_schema, pointer_at_level, Nesting};

/// Runs `codegen <args>` on `schema` written to a file, and returns the exit code (a signal fails the test)
/// and stderr.
fn run_codegen(dir: &Path, name: &str, schema: &str, args: &[&str]) -> (i32, String) {
    let path = dir.join(name);
    std::fs::write(&path, schema).expect("write the schema");
    let output = Command::new(env!("CARGO_BIN_EXE_codegen"))
        .args(args.iter().map(|a| a.replace("{schema}", &path.display().to_string())))
        .current_dir(dir)
        .output()
        .expect("run codegen");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let Some(code) = output.status.code() else {
        panic!("{name}: codegen {args:?} was ended by a signal ({:?})\n{stderr}", output.status)
    };
    (code, stderr)
}

#[test]
fn the_deepest_schemas_allowed_generate() {
    let dir = tempfile::tempdir().unwrap();
    for nesting in Nesting::ALL {
        let levels = most_levels_within(nesting, MAX_DEPTH);
        let name = format!("{nesting:?}-{levels}.json");
        let (code, stderr) = run_codegen(
            dir.path(),
            &name,
            &nested_schema(nesting, levels),
            &["generate", "--schema", "{schema}", "--out", "out"],
        );
        assert_eq!(code, 0, "{name}: {stderr}");
        assert!(dir.path().join("out/rust/src/lib.rs").is_file() && dir.path().join("out/python").is_dir());
        // One level more is past the limit.
        let deeper = format!("{nesting:?}-{}.json", levels + 1);
        let (code, stderr) = run_codegen(
            dir.path(),
            &deeper,
            &nested_schema(nesting, levels + 1),
            &["generate", "--schema", "{schema}", "--out", "out"],
        );
        assert_eq!(code, 1, "{deeper}: {stderr}");
        assert!(stderr.contains(&format!("nested deeper than {MAX_DEPTH} levels")), "{deeper}: {stderr}");
    }
}

#[test]
fn deeper_documents_end_in_an_error_naming_the_file_and_pointer() {
    let dir = tempfile::tempdir().unwrap();
    for levels in [5_000, 100_000] {
        for nesting in Nesting::ALL {
            let name = format!("{nesting:?}-{levels}.json");
            let schema = nested_schema(nesting, levels);
            let pointer = pointer_at_level(nesting, MAX_DEPTH + 1);
            let expected = format!(
                "error: {}#{pointer}: nested deeper than {MAX_DEPTH} levels of JSON objects and arrays",
                dir.path().join(&name).display()
            );
            for command in
                [&["generate", "--schema", "{schema}", "--out", "out"][..], &["diff", "{schema}", "{schema}"]]
            {
                let (code, stderr) = run_codegen(dir.path(), &name, &schema, command);
                let wanted = if command[0] == "diff" { 2 } else { 1 };
                assert_eq!(code, wanted, "{name} {command:?}: {stderr}");
                assert!(stderr.starts_with(&expected), "{name} {command:?}: expected {expected:?}, got {stderr:?}");
            }
            assert!(!dir.path().join("out").exists(), "{name}: --out was written");
        }
    }
}

/// Nothing recursive runs before the depth is checked: the library refuses a deep document on a test
/// thread's small stack too.
#[test]
fn the_library_refuses_deep_documents_before_recursing() {
    let schema = nested_schema(Nesting::Properties, 100_000);
    let error = codegen::generate_from_text(Path::new("deep.json"), &schema, &Options::default()).unwrap_err();
    assert_eq!(error.location.file, Path::new("deep.json"));
    assert_eq!(error.location.pointer, pointer_at_level(Nesting::Properties, MAX_DEPTH + 1));
    assert_eq!(error.location.pointer.matches('/').count(), MAX_DEPTH);
}

/// Arrays of arrays with nothing else: the scan counts `[` as it counts `{`.
#[test]
fn bare_nesting_in_any_keyword_is_caught() {
    let deep = format!(r#"{{"definitions": {{"A": {{"examples": {}{}}}}}}}"#, "[".repeat(50_000), "]".repeat(50_000));
    let error = codegen::generate_from_text(Path::new("bare.json"), &deep, &Options::default()).unwrap_err();
    assert!(error.location.pointer.starts_with("/definitions/A/examples/0/0/0"), "{error}");
    assert!(error.message.contains("nested deeper than"), "{error}");
}
