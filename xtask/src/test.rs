//! `cargo xtask test`: everything CI runs, in one command: the drift check, clippy, the Rust tests, the
//! schema diff of a real release pair, then the generated Python package (ruff, mypy --strict) and the
//! Python tests in a virtualenv it sets up, and the conformance suite against the real app-server.

use std::process::Command;

use anyhow::{bail, Result};

use crate::util::repo_root;
use crate::{conformance, generate, python, release_diff, releases};

pub fn run() -> Result<()> {
    let root = repo_root();
    // The generated crate keeps prettyplease's layout; every hand-written package follows rustfmt.toml.
    let steps = [
        ("format", "fmt --package codegen --package xtask --package binding-tests --check"),
        ("drift check", "run --quiet --package xtask -- generate-types --check"),
        ("clippy (workspace, generated crate included)", "clippy --workspace --all-targets --quiet -- -D warnings"),
        ("tests", "test --workspace"),
    ];
    let mut as_generated = None;
    for (what, args) in steps {
        eprintln!("==> {what}: cargo {args}");
        let status = Command::new(env!("CARGO")).args(args.split_whitespace()).current_dir(&root).status()?;
        if !status.success() {
            bail!("{what} failed");
        }
        if what == "drift check" {
            as_generated = Some(generate::fingerprint(&generate::generated_dir()));
        }
    }

    eprintln!(
        "==> schema diff: codegen diff of release {} and the pinned one, against their bundles",
        release_diff::OLD_RELEASE
    );
    release_diff::run()?;
    releases::run()?;

    let bin = python::venv()?;
    eprintln!("==> generated Python package: ruff check, ruff format --check, mypy --strict");
    python::check_package(&bin, &root.join("generated/python"), "codex_app_server_types")?;

    eprintln!("==> Python tests: pytest tests/python");
    python::run(
        Command::new(env!("CARGO"))
            .args(["build", "--quiet", "-p", "binding-tests", "--bin", "wire", "-p", "codegen", "--bin", "codegen"])
            .current_dir(&root),
        "build the Rust side of the cross-language tests",
    )?;
    python::run(
        Command::new(bin.join("python"))
            .args(["-m", "pytest", "-q", "tests/python"])
            .env("PYTHONPATH", root.join("generated/python"))
            .env("WIRE_BIN", root.join("target/debug/wire"))
            .env("CODEGEN_BIN", root.join("target/debug/codegen"))
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .current_dir(&root),
        "pass the Python tests",
    )?;
    conformance::run(&conformance::Args::default())?;
    // Nothing above may add or change a file in generated/ that git does not ignore (a build folder, say).
    let now = generate::fingerprint(&generate::generated_dir());
    let before = as_generated.expect("the drift check ran");
    let changed: std::collections::BTreeSet<&String> =
        before.keys().chain(now.keys()).filter(|f| before.get(*f) != now.get(*f)).collect();
    if !changed.is_empty() {
        bail!("the steps above changed generated/: {changed:?}");
    }
    Ok(())
}
