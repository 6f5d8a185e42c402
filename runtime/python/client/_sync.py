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
from collections.abc import Iterator
from concurrent import futures
from types import TracebackType
from typing import Any, TypeVar

from pydantic import ValidationError
from typing_extensions import Self

from .. import rpc
from ._common import (
    Batch,
    Input,
    Page,
    Preparer,
    Router,
    Starting,
    Subscription,
    ThreadBase,
    TurnBase,
    TurnQueue,
    TurnResult,
    answer_with,
    check_version,
    client_info,
    decode_error,
    dumps,
    handler_timed_out,
    parse_version,
    retry_delay,
    to_input,
    turn_start_params,
)
from ._config import CodexConfig
from ._errors import CodexError, RequestTimeoutError, ServerOverloadedError, TransportClosedError, TurnTimeoutError
from ._generated import ThreadOpeners, ThreadRequests, TurnRequests
from ._transport import Transport, connect

log = logging.getLogger(__name__.rsplit(".", 1)[0])

R = TypeVar("R")

_Queue = queue.SimpleQueue[Batch]
"""A turn's queue: the reader puts, the turn's consumer blocks on `get`."""


class EventStream(Subscription):
    """The events no turn handle takes (see the module's doc), from the moment of `Codex.events()`.

    Iterate it (or call `get`); `close()` (or leaving its `with` block) unsubscribes. Holds at most `size`
    events: when full, the oldest is dropped and an `EventsDropped` reports it in its place.
    """

    def __init__(self, codex: Codex, size: int, thread_id: str | None = None) -> None:
        super().__init__(codex, size, thread_id)
        self._ready = threading.Condition()

    def _put(self, item: Any) -> None:
        with self._ready:
            self._add(item)
            self._ready.notify()

    def _fail(self, error: BaseException) -> None:
        with self._ready:
            self._error = error
            self._ready.notify_all()

    def get(self, timeout: float | None = None) -> Any:
        """The next event; `TimeoutError` after `timeout` s, `TransportClosedError` once the server is gone."""
        with self._ready:
            if not self._ready.wait_for(self._has_next, timeout):
                raise TimeoutError(f"no event within {timeout} s")
            return self._take()

    def __iter__(self) -> Iterator[Any]:
        while True:
            try:
                yield self.get()
            except TransportClosedError:
                return


class Codex(ThreadOpeners, Router[rpc.ServerRequestHandler, _Queue]):
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
        # Reentrant: routing that holds it calls helpers that take it too.
        Router.__init__(self, handler, threading.RLock(), _Queue)
        self.config = config or CodexConfig()
        self.initialize_response: Any = None
        """The server's `InitializeResponse`."""
        self.server_version: tuple[int, ...] | None = None
        """The server's version, read from `userAgent`."""
        self._transport: Transport | None = None
        self._reader: threading.Thread | None = None
        self._answering: set[threading.Thread] = set()
        self._timers: set[threading.Timer] = set()
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
            self.initialize_response = self._call_with_timeout(
                "initialize", {"clientInfo": client_info(self.config)}, self.config.connect_timeout
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
        with self._lock:
            timers, self._timers = self._timers, set()
        for timer in timers:
            timer.cancel()  # nothing can take an answer any more
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

    def _send_request(
        self,
        method: str,
        params: dict[str, Any] | None,
        timeout: float | None,
        starting: Starting[rpc.ServerRequestHandler] | None = None,
    ) -> Any:
        """Sends request `method` and waits for its result (raising its error)."""
        response: futures.Future[Any] = futures.Future()
        request_id = self._track(method, response, starting)
        try:
            self._write(rpc.encode_request(request_id, method, params))
        except BaseException:
            self._forget(request_id)
            raise
        try:
            error = response.exception(timeout)
        except futures.TimeoutError:
            # Given up unless the response came just as the wait ended: then it is taken, so that a turn it
            # started is not left to nobody.
            if response.cancel():
                self._forget(request_id)
                raise RequestTimeoutError(method, timeout or 0.0) from None
            error = response.exception()
        except BaseException:  # KeyboardInterrupt: nobody waits for the response any more
            if not response.cancel() and starting is not None and response.exception() is None:
                self._drop_turn(response.result()[1])  # the turn its response started has no handle
            self._forget(request_id)
            raise
        if error is not None:
            raise error
        return response.result()

    def _request(self, method: str, params: dict[str, Any] | None) -> dict[str, Any]:
        result: dict[str, Any] = self._request_retrying(method, params, None)
        return result

    def _request_retrying(
        self,
        method: str,
        params: dict[str, Any] | None,
        starting: Starting[rpc.ServerRequestHandler] | None,
    ) -> Any:
        for attempt in itertools.count():
            try:
                return self._send_request(method, params, self.config.request_timeout, starting)
            except ServerOverloadedError:
                delay = retry_delay(self.config, method, attempt)
                if delay is None:
                    raise
                time.sleep(delay)
        raise AssertionError("unreachable")

    def _call_with_timeout(self, method: str, params: dict[str, Any], timeout: float) -> Any:
        result = self._send_request(method, params, timeout)
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
        self._subscribe(stream)
        return stream

    # Reading

    def _read(self) -> None:
        transport = self._transport
        assert transport is not None
        debug = log.isEnabledFor(logging.DEBUG)
        try:
            while (lines := transport.recv()) is not None:
                self._receive(lines, debug)
            error = transport.closed_error()
        except Exception as failure:  # noqa: BLE001  (the transport itself failed)
            error = TransportClosedError(f"reading from the server failed: {failure!r}")
        log.debug("transport closed: %s", error)
        self._shut(error)

    def _reply(self, message: dict[str, Any]) -> None:
        try:
            self._write(message)
        except CodexError as error:
            log.warning("cannot answer the server: %s", error)

    def _answer_request(self, handler: rpc.ServerRequestHandler | None, request: Any) -> None:
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
        # Taken by whichever answers first: the handler, or its timer once `handler_timeout` is over (a sync
        # handler cannot be stopped: past it, it runs on and its answer is dropped).
        answered = threading.Lock()
        timeout = self.config.handler_timeout
        timer: threading.Timer | None = None
        if handler is not None and timeout is not None:

            def expire() -> None:
                if answered.acquire(blocking=False):
                    self._reply(answer_with(request, None, handler_timed_out(request, timeout)))

            timer = threading.Timer(timeout, expire)
            timer.name = f"codex-handler-timer-{request.id}"
            timer.daemon = True
            with self._lock:
                self._timers.add(timer)
            timer.start()
        try:
            envelope, error = None, None
            if handler is not None:
                try:
                    envelope = handler.handle(request)
                except Exception as failure:  # noqa: BLE001  (any failure is answered)
                    log.warning("the handler of %s raised %r", request.method, failure)
                    error = failure
            if answered.acquire(blocking=False):
                self._reply(answer_with(request, envelope, error))
            else:
                log.info("the handler of %s answered after its timeout: the answer is dropped", request.method)
        finally:
            with self._lock:
                self._answering.discard(threading.current_thread())
                if timer is not None:
                    timer.cancel()
                    self._timers.discard(timer)

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
        starting = Starting(thread.id, handler or thread.handler)
        answer = self._request_retrying("turn/start", turn_start_params(thread.id, input, params), starting)
        response, turn_queue = self._started_turn(starting, answer)
        return TurnHandle(self, thread.id, response.turn, turn_queue)


class Thread(ThreadRequests, ThreadBase[rpc.ServerRequestHandler]):
    """A thread: `run` and `turn` start turns; the thread's other requests are methods with its id filled in."""

    def __init__(
        self,
        codex: Codex,
        info: Any,
        response: Any,
        handler: rpc.ServerRequestHandler | None,
    ) -> None:
        super().__init__(codex, info, response, handler)
        self._codex = codex
        self.codex = codex

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


class TurnHandle(TurnRequests, TurnBase[_Queue]):
    """A started turn: `stream()` its events or `run()` it to the end; `interrupt()`, `steer()`."""

    def __init__(
        self, codex: Codex, thread_id: str, turn: Any, turn_queue: TurnQueue[rpc.ServerRequestHandler, _Queue]
    ) -> None:
        super().__init__(codex, thread_id, turn, turn_queue)
        self._codex = codex
        self.codex = codex

    def stream(self) -> Iterator[Any]:
        """The turn's notifications (typed messages, `.method` and `.params`), up to `turn/completed`."""
        timeout = self.codex.config.turn_timeout
        while not self._done:
            if not self._buffer:
                try:
                    batch = self._queue.queue.get(timeout=timeout)
                except queue.Empty:
                    raise TurnTimeoutError(self.id, timeout or 0.0) from None
                self._refill(batch)
            yield self._next()

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
