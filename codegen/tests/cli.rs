//! The command never panics over its arguments or where its output goes (a full disk, a reader that went
//! away), and refuses names that would make bindings that do not build.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

mod common;

fn fixture(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures").join(path)
}

fn diff_args() -> Vec<PathBuf> {
    vec!["diff".into(), fixture("diff/fields/old.json"), fixture("diff/fields/new.json")]
}

fn assert_no_panic(output: &Output) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_ne!(output.status.code(), Some(101), "{stderr}");
}

#[test]
#[cfg(target_os = "linux")]
fn a_full_stdout_is_an_error_not_a_panic() {
    let full = || std::fs::File::options().write(true).open("/dev/full").expect("/dev/full");
    let diff = Command::new(env!("CARGO_BIN_EXE_codegen")).args(diff_args()).stdout(full()).output().unwrap();
    assert_no_panic(&diff);
    assert_eq!(diff.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&diff.stderr).contains("cannot write the report"));

    // The files are written before the summary, so generation still succeeds, and says what it could not print.
    let out = tempfile::tempdir().unwrap();
    let generate = Command::new(env!("CARGO_BIN_EXE_codegen"))
        .arg("generate")
        .arg("--schema")
        .arg(fixture("schemas/nullable.json"))
        .arg("--out")
        .arg(out.path())
        .stdout(full())
        .output()
        .unwrap();
    assert_no_panic(&generate);
    assert!(generate.status.success());
    assert!(out.path().join("rust/src/lib.rs").is_file());
    assert!(String::from_utf8_lossy(&generate.stderr).contains("cannot write the summary"));
}

#[test]
fn a_reader_that_stops_reading_is_not_an_error() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_codegen"))
        .args(diff_args())
        .arg("--fail-on")
        .arg("breaking")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Closed before the command has loaded the schemas, so its write meets a pipe with no reader.
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
    assert_no_panic(&output);
    // The exit status still says what was found.
    assert_eq!(output.status.code(), Some(1), "{}", String::from_utf8_lossy(&output.stderr));
}

#[test]
fn names_that_would_not_build_are_refused_before_anything_is_written() {
    let scratch = tempfile::tempdir().unwrap();
    let out = scratch.path().join("out");
    for (flag, value) in [
        ("--python-package", "../escape"),
        ("--python-package", "class"),
        ("--python-package", ""),
        ("--crate-name", "a\"b"),
        ("--crate-name", "1st"),
    ] {
        let output = Command::new(env!("CARGO_BIN_EXE_codegen"))
            .arg("generate")
            .arg("--schema")
            .arg(fixture("schemas/nullable.json"))
            .arg("--out")
            .arg(&out)
            .args([flag, value])
            .output()
            .unwrap();
        assert_no_panic(&output);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{flag} {value:?}: {stderr}");
        assert!(stderr.contains(flag), "{stderr}");
        assert!(!out.exists(), "{flag} {value:?} wrote {}", out.display());
    }
}

/// Headers name the command, the schema file, its release and digest, never a path: the same schema read
/// from two places and written to two places gives the same bytes.
#[test]
fn output_does_not_depend_on_where_the_schema_is_or_where_it_is_written() {
    let scratch = tempfile::tempdir().unwrap();
    let text = std::fs::read(fixture("schemas/tagged_method.json")).unwrap();
    let mut trees = Vec::new();
    for place in ["one", "two/deeper"] {
        let dir = scratch.path().join(place);
        std::fs::create_dir_all(&dir).unwrap();
        let schema = dir.join("schema.json");
        std::fs::write(&schema, &text).unwrap();
        let out = dir.join(format!("out-{}", place.len()));
        let output = Command::new(env!("CARGO_BIN_EXE_codegen"))
            .arg("generate")
            .arg("--schema")
            .arg(&schema)
            .arg("--out")
            .arg(&out)
            .args(["--crate-name", "same-crate", "--codex-version", "1.2.3"])
            .output()
            .unwrap();
        assert_no_panic(&output);
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        trees.push(common::tree(&out));
    }
    assert!(trees[0].len() > 10, "{:?}", trees[0].keys());
    assert_eq!(trees[0], trees[1], "generating into two folders gave different bytes");
    let lib = String::from_utf8(trees[0][Path::new("rust/src/lib.rs")].clone()).unwrap();
    let header: Vec<&str> = lib.lines().take(2).collect();
    assert!(header[0].starts_with("// Generated by `codegen generate --crate-name same-crate`."), "{header:?}");
    assert!(header[1].starts_with("// Schema: schema.json, Codex 1.2.3, sha256 "), "{header:?}");
    assert!(!lib.contains(&*scratch.path().to_string_lossy()), "a path is in the output");
}

fn generate_with(args: &[&str], out: &Path) -> Output {
    let output = Command::new(env!("CARGO_BIN_EXE_codegen"))
        .arg("generate")
        .arg("--schema")
        .arg(fixture("schemas/tagged_method.json"))
        .arg("--out")
        .arg(out)
        .args(args)
        .output()
        .unwrap();
    assert_no_panic(&output);
    output
}

fn read(out: &Path, file: &str) -> String {
    std::fs::read_to_string(out.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"))
}

#[test]
fn the_codex_release_is_the_version_of_both_packages_each_spelled_its_way() {
    let scratch = tempfile::tempdir().unwrap();
    let out = scratch.path().join("out");
    let output = generate_with(&["--codex-version", "0.116.0-alpha.1", "--python-runtime-extra"], &out);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let cargo = read(&out, "rust/Cargo.toml");
    assert!(cargo.contains("\nversion = \"0.116.0-alpha.1\"\n"), "{cargo}");
    assert!(!cargo.contains("publish"), "publishable unless asked: {cargo}");
    assert!(read(&out, "rust/src/lib.rs").contains("pub const CODEX_VERSION: &str = \"0.116.0-alpha.1\";"));
    let pyproject = read(&out, "python/pyproject.toml");
    assert!(pyproject.contains("\nversion = \"0.116.0a1\"\n"), "{pyproject}");
    assert!(pyproject.contains("\nruntime = [\"openai-codex-cli-bin==0.116.0a1\"]\n"), "{pyproject}");
    let init = read(&out, "python/codex_app_server_types/__init__.py");
    assert!(init.contains("\n__version__ = \"0.116.0a1\"\n"), "{init}");
    assert!(init.contains("\nCODEX_VERSION = \"0.116.0-alpha.1\"\n"), "{init}");
    for file in ["rust/README.md", "rust/LICENSE", "python/README.md", "python/LICENSE"] {
        assert!(!read(&out, file).is_empty(), "{file}");
    }
    assert!(read(&out, "python/README.md").contains("`codex_app_server_types.__version__` is `0.116.0a1`"));

    // Without a release: the documented default, and no runtime extra.
    let output = generate_with(&[], &out);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(read(&out, "rust/Cargo.toml").contains("\nversion = \"0.0.0\"\n"));
    assert!(read(&out, "python/codex_app_server_types/__init__.py").contains("\n__version__ = \"0.0.0\"\n"));
    assert!(!read(&out, "python/pyproject.toml").contains("runtime ="));
}

#[test]
fn package_metadata_comes_from_a_configuration_file_and_flags() {
    let scratch = tempfile::tempdir().unwrap();
    let config = scratch.path().join("package.json");
    std::fs::write(scratch.path().join("COPYING"), "Our terms.\n").unwrap();
    std::fs::write(
        &config,
        r#"{"description": "From the file", "license": "MIT", "licenseFile": "COPYING", "authors": ["Ann <ann@example.com>"],
            "keywords": ["codex", "bindings"], "repository": "https://example.com/from-file"}"#,
    )
    .unwrap();
    let out = scratch.path().join("out");
    let args =
        ["--package-config", config.to_str().unwrap(), "--repository", "https://example.com/flag", "--no-publish"];
    let output = generate_with(&args, &out);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let cargo = read(&out, "rust/Cargo.toml");
    for line in [
        "description = \"From the file\"",
        "license = \"MIT\"",
        "repository = \"https://example.com/flag\"",
        "authors = [\"Ann <ann@example.com>\"]",
        "keywords = [\"codex\", \"bindings\"]",
        "publish = false",
    ] {
        assert!(cargo.lines().any(|l| l == line), "{line} in\n{cargo}");
    }
    let pyproject = read(&out, "python/pyproject.toml");
    for line in [
        "license = \"MIT\"",
        "authors = [{ name = \"Ann\", email = \"ann@example.com\" }]",
        "Repository = \"https://example.com/flag\"",
    ] {
        assert!(pyproject.lines().any(|l| l == line), "{line} in\n{pyproject}");
    }
    assert_eq!(read(&out, "rust/LICENSE"), "Our terms.\n");
    assert_eq!(read(&out, "python/LICENSE"), "Our terms.\n");
}

#[test]
fn bad_versions_and_metadata_are_refused_and_nothing_is_written() {
    let scratch = tempfile::tempdir().unwrap();
    let out = scratch.path().join("out");
    for (args, said) in [
        (&["--codex-version", "0.116.0-alpha"][..], "is not a Codex release"),
        (&["--codex-version", "latest"][..], "expected MAJOR.MINOR.PATCH"),
        (&["--keyword", "has space"][..], "crates.io"),
        (&["--repository", "ftp://x"][..], "http(s) URL"),
        (&["--python-runtime-extra"][..], "needs --codex-version"),
        (&["--package-config", "/nonexistent/package.json"][..], "cannot read the package configuration"),
    ] {
        let output = generate_with(args, &out);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{args:?} was accepted");
        assert!(stderr.contains(said), "{args:?}: {stderr}");
        assert!(!out.exists(), "{args:?} wrote {}", out.display());
    }
}
