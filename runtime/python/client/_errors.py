"""The errors the client raises: every one is a `CodexError`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .. import rpc

OVERLOADED = -32001
"""The code the app-server answers with when its request queue is full ("Server overloaded; retry later.",
`codex-rs/app-server/README.md`): the request was not processed and may be retried."""


class CodexError(Exception):
    """Anything the client raises."""


class TransportClosedError(CodexError):
    """The server exited or the connection closed: raised by every waiting call and open stream at once."""

    def __init__(
        self,
        message: str,
        *,
        exit_status: int | None = None,
        stderr: Sequence[str] = (),
    ) -> None:
        self.exit_status = exit_status
        self.stderr = list(stderr)
        text = message
        if self.stderr:
            text += "\nlast lines of stderr:\n" + "\n".join(f"  {line}" for line in self.stderr)
        super().__init__(text)


class CodexTimeoutError(CodexError, TimeoutError):
    """A bounded wait ran out."""


class RequestTimeoutError(CodexTimeoutError):
    """A request got no response in time (its pending entry is removed: a late response is ignored)."""

    def __init__(self, method: str, timeout: float) -> None:
        super().__init__(f"no response to {method} within {timeout:g} s")
        self.method = method
        self.timeout = timeout


class TurnTimeoutError(CodexTimeoutError):
    """A turn sent nothing for longer than `CodexConfig.turn_timeout`."""

    def __init__(self, turn_id: str, timeout: float) -> None:
        super().__init__(f"turn {turn_id} sent nothing for {timeout:g} s")
        self.turn_id = turn_id
        self.timeout = timeout


class RpcError(CodexError, rpc.RpcError):
    """An error response from the server (`code`, `message`, `data`), raised by the request it answers.

    Also a `rpc.RpcError`. The subclasses name the standard codes and the server's overload code.
    """

    def __init__(
        self,
        code: int,
        message: str,
        data: Any = rpc.NOT_GIVEN,
        *,
        method: str | None = None,
    ) -> None:
        rpc.RpcError.__init__(self, code, message, data)
        self.method = method
        if method is not None:
            self.args = (f"{method}: {message} (code {code})",)


class ParseError(RpcError):
    """-32700: the server could not parse what was sent."""


class InvalidRequestError(RpcError):
    """-32600: the request is not valid (the app-server also uses it for invalid params)."""


class MethodNotFoundError(RpcError):
    """-32601: the server does not know the method."""


class InvalidParamsError(RpcError):
    """-32602: the params are not valid."""


class InternalError(RpcError):
    """-32603: the server failed."""


class ServerOverloadedError(RpcError):
    """-32001: the server's request queue is full; retry later (`CodexConfig.overload_retries` does it)."""


_BY_CODE: dict[int, type[RpcError]] = {
    rpc.PARSE_ERROR: ParseError,
    rpc.INVALID_REQUEST: InvalidRequestError,
    rpc.METHOD_NOT_FOUND: MethodNotFoundError,
    rpc.INVALID_PARAMS: InvalidParamsError,
    rpc.INTERNAL_ERROR: InternalError,
    OVERLOADED: ServerOverloadedError,
}


def rpc_error(code: int, message: str, data: Any = rpc.NOT_GIVEN, method: str | None = None) -> RpcError:
    """The `RpcError` subclass of `code`."""
    return _BY_CODE.get(code, RpcError)(code, message, data, method=method)


class DecodeError(CodexError):
    """A message from the server that does not match the schema: `method` and the JSON `path` say where."""

    def __init__(self, method: str | None, path: str, detail: str) -> None:
        where = f"{method or 'a message'} at {path or '(root)'}"
        super().__init__(f"cannot decode {where}: {detail}")
        self.method = method
        self.path = path
        self.detail = detail


class TurnFailedError(CodexError):
    """`run()` of a turn that ended `failed`: `turn` is the final turn (its `error` says why)."""

    def __init__(self, turn: Any) -> None:
        error = getattr(turn, "error", None)
        message = getattr(error, "message", None) if error is not None else None
        super().__init__(f"turn {getattr(turn, 'id', '?')} failed" + (f": {message}" if message else ""))
        self.turn = turn


class WebSocketUnavailableError(CodexError, ImportError):
    """A `url` was configured but the `websockets` package is not installed."""
