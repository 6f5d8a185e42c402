//! `cargo xtask update-schema`: install a Codex release from a package registry,
//! ask it for its app-server protocol JSON Schema and rewrite `schema/` with it.
//!
//! * The release defaults to `codexVersion` in `schema/pin.json`.
//! * The `codex` binary comes from npm (`@openai/codex@<V>-<platform>`, then the
//!   multi-platform main package `@openai/codex@<V>` that old releases ship), or
//!   from PyPI (`openai-codex-cli-bin==<V>`) where npm has no binary for it
//!   (`CODEX_SCHEMA_REGISTRIES=pypi` or e.g. `npm-main,pypi` narrows the search). It is
//!   cached outside the repository (see [`cache_root`]), written atomically, so a
//!   second run does not download again; [`codex_binary`] is the reusable entry point.
//! * `codex app-server generate-json-schema` writes a folder of files; only the
//!   combined bundle `codex_app_server_protocol.schemas.json` is kept, byte for byte,
//!   next to a rewritten `pin.json`.

use std::ffi::OsStr;
use std::fmt::Write as _;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{anyhow, bail, Context, Result};
use sha2::{Digest, Sha256};

/// The combined schema bundle written by `codex app-server generate-json-schema`.
pub const BUNDLE_FILE: &str = "codex_app_server_protocol.schemas.json";
/// The pin file next to the bundle.
pub const PIN_FILE: &str = "pin.json";
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

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Codex release to take the schema from [default: `codexVersion` in schema/pin.json].
    #[arg(long, value_name = "V")]
    pub codex_version: Option<String>,

    /// Include experimental methods and fields (`--experimental=false` turns it off)
    /// [default: `experimental` in schema/pin.json].
    #[arg(
        long,
        value_name = "BOOL",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "true"
    )]
    pub experimental: Option<bool>,

    /// Write the bundle and its pin.json into DIR instead of `<repo>/schema/`
    /// (the repository's pin is then only read, never written).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

pub fn run(args: &Args) -> Result<()> {
    let schema_dir = repo_root().join("schema");
    let repo_pin_path = schema_dir.join(PIN_FILE);
    // The repository's pin supplies the defaults; it is needed only when a default is.
    let repo_pin = if args.codex_version.is_none() || args.experimental.is_none() {
        Some(Pin::read(&repo_pin_path)?)
    } else {
        None
    };
    let version = match (&args.codex_version, &repo_pin) {
        (Some(v), _) => v.clone(),
        (None, Some(pin)) => pin.codex_version.clone(),
        (None, None) => unreachable!("the pin is read when no version is given"),
    };
    let experimental = match (args.experimental, &repo_pin) {
        (Some(e), _) => e,
        (None, Some(pin)) => pin.experimental,
        (None, None) => unreachable!("the pin is read when no flag is given"),
    };
    let out_dir = args.out.clone().unwrap_or(schema_dir);

    println!("codex {version} (experimental: {experimental})");
    let installed = install(&version)?;
    if installed.cached {
        println!("  binary:  {} (cached; from {})", installed.path.display(), installed.source);
    } else {
        println!("  binary:  {} (downloaded from {})", installed.path.display(), installed.source);
    }

    let generated = generate_bundle(&installed.path, &version, experimental)?;
    let sha256 = sha256_hex(&generated.bundle);
    let stats = bundle_stats(&generated.bundle)?;

    fs::create_dir_all(&out_dir).with_context(|| format!("cannot create output folder {}", out_dir.display()))?;
    let bundle_path = out_dir.join(BUNDLE_FILE);
    let previous = fs::read(&bundle_path).ok();
    write_atomic(&bundle_path, &generated.bundle)?;
    let pin = Pin {
        codex_version: version.clone(),
        experimental,
        source: Some(installed.source.clone()),
        schema_sha256: Some(sha256.clone()),
    };
    let pin_path = out_dir.join(PIN_FILE);
    write_atomic(&pin_path, pin.to_json().as_bytes())?;
    // Drop anything else the generator writes (the v2-only bundle, per-type files,
    // v1/ and v2/) should an earlier copy of it be lying in the output folder.
    for name in &generated.other_outputs {
        remove_if_present(&out_dir.join(name))?;
    }

    let change = match previous {
        None => "new",
        Some(p) if p == generated.bundle => "unchanged",
        Some(_) => "changed",
    };
    println!(
        "  schema:  {} ({change}; {} bytes, {} definitions, {} under definitions.v2)",
        bundle_path.display(),
        generated.bundle.len(),
        stats.definitions,
        stats.v2_definitions
    );
    println!("  sha256:  {sha256}");
    println!("  pin:     {}", pin_path.display());
    Ok(())
}

/// The workspace root: the parent of the xtask crate.
pub fn repo_root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir.parent().expect("xtask lives inside the workspace").to_path_buf()
}

// ---------------------------------------------------------------------------
// pin.json

/// Contents of `schema/pin.json`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pin {
    /// Codex release the bundle was generated by, e.g. `0.169.0`.
    pub codex_version: String,
    /// Whether `--experimental` was passed to the generator.
    pub experimental: bool,
    /// Registry package the binary came from, e.g. `npm:@openai/codex@0.169.0-linux-x64`.
    pub source: Option<String>,
    /// Hex SHA-256 of the bundle file.
    pub schema_sha256: Option<String>,
}

impl Pin {
    pub fn read(path: &Path) -> Result<Pin> {
        let text = fs::read_to_string(path).with_context(|| format!("cannot read pin file {}", path.display()))?;
        Pin::parse(&text).with_context(|| format!("invalid pin file {}", path.display()))
    }

    pub fn parse(text: &str) -> Result<Pin> {
        let value: serde_json::Value = serde_json::from_str(text).context("not JSON")?;
        let object = value.as_object().context("not a JSON object")?;
        let codex_version = object
            .get("codexVersion")
            .context("missing `codexVersion`")?
            .as_str()
            .context("`codexVersion` is not a string")?
            .to_owned();
        validate_version(&codex_version)?;
        let experimental = match object.get("experimental") {
            None => false,
            Some(v) => v.as_bool().context("`experimental` is not a boolean")?,
        };
        let optional_string = |key: &str| -> Result<Option<String>> {
            match object.get(key) {
                None | Some(serde_json::Value::Null) => Ok(None),
                Some(v) => Ok(Some(v.as_str().with_context(|| format!("`{key}` is not a string"))?.to_owned())),
            }
        };
        Ok(Pin {
            codex_version,
            experimental,
            source: optional_string("source")?,
            schema_sha256: optional_string("schemaSha256")?,
        })
    }

    /// Stable rendering: fixed key order, two-space indent, trailing newline.
    pub fn to_json(&self) -> String {
        let quote = |s: &str| serde_json::to_string(s).expect("strings serialize");
        let mut fields = vec![
            format!("\"codexVersion\": {}", quote(&self.codex_version)),
            format!("\"experimental\": {}", self.experimental),
        ];
        if let Some(source) = &self.source {
            fields.push(format!("\"source\": {}", quote(source)));
        }
        if let Some(sha) = &self.schema_sha256 {
            fields.push(format!("\"schemaSha256\": {}", quote(sha)));
        }
        format!("{{\n  {}\n}}\n", fields.join(",\n  "))
    }
}

/// Accept only plain release strings (`0.169.0`, `0.128.0-alpha.1`): they end up in
/// package specs and in a cache path.
fn validate_version(version: &str) -> Result<()> {
    let ok = !version.is_empty()
        && version.starts_with(|c: char| c.is_ascii_digit())
        && version.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+'))
        && !version.contains("..");
    if !ok {
        bail!("`{version}` is not a Codex release version like 0.169.0");
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Installing a release

/// Path to the `codex` binary of `version`, downloading it into the cache on first use.
#[allow(dead_code, reason = "entry point for the conformance tests")]
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

struct Installed {
    path: PathBuf,
    /// e.g. `npm:@openai/codex@0.169.0-linux-x64`
    source: String,
    cached: bool,
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

fn install(version: &str) -> Result<Installed> {
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
    let staging = TempDir::new_in(&root, &format!(".tmp-codex-{version}-"))?;
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
    let scratch = TempDir::new_in(&std::env::temp_dir(), "codex-home-")?;
    let output = run_checked(Command::new(binary).arg("--version").env("CODEX_HOME", scratch.path()))
        .context("the downloaded codex binary does not run")?;
    let said = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    if !said.split_whitespace().any(|word| word == version) {
        eprintln!("  warning: `codex --version` says `{said}`, expected {version}");
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Generating the bundle

struct Generated {
    bundle: Vec<u8>,
    /// Top-level names the generator wrote besides the bundle.
    other_outputs: Vec<String>,
}

fn generate_bundle(binary: &Path, version: &str, experimental: bool) -> Result<Generated> {
    let scratch = TempDir::new_in(&std::env::temp_dir(), "codex-schema-")?;
    let home = scratch.path().join("codex-home");
    let out = scratch.path().join("out");
    fs::create_dir_all(&home)?;
    let mut command = Command::new(binary);
    command
        .args(["app-server", "generate-json-schema", "--out"])
        .arg(&out)
        // Keep codex from touching ~/.codex.
        .env("CODEX_HOME", &home);
    if experimental {
        command.arg("--experimental");
    }
    if let Err(err) = run_checked(&mut command) {
        let text = format!("{err:#}");
        if text.contains("unrecognized subcommand") || text.contains("unexpected argument") {
            return Err(err).context(format!(
                "Codex {version} does not support `app-server generate-json-schema{}`",
                if experimental { " --experimental" } else { "" }
            ));
        }
        return Err(err);
    }
    let bundle_path = out.join(BUNDLE_FILE);
    let bundle = fs::read(&bundle_path).with_context(|| {
        format!("Codex {version} did not write {BUNDLE_FILE}; it wrote: {:?}", list_names(&out).unwrap_or_default())
    })?;
    let other_outputs = list_names(&out)?.into_iter().filter(|name| name != BUNDLE_FILE && name != PIN_FILE).collect();
    Ok(Generated { bundle, other_outputs })
}

struct BundleStats {
    definitions: usize,
    v2_definitions: usize,
}

fn bundle_stats(bundle: &[u8]) -> Result<BundleStats> {
    let value: serde_json::Value = serde_json::from_slice(bundle).context("the generated bundle is not valid JSON")?;
    let definitions = value.get("definitions").and_then(|d| d.as_object());
    let v2 = definitions.and_then(|d| d.get("v2")).and_then(|d| d.as_object());
    Ok(BundleStats { definitions: definitions.map_or(0, |d| d.len()), v2_definitions: v2.map_or(0, |d| d.len()) })
}

// ---------------------------------------------------------------------------
// Small file-system and process helpers

/// Write `path` through a temporary file in the same folder and a rename.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
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

fn remove_if_present(path: &Path) -> Result<()> {
    let result = match fs::symlink_metadata(path) {
        Err(_) => return Ok(()),
        Ok(meta) if meta.is_dir() => fs::remove_dir_all(path),
        Ok(_) => fs::remove_file(path),
    };
    result.with_context(|| format!("cannot remove {}", path.display()))
}

fn move_file(from: &Path, to: &Path) -> Result<()> {
    fs::rename(from, to).with_context(|| format!("cannot move {} to {}", from.display(), to.display()))
}

#[cfg(unix)]
fn make_executable(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(0o755))
        .with_context(|| format!("cannot make {} executable", path.display()))
}

#[cfg(not(unix))]
fn make_executable(_path: &Path) -> Result<()> {
    Ok(())
}

fn list_names(dir: &Path) -> Result<Vec<String>> {
    let mut names = Vec::new();
    for entry in fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))? {
        names.push(entry?.file_name().to_string_lossy().into_owned());
    }
    names.sort();
    Ok(names)
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

/// Run a command; on failure, say which command and show its stderr.
fn run_checked(command: &mut Command) -> Result<Output> {
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

fn describe(command: &Command) -> String {
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

/// A folder removed when dropped unless [`TempDir::keep`] is called.
struct TempDir {
    path: Option<PathBuf>,
}

impl TempDir {
    fn new_in(parent: &Path, prefix: &str) -> Result<TempDir> {
        let path = parent.join(format!("{prefix}{}", unique_suffix()));
        fs::create_dir_all(&path).with_context(|| format!("cannot create temporary folder {}", path.display()))?;
        Ok(TempDir { path: Some(path) })
    }

    fn path(&self) -> &Path {
        self.path.as_deref().expect("not kept yet")
    }

    fn keep(mut self) -> PathBuf {
        self.path.take().expect("not kept yet")
    }
}

impl Drop for TempDir {
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
    fn pin_round_trips_with_fixed_key_order() {
        let pin = Pin {
            codex_version: "0.169.0".into(),
            experimental: false,
            source: Some("npm:@openai/codex@0.169.0-linux-x64".into()),
            schema_sha256: Some("ab".repeat(32)),
        };
        let text = pin.to_json();
        assert!(text.starts_with("{\n  \"codexVersion\": \"0.169.0\",\n  \"experimental\": false,\n"));
        assert!(text.ends_with("\"\n}\n"));
        assert_eq!(Pin::parse(&text).unwrap(), pin);
    }

    #[test]
    fn minimal_pin_parses() {
        let pin = Pin::parse(r#"{"codexVersion": "0.169.0", "experimental": true}"#).unwrap();
        assert_eq!(pin.codex_version, "0.169.0");
        assert!(pin.experimental);
        assert_eq!(pin.source, None);
        let pin = Pin::parse(r#"{"codexVersion": "0.130.0", "extra": 1}"#).unwrap();
        assert!(!pin.experimental);
        assert_eq!(
            Pin::parse(&pin.to_json()).unwrap().to_json(),
            "{\n  \"codexVersion\": \"0.130.0\",\n  \"experimental\": false\n}\n"
        );
    }

    #[test]
    fn bad_pins_are_rejected() {
        assert!(Pin::parse("[]").is_err());
        assert!(Pin::parse(r#"{"experimental": false}"#).is_err());
        assert!(Pin::parse(r#"{"codexVersion": 169}"#).is_err());
        assert!(Pin::parse(r#"{"codexVersion": "../etc"}"#).is_err());
        assert!(Pin::parse(r#"{"codexVersion": "0.1.0", "experimental": "no"}"#).is_err());
    }

    #[test]
    fn versions_are_validated() {
        for ok in ["0.169.0", "0.128.0-alpha.1", "1.0.0+build.5"] {
            validate_version(ok).unwrap();
        }
        for bad in ["", "latest", "0.1/2", "0..1", "-0.1", "0.1 0"] {
            assert!(validate_version(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn repo_pin_is_valid() {
        let pin = Pin::read(&repo_root().join("schema").join(PIN_FILE)).unwrap();
        assert!(!pin.codex_version.is_empty());
    }

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
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

    #[test]
    fn sha256_is_lowercase_hex() {
        assert_eq!(sha256_hex(b"abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
