#!/usr/bin/env python3
"""A scripted stand-in for `codex app-server` over stdio, for the client runtime's tests.

It answers with messages recorded from the real server (`tests/fixtures/wire/python.jsonl`), the thread and
turn ids swapped for fresh ones, and misbehaves as `FAKE_SCENARIO` asks. Every line it receives is appended to
`FAKE_LOG`. Needs only the standard library.
"""

from __future__ import annotations

import itertools
import json
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

TRANSCRIPT = Path(__file__).resolve().parents[2] / "fixtures" / "wire" / "python.jsonl"
SCENARIO = os.environ.get("FAKE_SCENARIO", "normal")
LOG = os.environ.get("FAKE_LOG")

results: dict[str, Any] = {}
first_turn: list[dict[str, Any]] = []
approval: dict[str, Any] = {}
methods: dict[Any, str] = {}
turns_seen = 0
for raw in TRANSCRIPT.read_text().splitlines():
    entry = json.loads(raw)
    message = entry["message"]
    if entry["from"] == "client":
        if "id" in message and "method" in message:
            methods[message["id"]] = message["method"]
            if message["method"] == "turn/start":
                turns_seen += 1
        continue
    if "result" in message and message["id"] in methods:
        results.setdefault(methods[message["id"]], message["result"])
    elif (
        message.get("method") == "item/commandExecution/requestApproval"
        and not approval
    ):
        approval = message
    elif "method" in message and "id" not in message and turns_seen == 1:
        first_turn.append(message)
THREAD = results["thread/start"]["thread"]["id"]
TURN = results["turn/start"]["turn"]["id"]
# The first turn's own notifications, up to its turn/completed.
first_turn = first_turn[
    : next(i for i, m in enumerate(first_turn) if m["method"] == "turn/completed") + 1
]
first_turn = [m for m in first_turn if m["method"] != "thread/started"]

lock = threading.Lock()
overloads = itertools.count()
counter = itertools.count(1)


def send(message: Any) -> None:
    with lock:
        sys.stdout.write(
            (message if isinstance(message, str) else json.dumps(message)) + "\n"
        )
        sys.stdout.flush()


def swap(value: Any, thread: str, turn: str) -> Any:
    return json.loads(json.dumps(value).replace(THREAD, thread).replace(TURN, turn))


def turn_events(thread: str, turn: str) -> list[Any]:
    return [swap(m, thread, turn) for m in first_turn]


def respond(request: dict[str, Any], result: Any) -> None:
    send({"id": request["id"], "result": result})


pending_turns: list[tuple[dict[str, Any], str, str]] = []


def on_turn_start(request: dict[str, Any]) -> None:
    thread = request["params"]["threadId"]
    turn = f"turn-{next(counter)}"
    response = swap(results["turn/start"], thread, turn)
    events = turn_events(thread, turn)
    if SCENARIO == "early":
        send(events[0])
        send(events[1])
        send(events[2])
        respond(request, response)
        for event in events[3:]:
            send(event)
    elif SCENARIO == "concurrent":
        pending_turns.append((request, thread, turn))
        if len(pending_turns) == 2:
            for r, t, u in pending_turns:
                respond(r, swap(results["turn/start"], t, u))
            streams = [turn_events(t, u) for _, t, u in pending_turns]
            for a, b in itertools.zip_longest(*streams):
                for event in (a, b):
                    if event is not None:
                        send(event)
    elif SCENARIO == "approval":
        respond(request, response)
        ask = json.loads(
            json.dumps(approval)
            .replace(approval["params"]["turnId"], turn)
            .replace(THREAD, thread)
        )
        ask["id"] = 41
        send(ask)
        # The turn ends once the answer arrives (see main).
        pending_turns.append((request, thread, turn))
    elif SCENARIO == "legacy_approval":
        # A request that names the thread and no turn, while the turn runs.
        respond(request, response)
        send(
            {
                "id": 43,
                "method": "execCommandApproval",
                "params": {
                    "conversationId": thread,
                    "callId": "call-1",
                    "command": ["ls"],
                    "cwd": "/tmp",
                    "parsedCmd": [],
                },
            }
        )
        pending_turns.append((request, thread, turn))
    elif SCENARIO == "hang_turn":
        respond(request, response)
    elif SCENARIO == "bad_notifications":
        respond(request, response)
        for event in events[:-1]:
            if event["method"] == "item/agentMessage/delta":
                event = {**event, "params": {**event["params"], "delta": 5}}
            send(event)
        send(
            {
                "method": "turn/completed",
                "params": {"threadId": thread, "turn": {"id": turn, "status": 7}},
            }
        )
    else:
        respond(request, response)
        for event in events:
            send(event)


def extras() -> None:
    """What the scenario sends before answering `model/list`."""
    if SCENARIO == "malformed":
        send("this is not json")
        send({"method": "made/up", "params": {"threadId": "t-x", "value": 1}})
    elif SCENARIO == "unknown_request":
        send({"id": 7, "method": "made/up/request", "params": {}})
    elif SCENARIO == "long_line":
        # Longer than the tests' max_message_size, then a line that fits.
        send({"method": "made/up", "params": {"text": "x" * 300_000}})
        send({"method": "made/up", "params": {"n": 1}})
    elif SCENARIO == "flood":
        for i in range(20):
            send({"method": "made/up", "params": {"n": i}})
    elif SCENARIO == "bad_request":
        send(
            {
                "id": 8,
                "method": "item/commandExecution/requestApproval",
                "params": {"bogus": True},
            }
        )


def main() -> None:
    for line in sys.stdin:
        if LOG:
            with open(LOG, "a") as log:
                log.write(line)
        message = json.loads(line)
        method = message.get("method")
        if "id" in message and method is None:
            # An answer to a server request.
            if SCENARIO in ("approval", "legacy_approval") and pending_turns:
                _, thread, turn = pending_turns.pop()
                for event in turn_events(thread, turn)[-3:]:
                    send(event)
            continue
        if method == "initialize":
            result = dict(results["initialize"])
            result["userAgent"] = (
                "fake/0.1.0 (test)" if SCENARIO == "old" else "fake/99.0.0 (test)"
            )
            respond(message, result)
            continue
        if "id" not in message:
            continue
        if SCENARIO == "silent" and method != "thread/start":
            continue
        if SCENARIO == "exit" and method == "model/list":
            sys.stderr.write("fatal: the fake server stops here\n")
            sys.stderr.flush()
            time.sleep(0.2)
            os._exit(3)
        if method == "thread/start":
            respond(
                message, swap(results["thread/start"], f"thread-{next(counter)}", TURN)
            )
        elif method == "turn/start":
            on_turn_start(message)
        elif method == "model/list" and SCENARIO == "overload" and next(overloads) < 2:
            send(
                {
                    "id": message["id"],
                    "error": {
                        "code": -32001,
                        "message": "Server overloaded; retry later.",
                    },
                }
            )
        elif method == "model/list" and SCENARIO == "bad_result":
            respond(message, {"data": 5})
        elif method == "model/list" and SCENARIO == "null_error":
            send({"id": message["id"], "result": results["model/list"], "error": None})
        elif method == "thread/list" and SCENARIO == "null_error":
            send({"id": message["id"], "error": None})
        elif method == "model/list":
            extras()
            respond(message, results["model/list"])
        elif method == "turn/interrupt":
            respond(message, {})
        else:
            send(
                {
                    "id": message["id"],
                    "error": {"code": -32601, "message": f"unknown method {method}"},
                }
            )


if __name__ == "__main__":
    main()
