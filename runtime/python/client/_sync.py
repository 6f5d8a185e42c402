"""`Codex`: the blocking client, with `Thread` and `TurnHandle`.

One reader thread reads every message and routes it:

- a response to the waiting call with its id (any number in flight);
- a notification to the queue of its turn while a `TurnHandle` for it exists (from the moment `turn/start`
  is sent, so events that arrive before its response are kept), else to every `events()` subscription;
- a server request to the handler of its turn, thread or client, on a thread of its own, answered once.

A turn's queue is unbounded but lives only as long as its handle: dropping the handle unsubscribes it. Each
`events()` subscription holds at most `CodexConfig.event_queue_size` events and then drops its oldest,
reporting how many as an `EventsDropped` in order. Nothing blocks the reader, so a slow consumer stalls
nothing else. When the server exits or the connection closes, every waiting call, turn stream and
subscription raises `TransportClosedError`.
"""

from __future__ import annotations

import itertools
import logging
import queue
import threading
import time
import weakref
from collections import deque
from collections.abc import Iterator
from types import TracebackType
from typing import Any, TypeVar

from pydantic import ValidationError
from typing_extensions import Self

from .. import rpc
from ._common import (
    RESPONSES,
    Collector,
    EventsDropped,
    Input,
    Page,
    Preparer,
    TurnResult,
    UndecodableMessage,
    UnmatchedResponse,
    answer_with,
    backoff,
    check_version,
    decode_error,
    dumps,
    is_completed,
    parse_version,
    raw_route,
    route_of,
    text_of,
    to_input,
    undecodable,
)
from ._config import CodexConfig
from ._errors import (
    CodexError,
    RequestTimeoutError,
    ServerOverloadedError,
    TransportClosedError,
    TurnTimeoutError,
    rpc_error,
)
from ._generated import ThreadOpeners, ThreadRequests, TurnRequests
from ._transport import Transport, connect

log = logging.getLogger(__name__.rsplit(".", 1)[0])

R = TypeVar("R")

_CLOSED = object()


class _Waiter:
    def __init__(self, method: str) -> None:
        self.method = method
        self.done = threading.Event()
        self.result: Any = None
        self.error: BaseException | None = None

    def resolve(self, result: Any = None, error: BaseException | None = None) -> None:
        self.result, self.error = result, error
        self.done.set()


class _TurnQueue:
    """A turn's events on their way to its handle: the reader gathers what one read brought in `pending` and
    puts it on `queue` as one list, so a burst costs the handle one wake-up, not one per event."""

    def __init__(self, turn_id: str, handler: rpc.ServerRequestHandler | None) -> None:
        self.turn_id = turn_id
        self.handler = handler
        self.queue: queue.SimpleQueue[list[Any] | BaseException] = queue.SimpleQueue()
        self.pending: list[Any] = []


class _Starting:
    """A `turn/start` in flight: its thread's events with a turn no handle knows yet are kept here, and its
    server requests go to the turn's handler."""

    def __init__(self, thread_id: str, handler: rpc.ServerRequestHandler | None) -> None:
        self.thread_id = thread_id
        self.handler = handler
        self.early: list[tuple[str, Any]] = []


class EventStream:
    """The events no turn handle takes (see the module's doc), from the moment of `Codex.events()`.

    Iterate it (or call `get`); `close()` (or leaving its `with` block) unsubscribes. Holds at most `size`
    events: when full, the oldest is dropped and an `EventsDropped` reports it in its place.
    """

    def __init__(self, codex: Codex, size: int, thread_id: str | None = None) -> None:
        self._codex = codex
        self._size = size
        self.thread_id = thread_id
        """Only this thread's events (`Thread.events()`), or every event (`None`)."""
        self._items: deque[Any] = deque()
        self._dropped = 0
        self._ready = threading.Condition()
        self._error: BaseException | None = None

    def _put(self, item: Any) -> None:
        with self._ready:
            if len(self._items) >= self._size:
                self._items.popleft()
                self._dropped += 1
            self._items.append(item)
            self._ready.notify()

    def _fail(self, error: BaseException) -> None:
        with self._ready:
            self._error = error
            self._ready.notify_all()

    def get(self, timeout: float | None = None) -> Any:
        """The next event; `TimeoutError` after `timeout` s, `TransportClosedError` once the server is gone."""
        with self._ready:
            if not self._ready.wait_for(lambda: self._items or self._dropped or self._error, timeout):
                raise TimeoutError(f"no event within {timeout} s")
            if self._dropped:
                dropped, self._dropped = self._dropped, 0
                return EventsDropped(dropped)
            if self._items:
                return self._items.popleft()
            assert self._error is not None
            raise self._error

    def __iter__(self) -> Iterator[Any]:
        while True:
            try:
                yield self.get()
            except TransportClosedError:
                return

    def close(self) -> None:
        self._codex._unsubscribe(self)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Codex(ThreadOpeners):
    """A connection to `codex app-server`: every client request as a typed method, and thread handles.

    ```python
    with Codex() as codex:
        print(codex.thread_start().run("Describe this project.").final_response)
    ```

    `handler` answers the server's requests (approvals, ...); without one, approvals are declined and other
    requests answered "method not found". Threads and turns can have their own handler.
    """

    def __init__(
        self,
        config: CodexConfig | None = None,
        *,
        handler: rpc.ServerRequestHandler | None = None,
    ) -> None:
        self.config = config or CodexConfig()
        self.handler = handler
        self.initialize_response: Any = None
        """The server's `InitializeResponse`."""
        self.server_version: tuple[int, ...] | None = None
        """The server's version, read from `userAgent`."""
        self._transport: Transport | None = None
        self._reader: threading.Thread | None = None
        self._lock = threading.RLock()
        self._ids = itertools.count(1)
        self._pending: dict[rpc.RequestId, _Waiter] = {}
        self._starting: dict[rpc.RequestId, _Starting] = {}
        self._turns: dict[str, _TurnQueue] = {}
        self._touched: list[_TurnQueue] = []
        self._thread_handlers: dict[str, rpc.ServerRequestHandler] = {}
        self._subscriptions: list[EventStream] = []
        self._answering: set[threading.Thread] = set()
        self._closed: TransportClosedError | None = None
        self._closing = False
        self._preparer: Preparer | None = None

    # Lifecycle

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def start(self) -> None:
        """Starts (or connects to) the server and completes `initialize` / `initialized`."""
        if self._transport is not None:
            return
        self._transport = connect(self.config)
        if self.config.prepare:  # while the server starts
            self._preparer = Preparer()
        self._reader = threading.Thread(target=self._read, name="codex-reader", daemon=True)
        self._reader.start()
        try:
            info: dict[str, Any] = {
                "name": self.config.client_name,
                "version": self.config.client_version,
            }
            if self.config.client_title is not None:
                info["title"] = self.config.client_title
            self.initialize_response = self._call_with_timeout(
                "initialize", {"clientInfo": info}, self.config.connect_timeout
            )
            self._notify("initialized", None)
        except BaseException:
            self.close()
            raise
        self.server_version = parse_version(getattr(self.initialize_response, "user_agent", None))
        check_version(self.server_version)
        if self._preparer is not None:
            self._preparer.wait()

    def close(self) -> None:
        """Closes stdin (or the socket), waits briefly for the server, then terminates and kills it."""
        transport = self._transport
        if transport is None or self._closing:
            return
        self._closing = True
        transport.close()
        if self._reader is not None and self._reader is not threading.current_thread():
            self._reader.join(timeout=5.0)
        self._shut(TransportClosedError("the client was closed"))
        for answering in list(self._answering):
            answering.join(timeout=1.0)
        if self._preparer is not None:
            self._preparer.stop()

    @property
    def closed(self) -> bool:
        return self._closed is not None

    # Sending

    def _write(self, message: dict[str, Any]) -> None:
        if self._closed is not None:
            raise self._closed
        if self._transport is None:
            raise CodexError("the client is not started: use `with Codex() as codex:` or call start()")
        text = dumps(message)
        log.debug("-> %s", text)
        self._transport.send(text)

    def _notify(self, method: str, params: dict[str, Any] | None) -> None:
        self._write(rpc.encode_notification(method, params))

    def _begin(
        self, method: str, params: dict[str, Any] | None, starting: _Starting | None = None
    ) -> tuple[int, _Waiter]:
        request_id = next(self._ids)
        waiter = _Waiter(method)
        with self._lock:
            if self._closed is not None:
                raise self._closed
            self._pending[request_id] = waiter
            if starting is not None:
                self._starting[request_id] = starting
        try:
            self._write(rpc.encode_request(request_id, method, params))
        except BaseException:
            self._forget(request_id)
            raise
        return request_id, waiter

    def _forget(self, request_id: rpc.RequestId) -> None:
        with self._lock:
            self._pending.pop(request_id, None)
            starting = self._starting.pop(request_id, None)
        if starting is not None:
            self._flush_early(starting)

    def _wait(self, request_id: int, waiter: _Waiter, timeout: float | None) -> Any:
        try:
            answered = waiter.done.wait(timeout)
        except BaseException:  # KeyboardInterrupt: nobody waits for the response any more
            self._forget(request_id)
            raise
        if not answered:
            self._forget(request_id)
            raise RequestTimeoutError(waiter.method, timeout or 0.0)
        if waiter.error is not None:
            raise waiter.error
        return waiter.result

    def _request(self, method: str, params: dict[str, Any] | None) -> dict[str, Any]:
        result: dict[str, Any] = self._request_retrying(method, params, None)
        return result

    def _request_retrying(self, method: str, params: dict[str, Any] | None, starting: _Starting | None) -> Any:
        for attempt in itertools.count():
            request_id, waiter = self._begin(method, params, starting)
            try:
                return self._wait(request_id, waiter, self.config.request_timeout)
            except ServerOverloadedError:
                if attempt >= self.config.overload_retries:
                    raise
                delay = backoff(attempt, self.config.overload_backoff)
                log.info(
                    "%s: server overloaded, retry %d in %.2f s",
                    method,
                    attempt + 1,
                    delay,
                )
                time.sleep(delay)
        raise AssertionError("unreachable")

    def _call_with_timeout(self, method: str, params: dict[str, Any], timeout: float) -> Any:
        request_id, waiter = self._begin(method, params)
        result = self._wait(request_id, waiter, timeout)
        return rpc.CLIENT_REQUESTS[method].response_adapter.validate_python(result)

    def _call(
        self,
        method: str,
        result_type: type[R],
        params: Any = rpc.NOT_GIVEN,
        /,
        **fields: Any,
    ) -> R:
        try:
            return super()._call(method, result_type, params, **fields)
        except ValidationError as error:
            raise decode_error(method, error) from error

    # Events

    def events(self, size: int | None = None, *, thread_id: str | None = None) -> EventStream:
        """Subscribes to the events no turn handle takes (see `EventStream`), or to those of one thread."""
        stream = EventStream(self, size or self.config.event_queue_size, thread_id)
        with self._lock:
            if self._closed is not None:
                stream._fail(self._closed)
            self._subscriptions.append(stream)
        return stream

    def _unsubscribe(self, stream: EventStream) -> None:
        with self._lock:
            if stream in self._subscriptions:
                self._subscriptions.remove(stream)

    def _publish(self, event: Any) -> None:
        thread_id = route_of(event)[0] if hasattr(event, "method") else None
        with self._lock:
            subscriptions = list(self._subscriptions)
        for stream in subscriptions:
            if stream.thread_id is None or stream.thread_id == thread_id:
                stream._put(event)

    # Reading

    def _read(self) -> None:
        transport = self._transport
        assert transport is not None
        debug = log.isEnabledFor(logging.DEBUG)
        try:
            while (lines := transport.recv()) is not None:
                for line in lines:
                    if not line.strip():
                        continue
                    if debug:
                        log.debug("<- %s", text_of(line).rstrip("\n"))
                    try:
                        self._dispatch(line)
                    except Exception:  # a bug here must not stop the reader: every waiter would hang
                        log.exception("cannot route %s", text_of(line)[:200])
                self._flush_turns()
            error = transport.closed_error()
        except Exception as failure:  # noqa: BLE001  (the transport itself failed)
            error = TransportClosedError(f"reading from the server failed: {failure!r}")
        log.debug("transport closed: %s", error)
        self._shut(error)

    def _shut(self, error: TransportClosedError) -> None:
        with self._lock:
            self._flush_turns()  # what arrived before the end reaches its turn before the error does
            if self._closed is not None:
                return
            self._closed = error
            waiters = list(self._pending.values())
            self._pending.clear()
            self._starting.clear()
            turns = list(self._turns.values())
            self._turns.clear()
            subscriptions = list(self._subscriptions)
        for waiter in waiters:
            waiter.resolve(error=error)
        for turn in turns:
            turn.queue.put(error)
        for stream in subscriptions:
            stream._fail(error)

    def _dispatch(self, line: str | bytes) -> None:
        try:
            message = rpc.decode(line)
        except (ValueError, TypeError) as error:
            self._undecodable(line, error)
            return
        if isinstance(message, RESPONSES):
            self._response(message)
        elif rpc.is_server_request(message):
            self._server_request(message)
        else:
            self._notification(message)

    def _undecodable(self, line: str | bytes, error: Exception) -> None:
        data, problem = undecodable(line, error)
        method = data.get("method")
        if isinstance(method, str) and "id" in data:
            # A request that does not decode still gets its one answer.
            self._write_quietly(rpc.encode_error(data["id"], rpc.INVALID_PARAMS, str(problem)))
            return
        if "id" in data and "method" not in data:
            with self._lock:
                waiter = self._pending.pop(data["id"], None)
            if waiter is not None:
                waiter.resolve(error=problem)
                return
        if method == "turn/completed":
            _, turn_id = raw_route(data)
            with self._lock:
                turn = self._turns.pop(turn_id, None) if turn_id else None
            if turn is not None:
                self._push(turn, problem)
                return
        self._publish(UndecodableMessage(text_of(line), problem))

    def _write_quietly(self, message: dict[str, Any]) -> None:
        try:
            self._write(message)
        except CodexError as error:
            log.warning("cannot answer the server: %s", error)

    def _response(self, message: rpc.Response | rpc.ErrorResponse) -> None:
        with self._lock:
            waiter = self._pending.pop(message.id, None) if message.id is not None else None
            starting = self._starting.pop(message.id, None) if message.id is not None else None
        if waiter is None:
            log.warning("a response to no pending request: %s", message.id)
            self._publish(UnmatchedResponse(message))
            return
        if isinstance(message, rpc.ErrorResponse):
            error = message.error
            data = error.data if "data" in error.model_fields_set else rpc.NOT_GIVEN
            if starting is not None:
                self._flush_early(starting)
            waiter.resolve(error=rpc_error(error.code, error.message, data, waiter.method))
            return
        if starting is not None:
            turn = message.result.get("turn") if isinstance(message.result, dict) else None
            turn_id = turn.get("id") if isinstance(turn, dict) else None
            queue_ = _TurnQueue(turn_id, starting.handler) if isinstance(turn_id, str) else None
            if queue_ is not None:
                with self._lock:
                    self._turns[queue_.turn_id] = queue_
                    for early_turn, early in starting.early:
                        if early_turn == queue_.turn_id:
                            self._push(queue_, early)
                    starting.early = [(t, m) for t, m in starting.early if t != queue_.turn_id]
                waiter.resolve(result=(message.result, queue_))
            else:
                waiter.resolve(result=(message.result, None))
            self._flush_early(starting)
            return
        waiter.resolve(result=message.result)

    def _flush_early(self, starting: _Starting) -> None:
        """Events kept for a `turn/start` that belong to no turn it started: to the subscriptions."""
        with self._lock:
            early, starting.early = starting.early, []
        for turn_id, message in early:
            self._deliver(turn_id, message)
        self._flush_turns()

    def _notification(self, message: Any) -> None:
        thread_id, turn_id = route_of(message)
        if turn_id is not None:
            with self._lock:
                turn = self._turns.get(turn_id)
                if turn is not None:  # the common case, in one go: the event of a turn with a handle
                    if message.method == "turn/completed":
                        del self._turns[turn_id]
                    self._push(turn, message)
                    return
                if thread_id is not None:
                    starting = next(
                        (s for s in self._starting.values() if s.thread_id == thread_id),
                        None,
                    )
                    if starting is not None:
                        starting.early.append((turn_id, message))
                        return
        self._deliver(turn_id, message)

    def _deliver(self, turn_id: str | None, message: Any) -> None:
        with self._lock:
            turn = self._turns.get(turn_id) if turn_id is not None else None
            if turn is not None:
                if is_completed(message):
                    del self._turns[turn.turn_id]
                self._push(turn, message)
                return
        self._publish(message)

    def _push(self, turn: _TurnQueue, item: Any) -> None:
        """Adds an event (or the error that ends the stream) to what `_flush_turns` hands the turn next."""
        with self._lock:
            if not turn.pending:
                self._touched.append(turn)
            turn.pending.append(item)

    def _flush_turns(self) -> None:
        """Hands each turn the events gathered for it since the last call, as one list."""
        # Under the lock: a caller's thread may flush too (a forgotten `turn/start`), and batches must reach a
        # turn's queue in the order they were gathered.
        with self._lock:
            touched, self._touched = self._touched, []
            for turn in touched:
                batch, turn.pending = turn.pending, []
                turn.queue.put(batch)

    def _server_request(self, request: Any) -> None:
        thread_id, turn_id = route_of(request)
        with self._lock:
            turn = self._turns.get(turn_id) if turn_id is not None else None
            handler = turn.handler if turn is not None else None
            if turn is None and thread_id is not None:
                # A request of a turn whose `turn/start` has not been answered yet.
                starting = next((s for s in self._starting.values() if s.thread_id == thread_id), None)
                handler = starting.handler if starting is not None else None
            handler = handler or self._thread_handlers.get(thread_id or "")
        handler = handler or self.handler
        answering = threading.Thread(
            target=self._answer,
            args=(handler, request),
            name=f"codex-answer-{request.id}",
            daemon=True,
        )
        with self._lock:
            self._answering.add(answering)
        answering.start()

    def _answer(self, handler: rpc.ServerRequestHandler | None, request: Any) -> None:
        try:
            envelope, error = None, None
            if handler is not None:
                try:
                    envelope = handler.handle(request)
                except Exception as failure:  # noqa: BLE001  (any failure is answered)
                    log.warning("the handler of %s raised %r", request.method, failure)
                    error = failure
            self._write_quietly(answer_with(request, envelope, error))
        finally:
            with self._lock:
                self._answering.discard(threading.current_thread())

    # Threads and turns

    def _open(self, response: Any, handler: rpc.ServerRequestHandler | None) -> Thread:
        return Thread(self, response.thread, response, handler)

    def thread_list(self, **params: Any) -> Page[Thread]:  # type: ignore[override]
        """The stored threads (`thread/list`): one page of handles."""
        response: Any = self._call("thread/list", object, **params)
        return Page((Thread(self, info, None, None) for info in response.data), response)

    def _start_turn(
        self,
        thread: Thread,
        input: Input,
        handler: rpc.ServerRequestHandler | None,
        params: dict[str, Any],
    ) -> TurnHandle:
        spec = rpc.CLIENT_REQUESTS["turn/start"]
        wire = rpc._wire_params(
            spec,
            rpc.NOT_GIVEN,
            {"thread_id": thread.id, "input": to_input(input), **params},
        )
        starting = _Starting(thread.id, handler or thread.handler)
        result, turn_queue = self._request_retrying("turn/start", wire, starting)
        try:
            response: Any = spec.response_adapter.validate_python(result)
        except ValidationError as error:
            if turn_queue is not None:
                self._turns.pop(turn_queue.turn_id, None)
            raise decode_error("turn/start", error) from error
        if turn_queue is None:
            turn_queue = _TurnQueue(response.turn.id, starting.handler)
        return TurnHandle(self, thread.id, response.turn, turn_queue)


class Thread(ThreadRequests):
    """A thread: `run` and `turn` start turns; the thread's other requests are methods with its id filled in."""

    def __init__(
        self,
        codex: Codex,
        info: Any,
        response: Any,
        handler: rpc.ServerRequestHandler | None,
    ) -> None:
        self._codex = codex
        self.codex = codex
        self.info = info
        """The `Thread` the server returned."""
        self.response = response
        """The whole response that returned it (`thread/start`, `thread/resume`, ...), if any."""
        self.id: str = info.id
        self.handler = handler
        if handler is not None:
            # The thread's handler answers for it as long as this handle lives.
            codex._thread_handlers[self.id] = handler
            weakref.finalize(self, codex._thread_handlers.pop, self.id, None)

    def turn(
        self,
        input: Input,
        *,
        handler: rpc.ServerRequestHandler | None = None,
        **params: Any,
    ) -> TurnHandle:
        """Starts a turn (`turn/start`; more params as keyword arguments) and returns its handle at once."""
        return self.codex._start_turn(self, input, handler, params)

    def events(self, size: int | None = None) -> EventStream:
        """Subscribes to this thread's events that no turn handle takes (status, name, token usage, ...)."""
        return self.codex.events(size, thread_id=self.id)

    def run(
        self,
        input: Input,
        *,
        handler: rpc.ServerRequestHandler | None = None,
        **params: Any,
    ) -> TurnResult:
        """Runs a turn to its end: `TurnFailedError` if it fails."""
        return self.turn(input, handler=handler, **params).run()

    def __repr__(self) -> str:
        return f"Thread({self.id!r})"


class TurnHandle(TurnRequests):
    """A started turn: `stream()` its events or `run()` it to the end; `interrupt()`, `steer()`."""

    def __init__(self, codex: Codex, thread_id: str, turn: Any, turn_queue: _TurnQueue) -> None:
        self._codex = codex
        self.codex = codex
        self.thread_id = thread_id
        self.id: str = turn.id
        self.turn = turn
        """The turn as `turn/start` returned it."""
        self._queue = turn_queue
        self._buffer: deque[Any] = deque()
        self._collector = Collector()
        self._done = False
        weakref.finalize(self, codex._turns.pop, self.id, None)

    def stream(self) -> Iterator[Any]:
        """The turn's notifications (typed messages, `.method` and `.params`), up to `turn/completed`."""
        timeout = self.codex.config.turn_timeout
        buffer = self._buffer
        while not self._done:
            if not buffer:
                try:
                    batch = self._queue.queue.get(timeout=timeout)
                except queue.Empty:
                    raise TurnTimeoutError(self.id, timeout or 0.0) from None
                if isinstance(batch, BaseException):
                    raise batch
                buffer.extend(batch)
            item = buffer.popleft()
            if isinstance(item, BaseException):
                raise item
            if self._collector.add(item):
                self._done = True
            yield item

    def run(self) -> TurnResult:
        """Waits for the end of the turn: its result, or `TurnFailedError`."""
        for _ in self.stream():
            pass
        return self._collector.result()

    def interrupt(self) -> Any:
        """Asks the server to stop the turn (`turn/interrupt`); the stream then ends `interrupted`."""
        return self.codex._call("turn/interrupt", object, thread_id=self.thread_id, turn_id=self.id)

    def steer(self, input: Input) -> Any:
        """Adds input to the running turn (`turn/steer`)."""
        return self.codex._call(
            "turn/steer",
            object,
            thread_id=self.thread_id,
            expected_turn_id=self.id,
            input=to_input(input),
        )

    def __repr__(self) -> str:
        return f"TurnHandle({self.id!r}, thread={self.thread_id!r})"
