//! How a consumer reaches the stand-in server (`serve`): this benchmark's own binary, which every client starts
//! as its `codex` binary (`<bin> app-server ...`), with its settings in the environment.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub const RECORDING_ENV: &str = "BENCH_RECORDING";
pub const STREAM_ENV: &str = "BENCH_STREAM";
pub const PACE_ENV: &str = "BENCH_PACE_US";
pub const STAMPS_ENV: &str = "BENCH_STAMPS";

pub struct StandIn {
    pub bin: PathBuf,
    stamps: PathBuf,
}

impl StandIn {
    /// The stand-in, noting its write times in `stamps` (a file that must not exist yet).
    pub fn new(stamps: &Path) -> std::io::Result<StandIn> {
        Ok(StandIn { bin: std::env::current_exe()?, stamps: stamps.to_owned() })
    }

    /// The write times the server noted, one list per turn, once it has noted `turns` turns. It notes a turn
    /// after writing it, possibly after the client read its last line: a client must not stop the server
    /// before this returns.
    pub async fn wait_stamps(&self, turns: usize) -> Result<Vec<Vec<u64>>, String> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let text = std::fs::read_to_string(&self.stamps).unwrap_or_default();
            // Only whole lines: the server may be appending one.
            let whole = &text[..text.rfind('\n').map_or(0, |end| end + 1)];
            let stamps: Vec<Vec<u64>> =
                whole.lines().map(serde_json::from_str).collect::<Result<_, _>>().map_err(|e| e.to_string())?;
            if stamps.len() >= turns {
                return Ok(stamps);
            }
            if Instant::now() > deadline {
                return Err(format!("the server noted fewer than {turns} turns in {}", self.stamps.display()));
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }
}
