//! The floor: the least a client can do. It starts the same server, does the handshake, and reads each line
//! of a turn with tokio into a `serde_json::Value`, until `turn/completed`; no types, no routing.

use std::process::Stdio;
use std::time::Instant;

use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{ChildStdin, ChildStdout, Command};

use crate::clock::monotonic_ns;
use crate::consumer::{names_turn, Result, Turn};
use crate::server::StandIn;

struct Wire {
    input: ChildStdin,
    output: BufReader<ChildStdout>,
    line: String,
}

impl Wire {
    async fn send(&mut self, message: Value) -> Result<()> {
        let mut text = message.to_string();
        text.push('\n');
        self.input.write_all(text.as_bytes()).await?;
        Ok(())
    }

    async fn next(&mut self) -> Result<Value> {
        self.line.clear();
        if self.output.read_line(&mut self.line).await? == 0 {
            return Err("the server closed its output".into());
        }
        Ok(serde_json::from_str(&self.line)?)
    }

    /// Sends a request and reads up to its answer's `result`.
    async fn call(&mut self, id: u64, method: &str, params: Value) -> Result<Value> {
        self.send(json!({ "id": id, "method": method, "params": params })).await?;
        loop {
            let mut message = self.next().await?;
            if message.get("method").is_none() && message["id"] == id {
                return Ok(message["result"].take());
            }
        }
    }
}

pub async fn run(server: &StandIn, turns: usize) -> Result<Vec<Turn>> {
    let mut child = Command::new(&server.bin)
        .arg("app-server")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()?;
    let (Some(input), Some(output)) = (child.stdin.take(), child.stdout.take()) else {
        return Err("the server's stdio is not piped".into());
    };
    let mut wire = Wire { input, output: BufReader::new(output), line: String::new() };
    wire.call(1, "initialize", json!({ "clientInfo": { "name": "floor", "version": "0" } })).await?;
    wire.send(json!({ "method": "initialized" })).await?;
    let thread = wire.call(2, "thread/start", json!({})).await?;
    let thread_id = thread["thread"]["id"].as_str().ok_or("thread/start without a thread id")?.to_owned();
    let mut out = Vec::with_capacity(turns);
    for turn in 0..turns {
        let mut seen = Vec::with_capacity(512);
        let mut notifications = 0;
        let start = Instant::now();
        let input = json!([{ "type": "text", "text": "go" }]);
        let id = 3 + turn as u64;
        wire.send(json!({ "id": id, "method": "turn/start", "params": { "threadId": thread_id, "input": input } }))
            .await?;
        loop {
            let message = wire.next().await?;
            let now = monotonic_ns();
            let Some(method) = message.get("method").and_then(Value::as_str) else {
                continue; // turn/start's answer
            };
            notifications += 1;
            if names_turn(method) {
                seen.push(now);
            }
            if method == "turn/completed" {
                break;
            }
        }
        out.push(Turn { seconds: start.elapsed().as_secs_f64(), notifications, seen });
    }
    server.wait_stamps(turns).await?;
    drop(wire);
    child.wait().await?;
    Ok(out)
}
