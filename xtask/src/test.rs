//! `cargo xtask test`: everything CI runs, in one command.

use std::process::Command;

use anyhow::{bail, Result};

use crate::update_schema::repo_root;

pub fn run() -> Result<()> {
    let root = repo_root();
    let steps: &[(&str, &[&str])] = &[
        ("drift check", &["run", "--quiet", "--package", "xtask", "--", "generate-types", "--check"]),
        ("clippy (workspace, generated crate included)", &["clippy", "--workspace", "--all-targets", "--quiet", "--", "-D", "warnings"]),
        ("tests", &["test", "--workspace"]),
    ];
    for (what, args) in steps {
        eprintln!("==> {what}: cargo {}", args.join(" "));
        let status = Command::new(env!("CARGO")).args(*args).current_dir(&root).status()?;
        if !status.success() {
            bail!("{what} failed");
        }
    }
    Ok(())
}
