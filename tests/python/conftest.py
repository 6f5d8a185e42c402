"""Shared fixtures: the schema-derived samples and the Rust side of the cross-language checks.

Both come from the `wire` binary of the `binding-tests` crate (`cargo xtask test` builds it and sets
`WIRE_BIN`), so Python and Rust are checked against one set of samples.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from enum import Enum
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

REPO = Path(__file__).resolve().parents[2]
FIXTURES = sorted((REPO / "tests" / "fixtures" / "schemas").glob("*.json"))
BIN = Path(sys.executable).parent


def codegen_binary() -> str:
    path = os.environ.get("CODEGEN_BIN", str(REPO / "target" / "debug" / "codegen"))
    if not Path(path).exists():
        pytest.exit(f"{path} is missing: run `cargo build -p codegen` (cargo xtask test does)")
    return path


@pytest.fixture(scope="session")
def packages(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every fixture generated once into `<root>/<fixture>/`, its package named `fixture_<fixture>`."""
    root = tmp_path_factory.mktemp("fixtures")
    for schema in FIXTURES:
        package = f"fixture_{schema.stem}"
        out = root / schema.stem
        subprocess.run(
            [codegen_binary(), "generate", "--schema", str(schema), "--out", str(out), "--python-package", package],
            check=True,
            capture_output=True,
        )
    return root


def unknown_parts(value: Any) -> list[str]:
    """Unknown variants and enum values anywhere in what a validated value was given, in any generated
    package (each has its own `WireEnum` and `UnknownVariant`)."""
    found: list[str] = []
    if isinstance(value, Enum) and hasattr(value, "is_unknown"):
        if value.is_unknown():
            found.append(f"{type(value).__name__}({value.value!r})")
    elif isinstance(value, BaseModel):
        if any(c.__name__ == "UnknownVariant" for c in type(value).__mro__[1:]):
            found.append(type(value).__name__)
        # Only what the input held: a schema default may be a value the schema does not list.
        for name in value.model_fields_set:
            found.extend(unknown_parts(getattr(value, name)))
    elif isinstance(value, dict):
        for item in value.values():
            found.extend(unknown_parts(item))
    elif isinstance(value, list):
        for item in value:
            found.extend(unknown_parts(item))
    return found


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
    return [json.loads(line) for line in out.split("\n") if line]


def rust_round_trip(requests: list[tuple[str, Any]]) -> list[dict[str, Any]]:
    """Decodes each `(pointer, value)` with the generated Rust type and encodes it again."""
    text = "".join(json.dumps({"pointer": p, "value": v}) + "\n" for p, v in requests)
    out = subprocess.run([wire_binary(), "roundtrip"], input=text, check=True, capture_output=True, text=True).stdout
    return [json.loads(line) for line in out.split("\n") if line]
