//! `cargo xtask release --codex-version V --out DIR`: stages a release of the bindings of one Codex release, as an
//! SDK maintainer would publish them.
//!
//! It fetches the release's schema (`update-schema --out`, the binary cached), generates the crate and the package
//! with the release as their version, then, in `DIR`:
//!
//! * `rust/`: the crate's sources; `cargo package` (which builds the packaged crate on its own, outside any
//!   workspace) puts `dist/<crate>-<V>.crate` beside them, checked to hold `README.md` and `LICENSE`; `cargo publish
//!   --dry-run` and `cargo doc --all-features` with warnings denied pass;
//! * `python/`: the package's sources; `python -m build` writes the sdist and the wheel into `dist/` (and nothing into
//!   `python/`, checked), `twine check --strict` passes, the wheel holds `py.typed` and `LICENSE`, says its version
//!   and its `runtime` extra; it installs into a clean virtualenv, imports, and its client completes `initialize`
//!   with the real server of the release, reporting the package's version;
//! * `schema/`: the bundle and its `pin.json`.
//!
//! Everything is staged in a folder beside `DIR` and moved to `DIR` when every check has passed: a failed run
//! leaves `DIR` as it was. The commands that would upload the packages are printed, never run.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{bail, Context, Result};

use crate::pin::{Pin, PIN_FILE};
use crate::util::{describe, repo_root, run_checked, target_dir, Scratch};
use crate::{codex, generate, python, update_schema};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The Codex release to bind (`0.169.0`, `0.162.0-alpha.15`) [default: the pin's].
    #[arg(long, value_name = "V")]
    pub codex_version: Option<String>,
    /// The folder to stage the release in; it must not exist, or be empty, and must not be inside a cargo
    /// workspace (the crate is packaged and published from there).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Bind the release's schema with its experimental methods and fields.
    #[arg(long)]
    pub experimental: bool,
    /// The generator's package configuration (JSON: description, license, licenseFile, repository, homepage,
    /// authors, keywords, publish), as `codegen generate --package-config` takes it.
    #[arg(long, value_name = "FILE")]
    pub package_config: Option<PathBuf>,
}

/// The Python tools of the staging, pinned, installed into `target/release-venv`.
const REQUIREMENTS: &str = "xtask/release-requirements.txt";

pub fn run(args: &Args) -> Result<()> {
    let started = Instant::now();
    let tag = match &args.codex_version {
        Some(v) => v.clone(),
        None => crate::pin::pinned()?.codex_version,
    };
    let release = codegen::Release::parse(&tag).map_err(anyhow::Error::msg)?;
    let out = absolute(&args.out)?;
    check_out(&out)?;
    let parent = out.parent().context("--out has no parent folder")?;
    std::fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
    let name = out.file_name().context("--out has no name")?.to_string_lossy().into_owned();
    let staging = Scratch::new_in(parent, &format!(".{name}.staging-"))?;
    let dir = staging.path();
    let dist = dir.join("dist");
    std::fs::create_dir_all(&dist)?;

    eprintln!("==> schema of Codex {release}");
    update_schema::run(&update_schema::Args {
        codex_version: Some(release.semver()),
        experimental: Some(args.experimental),
        out: Some(dir.join("schema")),
    })?;
    let pin = Pin::read(&dir.join("schema").join(PIN_FILE))?;

    eprintln!("==> generate the crate {} and the package {}", release.semver(), release.pep440());
    let mut metadata = codegen::Metadata::default();
    if let Some(file) = &args.package_config {
        let text = std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
        metadata.apply_config(file, &text).map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    metadata.runtime_extra = pin.pypi_runtime;
    let options = codegen::Options {
        command: format!("cargo xtask release --codex-version {}", release.semver()),
        codex_version: Some(release.clone()),
        experimental: args.experimental,
        metadata,
        ..codegen::Options::default()
    };
    let bundle = Path::new(codegen::load::BUNDLE_FILE);
    let text = std::fs::read_to_string(dir.join("schema").join(bundle)).context("cannot read the bundle")?;
    let output = codegen::generate_from_text(bundle, &text, &options).map_err(|e| anyhow::anyhow!("{e}"))?;
    codegen::output::replace_dir(dir, &output.files).context("cannot write the bindings")?;

    let crate_file = stage_crate(dir, &options.rust_crate_name, &release, &dist)?;
    let bin = python::venv_with(&repo_root(), REQUIREMENTS, &repo_root().join("target/release-venv"))?;
    let python_files = stage_python(&bin, dir, &options, &release, pin.pypi_runtime, &dist)?;

    if out.exists() {
        std::fs::remove_dir(&out).with_context(|| format!("cannot replace {}", out.display()))?;
    }
    let staged = staging.keep();
    std::fs::rename(&staged, &out).with_context(|| format!("cannot move {} to {}", staged.display(), out.display()))?;

    let artifact = |file: &str| out.join("dist").join(file).display().to_string();
    println!("staged Codex {release} in {} ({:.0} s):", out.display(), started.elapsed().as_secs_f64());
    println!("  crate   {} {}  {}", options.rust_crate_name, release.semver(), artifact(&crate_file));
    for file in &python_files {
        println!("  python  {} {}  {}", options.python_distribution, release.pep440(), artifact(file));
    }
    if pin.pypi_runtime {
        println!("  extra   [runtime] = openai-codex-cli-bin=={}", release.pep440());
    } else {
        println!("  extra   no [runtime]: PyPI has no openai-codex-cli-bin=={}", release.pep440());
    }
    println!("to publish:");
    println!("  cargo publish --manifest-path {}", out.join("rust/Cargo.toml").display());
    let uploads: Vec<String> = python_files.iter().map(|f| artifact(f)).collect();
    println!("  python3 -m twine upload {}", uploads.join(" "));
    Ok(())
}

/// `path` made absolute against the working folder.
fn absolute(path: &Path) -> Result<PathBuf> {
    Ok(if path.is_absolute() { path.to_path_buf() } else { std::env::current_dir()?.join(path) })
}

/// `out` may not hold anything, nor be inside a cargo workspace, whose root would claim the crate.
fn check_out(out: &Path) -> Result<()> {
    if out.exists() {
        let mut entries = std::fs::read_dir(out).with_context(|| format!("--out {} is not a folder", out.display()))?;
        if entries.next().is_some() {
            bail!("--out {} is not empty; give a new or empty folder", out.display());
        }
    }
    for dir in out.ancestors().skip(1) {
        let manifest = dir.join("Cargo.toml");
        if std::fs::read_to_string(&manifest).is_ok_and(|text| text.lines().any(|l| l.trim() == "[workspace]")) {
            bail!(
                "--out {} is inside the cargo workspace of {}: the staged crate could not be packaged or published \
                 there; stage it outside (e.g. under /tmp)",
                out.display(),
                manifest.display()
            );
        }
    }
    Ok(())
}

/// `cargo package` (building the packaged crate on its own), its file list, `cargo publish --dry-run`, and `cargo doc`
/// with every feature and warnings denied; the `.crate` goes to `dist`. Returns its file name.
fn stage_crate(dir: &Path, name: &str, release: &codegen::Release, dist: &Path) -> Result<String> {
    let manifest = dir.join("rust/Cargo.toml");
    // One target folder for every staging, kept between runs: only the generated crate is rebuilt.
    let target = target_dir(&repo_root()).join("release-staging");
    let cargo = |args: &[&str]| {
        let mut command = Command::new(env!("CARGO"));
        command.args(args).arg("--manifest-path").arg(&manifest).env("CARGO_TARGET_DIR", &target);
        command
    };
    eprintln!("==> cargo package (the packaged crate is built on its own)");
    let listed = run_checked(&mut cargo(&["package", "--list", "--quiet"]))?;
    let listed = String::from_utf8_lossy(&listed.stdout).into_owned();
    for file in ["Cargo.toml", "README.md", "LICENSE", "src/lib.rs"] {
        if !listed.lines().any(|l| l == file) {
            bail!("the packaged crate lacks {file}; it holds:\n{listed}");
        }
    }
    step(&mut cargo(&["package", "--quiet"]), "package the crate")?;
    let crate_file = format!("{name}-{}.crate", release.semver());
    std::fs::copy(target.join("package").join(&crate_file), dist.join(&crate_file))
        .with_context(|| format!("cannot copy {crate_file}"))?;
    eprintln!("==> cargo publish --dry-run");
    step(&mut cargo(&["publish", "--dry-run", "--no-verify", "--quiet"]), "pass cargo publish --dry-run")?;
    eprintln!("==> cargo doc --all-features, warnings denied");
    let mut doc = cargo(&["doc", "--no-deps", "--all-features", "--quiet"]);
    doc.env("RUSTDOCFLAGS", "-D warnings");
    step(&mut doc, "document the crate without warnings")?;
    Ok(crate_file)
}

/// Builds the sdist and the wheel into `dist` (checking that the build writes nothing into the sources), checks
/// them with twine and by their contents, installs the wheel into a clean virtualenv and drives the real server with
/// it. Returns the two files' names.
fn stage_python(
    bin: &Path,
    dir: &Path,
    options: &codegen::Options,
    release: &codegen::Release,
    runtime_extra: bool,
    dist: &Path,
) -> Result<Vec<String>> {
    let sources = dir.join("python");
    let before = generate::fingerprint(&sources);
    eprintln!("==> python -m build (sdist, then the wheel from it)");
    step(
        Command::new(bin.join("python"))
            .args(["-m", "build", "--no-isolation", "--outdir"])
            .arg(dist)
            .arg(&sources)
            .env("PYTHONDONTWRITEBYTECODE", "1"),
        "build the sdist and the wheel",
    )?;
    let after = generate::fingerprint(&sources);
    if after != before {
        bail!("building the package wrote into its sources: {:?}", after.keys().filter(|k| !before.contains_key(*k)));
    }
    let stem = format!("{}-{}", options.python_package, release.pep440());
    let wheel = format!("{stem}-py3-none-any.whl");
    let sdist = format!("{stem}.tar.gz");
    for file in [&wheel, &sdist] {
        if !dist.join(file).is_file() {
            bail!("python -m build did not write {file}");
        }
    }
    eprintln!("==> twine check --strict");
    step(
        Command::new(bin.join("twine")).args(["check", "--strict"]).arg(dist.join(&wheel)).arg(dist.join(&sdist)),
        "pass twine check",
    )?;
    eprintln!("==> the wheel's contents and metadata");
    let facts = serde_json::json!({
        "wheel": dist.join(&wheel),
        "sdist": dist.join(&sdist),
        "package": options.python_package,
        "version": release.pep440(),
        "runtime": runtime_extra.then(|| format!("openai-codex-cli-bin=={}", release.pep440())),
    });
    step(Command::new(bin.join("python")).args(["-c", CHECK_WHEEL, &facts.to_string()]), "hold the expected files")?;

    eprintln!("==> install the wheel into a clean virtualenv, import it, initialize with the real server");
    let scratch = Scratch::new("release-smoke")?;
    let venv = scratch.path().join("venv");
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
    step(Command::new(&python).args(["-m", "venv"]).arg(&venv), "create a clean virtualenv")?;
    step(
        Command::new(venv.join("bin/python"))
            .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check"])
            .arg(dist.join(&wheel)),
        "install the wheel",
    )?;
    let home = scratch.path().join("codex-home");
    std::fs::create_dir_all(&home)?;
    let codex_bin = codex::codex_binary(&release.semver())?;
    let facts = serde_json::json!({
        "package": options.python_package,
        "version": release.pep440(),
        "codex_version": release.semver(),
        "codex_bin": codex_bin,
        "codex_home": home,
    });
    step(
        Command::new(venv.join("bin/python"))
            .args(["-c", SMOKE, &facts.to_string()])
            .current_dir(scratch.path())
            .env("PYTHONDONTWRITEBYTECODE", "1"),
        "import the installed package and initialize with the real server",
    )?;
    Ok(vec![wheel, sdist])
}

fn step(command: &mut Command, what: &str) -> Result<()> {
    let line = describe(command);
    python::run(command, what).with_context(|| format!("`{line}`"))
}

/// Checks the wheel and the sdist: `py.typed` and the license in both, the wheel's version and its `runtime` extra.
const CHECK_WHEEL: &str = r#"
import json, sys, tarfile, zipfile
facts = json.loads(sys.argv[1])
package, version = facts["package"], facts["version"]
wheel = zipfile.ZipFile(facts["wheel"])
names = wheel.namelist()
info = f"{package}-{version}.dist-info"
for needed in [f"{package}/py.typed", f"{package}/__init__.py", f"{info}/licenses/LICENSE", f"{info}/METADATA"]:
    assert needed in names, f"the wheel lacks {needed}"
metadata = wheel.read(f"{info}/METADATA").decode()
lines = metadata.splitlines()
assert f"Version: {version}" in lines, f"the wheel's version is not {version}"
extra = [l for l in lines if l.startswith("Requires-Dist:") and "extra == \"runtime\"" in l]
if facts["runtime"]:
    assert extra and facts["runtime"] in extra[0].replace(" ", ""), f"no runtime extra on {facts['runtime']}: {extra}"
else:
    assert not extra, f"a runtime extra on a release PyPI does not have: {extra}"
sdist = tarfile.open(facts["sdist"]).getnames()
root = f"{package}-{version}"
for needed in ["pyproject.toml", "README.md", "LICENSE", f"{package}/py.typed"]:
    assert f"{root}/{needed}" in sdist, f"the sdist lacks {needed}"
print(f"wheel: {len(names)} files, version {version}; runtime extra: {facts['runtime']}; sdist: {len(sdist)} files")
"#;

/// In the clean virtualenv: the installed package's versions, its client's default version, and `initialize` with the
/// real server, whose `userAgent` echoes the client's name and version.
const SMOKE: &str = r#"
import importlib, json, logging, sys
from importlib.metadata import version as installed_version
facts = json.loads(sys.argv[1])
pkg = importlib.import_module(facts["package"])
assert pkg.__file__ and "site-packages" in pkg.__file__, f"imported from {pkg.__file__}, not the installed wheel"
assert pkg.__version__ == facts["version"], pkg.__version__
assert pkg.CODEX_VERSION == facts["codex_version"], pkg.CODEX_VERSION
assert installed_version(facts["package"].replace("_", "-")) == facts["version"]
client = importlib.import_module(facts["package"] + ".client")
config = client.CodexConfig(codex_bin=facts["codex_bin"], env={"CODEX_HOME": facts["codex_home"]})
assert config.client_version == facts["version"], config.client_version
with client.Codex(config) as codex:
    agent = codex.initialize_response.user_agent
    reported = f"({config.client_name}; {facts['version']})"
    assert agent.endswith(reported), f"the server's userAgent {agent!r} does not echo {reported}"
    assert codex.server_version is not None
print(f"installed {facts['package']} {pkg.__version__} (Codex {pkg.CODEX_VERSION}); initialize: {agent}")
"#;
