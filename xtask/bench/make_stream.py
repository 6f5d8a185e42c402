"""Writes xtask/bench/stream.jsonl: the notifications `codex app-server` sends during a short coding session.

The stream is synthesised, deterministically (no clock, no randomness): one `thread/started`, then four turns, each
`thread/status/changed`, `turn/started`, the user message's `item/started`/`item/completed`, reasoning items with
`item/reasoning/summaryPartAdded` and `item/reasoning/summaryTextDelta`, command executions with
`item/commandExecution/outputDelta`, `thread/tokenUsage/updated` and `account/rateLimits/updated` after each model
response, the answer's `item/agentMessage/delta` (one per word, as the Responses API streams it), and
`turn/completed`.

Every message has the shape Codex 0.169.0 writes on the wire, copied from a turn recorded from the real server (the
pinned `codex app-server` talking to a loopback mock of the Responses API): compact JSON, `method`, `params`,
`emittedAtMs`, and the properties that release sends but its non-experimental schema does not declare (`environments`,
`canAcceptDirectInput`, ... on the thread; `startedAtMs`/`completedAtMs` on items).

Every line is validated with the generated package before the file is written.
Run: PYTHONPATH=generated/python target/bench-venv/bin/python xtask/bench/make_stream.py
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from pathlib import Path
from typing import Any

from codex_app_server_types import ServerNotification, UnknownServerNotification
from pydantic import TypeAdapter

THREAD = "01a20c39-9e56-7502-8330-a4e35d14dede"
CWD = "/home/dev/codex-schema-codegen"
START_MS = 1795501432808


class Session:
    def __init__(self) -> None:
        self.now = START_MS
        self.lines: list[str] = []
        self.total = {"input": 0, "cached": 0, "output": 0, "reasoning": 0}
        self.serial = 0

    def ms(self, step: int = 1) -> int:
        self.now += step
        return self.now

    def next_id(self, prefix: str, width: int) -> str:
        self.serial += 1
        return prefix + hashlib.sha256(f"{prefix}{self.serial}".encode()).hexdigest()[:width]

    def send(self, method: str, params: dict[str, Any], step: int = 1) -> None:
        message = {"method": method, "params": params, "emittedAtMs": self.ms(step)}
        self.lines.append(json.dumps(message, separators=(",", ":"), ensure_ascii=False))

    def item(
        self, turn: str, started: dict[str, Any], completed: dict[str, Any], deltas: list[tuple[str, dict[str, Any]]]
    ) -> None:
        at = self.now + 1
        ids = {"threadId": THREAD, "turnId": turn}
        self.send(
            "item/started", {"item": {**started, "startedAtMs": at, "completedAtMs": None}, **ids, "startedAtMs": at}
        )
        for method, params in deltas:
            self.send(method, {**ids, "itemId": started["id"], **params}, step=7)
        done = self.ms()
        self.send(
            "item/completed",
            {
                "item": {**completed, "startedAtMs": at, "completedAtMs": done},
                **ids,
                "contentTokenCount": None,
                "completedAtMs": done,
            },
        )

    def usage(self, turn: str, input_tokens: int, cached: int, output: int, reasoning: int) -> None:
        last = {"input": input_tokens, "cached": cached, "output": output, "reasoning": reasoning}
        for k, v in last.items():
            self.total[k] += v

        def breakdown(u: dict[str, int]) -> dict[str, int]:
            return {
                "totalTokens": u["input"] + u["output"],
                "inputTokens": u["input"],
                "cachedInputTokens": u["cached"],
                "cacheWriteInputTokens": 0,
                "outputTokens": u["output"],
                "reasoningOutputTokens": u["reasoning"],
            }

        usage = {"total": breakdown(self.total), "last": breakdown(last), "modelContextWindow": 258400}
        self.send("thread/tokenUsage/updated", {"threadId": THREAD, "turnId": turn, "tokenUsage": usage}, step=5)
        used = min(99, 3 + self.total["input"] // 4000)
        limits = {
            "limitId": "codex",
            "limitName": None,
            "normalModelSlug": None,
            "primary": {"usedPercent": used, "windowDurationMins": 300, "resetsAt": 1795515832},
            "secondary": {"usedPercent": used // 4, "windowDurationMins": 10080, "resetsAt": 1796003032},
            "credits": {"hasCredits": False, "unlimited": False, "balance": None},
            "individualLimit": None,
            "spendControlReached": None,
            "planType": "plus",
            "rateLimitReachedType": None,
        }
        self.send("account/rateLimits/updated", {"rateLimits": limits})


def words(text: str) -> list[str]:
    """The text in the chunks the Responses API streams: about a word each."""
    return re.findall(r"\S+\s*|\s+", text)


def thread() -> dict[str, Any]:
    return {
        "id": THREAD,
        "environments": [{"environmentId": "local", "cwd": CWD, "runtimeWorkspaceRoots": [CWD]}],
        "extra": None,
        "sessionId": THREAD,
        "forkedFromId": None,
        "attachedToThreadId": None,
        "parentThreadId": None,
        "preview": "",
        "ephemeral": False,
        "section": None,
        "sectionEnteredAt": None,
        "projectId": None,
        "historyMode": "paginated",
        "modelProvider": "openai",
        "model": "gpt-5.5-codex",
        "reasoningEffort": "medium",
        "createdAt": START_MS // 1000,
        "updatedAt": START_MS // 1000,
        "recencyAt": START_MS // 1000,
        "status": {"type": "idle"},
        "path": f"/home/dev/.codex/sessions/2026/11/24/rollout-2026-11-24T06-23-52-{THREAD}.jsonl",
        "cwd": CWD,
        "cliVersion": "0.169.0",
        "originator": "codex_python_sdk",
        "source": "vscode",
        "canAcceptDirectInput": True,
        "threadSource": None,
        "agentNickname": None,
        "agentRole": None,
        "gitInfo": None,
        "name": None,
        "daybreakEnabled": None,
        "turns": [],
    }


# (prompt, steps, answer); a step is ("reasoning", summary) or ("exec", command, actions, output chunks, exit code).
TURNS: list[tuple[str, list[tuple[Any, ...]], str]] = [
    (
        "Why does `cargo test -p tests` fail on a clean checkout?",
        [
            (
                "reasoning",
                "**Reproducing the failure**\n\nI'll run the failing test crate first to see the exact error before reading any code.",
            ),
            (
                "exec",
                "cargo test -p tests --no-fail-fast",
                [{"type": "unknown", "command": "cargo test -p tests --no-fail-fast"}],
                [
                    "   Compiling tests v0.1.0 (/home/dev/codex-schema-codegen/tests)\n",
                    "    Finished `test` profile [unoptimized + debuginfo] target(s) in 7.42s\n",
                    "     Running tests/forward_compat.rs (target/debug/deps/forward_compat-3f2a9c1d)\n",
                    "\nrunning 12 tests\ntest unknown_thread_item_is_kept ... ok\ntest unknown_enum_value_is_kept ... ok\n",
                    "test null_clears_field ... FAILED\n\nfailures:\n\n---- null_clears_field stdout ----\n",
                    "thread 'null_clears_field' panicked at tests/forward_compat.rs:88:5:\nassertion `left == right` failed\n  left: Object {\"name\": Null}\n right: Object {}\n",
                    "\ntest result: FAILED. 11 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.03s\n",
                ],
                101,
            ),
            (
                "reasoning",
                "**Reading the failing assertion**\n\nThe explicit null is dropped on the way out, so the optional nullable field must be losing the difference between absent and null.",
            ),
            (
                "exec",
                'rg -n "skip_serializing_if" generated/rust/src/v2.rs',
                [
                    {
                        "type": "search",
                        "command": "rg -n skip_serializing_if generated/rust/src/v2.rs",
                        "query": "skip_serializing_if",
                        "path": "generated/rust/src/v2.rs",
                    }
                ],
                [
                    '412:    #[serde(default, skip_serializing_if = "Option::is_none")]\n',
                    '977:    #[serde(default, skip_serializing_if = "Option::is_none", with = "::serde_with::rust::double_option")]\n',
                    '1304:    #[serde(default, skip_serializing_if = "Option::is_none")]\n',
                ],
                0,
            ),
        ],
        (
            'The failure is in `null_clears_field`: `thread/name/set` with `"name": null` is encoded without the `name` key, '
            'so the server reads it as "unchanged" instead of "clear". The field is `Option<Option<String>>` as it should be, '
            'but the generated attribute at `generated/rust/src/v2.rs:412` uses a plain `skip_serializing_if = "Option::is_none"` '
            "without the double-option helper, so `Some(None)` serialises as absent. Regenerating with the fix in the Rust emitter "
            "(use the double-option `with` path for every optional nullable field) makes all 12 tests pass."
        ),
    ),
    (
        "Fix it and run the tests again.",
        [
            (
                "reasoning",
                "**Planning the fix**\n\nThe emitter decides the serde attributes per field; I'll find where optional nullable fields are printed.",
            ),
            (
                "exec",
                "sed -n 120,160p codegen/src/emit/rust/items.rs",
                [
                    {
                        "type": "read",
                        "command": "sed -n 120,160p codegen/src/emit/rust/items.rs",
                        "name": "items.rs",
                        "path": "codegen/src/emit/rust/items.rs",
                    }
                ],
                [
                    '    let attrs = match (field.optional, field.nullable) {\n        (true, true) => quote! { #[serde(default, skip_serializing_if = "Option::is_none")] },\n',
                    '        (true, false) => quote! { #[serde(default, skip_serializing_if = "Option::is_none")] },\n        _ => quote! {},\n    };\n',
                ],
                0,
            ),
            (
                "exec",
                "cargo xtask generate-types && cargo test -p tests",
                [
                    {"type": "unknown", "command": "cargo xtask generate-types"},
                    {"type": "unknown", "command": "cargo test -p tests"},
                ],
                [
                    "==> generate-types: 4 files written\n",
                    "   Compiling codex-app-server-types v0.1.0 (/home/dev/codex-schema-codegen/generated/rust)\n",
                    "   Compiling tests v0.1.0 (/home/dev/codex-schema-codegen/tests)\n",
                    "    Finished `test` profile [unoptimized + debuginfo] target(s) in 21.87s\n",
                    "\nrunning 12 tests\n............\ntest result: ok. 12 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.02s\n",
                ],
                0,
            ),
        ],
        (
            "Fixed. In `codegen/src/emit/rust/items.rs` the `(true, true)` arm now emits "
            '`#[serde(default, skip_serializing_if = "Option::is_none", with = "::serde_with::rust::double_option")]`, '
            "so an explicit `null` is written back as `null` and an absent field stays absent. I regenerated `generated/` with "
            "`cargo xtask generate-types` and `cargo test -p tests` now passes all 12 tests."
        ),
    ),
    (
        "Does the Python package keep the same distinction?",
        [
            (
                "reasoning",
                "**Checking the Python side**\n\nPydantic keeps unset fields apart from fields set to None when dumps use exclude_unset, so I'll check the base model's dump defaults and run the round-trip tests.",
            ),
            (
                "exec",
                'rg -n "exclude_unset" generated/python/codex_app_server_types/_base.py',
                [
                    {
                        "type": "search",
                        "command": "rg -n exclude_unset generated/python/codex_app_server_types/_base.py",
                        "query": "exclude_unset",
                        "path": "generated/python/codex_app_server_types/_base.py",
                    }
                ],
                [
                    '70:        kwargs.setdefault("exclude_unset", True)\n',
                    '74:        kwargs.setdefault("exclude_unset", True)\n',
                ],
                0,
            ),
            (
                "exec",
                "target/python-venv/bin/pytest -q tests/python/test_roundtrip.py",
                [{"type": "unknown", "command": "target/python-venv/bin/pytest -q tests/python/test_roundtrip.py"}],
                [
                    "........................................................................ [ 61%]\n",
                    "............................................             [100%]\n",
                    "116 passed in 3.18s\n",
                ],
                0,
            ),
        ],
        (
            "Yes. Every generated model derives from `WireModel`, whose `model_dump()` and `model_dump_json()` default to "
            "`exclude_unset=True`: a field absent on input stays absent, and one that arrived as `null` (or was passed as "
            "`None`) is dumped as `null`. The 116 round-trip tests in `tests/python/test_roundtrip.py` cover it, including "
            "`thread/name/set` with `name: null`, and they all pass."
        ),
    ),
    (
        "Summarise the change in one paragraph for the pull request.",
        [
            ("reasoning", "**Writing the summary**\n\nShort, with the root cause, the fix, and how it was verified."),
        ],
        (
            "Optional nullable fields in the generated Rust types lost the difference between an absent field and an "
            "explicit `null` when encoding: `Some(None)` was skipped like `None`, so requests such as `thread/name/set` with "
            "`name: null` could not clear a value. The Rust emitter now routes every optional nullable field through the "
            "double-option helper, so absent stays absent and `null` is written as `null`; `generated/` is regenerated, the "
            "`tests` crate passes, and the Python package, which already kept the distinction through `exclude_unset`, is "
            "unchanged."
        ),
    ),
]


def turn(s: Session, number: int, prompt: str, steps: list[tuple[Any, ...]], answer: str) -> None:
    turn_id = f"01a20c39-{0x9FEC + number:04x}-7090-a358-bafac97d85{0xCE + number:02x}"
    started_s = s.now // 1000
    s.send("thread/status/changed", {"threadId": THREAD, "status": {"type": "active", "activeFlags": []}}, step=400)
    turn_started: dict[str, Any] = {
        "id": turn_id,
        "rootTurnId": turn_id,
        "items": [],
        "itemsView": "notLoaded",
        "status": "inProgress",
        "error": None,
        "startedAt": started_s,
        "completedAt": None,
        "durationMs": None,
    }
    s.send("turn/started", {"threadId": THREAD, "turn": turn_started})
    user = {
        "type": "userMessage",
        "id": f"01a20c39-a0c3-7ca3-b70a-9d9e8e8326{number:02x}",
        "clientId": None,
        "content": [{"type": "text", "text": prompt, "text_elements": []}],
    }
    s.item(turn_id, user, user, [])
    context = 9000 + 3000 * number
    for step in steps:
        if step[0] == "reasoning":
            summary = step[1]
            item: dict[str, Any] = {"type": "reasoning", "id": s.next_id("rs_", 40), "summary": [], "content": []}
            deltas: list[tuple[str, dict[str, Any]]] = [("item/reasoning/summaryPartAdded", {"summaryIndex": 0})]
            deltas += [("item/reasoning/summaryTextDelta", {"delta": w, "summaryIndex": 0}) for w in words(summary)]
            s.item(turn_id, item, {**item, "summary": [summary]}, deltas)
        else:
            _, command, actions, chunks, exit_code = step
            item = {
                "type": "commandExecution",
                "id": s.next_id("call_", 24),
                "pluginId": None,
                "scriptPath": None,
                "command": f"/bin/bash -lc {json.dumps(command)}",
                "cwd": CWD,
                "processId": str(40000 + s.serial),
                "source": "unifiedExecStartup",
                "status": "inProgress",
                "commandActions": actions,
                "aggregatedOutput": None,
                "exitCode": None,
                "durationMs": None,
            }
            done = {
                **item,
                "status": "completed" if exit_code == 0 else "failed",
                "aggregatedOutput": "".join(chunks),
                "exitCode": exit_code,
                "durationMs": 7 * len(chunks) + 2,
            }
            s.item(turn_id, item, done, [("item/commandExecution/outputDelta", {"delta": c}) for c in chunks])
            s.usage(turn_id, context, context - 2000, 180, 64)
            context += 900
    message = {
        "type": "agentMessage",
        "moderation": None,
        "id": s.next_id("msg_", 40),
        "text": "",
        "phase": None,
        "memoryCitation": None,
        "delivery": None,
        "questions": None,
    }
    final = {**message, "text": answer}
    s.item(turn_id, message, final, [("item/agentMessage/delta", {"delta": w}) for w in words(answer)])
    s.usage(turn_id, context, context - 2000, len(words(answer)) + 40, 32)
    s.send("thread/status/changed", {"threadId": THREAD, "status": {"type": "idle"}})
    completed_turn = {
        **turn_started,
        "items": [{**final, "startedAtMs": s.now - 300, "completedAtMs": s.now - 20}],
        "itemsView": "summary",
        "status": "completed",
        "completedAt": s.now // 1000,
        "durationMs": s.now - started_s * 1000,
    }
    s.send("turn/completed", {"threadId": THREAD, "turn": completed_turn})


def main() -> None:
    s = Session()
    s.send("thread/started", {"thread": thread()}, step=0)
    for number, (prompt, steps, answer) in enumerate(TURNS):
        turn(s, number, prompt, steps, answer)
    adapter: TypeAdapter[Any] = TypeAdapter(ServerNotification)
    for n, line in enumerate(s.lines, 1):
        decoded = adapter.validate_json(line)
        if isinstance(decoded, UnknownServerNotification):
            sys.exit(f"line {n}: {json.loads(line)['method']} decodes as an unknown notification")
    out = Path(__file__).with_name("stream.jsonl")
    out.write_text("".join(line + "\n" for line in s.lines), encoding="utf-8")
    items = sum(1 for line in s.lines if line.startswith('{"method":"item/'))
    print(f"wrote {out}: {len(s.lines)} notifications ({items} item/*), {sum(map(len, s.lines))} bytes, all valid")


if __name__ == "__main__":
    main()
