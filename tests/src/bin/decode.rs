//! How fast the generated crate reads what the server writes, on recorded traffic: `decode [ROUNDS]`.
//!
//! The lines are the server's side of the conformance recordings (`tests/fixtures/wire/*.jsonl`) and the
//! recorded turn the runtime benchmarks replay (`xtask/bench/stream.jsonl`). Each is read four ways, in
//! interleaved blocks so that the machine's drift touches all alike:
//! - `value`: the line parsed into `serde_json::Value` (a floor: no types at all);
//! - `parts`: the envelope read raw (`method` and `params`/`result` as `RawValue`) and the params or result
//!   decoded straight from their text into the generated type of the method;
//! - `whole`: `rpc::decode_server_message`, the whole line into `ServerMessage` (what the client runtime calls);
//! - `through Value`: the line parsed into `Value`, then `ServerMessage::from_value` (how `decode_server_message`
//!   read every line before it read most straight from their text, and still reads the others);
//! - `round trip`: `whole`, then the message written back to JSON text.
//!
//! Run by `cargo xtask bench-decode`; prints the median time a line of each, over `ROUNDS` blocks.

use std::hint::black_box;
use std::path::Path;
use std::time::Instant;

use codex_app_server_types::rpc::{self, decode_server_message, server, PendingRequests, RequestId, ServerMessage};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;

/// One line the server wrote, and the method of the request it answers when it is a response.
struct Line {
    text: String,
    answers: Option<(RequestId, String)>,
}

/// A way of reading the lines, by name.
type Way = (&'static str, fn(&[Line]));

fn main() {
    let rounds: usize = std::env::args().nth(1).map_or(31, |n| n.parse().expect("ROUNDS is a number"));
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ is inside the workspace");
    let mut lines = Vec::new();
    for recording in ["tests/fixtures/wire/rust.jsonl", "tests/fixtures/wire/python.jsonl"] {
        lines.extend(recorded(&root.join(recording)));
    }
    let stream = std::fs::read_to_string(root.join("xtask/bench/stream.jsonl")).expect("the stream is readable");
    lines.extend(stream.lines().filter(|l| !l.trim().is_empty()).map(|l| Line { text: l.to_owned(), answers: None }));
    check(&lines);

    let ways: [Way; 5] = [
        ("value", value),
        ("parts", parts),
        ("whole", whole),
        ("through Value", through_value),
        ("round trip", round_trip),
    ];
    let mut times: Vec<Vec<f64>> = vec![Vec::new(); ways.len()];
    for _ in 0..rounds {
        for (way, times) in ways.iter().zip(&mut times) {
            let start = Instant::now();
            for _ in 0..20 {
                way.1(&lines);
            }
            times.push(start.elapsed().as_secs_f64() * 1e9 / (20 * lines.len()) as f64);
        }
    }
    println!("{} lines, {rounds} blocks of 20 passes; median ns a line:", lines.len());
    let value = median(&mut times[0].clone());
    for ((name, _), times) in ways.iter().zip(&mut times) {
        let ns = median(times);
        println!("{name:>14}: {ns:>8.0}  ({:.2}x value)", ns / value);
    }
}

/// The server's lines of a conformance recording (`{"from", "message"}` a line), each response with the method
/// of the client request it answers.
fn recorded(path: &Path) -> Vec<Line> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut methods = Vec::new();
    let mut lines = Vec::new();
    for entry in text.lines().map(|l| serde_json::from_str::<Value>(l).expect("a recording line is JSON")) {
        let message = &entry["message"];
        let id = message.get("id").map(|id| RequestId::deserialize(id).expect("an id"));
        match (entry["from"].as_str(), message["method"].as_str(), id) {
            (Some("client"), Some(method), Some(id)) => methods.push((id, method.to_owned())),
            (Some("server"), method, id) => {
                let answers = match (method, id) {
                    (None, Some(id)) => methods.iter().find(|(known, _)| *known == id).cloned(),
                    _ => None,
                };
                lines.push(Line { text: message.to_string(), answers });
            }
            _ => {}
        }
    }
    lines
}

/// Every line decodes every way, so that the timings compare work that succeeds.
fn check(lines: &[Line]) {
    for line in lines {
        let mut pending = pending_for(line);
        decode_server_message(&line.text, &mut pending).unwrap_or_else(|e| panic!("{}: {e}", line.text));
        read_parts(line).unwrap_or_else(|e| panic!("{}: {e}", line.text));
    }
}

fn pending_for(line: &Line) -> PendingRequests {
    let mut pending = PendingRequests::new();
    if let Some((id, method)) = &line.answers {
        pending.insert(id, method.as_str());
    }
    pending
}

fn value(lines: &[Line]) {
    for line in lines {
        black_box(serde_json::from_str::<Value>(black_box(&line.text)).ok());
    }
}

fn whole(lines: &[Line]) {
    let mut pending = PendingRequests::new();
    for line in lines {
        if let Some((id, method)) = &line.answers {
            pending.insert(id, method.as_str());
        }
        black_box(decode_server_message(black_box(&line.text), &mut pending).ok());
    }
}

fn through_value(lines: &[Line]) {
    let mut pending = PendingRequests::new();
    for line in lines {
        if let Some((id, method)) = &line.answers {
            pending.insert(id, method.as_str());
        }
        let value = serde_json::from_str::<Value>(black_box(&line.text)).expect("checked");
        black_box(ServerMessage::from_value(value, |id| pending.remove(id)).ok());
    }
}

fn round_trip(lines: &[Line]) {
    let mut pending = PendingRequests::new();
    for line in lines {
        if let Some((id, method)) = &line.answers {
            pending.insert(id, method.as_str());
        }
        let message = decode_server_message(black_box(&line.text), &mut pending).ok();
        black_box(message.map(|m| m.to_value().map(|v| v.to_string())));
    }
}

fn parts(lines: &[Line]) {
    for line in lines {
        black_box(read_parts(black_box(line)).ok());
    }
}

/// The envelope, its members left as text.
#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow, default)]
    method: Option<&'a str>,
    #[serde(borrow, default)]
    params: Option<&'a RawValue>,
    #[serde(borrow, default)]
    result: Option<&'a RawValue>,
}

/// The params of `M` from their text.
fn params<M: rpc::Notification>(raw: Option<&RawValue>) -> serde_json::Result<()>
where
    M::Params: for<'de> Deserialize<'de>,
{
    serde_json::from_str::<M::Params>(raw.map_or("null", RawValue::get)).map(|p| drop(black_box(p)))
}

/// The params of request `M` from their text.
fn request_params<M: rpc::Request>(raw: Option<&RawValue>) -> serde_json::Result<()>
where
    M::Params: for<'de> Deserialize<'de>,
{
    serde_json::from_str::<M::Params>(raw.map_or("null", RawValue::get)).map(|p| drop(black_box(p)))
}

/// The result of request `M` from its text.
fn result<M: rpc::Request>(raw: Option<&RawValue>) -> serde_json::Result<()>
where
    M::Response: for<'de> Deserialize<'de>,
{
    serde_json::from_str::<M::Response>(raw.map_or("null", RawValue::get)).map(|r| drop(black_box(r)))
}

/// `parts`: the envelope, then what the method says the params (or the result) are; every method of the
/// recorded traffic is listed.
fn read_parts(line: &Line) -> serde_json::Result<()> {
    use codex_app_server_types::rpc::client as c;
    use server as s;
    let envelope: Envelope = serde_json::from_str(&line.text)?;
    if let (Some((_, method)), Some(raw)) = (&line.answers, envelope.result) {
        let raw = Some(raw);
        return match method.as_str() {
            "initialize" => result::<c::Initialize>(raw),
            "config/read" => result::<c::ConfigRead>(raw),
            "thread/start" => result::<c::ThreadStart>(raw),
            "thread/list" => result::<c::ThreadList>(raw),
            "thread/read" => result::<c::ThreadRead>(raw),
            "turn/start" => result::<c::TurnStart>(raw),
            "model/list" => result::<c::ModelList>(raw),
            "command/exec" => result::<c::CommandExec>(raw),
            other => panic!("add the result of `{other}` to the table"),
        };
    }
    let raw = envelope.params;
    match envelope.method {
        Some("item/agentMessage/delta") => params::<s::ItemAgentMessageDelta>(raw),
        Some("item/reasoning/summaryTextDelta") => params::<s::ItemReasoningSummaryTextDelta>(raw),
        Some("item/commandExecution/outputDelta") => params::<s::ItemCommandExecutionOutputDelta>(raw),
        Some("item/started") => params::<s::ItemStarted>(raw),
        Some("item/completed") => params::<s::ItemCompleted>(raw),
        Some("thread/tokenUsage/updated") => params::<s::ThreadTokenUsageUpdated>(raw),
        Some("account/rateLimits/updated") => params::<s::AccountRateLimitsUpdated>(raw),
        Some("thread/status/changed") => params::<s::ThreadStatusChanged>(raw),
        Some("item/reasoning/summaryPartAdded") => params::<s::ItemReasoningSummaryPartAdded>(raw),
        Some("turn/started") => params::<s::TurnStarted>(raw),
        Some("turn/completed") => params::<s::TurnCompleted>(raw),
        Some("thread/started") => params::<s::ThreadStarted>(raw),
        Some("warning") => params::<s::Warning>(raw),
        Some("configWarning") => params::<s::ConfigWarning>(raw),
        Some("deprecationNotice") => params::<s::DeprecationNotice>(raw),
        Some("remoteControl/status/changed") => params::<s::RemoteControlStatusChanged>(raw),
        Some("serverRequest/resolved") => params::<s::ServerRequestResolved>(raw),
        Some("error") => params::<s::Error>(raw),
        Some("item/commandExecution/requestApproval") => request_params::<s::ItemCommandExecutionRequestApproval>(raw),
        // A JSON-RPC error answer, or a response to a request this bench did not see: the envelope is all.
        None => Ok(()),
        Some(other) => panic!("add `{other}` to the table"),
    }
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}
