"""Replays the recorded conformance traffic (`tests/fixtures/wire/*.jsonl`, from real `codex app-server` runs,
re-recorded with `cargo xtask conformance --record`) through the generated package: every message decodes into
its specific type and dumps back to exactly what was received."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import wire_check

RECORDINGS_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "wire"
RECORDINGS = sorted(RECORDINGS_DIR.glob("*.jsonl"))

SCENARIO_METHODS = set(
    json.loads((RECORDINGS_DIR / "scenario_methods.json").read_text())["methods"]
)


def test_there_is_a_recording_per_driver() -> None:
    assert [path.stem for path in RECORDINGS] == ["python", "rust"]


@pytest.mark.parametrize("path", RECORDINGS, ids=lambda p: p.stem)
def test_every_recorded_message_decodes_into_its_type_and_back(path: Path) -> None:
    entries = wire_check.read_transcript(path)
    report = wire_check.check(entries)
    assert not report.failures, "\n".join(report.failures)
    assert sum(report.checked.values()) == len(entries)
    methods = {method for _, method, _ in report.checked}
    assert SCENARIO_METHODS <= methods, SCENARIO_METHODS - methods


def entry(
    sender: str, message: dict[str, Any], invalid: bool = False
) -> dict[str, Any]:
    return {
        "from": sender,
        "message": message,
        **({"invalid": True} if invalid else {}),
    }


REQUEST = entry(
    "client", {"id": 1, "method": "thread/read", "params": {"threadId": "t"}}
)


@pytest.mark.parametrize(
    ("entries", "problem"),
    [
        ([REQUEST, entry("server", {"id": 1, "result": {}})], "does not decode"),
        (
            [entry("server", {"method": "thread/teleported", "params": {}})],
            "decodes only as UnknownServerNotification",
        ),
        ([entry("server", {"id": 7, "result": {}})], "answers no request"),
        (
            [
                entry(
                    "client",
                    {"id": 1, "method": "thread/read", "params": {"threadId": 1}},
                )
            ],
            "UnknownClientRequest",
        ),
        (
            [
                entry(
                    "client",
                    {"id": 1, "method": "thread/read", "params": {"threadId": "t"}},
                    invalid=True,
                )
            ],
            "marked invalid",
        ),
    ],
    ids=[
        "bad-result",
        "unknown-notification",
        "unanswered",
        "bad-params",
        "valid-marked-invalid",
    ],
)
def test_the_checker_rejects_what_does_not_fit(
    entries: list[dict[str, Any]], problem: str
) -> None:
    failures = wire_check.check(entries).failures
    assert any(problem in failure for failure in failures), failures


def test_drift_is_listed_by_type() -> None:
    """A recorded `turn/completed` with a property and a status this schema does not declare."""
    recorded = next(
        e["message"]
        for e in wire_check.read_transcript(RECORDINGS[0])
        if e["message"].get("method") == "turn/completed"
    )
    message = {
        **recorded,
        "params": {**recorded["params"], "turn": {**recorded["params"]["turn"]}},
    }
    message["params"]["turn"].update(teleported=True, status="teleported")
    report = wire_check.check([entry("server", message)])
    assert not report.failures, report.failures
    assert report.drift == {
        "Turn": {"property teleported"},
        "TurnStatus": {"value 'teleported'"},
    }
