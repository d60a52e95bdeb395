"""The load test (bench/loadtest.py) with a few residents: every path walked through two `serve` processes
and two workers, WeChat's retries and all, and nothing lost or doubled."""

from __future__ import annotations

import subprocess
import sys

from tests.processes import REPO
from tests.services import find_pg_bindir, unavailable

RESIDENTS = 12


def test_a_small_load_test_loses_and_doubles_nothing() -> None:
    find_pg_bindir()  # skipped (or failed under REQUIRE_SERVICES=1) without PostgreSQL, as the fixtures are
    result = subprocess.run(
        [sys.executable, "bench/loadtest.py", "--residents", str(RESIDENTS), "--ramp-s", "3", "--think-s", "0.2"],
        cwd=REPO, capture_output=True, text=True, timeout=170,
    )  # fmt: skip
    if "redis-server not found" in result.stderr:
        unavailable("redis-server not found (Debian: apt-get install redis-server)")
    lines = result.stdout.strip().splitlines()
    assert result.returncode == 0, result.stdout + result.stderr
    assert lines[-1].startswith(f"{RESIDENTS} residents, ") and lines[-1].endswith(" deliveries, 0 lost, 0 doubled")
