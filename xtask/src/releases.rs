//! `cargo xtask check-releases`: bindings for other Codex releases than the pin, generated with no manual
//! edit and held to the pinned bindings' bar: the Rust crate passes `clippy -D warnings`, the Python
//! package passes ruff and `mypy --strict`, and its method tables hold every method of the bundle with a
//! result type pydantic can build.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result};
use codegen::load::BUNDLE_FILE;

use crate::util::repo_root;
use crate::{python, update_schema};

/// The releases checked by default: an older stable one and the pin with its experimental methods.
const DEFAULT: &[(Option<&str>, bool)] = &[(Some("0.160.0"), false), (None, true)];

/// Lists the bundle's methods (a plain JSON scan) and checks the package's tables against them.
const CHECK_TABLES: &str = r#"
import json, sys
from pydantic import TypeAdapter
import codex_app_server_types.rpc as rpc

bundle = json.load(open(sys.argv[1]))["definitions"]
def methods(union):
    return [v["properties"]["method"]["enum"][0] for v in bundle.get(union, {}).get("oneOf", [])]
tables = {
    "ClientRequest": rpc.CLIENT_REQUESTS, "ClientNotification": rpc.CLIENT_NOTIFICATIONS,
    "ServerRequest": rpc.SERVER_REQUESTS, "ServerNotification": rpc.SERVER_NOTIFICATIONS,
}
for union, table in tables.items():
    assert list(table) == methods(union), f"{union}: the table differs from the bundle"
for spec in [*rpc.CLIENT_REQUESTS.values(), *rpc.SERVER_REQUESTS.values()]:
    TypeAdapter(spec.response)
print(", ".join(f"{len(t)} {u}" for u, t in tables.items()))
"#;

pub fn run() -> Result<()> {
    let root = repo_root();
    let scratch = tempfile::tempdir().context("cannot make a scratch folder")?;
    let bin = python::venv()?;
    python::run(
        Command::new(env!("CARGO")).args(["build", "--quiet", "-p", "codegen", "--bin", "codegen"]).current_dir(&root),
        "build codegen",
    )?;
    for (version, experimental) in DEFAULT {
        let label = format!("{}{}", version.unwrap_or("pinned"), if *experimental { " --experimental" } else { "" });
        eprintln!("==> release {label}: generate, clippy -D warnings, ruff, mypy --strict, method tables");
        let dir = scratch.path().join(label.replace(' ', ""));
        let schema = dir.join("schema");
        update_schema::run(&update_schema::Args {
            codex_version: version.map(str::to_string),
            experimental: Some(*experimental),
            out: Some(schema.clone()),
        })?;
        let out = dir.join("out");
        python::run(
            Command::new(root.join("target/debug/codegen"))
                .arg("generate")
                .arg("--schema")
                .arg(&schema)
                .arg("--out")
                .arg(&out),
            &format!("generate bindings for {label}"),
        )?;
        // One target folder for every release, kept between runs: only the generated crate is rebuilt.
        python::run(
            Command::new(env!("CARGO"))
                .args(["clippy", "--quiet", "--all-features", "--manifest-path"])
                .arg(out.join("rust/Cargo.toml"))
                .args(["--", "-D", "warnings"])
                .env("CARGO_TARGET_DIR", root.join("target/releases")),
            &format!("pass clippy for {label}"),
        )?;
        python::check_package(&bin, &out.join("python"), "codex_app_server_types")?;
        check_tables(&bin, &out.join("python"), &schema.join(BUNDLE_FILE))?;
        // The pinned release's recorded traffic: an older release's bindings may meet unknown variants
        // there, but must read every message and write it back unchanged.
        let lenient = version.is_some();
        eprintln!(
            "==> release {label}: replay the pinned release's recorded traffic{}",
            if lenient { " (unknown variants allowed)" } else { "" }
        );
        replay_python(&bin, &out.join("python"), lenient)?;
        replay_rust(&dir, &out.join("rust"), &schema.join(BUNDLE_FILE), lenient)?;
    }
    Ok(())
}

fn recordings() -> Result<Vec<PathBuf>> {
    let dir = repo_root().join("tests/fixtures/wire");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .with_context(|| format!("cannot list {}", dir.display()))?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    files.retain(|p| p.extension().is_some_and(|e| e == "jsonl"));
    files.sort();
    Ok(files)
}

/// `tests/python/wire_check.py` over the recordings, with this release's package.
fn replay_python(bin: &Path, package_dir: &Path, lenient: bool) -> Result<()> {
    let mut command = Command::new(bin.join("python"));
    command
        .arg(repo_root().join("tests/python/wire_check.py"))
        .args(recordings()?)
        .env("PYTHONPATH", package_dir)
        .env("PYTHONDONTWRITEBYTECODE", "1");
    if lenient {
        command.arg("--lenient");
    }
    python::run(&mut command, "read the recorded traffic with the Python package")
}

/// `binding_tests::conformance` (`tests/src/conformance.rs`) compiled against this release's crate, over the
/// recordings: a scratch crate includes the module by path and depends on the generated crate.
fn replay_rust(dir: &Path, crate_dir: &Path, bundle: &Path, lenient: bool) -> Result<()> {
    let root = repo_root();
    let replay = dir.join("replay");
    std::fs::create_dir_all(replay.join("src"))?;
    let manifest = format!(
        "[package]\nname = \"replay\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n[dependencies]\n\
         codex-app-server-types = {{ path = {} }}\nserde = {{ version = \"1\", features = [\"derive\"] }}\nserde_json = \"1\"\n\n[workspace]\n",
        toml_string(crate_dir)
    );
    std::fs::write(replay.join("Cargo.toml"), manifest)?;
    let main = format!(
        "#[allow(dead_code)]\n#[path = {}]\nmod conformance;\n\n{REPLAY_MAIN}",
        toml_string(&root.join("tests/src/conformance.rs"))
    );
    std::fs::write(replay.join("src/main.rs"), main)?;
    let mut command = Command::new(env!("CARGO"));
    command
        .args(["run", "--quiet", "--manifest-path"])
        .arg(replay.join("Cargo.toml"))
        .arg("--")
        .arg(bundle)
        .args(recordings()?)
        .env("CARGO_TARGET_DIR", root.join("target/releases"));
    if lenient {
        command.arg("--lenient");
    }
    python::run(&mut command, "read the recorded traffic with the Rust crate")
}

/// A path as a TOML (and Rust) string literal.
fn toml_string(path: &Path) -> String {
    serde_json::to_string(&path.display().to_string()).expect("a string serialises")
}

/// The scratch crate's `main`: `replay BUNDLE TRANSCRIPT... [--lenient]`.
const REPLAY_MAIN: &str = r#"fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let strict = !args.iter().any(|a| a == "--lenient");
    let mut paths = args.iter().filter(|a| *a != "--lenient");
    let bundle = paths.next().expect("the bundle");
    let schema = serde_json::from_str(&std::fs::read_to_string(bundle).expect("the bundle")).expect("JSON");
    let defaults = conformance::schema_defaults(&schema);
    let mut failed = false;
    for path in paths {
        let entries = conformance::read_transcript(std::path::Path::new(path)).expect("a transcript");
        let report = conformance::check(&entries, strict, &defaults);
        println!("{path}: {} of {} messages read and written back", report.total(), entries.len());
        for failure in &report.failures {
            println!("  FAILED {failure}");
        }
        failed |= !report.failures.is_empty() || report.total() != entries.len();
    }
    std::process::exit(i32::from(failed));
}
"#;

fn check_tables(bin: &Path, package_dir: &Path, bundle: &Path) -> Result<()> {
    python::run(
        Command::new(bin.join("python"))
            .args(["-c", CHECK_TABLES])
            .arg(bundle)
            .env("PYTHONPATH", package_dir)
            .env("PYTHONDONTWRITEBYTECODE", "1"),
        "hold every method of the bundle in the method tables",
    )
}
