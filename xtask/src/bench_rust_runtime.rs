//! `cargo xtask bench-rust-runtime`: the Rust client runtime (`client::Codex`) next to codex-codes' async client
//! and a floor that only reads and parses lines, all three consuming the same replayed turn
//! (`xtask/bench/rust-runtime`, which prints the Markdown table); then the time the `client` feature adds to a
//! clean build of the generated crate.
//!
//! The benchmark's crate is outside the workspace and built here only, so `cargo xtask test` never compiles
//! codex-codes. It is a benchmark, never a timed test: nothing fails on a slow machine.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{bail, Result};

use crate::bench_runtime::Replay;
use crate::util::{cargo, machine, repo_root, target_dir, version_line, Scratch};

const BENCH_CRATE: &str = "xtask/bench/rust-runtime";

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    replay: Replay,
    /// Also time clean release builds of the generated crate (debug builds are always timed).
    #[arg(long)]
    release_builds: bool,
    /// Leave out the clean builds.
    #[arg(long)]
    no_builds: bool,
}

pub fn run(args: &Args) -> Result<()> {
    let root = repo_root();
    let bench_target = target_dir(&root).join("bench-rust-runtime");
    eprintln!("==> cargo build --release --manifest-path {BENCH_CRATE}/Cargo.toml");
    let built = Command::new(cargo())
        .args(["build", "--release", "--quiet", "--manifest-path"])
        .arg(root.join(BENCH_CRATE).join("Cargo.toml"))
        .arg("--target-dir")
        .arg(&bench_target)
        .status()?;
    if !built.success() {
        bail!("cannot build the benchmark's crate ({built})");
    }
    let status = Command::new(bench_target.join("release/rust-runtime-bench"))
        .arg("compare")
        .args(args.replay.flags())
        .arg("--stream")
        .arg(root.join("xtask/bench/stream.jsonl"))
        .arg("--recording")
        .arg(root.join("tests/fixtures/wire/python.jsonl"))
        .status()?;
    if !status.success() {
        bail!("the benchmark failed ({status})");
    }
    if !args.no_builds {
        println!();
        let mut profiles = vec![false];
        if args.release_builds {
            profiles.push(true);
        }
        build_times(&root, &profiles)?;
    }
    let rustc = version_line(Command::new("rustc").arg("--version"));
    println!();
    println!("Machine: {}", machine(&rustc));
    Ok(())
}

/// Clean builds of the generated crate with and without the `client` feature, each into a fresh target folder.
fn build_times(root: &Path, profiles: &[bool]) -> Result<()> {
    println!("Clean `cargo build -p codex-app-server-types` (`CARGO_INCREMENTAL=0`, a fresh target folder each):");
    println!();
    println!("| profile | types only | `--features client` | the client adds |");
    println!("|---|---:|---:|---:|");
    for &release in profiles {
        let types = clean_build(root, release, false)?;
        let client = clean_build(root, release, true)?;
        let added = client.as_secs_f64() - types.as_secs_f64();
        println!(
            "| {} | {:.1} s | {:.1} s | {added:+.1} s ({:+.0}%) |",
            if release { "release" } else { "debug" },
            types.as_secs_f64(),
            client.as_secs_f64(),
            100.0 * added / types.as_secs_f64()
        );
    }
    Ok(())
}

fn clean_build(root: &Path, release: bool, client: bool) -> Result<Duration> {
    let scratch = Scratch::new_in(&target_dir(root), "bench-clean-build-")?;
    let mut command = Command::new(cargo());
    command.args(["build", "--quiet", "-p", "codex-app-server-types", "--target-dir"]).arg(scratch.path());
    if release {
        command.arg("--release");
    }
    if client {
        command.args(["--features", "client"]);
    }
    command.current_dir(root).env("CARGO_INCREMENTAL", "0");
    eprintln!("==> clean build: release {release}, client {client}");
    let start = Instant::now();
    let status = command.status()?;
    let elapsed = start.elapsed();
    if !status.success() {
        bail!("the clean build failed ({status})");
    }
    Ok(elapsed)
}
