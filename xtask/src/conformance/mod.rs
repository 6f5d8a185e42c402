//! `cargo xtask conformance`: the generated bindings against the real `codex app-server` of the pinned release.
//!
//! 1. Installs the pinned `codex` binary (the cache `update-schema` uses), builds the Rust driver
//!    (`binding-tests`' `conformance` binary), sets up the Python virtualenv, and generates the Python package
//!    of the pinned release's `--experimental` schema, to compare drift with.
//! 2. Runs both drivers, one after the other, each against its own `codex app-server` with a scratch
//!    `CODEX_HOME` whose model provider is the loopback mock in `mock.rs`. Where the machine allows it, this
//!    step runs in a network namespace of its own (`unshare --net`) holding only a loopback interface, so no
//!    process of the run can reach any other address; else the proxy variables point at a closed port.
//!    A driver, and any process it started, is killed when it exits or runs out of time.
//! 3. Checks both transcripts with the Rust checker (`binding_tests::conformance`) and the Python one
//!    (`tests/python/wire_check.py`), which print the messages checked per method and direction, and lists the
//!    drift: what the server sent that the pinned schema does not declare, and which of it the experimental
//!    schema does.
//!
//! `--record` then copies the transcripts to `tests/fixtures/wire/`, which the replay tests read.

// The mock the client runtime's tests use too (binding-tests), compiled in here without the crate's dependencies.
#[path = "../../../tests/src/mock.rs"]
#[allow(dead_code)] // helpers for the runtime tests' scratch homes; this run keeps its own layout
mod mock;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::util::repo_root;
use crate::{codex, pin, python, update_schema};

/// The drivers, by name: the transcripts are `<name>.jsonl`.
const DRIVERS: &[&str] = &["python", "rust"];

/// What the scratch folder's path becomes in the recordings.
const RECORDED_SCRATCH: &str = "/scratch";

/// How long one driver may run (the scenarios take a few seconds).
const DRIVER_TIMEOUT: Duration = Duration::from_secs(300);

#[derive(clap::Args, Default)]
pub struct Args {
    /// Copy the transcripts to tests/fixtures/wire/ (the recordings the replay tests read).
    #[arg(long)]
    record: bool,
    /// Internal: run the drivers (step 2) with the plan in this scratch folder.
    #[arg(long, hide = true)]
    drive: Option<PathBuf>,
}

/// What step 2 needs, written to the scratch folder as `plan.json` for the process in the namespace.
#[derive(serde::Serialize, serde::Deserialize)]
struct Plan {
    codex: PathBuf,
    python: PathBuf,
    rust_driver: PathBuf,
    scratch: PathBuf,
    isolated: bool,
}

pub fn run(args: &Args) -> Result<()> {
    if let Some(scratch) = &args.drive {
        let plan: Plan = serde_json::from_slice(&std::fs::read(scratch.join("plan.json"))?)?;
        return drive(&plan);
    }
    let root = repo_root();
    let pin = pin::pinned()?;
    eprintln!("==> conformance against codex app-server {}", pin.codex_version);
    let codex = codex::codex_binary(&pin.codex_version)?;
    let bin = python::venv()?;
    python::run(
        Command::new(env!("CARGO"))
            .args([
                "build",
                "--quiet",
                "-p",
                "binding-tests",
                "--bin",
                "conformance",
                "-p",
                "codegen",
                "--bin",
                "codegen",
            ])
            .current_dir(&root),
        "build the Rust driver",
    )?;
    // The scratch folder stays after the run, so a failure's transcripts and server logs can be read.
    check_python_sources(&bin, &root)?;
    let scratch = root.join("target/conformance");
    if scratch.exists() {
        std::fs::remove_dir_all(&scratch).with_context(|| format!("cannot empty {}", scratch.display()))?;
    }
    std::fs::create_dir_all(&scratch)?;
    let experimental = experimental_package(&root, &scratch)?;

    let isolated = namespace_available();
    let plan = Plan {
        codex,
        python: bin.join("python"),
        rust_driver: root.join("target/debug/conformance"),
        scratch: scratch.clone(),
        isolated,
    };
    std::fs::write(scratch.join("plan.json"), serde_json::to_vec(&plan)?)?;
    let me = std::env::current_exe()?;
    let mut command = if isolated {
        eprintln!("==> drivers in a network namespace with loopback only");
        let mut command = Command::new("unshare");
        command.args(["--net", "--map-root-user", "--", "sh", "-c", r#"ip link set lo up && exec "$@""#, "sh"]);
        command.arg(&me);
        command
    } else {
        eprintln!("==> no network namespace here (unshare or ip missing): proxies point at a closed port");
        Command::new(&me)
    };
    command.arg("conformance").arg("--drive").arg(&scratch);
    let status = command.current_dir(&root).status().context("cannot run the drivers")?;
    let left = processes_of(&plan.codex);
    if !left.is_empty() {
        bail!("codex processes outlived the drivers: {left:?}");
    }
    if !status.success() {
        bail!("the conformance drivers failed ({status}); transcripts and server logs are in {}", scratch.display());
    }

    let transcripts: Vec<PathBuf> = DRIVERS.iter().map(|d| scratch.join(format!("{d}.jsonl"))).collect();
    check(&root, &plan, &transcripts, &experimental)?;
    if args.record {
        let wire = root.join("tests/fixtures/wire");
        std::fs::create_dir_all(&wire)?;
        for (driver, transcript) in DRIVERS.iter().zip(&transcripts) {
            // The scratch folder's path (the servers' working and home folders) is the only part of the
            // traffic that depends on the checkout; it is written as `/scratch` (JSON strings stay valid).
            let text = std::fs::read_to_string(transcript)?;
            let scratch_path = serde_json::to_string(&scratch.display().to_string())?;
            let text = text.replace(scratch_path.trim_matches('"'), RECORDED_SCRATCH);
            std::fs::write(wire.join(format!("{driver}.jsonl")), text)?;
        }
        eprintln!("==> recorded {} transcripts in {}", transcripts.len(), wire.display());
    }
    Ok(())
}

/// The Python side of the suite is held to the generated package's bar: ruff, ruff format, mypy --strict.
fn check_python_sources(bin: &Path, root: &Path) -> Result<()> {
    let dir = root.join("tests/python");
    let files = ["wire_check.py", "conformance_driver.py", "test_wire.py"];
    python::run(
        Command::new(bin.join("ruff")).args(["check", "--quiet", "--no-cache"]).args(files).current_dir(&dir),
        "pass ruff check",
    )?;
    python::run(
        Command::new(bin.join("ruff"))
            .args(["format", "--check", "--quiet", "--no-cache"])
            .args(files)
            .current_dir(&dir),
        "keep the conformance sources as ruff formats them",
    )?;
    python::run(
        Command::new(bin.join("mypy"))
            .args(["--strict", "--cache-dir", "/dev/null"])
            .args(files)
            .env("PYTHONPATH", root.join("generated/python"))
            .current_dir(&dir),
        "pass mypy --strict",
    )
}

/// The Python package of the pinned release's experimental schema, generated into `scratch`.
fn experimental_package(root: &Path, scratch: &Path) -> Result<PathBuf> {
    let schema = scratch.join("experimental-schema");
    update_schema::run(&update_schema::Args {
        codex_version: None,
        experimental: Some(true),
        out: Some(schema.clone()),
    })?;
    let out = scratch.join("experimental");
    python::run(
        Command::new(root.join("target/debug/codegen"))
            .args(["generate", "--lang", "python", "--schema"])
            .arg(&schema)
            .arg("--out")
            .arg(&out),
        "generate the experimental schema's package",
    )?;
    Ok(out.join("python"))
}

/// Whether the drivers can run in a network namespace of their own.
fn namespace_available() -> bool {
    Command::new("unshare")
        .args(["--net", "--map-root-user", "--", "sh", "-c", "ip link set lo up"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Step 2, in the namespace: the mock, then each driver against its own server.
fn drive(plan: &Plan) -> Result<()> {
    let mock = mock::Mock::start()?;
    let root = repo_root();
    let mut failed = Vec::new();
    for driver in DRIVERS {
        let home = plan.scratch.join(format!("home-{driver}"));
        let work = plan.scratch.join(format!("work-{driver}"));
        std::fs::create_dir_all(&home)?;
        std::fs::create_dir_all(&work)?;
        std::fs::write(home.join("config.toml"), mock::config(mock.port))?;
        let transcript = plan.scratch.join(format!("{driver}.jsonl"));
        let mut command = match *driver {
            "python" => {
                let mut command = Command::new(&plan.python);
                command
                    .arg(root.join("tests/python/conformance_driver.py"))
                    .env("PYTHONPATH", root.join("generated/python"));
                command
            }
            _ => {
                let mut command = Command::new(&plan.rust_driver);
                command.arg("drive");
                command
            }
        };
        command.arg(&plan.codex).arg(&transcript).env("CODEX_HOME", &home).current_dir(&work);
        if !plan.isolated {
            let closed = format!("http://127.0.0.1:{}", closed_port()?);
            for name in ["HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"] {
                command.env(name, &closed);
            }
            command.env("NO_PROXY", "127.0.0.1").env("no_proxy", "127.0.0.1");
        }
        eprintln!("==> {driver} driver");
        let started = Instant::now();
        let status = run_bounded(&mut command, DRIVER_TIMEOUT)?;
        eprintln!("    {driver} driver: {status} after {:.1} s", started.elapsed().as_secs_f64());
        if !status.success() {
            failed.push(*driver);
        }
    }
    eprintln!("    the mock answered {} model requests", mock.answered());
    if !failed.is_empty() {
        bail!("drivers failed: {}", failed.join(", "));
    }
    Ok(())
}

/// The ids of running processes whose executable is `binary` (none is expected after a run).
fn processes_of(binary: &Path) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return vec![];
    };
    entries
        .flatten()
        .filter_map(|entry| {
            let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
            let exe = std::fs::read_link(entry.path().join("exe")).ok()?;
            (exe == binary).then_some(pid)
        })
        .collect()
}

/// A loopback port nothing listens on.
fn closed_port() -> Result<u16> {
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0))?;
    Ok(listener.local_addr()?.port())
}

/// Runs `command` in a process group of its own, killing the whole group when it exits or after `timeout`,
/// so no server it started outlives it.
fn run_bounded(command: &mut Command, timeout: Duration) -> Result<ExitStatus> {
    use std::os::unix::process::CommandExt;
    let mut child = command.process_group(0).spawn().context("cannot start the driver")?;
    let group = child.id();
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break Some(status);
        }
        if Instant::now() > deadline {
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    // The group outlives its leader: whatever the driver started and left behind goes with it.
    let _ = Command::new("kill").args(["-KILL", "--", &format!("-{group}")]).stderr(Stdio::null()).status();
    match status {
        Some(status) => Ok(status),
        None => {
            let status = child.wait()?;
            bail!("the driver ran out of time after {} s ({status})", timeout.as_secs())
        }
    }
}

/// Step 3: both checkers over both transcripts, and the drift against the experimental schema.
fn check(root: &Path, plan: &Plan, transcripts: &[PathBuf], experimental: &Path) -> Result<()> {
    eprintln!("==> Rust checker");
    python::run(Command::new(&plan.rust_driver).arg("check").args(transcripts), "pass the Rust checks")?;
    eprintln!("==> Python checker");
    let checker = root.join("tests/python/wire_check.py");
    let pinned_drift = plan.scratch.join("drift-pinned.json");
    python::run(
        Command::new(&plan.python)
            .arg(&checker)
            .args(transcripts)
            .arg("--drift-json")
            .arg(&pinned_drift)
            .env("PYTHONPATH", root.join("generated/python")),
        "pass the Python checks",
    )?;
    let experimental_drift = plan.scratch.join("drift-experimental.json");
    let output = Command::new(&plan.python)
        .arg(&checker)
        .args(transcripts)
        .arg("--drift-json")
        .arg(&experimental_drift)
        .env("PYTHONPATH", experimental)
        .output()?;
    if !output.status.success() {
        bail!(
            "the experimental schema's package does not read the traffic:\n{}",
            String::from_utf8_lossy(&output.stdout)
        );
    }
    let pinned: BTreeMap<String, Vec<String>> = serde_json::from_slice(&std::fs::read(&pinned_drift)?)?;
    let experimental: BTreeMap<String, Vec<String>> = serde_json::from_slice(&std::fs::read(&experimental_drift)?)?;
    eprintln!("==> drift: sent by the server, not declared by the pinned schema (all of it kept losslessly)");
    if pinned.is_empty() {
        eprintln!("  none");
    }
    for (name, items) in &pinned {
        let (declared, undeclared): (Vec<&String>, Vec<&String>) =
            items.iter().partition(|item| !experimental.get(name).is_some_and(|e| e.contains(item)));
        for (verdict, items) in [("declared by --experimental", declared), ("not by --experimental either", undeclared)]
        {
            if !items.is_empty() {
                let list: Vec<&str> = items.iter().map(|s| s.as_str()).collect();
                eprintln!("  {name} ({verdict}): {}", list.join(", "));
            }
        }
    }
    Ok(())
}
