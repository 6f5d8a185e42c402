//! A loopback mock of the Responses API (`POST /v1/responses`, answered with a server-sent event stream): the model
//! provider of tests that run the real `codex app-server` offline, with a scratch `CODEX_HOME` pointing at it.
//!
//! It keeps no state: each request is answered by the markers in the last user message of its `input`:
//! - `[mock:text]` (and anything unmarked): an assistant message streamed in deltas;
//! - `[mock:exec]`: a call of the `exec_command` tool that needs approval (`echo hi`, escalated), and, once the
//!   call's output is in the input, an assistant message;
//! - `[mock:fail]`: a stream that fails (`response.failed`) after it started;
//! - `[mock:slow]`: an assistant message streamed slowly (a delta every 200 ms for about 20 s), to interrupt or
//!   steer;
//! - `[token:WORD]`: `WORD` is echoed in the assistant message, so that a test can tell turns apart.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};

/// A running mock: its port and how many requests it answered.
pub struct Mock {
    pub port: u16,
    answered: Arc<AtomicUsize>,
}

impl Mock {
    /// Listens on an ephemeral loopback port; the listener lives as long as the process.
    pub fn start() -> Result<Mock> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).context("cannot listen on loopback")?;
        let port = listener.local_addr()?.port();
        let answered = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&answered);
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let counter = Arc::clone(&counter);
                thread::spawn(move || {
                    if let Err(e) = serve(stream) {
                        eprintln!("mock responses API: {e:#}");
                    } else {
                        counter.fetch_add(1, Ordering::Relaxed);
                    }
                });
            }
        });
        Ok(Mock { port, answered })
    }

    pub fn answered(&self) -> usize {
        self.answered.load(Ordering::Relaxed)
    }

    /// A scratch `CODEX_HOME` under `dir` whose model provider is this mock.
    pub fn codex_home(&self, dir: &Path) -> Result<PathBuf> {
        let home = dir.join("codex-home");
        std::fs::create_dir_all(&home)?;
        std::fs::write(home.join("config.toml"), config(self.port))?;
        Ok(home)
    }
}

/// The scratch `config.toml`: the mock as the model provider, no retries, approval on request.
pub fn config(port: u16) -> String {
    format!(
        r#"model = "mock-model"
model_provider = "mock"
approval_policy = "on-request"
sandbox_mode = "read-only"

[model_providers.mock]
name = "mock"
base_url = "http://127.0.0.1:{port}/v1"
wire_api = "responses"
request_max_retries = 0
stream_max_retries = 0
"#
    )
}

/// Reads one HTTP request and writes its answer; the connection is closed after it.
fn serve(stream: TcpStream) -> Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    let mut length = 0usize;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header)? == 0 || header == "\r\n" {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().context("a bad content-length")?;
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    let mut stream = stream;
    let path = request_line.split_whitespace().nth(1).unwrap_or("");
    if !request_line.starts_with("POST ") || path != "/v1/responses" {
        stream.write_all(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")?;
        bail!("unexpected request: {}", request_line.trim());
    }
    let request: Value = serde_json::from_slice(&body).context("the request body is not JSON")?;
    let (events, pause) = answer(&request);
    stream.write_all(
        b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\nconnection: close\r\n\r\n",
    )?;
    for event in events {
        let kind = event["type"].as_str().expect("every event has a type");
        if kind == "response.output_text.delta" && !pause.is_zero() {
            thread::sleep(pause);
        }
        // A client that went away (an interrupted turn) ends the stream.
        if stream.write_all(format!("event: {kind}\ndata: {event}\n\n").as_bytes()).is_err() {
            return Ok(());
        }
        stream.flush()?;
    }
    let _ = stream.shutdown(Shutdown::Write);
    Ok(())
}

/// What the last user message asks for, and whether a tool's output came after it.
pub fn last_prompt(request: &Value) -> (String, bool) {
    let mut prompt = String::new();
    let mut tool_output = false;
    for item in request["input"].as_array().into_iter().flatten() {
        match item["type"].as_str() {
            Some("message") if item["role"] == "user" => {
                prompt = item["content"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|part| part["text"].as_str())
                    .collect::<Vec<_>>()
                    .join("\n");
                tool_output = false;
            }
            Some("function_call_output") => tool_output = true,
            _ => {}
        }
    }
    (prompt, tool_output)
}

/// The `WORD` of a `[token:WORD]` marker.
pub fn token(prompt: &str) -> Option<&str> {
    let start = prompt.find("[token:")? + "[token:".len();
    let end = prompt[start..].find(']')? + start;
    Some(&prompt[start..end])
}

/// The events of the answer to one request, and the pause before each delta.
pub fn answer(request: &Value) -> (Vec<Value>, Duration) {
    let (prompt, tool_output) = last_prompt(request);
    let created = json!({ "type": "response.created", "response": { "id": "resp_mock" } });
    if prompt.contains("[mock:fail]") {
        let error = json!({ "code": "server_error", "message": "the mock's stream fails on purpose" });
        let failed = json!({ "type": "response.failed", "response": { "id": "resp_mock", "error": error } });
        return (vec![created, failed], Duration::ZERO);
    }
    let mut events = vec![created];
    let mut pause = Duration::ZERO;
    if prompt.contains("[mock:exec]") && !tool_output {
        let arguments = json!({ "cmd": "echo hi", "sandbox_permissions": "require_escalated", "login": false });
        let call = json!({
            "type": "function_call",
            "id": "fc_mock",
            "call_id": "call_mock",
            "name": "exec_command",
            "arguments": arguments.to_string(),
        });
        events.push(json!({ "type": "response.output_item.added", "output_index": 0, "item": call }));
        events.push(json!({ "type": "response.output_item.done", "output_index": 0, "item": call }));
    } else {
        let mut chunks: Vec<String> = ["Hello", " from", " the mock."].map(String::from).to_vec();
        if let Some(token) = token(&prompt) {
            chunks.push(format!(" token={token}"));
        }
        if tool_output {
            chunks.push(" The command ran.".into());
        }
        if prompt.contains("[mock:slow]") {
            chunks.extend((0..100).map(|i| format!(" {i}")));
            pause = Duration::from_millis(200);
        }
        let started = json!({ "type": "message", "role": "assistant", "id": "msg_mock", "content": [] });
        events.push(json!({ "type": "response.output_item.added", "output_index": 0, "item": started }));
        for chunk in &chunks {
            events.push(json!({
                "type": "response.output_text.delta",
                "output_index": 0,
                "content_index": 0,
                "item_id": "msg_mock",
                "delta": chunk,
            }));
        }
        let text = json!({ "type": "output_text", "text": chunks.concat(), "annotations": [] });
        let done = json!({ "type": "message", "role": "assistant", "id": "msg_mock", "content": [text] });
        events.push(json!({ "type": "response.output_item.done", "output_index": 0, "item": done }));
    }
    let usage = json!({ "input_tokens": 10, "output_tokens": 5, "total_tokens": 15 });
    events.push(json!({ "type": "response.completed", "response": { "id": "resp_mock", "usage": usage } }));
    (events, pause)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(items: Value) -> Value {
        json!({ "model": "mock-model", "input": items })
    }

    fn user(text: &str) -> Value {
        json!({ "type": "message", "role": "user", "content": [{ "type": "input_text", "text": text }] })
    }

    fn types(events: &[Value]) -> Vec<&str> {
        events.iter().map(|e| e["type"].as_str().unwrap()).collect()
    }

    #[test]
    fn answers_by_the_last_prompt() {
        let (text, _) = answer(&request(json!([user("[mock:exec] x"), user("[mock:text] hello [token:t1]")])));
        assert_eq!(types(&text)[2..6], ["response.output_text.delta"; 4]);
        assert_eq!(text[5]["delta"], " token=t1");

        let (exec, _) = answer(&request(json!([user("[mock:exec] run")])));
        assert_eq!(exec[1]["item"]["name"], "exec_command");

        let (after, _) = answer(&request(json!([
            user("[mock:exec] run"),
            { "type": "function_call", "call_id": "call_mock" },
            { "type": "function_call_output", "call_id": "call_mock", "output": "hi" },
        ])));
        assert_eq!(after[1]["item"]["type"], "message");

        let (fail, _) = answer(&request(json!([user("[mock:fail] no")])));
        assert_eq!(types(&fail), ["response.created", "response.failed"]);

        let (slow, pause) = answer(&request(json!([user("[mock:slow]")])));
        assert!(slow.len() > 100 && !pause.is_zero());
    }

    #[test]
    fn serves_an_event_stream_over_loopback() {
        let mock = Mock::start().unwrap();
        let body = request(json!([user("[mock:text] hi")])).to_string();
        let mut stream = TcpStream::connect(("127.0.0.1", mock.port)).unwrap();
        write!(stream, "POST /v1/responses HTTP/1.1\r\ncontent-length: {}\r\n\r\n{body}", body.len()).unwrap();
        let mut text = String::new();
        stream.read_to_string(&mut text).unwrap();
        assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{text}");
        assert!(text.contains("event: response.output_text.delta\ndata: {"), "{text}");
        assert!(text.ends_with("\n\n"), "{text}");
    }
}
