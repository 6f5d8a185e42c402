//! Writing generated files so that a folder is either wholly old or wholly new.

use std::io;
use std::path::{Path, PathBuf};

use crate::emit::GeneratedFile;

/// Replaces each top-level folder named by `files` (`rust/`, `python/`) under `out` with exactly `files`.
///
/// Everything is written to a temporary sibling first; only then is each old folder moved aside and the
/// new one renamed into place. A failure before the swap leaves `out` untouched.
pub fn replace_dir(out: &Path, files: &[GeneratedFile]) -> io::Result<()> {
    std::fs::create_dir_all(out)?;
    let staging = sibling(out, "new");
    if staging.exists() {
        std::fs::remove_dir_all(&staging)?;
    }
    let result = write_all(&staging, files).and_then(|()| swap_in(out, &staging, files));
    // Whatever happened, no staging folder is left behind.
    let _ = std::fs::remove_dir_all(&staging);
    result
}

fn write_all(staging: &Path, files: &[GeneratedFile]) -> io::Result<()> {
    for f in files {
        let path = staging.join(&f.path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(path, &f.contents)?;
    }
    Ok(())
}

fn swap_in(out: &Path, staging: &Path, files: &[GeneratedFile]) -> io::Result<()> {
    let mut tops: Vec<&str> = files.iter().filter_map(|f| f.path.split('/').next()).collect();
    tops.sort_unstable();
    tops.dedup();
    for top in tops {
        let target = out.join(top);
        let old = sibling(&target, "old");
        if old.exists() {
            std::fs::remove_dir_all(&old)?;
        }
        let had_old = target.exists();
        if had_old {
            std::fs::rename(&target, &old)?;
        }
        if let Err(e) = std::fs::rename(staging.join(top), &target) {
            if had_old {
                std::fs::rename(&old, &target)?;
            }
            return Err(e);
        }
        if had_old {
            std::fs::remove_dir_all(&old)?;
        }
    }
    Ok(())
}

/// A hidden sibling of `path`, unique to this process.
fn sibling(path: &Path, what: &str) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "out".into());
    path.with_file_name(format!(".{name}.{what}-{}", std::process::id()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_whole_folders_and_keeps_others() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        std::fs::create_dir_all(out.join("rust/src")).unwrap();
        std::fs::write(out.join("rust/src/stale.rs"), "old").unwrap();
        std::fs::write(out.join("keep.txt"), "mine").unwrap();
        let files = vec![GeneratedFile { path: "rust/src/lib.rs".into(), contents: "new".into() }];
        replace_dir(&out, &files).unwrap();
        assert_eq!(std::fs::read_to_string(out.join("rust/src/lib.rs")).unwrap(), "new");
        assert!(!out.join("rust/src/stale.rs").exists());
        assert_eq!(std::fs::read_to_string(out.join("keep.txt")).unwrap(), "mine");
        let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(leftovers, vec![std::ffi::OsString::from("out")]);
    }
}
