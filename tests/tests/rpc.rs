//! The RPC surface of the generated crate: the method tables match the schema, messages decode into
//! their types and re-encode unchanged, and the typed client writes exactly the wire params.

use std::collections::BTreeSet;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use codex_app_server_types::rpc::{
    self, client, decode_server_message, server, AsyncClient, AsyncNotifier, Client, ClientResponse, ErrorObject,
    Notifier, PendingRequests, Request, RequestId, Sender, ServerMessage, ServerRequestHandler,
};
use codex_app_server_types::v2::{GetAccountRateLimitsParams, ThreadStartParams};
use codex_app_server_types::{
    CommandExecutionApprovalDecision, CommandExecutionRequestApprovalParams, CommandExecutionRequestApprovalResponse,
    ServerNotificationVariant, ServerRequest,
};
use serde_json::{json, Value};

fn schema() -> Value {
    binding_tests::pinned_schema()
}

/// The methods of one message union, read straight from the schema's JSON.
fn methods_in_schema(schema: &Value, union: &str) -> Vec<String> {
    schema["definitions"][union]["oneOf"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["properties"]["method"]["enum"][0].as_str().unwrap().to_string())
        .collect()
}

fn table(sender: Sender, request: bool) -> Vec<String> {
    rpc::METHODS.iter().filter(|m| m.sender == sender && m.request == request).map(|m| m.method.to_string()).collect()
}

#[test]
fn the_tables_hold_every_method_of_the_schema() {
    let schema = schema();
    assert_eq!(table(Sender::Client, true), methods_in_schema(&schema, "ClientRequest"));
    assert_eq!(table(Sender::Client, false), methods_in_schema(&schema, "ClientNotification"));
    assert_eq!(table(Sender::Server, true), methods_in_schema(&schema, "ServerRequest"));
    assert_eq!(table(Sender::Server, false), methods_in_schema(&schema, "ServerNotification"));
    let unique: BTreeSet<(&str, bool)> = rpc::METHODS.iter().map(|m| (m.method, m.sender == Sender::Client)).collect();
    assert_eq!(unique.len(), rpc::METHODS.len());
}

#[test]
fn every_client_request_has_a_typed_result() {
    for method in table(Sender::Client, true) {
        // `{}` may or may not fit the result type; either way the method must not fall through to `Unknown`.
        match ClientResponse::decode(&method, json!({})) {
            Ok(ClientResponse::Unknown(_)) => panic!("`{method}` has no result type"),
            Ok(typed) => assert_eq!(typed.method(), Some(method.as_str())),
            Err(_) => {}
        }
    }
    assert!(matches!(ClientResponse::decode("zz/future", json!({"a": 1})), Ok(ClientResponse::Unknown(_))));
}

#[test]
fn markers_carry_method_params_and_result() {
    fn method<R: Request>() -> &'static str {
        R::METHOD
    }
    assert_eq!(method::<client::ThreadStart>(), "thread/start");
    assert_eq!(method::<server::ItemCommandExecutionRequestApproval>(), "item/commandExecution/requestApproval");
    let _: <client::ThreadStart as Request>::Params = ThreadStartParams::default();
    let _: <client::AccountLogout as Request>::Params = ();
    let _: <client::AccountRateLimitsRead as Request>::Params = None::<GetAccountRateLimitsParams>;
}

fn decode(line: &Value, pending: &mut PendingRequests) -> ServerMessage {
    decode_expecting(line, line, pending)
}

fn decode_expecting(line: &Value, expected: &Value, pending: &mut PendingRequests) -> ServerMessage {
    let message = decode_both_ways(&line.to_string(), pending).unwrap_or_else(|e| panic!("{line}: {e}"));
    assert_eq!(&message.to_value().unwrap(), expected, "re-encodes unchanged");
    message
}

/// `decode_server_message`, checked against the reading through `Value` (`ServerMessage::from_value`), which it
/// must match on every line: the same message, or the same error (or, where that error is only a type's, the
/// same said with the method and the path: `DecodeError::Invalid`).
fn decode_both_ways(line: &str, pending: &mut PendingRequests) -> Result<ServerMessage, String> {
    let mut reference_pending = pending.clone();
    let reference = serde_json::from_str(line)
        .map_err(rpc::DecodeError::Json)
        .and_then(|value| ServerMessage::from_value(value, |id| reference_pending.remove(id)))
        .map_err(|e| e.to_string());
    let message = decode_server_message(line, pending);
    match (&message, &reference) {
        (Err(rpc::DecodeError::Invalid { method, path, error }), Err(reference)) => {
            assert!(!method.is_empty() && !path.is_empty(), "{line}: {method:?} at {path:?}");
            assert!(reference.ends_with(&error.to_string()), "{line}: {reference} / {error}");
        }
        _ => assert_eq!(
            message.as_ref().map_err(|e| e.to_string()),
            reference.as_ref().map_err(String::clone),
            "{line}: read straight from the text as through `Value`"
        ),
    }
    assert_eq!(pending.len(), reference_pending.len(), "{line}: the same pending requests are left");
    message.map_err(|e| e.to_string())
}

/// The server's lines of the conformance recordings and of the benchmarks' recorded turn, each response with
/// the method of the request it answers recorded as pending.
#[test]
fn recorded_traffic_reads_straight_from_the_text_as_through_value() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf();
    let mut checked = 0;
    for recording in ["tests/fixtures/wire/rust.jsonl", "tests/fixtures/wire/python.jsonl"] {
        let mut pending = PendingRequests::new();
        for line in std::fs::read_to_string(root.join(recording)).unwrap().lines() {
            let entry: Value = serde_json::from_str(line).unwrap();
            let message = &entry["message"];
            if entry["from"] == "client" {
                if let (Some(id), Some(method)) = (message.get("id"), message["method"].as_str()) {
                    pending.insert(&serde_json::from_value(id.clone()).unwrap(), method);
                }
                continue;
            }
            let decoded = decode_both_ways(&message.to_string(), &mut pending).unwrap();
            assert_eq!(&decoded.to_value().unwrap(), message, "re-encodes unchanged");
            if let ServerMessage::Response(response) = &decoded {
                assert!(response.result.method().is_some(), "{recording}: {message} is typed by its request");
            }
            checked += 1;
        }
    }
    let stream = std::fs::read_to_string(root.join("xtask/bench/stream.jsonl")).unwrap();
    for line in stream.lines().filter(|l| !l.trim().is_empty()) {
        let decoded = decode_both_ways(line, &mut PendingRequests::new()).unwrap();
        assert_eq!(decoded.to_value().unwrap(), serde_json::from_str::<Value>(line).unwrap(), "re-encodes unchanged");
        checked += 1;
    }
    assert!(checked > 500, "{checked}");
}

/// Lines at the edges of the direct reading: each reads as through `Value`, or fails with the same error.
#[test]
fn unusual_lines_read_as_through_value() {
    let turn = r#"{"id":"u","items":[],"itemsView":"full","status":"inProgress"}"#;
    let lines = [
        // Escapes in the method and in member names; members in any order; members the schema does not declare.
        format!(r#"{{"params":{{"threadId":"t","turn":{turn}}},"method":"turn\/started","z":1,"a":[2]}}"#),
        format!(r#"{{"method":"turn/started","params":{{"threadId":"t","turn":{turn},"new":null}},"emitt\u0065dAtMs":4}}"#),
        // The shared field: present, `null`, of the wrong type; given twice; a member given twice.
        format!(r#"{{"method":"turn/started","emittedAtMs":5,"params":{{"threadId":"t","turn":{turn}}}}}"#),
        format!(r#"{{"method":"turn/started","emittedAtMs":null,"params":{{"threadId":"t","turn":{turn}}}}}"#),
        format!(r#"{{"method":"turn/started","emittedAtMs":"5","params":{{"threadId":"t","turn":{turn}}}}}"#),
        format!(r#"{{"method":"turn/started","emittedAtMs":1,"emittedAtMs":2,"params":{{"threadId":"t","turn":{turn}}}}}"#),
        format!(r#"{{"method":"turn/started","params":{{"threadId":"x"}},"params":{{"threadId":"t","turn":{turn}}}}}"#),
        // Params missing, `null`, not fitting; a `result` beside them; a method not listed; a method not a string.
        r#"{"method":"turn/started"}"#.to_string(),
        r#"{"method":"turn/started","params":null}"#.to_string(),
        r#"{"method":"turn/started","params":{"threadId":7}}"#.to_string(),
        format!(r#"{{"method":"turn/started","params":{{"threadId":"t","turn":{turn}}},"result":1}}"#),
        r#"{"method":"zz/new","params":{"x":1}}"#.to_string(),
        r#"{"method":7,"params":{}}"#.to_string(),
        // Requests: id of either type, params not fitting, an unknown method.
        r#"{"id":"r","method":"item/tool/requestUserInput","params":{"threadId":"t","turnId":"u","itemId":"i","questions":[]}}"#.to_string(),
        r#"{"id":3,"method":"item/tool/requestUserInput","params":{"threadId":"t"}}"#.to_string(),
        r#"{"id":3,"method":"zz/ask","params":[1]}"#.to_string(),
        // Responses: typed, unknown, with members around in an order to keep, with `params`, with `error`.
        r#"{"b":1,"id":1,"a":2,"result":{},"c":3}"#.to_string(),
        r#"{"id":2,"result":{"threadId":7}}"#.to_string(),
        r#"{"id":1,"result":{},"params":{}}"#.to_string(),
        r#"{"id":9,"error":{"code":-32600,"message":"no"}}"#.to_string(),
        r#"{"id":1,"result":{},"error":null}"#.to_string(),
        // Not messages.
        "[1]".to_string(),
        "{}".to_string(),
        r#"{"id":1}"#.to_string(),
        r#"{"method":"#.to_string(),
    ];
    for line in &lines {
        let mut pending = PendingRequests::new();
        pending.insert(&RequestId::Integer(1), "account/logout");
        pending.insert(&RequestId::Integer(2), "thread/unsubscribe");
        let _ = decode_both_ways(line, &mut pending);
    }
    let mut pending = PendingRequests::new();
    pending.insert(&RequestId::Integer(1), "account/logout");
    let Ok(ServerMessage::Response(response)) = decode_both_ways(&lines[16], &mut pending) else { panic!() };
    assert_eq!(response.extra.keys().collect::<Vec<_>>(), ["b", "a", "c"], "the members around keep their order");
    // `"error": null` beside a result is no error: a response, with the null kept to be written back.
    pending.insert(&RequestId::Integer(1), "account/logout");
    let null_error = json!({"id": 1, "result": {}, "error": null});
    let ServerMessage::Response(response) = decode(&null_error, &mut pending) else { panic!() };
    assert_eq!(response.result.method(), Some("account/logout"));
}

#[test]
fn notifications_requests_responses_and_errors_decode_into_their_types() {
    let mut pending = PendingRequests::new();
    let n = json!({"method": "turn/started", "emittedAtMs": 3, "params": {"threadId": "t", "turn": {"id": "u", "items": [], "itemsView": "full", "status": "inProgress"}}});
    let ServerMessage::Notification(n) = decode(&n, &mut pending) else { panic!() };
    assert!(matches!(n.variant, ServerNotificationVariant::TurnStarted(_)), "{n:?}");

    let r = json!({"id": 0, "method": "item/commandExecution/requestApproval",
                   "params": {"threadId": "t", "turnId": "u", "itemId": "i", "startedAtMs": 1, "kind": "command"}});
    let ServerMessage::Request(r) = decode(&r, &mut pending) else { panic!() };
    assert!(matches!(r, ServerRequest::ItemCommandExecutionRequestApproval(_)), "{r:?}");

    pending.insert(&RequestId::Integer(7), "account/logout");
    pending.insert(&RequestId::String("7".into()), "thread/start");
    let ServerMessage::Response(response) = decode(&json!({"id": 7, "result": {}}), &mut pending) else { panic!() };
    assert!(matches!(response.result, ClientResponse::AccountLogout(_)), "{response:?}");
    assert_eq!(pending.len(), 1, "the answered id is forgotten; the string id `\"7\"` is another id");

    let ServerMessage::Error(e) = decode(&json!({"id": 8, "error": {"code": -32602, "message": "bad"}}), &mut pending)
    else {
        panic!()
    };
    assert_eq!(e.error.code, -32602);
}

#[test]
fn unknown_methods_and_ids_decode_raw_and_re_encode_unchanged() {
    let mut pending = PendingRequests::new();
    let n = json!({"method": "zz/future", "params": {"deep": [1, {"x": null}]}, "emittedAtMs": 1});
    let ServerMessage::Notification(n) = decode(&n, &mut pending) else { panic!() };
    assert!(n.variant.is_unknown());

    let r = json!({"id": "a", "method": "zz/futureRequest", "params": {"q": 1}});
    let ServerMessage::Request(r) = decode(&r, &mut pending) else { panic!() };
    assert!(r.is_unknown());

    // A response nobody waits for keeps its result raw; so does one for a method the schema does not list.
    let ServerMessage::Response(response) = decode(&json!({"id": 99, "result": {"z": 1}, "extra": true}), &mut pending)
    else {
        panic!()
    };
    assert_eq!(response.result, ClientResponse::Unknown(json!({"z": 1})));
    pending.insert(&RequestId::Integer(5), "zz/custom");
    assert!(matches!(decode(&json!({"id": 5, "result": [1]}), &mut pending), ServerMessage::Response(_)));

    for bad in ["[1]", "{\"id\": 1}", "not json"] {
        assert!(decode_server_message(bad, &mut pending).is_err(), "{bad}");
    }
}

#[test]
fn every_sample_notification_and_request_goes_through_the_decoder() {
    let root = schema();
    let sampler = binding_tests::samples::Sampler::new(&root);
    let mut checked = 0;
    let variants = |union: &'static str| {
        (0..root["definitions"][union]["oneOf"].as_array().unwrap().len())
            .map(move |i| format!("/definitions/{union}/oneOf/{i}"))
    };
    for pointer in variants("ServerNotification").chain(variants("ServerRequest")) {
        for sample in sampler.samples(&pointer) {
            let message = decode_expecting(&sample.input, &sample.expected, &mut PendingRequests::new());
            let unknown = match &message {
                ServerMessage::Notification(n) => n.variant.is_unknown(),
                ServerMessage::Request(r) => r.is_unknown(),
                other => panic!("{other:?}"),
            };
            assert!(!unknown, "{} decodes as a known method", sample.input);
            checked += 1;
        }
    }
    assert!(checked > 3 * 90, "{checked}");
}

/// A client that records what it is asked to send and answers from a script.
#[derive(Default)]
struct Recorder {
    sent: Vec<(&'static str, Option<Value>)>,
    notified: Vec<(&'static str, Option<Value>)>,
    result: Value,
}

impl Client for Recorder {
    type Error = serde_json::Error;

    fn call(&mut self, method: &'static str, params: Option<Value>) -> Result<Value, Self::Error> {
        self.sent.push((method, params));
        Ok(self.result.clone())
    }
}

impl AsyncClient for Recorder {
    type Error = serde_json::Error;

    fn call(
        &mut self,
        method: &'static str,
        params: Option<Value>,
    ) -> impl Future<Output = Result<Value, Self::Error>> + Send {
        self.sent.push((method, params));
        std::future::ready(Ok(self.result.clone()))
    }
}

impl Notifier for Recorder {
    fn notify(&mut self, method: &'static str, params: Option<Value>) -> Result<(), Self::Error> {
        self.notified.push((method, params));
        Ok(())
    }
}

impl AsyncNotifier for Recorder {
    fn notify(
        &mut self,
        method: &'static str,
        params: Option<Value>,
    ) -> impl Future<Output = Result<(), <Self as AsyncClient>::Error>> + Send {
        self.notified.push((method, params));
        std::future::ready(Ok(()))
    }
}

#[test]
fn the_typed_notifier_sends_each_client_notification() {
    let mut client = Recorder::default();
    Notifier::initialized(&mut client).unwrap();
    now(AsyncNotifier::initialized(&mut client)).unwrap();
    Notifier::notification::<client::Initialized>(&mut client, ()).unwrap();
    assert_eq!(client.notified, [("initialized", None), ("initialized", None), ("initialized", None)]);
    assert!(client.sent.is_empty(), "{:?}", client.sent);
}

/// Runs a future that never waits.
fn now<F: Future>(future: F) -> F::Output {
    match pin!(future).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("the recorder answers at once"),
    }
}

#[test]
fn the_typed_client_writes_exactly_the_wire_params() {
    let mut client = Recorder { result: json!({}), ..Recorder::default() };
    let params = ThreadStartParams {
        model: Some(Some("m".into())),
        // Optional and nullable: `Some(None)` is an explicit null, `None` leaves the field out.
        base_instructions: Some(None),
        ..ThreadStartParams::default()
    };
    let _ = Client::thread_start(&mut client, params.clone());
    Client::account_logout(&mut client).unwrap();
    // `{}` is no rate-limit result: the call is sent, and its result fails to decode.
    assert!(Client::account_rate_limits_read(&mut client, None).is_err());
    let _ = now(AsyncClient::thread_start(&mut client, params));
    now(AsyncClient::account_logout(&mut client)).unwrap();
    let expected = json!({"model": "m", "baseInstructions": null});
    assert_eq!(
        client.sent,
        [
            ("thread/start", Some(expected.clone())),
            ("account/logout", None),
            ("account/rateLimits/read", None),
            ("thread/start", Some(expected)),
            ("account/logout", None),
        ]
    );
}

#[test]
fn the_typed_client_reads_the_typed_result() {
    let mut client = Recorder { result: json!({"decision": "accept"}), ..Recorder::default() };
    let line = rpc::request_message::<server::ItemCommandExecutionRequestApproval>(
        &RequestId::Integer(1),
        &serde_json::from_value(json!({"threadId": "t", "turnId": "u", "itemId": "i", "startedAtMs": 1})).unwrap(),
    )
    .unwrap();
    assert_eq!(line["method"], "item/commandExecution/requestApproval");
    let result: CommandExecutionRequestApprovalResponse =
        Client::request::<server::ItemCommandExecutionRequestApproval>(
            &mut client,
            serde_json::from_value(line["params"].clone()).unwrap(),
        )
        .unwrap();
    assert_eq!(result.decision, CommandExecutionApprovalDecision::Accept);
}

#[test]
fn envelopes_for_what_the_client_writes() {
    assert_eq!(
        rpc::request_message::<client::AccountLogout>(&RequestId::Integer(3), &()).unwrap(),
        json!({"id": 3, "method": "account/logout"})
    );
    assert_eq!(rpc::notification_message::<client::Initialized>(&()).unwrap(), json!({"method": "initialized"}));
    assert_eq!(
        rpc::error_message(&RequestId::String("x".into()), &ErrorObject::invalid_params("no")),
        json!({"id": "x", "error": {"code": -32602, "message": "no"}})
    );
}

/// Approves every command; handles nothing else.
struct Approver;

impl ServerRequestHandler for Approver {
    fn item_command_execution_request_approval(
        &mut self,
        params: CommandExecutionRequestApprovalParams,
    ) -> Result<CommandExecutionRequestApprovalResponse, ErrorObject> {
        assert_eq!(params.thread_id, "t");
        Ok(CommandExecutionRequestApprovalResponse::new(CommandExecutionApprovalDecision::Accept))
    }
}

#[test]
fn the_handler_answers_with_the_typed_result_or_an_error() {
    let request = |value: Value| -> ServerRequest { serde_json::from_value(value).unwrap() };
    let approval = request(json!({"id": 4, "method": "item/commandExecution/requestApproval",
                                  "params": {"threadId": "t", "turnId": "u", "itemId": "i", "startedAtMs": 1}}));
    assert_eq!(Approver.handle(approval), json!({"id": 4, "result": {"decision": "accept"}}));
    let other = request(json!({"id": "z", "method": "item/fileChange/requestApproval",
                               "params": {"threadId": "t", "turnId": "u", "itemId": "i", "startedAtMs": 1}}));
    let reply = Approver.handle(other);
    assert_eq!((reply["id"].clone(), reply["error"]["code"].clone()), (json!("z"), json!(-32601)));
    let unknown = request(json!({"id": 9, "method": "zz/new", "params": {}}));
    assert_eq!(Approver.handle(unknown)["error"]["code"], -32601);
}

#[test]
fn a_message_that_does_not_fit_names_its_method_and_where() {
    let mut pending = PendingRequests::new();
    pending.insert(&RequestId::Integer(3), "thread/start");
    let cases = [
        (
            r#"{"method":"turn/completed","params":{"threadId":"t","turn":{"id":5}}}"#,
            "turn/completed",
            "params.turn.id",
        ),
        (r#"{"method":"turn/completed","params":{"threadId":"t"}}"#, "turn/completed", "params"),
        (r#"{"method":"turn/completed"}"#, "turn/completed", "params"),
        (
            r#"{"id":1,"method":"item/commandExecution/requestApproval","params":{"threadId":"t","turnId":"u","itemId":7}}"#,
            "item/commandExecution/requestApproval",
            "params.itemId",
        ),
        // A response: the method of the request it answers.
        (r#"{"id":3,"result":{"thread":{"id":"x"}}}"#, "thread/start", "result.thread"),
    ];
    for (line, method, path) in cases {
        let error = decode_server_message(line, &mut pending).unwrap_err();
        let rpc::DecodeError::Invalid { method: m, path: p, .. } = &error else { panic!("{line}: {error:?}") };
        assert_eq!((m.as_str(), p.as_str()), (method, path), "{line}: {error}");
        assert!(error.to_string().starts_with(&format!("cannot read `{method}` at `{path}`: ")), "{error}");
    }
    // What is not a message of a listed method says what it is, as before.
    for line in ["[1]", "{}", r#"{"id":9,"error":{"code":"x"}}"#] {
        let error = decode_server_message(line, &mut pending).unwrap_err();
        assert!(!matches!(error, rpc::DecodeError::Invalid { .. }), "{line}: {error}");
    }
}
