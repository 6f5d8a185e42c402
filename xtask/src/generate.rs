//! `cargo xtask generate-types [--check]`: `generated/` from the pinned schema in `schema/`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result};
use codegen::load::BUNDLE_FILE;
use codegen::GeneratedFile;

use crate::pin;
use crate::util::{repo_root, sha256_hex};

/// The bindings of the pinned schema, as `cargo xtask generate-types` writes them.
pub fn pinned_output() -> Result<Vec<GeneratedFile>> {
    let schema = repo_root().join("schema");
    let pin = pin::pinned()?;
    let release = codegen::Release::parse(&pin.codex_version).map_err(|e| anyhow::anyhow!("schema/pin.json: {e}"))?;
    let options = codegen::Options {
        command: "cargo xtask generate-types".into(),
        codex_version: Some(release),
        experimental: pin.experimental,
        metadata: codegen::Metadata { runtime_extra: pin.pypi_runtime, ..codegen::Metadata::default() },
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
/// Files git ignores (`__pycache__/`, a `target/`, ...) are not looked at: installing, building or testing the
/// package may leave them, and they are never committed.
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
    let ignored = Ignored::under(out);
    let mut tops: Vec<&str> = files.iter().filter_map(|f| f.path.split('/').next()).collect();
    tops.dedup();
    for top in tops {
        for rel in walk(out, top, &ignored) {
            if !files.iter().any(|f| f.path == rel) {
                stale.push(format!("not generated: generated/{rel}"));
            }
        }
    }
    stale
}

/// What git ignores below a folder, as git itself says (`.gitignore` files, `.git/info/exclude`, the user's
/// global excludes).
enum Ignored {
    /// Paths relative to the folder; a folder ignored as a whole ends with `/`.
    Git(BTreeSet<String>),
    /// The folder is not in a git work tree: the usual leftovers of cargo, Python and its tools.
    Usual,
}

impl Ignored {
    fn under(dir: &Path) -> Ignored {
        let output = Command::new("git")
            .args(["ls-files", "-z", "--others", "--ignored", "--exclude-standard", "--directory"])
            .current_dir(dir)
            .stderr(Stdio::null())
            .output();
        match output {
            Ok(o) if o.status.success() => Ignored::Git(
                o.stdout
                    .split(|&b| b == 0)
                    .filter(|p| !p.is_empty())
                    .map(|p| String::from_utf8_lossy(p).into_owned())
                    .collect(),
            ),
            _ => Ignored::Usual,
        }
    }

    /// Whether `rel` (relative to the folder; a folder ending with `/`) is ignored.
    fn contains(&self, rel: &str) -> bool {
        match self {
            Ignored::Git(paths) => paths.contains(rel),
            Ignored::Usual => {
                let rel = format!("/{rel}");
                ["/target/", "/__pycache__/", "/.mypy_cache/", "/.ruff_cache/", "/.pytest_cache/", ".egg-info/"]
                    .iter()
                    .any(|dir| rel.contains(dir))
                    || rel.ends_with(".pyc")
                    || rel.ends_with("/Cargo.lock")
            }
        }
    }
}

/// The files below `root/top` that are not ignored, as paths relative to `root`, sorted; ignored folders (and
/// `.git`) are not entered.
fn walk(root: &Path, top: &str, ignored: &Ignored) -> Vec<String> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(root.join(top)) else {
        return out;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name == ".git" {
            continue;
        }
        let rel = if top.is_empty() { name } else { format!("{top}/{name}") };
        if e.file_type().is_ok_and(|t| t.is_dir()) {
            if !ignored.contains(&format!("{rel}/")) {
                out.extend(walk(root, &rel, ignored));
            }
        } else if !ignored.contains(&rel) {
            out.push(rel);
        }
    }
    out.sort();
    out
}

/// Every file below `dir` that git does not ignore, with the SHA-256 of its contents: what a step that must not
/// touch `generated/` has to leave as it found it.
pub fn fingerprint(dir: &Path) -> BTreeMap<String, String> {
    walk(dir, "", &Ignored::under(dir))
        .into_iter()
        .map(|rel| {
            let hash = std::fs::read(dir.join(&rel)).map_or_else(|e| e.to_string(), |bytes| sha256_hex(&bytes));
            (rel, hash)
        })
        .collect()
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

    #[test]
    fn files_git_ignores_are_not_reported() {
        let dir = tempfile::tempdir().unwrap();
        let git =
            |args: &[&str]| assert!(Command::new("git").args(args).current_dir(dir.path()).status().unwrap().success());
        git(&["init", "--quiet"]);
        std::fs::write(dir.path().join(".gitignore"), "build/\n*.log\n").unwrap();
        for file in ["python/pkg/__init__.py", "python/build/lib/pkg/__init__.py", "python/pip.log", "python/new.txt"] {
            std::fs::create_dir_all(dir.path().join(file).parent().unwrap()).unwrap();
            std::fs::write(dir.path().join(file), "").unwrap();
        }
        let files = vec![GeneratedFile { path: "python/pkg/__init__.py".into(), contents: String::new() }];
        assert_eq!(stale_files(dir.path(), &files), ["not generated: generated/python/new.txt"]);
        let before = fingerprint(dir.path());
        assert_eq!(before.keys().collect::<Vec<_>>(), [".gitignore", "python/new.txt", "python/pkg/__init__.py"]);
        std::fs::write(dir.path().join("python/build/more.txt"), "x").unwrap();
        assert_eq!(fingerprint(dir.path()), before);
        std::fs::write(dir.path().join("python/new.txt"), "x").unwrap();
        assert_ne!(fingerprint(dir.path()), before);
    }
}
