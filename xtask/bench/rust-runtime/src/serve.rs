//! `app-server`: the stand-in server, the same replay as `xtask/bench/runtime_server.py` written in Rust.
//!
//! The Python server takes ~0.2 ms of CPU a turn and rewrites its whole stamp file after each turn, while the
//! next `turn/start` waits: a floor that reads without decoding was bound by it. This one answers `initialize`,
//! `thread/start` and `turn/start` with the real server's first answers in the conformance recording, then
//! writes the notifications of `stream.jsonl` as one turn (one `turn/started` first, one `turn/completed` last,
//! `thread/started` left out), with the stream's thread and turn ids rewritten to the thread and turn just
//! started. Other requests get an empty result.
//!
//! Settings come from the environment (clients start it as `<bin> app-server ...` and pass theirs on):
//! `BENCH_RECORDING`, `BENCH_STREAM`, `BENCH_PACE_US` (microseconds between two lines; 0 writes the turn at
//! once) and `BENCH_STAMPS`: the file to which each turn appends one JSON array, the `CLOCK_MONOTONIC` time at
//! which each line naming the turn was written.

use std::collections::{BTreeSet, HashMap};
use std::io::{BufRead, Write};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::clock::monotonic_ns;
use crate::consumer::Result;
use crate::server::{PACE_ENV, RECORDING_ENV, STAMPS_ENV, STREAM_ENV};

const THREAD: &str = "thread-bench";
const TURN: &str = "turn-bench";

/// The first result the real server sent for each method the client asked.
fn recorded_results(text: &str) -> Result<HashMap<String, Value>> {
    let mut methods = HashMap::new();
    let mut results = HashMap::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let mut entry: Value = serde_json::from_str(line)?;
        let message = entry["message"].take();
        let id = message["id"].to_string();
        match (entry["from"].as_str(), message.get("method").and_then(Value::as_str)) {
            (Some("client"), Some(method)) if message.get("id").is_some() => {
                methods.insert(id, method.to_owned());
            }
            (Some("server"), None) if message.get("result").is_some() => {
                if let Some(method) = methods.get(&id) {
                    results.entry(method.clone()).or_insert_with(|| message["result"].clone());
                }
            }
            _ => {}
        }
    }
    Ok(results)
}

/// The replayed turn, one line each with the placeholder ids, and whether each names the turn.
fn turn_template(text: &str) -> Result<Vec<(String, bool)>> {
    let lines: Vec<(&str, Value)> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).map(|v| (l, v)))
        .collect::<std::result::Result<_, _>>()?;
    let method = |v: &Value| v["method"].as_str().unwrap_or_default().to_owned();
    let mut threads = BTreeSet::new();
    let mut turns = BTreeSet::new();
    for (_, message) in &lines {
        let params = &message["params"];
        threads.extend(params["threadId"].as_str().map(str::to_owned));
        turns.extend(params["turnId"].as_str().map(str::to_owned));
        if matches!(method(message).as_str(), "turn/started" | "turn/completed") {
            turns.extend(params["turn"]["id"].as_str().map(str::to_owned));
        }
    }
    let started = lines.iter().find(|(_, m)| method(m) == "turn/started").ok_or("no turn/started")?;
    let completed = lines.iter().rev().find(|(_, m)| method(m) == "turn/completed").ok_or("no turn/completed")?;
    let body = lines
        .iter()
        .filter(|(_, m)| !matches!(method(m).as_str(), "turn/started" | "turn/completed" | "thread/started"));
    // The stream is compact JSON already, so its lines are the text to send.
    let mut template = Vec::with_capacity(lines.len());
    for (line, _) in std::iter::once(started).chain(body).chain(std::iter::once(completed)) {
        let mut line = line.to_string();
        for old in &threads {
            line = line.replace(old.as_str(), THREAD);
        }
        for old in &turns {
            line = line.replace(old.as_str(), TURN);
        }
        let named = line.contains(TURN);
        line.push('\n');
        template.push((line, named));
    }
    Ok(template)
}

fn setting(name: &str) -> Result<String> {
    std::env::var(name).map_err(|_| format!("the stand-in server needs {name}").into())
}

pub fn run() -> Result<()> {
    let results = recorded_results(&std::fs::read_to_string(setting(RECORDING_ENV)?)?)?;
    let template = turn_template(&std::fs::read_to_string(setting(STREAM_ENV)?)?)?;
    let pace = Duration::from_micros(setting(PACE_ENV)?.parse()?);
    let mut stamps_file = std::fs::OpenOptions::new().create(true).append(true).open(setting(STAMPS_ENV)?)?;
    let thread_start = &results["thread/start"];
    let thread_id = thread_start["thread"]["id"].as_str().ok_or("thread/start without an id")?;
    let thread_result: Value = serde_json::from_str(&thread_start.to_string().replace(thread_id, THREAD))?;
    let mut turns = 0;
    let mut out = std::io::stdout().lock();
    let send = |out: &mut std::io::StdoutLock, message: Value| -> Result<()> {
        out.write_all(format!("{message}\n").as_bytes())?;
        Ok(out.flush()?)
    };
    for line in std::io::stdin().lock().lines() {
        let message: Value = serde_json::from_str(&line?)?;
        let (Some(method), Some(id)) = (message.get("method").and_then(Value::as_str), message.get("id")) else {
            continue;
        };
        match method {
            "initialize" => send(&mut out, json!({ "id": id, "result": results["initialize"] }))?,
            "thread/start" => send(&mut out, json!({ "id": id, "result": thread_result }))?,
            "turn/start" => {
                let turn_id = format!("turn-{turns}");
                turns += 1;
                let mut result = results["turn/start"].clone();
                result["turn"]["id"] = Value::String(turn_id.clone());
                send(&mut out, json!({ "id": id, "result": result }))?;
                let written = replay(&mut out, &template, &turn_id, pace)?;
                // Appended after every turn: a client may stop the server as soon as it is done with it.
                stamps_file.write_all(format!("{}\n", json!(written)).as_bytes())?;
            }
            _ => send(&mut out, json!({ "id": id, "result": {} }))?,
        }
    }
    Ok(())
}

/// Writes one turn; the times the lines naming it were written.
fn replay(out: &mut impl Write, template: &[(String, bool)], turn: &str, pace: Duration) -> Result<Vec<u64>> {
    let lines: Vec<(String, bool)> = template.iter().map(|(l, named)| (l.replace(TURN, turn), *named)).collect();
    let named = lines.iter().filter(|(_, named)| *named).count();
    if pace.is_zero() {
        let text: String = lines.iter().map(|(l, _)| l.as_str()).collect();
        let written = vec![monotonic_ns(); named];
        out.write_all(text.as_bytes())?;
        out.flush()?;
        return Ok(written);
    }
    let mut written = Vec::with_capacity(named);
    for (line, named) in &lines {
        let deadline = Instant::now() + pace;
        if *named {
            written.push(monotonic_ns());
        }
        out.write_all(line.as_bytes())?;
        out.flush()?;
        std::thread::sleep(deadline.saturating_duration_since(Instant::now()));
    }
    Ok(written)
}
