//! `cargo xtask bench-runtime`: the Python client runtime next to the reference SDK (`openai-codex`), each
//! consuming the same recorded turn through `TurnHandle.stream()` from a stand-in server
//! (`xtask/bench/runtime.py`, which prints the Markdown table).

use std::process::Command;

use anyhow::Result;

use crate::python;
use crate::util::{repo_root, target_dir};

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    replay: Replay,
}

/// How a runtime benchmark replays the recorded turn; both runtime benchmarks take these and pass them on to
/// their driver.
#[derive(clap::Args, Debug)]
pub struct Replay {
    /// Turns a client runs in one process, per round (written at once: throughput).
    #[arg(long, default_value_t = 20)]
    turns: u32,
    /// Rounds; in each, every client runs in a fresh process, the order alternating round by round.
    #[arg(long, default_value_t = 5)]
    rounds: u32,
    /// Microseconds between two lines in the latency runs.
    #[arg(long, default_value_t = 500)]
    pace_us: u32,
}

impl Replay {
    /// The driver's flags: `--turns N --rounds N --pace-us N`.
    pub fn flags(&self) -> [String; 6] {
        [
            "--turns".into(),
            self.turns.to_string(),
            "--rounds".into(),
            self.rounds.to_string(),
            "--pace-us".into(),
            self.pace_us.to_string(),
        ]
    }
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
            .arg("compare")
            .args(args.replay.flags())
            .env("PYTHONPATH", root.join("generated/python"))
            .env_remove("PYTHONDONTWRITEBYTECODE"),
        "run the runtime benchmark",
    )
}
