"""The fixture corpus in Python: every fixture's package passes ruff, keeps its ruff format, passes
`mypy --strict`, imports, and every model and alias in it builds a validator.

The code itself is reviewed as insta snapshots (`codegen/tests/snapshots/*__py__*`); this checks that
it works.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import BIN, FIXTURES


def test_fixture_packages_pass_ruff(packages: Path) -> None:
    dirs = [str(packages / s.stem / "python") for s in FIXTURES]
    check = subprocess.run([str(BIN / "ruff"), "check", "--no-cache", *dirs], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    for d in dirs:
        fmt = subprocess.run([str(BIN / "ruff"), "format", "--check", "--diff", "--no-cache", d], capture_output=True, text=True, cwd=d)
        assert fmt.returncode == 0, fmt.stdout + fmt.stderr


@pytest.mark.parametrize("schema", FIXTURES, ids=[s.stem for s in FIXTURES])
def test_fixture_package_passes_mypy_and_builds(packages: Path, schema: Path) -> None:
    python_dir = packages / schema.stem / "python"
    package = f"fixture_{schema.stem}"
    mypy = subprocess.run(
        [str(BIN / "mypy"), "--strict", "--cache-dir", "/dev/null", package],
        capture_output=True,
        text=True,
        cwd=python_dir,
    )
    assert mypy.returncode == 0, mypy.stdout + mypy.stderr
    sys.path.insert(0, str(python_dir))
    try:
        built = build_everything(package)
    finally:
        sys.path.remove(str(python_dir))
    assert built > 0


def build_everything(package: str) -> int:
    """Imports every namespace of `package` and builds the validator of everything it exports."""
    from pydantic import BaseModel, TypeAdapter

    built = 0
    pending = [package]
    while pending:
        name = pending.pop()
        module = importlib.import_module(name)
        for export in module.__all__:
            value = getattr(module, export)
            if isinstance(value, type(module)):
                pending.append(value.__name__)
            elif isinstance(value, type) and issubclass(value, BaseModel):
                value.model_rebuild(force=True, raise_errors=True)
                built += 1
            else:
                TypeAdapter(value)
                built += 1
    return built
