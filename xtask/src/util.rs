//! Helpers every chore uses: the repository root, scratch folders, files written atomically, commands run with
//! their errors shown, hashes, and the facts about the machine a benchmark reports.

use std::ffi::OsString;
use std::fmt::Write as _;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{anyhow, Context, Result};
use sha2::{Digest, Sha256};

/// The workspace root: the parent of the xtask crate.
pub fn repo_root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir.parent().expect("xtask lives inside the workspace").to_path_buf()
}

/// Write `path` through a temporary file in the same folder and a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().context("path has no parent folder")?;
    let name = path.file_name().context("path has no file name")?;
    let tmp = dir.join(format!(".{}.tmp-{}", name.to_string_lossy(), unique_suffix()));
    let result = (|| -> Result<()> {
        let mut file = fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        fs::rename(&tmp, path)?;
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.with_context(|| format!("cannot write {}", path.display()))
}

pub fn remove_if_present(path: &Path) -> Result<()> {
    let result = match fs::symlink_metadata(path) {
        Err(_) => return Ok(()),
        Ok(meta) if meta.is_dir() => fs::remove_dir_all(path),
        Ok(_) => fs::remove_file(path),
    };
    result.with_context(|| format!("cannot remove {}", path.display()))
}

pub fn move_file(from: &Path, to: &Path) -> Result<()> {
    fs::rename(from, to).with_context(|| format!("cannot move {} to {}", from.display(), to.display()))
}

#[cfg(unix)]
pub fn make_executable(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(0o755))
        .with_context(|| format!("cannot make {} executable", path.display()))
}

#[cfg(not(unix))]
pub fn make_executable(_path: &Path) -> Result<()> {
    Ok(())
}

pub fn list_names(dir: &Path) -> Result<Vec<String>> {
    let mut names = Vec::new();
    for entry in fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))? {
        names.push(entry?.file_name().to_string_lossy().into_owned());
    }
    names.sort();
    Ok(names)
}

/// Run a command; on failure, say which command and show its stderr.
pub fn run_checked(command: &mut Command) -> Result<Output> {
    let description = describe(command);
    let output = command.output().with_context(|| format!("cannot start `{description}`"))?;
    if !output.status.success() {
        let stderr = tail(&String::from_utf8_lossy(&output.stderr), 4000);
        let stdout = tail(&String::from_utf8_lossy(&output.stdout), 1000);
        let mut message = format!("`{description}` failed ({})", output.status);
        if !stderr.trim().is_empty() {
            let _ = write!(message, "\nstderr:\n{}", stderr.trim_end());
        }
        if !stdout.trim().is_empty() {
            let _ = write!(message, "\nstdout:\n{}", stdout.trim_end());
        }
        return Err(anyhow!(message));
    }
    Ok(output)
}

/// A command as a shell line, for messages.
pub fn describe(command: &Command) -> String {
    std::iter::once(command.get_program())
        .chain(command.get_args())
        .map(|a| a.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

fn tail(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut start = text.len() - max;
    while !text.is_char_boundary(start) {
        start += 1;
    }
    format!("...{}", &text[start..])
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut hex = String::with_capacity(64);
    for byte in digest.iter() {
        let _ = write!(hex, "{byte:02x}");
    }
    hex
}

fn unique_suffix() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    format!("{}-{nanos}-{}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed))
}

/// The command that runs cargo: the one running this xtask, or `cargo` on PATH.
pub fn cargo() -> OsString {
    std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into())
}

/// Cargo's target folder for the workspace at `root`.
pub fn target_dir(root: &Path) -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => root.join(dir),
        None => root.join("target"),
    }
}

/// An executable named `name` on PATH, or in `$CARGO_HOME/bin` where `cargo <subcommand>` also looks.
pub fn find_on_path(name: &str) -> Option<PathBuf> {
    let file = format!("{name}{}", std::env::consts::EXE_SUFFIX);
    let mut dirs: Vec<PathBuf> =
        std::env::var_os("PATH").map(|p| std::env::split_paths(&p).collect()).unwrap_or_default();
    if let Some(home) = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cargo")))
    {
        dirs.push(home.join("bin"));
    }
    dirs.into_iter().map(|d| d.join(&file)).find(|p| p.is_file())
}

/// The first line a command prints, or `unknown`.
pub fn version_line(cmd: &mut Command) -> String {
    cmd.output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.lines().next().map(str::to_string))
        .unwrap_or_else(|| "unknown".into())
}

/// The median of sorted samples; `mean` gives the value halfway between two.
pub fn median<T: Copy>(sorted: &[T], mean: impl Fn(T, T) -> T) -> T {
    let n = sorted.len();
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        mean(sorted[n / 2 - 1], sorted[n / 2])
    }
}

/// The machine a benchmark ran on, for its report: CPUs, the CPU model, `tools` (the versions that matter), and
/// the load average when the run ends.
pub fn machine(tools: &str) -> String {
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let cpu = fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, m)| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into());
    let load = fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into());
    format!("{cpus} CPUs (`nproc`), {cpu}; {tools}; load average {load} at the end of the run.")
}

/// A scratch folder, removed when dropped unless [`Scratch::keep`] is called.
pub struct Scratch {
    path: Option<PathBuf>,
}

impl Scratch {
    /// A new folder `xtask-<what>-...` in the system's temporary folder.
    pub fn new(what: &str) -> Result<Scratch> {
        Scratch::new_in(&std::env::temp_dir(), &format!("xtask-{what}-"))
    }

    /// A new folder `<prefix><unique suffix>` in `parent`.
    pub fn new_in(parent: &Path, prefix: &str) -> Result<Scratch> {
        let path = parent.join(format!("{prefix}{}", unique_suffix()));
        fs::create_dir_all(&path).with_context(|| format!("cannot create temporary folder {}", path.display()))?;
        Ok(Scratch { path: Some(path) })
    }

    pub fn path(&self) -> &Path {
        self.path.as_deref().expect("not kept yet")
    }

    pub fn keep(mut self) -> PathBuf {
        self.path.take().expect("not kept yet")
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if let Some(path) = &self.path {
            let _ = fs::remove_dir_all(path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_is_lowercase_hex() {
        assert_eq!(sha256_hex(b"abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&[1.0, 2.0, 7.0], |a, b| (a + b) / 2.0), 2.0);
        assert_eq!(median(&[1.0, 2.0, 4.0, 7.0], |a, b| (a + b) / 2.0), 3.0);
    }
}
