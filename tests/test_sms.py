"""SMS verification codes: sending through the providers, checking, limits, and what reaches log and store."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import aiohttp
import pytest

import bot.state.memory
from bot.config import SmsConfig
from bot.services.sms import NO_CODE, SEND_FAILED, TOO_MANY_SENDS, VOIDED, WRONG_CODE, SmsCodes, SmsError
from bot.state.base import StateStore
from bot.state.memory import MemoryStore
from bot.state.redis import RedisStore
from bot.text import mask_phone
from tests.fake_sms import FakeSms
from tests.services import free_port

PHONE = "13800138000"
OTHER_PHONE = "13900139000"
PURPOSE = "register"
SECRET = b"sms-test-secret-0123456789abcdef"

MakeCodes = Callable[..., SmsCodes]


class Clock:
    """MemoryStore's clock, moved forward by the test."""

    def __init__(self) -> None:
        self.offset = 0.0

    def monotonic(self) -> float:
        return time.monotonic() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    # The store's module only: the event loop keeps the real clock.
    monkeypatch.setattr(bot.state.memory, "time", clock)
    return clock


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore(dedup_ttl_s=300, lock_timeout_s=10)


@pytest.fixture
def make_codes(session: aiohttp.ClientSession, store: MemoryStore, fake_sms: FakeSms) -> MakeCodes:
    """SmsCodes with the http provider sending to the fake gateway, unless told otherwise."""

    def make(*, on: StateStore = store, development: bool = False, **config: object) -> SmsCodes:
        settings = SmsConfig.model_validate(
            {"provider": "http", "http": {"url": fake_sms.url, "timeout_s": 0.3}, **config}
        )
        return SmsCodes(settings, on, session, development=development, secret=SECRET)

    return make


@pytest.fixture
def codes(make_codes: MakeCodes) -> SmsCodes:
    return make_codes()


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


async def refusal(call: Awaitable[None]) -> str:
    """The message of the SmsError the call raises."""
    with pytest.raises(SmsError) as caught:
        await call
    return caught.value.message


# -- sending ---------------------------------------------------------------------------------
async def test_a_code_sent_by_the_http_provider_reaches_the_gateway(codes, fake_sms):
    await codes.send(PHONE, PURPOSE)
    assert fake_sms.messages == [
        {"phone": PHONE, "template": PURPOSE, "params": {"code": fake_sms.last_code(PHONE), "minutes": 5}}
    ]
    assert re.fullmatch(r"[0-9]{6}", fake_sms.last_code(PHONE))


@pytest.mark.parametrize("failure", ["status 500", "timeout", "unreachable"])
async def test_a_failed_send_raises_and_leaves_no_code(make_codes, fake_sms, store, failure):
    url = fake_sms.url
    if failure == "status 500":
        fake_sms.fail_next(500)
    elif failure == "timeout":
        fake_sms.stall_next(2.0)
    else:
        url = f"http://127.0.0.1:{free_port()}/v1/sms/send"
    codes = make_codes(http={"url": url, "timeout_s": 0.3})
    assert await refusal(codes.send(PHONE, PURPOSE)) == SEND_FAILED
    assert await store.get(f"sms:code:{PURPOSE}:{PHONE}") is None
    # A code that reached the gateway before the failure is not accepted either.
    code = fake_sms.last_code(PHONE) if fake_sms.messages else "123456"
    assert await refusal(codes.verify(PHONE, PURPOSE, code)) == NO_CODE


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
async def test_a_redirect_from_the_gateway_is_a_failed_send_and_not_followed(codes, fake_sms, status):
    fake_sms.redirect_next(status)
    assert await refusal(codes.send(PHONE, PURPOSE)) == SEND_FAILED
    assert fake_sms.elsewhere == []  # the phone number and the code went to the configured URL only
    assert await refusal(codes.verify(PHONE, PURPOSE, fake_sms.last_code(PHONE))) == NO_CODE


async def test_a_failed_send_leaves_the_earlier_code_valid(codes, fake_sms):
    await codes.send(PHONE, PURPOSE)
    first = fake_sms.last_code(PHONE)
    fake_sms.fail_next(503)
    with pytest.raises(SmsError):
        await codes.send(PHONE, PURPOSE)
    await codes.verify(PHONE, PURPOSE, first)


async def test_a_new_code_replaces_the_earlier_one(codes, fake_sms):
    await codes.send(PHONE, PURPOSE)
    first = fake_sms.last_code(PHONE)
    await codes.send(PHONE, PURPOSE)
    second = fake_sms.last_code(PHONE)
    if first != second:
        assert (await refusal(codes.verify(PHONE, PURPOSE, first))).startswith("验证码不正确")
    await codes.verify(PHONE, PURPOSE, second)


async def test_a_new_code_starts_with_all_its_tries(make_codes, fake_sms):
    codes = make_codes(max_wrong_entries=2)
    await codes.send(PHONE, PURPOSE)
    with pytest.raises(SmsError):
        await codes.verify(PHONE, PURPOSE, wrong(fake_sms.last_code(PHONE)))
    await codes.send(PHONE, PURPOSE)
    code = fake_sms.last_code(PHONE)
    assert await refusal(codes.verify(PHONE, PURPOSE, wrong(code))) == WRONG_CODE.format(remaining=1)
    await codes.verify(PHONE, PURPOSE, code)


# -- the hourly limit ------------------------------------------------------------------------
async def test_a_phone_gets_at_most_max_per_hour_codes_and_other_phones_are_unaffected(make_codes, fake_sms):
    codes = make_codes(max_per_phone_per_hour=3)
    for _ in range(3):
        await codes.send(PHONE, PURPOSE)
    assert await refusal(codes.send(PHONE, PURPOSE)) == TOO_MANY_SENDS
    assert await refusal(codes.send(PHONE, "login")) == TOO_MANY_SENDS
    await codes.send(OTHER_PHONE, PURPOSE)
    assert [m["phone"] for m in fake_sms.messages] == [PHONE] * 3 + [OTHER_PHONE]


async def test_the_hourly_limit_lifts_after_the_hour(make_codes, clock):
    codes = make_codes(max_per_phone_per_hour=1)
    await codes.send(PHONE, PURPOSE)
    with pytest.raises(SmsError):
        await codes.send(PHONE, PURPOSE)
    clock.advance(3600)
    await codes.send(PHONE, PURPOSE)


async def test_a_failed_send_counts_toward_the_hourly_limit(make_codes, fake_sms):
    codes = make_codes(max_per_phone_per_hour=2)
    fake_sms.fail_next(500, times=2)
    for _ in range(2):
        assert await refusal(codes.send(PHONE, PURPOSE)) == SEND_FAILED
    assert await refusal(codes.send(PHONE, PURPOSE)) == TOO_MANY_SENDS
    assert len(fake_sms.messages) == 2


# -- checking --------------------------------------------------------------------------------
async def test_the_right_code_is_accepted_once(codes, fake_sms):
    await codes.send(PHONE, PURPOSE)
    code = fake_sms.last_code(PHONE)
    await codes.verify(PHONE, PURPOSE, code)
    assert await refusal(codes.verify(PHONE, PURPOSE, code)) == NO_CODE


async def test_a_wrong_code_says_how_many_tries_remain(codes, fake_sms):
    await codes.send(PHONE, PURPOSE)
    message = await refusal(codes.verify(PHONE, PURPOSE, wrong(fake_sms.last_code(PHONE))))
    assert message == WRONG_CODE.format(remaining=4) == "验证码不正确，还可以再试4次。"


async def test_five_wrong_codes_void_it_even_if_the_sixth_is_right(codes, fake_sms, store):
    await codes.send(PHONE, PURPOSE)
    code = fake_sms.last_code(PHONE)
    messages = [await refusal(codes.verify(PHONE, PURPOSE, wrong(code))) for _ in range(5)]
    assert messages == [WRONG_CODE.format(remaining=n) for n in (4, 3, 2, 1)] + [VOIDED]
    assert "重发" in VOIDED
    assert await store.get(f"sms:code:{PURPOSE}:{PHONE}") is None
    with pytest.raises(SmsError):
        await codes.verify(PHONE, PURPOSE, code)


async def test_a_code_expires_after_code_ttl_s(make_codes, fake_sms, clock):
    codes = make_codes(code_ttl_s=30)
    await codes.send(PHONE, PURPOSE)
    clock.advance(30)
    assert await refusal(codes.verify(PHONE, PURPOSE, fake_sms.last_code(PHONE))) == NO_CODE
    assert "过期" in NO_CODE and "重发" in NO_CODE


async def test_a_code_is_only_good_for_its_purpose(codes, fake_sms):
    await codes.send(PHONE, PURPOSE)
    code = fake_sms.last_code(PHONE)
    assert await refusal(codes.verify(PHONE, "login", code)) == NO_CODE
    assert await refusal(codes.verify(OTHER_PHONE, PURPOSE, code)) == NO_CODE
    await codes.verify(PHONE, PURPOSE, code)


async def test_the_store_holds_the_code_only_hashed(codes, fake_sms, store):
    await codes.send(PHONE, PURPOSE)
    code = fake_sms.last_code(PHONE)
    raw = await store.get(f"sms:code:{PURPOSE}:{PHONE}")
    assert raw is not None and code not in raw
    assert re.fullmatch(r"[0-9a-f]{64}", json.loads(raw)["hash"])


# -- logging ---------------------------------------------------------------------------------
def test_mask_phone_keeps_the_first_three_and_last_four_digits():
    assert mask_phone("13800138000") == "138****8000"
    assert mask_phone("1380013") == "*******"


async def test_log_provider_in_development_logs_the_masked_phone_and_the_code(session, store, caplog):
    caplog.set_level(logging.DEBUG)
    codes = SmsCodes(SmsConfig(provider="log"), store, session, development=True, secret=SECRET)
    await codes.send(PHONE, PURPOSE)
    assert f"SMS code for purpose {PURPOSE} sent to 138****8000" in caplog.text
    assert PHONE not in caplog.text
    logged = re.search(r"\b[0-9]{6}\b", caplog.text)
    assert logged is not None
    await codes.verify(PHONE, PURPOSE, logged.group())


async def test_log_provider_in_production_logs_the_masked_phone_but_not_the_code(session, store, caplog):
    caplog.set_level(logging.DEBUG)
    codes = SmsCodes(SmsConfig(provider="log"), store, session, development=False, secret=SECRET)
    await codes.send(PHONE, PURPOSE)
    assert f"SMS code for purpose {PURPOSE} sent to 138****8000" in caplog.text
    assert PHONE not in caplog.text
    assert not re.search(r"[0-9]{6}", caplog.text)


async def test_http_provider_never_logs_the_code_or_the_phone(make_codes, fake_sms, caplog):
    caplog.set_level(logging.DEBUG)
    codes = make_codes(development=True)
    await codes.send(PHONE, PURPOSE)
    fake_sms.fail_next(500)
    with pytest.raises(SmsError):
        await codes.send(PHONE, PURPOSE)
    fake_sms.stall_next(2.0)
    with pytest.raises(SmsError):
        await codes.send(PHONE, PURPOSE)
    assert len(fake_sms.messages) == 3
    assert "138****8000" in caplog.text
    for message in fake_sms.messages:
        assert message["params"]["code"] not in caplog.text
    assert PHONE not in caplog.text


# -- across processes (Redis) ------------------------------------------------------------------
@pytest.fixture
async def redis_stores(redis_url: str) -> AsyncIterator[list[RedisStore]]:
    """Two connections under one fresh prefix: two processes sharing the session's redis-server."""
    prefix = f"rb-test-{uuid.uuid4().hex[:8]}:"
    stores = [RedisStore(redis_url, prefix=prefix, dedup_ttl_s=300, lock_timeout_s=10) for _ in range(2)]
    try:
        yield stores
    finally:
        for redis_store in stores:
            await redis_store.close()


async def test_with_redis_concurrent_wrong_codes_from_two_processes_stop_at_the_limit(
    make_codes, fake_sms, redis_stores
):
    processes = [make_codes(on=redis_store) for redis_store in redis_stores]
    await processes[0].send(PHONE, PURPOSE)
    code = fake_sms.last_code(PHONE)
    guesses = [processes[i % 2].verify(PHONE, PURPOSE, wrong(code)) for i in range(12)]
    results = await asyncio.gather(*guesses, return_exceptions=True)
    assert all(isinstance(r, SmsError) for r in results)
    messages = [r.message for r in results if isinstance(r, SmsError)]
    assert sorted(m for m in messages if m.startswith("验证码不正确")) == [
        WRONG_CODE.format(remaining=n) for n in (1, 2, 3, 4)
    ]
    assert VOIDED in messages
    with pytest.raises(SmsError):
        await processes[1].verify(PHONE, PURPOSE, code)


async def test_with_redis_the_right_code_entered_twice_at_once_is_accepted_once(make_codes, fake_sms, redis_stores):
    processes = [make_codes(on=redis_store) for redis_store in redis_stores]
    await processes[0].send(PHONE, PURPOSE)
    code = fake_sms.last_code(PHONE)
    entries = [processes[i % 2].verify(PHONE, PURPOSE, code) for i in range(4)]
    results = await asyncio.gather(*entries, return_exceptions=True)
    assert results.count(None) == 1
    assert all(isinstance(r, SmsError) and r.message == NO_CODE for r in results if r is not None)
