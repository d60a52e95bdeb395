"""SMS verification codes: sending through the providers, checking, limits, and what reaches log and store."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta

import aiohttp
import pytest

import bot.state.memory
from bot.config import SmsConfig
from bot.metrics import Metrics
from bot.services.sms import (
    BUDGET_SPENT,
    NO_CODE,
    SEND_FAILED,
    TOO_MANY_FOR_PHONE,
    TOO_MANY_FOR_USER,
    TOO_MANY_NUMBERS,
    VOIDED,
    WRONG_CODE,
    SmsCodes,
    SmsError,
)
from bot.state.base import StateStore
from bot.state.memory import MemoryStore
from bot.state.redis import RedisStore
from bot.text import mask_phone
from models.rules import SHENZHEN
from tests.fake_sms import FakeSms
from tests.services import free_port

PHONE = "13800138000"
OTHER_PHONE = "13900139000"
PURPOSE = "register"
SECRET = b"sms-test-secret-0123456789abcdef"
USER = "o_sms_user"  # the WeChat user asking
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=SHENZHEN)  # the top of an hour: its limits count from zero

MakeCodes = Callable[..., SmsCodes]


class Clock:
    """MemoryStore's clock, moved forward by the test, and the time it says it is (`now`)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def monotonic(self) -> float:
        return time.monotonic() + self.offset

    @property
    def now(self) -> datetime:
        return NOW + timedelta(seconds=self.offset)

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

    def make(
        *, on: StateStore = store, development: bool = False, metrics: Metrics | None = None, **config: object
    ) -> SmsCodes:
        settings = SmsConfig.model_validate(
            {"provider": "http", "http": {"url": fake_sms.url, "timeout_s": 0.3}, **config}
        )
        return SmsCodes(settings, on, session, development=development, secret=SECRET, metrics=metrics or Metrics())

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
    await codes.send(PHONE, PURPOSE, openid=USER, now=NOW)
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
    assert await refusal(codes.send(PHONE, PURPOSE, openid=USER, now=NOW)) == SEND_FAILED
    assert await store.get(codes._code_key(PHONE, PURPOSE)) is None
    # A code that reached the gateway before the failure is not accepted either.
    code = fake_sms.last_code(PHONE) if fake_sms.messages else "123456"
    assert await refusal(codes.verify(PHONE, PURPOSE, code)) == NO_CODE


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
async def test_a_redirect_from_the_gateway_is_a_failed_send_and_not_followed(codes, fake_sms, status):
    fake_sms.redirect_next(status)
    assert await refusal(codes.send(PHONE, PURPOSE, openid=USER, now=NOW)) == SEND_FAILED
    assert fake_sms.elsewhere == []  # the phone number and the code went to the configured URL only
    assert await refusal(codes.verify(PHONE, PURPOSE, fake_sms.last_code(PHONE))) == NO_CODE


async def test_a_failed_send_leaves_the_earlier_code_valid(codes, fake_sms):
    await codes.send(PHONE, PURPOSE, openid=USER, now=NOW)
    first = fake_sms.last_code(PHONE)
    fake_sms.fail_next(503)
    with pytest.raises(SmsError):
        await codes.send(PHONE, PURPOSE, openid=USER, now=NOW)
    await codes.verify(PHONE, PURPOSE, first)


async def test_a_new_code_replaces_the_earlier_one(codes, fake_sms):
    await codes.send(PHONE, PURPOSE, openid=USER, now=NOW)
    first = fake_sms.last_code(PHONE)
    await codes.send(PHONE, PURPOSE, openid=USER, now=NOW)
    second = fake_sms.last_code(PHONE)
    if first != second:
        assert (await refusal(codes.verify(PHONE, PURPOSE, first))).startswith("这是之前一条短信的验证码")
    await codes.verify(PHONE, PURPOSE, second)


async def test_an_old_code_after_a_resend_is_refused_pointing_to_the_newest_message(codes, fake_sms):
    sent = []
    for _ in range(3):
        await codes.send(PHONE, PURPOSE, openid=USER, now=NOW)
        sent.append(fake_sms.last_code(PHONE))
    for old in {*sent[:2]} - {sent[2]}:
        reply = await refusal(codes.verify(PHONE, PURPOSE, old))
        assert "请使用最新的一条短信" in reply and "还可以再试" in reply
    assert (await refusal(codes.verify(PHONE, PURPOSE, wrong(sent[2])))).startswith("验证码不正确")
    await codes.verify(PHONE, PURPOSE, sent[2])


async def test_a_new_code_starts_with_all_its_tries(make_codes, fake_sms):
    codes = make_codes(max_wrong_entries=2)
    await codes.send(PHONE, PURPOSE, openid=USER, now=NOW)
    with pytest.raises(SmsError):
        await codes.verify(PHONE, PURPOSE, wrong(fake_sms.last_code(PHONE)))
    await codes.send(PHONE, PURPOSE, openid=USER, now=NOW)
    code = fake_sms.last_code(PHONE)
    assert await refusal(codes.verify(PHONE, PURPOSE, wrong(code))) == WRONG_CODE.format(remaining=1)
    await codes.verify(PHONE, PURPOSE, code)


# -- the limits on sending ---------------------------------------------------------------------
async def test_a_phone_gets_at_most_max_per_hour_codes_and_other_phones_are_unaffected(make_codes, fake_sms):
    codes = make_codes(max_per_phone_per_hour=3)
    for user in ("o_a", "o_b", "o_c"):
        await codes.send(PHONE, PURPOSE, openid=user, now=NOW)
    message = await refusal(codes.send(PHONE, PURPOSE, openid="o_d", now=NOW))
    assert message == TOO_MANY_FOR_PHONE.format(minutes=60) == "这个手机号获取验证码的次数太多了，请在60分钟后再试。"
    await codes.send(OTHER_PHONE, PURPOSE, openid="o_d", now=NOW)
    assert [m["phone"] for m in fake_sms.messages] == [PHONE] * 3 + [OTHER_PHONE]


async def test_registration_codes_asked_for_a_number_do_not_stop_its_login_codes(make_codes, fake_sms):
    # Someone registering with another person's number used up its registration codes for the hour.
    codes = make_codes(max_per_phone_per_hour=3)
    for user in ("o_a", "o_b", "o_c"):
        await codes.send(PHONE, "register", openid=user, now=NOW)
    assert await refusal(codes.send(PHONE, "register", openid="o_d", now=NOW)) == TOO_MANY_FOR_PHONE.format(minutes=60)
    await codes.send(PHONE, "login", openid="o_owner", now=NOW)
    assert fake_sms.messages[-1]["template"] == "login"


async def test_one_wechat_user_gets_codes_sent_to_at_most_max_numbers_per_hour_numbers(make_codes, fake_sms):
    codes = make_codes(max_numbers_per_user_per_hour=3)
    numbers = [f"1390000{i:04d}" for i in range(20)]
    results = await asyncio.gather(
        *(codes.send(n, PURPOSE, openid=USER, now=NOW) for n in numbers), return_exceptions=True
    )
    assert results[:3] == [None] * 3
    assert all(isinstance(r, SmsError) and r.message == TOO_MANY_NUMBERS.format(minutes=60) for r in results[3:])
    assert len(fake_sms.messages) == 3
    # A number it was given stays its own all hour; a refused one stays refused; others are unaffected.
    await codes.send(numbers[0], PURPOSE, openid=USER, now=NOW + timedelta(minutes=5))
    assert await refusal(codes.send(numbers[5], PURPOSE, openid=USER, now=NOW)) == TOO_MANY_NUMBERS.format(minutes=60)
    await codes.send(numbers[5], PURPOSE, openid="o_someone_else", now=NOW)
    await codes.send(numbers[6], PURPOSE, openid=USER, now=NOW + timedelta(hours=1))


async def test_one_wechat_user_gets_at_most_max_per_user_per_hour_codes(make_codes, fake_sms):
    codes = make_codes(max_per_user_per_hour=4, max_per_phone_per_hour=5)
    for n in range(4):
        await codes.send(PHONE if n % 2 else OTHER_PHONE, PURPOSE, openid=USER, now=NOW)
    later = NOW + timedelta(minutes=45, seconds=30)
    assert await refusal(codes.send(PHONE, PURPOSE, openid=USER, now=later)) == TOO_MANY_FOR_USER.format(minutes=15)
    assert "请在15分钟后再试" in TOO_MANY_FOR_USER.format(minutes=15)
    await codes.send(PHONE, PURPOSE, openid="o_someone_else", now=later)  # the number is not used up
    await codes.send(PHONE, "login", openid=USER, now=later)  # nor this user's login codes


async def test_a_user_refused_for_their_own_limits_costs_the_number_nothing(make_codes, fake_sms):
    codes = make_codes(max_per_user_per_hour=1, max_per_phone_per_hour=2)
    await codes.send(PHONE, PURPOSE, openid=USER, now=NOW)
    for _ in range(5):
        assert await refusal(codes.send(PHONE, PURPOSE, openid=USER, now=NOW)) == TOO_MANY_FOR_USER.format(minutes=60)
    await codes.send(PHONE, PURPOSE, openid="o_owner", now=NOW)


async def test_the_service_sends_at_most_max_per_minute_codes_then_asks_to_wait_a_minute(make_codes, fake_sms):
    codes = make_codes(max_per_minute=3)
    for i in range(3):
        await codes.send(f"1390000{i:04d}", PURPOSE, openid=f"o_{i}", now=NOW)
    assert await refusal(codes.send(PHONE, PURPOSE, openid="o_late", now=NOW)) == BUDGET_SPENT
    assert "请在1分钟后再试" in BUDGET_SPENT
    await codes.send(PHONE, "login", openid="o_late", now=NOW)  # login codes have their own budget
    await codes.send(PHONE, PURPOSE, openid="o_late", now=NOW + timedelta(minutes=1))
    assert len(fake_sms.messages) == 5


async def test_refusals_are_counted_by_purpose_and_reason(make_codes):
    metrics = Metrics()
    codes = make_codes(
        metrics=metrics, max_per_user_per_hour=2, max_numbers_per_user_per_hour=2, max_per_phone_per_hour=1
    )
    await codes.send(PHONE, PURPOSE, openid=USER, now=NOW)
    with pytest.raises(SmsError):
        await codes.send(PHONE, PURPOSE, openid="o_other", now=NOW)  # the phone's limit
    await codes.send(OTHER_PHONE, PURPOSE, openid=USER, now=NOW)  # the user's second code, second number
    with pytest.raises(SmsError):
        await codes.send("13700137000", PURPOSE, openid=USER, now=NOW)  # a third number
    with pytest.raises(SmsError):
        await codes.send(OTHER_PHONE, PURPOSE, openid=USER, now=NOW)  # a third code
    counted = {
        (s.labels["purpose"], s.labels["reason"]): s.value
        for m in metrics.registry.collect()
        if m.name == "rb_sms_refusals"
        for s in m.samples
        if s.name == "rb_sms_refusals_total"
    }
    assert counted == {(PURPOSE, "phone"): 1, (PURPOSE, "numbers"): 1, (PURPOSE, "user"): 1}


async def test_the_hourly_limit_lifts_after_the_hour(make_codes, clock):
    codes = make_codes(max_per_phone_per_hour=1)
    await codes.send(PHONE, PURPOSE, openid=USER, now=clock.now)
    with pytest.raises(SmsError):
        await codes.send(PHONE, PURPOSE, openid=USER, now=clock.now)
    clock.advance(3600)
    await codes.send(PHONE, PURPOSE, openid=USER, now=clock.now)


async def test_a_failed_send_counts_toward_the_hourly_limit(make_codes, fake_sms):
    codes = make_codes(max_per_phone_per_hour=2)
    fake_sms.fail_next(500, times=2)
    for _ in range(2):
        assert await refusal(codes.send(PHONE, PURPOSE, openid=USER, now=NOW)) == SEND_FAILED
    assert await refusal(codes.send(PHONE, PURPOSE, openid=USER, now=NOW)) == TOO_MANY_FOR_PHONE.format(minutes=60)
    assert len(fake_sms.messages) == 2


# -- checking --------------------------------------------------------------------------------
async def test_the_right_code_is_accepted_once(codes, fake_sms):
    await codes.send(PHONE, PURPOSE, openid=USER, now=NOW)
    code = fake_sms.last_code(PHONE)
    await codes.verify(PHONE, PURPOSE, code)
    assert await refusal(codes.verify(PHONE, PURPOSE, code)) == NO_CODE


async def test_a_wrong_code_says_how_many_tries_remain(codes, fake_sms):
    await codes.send(PHONE, PURPOSE, openid=USER, now=NOW)
    message = await refusal(codes.verify(PHONE, PURPOSE, wrong(fake_sms.last_code(PHONE))))
    assert message == WRONG_CODE.format(remaining=4) == "验证码不正确，还可以再试4次。"


async def test_five_wrong_codes_void_it_even_if_the_sixth_is_right(codes, fake_sms, store):
    await codes.send(PHONE, PURPOSE, openid=USER, now=NOW)
    code = fake_sms.last_code(PHONE)
    messages = [await refusal(codes.verify(PHONE, PURPOSE, wrong(code))) for _ in range(5)]
    assert messages == [WRONG_CODE.format(remaining=n) for n in (4, 3, 2, 1)] + [VOIDED]
    assert "重发" in VOIDED
    assert await store.get(codes._code_key(PHONE, PURPOSE)) is None
    with pytest.raises(SmsError):
        await codes.verify(PHONE, PURPOSE, code)


async def test_a_code_expires_after_code_ttl_s(make_codes, fake_sms, clock):
    codes = make_codes(code_ttl_s=30)
    await codes.send(PHONE, PURPOSE, openid=USER, now=NOW)
    clock.advance(30)
    assert await refusal(codes.verify(PHONE, PURPOSE, fake_sms.last_code(PHONE))) == NO_CODE
    assert "过期" in NO_CODE and "重发" in NO_CODE


async def test_a_code_is_only_good_for_its_purpose(codes, fake_sms):
    await codes.send(PHONE, PURPOSE, openid=USER, now=NOW)
    code = fake_sms.last_code(PHONE)
    assert await refusal(codes.verify(PHONE, "login", code)) == NO_CODE
    assert await refusal(codes.verify(OTHER_PHONE, PURPOSE, code)) == NO_CODE
    await codes.verify(PHONE, PURPOSE, code)


async def test_the_store_holds_the_code_only_hashed(codes, fake_sms, store):
    await codes.send(PHONE, PURPOSE, openid=USER, now=NOW)
    code = fake_sms.last_code(PHONE)
    raw = await store.get(codes._code_key(PHONE, PURPOSE))
    assert raw is not None and code not in raw
    assert re.fullmatch(r"[0-9a-f]{64}", json.loads(raw)["hash"])


# -- logging ---------------------------------------------------------------------------------
def test_mask_phone_keeps_the_first_three_and_last_four_digits():
    assert mask_phone("13800138000") == "138****8000"
    assert mask_phone("1380013") == "*******"


async def test_log_provider_in_development_logs_the_masked_phone_and_the_code(session, store, caplog):
    caplog.set_level(logging.DEBUG)
    codes = SmsCodes(SmsConfig(provider="log"), store, session, development=True, secret=SECRET, metrics=Metrics())
    await codes.send(PHONE, PURPOSE, openid=USER, now=NOW)
    assert f"SMS code for purpose {PURPOSE} sent to 138****8000" in caplog.text
    assert PHONE not in caplog.text
    logged = re.search(r"\b[0-9]{6}\b", caplog.text)
    assert logged is not None
    await codes.verify(PHONE, PURPOSE, logged.group())


async def test_log_provider_in_production_logs_the_masked_phone_but_not_the_code(session, store, caplog):
    caplog.set_level(logging.DEBUG)
    codes = SmsCodes(SmsConfig(provider="log"), store, session, development=False, secret=SECRET, metrics=Metrics())
    await codes.send(PHONE, PURPOSE, openid=USER, now=NOW)
    assert f"SMS code for purpose {PURPOSE} sent to 138****8000" in caplog.text
    assert PHONE not in caplog.text
    assert not re.search(r"[0-9]{6}", caplog.text)


async def test_http_provider_never_logs_the_code_or_the_phone(make_codes, fake_sms, caplog):
    caplog.set_level(logging.DEBUG)
    codes = make_codes(development=True)
    await codes.send(PHONE, PURPOSE, openid=USER, now=NOW)
    fake_sms.fail_next(500)
    with pytest.raises(SmsError):
        await codes.send(PHONE, PURPOSE, openid=USER, now=NOW)
    fake_sms.stall_next(2.0)
    with pytest.raises(SmsError):
        await codes.send(PHONE, PURPOSE, openid=USER, now=NOW)
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
    await processes[0].send(PHONE, PURPOSE, openid=USER, now=NOW)
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
    await processes[0].send(PHONE, PURPOSE, openid=USER, now=NOW)
    code = fake_sms.last_code(PHONE)
    entries = [processes[i % 2].verify(PHONE, PURPOSE, code) for i in range(4)]
    results = await asyncio.gather(*entries, return_exceptions=True)
    assert results.count(None) == 1
    assert all(isinstance(r, SmsError) and r.message == NO_CODE for r in results if r is not None)


async def test_with_redis_one_users_sends_from_two_processes_stay_within_their_limits(
    make_codes, fake_sms, redis_stores
):
    processes = [make_codes(on=s, max_numbers_per_user_per_hour=3, max_per_minute=8) for s in redis_stores]
    numbers = [f"1390000{i:04d}" for i in range(20)]
    sends = [processes[i % 2].send(n, PURPOSE, openid=USER, now=NOW) for i, n in enumerate(numbers)]
    results = await asyncio.gather(*sends, return_exceptions=True)
    assert results.count(None) == 3 and len(fake_sms.messages) == 3
    others = [processes[i % 2].send(PHONE, "login", openid=f"o_{i}", now=NOW) for i in range(12)]
    results = await asyncio.gather(*others, return_exceptions=True)
    assert results.count(None) == 5  # max_per_phone_per_hour
    refused = [r.message for r in results if isinstance(r, SmsError)]
    assert refused == [TOO_MANY_FOR_PHONE.format(minutes=60)] * 7


@pytest.fixture(params=["memory", "redis"])
async def any_store(request: pytest.FixtureRequest, store: MemoryStore) -> AsyncIterator[StateStore]:
    if request.param == "memory":
        yield store
        return
    redis_store = RedisStore(
        request.getfixturevalue("redis_url"),
        prefix=f"rb-test-{uuid.uuid4().hex[:8]}:",
        dedup_ttl_s=300,
        lock_timeout_s=10,
    )
    yield redis_store
    await redis_store.close()


async def stored(on: StateStore) -> list[str]:
    """Every key and value in the store."""
    if isinstance(on, RedisStore):
        keys = [key async for key in on.redis.scan_iter(f"{on.prefix}*")]
        return keys + [await on.redis.get(key) for key in keys]
    assert isinstance(on, MemoryStore)
    return list(on._values) + [value for value, _ in on._values.values()]


async def test_no_phone_number_is_in_the_store_in_clear(make_codes, fake_sms, any_store):
    codes = make_codes(on=any_store)
    await codes.send(PHONE, PURPOSE, openid=USER, now=NOW)
    await codes.send(PHONE, "login", openid=USER, now=NOW)
    with pytest.raises(SmsError):
        await codes.verify(PHONE, PURPOSE, wrong(fake_sms.last_code(PHONE)))
    texts = await stored(any_store)
    assert any(text.endswith(codes._code_key(PHONE, PURPOSE)) for text in texts)
    assert len(texts) >= 2 * 11  # two codes, the tries at one, two purposes' limits: keys and values
    for text in texts:
        assert PHONE not in text and PHONE[-8:] not in text
