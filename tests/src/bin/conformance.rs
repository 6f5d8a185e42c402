//! The Rust driver of the conformance suite (`cargo xtask conformance` runs it):
//!
//! - `conformance drive CODEX TRANSCRIPT`: runs `CODEX app-server` through the scenarios with the generated
//!   crate's typed client, answering the server's requests with a `ServerRequestHandler`, and writes every
//!   message sent and received to TRANSCRIPT. `CODEX_HOME` must select the loopback mock as the model
//!   provider; the mock answers by the marker in each prompt (`[mock:text]`, `[mock:exec]`, `[mock:fail]`).
//! - `conformance check [--lenient] TRANSCRIPT...`: checks transcripts with `binding_tests::conformance`,
//!   printing the messages checked per method and direction.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use binding_tests::conformance::{self, Entry};
use codex_app_server_types::rpc::{self, client, Client, ErrorObject, RequestId, ServerMessage, ServerRequestHandler};
use codex_app_server_types::v2::{
    CommandExecParams, ConfigReadParams, ModelListParams, ThreadItemVariant, ThreadListParams, ThreadReadParams,
    ThreadStartParams, Turn, TurnStartParams, TurnStatus,
};
use codex_app_server_types::{
    ClientInfo, CommandExecutionApprovalDecision, CommandExecutionRequestApprovalParams,
    CommandExecutionRequestApprovalResponse, InitializeParams, ServerNotification, ServerNotificationVariant,
};
use serde::de::DeserializeOwned;
use serde_json::{json, Value};

type Error = Box<dyn std::error::Error>;

/// How long one step may take before the driver gives up (the server answers in well under a second).
const STEP_TIMEOUT: Duration = Duration::from_secs(60);

/// Accepts every command the server asks about, and counts the questions.
#[derive(Default)]
struct Approver {
    asked: usize,
}

impl ServerRequestHandler for Approver {
    fn item_command_execution_request_approval(
        &mut self,
        _params: CommandExecutionRequestApprovalParams,
    ) -> Result<CommandExecutionRequestApprovalResponse, ErrorObject> {
        self.asked += 1;
        Ok(CommandExecutionRequestApprovalResponse::new(CommandExecutionApprovalDecision::Accept))
    }
}

/// One `codex app-server` over stdio: typed requests out, typed messages in, all of it recorded.
struct Connection {
    child: Child,
    input: ChildStdin,
    lines: Receiver<String>,
    next_id: i64,
    handler: Approver,
    transcript: Vec<Entry>,
    notifications: Vec<ServerNotification>,
}

impl Connection {
    fn start(codex: &str, stderr: &Path) -> Result<Connection, Error> {
        let mut child = Command::new(codex)
            .arg("app-server")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(stderr)?)
            .spawn()?;
        let input = child.stdin.take().ok_or("no stdin")?;
        let output = BufReader::new(child.stdout.take().ok_or("no stdout")?);
        let (sender, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in output.lines().map_while(Result::ok) {
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        let handler = Approver::default();
        Ok(Connection { child, input, lines, next_id: 0, handler, transcript: vec![], notifications: vec![] })
    }

    fn send(&mut self, message: Value, invalid: bool) -> Result<(), Error> {
        writeln!(self.input, "{message}")?;
        self.input.flush()?;
        self.transcript.push(Entry { from: "client".into(), message, invalid });
        Ok(())
    }

    /// The next message from the server; its requests are answered on the way.
    fn receive(&mut self, deadline: Instant) -> Result<ServerMessage, Error> {
        let line = match self.lines.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(line) => line,
            Err(RecvTimeoutError::Timeout) => return Err("the server sent nothing in time".into()),
            Err(RecvTimeoutError::Disconnected) => return Err("the server closed its output".into()),
        };
        let value: Value = serde_json::from_str(&line)?;
        self.transcript.push(Entry { from: "server".into(), message: value.clone(), invalid: false });
        // Responses are matched by id in `call`, which knows the method, so no pending table is needed here.
        let message = ServerMessage::from_value(value, |_| None)?;
        match &message {
            ServerMessage::Request(request) => {
                let reply = self.handler.handle(request.clone());
                self.send(reply, false)?;
            }
            ServerMessage::Notification(notification) => self.notifications.push(notification.clone()),
            _ => {}
        }
        Ok(message)
    }

    fn wait_for<T>(&mut self, what: &str, mut pick: impl FnMut(&ServerMessage) -> Option<T>) -> Result<T, Error> {
        let deadline = Instant::now() + STEP_TIMEOUT;
        loop {
            let message = self.receive(deadline)?;
            if let Some(found) = pick(&message) {
                return Ok(found);
            }
            if Instant::now() > deadline {
                return Err(format!("no {what} in time").into());
            }
        }
    }

    /// Sends a request as given and returns its answer: the result, or the error object.
    fn call_raw(
        &mut self,
        method: &str,
        params: Option<Value>,
        invalid: bool,
    ) -> Result<Result<Value, ErrorObject>, Error> {
        let id = RequestId::Integer(self.next_id);
        self.next_id += 1;
        let mut request = json!({ "id": id, "method": method });
        if let Some(params) = params {
            request["params"] = params;
        }
        self.send(request, invalid)?;
        let answer = self.wait_for(&format!("answer to {method}"), |message| match message {
            ServerMessage::Response(response) if response.id == id => Some(message.clone()),
            ServerMessage::Error(error) if error.id == id => Some(message.clone()),
            _ => None,
        })?;
        Ok(match answer {
            ServerMessage::Response(response) => Ok(response.result.to_value()?),
            ServerMessage::Error(error) => {
                Err(ErrorObject { code: error.error.code, message: error.error.message, data: error.error.data })
            }
            _ => return Err("the answer is neither a response nor an error".into()),
        })
    }

    fn close(mut self) -> Result<Vec<Entry>, Error> {
        drop(self.input);
        let deadline = Instant::now() + STEP_TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait()? {
                if !status.success() {
                    return Err(format!("the server exited with {status}").into());
                }
                return Ok(self.transcript);
            }
            if Instant::now() > deadline {
                self.child.kill()?;
                return Err("the server did not exit after its input closed".into());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Client for Connection {
    type Error = Error;

    fn call(&mut self, method: &'static str, params: Option<Value>) -> Result<Value, Error> {
        self.call_raw(method, params, false)?.map_err(|e| format!("{method}: error {}: {}", e.code, e.message).into())
    }
}

/// Params built from their wire JSON: the way to fill a struct with required fields and many optional ones.
fn params<T: DeserializeOwned>(value: Value) -> Result<T, Error> {
    Ok(serde_json::from_value(value)?)
}

fn expect(condition: bool, what: impl Into<String>) -> Result<(), Error> {
    if condition {
        Ok(())
    } else {
        Err(what.into().into())
    }
}

/// Runs one turn to its end: the completed turn and the notifications received meanwhile.
fn turn(connection: &mut Connection, thread_id: &str, prompt: &str) -> Result<(Turn, Vec<ServerNotification>), Error> {
    let first = connection.notifications.len();
    let started = connection.turn_start(params::<TurnStartParams>(json!({
        "threadId": thread_id,
        "input": [{ "type": "text", "text": prompt }],
    }))?)?;
    let turn_id = started.turn.id;
    let done = connection.wait_for("turn/completed", |message| match message {
        ServerMessage::Notification(ServerNotification {
            variant: ServerNotificationVariant::TurnCompleted(completed),
            ..
        }) if completed.params.turn.id == turn_id => Some(completed.params.turn.clone()),
        _ => None,
    })?;
    Ok((done, connection.notifications[first..].to_vec()))
}

fn scenarios(connection: &mut Connection) -> Result<(), Error> {
    // The crate's version, which the server echoes at the end of its user agent.
    let version = codex_app_server_types::CODEX_VERSION;
    let init = connection.initialize(InitializeParams::new(ClientInfo::new("conformance-rust", version)))?;
    let echoed = format!("(conformance-rust; {version})");
    expect(
        init.user_agent.ends_with(&echoed),
        format!("initialize: the user agent {:?} does not echo version {version}", init.user_agent),
    )?;
    let initialized = rpc::notification_message::<client::Initialized>(&())?;
    connection.send(initialized, false)?;

    let config = connection.config_read(ConfigReadParams::default())?;
    let model = config.config.model.clone().flatten();
    expect(model.as_deref() == Some("mock-model"), format!("config/read: model {model:?}"))?;
    connection.model_list(ModelListParams::default())?;

    let thread = connection.thread_start(ThreadStartParams::default())?.thread;

    // A text turn: the mock streams the answer in three deltas.
    let (done, seen) = turn(connection, &thread.id, "[mock:text] say hello")?;
    expect(done.status == TurnStatus::Completed, format!("text turn: {:?}", done.status))?;
    let deltas: Vec<&str> = seen
        .iter()
        .filter_map(|n| match &n.variant {
            ServerNotificationVariant::ItemAgentMessageDelta(delta) => Some(delta.params.delta.as_str()),
            _ => None,
        })
        .collect();
    expect(deltas == ["Hello", " from", " the mock."], format!("text turn: deltas {deltas:?}"))?;

    // A turn whose command needs approval, answered through `ServerRequestHandler`.
    let (done, seen) = turn(connection, &thread.id, "[mock:exec] run a command")?;
    expect(done.status == TurnStatus::Completed, format!("exec turn: {:?}", done.status))?;
    expect(connection.handler.asked == 1, format!("exec turn: {} approvals asked", connection.handler.asked))?;
    let outputs: Vec<Option<String>> = seen
        .iter()
        .filter_map(|n| match &n.variant {
            ServerNotificationVariant::ItemCompleted(completed) => match &completed.params.item.variant {
                ThreadItemVariant::CommandExecution(item) => Some(item.aggregated_output.clone().flatten()),
                _ => None,
            },
            _ => None,
        })
        .collect();
    expect(outputs == [Some("hi\n".to_string())], format!("exec turn: command output {outputs:?}"))?;

    // Outside the sandbox: the scratch machine may have no bubblewrap for the read-only one.
    let executed = connection.command_exec(params::<CommandExecParams>(json!({
        "command": ["echo", "conformance"],
        "sandboxPolicy": { "type": "dangerFullAccess" },
    }))?)?;
    expect(executed.exit_code == 0 && executed.stdout == "conformance\n", format!("command/exec: {executed:?}"))?;

    let listed = connection.thread_list(ThreadListParams::default())?;
    expect(listed.data.iter().any(|t| t.id == thread.id), "thread/list: the thread is missing")?;
    let read =
        connection.thread_read(params::<ThreadReadParams>(json!({ "threadId": thread.id, "includeTurns": true }))?)?;
    expect(read.thread.turns.len() == 2, format!("thread/read: {} turns", read.thread.turns.len()))?;

    // Params the schema rejects (`threadId` is a string): a typed JSON-RPC error comes back.
    let answer = connection.call_raw("thread/read", Some(json!({ "threadId": 42 })), true)?;
    let error = answer.err().ok_or("invalid params: no error response")?;
    expect([-32600, -32602].contains(&error.code), format!("invalid params: error {}", error.code))?;

    // The model stream fails: an `error` notification, and the turn fails.
    let (done, seen) = turn(connection, &thread.id, "[mock:fail] this stream fails")?;
    expect(done.status == TurnStatus::Failed, format!("failing turn: {:?}", done.status))?;
    let errors = seen.iter().filter(|n| matches!(n.variant, ServerNotificationVariant::Error(_))).count();
    expect(errors > 0, "failing turn: no error notification")?;
    Ok(())
}

fn drive(codex: &str, transcript: &Path) -> Result<(), Error> {
    let mut connection = Connection::start(codex, &transcript.with_extension("stderr"))?;
    let outcome = scenarios(&mut connection);
    let written = |entries: &[Entry]| -> Result<(), Error> {
        let mut text = String::new();
        for entry in entries {
            text.push_str(&serde_json::to_string(entry)?);
            text.push('\n');
        }
        Ok(std::fs::write(transcript, text)?)
    };
    if let Err(error) = outcome {
        written(&connection.transcript)?;
        let _ = connection.child.kill();
        return Err(error);
    }
    let entries = connection.close()?;
    written(&entries)?;
    println!("conformance (rust): all scenarios passed, {} messages recorded", entries.len());
    Ok(())
}

fn check(paths: &[PathBuf], strict: bool) -> Result<(), Error> {
    let mut failed = false;
    let defaults = conformance::schema_defaults(&binding_tests::pinned_schema());
    for path in paths {
        let report = conformance::check(&conformance::read_transcript(path)?, strict, &defaults);
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        println!("{name}: messages checked per direction, kind and method\n{}", report.table());
        for failure in &report.failures {
            println!("  FAILED {failure}");
        }
        failed |= !report.failures.is_empty();
    }
    expect(!failed, "some messages failed their checks")
}

fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("drive") if args.len() == 3 => drive(&args[1], Path::new(&args[2])),
        Some("check") => {
            let lenient = args.iter().any(|a| a == "--lenient");
            let paths: Vec<PathBuf> = args[1..].iter().filter(|a| *a != "--lenient").map(PathBuf::from).collect();
            check(&paths, !lenient)
        }
        _ => Err("usage: conformance drive CODEX TRANSCRIPT | conformance check [--lenient] TRANSCRIPT...".into()),
    }
}
