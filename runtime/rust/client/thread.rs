//! Handles on a thread and on a turn, what a turn takes as input and what it gives back.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

use super::error::Error;
use super::generated::{ServerNotification, ThreadItem, TokenUsage, Turn, TurnStartParams};
use super::handler::Handler;
use super::router::{Item, Queue};
use super::Codex;

/// A thread of the server: start turns on it, and send the requests about it without repeating its id.
///
/// ```no_run
/// # async fn f(codex: codex_app_server_types::client::Codex) -> Result<(), codex_app_server_types::client::Error> {
/// let thread = codex.thread_start(Default::default()).await?;
/// let result = thread.run("Describe this project.").await?;
/// println!("{}", result.final_response.unwrap_or_default());
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Thread {
    pub(crate) codex: Codex,
    pub(crate) id: String,
}

impl std::fmt::Debug for Thread {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Thread").field("id", &self.id).finish()
    }
}

/// A turn's input: text (`&str`, `String`) or the schema's input items ([`super::UserInput`]).
#[derive(Debug, Clone)]
pub struct TurnInput(Result<Vec<Value>, String>);

impl TurnInput {
    fn text(text: String) -> Self {
        TurnInput(Ok(vec![serde_json::json!({ "type": "text", "text": text, "text_elements": [] })]))
    }

    fn into_value(self) -> Result<Value, Error> {
        self.0.map(Value::Array).map_err(|message| Error::Decode {
            method: "turn/start".into(),
            path: "input".into(),
            message,
        })
    }
}

impl From<&str> for TurnInput {
    fn from(text: &str) -> Self {
        TurnInput::text(text.to_owned())
    }
}

impl From<String> for TurnInput {
    fn from(text: String) -> Self {
        TurnInput::text(text)
    }
}

impl<T: Serialize> From<Vec<T>> for TurnInput {
    fn from(items: Vec<T>) -> Self {
        TurnInput(items.iter().map(serde_json::to_value).collect::<Result<_, _>>().map_err(|e| e.to_string()))
    }
}

/// What [`Thread::turn_with`] takes besides the input.
#[derive(Default)]
pub struct TurnOptions {
    params: Option<TurnStartParams>,
    handler: Option<Handler>,
}

impl TurnOptions {
    /// The rest of `turn/start`'s params (model, effort, ...); its thread id and input are the turn's.
    pub fn params(mut self, params: TurnStartParams) -> Self {
        self.params = Some(params);
        self
    }

    /// Answers the server's requests during this turn, instead of the thread's or the client's handler.
    pub fn handler(mut self, handler: impl crate::rpc::ServerRequestHandler + Send + 'static) -> Self {
        self.handler = Some(Handler::new(handler));
        self
    }

    /// [`TurnOptions::handler`] with an async handler.
    pub fn async_handler(mut self, handler: impl super::AsyncServerRequestHandler) -> Self {
        self.handler = Some(Handler::from_async(Arc::new(handler)));
        self
    }
}

/// What a completed turn gave.
#[derive(Debug, Clone)]
pub struct TurnResult {
    /// The turn as `turn/completed` carried it (status `completed` or `interrupted`).
    pub turn: Turn,
    /// Every item the turn completed (`item/completed`), in order.
    pub items: Vec<ThreadItem>,
    /// The text of the last agent message, if any.
    pub final_response: Option<String>,
    /// The thread's token usage, as last reported during the turn.
    pub usage: Option<TokenUsage>,
}

/// A page of [`super::Codex::thread_list`]: a handle per thread, and the typed result (cursors and all).
#[derive(Debug, Clone)]
pub struct ThreadPage<R> {
    pub threads: Vec<Thread>,
    pub response: R,
}

impl Thread {
    /// The thread's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The client the thread belongs to.
    pub fn codex(&self) -> &Codex {
        &self.codex
    }

    /// Subscribes to this thread's events that no turn handle takes: its notifications that name no turn
    /// (`thread/status/changed`, `thread/name/updated`, ..., also while one of its turns runs), and the events of its
    /// turns whose handle was dropped or that another client started. It ends with the connection.
    pub fn events(&self) -> Events {
        Events { queue: self.codex.core.shared.subscribe(Some(&self.id)) }
    }

    /// Answers the server's requests about this thread (unless a turn sets its own), instead of the client's
    /// handler.
    pub fn set_handler(&self, handler: impl crate::rpc::ServerRequestHandler + Send + 'static) {
        self.codex.core.shared.set_thread_handler(&self.id, Some(Handler::new(handler)));
    }

    /// [`Thread::set_handler`] with an async handler.
    pub fn set_async_handler(&self, handler: impl super::AsyncServerRequestHandler) {
        self.codex.core.shared.set_thread_handler(&self.id, Some(Handler::from_async(Arc::new(handler))));
    }

    /// Goes back to the client's handler for this thread's requests.
    pub fn clear_handler(&self) {
        self.codex.core.shared.set_thread_handler(&self.id, None);
    }

    /// Starts a turn and waits for it to complete: its items, final response and usage.
    ///
    /// A turn whose status is `failed` is [`Error::TurnFailed`].
    pub async fn run(&self, input: impl Into<TurnInput>) -> Result<TurnResult, Error> {
        self.turn(input).await?.run().await
    }

    /// Starts a turn; its events are read from the [`TurnHandle`].
    pub async fn turn(&self, input: impl Into<TurnInput>) -> Result<TurnHandle, Error> {
        self.turn_with(input, TurnOptions::default()).await
    }

    /// Starts a turn with more `turn/start` params, or a handler of its own.
    pub async fn turn_with(&self, input: impl Into<TurnInput>, options: TurnOptions) -> Result<TurnHandle, Error> {
        let mut params = match &options.params {
            Some(params) => serde_json::to_value(params)?,
            None => serde_json::json!({}),
        };
        params["threadId"] = Value::String(self.id.clone());
        params["input"] = input.into().into_value()?;
        let shared = &self.codex.core.shared;
        let queue = Queue::new(shared.buffer, options.handler);
        let span = tracing::debug_span!("codex.turn", thread = %self.id, turn = tracing::field::Empty);
        // Registered before the request is sent: events that come before its answer are kept.
        shared.start_turn(&self.id, &queue)?;
        let forget = ForgetTurn { codex: &self.codex, thread: &self.id, queue: &queue, armed: true };
        let response = self.codex.call("turn/start", Some(params)).await?;
        let turn = response.get("turn").cloned().unwrap_or_default();
        let id = turn.get("id").and_then(Value::as_str).unwrap_or_default().to_owned();
        // Read before the turn is bound: an answer that does not decode leaves the turn's events to the
        // subscribers, as no handle will read them.
        let started: Turn = decode("turn/start", turn)?;
        span.record("turn", id.as_str());
        shared.bind_turn(&self.id, &id, &queue);
        let mut forget = forget;
        forget.armed = false;
        drop(forget);
        Ok(TurnHandle {
            codex: self.codex.clone(),
            thread: self.id.clone(),
            id,
            queue,
            started,
            timeout: self.codex.core.turn_timeout,
            sleep: None,
            span,
        })
    }

    /// Sends request `R` for this thread: its id goes at `thread` (and the turn's at `turn`) in the params.
    // Used by the glue where the schema has requests about a thread.
    #[allow(dead_code)]
    pub(crate) async fn scoped_request<R: crate::rpc::Request>(
        &self,
        params: Option<Value>,
        thread: &[&str],
        turn: Option<(&[&str], &str)>,
    ) -> Result<R::Response, Error> {
        let mut params = params.unwrap_or_else(|| serde_json::json!({}));
        set(&mut params, thread, &self.id);
        if let Some((path, id)) = turn {
            set(&mut params, path, id);
        }
        let result = self.codex.call(R::METHOD, Some(params)).await?;
        decode(R::METHOD, result)
    }
}

/// Sets the string at `path` in `value`, making the objects on the way.
fn set(value: &mut Value, path: &[&str], id: &str) {
    let mut value = value;
    for key in path {
        if !value.is_object() {
            *value = serde_json::json!({});
        }
        value = value.as_object_mut().expect("an object").entry(*key).or_insert(Value::Null);
    }
    *value = Value::String(id.to_owned());
}

pub(crate) fn decode<T: serde::de::DeserializeOwned>(method: &str, value: Value) -> Result<T, Error> {
    serde_path_to_error::deserialize(value).map_err(|e| Error::decode(method, e))
}

/// Forgets a turn whose start failed or was cancelled.
struct ForgetTurn<'a> {
    codex: &'a Codex,
    thread: &'a str,
    queue: &'a Arc<Queue>,
    armed: bool,
}

impl Drop for ForgetTurn<'_> {
    fn drop(&mut self) {
        if self.armed {
            self.codex.core.shared.forget_turn(self.thread, self.queue);
        }
    }
}

/// A running turn: its events (a [`futures_core::Stream`], or [`TurnHandle::next`]) end after `turn/completed`.
///
/// It gets only its own events, the notifications that name the turn; those of its thread that name no turn
/// (`thread/status/changed`, ...) go to [`Thread::events`] and [`super::Codex::events`].
///
/// Events are buffered from before `turn/start` is answered; see [`super::CodexConfig::buffer`] for what happens
/// when they are not read: past the buffer, events are left out and the next read is [`Error::Lagged`], but
/// `turn/completed` is always delivered and [`TurnHandle::run`]'s result is always whole. With
/// [`super::CodexConfig::turn_timeout`], a read that waits longer than that for an event is [`Error::Timeout`].
///
/// ```no_run
/// # async fn f(thread: codex_app_server_types::client::Thread) -> Result<(), codex_app_server_types::client::Error> {
/// let mut turn = thread.turn("Explain the build.").await?;
/// while let Some(event) = turn.next().await {
///     println!("{:?}", event?);
/// }
/// # Ok(()) }
/// ```
pub struct TurnHandle {
    pub(crate) codex: Codex,
    pub(crate) thread: String,
    pub(crate) id: String,
    queue: Arc<Queue>,
    started: Turn,
    timeout: Option<Duration>,
    sleep: Option<Pin<Box<tokio::time::Sleep>>>,
    span: tracing::Span,
}

impl std::fmt::Debug for TurnHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TurnHandle").field("thread", &self.thread).field("id", &self.id).finish_non_exhaustive()
    }
}

impl TurnHandle {
    /// The turn's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The id of the turn's thread.
    pub fn thread_id(&self) -> &str {
        &self.thread
    }

    /// The turn as `turn/start` answered it.
    pub fn started(&self) -> &Turn {
        &self.started
    }

    /// The thread the turn runs on.
    pub fn thread(&self) -> Thread {
        Thread { codex: self.codex.clone(), id: self.thread.clone() }
    }

    /// The next event of the turn; `None` after `turn/completed`.
    pub async fn next(&mut self) -> Option<Result<ServerNotification, Error>> {
        std::future::poll_fn(|cx| self.poll_event(cx)).await
    }

    fn poll_event(&mut self, cx: &mut Context<'_>) -> Poll<Option<Item>> {
        let _entered = self.span.enter();
        if let Poll::Ready(item) = self.queue.poll_pop(cx) {
            if let Some(item) = &item {
                tracing::trace!(ok = item.is_ok(), "turn event");
            }
            self.sleep = None;
            return Poll::Ready(item);
        }
        if let Some(after) = self.timeout {
            let sleep = self.sleep.get_or_insert_with(|| Box::pin(tokio::time::sleep(after)));
            if sleep.as_mut().poll(cx).is_ready() {
                self.sleep = None;
                let what = format!("turn {}", self.id);
                return Poll::Ready(Some(Err(Error::Timeout { what, after })));
            }
        }
        Poll::Pending
    }

    /// Reads the rest of the turn and gives its result; [`Error::TurnFailed`] when its status is `failed`.
    pub async fn run(mut self) -> Result<TurnResult, Error> {
        while let Some(event) = self.next().await {
            match event {
                Ok(_) | Err(Error::Lagged { .. }) | Err(Error::Decode { .. }) => {}
                Err(error) => return Err(error),
            }
        }
        let collected = self.queue.take_collected();
        let Some(turn) = collected.turn else {
            return Err(self.codex.core.shared.closed_error());
        };
        let failed = turn.get("status").and_then(Value::as_str) == Some("failed");
        let final_response = collected
            .items
            .iter()
            .rev()
            .find(|item| item.get("type").and_then(Value::as_str) == Some("agentMessage"))
            .and_then(|item| item.get("text").and_then(Value::as_str))
            .map(str::to_owned);
        let turn: Turn = decode("turn/completed", turn)?;
        if failed {
            return Err(Error::TurnFailed { turn: Box::new(turn) });
        }
        let items = collected.items.into_iter().map(|item| decode("item/completed", item)).collect::<Result<_, _>>()?;
        let usage = collected.usage.map(|usage| decode("thread/tokenUsage/updated", usage)).transpose()?;
        Ok(TurnResult { turn, items, final_response, usage })
    }

    /// Asks the server to interrupt the turn (`turn/interrupt`); the turn then completes as `interrupted`.
    pub async fn interrupt(&self) -> Result<(), Error> {
        let params = serde_json::json!({ "threadId": self.thread, "turnId": self.id });
        self.codex.call("turn/interrupt", Some(params)).await.map(drop)
    }

    /// Adds input to the running turn (`turn/steer`).
    pub async fn steer(&self, input: impl Into<TurnInput>) -> Result<(), Error> {
        let input = input.into().into_value()?;
        let params = serde_json::json!({ "threadId": self.thread, "expectedTurnId": self.id, "input": input });
        self.codex.call("turn/steer", Some(params)).await.map(drop)
    }

    /// Sends request `R` for this turn: the thread's id goes at `thread`, the turn's at `turn`.
    // Used by the glue where the schema has requests about a turn.
    #[allow(dead_code)]
    pub(crate) async fn scoped_request<R: crate::rpc::Request>(
        &self,
        params: Option<Value>,
        thread: &[&str],
        turn: Option<&[&str]>,
    ) -> Result<R::Response, Error> {
        let handle = Thread { codex: self.codex.clone(), id: self.thread.clone() };
        handle.scoped_request::<R>(params, thread, turn.map(|path| (path, self.id.as_str()))).await
    }
}

impl futures_core::Stream for TurnHandle {
    type Item = Result<ServerNotification, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().poll_event(cx)
    }
}

impl Drop for TurnHandle {
    fn drop(&mut self) {
        self.codex.core.shared.forget_turn(&self.thread, &self.queue);
    }
}

/// The events that belong to no turn being read (account and config notifications, a thread's notifications that
/// name no turn, the events of turns without a handle, unknown methods, lines that do not decode, responses to no
/// pending request as [`Error::UnmatchedResponse`]): a [`futures_core::Stream`] from [`super::Codex::events`], or
/// from [`Thread::events`] for one thread's. It ends with the connection.
pub struct Events {
    pub(crate) queue: Arc<Queue>,
}

impl std::fmt::Debug for Events {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Events").finish_non_exhaustive()
    }
}

impl Events {
    /// The next event; `None` after the connection closed (and its [`Error::TransportClosed`] was read).
    pub async fn next(&mut self) -> Option<Result<ServerNotification, Error>> {
        std::future::poll_fn(|cx| self.queue.poll_pop(cx)).await
    }
}

impl futures_core::Stream for Events {
    type Item = Result<ServerNotification, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.queue.poll_pop(cx)
    }
}
