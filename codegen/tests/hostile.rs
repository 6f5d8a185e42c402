//! The fixture corpus against hostile input, on the Rust side (the Python side is `tests/python/test_hostile.py`):
//!
//! - whatever the names in a schema, every file a run writes is inside `--out`, named with plain characters;
//! - text that tries to end a comment or a string (`*/ fn evil() {}`) is only ever inside string literals
//!   and doc attributes of the generated Rust;
//! - every definition of every fixture round-trips its schema-derived samples through the generated Rust
//!   types: wire names with any characters are read and written back exactly.

mod common;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use codegen::ir::{NameHint, TypeId};
use codegen::Options;
use proc_macro2::{TokenStream, TokenTree};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("codegen/ is inside the workspace").to_path_buf()
}

/// The fixture schemas, by name.
fn fixtures() -> BTreeMap<String, PathBuf> {
    let dir = repo_root().join("tests/fixtures/schemas");
    std::fs::read_dir(&dir)
        .expect("the fixtures")
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| (p.file_stem().expect("a name").to_string_lossy().into_owned(), p))
        .collect()
}

#[test]
fn every_file_is_written_inside_out_with_a_plain_name() {
    let scratch = tempfile::tempdir().unwrap();
    let work = scratch.path().join("work");
    std::fs::create_dir(&work).unwrap();
    for (name, schema) in fixtures() {
        let result = Command::new(env!("CARGO_BIN_EXE_codegen"))
            .arg("generate")
            .arg("--schema")
            .arg(&schema)
            .args(["--out", "out"])
            .current_dir(&work)
            .output()
            .expect("run codegen");
        assert!(result.status.success(), "{name}: {}", String::from_utf8_lossy(&result.stderr));
        // Nothing beside `out`, at any level up to the scratch folder.
        assert_eq!(std::fs::read_dir(scratch.path()).unwrap().count(), 1, "{name}: something was written beside work/");
        let beside: Vec<_> = std::fs::read_dir(&work).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(beside, ["out"], "{name}: something was written beside out/");
        let written = common::tree(&work.join("out"));
        let expected = codegen::generate(&schema, &Options::default()).unwrap().files.len();
        assert_eq!(
            written.iter().filter(|(p, _)| !p.as_os_str().to_string_lossy().ends_with('/')).count(),
            expected,
            "{name}"
        );
        for path in written.keys() {
            let text = path.to_string_lossy();
            let plain = text.split('/').filter(|c| !c.is_empty()).all(|c| {
                c != ".." && !c.starts_with('.') && c.chars().all(|ch| ch.is_ascii_alphanumeric() || "_-.".contains(ch))
            });
            assert!(plain, "{name}: wrote {text:?}");
        }
    }
}

/// Words that occur in the fixtures only inside descriptions and names written to smuggle code in.
const INJECTED: &[&str] = &["evil", "injected"];

/// Every identifier of `tokens`, and the text of every string literal, at any depth.
fn walk(tokens: TokenStream, idents: &mut Vec<String>, strings: &mut Vec<String>) {
    for tree in tokens {
        match tree {
            TokenTree::Ident(ident) => idents.push(ident.to_string()),
            TokenTree::Group(group) => walk(group.stream(), idents, strings),
            TokenTree::Literal(literal) => {
                if let Ok(text) = syn::parse_str::<syn::LitStr>(&literal.to_string()) {
                    strings.push(text.value());
                }
            }
            TokenTree::Punct(_) => {}
        }
    }
}

#[test]
fn injected_text_is_never_rust_code() {
    let mut payloads_seen = 0;
    for (name, schema) in fixtures() {
        let output = codegen::generate(&schema, &Options::default()).unwrap();
        for file in output.files.iter().filter(|f| f.path.ends_with(".rs")) {
            // The whole file is Rust, and its doc comments are attributes holding strings.
            let parsed = syn::parse_file(&file.contents).unwrap_or_else(|e| panic!("{name} {}: {e}", file.path));
            let tokens: TokenStream = file.contents.parse().expect("the file is tokens");
            let (mut idents, mut strings) = (Vec::new(), Vec::new());
            walk(tokens, &mut idents, &mut strings);
            for word in INJECTED {
                assert!(!idents.iter().any(|i| i == word), "{name} {}: `{word}` is code", file.path);
            }
            // Types and their impls have no top-level functions (the helpers of `wire.rs` and `rpc.rs` do):
            // one would have come from the schema.
            let functions: Vec<String> = parsed
                .items
                .iter()
                .filter_map(|i| if let syn::Item::Fn(f) = i { Some(f.sig.ident.to_string()) } else { None })
                .collect();
            let helpers = ["rust/src/wire.rs", "rust/src/rpc.rs"].contains(&file.path.as_str());
            assert!(functions.is_empty() || helpers, "{name} {}: top-level functions {functions:?}", file.path);
            payloads_seen += strings.iter().filter(|s| s.contains("fn evil()") || s.contains("fn injected()")).count();
        }
    }
    // The payloads are there, as text: the checks above saw them.
    assert!(payloads_seen >= 8, "only {payloads_seen} payloads found in strings");
}

/// Every fixture crate in one workspace with a program that round-trips every definition's samples (the
/// `Sampler` of `tests/src/samples.rs`, the one the pinned schema's round-trip test uses).
#[test]
fn every_definition_of_every_fixture_round_trips_in_rust() {
    let root = repo_root();
    let workspace = tempfile::Builder::new().prefix("codegen-roundtrip-").tempdir().unwrap();
    let mut members = vec!["\"roundtrip\"".to_string()];
    let mut dependencies = String::new();
    let mut table = String::new();
    let mut dropped = String::new();
    for (name, schema) in fixtures() {
        let krate = format!("fixture-{}", name.replace('_', "-"));
        let options =
            Options { rust_crate_name: krate.clone(), languages: vec![codegen::Language::Rust], ..Options::default() };
        for f in codegen::generate(&schema, &options).unwrap().files {
            let target = workspace.path().join(&name).join(f.path.strip_prefix("rust/").expect("a Rust file"));
            std::fs::create_dir_all(target.parent().unwrap()).unwrap();
            std::fs::write(target, f.contents).unwrap();
        }
        members.push(format!("{name:?}"));
        writeln!(dependencies, "{krate} = {{ path = \"../{name}\" }}").unwrap();
        let text = std::fs::read_to_string(&schema).unwrap();
        let model = codegen::model(&schema, &text).unwrap();
        // A default that is not a literal of its type is dropped, with a warning: the field is then
        // optional without one, and absent stays absent.
        for w in model.warnings.iter().filter(|w| w.message.contains("is not a literal of its type")) {
            let (definition, property) = w.location.pointer.rsplit_once("/properties/").expect("a property's default");
            writeln!(dropped, "    ({:?}, {definition:?}, {property:?}),", schema.display().to_string()).unwrap();
        }
        let ir = model.named_for(codegen::Language::Rust);
        for id in (0..ir.types.len()).map(TypeId) {
            if matches!(ir.get(id).origin.hint, NameHint::Definition(_)) {
                let path = codegen::emit::rust::names::path(&ir, id, &krate.replace('-', "_"));
                let pointer = &ir.get(id).origin.location.pointer;
                writeln!(table, "    ({:?}, {pointer:?}, trip::roundtrip::<{path}>),", schema.display().to_string())
                    .unwrap();
            }
        }
    }
    let program = workspace.path().join("roundtrip");
    std::fs::create_dir_all(program.join("src")).unwrap();
    std::fs::write(
        program.join("Cargo.toml"),
        format!("[package]\nname = \"roundtrip\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n[dependencies]\nserde = \"1\"\nserde_json = \"1\"\n{dependencies}"),
    )
    .unwrap();
    let tests_src = root.join("tests/src");
    std::fs::write(
        program.join("src/main.rs"),
        format!(
            r#"#[path = {samples:?}]
#[allow(dead_code)]
mod samples;
#[path = {trip:?}]
mod trip;

type Trip = fn(&serde_json::Value) -> Result<trip::Decoded, String>;

const DEFINITIONS: &[(&str, &str, Trip)] = &[
{table}];

/// `(schema, definition, property)` of the defaults the generator drops.
const DROPPED_DEFAULTS: &[(&str, &str, &str)] = &[
{dropped}];

fn main() {{
    let mut schemas = std::collections::HashMap::new();
    let (mut checked, mut failures) = (0, Vec::new());
    for (schema, pointer, trip) in DEFINITIONS {{
        let root = schemas.entry(*schema).or_insert_with(|| {{
            serde_json::from_str::<serde_json::Value>(&std::fs::read_to_string(schema).unwrap()).unwrap()
        }});
        for sample in samples::Sampler::new(root).samples(pointer) {{
            checked += 1;
            // A known value is one the input holds: a default filled in may be a value the schema does
            // not list.
            let known = !sample.input.to_string().contains(samples::UNKNOWN_PROPERTY) && sample.input == sample.expected;
            let mut expected = sample.expected.clone();
            for (_, _, property) in DROPPED_DEFAULTS.iter().filter(|(s, d, _)| s == schema && d == pointer) {{
                if sample.input.get(property).is_none() {{
                    expected.as_object_mut().map(|o| o.remove(*property));
                }}
            }}
            match trip(&sample.input) {{
                Err(e) => failures.push(format!("{{schema}}#{{pointer}} [{{}}]: {{e}}\n  input: {{}}", sample.label, sample.input)),
                Ok(d) if d.json != expected => failures.push(format!(
                    "{{schema}}#{{pointer}} [{{}}]: re-encoded differently\n  input: {{}}\n  expected: {{}}\n  got: {{}}",
                    sample.label, sample.input, expected, d.json
                )),
                Ok(d) if known && d.debug.contains("Unknown(") => failures.push(format!(
                    "{{schema}}#{{pointer}} [{{}}]: a known value fell back to Unknown: {{}}", sample.label, d.debug
                )),
                Ok(_) => {{}}
            }}
        }}
    }}
    println!("{{checked}} samples of {{}} definitions", DEFINITIONS.len());
    for f in &failures {{
        println!("{{f}}");
    }}
    std::process::exit(if failures.is_empty() {{ 0 }} else {{ 1 }});
}}
"#,
            samples = tests_src.join("samples.rs"),
            trip = tests_src.join("trip.rs"),
        ),
    )
    .unwrap();
    std::fs::write(
        workspace.path().join("Cargo.toml"),
        format!("[workspace]\nresolver = \"2\"\nmembers = [{}]\n", members.join(", ")),
    )
    .unwrap();
    std::fs::copy(root.join("Cargo.lock"), workspace.path().join("Cargo.lock")).unwrap();
    let target_dir = Path::new(env!("CARGO_BIN_EXE_codegen"))
        .parent()
        .and_then(Path::parent)
        .map(|t| t.join("fixture-crates"))
        .expect("the binary is in a target folder");
    let result = Command::new(env!("CARGO"))
        .args(["run", "--quiet", "--package", "roundtrip"])
        .current_dir(workspace.path())
        .env("CARGO_TARGET_DIR", &target_dir)
        .output()
        .expect("run cargo");
    let stdout = String::from_utf8_lossy(&result.stdout);
    eprintln!("{}", stdout.lines().next().unwrap_or_default());
    assert!(
        result.status.success(),
        "the fixtures' samples did not all round-trip:\n{}\n--- stderr\n{}",
        stdout.lines().take(40).collect::<Vec<_>>().join("\n"),
        String::from_utf8_lossy(&result.stderr)
    );
}
