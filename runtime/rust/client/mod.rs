//! A Codex client: starts `codex app-server` (or connects to one over a websocket), and runs threads and turns.
//!
//! ```no_run
//! # async fn f() -> Result<(), codex_app_server_types::client::Error> {
//! use codex_app_server_types::client::{Codex, CodexConfig};
//!
//! let codex = Codex::start(CodexConfig::default()).await?;
//! let thread = codex.thread_start(Default::default()).await?;
//! let result = thread.run("Describe this project.").await?;
//! println!("{}", result.final_response.unwrap_or_default());
//! # Ok(()) }
//! ```
//!
//! - [`Codex`] is one connection; it is cheap to clone and can be used from many tasks at once. One reader task
//!   routes what the server sends: answers to their requests (any number in flight), notifications to the turn
//!   they name ([`TurnHandle`], which gets only its own), the server's requests to a handler, and the rest (a
//!   thread's notifications that name no turn among them) to [`Codex::events`] and [`Thread::events`].
//! - Every request of the protocol is a typed method, through [`crate::rpc::AsyncClient`] (implemented by
//!   [`Codex`]) or [`Codex::request`]; [`Thread`] and [`TurnHandle`] send the ones about them without repeating ids.
//! - The server's requests (approvals, ...) go to a [`crate::rpc::ServerRequestHandler`] or an
//!   [`AsyncServerRequestHandler`], set per client, thread or turn. Without one, approvals are **declined** and
//!   other requests answered "method not found". Every request is answered exactly once, also when the handler
//!   panics or the request does not decode.
//! - Nothing waits forever: requests have a timeout, turns an optional inactivity timeout, and when the server
//!   exits every waiter gets [`Error::TransportClosed`] at once. Dropping the last handle closes the server's
//!   input, waits a little for it to exit and kills it otherwise.
//! - [`blocking`] (feature `blocking`) has the same API without async.
//!
//! The runtime is the same for every schema; `generated.rs` holds the little that is built from it (which fields
//! name a message's thread and turn, the answers declining approvals, the thread and turn requests). The module
//! exists only for schemas with `initialize`, `thread/start`, `turn/start` and `turn/completed`.

#[cfg(feature = "blocking")]
pub mod blocking;
mod config;
mod error;
mod generated;
mod handler;
mod router;
mod thread;
mod transport;

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use serde_json::Value;
use tokio::sync::{mpsc, watch};

pub use config::{CodexConfig, Retry};
pub use error::{Error, OVERLOADED};
pub use generated::{
    InitializeResponse, ServerNotification, ServerRequest, ThreadItem, ThreadStartParams, TokenUsage, Turn,
    TurnStartParams, UserInput,
};
pub use handler::{AsyncServerRequestHandler, Handler};
pub use thread::{Events, Thread, ThreadPage, TurnHandle, TurnInput, TurnOptions, TurnResult};

use router::Shared;
use thread::decode;

/// A connection to a Codex app-server. Clone it freely: the clones share the connection, which closes when the
/// last clone (and the last [`Thread`] or [`TurnHandle`]) is dropped, or on [`Codex::close`].
#[derive(Clone)]
pub struct Codex {
    pub(crate) core: Arc<Core>,
}

pub(crate) struct Core {
    pub shared: Arc<Shared>,
    shutdown: watch::Sender<bool>,
    /// The server's exit status once a server the client started exited and was waited for.
    exited: watch::Receiver<Option<String>>,
    request_timeout: Duration,
    pub turn_timeout: Option<Duration>,
    shutdown_timeout: Duration,
    retry: Option<Retry>,
    pid: Option<u32>,
    init: OnceLock<(InitializeResponse, Option<String>)>,
}

impl std::fmt::Debug for Codex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Codex").field("server_version", &self.server_version()).finish_non_exhaustive()
    }
}

impl Codex {
    /// Starts the server (or connects to [`CodexConfig::url`]), and sends `initialize` and `initialized`.
    ///
    /// Warns (through `tracing`) when the server is older than the Codex release the bindings come from. When it
    /// fails once the server is started, it closes the connection as [`Codex::close`] does before returning the
    /// error: the server has exited (or was killed) and was waited for.
    pub async fn start(config: CodexConfig) -> Result<Codex, Error> {
        let connection = transport::connect(&config).await?;
        let pid = connection.child.as_ref().and_then(|(child, _)| child.id());
        let (out_tx, out_rx) = mpsc::unbounded_channel();
        let shared = Shared::new(out_tx, config.buffer, config.handler.clone(), config.handler_timeout);
        let (shutdown, _) = watch::channel(false);
        let exited =
            transport::spawn(connection, &shared, out_rx, &shutdown, config.shutdown_timeout, config.max_message_size);
        let codex = Codex {
            core: Arc::new(Core {
                shared,
                shutdown,
                exited,
                request_timeout: config.request_timeout,
                turn_timeout: config.turn_timeout,
                shutdown_timeout: config.shutdown_timeout,
                retry: config.retry,
                pid,
                init: OnceLock::new(),
            }),
        };
        match codex.initialize(&config).await {
            Ok(()) => Ok(codex),
            Err(error) => {
                codex.close().await;
                Err(error)
            }
        }
    }

    /// `initialize` and `initialized`.
    async fn initialize(&self, config: &CodexConfig) -> Result<(), Error> {
        let mut client_info = serde_json::json!({ "name": config.client_name, "version": config.client_version });
        if let Some(title) = &config.client_title {
            client_info["title"] = Value::String(title.clone());
        }
        let result = self.call("initialize", Some(serde_json::json!({ "clientInfo": client_info }))).await?;
        let user_agent = result.get("userAgent").and_then(Value::as_str).unwrap_or_default().to_owned();
        let response: InitializeResponse = decode("initialize", result)?;
        self.core.shared.send(&serde_json::json!({ "method": "initialized" }))?;
        let version = server_version(&user_agent);
        if let Some(server) = &version {
            let bindings = crate::CODEX_VERSION;
            if bindings != "0.0.0" && older(server, bindings) {
                tracing::warn!(
                    "the Codex server ({server}) is older than the bindings ({bindings}): some methods may be missing"
                );
            }
        }
        tracing::debug!(server = ?version, "initialized");
        let _ = self.core.init.set((response, version));
        Ok(())
    }

    /// What the server answered `initialize` with.
    pub fn initialize_response(&self) -> &InitializeResponse {
        &self.core.init.get().expect("set by `start`").0
    }

    /// The server's Codex version, read from the `userAgent` it answered `initialize` with.
    pub fn server_version(&self) -> Option<&str> {
        self.core.init.get().and_then(|(_, version)| version.as_deref())
    }

    /// The process id of the server the client started (none for a websocket connection).
    pub fn server_pid(&self) -> Option<u32> {
        self.core.pid
    }

    /// Sends request `R` and waits for its typed result.
    ///
    /// ```no_run
    /// # async fn f(codex: codex_app_server_types::client::Codex) -> Result<(), codex_app_server_types::client::Error> {
    /// use codex_app_server_types::rpc::client::ModelList;
    /// let models = codex.request::<ModelList>(Default::default()).await?;
    /// # Ok(()) }
    /// ```
    pub async fn request<R: crate::rpc::Request>(&self, params: R::Params) -> Result<R::Response, Error> {
        let result = self.call(R::METHOD, crate::rpc::to_params(&params)?).await?;
        decode(R::METHOD, result)
    }

    /// Sends request `method` with `params` and waits for its result as JSON (retrying an overloaded server when
    /// [`CodexConfig::retry_overloaded`] says so).
    pub async fn call(&self, method: &str, params: Option<Value>) -> Result<Value, Error> {
        let span = tracing::debug_span!("codex.request", method);
        let request = async {
            let mut attempt = 1;
            loop {
                let result = self.core.shared.call(method, params.clone(), self.core.request_timeout).await;
                match (&result, self.core.retry) {
                    (Err(e), Some(retry)) if e.is_overloaded() && attempt < retry.attempts => {
                        let wait = retry.backoff.saturating_mul(1 << (attempt - 1).min(16));
                        tracing::debug!("the server is overloaded; retrying in {wait:?}");
                        tokio::time::sleep(wait).await;
                        attempt += 1;
                    }
                    _ => return result,
                }
            }
        };
        tracing::Instrument::instrument(request, span).await
    }

    /// Sends notification `method` with `params`.
    pub fn notify(&self, method: &str, params: Option<Value>) -> Result<(), Error> {
        let mut message = serde_json::json!({ "method": method });
        if let Some(params) = params {
            message["params"] = params;
        }
        self.core.shared.send(&message)
    }

    /// A handle on thread `id`, without a request (for a thread started, resumed or listed before).
    pub fn thread(&self, id: impl Into<String>) -> Thread {
        Thread { codex: self.clone(), id: id.into() }
    }

    /// Subscribes to the events that no turn handle takes (see [`Events`]); each subscription gets every such
    /// event sent after it was made.
    pub fn events(&self) -> Events {
        Events { queue: self.core.shared.subscribe(None) }
    }

    /// Closes the connection: the server's input closes, and a server the client started gets the shutdown
    /// timeout to exit before it is killed. Returns once the connection is closed and such a server exited and was
    /// waited for (at most 3 s after the shutdown timeout); every waiter gets [`Error::TransportClosed`].
    pub async fn close(&self) {
        self.core.shutdown.send_replace(true);
        let bound = self.core.shutdown_timeout + Duration::from_secs(3);
        let mut exited = self.core.exited.clone();
        let closed = async {
            self.core.shared.wait_closed().await;
            // At once for a websocket, which has no exit status.
            let _ = exited.wait_for(Option::is_some).await;
        };
        let _ = tokio::time::timeout(bound, closed).await;
    }

    /// Waits until the connection is closed (the server exited, or [`Codex::close`]).
    pub async fn closed(&self) -> Error {
        self.core.shared.wait_closed().await;
        self.core.shared.closed_error()
    }

    pub(crate) async fn open_thread<R: crate::rpc::Request>(&self, params: Option<Value>) -> Result<Thread, Error> {
        let result = self.call(R::METHOD, params).await?;
        let id = result.get("thread").and_then(|t| t.get("id")).and_then(Value::as_str);
        let Some(id) = id else {
            return Err(Error::Decode {
                method: R::METHOD.into(),
                path: "thread.id".into(),
                message: "no thread id".into(),
            });
        };
        Ok(self.thread(id))
    }

    // Used by the glue where the schema has `thread/list`.
    #[allow(dead_code)]
    pub(crate) async fn list_threads<R: crate::rpc::Request>(
        &self,
        params: Option<Value>,
    ) -> Result<ThreadPage<R::Response>, Error> {
        let result = self.call(R::METHOD, params).await?;
        let data = result.get("data").and_then(Value::as_array).into_iter().flatten();
        let threads = data.filter_map(|t| t.get("id").and_then(Value::as_str)).map(|id| self.thread(id)).collect();
        Ok(ThreadPage { threads, response: decode(R::METHOD, result)? })
    }
}

/// Every request of the protocol as a typed method (`codex.clone().model_list(params)`); the inherent
/// `thread_start`, `thread_resume`, `thread_fork` and `thread_list` return handles instead.
impl crate::rpc::AsyncClient for Codex {
    type Error = Error;

    fn call(
        &mut self,
        method: &'static str,
        params: Option<Value>,
    ) -> impl std::future::Future<Output = Result<Value, Error>> + Send {
        Codex::call(self, method, params)
    }

    fn request<R: crate::rpc::Request>(
        &mut self,
        params: R::Params,
    ) -> impl std::future::Future<Output = Result<R::Response, Error>> + Send
    where
        Self: Send,
    {
        let params = crate::rpc::to_params(&params);
        async move {
            let result = Codex::call(self, R::METHOD, params?).await?;
            decode(R::METHOD, result)
        }
    }
}

impl crate::rpc::AsyncNotifier for Codex {
    fn notify(
        &mut self,
        method: &'static str,
        params: Option<Value>,
    ) -> impl std::future::Future<Output = Result<(), Error>> + Send {
        std::future::ready(Codex::notify(self, method, params))
    }
}

/// The version in a `userAgent` like `name/0.169.0 (os; arch) ...`.
fn server_version(user_agent: &str) -> Option<String> {
    let version = user_agent.split_whitespace().next()?.rsplit_once('/')?.1;
    version.starts_with(|c: char| c.is_ascii_digit()).then(|| version.to_owned())
}

/// Whether version `a` is older than `b` (numeric parts compared in order; pre-release suffixes ignored).
fn older(a: &str, b: &str) -> bool {
    let parts = |v: &str| -> Vec<u64> { v.split(['.', '-', '+']).take(3).map(|p| p.parse().unwrap_or(0)).collect() };
    parts(a) < parts(b)
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_the_server_version() {
        assert_eq!(super::server_version("codex/0.169.0 (Linux; x86_64) term").as_deref(), Some("0.169.0"));
        assert_eq!(super::server_version("nonsense"), None);
        assert!(super::older("0.160.0", "0.169.0"));
        assert!(!super::older("0.169.0", "0.169.0"));
        assert!(!super::older("1.0.0", "0.169.0"));
    }
}
