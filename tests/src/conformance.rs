//! Checks recorded JSON-RPC traffic against the generated crate (the Rust twin of
//! `tests/python/wire_check.py`, over the same transcripts).
//!
//! A transcript is one entry per line, `{"from": "client" | "server", "message": {...}}`, in the order the
//! messages crossed the wire. Server messages are read with `ServerMessage::from_value`, with the client's
//! requests pending so each result is typed by its method; client requests and notifications as the
//! crate's `ClientRequest` / `ClientNotification`; the client's answers to server requests by the result
//! type of the request they answer. Each message must decode (in strict mode into its specific type, not an
//! `Unknown` variant) and encode back to the JSON received. An entry marked `"invalid": true` was sent
//! with params the schema rejects on purpose: it must not decode into its method's type.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use codex_app_server_types::rpc::{server, ClientResponse, PendingRequests, Request, RequestId, ServerMessage};
use codex_app_server_types::{ClientNotification, ClientRequest, JsonrpcError};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

/// One message of a transcript.
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize)]
pub struct Entry {
    pub from: String,
    pub message: Value,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub invalid: bool,
}

/// What a check saw: messages per (direction, kind, method), and what failed.
#[derive(Debug, Default)]
pub struct Report {
    pub checked: BTreeMap<(String, String, String), usize>,
    pub failures: Vec<String>,
    /// Members the encoding added with their schema default (the one equivalence), by property name.
    pub defaults_added: BTreeMap<String, usize>,
}

impl Report {
    pub fn total(&self) -> usize {
        self.checked.values().sum()
    }

    /// Messages checked per direction, kind and method, one line each.
    pub fn table(&self) -> String {
        let width = self.checked.keys().map(|(_, _, method)| method.len()).max().unwrap_or(0);
        let mut text = String::new();
        for ((direction, kind, method), count) in &self.checked {
            text.push_str(&format!("  {direction:<6} {kind:<20} {method:<width$} {count:>4}\n"));
        }
        text.push_str(&format!("  {} messages checked", self.total()));
        for (name, count) in &self.defaults_added {
            text.push_str(&format!("\n  absent ≡ schema default: `{name}` added {count} time(s)"));
        }
        text
    }
}

pub fn read_transcript(path: &Path) -> Result<Vec<Entry>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    text.lines()
        .filter(|line| !line.trim().is_empty())
        .enumerate()
        .map(|(n, line)| serde_json::from_str(line).map_err(|e| format!("{}:{}: {e}", path.display(), n + 1)))
        .collect()
}

/// Checks one connection's transcript (see the module's doc); `defaults` are the schema's
/// ([`schema_defaults`]).
pub fn check(entries: &[Entry], strict: bool, defaults: &HashSet<(String, String)>) -> Report {
    let mut checker = Checker {
        strict,
        defaults: defaults.clone(),
        pending: PendingRequests::new(),
        server_pending: HashMap::new(),
        report: Report::default(),
    };
    for (index, entry) in entries.iter().enumerate() {
        let outcome = match entry.from.as_str() {
            "client" => checker.client(entry),
            "server" => checker.server(entry),
            other => Err(format!("unknown direction {other:?}")),
        };
        if let Err(problem) = outcome {
            let mut text: String = entry.message.to_string().chars().take(400).collect();
            if text.len() < entry.message.to_string().len() {
                text.push('…');
            }
            checker.report.failures.push(format!("message {index} ({}): {problem}\n    {text}", entry.from));
        }
    }
    checker.report
}

struct Checker {
    strict: bool,
    /// `(property name, default as JSON text)` of every property of the schema that has a default.
    defaults: HashSet<(String, String)>,
    pending: PendingRequests,
    /// Requests the server sent and the client has not answered: id (as JSON) → method.
    server_pending: HashMap<String, String>,
    report: Report,
}

impl Checker {
    fn client(&mut self, entry: &Entry) -> Result<(), String> {
        let message = &entry.message;
        if let Some(method) = message.get("method").and_then(Value::as_str) {
            let is_request = message.get("id").is_some();
            let kind = if is_request { "request" } else { "notification" };
            if is_request {
                self.pending.insert(&id_of(message)?, method);
            }
            let (known, encoded) = if is_request {
                decode::<ClientRequest>(message).map(|(m, e)| (!m.is_unknown(), e))
            } else {
                decode::<ClientNotification>(message).map(|(m, e)| (!m.is_unknown(), e))
            }
            .unwrap_or((false, Value::Null));
            if entry.invalid {
                if known {
                    return Err("marked invalid, yet decodes into its method's type".into());
                }
                self.count("client", &format!("invalid {kind}"), method);
                return Ok(());
            }
            if !known && self.strict {
                return Err(format!("does not decode into a known {kind}"));
            }
            self.same(&encoded, message)?;
            self.count("client", kind, method);
            return Ok(());
        }
        let id = serde_json::to_string(&message["id"]).unwrap_or_default();
        let method = self.server_pending.remove(&id).ok_or("answers no request the server sent")?;
        if message.get("error").is_some() {
            let (_, encoded) = decode::<JsonrpcError>(message)?;
            self.same(&encoded, message)?;
            self.count("client", "error", &method);
            return Ok(());
        }
        let result = &message["result"];
        let encoded = match method.as_str() {
            server::ItemCommandExecutionRequestApproval::METHOD => {
                decode::<<server::ItemCommandExecutionRequestApproval as Request>::Response>(result)?.1
            }
            _ => return Err(format!("the Rust checker types no answer to {method}")),
        };
        self.same(&encoded, result)?;
        self.count("client", "response", &method);
        Ok(())
    }

    fn server(&mut self, entry: &Entry) -> Result<(), String> {
        if entry.invalid {
            return Err("only client messages can be marked invalid".into());
        }
        let message = &entry.message;
        let mut answered = None;
        let decoded = ServerMessage::from_value(message.clone(), |id| {
            answered = self.pending.remove(id);
            answered.clone()
        })
        .map_err(|e| format!("does not decode: {e}"))?;
        let (kind, method, known) = match &decoded {
            ServerMessage::Notification(notification) => {
                ("notification", method_of(message), !notification.variant.is_unknown())
            }
            ServerMessage::Request(request) => {
                self.server_pending
                    .insert(serde_json::to_string(&message["id"]).unwrap_or_default(), method_of(message));
                ("request", method_of(message), !request.is_unknown())
            }
            ServerMessage::Response(response) => {
                let method = answered.ok_or("answers no request the client sent")?;
                ("response", method, !matches!(response.result, ClientResponse::Unknown(_)))
            }
            ServerMessage::Error(_) => {
                let method = self.pending.remove(&id_of(message)?).ok_or("answers no request the client sent")?;
                ("error", method, true)
            }
        };
        if !known && self.strict {
            return Err(format!("does not decode into a known {kind}"));
        }
        self.same(&decoded.to_value().map_err(|e| format!("does not encode: {e}"))?, message)?;
        self.count("server", kind, &method);
        Ok(())
    }

    /// Whether `encoded` is `received`, up to members added with their schema default.
    fn same(&mut self, encoded: &Value, received: &Value) -> Result<(), String> {
        let mut added = Vec::new();
        if equivalent(encoded, received, &self.defaults, &mut added) {
            for name in added {
                *self.report.defaults_added.entry(name).or_default() += 1;
            }
            Ok(())
        } else {
            Err(format!("encodes differently:\n    {encoded}"))
        }
    }

    fn count(&mut self, direction: &str, kind: &str, method: &str) {
        *self.report.checked.entry((direction.into(), kind.into(), method.into())).or_default() += 1;
    }
}

fn decode<T: DeserializeOwned + Serialize>(value: &Value) -> Result<(T, Value), String> {
    let typed: T = serde_json::from_value(value.clone()).map_err(|e| format!("does not decode: {e}"))?;
    let encoded = serde_json::to_value(&typed).map_err(|e| format!("does not encode: {e}"))?;
    Ok((typed, encoded))
}

/// `encoded == received`, except that `encoded` may hold members `received` lacks when the schema gives a
/// property of that name exactly that default; their names go to `added`.
fn equivalent(
    encoded: &Value,
    received: &Value,
    defaults: &HashSet<(String, String)>,
    added: &mut Vec<String>,
) -> bool {
    match (encoded, received) {
        (Value::Object(encoded), Value::Object(received)) => {
            received.keys().all(|key| encoded.contains_key(key))
                && encoded.iter().all(|(key, value)| match received.get(key) {
                    Some(other) => equivalent(value, other, defaults, added),
                    None if defaults.contains(&(key.clone(), value.to_string())) => {
                        added.push(key.clone());
                        true
                    }
                    None => false,
                })
        }
        (Value::Array(encoded), Value::Array(received)) => {
            encoded.len() == received.len()
                && encoded.iter().zip(received).all(|(value, other)| equivalent(value, other, defaults, added))
        }
        _ => encoded == received,
    }
}

/// Every `(property name, default)` the schema declares, anywhere in it.
pub fn schema_defaults(schema: &Value) -> HashSet<(String, String)> {
    let mut found = HashSet::new();
    let mut stack = vec![schema];
    while let Some(node) = stack.pop() {
        match node {
            Value::Object(object) => {
                if let Some(Value::Object(properties)) = object.get("properties") {
                    for (name, property) in properties {
                        if let Some(default) = property.get("default") {
                            found.insert((name.clone(), default.to_string()));
                        }
                    }
                }
                stack.extend(object.values());
            }
            Value::Array(items) => stack.extend(items),
            _ => {}
        }
    }
    found
}

fn id_of(message: &Value) -> Result<RequestId, String> {
    serde_json::from_value(message["id"].clone()).map_err(|e| format!("a bad id: {e}"))
}

fn method_of(message: &Value) -> String {
    message["method"].as_str().unwrap_or_default().to_string()
}
