"""What `Codex` and `AsyncCodex` share: the routing of what the server sends (`Router`), routing keys, turn
results, input, answers to server requests."""

from __future__ import annotations

import asyncio
import copy
import itertools
import json
import logging
import random
import re
import threading
import time
import weakref
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from concurrent import futures
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any, Generic, Protocol, TypeVar

from pydantic import ValidationError
from typing_extensions import Self

from .. import CODEX_VERSION, rpc
from ._config import CodexConfig
from ._errors import DecodeError, TransportClosedError, TurnFailedError, rpc_error
from ._generated import DECLINES, ROUTES
from ._transport import Oversized

log = logging.getLogger(__name__.rsplit(".", 1)[0])

Input = str | Mapping[str, Any] | Any | Iterable[str | Mapping[str, Any] | Any]
"""A turn's input: a string, one input item (a generated `UserInput` model or its JSON), or several."""


RESPONSES: tuple[type[rpc.Response], type[rpc.ErrorResponse]] = (rpc.Response, rpc.ErrorResponse)
"""What answers a request: a result or an error."""


def dumps(message: Mapping[str, Any]) -> str:
    """One message as the line (or frame) sent."""
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False)


def text_of(line: str | bytes) -> str:
    """A received message as text, for logs and reports."""
    return line.decode(errors="replace") if isinstance(line, bytes) else line


def to_input(value: Input) -> list[Any]:
    """A turn's input as the `input` list of `turn/start`: a string is one text item."""
    if isinstance(value, str):
        return [{"type": "text", "text": value}]
    if isinstance(value, Mapping) or hasattr(value, "model_dump"):
        return [value]
    return [{"type": "text", "text": item} if isinstance(item, str) else item for item in value]


def _getter(path: tuple[str, ...] | None) -> Callable[[Any], Any] | None:
    return None if path is None else attrgetter(".".join(("params", *path)))


_ROUTE_GETTERS = {method: (_getter(thread), _getter(turn)) for method, (thread, turn) in ROUTES.items()}
"""`ROUTES` as attribute getters on a whole message (`params.turn.id`)."""


def _get(getter: Callable[[Any], Any] | None, message: Any) -> str | None:
    if getter is None:
        return None
    try:
        value = getter(message)
    except AttributeError:  # an optional object on the way is absent
        return None
    return value if isinstance(value, str) else None


def route_of(message: Any) -> tuple[str | None, str | None]:
    """The thread and turn a decoded notification or server request names (`None` where it names none).

    Known methods follow `ROUTES` (read from the params types); a method this schema does not know is read
    from its raw params' `threadId` and `turnId`.
    """
    getters = _ROUTE_GETTERS.get(getattr(message, "method", None))  # type: ignore[arg-type]
    if getters is not None:
        return _get(getters[0], message), _get(getters[1], message)
    params = getattr(message, "params", None)
    if isinstance(params, Mapping):
        thread_id, turn_id = params.get("threadId"), params.get("turnId")
        return (
            thread_id if isinstance(thread_id, str) else None,
            turn_id if isinstance(turn_id, str) else None,
        )
    return None, None


def raw_route(data: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """The thread and turn of a message that did not decode, from its raw params."""
    params = data.get("params")
    if not isinstance(params, Mapping):
        return None, None
    thread_id = params.get("threadId")
    turn_id = params.get("turnId")
    turn = params.get("turn")
    if turn_id is None and isinstance(turn, Mapping):
        turn_id = turn.get("id")
    return (
        thread_id if isinstance(thread_id, str) else None,
        turn_id if isinstance(turn_id, str) else None,
    )


def decode_error(method: str | None, error: Exception) -> DecodeError:
    """A `DecodeError` naming the method and the JSON path of the first problem."""
    if isinstance(error, ValidationError) and error.errors():
        first = error.errors()[0]
        path = "/".join(str(part) for part in first["loc"])
        return DecodeError(method, path, f"{first['msg']} ({error.error_count()} error(s))")
    return DecodeError(method, "", str(error))


def undecodable(line: str | bytes, error: Exception) -> tuple[dict[str, Any], DecodeError]:
    """A line `rpc.decode` refused: its JSON object (empty when it holds none) and the error naming its method."""
    try:
        data = json.loads(line)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        data = {}
    method = data.get("method")
    problem = decode_error(method if isinstance(method, str) else None, error)
    log.warning("%s", problem)
    return data, problem


def parse_version(user_agent: str | None) -> tuple[int, ...] | None:
    """The server's version from `userAgent` (`name/0.169.0 (os; arch) ...`)."""
    if not user_agent:
        return None
    match = re.search(r"/(\d+(?:\.\d+)+)", user_agent)
    return tuple(int(part) for part in match.group(1).split(".")) if match else None


def check_version(server: tuple[int, ...] | None) -> None:
    """Warns when the server is older than the Codex release the bindings were generated from."""
    ours = parse_version(f"/{CODEX_VERSION}") if CODEX_VERSION != "0.0.0" else None
    if server is not None and ours is not None and server < ours:
        log.warning(
            "codex app-server %s is older than the bindings' Codex %s: some methods or fields may be missing",
            ".".join(map(str, server)),
            CODEX_VERSION,
        )


def backoff(attempt: int, base: float) -> float:
    """The delay before retry `attempt` (0-based): exponential, capped at 8 s, full jitter."""
    return float(random.uniform(0, min(8.0, base * 2**attempt)))


def retry_delay(config: CodexConfig, method: str, attempt: int) -> float | None:
    """How long to wait before sending `method` again after try `attempt` (0-based) found the server
    overloaded; `None` once the retries of `config` are spent."""
    if attempt >= config.overload_retries:
        return None
    delay = backoff(attempt, config.overload_backoff)
    log.info("%s: server overloaded, retry %d in %.2f s", method, attempt + 1, delay)
    return delay


def client_info(config: CodexConfig) -> dict[str, Any]:
    """The `clientInfo` the client introduces itself with in `initialize`."""
    info: dict[str, Any] = {"name": config.client_name, "version": config.client_version}
    if config.client_title is not None:
        info["title"] = config.client_title
    return info


def turn_start_params(thread_id: str, input: Input, params: dict[str, Any]) -> dict[str, Any] | None:
    """The params of `turn/start` for a thread handle's turn: its id, the input, the caller's keywords."""
    spec = rpc.CLIENT_REQUESTS["turn/start"]
    return rpc._wire_params(spec, rpc.NOT_GIVEN, {"thread_id": thread_id, "input": to_input(input), **params})


TURN_METHODS = tuple(method for method, (_, turn) in ROUTES.items() if turn is not None)
"""The server methods whose messages name a turn: what a turn's stream brings."""


class Preparer:
    """Builds the validators of a turn's messages (`rpc.prepare`) on a thread of its own, one method at a time,
    while the server starts; the client's start waits for it before returning, so that a process's first turn
    does not build them while its events arrive. Stopped early when the client closes."""

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="codex-prepare", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        for method in TURN_METHODS:
            if self._stop.is_set():
                return
            try:
                rpc.prepare((method,))
            except Exception:  # a model that cannot build is reported when its message arrives
                log.debug("cannot prepare %s", method, exc_info=True)

    def wait(self, timeout: float = 30.0) -> None:
        """Waits until every method is built, or stopping ends the building (bounded by `timeout`)."""
        if self._thread is not threading.current_thread():
            self._thread.join(timeout)

    async def wait_async(self, timeout: float = 30.0) -> None:
        """`wait` without blocking the event loop."""
        deadline = time.monotonic() + timeout
        while self._thread.is_alive() and time.monotonic() < deadline:
            await asyncio.sleep(0.005)

    def stop(self) -> None:
        """Stops after the method being built (a few ms, at most tens) and waits for that."""
        self._stop.set()
        self.wait(5.0)

    async def stop_async(self) -> None:
        """`stop` without blocking the event loop."""
        self._stop.set()
        await self.wait_async(5.0)


def decline(method: str) -> dict[str, Any] | None:
    """The result that declines approval request `method` (`None` when it is not such a request)."""
    result = DECLINES.get(method)
    return None if result is None else copy.deepcopy(result)


def answer_with(request: Any, envelope: dict[str, Any] | None, error: BaseException | None) -> dict[str, Any]:
    """The one answer to a server request, from what its handler returned or raised.

    No handler (`envelope` and `error` both `None`), or a handler that does not implement the method: an
    approval is declined, anything else answered "method not found". A handler that raises `RpcError`
    answers with it; any other exception answers an internal error.
    """
    request_id: rpc.RequestId | None = getattr(request, "id", None)
    method = str(getattr(request, "method", ""))
    if error is not None:
        if isinstance(error, rpc.RpcError):
            return rpc.encode_error(request_id, error.code, error.message, error.data)
        return rpc.encode_error(request_id, rpc.INTERNAL_ERROR, f"the client's handler failed: {error!r}")
    unanswered = envelope is None or envelope.get("error", {}).get("code") == rpc.METHOD_NOT_FOUND
    if unanswered:
        result = decline(method)
        if result is not None and request_id is not None:
            log.info("declined %s (no handler answers it)", method)
            return rpc.encode_response(request_id, result)
    if envelope is None:
        return rpc.encode_error(request_id, rpc.METHOD_NOT_FOUND, f"method not found: {method}")
    return envelope


def handler_timed_out(request: Any, timeout: float) -> rpc.RpcError:
    """What answers a server request whose handler did not answer within `timeout` seconds."""
    method = getattr(request, "method", "")
    log.warning("the handler of %s did not answer within %s s: answering with an error", method, timeout)
    return rpc.RpcError(rpc.INTERNAL_ERROR, f"the client's handler did not answer within {timeout} s")


def wire_tag(item: Any, wire: str) -> str | None:
    """The value of tag `wire` of a tagged-union member (a generated variant class, or unknown data)."""
    for _, name, value in getattr(type(item), "__wire_tags__", ()):
        if name == wire:
            return str(value)
    if isinstance(item, Mapping):
        value = item.get(wire)
    else:
        extra = getattr(item, "__pydantic_extra__", None) or {}
        value = extra.get(wire, getattr(item, wire, None))
    return value if isinstance(value, str) else None


@dataclass
class TurnResult:
    """What a finished turn produced."""

    turn: Any
    """The final `Turn` (from `turn/completed`): `status`, `error`, ..."""
    items: list[Any] = field(default_factory=list)
    """The turn's completed items (`item/completed`), in order."""
    usage: Any = None
    """The thread's token usage as last reported during the turn (`thread/tokenUsage/updated`), if any."""

    @property
    def final_response(self) -> str | None:
        """The text of the turn's last agent message."""
        for item in reversed(self.items):
            if wire_tag(item, "type") == "agentMessage":
                text = getattr(item, "text", None)
                return text if isinstance(text, str) else None
        return None

    @property
    def status(self) -> str | None:
        status = getattr(self.turn, "status", None)
        return str(getattr(status, "value", status)) if status is not None else None


class Collector:
    """Builds a `TurnResult` from a turn's notifications."""

    def __init__(self) -> None:
        self.items: list[Any] = []
        self.usage: Any = None
        self.turn: Any = None

    def add(self, message: Any) -> bool:
        """Takes one of the turn's events; whether it is the last (`turn/completed`)."""
        method = getattr(message, "method", None)
        if method == "item/completed":
            self.items.append(getattr(message.params, "item", None))
        elif method == "thread/tokenUsage/updated":
            self.usage = getattr(message.params, "token_usage", None)
        elif method == "turn/completed":
            self.turn = getattr(message.params, "turn", None)
            return True
        return False

    def result(self) -> TurnResult:
        result = TurnResult(self.turn, self.items, self.usage)
        if result.status == "failed":
            raise TurnFailedError(self.turn)
        return result


H = TypeVar("H")


class Page(list[H]):
    """One page of handles (`thread_list`): a list, with the whole `response` and its `next_cursor` (`None`
    on the last page; pass it back as `cursor=` for the next)."""

    def __init__(self, items: Iterable[H], response: Any) -> None:
        super().__init__(items)
        self.response = response
        cursor = getattr(response, "next_cursor", None)
        self.next_cursor: str | None = cursor if isinstance(cursor, str) else None


@dataclass(frozen=True)
class EventsDropped:
    """In an `events()` subscription: `count` events were dropped (the oldest) because it was full."""

    count: int


@dataclass(frozen=True)
class UndecodableMessage:
    """In `events()`: a line from the server that is not JSON, or a message that does not match the schema."""

    text: str
    error: Exception


@dataclass(frozen=True)
class UnmatchedResponse:
    """In `events()`: a response to no pending request (one that timed out, or an error with a null id)."""

    message: Any


def is_completed(message: Any) -> bool:
    return getattr(message, "method", None) == "turn/completed"


# Routing

HandlerT = TypeVar("HandlerT")
"""A client's answerer of server requests: `rpc.ServerRequestHandler` or `rpc.AsyncServerRequestHandler`."""

Batch = list[Any] | BaseException
"""What a turn's queue carries: the events one read brought, or the error that ends the turn's stream."""


class BatchQueue(Protocol):
    """A turn's queue as the reader fills it: a `queue.SimpleQueue` or an `asyncio.Queue`."""

    def put_nowait(self, item: Batch, /) -> None: ...


QueueT = TypeVar("QueueT", bound=BatchQueue)


class Waiter(Protocol):
    """A call waiting for its response: a `concurrent.futures.Future` or an `asyncio.Future`."""

    def done(self) -> bool: ...

    def set_result(self, result: Any, /) -> None: ...

    def set_exception(self, exception: BaseException, /) -> None: ...


def settle(waiter: Waiter, result: Any = None, error: BaseException | None = None) -> bool:
    """Hands a waiting call its result or error; `False` when the call no longer waits (a cancelled task, or a
    blocking call that gave up)."""
    if waiter.done():
        return False
    try:
        if error is not None:
            waiter.set_exception(error)
        else:
            waiter.set_result(result)
    except (futures.InvalidStateError, asyncio.InvalidStateError):
        return False  # a blocking call gave up on another thread since `done()`
    return True


class TurnQueue(Generic[HandlerT, QueueT]):
    """A turn's events on their way to its handle: the reader gathers what one read brought in `pending` and
    puts it on `queue` as one list, so a burst costs the handle one wake-up, not one per event."""

    def __init__(self, turn_id: str, thread_id: str, handler: HandlerT | None, queue: QueueT) -> None:
        self.turn_id = turn_id
        self.thread_id = thread_id
        self.handler = handler
        self.queue = queue
        self.pending: list[Any] = []


class Starting(Generic[HandlerT]):
    """A `turn/start` in flight: its thread's events with a turn no handle knows yet are kept here, and its
    server requests go to the turn's handler."""

    def __init__(self, thread_id: str, handler: HandlerT | None) -> None:
        self.thread_id = thread_id
        self.handler = handler
        self.early: list[tuple[str, Any]] = []


class Subscription(ABC):
    """What `EventStream` and `AsyncEventStream` share: the events of an `events()` subscription, at most
    `size` of them (when full, the oldest is dropped and counted), then the error that ended the connection.
    Each stream fills in how a consumer waits for the next."""

    def __init__(self, codex: Router[Any, Any], size: int, thread_id: str | None) -> None:
        self._codex = codex
        self._size = size
        self.thread_id = thread_id
        """Only this thread's events (`Thread.events()`), or every event (`None`)."""
        self._items: deque[Any] = deque()
        self._dropped = 0
        self._error: BaseException | None = None

    @abstractmethod
    def _put(self, item: Any) -> None:
        """Takes an event from the reader (`_add`) and wakes a waiting consumer."""

    @abstractmethod
    def _fail(self, error: BaseException) -> None:
        """Ends the stream with `error`, after the events it holds, and wakes every waiting consumer."""

    def _add(self, item: Any) -> None:
        if len(self._items) >= self._size:
            self._items.popleft()
            self._dropped += 1
        self._items.append(item)

    def _has_next(self) -> bool:
        return bool(self._items or self._dropped or self._error)

    def _take(self) -> Any:
        """The next event once `_has_next()`: an `EventsDropped` where events were dropped, then the events;
        past the last, the error that ended the stream is raised."""
        if self._dropped:
            dropped, self._dropped = self._dropped, 0
            return EventsDropped(dropped)
        if self._items:
            return self._items.popleft()
        assert self._error is not None
        raise self._error

    def close(self) -> None:
        self._codex._unsubscribe(self)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Router(ABC, Generic[HandlerT, QueueT]):
    """The routing `Codex` and `AsyncCodex` share (see `_sync`'s doc), without their I/O: where each message
    from the server goes, and the bookkeeping of calls waiting for a response, `turn/start`s in flight, turns
    with a handle, thread handlers and `events()` subscriptions.

    A client hands `_receive` what each read brought and `_shut` the end of the connection, and fills in how a
    server request is answered away from the reader (`_answer_request`) and how an answer is sent without
    raising (`_reply`). `lock` guards the state where the reader and the callers run on threads of their own
    (an asyncio client passes one that does nothing); `new_queue` makes a turn's queue.
    """

    def __init__(
        self,
        handler: HandlerT | None,
        lock: AbstractContextManager[Any],
        new_queue: Callable[[], QueueT],
    ) -> None:
        self.handler = handler
        self._lock = lock
        self._new_queue = new_queue
        self._ids = itertools.count(1)
        self._pending: dict[rpc.RequestId, tuple[str, Waiter]] = {}
        self._starting: dict[rpc.RequestId, Starting[HandlerT]] = {}
        self._turns: dict[str, TurnQueue[HandlerT, QueueT]] = {}
        self._touched: list[TurnQueue[HandlerT, QueueT]] = []
        self._thread_handlers: dict[str, HandlerT] = {}
        self._subscriptions: list[Subscription] = []
        self._closed: TransportClosedError | None = None

    @abstractmethod
    def _answer_request(self, handler: HandlerT | None, request: Any) -> None:
        """Has `handler` answer a server request (see `answer_with`) away from the reader."""

    @abstractmethod
    def _reply(self, message: dict[str, Any]) -> None:
        """Sends an answer to a server request (the reader's to one that does not decode), logging a failure
        to send rather than raising it."""

    # Calls in flight

    def _track(self, method: str, waiter: Waiter, starting: Starting[HandlerT] | None = None) -> int:
        """The id of a new request `method`, whose response goes to `waiter` (and, for `turn/start`, whose
        turn's early events to `starting`); raises the end of the connection once it is closed."""
        with self._lock:
            if self._closed is not None:
                raise self._closed
            request_id = next(self._ids)
            self._pending[request_id] = (method, waiter)
            if starting is not None:
                self._starting[request_id] = starting
        return request_id

    def _forget(self, request_id: rpc.RequestId) -> None:
        """A call no longer waits (answered, timed out, interrupted or never sent): a late response is unmatched."""
        with self._lock:
            self._pending.pop(request_id, None)
            starting = self._starting.pop(request_id, None)
        if starting is not None:
            self._flush_early(starting)

    def _started_turn(
        self, starting: Starting[HandlerT], answer: tuple[Any, TurnQueue[HandlerT, QueueT] | None]
    ) -> tuple[Any, TurnQueue[HandlerT, QueueT]]:
        """The `TurnStartResponse` and the turn's queue, from what the response to `turn/start` resolved."""
        result, turn = answer
        try:
            response: Any = rpc.CLIENT_REQUESTS["turn/start"].response_adapter.validate_python(result)
        except ValidationError as error:
            if turn is not None:
                self._turns.pop(turn.turn_id, None)
            raise decode_error("turn/start", error) from error
        if turn is None:
            turn = TurnQueue(response.turn.id, starting.thread_id, starting.handler, self._new_queue())
        return response, turn

    # Subscriptions

    def _subscribe(self, stream: Subscription) -> None:
        with self._lock:
            if self._closed is not None:
                stream._fail(self._closed)
            self._subscriptions.append(stream)

    def _unsubscribe(self, stream: Subscription) -> None:
        with self._lock:
            if stream in self._subscriptions:
                self._subscriptions.remove(stream)

    def _publish(self, event: Any) -> None:
        """An event no turn handle takes: to every subscription that wants it."""
        thread_id = route_of(event)[0] if hasattr(event, "method") else None
        with self._lock:
            subscriptions = list(self._subscriptions)
        for stream in subscriptions:
            if stream.thread_id is None or stream.thread_id == thread_id:
                stream._put(event)

    # Reading

    def _receive(self, lines: Iterable[str | bytes], debug: bool) -> None:
        """Routes what one read brought, then hands each turn its share as one batch."""
        for line in lines:
            if isinstance(line, Oversized):
                problem = DecodeError(None, "", f"a line of {line.size} bytes, over max_message_size ({line.limit})")
                log.warning("%s", problem)
                self._publish(UndecodableMessage("", problem))
                continue
            if not line.strip():
                continue
            if debug:
                log.debug("<- %s", text_of(line).rstrip("\n"))
            try:
                self._dispatch(line)
            except Exception:  # a bug here must not stop the reader: every waiter would hang
                log.exception("cannot route %s", text_of(line)[:200])
        self._flush_turns()

    def _shut(self, error: TransportClosedError) -> None:
        """The connection ended: every waiting call, turn stream and subscription raises `error` (the first
        call only)."""
        with self._lock:
            self._flush_turns()  # what arrived before the end reaches its turn before the error does
            if self._closed is not None:
                return
            self._closed = error
            waiters = [waiter for _, waiter in self._pending.values()]
            self._pending.clear()
            self._starting.clear()
            turns = list(self._turns.values())
            self._turns.clear()
            subscriptions = list(self._subscriptions)
        for waiter in waiters:
            settle(waiter, error=error)
        for turn in turns:
            turn.queue.put_nowait(error)
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
            self._reply(rpc.encode_error(data["id"], rpc.INVALID_PARAMS, str(problem)))
            return
        if "id" in data and "method" not in data:
            with self._lock:
                pending = self._pending.pop(data["id"], None)
            if pending is not None:
                settle(pending[1], error=problem)
                return
        if method == "turn/completed":
            _, turn_id = raw_route(data)
            with self._lock:
                turn = self._turns.pop(turn_id, None) if turn_id else None
                if turn is not None:
                    self._push(turn, problem)
                    return
        self._publish(UndecodableMessage(text_of(line), problem))

    def _response(self, message: rpc.Response | rpc.ErrorResponse) -> None:
        with self._lock:
            pending = self._pending.pop(message.id, None) if message.id is not None else None
            starting = self._starting.pop(message.id, None) if message.id is not None else None
        if pending is None:
            log.warning("a response to no pending request: %s", message.id)
            self._publish(UnmatchedResponse(message))
            return
        method, waiter = pending
        if isinstance(message, rpc.ErrorResponse):
            error = message.error
            data = error.data if "data" in error.model_fields_set else rpc.NOT_GIVEN
            if starting is not None:
                self._flush_early(starting)
            settle(waiter, error=rpc_error(error.code, error.message, data, method))
            return
        if starting is None:
            settle(waiter, message.result)
            return
        turn = self._open_turn(starting, message.result)
        if not settle(waiter, (message.result, turn)):
            self._drop_turn(turn)  # the caller is gone
        self._flush_early(starting)

    def _drop_turn(self, turn: TurnQueue[HandlerT, QueueT] | None) -> None:
        """Forgets a turn whose `turn/start` caller is gone: nobody reads it, its later events go to the
        subscriptions."""
        if turn is not None:
            with self._lock:
                self._turns.pop(turn.turn_id, None)

    def _open_turn(self, starting: Starting[HandlerT], result: Any) -> TurnQueue[HandlerT, QueueT] | None:
        """The queue of the turn a `turn/start` result names, holding the events kept for that turn while the
        request was in flight (`None` when it names none: the caller's validation reports that)."""
        turn = result.get("turn") if isinstance(result, dict) else None
        turn_id = turn.get("id") if isinstance(turn, dict) else None
        if not isinstance(turn_id, str):
            return None
        turn_queue = TurnQueue(turn_id, starting.thread_id, starting.handler, self._new_queue())
        with self._lock:
            self._turns[turn_id] = turn_queue
            for early_turn, early in starting.early:
                if early_turn == turn_id:
                    self._push(turn_queue, early)
            starting.early = [(t, m) for t, m in starting.early if t != turn_id]
        return turn_queue

    def _flush_early(self, starting: Starting[HandlerT]) -> None:
        """Events kept for a `turn/start` that belong to no turn it started: to the subscriptions."""
        with self._lock:
            early, starting.early = starting.early, []
        for turn_id, message in early:
            self._deliver(turn_id, message)
        self._flush_turns()

    def _starting_on(self, thread_id: str) -> Starting[HandlerT] | None:
        """The `turn/start` in flight on thread `thread_id`, if any (the caller holds the lock)."""
        return next((s for s in self._starting.values() if s.thread_id == thread_id), None)

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
                    starting = self._starting_on(thread_id)
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

    def _push(self, turn: TurnQueue[HandlerT, QueueT], item: Any) -> None:
        """Adds an event (or the error that ends the stream) to what `_flush_turns` hands the turn next; the
        caller holds the lock (taking it again would cost every event another acquire)."""
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
                turn.queue.put_nowait(batch)

    def _running_on(self, thread_id: str) -> TurnQueue[HandlerT, QueueT] | None:
        """The latest turn of thread `thread_id` with a handle that has not completed (the caller holds the
        lock)."""
        return next((t for t in reversed(self._turns.values()) if t.thread_id == thread_id), None)

    def _server_request(self, request: Any) -> None:
        """Has the handler of the request's turn answer it: the turn it names; a turn not known yet, while a
        `turn/start` on its thread is unanswered, is the turn being started; a request naming its thread and
        no turn is the thread's turn being started or running (the legacy approvals name no turn). Without such
        a turn, or a handler of its own, the thread's handler answers, else the client's."""
        thread_id, turn_id = route_of(request)
        with self._lock:
            turn = self._turns.get(turn_id) if turn_id is not None else None
            handler = turn.handler if turn is not None else None
            if turn is None and thread_id is not None:
                in_progress = self._starting_on(thread_id) or (self._running_on(thread_id) if turn_id is None else None)
                handler = in_progress.handler if in_progress is not None else None
            handler = handler or self._thread_handlers.get(thread_id or "")
        self._answer_request(handler or self.handler, request)


# Handles


class ThreadBase(Generic[HandlerT]):
    """What `Thread` and `AsyncThread` share: the thread, and its handler answering the server's requests of
    the thread as long as the handle lives."""

    def __init__(self, codex: Router[HandlerT, Any], info: Any, response: Any, handler: HandlerT | None) -> None:
        self.info = info
        """The `Thread` the server returned."""
        self.response = response
        """The whole response that returned it (`thread/start`, `thread/resume`, ...), if any."""
        self.id: str = info.id
        self.handler = handler
        if handler is not None:
            codex._thread_handlers[self.id] = handler
            weakref.finalize(self, codex._thread_handlers.pop, self.id, None)


class TurnBase(Generic[QueueT]):
    """What `TurnHandle` and `AsyncTurnHandle` share: the turn, and its stream's state: the events its queue
    brought and the stream has not yielded yet, collected into the `TurnResult` as they are yielded. The
    turn's queue lives as long as the handle."""

    def __init__(
        self, codex: Router[Any, QueueT], thread_id: str, turn: Any, turn_queue: TurnQueue[Any, QueueT]
    ) -> None:
        self.thread_id = thread_id
        self.id: str = turn.id
        self.turn = turn
        """The turn as `turn/start` returned it."""
        self._queue = turn_queue
        self._buffer: deque[Any] = deque()
        self._collector = Collector()
        self._done = False
        weakref.finalize(self, codex._turns.pop, self.id, None)

    def _refill(self, batch: Batch) -> None:
        """Takes what the queue brought next: events, or the error that ends the stream (raised)."""
        if isinstance(batch, BaseException):
            raise batch
        self._buffer.extend(batch)

    def _next(self) -> Any:
        """The next buffered event (an error that ends the stream is raised); `_done` after `turn/completed`."""
        item = self._buffer.popleft()
        if isinstance(item, BaseException):
            raise item
        if self._collector.add(item):
            self._done = True
        return item
