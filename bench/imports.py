"""Benchmark of `residence-bot import social-insurance` on PostgreSQL and SQLite.

Generates a social-insurance CSV (valid ID numbers, ~rows/24 people × 24 months, month by month,
so each person's rows are a whole month of rows apart), then on a private PostgreSQL (started as
tests/services.py does) and on a new SQLite file runs `initdb` and the import twice as
subprocesses: the first import inserts every row, the second finds every row unchanged. Measures
rows/s (wall clock of the process) and the import process's peak RSS, and writes bench/IMPORTS.md.

Usage: .venv/bin/python bench/imports.py [--rows 1000000]
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import platform
import random
import re
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from stdnum.cn import ric

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # tests/ is not an installed package: its PostgreSQL is reused from the repository

from conversations.parsers import resident_id  # noqa: E402
from models.records import month_index, month_of  # noqa: E402
from tests.services import HOST, PostgresServer  # noqa: E402

MONTHS = 24
# Targets of the brief for this benchmark.
MIN_POSTGRES_ROWS_PER_S = 20_000
MAX_RSS_MB = 200
# Region codes of Shenzhen's districts and of provinces many residents come from.
REGIONS = ("440303", "440304", "440305", "440306", "440307", "440308", "430102", "360102", "450102", "510104")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红娥玲芬燕彬建国志文斌浩宇欣怡子涵梓轩"
EMPLOYERS = [f"深圳市{word}科技有限公司" for word in ("腾飞", "华创", "鹏程", "前海", "南山", "光明", "海岸", "湾区")]


@dataclass(frozen=True)
class Run:
    database: str
    what: str  # "first import" or "re-import"
    rows: int
    seconds: float
    peak_rss_mb: float
    summary: str

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.seconds


def id_number(person: int) -> str:
    """A valid, distinct ID number per person: birth day and sequence number both come from `person`."""
    born = dt.date(1970, 1, 1) + dt.timedelta(days=(person // 1000) * 7)
    body = f"{REGIONS[person % len(REGIONS)]}{born:%Y%m%d}{person % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")


def write_csv(path: Path, rows: int, today: dt.date) -> None:
    people = -(-rows // MONTHS)
    last = month_index(today.year, today.month) - 1  # the month before this one
    rng = random.Random(20260101)
    names = [rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.choice((1, 2)))) for _ in range(people)]
    employers = [rng.choice(EMPLOYERS) for _ in range(people)]
    ids = [id_number(person) for person in range(people)]
    for region in REGIONS:  # every region code must pass the bot's own check, or the file is refused
        resident_id(f"{region}19900101001" + ric.calc_check_digit(f"{region}199001010010"), today=today)
    with path.open("w", encoding="utf-8", newline="") as f:
        out = csv.writer(f)
        out.writerow(["id_number", "name", "month", "employer"])
        written = 0
        for month in range(last - MONTHS + 1, last + 1):
            year, number = month_of(month)
            for person in range(people):
                if written == rows:
                    return
                out.writerow([ids[person], names[person], f"{year:04d}-{number:02d}", employers[person]])
                written += 1


def bot_env(url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RB_")}
    env["RB_DATABASE__URL"] = url
    return env


def run_import(database: str, what: str, url: str, csv_path: Path, rows: int, log: Path) -> Run:
    with log.open("ab") as err:
        started = time.monotonic()
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "import", "social-insurance", str(csv_path)],
            cwd=REPO, env=bot_env(url), stdout=subprocess.PIPE, stderr=err,
        )  # fmt: skip
        assert proc.stdout is not None
        out = proc.stdout.read().decode()
        # wait4: the resources of this one child, not the largest of all children so far.
        _pid, status, usage = os.wait4(proc.pid, 0)
        seconds = time.monotonic() - started
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, so Popen must not wait for it
    if proc.returncode != 0:
        raise SystemExit(f"{database} {what} failed ({proc.returncode}); see {log}")
    # The report names the file by its temporary path: keep only its name for the written figures.
    return Run(database, what, rows, seconds, usage.ru_maxrss / 1024, out.strip().replace(str(csv_path), csv_path.name))


def initdb(url: str, log: Path) -> None:
    with log.open("ab") as err:
        subprocess.run(
            [sys.executable, "-m", "bot", "initdb"], cwd=REPO, env=bot_env(url), stdout=err, stderr=err, check=True
        )


def psql(server: PostgresServer, database: str, statement: str) -> str:
    args = [str(server.bindir / "psql"), "-h", HOST, "-p", str(server.port), "-U", "postgres", "-d", database, "-qAtX"]
    return subprocess.run([*args, "-c", statement], capture_output=True, text=True, check=True).stdout.strip()


def cpu_model() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or "unknown"
    found = re.search(r"^model name\s*:\s*(.+)$", text, re.MULTILINE)
    return found[1].strip() if found else "unknown"


def report(runs: list[Run], rows: int, csv_bytes: int, pg_version: str, generated_s: float, load: float) -> str:
    pg = next(r for r in runs if r.database == "PostgreSQL" and r.what == "first import")
    met = pg.rows_per_s >= MIN_POSTGRES_ROWS_PER_S and all(r.peak_rss_mb < MAX_RSS_MB for r in runs)
    lines = [
        "# Import benchmark: `residence-bot import social-insurance`",
        "",
        "Written by `bench/imports.py`; run it again to refresh (`.venv/bin/python bench/imports.py --rows 1000000`).",
        "",
        f"- date: {dt.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}",
        f"- machine: {os.cpu_count()} CPUs (nproc), {cpu_model()}, {platform.system()} {platform.release()}; "
        f"load average at the start {load:.2f} (other work on the machine makes the figures vary)",
        f"- Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, {pg_version}",
        "- PostgreSQL: a private cluster as in tests/services.py (fsync, synchronous_commit and "
        "full_page_writes off), on loopback TCP",
        f"- file: {rows:,} rows ({-(-rows // MONTHS):,} people × {MONTHS} months, month by month), "
        f"{csv_bytes / 1e6:.0f} MB, generated in {generated_s:.1f} s",
        "",
        "Each figure is one `python -m bot import social-insurance FILE` process from start to exit "
        "(interpreter start, both passes over the file, all writes); peak RSS is that process's ru_maxrss.",
        "",
        "How (bot/imports/engine.py): pass 1 checks every row; pass 2 checks them again and writes batches "
        "of 20,000 rows, all in one transaction: on PostgreSQL one `INSERT … SELECT … FROM unnest(arrays) "
        "ON CONFLICT DO NOTHING` per batch, on SQLite one executemany. The next batch is checked while the "
        "one before is written. Both passes hash the bytes they read, so a file changed in between is "
        "refused. ID checks, cell checks and lookup hashes are cached per distinct value (bounded LRU "
        "caches, so memory stays flat on a file of all different people).",
        "",
        "| database | run | rows | seconds | rows/s | peak RSS |",
        "|---|---|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {r.database} | {r.what} | {r.rows:,} | {r.seconds:.1f} | {r.rows_per_s:,.0f} | {r.peak_rss_mb:.0f} MB |"
        for r in runs
    ]
    lines += [
        "",
        f"Targets: ≥ {MIN_POSTGRES_ROWS_PER_S:,} rows/s on PostgreSQL, peak RSS < {MAX_RSS_MB} MB on both: "
        + ("met." if met else "**not met**."),
        "",
        "What the import prints:",
        "",
        *(f"- {r.database}, {r.what}: `{r.summary}`" for r in runs),
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "IMPORTS.md")
    args = parser.parse_args()

    load = os.getloadavg()[0]
    runs: list[Run] = []
    with tempfile.TemporaryDirectory(prefix="rb-bench-imports-") as tmp:
        work = Path(tmp)
        log = work / "bench.log"
        csv_path = work / "social_insurance.csv"
        started = time.monotonic()
        write_csv(csv_path, args.rows, dt.date.today())
        generated_s = time.monotonic() - started
        print(
            f"generated {args.rows:,} rows in {generated_s:.1f} s: {csv_path.stat().st_size / 1e6:.0f} MB", flush=True
        )

        server = PostgresServer()
        try:
            server.start()
            server.create_database("bench_imports")
            pg_version = server.sql("SHOW server_version").split()[0]
            targets = [("PostgreSQL", server.url("bench_imports")), ("SQLite", f"sqlite://{work}/bench.sqlite3")]
            for database, url in targets:
                initdb(url, log)
                for what in ("first import", "re-import"):
                    run = run_import(database, what, url, csv_path, args.rows, log)
                    runs.append(run)
                    print(
                        f"{database:10} {what:12} {run.seconds:6.1f} s {run.rows_per_s:9,.0f} rows/s "
                        f"peak RSS {run.peak_rss_mb:4.0f} MB | {run.summary}",
                        flush=True,
                    )
            stored = int(psql(server, "bench_imports", "SELECT count(*) FROM social_insurance_month"))
        finally:
            server.stop()
            server.remove()
        with sqlite3.connect(work / "bench.sqlite3") as conn:
            stored_sqlite = conn.execute("SELECT count(*) FROM social_insurance_month").fetchone()[0]
        if stored != args.rows or stored_sqlite != args.rows:
            raise SystemExit(f"rows stored: PostgreSQL {stored:,}, SQLite {stored_sqlite:,}; expected {args.rows:,}")
        text = report(runs, args.rows, csv_path.stat().st_size, f"PostgreSQL {pg_version}", generated_s, load)
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
