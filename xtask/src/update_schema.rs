//! `cargo xtask update-schema`: install a Codex release from a package registry (see [`crate::codex`]), ask it for
//! its app-server protocol JSON Schema and rewrite `schema/` with it.
//!
//! * The release defaults to `codexVersion` in `schema/pin.json`.
//! * `codex app-server generate-json-schema` writes a folder of files; only the
//!   combined bundle `codex_app_server_protocol.schemas.json` is kept, byte for byte,
//!   next to a rewritten `pin.json`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result};
use codegen::load::BUNDLE_FILE;

use crate::codex;
use crate::pin::{Pin, PIN_FILE};
use crate::util::{list_names, remove_if_present, repo_root, run_checked, sha256_hex, write_atomic, Scratch};

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
    let installed = codex::install(&version)?;
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
    let pypi_runtime = codex::on_pypi(&version)?;
    let pin = Pin {
        codex_version: version.clone(),
        experimental,
        source: Some(installed.source.clone()),
        schema_sha256: Some(sha256.clone()),
        pypi_runtime,
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
    println!(
        "  PyPI:    {}",
        if pypi_runtime {
            "openai-codex-cli-bin has this release"
        } else {
            "openai-codex-cli-bin does not have this release"
        }
    );
    Ok(())
}

struct Generated {
    bundle: Vec<u8>,
    /// Top-level names the generator wrote besides the bundle.
    other_outputs: Vec<String>,
}

fn generate_bundle(binary: &Path, version: &str, experimental: bool) -> Result<Generated> {
    let scratch = Scratch::new_in(&std::env::temp_dir(), "codex-schema-")?;
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
