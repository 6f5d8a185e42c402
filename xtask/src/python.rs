//! The Python tool chain the tests use: a virtualenv under `target/`, with the pinned requirements of
//! `tests/python/requirements.txt`, made on first use and remade when the requirements change.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::util::repo_root;

/// The virtualenv's `bin` folder, set up.
pub fn venv() -> Result<PathBuf> {
    let root = repo_root();
    let requirements = root.join("tests/python/requirements.txt");
    let wanted = std::fs::read_to_string(&requirements).context("cannot read tests/python/requirements.txt")?;
    let dir = root.join("target/python-venv");
    let bin = dir.join("bin");
    let stamp = dir.join("requirements.installed");
    if std::fs::read_to_string(&stamp).ok().as_deref() == Some(wanted.as_str()) && bin.join("python").exists() {
        return Ok(bin);
    }
    eprintln!("==> setting up {} (first run, or the requirements changed)", dir.display());
    if dir.exists() {
        std::fs::remove_dir_all(&dir)?;
    }
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
    run(Command::new(&python).args(["-m", "venv"]).arg(&dir), "create the virtualenv")?;
    run(
        Command::new(bin.join("python"))
            .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r"])
            .arg(&requirements),
        "install tests/python/requirements.txt",
    )?;
    std::fs::write(&stamp, wanted)?;
    Ok(bin)
}

pub fn run(command: &mut Command, what: &str) -> Result<()> {
    let status = command.status().with_context(|| format!("cannot start the command to {what}"))?;
    if !status.success() {
        bail!("could not {what} ({status})");
    }
    Ok(())
}

/// Lints, type-checks and tests the generated package at `package_dir` (a folder holding `pyproject.toml`).
pub fn check_package(bin: &Path, package_dir: &Path, package: &str) -> Result<()> {
    run(
        Command::new(bin.join("ruff")).args(["check", "--quiet", "--no-cache"]).current_dir(package_dir),
        "pass ruff check",
    )?;
    run(
        Command::new(bin.join("ruff")).args(["format", "--check", "--quiet", "--no-cache"]).current_dir(package_dir),
        "keep the generated code as ruff formats it",
    )?;
    run(
        Command::new(bin.join("mypy")).args(["--strict", "--cache-dir", "/dev/null", package]).current_dir(package_dir),
        "pass mypy --strict",
    )?;
    Ok(())
}
