"""Fixtures of the client runtime's tests (imported by name by each test module: a `conftest.py` here would
shadow `tests/python/conftest.py`): a time bound on every test, the scripted fake server, and the real
`codex app-server` (from `CODEX_BIN`) with a loopback mock of the Responses API."""

from __future__ import annotations

import itertools
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

import pytest
from codex_app_server_types.client import CodexConfig
from mock_responses import MockResponses

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


CONFIG_TOML = """model = "mock-model"
model_provider = "mock"
approval_policy = "on-request"
sandbox_mode = "read-only"

[model_providers.mock]
name = "mock"
base_url = "http://127.0.0.1:{port}/v1"
wire_api = "responses"
request_max_retries = 0
stream_max_retries = 0
"""


@dataclass
class RealServer:
    """What a real-server test needs: the config of `Codex`, the scratch folder, the environment."""

    config: CodexConfig
    scratch: Path
    env: dict[str, str]
    codex_bin: str


@pytest.fixture
def real(tmp_path: Path) -> Iterator[RealServer]:
    """The pinned `codex app-server` (from `CODEX_BIN`), offline: a scratch `CODEX_HOME` whose model provider
    is a loopback mock of the Responses API, and proxies pointed at a closed port."""
    binary = codex_bin()
    mock = MockResponses()
    home = tmp_path / "home"
    work = tmp_path / "work"
    home.mkdir()
    work.mkdir()
    (home / "config.toml").write_text(CONFIG_TOML.format(port=mock.port))
    closed = "http://127.0.0.1:9"
    env = {
        "CODEX_HOME": str(home),
        "HTTP_PROXY": closed,
        "HTTPS_PROXY": closed,
        "ALL_PROXY": closed,
        "http_proxy": closed,
        "https_proxy": closed,
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
        "RUST_LOG": "warn",
    }
    config = CodexConfig(
        codex_bin=binary,
        env=env,
        cwd=work,
        request_timeout=60.0,
        turn_timeout=60.0,
        shutdown_timeout=2.0,
    )
    try:
        yield RealServer(config, tmp_path, env, binary)
    finally:
        mock.close()
