"""A client for `codex app-server`: `Codex` (blocking) and `AsyncCodex` (asyncio), with thread and turn
handles, over stdio (a child process) or a websocket.

```python
from codex_app_server_types.client import Codex

with Codex() as codex:
    result = codex.thread_start().run("Describe this project.")
    print(result.final_response)
```

This package is imported only when used: importing the bindings or a model never imports it.
"""

from ._async import AsyncCodex, AsyncEventStream, AsyncThread, AsyncTurnHandle
from ._common import EventsDropped, Page, TurnResult, UndecodableMessage, UnmatchedResponse
from ._config import CodexConfig
from ._errors import (
    OVERLOADED,
    CodexError,
    CodexTimeoutError,
    DecodeError,
    InternalError,
    InvalidParamsError,
    InvalidRequestError,
    MethodNotFoundError,
    ParseError,
    RequestTimeoutError,
    RpcError,
    ServerOverloadedError,
    TransportClosedError,
    TurnFailedError,
    TurnTimeoutError,
    WebSocketUnavailableError,
)
from ._sync import Codex, EventStream, Thread, TurnHandle

__all__ = [
    "OVERLOADED",
    "AsyncCodex",
    "AsyncEventStream",
    "AsyncThread",
    "AsyncTurnHandle",
    "Codex",
    "CodexConfig",
    "CodexError",
    "CodexTimeoutError",
    "DecodeError",
    "EventStream",
    "EventsDropped",
    "InternalError",
    "InvalidParamsError",
    "InvalidRequestError",
    "MethodNotFoundError",
    "Page",
    "ParseError",
    "RequestTimeoutError",
    "RpcError",
    "ServerOverloadedError",
    "Thread",
    "TransportClosedError",
    "TurnFailedError",
    "TurnHandle",
    "TurnResult",
    "TurnTimeoutError",
    "UndecodableMessage",
    "UnmatchedResponse",
    "WebSocketUnavailableError",
]
