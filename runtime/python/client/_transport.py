"""Transports: `codex app-server` over stdio (a child process), or a websocket to a running server.

A transport moves whole messages (one JSON text each). `recv` returns `None` once the peer is gone; then
`closed_error()` says why (exit status and the last lines of stderr).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import subprocess
import threading
from collections import deque
from typing import Any, Protocol

from typing_extensions import Self

from ._config import CodexConfig
from ._errors import CodexError, TransportClosedError, WebSocketUnavailableError

log = logging.getLogger(__name__.rsplit(".", 1)[0])

READ_SIZE = 1 << 16
"""How much the stdio transports ask the pipe for at once: every whole line that arrived is routed in one go."""

Messages = list[str] | list[bytes]
"""What a transport received next: at least one message (a line, or a text frame), in order."""


class Transport(Protocol):
    def send(self, text: str) -> None: ...
    def recv(self) -> Messages | None: ...
    def closed_error(self) -> TransportClosedError: ...
    def close(self) -> None: ...


class AsyncTransport(Protocol):
    async def send(self, text: str) -> None: ...
    async def recv(self) -> Messages | None: ...
    async def closed_error(self) -> TransportClosedError: ...
    async def close(self) -> None: ...


def _websockets_missing(error: ImportError) -> WebSocketUnavailableError:
    return WebSocketUnavailableError(
        "a websocket url needs the `websockets` package: install this package with its `ws` extra "
        f"(pip install '<package>[ws]') or `pip install websockets` ({error})"
    )


def _unix_path(url: str) -> str | None:
    return url[len("unix://") :] if url.startswith("unix://") else None


def _kill_group(process: subprocess.Popen[bytes] | asyncio.subprocess.Process, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, sig)


class Oversized(bytes):
    """A line longer than `CodexConfig.max_message_size`, in place of its text (which is not kept)."""

    size: int
    limit: int

    def __new__(cls, size: int, limit: int) -> Self:
        line = super().__new__(cls)
        line.size, line.limit = size, limit
        return line


class _Lines:
    """Splits what a pipe delivers into lines; a line may arrive over several reads. A line longer than `limit`
    bytes is not kept: it comes out as an `Oversized`."""

    def __init__(self, limit: int | None) -> None:
        self._limit = limit
        self._partial: list[bytes] = []
        self._partial_size = 0
        self._skipped = 0  # bytes of an over-long line passed over so far; 0 when none is

    def feed(self, chunk: bytes) -> list[bytes]:
        """The lines `chunk` completes (none when it holds no line break)."""
        if b"\n" not in chunk:
            self._keep(chunk)
            return []
        first, *middle, rest = chunk.split(b"\n")
        self._keep(first)
        lines = [self._take()]
        limit = self._limit
        if limit is None or max(map(len, middle), default=0) <= limit:
            lines += middle
        else:
            lines += [Oversized(len(line), limit) if len(line) > limit else line for line in middle]
        self._keep(rest)
        return lines

    def end(self) -> list[bytes] | None:
        """At the end of the stream: a last line without a line break, if any."""
        rest = self._take()
        return [rest] if rest or isinstance(rest, Oversized) else None

    def _keep(self, part: bytes) -> None:
        if self._skipped:
            self._skipped += len(part)
        elif self._limit is not None and self._partial_size + len(part) > self._limit:
            self._skipped = self._partial_size + len(part)
            self._partial, self._partial_size = [], 0
        elif part:
            self._partial.append(part)
            self._partial_size += len(part)

    def _take(self) -> bytes:
        """The line kept so far, ending it."""
        if self._skipped:
            line: bytes = Oversized(self._skipped, self._limit or 0)
            self._skipped = 0
            return line
        line = b"".join(self._partial)
        self._partial, self._partial_size = [], 0
        return line


class StdioTransport:
    """`codex app-server` as a child process in a process group of its own, one message a line."""

    def __init__(self, config: CodexConfig) -> None:
        self._config = config
        command = config.command()
        log.debug("starting %s", command)
        try:
            self._process = subprocess.Popen(
                command,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                cwd=config.cwd,
                env=config.environment(),
                start_new_session=True,
            )
        except OSError as error:
            raise CodexError(f"cannot start {command[0]}: {error}") from error
        self._stderr: deque[str] = deque(maxlen=config.stderr_lines)
        self._stderr_thread = threading.Thread(target=self._drain_stderr, name="codex-stderr", daemon=True)
        self._stderr_thread.start()
        self._write_lock = threading.Lock()
        assert self._process.stdout is not None
        self._stdout = self._process.stdout.fileno()
        self._lines = _Lines(config.max_message_size)

    def _drain_stderr(self) -> None:
        assert self._process.stderr is not None
        for raw in self._process.stderr:
            line = raw.decode(errors="replace").rstrip("\n")
            self._stderr.append(line)
            log.debug("stderr: %s", line)

    def send(self, text: str) -> None:
        assert self._process.stdin is not None
        try:
            with self._write_lock:
                self._process.stdin.write(text.encode() + b"\n")
                self._process.stdin.flush()
        except (BrokenPipeError, ValueError, OSError) as error:
            raise self.closed_error() from error

    def recv(self) -> Messages | None:
        # One read returns what the pipe holds: a burst of notifications is routed as one batch.
        while True:
            try:
                chunk = os.read(self._stdout, READ_SIZE)
            except OSError:
                chunk = b""
            if not chunk:
                return self._lines.end()
            lines = self._lines.feed(chunk)
            if lines:
                return lines

    def closed_error(self) -> TransportClosedError:
        try:
            status: int | None = self._process.wait(timeout=1.0)
        except subprocess.TimeoutExpired:
            status = None
        self._stderr_thread.join(timeout=0.5)
        what = "codex app-server closed its stdout" if status is None else f"codex app-server exited ({status})"
        return TransportClosedError(what, exit_status=status, stderr=list(self._stderr))

    def close(self) -> None:
        process = self._process
        with contextlib.suppress(OSError, ValueError):
            if process.stdin is not None:
                process.stdin.close()
        for sig in (None, signal.SIGTERM, signal.SIGKILL):
            if sig is not None:
                _kill_group(process, sig)
            try:
                process.wait(timeout=self._config.shutdown_timeout)
                break
            except subprocess.TimeoutExpired:
                continue
        # What the server started in its group goes with it.
        _kill_group(process, signal.SIGKILL)
        for stream in (process.stdout, process.stderr):
            with contextlib.suppress(OSError, ValueError):
                if stream is not None:
                    stream.close()
        self._stderr_thread.join(timeout=1.0)


class WebSocketTransport:
    """A running server at `ws://HOST:PORT` (or `unix://PATH`), one message a text frame."""

    def __init__(self, config: CodexConfig) -> None:
        try:
            from websockets.sync import client  # type: ignore[import-not-found,unused-ignore]
        except ImportError as error:
            raise _websockets_missing(error) from None
        assert config.url is not None
        self._url = config.url
        path = _unix_path(config.url)
        # websockets wants its sync connections used as context managers: the stack closes it.
        self._stack = contextlib.ExitStack()
        try:
            if path is not None:
                self._socket: Any = client.unix_connect(
                    path,
                    "ws://localhost/",
                    max_size=config.max_message_size,
                    open_timeout=config.connect_timeout,
                )
            else:
                self._socket = client.connect(
                    config.url, max_size=config.max_message_size, open_timeout=config.connect_timeout
                )
            self._socket = self._stack.enter_context(self._socket)
        except (OSError, TimeoutError) as error:
            raise CodexError(f"cannot connect to {config.url}: {error}") from error
        self._reason = ""

    def send(self, text: str) -> None:
        from websockets.exceptions import ConnectionClosed  # type: ignore[import-not-found,unused-ignore]

        try:
            self._socket.send(text)
        except ConnectionClosed as error:
            raise self.closed_error() from error

    def recv(self) -> Messages | None:
        from websockets.exceptions import ConnectionClosed  # type: ignore[import-not-found,unused-ignore]

        try:
            frame = self._socket.recv()
        except ConnectionClosed as error:
            self._reason = str(error)
            return None
        return [frame if isinstance(frame, str) else bytes(frame).decode(errors="replace")]

    def closed_error(self) -> TransportClosedError:
        return TransportClosedError(f"the websocket to {self._url} closed {self._reason}".rstrip())

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._stack.close()


def connect(config: CodexConfig) -> Transport:
    return WebSocketTransport(config) if config.url else StdioTransport(config)


class AsyncStdioTransport:
    """`StdioTransport` with asyncio's subprocess streams (no threads)."""

    def __init__(self, config: CodexConfig, process: asyncio.subprocess.Process) -> None:
        self._config = config
        self._process = process
        self._stderr: deque[str] = deque(maxlen=config.stderr_lines)
        self._stderr_task = asyncio.get_running_loop().create_task(self._drain_stderr())
        self._lines = _Lines(config.max_message_size)

    @classmethod
    async def start(cls, config: CodexConfig) -> AsyncStdioTransport:
        command = config.command()
        log.debug("starting %s", command)
        try:
            process = await asyncio.create_subprocess_exec(
                *command,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                cwd=config.cwd,
                env=config.environment(),
                start_new_session=True,
            )
        except OSError as error:
            raise CodexError(f"cannot start {command[0]}: {error}") from error
        return cls(config, process)

    async def _drain_stderr(self) -> None:
        assert self._process.stderr is not None
        while raw := await self._process.stderr.readline():
            line = raw.decode(errors="replace").rstrip("\n")
            self._stderr.append(line)
            log.debug("stderr: %s", line)

    async def send(self, text: str) -> None:
        assert self._process.stdin is not None
        try:
            self._process.stdin.write(text.encode() + b"\n")
            await self._process.stdin.drain()
        except (BrokenPipeError, ConnectionResetError, OSError) as error:
            raise await self.closed_error() from error

    async def recv(self) -> Messages | None:
        assert self._process.stdout is not None
        while True:
            chunk = await self._process.stdout.read(READ_SIZE)
            if not chunk:
                return self._lines.end()
            lines = self._lines.feed(chunk)
            if lines:
                return lines

    async def closed_error(self) -> TransportClosedError:
        try:
            status: int | None = await asyncio.wait_for(self._process.wait(), 1.0)
        except asyncio.TimeoutError:
            status = None
        with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
            await asyncio.wait_for(asyncio.shield(self._stderr_task), 0.5)
        what = "codex app-server closed its stdout" if status is None else f"codex app-server exited ({status})"
        return TransportClosedError(what, exit_status=status, stderr=list(self._stderr))

    async def close(self) -> None:
        process = self._process
        if process.stdin is not None:
            with contextlib.suppress(OSError):
                process.stdin.close()
        for sig in (None, signal.SIGTERM, signal.SIGKILL):
            if sig is not None:
                _kill_group(process, sig)
            try:
                await asyncio.wait_for(process.wait(), self._config.shutdown_timeout)
                break
            except asyncio.TimeoutError:
                continue
        _kill_group(process, signal.SIGKILL)
        self._stderr_task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self._stderr_task


class AsyncWebSocketTransport:
    """`WebSocketTransport` with the asyncio client of `websockets`."""

    def __init__(self, url: str, socket: Any) -> None:
        self._url = url
        self._socket = socket
        self._reason = ""

    @classmethod
    async def start(cls, config: CodexConfig) -> AsyncWebSocketTransport:
        try:
            from websockets.asyncio import client  # type: ignore[import-not-found,unused-ignore]
        except ImportError as error:
            raise _websockets_missing(error) from None
        assert config.url is not None
        path = _unix_path(config.url)
        try:
            if path is not None:
                socket = await client.unix_connect(
                    path,
                    "ws://localhost/",
                    max_size=config.max_message_size,
                    open_timeout=config.connect_timeout,
                )
            else:
                socket = await client.connect(
                    config.url, max_size=config.max_message_size, open_timeout=config.connect_timeout
                )
        except (OSError, TimeoutError) as error:
            raise CodexError(f"cannot connect to {config.url}: {error}") from error
        return cls(config.url, socket)

    async def send(self, text: str) -> None:
        from websockets.exceptions import ConnectionClosed  # type: ignore[import-not-found,unused-ignore]

        try:
            await self._socket.send(text)
        except ConnectionClosed as error:
            raise await self.closed_error() from error

    async def recv(self) -> Messages | None:
        from websockets.exceptions import ConnectionClosed  # type: ignore[import-not-found,unused-ignore]

        try:
            frame = await self._socket.recv()
        except ConnectionClosed as error:
            self._reason = str(error)
            return None
        return [frame if isinstance(frame, str) else bytes(frame).decode(errors="replace")]

    async def closed_error(self) -> TransportClosedError:
        return TransportClosedError(f"the websocket to {self._url} closed {self._reason}".rstrip())

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self._socket.close()


async def connect_async(config: CodexConfig) -> AsyncTransport:
    if config.url:
        return await AsyncWebSocketTransport.start(config)
    return await AsyncStdioTransport.start(config)
