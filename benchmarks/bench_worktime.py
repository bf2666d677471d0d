"""Benchmark of the working-day clock (``motcua.core.worktime``).

Run from the repository root::

    .venv/bin/python benchmarks/bench_worktime.py [--calls 200000] [--reference-calls 2000]

Builds a ``WorkCalendar`` with the real national days off, times ``due()`` on random starts over
2024–2027 with a realistic mix of units (mostly 1–30 working days), then the naive
day-by-day reference clock of the test suite on the first calls of the same workload, and
``working_time_between``. Every figure is the best of ``--repeat`` runs (time.perf_counter).
Prints a Markdown table and the machine it ran on.
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import random
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

from motcua.core.worktime import VN_TZ, Unit, WorkCalendar  # noqa: E402

CSV_PATHS = (
    ROOT / "src" / "motcua" / "agencies" / "data" / "holidays-vn.csv",
    ROOT.parent / "shared" / "domain" / "holidays-vn.csv",
)
# Used only when neither CSV is found: 2026, from the official notices.
BUILT_IN_DAYS_OFF = [
    date(2026, 1, 1),
    date(2026, 1, 2),
    *(date(2026, 2, d) for d in range(16, 21)),
    date(2026, 4, 27),
    date(2026, 4, 30),
    date(2026, 5, 1),
    date(2026, 8, 31),
    date(2026, 9, 1),
    date(2026, 9, 2),
    date(2026, 11, 24),
]
BUILT_IN_WORKDAYS = [date(2026, 1, 10), date(2026, 8, 22)]

# Share of each unit in the workload, with its amount range.
MIX = (
    (Unit.WORKING_DAYS, 0.70, (1, 30)),
    (Unit.WORKING_HOURS, 0.15, (1, 80)),
    (Unit.CALENDAR_DAYS, 0.10, (1, 60)),
    (Unit.SAME_DAY, 0.05, (0, 0)),
)


def load_calendar() -> tuple[list[date], list[date], str]:
    """National days off and make-up working days, and where they came from."""
    for path in CSV_PATHS:
        if path.is_file():
            days_off, workdays = [], []
            with path.open(encoding="utf-8") as handle:
                for row in csv.DictReader(handle):
                    day = date.fromisoformat(row["date"])
                    (workdays if row["kind"] == "workday" else days_off).append(day)
            shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
            return days_off, workdays, str(shown)
    return BUILT_IN_DAYS_OFF, BUILT_IN_WORKDAYS, "built-in list (2026 only)"


def workload(n: int, seed: int) -> list[tuple[datetime, int, Unit]]:
    """``n`` (start, amount, unit) triples: random minutes of 2024–2027, VN or UTC aware."""
    rng = random.Random(seed)
    origin = datetime(2024, 1, 1, tzinfo=VN_TZ)
    minutes = 4 * 365 * 24 * 60
    units = [u for u, _, _ in MIX]
    weights = [w for _, w, _ in MIX]
    ranges = {u: r for u, _, r in MIX}
    calls = []
    for unit in rng.choices(units, weights, k=n):
        start = origin + timedelta(minutes=rng.randrange(minutes))
        if rng.random() < 0.5:
            start = start.astimezone(UTC)  # what the database hands back
        calls.append((start, rng.randint(*ranges[unit]), unit))
    return calls


def best_rate(fn: Callable[[], int], repeat: int) -> float:
    """Best calls per second of ``fn`` (which returns how many calls it made)."""
    best = float("inf")
    calls = 0
    for _ in range(repeat):
        began = time.perf_counter()
        calls = fn()
        best = min(best, time.perf_counter() - began)
    return calls / best


def due_loop(calendar, calls) -> Callable[[], int]:
    due = calendar.due

    def run() -> int:
        for start, amount, unit in calls:
            due(start, amount, unit)
        return len(calls)

    return run


def between_loop(calendar, pairs) -> Callable[[], int]:
    between = calendar.working_time_between

    def run() -> int:
        for a, b in pairs:
            between(a, b)
        return len(pairs)

    return run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200_000)
    parser.add_argument("--reference-calls", type=int, default=2_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=20260101)
    args = parser.parse_args(argv)

    from tests.core.reference_clock import ReferenceClock

    days_off, workdays, source = load_calendar()
    began = time.perf_counter()
    calendar = WorkCalendar(days_off=days_off, workdays=workdays)
    build_ms = (time.perf_counter() - began) * 1000
    reference = ReferenceClock(days_off=days_off, workdays=workdays)

    calls = workload(args.calls, args.seed)
    sample = calls[: args.reference_calls]
    mismatches = sum(calendar.due(s, a, u) != reference.due(s, a, u) for s, a, u in sample[:500])
    if mismatches:
        print(f"ERROR: {mismatches} of 500 results differ from the reference", file=sys.stderr)
        return 1

    rows = []
    for unit, _, _ in MIX:
        subset = [c for c in calls if c[2] is unit]
        ref_subset = [c for c in sample if c[2] is unit]
        fast = best_rate(due_loop(calendar, subset), args.repeat)
        slow = best_rate(due_loop(reference, ref_subset), args.repeat) if ref_subset else 0.0
        rows.append((f"due, {unit.value}", len(subset), fast, len(ref_subset), slow))
    fast = best_rate(due_loop(calendar, calls), args.repeat)
    slow = best_rate(due_loop(reference, sample), args.repeat)
    rows.append(("**due, mixed workload**", len(calls), fast, len(sample), slow))

    pairs = [(s, s + timedelta(days=a % 45)) for s, a, _ in calls]
    ref_pairs = pairs[: args.reference_calls]
    rows.append(
        (
            "working_time_between",
            len(pairs),
            best_rate(between_loop(calendar, pairs), args.repeat),
            len(ref_pairs),
            best_rate(between_loop(reference, ref_pairs), args.repeat),
        )
    )

    print("## bench_worktime\n")
    print(f"- calendar: {source}; {len(days_off)} days off, {len(workdays)} make-up workdays")
    print(f"- WorkCalendar build (2015–2040): {build_ms:.1f} ms")
    print(f"- best of {args.repeat} runs, time.perf_counter, one process\n")
    print("| operation | calls | calls/s | reference calls | reference calls/s | speed-up |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, n, rate, ref_n, ref_rate in rows:
        ratio = f"{rate / ref_rate:,.0f}×" if ref_rate else "—"
        print(f"| {name} | {n:,} | {rate:,.0f} | {ref_n:,} | {ref_rate:,.0f} | {ratio} |")
    print(
        f"\nMachine: {platform.platform()}; {platform.processor() or platform.machine()}; "
        f"{os.cpu_count()} CPUs; Python {platform.python_version()} "
        f"({platform.python_implementation()})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
