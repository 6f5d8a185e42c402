"""Fixtures of the client runtime's tests: a time bound on every test, the scripted fake server, and the real
`codex app-server` (from `CODEX_BIN`) with a loopback mock of the Responses API."""

from __future__ import annotations

import itertools
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType
from typing import Any

import pytest
from codex_app_server_types.client import CodexConfig

HERE = Path(__file__).resolve().parent
FAKE = HERE / "fake_server.py"
TEST_TIMEOUT = 60


class TestTimeout(Exception):
    pass


@pytest.fixture(autouse=True)
def time_bound(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fails a test that runs longer than `TEST_TIMEOUT` seconds (SIGALRM in the main thread)."""

    def expire(signum: int, frame: FrameType | None) -> None:
        raise TestTimeout(f"{request.node.name} took longer than {TEST_TIMEOUT} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(TEST_TIMEOUT)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.fixture(autouse=True)
def no_leaked_threads() -> Iterator[None]:
    """Every reader and answering thread a test started has ended when it returns."""
    before = set(threading.enumerate())
    yield
    for _ in range(50):
        leaked = [
            t
            for t in set(threading.enumerate()) - before
            if t.name.startswith("codex-")
        ]
        if not leaked:
            return
        threading.Event().wait(0.1)
    raise AssertionError(f"threads left running: {leaked}")


@pytest.fixture
def fake(tmp_path: Path) -> Callable[..., tuple[CodexConfig, Path]]:
    """`fake(scenario, **config)`: a config that spawns the fake server, and the log of what it received."""

    runs = itertools.count()

    def make(scenario: str = "normal", **options: Any) -> tuple[CodexConfig, Path]:
        log = tmp_path / f"{scenario}-{next(runs)}.log"
        options.setdefault("request_timeout", 10.0)
        config = CodexConfig(
            codex_bin=str(FAKE),
            env={
                "FAKE_SCENARIO": scenario,
                "FAKE_LOG": str(log),
                "PYTHONUNBUFFERED": "1",
            },
            shutdown_timeout=1.0,
            **options,
        )
        return config, log

    return make


def python() -> str:
    return sys.executable


def codex_bin() -> str:
    path = os.environ.get("CODEX_BIN")
    if not path or not Path(path).is_file():
        pytest.fail(
            "the real-server tests need the pinned codex binary: set CODEX_BIN, e.g. "
            "CODEX_BIN=$(find ~/.cache/codex-schema-codegen -name codex -type f | sort | tail -1) "
            "(`cargo xtask update-schema` or `cargo xtask conformance` installs it)"
        )
    return path
