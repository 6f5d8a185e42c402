"""Checks recorded JSON-RPC traffic against the generated package.

A transcript is a list of entries `{"from": "client" | "server", "message": {...}}`, in the order the
messages crossed the wire (the format of `tests/fixtures/wire/*.jsonl`). `check` reads every message with
the typed path a client uses:

- server messages through `rpc.decode`, with the requests the client sent pending, so each response's result
  is typed by its request's method;
- client requests and notifications as the `ClientRequest` / `ClientNotification` unions, and the client's
  responses to server requests by the result type of the request they answer.

Each message must decode (in strict mode: into its specific type, never an unknown variant) and encode back
to exactly the JSON received. An entry marked `"invalid": true` is a message sent on purpose with params the
schema rejects: it must *not* decode into its method's type. The drift found on the way (properties,
variants and enum values the schema does not declare, all kept) is listed per type.

Used by the conformance drivers, by `test_wire.py` on the recordings, and by `cargo xtask check-releases` to
read the pinned release's recordings with an older release's package (`--lenient`: unknown variants are
allowed there, losing nothing still is not).
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, TypeAdapter, ValidationError

PACKAGE = "codex_app_server_types"


@dataclass
class Report:
    """What `check` saw: messages per (direction, method, kind), failures, and the drift."""

    checked: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    drift: dict[str, set[str]] = field(default_factory=dict)

    def fail(self, index: int, entry: Mapping[str, Any], problem: str) -> None:
        text = json.dumps(entry["message"])
        if len(text) > 400:
            text = text[:400] + "…"
        self.failures.append(
            f"message {index} ({entry['from']}): {problem}\n    {text}"
        )

    def table(self) -> str:
        """Messages checked per method and direction, one line each."""
        width = max((len(method) for _, method, _ in self.checked), default=0)
        lines = [
            f"  {direction:<6} {kind:<12} {method:<{width}} {count:>4}"
            for (direction, method, kind), count in sorted(self.checked.items())
        ]
        total = sum(self.checked.values())
        return "\n".join([*lines, f"  {total} messages checked"])


class Checker:
    """Reads one connection's traffic in order; `check` below runs it over a transcript."""

    def __init__(self, package: str = PACKAGE, *, strict: bool = True) -> None:
        self.rpc = importlib.import_module(f"{package}.rpc")
        base = importlib.import_module(f"{package}._base")
        root = importlib.import_module(package)
        self.unknown_variant: type[BaseModel] = base.UnknownVariant
        self.wire_enum: type[Enum] = base.WireEnum
        self.client_requests: TypeAdapter[Any] = TypeAdapter(root.ClientRequest)
        self.client_notifications: TypeAdapter[Any] = TypeAdapter(
            root.ClientNotification
        )
        self.strict = strict
        self.pending = self.rpc.PendingRequests()
        # Requests the server sent and the client has not answered: id → method.
        self.server_pending: dict[Any, str] = {}
        self.report = Report()

    def check(self, index: int, entry: Mapping[str, Any]) -> None:
        message = entry["message"]
        try:
            if entry["from"] == "client":
                self._client(index, entry, message)
            elif entry["from"] == "server":
                self._server(index, entry, message)
            else:
                self.report.fail(index, entry, f"unknown direction {entry['from']!r}")
        except ValidationError as error:
            self.report.fail(index, entry, f"does not decode: {error}")

    def _client(
        self, index: int, entry: Mapping[str, Any], message: dict[str, Any]
    ) -> None:
        if "method" in message:
            is_request = "id" in message
            kind = "request" if is_request else "notification"
            if is_request:
                self.pending.add(message["method"], message["id"])
            adapter = self.client_requests if is_request else self.client_notifications
            if entry.get("invalid"):
                self._expect_rejected(index, entry, adapter, message, kind)
                return
            decoded = adapter.validate_python(message)
            self._known(index, entry, decoded)
            self._same(index, entry, decoded.model_dump(mode="json"), message)
            self._count("client", message["method"], kind)
            self._drift(decoded)
            return
        method = self.server_pending.pop(message.get("id"), None)
        if method is None:
            self.report.fail(index, entry, "answers no request the server sent")
            return
        if "error" in message:
            decoded_error = self.rpc.ErrorResponse.model_validate(message)
            self._same(index, entry, self.rpc.encode(decoded_error), message)
            self._count("client", method, "error")
            return
        spec = self.rpc.SERVER_REQUESTS.get(method)
        if spec is None:
            self.report.fail(
                index, entry, f"answers {method}, which has no result type"
            )
            return
        result = spec.response_adapter.validate_python(message["result"])
        self._known(index, entry, result)
        dumped = spec.response_adapter.dump_python(
            result, mode="json", by_alias=True, exclude_unset=True
        )
        self._same(index, entry, {"id": message["id"], "result": dumped}, message)
        self._count("client", method, "response")
        self._drift(result)

    def _server(
        self, index: int, entry: Mapping[str, Any], message: dict[str, Any]
    ) -> None:
        if entry.get("invalid"):
            self.report.fail(index, entry, "only client messages can be marked invalid")
            return
        decoded = self.rpc.decode(message, self.pending)
        if isinstance(decoded, self.rpc.Response):
            if decoded.method is None:
                self.report.fail(index, entry, "answers no request the client sent")
                return
            self._known(index, entry, decoded.result)
            method, kind = decoded.method, "response"
        elif isinstance(decoded, self.rpc.ErrorResponse):
            method = self.pending.pop(decoded.id) if decoded.id is not None else None
            if method is None:
                self.report.fail(index, entry, "answers no request the client sent")
                return
            kind = "error"
        else:
            self._known(index, entry, decoded)
            method = message["method"]
            kind = "request" if "id" in message else "notification"
            if kind == "request":
                self.server_pending[message["id"]] = method
        self._same(index, entry, self.rpc.encode(decoded), message)
        self._count("server", method, kind)
        self._drift(decoded)

    def _expect_rejected(
        self,
        index: int,
        entry: Mapping[str, Any],
        adapter: TypeAdapter[Any],
        message: dict[str, Any],
        kind: str,
    ) -> None:
        try:
            decoded = adapter.validate_python(message)
        except ValidationError:
            pass
        else:
            if not isinstance(decoded, self.unknown_variant):
                self.report.fail(
                    index,
                    entry,
                    f"marked invalid, yet decodes as {type(decoded).__name__}",
                )
                return
        self._count("client", message["method"], f"invalid {kind}")

    def _known(self, index: int, entry: Mapping[str, Any], decoded: Any) -> None:
        if self.strict and isinstance(decoded, self.unknown_variant):
            self.report.fail(index, entry, f"decodes only as {type(decoded).__name__}")

    def _same(
        self, index: int, entry: Mapping[str, Any], encoded: Any, message: Any
    ) -> None:
        if encoded != message:
            self.report.fail(
                index, entry, f"encodes differently:\n    {json.dumps(encoded)[:400]}"
            )

    def _count(self, direction: str, method: str, kind: str) -> None:
        self.report.checked[(direction, method, kind)] += 1

    def _drift(self, value: Any) -> None:
        """Records what `value` holds that the schema does not declare: extra properties, unknown variants
        and unknown enum values, by the type that holds them."""
        if isinstance(value, BaseModel):
            name = type(value).__name__
            if isinstance(value, self.unknown_variant):
                tag = next(iter(type(value).model_fields))
                self._drifted(name, f"variant {tag}={getattr(value, tag)!r}")
            else:
                for key in value.model_extra or {}:
                    self._drifted(name, f"property {key}")
            for key in type(value).model_fields:
                self._drift(getattr(value, key))
        elif isinstance(value, self.wire_enum):
            if value.is_unknown():  # type: ignore[attr-defined]
                self._drifted(type(value).__name__, f"value {value.value!r}")
        elif isinstance(value, dict):
            for item in value.values():
                self._drift(item)
        elif isinstance(value, (list, tuple)):
            for item in value:
                self._drift(item)

    def _drifted(self, name: str, what: str) -> None:
        self.report.drift.setdefault(name, set()).add(what)


def check(
    entries: Iterable[Mapping[str, Any]], package: str = PACKAGE, *, strict: bool = True
) -> Report:
    """Checks one connection's transcript (see the module's doc)."""
    checker = Checker(package, strict=strict)
    for index, entry in enumerate(entries):
        checker.check(index, entry)
    return checker.report


def read_transcript(path: Path) -> list[dict[str, Any]]:
    return [
        json.loads(line)
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]


def drift_text(drift: Mapping[str, set[str]]) -> str:
    if not drift:
        return "  none"
    return "\n".join(
        f"  {name}: {', '.join(sorted(items))}" for name, items in sorted(drift.items())
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0] if __doc__ else None
    )
    parser.add_argument("transcripts", nargs="+", type=Path)
    parser.add_argument(
        "--package", default=PACKAGE, help="the generated package to check with"
    )
    parser.add_argument(
        "--lenient",
        action="store_true",
        help="allow unknown variants (an older release)",
    )
    parser.add_argument(
        "--drift-json", type=Path, help="write the drift found, by type, to this file"
    )
    args = parser.parse_args(argv)
    failed = False
    drift: dict[str, set[str]] = {}
    for path in args.transcripts:
        report = check(read_transcript(path), args.package, strict=not args.lenient)
        print(
            f"{path.name}: messages checked per direction, kind and method\n{report.table()}"
        )
        for failure in report.failures:
            print(f"  FAILED {failure}")
        failed = failed or bool(report.failures)
        for name, items in report.drift.items():
            drift.setdefault(name, set()).update(items)
    print(f"not declared by the schema (kept losslessly):\n{drift_text(drift)}")
    if args.drift_json:
        args.drift_json.write_text(
            json.dumps({k: sorted(v) for k, v in sorted(drift.items())}, indent=2)
            + "\n"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
