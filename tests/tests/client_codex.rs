//! The client runtime against the real `codex app-server` (from `CODEX_BIN`), offline: a scratch `CODEX_HOME`
//! whose model provider is the loopback mock of `binding_tests::mock`. Every test is bounded and reaps its server.
//!
//! `CODEX_BIN` must name the pinned `codex` binary; unset, these tests fail (they do not skip).

use std::future::Future;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use binding_tests::mock::Mock;
use codex_app_server_types::client::{Codex, CodexConfig, Error, ServerNotification, TurnHandle, TurnResult};
use codex_app_server_types::rpc::{AsyncClient, ErrorObject, ServerRequestHandler};
use codex_app_server_types::{
    CommandExecutionApprovalDecision, CommandExecutionRequestApprovalParams, CommandExecutionRequestApprovalResponse,
};
use serde_json::Value;

const LIMIT: Duration = Duration::from_secs(90);

async fn bounded<T>(test: impl Future<Output = T>) -> T {
    tokio::time::timeout(LIMIT, test).await.expect("the test finishes in time")
}

fn codex_bin() -> PathBuf {
    match std::env::var_os("CODEX_BIN") {
        Some(bin) => PathBuf::from(bin),
        None => panic!(
            "CODEX_BIN is not set: these tests run the real server. Set it to the pinned codex binary, e.g. \
             CODEX_BIN=$(find ~/.cache/codex-schema-codegen -name codex -type f | sort -V | tail -1) \
             (`cargo xtask update-schema` caches the pinned release there)"
        ),
    }
}

fn mock() -> &'static Mock {
    static MOCK: OnceLock<Mock> = OnceLock::new();
    MOCK.get_or_init(|| Mock::start().expect("the mock listens"))
}

/// A scratch `CODEX_HOME` and working directory, removed at the end.
struct Scratch {
    dir: tempfile::TempDir,
    home: PathBuf,
}

fn scratch() -> Scratch {
    let dir = tempfile::tempdir().expect("a scratch directory");
    let home = mock().codex_home(dir.path()).expect("a scratch CODEX_HOME");
    std::fs::create_dir_all(dir.path().join("work")).expect("a work directory");
    Scratch { dir, home }
}

impl Scratch {
    fn config(&self) -> CodexConfig {
        CodexConfig::default()
            .codex_bin(codex_bin())
            .env("CODEX_HOME", self.home.to_string_lossy())
            .cwd(self.dir.path().join("work"))
            .request_timeout(Duration::from_secs(30))
            .turn_timeout(Duration::from_secs(45))
    }
}

fn value(event: &ServerNotification) -> Value {
    serde_json::to_value(event).expect("serialises")
}

/// Reads a turn to its end: the agent message deltas, and the final turn's status.
async fn read_turn(turn: &mut TurnHandle) -> (String, String) {
    let (thread, id) = (turn.thread_id().to_owned(), turn.id().to_owned());
    let (mut text, mut status) = (String::new(), String::new());
    while let Some(event) = turn.next().await {
        let event = value(&event.expect("an event"));
        let params = &event["params"];
        // A turn's stream holds its own events only.
        if let Some(thread_id) = params["threadId"].as_str() {
            assert_eq!(thread_id, thread, "{event}");
        }
        if let Some(turn_id) = params["turnId"].as_str() {
            assert_eq!(turn_id, id, "{event}");
        }
        match event["method"].as_str() {
            Some("item/agentMessage/delta") => text.push_str(params["delta"].as_str().unwrap_or_default()),
            Some("turn/completed") => status = params["turn"]["status"].as_str().unwrap_or_default().to_owned(),
            _ => {}
        }
    }
    (text, status)
}

fn command_status(result: &TurnResult) -> Option<String> {
    result.items.iter().map(|item| serde_json::to_value(item).unwrap()).find_map(|item| {
        (item["type"] == "commandExecution").then(|| item["status"].as_str().unwrap_or_default().to_owned())
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_streamed_turn_and_run() {
    bounded(async {
        let s = scratch();
        let codex = Codex::start(s.config()).await.unwrap();
        assert!(codex.server_version().is_some());
        let thread = codex.thread_start(Default::default()).await.unwrap();
        let mut turn = thread.turn("[mock:text] hi [token:streamed]").await.unwrap();
        let (text, status) = read_turn(&mut turn).await;
        assert_eq!(text, "Hello from the mock. token=streamed");
        assert_eq!(status, "completed");
        let result = thread.run("again [token:run]").await.unwrap();
        assert_eq!(result.final_response.as_deref(), Some("Hello from the mock. token=run"));
        assert!(result.usage.is_some());
        // Any request of the protocol, typed.
        let models = codex.clone().model_list(Default::default()).await;
        assert!(models.is_ok(), "{models:?}");
        codex.close().await;
    })
    .await
}

struct Accept(Arc<AtomicUsize>);

impl ServerRequestHandler for Accept {
    fn item_command_execution_request_approval(
        &mut self,
        _: CommandExecutionRequestApprovalParams,
    ) -> Result<CommandExecutionRequestApprovalResponse, ErrorObject> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Ok(CommandExecutionRequestApprovalResponse::new(CommandExecutionApprovalDecision::Accept))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approvals_run_with_a_handler_and_are_declined_without() {
    bounded(async {
        let s = scratch();
        let calls = Arc::new(AtomicUsize::new(0));
        let codex = Codex::start(s.config()).await.unwrap();
        let thread = codex.thread_start(Default::default()).await.unwrap();
        // No handler: declined, the command does not run.
        let declined = thread.run("[mock:exec] run it").await.unwrap();
        assert_eq!(command_status(&declined).as_deref(), Some("declined"), "{:?}", declined.items);
        // The thread's handler accepts: it runs.
        thread.set_handler(Accept(Arc::clone(&calls)));
        let accepted = thread.run("[mock:exec] run it again").await.unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert_eq!(command_status(&accepted).as_deref(), Some("completed"), "{:?}", accepted.items);
        codex.close().await;
    })
    .await
}

/// Waits for the first agent message delta of a turn.
async fn first_delta(turn: &mut TurnHandle) {
    while let Some(event) = turn.next().await {
        if value(&event.unwrap())["method"] == "item/agentMessage/delta" {
            return;
        }
    }
    panic!("the turn ended before its first delta");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interrupt_and_steer_a_slow_turn() {
    bounded(async {
        let s = scratch();
        let codex = Codex::start(s.config()).await.unwrap();
        let thread = codex.thread_start(Default::default()).await.unwrap();
        let mut turn = thread.turn("[mock:slow] take your time").await.unwrap();
        first_delta(&mut turn).await;
        turn.steer("and mention [token:steered]").await.unwrap();
        let started = Instant::now();
        turn.interrupt().await.unwrap();
        let (_, status) = read_turn(&mut turn).await;
        assert_eq!(status, "interrupted");
        assert!(started.elapsed() < Duration::from_secs(10));
        codex.close().await;
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_stream_is_a_failed_turn() {
    bounded(async {
        let s = scratch();
        let codex = Codex::start(s.config()).await.unwrap();
        let thread = codex.thread_start(Default::default()).await.unwrap();
        match thread.run("[mock:fail] please").await {
            Err(Error::TurnFailed { turn }) => assert_eq!(serde_json::to_value(&turn).unwrap()["status"], "failed"),
            other => panic!("expected a failed turn, got {other:?}"),
        }
        codex.close().await;
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thread_resumed_by_another_client() {
    bounded(async {
        let s = scratch();
        let codex = Codex::start(s.config()).await.unwrap();
        let thread = codex.thread_start(Default::default()).await.unwrap();
        thread.run("[token:first]").await.unwrap();
        let id = thread.id().to_owned();
        drop(thread);
        codex.close().await;

        let codex = Codex::start(s.config()).await.unwrap();
        let params = codex_app_server_types::v2::ThreadResumeParams::new(id.clone());
        let thread = codex.thread_resume(params).await.unwrap();
        assert_eq!(thread.id(), id);
        let result = thread.run("[token:second]").await.unwrap();
        assert_eq!(result.final_response.as_deref(), Some("Hello from the mock. token=second"));
        codex.close().await;
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_turns_on_several_threads_of_one_client() {
    bounded(async {
        let s = scratch();
        let codex = Codex::start(s.config()).await.unwrap();
        let mut tasks = Vec::new();
        for n in 0..3 {
            let codex = codex.clone();
            tasks.push(tokio::spawn(async move {
                let thread = codex.thread_start(Default::default()).await.unwrap();
                let mut turn = thread.turn(format!("[token:c{n}]")).await.unwrap();
                let (text, status) = read_turn(&mut turn).await;
                assert_eq!(text, format!("Hello from the mock. token=c{n}"));
                assert_eq!(status, "completed");
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
        codex.close().await;
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_killed_mid_turn_ends_the_turn_at_once() {
    bounded(async {
        let s = scratch();
        let codex = Codex::start(s.config()).await.unwrap();
        let pid = codex.server_pid().expect("a child server");
        let thread = codex.thread_start(Default::default()).await.unwrap();
        let mut turn = thread.turn("[mock:slow] [token:killed]").await.unwrap();
        first_delta(&mut turn).await;
        let status = std::process::Command::new("kill").arg("-9").arg(pid.to_string()).status().unwrap();
        assert!(status.success());
        let killed = Instant::now();
        let mut last = None;
        while let Some(event) = turn.next().await {
            last = Some(event);
        }
        assert!(matches!(last, Some(Err(Error::TransportClosed { .. }))), "{last:?}");
        assert!(killed.elapsed() < Duration::from_secs(2), "{:?}", killed.elapsed());
        assert!(matches!(thread.run("more").await, Err(Error::TransportClosed { .. })));
    })
    .await
}

/// `codex app-server --listen ws://127.0.0.1:PORT`, killed when dropped.
struct Listening {
    child: std::process::Child,
    port: u16,
}

impl Drop for Listening {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn listen(s: &Scratch) -> Listening {
    let port = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap().local_addr().unwrap().port();
    let child = std::process::Command::new(codex_bin())
        .args(["app-server", "--listen", &format!("ws://127.0.0.1:{port}")])
        .env("CODEX_HOME", &s.home)
        .current_dir(s.dir.path().join("work"))
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("codex starts");
    Listening { child, port }
}

/// Waits until `/readyz` answers 200.
async fn ready(port: u16) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(mut stream) = tokio::net::TcpStream::connect(("127.0.0.1", port)).await {
            let request = "GET /readyz HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n";
            let mut answer = String::new();
            let written = stream.write_all(request.as_bytes()).await.is_ok();
            if written && stream.read_to_string(&mut answer).await.is_ok() && answer.starts_with("HTTP/1.1 200") {
                return;
            }
        }
        assert!(Instant::now() < deadline, "the websocket server is not ready");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_a_websocket() {
    bounded(async {
        let s = scratch();
        let server = listen(&s);
        ready(server.port).await;
        let config = s.config().url(format!("ws://127.0.0.1:{}", server.port));
        let codex = Codex::start(config).await.unwrap();
        assert_eq!(codex.server_pid(), None);
        let thread = codex.thread_start(Default::default()).await.unwrap();
        let mut turn = thread.turn("[token:ws]").await.unwrap();
        let (text, status) = read_turn(&mut turn).await;
        assert_eq!((text.as_str(), status.as_str()), ("Hello from the mock. token=ws", "completed"));
        codex.close().await;
        drop(server);
    })
    .await
}

#[test]
fn the_blocking_client_runs_a_turn() {
    let s = scratch();
    let codex = codex_app_server_types::client::blocking::Codex::start(s.config()).unwrap();
    let thread = codex.thread_start(Default::default()).unwrap();
    let result = thread.run("[token:blocking]").unwrap();
    assert_eq!(result.final_response.as_deref(), Some("Hello from the mock. token=blocking"));
    let events: Vec<_> = thread.turn("[token:iter]").unwrap().collect();
    assert!(events.iter().all(Result::is_ok));
    codex.close();
}
