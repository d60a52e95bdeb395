"""`residence-bot worker` as a real process on Redis, and `serve`'s in-process sender: a change made
elsewhere reaches the worker within seconds, a worker killed between sending and marking loses
nothing, two workers never send one row twice, and of two one killed mid-batch leaves the other to
send the rest, nothing doubled beyond what WeChat's client_msg_id drops."""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from redis.asyncio import Redis

from bot.app import SERVICES
from bot.config import PushesConfig, RemindersConfig, TemplatesConfig
from bot.db import Database, initdb
from bot.dev.wechat_standin import TEMPLATE_PATH
from bot.metrics import Metrics
from bot.services import pushes
from bot.services.push_sender import PushSender
from bot.state.memory import MemoryStore
from models import Account, AccountKind, Binding, Permit, Push, PushState
from models.records import add_years
from models.rules import SHENZHEN
from tests.fake_wechat_api import FakeWeChat
from tests.harness import make_settings, through_fakes
from tests.people import person, verified_account
from tests.processes import REPO, ServeProcess, WorkerProcess, bot_env, run_cli
from tests.services import PostgresServer, RedisServer

OPENID = "oRESIDENT0000000000000000001"
TEMPLATE_ID = "TPL_application_status_0001"
_DATABASES = itertools.cycle(range(1, 16))


@pytest.fixture
def queue_url(redis_server: RedisServer) -> str:
    """A Redis database of its own: the job queue's keys and the worker's state have no test prefix."""
    return f"redis://127.0.0.1:{redis_server.port}/{next(_DATABASES)}"


async def _flush(url: str) -> None:
    redis = Redis.from_url(url)
    try:
        await redis.flushdb()
    finally:
        await redis.aclose()


@pytest.fixture
async def workers(tmp_path: Path, fake_wechat: FakeWeChat, queue_url: str) -> AsyncIterator[list[WorkerProcess]]:
    """Made with `worker_env`; killed at the end whatever happened."""
    await _flush(queue_url)
    made: list[WorkerProcess] = []
    yield made
    for worker in made:
        worker.kill()


def worker_env(tmp_path: Path, fake: FakeWeChat, queue_url: str, database_url: str, **pushes: str) -> dict[str, str]:
    env = bot_env(
        tmp_path,
        RB_DATABASE__URL=database_url,
        RB_REDIS__URL=queue_url,
        RB_WECHAT__APP_ID=fake.app_id,
        RB_WECHAT__APP_SECRET=fake.app_secret,
        RB_WECHAT__API_BASE_URL=fake.url,
        RB_WECHAT__TEMPLATES__APPLICATION_STATUS=TEMPLATE_ID,
        RB_PUSHES__SCAN_INTERVAL_S="300",  # a delivery within seconds is the wake's doing
        RB_REMINDERS__RATE_PER_SECOND="1000",
    )
    env.update({f"RB_PUSHES__{k.upper()}": v for k, v in pushes.items()})
    return env


@pytest.fixture
async def sqlite_url(tmp_path: Path) -> AsyncIterator[str]:
    url = f"sqlite://{tmp_path}/bot.sqlite3"
    await initdb(url)
    async with Database(url):
        yield url


async def resident() -> Account:
    account = await Account.create(
        kind=AccountKind.PERSONAL, username="resident1", password_hash="-", phone="13800138000", name="张三"
    )
    await Binding.create(account=account, openid=OPENID)
    return account


async def outbox(account: Account, count: int = 1) -> None:
    for i in range(count):
        await pushes.add(
            f"status:{i}:verifying",
            account_id=account.id,
            kind="application_status",
            template="application_status",
            data={"character_string1": f"4403-2026-{i:06d}", "phrase2": "审核中"},
            url="https://bot.example.gov.cn/r/token",
            due_at=datetime.now(UTC),
        )


def command_sender(queue_url: str) -> PushSender:
    """What a command that changed something holds: a sender it does not run, only wakes with."""
    config = PushesConfig(scan_interval_s=300)
    store = MemoryStore(dedup_ttl_s=60, lock_timeout_s=5)
    return PushSender(config, RemindersConfig(), TemplatesConfig(), None, store, Metrics(), queue_url=queue_url)


async def eventually(check, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, f"not within {timeout_s} s: {what}"
        await asyncio.sleep(0.05)


# -- the command ----------------------------------------------------------------------------
def test_the_worker_needs_redis_and_says_that_serve_sends_without_it(tmp_path):
    result = run_cli(bot_env(tmp_path), "worker")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "worker: redis.url is not set; without Redis `residence-bot serve` sends the pushes in-process"
    ]


async def test_a_wake_from_another_process_reaches_the_running_worker_within_seconds(
    tmp_path, fake_wechat, queue_url, sqlite_url, workers
):
    worker = WorkerProcess(tmp_path, worker_env(tmp_path, fake_wechat, queue_url, sqlite_url))
    workers.append(worker)
    await worker.start()
    await outbox(await resident())  # after its first round: only a wake gets this out before 300 s
    command = command_sender(queue_url)
    await command.flush()
    await command.close()
    await eventually(lambda: len(fake_wechat.sent) == 1, 5, "the push delivered")
    assert await worker.stop() == 0  # SIGTERM: a clean stop
    assert (await Push.get()).state == PushState.SENT


async def test_a_worker_killed_between_sending_and_marking_loses_nothing(
    tmp_path, fake_wechat, queue_url, sqlite_url, workers
):
    env = worker_env(tmp_path, fake_wechat, queue_url, sqlite_url, lease_s="10", scan_interval_s="1")
    await outbox(await resident())
    fake_wechat.hold_answers_next(TEMPLATE_PATH, 5.0)  # delivered, the answer late
    first = WorkerProcess(tmp_path, env)
    workers.append(first)
    await first.start()
    await eventually(lambda: len(fake_wechat.sent) == 1, 10, "the first worker's send")
    first.kill()
    row = await Push.get()
    assert row.state == PushState.PENDING and row.claimed_until is not None

    second = WorkerProcess(tmp_path, env)
    workers.append(second)
    await second.start()
    await eventually(lambda: len(fake_wechat.calls_to(TEMPLATE_PATH)) == 2, 20, "the second worker's send")
    await asyncio.sleep(0.5)  # its mark
    await row.refresh_from_db()
    assert row.state == PushState.SENT
    assert [c.json["client_msg_id"] for c in fake_wechat.calls_to(TEMPLATE_PATH)] == [row.client_msg_id] * 2
    assert len(fake_wechat.sent) == 1  # WeChat dropped the repeat


@pytest.fixture
async def postgres_url(postgres_server: PostgresServer) -> AsyncIterator[str]:
    name = f"rb_test_{uuid.uuid4().hex[:12]}"
    postgres_server.create_database(name)
    url = postgres_server.url(name)
    await initdb(url)
    try:
        async with Database(url):
            yield url
    finally:
        postgres_server.drop_database(name)


async def test_two_worker_processes_never_send_one_row_twice(tmp_path, fake_wechat, queue_url, postgres_url, workers):
    await outbox(await resident(), count=200)
    env = worker_env(tmp_path, fake_wechat, queue_url, postgres_url, batch_size="10")
    workers.extend(WorkerProcess(tmp_path, env) for _ in range(2))
    await asyncio.gather(*(w.start() for w in workers))
    await eventually(lambda: len(fake_wechat.calls_to(TEMPLATE_PATH)) >= 200, 60, "200 sends")
    await asyncio.sleep(0.5)  # anything sent twice would show by now
    assert len(fake_wechat.calls_to(TEMPLATE_PATH)) == 200
    assert len({m.payload["client_msg_id"] for m in fake_wechat.sent}) == 200
    assert await Push.filter(state=PushState.SENT).count() == 200


async def test_of_two_workers_one_killed_mid_batch_the_other_sends_every_row_once(
    tmp_path, fake_wechat, queue_url, postgres_url, workers
):
    await outbox(await resident(), count=60)
    env = worker_env(tmp_path, fake_wechat, queue_url, postgres_url, batch_size="10", lease_s="10", scan_interval_s="1")
    env["RB_REMINDERS__RATE_PER_SECOND"] = "20"  # a few seconds of sending, shared: both are at it
    fake_wechat.hold_answers_next(TEMPLATE_PATH, 10.0)  # the first send delivered, its answer late
    dying, finishing = WorkerProcess(tmp_path, env), WorkerProcess(tmp_path, env)
    workers.extend([dying, finishing])
    await dying.start()
    await eventually(lambda: len(fake_wechat.sent) == 1, 10, "the first worker's first send")
    await finishing.start()
    await eventually(lambda: len(fake_wechat.sent) >= 20, 20, "the second worker sending")
    dying.kill()  # in the middle of its batch: one row sent and not marked, the rest of it unclaimed

    await eventually(lambda: len(fake_wechat.sent) == 60, 30, "every row delivered")
    await eventually(lambda: len(fake_wechat.calls_to(TEMPLATE_PATH)) == 61, 20, "the unmarked row sent again")
    await asyncio.sleep(0.5)  # its mark, and anything sent twice more
    assert await Push.filter(state=PushState.SENT).count() == 60
    calls = [c.json["client_msg_id"] for c in fake_wechat.calls_to(TEMPLATE_PATH)]
    assert len(calls) == 61 and calls.count(calls[0]) == 2  # only the row the killed worker had in flight
    assert len({m.payload["client_msg_id"] for m in fake_wechat.sent}) == 60  # WeChat dropped that repeat


# -- serve without Redis ----------------------------------------------------------------------
async def test_serve_without_redis_sends_pushes_in_process_woken_by_its_changes(
    tmp_path, fake_wechat, fake_sms, start_bot
):
    fakes = through_fakes(fake_sms, fake_wechat)
    wechat = {**fakes["wechat"], "templates": {"application_status": TEMPLATE_ID}}
    settings = make_settings(tmp_path, sms=fakes["sms"], wechat=wechat, pushes={"scan_interval_s": 300})
    bot = await start_bot(settings)
    await outbox(await resident())
    bot.server.app[SERVICES].push_sender.wake()  # as the admin API does after a change
    await eventually(lambda: len(fake_wechat.sent) == 1, 2, "the push delivered")
    assert (await Push.get()).state == PushState.SENT


# -- the daily reminder scan ------------------------------------------------------------------
async def holder_reminded_today() -> None:
    """A verified, bound permit holder whose endorsement window opens today."""
    number = "440304199001011233"
    await verified_account(OPENID, number)
    today = datetime.now(SHENZHEN).date()  # the scan's day is Shenzhen's
    issued = add_years(today + timedelta(days=59), -1)  # A_1 - 59 is today (civil_code)
    await Permit.create(permit_no="440300202500001", person=person(number), name="张三", issued_on=issued,
                        anchor_on=issued)  # fmt: skip


async def test_a_starting_worker_runs_the_days_reminder_scan_and_sends_what_it_finds(
    tmp_path, fake_wechat, queue_url, sqlite_url, workers
):
    await holder_reminded_today()
    env = worker_env(tmp_path, fake_wechat, queue_url, sqlite_url)
    env["RB_WECHAT__TEMPLATES__ENDORSEMENT_REMINDER"] = "TPL_endorsement_reminder_1"
    env["RB_REMINDERS__SEND_HOUR"] = "0"  # so that the day's reminders are due already
    worker = WorkerProcess(tmp_path, env)
    workers.append(worker)
    await worker.start()
    await eventually(lambda: len(fake_wechat.sent_templates) == 1, 10, "the reminder delivered")
    [sent] = fake_wechat.sent_templates
    assert sent["touser"] == OPENID and sent["data"]["thing2"] == {"value": "签注期已开始，请按时签注"}
    assert await worker.stop() == 0
    [row] = await Push.all()
    assert row.key.endswith(":opens") and row.state == PushState.SENT


async def test_serve_without_redis_runs_the_days_reminder_scan_itself(tmp_path, fake_wechat, sqlite_url):
    await holder_reminded_today()
    serve = ServeProcess(
        tmp_path,
        cwd=tmp_path,  # its memory-state guard file there: a bot serving from the repository does not count
        RB_CONFIG=str(REPO / "config.yaml"),
        RB_DATABASE__URL=sqlite_url,
        RB_WECHAT__APP_ID=fake_wechat.app_id,
        RB_WECHAT__APP_SECRET=fake_wechat.app_secret,
        RB_WECHAT__API_BASE_URL=fake_wechat.url,
        RB_WECHAT__TEMPLATES__ENDORSEMENT_REMINDER="TPL_endorsement_reminder_1",
        RB_REMINDERS__SEND_HOUR="0",
    )
    serve.start()
    try:
        await eventually(lambda: len(fake_wechat.sent_templates) == 1, 10, "the reminder delivered")
    finally:
        serve.kill()
    assert fake_wechat.sent_templates[0]["touser"] == OPENID
