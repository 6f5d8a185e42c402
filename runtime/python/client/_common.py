"""What `Codex` and `AsyncCodex` share: routing keys, turn results, input, answers to server requests."""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import random
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any, TypeVar

from pydantic import ValidationError

from .. import CODEX_VERSION, rpc
from ._errors import DecodeError, TurnFailedError
from ._generated import DECLINES, ROUTES

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
