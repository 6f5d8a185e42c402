//! The one error type of the client.

use std::fmt;
use std::time::Duration;

use serde_json::Value;

use super::generated::Turn;

/// Everything a client call, a turn or a subscription can fail with.
///
/// It is `Clone`: when the server goes away, every waiter gets the same [`Error::TransportClosed`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Error {
    /// The server exited or the connection closed; `status` is the exit status of a server the client started,
    /// `stderr` its last lines of standard error.
    TransportClosed { reason: String, status: Option<String>, stderr: Vec<String> },
    /// The server could not be started or reached.
    Start(String),
    /// The server answered a request with a JSON-RPC error.
    Rpc { method: String, code: i64, message: String, data: Option<Box<Value>> },
    /// A message that does not fit its type: `method` is what it was (or answered), `path` where in the JSON.
    Decode { method: String, path: String, message: String },
    /// No answer (or, for a turn, no event) within `after`.
    Timeout { what: String, after: Duration },
    /// The turn ended with the status `failed`; `turn` is the turn as `turn/completed` carried it.
    TurnFailed { turn: Box<Turn> },
    /// A subscriber fell behind: `dropped` events were left out (see the buffering policy on [`super::TurnHandle`]).
    Lagged { dropped: u64 },
    /// In [`super::Codex::events`]: a response to no request waiting for one (its request timed out or was
    /// cancelled, or its `id` is unknown or null, as in an error about a message the server could not read).
    /// `message` is the whole response.
    UnmatchedResponse { id: Value, message: Box<Value> },
}

/// The code the server answers with when it is overloaded: retry later.
pub const OVERLOADED: i64 = -32001;

impl Error {
    /// The JSON-RPC error code, for [`Error::Rpc`].
    pub fn code(&self) -> Option<i64> {
        match self {
            Error::Rpc { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// Whether the server said it is overloaded (retrying later may succeed).
    pub fn is_overloaded(&self) -> bool {
        self.code() == Some(OVERLOADED)
    }

    pub(crate) fn decode(method: &str, error: serde_path_to_error::Error<serde_json::Error>) -> Error {
        Error::Decode { method: method.into(), path: error.path().to_string(), message: error.into_inner().to_string() }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::TransportClosed { reason, status, stderr } => {
                write!(f, "the Codex server is gone: {reason}")?;
                if let Some(status) = status {
                    write!(f, " ({status})")?;
                }
                if !stderr.is_empty() {
                    write!(f, "; its last stderr lines:\n{}", stderr.join("\n"))?;
                }
                Ok(())
            }
            Error::Start(message) => write!(f, "cannot start the Codex server: {message}"),
            Error::Rpc { method, code, message, .. } => write!(f, "`{method}` failed: {message} ({code})"),
            Error::Decode { method, path, message } => write!(f, "cannot read `{method}` at `{path}`: {message}"),
            Error::Timeout { what, after } => write!(f, "{what}: no answer within {after:?}"),
            Error::TurnFailed { turn } => {
                let error = serde_json::to_value(turn).ok().map(|t| t["error"].clone()).unwrap_or_default();
                write!(f, "the turn failed: {error}")
            }
            Error::Lagged { dropped } => write!(f, "the subscriber fell behind: {dropped} events left out"),
            Error::UnmatchedResponse { id, message } => write!(f, "a response to no pending request ({id}): {message}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<serde_json::Error> for Error {
    fn from(error: serde_json::Error) -> Self {
        Error::Decode { method: String::new(), path: String::new(), message: error.to_string() }
    }
}
