//! A minimal client of `codex app-server` over stdio, built on the generated crate's `rpc` module:
//! start a thread and print what the server sends, approving every command it asks about.
//!
//! `cargo run -p binding-tests --example client -- /path/to/codex`

use std::io::{BufRead, BufReader, Write};
use std::process::{ChildStdin, ChildStdout, Command, Stdio};

use codex_app_server_types::rpc::{Client, ErrorObject, Notifier, RequestId, ServerMessage, ServerRequestHandler};
use codex_app_server_types::v2::ThreadStartParams;
use codex_app_server_types::{
    ClientInfo, CommandExecutionApprovalDecision, CommandExecutionRequestApprovalParams,
    CommandExecutionRequestApprovalResponse, InitializeParams,
};
use serde_json::Value;

type Error = Box<dyn std::error::Error>;

/// Answers the server's requests: approves commands, refuses the rest.
struct Approve;

impl ServerRequestHandler for Approve {
    fn item_command_execution_request_approval(
        &mut self,
        params: CommandExecutionRequestApprovalParams,
    ) -> Result<CommandExecutionRequestApprovalResponse, ErrorObject> {
        eprintln!("approving {:?}", params.command);
        Ok(CommandExecutionRequestApprovalResponse::new(CommandExecutionApprovalDecision::Accept))
    }
}

/// One connection: writes a line per message, reads a line per message.
struct Connection {
    input: ChildStdin,
    output: BufReader<ChildStdout>,
    next_id: i64,
}

impl Connection {
    fn send(&mut self, message: &Value) -> Result<(), Error> {
        writeln!(self.input, "{message}")?;
        Ok(self.input.flush()?)
    }

    fn receive(&mut self) -> Result<ServerMessage, Error> {
        let mut line = String::new();
        if self.output.read_line(&mut line)? == 0 {
            return Err("the server closed its output".into());
        }
        // `call` below matches responses by id itself, so no pending table is needed.
        Ok(ServerMessage::from_value(serde_json::from_str(&line)?, |_| None)?)
    }
}

impl Client for Connection {
    type Error = Error;

    fn call(&mut self, method: &'static str, params: Option<Value>) -> Result<Value, Error> {
        let id = RequestId::Integer(self.next_id);
        self.next_id += 1;
        let mut request = serde_json::json!({ "id": id, "method": method });
        if let Some(params) = params {
            request["params"] = params;
        }
        self.send(&request)?;
        // Notifications and requests arrive before and between responses.
        loop {
            match self.receive()? {
                ServerMessage::Response(response) if response.id == id => return Ok(response.result.to_value()?),
                ServerMessage::Error(error) if error.id == id => return Err(error.error.message.into()),
                ServerMessage::Request(request) => {
                    let reply = Approve.handle(request);
                    self.send(&reply)?;
                }
                ServerMessage::Notification(notification) => eprintln!("{:?}", notification.variant),
                other => eprintln!("unexpected: {other:?}"),
            }
        }
    }
}

impl Notifier for Connection {
    fn notify(&mut self, method: &'static str, params: Option<Value>) -> Result<(), Error> {
        let mut notification = serde_json::json!({ "method": method });
        if let Some(params) = params {
            notification["params"] = params;
        }
        self.send(&notification)
    }
}

fn main() -> Result<(), Error> {
    let codex = std::env::args().nth(1).unwrap_or_else(|| "codex".into());
    let mut child = Command::new(codex).arg("app-server").stdin(Stdio::piped()).stdout(Stdio::piped()).spawn()?;
    let mut connection = Connection {
        input: child.stdin.take().ok_or("no stdin")?,
        output: BufReader::new(child.stdout.take().ok_or("no stdout")?),
        next_id: 0,
    };
    let init = connection.initialize(InitializeParams::new(ClientInfo::new("example", "0.1.0")))?;
    println!("server: {}", init.user_agent);
    connection.initialized()?;
    let thread = connection.thread_start(ThreadStartParams::default())?;
    println!("thread: {}", thread.thread.id);
    drop(connection);
    child.kill()?;
    child.wait()?;
    Ok(())
}
