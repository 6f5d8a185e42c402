//! Writing generated files so that the output folder is, at every moment, either wholly old or wholly new.
//!
//! The new folder is built beside the old one (`.<out>.new-<pid>`): the generated files, plus everything of
//! the old folder that this run does not replace (hard links where possible). A generated file whose
//! content the old folder already holds at the same path is a hard link to that file too: regenerating
//! keeps the modification time of what did not change (so build tools and caches see no change) and
//! creates no new file for it. Then the two are swapped in one step (`renameat2` with `RENAME_EXCHANGE`
//! on Linux), and the old tree, now under the temporary name, is removed. A run killed at any point leaves
//! `<out>` complete, old or new, and at most a hidden sibling, which the next run into the same folder
//! removes. Where the exchange is not available (other systems, file systems without it) the swap is two
//! renames, with a moment in between where `<out>` is missing.
//!
//! For the tests, and only in a build with the `test-hooks` feature (which only `codegen`'s own tests enable),
//! `CODEGEN_PAUSE_AT=staged` or `CODEGEN_PAUSE_AT=swapped` makes a run stop just before or just after the swap
//! (it prints `paused at <step>` on stderr and sleeps), so that a test can kill it at the exact moment it
//! wants to check.

use std::collections::BTreeSet;
use std::io;
use std::path::{Path, PathBuf};

use crate::emit::GeneratedFile;

/// The name of the environment variable that pauses a run at a step of the swap (for tests).
#[cfg(feature = "test-hooks")]
pub const PAUSE_VARIABLE: &str = "CODEGEN_PAUSE_AT";

/// Replaces each top-level folder named by `files` (`rust/`, `python/`) under `out` with exactly `files`,
/// keeping everything else in `out`; `out` changes from old to new in one step.
pub fn replace_dir(out: &Path, files: &[GeneratedFile]) -> io::Result<()> {
    // File names are made from the schema's names; whatever the naming pass did, nothing may land outside
    // `out`.
    if let Some(f) = files.iter().find(|f| !is_plain_relative(&f.path)) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{:?} is not a path inside the output folder", f.path),
        ));
    }
    let out = resolve(out)?;
    remove_stale_siblings(&out);
    let staging = sibling(&out, "new", std::process::id());
    if staging.symlink_metadata().is_ok() {
        std::fs::remove_dir_all(&staging)?;
    }
    let result = build(&out, &staging, files).and_then(|()| {
        pause_at("staged");
        swap(&out, &staging)?;
        pause_at("swapped");
        Ok(())
    });
    // Whatever happened, no temporary folder is left behind: after the swap it holds the old tree, whose
    // top-level folders are removed side by side.
    if let Ok(entries) = std::fs::read_dir(&staging) {
        let entries: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        crate::threads::parallel_map(&entries, |entry| match entry.symlink_metadata() {
            Ok(m) if m.is_dir() => std::fs::remove_dir_all(entry),
            _ => std::fs::remove_file(entry),
        });
    }
    let _ = std::fs::remove_dir_all(&staging);
    result
}

/// Whether `path` is relative and made of plain names only (no `..`, `.`, root or empty component).
fn is_plain_relative(path: &str) -> bool {
    !path.is_empty()
        && path.split('/').all(|part| !part.is_empty() && part != "." && part != "..")
        && Path::new(path).components().all(|c| matches!(c, std::path::Component::Normal(_)))
}

/// `out` as an absolute path with a file name, through a symlink to the folder it names (the folder is
/// replaced, not the link).
fn resolve(out: &Path) -> io::Result<PathBuf> {
    if out.exists() {
        return std::fs::canonicalize(out);
    }
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(parent)?;
    let name =
        out.file_name().ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "the output folder has no name"))?;
    Ok(std::fs::canonicalize(parent)?.join(name))
}

/// Writes the new tree at `staging`: the generated files and whatever of `out` they do not replace.
fn build(out: &Path, staging: &Path, files: &[GeneratedFile]) -> io::Result<()> {
    std::fs::create_dir(staging)?;
    let folders: BTreeSet<&Path> = files.iter().filter_map(|f| Path::new(&f.path).parent()).collect();
    for folder in folders {
        std::fs::create_dir_all(staging.join(folder))?;
    }
    // Hundreds of files, each a few system calls: written on every core.
    let written = crate::threads::parallel_map(files, |f| {
        let path = staging.join(&f.path);
        let previous = out.join(&f.path);
        if unchanged(&previous, &f.contents) && std::fs::hard_link(&previous, &path).is_ok() {
            return Ok(());
        }
        std::fs::write(path, &f.contents)
    });
    written.into_iter().collect::<io::Result<()>>()?;
    let Ok(entries) = std::fs::read_dir(out) else {
        return Ok(());
    };
    let replaced: Vec<&str> = files.iter().filter_map(|f| f.path.split('/').next()).collect();
    for entry in entries {
        let entry = entry?;
        if !replaced.iter().any(|top| entry.file_name() == **top) {
            carry_over(&entry.path(), &staging.join(entry.file_name()))?;
        }
    }
    // Last, so that a folder the user made read-only is still filled first.
    std::fs::set_permissions(staging, std::fs::metadata(out)?.permissions())
}

/// Whether `path` is a regular file (not a link to one) holding exactly `contents`.
fn unchanged(path: &Path, contents: &str) -> bool {
    let same_size =
        std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_file() && m.len() == contents.len() as u64);
    same_size && std::fs::read(path).is_ok_and(|old| old == contents.as_bytes())
}

/// Puts `from` at `to`: a file as a hard link (a copy where linking fails), a folder by its contents, a
/// symlink as a symlink (elsewhere than on Unix, as a copy of what it points to).
fn carry_over(from: &Path, to: &Path) -> io::Result<()> {
    let kind = std::fs::symlink_metadata(from)?.file_type();
    #[cfg(unix)]
    if kind.is_symlink() {
        return std::os::unix::fs::symlink(std::fs::read_link(from)?, to);
    }
    if kind.is_dir() {
        std::fs::create_dir(to)?;
        for entry in std::fs::read_dir(from)? {
            let entry = entry?;
            carry_over(&entry.path(), &to.join(entry.file_name()))?;
        }
        return std::fs::set_permissions(to, std::fs::metadata(from)?.permissions());
    }
    std::fs::hard_link(from, to).or_else(|_| std::fs::copy(from, to).map(drop))
}

/// Swaps the folder at `out` (if any) with `staging`; afterwards `staging` holds what `out` held.
fn swap(out: &Path, staging: &Path) -> io::Result<()> {
    if out.symlink_metadata().is_err() {
        // Nothing to keep: renaming onto a missing name is already one step.
        return std::fs::rename(staging, out);
    }
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::ffi::OsStrExt;
        let c = |p: &Path| std::ffi::CString::new(p.as_os_str().as_bytes()).map_err(io::Error::other);
        let (from, to) = (c(staging)?, c(out)?);
        // SAFETY: both are valid NUL-terminated paths, alive for the call.
        let status = unsafe {
            libc::renameat2(libc::AT_FDCWD, from.as_ptr(), libc::AT_FDCWD, to.as_ptr(), libc::RENAME_EXCHANGE)
        };
        if status == 0 {
            return Ok(());
        }
        let error = io::Error::last_os_error();
        // Only a file system or kernel without the exchange falls back to two renames.
        if !matches!(error.raw_os_error(), Some(libc::EINVAL | libc::ENOSYS)) {
            return Err(error);
        }
    }
    let aside = sibling(out, "old", std::process::id());
    std::fs::rename(out, &aside)?;
    if let Err(e) = std::fs::rename(staging, out) {
        std::fs::rename(&aside, out)?;
        return Err(e);
    }
    std::fs::rename(&aside, staging)
}

/// A hidden sibling of `path` for the run with process id `pid`: `.<name>.<what>-<pid>`.
fn sibling(path: &Path, what: &str, pid: u32) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "out".into());
    path.with_file_name(format!(".{name}.{what}-{pid}"))
}

/// Removes the temporary siblings of `out` left by runs that were killed (their process is gone). Each
/// holds a complete old or new tree that is not `out`; nothing reads them, so failing to remove one is
/// not an error.
fn remove_stale_siblings(out: &Path) {
    let (Some(parent), Some(name)) = (out.parent(), out.file_name()) else {
        return;
    };
    let Ok(entries) = std::fs::read_dir(parent) else { return };
    let prefix = format!(".{}.", name.to_string_lossy());
    for entry in entries.flatten() {
        let file_name = entry.file_name().to_string_lossy().into_owned();
        let Some(rest) = file_name.strip_prefix(&prefix) else {
            continue;
        };
        let pid = ["new-", "old-"].iter().find_map(|w| rest.strip_prefix(w)).and_then(|p| p.parse::<u32>().ok());
        if pid.is_some_and(|pid| pid != std::process::id() && !process_exists(pid)) {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// Whether a process with this id is running (when that cannot be told, it is assumed to be).
fn process_exists(pid: u32) -> bool {
    #[cfg(unix)]
    {
        let Ok(pid) = libc::pid_t::try_from(pid) else {
            return true;
        };
        // SAFETY: signal 0 only checks that the process exists and may be signalled.
        let status = unsafe { libc::kill(pid, 0) };
        status == 0 || io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
    }
    #[cfg(not(unix))]
    {
        let _ = pid;
        true
    }
}

/// Stops here when the tests asked to (see the module docs): says so on stderr, then sleeps until killed.
#[cfg(feature = "test-hooks")]
fn pause_at(step: &str) {
    if std::env::var_os(PAUSE_VARIABLE).is_some_and(|v| v == step) {
        eprintln!("paused at {step}");
        loop {
            std::thread::sleep(std::time::Duration::from_secs(3600));
        }
    }
}

/// Without the `test-hooks` feature a run never pauses.
#[cfg(not(feature = "test-hooks"))]
fn pause_at(_step: &str) {}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> =
            std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        names.sort();
        names
    }

    #[test]
    fn replaces_whole_folders_and_keeps_others() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        std::fs::create_dir_all(out.join("rust/src")).unwrap();
        std::fs::create_dir_all(out.join("mine/deeper")).unwrap();
        std::fs::write(out.join("rust/src/stale.rs"), "old").unwrap();
        std::fs::write(out.join("keep.txt"), "mine").unwrap();
        std::fs::write(out.join("mine/deeper/notes"), "kept").unwrap();
        let files = vec![GeneratedFile { path: "rust/src/lib.rs".into(), contents: "new".into() }];
        replace_dir(&out, &files).unwrap();
        assert_eq!(std::fs::read_to_string(out.join("rust/src/lib.rs")).unwrap(), "new");
        assert!(!out.join("rust/src/stale.rs").exists());
        assert_eq!(std::fs::read_to_string(out.join("keep.txt")).unwrap(), "mine");
        assert_eq!(std::fs::read_to_string(out.join("mine/deeper/notes")).unwrap(), "kept");
        assert_eq!(names(dir.path()), ["out"]);
    }

    #[cfg(unix)]
    #[test]
    fn files_that_did_not_change_are_the_same_files_afterwards() {
        use std::os::unix::fs::MetadataExt;
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let file = |path: &str, contents: &str| GeneratedFile { path: path.into(), contents: contents.into() };
        replace_dir(&out, &[file("python/a.py", "a = 1\n"), file("python/b.py", "b = 1\n")]).unwrap();
        let inode = |path: &str| std::fs::metadata(out.join(path)).unwrap().ino();
        let (a, b) = (inode("python/a.py"), inode("python/b.py"));
        // Same length, other bytes: rewritten.
        replace_dir(&out, &[file("python/a.py", "a = 1\n"), file("python/b.py", "b = 2\n")]).unwrap();
        assert_eq!(inode("python/a.py"), a);
        assert_ne!(inode("python/b.py"), b);
        assert_eq!(std::fs::read_to_string(out.join("python/b.py")).unwrap(), "b = 2\n");
        assert_eq!(std::fs::metadata(out.join("python/a.py")).unwrap().nlink(), 1);
        // A symlink in the old tree is never linked to, even to a file with the same text.
        std::fs::write(dir.path().join("elsewhere"), "c = 1\n").unwrap();
        std::fs::remove_file(out.join("python/a.py")).unwrap();
        std::os::unix::fs::symlink(dir.path().join("elsewhere"), out.join("python/a.py")).unwrap();
        replace_dir(&out, &[file("python/a.py", "c = 1\n")]).unwrap();
        assert!(std::fs::symlink_metadata(out.join("python/a.py")).unwrap().file_type().is_file());
        assert_ne!(inode("python/a.py"), std::fs::metadata(dir.path().join("elsewhere")).unwrap().ino());
    }

    #[test]
    fn paths_that_leave_the_folder_are_refused_before_anything_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        for bad in ["../x.rs", "rust/../../x.rs", "/etc/x", "rust//x.rs", "./x", ""] {
            let files = vec![
                GeneratedFile { path: "rust/ok.rs".into(), contents: String::new() },
                GeneratedFile { path: bad.into(), contents: String::new() },
            ];
            let error = replace_dir(&out, &files).unwrap_err();
            assert_eq!(error.kind(), io::ErrorKind::InvalidInput, "{bad}");
            assert_eq!(names(dir.path()), Vec::<String>::new(), "{bad}");
        }
    }

    #[test]
    fn a_missing_folder_is_created_and_a_symlinked_one_replaced_through_the_link() {
        let dir = tempfile::tempdir().unwrap();
        let files = vec![GeneratedFile { path: "python/a.py".into(), contents: "x = 1\n".into() }];
        replace_dir(&dir.path().join("fresh/out"), &files).unwrap();
        assert_eq!(std::fs::read_to_string(dir.path().join("fresh/out/python/a.py")).unwrap(), "x = 1\n");

        #[cfg(unix)]
        {
            std::fs::create_dir(dir.path().join("real")).unwrap();
            std::os::unix::fs::symlink(dir.path().join("real"), dir.path().join("link")).unwrap();
            replace_dir(&dir.path().join("link"), &files).unwrap();
            assert!(dir.path().join("link").symlink_metadata().unwrap().file_type().is_symlink());
            assert_eq!(std::fs::read_to_string(dir.path().join("real/python/a.py")).unwrap(), "x = 1\n");
            assert_eq!(names(dir.path()), ["fresh", "link", "real"]);
        }
    }

    #[test]
    fn siblings_of_dead_runs_are_removed_and_those_of_live_ones_kept() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        // No process has an id this large (Linux caps ids at 2^22); 1 is always running.
        let dead = sibling(&out, "new", 2_000_000_000);
        let dead_old = sibling(&out, "old", 2_000_000_001);
        let live = sibling(&out, "new", 1);
        let other = dir.path().join(".output.new-2000000000");
        for d in [&dead, &dead_old, &live, &other] {
            std::fs::create_dir_all(d.join("rust")).unwrap();
        }
        replace_dir(&out, &[GeneratedFile { path: "rust/lib.rs".into(), contents: String::new() }]).unwrap();
        assert_eq!(names(dir.path()), [".out.new-1", ".output.new-2000000000", "out"]);
    }
}
