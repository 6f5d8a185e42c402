//! `cargo xtask check-releases`: bindings for other Codex releases than the pin, generated with no manual
//! edit and held to the pinned bindings' bar: the Rust crate passes `clippy -D warnings`, the Python
//! package passes ruff and `mypy --strict`, and its method tables hold every method of the bundle with a
//! result type pydantic can build.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result};

use crate::python;
use crate::update_schema::{self, repo_root};

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
            Command::new(root.join("target/debug/codegen")).arg("generate").arg("--schema").arg(&schema).arg("--out").arg(&out),
            &format!("generate bindings for {label}"),
        )?;
        // One target folder for every release, kept between runs: only the generated crate is rebuilt.
        python::run(
            Command::new(env!("CARGO"))
                .args(["clippy", "--quiet", "--manifest-path"])
                .arg(out.join("rust/Cargo.toml"))
                .args(["--", "-D", "warnings"])
                .env("CARGO_TARGET_DIR", root.join("target/releases")),
            &format!("pass clippy for {label}"),
        )?;
        python::check_package(&bin, &out.join("python"), "codex_app_server_types")?;
        check_tables(&bin, &out.join("python"), &schema.join(update_schema::BUNDLE_FILE))?;
    }
    Ok(())
}

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
