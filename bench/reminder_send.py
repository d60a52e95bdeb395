"""10,000 due reminders sent by two `residence-bot worker` processes, one killed half-way.

A private PostgreSQL and redis-server (tests/services.py) and the development stand-in for WeChat's
API (bot/dev/wechat_standin.py `DevWeChat`, the class `residence-bot dev-wechat` serves, served here
in this process so that its record of every call and delivery can be read as it is). Written with
COPY: COUNT personal accounts, each bound to its own OpenID, and one due endorsement_reminder push
row for each. Two workers start at once, sharing reminders.rate_per_second (RATE) through Redis;
when half the messages are delivered the first is killed with SIGKILL, and the other must finish
the rest, including a row the dead one held when it died: that row waits for its lease
(pushes.lease_s, 120 s as config.yaml ships) and the survivor's next scan (pushes.scan_interval_s,
30 s), the only settings of pushes left as they ship.

Checks: every row sent once (no OpenID delivered two messages; a repeat of one row's
client_msg_id is dropped by the stand-in as by WeChat and counted apart), every row `sent` with
the OpenID and msgid of its delivery, and the rate: deliveries per clock second of the stand-in at
most RATE, but for those in a second's first BOUNDARY_S that the sender counted in the second before.
Exits 1 on any loss, double or rate overrun.

Usage: .venv/bin/python bench/reminder_send.py [--count 10000] [--rate 100]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
from aiohttp import web

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # tests/ is not an installed package: its servers are reused from the repository

from bot.config import DEV_APP_SECRET, PushesConfig  # noqa: E402
from bot.db import initdb  # noqa: E402
from bot.dev.wechat_standin import TEMPLATE_PATH, DevWeChat  # noqa: E402
from models.push import REMINDER  # noqa: E402
from tests.services import HOST, PostgresServer, RedisServer, free_port  # noqa: E402

APP_ID = "wxbench0000000001"
TEMPLATE_ID = "TPL_endorsement_reminder_bench"
# The sender counts a send in the clock second it asks for its slot, just before the request: one
# asked for in a second's last moments is delivered in the next.
BOUNDARY_S = 0.05
LEASE_S, SCAN_INTERVAL_S = PushesConfig().lease_s, PushesConfig().scan_interval_s


# Every statement outside a transaction is one; the bench's own connection adds a few.
COMMITS = "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()"


def openid(n: int) -> str:
    return f"oBench{n:022d}"


ACCOUNT_COLUMNS = [
    "id", "kind", "username", "password_hash", "must_change_password", "phone", "name", "failed_logins", "created_at",
    "reminders_enabled",
]  # fmt: skip
PUSH_COLUMNS = [
    "id", "key", "kind", "template", "data", "url", "state", "due_at", "attempts", "openid", "last_error",
    "created_at", "account_id",
]  # fmt: skip
BINDING_COLUMNS = ["id", "openid", "bound_at", "account_id"]
REMINDER_DATA = {"thing2": "距签注截止还有7天", "date3": "2027-01-02", "thing4": "回复「签注」在线办理"}


async def load(url: str, count: int) -> None:
    """COUNT accounts, their bindings and one due reminder each, ids 1…COUNT throughout."""
    now = datetime.now(UTC)
    due = now - timedelta(minutes=1)
    numbers = range(1, count + 1)
    conn = await asyncpg.connect(url)
    try:
        accounts = [(n, "personal", f"u{n}", "-", False, f"138{n:08d}", "张三", 0, now, True) for n in numbers]
        await conn.copy_records_to_table("account", records=accounts, columns=ACCOUNT_COLUMNS)
        bindings = [(n, openid(n), now, n) for n in numbers]
        await conn.copy_records_to_table("binding", records=bindings, columns=BINDING_COLUMNS)
        pushes = [
            (n, f"remind:{n}:2027-01-02:due7", REMINDER, REMINDER,
             json.dumps({"character_string1": f"4403{n:012d}", **REMINDER_DATA}), "", "pending", due, 0, "", "", now, n)
            for n in numbers
        ]  # fmt: skip
        await conn.copy_records_to_table("push", records=pushes, columns=PUSH_COLUMNS)
        for table in ("account", "binding", "push"):  # rows with their own ids: the ORM's next ones follow them
            await conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) FROM {table}")
    finally:
        await conn.close()


class Worker:
    """`residence-bot worker`, its output in a log file."""

    def __init__(self, name: str, env: dict[str, str], log: Path) -> None:
        self.name = name
        self.log = log
        with log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "bot", "worker"], cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT
            )

    def cpu_s(self) -> float:
        """User and system CPU time so far (/proc/PID/stat)."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


def worker_env(database_url: str, redis_url: str, api_url: str, rate: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RB_")}
    env.update(
        RB_DATABASE__URL=database_url,
        RB_REDIS__URL=redis_url,
        RB_WECHAT__APP_ID=APP_ID,
        RB_WECHAT__APP_SECRET=DEV_APP_SECRET,
        RB_WECHAT__API_BASE_URL=api_url,
        RB_WECHAT__TEMPLATES__ENDORSEMENT_REMINDER=TEMPLATE_ID,
        RB_REMINDERS__RATE_PER_SECOND=str(rate),
        RB_REMINDERS__QUIET_HOURS="",  # the bench runs at any hour
        RB_LOGGING__LEVEL="WARNING",
    )
    return env


def rate_overruns(times: list[float], rate: int) -> list[tuple[int, int]]:
    """The clock seconds holding more than `rate` deliveries, beyond those in their first BOUNDARY_S
    (counted by the sender in the second before): (second, deliveries)."""
    per_second = Counter(int(t) for t in times)
    early = Counter(int(t) for t in times if t - int(t) < BOUNDARY_S)
    return [(s, n) for s, n in sorted(per_second.items()) if n - early[s] > rate]


@dataclass
class Record:
    """What the stand-in saw, and when: every template request answered, by the worker that sent it."""

    answered: list[tuple[float, str]] = field(default_factory=list)
    ports: dict[int, str] = field(default_factory=dict)  # the stand-in's port each worker was given

    async def note(self, request: web.Request, _response: web.StreamResponse) -> None:
        if request.path == TEMPLATE_PATH:
            self.answered.append((time.time(), self.ports.get(request.url.port or 0, "?")))


async def run(count: int, rate: int, work: Path) -> int:
    redis = RedisServer(work / "redis")
    postgres = PostgresServer()
    stand_in = DevWeChat(APP_ID, DEV_APP_SECRET)
    record = Record()
    app = stand_in.make_app()
    app.on_response_prepare.append(record.note)
    runner = web.AppRunner(app, access_log=None)
    workers: list[Worker] = []
    try:
        redis.start()
        postgres.start()
        postgres.create_database("bench_send")
        url = postgres.url("bench_send")
        await initdb(url)
        await load(url, count)
        await runner.setup()
        for name in ("a", "b"):  # a port each, so that a request tells which worker sent it
            port = free_port()
            await web.TCPSite(runner, HOST, port).start()
            record.ports[port] = name
        stand_in.url = f"http://{HOST}:{next(iter(record.ports))}"
        load_avg = os.getloadavg()[0]
        started = time.time()
        for port, name in record.ports.items():
            env = worker_env(url, redis.url, f"http://{HOST}:{port}", rate)
            workers.append(Worker(name, env, work / f"{name}.log"))
        while len(stand_in.sent) < count // 2:
            if any(w.proc.poll() is not None for w in workers):
                raise SystemExit("a worker exited:\n" + workers[0].log.read_text() + workers[1].log.read_text())
            await asyncio.sleep(0.01)
        cpu = {w.name: w.cpu_s() for w in workers}
        workers[0].kill()
        killed_at = time.time()
        print(f"worker a killed (SIGKILL) at {killed_at - started:.1f} s, {len(stand_in.sent):,} delivered", flush=True)
        conn = await asyncpg.connect(url)
        try:
            statements = [await conn.fetchval(COMMITS)]
            deadline = killed_at + LEASE_S + 2 * SCAN_INTERVAL_S + 2 * count / rate
            while await conn.fetchval("SELECT count(*) FROM push WHERE state = 'sent'") < count:
                if workers[1].proc.poll() is not None or time.time() > deadline:
                    break
                await asyncio.sleep(0.5)
            finished = time.time()
            cpu["b after"] = workers[1].cpu_s() - cpu["b"]
            await asyncio.sleep(2)  # a send still in flight would show by now; the statistics are flushed
            statements.append(await conn.fetchval(COMMITS))
            rows = await conn.fetch("SELECT id, state, openid, msgid FROM push ORDER BY id")
        finally:
            await conn.close()
    finally:
        for worker in workers:
            worker.stop()
        await runner.cleanup()
        redis.stop()
        postgres.stop()
        postgres.remove()
    done = f"all rows sent after {finished - started:.1f} s" if finished < deadline else "NOT all rows sent in time"
    print(f"{count:,} reminders, rate_per_second {rate}, 2 workers, {os.cpu_count()} CPUs, load {load_avg:.1f}: {done}")
    after = sum(t >= killed_at for t, _ in record.answered)
    print(f"the survivor alone: {1000 * cpu['b after'] / after:.1f} ms of CPU and "
          f"{(statements[1] - statements[0]) / after:.1f} database statements a send (its whole CPU time over the "
          f"requests it made after the kill; transactions committed in the database over the same)")  # fmt: skip
    return report(stand_in, record, rows, count, rate, killed_at)


def report(stand_in: DevWeChat, record: Record, rows: list[asyncpg.Record], count: int, rate: int,
           killed_at: float) -> int:  # fmt: skip
    requests = [(c.json["touser"], c.json.get("client_msg_id")) for c in stand_in.calls_to(TEMPLATE_PATH)]
    delivered = [(m.openid, m.payload.get("client_msg_id")) for m in stand_in.sent]
    per_openid = Counter(user for user, _ in delivered)
    expected = {(openid(r["id"]), f"rb-push-{r['id']}") for r in rows}
    lost = len(expected - set(delivered))
    doubled = sum(n - 1 for n in per_openid.values() if n > 1)
    strays = len(set(delivered) - expected)  # a message to someone, or with an id, that no row has
    once = sum(per_openid[user] == 1 for user, _ in expected & set(delivered))
    unmarked = sum(r["state"] != "sent" for r in rows)
    mismarked = sum(r["state"] == "sent" and (r["openid"] != openid(r["id"]) or r["msgid"] is None) for r in rows)
    msgids = len({r["msgid"] for r in rows if r["msgid"] is not None})

    # The rate, of every request the senders made (a repeat counts against it too).
    times = sorted(t for t, _ in record.answered)
    per_second = Counter(int(t) for t in times)
    overruns = rate_overruns(times, rate)

    def achieved(span: list[float]) -> float:
        seconds = sorted({int(t) for t in span})[1:-1]  # whole seconds only: the first and last are partly idle
        return sum(per_second[s] for s in seconds) / len(seconds) if seconds else 0.0

    for label, span in (("before the kill", lambda t: t < killed_at), ("after the kill", lambda t: t >= killed_at)):
        mine = [(t, name) for t, name in record.answered if span(t)]
        by = Counter(name for _, name in mine)
        print(f"{label}: {len(mine):,} requests (a {by['a']:,}, b {by['b']:,}), "
              f"{achieved([t for t, _ in mine]):.1f}/s over its whole seconds")  # fmt: skip
    gap = max(itertools.pairwise(times), key=lambda pair: pair[1] - pair[0], default=(0.0, 0.0))
    print(f"longest pause between requests: {gap[1] - gap[0]:.1f} s, from {gap[0] - killed_at:+.1f} s after the kill")
    print(f"busiest clock second: {max(per_second.values())} requests; seconds over {rate} beyond the boundary "
          f"allowance: {len(overruns)}{' ' + str(overruns[:5]) if overruns else ''}")  # fmt: skip
    print(f"template requests {len(requests):,}, delivered {len(delivered):,}, "
          f"repeats WeChat drops {len(requests) - len(delivered)}")  # fmt: skip
    print(f"rows not sent {unmarked}, marked with another OpenID or no msgid {mismarked}, distinct msgids "
          f"{msgids:,}, messages no row explains {strays}")  # fmt: skip
    print(f"{count} reminders, 2 workers, 1 killed: {once} sent once, {lost} lost, {doubled} doubled")
    ok = once == count and not (lost or doubled or strays or unmarked or mismarked or overruns)
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--rate", type=int, default=100, help="reminders.rate_per_second")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="rb-bench-send-") as work:
        return asyncio.run(run(args.count, args.rate, Path(work)))


if __name__ == "__main__":
    sys.exit(main())
