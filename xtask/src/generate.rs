//! `cargo xtask generate-types [--check]`: `generated/` from the pinned schema in `schema/`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use codegen::GeneratedFile;

use crate::update_schema::{repo_root, Pin, BUNDLE_FILE, PIN_FILE};

/// The bindings of the pinned schema, as `cargo xtask generate-types` writes them.
pub fn pinned_output() -> Result<Vec<GeneratedFile>> {
    let schema = repo_root().join("schema");
    let pin = Pin::read(&schema.join(PIN_FILE))?;
    let options = codegen::Options {
        command: "cargo xtask generate-types".into(),
        codex_version: Some(if pin.experimental {
            format!("{} (--experimental)", pin.codex_version)
        } else {
            pin.codex_version.clone()
        }),
        ..codegen::Options::default()
    };
    // Headers name the schema by its repository path, the same on every machine.
    let file = Path::new("schema").join(BUNDLE_FILE);
    let text = std::fs::read_to_string(schema.join(BUNDLE_FILE)).context("cannot read the pinned schema")?;
    let output = codegen::generate_from_text(&file, &text, &options).map_err(|e| anyhow::anyhow!("{e}"))?;
    for w in &output.warnings {
        eprintln!("{w}");
    }
    eprintln!("{}", output.summary);
    Ok(output.files)
}

pub fn generated_dir() -> PathBuf {
    repo_root().join("generated")
}

pub fn run(check: bool) -> Result<()> {
    let files = pinned_output()?;
    let out = generated_dir();
    if check {
        let stale = stale_files(&out, &files);
        if stale.is_empty() {
            eprintln!("generated/ is up to date ({} files)", files.len());
            return Ok(());
        }
        for s in &stale {
            eprintln!("{s}");
        }
        anyhow::bail!("{} generated file(s) are stale; run `cargo xtask generate-types`", stale.len());
    }
    codegen::output::replace_dir(&out, &files).with_context(|| format!("cannot write {}", out.display()))?;
    eprintln!("wrote {} files to {}", files.len(), out.display());
    Ok(())
}

/// Files under `out` that differ from `files` (with a short diff), are missing, or should not be there.
pub fn stale_files(out: &Path, files: &[GeneratedFile]) -> Vec<String> {
    let mut stale = Vec::new();
    for f in files {
        let path = out.join(&f.path);
        match std::fs::read_to_string(&path) {
            Ok(current) if current == f.contents => {}
            Ok(current) => stale.push(format!("stale: generated/{}\n{}", f.path, short_diff(&current, &f.contents))),
            Err(_) => stale.push(format!("missing: generated/{}", f.path)),
        }
    }
    let mut tops: Vec<&str> = files.iter().filter_map(|f| f.path.split('/').next()).collect();
    tops.dedup();
    for top in tops {
        for path in walk(&out.join(top)) {
            let rel = path.strip_prefix(out).expect("walked below out").to_string_lossy().replace('\\', "/");
            if !files.iter().any(|f| f.path == rel) && !is_build_output(&rel) {
                stale.push(format!("not generated: generated/{rel}"));
            }
        }
    }
    stale
}

/// Cargo, Python and its tools may leave these beside the generated code.
fn is_build_output(rel: &str) -> bool {
    ["/target/", "/__pycache__/", "/.mypy_cache/", "/.ruff_cache/", "/.pytest_cache/", ".egg-info/"]
        .iter()
        .any(|dir| rel.contains(dir))
        || rel.ends_with("Cargo.lock")
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out.sort();
    out
}

/// The first changed hunks of a unified diff, enough to see what drifted.
fn short_diff(old: &str, new: &str) -> String {
    const MAX_LINES: usize = 40;
    let diff = similar::TextDiff::from_lines(old, new);
    let text = diff.unified_diff().context_radius(2).header("on disk", "generated").to_string();
    let mut lines: Vec<&str> = text.lines().take(MAX_LINES + 1).collect();
    if lines.len() > MAX_LINES {
        lines.truncate(MAX_LINES);
        lines.push("...");
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The drift check, as a test: `cargo test` fails when `generated/` is stale.
    #[test]
    fn generated_is_up_to_date() {
        let files = pinned_output().unwrap();
        let stale = stale_files(&generated_dir(), &files);
        assert!(stale.is_empty(), "run `cargo xtask generate-types`:\n{}", stale.join("\n"));
    }

    #[test]
    fn stale_files_are_reported_with_a_diff() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("rust/src")).unwrap();
        std::fs::write(dir.path().join("rust/src/lib.rs"), "a\nb\n").unwrap();
        std::fs::write(dir.path().join("rust/src/old.rs"), "").unwrap();
        let files = vec![
            GeneratedFile { path: "rust/src/lib.rs".into(), contents: "a\nc\n".into() },
            GeneratedFile { path: "rust/Cargo.toml".into(), contents: String::new() },
        ];
        let stale = stale_files(dir.path(), &files);
        assert_eq!(stale.len(), 3, "{stale:?}");
        assert!(stale[0].starts_with("stale: generated/rust/src/lib.rs") && stale[0].contains("-b\n+c"));
        assert_eq!(stale[1], "missing: generated/rust/Cargo.toml");
        assert_eq!(stale[2], "not generated: generated/rust/src/old.rs");
    }
}
