//! Codex releases installed from a package registry into a cache outside the repository.
//!
//! * The `codex` binary comes from npm (`@openai/codex@<V>-<platform>`, then the multi-platform main package
//!   `@openai/codex@<V>` that old releases ship), or from PyPI (`openai-codex-cli-bin==<V>`) where npm has no
//!   binary for it (`CODEX_SCHEMA_REGISTRIES=pypi` or e.g. `npm-main,pypi` narrows the search).
//! * It is cached under [`cache_root`], published in one rename, so a second run does not download again and an
//!   interrupted one leaves no half-written release; [`codex_binary`] is the entry point.

use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{bail, Context, Result};

use crate::pin::validate_version;
use crate::util::{make_executable, move_file, remove_if_present, run_checked, Scratch};

/// npm package that ships the Codex CLI.
const NPM_PACKAGE: &str = "@openai/codex";
/// PyPI distribution that ships the Codex CLI binary.
const PYPI_PACKAGE: &str = "openai-codex-cli-bin";
/// Folder under the user cache directory.
const CACHE_DIR_NAME: &str = "codex-schema-codegen";
/// Environment variable that narrows or reorders the registries tried.
const REGISTRIES_ENV: &str = "CODEX_SCHEMA_REGISTRIES";
/// File in a cached release folder that says where the binary came from.
const CACHE_SOURCE_FILE: &str = "source.json";

/// Path to the `codex` binary of `version`, downloading it into the cache on first use.
pub fn codex_binary(version: &str) -> Result<PathBuf> {
    Ok(install(version)?.path)
}

/// The folder holding cached releases:
/// `${XDG_CACHE_HOME:-$HOME/.cache}/codex-schema-codegen`.
pub fn cache_root() -> Result<PathBuf> {
    let base = match std::env::var_os("XDG_CACHE_HOME").filter(|v| !v.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => {
            let home = std::env::var_os("HOME")
                .filter(|v| !v.is_empty())
                .context("neither XDG_CACHE_HOME nor HOME is set; cannot place the cache")?;
            PathBuf::from(home).join(".cache")
        }
    };
    Ok(base.join(CACHE_DIR_NAME))
}

pub struct Installed {
    pub path: PathBuf,
    /// e.g. `npm:@openai/codex@0.169.0-linux-x64`
    pub source: String,
    pub cached: bool,
}

/// Where a release's binary can come from, tried in this order.
#[derive(Debug, Clone, Copy)]
enum Registry {
    /// `@openai/codex@<V>-<platform>`: one platform's binaries (0.99 and later).
    NpmPlatform,
    /// `@openai/codex@<V>`: older releases bundle every platform's binary here.
    NpmMain,
    /// `openai-codex-cli-bin==<V>` wheel.
    PyPi,
}

/// The `codex` binary of `version`: from the cache, or downloaded into it.
pub fn install(version: &str) -> Result<Installed> {
    validate_version(version)?;
    let platform = Platform::host()?;
    let root = cache_root()?;
    let release_dir = root.join(format!("codex-{version}"));
    let binary = release_dir.join("codex");
    if binary.is_file() {
        let source = fs::read_to_string(release_dir.join(CACHE_SOURCE_FILE))
            .ok()
            .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
            .and_then(|v| v.get("source")?.as_str().map(str::to_owned))
            .unwrap_or_else(|| "an earlier run".to_owned());
        return Ok(Installed { path: binary, source, cached: true });
    }

    fs::create_dir_all(&root).with_context(|| format!("cannot create cache folder {}", root.display()))?;
    remove_stale_temp_dirs(&root);
    let staging = Scratch::new_in(&root, &format!(".tmp-codex-{version}-"))?;
    let download_dir = staging.path().join("download");
    let staged_binary = staging.path().join("codex");

    let mut failures = Vec::new();
    let mut source = None;
    for registry in Registry::search_order()? {
        // Each attempt starts from an empty download folder.
        remove_if_present(&download_dir)?;
        fs::create_dir_all(&download_dir)?;
        let label = registry.label(version, &platform);
        eprintln!("  fetching {label} ...");
        match fetch(registry, version, &platform, &download_dir, &staged_binary) {
            Ok(()) => {
                source = Some(label);
                break;
            }
            Err(err) => {
                eprintln!("    not usable: {}", reason(&format!("{err:#}")));
                failures.push(format!("{label}: {err:#}"));
            }
        }
    }
    let Some(source) = source else {
        bail!("found no {} binary of Codex {version} in any registry:\n{}", platform.triple, failures.join("\n\n"));
    };
    remove_if_present(&download_dir)?;
    make_executable(&staged_binary)?;
    check_runs(&staged_binary, version)?;
    let record = format!(
        "{{\n  \"codexVersion\": {},\n  \"source\": {}\n}}\n",
        serde_json::to_string(version)?,
        serde_json::to_string(&source)?
    );
    fs::write(staging.path().join(CACHE_SOURCE_FILE), record)?;

    // Publish the complete folder in one rename; an interrupted run leaves only a
    // `.tmp-*` folder behind, never a half-written `codex-<V>`.
    if release_dir.exists() && !binary.is_file() {
        fs::remove_dir_all(&release_dir)
            .with_context(|| format!("cannot remove broken cache folder {}", release_dir.display()))?;
    }
    let staging_path = staging.keep();
    if let Err(err) = fs::rename(&staging_path, &release_dir) {
        let _ = fs::remove_dir_all(&staging_path);
        // Another run may have published the same release meanwhile.
        if !binary.is_file() {
            return Err(err)
                .with_context(|| format!("cannot move {} to {}", staging_path.display(), release_dir.display()));
        }
    }
    Ok(Installed { path: binary, source, cached: false })
}

/// The host's names in the registries.
struct Platform {
    /// Suffix of the npm platform package version, e.g. `linux-x64`.
    npm_suffix: &'static str,
    /// Rust target triple used for the vendor folder, e.g. `x86_64-unknown-linux-musl`.
    triple: &'static str,
}

impl Platform {
    fn host() -> Result<Platform> {
        let (npm_suffix, triple) = match (std::env::consts::OS, std::env::consts::ARCH) {
            ("linux", "x86_64") => ("linux-x64", "x86_64-unknown-linux-musl"),
            ("linux", "aarch64") => ("linux-arm64", "aarch64-unknown-linux-musl"),
            ("macos", "x86_64") => ("darwin-x64", "x86_64-apple-darwin"),
            ("macos", "aarch64") => ("darwin-arm64", "aarch64-apple-darwin"),
            (os, arch) => bail!("no Codex binaries are published for {os}/{arch}"),
        };
        Ok(Platform { npm_suffix, triple })
    }
}

impl Registry {
    /// npm platform package, npm main package, PyPI; the environment variable
    /// `CODEX_SCHEMA_REGISTRIES` (e.g. `pypi` or `npm-main,pypi`) narrows or reorders it.
    fn search_order() -> Result<Vec<Registry>> {
        let Some(list) = std::env::var_os(REGISTRIES_ENV).filter(|v| !v.is_empty()) else {
            return Ok(vec![Registry::NpmPlatform, Registry::NpmMain, Registry::PyPi]);
        };
        let list = list.to_string_lossy().into_owned();
        list.split(',')
            .map(|name| match name.trim() {
                "npm-platform" => Ok(Registry::NpmPlatform),
                "npm-main" => Ok(Registry::NpmMain),
                "pypi" => Ok(Registry::PyPi),
                other => bail!(
                    "{REGISTRIES_ENV}: unknown registry `{other}` \
                     (expected npm-platform, npm-main or pypi)"
                ),
            })
            .collect()
    }

    fn label(self, version: &str, platform: &Platform) -> String {
        match self {
            Registry::NpmPlatform => {
                format!("npm:{NPM_PACKAGE}@{version}-{}", platform.npm_suffix)
            }
            Registry::NpmMain => format!("npm:{NPM_PACKAGE}@{version}"),
            Registry::PyPi => format!("pypi:{PYPI_PACKAGE}=={version}"),
        }
    }
}

/// Download one registry's package into `download_dir` and put its binary at `dest`.
fn fetch(registry: Registry, version: &str, platform: &Platform, download_dir: &Path, dest: &Path) -> Result<()> {
    match registry {
        Registry::NpmPlatform | Registry::NpmMain => {
            let spec = match registry {
                Registry::NpmPlatform => {
                    format!("{NPM_PACKAGE}@{version}-{}", platform.npm_suffix)
                }
                _ => format!("{NPM_PACKAGE}@{version}"),
            };
            let tarball = npm_pack(&spec, download_dir)?;
            let members = tar_members(&tarball)?;
            let member = pick_binary(&members, platform.triple).with_context(|| {
                format!(
                    "{} has no {} codex binary (looked for e.g. package/vendor/{}/bin/codex)",
                    tarball.display(),
                    platform.triple,
                    platform.triple
                )
            })?;
            eprintln!("    binary at {member}");
            let extract_dir = download_dir.join("extract");
            fs::create_dir_all(&extract_dir)?;
            run_checked(Command::new("tar").arg("-xzf").arg(&tarball).arg("-C").arg(&extract_dir).arg(&member))?;
            move_file(&extract_dir.join(&member), dest)
        }
        Registry::PyPi => {
            let wheel = pip_download(version, download_dir)?;
            let members = zip_members(&wheel)?;
            let member = pick_binary(&members, platform.triple)
                .with_context(|| format!("{} has no codex binary", wheel.display()))?;
            eprintln!("    binary at {member}");
            let extract_dir = download_dir.join("extract");
            fs::create_dir_all(&extract_dir)?;
            run_checked(Command::new(python()).arg("-c").arg(PY_ZIP_EXTRACT).args([
                wheel.as_os_str(),
                OsStr::new(&member),
                extract_dir.as_os_str(),
            ]))?;
            move_file(&extract_dir.join(&member), dest)
        }
    }
}

fn npm_pack(spec: &str, dir: &Path) -> Result<PathBuf> {
    // A throw-away npm cache: the tarballs are large and the binary is cached by us.
    let npm_cache = dir.join("npm-cache");
    run_checked(
        Command::new("npm")
            .args(["pack", spec, "--loglevel=error", "--pack-destination"])
            .arg(dir)
            .arg("--cache")
            .arg(&npm_cache)
            .current_dir(dir),
    )?;
    let tarball = single_file_with_extension(dir, "tgz")?;
    remove_if_present(&npm_cache)?;
    Ok(tarball)
}

fn pip_download(version: &str, dir: &Path) -> Result<PathBuf> {
    run_checked(
        Command::new(python())
            .args([
                "-m",
                "pip",
                "download",
                "--no-deps",
                "--only-binary=:all:",
                "--no-cache-dir",
                "--disable-pip-version-check",
                "--dest",
            ])
            .arg(dir)
            .arg(format!("{PYPI_PACKAGE}=={version}")),
    )?;
    single_file_with_extension(dir, "whl")
}

/// Whether PyPI has `openai-codex-cli-bin` of `version` (in PEP 440's spelling, `0.116.0-alpha.1` → `0.116.0a1`),
/// asked of pip once.
pub fn on_pypi(version: &str) -> Result<bool> {
    let wanted = codegen::Release::parse(version).map_err(anyhow::Error::msg)?.pep440();
    let output = run_checked(Command::new(python()).args([
        "-m",
        "pip",
        "index",
        "versions",
        "--pre",
        "--disable-pip-version-check",
        PYPI_PACKAGE,
    ]))
    .with_context(|| format!("cannot ask PyPI for the versions of {PYPI_PACKAGE}"))?;
    let text = String::from_utf8_lossy(&output.stdout);
    let found = published_versions(&text).any(|v| v == wanted);
    Ok(found)
}

/// The versions of `pip index versions`'s `Available versions: 1.0, 0.9` line.
fn published_versions(text: &str) -> impl Iterator<Item = &str> {
    text.lines()
        .filter_map(|l| l.trim().strip_prefix("Available versions:"))
        .flat_map(|l| l.split(','))
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

fn python() -> &'static str {
    "python3"
}

const PY_ZIP_LIST: &str = "import sys, zipfile\nfor n in zipfile.ZipFile(sys.argv[1]).namelist(): print(n)";
const PY_ZIP_EXTRACT: &str = "import sys, zipfile\nzipfile.ZipFile(sys.argv[1]).extract(sys.argv[2], sys.argv[3])";

fn tar_members(tarball: &Path) -> Result<Vec<String>> {
    let output = run_checked(Command::new("tar").arg("-tzf").arg(tarball))?;
    Ok(lines(&output.stdout))
}

fn zip_members(wheel: &Path) -> Result<Vec<String>> {
    let output = run_checked(Command::new(python()).arg("-c").arg(PY_ZIP_LIST).arg(wheel))?;
    Ok(lines(&output.stdout))
}

fn lines(bytes: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(bytes).lines().map(str::to_owned).filter(|l| !l.is_empty()).collect()
}

/// Choose the `codex` executable among an archive's member paths. Known layouts:
/// * `package/vendor/<triple>/bin/codex`   npm platform packages (recent)
/// * `package/vendor/<triple>/codex/codex` npm packages of older releases
/// * `codex_cli_bin/bin/codex`             PyPI wheels
///
/// Otherwise any `codex` file under a `<triple>` folder.
fn pick_binary(members: &[String], triple: &str) -> Option<String> {
    let known = [
        format!("package/vendor/{triple}/bin/codex"),
        format!("package/vendor/{triple}/codex/codex"),
        "codex_cli_bin/bin/codex".to_owned(),
    ];
    let clean = |m: &String| m.trim_start_matches("./").to_owned();
    if let Some(hit) = known.iter().find_map(|k| members.iter().find(|m| clean(m) == *k)) {
        return Some(hit.clone());
    }
    members
        .iter()
        .filter(|m| !m.ends_with('/'))
        .filter(|m| {
            let parts: Vec<&str> = m.split('/').collect();
            let name = parts.last().copied().unwrap_or_default();
            let in_triple = parts[..parts.len() - 1].contains(&triple);
            (in_triple && name == "codex") || name == format!("codex-{triple}")
        })
        .min_by_key(|m| m.len())
        .cloned()
}

fn single_file_with_extension(dir: &Path, extension: &str) -> Result<PathBuf> {
    let mut found = Vec::new();
    for entry in fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))? {
        let path = entry?.path();
        if path.is_file() && path.extension() == Some(OsStr::new(extension)) {
            found.push(path);
        }
    }
    match found.len() {
        1 => Ok(found.pop().expect("one element")),
        0 => bail!("no .{extension} file was downloaded into {}", dir.display()),
        _ => bail!("several .{extension} files were downloaded: {found:?}"),
    }
}

fn check_runs(binary: &Path, version: &str) -> Result<()> {
    let scratch = Scratch::new_in(&std::env::temp_dir(), "codex-home-")?;
    let output = run_checked(Command::new(binary).arg("--version").env("CODEX_HOME", scratch.path()))
        .context("the downloaded codex binary does not run")?;
    let said = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    if !said.split_whitespace().any(|word| word == version) {
        eprintln!("  warning: `codex --version` says `{said}`, expected {version}");
    }
    Ok(())
}

/// Remove `.tmp-*` folders that interrupted runs left in the cache six or more hours ago.
fn remove_stale_temp_dirs(root: &Path) {
    let Ok(entries) = fs::read_dir(root) else {
        return;
    };
    for entry in entries.flatten() {
        let stale = entry.file_name().to_string_lossy().starts_with(".tmp-")
            && entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age > Duration::from_secs(6 * 60 * 60));
        if stale {
            let _ = fs::remove_dir_all(entry.path());
        }
    }
}

/// One line saying why a fetch failed: the registry client's first error line
/// (`npm error notarget ...`, pip's `ERROR: No matching distribution ...`), else the
/// error's first line.
fn reason(text: &str) -> &str {
    text.lines()
        .skip(1)
        .map(str::trim)
        .find(|line| {
            let lower = line.to_ascii_lowercase();
            lower.contains("error") && !lower.starts_with("npm error code")
        })
        .or_else(|| text.lines().next())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn pip_index_output_is_read() {
        let text = "openai-codex-cli-bin (0.169.0)\nAvailable versions: 0.169.0, 0.137.0a4, 0.136.0\n  INSTALLED: x\n";
        assert_eq!(published_versions(text).collect::<Vec<_>>(), ["0.169.0", "0.137.0a4", "0.136.0"]);
        assert_eq!(published_versions("ERROR: no matching distribution").count(), 0);
    }

    #[test]
    fn binary_is_found_in_known_layouts() {
        let t = "x86_64-unknown-linux-musl";
        let recent = names(&[
            "package/package.json",
            "package/vendor/x86_64-unknown-linux-musl/bin/codex-code-mode-host",
            "package/vendor/x86_64-unknown-linux-musl/codex-path/rg",
            "package/vendor/x86_64-unknown-linux-musl/bin/codex",
        ]);
        assert_eq!(pick_binary(&recent, t).as_deref(), Some("package/vendor/x86_64-unknown-linux-musl/bin/codex"));
        let older = names(&[
            "package/bin/codex.js",
            "package/vendor/aarch64-apple-darwin/codex/codex",
            "package/vendor/x86_64-unknown-linux-musl/codex/codex",
            "package/vendor/x86_64-unknown-linux-musl/path/rg",
        ]);
        assert_eq!(pick_binary(&older, t).as_deref(), Some("package/vendor/x86_64-unknown-linux-musl/codex/codex"));
        let wheel =
            names(&["codex_cli_bin/__init__.py", "codex_cli_bin/bin/codex-code-mode-host", "codex_cli_bin/bin/codex"]);
        assert_eq!(pick_binary(&wheel, t).as_deref(), Some("codex_cli_bin/bin/codex"));
        let oldest = names(&["package/bin/codex-x86_64-unknown-linux-musl"]);
        assert_eq!(pick_binary(&oldest, t).as_deref(), Some("package/bin/codex-x86_64-unknown-linux-musl"));
        let wrapper_only = names(&["package/bin/codex.js", "package/package.json"]);
        assert_eq!(pick_binary(&wrapper_only, t), None);
        let other_platform = names(&["package/vendor/aarch64-apple-darwin/codex/codex"]);
        assert_eq!(pick_binary(&other_platform, t), None);
    }
}
