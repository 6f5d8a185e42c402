"""Drives a real `codex app-server` through the conformance scenarios with the generated Python package.

`cargo xtask conformance` runs it with `CODEX_HOME` pointing at a scratch home whose model provider is the
loopback mock of the Responses API; the mock answers by the marker in each prompt (`[mock:text]`,
`[mock:exec]`, `[mock:fail]`). Every message sent and received is written, in order, to the transcript
(`{"from": "client" | "server", "message": ...}` per line), which `wire_check.py` then checks.

    python conformance_driver.py CODEX_BINARY TRANSCRIPT
"""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from codex_app_server_types import (
    ClientInfo,
    CommandExecutionRequestApprovalParams,
    CommandExecutionRequestApprovalResponse,
    ErrorNotification,
    ItemAgentMessageDeltaNotification,
    ItemCompletedNotification,
    TurnCompletedNotification,
    __version__,
    rpc,
    v2,
)

# How long one step may take before the driver gives up (the server answers in well under a second).
STEP_TIMEOUT = 60.0


class ScenarioFailed(Exception):
    pass


class Approver(rpc.ServerRequestHandler):
    """Accepts every command the server asks about, and remembers what it was asked."""

    def __init__(self) -> None:
        self.asked: list[CommandExecutionRequestApprovalParams] = []

    def item_command_execution_request_approval(
        self, params: CommandExecutionRequestApprovalParams
    ) -> CommandExecutionRequestApprovalResponse:
        self.asked.append(params)
        return CommandExecutionRequestApprovalResponse(decision="accept")


class Connection(rpc.ClientMethods):
    """One `codex app-server` over stdio: typed requests out, typed messages in, all of it recorded."""

    def __init__(self, codex: str, stderr: Path) -> None:
        self.process = subprocess.Popen(
            [codex, "app-server"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr.open("wb"),
        )
        assert self.process.stdin is not None and self.process.stdout is not None
        self.input = self.process.stdin
        self.lines: queue.Queue[bytes] = queue.Queue()
        threading.Thread(
            target=self._read, args=(self.process.stdout,), daemon=True
        ).start()
        self.pending = rpc.PendingRequests()
        self.handler = Approver()
        self.transcript: list[dict[str, Any]] = []
        self.notifications: list[rpc.ServerNotificationMessage] = []

    def _read(self, output: IO[bytes]) -> None:
        for line in output:
            self.lines.put(line)
        self.lines.put(b"")  # The end of the output.

    # --- the wire -------------------------------------------------------------------------------------------

    def send(self, message: dict[str, Any], *, invalid: bool = False) -> None:
        entry: dict[str, Any] = {"from": "client", "message": message}
        if invalid:
            entry["invalid"] = True
        self.transcript.append(entry)
        self.input.write(json.dumps(message).encode() + b"\n")
        self.input.flush()

    def receive(self, deadline: float) -> rpc.Message:
        """The next message from the server; requests from the server are answered on the way."""
        try:
            line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            raise ScenarioFailed("the server sent nothing in time") from None
        if not line:
            raise ScenarioFailed(
                f"the server closed its output (exit status {self.process.wait()})"
            )
        data = json.loads(line)
        self.transcript.append({"from": "server", "message": data})
        message = rpc.decode(data, self.pending)
        if rpc.is_server_request(message):
            self.send(self.handler.handle(message))
        elif rpc.is_notification(message):
            self.notifications.append(message)
        return message

    def wait_for(
        self, what: str, matches: Callable[[rpc.Message], bool]
    ) -> rpc.Message:
        deadline = time.monotonic() + STEP_TIMEOUT
        while True:
            message = self.receive(deadline)
            if matches(message):
                return message
            if time.monotonic() > deadline:
                raise ScenarioFailed(f"no {what} in time")

    def call_raw(
        self, method: str, params: Any, *, invalid: bool = False
    ) -> rpc.Response | rpc.ErrorResponse:
        envelope = self.pending.request(method, params)
        self.send(envelope, invalid=invalid)
        answer = self.wait_for(
            f"answer to {method}",
            lambda m: (
                isinstance(m, (rpc.Response, rpc.ErrorResponse))
                and m.id == envelope["id"]
            ),
        )
        assert isinstance(answer, (rpc.Response, rpc.ErrorResponse))
        return answer

    # --- rpc.ClientMethods ----------------------------------------------------------------------------------

    def _request(self, method: str, params: dict[str, Any] | None) -> dict[str, Any]:
        answer = self.call_raw(method, params)
        if isinstance(answer, rpc.ErrorResponse):
            raise rpc.RpcError.from_response(answer)
        # `_call` validates the result itself, from the JSON received.
        return rpc.encode(answer)["result"]  # type: ignore[no-any-return]

    def _notify(self, method: str, params: dict[str, Any] | None) -> None:
        self.send(rpc.encode_notification(method, params))

    def close(self) -> int:
        self.input.close()
        try:
            return self.process.wait(timeout=STEP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise ScenarioFailed(
                "the server did not exit after its input closed"
            ) from None


def wait_turn(connection: Connection, turn_id: str) -> v2.TurnCompletedNotification:
    """Reads until turn `turn_id` completes."""
    message = connection.wait_for(
        f"turn/completed of {turn_id}",
        lambda m: (
            isinstance(m, TurnCompletedNotification) and m.params.turn.id == turn_id
        ),
    )
    assert isinstance(message, TurnCompletedNotification)
    return message.params


def turn(
    connection: Connection, thread_id: str, prompt: str
) -> tuple[v2.Turn, list[rpc.ServerNotificationMessage]]:
    """Runs one turn to its end: the completed turn and the notifications received meanwhile."""
    first = len(connection.notifications)
    started = connection.turn_start(
        thread_id=thread_id, input=[v2.TextUserInput(text=prompt)]
    )
    completed = wait_turn(connection, started.turn.id)
    return completed.turn, connection.notifications[first:]


def expect(condition: bool, what: str) -> None:
    if not condition:
        raise ScenarioFailed(what)


def run(connection: Connection) -> None:
    """The scenarios, in order; each step checks what the server answered, in its types."""
    # The package's version, which the server echoes at the end of its user agent.
    init = connection.initialize(
        client_info=ClientInfo(name="conformance-python", version=__version__)
    )
    expect(
        init.user_agent.endswith(f"(conformance-python; {__version__})"),
        f"initialize: the user agent {init.user_agent!r} does not echo version {__version__}",
    )
    connection.initialized()

    config = connection.config_read()
    expect(
        config.config.model == "mock-model",
        f"config/read: model {config.config.model!r}",
    )
    models = connection.model_list()
    expect(isinstance(models.data, list), "model/list: no data")

    thread = connection.thread_start().thread

    # A text turn: the mock streams the answer in three deltas.
    done, seen = turn(connection, thread.id, "[mock:text] say hello")
    expect(done.status == v2.TurnStatus.COMPLETED, f"text turn: {done.status}")
    deltas = [
        m.params.delta for m in seen if isinstance(m, ItemAgentMessageDeltaNotification)
    ]
    expect(deltas == ["Hello", " from", " the mock."], f"text turn: deltas {deltas}")

    # A turn whose command needs approval, answered through `ServerRequestHandler`.
    done, seen = turn(connection, thread.id, "[mock:exec] run a command")
    expect(done.status == v2.TurnStatus.COMPLETED, f"exec turn: {done.status}")
    expect(
        len(connection.handler.asked) == 1,
        f"exec turn: {len(connection.handler.asked)} approvals asked",
    )
    outputs = [
        m.params.item.aggregated_output
        for m in seen
        if isinstance(m, ItemCompletedNotification)
        and isinstance(m.params.item, v2.CommandExecutionThreadItem)
    ]
    expect(outputs == ["hi\n"], f"exec turn: command output {outputs}")

    # Outside the sandbox: the scratch machine may have no bubblewrap for the read-only one.
    executed = connection.command_exec(
        command=["echo", "conformance"],
        sandbox_policy=v2.DangerFullAccessSandboxPolicy(),
    )
    expect(
        executed.exit_code == 0 and executed.stdout == "conformance\n",
        f"command/exec: {executed}",
    )

    listed = connection.thread_list()
    expect(
        any(t.id == thread.id for t in listed.data),
        "thread/list: the thread is missing",
    )
    read = connection.thread_read(thread_id=thread.id, include_turns=True)
    expect(len(read.thread.turns) == 2, f"thread/read: {len(read.thread.turns)} turns")

    # Params the schema rejects (`threadId` is a string): a typed JSON-RPC error comes back.
    answer = connection.call_raw("thread/read", {"threadId": 42}, invalid=True)
    expect(isinstance(answer, rpc.ErrorResponse), "invalid params: no error response")
    assert isinstance(answer, rpc.ErrorResponse)
    expect(
        answer.error.code == rpc.INVALID_REQUEST
        or answer.error.code == rpc.INVALID_PARAMS,
        f"{answer.error}",
    )

    # The model stream fails: an `error` notification, and the turn fails.
    done, seen = turn(connection, thread.id, "[mock:fail] this stream fails")
    expect(done.status == v2.TurnStatus.FAILED, f"failing turn: {done.status}")
    expect(
        any(isinstance(m, ErrorNotification) for m in seen),
        "failing turn: no error notification",
    )


def main() -> int:
    codex, transcript = sys.argv[1], Path(sys.argv[2])
    connection = Connection(codex, transcript.with_suffix(".stderr"))
    try:
        run(connection)
        status = connection.close()
        expect(status == 0, f"the server exited with status {status}")
    except (ScenarioFailed, rpc.RpcError) as error:
        print(f"conformance (python): {error}", file=sys.stderr)
        connection.process.kill()
        return 1
    finally:
        transcript.write_text(
            "".join(json.dumps(entry) + "\n" for entry in connection.transcript)
        )
    print(
        f"conformance (python): all scenarios passed, {len(connection.transcript)} messages recorded"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
