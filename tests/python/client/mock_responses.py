"""A loopback mock of the Responses API for the real-server tests (standard library only).

`POST /v1/responses` is answered with a server-sent event stream chosen by markers in the last user message:
`[mock:exec:PATH]` asks to run `touch PATH` (a command that needs approval), `[mock:fail]` fails the stream,
`[mock:slow]` streams slowly (for interrupt and steer); anything else is a text answer. `[token:X]` is echoed
in the text (`Hello X.`), so each turn's stream can be checked to hold its own turn's events only.
"""

from __future__ import annotations

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def last_prompt(request: dict[str, Any]) -> tuple[str, bool]:
    prompt, tool_output = "", False
    for item in request.get("input", []):
        if item.get("type") == "message" and item.get("role") == "user":
            prompt = "\n".join(
                part.get("text", "")
                for part in item.get("content", [])
                if isinstance(part, dict)
            )
            tool_output = False
        elif item.get("type") == "function_call_output":
            tool_output = True
    return prompt, tool_output


def text_events(chunks: list[str]) -> list[dict[str, Any]]:
    started = {"type": "message", "role": "assistant", "id": "msg_mock", "content": []}
    events: list[dict[str, Any]] = [
        {"type": "response.output_item.added", "output_index": 0, "item": started}
    ]
    for chunk in chunks:
        events.append(
            {
                "type": "response.output_text.delta",
                "output_index": 0,
                "content_index": 0,
                "item_id": "msg_mock",
                "delta": chunk,
            }
        )
    text = {"type": "output_text", "text": "".join(chunks), "annotations": []}
    done = {"type": "message", "role": "assistant", "id": "msg_mock", "content": [text]}
    events.append(
        {"type": "response.output_item.done", "output_index": 0, "item": done}
    )
    return events


def answer(request: dict[str, Any]) -> tuple[list[dict[str, Any]], float]:
    """The events of the answer, and the pause between them."""
    prompt, tool_output = last_prompt(request)
    created = {"type": "response.created", "response": {"id": "resp_mock"}}
    usage = {"input_tokens": 10, "output_tokens": 5, "total_tokens": 15}
    completed = {
        "type": "response.completed",
        "response": {"id": "resp_mock", "usage": usage},
    }
    if "[mock:fail]" in prompt:
        error = {
            "code": "server_error",
            "message": "the mock's stream fails on purpose",
        }
        return [
            created,
            {
                "type": "response.failed",
                "response": {"id": "resp_mock", "error": error},
            },
        ], 0.0
    exec_marker = re.search(r"\[mock:exec:([^\]]+)\]", prompt)
    if exec_marker and not tool_output:
        arguments = {
            "cmd": f"touch {exec_marker.group(1)}",
            "sandbox_permissions": "require_escalated",
            "login": False,
        }
        call = {
            "type": "function_call",
            "id": "fc_mock",
            "call_id": "call_mock",
            "name": "exec_command",
            "arguments": json.dumps(arguments),
        }
        return [
            created,
            {"type": "response.output_item.added", "output_index": 0, "item": call},
            {"type": "response.output_item.done", "output_index": 0, "item": call},
            completed,
        ], 0.0
    token = re.search(r"\[token:([^\]]+)\]", prompt)
    name = token.group(1) if token else "there"
    if "[mock:slow]" in prompt:
        return [
            created,
            *text_events(["Slow"] + [" ."] * 40 + [f" {name}."]),
            completed,
        ], 0.25
    return [created, *text_events(["Hello", f" {name}", "."]), completed], 0.0


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        self.server.requests.append(json.loads(body))  # type: ignore[attr-defined]
        events, pause = answer(json.loads(body))
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("cache-control", "no-cache")
        self.send_header("connection", "close")
        self.end_headers()
        try:
            for event in events:
                self.wfile.write(
                    f"event: {event['type']}\ndata: {json.dumps(event)}\n\n".encode()
                )
                self.wfile.flush()
                if pause:
                    time.sleep(pause)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, format: str, *args: Any) -> None:
        pass


class MockResponses:
    """The mock, serving on a loopback port from a thread of its own until `close()`."""

    def __init__(self) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.server.daemon_threads = True
        self.server.requests = []  # type: ignore[attr-defined]
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(
            target=self.server.serve_forever, name="mock-responses", daemon=True
        )
        self._thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)
