//! The Python tool chain the tests use: a virtualenv under `target/`, with the pinned requirements of
//! `tests/python/requirements.txt`, made on first use and remade when the requirements change.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::util::repo_root;

/// The tests' virtualenv's `bin` folder, set up.
pub fn venv() -> Result<PathBuf> {
    let root = repo_root();
    venv_with(&root, "tests/python/requirements.txt", &root.join("target/python-venv"))
}

/// The `bin` folder of the virtualenv `dir` with the requirements file `requirements` (relative to `root`)
/// installed, made on first use and remade when the file changes.
pub fn venv_with(root: &Path, requirements: &str, dir: &Path) -> Result<PathBuf> {
    let wanted =
        std::fs::read_to_string(root.join(requirements)).with_context(|| format!("cannot read {requirements}"))?;
    let bin = dir.join("bin");
    let stamp = dir.join("requirements.installed");
    if std::fs::read_to_string(&stamp).ok().as_deref() == Some(wanted.as_str()) && bin.join("python").exists() {
        return Ok(bin);
    }
    eprintln!("==> setting up {} (first run, or the requirements changed)", dir.display());
    if dir.exists() {
        std::fs::remove_dir_all(dir)?;
    }
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
    run(Command::new(&python).args(["-m", "venv"]).arg(dir), "create the virtualenv")?;
    run(
        Command::new(bin.join("python"))
            .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r"])
            .arg(root.join(requirements)),
        &format!("install {requirements}"),
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

/// The commands that lint and type-check the generated package at `package_dir` (a folder holding
/// `pyproject.toml`): ruff check, ruff format --check (the code is as ruff formats it), mypy --strict.
pub fn package_checks(bin: &Path, package_dir: &Path, package: &str) -> [Command; 3] {
    let tool = |program: &str, args: &[&str]| {
        let mut command = Command::new(bin.join(program));
        command.args(args).current_dir(package_dir);
        command
    };
    [
        tool("ruff", &["check", "--quiet", "--no-cache"]),
        tool("ruff", &["format", "--check", "--quiet", "--no-cache"]),
        tool("mypy", &["--strict", "--cache-dir", "/dev/null", package]),
    ]
}

/// Lints and type-checks the generated package at `package_dir`; stops at the first check that fails.
pub fn check_package(bin: &Path, package_dir: &Path, package: &str) -> Result<()> {
    for (mut command, what) in package_checks(bin, package_dir, package).into_iter().zip([
        "pass ruff check",
        "keep the generated code as ruff formats it",
        "pass mypy --strict",
    ]) {
        run(&mut command, what)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::describe;

    #[test]
    fn the_package_checks_are_ruff_check_ruff_format_and_mypy_strict() {
        let checks = package_checks(Path::new("/venv/bin"), Path::new("/out/python"), "pkg");
        let lines: Vec<String> = checks.iter().map(describe).collect();
        assert_eq!(
            lines,
            [
                "/venv/bin/ruff check --quiet --no-cache",
                "/venv/bin/ruff format --check --quiet --no-cache",
                "/venv/bin/mypy --strict --cache-dir /dev/null pkg"
            ]
        );
        assert!(checks.iter().all(|c| c.get_current_dir() == Some(Path::new("/out/python"))));
    }
}
