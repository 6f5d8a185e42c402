//! The one reader of the server's messages: responses go to their waiters by id, notifications to the turn they
//! name, server requests to a handler, everything else to the event subscribers.
//!
//! Routing rule (the Python client's too): a turn handle gets only its own events, the notifications that name its
//! turn. A notification that names a thread and no turn (`thread/status/changed`, `thread/name/updated`, ...) goes
//! to the subscriptions of that thread ([`super::Thread::events`]) and of every event ([`super::Codex::events`]),
//! as do the events of a turn nobody holds a handle on. A notification naming a turn not known yet, on a thread
//! with a `turn/start` not answered yet, is held until the answer says which turn that request started: it then
//! goes to that turn's handle if it is that turn's, else to the subscribers.
//!
//! Buffering policy: a turn's events (and each event subscription's) wait in a queue of at most `buffer` events
//! (see [`super::CodexConfig::buffer`]). The reader never waits for a consumer, so a slow consumer stalls nobody
//! else; when its queue is full, newer events are left out and counted, and the consumer reads an
//! [`Error::Lagged`] with the count before the next event. `turn/completed`, and the error closing the stream, are
//! always queued. What a turn's result needs (its items, usage and final turn) is kept aside, whatever the queue
//! drops.

use std::borrow::Cow;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;
use tokio::sync::{mpsc, oneshot, watch};

use super::error::Error;
use super::generated::{self, ServerNotification, ServerRequest};
use super::handler::{error_reply, Handler};
use crate::rpc::{PendingRequests, ServerMessage};
use crate::wire::{Members, Text};

/// Where a server message's params hold its thread's and its turn's id: wire names from the params object down.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Route {
    pub thread: Option<&'static [&'static str]>,
    pub turn: Option<&'static [&'static str]>,
}

impl Route {
    pub const NONE: Route = Route { thread: None, turn: None };

    fn ids(&self, params: Option<&Value>) -> (Option<String>, Option<String>) {
        let at = |path: Option<&[&str]>| {
            let mut value = params?;
            for key in path? {
                value = value.get(*key)?;
            }
            value.as_str().map(str::to_owned)
        };
        (at(self.thread), at(self.turn))
    }

    /// [`Route::ids`] from the params' text; `Err` where only the reading through `Value` can tell.
    fn ids_in_text<'a>(&self, params: Option<&'a RawValue>) -> Result<Ids<'a>, ()> {
        let at = |path: Option<&[&str]>| match (params, path) {
            (Some(params), Some(path)) => {
                Ok(member_at(params, path)?.and_then(|id| Text::deserialize(id).ok()).map(|t| t.0))
            }
            _ => Ok(None),
        };
        Ok((at(self.thread)?, at(self.turn)?))
    }
}

/// A message's thread and turn ids, borrowed from its line where they have no escapes.
type Ids<'a> = (Option<Cow<'a, str>>, Option<Cow<'a, str>>);

/// The member of `raw` at `path` (names from the top), read without building the rest: `Ok(None)` where `raw`
/// does not hold it, `Err` where `raw` is not JSON this reading takes (a member given twice).
fn member_at<'a>(raw: &'a RawValue, path: &[&str]) -> Result<Option<&'a RawValue>, ()> {
    struct Find<'p>(&'p str);

    impl<'de> Visitor<'de> for Find<'_> {
        type Value = Option<&'de RawValue>;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("any JSON")
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut found = None;
            while let Some(Text(name)) = map.next_key()? {
                if name != self.0 {
                    map.next_value::<IgnoredAny>()?;
                } else if found.replace(map.next_value()?).is_some() {
                    return Err(de::Error::custom("a member given twice"));
                }
            }
            Ok(found)
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            Ok(None)
        }

        fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
    }

    let Some((first, rest)) = path.split_first() else { return Ok(Some(raw)) };
    match raw.deserialize_any(Find(first)) {
        Ok(Some(member)) => member_at(member, rest),
        Ok(None) => Ok(None),
        Err(_) => Err(()),
    }
}

/// How many finished turns are remembered, so that their late events are not taken for a new turn's.
const FINISHED: usize = 256;
/// How many lines of the server's stderr are kept for [`Error::TransportClosed`].
const STDERR_LINES: usize = 20;

pub(crate) type Item = Result<ServerNotification, Error>;

/// What a turn's result is made of, kept whatever the queue drops.
#[derive(Debug, Default)]
pub(crate) struct Collected {
    pub items: Vec<Value>,
    pub usage: Option<Value>,
    pub turn: Option<Value>,
}

/// What a turn's result keeps of one notification.
enum Kept {
    Item(Value),
    Usage(Value),
    Turn(Value),
}

impl Kept {
    /// What is kept of notification `method`, whose params' member [`aside`] names is `aside`.
    fn of(method: &str, aside: Option<Value>) -> Option<Kept> {
        let aside = aside?;
        Some(match method {
            "item/completed" => Kept::Item(aside),
            "thread/tokenUsage/updated" => Kept::Usage(aside),
            _ => Kept::Turn(aside),
        })
    }
}

/// A notification of a turn, as its queue takes it.
struct Event {
    kept: Option<Kept>,
    item: Item,
    /// `turn/completed`: the turn's last event.
    last: bool,
}

/// The turns of a thread whose `turn/start` is not answered yet (oldest first), and the notifications naming a turn
/// not known yet that came meanwhile, with that turn's id: which turn each request started is known once it is
/// answered.
#[derive(Default)]
struct Starting {
    queues: Vec<Arc<Queue>>,
    held: Vec<(String, Event)>,
}

/// The events of one turn, or of one event subscription.
pub(crate) struct Queue {
    state: Mutex<QueueState>,
    capacity: usize,
    pub handler: Option<Handler>,
}

#[derive(Default)]
struct QueueState {
    items: VecDeque<Item>,
    dropped: u64,
    finished: bool,
    waker: Option<Waker>,
    collected: Collected,
}

impl Queue {
    pub fn new(capacity: usize, handler: Option<Handler>) -> Arc<Queue> {
        Arc::new(Queue { state: Mutex::new(QueueState::default()), capacity, handler })
    }

    fn lock(&self) -> MutexGuard<'_, QueueState> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Queues `item`; `last` ends the queue (and is queued even when it is full).
    fn push(&self, item: Item, last: bool) {
        if let Some(waker) = self.enqueue(Event { kept: None, item, last }) {
            waker.wake();
        }
    }

    /// Queues a turn's event, and keeps what its result needs of it, without the wake: the consumer's waker, if it
    /// waits, for the caller to wake.
    fn enqueue(&self, event: Event) -> Option<Waker> {
        let Event { kept, item, last } = event;
        let mut state = self.lock();
        if state.finished {
            return None;
        }
        match kept {
            Some(Kept::Item(item)) => state.collected.items.push(item),
            Some(Kept::Usage(usage)) => state.collected.usage = Some(usage),
            Some(Kept::Turn(turn)) => state.collected.turn = Some(turn),
            None => {}
        }
        if last || state.items.len() < self.capacity {
            state.items.push_back(item);
        } else {
            state.dropped += 1;
        }
        state.finished |= last;
        // Woken once the lock is released, so that the consumer, woken on another thread, does not wait for it.
        state.waker.take()
    }

    pub fn is_finished(&self) -> bool {
        self.lock().finished
    }

    pub fn take_collected(&self) -> Collected {
        std::mem::take(&mut self.lock().collected)
    }

    /// The next event; `None` once the queue ended and is read out.
    pub fn poll_pop(&self, cx: &mut Context<'_>) -> Poll<Option<Item>> {
        let mut state = self.lock();
        if state.dropped > 0 {
            let dropped = std::mem::take(&mut state.dropped);
            return Poll::Ready(Some(Err(Error::Lagged { dropped })));
        }
        if let Some(item) = state.items.pop_front() {
            return Poll::Ready(Some(item));
        }
        if state.finished {
            return Poll::Ready(None);
        }
        state.waker = Some(cx.waker().clone());
        Poll::Pending
    }
}

/// The turn consumers the reader has queued events for since it last woke them.
///
/// The reader wakes them once it has handled the lines it already holds (at most [`Wakes::BATCH`]), not once
/// an event: on a multi-threaded runtime each wake of a parked consumer is a wake-up of another thread, which
/// cost more than decoding the event when done per event.
#[derive(Default)]
pub(crate) struct Wakes {
    wakers: Vec<Waker>,
    lines: usize,
}

impl Wakes {
    const BATCH: usize = 16;

    /// Wakes the consumers when the reader is about to wait for more lines (`more` is false) or has handled a
    /// batch.
    pub fn after_line(&mut self, more: bool) {
        self.lines += 1;
        if !more || self.lines >= Self::BATCH {
            self.wake_all();
        }
    }

    pub fn wake_all(&mut self) {
        self.lines = 0;
        for waker in self.wakers.drain(..) {
            waker.wake();
        }
    }
}

/// The state the reader, the handles and the handler tasks share.
pub(crate) struct Shared {
    state: Mutex<State>,
    out: mpsc::UnboundedSender<String>,
    pub buffer: usize,
    pub handler: Option<Handler>,
    handler_timeout: Duration,
    closed: watch::Sender<bool>,
}

#[derive(Default)]
struct State {
    next_id: i64,
    pending: HashMap<i64, (String, oneshot::Sender<Result<Value, Error>>)>,
    by_turn: HashMap<String, Arc<Queue>>,
    /// Per thread, the turns being started and the events held for them.
    starting: HashMap<String, Starting>,
    /// Per thread, the turn running: its handler answers the thread's requests that name no turn (its events that
    /// name no turn go to the subscribers, as every thread's do).
    current: HashMap<String, Arc<Queue>>,
    /// The turns that completed or whose handle was dropped, the latest [`FINISHED`]: their late events go to the
    /// subscribers, never to a turn being started.
    finished: VecDeque<String>,
    thread_handlers: HashMap<String, Handler>,
    /// Event subscriptions, each with the thread it is limited to, if any.
    events: Vec<(Option<String>, Weak<Queue>)>,
    closed: Option<Error>,
    stderr: VecDeque<String>,
}

impl Shared {
    pub fn new(
        out: mpsc::UnboundedSender<String>,
        buffer: usize,
        handler: Option<Handler>,
        handler_timeout: Duration,
    ) -> Arc<Shared> {
        let (closed, _) = watch::channel(false);
        Arc::new(Shared { state: Mutex::new(State::default()), out, buffer, handler, handler_timeout, closed })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Writes one message.
    pub fn send(&self, message: &Value) -> Result<(), Error> {
        let text = message.to_string();
        tracing::trace!(target: "codex_client::wire", direction = "out", message = %text);
        self.out.send(text).map_err(|_| self.closed_error())
    }

    /// The error every waiter gets once the server is gone.
    pub fn closed_error(&self) -> Error {
        self.lock().closed.clone().unwrap_or_else(|| Error::TransportClosed {
            reason: "the connection is closing".into(),
            status: None,
            stderr: Vec::new(),
        })
    }

    /// Waits until the transport closed.
    pub async fn wait_closed(&self) {
        let mut closed = self.closed.subscribe();
        let _ = closed.wait_for(|c| *c).await;
    }

    /// Sends request `method` and waits for its answer (at most `timeout`); a cancelled wait forgets the request.
    pub async fn call(&self, method: &str, params: Option<Value>, timeout: Duration) -> Result<Value, Error> {
        let (tx, rx) = oneshot::channel();
        let id = {
            let mut state = self.lock();
            if let Some(error) = &state.closed {
                return Err(error.clone());
            }
            state.next_id += 1;
            let id = state.next_id;
            state.pending.insert(id, (method.to_owned(), tx));
            id
        };
        let forget = Forget { shared: self, id };
        let mut message = serde_json::json!({ "id": id, "method": method });
        if let Some(params) = params {
            message["params"] = params;
        }
        self.send(&message)?;
        let answer = tokio::time::timeout(timeout, rx).await;
        drop(forget);
        match answer {
            Err(_) => Err(Error::Timeout { what: format!("request `{method}` ({id})"), after: timeout }),
            Ok(Err(_)) => Err(self.closed_error()),
            Ok(Ok(answer)) => answer,
        }
    }

    /// A subscription to the events no turn takes: all of them, or those of `thread`.
    pub fn subscribe(&self, thread: Option<&str>) -> Arc<Queue> {
        let queue = Queue::new(self.buffer, None);
        let mut state = self.lock();
        match &state.closed {
            Some(error) => queue.push(Err(error.clone()), true),
            None => state.events.push((thread.map(str::to_owned), Arc::downgrade(&queue))),
        }
        queue
    }

    pub fn set_thread_handler(&self, thread: &str, handler: Option<Handler>) {
        let mut state = self.lock();
        match handler {
            Some(handler) => state.thread_handlers.insert(thread.to_owned(), handler),
            None => state.thread_handlers.remove(thread),
        };
    }

    /// Registers a turn about to be started on `thread`: its events are kept from now on.
    pub fn start_turn(&self, thread: &str, queue: &Arc<Queue>) -> Result<(), Error> {
        let mut state = self.lock();
        if let Some(error) = &state.closed {
            return Err(error.clone());
        }
        state.starting.entry(thread.to_owned()).or_default().queues.push(Arc::clone(queue));
        Ok(())
    }

    /// The turn `queue` on `thread` is `turn` (from `turn/start`'s answer): it gets the events held for `turn`, and
    /// those to come.
    pub fn bind_turn(&self, thread: &str, turn: &str, queue: &Arc<Queue>) {
        let mut state = self.lock();
        let state = &mut *state;
        let mut mine = Vec::new();
        if let Some(starting) = state.starting.get_mut(thread) {
            starting.queues.retain(|q| !Arc::ptr_eq(q, queue));
            let (ours, others) = std::mem::take(&mut starting.held).into_iter().partition(|(t, _)| t == turn);
            starting.held = others;
            mine = ours;
        }
        // Queued under the lock, so that the events the reader routes to the turn from now on come after these.
        for (_, event) in mine {
            if event.last {
                finish(state, Some(thread), turn, queue);
            }
            if let Some(waker) = queue.enqueue(event) {
                waker.wake();
            }
        }
        if !queue.is_finished() && !state.finished.iter().any(|t| t == turn) {
            state.by_turn.entry(turn.to_owned()).or_insert_with(|| Arc::clone(queue));
            state.current.insert(thread.to_owned(), Arc::clone(queue));
        }
        settle(state, thread);
    }

    /// Forgets the turn `queue` (its handle is gone, or its start failed): its later events go to the subscribers.
    pub fn forget_turn(&self, thread: &str, queue: &Arc<Queue>) {
        let mut state = self.lock();
        let state = &mut *state;
        if let Some(starting) = state.starting.get_mut(thread) {
            starting.queues.retain(|q| !Arc::ptr_eq(q, queue));
        }
        let mut forgotten = Vec::new();
        state.by_turn.retain(|turn, q| {
            let ours = Arc::ptr_eq(q, queue);
            if ours {
                forgotten.push(turn.clone());
            }
            !ours
        });
        for turn in forgotten {
            remember_finished(state, turn);
        }
        state.current.retain(|_, q| !Arc::ptr_eq(q, queue));
        settle(state, thread);
    }

    pub fn stderr_line(&self, line: String) {
        tracing::debug!(target: "codex_client::stderr", "{line}");
        let mut state = self.lock();
        if state.stderr.len() == STDERR_LINES {
            state.stderr.pop_front();
        }
        state.stderr.push_back(line);
    }

    pub fn stderr(&self) -> Vec<String> {
        self.lock().stderr.iter().cloned().collect()
    }

    /// Ends every wait: pending requests, turns and subscriptions get `error`.
    pub fn close(&self, error: Error) {
        let mut state = self.lock();
        if state.closed.is_some() {
            return;
        }
        tracing::debug!("closing the client: {error}");
        state.closed = Some(error.clone());
        for (_, (_, waiter)) in state.pending.drain() {
            let _ = waiter.send(Err(error.clone()));
        }
        let mut queues: Vec<Arc<Queue>> = state.by_turn.drain().map(|(_, q)| q).collect();
        queues.extend(state.starting.drain().flat_map(|(_, starting)| starting.queues));
        queues.extend(state.current.drain().map(|(_, q)| q));
        queues.extend(state.events.drain(..).filter_map(|(_, q)| q.upgrade()));
        drop(state);
        for queue in queues {
            queue.push(Err(error.clone()), true);
        }
        self.closed.send_replace(true);
    }

    /// Reports a line from the server longer than `max` bytes, which the reader passed over.
    pub fn too_long(&self, length: usize, max: usize) {
        tracing::warn!("the server wrote a line of {length} bytes, over the limit of {max}: left out");
        let message = format!("a line of {length} bytes, over the limit of {max} (`CodexConfig::max_message_size`)");
        self.broadcast(Err(Error::Decode { method: "(line too long)".into(), path: String::new(), message }), None);
    }

    /// Handles one line from the server; the turn consumers to wake go to `wakes`.
    pub fn on_line(self: &Arc<Self>, line: &str, wakes: &mut Wakes) {
        tracing::trace!(target: "codex_client::wire", direction = "in", message = %line);
        if Members::read(line).is_some_and(|members| self.on_notification_members(members, wakes)) {
            return;
        }
        let value: Value = match serde_json::from_str(line) {
            Ok(value) => value,
            Err(e) => {
                tracing::warn!("the server wrote a line that is not JSON: {e}");
                let message = format!("{e}: {}", line.chars().take(200).collect::<String>());
                let error = Error::Decode { method: "(not JSON)".into(), path: String::new(), message };
                return self.broadcast(Err(error), None);
            }
        };
        let method = value.get("method").and_then(Value::as_str).map(str::to_owned);
        let id = value.get("id").cloned();
        match (method, id) {
            (Some(method), Some(id)) => self.on_request(method, id, value),
            (Some(method), None) => self.on_notification(&method, value, line, wakes),
            (None, Some(id)) => self.on_response(&id, value),
            (None, None) => {
                tracing::warn!("the server wrote JSON that is not a JSON-RPC message");
                let message = format!("not a JSON-RPC message: {}", line.chars().take(200).collect::<String>());
                self.broadcast(Err(Error::Decode { method: "(no method)".into(), path: String::new(), message }), None);
            }
        }
    }

    fn on_response(&self, id: &Value, mut message: Value) {
        let waiter = id.as_i64().and_then(|id| self.lock().pending.remove(&id));
        let Some((method, waiter)) = waiter else {
            tracing::warn!("the server answered request {id}, which nobody waits for");
            let error = Error::UnmatchedResponse { id: id.clone(), message: Box::new(message) };
            return self.broadcast(Err(error), None);
        };
        let result = message.get_mut("result").map(Value::take);
        // `"error": null` is no error (some peers write it beside the result).
        let answer = match (result, message.get("error").filter(|error| !error.is_null())) {
            (_, Some(error)) => Err(Error::Rpc {
                method,
                code: error.get("code").and_then(Value::as_i64).unwrap_or_default(),
                message: error.get("message").and_then(Value::as_str).unwrap_or_default().to_owned(),
                data: error.get("data").cloned().map(Box::new),
            }),
            (Some(result), None) => Ok(result),
            (None, None) => {
                Err(Error::Decode { method, path: String::new(), message: "an answer without result".into() })
            }
        };
        let _ = waiter.send(answer);
    }

    /// The turn whose handler answers a server request of `thread` and `turn`: that turn's, else (a turn not known
    /// yet) the first being started on the thread; a request naming no turn (the legacy approvals), the thread's
    /// turn being started or running, whose handler is there for the requests made while it runs. The Python
    /// client's rule too.
    fn request_queue(state: &State, thread: Option<&str>, turn: Option<&str>) -> Option<Arc<Queue>> {
        if let Some(queue) = turn.and_then(|t| state.by_turn.get(t)) {
            return Some(Arc::clone(queue));
        }
        if turn.is_some_and(|t| state.finished.iter().any(|f| f == t)) {
            return None;
        }
        let thread = thread?;
        if let Some(queue) = state.starting.get(thread).and_then(|s| s.queues.first()) {
            return Some(Arc::clone(queue));
        }
        match turn {
            None => state.current.get(thread).cloned(),
            Some(_) => None,
        }
    }

    /// A notification read straight from the line's text, as most are; false for a line that is not one, or that
    /// only the reading through `Value` takes (which also names the JSON path of what does not decode).
    fn on_notification_members(&self, members: Members<'_>, wakes: &mut Wakes) -> bool {
        let (Some(method), None, None) = (members.method.clone(), members.id, members.result) else {
            return false;
        };
        let Ok((thread, turn)) = generated::route(&method).ids_in_text(members.params) else {
            return false;
        };
        let aside = match (aside(&method), members.params) {
            (Some(path), Some(params)) => match member_at(params, &[path]) {
                Ok(member) => member.and_then(|m| Value::deserialize(m).ok()),
                Err(()) => return false,
            },
            _ => None,
        };
        let Some(ServerMessage::Notification(notification)) =
            ServerMessage::from_members(members, &mut PendingRequests::new())
        else {
            return false;
        };
        self.deliver(&method, thread.as_deref(), turn.as_deref(), aside, Ok(notification), wakes);
        true
    }

    fn on_notification(&self, method: &str, value: Value, line: &str, wakes: &mut Wakes) {
        let params = value.get("params");
        let (thread, turn) = generated::route(method).ids(params);
        let aside = aside(method).and_then(|name| params.and_then(|p| p.get(name)).cloned());
        let item = serde_json::from_value::<ServerNotification>(value).or_else(|_| {
            // Decoded again, tracking the path to what failed, only when decoding failed: tracking it on every
            // message cost a fifth of the decoding.
            let value = serde_json::from_str(line).unwrap_or(Value::Null);
            serde_path_to_error::deserialize(value).map_err(|e| Error::decode(method, e))
        });
        if let Err(e) = &item {
            tracing::warn!("{e}");
        }
        self.deliver(method, thread.as_deref(), turn.as_deref(), aside, item, wakes);
    }

    /// Queues a notification for the turn it names, holds it for a turn being started on its thread, or hands it
    /// to the event subscribers (see the routing rule above); `aside` is what a turn's result keeps of it.
    fn deliver(
        &self,
        method: &str,
        thread: Option<&str>,
        turn: Option<&str>,
        aside: Option<Value>,
        item: Item,
        wakes: &mut Wakes,
    ) {
        let Some(turn) = turn else {
            return self.broadcast(item, thread);
        };
        let event = Event { kept: Kept::of(method, aside), item, last: method == "turn/completed" };
        let mut state = self.lock();
        if let Some(queue) = state.by_turn.get(turn).cloned() {
            if event.last {
                finish(&mut state, thread, turn, &queue);
            }
            drop(state);
            wakes.wakers.extend(queue.enqueue(event));
            return;
        }
        let finished = state.finished.iter().any(|f| f == turn);
        if let (Some(starting), false) = (thread.and_then(|t| state.starting.get_mut(t)), finished) {
            starting.held.push((turn.to_owned(), event));
            return;
        }
        publish(&mut state, event.item, thread);
    }

    /// Delivers an event that belongs to no turn being read to the subscribers: those of every event, and those of
    /// its thread.
    fn broadcast(&self, item: Item, thread: Option<&str>) {
        publish(&mut self.lock(), item, thread);
    }

    /// Answers a server request, exactly once: by the turn's, the thread's or the client's handler (within the
    /// handler timeout), or by declining an approval, or "method not found"; a request that does not decode is
    /// answered with an error. A request still being answered when the connection closes is left: nothing can
    /// take its answer.
    fn on_request(self: &Arc<Self>, method: String, id: Value, value: Value) {
        let (thread, turn) = generated::route(&method).ids(value.get("params"));
        let handler = {
            let state = self.lock();
            let queue = Self::request_queue(&state, thread.as_deref(), turn.as_deref());
            queue
                .and_then(|q| q.handler.clone())
                .or_else(|| thread.as_ref().and_then(|t| state.thread_handlers.get(t).cloned()))
                .or_else(|| self.handler.clone())
        };
        let (shared, limit) = (Arc::clone(self), self.handler_timeout);
        let answer = async move {
            let reply = match serde_path_to_error::deserialize::<_, ServerRequest>(value) {
                Err(e) => {
                    let error = Error::decode(&method, e);
                    tracing::warn!("answering a request that does not decode with an error: {error}");
                    error_reply(&id, -32602, error.to_string())
                }
                Ok(request) => match (handler, generated::decline(&method)) {
                    (Some(handler), _) => handler.answer(&id, request, limit).await,
                    (None, Some(decline)) => {
                        tracing::info!("declining `{method}`: the client has no handler");
                        serde_json::json!({ "id": id, "result": decline })
                    }
                    (None, None) => error_reply(&id, -32601, format!("method not found: {method}")),
                },
            };
            if let Err(e) = shared.send(&reply) {
                tracing::debug!("cannot answer `{method}`: {e}");
            }
        };
        let shared = Arc::clone(self);
        let task = async move {
            tokio::select! {
                () = answer => {}
                () = shared.wait_closed() => {}
            }
        };
        tokio::spawn(tracing::Instrument::in_current_span(task));
    }
}

/// The member of a notification's params that a turn's result keeps aside, by method.
fn aside(method: &str) -> Option<&'static str> {
    match method {
        "item/completed" => Some("item"),
        "thread/tokenUsage/updated" => Some("tokenUsage"),
        "turn/completed" => Some("turn"),
        _ => None,
    }
}

/// Ends turn `queue` (its `turn/completed` is being queued): its id is no longer routed to it.
fn finish(state: &mut State, thread: Option<&str>, turn: &str, queue: &Arc<Queue>) {
    state.by_turn.remove(turn);
    remember_finished(state, turn.to_owned());
    if let Some(thread) = thread {
        if state.current.get(thread).is_some_and(|q| Arc::ptr_eq(q, queue)) {
            state.current.remove(thread);
        }
    }
}

fn remember_finished(state: &mut State, turn: String) {
    if state.finished.len() == FINISHED {
        state.finished.pop_front();
    }
    state.finished.push_back(turn);
}

/// Once no turn is being started on `thread`, the events held for one go to the subscribers: each turn started took
/// its own.
fn settle(state: &mut State, thread: &str) {
    if state.starting.get(thread).is_some_and(|s| s.queues.is_empty()) {
        for (_, event) in state.starting.remove(thread).map(|s| s.held).unwrap_or_default() {
            publish(state, event.item, Some(thread));
        }
    }
}

/// Hands `item` to the subscribers of every event and to those of `thread`. Queued under the router's lock, so that
/// they get the events in the order they were routed.
fn publish(state: &mut State, item: Item, thread: Option<&str>) {
    state.events.retain(|(_, q)| q.strong_count() > 0);
    let mut queues = state
        .events
        .iter()
        .filter(|(only, _)| only.is_none() || only.as_deref() == thread)
        .filter_map(|(_, q)| q.upgrade())
        .peekable();
    if queues.peek().is_none() {
        match &item {
            Ok(n) => {
                tracing::debug!("no subscriber for {:?}", serde_json::to_value(n).ok().map(|v| v["method"].clone()))
            }
            Err(e) => tracing::debug!("no subscriber for: {e}"),
        }
    }
    for queue in queues {
        queue.push(item.clone(), false);
    }
}

/// Forgets a pending request when its wait ends (answered, timed out or cancelled).
struct Forget<'a> {
    shared: &'a Shared,
    id: i64,
}

impl Drop for Forget<'_> {
    fn drop(&mut self) {
        self.shared.lock().pending.remove(&self.id);
    }
}
