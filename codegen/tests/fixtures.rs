//! The fixture corpus: small hand-written schemas in `tests/fixtures/schemas/`, one per construct.
//!
//! - Every generated Rust file of every fixture is an insta snapshot (`codegen/tests/snapshots/`), named
//!   `fixtures__<fixture>__<file>`, plus one `__summary` snapshot of the summary and warnings. `wire.rs` and
//!   `Cargo.toml` are the same for every fixture (up to the crate name), so they are snapshotted once.
//! - `fixture_crates_pass_clippy` writes every fixture's crate into one temporary cargo workspace and runs
//!   `cargo clippy -- -D warnings` on it, so every snapshot is also known to compile. Lints the generator is
//!   known to trip are listed in `KNOWN_LINTS`.
//! - Schemas nested 64 levels deep (built by `common::nested_schema`, in every way of nesting) are
//!   compiled in the same workspace.
//! - The schemas in `tests/fixtures/errors/` must fail with the file and the exact JSON pointer, and the
//!   `codegen` binary must leave a pre-existing `--out` folder byte for byte as it was.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use codegen::{Options, Output};

mod common;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("codegen/ is inside the workspace").to_path_buf()
}

fn fixture_dir(kind: &str) -> PathBuf {
    repo_root().join("tests/fixtures").join(kind)
}

/// The `.json` files of a fixture folder, by name.
fn fixture_files(kind: &str) -> Vec<PathBuf> {
    let dir = fixture_dir(kind);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
}

fn stem(path: &Path) -> String {
    path.file_stem().expect("a file name").to_string_lossy().into_owned()
}

/// Generates a fixture. Only the file name goes into the output, so snapshots do not depend on the checkout path.
fn generate(name: &str, options: &Options) -> Output {
    let path = fixture_dir("schemas").join(format!("{name}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    codegen::generate_from_text(Path::new(&format!("{name}.json")), &text, options)
        .unwrap_or_else(|e| panic!("fixture {name} does not generate: {e}"))
}

fn file<'a>(output: &'a Output, path: &str) -> &'a str {
    &output.files.iter().find(|f| f.path == path).unwrap_or_else(|| panic!("no {path} in the output")).contents
}

/// Snapshots every source file of one fixture, and its summary and warnings.
fn check_fixture(name: &str) {
    let output = generate(name, &Options::default());
    let again = generate(name, &Options::default());
    assert_eq!(output.files, again.files, "{name}: generating twice gives different output");

    let mut paths: Vec<&str> = output.files.iter().map(|f| f.path.as_str()).collect();
    paths.sort_unstable();
    let count = paths.len();
    paths.dedup();
    assert_eq!(paths.len(), count, "{name}: two generated files have the same path: {paths:?}");

    // The shared files are snapshotted once (`support_files`); here they only have to be the same,
    // below their header (which names the schema).
    let reference = generate("struct_fields", &Options::default());
    let body = |output: &Output, path: &str, header: usize| {
        file(output, path).lines().skip(header).collect::<Vec<_>>().join("\n")
    };
    assert_eq!(
        body(&output, "rust/src/wire.rs", 3),
        body(&reference, "rust/src/wire.rs", 3),
        "{name}: wire.rs differs"
    );
    assert_eq!(
        body(&output, "rust/Cargo.toml", 2),
        body(&reference, "rust/Cargo.toml", 2),
        "{name}: Cargo.toml differs"
    );

    let schema = fixture_dir("schemas").join(format!("{name}.json"));
    let mut sources = 0;
    // The Python package in one snapshot, file by file in path order (its modules are many and small).
    let mut python: Vec<&codegen::GeneratedFile> = output
        .files
        .iter()
        .filter(|f| f.path.starts_with("python/codex_app_server_types/") && f.path.ends_with(".py"))
        .collect();
    python.sort_by(|a, b| a.path.cmp(&b.path));
    let package: String = python
        .iter()
        // `_base.py` is the same for every fixture (snapshotted by `support_files`).
        .filter(|f| f.path != "python/codex_app_server_types/_base.py")
        .map(|f| format!("======== {} ========\n{}", f.path.trim_start_matches("python/"), f.contents))
        .collect();
    insta::with_settings!({ input_file => &schema, omit_expression => true }, {
        insta::assert_snapshot!(format!("{name}__py"), package);
    });
    for f in &output.files {
        if f.path.starts_with("python/codex_app_server_types/") && f.path.ends_with(".py") {
            continue;
        }
        if f.path.starts_with("python/") {
            assert!(
                [
                    "python/pyproject.toml",
                    "python/codex_app_server_types/py.typed",
                    "python/README.md",
                    "python/LICENSE"
                ]
                .contains(&f.path.as_str()),
                "{name}: unexpected file {}",
                f.path
            );
            continue;
        }
        let Some(module) = f.path.strip_prefix("rust/src/").and_then(|p| p.strip_suffix(".rs")) else {
            assert!(
                ["rust/Cargo.toml", "rust/rustfmt.toml", "rust/README.md", "rust/LICENSE"].contains(&f.path.as_str()),
                "{name}: unexpected file"
            );
            continue;
        };
        if module == "wire" {
            continue;
        }
        sources += 1;
        insta::with_settings!({ input_file => &schema, omit_expression => true }, {
            insta::assert_snapshot!(format!("{name}__{}", module.replace('/', "_")), f.contents);
        });
    }
    assert!(sources >= 1, "{name}: no lib.rs");

    let mut report = format!("{}\n", output.summary);
    for w in &output.warnings {
        report.push_str(&format!("{w}\n"));
    }
    insta::with_settings!({ input_file => &schema, omit_expression => true }, {
        insta::assert_snapshot!(format!("{name}__summary"), report);
    });
}

macro_rules! fixtures {
    ($($name:ident),* $(,)?) => {
        const FIXTURES: &[&str] = &[$(stringify!($name)),*];

        $(
            #[test]
            fn $name() {
                check_fixture(stringify!($name));
            }
        )*
    };
}

fixtures! {
    any_schemas,
    arrays,
    case_collisions,
    defaults,
    descriptions,
    integers,
    keywords,
    maps,
    mixed_union,
    namespaces,
    nested_anyof,
    nullable,
    recursion,
    root_type,
    string_enums,
    struct_fields,
    tagged_kind,
    tagged_method,
    tagged_refs,
    tagged_type,
    titles_and_refs,
    untagged,
    descriptions_bidi,
    namespace_names,
    hostile_properties,
    hostile_definition_names,
    hostile_enum_values,
    hostile_descriptions,
    reserved_functions,
    newtype_default,
}

#[test]
fn every_fixture_file_has_a_test() {
    let on_disk: Vec<String> = fixture_files("schemas").iter().map(|p| stem(p)).collect();
    let mut listed: Vec<String> = FIXTURES.iter().map(|s| s.to_string()).collect();
    listed.sort();
    assert_eq!(on_disk, listed, "tests/fixtures/schemas/ and the `fixtures!` list differ");
}

#[test]
fn support_files() {
    let output = generate("struct_fields", &Options::default());
    insta::assert_snapshot!("wire", file(&output, "rust/src/wire.rs"));
    insta::assert_snapshot!("cargo_toml", file(&output, "rust/Cargo.toml"));
    insta::assert_snapshot!("rustfmt_toml", file(&output, "rust/rustfmt.toml"));
    insta::assert_snapshot!("python_base", file(&output, "python/codex_app_server_types/_base.py"));
    insta::assert_snapshot!("pyproject_toml", file(&output, "python/pyproject.toml"));
}

/// Lints the generated code is known to trip, each tolerated in every fixture crate until the generator is
/// fixed. The test fails once one of them no longer occurs anywhere, so that this list only shrinks.
const KNOWN_LINTS: &[(&str, &str)] = &[];

/// Every fixture's crate in one workspace, checked by clippy with warnings denied.
#[test]
fn fixture_crates_pass_clippy() {
    let started = Instant::now();
    let workspace = tempfile::Builder::new().prefix("codegen-fixtures-").tempdir().expect("a temporary folder");
    let mut members = Vec::new();
    let mut crates: Vec<(String, Output)> = Vec::new();
    for path in fixture_files("schemas") {
        let name = stem(&path);
        let options = Options { rust_crate_name: format!("fixture-{}", name.replace('_', "-")), ..Options::default() };
        crates.push((name.clone(), generate(&name, &options)));
    }
    for nesting in common::Nesting::ALL {
        let name = format!("deep_{}_64", format!("{nesting:?}").to_lowercase());
        let options = Options { rust_crate_name: format!("fixture-{}", name.replace('_', "-")), ..Options::default() };
        let schema = common::nested_schema(nesting, 64);
        let output = codegen::generate_from_text(Path::new(&format!("{name}.json")), &schema, &options)
            .unwrap_or_else(|e| panic!("{name} does not generate: {e}"));
        crates.push((name, output));
    }
    for (name, output) in crates {
        for f in &output.files {
            let Some(relative) = f.path.strip_prefix("rust/") else {
                continue;
            };
            let target = workspace.path().join(&name).join(relative);
            std::fs::create_dir_all(target.parent().expect("a parent folder")).expect("create a folder");
            std::fs::write(&target, &f.contents).expect("write a generated file");
        }
        members.push(format!("{name:?}"));
    }
    let manifest = format!("[workspace]\nresolver = \"2\"\nmembers = [{}]\n", members.join(", "));
    std::fs::write(workspace.path().join("Cargo.toml"), manifest).expect("write the workspace manifest");
    // The repository's lock file pins serde and serde_json to versions already built and downloaded.
    std::fs::copy(repo_root().join("Cargo.lock"), workspace.path().join("Cargo.lock")).expect("copy Cargo.lock");

    // A target folder that outlives the temporary workspace, so dependencies are built once. Member crates
    // keep their relative paths, so their artifacts are replaced rather than piling up.
    let target_dir = Path::new(env!("CARGO_BIN_EXE_codegen"))
        .parent()
        .and_then(Path::parent)
        .map(|t| t.join("fixture-crates"))
        .expect("the binary is in a target folder");
    let written = started.elapsed();
    let result = Command::new(env!("CARGO"))
        .args(["clippy", "--workspace", "--quiet", "--keep-going", "--message-format=json", "--", "-D", "warnings"])
        .current_dir(workspace.path())
        .env("CARGO_TARGET_DIR", &target_dir)
        .output()
        .expect("run cargo clippy");
    eprintln!(
        "{} fixture crates written in {:.2?}, clippy took {:.2?}",
        members.len(),
        written,
        started.elapsed() - written
    );

    let mut unexpected = Vec::new();
    let mut seen: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    let mut checked = Vec::new();
    for line in String::from_utf8_lossy(&result.stdout).lines() {
        let Ok(message) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        if message["reason"] == "compiler-artifact" {
            checked.extend(message["target"]["name"].as_str().map(str::to_string));
        }
        if message["reason"] != "compiler-message" {
            continue;
        }
        let diagnostic = &message["message"];
        let text = diagnostic["message"].as_str().unwrap_or_default();
        if !matches!(diagnostic["level"].as_str(), Some("error" | "warning"))
            || text.starts_with("aborting due to")
            || text.ends_with("emitted")
        {
            continue;
        }
        let crate_name = message["target"]["name"].as_str().unwrap_or("?").to_string();
        match KNOWN_LINTS.iter().find(|(lint, _)| diagnostic["code"]["code"].as_str() == Some(lint)) {
            Some((lint, _)) => seen.entry(lint).or_default().push(crate_name),
            None => unexpected.push(diagnostic["rendered"].as_str().unwrap_or(text).to_string()),
        }
    }
    // A crate that failed must have failed only for known lints.
    let failed_for_known: Vec<&String> = seen.values().flatten().collect();
    let unexplained: Vec<String> = members
        .iter()
        .map(|m| format!("fixture_{}", m.trim_matches('"')))
        .filter(|c| !checked.contains(c) && !failed_for_known.contains(&c))
        .collect();
    let keep = |workspace: tempfile::TempDir| workspace.keep().display().to_string();
    if !unexpected.is_empty() || !unexplained.is_empty() {
        panic!(
            "cargo clippy failed on the fixture crates (kept in {}); not checked: {unexplained:?}\n{}\n--- stderr\n{}",
            keep(workspace),
            unexpected.join("\n"),
            String::from_utf8_lossy(&result.stderr),
        );
    }
    for (lint, crates) in &mut seen {
        crates.sort();
        crates.dedup();
        eprintln!("known lint {lint} in: {}", crates.join(", "));
    }
    let gone: Vec<&str> = KNOWN_LINTS.iter().map(|(lint, _)| *lint).filter(|lint| !seen.contains_key(lint)).collect();
    assert!(gone.is_empty(), "no fixture crate trips {gone:?} any more: remove it from KNOWN_LINTS");
}

/// Each error fixture, with the JSON pointer its error must name and words its message must contain.
const ERRORS: &[(&str, &str, &[&str])] = &[
    ("alias_cycle", "/definitions/A", &["alias cycle", "A → B → A"]),
    ("dangling_ref", "/definitions/A/properties/b/$ref", &["#/definitions/Missing", "points to nothing"]),
    ("invalid_json", "", &["invalid JSON", "line 3"]),
    ("remote_ref", "/definitions/v2/A/properties/b/$ref", &["https://example.com/schema.json", "remote"]),
    ("wrong_keyword_type", "/definitions/A/properties/b/minLength", &["non-negative integer", "a string"]),
];

#[test]
fn errors_name_the_file_and_the_pointer() {
    let files: Vec<String> = fixture_files("errors").iter().map(|p| stem(p)).collect();
    let listed: Vec<String> = ERRORS.iter().map(|(n, _, _)| n.to_string()).collect();
    assert_eq!(files, listed, "tests/fixtures/errors/ and `ERRORS` differ");
    for (name, pointer, words) in ERRORS {
        let path = fixture_dir("errors").join(format!("{name}.json"));
        let error = match codegen::generate(&path, &Options::default()) {
            Ok(_) => panic!("{name}: generation succeeded"),
            Err(e) => e,
        };
        assert_eq!(error.location.file, path, "{name}: {error}");
        assert_eq!(error.location.pointer, *pointer, "{name}: {error}");
        let text = error.to_string();
        assert!(text.starts_with(&format!("{}#{pointer}: ", path.display())), "{name}: {text}");
        for word in *words {
            assert!(text.contains(word), "{name}: {text:?} does not mention {word:?}");
        }
    }
}

#[test]
fn cli_errors_leave_out_untouched() {
    let scratch = tempfile::tempdir().expect("a temporary folder");
    let out = scratch.path().join("out");
    std::fs::create_dir_all(out.join("rust/src")).unwrap();
    std::fs::write(out.join("rust/Cargo.toml"), "[package]\nname = \"old\"\n").unwrap();
    std::fs::write(out.join("rust/src/lib.rs"), "// the previous generation\n").unwrap();
    std::fs::write(out.join("notes.txt"), b"mine\x00\xff").unwrap();
    std::fs::create_dir_all(out.join("python/empty")).unwrap();
    let before = common::tree(&out);
    for (name, pointer, _) in ERRORS {
        let schema = fixture_dir("errors").join(format!("{name}.json"));
        let result = Command::new(env!("CARGO_BIN_EXE_codegen"))
            .arg("generate")
            .arg("--schema")
            .arg(&schema)
            .arg("--out")
            .arg(&out)
            .output()
            .expect("run codegen");
        let stderr = String::from_utf8_lossy(&result.stderr);
        // An error is exit status 1, never a panic (101) or a signal.
        assert_eq!(result.status.code(), Some(1), "{name}: codegen exited with {:?}\n{stderr}", result.status);
        assert!(stderr.contains(&format!("{}#{pointer}: ", schema.display())), "{name}: {stderr}");
        assert_eq!(common::tree(&out), before, "{name}: --out was changed");
        let beside: Vec<_> = std::fs::read_dir(scratch.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(beside, [std::ffi::OsString::from("out")], "{name}: files were left beside --out");
    }
}

/// Whether a default applies is decided once (`ir::check`), so both languages agree: a newtype field with a
/// default that fits has it in both, one whose default does not fit is optional in both.
#[test]
fn both_languages_apply_the_same_defaults() {
    let output = generate("newtype_default", &Options::default());
    let rust = file(&output, "rust/src/lib.rs");
    let python = file(&output, "python/codex_app_server_types/_models/node.py");
    for (field, rust_default, python_default) in [
        ("children", "Tree(vec![])", "Field(default_factory=lambda: Tree([]))"),
        ("forest", "Tree(vec![Tree(vec![])])", "Field(default_factory=lambda: Tree([Tree([])]))"),
        ("maybe", "Some(Tree(vec![]))", "Field(default_factory=lambda: Tree([]))"),
    ] {
        assert!(rust.contains(&format!("fn default_{field}()")), "{field}:\n{rust}");
        assert!(rust.contains(rust_default), "{field}:\n{rust}");
        assert!(python.contains(&format!("{field}: ")) && python.contains(python_default), "{field}:\n{python}");
    }
    assert!(rust.contains("pub wrong: Option<Tree>,") && !rust.contains("fn default_wrong"), "{rust}");
    assert!(python.contains("wrong: Tree | None = None"), "{python}");
    assert_eq!(output.warnings.len(), 1, "{:?}", output.warnings);
}
