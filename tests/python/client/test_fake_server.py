# ruff: noqa: F811  (pytest fixtures imported from client_fixtures, then named as arguments)
"""The client runtime against a scripted fake server (`fake_server.py`): misbehaviour and routing, sync and
async."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from concurrent import futures
from pathlib import Path
from typing import Any

import pytest
from client_fixtures import fake, no_leaked_threads, time_bound  # noqa: F401  (fixtures)
from codex_app_server_types import rpc
from codex_app_server_types.client import (
    AsyncCodex,
    Codex,
    CodexConfig,
    CodexError,
    DecodeError,
    EventsDropped,
    RequestTimeoutError,
    ServerOverloadedError,
    TransportClosedError,
    TurnTimeoutError,
    UndecodableMessage,
    WebSocketUnavailableError,
)
from codex_app_server_types.client._common import TURN_METHODS
from codex_app_server_types.client._transport import Oversized, _Lines


def received(log: Path) -> list[dict[str, Any]]:
    return (
        [json.loads(line) for line in log.read_text().splitlines()]
        if log.exists()
        else []
    )


def answers(log: Path, request_id: int) -> list[dict[str, Any]]:
    return [m for m in received(log) if m.get("id") == request_id and "method" not in m]


def wait_for(condition: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


def turn_ids(message: Any) -> set[str]:
    params = message.params
    ids = {
        getattr(params, "turn_id", None),
        getattr(getattr(params, "turn", None), "id", None),
    }
    return {i for i in ids if i}


# Sync


def test_text_turn_streams_and_runs(fake: Any) -> None:
    config, _ = fake()
    with Codex(config) as codex:
        assert codex.server_version == (99, 0, 0)
        thread = codex.thread_start()
        turn = thread.turn("hello")
        methods = [m.method for m in turn.stream()]
        assert methods[-1] == "turn/completed"
        assert "item/agentMessage/delta" in methods
        result = thread.run("again")
        assert result.final_response == "Hello from the mock."
        assert result.status == "completed"
        assert [type(i).__name__ for i in result.items] == [
            "UserMessageThreadItem",
            "AgentMessageThreadItem",
        ]
        assert result.usage is not None


def test_old_server_is_warned_about(
    fake: Any, caplog: pytest.LogCaptureFixture
) -> None:
    config, _ = fake("old")
    with caplog.at_level(logging.WARNING), Codex(config) as codex:
        assert codex.server_version == (0, 1, 0)
    assert any("older than the bindings" in r.message for r in caplog.records)


def test_malformed_line_and_unknown_notification_reach_the_event_stream(
    fake: Any,
) -> None:
    config, _ = fake("malformed")
    with Codex(config) as codex, codex.events() as events:
        codex.model_list()
        first = events.get(timeout=5)
        assert isinstance(first, UndecodableMessage) and "not json" in first.text
        second = events.get(timeout=5)
        assert second.method == "made/up"
        assert type(second).__name__ == "UnknownServerNotification"


def test_a_line_over_max_message_size_is_reported_and_the_reading_goes_on(fake: Any) -> None:
    config, _ = fake("long_line", max_message_size=100_000)
    with Codex(config) as codex, codex.events() as events:
        codex.model_list()
        first = events.get(timeout=5)
        assert isinstance(first, UndecodableMessage) and first.text == "", first
        assert "over max_message_size (100000)" in str(first.error)
        assert events.get(timeout=5).params == {"n": 1}

    async def main() -> None:
        async with AsyncCodex(config) as codex:
            events = codex.events()
            await codex.model_list()
            first = await events.get(timeout=5)
            assert isinstance(first, UndecodableMessage) and "over max_message_size" in str(first.error)
            assert (await events.get(timeout=5)).params == {"n": 1}

    asyncio.run(main())


def test_lines_split_across_reads_and_over_the_limit() -> None:
    lines = _Lines(10)
    assert lines.feed(b"ab") == []
    assert lines.feed(b"c\n0123456789\nxy") == [b"abc", b"0123456789"]
    # Over the limit in one read, across reads, and at the end of the stream: an `Oversized` each, not kept.
    too_long = lines.feed(b"z\n" + b"q" * 11 + b"\n")
    assert too_long[0] == b"xyz" and isinstance(too_long[1], Oversized) and too_long[1].size == 11
    assert lines.feed(b"p" * 8) == [] and lines.feed(b"p" * 8) == []
    [across] = lines.feed(b"pp\nok")
    assert isinstance(across, Oversized) and across.size == 18
    assert lines.feed(b"\n") == [b"ok"]
    assert lines.feed(b"r" * 12) == []
    [last] = lines.end() or []
    assert isinstance(last, Oversized) and last.size == 12
    assert _Lines(None).feed(b"y" * 100 + b"\n") == [b"y" * 100]


def test_unknown_server_request_is_answered_method_not_found(fake: Any) -> None:
    config, log = fake("unknown_request")
    with Codex(config) as codex:
        codex.model_list()
        wait_for(lambda: answers(log, 7))
    [answer] = answers(log, 7)
    assert answer["error"]["code"] == rpc.METHOD_NOT_FOUND


def test_server_request_that_does_not_decode_is_answered_with_its_id(fake: Any) -> None:
    config, log = fake("bad_request")
    with Codex(config) as codex:
        codex.model_list()
        wait_for(lambda: answers(log, 8))
    [answer] = answers(log, 8)
    assert answer["error"]["code"] == rpc.INVALID_PARAMS
    assert "item/commandExecution/requestApproval" in answer["error"]["message"]


def test_request_never_answered_times_out(fake: Any) -> None:
    config, _ = fake("silent", request_timeout=0.5)
    with Codex(config) as codex:
        started = time.monotonic()
        with pytest.raises(RequestTimeoutError, match="model/list"):
            codex.model_list()
        assert time.monotonic() - started < 2
        assert not codex._pending


def test_server_exit_fails_every_waiter_at_once(fake: Any) -> None:
    config, _ = fake("exit", request_timeout=30.0)
    errors: list[BaseException] = []
    with Codex(config) as codex:
        thread = codex.thread_start()
        config_turn = thread.turn("hello")
        list(config_turn.stream())  # the first turn ends normally

        import threading

        def call() -> None:
            try:
                codex.model_list()
            except BaseException as error:  # noqa: BLE001
                errors.append(error)

        callers = [threading.Thread(target=call) for _ in range(3)]
        started = time.monotonic()
        for caller in callers:
            caller.start()
        for caller in callers:
            caller.join(timeout=5)
        assert time.monotonic() - started < 2.5
    assert len(errors) == 3
    assert all(isinstance(e, TransportClosedError) for e in errors)
    error = errors[0]
    assert isinstance(error, TransportClosedError)
    assert error.exit_status == 3
    assert any("fake server stops" in line for line in error.stderr)


def test_the_validators_of_a_turns_messages_are_built_while_the_server_starts(
    fake: Any,
) -> None:
    rpc._VALIDATORS.clear()  # rebuilt on demand: other tests may have built them
    config, _ = fake()
    with Codex(config) as codex:
        preparer = codex._preparer
        assert preparer is not None
        preparer._thread.join(timeout=10)
        assert not preparer._thread.is_alive()
        assert set(TURN_METHODS) <= set(rpc._VALIDATORS)
        assert "turn/completed" in TURN_METHODS and "thread/started" not in TURN_METHODS
        result = codex.thread_start().run("hi")
        assert result.turn.status == "completed"


def test_without_prepare_nothing_is_built_ahead(fake: Any) -> None:
    rpc._VALIDATORS.clear()
    config, _ = fake(prepare=False)
    with Codex(config) as codex:
        assert codex._preparer is None
        assert not any(t.name == "codex-prepare" for t in threading.enumerate())
        assert codex.thread_start().run("hi").turn.status == "completed"
        assert "item/agentMessage/delta" not in rpc._VALIDATORS


def test_async_client_prepares_and_stops_the_preparer_on_close(fake: Any) -> None:
    rpc._VALIDATORS.clear()
    config, _ = fake()

    async def main() -> None:
        async with AsyncCodex(config) as codex:
            assert codex._preparer is not None
            result = await (await codex.thread_start()).run("hi")
            assert result.turn.status == "completed"
        assert not codex._preparer._thread.is_alive()

    asyncio.run(main())


def test_approval_without_handler_is_declined(fake: Any) -> None:
    config, log = fake("approval")
    with Codex(config) as codex:
        codex.thread_start().run("run a command")
        wait_for(lambda: answers(log, 41))
    [answer] = answers(log, 41)
    assert answer["result"] == {"decision": "decline"}


def test_approval_through_a_typed_handler(fake: Any) -> None:
    seen: list[Any] = []

    class Approve(rpc.ServerRequestHandler):
        def item_command_execution_request_approval(self, params: Any) -> Any:
            seen.append(params)
            return {"decision": "accept"}

    config, log = fake("approval")
    with Codex(config, handler=Approve()) as codex:
        codex.thread_start().run("run a command")
    [answer] = answers(log, 41)
    assert answer["result"] == {"decision": "accept"}
    assert seen and seen[0].turn_id.startswith("turn-")


def test_a_handler_that_raises_answers_an_error(fake: Any) -> None:
    class Broken(rpc.ServerRequestHandler):
        def item_command_execution_request_approval(self, params: Any) -> Any:
            raise RuntimeError("broken")

    config, log = fake("approval")
    with Codex(config, handler=Broken()) as codex:
        thread = codex.thread_start()
        thread.run("run a command")
    [answer] = answers(log, 41)
    assert answer["error"]["code"] == rpc.INTERNAL_ERROR


def test_a_handler_that_does_not_answer_in_time_answers_an_error(fake: Any) -> None:
    release = threading.Event()

    class Stuck(rpc.ServerRequestHandler):
        def item_command_execution_request_approval(self, params: Any) -> Any:
            release.wait(20)
            return {"decision": "accept"}

    config, log = fake("approval", handler_timeout=0.3)
    try:
        with Codex(config, handler=Stuck()) as codex:
            started = time.monotonic()
            codex.thread_start().run("run a command")
            assert time.monotonic() - started < 3
    finally:
        release.set()  # the handler's thread, which nothing can stop, ends
    [answer] = answers(log, 41)
    assert answer["error"]["code"] == rpc.INTERNAL_ERROR
    assert "did not answer within 0.3 s" in answer["error"]["message"]


def test_a_turn_handler_overrides_the_client_handler(fake: Any) -> None:
    class Decline(rpc.ServerRequestHandler):
        def item_command_execution_request_approval(self, params: Any) -> Any:
            return {"decision": "cancel"}

    class Approve(rpc.ServerRequestHandler):
        def item_command_execution_request_approval(self, params: Any) -> Any:
            return {"decision": "accept"}

    config, log = fake("approval")
    with Codex(config, handler=Decline()) as codex:
        codex.thread_start().turn("run a command", handler=Approve()).run()
    assert answers(log, 41)[0]["result"] == {"decision": "accept"}


def test_a_request_naming_no_turn_goes_to_the_running_turns_handler(fake: Any) -> None:
    class Deny(rpc.ServerRequestHandler):
        def exec_command_approval(self, params: Any) -> Any:
            return {"decision": "denied"}

    class Approve(rpc.ServerRequestHandler):
        def exec_command_approval(self, params: Any) -> Any:
            return {"decision": "approved"}

    config, log = fake("legacy_approval")
    with Codex(config, handler=Deny()) as codex:
        codex.thread_start().turn("run a command", handler=Approve()).run()
        wait_for(lambda: answers(log, 43))
    assert answers(log, 43)[0]["result"] == {"decision": "approved"}


def test_notifications_that_do_not_decode_are_reported(fake: Any) -> None:
    config, _ = fake("bad_notifications")
    with Codex(config) as codex, codex.events() as events:
        turn = codex.thread_start().turn("hello")
        with pytest.raises(DecodeError) as failure:
            turn.run()
        assert failure.value.method == "turn/completed"
        reported = []
        while True:
            try:
                event = events.get(timeout=0.5)
            except TimeoutError:
                break
            if isinstance(event, UndecodableMessage):
                reported.append(event)
        assert len(reported) == 3
        assert all(
            isinstance(e.error, DecodeError) and e.error.path.startswith("params")
            for e in reported
        )


def test_thread_events_hold_that_thread_only(fake: Any) -> None:
    config, _ = fake()
    with Codex(config) as codex:
        first, second = codex.thread_start(), codex.thread_start()
        with first.events() as events, codex.events() as everything:
            second.run("hello")
            first.run("hello")
            mine = []
            while True:
                try:
                    mine.append(events.get(timeout=0.5))
                except TimeoutError:
                    break
            assert mine and all(e.params.thread_id == first.id for e in mine)
            assert {e.method for e in mine} >= {"thread/status/changed"}
            assert everything.get(timeout=1).params.thread_id == second.id


def test_notifications_before_the_turn_start_response_are_kept(fake: Any) -> None:
    config, _ = fake("early")
    with Codex(config) as codex:
        turn = codex.thread_start().turn("hello")
        methods = [m.method for m in turn.stream()]
    assert methods[0] == "turn/started"
    assert methods[-1] == "turn/completed"


def test_two_concurrent_turns_get_only_their_own_events(fake: Any) -> None:
    import threading

    config, _ = fake("concurrent")
    with Codex(config) as codex:
        threads = [codex.thread_start(), codex.thread_start()]
        handles: list[Any] = [None, None]

        def start(i: int) -> None:
            handles[i] = threads[i].turn(f"turn {i}")

        starters = [threading.Thread(target=start, args=(i,)) for i in range(2)]
        for s in starters:
            s.start()
        for s in starters:
            s.join(timeout=10)
        # The second handle is read first: the first turn's events wait in its own queue.
        for handle in reversed(handles):
            events = list(handle.stream())
            assert events[-1].method == "turn/completed"
            for event in events:
                assert turn_ids(event) <= {handle.id}, (event.method, handle.id)


class LateFuture(futures.Future[Any]):
    """A call's future whose timed wait, once `armed`, waits for the response and then ends with `ending`
    all the same: a response that comes just as the wait ends, made certain."""

    armed = False
    ending: type[BaseException] = futures.TimeoutError

    def exception(self, timeout: float | None = None) -> BaseException | None:
        if timeout is not None and LateFuture.armed:
            super().exception(5.0)
            raise LateFuture.ending
        return super().exception(timeout)


def test_a_turn_start_answered_as_its_wait_times_out_gives_its_turn(
    fake: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(futures, "Future", LateFuture)
    config, _ = fake("hang_turn")
    with Codex(config) as codex:
        thread = codex.thread_start()
        monkeypatch.setattr(LateFuture, "armed", True)
        # The response is taken: the turn has a handle, rather than a queue nobody reads.
        turn = thread.turn("hello")
        assert codex._turns == {turn.id: turn._queue}


def test_a_turn_start_interrupted_as_it_is_answered_leaves_no_turn(
    fake: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(futures, "Future", LateFuture)
    config, _ = fake("hang_turn")
    with Codex(config) as codex:
        thread = codex.thread_start()
        monkeypatch.setattr(LateFuture, "armed", True)
        monkeypatch.setattr(LateFuture, "ending", KeyboardInterrupt)
        with pytest.raises(KeyboardInterrupt):
            thread.turn("hello")
        assert not codex._turns


def test_turn_inactivity_timeout(fake: Any) -> None:
    config, _ = fake("hang_turn", turn_timeout=0.5)
    with Codex(config) as codex:
        turn = codex.thread_start().turn("hello")
        with pytest.raises(TurnTimeoutError):
            turn.run()


def test_leaving_the_context_stops_the_server(fake: Any) -> None:
    config, _ = fake()
    with Codex(config) as codex:
        process = codex._transport._process  # type: ignore[union-attr]
    assert process.poll() is not None
    with pytest.raises(TransportClosedError):
        codex.model_list()


def test_overload_is_retried_when_asked(fake: Any) -> None:
    config, log = fake("overload")
    with Codex(config) as codex, pytest.raises(ServerOverloadedError) as overloaded:
        codex.model_list()
    assert overloaded.value.code == -32001
    config, log = fake("overload", overload_retries=3, overload_backoff=0.01)
    with Codex(config) as codex:
        codex.model_list()
    assert [m["method"] for m in received(log)].count("model/list") == 3


def test_a_result_that_does_not_decode_names_the_method_and_path(fake: Any) -> None:
    config, _ = fake("bad_result")
    with Codex(config) as codex, pytest.raises(DecodeError) as failure:
        codex.model_list()
    assert failure.value.method == "model/list"
    assert failure.value.path == "data"


def test_a_null_error_beside_a_result_is_no_error(fake: Any) -> None:
    config, _ = fake("null_error")
    with Codex(config) as codex:
        assert codex.model_list().data
        # Neither a result nor an error.
        with pytest.raises(DecodeError):
            codex.thread_list()

    async def main() -> None:
        async with AsyncCodex(config) as codex:
            assert (await codex.model_list()).data
            with pytest.raises(DecodeError):
                await codex.thread_list()

    asyncio.run(main())


def test_a_full_event_subscription_drops_its_oldest_and_says_so(fake: Any) -> None:
    config, _ = fake("flood", event_queue_size=5)
    with Codex(config) as codex, codex.events() as events:
        codex.model_list()
        wait_for(lambda: events._dropped == 15)
        first = events.get(timeout=5)
        assert first == EventsDropped(15)
        rest = [events.get(timeout=5) for _ in range(5)]
        assert [e.params["n"] for e in rest] == [15, 16, 17, 18, 19]


def test_a_url_without_websockets_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "websockets", None)
    monkeypatch.setitem(sys.modules, "websockets.sync", None)
    monkeypatch.setitem(sys.modules, "websockets.sync.client", None)
    with pytest.raises(WebSocketUnavailableError, match=r"\[ws\]"):
        Codex(CodexConfig(url="ws://127.0.0.1:9")).start()


def test_a_missing_binary_is_a_codex_error(tmp_path: Path) -> None:
    with pytest.raises(CodexError, match="cannot start"):
        Codex(CodexConfig(codex_bin=str(tmp_path / "no-codex"))).start()


def no_other_tasks() -> None:
    others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    assert not others, others


# Async


def test_async_handshake_on_first_use(fake: Any) -> None:
    async def main() -> None:
        config, _ = fake()
        codex = AsyncCodex(config)
        try:
            await codex.model_list()
            assert codex.server_version == (99, 0, 0)
        finally:
            await codex.close()
        no_other_tasks()

    asyncio.run(main())


def test_async_text_turn_and_early_events(fake: Any) -> None:
    async def main() -> None:
        config, _ = fake("early")
        async with AsyncCodex(config) as codex:
            thread = await codex.thread_start()
            turn = await thread.turn("hello")
            methods = [m.method async for m in turn.stream()]
            assert methods[0] == "turn/started" and methods[-1] == "turn/completed"
            result = await thread.run("again")
            assert result.final_response == "Hello from the mock."
        no_other_tasks()

    asyncio.run(main())


def test_async_misbehaviour(fake: Any) -> None:
    async def main() -> None:
        config, _ = fake("malformed")
        async with AsyncCodex(config) as codex:
            events = codex.events()
            await codex.model_list()
            assert isinstance(await events.get(timeout=5), UndecodableMessage)
            assert (await events.get(timeout=5)).method == "made/up"
        config, log = fake("unknown_request")
        async with AsyncCodex(config) as codex:
            await codex.model_list()
            for _ in range(100):
                if answers(log, 7):
                    break
                await asyncio.sleep(0.05)
        assert answers(log, 7)[0]["error"]["code"] == rpc.METHOD_NOT_FOUND
        config, log = fake("bad_request")
        async with AsyncCodex(config) as codex:
            await codex.model_list()
            for _ in range(100):
                if answers(log, 8):
                    break
                await asyncio.sleep(0.05)
        assert answers(log, 8)[0]["error"]["code"] == rpc.INVALID_PARAMS

    asyncio.run(main())


def test_async_timeout_and_cancel_forget_the_request(fake: Any) -> None:
    async def main() -> None:
        config, _ = fake("silent", request_timeout=0.5)
        async with AsyncCodex(config) as codex:
            with pytest.raises(RequestTimeoutError):
                await codex.model_list()
            task = asyncio.get_running_loop().create_task(codex.model_list())
            await asyncio.sleep(0.1)
            assert len(codex._pending) == 1
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert not codex._pending

    asyncio.run(main())


def test_async_server_exit_fails_every_waiter(fake: Any) -> None:
    async def main() -> None:
        config, _ = fake("exit", request_timeout=30.0)
        async with AsyncCodex(config) as codex:
            started = time.monotonic()
            results = await asyncio.gather(
                *(codex.model_list() for _ in range(3)), return_exceptions=True
            )
            assert time.monotonic() - started < 2.5
        assert all(isinstance(r, TransportClosedError) for r in results)
        assert results[0].exit_status == 3  # type: ignore[union-attr]
        no_other_tasks()

    asyncio.run(main())


def test_async_approvals_declined_and_handled(fake: Any) -> None:
    class Approve(rpc.AsyncServerRequestHandler):
        async def item_command_execution_request_approval(self, params: Any) -> Any:
            return {"decision": "accept"}

    async def main() -> None:
        config, log = fake("approval")
        async with AsyncCodex(config) as codex:
            await (await codex.thread_start()).run("run a command")
        assert answers(log, 41)[0]["result"] == {"decision": "decline"}
        config, log = fake("approval")
        async with AsyncCodex(config) as codex:
            thread = await codex.thread_start(handler=Approve())
            await thread.run("run a command")
        assert answers(log, 41)[0]["result"] == {"decision": "accept"}

    asyncio.run(main())


def test_async_handler_that_does_not_answer_in_time_is_cancelled(fake: Any) -> None:
    cancelled: list[bool] = []

    class Stuck(rpc.AsyncServerRequestHandler):
        async def item_command_execution_request_approval(self, params: Any) -> Any:
            try:
                await asyncio.sleep(30)
            except asyncio.CancelledError:
                cancelled.append(True)
                raise
            return {"decision": "accept"}

    async def main() -> None:
        config, log = fake("approval", handler_timeout=0.3)
        async with AsyncCodex(config, handler=Stuck()) as codex:
            await (await codex.thread_start()).run("run a command")
        [answer] = answers(log, 41)
        assert answer["error"]["code"] == rpc.INTERNAL_ERROR
        assert "did not answer within 0.3 s" in answer["error"]["message"]
        assert cancelled
        no_other_tasks()

    asyncio.run(main())


def test_async_handler_still_answering_is_cancelled_on_close(fake: Any) -> None:
    cancelled: list[bool] = []
    asked = asyncio.Event()

    class Stuck(rpc.AsyncServerRequestHandler):
        async def item_command_execution_request_approval(self, params: Any) -> Any:
            asked.set()
            try:
                await asyncio.sleep(30)
            except asyncio.CancelledError:
                cancelled.append(True)
                raise
            return {"decision": "accept"}

    async def main() -> None:
        config, _ = fake("approval")
        async with AsyncCodex(config, handler=Stuck()) as codex:
            await (await codex.thread_start()).turn("run a command")
            await asyncio.wait_for(asked.wait(), 5)
        assert cancelled
        no_other_tasks()

    asyncio.run(main())


def test_async_turn_handler_overrides_the_client_handler(fake: Any) -> None:
    class Decline(rpc.AsyncServerRequestHandler):
        async def item_command_execution_request_approval(self, params: Any) -> Any:
            return {"decision": "cancel"}

    class Approve(rpc.AsyncServerRequestHandler):
        async def item_command_execution_request_approval(self, params: Any) -> Any:
            return {"decision": "accept"}

    async def main() -> None:
        config, log = fake("approval")
        async with AsyncCodex(config, handler=Decline()) as codex:
            await (
                await (await codex.thread_start()).turn(
                    "run a command", handler=Approve()
                )
            ).run()
        assert answers(log, 41)[0]["result"] == {"decision": "accept"}

    asyncio.run(main())


def test_async_request_naming_no_turn_goes_to_the_running_turns_handler(
    fake: Any,
) -> None:
    class Deny(rpc.AsyncServerRequestHandler):
        async def exec_command_approval(self, params: Any) -> Any:
            return {"decision": "denied"}

    class Approve(rpc.AsyncServerRequestHandler):
        async def exec_command_approval(self, params: Any) -> Any:
            return {"decision": "approved"}

    async def main() -> None:
        config, log = fake("legacy_approval")
        async with AsyncCodex(config, handler=Deny()) as codex:
            thread = await codex.thread_start()
            await (await thread.turn("run a command", handler=Approve())).run()
        assert answers(log, 43)[0]["result"] == {"decision": "approved"}

    asyncio.run(main())


def test_async_two_concurrent_turns(fake: Any) -> None:
    async def main() -> None:
        config, _ = fake("concurrent")
        async with AsyncCodex(config) as codex:
            threads = [await codex.thread_start(), await codex.thread_start()]
            handles = await asyncio.gather(
                *(t.turn(f"turn {i}") for i, t in enumerate(threads))
            )
            for handle in reversed(handles):
                events = [e async for e in handle.stream()]
                assert events[-1].method == "turn/completed"
                assert all(turn_ids(e) <= {handle.id} for e in events)

    asyncio.run(main())


def test_importing_the_bindings_does_not_import_the_client() -> None:
    import subprocess
    import sys

    code = (
        "import sys, codex_app_server_types, codex_app_server_types.rpc\n"
        "from codex_app_server_types.v2 import Thread\n"
        "Thread.model_rebuild()\n"
        "assert not [m for m in sys.modules if m.startswith('codex_app_server_types.client')], 'client imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
