"""Fault: WeChat's API failing every call for a while (HTTP 5xx, timeouts, a 40001 storm) while the
outbox holds many due pushes.

A storm costs one push its bounded tries (and at most one fresh access_token), not a round of
tries for every due push: the others stay due, untouched. Once WeChat answers again each push goes
out once, a message that a timed-out request did deliver included (its client_msg_id drops the repeat).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest

from bot.dev.wechat_standin import TEMPLATE_PATH
from bot.state.memory import MemoryStore
from models import Push, PushState
from tests.test_push_sender import make_sender, outbox, resident

DUE = 20
STORM = 10_000  # more calls than any test makes: every one fails until `recover`

STORMS = {
    "HTTP 503": lambda fake: fake.fail_http_next(TEMPLATE_PATH, 503, times=STORM),
    "timeouts": lambda fake: fake.stall_next(TEMPLATE_PATH, 0.5, times=STORM),
    "40001": lambda fake: fake.fail_next(TEMPLATE_PATH, 40001, times=STORM),
}


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore(dedup_ttl_s=300, lock_timeout_s=10)


@pytest.mark.parametrize("storm", STORMS)
async def test_a_storm_costs_one_push_bounded_tries_and_afterwards_each_push_goes_once(
    db, session, fake_wechat, store, storm
):
    account = await resident()
    for i in range(DUE):
        await outbox(account, f"status:{i}:verifying")
    sender = make_sender(session, fake_wechat, store, backoff_s=5, timeout_s=0.2)
    now = datetime.now(UTC)
    STORMS[storm](fake_wechat)

    assert await sender.send_due(now) == 0
    assert len(fake_wechat.calls_to(TEMPLATE_PATH)) == 2  # one push: the client's one retry
    assert fake_wechat.token_requests <= 2  # the first token, and for 40001 one fetched again
    tried = await Push.filter(attempts=1)
    assert [(p.state, p.due_at) for p in tried] == [(PushState.PENDING, now + timedelta(seconds=5))]
    assert await Push.filter(state=PushState.PENDING, attempts=0).count() == DUE - 1  # due, untouched
    later = now + timedelta(seconds=4)
    assert await sender.send_due(later) == 0  # the storm goes on: the next round costs the next push alike
    assert len(fake_wechat.calls_to(TEMPLATE_PATH)) == 4
    assert await Push.filter(attempts=1).count() == 2

    fake_wechat.recover(TEMPLATE_PATH)
    await asyncio.sleep(0.6)  # a stalled request the client gave up on is done by now, as WeChat would
    assert await sender.send_due(later + timedelta(seconds=5)) == DUE
    assert await Push.filter(state=PushState.SENT).count() == DUE
    client_msg_ids = [m.payload["client_msg_id"] for m in fake_wechat.sent]
    assert len(client_msg_ids) == len(set(client_msg_ids)) == DUE
