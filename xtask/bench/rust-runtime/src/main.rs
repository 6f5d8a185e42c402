//! A recorded turn replayed into three consumers: the generated crate's client (`client::Codex`), codex-codes'
//! async client, and a floor that only reads and parses lines. Run by `cargo xtask bench-rust-runtime`.
//!
//! - `compare --stream stream.jsonl --recording python.jsonl [--turns N] [--rounds N] [--pace-us N]` runs every
//!   consumer in fresh processes, round after round, and prints a Markdown table;
//! - `measure --side ours|codex-codes|floor ...` runs one consumer in this process and prints its figures as JSON;
//! - `app-server` is the stand-in server the consumers start (`serve`).

mod clock;
mod codes;
mod consumer;
mod floor;
mod measure;
mod ours;
mod report;
mod serve;
mod server;

use std::path::PathBuf;
use std::str::FromStr;

use consumer::Result;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Ours,
    CodexCodes,
    Floor,
}

impl Side {
    pub const ALL: [Side; 3] = [Side::Ours, Side::CodexCodes, Side::Floor];

    pub fn name(self) -> &'static str {
        match self {
            Side::Ours => "ours",
            Side::CodexCodes => "codex-codes",
            Side::Floor => "floor",
        }
    }
}

impl FromStr for Side {
    type Err = String;

    fn from_str(text: &str) -> std::result::Result<Side, String> {
        Side::ALL.into_iter().find(|side| side.name() == text).ok_or_else(|| format!("no side `{text}`"))
    }
}

/// The command line: a command, then `--name value` pairs.
struct Options {
    command: String,
    pairs: Vec<(String, String)>,
}

impl Options {
    fn parse() -> Result<Options> {
        let mut args = std::env::args().skip(1);
        let command = args.next().ok_or("usage: rust-runtime-bench compare|measure --name value ...")?;
        let mut pairs = Vec::new();
        while let Some(name) = args.next() {
            let name = name.strip_prefix("--").ok_or_else(|| format!("expected --name, got `{name}`"))?.to_owned();
            let value = args.next().ok_or_else(|| format!("--{name} needs a value"))?;
            pairs.push((name, value));
        }
        Ok(Options { command, pairs })
    }

    fn get<T: FromStr>(&self, name: &str, default: Option<T>) -> Result<T>
    where
        T::Err: std::fmt::Display,
    {
        match self.pairs.iter().rev().find(|(n, _)| n == name) {
            Some((_, value)) => value.parse().map_err(|e| format!("--{name} {value}: {e}").into()),
            None => default.ok_or_else(|| format!("--{name} is needed").into()),
        }
    }
}

fn main() -> Result<()> {
    // Clients start the stand-in as `<bin> app-server` followed by arguments of their own.
    if std::env::args().nth(1).as_deref() == Some("app-server") {
        return serve::run();
    }
    let options = Options::parse()?;
    let stream: PathBuf = options.get("stream", None)?;
    let recording: PathBuf = options.get("recording", None)?;
    let inputs = measure::Inputs { stream: &stream, recording: &recording };
    let pace_us: u64 = options.get("pace-us", Some(500))?;
    match options.command.as_str() {
        "measure" => measure::run(options.get("side", None)?, &inputs, options.get("turns", None)?, pace_us),
        "compare" => {
            let turns = options.get("turns", Some(20))?;
            let rounds = options.get("rounds", Some(5))?;
            report::compare(&inputs, turns, rounds, pace_us)
        }
        other => Err(format!("no command `{other}`").into()),
    }
}
