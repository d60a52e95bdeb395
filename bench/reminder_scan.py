"""The daily reminder scan over 1,000,000 permits on PostgreSQL: time and peak memory of one day's scan.

A private PostgreSQL (tests/services.py), the schema from the migrations (`initdb`), then written
with COPY (asyncpg), not the ORM: PERMITS permits of as many people, their current deadlines
(`deadline_on`) drawn at random over every day from the oldest that can still get a cancellation
notice (2 years and 61 days back) to a year ahead, so a day's six reminded deadlines hold a few
thousand permits; and a verified personal account for every person but each fourth (a holder to
remind: the rest are passed over). After ANALYZE, a child process runs `Reminders.scan` for today
twice: the first writes one push per reminder, the second finds them all written and writes
nothing. The parent takes the child's peak RSS (wait4's ru_maxrss) and checks the rows against a
join done in SQL. Targets: the first scan under 60 s, peak RSS under 200 MB. Exits 1 when missed.

Usage: .venv/bin/python bench/reminder_scan.py [--permits 1000000]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import random
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import asyncpg

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # tests/ is not an installed package: its PostgreSQL is reused from the repository

from bot.config import load_settings  # noqa: E402
from bot.db import Database, initdb  # noqa: E402
from bot.services.reminders import BATCH, Reminders  # noqa: E402
from models import Push  # noqa: E402
from models.records import add_years  # noqa: E402
from models.reminders import deadlines_reminded_on  # noqa: E402
from models.rules import SHENZHEN  # noqa: E402
from tests.services import PostgresServer  # noqa: E402

MAX_SCAN_S = 60.0
MAX_RSS_MB = 200.0
FIRST_DEADLINE_DAYS = -(2 * 365 + 61)  # a cancellation notice goes out 60 days before 2 years of suspension
LAST_DEADLINE_DAYS = 365  # a current period ends within a year
NO_ACCOUNT_EVERY = 4  # persons 0, 4, 8, … have no account in the bot
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国志红梓涵浩宇欣怡子轩雨桐俊杰思远"


def person(n: int) -> str:
    """A keyed-hash-like `person`: 64 hex characters, in no order."""
    return hashlib.blake2b(f"person-{n}".encode(), digest_size=32).hexdigest()


def name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.choice((1, 2))))


def permits(count: int, today: date) -> Iterator[tuple[object, ...]]:
    """id, permit_no, person, name, issued_on, anchor_on, deadline_on, last_endorsed_on, source."""
    rng = random.Random(10)
    for n in range(1, count + 1):
        deadline = today + timedelta(days=rng.randint(FIRST_DEADLINE_DAYS, LAST_DEADLINE_DAYS))
        periods = rng.randint(1, 5)  # the current period is the first to the fifth of its anchor
        anchor = add_years(deadline, -periods)
        endorsed = None if periods == 1 else add_years(deadline, -1) - timedelta(days=rng.randint(1, 59))
        yield n, f"4403{n:012d}", person(n), name(rng), anchor, anchor, deadline, endorsed, "import"


def accounts(count: int, now: datetime) -> Iterator[tuple[object, ...]]:
    """Verified personal accounts of every person but each NO_ACCOUNT_EVERY-th."""
    rng = random.Random(11)
    for n in range(1, count + 1):
        if n % NO_ACCOUNT_EVERY == 0:
            continue
        hashed = person(n)
        yield (n, "personal", f"u{n}", "-", False, f"138{n:08d}", name(rng), hashed, hashed, 0, now, "bench", now, True)


ACCOUNT_COLUMNS = [
    "id", "kind", "username", "password_hash", "must_change_password", "phone", "name", "id_number_hash",
    "verified_id_hash", "failed_logins", "realname_verified_at", "realname_method", "created_at", "reminders_enabled",
]  # fmt: skip
PERMIT_COLUMNS = [
    "id", "permit_no", "person", "name", "issued_on", "anchor_on", "deadline_on", "last_endorsed_on", "source",
]  # fmt: skip


async def load(url: str, count: int, today: date) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.copy_records_to_table("permit", records=permits(count, today), columns=PERMIT_COLUMNS)
        now = datetime.now(UTC)
        await conn.copy_records_to_table("account", records=accounts(count, now), columns=ACCOUNT_COLUMNS)
        for table in ("permit", "account"):  # rows with their own ids: the next ones the ORM writes follow them
            await conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) FROM {table}")
        await conn.execute("ANALYZE permit; ANALYZE account")  # what autovacuum does soon after a load
    finally:
        await conn.close()


async def expected(url: str, deadlines: list[date]) -> tuple[int, list[str]]:
    """The reminders the scan must find, by a join in SQL (permits of the day's deadlines that have a
    holder), and the plan of the scan's first batch query, to show that it reads the index."""
    conn = await asyncpg.connect(url)
    try:
        count = await conn.fetchval(
            "SELECT count(*) FROM permit p JOIN account a ON a.verified_id_hash = p.person "
            "WHERE p.deadline_on = ANY($1) AND a.kind = 'personal' AND a.realname_verified_at IS NOT NULL",
            deadlines,
        )
        plan = await conn.fetch(
            "EXPLAIN (ANALYZE, COSTS OFF) SELECT * FROM permit WHERE deadline_on = ANY($1) AND id > 0 "
            "ORDER BY id LIMIT $2",
            deadlines, BATCH,
        )  # fmt: skip
        return count, [row[0] for row in plan]
    finally:
        await conn.close()


def vm_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


async def scan_twice(url: str, today: date) -> dict[str, object]:
    """The child's work: the day's scan, then the same scan again."""
    settings = load_settings()
    reminders = Reminders(settings.rules.as_rules(), settings.reminders)
    async with Database(url):
        ready_mb = vm_kb("VmRSS") / 1024
        runs = []
        for _ in range(2):
            started = time.perf_counter()
            found = await reminders.scan(today, due_at=reminders.due_at(today))
            seconds = time.perf_counter() - started
            runs.append({"seconds": seconds, "found": len(found), "new": sum(not f.existing for f in found)})
        pushes = await Push.all().count()
    return {"ready_mb": ready_mb, "runs": runs, "pushes": pushes}


def run_child(url: str, today: date) -> tuple[dict[str, object], float]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RB_")}
    env["RB_DATABASE__URL"] = url
    cmd = [sys.executable, __file__, "--child", url, "--today", today.isoformat()]
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE)
    assert proc.stdout is not None
    out = proc.stdout.read().decode()
    # wait4: the resources of this one child, not the largest of all children so far.
    _pid, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, so Popen must not wait for it
    if proc.returncode != 0:
        raise SystemExit(f"the scanning process failed ({proc.returncode})")
    return json.loads(out.strip().splitlines()[-1]), usage.ru_maxrss / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--permits", type=int, default=1_000_000)
    parser.add_argument("--child", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--today", type=date.fromisoformat, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(asyncio.run(scan_twice(args.child, args.today))))
        return 0

    today = datetime.now(SHENZHEN).date()
    load_avg = os.getloadavg()[0]
    server = PostgresServer()
    try:
        server.start()
        server.create_database("bench_reminders")
        url = server.url("bench_reminders")
        asyncio.run(initdb(url))
        started = time.monotonic()
        asyncio.run(load(url, args.permits, today))
        accounts_written = args.permits - args.permits // NO_ACCOUNT_EVERY
        print(f"loaded {args.permits:,} permits and {accounts_written:,} verified accounts with COPY "
              f"in {time.monotonic() - started:.0f} s", flush=True)  # fmt: skip
        settings = load_settings()
        deadlines = deadlines_reminded_on(today, settings.rules.as_rules(), settings.reminders.days_before_deadline)
        result, peak_mb = run_child(url, today)
        want, plan = asyncio.run(expected(url, deadlines))
    finally:
        server.stop()
        server.remove()

    first, second = result["runs"]  # type: ignore[misc]
    print(f"reminder scan of {today} over {args.permits:,} permits, PostgreSQL "
          f"{os.cpu_count()} CPUs, load {load_avg:.1f}")  # fmt: skip
    for what, run in (("first scan", first), ("second scan", second)):
        print(f"{what:12} {run['seconds']:6.2f} s: {run['found']:,} reminders found, {run['new']:,} new")
    print(f"deadlines reminded: {', '.join(d.isoformat() for d in deadlines)}")
    print(f"push rows written: {result['pushes']:,}; expected (SQL join): {want:,}")
    print(f"peak RSS of the scanning process: {peak_mb:.0f} MB (after start-up and opening the database: "
          f"{result['ready_mb']:.0f} MB)")  # fmt: skip
    print("plan of the first batch query (after the scans, so the pages are cached):", *plan, sep="\n  ")
    fast = first["seconds"] < MAX_SCAN_S
    small = peak_mb < MAX_RSS_MB
    right = first["found"] == first["new"] == result["pushes"] == want and second["new"] == 0
    print(f"target scan < {MAX_SCAN_S:.0f} s: {'met' if fast else 'NOT met'}")
    print(f"target peak RSS < {MAX_RSS_MB:.0f} MB: {'met' if small else 'NOT met'}")
    print(f"rows: {'as expected' if right else 'NOT as expected'}")
    return 0 if fast and small and right else 1


if __name__ == "__main__":
    sys.exit(main())
