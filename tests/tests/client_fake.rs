//! The client runtime against a scripted fake server (`src/bin/fake_server.rs`), a real child process: malformed
//! lines, unknown methods, requests never answered or that do not decode, a server that exits mid-wait, approvals,
//! events before `turn/start` is answered, and concurrent turns; and, over a websocket, a peer that stops reading.
//! Every test is bounded; every server is reaped.

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use codex_app_server_types::client::{Codex, CodexConfig, Error, ServerNotification, TurnOptions};
use codex_app_server_types::rpc::{ErrorObject, ServerRequestHandler};
use codex_app_server_types::v2::ThreadResumeParams;
use codex_app_server_types::{
    CommandExecutionApprovalDecision, CommandExecutionRequestApprovalParams, ExecCommandApprovalParams,
    ExecCommandApprovalResponse, ReviewDecision,
};
use serde_json::{json, Value};

const LIMIT: Duration = Duration::from_secs(20);

async fn bounded<T>(test: impl Future<Output = T>) -> T {
    tokio::time::timeout(LIMIT, test).await.expect("the test finishes in time")
}

fn config() -> CodexConfig {
    CodexConfig::default().codex_bin(env!("CARGO_BIN_EXE_fake_server"))
}

async fn start(config: CodexConfig) -> Codex {
    Codex::start(config).await.expect("the fake server starts")
}

fn method(event: &ServerNotification) -> String {
    serde_json::to_value(event).expect("serialises")["method"].as_str().unwrap_or_default().to_owned()
}

fn event_value(event: &ServerNotification) -> Value {
    serde_json::to_value(event).expect("serialises")
}

fn pid_alive(pid: u64) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
}

async fn wait_gone(pid: u64) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while pid_alive(pid) {
        assert!(Instant::now() < deadline, "server {pid} is still there");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn approval_params(thread: &str) -> Value {
    json!({ "threadId": thread, "turnId": "turn_x", "itemId": "item_x", "startedAtMs": 1, "command": "echo hi" })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handshake_and_a_turn_with_events_before_its_answer() {
    bounded(async {
        let codex = start(config()).await;
        assert_eq!(codex.server_version(), Some("0.1.0"));
        let thread = codex.thread_start(Default::default()).await.unwrap();
        let mut turn = thread.turn("hello").await.unwrap();
        let mut methods = Vec::new();
        while let Some(event) = turn.next().await {
            methods.push(method(&event.unwrap()));
        }
        // `turn/started` and the first delta came before the answer to `turn/start`.
        assert_eq!(
            methods,
            [
                "turn/started",
                "item/agentMessage/delta",
                "item/completed",
                "thread/tokenUsage/updated",
                "turn/completed"
            ]
        );
        let result = thread.run("again").await.unwrap();
        assert_eq!(result.final_response.as_deref(), Some("again"));
        assert_eq!(result.items.len(), 1);
        assert!(result.usage.is_some());
        codex.close().await;
    })
    .await
}

#[test]
fn handles_can_be_shared_across_tasks_and_printed() {
    use codex_app_server_types::client::{blocking, Events, Thread, TurnHandle};
    fn shared<T: Clone + Send + Sync + std::fmt::Debug + 'static>() {}
    fn sent<T: Send + std::fmt::Debug + 'static>() {}
    shared::<Codex>();
    shared::<Thread>();
    shared::<Error>();
    sent::<TurnHandle>();
    sent::<Events>();
    shared::<blocking::Codex>();
    shared::<blocking::Thread>();
    shared::<blocking::Interrupter>();
    sent::<blocking::TurnHandle>();
    sent::<blocking::Events>();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_consumer_is_told_what_it_missed_and_still_gets_the_end() {
    bounded(async {
        let codex = start(config().buffer(2)).await;
        let thread = codex.thread_start(Default::default()).await.unwrap();
        let mut turn = thread.turn("not read in time").await.unwrap();
        // Let every event arrive before reading: the queue holds two, drops two, and keeps `turn/completed`.
        codex.call("test/pid", None).await.unwrap();
        let mut read = Vec::new();
        while let Some(event) = turn.next().await {
            read.push(match event {
                Ok(event) => method(&event),
                Err(Error::Lagged { dropped }) => format!("lagged {dropped}"),
                Err(e) => panic!("{e}"),
            });
        }
        assert_eq!(read, ["lagged 2", "turn/started", "item/agentMessage/delta", "turn/completed"]);
        // The result is whole all the same.
        let thread_result = thread.run("whole").await.unwrap();
        assert_eq!(thread_result.final_response.as_deref(), Some("whole"));
        codex.close().await;
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thread_subscribes_to_its_own_events() {
    bounded(async {
        let codex = start(config()).await;
        let (a, b) = (codex.thread("thr_a"), codex.thread("thr_b"));
        let (mut events_a, mut all) = (a.events(), codex.events());
        for thread in [b.id(), a.id()] {
            let notification =
                json!({ "method": "thread/name/updated", "params": { "threadId": thread, "threadName": thread } });
            codex.call("test/notify", Some(notification)).await.unwrap();
        }
        let only = event_value(&events_a.next().await.unwrap().unwrap());
        assert_eq!(only["params"]["threadId"], "thr_a", "{only}");
        let first = event_value(&all.next().await.unwrap().unwrap());
        assert_eq!(first["params"]["threadId"], "thr_b", "{first}");
        codex.close().await;
        assert!(matches!(events_a.next().await, Some(Err(Error::TransportClosed { .. }))));
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_turn_gets_only_its_own_events_and_its_threads_go_to_the_subscriptions() {
    bounded(async {
        let codex = start(config()).await;
        let thread = codex.thread_start(Default::default()).await.unwrap();
        let (mut thread_events, mut all) = (thread.events(), codex.events());
        // Both name the thread and no turn: `thread/status/changed` comes before `turn/start` is answered,
        // `thread/name/updated` while the turn runs.
        let mut turn = thread.turn("[hold] [status] named").await.unwrap();
        let renamed =
            json!({ "method": "thread/name/updated", "params": { "threadId": thread.id(), "threadName": "x" } });
        codex.call("test/notify", Some(renamed)).await.unwrap();
        assert_eq!(codex.call("test/release", None).await.unwrap()["released"], 1);
        let mut methods = Vec::new();
        while let Some(event) = turn.next().await {
            methods.push(method(&event.unwrap()));
        }
        assert_eq!(
            methods,
            [
                "turn/started",
                "item/agentMessage/delta",
                "item/agentMessage/delta",
                "item/completed",
                "thread/tokenUsage/updated",
                "turn/completed"
            ]
        );
        for events in [&mut thread_events, &mut all] {
            assert_eq!(method(&events.next().await.unwrap().unwrap()), "thread/status/changed");
            assert_eq!(method(&events.next().await.unwrap().unwrap()), "thread/name/updated");
        }
        codex.close().await;
        // Nothing of the turn's own reached them.
        for events in [&mut thread_events, &mut all] {
            assert!(matches!(events.next().await, Some(Err(Error::TransportClosed { .. }))));
        }
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_events_of_other_turns_are_not_taken_for_a_turn_being_started() {
    bounded(async {
        let codex = start(config()).await;
        let thread = codex.thread_start(Default::default()).await.unwrap();
        let mut thread_events = thread.events();
        // A turn whose handle is dropped, and one started without a handle (as another client would).
        let dropped = thread.turn("[hold] dropped").await.unwrap();
        let dropped_id = dropped.id().to_owned();
        drop(dropped);
        let params = json!({ "threadId": thread.id(), "input": [{ "type": "text", "text": "[hold] other" }] });
        let other_id = codex.call("turn/start", Some(params)).await.unwrap()["turn"]["id"].as_str().unwrap().to_owned();
        // Their events come after `turn/start` of the next turn is sent, before any of its own.
        let result = thread.run("[release] next").await.unwrap();
        assert_eq!(result.final_response.as_deref(), Some("[release] next"));
        assert!(![&dropped_id, &other_id].contains(&&result.turn.id), "{:?}", result.turn);
        // They go to the thread's subscription.
        let (mut late, mut completed) = (Vec::new(), 0);
        while completed < 2 {
            let event = event_value(&thread_events.next().await.unwrap().unwrap());
            let turn = event["params"].get("turnId").unwrap_or(&event["params"]["turn"]["id"]).as_str().unwrap();
            assert!(turn == dropped_id || turn == other_id, "{event}");
            completed += usize::from(event["method"] == "turn/completed");
            late.push(format!("{} {}", if turn == dropped_id { "dropped" } else { "other" }, event["method"]));
        }
        let of = |which: &str| late.iter().filter(|e| e.starts_with(which)).count();
        // The other turn's `turn/started` and first delta too: they came before its answer, to no handle.
        assert_eq!((of("dropped"), of("other")), (4, 6), "{late:?}");
        codex.close().await;
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_turn_whose_start_answer_does_not_decode_leaves_its_events_to_the_subscriptions() {
    bounded(async {
        let codex = start(config()).await;
        let thread = codex.thread_start(Default::default()).await.unwrap();
        let mut thread_events = thread.events();
        let refused = thread.turn("[badturn] x").await;
        assert!(matches!(&refused, Err(Error::Decode { method, .. }) if method == "turn/start"), "{refused:?}");
        // No handle holds the turn: its events, those before the answer too, go to the thread's subscription.
        let mut methods = Vec::new();
        while methods.last().map(String::as_str) != Some("turn/completed") {
            let event = tokio::time::timeout(Duration::from_secs(2), thread_events.next()).await;
            let event = event.unwrap_or_else(|_| panic!("no more events after {methods:?}")).unwrap().unwrap();
            methods.push(method(&event));
        }
        assert_eq!(
            methods,
            [
                "turn/started",
                "item/agentMessage/delta",
                "item/completed",
                "thread/tokenUsage/updated",
                "turn/completed"
            ]
        );
        codex.close().await;
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_turn_is_a_stream() {
    use futures_util::StreamExt;
    bounded(async {
        let codex = start(config()).await;
        let thread = codex.thread_start(Default::default()).await.unwrap();
        let turn = thread.turn("streamed").await.unwrap();
        let events: Vec<_> = turn.map(|event| method(&event.unwrap())).collect().await;
        assert_eq!(events.len(), 5);
        assert_eq!(events.last().map(String::as_str), Some("turn/completed"));
        codex.close().await;
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_cannot_start_is_an_error_not_a_hang() {
    bounded(async {
        let missing = Codex::start(CodexConfig::default().codex_bin("/nonexistent/codex")).await;
        assert!(matches!(missing, Err(Error::Start(_))), "{missing:?}");
        // A program that exits at once: the handshake ends with the transport closed, and its status.
        let exits = Codex::start(CodexConfig::default().codex_bin("false")).await;
        match exits {
            Err(Error::TransportClosed { status, .. }) => assert!(status.is_some()),
            other => panic!("expected the transport to close, got {other:?}"),
        }
    })
    .await
}

/// A server that refuses `initialize` and does not exit when its input closes.
fn refusing() -> CodexConfig {
    config().env("FAKE_REFUSE_INITIALIZE", "1").env("FAKE_LINGER", "1").shutdown_timeout(Duration::from_millis(200))
}

/// The process id the refusal names.
fn refused_by<T: std::fmt::Debug>(start: Result<T, Error>) -> u64 {
    match start {
        Err(Error::Rpc { message, .. }) => message.strip_prefix("refused by ").unwrap().parse().unwrap(),
        other => panic!("expected `initialize` refused, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_start_that_fails_ends_its_server_first() {
    bounded(async {
        let started = Instant::now();
        let pid = refused_by(Codex::start(refusing()).await);
        // Killed once the shutdown timeout passed, and waited for.
        assert!(!pid_alive(pid), "server {pid} is still there");
        assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
    })
    .await
}

#[test]
fn a_blocking_start_that_fails_ends_its_server_first() {
    let pid = refused_by(codex_app_server_types::client::blocking::Codex::start(refusing()).map(drop));
    // Not left a zombie by the client's runtime stopping.
    assert!(!pid_alive(pid), "server {pid} is still there");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_turn_is_an_error_carrying_the_turn() {
    bounded(async {
        let codex = start(config()).await;
        let thread = codex.thread_start(Default::default()).await.unwrap();
        match thread.run("[fail]").await {
            Err(Error::TurnFailed { turn }) => assert_eq!(serde_json::to_value(&turn).unwrap()["status"], "failed"),
            other => panic!("expected a failed turn, got {other:?}"),
        }
        codex.close().await;
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_lines_and_unknown_notifications_reach_the_event_stream() {
    bounded(async {
        let codex = start(config()).await;
        let mut events = codex.events();
        codex.call("test/malformed", None).await.unwrap();
        let first = events.next().await.unwrap();
        assert!(matches!(first, Err(Error::Decode { .. })), "{first:?}");
        let second = events.next().await.unwrap();
        assert!(matches!(second, Err(Error::Decode { .. })), "{second:?}");
        // Bytes that are not UTF-8 are read as U+FFFD: the line is reported, the connection goes on.
        let third = events.next().await.unwrap();
        assert!(matches!(&third, Err(Error::Decode { message, .. }) if message.contains('\u{FFFD}')), "{third:?}");
        let unknown = events.next().await.unwrap().unwrap();
        assert_eq!(event_value(&unknown)["method"], "fake/unknown");
        codex.close().await;
        assert!(matches!(events.next().await, Some(Err(Error::TransportClosed { .. }))));
        assert!(events.next().await.is_none());
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_line_over_the_limit_is_reported_and_the_reading_goes_on() {
    bounded(async {
        let codex = start(config().max_message_size(4096)).await;
        let mut events = codex.events();
        // The answer comes after the line too long: the reader went on.
        codex.call("test/long", Some(json!({ "bytes": 1 << 20 }))).await.unwrap();
        match events.next().await {
            Some(Err(Error::Decode { method, message, .. })) => {
                assert_eq!(method, "(line too long)");
                assert!(message.contains("over the limit of 4096"), "{message}");
            }
            other => panic!("expected the line to be reported, got {other:?}"),
        }
        codex.call("test/long", Some(json!({ "bytes": 4000 }))).await.unwrap();
        assert_eq!(method(&events.next().await.unwrap().unwrap()), "fake/long");
        codex.close().await;
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_requests_are_answered_once_whatever_happens() {
    bounded(async {
        let codex = start(config()).await;
        let ask = |method: &str, params: Value| {
            let codex = codex.clone();
            let request = json!({ "method": method, "params": params });
            async move { codex.call("test/ask", Some(request)).await.unwrap()["reply"].clone() }
        };
        // Unknown method: "method not found", with the request's id.
        let reply = ask("fake/question", json!({})).await;
        assert_eq!(reply["error"]["code"], -32601, "{reply}");
        assert!(reply["id"].is_number());
        // An approval without a handler: declined.
        let reply = ask("item/commandExecution/requestApproval", approval_params("thr_9")).await;
        assert_eq!(reply["result"], json!({ "decision": "decline" }), "{reply}");
        // A request that does not decode: an error answer with its id.
        let reply = ask("item/commandExecution/requestApproval", json!({ "threadId": 5 })).await;
        assert_eq!(reply["error"]["code"], -32602, "{reply}");
        assert!(reply["error"]["message"].as_str().unwrap().contains("requestApproval"), "{reply}");
        assert!(reply["id"].is_number());
        // A request nobody answers is not an approval: "method not found".
        let reply = ask(
            "item/tool/requestUserInput",
            json!({ "threadId": "t", "turnId": "u", "itemId": "i", "questions": [], "isBlocking": true }),
        )
        .await;
        assert_eq!(reply["error"]["code"], -32601, "{reply}");
        codex.close().await;
    })
    .await
}

struct Accept(Arc<AtomicUsize>);

impl ServerRequestHandler for Accept {
    fn item_command_execution_request_approval(
        &mut self,
        params: CommandExecutionRequestApprovalParams,
    ) -> Result<codex_app_server_types::CommandExecutionRequestApprovalResponse, ErrorObject> {
        assert_eq!(params.item_id, "item_x");
        self.0.fetch_add(1, Ordering::SeqCst);
        Ok(codex_app_server_types::CommandExecutionRequestApprovalResponse::new(
            CommandExecutionApprovalDecision::Accept,
        ))
    }
}

struct Panics;

impl ServerRequestHandler for Panics {
    fn item_command_execution_request_approval(
        &mut self,
        _: CommandExecutionRequestApprovalParams,
    ) -> Result<codex_app_server_types::CommandExecutionRequestApprovalResponse, ErrorObject> {
        panic!("the handler fails on purpose")
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handlers_per_client_and_per_thread_and_a_panicking_one() {
    bounded(async {
        let calls = Arc::new(AtomicUsize::new(0));
        let codex = start(config().handler(Accept(Arc::clone(&calls)))).await;
        let ask = |params: Value| {
            let codex = codex.clone();
            let request = json!({ "method": "item/commandExecution/requestApproval", "params": params });
            async move { codex.call("test/ask", Some(request)).await.unwrap()["reply"].clone() }
        };
        let reply = ask(approval_params("thr_1")).await;
        assert_eq!(reply["result"], json!({ "decision": "accept" }), "{reply}");
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        // Thread `thr_2` has a handler of its own, which panics: answered with an internal error.
        codex.thread("thr_2").set_handler(Panics);
        let reply = ask(approval_params("thr_2")).await;
        assert_eq!(reply["error"]["code"], -32603, "{reply}");
        // The client's handler still serves other threads.
        let reply = ask(approval_params("thr_3")).await;
        assert_eq!(reply["result"]["decision"], "accept", "{reply}");
        codex.close().await;
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_turn_handler_answers_for_its_turn_only() {
    bounded(async {
        let calls = Arc::new(AtomicUsize::new(0));
        let codex = start(config()).await;
        let thread = codex.thread_start(Default::default()).await.unwrap();
        let options = TurnOptions::default().handler(Accept(Arc::clone(&calls)));
        let turn = thread.turn_with("[hold] with a handler", options).await.unwrap();
        let ask = |turn_id: &str| {
            let codex = codex.clone();
            let mut params = approval_params(thread.id());
            params["turnId"] = json!(turn_id);
            let request = json!({ "method": "item/commandExecution/requestApproval", "params": params });
            async move { codex.call("test/ask", Some(request)).await.unwrap()["reply"].clone() }
        };
        assert_eq!(ask(turn.id()).await["result"]["decision"], "accept");
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        // Another turn of the same thread has no handler: declined.
        assert_eq!(ask("turn_other").await["result"]["decision"], "decline");
        turn.interrupt().await.unwrap();
        codex.close().await;
    })
    .await
}

/// Answers the legacy command approval, which names its thread and no turn, with `decision`.
struct Legacy(ReviewDecision);

impl ServerRequestHandler for Legacy {
    fn exec_command_approval(
        &mut self,
        _: ExecCommandApprovalParams,
    ) -> Result<ExecCommandApprovalResponse, ErrorObject> {
        Ok(ExecCommandApprovalResponse::new(self.0.clone()))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_naming_no_turn_goes_to_the_handler_of_the_running_turn() {
    bounded(async {
        let codex = start(config().handler(Legacy(ReviewDecision::Abort))).await;
        let thread = codex.thread_start(Default::default()).await.unwrap();
        let ask = || {
            let params =
                json!({ "conversationId": thread.id(), "callId": "c", "command": ["ls"], "cwd": "/", "parsedCmd": [] });
            let request = json!({ "method": "execCommandApproval", "params": params });
            let codex = codex.clone();
            async move { codex.call("test/ask", Some(request)).await.unwrap()["reply"].clone() }
        };
        let options = TurnOptions::default().handler(Legacy(ReviewDecision::Approved));
        let turn = thread.turn_with("[hold] running", options).await.unwrap();
        assert_eq!(ask().await["result"]["decision"], "approved");
        // Once the turn completed, the thread's handler (here none: the client's) answers.
        turn.interrupt().await.unwrap();
        turn.run().await.unwrap();
        assert_eq!(ask().await["result"]["decision"], "abort");
        codex.close().await;
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overloaded_requests_are_retried_when_asked() {
    bounded(async {
        let codex = start(config()).await;
        let refused = codex.call("test/overloaded", None).await.unwrap_err();
        assert!(refused.is_overloaded(), "{refused:?}");
        codex.close().await;
        let codex = start(config().retry_overloaded(3, Duration::from_millis(10))).await;
        assert_eq!(codex.call("test/overloaded", None).await.unwrap()["attempts"], 3);
        codex.close().await;
    })
    .await
}

struct AsyncAnswers;

impl codex_app_server_types::client::AsyncServerRequestHandler for AsyncAnswers {
    fn handle(
        &self,
        request: codex_app_server_types::client::ServerRequest,
    ) -> std::pin::Pin<Box<dyn Future<Output = Result<Value, ErrorObject>> + Send + '_>> {
        Box::pin(async move {
            tokio::time::sleep(Duration::from_millis(10)).await;
            match request {
                codex_app_server_types::ServerRequest::ItemCommandExecutionRequestApproval(_) => {
                    Ok(json!({ "decision": "acceptForSession" }))
                }
                _ => Err(ErrorObject::invalid_params("not this one")),
            }
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_async_handler_answers_or_errs() {
    bounded(async {
        let codex = start(config().async_handler(AsyncAnswers)).await;
        let ask = |method: &str, params: Value| {
            let codex = codex.clone();
            let request = json!({ "method": method, "params": params });
            async move { codex.call("test/ask", Some(request)).await.unwrap()["reply"].clone() }
        };
        let reply = ask("item/commandExecution/requestApproval", approval_params("t")).await;
        assert_eq!(reply["result"]["decision"], "acceptForSession", "{reply}");
        let reply = ask("fake/other", json!({})).await;
        assert_eq!(reply["error"]["code"], -32602, "{reply}");
        codex.close().await;
    })
    .await
}

/// Counts when it is dropped.
struct Counted(Arc<AtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// An async handler that never answers: counts the requests it takes, and its answers dropped unfinished.
#[derive(Default)]
struct NeverAnswers {
    taken: Arc<AtomicUsize>,
    dropped: Arc<AtomicUsize>,
}

impl codex_app_server_types::client::AsyncServerRequestHandler for NeverAnswers {
    fn handle(
        &self,
        _: codex_app_server_types::client::ServerRequest,
    ) -> std::pin::Pin<Box<dyn Future<Output = Result<Value, ErrorObject>> + Send + '_>> {
        self.taken.fetch_add(1, Ordering::SeqCst);
        let dropped = Counted(Arc::clone(&self.dropped));
        Box::pin(async move {
            let _dropped = dropped;
            std::future::pending().await
        })
    }
}

/// A sync handler that takes two seconds to answer.
struct Slow;

impl ServerRequestHandler for Slow {
    fn item_command_execution_request_approval(
        &mut self,
        _: CommandExecutionRequestApprovalParams,
    ) -> Result<codex_app_server_types::CommandExecutionRequestApprovalResponse, ErrorObject> {
        std::thread::sleep(Duration::from_secs(2));
        Ok(codex_app_server_types::CommandExecutionRequestApprovalResponse::new(
            CommandExecutionApprovalDecision::Accept,
        ))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handler_that_does_not_answer_in_time_answers_an_error() {
    bounded(async {
        let handler = NeverAnswers::default();
        let dropped = Arc::clone(&handler.dropped);
        let limit = Duration::from_millis(200);
        let config = config().async_handler(handler).handler_timeout(limit).request_timeout(Duration::from_secs(5));
        let codex = start(config).await;
        let ask = |thread: &str| {
            let codex = codex.clone();
            let request =
                json!({ "method": "item/commandExecution/requestApproval", "params": approval_params(thread) });
            async move { codex.call("test/ask", Some(request)).await.unwrap()["reply"].clone() }
        };
        let reply = ask("thr_1").await;
        assert_eq!(reply["error"]["code"], -32603, "{reply}");
        assert!(reply["error"]["message"].as_str().unwrap().contains("did not answer within"), "{reply}");
        assert_eq!(dropped.load(Ordering::SeqCst), 1, "the unfinished answer is dropped");
        // A sync handler cannot be stopped, but its request is answered all the same.
        codex.thread("thr_2").set_handler(Slow);
        let started = Instant::now();
        let reply = ask("thr_2").await;
        assert_eq!(reply["error"]["code"], -32603, "{reply}");
        assert!(
            started.elapsed() < Duration::from_millis(1500),
            "answered before the handler: {:?}",
            started.elapsed()
        );
        codex.close().await;
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closing_drops_the_answers_still_being_made() {
    bounded(async {
        let handler = NeverAnswers::default();
        let (taken, dropped) = (Arc::clone(&handler.taken), Arc::clone(&handler.dropped));
        let codex = start(config().async_handler(handler)).await;
        let request = json!({ "method": "item/commandExecution/requestApproval", "params": approval_params("t") });
        let asking = tokio::spawn({
            let codex = codex.clone();
            async move { codex.call("test/ask", Some(request)).await }
        });
        while taken.load(Ordering::SeqCst) == 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        codex.close().await;
        let closed = Instant::now();
        while dropped.load(Ordering::SeqCst) == 0 {
            assert!(closed.elapsed() < Duration::from_secs(2), "the handler still runs after the client closed");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(matches!(asking.await.unwrap(), Err(Error::TransportClosed { .. })));
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_never_answered_times_out_and_the_client_goes_on() {
    bounded(async {
        let codex = start(config().request_timeout(Duration::from_millis(300))).await;
        let started = Instant::now();
        match codex.call("test/hang", None).await {
            Err(Error::Timeout { after, .. }) => assert_eq!(after, Duration::from_millis(300)),
            other => panic!("expected a timeout, got {other:?}"),
        }
        assert!(started.elapsed() < Duration::from_secs(2));
        // A cancelled call leaves nothing behind and the connection works on.
        let cancelled = tokio::time::timeout(Duration::from_millis(50), codex.call("test/hang", None)).await;
        assert!(cancelled.is_err());
        assert!(codex.call("test/pid", None).await.unwrap().is_number());
        codex.close().await;
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_response_nobody_waits_for_reaches_the_event_stream() {
    bounded(async {
        let codex = start(config().request_timeout(Duration::from_millis(200))).await;
        let mut events = codex.events();
        // The answer to a request that timed out.
        assert!(matches!(codex.call("test/hang", None).await, Err(Error::Timeout { .. })));
        codex.call("test/answer-hung", None).await.unwrap();
        match tokio::time::timeout(Duration::from_secs(2), events.next()).await {
            Ok(Some(Err(Error::UnmatchedResponse { id, message }))) => {
                assert!(id.is_number(), "{id}");
                assert_eq!(message["result"], json!({ "late": true }), "{message}");
            }
            other => panic!("expected the late response, got {other:?}"),
        }
        // An error about a message the server could not read, which names no request.
        let error = json!({ "id": null, "error": { "code": -32700, "message": "Parse error" } });
        codex.call("test/notify", Some(error)).await.unwrap();
        match tokio::time::timeout(Duration::from_secs(2), events.next()).await {
            Ok(Some(Err(Error::UnmatchedResponse { id: Value::Null, message }))) => {
                assert_eq!(message["error"]["code"], -32700, "{message}")
            }
            other => panic!("expected the error response, got {other:?}"),
        }
        codex.close().await;
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_response_is_an_error_only_when_its_error_is_not_null() {
    bounded(async {
        let codex = start(config()).await;
        let reply = |members: Value| codex.call("test/reply", Some(members));
        // `"error": null` beside a result, as some JSON-RPC peers write: the result.
        assert_eq!(reply(json!({ "result": { "ok": true }, "error": null })).await.unwrap(), json!({ "ok": true }));
        let error = reply(json!({ "error": { "code": -32000, "message": "no" }, "result": null })).await.unwrap_err();
        assert_eq!(error.code(), Some(-32000), "{error:?}");
        // Neither a result nor an error.
        let neither = reply(json!({ "error": null })).await;
        assert!(matches!(neither, Err(Error::Decode { .. })), "{neither:?}");
        codex.close().await;
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_turn_without_events_times_out_and_can_be_interrupted() {
    bounded(async {
        let codex = start(config().turn_timeout(Duration::from_millis(300))).await;
        let thread = codex.thread_start(Default::default()).await.unwrap();
        let mut turn = thread.turn("[hold] quiet").await.unwrap();
        assert_eq!(method(&turn.next().await.unwrap().unwrap()), "turn/started");
        assert_eq!(method(&turn.next().await.unwrap().unwrap()), "item/agentMessage/delta");
        assert!(matches!(turn.next().await, Some(Err(Error::Timeout { .. }))));
        turn.interrupt().await.unwrap();
        let last = turn.next().await.unwrap().unwrap();
        assert_eq!(event_value(&last)["params"]["turn"]["status"], "interrupted");
        assert!(turn.next().await.is_none());
        codex.close().await;
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_exiting_ends_every_wait_at_once() {
    bounded(async {
        let codex = start(config()).await;
        let thread = codex.thread_start(Default::default()).await.unwrap();
        let mut turn = thread.turn("[hold] forever").await.unwrap();
        let mut events = codex.events();
        let waiters: Vec<_> = (0..3)
            .map(|_| {
                let codex = codex.clone();
                tokio::spawn(async move { codex.call("test/hang", None).await })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(100)).await;
        let started = Instant::now();
        let exit = codex.call("test/exit", None).await;
        assert!(matches!(exit, Err(Error::TransportClosed { .. })), "{exit:?}");
        for waiter in waiters {
            match waiter.await.unwrap() {
                Err(Error::TransportClosed { status, stderr, .. }) => {
                    assert!(status.as_deref().unwrap_or_default().contains('3'), "{status:?}");
                    assert!(stderr.iter().any(|l| l.contains("exiting on purpose")), "{stderr:?}");
                }
                other => panic!("expected the transport to close, got {other:?}"),
            }
        }
        while let Some(event) = turn.next().await {
            if let Err(e) = event {
                assert!(matches!(e, Error::TransportClosed { .. }), "{e:?}");
            }
        }
        assert!(matches!(events.next().await, Some(Err(Error::TransportClosed { .. }))));
        assert!(started.elapsed() < Duration::from_secs(1), "{:?}", started.elapsed());
        // Later calls fail at once too.
        assert!(matches!(thread.run("more").await, Err(Error::TransportClosed { .. })));
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stderr_that_is_not_utf8_is_read_on() {
    bounded(async {
        let codex = start(config()).await;
        codex.call("test/stderr", None).await.unwrap();
        match codex.call("test/exit", None).await {
            Err(Error::TransportClosed { status, stderr, .. }) => {
                // Had the reading stopped at the line that is not UTF-8, the server could not write to its stderr.
                assert!(status.as_deref().unwrap_or_default().contains('3'), "{status:?}");
                assert!(stderr.iter().any(|l| l == "fake: \u{FFFD} is not UTF-8"), "{stderr:?}");
                assert!(stderr.iter().any(|l| l == "fake: a line after it"), "{stderr:?}");
                assert!(stderr.iter().any(|l| l.contains("exiting on purpose")), "{stderr:?}");
            }
            other => panic!("expected the transport to close, got {other:?}"),
        }
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_turns_hold_only_their_own_events() {
    bounded(async {
        let codex = start(config()).await;
        let mut turns = Vec::new();
        for n in 0..3 {
            let thread = codex.thread_start(Default::default()).await.unwrap();
            turns.push(thread.turn(format!("[hold] token-{n}")).await.unwrap());
        }
        assert_eq!(codex.call("test/release", None).await.unwrap()["released"], 3);
        let tasks = turns.into_iter().enumerate().map(|(n, mut turn)| {
            tokio::spawn(async move {
                let (thread, id) = (turn.thread_id().to_owned(), turn.id().to_owned());
                let mut deltas = Vec::new();
                while let Some(event) = turn.next().await {
                    let event = event_value(&event.unwrap());
                    assert_eq!(event["params"]["threadId"], thread.as_str(), "{event}");
                    if let Some(turn_id) = event["params"]["turnId"].as_str() {
                        assert_eq!(turn_id, id, "{event}");
                    }
                    if event["method"] == "item/agentMessage/delta" {
                        deltas.push(event["params"]["delta"].as_str().unwrap().to_owned());
                    }
                }
                assert_eq!(deltas, vec![format!("[hold] token-{n}"); 2]);
            })
        });
        for task in tasks.collect::<Vec<_>>() {
            task.await.unwrap();
        }
        codex.close().await;
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_last_handle_shuts_the_server_down() {
    bounded(async {
        let codex = start(config()).await;
        let pid = codex.call("test/pid", None).await.unwrap().as_u64().unwrap();
        let thread = codex.thread_start(Default::default()).await.unwrap();
        drop(codex);
        assert!(pid_alive(pid), "a thread handle keeps the connection");
        drop(thread);
        wait_gone(pid).await;
    })
    .await
}

#[test]
fn a_panic_in_a_blocking_call_reaches_its_caller() {
    use codex_app_server_types::client::blocking;
    let codex = blocking::Codex::start(config()).unwrap();
    let call = std::panic::AssertUnwindSafe(|| codex.block_on(|_| async { panic!("on purpose") }));
    let panic = std::panic::catch_unwind(call).expect_err("the call panics");
    assert_eq!(panic.downcast_ref::<&str>(), Some(&"on purpose"), "the future's own panic");
    // The client goes on.
    assert!(codex.call("test/pid", None).unwrap().is_number());
}

#[test]
fn blocking_events_do_not_keep_the_connection_open() {
    use codex_app_server_types::client::blocking;
    let codex = blocking::Codex::start(config()).unwrap();
    let pid = codex.call("test/pid", None).unwrap().as_u64().unwrap();
    let (mut events, mut thread_events) = (codex.events(), codex.thread("thr_1").events());
    let renamed = json!({ "method": "thread/name/updated", "params": { "threadId": "thr_1", "threadName": "x" } });
    codex.call("test/notify", Some(renamed)).unwrap();
    drop(codex);
    // As with the async client, dropping the last handle closes the connection.
    let deadline = Instant::now() + Duration::from_secs(10);
    while pid_alive(pid) {
        assert!(Instant::now() < deadline, "server {pid} is still there");
        std::thread::sleep(Duration::from_millis(20));
    }
    // What the subscriptions hold is still read, then the end.
    for events in [&mut events, &mut thread_events] {
        assert_eq!(method(&events.next().unwrap().unwrap()), "thread/name/updated");
        assert!(matches!(events.next(), Some(Err(Error::TransportClosed { .. }))));
        assert!(events.next().is_none());
    }
}

#[test]
fn the_blocking_client_needs_no_runtime() {
    use codex_app_server_types::client::blocking;
    let started = Instant::now();
    let codex = blocking::Codex::start(config().request_timeout(Duration::from_secs(5))).unwrap();
    assert_eq!(format!("{codex:?}"), r#"Codex { server_version: Some("0.1.0"), .. }"#);
    let pid = codex.call("test/pid", None).unwrap().as_u64().unwrap();
    let thread = codex.thread_start(Default::default()).unwrap();
    let result = thread.run("blocking hello").unwrap();
    assert_eq!(result.final_response.as_deref(), Some("blocking hello"));
    let turn = thread.turn("streamed").unwrap();
    let methods: Vec<String> = turn.map(|e| method(&e.unwrap())).collect();
    assert_eq!(methods.first().map(String::as_str), Some("turn/started"));
    assert_eq!(methods.last().map(String::as_str), Some("turn/completed"));
    let resumed = codex.block_on(|c| async move { c.thread_resume(ThreadResumeParams::new("thr_7")).await }).unwrap();
    let resumed = codex.wrap(resumed);
    assert_eq!(resumed.id(), "thr_7");
    assert_eq!(resumed.run("resumed").unwrap().final_response.as_deref(), Some("resumed"));
    let mut held = thread.turn_with("[hold] x", TurnOptions::default()).unwrap();
    assert!(held.next().is_some());
    held.interrupt().unwrap();
    let rest: Vec<_> = held.collect();
    assert!(rest.last().unwrap().is_ok());
    // Interrupted from another thread while this one reads the events.
    let held = thread.turn("[hold] y").unwrap();
    let stop = held.interrupter();
    let stopper = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(100));
        stop.interrupt()
    });
    let last = held.last().unwrap().unwrap();
    assert_eq!(event_value(&last)["params"]["turn"]["status"], "interrupted");
    stopper.join().unwrap().unwrap();
    let reply = codex
        .call(
            "test/ask",
            Some(json!({ "method": "item/commandExecution/requestApproval", "params": approval_params("t") })),
        )
        .unwrap();
    assert_eq!(reply["reply"]["result"]["decision"], "decline");
    assert!(matches!(codex.call("test/exit", None), Err(Error::TransportClosed { .. })));
    assert!(matches!(thread.run("after"), Err(Error::TransportClosed { .. })));
    drop(thread);
    drop(codex);
    let deadline = Instant::now() + Duration::from_secs(10);
    while pid_alive(pid) {
        assert!(Instant::now() < deadline);
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(started.elapsed() < LIMIT);
}

type Socket = tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>;

/// A websocket peer on a thread and runtime of its own (so that the test's runtime runs the client's tasks only):
/// it answers `initialize`, takes `initialized`, then hands the socket to `then`. Its port.
fn websocket_peer<F>(then: impl FnOnce(Socket) -> F + Send + 'static) -> u16
where
    F: Future<Output = ()>,
{
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    let (port_tx, port_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            port_tx.send(listener.local_addr().unwrap().port()).unwrap();
            let accepted = tokio::time::timeout(Duration::from_secs(10), listener.accept()).await;
            let (stream, _) = accepted.expect("the client connects").unwrap();
            let mut socket = tokio_tungstenite::accept_async(stream).await.unwrap();
            let Some(Ok(Message::Text(initialize))) = socket.next().await else { panic!("no initialize") };
            let id = serde_json::from_str::<Value>(&initialize).unwrap()["id"].clone();
            let result =
                json!({ "userAgent": "peer/0.1.0", "codexHome": "/tmp", "platformFamily": "unix", "platformOs": "linux" });
            socket.send(Message::Text(json!({ "id": id, "result": result }).to_string().into())).await.unwrap();
            socket.next().await;
            then(socket).await;
        });
    });
    port_rx.recv_timeout(Duration::from_secs(5)).unwrap()
}

/// A websocket peer that reads nothing after the handshake until `release` says so (or 20 s pass); it then reads
/// what the client sent to its end and says whether the client closed the connection.
fn deaf_websocket_peer() -> (u16, std::sync::mpsc::Sender<()>, std::sync::mpsc::Receiver<bool>) {
    use futures_util::StreamExt;
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let (closed_tx, closed_rx) = std::sync::mpsc::channel();
    let port = websocket_peer(move |mut socket| async move {
        // Deaf from here on: what the client writes fills the socket's buffers.
        let _ = tokio::task::spawn_blocking(move || release_rx.recv_timeout(Duration::from_secs(20))).await;
        let drained = async { while let Some(Ok(_)) = socket.next().await {} };
        let closed = tokio::time::timeout(Duration::from_secs(10), drained).await.is_ok();
        let _ = closed_tx.send(closed);
    });
    (port, release_tx, closed_rx)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_websocket_message_over_the_limit_ends_the_connection() {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    bounded(async {
        let port = websocket_peer(|mut socket| async move {
            let long = json!({ "method": "fake/long", "params": { "text": "x".repeat(8192) } });
            let _ = socket.send(Message::Text(long.to_string().into())).await;
            // Until the client goes.
            let _ =
                tokio::time::timeout(Duration::from_secs(10), async { while let Some(Ok(_)) = socket.next().await {} })
                    .await;
        });
        let codex = start(CodexConfig::default().url(format!("ws://127.0.0.1:{port}")).max_message_size(4096)).await;
        match codex.closed().await {
            Error::TransportClosed { reason, .. } => assert!(reason.contains("too long"), "{reason}"),
            other => panic!("expected the connection to close, got {other:?}"),
        }
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closing_does_not_wait_forever_for_a_peer_that_stopped_reading() {
    bounded(async {
        let (port, release, closed) = deaf_websocket_peer();
        let grace = Duration::from_millis(300);
        let config = CodexConfig::default().url(format!("ws://127.0.0.1:{port}")).shutdown_timeout(grace);
        let codex = start(config).await;
        let runtime = tokio::runtime::Handle::current();
        // More than the socket buffers hold: the writer blocks in the middle of a message.
        let chunk = "x".repeat(1 << 20);
        for _ in 0..32 {
            codex.notify("test/flood", Some(json!({ "data": chunk }))).unwrap();
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        let started = Instant::now();
        codex.close().await;
        drop(codex);
        // The writer gave up once its grace was over: no task of the client is left, nor the socket they held.
        while runtime.metrics().num_alive_tasks() > 0 {
            assert!(started.elapsed() < grace + Duration::from_secs(3), "the client's tasks are still running");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        release.send(()).unwrap();
        let closed = tokio::task::spawn_blocking(move || closed.recv_timeout(Duration::from_secs(15))).await.unwrap();
        assert_eq!(closed, Ok(true), "the peer saw the connection end");
    })
    .await
}
