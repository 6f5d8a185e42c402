"""`AsyncCodex`: the asyncio client, with `AsyncThread` and `AsyncTurnHandle`.

The same routing as `Codex` (see `_sync`), with asyncio's own I/O: one reader task, futures for responses,
a task per server request. Cancelling a task that awaits a response forgets the request.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import weakref
from collections import deque
from collections.abc import AsyncIterator
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
from ._generated import AsyncThreadOpeners, AsyncThreadRequests, AsyncTurnRequests
from ._transport import AsyncTransport, connect_async

log = logging.getLogger(__name__.rsplit(".", 1)[0])

R = TypeVar("R")


class _TurnQueue:
    """A turn's events on their way to its handle: the reader gathers what one read brought in `pending` and
    puts it on `queue` as one list, so a burst costs the handle one wake-up, not one per event."""

    def __init__(self, turn_id: str, handler: rpc.AsyncServerRequestHandler | None) -> None:
        self.turn_id = turn_id
        self.handler = handler
        self.queue: asyncio.Queue[list[Any] | BaseException] = asyncio.Queue()
        self.pending: list[Any] = []


class _Starting:
    def __init__(self, thread_id: str, handler: rpc.AsyncServerRequestHandler | None) -> None:
        self.thread_id = thread_id
        self.handler = handler
        self.early: list[tuple[str, Any]] = []


class AsyncEventStream:
    """`EventStream` for `AsyncCodex`: `async for event in codex.events()`."""

    def __init__(self, codex: AsyncCodex, size: int, thread_id: str | None = None) -> None:
        self._codex = codex
        self._size = size
        self.thread_id = thread_id
        """Only this thread's events (`Thread.events()`), or every event (`None`)."""
        self._items: deque[Any] = deque()
        self._dropped = 0
        self._ready = asyncio.Event()
        self._error: BaseException | None = None

    def _put(self, item: Any) -> None:
        if len(self._items) >= self._size:
            self._items.popleft()
            self._dropped += 1
        self._items.append(item)
        self._ready.set()

    def _fail(self, error: BaseException) -> None:
        self._error = error
        self._ready.set()

    async def get(self, timeout: float | None = None) -> Any:
        """The next event; `TimeoutError` after `timeout` s, `TransportClosedError` once the server is gone."""
        while not (self._items or self._dropped or self._error):
            self._ready.clear()
            await asyncio.wait_for(self._ready.wait(), timeout)
        if self._dropped:
            dropped, self._dropped = self._dropped, 0
            return EventsDropped(dropped)
        if self._items:
            return self._items.popleft()
        assert self._error is not None
        raise self._error

    def __aiter__(self) -> AsyncIterator[Any]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Any]:
        while True:
            try:
                yield await self.get()
            except TransportClosedError:
                return

    def close(self) -> None:
        self._codex._unsubscribe(self)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncCodex(AsyncThreadOpeners):
    """`Codex` for asyncio: `async with AsyncCodex() as codex:`; the handshake runs on entry or first use."""

    def __init__(
        self,
        config: CodexConfig | None = None,
        *,
        handler: rpc.AsyncServerRequestHandler | None = None,
    ) -> None:
        self.config = config or CodexConfig()
        self.handler = handler
        self.initialize_response: Any = None
        self.server_version: tuple[int, ...] | None = None
        self._transport: AsyncTransport | None = None
        self._reader: asyncio.Task[None] | None = None
        self._starting_lock: asyncio.Lock | None = None
        self._started = False
        self._ids = itertools.count(1)
        self._pending: dict[rpc.RequestId, tuple[str, asyncio.Future[Any]]] = {}
        self._starting: dict[rpc.RequestId, _Starting] = {}
        self._turns: dict[str, _TurnQueue] = {}
        self._touched: list[_TurnQueue] = []
        self._thread_handlers: dict[str, rpc.AsyncServerRequestHandler] = {}
        self._subscriptions: list[AsyncEventStream] = []
        self._answering: set[asyncio.Task[None]] = set()
        self._closed: TransportClosedError | None = None
        self._closing = False
        self._preparer: Preparer | None = None

    # Lifecycle

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def start(self) -> None:
        """Starts (or connects to) the server and completes `initialize` / `initialized` (once)."""
        if self._starting_lock is None:
            self._starting_lock = asyncio.Lock()
        async with self._starting_lock:
            if self._started:
                return
            if self._closed is not None:
                raise self._closed
            self._transport = await asyncio.wait_for(connect_async(self.config), self.config.connect_timeout)
            if self.config.prepare:  # while the server starts
                self._preparer = Preparer()
            self._reader = asyncio.get_running_loop().create_task(self._read(), name="codex-reader")
            try:
                info: dict[str, Any] = {
                    "name": self.config.client_name,
                    "version": self.config.client_version,
                }
                if self.config.client_title is not None:
                    info["title"] = self.config.client_title
                result = await self._send_request(
                    "initialize",
                    {"clientInfo": info},
                    timeout=self.config.connect_timeout,
                )
                spec = rpc.CLIENT_REQUESTS["initialize"]
                self.initialize_response = spec.response_adapter.validate_python(result)
                await self._write(rpc.encode_notification("initialized"))
                if self._preparer is not None:
                    await self._preparer.wait_async()
            except BaseException:
                await self.close()
                raise
            self._started = True
        self.server_version = parse_version(getattr(self.initialize_response, "user_agent", None))
        check_version(self.server_version)

    async def close(self) -> None:
        """Closes stdin (or the socket), waits briefly for the server, then terminates and kills it."""
        transport = self._transport
        if transport is None or self._closing:
            return
        self._closing = True
        await transport.close()
        if self._reader is not None and self._reader is not asyncio.current_task():
            try:
                await asyncio.wait_for(self._reader, 5.0)
            except (asyncio.TimeoutError, asyncio.CancelledError):
                self._reader.cancel()
        self._shut(TransportClosedError("the client was closed"))
        for task in list(self._answering):
            task.cancel()
        if self._answering:
            await asyncio.wait(list(self._answering), timeout=1.0)
        if self._preparer is not None:
            await self._preparer.stop_async()

    @property
    def closed(self) -> bool:
        return self._closed is not None

    # Sending

    async def _write(self, message: dict[str, Any]) -> None:
        if self._closed is not None:
            raise self._closed
        if self._transport is None:
            raise CodexError("the client is not started")
        text = dumps(message)
        log.debug("-> %s", text)
        await self._transport.send(text)

    async def _notify(self, method: str, params: dict[str, Any] | None) -> None:
        await self.start()
        await self._write(rpc.encode_notification(method, params))

    def _begin(
        self, method: str, params: dict[str, Any] | None, starting: _Starting | None = None
    ) -> tuple[int, str, asyncio.Future[Any]]:
        if self._closed is not None:
            raise self._closed
        request_id = next(self._ids)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = (method, future)
        if starting is not None:
            self._starting[request_id] = starting
        return request_id, method, future

    def _forget(self, request_id: rpc.RequestId) -> None:
        self._pending.pop(request_id, None)
        starting = self._starting.pop(request_id, None)
        if starting is not None:
            self._flush_early(starting)

    async def _send_request(
        self,
        method: str,
        params: dict[str, Any] | None,
        starting: _Starting | None = None,
        *,
        timeout: Any = ...,
    ) -> Any:
        timeout = self.config.request_timeout if timeout is ... else timeout
        for attempt in itertools.count():
            request_id, method, future = self._begin(method, params, starting)
            try:
                try:
                    await self._write(rpc.encode_request(request_id, method, params))
                    return await asyncio.wait_for(future, timeout)
                except asyncio.TimeoutError:
                    raise RequestTimeoutError(method, timeout or 0.0) from None
                finally:
                    self._forget(request_id)
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
                await asyncio.sleep(delay)
        raise AssertionError("unreachable")

    async def _request(self, method: str, params: dict[str, Any] | None) -> dict[str, Any]:
        await self.start()
        result: dict[str, Any] = await self._send_request(method, params)
        return result

    async def _call(
        self,
        method: str,
        result_type: type[R],
        params: Any = rpc.NOT_GIVEN,
        /,
        **fields: Any,
    ) -> R:
        try:
            return await super()._call(method, result_type, params, **fields)
        except ValidationError as error:
            raise decode_error(method, error) from error

    # Events

    def events(self, size: int | None = None, *, thread_id: str | None = None) -> AsyncEventStream:
        """Subscribes to the events no turn handle takes (see `EventStream`), or to those of one thread."""
        stream = AsyncEventStream(self, size or self.config.event_queue_size, thread_id)
        if self._closed is not None:
            stream._fail(self._closed)
        self._subscriptions.append(stream)
        return stream

    def _unsubscribe(self, stream: AsyncEventStream) -> None:
        if stream in self._subscriptions:
            self._subscriptions.remove(stream)

    def _publish(self, event: Any) -> None:
        thread_id = route_of(event)[0] if hasattr(event, "method") else None
        for stream in list(self._subscriptions):
            if stream.thread_id is None or stream.thread_id == thread_id:
                stream._put(event)

    # Reading

    async def _read(self) -> None:
        transport = self._transport
        assert transport is not None
        debug = log.isEnabledFor(logging.DEBUG)
        try:
            while (lines := await transport.recv()) is not None:
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
            error = await transport.closed_error()
        except asyncio.CancelledError:
            self._shut(TransportClosedError("the client was closed"))
            raise
        except Exception as failure:  # noqa: BLE001  (the transport itself failed)
            error = TransportClosedError(f"reading from the server failed: {failure!r}")
        log.debug("transport closed: %s", error)
        self._shut(error)

    def _shut(self, error: TransportClosedError) -> None:
        self._flush_turns()
        if self._closed is not None:
            return
        self._closed = error
        for _, future in self._pending.values():
            if not future.done():
                future.set_exception(error)
        self._pending.clear()
        self._starting.clear()
        for turn in self._turns.values():
            turn.queue.put_nowait(error)
        self._turns.clear()
        for stream in self._subscriptions:
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
            self._answer_later(rpc.encode_error(data["id"], rpc.INVALID_PARAMS, str(problem)))
            return
        if "id" in data and "method" not in data:
            pending = self._pending.pop(data["id"], None)
            if pending is not None:
                if not pending[1].done():
                    pending[1].set_exception(problem)
                return
        if method == "turn/completed":
            _, turn_id = raw_route(data)
            turn = self._turns.pop(turn_id, None) if turn_id else None
            if turn is not None:
                self._push(turn, problem)
                return
        self._publish(UndecodableMessage(text_of(line), problem))

    def _answer_later(self, message: dict[str, Any]) -> None:
        self._spawn(self._write_quietly(message))

    def _spawn(self, coroutine: Any) -> None:
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(coroutine)
        self._answering.add(task)
        task.add_done_callback(self._answering.discard)

    async def _write_quietly(self, message: dict[str, Any]) -> None:
        try:
            await self._write(message)
        except CodexError as error:
            log.warning("cannot answer the server: %s", error)

    def _response(self, message: rpc.Response | rpc.ErrorResponse) -> None:
        pending = self._pending.pop(message.id, None) if message.id is not None else None
        starting = self._starting.pop(message.id, None) if message.id is not None else None
        if pending is None:
            log.warning("a response to no pending request: %s", message.id)
            self._publish(UnmatchedResponse(message))
            return
        method, future = pending
        if isinstance(message, rpc.ErrorResponse):
            error = message.error
            data = error.data if "data" in error.model_fields_set else rpc.NOT_GIVEN
            if not future.done():
                future.set_exception(rpc_error(error.code, error.message, data, method))
        elif starting is not None:
            turn = message.result.get("turn") if isinstance(message.result, dict) else None
            turn_id = turn.get("id") if isinstance(turn, dict) else None
            turn_queue = _TurnQueue(turn_id, starting.handler) if isinstance(turn_id, str) else None
            if turn_queue is not None:
                self._turns[turn_queue.turn_id] = turn_queue
                for early_turn, early in starting.early:
                    if early_turn == turn_queue.turn_id:
                        self._push(turn_queue, early)
                starting.early = [(t, m) for t, m in starting.early if t != turn_queue.turn_id]
            if not future.done():
                future.set_result((message.result, turn_queue))
            elif turn_queue is not None:
                self._turns.pop(turn_queue.turn_id, None)  # the caller is gone: nobody reads the turn
        elif not future.done():
            future.set_result(message.result)
        if starting is not None:
            self._flush_early(starting)

    def _flush_early(self, starting: _Starting) -> None:
        early, starting.early = starting.early, []
        for turn_id, message in early:
            self._deliver(turn_id, message)
        self._flush_turns()

    def _notification(self, message: Any) -> None:
        thread_id, turn_id = route_of(message)
        turn = self._turns.get(turn_id) if turn_id is not None else None
        if turn is not None:  # the common case, in one go: the event of a turn with a handle
            if message.method == "turn/completed":
                del self._turns[turn.turn_id]
            self._push(turn, message)
            return
        if turn_id is not None and thread_id is not None:
            starting = next((s for s in self._starting.values() if s.thread_id == thread_id), None)
            if starting is not None:
                starting.early.append((turn_id, message))
                return
        self._deliver(turn_id, message)

    def _deliver(self, turn_id: str | None, message: Any) -> None:
        turn = self._turns.get(turn_id) if turn_id is not None else None
        if turn is None:
            self._publish(message)
            return
        if is_completed(message):
            del self._turns[turn.turn_id]
        self._push(turn, message)

    def _push(self, turn: _TurnQueue, item: Any) -> None:
        """Adds an event (or the error that ends the stream) to what `_flush_turns` hands the turn next."""
        if not turn.pending:
            self._touched.append(turn)
        turn.pending.append(item)

    def _flush_turns(self) -> None:
        """Hands each turn the events gathered for it since the last call, as one list."""
        touched, self._touched = self._touched, []
        for turn in touched:
            batch, turn.pending = turn.pending, []
            turn.queue.put_nowait(batch)

    def _server_request(self, request: Any) -> None:
        thread_id, turn_id = route_of(request)
        turn = self._turns.get(turn_id) if turn_id is not None else None
        handler = turn.handler if turn is not None else None
        if turn is None and thread_id is not None:
            # A request of a turn whose `turn/start` has not been answered yet.
            starting = next((s for s in self._starting.values() if s.thread_id == thread_id), None)
            handler = starting.handler if starting is not None else None
        handler = handler or self._thread_handlers.get(thread_id or "")
        self._spawn(self._answer(handler or self.handler, request))

    async def _answer(self, handler: rpc.AsyncServerRequestHandler | None, request: Any) -> None:
        envelope, error = None, None
        if handler is not None:
            try:
                envelope = await handler.handle(request)
            except asyncio.CancelledError:
                raise
            except Exception as failure:  # noqa: BLE001  (any failure is answered)
                log.warning("the handler of %s raised %r", request.method, failure)
                error = failure
        await self._write_quietly(answer_with(request, envelope, error))

    # Threads and turns

    def _open(self, response: Any, handler: rpc.AsyncServerRequestHandler | None) -> AsyncThread:
        return AsyncThread(self, response.thread, response, handler)

    async def thread_list(self, **params: Any) -> Page[AsyncThread]:  # type: ignore[override]
        """The stored threads (`thread/list`): one page of handles."""
        response: Any = await self._call("thread/list", object, **params)
        return Page((AsyncThread(self, info, None, None) for info in response.data), response)

    async def _start_turn(
        self,
        thread: AsyncThread,
        input: Input,
        handler: rpc.AsyncServerRequestHandler | None,
        params: dict[str, Any],
    ) -> AsyncTurnHandle:
        await self.start()
        spec = rpc.CLIENT_REQUESTS["turn/start"]
        wire = rpc._wire_params(
            spec,
            rpc.NOT_GIVEN,
            {"thread_id": thread.id, "input": to_input(input), **params},
        )
        starting = _Starting(thread.id, handler or thread.handler)
        result, turn_queue = await self._send_request("turn/start", wire, starting)
        try:
            response: Any = spec.response_adapter.validate_python(result)
        except ValidationError as error:
            if turn_queue is not None:
                self._turns.pop(turn_queue.turn_id, None)
            raise decode_error("turn/start", error) from error
        if turn_queue is None:
            turn_queue = _TurnQueue(response.turn.id, starting.handler)
        return AsyncTurnHandle(self, thread.id, response.turn, turn_queue)


class AsyncThread(AsyncThreadRequests):
    """`Thread` for `AsyncCodex`."""

    def __init__(
        self,
        codex: AsyncCodex,
        info: Any,
        response: Any,
        handler: rpc.AsyncServerRequestHandler | None,
    ) -> None:
        self._codex = codex
        self.codex = codex
        self.info = info
        self.response = response
        self.id: str = info.id
        self.handler = handler
        if handler is not None:
            # The thread's handler answers for it as long as this handle lives.
            codex._thread_handlers[self.id] = handler
            weakref.finalize(self, codex._thread_handlers.pop, self.id, None)

    async def turn(
        self,
        input: Input,
        *,
        handler: rpc.AsyncServerRequestHandler | None = None,
        **params: Any,
    ) -> AsyncTurnHandle:
        """Starts a turn (`turn/start`) and returns its handle once the server accepted it."""
        return await self.codex._start_turn(self, input, handler, params)

    def events(self, size: int | None = None) -> AsyncEventStream:
        """Subscribes to this thread's events that no turn handle takes (status, name, token usage, ...)."""
        return self.codex.events(size, thread_id=self.id)

    async def run(
        self,
        input: Input,
        *,
        handler: rpc.AsyncServerRequestHandler | None = None,
        **params: Any,
    ) -> TurnResult:
        """Runs a turn to its end: `TurnFailedError` if it fails."""
        return await (await self.turn(input, handler=handler, **params)).run()

    def __repr__(self) -> str:
        return f"AsyncThread({self.id!r})"


class AsyncTurnHandle(AsyncTurnRequests):
    """`TurnHandle` for `AsyncCodex`: `async for event in turn.stream()`, `await turn.run()`."""

    def __init__(self, codex: AsyncCodex, thread_id: str, turn: Any, turn_queue: _TurnQueue) -> None:
        self._codex = codex
        self.codex = codex
        self.thread_id = thread_id
        self.id: str = turn.id
        self.turn = turn
        self._queue = turn_queue
        self._buffer: deque[Any] = deque()
        self._collector = Collector()
        self._done = False
        weakref.finalize(self, codex._turns.pop, self.id, None)

    async def stream(self) -> AsyncIterator[Any]:
        """The turn's notifications, up to `turn/completed`."""
        timeout = self.codex.config.turn_timeout
        buffer = self._buffer
        while not self._done:
            if not buffer:
                try:
                    batch = await asyncio.wait_for(self._queue.queue.get(), timeout)
                except asyncio.TimeoutError:
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

    async def run(self) -> TurnResult:
        """Waits for the end of the turn: its result, or `TurnFailedError`."""
        stream = self.stream()
        with contextlib.suppress(StopAsyncIteration):
            async for _ in stream:
                pass
        return self._collector.result()

    async def interrupt(self) -> Any:
        """Asks the server to stop the turn (`turn/interrupt`)."""
        return await self.codex._call("turn/interrupt", object, thread_id=self.thread_id, turn_id=self.id)

    async def steer(self, input: Input) -> Any:
        """Adds input to the running turn (`turn/steer`)."""
        return await self.codex._call(
            "turn/steer",
            object,
            thread_id=self.thread_id,
            expected_turn_id=self.id,
            input=to_input(input),
        )

    def __repr__(self) -> str:
        return f"AsyncTurnHandle({self.id!r}, thread={self.thread_id!r})"
