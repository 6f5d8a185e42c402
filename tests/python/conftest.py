"""Shared fixtures: the schema-derived samples and the Rust side of the cross-language checks.

Both come from the `wire` binary of the `binding-tests` crate (`cargo xtask test` builds it and sets
`WIRE_BIN`), so Python and Rust are checked against one set of samples.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]


def wire_binary() -> str:
    default = REPO / "target" / "debug" / "wire"
    path = os.environ.get("WIRE_BIN", str(default))
    if not Path(path).exists():
        pytest.exit(f"{path} is missing: run `cargo build -p binding-tests --bin wire` (cargo xtask test does)")
    return path


def resolve(path: str) -> Any:
    """`module:name` to the object."""
    module, name = path.split(":")
    return getattr(importlib.import_module(module), name)


@pytest.fixture(scope="session")
def samples() -> list[dict[str, Any]]:
    out = subprocess.run([wire_binary(), "samples"], check=True, capture_output=True, text=True).stdout
    return [json.loads(line) for line in out.splitlines()]


def rust_round_trip(requests: list[tuple[str, Any]]) -> list[dict[str, Any]]:
    """Decodes each `(pointer, value)` with the generated Rust type and encodes it again."""
    text = "".join(json.dumps({"pointer": p, "value": v}) + "\n" for p, v in requests)
    out = subprocess.run([wire_binary(), "roundtrip"], input=text, check=True, capture_output=True, text=True).stdout
    return [json.loads(line) for line in out.splitlines()]
