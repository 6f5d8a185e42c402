//! A scripted stand-in for `codex app-server` on stdio, for the client runtime's tests: it answers the handshake,
//! starts threads and turns with canned events, and has `test/*` requests that make it misbehave on purpose.
//!
//! - `turn/start`: `turn/started` and a delta (the input's text) before the answer, then the item, usage and
//!   `turn/completed`; input containing `[hold]` keeps the turn open until `test/release`, which finishes every
//!   held turn with their events interleaved. Before the answer, input containing `[status]` also sends the
//!   thread's `thread/status/changed` (which names no turn), and input containing `[release]` first finishes the
//!   held turns, as `test/release` does. Input containing `[badturn]` is answered with a turn that does not decode.
//! - `test/hang`: not answered, until `test/answer-hung` answers every such request so far (late: `{"late": true}`).
//!   `test/exit`: the server exits (status 3) at once, after a line of stderr.
//! - `test/malformed`: a line that is not JSON, one that is not UTF-8, and a notification of an unknown method, then
//!   `{}`.
//! - `test/ask` `{"method", "params"}`: the server sends that request to the client, and answers `test/ask` with
//!   the client's reply as `{"reply": ...}`.
//! - `test/pid`: the server's process id. `test/notify`: sends its params (a notification) to the client.
//!   `test/reply`: answered with its params' members beside the id (`{"result": 1, "error": null}`, say).
//! - `test/stderr`: writes a line that is not UTF-8 to stderr, then one that is.
//! - `test/long` `{"bytes": N}`: a notification `fake/long` whose line is at least N bytes long, then `{}`.
//! - `test/overloaded`: the overload error (-32001) twice, then `{"attempts": 3}`.
//!
//! With `FAKE_REFUSE_INITIALIZE` set, `initialize` is answered with an error naming the server's process id; with
//! `FAKE_LINGER` set, the server does not exit when its input closes (it sleeps a minute).

use std::collections::HashMap;
use std::io::{BufRead, Write};

use serde_json::{json, Value};

struct Server {
    out: std::io::Stdout,
    threads: usize,
    turns: usize,
    held: Vec<(String, String, String)>,
    /// Requests sent to the client: whose `test/ask` waits for each reply.
    asked: HashMap<i64, Value>,
    next_ask: i64,
    overloaded: usize,
    /// The `test/hang` requests not answered yet.
    hung: Vec<Value>,
}

impl Server {
    fn send(&mut self, message: Value) {
        let mut out = self.out.lock();
        writeln!(out, "{message}").expect("stdout is open");
        out.flush().expect("stdout is open");
    }

    fn answer(&mut self, id: &Value, result: Value) {
        self.send(json!({ "id": id, "result": result }));
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({ "method": method, "params": params }));
    }

    fn turn(id: &str, status: &str) -> Value {
        json!({ "id": id, "items": [], "status": status })
    }

    fn finish(&mut self, thread: &str, turn: &str, text: &str) {
        let item = json!({ "type": "agentMessage", "id": format!("item_{turn}"), "text": text });
        self.notify("item/completed", json!({ "threadId": thread, "turnId": turn, "item": item, "completedAtMs": 1 }));
        let tokens = json!({ "cachedInputTokens": 0, "inputTokens": 3, "outputTokens": 2, "reasoningOutputTokens": 0, "totalTokens": 5 });
        let usage = json!({ "last": tokens, "total": tokens });
        self.notify("thread/tokenUsage/updated", json!({ "threadId": thread, "turnId": turn, "tokenUsage": usage }));
        let status = if text.contains("[fail]") { "failed" } else { "completed" };
        let mut done = Self::turn(turn, status);
        if status == "failed" {
            done["error"] = json!({ "message": "failed on purpose" });
        }
        self.notify("turn/completed", json!({ "threadId": thread, "turn": done }));
    }

    fn delta(&mut self, thread: &str, turn: &str, text: &str) {
        let params = json!({ "threadId": thread, "turnId": turn, "itemId": format!("item_{turn}"), "delta": text });
        self.notify("item/agentMessage/delta", params);
    }

    /// Finishes every held turn, their events interleaved; how many there were.
    fn release(&mut self) -> usize {
        let held = std::mem::take(&mut self.held);
        for (thread, turn, text) in &held {
            self.delta(thread, turn, text);
        }
        for (thread, turn, text) in &held {
            self.finish(thread, turn, text);
        }
        held.len()
    }

    fn request(&mut self, id: Value, method: &str, params: Value) {
        match method {
            "initialize" if std::env::var_os("FAKE_REFUSE_INITIALIZE").is_some() => {
                let message = format!("refused by {}", std::process::id());
                self.send(json!({ "id": id, "error": { "code": -32000, "message": message } }));
            }
            "initialize" => self.answer(
                &id,
                json!({ "userAgent": "fake/0.1.0 (test; fake)", "codexHome": "/tmp", "platformFamily": "unix", "platformOs": "linux" }),
            ),
            "thread/start" | "thread/resume" => {
                self.threads += 1;
                let thread = params["threadId"].as_str().map_or(format!("thr_{}", self.threads), str::to_owned);
                self.answer(&id, json!({ "thread": { "id": thread } }));
            }
            "turn/start" => {
                self.turns += 1;
                let thread = params["threadId"].as_str().unwrap_or_default().to_owned();
                let turn = format!("turn_{}", self.turns);
                let text = params["input"][0]["text"].as_str().unwrap_or_default().to_owned();
                if text.contains("[release]") {
                    self.release();
                }
                // Events before the answer: a client must keep them for the turn.
                self.notify("turn/started", json!({ "threadId": thread, "turn": Self::turn(&turn, "inProgress") }));
                if text.contains("[status]") {
                    let status = json!({ "type": "active", "activeFlags": [] });
                    self.notify("thread/status/changed", json!({ "threadId": thread, "status": status }));
                }
                self.delta(&thread, &turn, &text);
                let mut started = Self::turn(&turn, "inProgress");
                if text.contains("[badturn]") {
                    started["items"] = json!(5);
                }
                self.answer(&id, json!({ "turn": started }));
                if text.contains("[hold]") {
                    self.held.push((thread, turn, text));
                } else {
                    self.finish(&thread, &turn, &text);
                }
            }
            "turn/interrupt" => {
                let (thread, turn) = (params["threadId"].as_str().unwrap_or_default(), params["turnId"].as_str());
                self.answer(&id, json!({}));
                if let Some(i) = self.held.iter().position(|(_, t, _)| Some(t.as_str()) == turn) {
                    let (thread, turn, _) = self.held.remove(i);
                    self.notify("turn/completed", json!({ "threadId": thread, "turn": Self::turn(&turn, "interrupted") }));
                } else {
                    eprintln!("fake: no held turn {turn:?} on {thread}");
                }
            }
            "test/release" => {
                let released = self.release();
                self.answer(&id, json!({ "released": released }));
            }
            "test/hang" => self.hung.push(id),
            "test/answer-hung" => {
                for hung in std::mem::take(&mut self.hung) {
                    self.answer(&hung, json!({ "late": true }));
                }
                self.answer(&id, json!({}));
            }
            "test/exit" => {
                eprintln!("fake: exiting on purpose");
                std::process::exit(3);
            }
            "test/malformed" => {
                self.send(Value::String("this line is not an object".into()));
                let mut out = self.out.lock();
                writeln!(out, "{{not json").expect("stdout is open");
                out.write_all(b"{\"not utf-8 \xff\": 1}\n").expect("stdout is open");
                drop(out);
                self.notify("fake/unknown", json!({ "x": 1 }));
                self.answer(&id, json!({}));
            }
            "test/ask" => {
                self.next_ask += 1;
                let ask = 1000 + self.next_ask;
                self.asked.insert(ask, id);
                self.send(json!({ "id": ask, "method": params["method"], "params": params["params"] }));
            }
            "test/pid" => self.answer(&id, json!(std::process::id())),
            "test/stderr" => {
                let mut err = std::io::stderr().lock();
                err.write_all(b"fake: \xff is not UTF-8\nfake: a line after it\n").expect("stderr is open");
                err.flush().expect("stderr is open");
                drop(err);
                self.answer(&id, json!({}));
            }
            "test/reply" => {
                let mut reply = params;
                reply["id"] = id;
                self.send(reply);
            }
            "test/long" => {
                let bytes = params["bytes"].as_u64().unwrap_or_default() as usize;
                self.notify("fake/long", json!({ "text": "x".repeat(bytes) }));
                self.answer(&id, json!({}));
            }
            "test/notify" => {
                self.send(params);
                self.answer(&id, json!({}));
            }
            // Overloaded twice, then answered.
            "test/overloaded" => {
                self.overloaded += 1;
                if self.overloaded <= 2 {
                    self.send(json!({ "id": id, "error": { "code": -32001, "message": "Server overloaded; retry later." } }));
                } else {
                    self.answer(&id, json!({ "attempts": self.overloaded }));
                }
            }
            _ => self.send(json!({ "id": id, "error": { "code": -32601, "message": format!("unknown: {method}") } })),
        }
    }
}

fn main() {
    let mut server = Server {
        out: std::io::stdout(),
        threads: 0,
        turns: 0,
        held: Vec::new(),
        asked: HashMap::new(),
        next_ask: 0,
        overloaded: 0,
        hung: Vec::new(),
    };
    for line in std::io::stdin().lock().lines() {
        let Ok(line) = line else { break };
        let Ok(message) = serde_json::from_str::<Value>(&line) else {
            eprintln!("fake: not JSON: {line}");
            continue;
        };
        match (message.get("method").and_then(Value::as_str), message.get("id")) {
            (Some(method), Some(id)) => server.request(id.clone(), method, message["params"].clone()),
            (Some(_), None) => {}
            (None, Some(id)) => {
                if let Some(waiting) = id.as_i64().and_then(|id| server.asked.remove(&id)) {
                    server.answer(&waiting, json!({ "reply": message }));
                }
            }
            (None, None) => eprintln!("fake: not a message: {line}"),
        }
    }
    if std::env::var_os("FAKE_LINGER").is_some() {
        std::thread::sleep(std::time::Duration::from_secs(60));
    }
}
