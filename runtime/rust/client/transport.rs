//! The two ways to reach a server: a `codex app-server` child on stdio, or a websocket (feature `ws`). Each is a
//! source of lines and a sink of lines; four tasks run it: the reader (see `router`), the writer, the stderr
//! reader and, for a child, its supervisor. All of them end once the server is gone.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStderr, ChildStdin, ChildStdout, Command};
use tokio::sync::{mpsc, watch};

use super::config::CodexConfig;
use super::error::Error;
use super::router::{Shared, Wakes};

/// Lines from the server.
pub(crate) enum Source {
    Stdio(BufReader<ChildStdout>),
    #[cfg(feature = "ws")]
    Ws(futures_util::stream::SplitStream<Socket>),
}

/// Lines to the server.
pub(crate) enum Sink {
    Stdio(ChildStdin),
    #[cfg(feature = "ws")]
    Ws(futures_util::stream::SplitSink<Socket, tokio_tungstenite::tungstenite::Message>),
}

#[cfg(feature = "ws")]
type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A connected server.
pub(crate) struct Connection {
    pub source: Source,
    pub sink: Sink,
    pub child: Option<(Child, ChildStderr)>,
}

/// Starts `codex app-server`, or connects to the configured URL.
pub(crate) async fn connect(config: &CodexConfig) -> Result<Connection, Error> {
    if let Some(url) = &config.url {
        return connect_url(url, config.request_timeout).await;
    }
    let bin = codex_bin(config.codex_bin.as_deref(), std::env::var_os("CODEX_BIN"), cache_dir());
    let mut command = Command::new(&bin);
    command.arg("app-server");
    for key_value in &config.overrides {
        command.arg("-c").arg(key_value);
    }
    command.args(&config.args).envs(&config.env);
    if let Some(cwd) = &config.cwd {
        command.current_dir(cwd);
    }
    command.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).kill_on_drop(true);
    let mut child = command.spawn().map_err(|e| Error::Start(format!("{}: {e}", bin.display())))?;
    tracing::debug!(pid = child.id(), bin = %bin.display(), "started codex app-server");
    let (Some(stdin), Some(stdout), Some(stderr)) = (child.stdin.take(), child.stdout.take(), child.stderr.take())
    else {
        return Err(Error::Start("the server's stdio is not piped".into()));
    };
    Ok(Connection {
        source: Source::Stdio(BufReader::new(stdout)),
        sink: Sink::Stdio(stdin),
        child: Some((child, stderr)),
    })
}

/// The `codex` to run: the configured one, else `CODEX_BIN`, else the bindings' own Codex release where
/// `cargo xtask codex-binary` of the generator caches it (`<cache>/codex-schema-codegen/codex-<CODEX_VERSION>/codex`),
/// else `codex` from `PATH`. Nothing is downloaded.
fn codex_bin(configured: Option<&Path>, env: Option<OsString>, cache: Option<PathBuf>) -> PathBuf {
    if let Some(bin) = configured {
        return bin.to_path_buf();
    }
    if let Some(bin) = env.filter(|v| !v.is_empty()) {
        return bin.into();
    }
    let cached = cache
        .filter(|_| crate::CODEX_VERSION != "0.0.0")
        .map(|dir| dir.join("codex-schema-codegen").join(format!("codex-{}", crate::CODEX_VERSION)).join("codex"));
    cached.filter(|path| path.is_file()).unwrap_or_else(|| "codex".into())
}

/// The user's cache folder: `$XDG_CACHE_HOME`, else `$HOME/.cache`.
fn cache_dir() -> Option<PathBuf> {
    let xdg = std::env::var_os("XDG_CACHE_HOME").filter(|v| !v.is_empty()).map(PathBuf::from);
    xdg.or_else(|| std::env::var_os("HOME").filter(|v| !v.is_empty()).map(|home| PathBuf::from(home).join(".cache")))
}

#[cfg(feature = "ws")]
async fn connect_url(url: &str, timeout: Duration) -> Result<Connection, Error> {
    use futures_util::StreamExt;
    let connecting = tokio_tungstenite::connect_async(url);
    let (socket, _) = tokio::time::timeout(timeout, connecting)
        .await
        .map_err(|_| Error::Start(format!("{url}: no connection within {timeout:?}")))?
        .map_err(|e| Error::Start(format!("{url}: {e}")))?;
    let (sink, source) = socket.split();
    Ok(Connection { source: Source::Ws(source), sink: Sink::Ws(sink), child: None })
}

#[cfg(not(feature = "ws"))]
async fn connect_url(url: &str, _: Duration) -> Result<Connection, Error> {
    Err(Error::Start(format!("{url}: connecting to a URL needs the crate's `ws` feature")))
}

impl Source {
    /// Whether the next line is already read in, so that taking it does not wait.
    fn holds_line(&mut self) -> bool {
        match self {
            Source::Stdio(reader) => reader.buffer().contains(&b'\n'),
            #[cfg(feature = "ws")]
            Source::Ws(_) => false,
        }
    }

    /// Reads the next line into `line` (one buffer for every line, the reader empties it once the line is
    /// handled); `Err` when reading fails, `None` at the end. A read cut short (the reader's `select!`) leaves what
    /// it read in `line` and the next call goes on from there.
    async fn next(&mut self, line: &mut Vec<u8>) -> Option<Result<(), String>> {
        match self {
            Source::Stdio(reader) => match reader.read_until(b'\n', line).await {
                Ok(_) if line.is_empty() => None,
                Ok(_) => Some(Ok(())),
                Err(e) => Some(Err(e.to_string())),
            },
            #[cfg(feature = "ws")]
            Source::Ws(frames) => {
                use futures_util::StreamExt;
                use tokio_tungstenite::tungstenite::Message;
                loop {
                    return match frames.next().await? {
                        Ok(Message::Text(text)) => {
                            line.extend_from_slice(text.as_bytes());
                            Some(Ok(()))
                        }
                        Ok(Message::Binary(bytes)) => {
                            line.extend_from_slice(&bytes);
                            Some(Ok(()))
                        }
                        Ok(Message::Close(_)) => None,
                        Ok(_) => continue,
                        Err(e) => Some(Err(e.to_string())),
                    };
                }
            }
        }
    }
}

impl Sink {
    async fn send(&mut self, text: String) -> Result<(), String> {
        match self {
            Sink::Stdio(stdin) => {
                let mut line = text.into_bytes();
                line.push(b'\n');
                stdin.write_all(&line).await.map_err(|e| e.to_string())?;
                stdin.flush().await.map_err(|e| e.to_string())
            }
            #[cfg(feature = "ws")]
            Sink::Ws(sink) => {
                use futures_util::SinkExt;
                sink.send(tokio_tungstenite::tungstenite::Message::Text(text.into())).await.map_err(|e| e.to_string())
            }
        }
    }

    async fn close(self) {
        match self {
            Sink::Stdio(stdin) => drop(stdin),
            #[cfg(feature = "ws")]
            Sink::Ws(mut sink) => {
                use futures_util::SinkExt;
                let _ = sink.close().await;
            }
        }
    }
}

/// Starts the tasks that run `connection`. `shutdown` turns true (or its sender is dropped) when the client is
/// closed or dropped: the writer then closes the server's input, and a child gets `grace` to exit before it is killed.
///
/// Returns what says when a child exited and was waited for: its exit status, once it is; closed without one for a
/// websocket.
pub(crate) fn spawn(
    connection: Connection,
    shared: &Arc<Shared>,
    out: mpsc::UnboundedReceiver<String>,
    shutdown: &watch::Sender<bool>,
    grace: Duration,
) -> watch::Receiver<Option<String>> {
    let (exit_tx, exit_rx) = watch::channel(None::<String>);
    let exited = exit_rx.clone();
    tokio::spawn(write(connection.sink, out, shutdown.subscribe(), grace));
    match connection.child {
        Some((child, stderr)) => {
            tokio::spawn(read_stderr(stderr, Arc::clone(shared)));
            tokio::spawn(supervise(child, shutdown.subscribe(), exit_tx, grace));
        }
        None => drop(exit_tx),
    }
    tokio::spawn(read(connection.source, Arc::clone(shared), shutdown.subscribe(), exit_rx, grace));
    exited
}

/// Writes the client's messages until the client is closed or dropped, then closes the server's input. From then on
/// what is left to write, and the closing, get `grace` in all: a peer that has stopped reading would otherwise hold
/// the writer, and with it the connection, forever. Past it the connection is dropped unclosed.
async fn write(
    mut sink: Sink,
    mut out: mpsc::UnboundedReceiver<String>,
    mut shutdown: watch::Receiver<bool>,
    grace: Duration,
) {
    let mut deadline = None;
    loop {
        let text = match deadline {
            None => tokio::select! {
                biased;
                text = out.recv() => text,
                _ = stopped(&mut shutdown) => {
                    deadline = Some(tokio::time::Instant::now() + grace);
                    continue;
                }
            },
            // What was queued before the client closed is still written.
            Some(_) => out.try_recv().ok(),
        };
        let Some(text) = text else { break };
        match until_grace(sink.send(text), &mut shutdown, &mut deadline, grace).await {
            Some(Ok(())) => {}
            Some(Err(e)) => {
                tracing::debug!("cannot write to the server: {e}");
                break;
            }
            None => {
                tracing::debug!(
                    "the server has not read what the client wrote within {grace:?}: dropping the connection"
                );
                return;
            }
        }
    }
    if until_grace(sink.close(), &mut shutdown, &mut deadline, grace).await.is_none() {
        tracing::debug!("the connection did not close within {grace:?}: dropping it");
    }
}

/// Runs `step` to its end, unless the client is closed meanwhile: then, or if it already was, `step` gets until
/// `deadline` (`grace` after the close); `None` when it did not end by then.
async fn until_grace<T>(
    step: impl std::future::Future<Output = T>,
    shutdown: &mut watch::Receiver<bool>,
    deadline: &mut Option<tokio::time::Instant>,
    grace: Duration,
) -> Option<T> {
    tokio::pin!(step);
    if deadline.is_none() {
        tokio::select! {
            biased;
            output = &mut step => return Some(output),
            _ = stopped(shutdown) => *deadline = Some(tokio::time::Instant::now() + grace),
        }
    }
    tokio::time::timeout_at(deadline.expect("set once the client is closed"), step).await.ok()
}

/// Waits until the client is closed or dropped.
async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stop| *stop).await;
}

/// Reads the server's stderr to its end. As bytes: a line that is not UTF-8 (read with U+FFFD) must not end the
/// reading, or the server would fail writing to its stderr once the pipe is closed.
async fn read_stderr(stderr: ChildStderr, shared: Arc<Shared>) {
    let mut reader = BufReader::new(stderr);
    let mut line = Vec::new();
    while reader.read_until(b'\n', &mut line).await.is_ok_and(|read| read > 0) {
        let end = line.iter().rposition(|b| !matches!(b, b'\n' | b'\r')).map_or(0, |at| at + 1);
        shared.stderr_line(String::from_utf8_lossy(&line[..end]).into_owned());
        line.clear();
    }
}

async fn supervise(
    mut child: Child,
    mut shutdown: watch::Receiver<bool>,
    exit: watch::Sender<Option<String>>,
    grace: Duration,
) {
    let exited = tokio::select! {
        status = child.wait() => Some(status),
        _ = stopped(&mut shutdown) => None,
    };
    let status = match exited {
        Some(status) => status,
        None => match tokio::time::timeout(grace, child.wait()).await {
            Ok(status) => status,
            Err(_) => {
                tracing::warn!("the server did not exit within {grace:?} of its input closing: killing it");
                let _ = child.start_kill();
                child.wait().await
            }
        },
    };
    let status = match status {
        Ok(status) => status.to_string(),
        Err(e) => format!("cannot wait for the server: {e}"),
    };
    tracing::debug!("the server exited: {status}");
    exit.send_replace(Some(status));
}

async fn read(
    mut source: Source,
    shared: Arc<Shared>,
    mut shutdown: watch::Receiver<bool>,
    mut exit: watch::Receiver<Option<String>>,
    grace: Duration,
) {
    let mut deadline = None;
    let mut wakes = Wakes::default();
    let mut line = Vec::new();
    let reason = loop {
        let next = match deadline {
            Some(deadline) => match tokio::time::timeout_at(deadline, source.next(&mut line)).await {
                Ok(next) => next,
                Err(_) => break "the client closed the connection".to_string(),
            },
            None => tokio::select! {
                next = source.next(&mut line) => next,
                _ = stopped(&mut shutdown) => {
                    deadline = Some(tokio::time::Instant::now() + grace + Duration::from_secs(1));
                    continue;
                }
            },
        };
        match next {
            Some(Ok(())) => {
                let end = line.iter().rposition(|b| !matches!(b, b'\n' | b'\r')).map_or(0, |at| at + 1);
                shared.on_line(&String::from_utf8_lossy(&line[..end]), &mut wakes);
                line.clear();
                wakes.after_line(source.holds_line());
            }
            Some(Err(e)) => break format!("cannot read from the server: {e}"),
            None => break "the server closed the connection".to_string(),
        }
    };
    wakes.wake_all();
    // The exit status of a child follows the end of its output closely; wait a little for it.
    let exited = async { exit.wait_for(Option::is_some).await.ok().and_then(|status| status.clone()) };
    let status = tokio::time::timeout(Duration::from_millis(500), exited).await.ok().flatten();
    shared.close(Error::TransportClosed { reason, status, stderr: shared.stderr() });
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use super::codex_bin;

    #[test]
    fn the_binary_is_the_configured_one_then_codex_bin_then_the_cached_release_then_path() {
        let cache = std::env::temp_dir().join(format!("codex-bin-test-{}", std::process::id()));
        let cached = cache.join("codex-schema-codegen").join(format!("codex-{}", crate::CODEX_VERSION)).join("codex");
        let configured = Some(Path::new("/opt/codex"));
        assert_eq!(codex_bin(configured, Some("/env/codex".into()), Some(cache.clone())), PathBuf::from("/opt/codex"));
        assert_eq!(codex_bin(None, Some("/env/codex".into()), Some(cache.clone())), PathBuf::from("/env/codex"));
        assert_eq!(codex_bin(None, Some("".into()), Some(cache.clone())), PathBuf::from("codex"), "not cached yet");
        std::fs::create_dir_all(cached.parent().unwrap()).unwrap();
        std::fs::write(&cached, "").unwrap();
        let found = codex_bin(None, None, Some(cache.clone()));
        std::fs::remove_dir_all(&cache).unwrap();
        if crate::CODEX_VERSION == "0.0.0" {
            assert_eq!(found, PathBuf::from("codex"), "no release to look for");
        } else {
            assert_eq!(found, cached);
        }
        assert_eq!(codex_bin(None, None, None), PathBuf::from("codex"));
    }
}
