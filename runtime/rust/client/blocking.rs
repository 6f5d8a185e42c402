//! The client without async: the same API, each call waiting for its answer. It needs no runtime from the caller:
//! the async client runs on a private current-thread tokio runtime, on a thread of its own that ends when the last
//! handle is dropped (after the server is shut down). Calls must not be made from inside an async runtime.
//!
//! ```no_run
//! use codex_app_server_types::client::blocking::Codex;
//! use codex_app_server_types::client::CodexConfig;
//!
//! let codex = Codex::start(CodexConfig::default())?;
//! let thread = codex.thread_start(Default::default())?;
//! let result = thread.run("Describe this project.")?;
//! println!("{}", result.final_response.unwrap_or_default());
//! # Ok::<(), codex_app_server_types::client::Error>(())
//! ```

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::JoinHandle;

use serde_json::Value;
use tokio::sync::oneshot;

use super::handler::catch_unwind;
use super::{CodexConfig, Error, InitializeResponse, ServerNotification, TurnInput, TurnOptions, TurnResult};

/// The runtime thread: it runs until `stop` is sent (or dropped).
struct Runtime {
    handle: tokio::runtime::Handle,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Runtime {
    fn start() -> Result<Runtime, Error> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::Start(format!("cannot build a runtime: {e}")))?;
        let handle = runtime.handle().clone();
        let (stop, stopped) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("codex-client".into())
            .spawn(move || {
                runtime.block_on(async {
                    let _ = stopped.await;
                });
                // Tasks still running (a server being shut down) get a bounded time to end.
                runtime.shutdown_timeout(std::time::Duration::from_secs(5));
            })
            .map_err(|e| Error::Start(format!("cannot start the client's thread: {e}")))?;
        Ok(Runtime { handle, stop: Some(stop), thread: Some(thread) })
    }

    /// Runs `future` on the runtime thread and waits for its output. A panic in it panics the caller, with its
    /// payload, as if it had run on the caller's thread.
    fn block_on<F>(&self, future: F) -> F::Output
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        self.handle.spawn(async move {
            let _ = tx.send(catch_unwind(future).await);
        });
        match rx.blocking_recv().expect("the client's runtime thread runs as long as its handles") {
            Ok(output) => output,
            Err(panic) => std::panic::resume_unwind(panic),
        }
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// What the blocking handles share: the async client and its runtime. The async client is closed (on the runtime)
/// before the runtime stops.
struct Inner {
    codex: Option<super::Codex>,
    runtime: Runtime,
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Some(codex) = self.codex.take() {
            self.runtime.block_on(async move { codex.close().await });
        }
    }
}

/// [`super::Codex`] without async. Clones share the connection; it closes when the last clone (and handle) is
/// dropped.
#[derive(Clone)]
pub struct Codex {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Codex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Codex").field("server_version", &self.server_version()).finish_non_exhaustive()
    }
}

impl Codex {
    fn codex(&self) -> super::Codex {
        self.inner.codex.clone().expect("present until dropped")
    }

    fn run<F, T>(&self, f: impl FnOnce(super::Codex) -> F) -> T
    where
        F: Future<Output = T> + Send + 'static,
        T: Send + 'static,
    {
        self.inner.runtime.block_on(f(self.codex()))
    }

    /// [`super::Codex::start`].
    pub fn start(config: CodexConfig) -> Result<Codex, Error> {
        let runtime = Runtime::start()?;
        let codex = runtime.block_on(super::Codex::start(config))?;
        Ok(Codex { inner: Arc::new(Inner { codex: Some(codex), runtime }) })
    }

    /// [`super::Codex::initialize_response`].
    pub fn initialize_response(&self) -> InitializeResponse {
        self.codex().initialize_response().clone()
    }

    /// [`super::Codex::server_version`].
    pub fn server_version(&self) -> Option<String> {
        self.codex().server_version().map(str::to_owned)
    }

    /// [`super::Codex::request`].
    pub fn request<R>(&self, params: R::Params) -> Result<R::Response, Error>
    where
        R: crate::rpc::Request + 'static,
        R::Params: Send,
        R::Response: Send,
    {
        self.run(|codex| async move { codex.request::<R>(params).await })
    }

    /// [`super::Codex::call`].
    pub fn call(&self, method: &str, params: Option<Value>) -> Result<Value, Error> {
        let method = method.to_owned();
        self.run(|codex| async move { codex.call(&method, params).await })
    }

    /// [`super::Codex::thread_start`].
    pub fn thread_start(&self, params: super::generated::ThreadStartParams) -> Result<Thread, Error> {
        let thread = self.run(|codex| async move { codex.thread_start(params).await })?;
        Ok(Thread { codex: self.clone(), thread })
    }

    /// A blocking handle on a thread the async client opened: with [`Codex::block_on`], any request that answers
    /// with a thread (`thread_resume`, `thread_fork`, `thread_list`) gives one.
    ///
    /// ```no_run
    /// # fn f(codex: codex_app_server_types::client::blocking::Codex, id: String) -> Result<(), codex_app_server_types::client::Error> {
    /// use codex_app_server_types::v2::ThreadResumeParams;
    /// let resumed = codex.block_on(|c| async move { c.thread_resume(ThreadResumeParams::new(id)).await })?;
    /// let thread = codex.wrap(resumed);
    /// # Ok(()) }
    /// ```
    pub fn wrap(&self, thread: super::Thread) -> Thread {
        Thread { codex: self.clone(), thread }
    }

    /// A handle on thread `id` ([`super::Codex::thread`]).
    pub fn thread(&self, id: impl Into<String>) -> Thread {
        Thread { codex: self.clone(), thread: self.codex().thread(id) }
    }

    /// [`super::Codex::events`]: the events no turn takes, read with [`Events::next`].
    pub fn events(&self) -> Events {
        Events { events: self.codex().events() }
    }

    /// [`super::Codex::close`].
    pub fn close(&self) {
        self.run(|codex| async move { codex.close().await })
    }

    /// Runs an async call of the async client (any request, `rpc::AsyncClient`'s typed methods included) and
    /// waits for it.
    pub fn block_on<F, T>(&self, f: impl FnOnce(super::Codex) -> F) -> T
    where
        F: Future<Output = T> + Send + 'static,
        T: Send + 'static,
    {
        self.run(f)
    }
}

/// [`super::Thread`] without async.
#[derive(Clone, Debug)]
pub struct Thread {
    codex: Codex,
    thread: super::Thread,
}

impl Thread {
    /// The thread's id.
    pub fn id(&self) -> &str {
        self.thread.id()
    }

    /// The async handle, for its thread requests ([`Codex::block_on`] runs them).
    pub fn as_async(&self) -> &super::Thread {
        &self.thread
    }

    /// [`super::Thread::run`].
    pub fn run(&self, input: impl Into<TurnInput>) -> Result<TurnResult, Error> {
        let (thread, input) = (self.thread.clone(), input.into());
        self.codex.run(|_| async move { thread.run(input).await })
    }

    /// [`super::Thread::turn`].
    pub fn turn(&self, input: impl Into<TurnInput>) -> Result<TurnHandle, Error> {
        self.turn_with(input, TurnOptions::default())
    }

    /// [`super::Thread::turn_with`].
    pub fn turn_with(&self, input: impl Into<TurnInput>, options: TurnOptions) -> Result<TurnHandle, Error> {
        let (thread, input) = (self.thread.clone(), input.into());
        let turn = self.codex.run(|_| async move { thread.turn_with(input, options).await })?;
        let (id, thread_id) = (turn.id().to_owned(), turn.thread_id().to_owned());
        Ok(TurnHandle { codex: self.codex.clone(), id, thread_id, turn: Arc::new(Mutex::new(Some(turn))) })
    }

    /// [`super::Thread::events`]: this thread's events that no turn takes, read with [`Events::next`].
    pub fn events(&self) -> Events {
        Events { events: self.thread.events() }
    }

    /// [`super::Thread::set_handler`].
    pub fn set_handler(&self, handler: impl crate::rpc::ServerRequestHandler + Send + 'static) {
        self.thread.set_handler(handler)
    }

    /// [`super::Thread::clear_handler`].
    pub fn clear_handler(&self) {
        self.thread.clear_handler()
    }
}

/// [`super::TurnHandle`] without async; an [`Iterator`] of its events.
pub struct TurnHandle {
    codex: Codex,
    id: String,
    thread_id: String,
    // Moved to the runtime thread for each wait, and back.
    turn: Arc<Mutex<Option<super::TurnHandle>>>,
}

impl std::fmt::Debug for TurnHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TurnHandle").field("thread", &self.thread_id).field("id", &self.id).finish_non_exhaustive()
    }
}

impl TurnHandle {
    /// The turn's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The id of the turn's thread.
    pub fn thread_id(&self) -> &str {
        &self.thread_id
    }

    fn with<F, T>(&self, f: impl FnOnce(super::TurnHandle) -> F + Send + 'static) -> Option<T>
    where
        F: Future<Output = (super::TurnHandle, T)> + Send + 'static,
        T: Send + 'static,
    {
        let turn = self.turn.lock().unwrap_or_else(|p| p.into_inner()).take()?;
        let (turn, output) = self.codex.run(|_| f(turn));
        *self.turn.lock().unwrap_or_else(|p| p.into_inner()) = Some(turn);
        Some(output)
    }

    /// [`super::TurnHandle::next`].
    pub fn next_event(&mut self) -> Option<Result<ServerNotification, Error>> {
        self.with(|mut turn| async move {
            let event = turn.next().await;
            (turn, event)
        })
        .flatten()
    }

    /// [`super::TurnHandle::run`].
    pub fn run(self) -> Result<TurnResult, Error> {
        let turn = self.turn.lock().unwrap_or_else(|p| p.into_inner()).take();
        let Some(turn) = turn else { return Err(self.codex.codex().core.shared.closed_error()) };
        self.codex.run(|_| turn.run())
    }

    /// [`super::TurnHandle::interrupt`].
    pub fn interrupt(&self) -> Result<(), Error> {
        self.interrupter().interrupt()
    }

    /// What interrupts this turn from another thread, while this one reads its events.
    ///
    /// ```no_run
    /// # fn f(thread: codex_app_server_types::client::blocking::Thread) -> Result<(), codex_app_server_types::client::Error> {
    /// let turn = thread.turn("Take your time.")?;
    /// let stop = turn.interrupter();
    /// std::thread::spawn(move || {
    ///     std::thread::sleep(std::time::Duration::from_secs(5));
    ///     let _ = stop.interrupt();
    /// });
    /// for event in turn {
    ///     println!("{:?}", event?);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn interrupter(&self) -> Interrupter {
        Interrupter { codex: self.codex.clone(), thread: self.thread_id.clone(), turn: self.id.clone() }
    }

    /// [`super::TurnHandle::steer`].
    pub fn steer(&self, input: impl Into<TurnInput>) -> Result<(), Error> {
        let input = input.into();
        self.with(|turn| async move {
            let result = turn.steer(input).await;
            (turn, result)
        })
        .unwrap_or_else(|| Err(self.codex.codex().core.shared.closed_error()))
    }
}

/// Interrupts a turn (`turn/interrupt`) from any thread: [`TurnHandle::interrupter`].
#[derive(Clone, Debug)]
pub struct Interrupter {
    codex: Codex,
    thread: String,
    turn: String,
}

impl Interrupter {
    /// Asks the server to interrupt the turn; it then completes as `interrupted`.
    pub fn interrupt(&self) -> Result<(), Error> {
        let params = serde_json::json!({ "threadId": self.thread, "turnId": self.turn });
        self.codex.call("turn/interrupt", Some(params)).map(drop)
    }
}

impl Iterator for TurnHandle {
    type Item = Result<ServerNotification, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_event()
    }
}

impl Drop for TurnHandle {
    fn drop(&mut self) {
        // The async handle is dropped on the runtime thread, as it was made there.
        if let Some(turn) = self.turn.lock().unwrap_or_else(|p| p.into_inner()).take() {
            self.codex.run(|_| async move { drop(turn) });
        }
    }
}

/// [`super::Events`] without async: an [`Iterator`] that ends with the connection. Like the async one, it does
/// not keep the connection open: once the last [`Codex`] (and handle) is dropped, it gives what it holds, then
/// [`Error::TransportClosed`].
#[derive(Debug)]
pub struct Events {
    events: super::Events,
}

impl Iterator for Events {
    type Item = Result<ServerNotification, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        // The reader fills the queue: waiting for it needs no runtime, so none is held.
        wait(|cx| self.events.queue.poll_pop(cx))
    }
}

/// Waits on this thread until `poll` is ready, parked between its wakes.
fn wait<T>(mut poll: impl FnMut(&mut Context<'_>) -> Poll<T>) -> T {
    struct Unpark(std::thread::Thread);

    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }

    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(output) = poll(&mut cx) {
            return output;
        }
        std::thread::park();
    }
}
