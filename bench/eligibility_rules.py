"""Time `models.eligibility.assess` for a resident with ten years of monthly records.

The bot answers eligibility questions inside the chat reply budget, so one assessment must stay far
under a millisecond. Two residents, ten moves and 120 months of social insurance each: one eligible
(the short path) and one whose social insurance has gaps, so route A's earliest date is projected.
Usage: python bench/eligibility_rules.py [RUNS]
"""

from __future__ import annotations

import statistics
import sys
import time
from datetime import date, timedelta

from models.eligibility import PersonRecords, Span, assess
from models.records import month_index
from models.rules import Rules

AS_OF = date(2025, 6, 15)


def ten_years(unpaid_every: int | None) -> PersonRecords:
    """Moves house every year with a 20-day gap, so the registration stays continuous from 2015; pays
    social insurance 2015-06 … 2025-05 except, counting back from 2025-05, every `unpaid_every`-th month."""
    spans = []
    declared = date(2015, 6, 1)
    for year in range(2016, 2026):
        moved_out = date(year, 5, 20) if year < 2025 else None
        spans.append(Span(declared, moved_out))
        if moved_out is not None:
            declared = moved_out + timedelta(days=20)
    last = month_index(2025, 5)
    months = frozenset(
        m for m in range(last - 119, last + 1) if unpaid_every is None or (last - m) % unpaid_every != unpaid_every - 1
    )
    return PersonRecords(
        tuple(spans), months, talents=(date(2019, 3, 1),), studies=((date(2015, 9, 1), date(2018, 6, 30)),)
    )


def measure(records: PersonRecords, rules: Rules, runs: int) -> tuple[float, float]:
    for _ in range(runs // 10):  # warm-up
        assess(records, rules, AS_OF)
    timings = []
    for _ in range(runs):
        start = time.perf_counter_ns()
        assess(records, rules, AS_OF)
        timings.append(time.perf_counter_ns() - start)
    timings.sort()
    return statistics.median(timings) / 1000, timings[int(len(timings) * 0.99) - 1] / 1000


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    rules = Rules()
    residents = {
        "eligible (every month paid)": ten_years(unpaid_every=None),
        "not yet (every 3rd month unpaid)": ten_years(unpaid_every=3),
    }
    print(f"assess() over {runs} runs, ten years of records, Python {sys.version.split()[0]}")
    for name, records in residents.items():
        route_a = assess(records, rules, AS_OF).routes[0]
        outcome = "eligible" if route_a.eligible else f"from {route_a.earliest}"
        median, p99 = measure(records, rules, runs)
        print(f"  {name:34} median {median:6.1f} µs   p99 {p99:6.1f} µs   (route A {outcome})")


if __name__ == "__main__":
    main()
