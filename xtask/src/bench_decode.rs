//! `cargo xtask bench-decode [--rounds N]`: how fast the generated crate reads what the server writes, on the
//! recorded traffic: `rpc::decode_server_message` next to the envelope and params read on their own and to a
//! plain `serde_json::Value`. The work is `tests/src/bin/decode.rs`, built in release; this runs it. A benchmark,
//! never a timed test.

use std::process::Command;

use anyhow::Result;

use crate::util::{cargo, machine, repo_root, run_checked};

#[derive(clap::Args, Debug, Clone)]
pub struct Args {
    /// Timed blocks of each way (each 20 passes over every line).
    #[arg(long, value_name = "N", default_value_t = 31, value_parser = clap::value_parser!(u32).range(1..))]
    pub rounds: u32,
}

pub fn run(args: &Args) -> Result<()> {
    let root = repo_root();
    let mut bench = Command::new(cargo());
    bench.current_dir(&root).args(["run", "--quiet", "--release", "-p", "binding-tests", "--bin", "decode", "--"]);
    let output = run_checked(bench.arg(args.rounds.to_string()))?;
    print!("{}", String::from_utf8_lossy(&output.stdout));
    println!("{}", machine("release build"));
    Ok(())
}
