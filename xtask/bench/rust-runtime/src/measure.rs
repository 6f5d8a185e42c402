//! `measure`: one consumer in this process against a fresh server; prints its figures as one JSON line.

use std::path::Path;

use serde_json::json;

use crate::consumer::{Result, Turn};
use crate::server::{StandIn, PACE_ENV, RECORDING_ENV, STAMPS_ENV, STREAM_ENV};
use crate::Side;

/// The replay's inputs: the recorded stream and the conformance recording the answers come from.
pub struct Inputs<'a> {
    pub stream: &'a Path,
    pub recording: &'a Path,
}

pub fn run(side: Side, inputs: &Inputs, turns: usize, pace_us: u64) -> Result<()> {
    let stamps = std::env::temp_dir().join(format!("rust-runtime-bench-{}.jsonl", std::process::id()));
    let _ = std::fs::remove_file(&stamps);
    // Every client passes its environment on to the server it starts.
    std::env::set_var(STREAM_ENV, inputs.stream);
    std::env::set_var(RECORDING_ENV, inputs.recording);
    std::env::set_var(PACE_ENV, pace_us.to_string());
    std::env::set_var(STAMPS_ENV, &stamps);
    let measured = measure(side, &stamps, turns);
    let _ = std::fs::remove_file(&stamps);
    println!("{}", measured?);
    Ok(())
}

fn measure(side: Side, stamps: &Path, turns: usize) -> Result<String> {
    let server = StandIn::new(stamps)?;
    // What `#[tokio::main]` builds: a worker thread per core.
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let (runs, stamps) = runtime.block_on(async {
        let runs: Vec<Turn> = match side {
            Side::Ours => crate::ours::run(&server, turns).await?,
            Side::CodexCodes => crate::codes::run(&server, turns).await?,
            Side::Floor => crate::floor::run(&server, turns).await?,
        };
        let stamps = server.wait_stamps(turns).await?;
        Ok::<_, Box<dyn std::error::Error>>((runs, stamps))
    })?;
    let mut latency_ns = Vec::with_capacity(turns);
    for (run, written) in runs.iter().zip(&stamps) {
        if run.seen.len() != written.len() {
            return Err(
                format!("{side:?}: {} events naming the turn of {} lines", run.seen.len(), written.len()).into()
            );
        }
        latency_ns.push(run.seen.iter().zip(written).map(|(s, w)| s.saturating_sub(*w)).collect::<Vec<_>>());
    }
    let seconds: Vec<f64> = runs.iter().map(|r| r.seconds).collect();
    let notifications: Vec<usize> = runs.iter().map(|r| r.notifications).collect();
    Ok(json!({ "seconds": seconds, "notifications": notifications, "latency_ns": latency_ns }).to_string())
}
