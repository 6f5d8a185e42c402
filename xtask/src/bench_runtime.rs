//! `cargo xtask bench-runtime`: the Python client runtime next to the reference SDK (`openai-codex`), each
//! consuming the same recorded turn through `TurnHandle.stream()` from a stand-in server
//! (`xtask/bench/runtime.py`, which prints the Markdown table).

use std::process::Command;

use anyhow::Result;

use crate::python;
use crate::util::{repo_root, target_dir};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Turns a side runs on one thread, per round (written at once: throughput).
    #[arg(long, default_value_t = 20)]
    turns: u32,
    /// Rounds, the two sides alternating.
    #[arg(long, default_value_t = 5)]
    rounds: u32,
    /// Microseconds between two lines in the latency runs.
    #[arg(long, default_value_t = 500)]
    pace_us: u32,
}

pub fn run(args: &Args) -> Result<()> {
    let root = repo_root();
    let bin = python::venv_with(
        &root,
        "xtask/bench/runtime-requirements.txt",
        &target_dir(&root).join("bench-runtime-venv"),
    )?;
    python::run(
        Command::new(bin.join("python"))
            .arg(root.join("xtask/bench/runtime.py"))
            .args(["compare", "--turns", &args.turns.to_string(), "--rounds", &args.rounds.to_string()])
            .args(["--pace-us", &args.pace_us.to_string()])
            .env("PYTHONPATH", root.join("generated/python"))
            .env_remove("PYTHONDONTWRITEBYTECODE"),
        "run the runtime benchmark",
    )
}
