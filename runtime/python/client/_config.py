"""`CodexConfig`: how to start or reach the app-server, and the client's limits."""

from __future__ import annotations

import importlib
import os
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from .. import CODEX_VERSION, __version__
from ._errors import CodexError

RUNTIME_MODULE = "codex_cli_bin"
"""The module of the `openai-codex-cli-bin` distribution (the package's `runtime` extra)."""


def runtime_binary() -> str | None:
    """The `codex` of the `runtime` extra (`openai-codex-cli-bin`), when it is installed; `None` otherwise."""
    try:
        module = importlib.import_module(RUNTIME_MODULE)
        path: object = module.bundled_codex_path()
    except (ImportError, AttributeError, OSError):
        return None
    if isinstance(path, (str, os.PathLike)) and os.path.isfile(path):
        return os.fsdecode(path)
    return None


@dataclass
class CodexConfig:
    """How `Codex` / `AsyncCodex` start (or reach) `codex app-server`, and how long they wait.

    Without `url`, the client spawns `<codex_bin> app-server` (stdio). With `url` (`ws://HOST:PORT`, or
    `unix://PATH`), it connects to a running server instead (needs the `ws` extra: `websockets`).
    """

    codex_bin: str | None = None
    """The `codex` executable; else `$CODEX_BIN`, else the binary of the `runtime` extra (`openai-codex-cli-bin`,
    the package's own Codex release) when it is installed, else `codex` on `PATH`. Nothing is downloaded."""
    config_overrides: Mapping[str, str] = field(default_factory=dict)
    """Passed as `-c key=value` (values are TOML: quote strings, `'"o3"'`)."""
    args: Sequence[str] = ()
    """More arguments after `app-server`."""
    cwd: str | os.PathLike[str] | None = None
    """The server's working directory."""
    env: Mapping[str, str] | None = None
    """Variables set for the server, over this process's environment."""
    url: str | None = None
    """Connect to a running server (`ws://host:port` or `unix://PATH`) instead of spawning one."""
    client_name: str = __name__.split(".", 1)[0]
    """The name `initialize` reports: the package's (`codex_app_server_types`, or what it was generated as)."""
    client_title: str | None = None
    client_version: str = __version__
    """The version `initialize` reports: the package's `__version__`, its Codex release in PEP 440's spelling."""
    request_timeout: float | None = 300.0
    """Seconds a request waits for its response (`None`: no bound)."""
    turn_timeout: float | None = None
    """Seconds a turn's stream may stay silent before `TurnTimeoutError` (`None`: no bound)."""
    handler_timeout: float | None = 600.0
    """Seconds a handler may take to answer one of the server's requests (10 minutes: time for a person to answer
    an approval); past it the request is answered with an internal error (-32603) so that the server does not
    wait for it forever. An async handler is cancelled then; a sync one runs on to its end on its thread and its
    answer is dropped. `None`: no bound."""
    connect_timeout: float = 30.0
    """Seconds to connect and complete `initialize`."""
    shutdown_timeout: float = 3.0
    """Seconds the server gets to exit after its stdin closes, then again after SIGTERM, before SIGKILL."""
    event_queue_size: int = 1000
    """Events each `events()` subscription holds before dropping its oldest (counted, reported in order)."""
    overload_retries: int = 0
    """How many times a request the server rejects as overloaded (-32001) is retried (0: never)."""
    overload_backoff: float = 0.25
    """The first retry's delay in seconds; it doubles each time (up to 8 s), with full jitter."""
    prepare: bool = True
    """Build the validators of the messages a turn brings while the server starts (on a thread of its own; about
    0.15 s of CPU, which `start` waits for if the server is quicker), so that a process's first turn is read as
    fast as the next; `False` builds each when its method first arrives."""
    max_message_size: int | None = 64 * 1024 * 1024
    """The longest message the server may send, in bytes (64 MiB). Over stdio a longer line is passed over without
    being kept, reported to `events()` as an `UndecodableMessage`, and the reading goes on; over a websocket the
    limit is the socket's, and a longer message ends the connection. `None`: no bound."""
    stderr_lines: int = 40
    """How many of the server's last stderr lines a `TransportClosedError` carries."""

    def command(self) -> list[str]:
        """The command that starts the server."""
        binary = self.codex_bin or os.environ.get("CODEX_BIN") or runtime_binary() or shutil.which("codex")
        if not binary:
            raise CodexError(
                "no codex executable: set CodexConfig.codex_bin or CODEX_BIN, install the package's `runtime` extra"
                f" (Codex {CODEX_VERSION}), or put codex on PATH"
            )
        command = [binary]
        for key, value in self.config_overrides.items():
            command += ["-c", f"{key}={value}"]
        return [*command, "app-server", *self.args]

    def environment(self) -> dict[str, str] | None:
        """The server's environment (`None`: this process's)."""
        if self.env is None:
            return None
        return {**os.environ, **self.env}
