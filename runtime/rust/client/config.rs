//! How to start (or reach) the server, and the client's limits.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use super::handler::Handler;

/// How [`super::Codex::start`] starts or reaches the server, and the client's limits. Every setting has a default.
///
/// ```no_run
/// # async fn f() -> Result<(), codex_app_server_types::client::Error> {
/// use std::time::Duration;
/// use codex_app_server_types::client::{Codex, CodexConfig};
///
/// let config = CodexConfig::default()
///     .codex_bin("/usr/local/bin/codex")
///     .config_override("model=\"o3\"")
///     .request_timeout(Duration::from_secs(30))
///     .turn_timeout(Duration::from_secs(300));
/// let codex = Codex::start(config).await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct CodexConfig {
    pub(crate) codex_bin: Option<PathBuf>,
    pub(crate) overrides: Vec<String>,
    pub(crate) args: Vec<String>,
    pub(crate) cwd: Option<PathBuf>,
    pub(crate) env: BTreeMap<String, String>,
    pub(crate) client_name: String,
    pub(crate) client_title: Option<String>,
    pub(crate) client_version: String,
    pub(crate) url: Option<String>,
    pub(crate) request_timeout: Duration,
    pub(crate) turn_timeout: Option<Duration>,
    pub(crate) shutdown_timeout: Duration,
    pub(crate) buffer: usize,
    pub(crate) max_message_size: usize,
    pub(crate) retry: Option<Retry>,
    pub(crate) handler: Option<Handler>,
    pub(crate) handler_timeout: Duration,
}

/// Retrying requests the server refuses as overloaded ([`super::Error::is_overloaded`]): up to `attempts` tries
/// in all, waiting `backoff`, then twice as long, and so on.
#[derive(Debug, Clone, Copy)]
pub struct Retry {
    pub attempts: u32,
    pub backoff: Duration,
}

impl Default for CodexConfig {
    fn default() -> Self {
        CodexConfig {
            codex_bin: None,
            overrides: Vec::new(),
            args: Vec::new(),
            cwd: None,
            env: BTreeMap::new(),
            client_name: env!("CARGO_PKG_NAME").into(),
            client_title: None,
            client_version: crate::CODEX_VERSION.into(),
            url: None,
            request_timeout: Duration::from_secs(300),
            turn_timeout: None,
            shutdown_timeout: Duration::from_secs(3),
            buffer: 10_000,
            max_message_size: 64 << 20,
            retry: None,
            handler: None,
            handler_timeout: Duration::from_secs(600),
        }
    }
}

impl std::fmt::Debug for CodexConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CodexConfig")
            .field("codex_bin", &self.codex_bin)
            .field("overrides", &self.overrides)
            .field("cwd", &self.cwd)
            .field("url", &self.url)
            .field("request_timeout", &self.request_timeout)
            .field("turn_timeout", &self.turn_timeout)
            .field("max_message_size", &self.max_message_size)
            .field("handler", &self.handler.is_some())
            .field("handler_timeout", &self.handler_timeout)
            .finish_non_exhaustive()
    }
}

impl CodexConfig {
    /// The `codex` executable to run; otherwise `CODEX_BIN`, otherwise the bindings' Codex release where the
    /// generator's `cargo xtask codex-binary` caches it, otherwise `codex` from `PATH`.
    pub fn codex_bin(mut self, path: impl Into<PathBuf>) -> Self {
        self.codex_bin = Some(path.into());
        self
    }

    /// A configuration override, `key=value` (passed as `-c key=value`; the value is TOML).
    pub fn config_override(mut self, key_value: impl Into<String>) -> Self {
        self.overrides.push(key_value.into());
        self
    }

    /// One more argument of `codex app-server` (after the overrides).
    pub fn arg(mut self, arg: impl Into<String>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// The server's working directory.
    pub fn cwd(mut self, dir: impl Into<PathBuf>) -> Self {
        self.cwd = Some(dir.into());
        self
    }

    /// An environment variable of the server (`CODEX_HOME`, ...), besides the ones it inherits.
    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.insert(key.into(), value.into());
        self
    }

    /// What `initialize` says the client is. The name defaults to the crate's name, the version to the Codex release
    /// the bindings come from ([`crate::CODEX_VERSION`], the crate's version).
    pub fn client_info(mut self, name: impl Into<String>, title: Option<String>, version: impl Into<String>) -> Self {
        self.client_name = name.into();
        self.client_title = title;
        self.client_version = version.into();
        self
    }

    /// Connect to a running `codex app-server --listen ws://HOST:PORT` instead of starting one (feature `ws`).
    pub fn url(mut self, url: impl Into<String>) -> Self {
        self.url = Some(url.into());
        self
    }

    /// How long a request waits for its answer (default 300 s, as the Python client's).
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// How long a turn may go without an event before waiting on it fails with [`super::Error::Timeout`] (default:
    /// no limit).
    pub fn turn_timeout(mut self, timeout: Duration) -> Self {
        self.turn_timeout = Some(timeout);
        self
    }

    /// How long dropping or closing the client waits for the server to exit after its input closes, before it is
    /// killed (default 3 s). It also bounds the writing of what is left and the closing of the connection, so that
    /// a server (or websocket peer) that has stopped reading cannot keep it open.
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.shutdown_timeout = timeout;
        self
    }

    /// How many events a turn (or an event subscription) holds for a consumer that has not read them (default
    /// 10 000); see [`super::TurnHandle`] for what happens past it.
    pub fn buffer(mut self, events: usize) -> Self {
        self.buffer = events.max(1);
        self
    }

    /// The longest message the server may send, in bytes (default 64 MiB, far above what the protocol's messages
    /// take; the websocket library's own default). On stdio a longer line is passed over without being kept, and
    /// reported to [`super::Codex::events`] as an [`super::Error::Decode`] (method `(line too long)`); the reading
    /// goes on (a request it answered waits for its timeout, a turn misses that event). Over a websocket, a longer
    /// message ends the connection, which cannot pass over it.
    pub fn max_message_size(mut self, bytes: usize) -> Self {
        self.max_message_size = bytes;
        self
    }

    /// Retry requests the server refuses as overloaded (off by default).
    pub fn retry_overloaded(mut self, attempts: u32, backoff: Duration) -> Self {
        self.retry = Some(Retry { attempts: attempts.max(1), backoff });
        self
    }

    /// Answers the server's requests (approvals, ...) for every thread, unless a thread or turn sets its own.
    /// Without one, approvals are declined and other requests answered "method not found".
    pub fn handler(mut self, handler: impl crate::rpc::ServerRequestHandler + Send + 'static) -> Self {
        self.handler = Some(Handler::new(handler));
        self
    }

    /// [`CodexConfig::handler`] with an async handler.
    pub fn async_handler(mut self, handler: impl super::AsyncServerRequestHandler) -> Self {
        self.handler = Some(Handler::from_async(Arc::new(handler)));
        self
    }

    /// How long a handler (the client's, a thread's or a turn's) may take to answer one of the server's requests
    /// (default 10 minutes, time for a person to answer an approval). Past it the request is answered with an
    /// internal error (-32603) so that the server does not wait for it forever; an async handler is dropped then,
    /// a sync one runs on to its end on its thread and its answer is dropped.
    pub fn handler_timeout(mut self, timeout: Duration) -> Self {
        self.handler_timeout = timeout;
        self
    }
}
