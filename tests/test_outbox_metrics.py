"""The outbox in /metrics: pushes due and not sent, how long the oldest has waited, pushes given up.

Read from the database at each scrape, so that every process sharing it (and the worker, which
serves no /metrics) is seen; the alert rules in deploy/prometheus/alerts.yml use them.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from prometheus_client.parser import text_string_to_metric_families

from bot.services import pushes
from models import Account, AccountKind, Push, PushState

NOW = datetime(2026, 3, 5, 9, 30, tzinfo=UTC)
OUTBOX = ("rb_outbox_due", "rb_outbox_oldest_due_seconds", "rb_outbox_failed")


async def account() -> Account:
    return await Account.create(
        kind=AccountKind.PERSONAL, username="resident1", password_hash="-", phone="13800138000", name="张三"
    )


async def push(owner: Account, key: str, due_at: datetime, state: PushState = PushState.PENDING) -> None:
    fields = {"kind": "application_status", "template": "application_status", "data": {}, "url": ""}
    await pushes.add(key, account_id=owner.id, due_at=due_at, **fields)
    await Push.filter(key=key).update(state=state)


def samples(text: str) -> dict[str, float]:
    return {s.name: s.value for family in text_string_to_metric_families(text) for s in family.samples}


async def test_the_backlog_counts_due_pending_rows_and_the_oldest_due_time(db):
    owner = await account()
    await push(owner, "a", NOW - timedelta(minutes=10))
    await push(owner, "b", NOW - timedelta(minutes=2))
    await push(owner, "later", NOW + timedelta(minutes=5))
    await push(owner, "sent", NOW - timedelta(hours=1), PushState.SENT)
    await push(owner, "skipped", NOW - timedelta(hours=1), PushState.SKIPPED)
    await push(owner, "failed", NOW - timedelta(hours=1), PushState.FAILED)
    backlog = await pushes.backlog(NOW)
    assert (backlog.due, backlog.oldest_due_at, backlog.failed) == (2, NOW - timedelta(minutes=10), 1)


async def test_an_empty_outbox_has_no_backlog(db):
    assert await pushes.backlog(NOW) == pushes.Backlog(due=0, oldest_due_at=None, failed=0)


async def test_metrics_show_the_outbox_as_the_database_has_it(bot):
    # The test bot has no wechat.app_secret: its sender leaves the rows where they are.
    owner = await account()
    now = datetime.now(UTC)
    await push(owner, "due", now - timedelta(minutes=10))
    await push(owner, "failed", now - timedelta(hours=1), PushState.FAILED)
    metrics = samples(await (await bot.get("/metrics")).text())
    assert metrics["rb_outbox_due"] == 1
    assert 600 <= metrics["rb_outbox_oldest_due_seconds"] < 660
    assert metrics["rb_outbox_failed"] == 1


async def test_metrics_with_nothing_waiting_say_zero(bot):
    metrics = samples(await (await bot.get("/metrics")).text())
    assert [metrics[name] for name in OUTBOX] == [0, 0, 0]


async def test_metrics_when_the_database_does_not_answer_show_no_outbox_numbers_but_the_rest(bot, monkeypatch):
    async def away(now: datetime) -> pushes.Backlog:
        raise ConnectionRefusedError("database away")

    monkeypatch.setattr(pushes, "backlog", away)
    response = await bot.get("/metrics")
    metrics = samples(await response.text())
    assert response.status == 200 and "rb_handling_seconds_count" in metrics
    assert all(math.isnan(metrics[name]) for name in OUTBOX)
