"""A stand-in for `codex app-server` that replays a recorded turn, for `runtime.py`.

It answers `initialize`, `thread/start` and `turn/start` with what the real server answered in the conformance
recording (`tests/fixtures/wire/python.jsonl`), and after each `turn/start` response writes the notifications of
`stream.jsonl` as one turn: every turn of that stream, its ids rewritten to the thread and turn just started, with
one `turn/started` first and one `turn/completed` last. Other requests are answered with an empty result.

Arguments are ignored (clients start it as `<bin> app-server ...`). Settings come from the environment:
- `BENCH_PACE_US`: microseconds between two notification lines; 0 (the default) writes the whole turn at once.
- `BENCH_STAMPS`: a file to which each turn appends a line: a JSON array of the `time.monotonic_ns()` at which each
  line that names the turn was written (a client's turn stream yields exactly those lines, in order).
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RECORDING = HERE.parent.parent / "tests" / "fixtures" / "wire" / "python.jsonl"
STREAM = HERE / "stream.jsonl"

THREAD = "thread-bench"
TURN = "turn-bench"


def recorded_results() -> dict[str, Any]:
    """The first result the real server sent for each method the client asked."""
    methods: dict[Any, str] = {}
    results: dict[str, Any] = {}
    for line in RECORDING.read_text().splitlines():
        entry = json.loads(line)
        message = entry["message"]
        if entry["from"] == "client" and "method" in message and "id" in message:
            methods[message["id"]] = message["method"]
        elif entry["from"] == "server" and "result" in message and message["id"] in methods:
            results.setdefault(methods[message["id"]], message["result"])
    return results


def turn_template() -> tuple[str, list[bool]]:
    """The replayed turn as newline-terminated JSON text with the placeholder ids, and which lines name the turn."""
    lines = [json.loads(line) for line in STREAM.read_text().splitlines() if line.strip()]
    threads = {m["params"]["threadId"] for m in lines if "threadId" in m.get("params", {})}
    turns = {m["params"]["turnId"] for m in lines if "turnId" in m.get("params", {})}
    started = [m for m in lines if m["method"] == "turn/started"]
    completed = [m for m in lines if m["method"] == "turn/completed"]
    body = [m for m in lines if m["method"] not in ("turn/started", "turn/completed", "thread/started")]
    text = [json.dumps(m, separators=(",", ":")) for m in [started[0], *body, completed[-1]]]
    for old in threads:
        text = [t.replace(old, THREAD) for t in text]
    for old in turns | {m["params"]["turn"]["id"] for m in started + completed}:
        text = [t.replace(old, TURN) for t in text]
    return "".join(t + "\n" for t in text), [TURN in t for t in text]


def main() -> None:
    pace = int(os.environ.get("BENCH_PACE_US", "0")) / 1e6
    stamps_file = os.environ.get("BENCH_STAMPS")
    results = recorded_results()
    template, names_turn = turn_template()
    thread_result = json.loads(
        json.dumps(results["thread/start"]).replace(results["thread/start"]["thread"]["id"], THREAD)
    )
    turn_result = results["turn/start"]
    stamps = open(stamps_file, "a") if stamps_file else None  # noqa: SIM115  (open for the process's life)
    turns = 0
    out = sys.stdout.buffer

    def send(message: dict[str, Any]) -> None:
        out.write(json.dumps(message, separators=(",", ":")).encode() + b"\n")
        out.flush()

    for line in sys.stdin.buffer:
        message = json.loads(line)
        if "id" not in message or "method" not in message:
            continue
        method, request_id = message["method"], message["id"]
        if method == "initialize":
            send({"id": request_id, "result": results["initialize"]})
        elif method == "thread/start":
            send({"id": request_id, "result": thread_result})
        elif method == "turn/start":
            turn_id = f"turn-{turns}"
            result = json.loads(json.dumps(turn_result))
            result["turn"]["id"] = turn_id
            send({"id": request_id, "result": result})
            text = template.replace(TURN, turn_id).encode()
            written: list[int] = []
            if pace == 0:
                written = [time.monotonic_ns()] * sum(names_turn)
                out.write(text)
                out.flush()
            else:
                for one, named in zip(text.splitlines(keepends=True), names_turn):
                    deadline = time.monotonic() + pace
                    if named:
                        written.append(time.monotonic_ns())
                    out.write(one)
                    out.flush()
                    time.sleep(max(0.0, deadline - time.monotonic()))
            turns += 1
            # Written after every turn, as one appended line: a client may kill the server as soon as it is done
            # with it, and its next `turn/start` waits for this (rewriting every turn so far grew with each turn).
            if stamps:
                stamps.write(json.dumps(written) + "\n")
                stamps.flush()
        else:
            send({"id": request_id, "result": {}})


if __name__ == "__main__":
    main()
