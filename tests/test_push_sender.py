"""The push outbox's sender against the fake WeChat API, on SQLite and PostgreSQL: each push sent
once, to whom the account is bound when it goes, retried, given up, or skipped as WeChat answers."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest

from bot.config import PushesConfig, RemindersConfig, TemplatesConfig
from bot.dev.wechat_standin import CLIENT_MSG_ID_WINDOW_S, TEMPLATE_PATH
from bot.metrics import Metrics
from bot.services import pushes
from bot.services.push_sender import PushSender, fit_template_data
from bot.state.base import StateStore
from bot.state.memory import MemoryStore
from bot.state.redis import RedisStore
from bot.wechat.api import WeChatAPI
from models import Account, AccountKind, Binding, Push, PushState, WeChatUser
from tests.fake_wechat_api import FIRST_TEMPLATE_MSGID, FakeWeChat

OPENID = "oRESIDENT0000000000000000001"
OTHER_OPENID = "oRESIDENT0000000000000000002"
TEMPLATE_ID = "TPL_application_status_0001"
URL = "https://bot.example.gov.cn/r/token"
DATA = {"character_string1": "4403-2026-000001-K", "phrase2": "审核中", "thing4": "请留意下一步通知"}


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore(dedup_ttl_s=300, lock_timeout_s=10)


def make_sender(
    session: aiohttp.ClientSession,
    fake: FakeWeChat,
    store: StateStore,
    *,
    templates: TemplatesConfig | None = None,
    reminders: RemindersConfig | None = None,
    rate_per_second: int = 10_000,
    timeout_s: float = 5.0,
    **config: Any,
) -> PushSender:
    api = WeChatAPI(
        session,
        base_url=fake.url,
        app_id=fake.app_id,
        app_secret=fake.app_secret,
        cache=store,
        timeout_s=timeout_s,
        retry_delay_s=0.0,
    )
    reminders = reminders or RemindersConfig(rate_per_second=rate_per_second, quiet_hours="")
    templates = templates or TemplatesConfig(application_status=TEMPLATE_ID)
    return PushSender(PushesConfig(**config), reminders, templates, api, store, Metrics())


@pytest.fixture
def sender(session, fake_wechat, store) -> PushSender:
    return make_sender(session, fake_wechat, store)


async def resident(openid: str | None = OPENID, username: str = "resident1") -> Account:
    account = await Account.create(
        kind=AccountKind.PERSONAL, username=username, password_hash="-", phone="13800138000", name="张三"
    )
    if openid is not None:
        await Binding.create(account=account, openid=openid)
    return account


async def outbox(account: Account, key: str = "status:1:verifying", *, due_at: datetime | None = None) -> Push:
    await pushes.add(
        key,
        account_id=account.id,
        kind="application_status",
        template="application_status",
        data=DATA,
        url=URL,
        due_at=due_at or datetime.now(UTC),
    )
    return await Push.get(key=key)


async def eventually(check, timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, "not within the time"
        await asyncio.sleep(0.02)


# -- sent once ---------------------------------------------------------------------------------
async def test_a_due_push_is_sent_once_with_its_data_link_and_client_msg_id(db, sender, fake_wechat):
    row = await outbox(await resident())
    assert await sender.send_due() == 1
    assert await sender.send_due() == 0
    [delivered] = fake_wechat.sent
    assert delivered.payload == {
        "touser": OPENID,
        "template_id": TEMPLATE_ID,
        "data": {keyword: {"value": value} for keyword, value in DATA.items()},
        "url": URL,
        "client_msg_id": f"rb-push-{row.id}",
    }
    await row.refresh_from_db()
    assert (row.state, row.msgid, row.openid, row.claimed_until) == (
        PushState.SENT,
        FIRST_TEMPLATE_MSGID,
        OPENID,
        None,
    )
    assert row.sent_at is not None


async def test_a_push_due_later_waits_for_its_time(db, sender, fake_wechat):
    now = datetime.now(UTC)
    await outbox(await resident(), due_at=now + timedelta(hours=1))
    assert await sender.send_due(now) == 0
    assert await sender.send_due(now + timedelta(hours=1)) == 1
    assert len(fake_wechat.sent) == 1


async def test_the_push_goes_to_whom_the_account_is_bound_when_it_is_sent(db, sender, fake_wechat):
    account = await resident()
    await outbox(account)
    await Binding.filter(account=account).update(openid=OTHER_OPENID)  # bound anew after the change
    await sender.send_due()
    assert [m.openid for m in fake_wechat.sent] == [OTHER_OPENID]


async def test_a_push_to_an_account_bound_to_nobody_is_skipped(db, sender, fake_wechat):
    row = await outbox(await resident(openid=None))
    assert await sender.send_due() == 0
    await row.refresh_from_db()
    assert row.state == PushState.SKIPPED
    assert fake_wechat.calls_to(TEMPLATE_PATH) == []


async def test_a_push_to_a_user_who_unfollowed_is_skipped(db, sender, fake_wechat):
    await WeChatUser.create(openid=OPENID, subscribed=False)
    row = await outbox(await resident())
    assert await sender.send_due() == 0
    await row.refresh_from_db()
    assert row.state == PushState.SKIPPED
    assert fake_wechat.calls_to(TEMPLATE_PATH) == []


async def test_a_kind_without_a_template_id_is_skipped_and_said_once(db, session, fake_wechat, store, caplog):
    sender = make_sender(session, fake_wechat, store, templates=TemplatesConfig())
    account = await resident()
    first, second = await outbox(account, "status:1:verifying"), await outbox(account, "status:1:review")
    with caplog.at_level(logging.WARNING, logger="bot.services.push_sender"):
        assert await sender.send_due() == 0
    assert [r.state for r in await Push.filter(id__in=[first.id, second.id])] == [PushState.SKIPPED] * 2
    assert caplog.text.count("wechat.templates.application_status is not set") == 1
    assert fake_wechat.calls_to(TEMPLATE_PATH) == []


# -- what WeChat answers -----------------------------------------------------------------------
async def test_43004_marks_the_user_unsubscribed_and_nothing_more_goes_to_them(db, sender, fake_wechat):
    account = await resident()
    fake_wechat.unfollow(OPENID)
    first = await outbox(account, "status:1:verifying")
    assert await sender.send_due() == 0
    await first.refresh_from_db()
    assert first.state == PushState.SKIPPED
    assert (await WeChatUser.get(openid=OPENID)).subscribed is False
    later = await outbox(account, "status:1:review")
    assert await sender.send_due() == 0
    await later.refresh_from_db()
    assert later.state == PushState.SKIPPED
    assert len(fake_wechat.calls_to(TEMPLATE_PATH)) == 1  # the later one was never tried
    assert fake_wechat.sent == []


TRANSIENT = {
    # The client itself retries "system busy" up to three times and a network failure once.
    "system busy": lambda fake: fake.fail_next(TEMPLATE_PATH, -1, times=3),
    "api quota": lambda fake: fake.fail_next(TEMPLATE_PATH, 45009),
    "HTTP 502": lambda fake: fake.fail_http_next(TEMPLATE_PATH, 502, times=2),
    "timeout": lambda fake: fake.stall_next(TEMPLATE_PATH, 0.5, times=2),
}


@pytest.mark.parametrize("error", TRANSIENT)
async def test_a_transient_error_backs_off_and_the_push_goes_later_once(db, session, fake_wechat, store, error):
    sender = make_sender(session, fake_wechat, store, backoff_s=5, timeout_s=0.2)
    row = await outbox(await resident())
    TRANSIENT[error](fake_wechat)
    now = datetime.now(UTC)
    assert await sender.send_due(now) == 0
    await row.refresh_from_db()
    assert (row.state, row.attempts, row.due_at) == (PushState.PENDING, 1, now + timedelta(seconds=5))
    assert row.last_error
    await asyncio.sleep(0.6)  # the stalled requests finish on the stand-in's side
    assert await sender.send_due(now + timedelta(seconds=4)) == 0  # not before the backoff ends
    assert await sender.send_due(now + timedelta(seconds=5)) == 1
    await row.refresh_from_db()
    assert row.state == PushState.SENT
    # A timed-out request may have gone out: the retry's client_msg_id keeps it to one message.
    assert len(fake_wechat.sent) == 1


async def test_the_backoff_doubles_with_each_attempt(db, session, fake_wechat, store):
    sender = make_sender(session, fake_wechat, store, backoff_s=5)
    row = await outbox(await resident())
    fake_wechat.fail_next(TEMPLATE_PATH, 45009, times=3)
    now = datetime.now(UTC)
    delays = []
    for _ in range(3):
        await sender.send_due(now)
        await row.refresh_from_db()
        delays.append((row.due_at - now).total_seconds())
        now = row.due_at
    assert delays == [5, 10, 20]


async def test_after_max_attempts_the_push_is_given_up(db, session, fake_wechat, store):
    sender = make_sender(session, fake_wechat, store, max_attempts=2, backoff_s=5)
    row = await outbox(await resident())
    fake_wechat.fail_next(TEMPLATE_PATH, 45009, times=2)
    now = datetime.now(UTC)
    await sender.send_due(now)
    await sender.send_due(now + timedelta(seconds=5))
    await row.refresh_from_db()
    assert (row.state, row.attempts) == (PushState.FAILED, 2)
    assert await sender.send_due(now + timedelta(days=1)) == 0
    assert fake_wechat.sent == []


async def test_an_invalid_openid_fails_the_push_at_once(db, sender, fake_wechat):
    row = await outbox(await resident())
    fake_wechat.fail_next(TEMPLATE_PATH, 40003)
    assert await sender.send_due() == 0
    await row.refresh_from_db()
    assert (row.state, row.attempts) == (PushState.FAILED, 1)
    assert "40003" in row.last_error
    assert len(fake_wechat.calls_to(TEMPLATE_PATH)) == 1


async def test_a_refused_token_is_fetched_again_once_and_the_push_sent(db, sender, fake_wechat):
    await outbox(await resident())
    fake_wechat.fail_next(TEMPLATE_PATH, 40001)
    assert await sender.send_due() == 1
    assert fake_wechat.token_requests == 2
    assert len(fake_wechat.sent) == 1


async def test_a_token_refused_even_after_fetching_it_again_is_tried_later(db, sender, fake_wechat):
    row = await outbox(await resident())
    fake_wechat.fail_next(TEMPLATE_PATH, 42001, times=2)
    assert await sender.send_due() == 0
    await row.refresh_from_db()
    assert (row.state, row.attempts) == (PushState.PENDING, 1)


async def test_neither_openid_nor_the_data_are_logged(db, sender, fake_wechat, caplog):
    account = await resident()
    await outbox(account, "status:1:verifying")
    await outbox(account, "status:1:review")
    # The transient one last: it ends the round (tests/test_faults_wechat.py).
    fake_wechat.fail_next(TEMPLATE_PATH, 40003)
    fake_wechat.fail_next(TEMPLATE_PATH, 45009)
    with caplog.at_level(logging.DEBUG, logger="bot"):  # the bot's own lines, not the SQL the ORM logs
        await sender.send_due()
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("bot."))
    assert "push 1" in ours and "push 2" in ours
    assert OPENID not in ours
    assert DATA["character_string1"] not in ours


# -- exactly once across senders ---------------------------------------------------------------
async def test_a_sender_that_dies_after_sending_leaves_the_push_to_the_next_which_wechat_drops(
    db, session, fake_wechat, store
):
    row = await outbox(await resident())
    fake_wechat.hold_answers_next(TEMPLATE_PATH, 3.0)  # sent, but the answer is late
    dying = make_sender(session, fake_wechat, store, lease_s=60)
    task = asyncio.create_task(dying.send_due())
    await eventually(lambda: len(fake_wechat.sent) == 1)
    task.cancel()  # killed between sending and marking
    await asyncio.gather(task, return_exceptions=True)
    await row.refresh_from_db()
    assert row.state == PushState.PENDING and row.claimed_until is not None

    after = make_sender(session, fake_wechat, store, lease_s=60)
    assert await after.send_due(row.claimed_until - timedelta(seconds=1)) == 0  # still leased
    assert await after.send_due(row.claimed_until + timedelta(seconds=1)) == 1
    attempts = fake_wechat.calls_to(TEMPLATE_PATH)
    assert [c.json["client_msg_id"] for c in attempts] == [row.client_msg_id] * 2
    assert len(fake_wechat.sent) == 1
    await row.refresh_from_db()
    assert (row.state, row.msgid) == (PushState.SENT, FIRST_TEMPLATE_MSGID)


async def test_two_senders_on_one_database_never_send_one_row_twice(db, session, fake_wechat, store):
    account = await resident()
    now = datetime.now(UTC)
    for i in range(200):
        await pushes.add(
            f"status:{i}:verifying",
            account_id=account.id,
            kind="application_status",
            template="application_status",
            data=DATA,
            url=URL,
            due_at=now,
        )
    senders = [make_sender(session, fake_wechat, store, batch_size=10) for _ in range(2)]
    counts = await asyncio.gather(*(s.send_due() for s in senders))
    assert sum(counts) == 200
    assert len(fake_wechat.calls_to(TEMPLATE_PATH)) == 200  # no row was even tried twice
    assert len({m.payload["client_msg_id"] for m in fake_wechat.sent}) == 200
    assert await Push.filter(state=PushState.SENT).count() == 200


@pytest.fixture
async def redis_stores(redis_url: str) -> AsyncIterator[list[RedisStore]]:
    """Two stores on one Redis, as two processes have."""
    prefix = f"rb-test-{uuid.uuid4().hex[:8]}:"
    stores = [RedisStore(redis_url, prefix=prefix, dedup_ttl_s=300, lock_timeout_s=10) for _ in range(2)]
    yield stores
    for s in stores:
        await s.close()


async def test_the_rate_limit_holds_across_two_senders(db, session, fake_wechat, redis_stores):
    account = await resident()
    for i in range(30):
        await outbox(account, f"status:{i}:verifying")
    senders = [make_sender(session, fake_wechat, s, rate_per_second=10, batch_size=5) for s in redis_stores]
    await asyncio.gather(*(s.send_due() for s in senders))
    times = [m.at for m in fake_wechat.sent]
    assert len(times) == 30
    # 30 sends at 10 a second need three clock seconds: the last is at least a second after the first.
    assert max(times) - min(times) >= 1.0
    per_second: dict[int, int] = {}
    for at in times:
        per_second[int(at)] = per_second.get(int(at), 0) + 1
    assert len(per_second) >= 3


# -- the loop ----------------------------------------------------------------------------------
@pytest.fixture
async def running(sender: PushSender) -> AsyncIterator[PushSender]:
    stop = asyncio.Event()
    task = asyncio.create_task(sender.run(stop))
    await asyncio.sleep(0.1)  # its first round has found nothing
    yield sender
    stop.set()
    await asyncio.wait_for(task, 2)


async def test_wake_sends_a_new_push_at_once_not_at_the_next_scan(db, running, fake_wechat):
    # scan_interval_s is 30: only the wake can explain a delivery within a second.
    await outbox(await resident())
    running.wake()
    await eventually(lambda: len(fake_wechat.sent) == 1, timeout_s=1.0)


async def test_the_loop_retries_when_the_backoff_ends(db, session, fake_wechat, store):
    sender = make_sender(session, fake_wechat, store, backoff_s=0.3, scan_interval_s=300)
    await outbox(await resident())
    fake_wechat.fail_next(TEMPLATE_PATH, 45009)
    stop = asyncio.Event()
    task = asyncio.create_task(sender.run(stop))
    try:
        await eventually(lambda: len(fake_wechat.sent) == 1, timeout_s=2.0)
    finally:
        stop.set()
        await asyncio.wait_for(task, 2)


async def test_the_loop_ends_when_told_to_stop(db, sender):
    stop = asyncio.Event()
    task = asyncio.create_task(sender.run(stop))
    await asyncio.sleep(0.05)
    stop.set()
    await asyncio.wait_for(task, 1)


async def test_without_a_wechat_client_pushes_wait_in_the_outbox(db, store, caplog):
    sender = PushSender(
        PushesConfig(), RemindersConfig(), TemplatesConfig(application_status=TEMPLATE_ID), None, store, Metrics()
    )
    row = await outbox(await resident())
    assert await sender.send_due() == 0
    await row.refresh_from_db()
    assert row.state == PushState.PENDING
    assert "wechat.app_secret is not set" in caplog.text


# -- template values ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("keyword", "value", "sent"),
    [
        ("thing4", "请携带身份证原件到福田区居住证受理点领取新证", "请携带身份证原件到福田区居住证受理点领…"),
        ("thing4", "请携带身份证原件到福田区居住证受理点领取", "请携带身份证原件到福田区居住证受理点领取"),  # 20: fits
        ("phrase2", "制证中", "制证中"),
        ("phrase2", "公安机关审核中", "公安机关…"),
        ("name3", "阿卜杜热合曼·买买提艾力", "阿卜杜热合曼·买买…"),
        ("character_string1", "A" * 40, "A" * 32),
        ("number5", "1" * 33, "1" * 32),
        ("letter6", "x" * 33, "x" * 32),
        ("car_number7", "粤B123456X", "粤B123456"),
        ("time3", "2026-03-01 09:30:00 星期日 北京时间", "2026-03-01 09:30:00 星期日 北京时间"),
        ("date8", "2026年3月1日", "2026年3月1日"),
        ("amount9", "¥1,000,000.00", "¥1,000,000.00"),
    ],
)
def test_template_values_are_kept_within_their_keyword_types_limits(keyword, value, sent):
    assert fit_template_data({keyword: value}) == {keyword: sent}


def test_a_template_value_given_with_its_color_keeps_it():
    assert fit_template_data({"phrase2": {"value": "公安机关审核中", "color": "#173177"}}) == {
        "phrase2": {"value": "公安机关…", "color": "#173177"}
    }


# -- the stand-in answers as WeChat does ---------------------------------------------------------
async def test_wechat_sends_one_client_msg_id_to_a_user_once_within_10_minutes(session, fake_wechat, store):
    api = WeChatAPI(
        session, base_url=fake_wechat.url, app_id=fake_wechat.app_id, app_secret=fake_wechat.app_secret, cache=store
    )
    first = await api.send_template(OPENID, TEMPLATE_ID, DATA, URL, client_msg_id="rb-push-1")
    again = await api.send_template(OPENID, TEMPLATE_ID, DATA, URL, client_msg_id="rb-push-1")
    other_user = await api.send_template(OTHER_OPENID, TEMPLATE_ID, DATA, URL, client_msg_id="rb-push-1")
    assert again == first
    assert [m.openid for m in fake_wechat.sent] == [OPENID, OTHER_OPENID]
    assert other_user != first
    later = fake_wechat.clock() + CLIENT_MSG_ID_WINDOW_S
    fake_wechat.clock = lambda: later
    assert await api.send_template(OPENID, TEMPLATE_ID, DATA, URL, client_msg_id="rb-push-1") != first
    assert len(fake_wechat.sent) == 3
