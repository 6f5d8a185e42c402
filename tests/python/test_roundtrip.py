"""Every definition of the pinned schema, in Python and across languages.

- The schema-derived samples (the same ones the Rust round-trip test uses) validate and dump back to
  exactly the input: absent stays absent, `null` stays `null`, unknown properties are kept.
- Known samples never land in an unknown variant or an unknown enum value.
- JSON written by the Rust types is read by the Python models and dumped unchanged, and JSON dumped by
  the Python models is read by the Rust types and written as the Rust side writes it.
"""

from __future__ import annotations

import json
from typing import Any

from conftest import resolve, rust_round_trip, unknown_parts
from pydantic import TypeAdapter

UNKNOWN_PROPERTY = "zzNotInSchema"

_adapters: dict[str, TypeAdapter[Any]] = {}


def adapter(path: str) -> TypeAdapter[Any]:
    if path not in _adapters:
        _adapters[path] = TypeAdapter(resolve(path))
    return _adapters[path]


def dump(path: str, value: Any) -> Any:
    return adapter(path).dump_python(value, mode="json", by_alias=True, exclude_unset=True)


def test_samples_round_trip(samples: list[dict[str, Any]]) -> None:
    failures = []
    for s in samples:
        where = f"{s['pointer']} [{s['label']}]"
        try:
            value = adapter(s["python"]).validate_python(s["input"])
        except Exception as e:  # noqa: BLE001 - every failure is reported
            failures.append(f"{where}: {e}\n  input: {json.dumps(s['input'])}")
            continue
        dumped = dump(s["python"], value)
        if dumped != s["input"]:
            failures.append(f"{where}: dumped differently\n  input:  {json.dumps(s['input'])}\n  dumped: {json.dumps(dumped)}")
        elif UNKNOWN_PROPERTY not in json.dumps(s["input"]) and (unknown := unknown_parts(value)):
            failures.append(f"{where}: a known value fell back to {unknown}\n  input: {json.dumps(s['input'])}")
    assert len(samples) > 3000
    assert not failures, f"{len(failures)} of {len(samples)} samples failed:\n" + "\n".join(failures[:25])


def test_rust_output_reads_in_python(samples: list[dict[str, Any]]) -> None:
    """What the Rust types write (defaults filled in), Python reads and dumps unchanged."""
    answers = rust_round_trip([(s["pointer"], s["input"]) for s in samples])
    failures = []
    for s, answer in zip(samples, answers, strict=True):
        rust_json = answer["ok"]
        dumped = dump(s["python"], adapter(s["python"]).validate_python(rust_json))
        if dumped != rust_json:
            failures.append(f"{s['pointer']} [{s['label']}]\n  rust:   {json.dumps(rust_json)}\n  python: {json.dumps(dumped)}")
    assert not failures, "\n".join(failures[:25])


def test_python_output_reads_in_rust(samples: list[dict[str, Any]]) -> None:
    """What the Python models dump, Rust reads and writes as it writes the original."""
    dumps = [dump(s["python"], adapter(s["python"]).validate_python(s["input"])) for s in samples]
    answers = rust_round_trip([(s["pointer"], d) for s, d in zip(samples, dumps, strict=True)])
    failures = [
        f"{s['pointer']} [{s['label']}]: {a}"
        for s, a in zip(samples, answers, strict=True)
        if a.get("ok") != s["expected"]
    ]
    assert not failures, "\n".join(failures[:25])
