# ruff: noqa: F811  (pytest fixtures imported from client_fixtures, then named as arguments)
"""The client runtime against the real `codex app-server` (`CODEX_BIN`) and a loopback mock of the Responses
API (`mock_responses.py`), sync and async. Without `CODEX_BIN` these tests fail, saying how to set it."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from client_fixtures import RealServer, fake, no_leaked_threads, real, time_bound  # noqa: F401  (fixtures)
from codex_app_server_types import (
    CommandExecutionRequestApprovalParams,
    CommandExecutionRequestApprovalResponse,
    rpc,
)
from codex_app_server_types.client import (
    AsyncCodex,
    Codex,
    CodexConfig,
    TransportClosedError,
    TurnFailedError,
)


def deltas(events: list[Any]) -> str:
    return "".join(
        e.params.delta for e in events if e.method == "item/agentMessage/delta"
    )


def own_turn_only(events: list[Any], turn_id: str) -> None:
    for event in events:
        params = event.params
        ids = {
            getattr(params, "turn_id", None),
            getattr(getattr(params, "turn", None), "id", None),
        } - {None}
        assert ids <= {turn_id}, (event.method, ids, turn_id)


def command_items(result: Any) -> list[Any]:
    return [i for i in result.items if type(i).__name__ == "CommandExecutionThreadItem"]


class Approve(rpc.ServerRequestHandler):
    def __init__(self) -> None:
        self.asked: list[CommandExecutionRequestApprovalParams] = []

    def item_command_execution_request_approval(
        self, params: CommandExecutionRequestApprovalParams
    ) -> CommandExecutionRequestApprovalResponse:
        self.asked.append(params)
        return CommandExecutionRequestApprovalResponse(decision="accept")


class AsyncApprove(rpc.AsyncServerRequestHandler):
    async def item_command_execution_request_approval(
        self, params: CommandExecutionRequestApprovalParams
    ) -> CommandExecutionRequestApprovalResponse:
        return CommandExecutionRequestApprovalResponse(decision="accept")


def test_streamed_text_turn_and_run(real: RealServer) -> None:
    with Codex(real.config) as codex:
        assert codex.server_version is not None
        thread = codex.thread_start()
        turn = thread.turn("[token:one] say hello")
        events = list(turn.stream())
        assert events[-1].method == "turn/completed"
        assert deltas(events) == "Hello one."
        own_turn_only(events, turn.id)
        result = thread.run("[token:two] again")
        assert result.final_response == "Hello two."
        assert result.status == "completed"
        assert result.usage is not None


def test_async_streamed_text_turn_and_run(real: RealServer) -> None:
    async def main() -> None:
        async with AsyncCodex(real.config) as codex:
            thread = await codex.thread_start()
            turn = await thread.turn("[token:one] say hello")
            events = [e async for e in turn.stream()]
            assert deltas(events) == "Hello one."
            own_turn_only(events, turn.id)
            assert (
                await thread.run("[token:two] again")
            ).final_response == "Hello two."

    asyncio.run(main())


def test_approval_through_a_typed_handler_runs_the_command(real: RealServer) -> None:
    marker = real.scratch / "ran"
    handler = Approve()
    with Codex(real.config, handler=handler) as codex:
        result = codex.thread_start().run(f"[mock:exec:{marker}] run it")
    assert handler.asked, "the server asked for approval"
    assert str(marker) in (handler.asked[0].command or "")
    assert marker.exists()
    assert result.status == "completed"


def test_approval_without_handler_is_declined(real: RealServer) -> None:
    marker = real.scratch / "ran"
    with Codex(real.config) as codex:
        result = codex.thread_start().run(f"[mock:exec:{marker}] run it")
    assert not marker.exists()
    [item] = command_items(result)
    assert str(getattr(item.status, "value", item.status)) == "declined"


def test_async_approval_per_thread_handler(real: RealServer) -> None:
    marker = real.scratch / "ran"

    async def main() -> None:
        async with AsyncCodex(real.config) as codex:
            thread = await codex.thread_start(handler=AsyncApprove())
            await thread.run(f"[mock:exec:{marker}] run it")

    asyncio.run(main())
    assert marker.exists()


def test_interrupt_mid_turn(real: RealServer) -> None:
    with Codex(real.config) as codex:
        turn = codex.thread_start().turn("[mock:slow] take your time")
        events = []
        for event in turn.stream():
            events.append(event)
            if event.method == "item/agentMessage/delta" and len(events) < 1000:
                turn.interrupt()
                break
        events += list(turn.stream())
        assert events[-1].method == "turn/completed"
        assert (
            str(
                getattr(
                    events[-1].params.turn.status,
                    "value",
                    events[-1].params.turn.status,
                )
            )
            == "interrupted"
        )


def test_async_interrupt_mid_turn(real: RealServer) -> None:
    async def main() -> None:
        async with AsyncCodex(real.config) as codex:
            turn = await (await codex.thread_start()).turn("[mock:slow] take your time")
            async for event in turn.stream():
                if event.method == "item/agentMessage/delta":
                    await turn.interrupt()
                    break
            result = await turn.run()
            assert result.status == "interrupted"

    asyncio.run(main())


def test_steer_a_running_turn(real: RealServer) -> None:
    with Codex(real.config) as codex:
        turn = codex.thread_start().turn("[mock:slow] take your time")
        for event in turn.stream():
            if event.method == "item/agentMessage/delta":
                turn.steer("[token:steered] and then this")
                break
        result = turn.run()
        assert result.status == "completed"
        user_texts = [
            str(i) for i in result.items if type(i).__name__ == "UserMessageThreadItem"
        ]
        assert any("steered" in text for text in user_texts), user_texts


def test_thread_resume_on_a_new_connection(real: RealServer) -> None:
    with Codex(real.config) as codex:
        thread = codex.thread_start()
        thread.run("[token:first] hi")
    with Codex(real.config) as codex:
        page = codex.thread_list()
        assert thread.id in [listed.id for listed in page]
        assert page.next_cursor is None or isinstance(page.next_cursor, str)
        resumed = codex.thread_resume(thread_id=thread.id)
        assert resumed.id == thread.id
        assert resumed.run("[token:second] hi again").final_response == "Hello second."


def test_failing_stream_raises_turn_failed(real: RealServer) -> None:
    with Codex(real.config) as codex, pytest.raises(TurnFailedError) as failure:
        codex.thread_start().run("[mock:fail] break")
    assert (
        str(getattr(failure.value.turn.status, "value", failure.value.turn.status))
        == "failed"
    )


def test_async_failing_stream_raises_turn_failed(real: RealServer) -> None:
    async def main() -> None:
        async with AsyncCodex(real.config) as codex:
            with pytest.raises(TurnFailedError):
                await (await codex.thread_start()).run("[mock:fail] break")

    asyncio.run(main())


def test_concurrent_turns_on_several_threads(real: RealServer) -> None:
    with Codex(real.config) as codex:
        threads = [codex.thread_start() for _ in range(3)]
        turns = [t.turn(f"[token:t{i}] hello") for i, t in enumerate(threads)]
        for i, turn in reversed(list(enumerate(turns))):
            events = list(turn.stream())
            assert deltas(events) == f"Hello t{i}."
            own_turn_only(events, turn.id)


def test_async_concurrent_turns_on_several_threads(real: RealServer) -> None:
    async def main() -> None:
        async with AsyncCodex(real.config) as codex:
            threads = [await codex.thread_start() for _ in range(3)]
            results = await asyncio.gather(
                *(t.run(f"[token:t{i}] hello") for i, t in enumerate(threads))
            )
            assert [r.final_response for r in results] == [
                "Hello t0.",
                "Hello t1.",
                "Hello t2.",
            ]

    asyncio.run(main())


def test_async_declined_steered_resumed_and_killed(real: RealServer) -> None:
    marker = real.scratch / "ran"

    async def main() -> None:
        async with AsyncCodex(real.config) as codex:
            thread = await codex.thread_start()
            declined = await thread.run(f"[mock:exec:{marker}] run it")
            [item] = command_items(declined)
            assert str(getattr(item.status, "value", item.status)) == "declined"
            turn = await thread.turn("[mock:slow] take your time")
            async for event in turn.stream():
                if event.method == "item/agentMessage/delta":
                    await turn.steer("[token:steered] and then this")
                    break
            assert (await turn.run()).status == "completed"
        async with AsyncCodex(real.config) as codex:
            resumed = await codex.thread_resume(thread_id=thread.id)
            turn = await resumed.turn("[mock:slow] take your time")
            with pytest.raises(TransportClosedError):
                async for event in turn.stream():
                    if event.method == "item/agentMessage/delta":
                        os.killpg(codex._transport._process.pid, signal.SIGKILL)  # type: ignore[union-attr]
        others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        assert not others, others

    asyncio.run(main())
    assert not marker.exists()


def test_server_killed_mid_turn(real: RealServer) -> None:
    with Codex(real.config) as codex:
        turn = codex.thread_start().turn("[mock:slow] take your time")
        with pytest.raises(TransportClosedError) as closed:
            for event in turn.stream():
                if event.method == "item/agentMessage/delta":
                    os.killpg(codex._transport._process.pid, signal.SIGKILL)  # type: ignore[union-attr]
                    killed = time.monotonic()
        assert time.monotonic() - killed < 2
        assert closed.value.exit_status == -signal.SIGKILL


@contextlib.contextmanager
def websocket_server(real: RealServer) -> Iterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"ws://127.0.0.1:{port}"
    server = subprocess.Popen(
        [real.codex_bin, "app-server", "--listen", url],
        env={**os.environ, **real.env},
        cwd=real.config.cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/readyz", timeout=1
                ):
                    break
            except OSError:
                assert time.monotonic() < deadline, "the websocket server did not start"
                assert server.poll() is None, "the websocket server exited"
                time.sleep(0.1)
        yield url
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=10)


def test_websocket_transport(real: RealServer) -> None:
    with websocket_server(real) as url:
        config = CodexConfig(url=url, request_timeout=60.0, turn_timeout=60.0)
        with Codex(config) as codex:
            assert (
                codex.thread_start().run("[token:ws] hi").final_response == "Hello ws."
            )


def test_async_websocket_transport(real: RealServer) -> None:
    with websocket_server(real) as url:

        async def main() -> None:
            config = CodexConfig(url=url, request_timeout=60.0, turn_timeout=60.0)
            async with AsyncCodex(config) as codex:
                result = await (await codex.thread_start()).run("[token:aws] hi")
                assert result.final_response == "Hello aws."

        asyncio.run(main())


def test_unix_socket_transport(real: RealServer) -> None:
    path = real.scratch / "codex.sock"
    server = subprocess.Popen(
        [real.codex_bin, "app-server", "--listen", f"unix://{path}"],
        env={**os.environ, **real.env},
        cwd=real.config.cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 20
        while not path.exists():
            assert time.monotonic() < deadline, "the unix socket server did not start"
            assert server.poll() is None, "the unix socket server exited"
            time.sleep(0.1)
        with Codex(
            CodexConfig(url=f"unix://{path}", request_timeout=60.0, turn_timeout=60.0)
        ) as codex:
            assert (
                codex.thread_start().run("[token:unix] hi").final_response
                == "Hello unix."
            )
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=10)
