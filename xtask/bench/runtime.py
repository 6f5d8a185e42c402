"""The Python client runtime next to the reference SDK's, consuming the same replayed turn through `stream()`.

`python runtime.py compare` runs both sides, alternating, each in fresh processes against `runtime_server.py`
(a stand-in for `codex app-server` replaying a recorded turn of several hundred notifications), and prints a
Markdown table:
- throughput: the turn written at once; events a second from calling `turn()` to the last event of `stream()`;
- latency: the turn written one line at a time (`--pace-us` apart); for each event the server's write of its
  line to the typed object in the user's loop, on the system-wide monotonic clock (p50, p99), apart for a
  process's first turn (every method seen for the first time) and the turns after it;
- import: a fresh interpreter importing the runtime.

`python runtime.py measure --side ours|reference` runs one side and prints its figures as JSON. Ours is
`codex_app_server_types.client` (on `PYTHONPATH`); the reference is `openai_codex`, installed in the same venv.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SERVER = HERE / "runtime_server.py"
IMPORTS = {"ours": "codex_app_server_types.client", "reference": "openai_codex"}


def fake_codex(folder: Path) -> Path:
    """An executable that clients start as their `codex` binary: the replaying server."""
    path = folder / "codex"
    path.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{SERVER}" "$@"\n')
    path.chmod(0o755)
    return path


def consume(side: str, codex_bin: Path, turns: int) -> list[tuple[float, list[int]]]:
    """Runs `turns` turns on one thread; per turn its wall time and the monotonic time each event was yielded."""
    # Both runtimes have the same shape: `Codex(CodexConfig(codex_bin=...))`, `thread_start()`, `turn()`, `stream()`.
    runtime = importlib.import_module(IMPORTS[side])
    out: list[tuple[float, list[int]]] = []
    with runtime.Codex(runtime.CodexConfig(codex_bin=str(codex_bin))) as codex:
        thread = codex.thread_start()
        for _ in range(turns):
            start = time.perf_counter()
            seen = [time.monotonic_ns() for _event in thread.turn("go").stream()]
            out.append((time.perf_counter() - start, seen))
    return out


def measure(side: str, turns: int, pace_us: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-runtime-") as scratch:
        folder = Path(scratch)
        stamps = folder / "stamps.json"
        os.environ["BENCH_PACE_US"] = str(pace_us)
        os.environ["BENCH_STAMPS"] = str(stamps)
        runs = consume(side, fake_codex(folder), turns)
        written: list[list[int]] = [json.loads(line) for line in stamps.read_text().splitlines()]
    latencies: list[list[int]] = []
    for (_, seen), sent in zip(runs, written):
        if len(seen) != len(sent):
            raise SystemExit(f"{side}: the stream yielded {len(seen)} events of the {len(sent)} lines naming the turn")
        latencies.append([s - w for s, w in zip(seen, sent)])
    return {
        "side": side,
        "events_per_turn": len(runs[0][1]),
        "seconds_per_turn": [seconds for seconds, _ in runs],
        "latency_ns": latencies,
    }


def run_side(side: str, turns: int, pace_us: int) -> dict[str, Any]:
    command = [sys.executable, __file__, "measure", "--side", side, "--turns", str(turns), "--pace-us", str(pace_us)]
    done = subprocess.run(command, check=False, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise SystemExit(f"{side} failed:\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def import_seconds(side: str) -> float:
    code = f"import time; t = time.perf_counter(); import {IMPORTS[side]}; print(time.perf_counter() - t)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    return float(done.stdout)


def percentile(values: list[int], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def compare(turns: int, rounds: int, pace_us: int) -> None:
    burst: dict[str, list[float]] = {"ours": [], "reference": []}
    # A process's first turn meets every method for the first time (ours builds each validator then); the later
    # turns are the steady state.
    first: dict[str, list[int]] = {"ours": [], "reference": []}
    latency: dict[str, list[int]] = {"ours": [], "reference": []}
    imports: dict[str, list[float]] = {"ours": [], "reference": []}
    events = 0
    for _ in range(rounds):
        for side in ("reference", "ours"):
            fast = run_side(side, turns, 0)
            events = fast["events_per_turn"]
            burst[side].extend(events / s for s in fast["seconds_per_turn"])
            turn_latencies = run_side(side, max(2, turns // 5), pace_us)["latency_ns"]
            first[side].extend(turn_latencies[0])
            for later in turn_latencies[1:]:
                latency[side].extend(later)
            imports[side].append(import_seconds(side))

    def row(name: str, ours: float, reference: float, unit: str, better: str) -> str:
        ratio = ours / reference if better == "higher" else reference / ours
        return f"| {name} | {ours:,.1f} {unit} | {reference:,.1f} {unit} | {ratio:.2f}x |"

    print(f"{events} events a turn; {rounds} rounds of {turns} turns a side (burst), latency paced {pace_us} µs")
    print("| | ours | reference | ours vs reference |")
    print("|---|---|---|---|")
    print(
        row(
            "throughput, median",
            statistics.median(burst["ours"]),
            statistics.median(burst["reference"]),
            "ev/s",
            "higher",
        )
    )
    for q in (0.5, 0.99):
        ours, reference = (percentile(latency[s], q) / 1000 for s in ("ours", "reference"))
        print(row(f"latency p{int(q * 100)}", ours, reference, "µs", "lower"))
    for q in (0.5, 0.99):
        ours, reference = (percentile(first[s], q) / 1000 for s in ("ours", "reference"))
        print(row(f"latency p{int(q * 100)}, a process's first turn", ours, reference, "µs", "lower"))
    ours_import, reference_import = (statistics.median(imports[s]) * 1000 for s in ("ours", "reference"))
    print(row("import, median", ours_import, reference_import, "ms", "lower"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    one = sub.add_parser("measure")
    one.add_argument("--side", choices=IMPORTS, required=True)
    one.add_argument("--turns", type=int, default=20)
    one.add_argument("--pace-us", type=int, default=0)
    both = sub.add_parser("compare")
    both.add_argument("--turns", type=int, default=20)
    both.add_argument("--rounds", type=int, default=3)
    both.add_argument("--pace-us", type=int, default=500)
    args = parser.parse_args()
    if args.command == "measure":
        print(json.dumps(measure(args.side, args.turns, args.pace_us)))
    else:
        compare(args.turns, args.rounds, args.pace_us)


if __name__ == "__main__":
    main()
