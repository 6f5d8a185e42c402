"""The Python half of `cargo xtask bench-python`; each call runs in a fresh interpreter and prints one JSON object.

  decode.py registry OUT.py          write the reference's notification registry (see `registry`)
  decode.py import ours|union|ref|pydantic
                                     cold import: times `import`, the notification types, the decoder, one decode
  decode.py decode ours|union|ref STREAM PASSES
                                     decode throughput: one checked warm-up pass, then PASSES timed passes over
                                     every line, the `item/*` lines, and the `item/started`/`item/completed` lines

`ours` is the generated package `codex_app_server_types` through its decoder, `rpc.decode` (which imports and builds
the class of a method on first sight of it); `union` is the same package through `TypeAdapter(ServerNotification)`
(every notification class, built at once); `ref` is datamodel-codegen's `v2_all` module, decoded the
way the Codex Python SDK decodes notifications (`AppServerClient._reader_loop` / `_coerce_notification`): `json.loads`
of the line, then `NOTIFICATION_MODELS.get(method)` and `model.model_validate(params)`, wrapped in a `Notification`.
"""

from __future__ import annotations

import json
import sys
import time
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


def registry(out: str) -> None:
    """The SDK's `notification_registry.py` for datamodel-codegen's output: method -> params model.

    The SDK reads the method names and params `$ref`s from `ServerNotification.json` and expects classes named after
    the definitions. datamodel-codegen numbers colliding names, so this reads the same facts from its output instead:
    each variant of the `ServerNotification` root model has a `method` field typed by a one-member enum (`Method123`)
    and a `params` field typed by the params model.
    """
    import v2_all

    union = v2_all.ServerNotification.model_fields["root"].annotation
    specs = []
    for variant in typing.get_args(union):
        (method,) = [m.value for m in variant.model_fields["method"].annotation]
        specs.append((method, variant.model_fields["params"].annotation.__name__))
    specs.sort()
    lines = ["from pydantic import BaseModel", ""]
    lines += [f"from v2_all import {name}" for name in sorted({name for _, name in specs})]
    lines += ["", "NOTIFICATION_MODELS: dict[str, type[BaseModel]] = {"]
    lines += [f"    {method!r}: {name}," for method, name in specs]
    lines += ["}", ""]
    with open(out, "w", encoding="utf-8") as f:
        f.write("\n".join(lines))
    print(json.dumps({"methods": len(specs), "classes": len({name for _, name in specs})}))


@dataclass(slots=True)
class Notification:
    """The SDK's `models.Notification`."""

    method: str
    payload: Any


@dataclass(slots=True)
class UnknownNotification:
    params: dict[str, Any]


def reference_decoder() -> Callable[[str], Any]:
    from notification_registry import NOTIFICATION_MODELS

    def decode(line: str) -> Any:
        msg = json.loads(line)
        if not isinstance(msg, dict) or "method" not in msg or "id" in msg:
            raise ValueError("not a notification")
        method = msg["method"]
        params = msg.get("params")
        params_dict = params if isinstance(params, dict) else {}
        model = NOTIFICATION_MODELS.get(method)
        if model is None:
            return Notification(method, UnknownNotification(params_dict))
        try:
            payload = model.model_validate(params_dict)
        except Exception:  # noqa: BLE001 -- as the SDK does
            return Notification(method, UnknownNotification(params_dict))
        return Notification(method, payload)

    return decode


def our_decoder(side: str) -> Callable[[str], Any]:
    if side == "ours":
        from codex_app_server_types import rpc

        return rpc.decode
    from codex_app_server_types import ServerNotification
    from pydantic import TypeAdapter

    return TypeAdapter(ServerNotification).validate_json


def unknown(side: str, decoded: Any) -> bool:
    if side == "ref":
        return isinstance(decoded.payload, UnknownNotification)
    from codex_app_server_types import UnknownServerNotification

    if side == "ours":
        from codex_app_server_types import rpc

        return isinstance(decoded, (UnknownServerNotification, rpc.Response, rpc.ErrorResponse))
    return isinstance(decoded, UnknownServerNotification)


def cold_import(side: str) -> None:
    """Seconds from before the first import to: the package imported; the notification types defined; the decoder
    built; one notification decoded (each figure includes the ones before it)."""
    line = '{"method":"item/agentMessage/delta","params":{"threadId":"t","turnId":"u","itemId":"i","delta":"Hi"}}'
    t0 = time.perf_counter()
    if side == "pydantic":  # what both sides import at least
        from pydantic import BaseModel, TypeAdapter  # noqa: F401

        t = time.perf_counter() - t0
        print(json.dumps({"import": t, "types": t, "decoder": t, "first_decode": t}))
        return
    if side == "ours":
        from codex_app_server_types import rpc

        # `decode` defines and builds the class of a method when it first sees one.
        t1 = t2 = t3 = time.perf_counter()
        decode: Callable[[str], Any] = rpc.decode
    elif side == "union":
        import codex_app_server_types

        t1 = time.perf_counter()
        from pydantic import TypeAdapter

        notification: Any = codex_app_server_types.ServerNotification  # the lazy package imports its modules here
        t2 = time.perf_counter()
        decode = TypeAdapter(notification).validate_json
        t3 = time.perf_counter()
    else:
        import v2_all  # noqa: F401 -- defines and builds every model

        t1 = time.perf_counter()
        decode = reference_decoder()  # imports the registry
        t2 = t3 = time.perf_counter()
    decoded = decode(line)
    t4 = time.perf_counter()
    if unknown(side, decoded):
        sys.exit(f"{side}: the sample line did not decode")
    print(json.dumps({"import": t1 - t0, "types": t2 - t0, "decoder": t3 - t0, "first_decode": t4 - t0}))


def throughput(side: str, stream: str, passes: int) -> None:
    decode = reference_decoder() if side == "ref" else our_decoder(side)
    with open(stream, encoding="utf-8") as f:
        lines = [line for line in f.read().splitlines() if line]
    methods = [json.loads(line)["method"] for line in lines]
    items = [line for line, m in zip(lines, methods) if m.startswith("item/")]
    lifecycle = [line for line, m in zip(lines, methods) if m in ("item/started", "item/completed")]
    for n, line in enumerate(lines, 1):  # the warm-up pass, checked
        if unknown(side, decode(line)):
            sys.exit(f"{side}: line {n} ({json.loads(line)['method']}) does not decode as its notification type")

    def timed(batch: list[str]) -> float:
        start = time.perf_counter()
        for line in batch:
            decode(line)
        return time.perf_counter() - start

    runs: dict[str, list[float]] = {"all": [], "items": [], "lifecycle": []}
    for _ in range(passes):
        runs["all"].append(timed(lines))
        runs["items"].append(timed(items))
        runs["lifecycle"].append(timed(lifecycle))
    print(json.dumps({"lines": len(lines), "item_lines": len(items), "lifecycle_lines": len(lifecycle), **runs}))


def main() -> None:
    match sys.argv[1:]:
        case ["registry", out]:
            registry(out)
        case ["import", ("ours" | "union" | "ref" | "pydantic") as side]:
            cold_import(side)
        case ["decode", ("ours" | "union" | "ref") as side, stream, passes]:
            throughput(side, stream, int(passes))
        case _:
            sys.exit(__doc__)


if __name__ == "__main__":
    main()
