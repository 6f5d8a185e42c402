//! The two ways to reach a server: a `codex app-server` child on stdio, or a websocket (feature `ws`). Each is a
//! source of lines and a sink of lines; four tasks run it: the reader (see `router`), the writer, the stderr
//! reader and, for a child, its supervisor. All of them end once the server is gone.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStderr, ChildStdin, ChildStdout, Command};
use tokio::sync::{mpsc, watch};

use super::config::CodexConfig;
use super::error::Error;
use super::router::{Shared, Wakes};

/// Lines from the server.
pub(crate) enum Source {
    /// The server's stdout; `passing`, the length so far of a line over the limit being passed over.
    Stdio { reader: BufReader<ChildStdout>, passing: Option<usize> },
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
        return connect_url(url, config.request_timeout, config.max_message_size).await;
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
        source: Source::Stdio { reader: BufReader::new(stdout), passing: None },
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
async fn connect_url(url: &str, timeout: Duration, max_message_size: usize) -> Result<Connection, Error> {
    use futures_util::StreamExt;
    // A message over the limit ends the connection: the websocket cannot pass over it and go on.
    let limits = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default()
        .max_message_size(Some(max_message_size))
        .max_frame_size(Some(max_message_size));
    let connecting = tokio_tungstenite::connect_async_with_config(url, Some(limits), false);
    let (socket, _) = tokio::time::timeout(timeout, connecting)
        .await
        .map_err(|_| Error::Start(format!("{url}: no connection within {timeout:?}")))?
        .map_err(|e| Error::Start(format!("{url}: {e}")))?;
    let (sink, source) = socket.split();
    Ok(Connection { source: Source::Ws(source), sink: Sink::Ws(sink), child: None })
}

#[cfg(not(feature = "ws"))]
async fn connect_url(url: &str, _: Duration, _: usize) -> Result<Connection, Error> {
    Err(Error::Start(format!("{url}: connecting to a URL needs the crate's `ws` feature")))
}

/// What the reader read next.
#[derive(Debug, PartialEq)]
enum Next {
    /// A message, in the line buffer.
    Line,
    /// A line over the limit, passed over: its length, without the line break.
    TooLong(usize),
    /// The end of the connection.
    End,
    Failed(String),
}

impl Source {
    /// Whether the next line is already read in, so that taking it does not wait.
    fn holds_line(&mut self) -> bool {
        match self {
            Source::Stdio { reader, .. } => reader.buffer().contains(&b'\n'),
            #[cfg(feature = "ws")]
            Source::Ws(_) => false,
        }
    }

    /// Reads the next message into `line` (one buffer for every line, the reader empties it once the line is
    /// handled), at most `max` bytes of it. A read cut short (the reader's `select!`) leaves what it read in `line`
    /// and the next call goes on from there.
    async fn next(&mut self, line: &mut Vec<u8>, max: usize) -> Next {
        match self {
            Source::Stdio { reader, passing } => {
                read_line(reader, line, passing, max).await.unwrap_or_else(|e| Next::Failed(e.to_string()))
            }
            #[cfg(feature = "ws")]
            Source::Ws(frames) => {
                use futures_util::StreamExt;
                use tokio_tungstenite::tungstenite::Message;
                // Their size is bounded by the websocket's own limit, set to `max` (see `connect_url`).
                loop {
                    return match frames.next().await {
                        Some(Ok(Message::Text(text))) => {
                            line.extend_from_slice(text.as_bytes());
                            Next::Line
                        }
                        Some(Ok(Message::Binary(bytes))) => {
                            line.extend_from_slice(&bytes);
                            Next::Line
                        }
                        Some(Ok(Message::Close(_))) | None => Next::End,
                        Some(Ok(_)) => continue,
                        Some(Err(e)) => Next::Failed(e.to_string()),
                    };
                }
            }
        }
    }
}

/// Reads the next line of `reader` into `line`, line break included, unless it is longer than `max` bytes (line
/// break left out): such a line is read to its end without being kept (`passing` holds its length so far) and
/// [`Next::TooLong`]. A last line without a line break is a line too. Cancelled, it leaves what it read in `line`
/// and `passing`, and the next call goes on from there.
async fn read_line<R: AsyncBufRead + Unpin>(
    reader: &mut R,
    line: &mut Vec<u8>,
    passing: &mut Option<usize>,
    max: usize,
) -> std::io::Result<Next> {
    loop {
        if let Some(length) = passing {
            let buffer = reader.fill_buf().await?;
            let (taken, ended) = match buffer.iter().position(|b| *b == b'\n') {
                Some(at) => (at + 1, true),
                None => (buffer.len(), false),
            };
            reader.consume(taken);
            *length += taken - usize::from(ended);
            if ended || taken == 0 {
                return Ok(Next::TooLong(passing.take().unwrap_or_default()));
            }
            continue;
        }
        // Up to the line break, or to one byte over the limit: enough to tell a line too long.
        let room = max.saturating_add(2).saturating_sub(line.len());
        (&mut *reader).take(room as u64).read_until(b'\n', line).await?;
        let ended = line.last() == Some(&b'\n');
        let length = line.len() - usize::from(ended);
        if length > max {
            line.clear();
            if ended {
                return Ok(Next::TooLong(length));
            }
            *passing = Some(length);
            continue;
        }
        // A whole line; else neither a line break nor the limit came: the end of the stream, after a last line.
        return Ok(if line.is_empty() { Next::End } else { Next::Line });
    }
}

/// Empties the line buffer for the next line, giving back what a long line made it take (above `KEEP`).
fn recycle(line: &mut Vec<u8>) {
    const KEEP: usize = 64 << 10;
    line.clear();
    line.shrink_to(KEEP);
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
    max_message_size: usize,
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
    tokio::spawn(read(connection.source, Arc::clone(shared), shutdown.subscribe(), exit_rx, grace, max_message_size));
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
    max: usize,
) {
    let mut deadline = None;
    let mut wakes = Wakes::default();
    let mut line = Vec::new();
    let reason = loop {
        let next = match deadline {
            Some(deadline) => match tokio::time::timeout_at(deadline, source.next(&mut line, max)).await {
                Ok(next) => next,
                Err(_) => break "the client closed the connection".to_string(),
            },
            None => tokio::select! {
                next = source.next(&mut line, max) => next,
                _ = stopped(&mut shutdown) => {
                    deadline = Some(tokio::time::Instant::now() + grace + Duration::from_secs(1));
                    continue;
                }
            },
        };
        match next {
            Next::Line => {
                let end = line.iter().rposition(|b| !matches!(b, b'\n' | b'\r')).map_or(0, |at| at + 1);
                shared.on_line(&String::from_utf8_lossy(&line[..end]), &mut wakes);
                recycle(&mut line);
                wakes.after_line(source.holds_line());
            }
            Next::TooLong(length) => shared.too_long(length, max),
            Next::Failed(e) => break format!("cannot read from the server: {e}"),
            Next::End => break "the server closed the connection".to_string(),
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
    use std::time::Duration;

    use tokio::io::{AsyncWriteExt, BufReader};

    use super::{codex_bin, read_line, recycle, Next};

    /// What `read_line` reads of `text` with limit `max`, its reader taking `capacity` bytes at a time.
    async fn lines(text: &[u8], max: usize, capacity: usize) -> Vec<String> {
        let mut reader = BufReader::with_capacity(capacity, text);
        let (mut line, mut passing, mut read) = (Vec::new(), None, Vec::new());
        loop {
            read.push(match read_line(&mut reader, &mut line, &mut passing, max).await.unwrap() {
                Next::Line => String::from_utf8(std::mem::take(&mut line)).unwrap(),
                Next::TooLong(length) => format!("too long: {length}"),
                Next::End => return read,
                Next::Failed(e) => panic!("{e}"),
            });
        }
    }

    #[tokio::test]
    async fn a_line_over_the_limit_is_passed_over_and_the_reading_goes_on() {
        for capacity in [1, 3, 8192] {
            let read = lines(b"short\n0123456789\n0123456789a\nlast", 10, capacity).await;
            assert_eq!(read, ["short\n", "0123456789\n", "too long: 11", "last"], "read {capacity} bytes at a time");
            let read = lines(b"0123456789ab\r\nok\n0123456789abc", 10, capacity).await;
            assert_eq!(read, ["too long: 13", "ok\n", "too long: 13"], "read {capacity} bytes at a time");
        }
    }

    #[tokio::test]
    async fn a_read_cut_short_goes_on_where_it_stopped() {
        let (mut server, client) = tokio::io::duplex(1024);
        let mut reader = BufReader::new(client);
        let (mut line, mut passing) = (Vec::new(), None);
        macro_rules! next {
            () => {
                tokio::time::timeout(Duration::from_millis(20), read_line(&mut reader, &mut line, &mut passing, 8))
                    .await
                    .ok()
                    .map(Result::unwrap)
            };
        }
        server.write_all(b"abc").await.unwrap();
        assert_eq!(next!(), None, "no line yet");
        server.write_all(b"de\n0123456789").await.unwrap();
        assert_eq!(next!(), Some(Next::Line));
        assert_eq!(line, b"abcde\n");
        line.clear();
        assert_eq!(next!(), None, "in the middle of a line too long");
        server.write_all(b"ab\nok\n").await.unwrap();
        assert_eq!(next!(), Some(Next::TooLong(12)));
        assert_eq!(next!(), Some(Next::Line));
        assert_eq!(line, b"ok\n");
    }

    #[test]
    fn the_line_buffer_gives_back_what_a_long_line_took() {
        let mut line = vec![b'x'; 1 << 20];
        recycle(&mut line);
        assert!(line.is_empty());
        assert!(line.capacity() <= 64 << 10, "{}", line.capacity());
    }

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
