"""`AsyncCodex`: the asyncio client, with `AsyncThread` and `AsyncTurnHandle`.

The same routing as `Codex` (both are a `Router`; see `_sync`), with asyncio's own I/O: one reader task,
futures for responses, a task per server request. Cancelling a task that awaits a response forgets the request.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import AsyncIterator
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
from ._generated import AsyncThreadOpeners, AsyncThreadRequests, AsyncTurnRequests
from ._transport import AsyncTransport, connect_async

log = logging.getLogger(__name__.rsplit(".", 1)[0])

R = TypeVar("R")

_Queue = asyncio.Queue[Batch]
"""A turn's queue: the reader puts, the turn's consumer awaits `get`."""


class AsyncEventStream(Subscription):
    """`EventStream` for `AsyncCodex`: `async for event in codex.events()`."""

    def __init__(self, codex: AsyncCodex, size: int, thread_id: str | None = None) -> None:
        super().__init__(codex, size, thread_id)
        self._ready = asyncio.Event()

    def _put(self, item: Any) -> None:
        self._add(item)
        self._ready.set()

    def _fail(self, error: BaseException) -> None:
        self._error = error
        self._ready.set()

    async def get(self, timeout: float | None = None) -> Any:
        """The next event; `TimeoutError` after `timeout` s, `TransportClosedError` once the server is gone."""
        while not self._has_next():
            self._ready.clear()
            await asyncio.wait_for(self._ready.wait(), timeout)
        return self._take()

    def __aiter__(self) -> AsyncIterator[Any]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Any]:
        while True:
            try:
                yield await self.get()
            except TransportClosedError:
                return


class AsyncCodex(AsyncThreadOpeners, Router[rpc.AsyncServerRequestHandler, _Queue]):
    """`Codex` for asyncio: `async with AsyncCodex() as codex:`; the handshake runs on entry or first use."""

    def __init__(
        self,
        config: CodexConfig | None = None,
        *,
        handler: rpc.AsyncServerRequestHandler | None = None,
    ) -> None:
        # Everything runs on the event loop, the reader too: the routing needs no lock.
        Router.__init__(self, handler, contextlib.nullcontext(), _Queue)
        self.config = config or CodexConfig()
        self.initialize_response: Any = None
        self.server_version: tuple[int, ...] | None = None
        self._transport: AsyncTransport | None = None
        self._reader: asyncio.Task[None] | None = None
        self._starting_lock: asyncio.Lock | None = None
        self._started = False
        self._answering: set[asyncio.Task[Any]] = set()
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
                result = await self._send_request(
                    "initialize",
                    {"clientInfo": client_info(self.config)},
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

    async def _send_request(
        self,
        method: str,
        params: dict[str, Any] | None,
        starting: Starting[rpc.AsyncServerRequestHandler] | None = None,
        *,
        timeout: Any = ...,
    ) -> Any:
        timeout = self.config.request_timeout if timeout is ... else timeout
        for attempt in itertools.count():
            response: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
            request_id = self._track(method, response, starting)
            try:
                try:
                    await self._write(rpc.encode_request(request_id, method, params))
                    return await asyncio.wait_for(response, timeout)
                except asyncio.TimeoutError:
                    raise RequestTimeoutError(method, timeout or 0.0) from None
                finally:
                    self._forget(request_id)
            except ServerOverloadedError:
                delay = retry_delay(self.config, method, attempt)
                if delay is None:
                    raise
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
        self._subscribe(stream)
        return stream

    # Reading

    async def _read(self) -> None:
        transport = self._transport
        assert transport is not None
        debug = log.isEnabledFor(logging.DEBUG)
        try:
            while (lines := await transport.recv()) is not None:
                self._receive(lines, debug)
            error = await transport.closed_error()
        except asyncio.CancelledError:
            self._shut(TransportClosedError("the client was closed"))
            raise
        except Exception as failure:  # noqa: BLE001  (the transport itself failed)
            error = TransportClosedError(f"reading from the server failed: {failure!r}")
        log.debug("transport closed: %s", error)
        self._shut(error)

    def _reply(self, message: dict[str, Any]) -> None:
        self._spawn(self._write_quietly(message))

    def _answer_request(self, handler: rpc.AsyncServerRequestHandler | None, request: Any) -> None:
        self._spawn(self._answer(handler, request))

    def _spawn(self, coroutine: Any) -> None:
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(coroutine)
        self._answering.add(task)
        task.add_done_callback(self._answering.discard)

    async def _write_quietly(self, message: dict[str, Any]) -> None:
        try:
            await self._write(message)
        except CodexError as error:
            log.warning("cannot answer the server: %s", error)

    async def _answer(self, handler: rpc.AsyncServerRequestHandler | None, request: Any) -> None:
        envelope: dict[str, Any] | None = None
        error: BaseException | None = None
        if handler is not None:
            # A task of its own (which `close` also ends), so that a `TimeoutError` the handler raises is not taken
            # for its time running out.
            handling: asyncio.Task[Any] = asyncio.get_running_loop().create_task(handler.handle(request))
            self._answering.add(handling)
            handling.add_done_callback(self._answering.discard)
            timeout = self.config.handler_timeout
            try:
                await asyncio.wait({handling}, timeout=timeout)
            finally:
                handling.cancel()  # past the timeout, or the client closing: nothing would take its answer
            if not handling.done():
                await asyncio.wait({handling}, timeout=1.0)  # its own cleanup, on being cancelled
                error = handler_timed_out(request, timeout or 0.0)
            elif handling.cancelled():
                error = CodexError("the handler was cancelled")
            elif (failure := handling.exception()) is not None:
                log.warning("the handler of %s raised %r", request.method, failure)
                error = failure
            else:
                envelope = handling.result()
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
        starting = Starting(thread.id, handler or thread.handler)
        answer = await self._send_request("turn/start", turn_start_params(thread.id, input, params), starting)
        response, turn_queue = self._started_turn(starting, answer)
        return AsyncTurnHandle(self, thread.id, response.turn, turn_queue)


class AsyncThread(AsyncThreadRequests, ThreadBase[rpc.AsyncServerRequestHandler]):
    """`Thread` for `AsyncCodex`."""

    def __init__(
        self,
        codex: AsyncCodex,
        info: Any,
        response: Any,
        handler: rpc.AsyncServerRequestHandler | None,
    ) -> None:
        super().__init__(codex, info, response, handler)
        self._codex = codex
        self.codex = codex

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


class AsyncTurnHandle(AsyncTurnRequests, TurnBase[_Queue]):
    """`TurnHandle` for `AsyncCodex`: `async for event in turn.stream()`, `await turn.run()`."""

    def __init__(
        self,
        codex: AsyncCodex,
        thread_id: str,
        turn: Any,
        turn_queue: TurnQueue[rpc.AsyncServerRequestHandler, _Queue],
    ) -> None:
        super().__init__(codex, thread_id, turn, turn_queue)
        self._codex = codex
        self.codex = codex

    async def stream(self) -> AsyncIterator[Any]:
        """The turn's notifications, up to `turn/completed`."""
        timeout = self.codex.config.turn_timeout
        while not self._done:
            if not self._buffer:
                try:
                    batch = await asyncio.wait_for(self._queue.queue.get(), timeout)
                except asyncio.TimeoutError:
                    raise TurnTimeoutError(self.id, timeout or 0.0) from None
                self._refill(batch)
            yield self._next()

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
