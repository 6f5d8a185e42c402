"""The fixture corpus against hostile input, in Python:

- every definition of every fixture round-trips its schema-derived samples (the ones `wire samples`
  derives from the schema): wire names with any characters are read and dumped back exactly;
- text that tries to end a docstring, a string or a comment (`\"\"\"\\nimport os`) is never code: the
  packages' syntax trees hold it only inside strings;
- schemas nested 64 levels deep in every way give packages that pass ruff, mypy --strict, and read and
  dump a value nested as deep.
"""

from __future__ import annotations

import ast
import importlib
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import BIN, FIXTURES, codegen_binary, unknown_parts, wire_binary
from pydantic import TypeAdapter

UNKNOWN_PROPERTY = "zzNotInSchema"


def fixture_samples(schema: Path) -> list[dict[str, Any]]:
    out = subprocess.run(
        [wire_binary(), "samples", str(schema), f"fixture_{schema.stem}"], check=True, capture_output=True, text=True
    ).stdout
    # Lines end at "\n" only: JSON strings may hold U+2028 and the like, which `splitlines` splits at.
    return [json.loads(line) for line in out.split("\n") if line]


def resolve(path: str) -> Any:
    module, name = path.split(":")
    return getattr(importlib.import_module(module), name)


@pytest.mark.parametrize("schema", FIXTURES, ids=[s.stem for s in FIXTURES])
def test_fixture_samples_round_trip(packages: Path, schema: Path) -> None:
    samples = fixture_samples(schema)
    assert samples, f"{schema.name}: no samples"
    sys.path.insert(0, str(packages / schema.stem / "python"))
    failures = []
    try:
        adapters: dict[str, TypeAdapter[Any]] = {}
        for s in samples:
            where = f"{s['pointer']} [{s['label']}]"
            adapter = adapters.setdefault(s["python"], TypeAdapter(resolve(s["python"])))
            try:
                value = adapter.validate_json(json.dumps(s["input"]))
            except Exception as e:  # noqa: BLE001 - every failure is reported
                failures.append(f"{where}: {e}\n  input: {json.dumps(s['input'])}")
                continue
            dumped = adapter.dump_python(value, mode="json", by_alias=True, exclude_unset=True)
            if dumped != s["input"]:
                failures.append(f"{where}: dumped differently\n  input:  {json.dumps(s['input'])}\n  dumped: {json.dumps(dumped)}")
            elif UNKNOWN_PROPERTY not in json.dumps(s["input"]) and (unknown := unknown_parts(value)):
                failures.append(f"{where}: a known value fell back to {unknown}\n  input: {json.dumps(s['input'])}")
    finally:
        sys.path.remove(str(packages / schema.stem / "python"))
    assert not failures, f"{len(failures)} of {len(samples)} samples failed:\n" + "\n".join(failures[:25])


# Words that occur in the fixtures only inside descriptions and names written to smuggle code in.
INJECTED_NAMES = {"evil", "injected", "os"}
INJECTED_CALLS = {"system", "evil", "injected"}


def python_files(packages: Path) -> Iterator[Path]:
    for schema in FIXTURES:
        yield from sorted((packages / schema.stem / "python").rglob("*.py"))


def test_injected_text_is_never_python_code(packages: Path) -> None:
    strings_with_payload = 0
    comments_with_payload = 0
    for path in python_files(packages):
        source = path.read_text()
        tree = ast.parse(source, filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                assert not {a.name for a in node.names} & INJECTED_NAMES, f"{path}:{node.lineno}: {ast.unparse(node)}"
            elif isinstance(node, ast.ImportFrom):
                assert node.module not in INJECTED_NAMES, f"{path}:{node.lineno}: {ast.unparse(node)}"
            elif isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.Name)):
                name = node.id if isinstance(node, ast.Name) else node.name
                assert name not in INJECTED_NAMES, f"{path}:{node.lineno}: {name}"
            elif isinstance(node, ast.Call):
                func = node.func
                called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                assert called not in INJECTED_CALLS, f"{path}:{node.lineno}: {ast.unparse(node)}"
            elif isinstance(node, ast.Constant) and isinstance(node.value, str) and "import os" in node.value:
                strings_with_payload += 1
        # Comments are not in the tree (a docstring line may read `import os` too: the tree shows it is text).
        comments_with_payload += sum(1 for line in source.split("\n") if line.lstrip().startswith("#") and "import os" in line)
    # The payloads are there, as text: the check above saw them.
    assert strings_with_payload >= 5, strings_with_payload
    assert comments_with_payload >= 2, comments_with_payload


def nested_schema(nesting: str, levels: int) -> str:
    """Like `common::nested_schema` of the Rust tests: `Deep` nests `levels` schemas around a string."""
    wrappers = {
        "properties": ('{"type": "object", "properties": {"a": ', "}}"),
        "items": ('{"type": "array", "items": ', "}"),
        "any_of": ('{"anyOf": [', ', {"type": "integer"}]}'),
    }
    kinds = list(wrappers) if nesting == "mixed" else [nesting]
    forms = [wrappers[kinds[i % len(kinds)]] for i in range(levels)]
    inner = "".join(f[0] for f in forms) + '{"type": "string"}' + "".join(f[1] for f in reversed(forms))
    return '{"definitions": {"Deep": ' + inner + "}}"


def nested_value(nesting: str, levels: int) -> Any:
    """A value of `nested_schema(nesting, levels)`, as deep as it."""
    kinds = ["properties", "items", "any_of"] if nesting == "mixed" else [nesting]
    value: Any = "leaf"
    for i in reversed(range(levels)):
        kind = kinds[i % len(kinds)]
        value = {"a": value} if kind == "properties" else [value] if kind == "items" else value
    return value


@pytest.mark.parametrize("nesting", ["properties", "items", "any_of", "mixed"])
def test_schemas_nested_64_levels_deep(tmp_path: Path, nesting: str) -> None:
    schema = tmp_path / f"deep_{nesting}.json"
    schema.write_text(nested_schema(nesting, 64))
    package = f"deep_{nesting}"
    subprocess.run(
        [codegen_binary(), "generate", "--schema", str(schema), "--out", str(tmp_path / "out"), "--lang", "python", "--python-package", package],
        check=True,
        capture_output=True,
    )
    python_dir = tmp_path / "out" / "python"
    for command in (["ruff", "check", "--no-cache", "."], ["ruff", "format", "--check", "--no-cache", "."], ["mypy", "--strict", "--cache-dir", "/dev/null", package]):
        result = subprocess.run([str(BIN / command[0]), *command[1:]], capture_output=True, text=True, cwd=python_dir)
        assert result.returncode == 0, f"{command}: {result.stdout}{result.stderr}"
    sys.path.insert(0, str(python_dir))
    try:
        adapter: TypeAdapter[Any] = TypeAdapter(resolve(f"{package}:Deep"))
        value = nested_value(nesting, 64)
        dumped = adapter.dump_python(adapter.validate_json(json.dumps(value)), mode="json", by_alias=True, exclude_unset=True)
    finally:
        sys.path.remove(str(python_dir))
    assert dumped == value
