"""The WeChat API client against the fake WeChat API: tokens, retries, errors, encoding."""

from __future__ import annotations

import asyncio
import logging
import socket
import uuid
from collections.abc import AsyncIterator

import aiohttp
import pytest

from bot.state.base import StateStore
from bot.state.memory import MemoryStore
from bot.state.redis import RedisStore
from bot.wechat.api import (
    MEDIA_PATH,
    MENU_PATH,
    SEND_PATH,
    TEMPLATE_PATH,
    TOKEN_KEY,
    TOKEN_PATH,
    MediaTooLarge,
    WeChatAPI,
    WeChatAPIError,
)
from tests.fake_wechat_api import FIRST_TEMPLATE_MSGID, IMAGE_MEDIA_ID, JPEG, FakeWeChat, NetworkGuard

OPENID = "oRESIDENT0000000000000000001"


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore(dedup_ttl_s=300, lock_timeout_s=10)


def client(session: aiohttp.ClientSession, fake: FakeWeChat, store: StateStore, **kwargs: float) -> WeChatAPI:
    options = {"retry_delay_s": 0.0, **kwargs}
    return WeChatAPI(session, base_url=fake.url, app_id=fake.app_id, app_secret=fake.app_secret, cache=store, **options)


@pytest.fixture
def api(session: aiohttp.ClientSession, fake_wechat: FakeWeChat, store: MemoryStore) -> WeChatAPI:
    return client(session, fake_wechat, store)


# -- the access_token ------------------------------------------------------------------------
async def test_token_is_fetched_once_and_shared_by_clients_on_one_store(session, fake_wechat, store):
    first, second = client(session, fake_wechat, store), client(session, fake_wechat, store)
    await first.send_text(OPENID, "一")
    await second.send_text(OPENID, "二")
    assert fake_wechat.token_requests == 1
    assert await store.get(TOKEN_KEY) == fake_wechat.issued_tokens[0]
    assert fake_wechat.sent_texts == [(OPENID, "一"), (OPENID, "二")]


async def test_concurrent_callers_on_a_cold_cache_fetch_one_token(api, fake_wechat):
    await asyncio.gather(*(api.send_text(OPENID, f"第{i}条") for i in range(10)))
    assert fake_wechat.token_requests == 1
    assert len(fake_wechat.sent_texts) == 10


@pytest.fixture(params=["memory", "redis"])
async def any_store(request: pytest.FixtureRequest) -> AsyncIterator[StateStore]:
    if request.param == "memory":
        yield MemoryStore(dedup_ttl_s=300, lock_timeout_s=10)
        return
    # Its own prefix: the session's redis-server is shared with other tests.
    prefix = f"rb-test-{uuid.uuid4().hex[:8]}:"
    redis_store = RedisStore(request.getfixturevalue("redis_url"), prefix=prefix, dedup_ttl_s=300, lock_timeout_s=10)
    try:
        yield redis_store
    finally:
        await redis_store.close()


async def test_clients_sharing_a_cold_store_let_one_of_them_fetch_the_token(session, fake_wechat, any_store):
    # Two clients stand for two processes: only the store's lock keeps them from both fetching.
    clients = [client(session, fake_wechat, any_store) for _ in range(2)]
    await asyncio.gather(*(c.send_text(OPENID, f"第{i}条") for i in range(5) for c in clients))
    assert fake_wechat.token_requests == 1
    assert len(fake_wechat.sent_texts) == 10
    assert await any_store.get("wechat:token_refresh") is None  # the lock was released


async def test_token_is_cached_for_expires_in_less_five_minutes(api, fake_wechat, store, monkeypatch):
    ttls = []
    real_set = store.set

    async def spy(key, value, ttl_s=None, *, only_new=False):
        if key == TOKEN_KEY:
            ttls.append(ttl_s)
        return await real_set(key, value, ttl_s, only_new=only_new)

    monkeypatch.setattr(store, "set", spy)
    await api.send_text(OPENID, "你好")
    assert ttls == [7200 - 300]


async def test_invalid_credential_refreshes_once_and_retries_once(api, fake_wechat):
    fake_wechat.fail_next(SEND_PATH, 40001)
    await api.send_text(OPENID, "你好")
    assert fake_wechat.token_requests == 2
    assert len(fake_wechat.calls_to(SEND_PATH)) == 2
    assert fake_wechat.sent_texts == [(OPENID, "你好")]


async def test_expired_token_refreshes_once_and_retries_with_the_new_token(api, fake_wechat, store):
    await api.send_text(OPENID, "一")
    fake_wechat.expire_tokens()
    await api.send_text(OPENID, "二")
    assert fake_wechat.token_requests == 2
    assert len(fake_wechat.calls_to(SEND_PATH)) == 3
    assert await store.get(TOKEN_KEY) == fake_wechat.issued_tokens[1]
    assert fake_wechat.sent_texts == [(OPENID, "一"), (OPENID, "二")]


async def test_a_second_invalid_credential_raises_instead_of_looping(api, fake_wechat):
    fake_wechat.fail_next(SEND_PATH, 40001, times=2)
    with pytest.raises(WeChatAPIError) as caught:
        await api.send_text(OPENID, "你好")
    assert caught.value.errcode == 40001
    assert caught.value.path == SEND_PATH
    assert len(fake_wechat.calls_to(SEND_PATH)) == 2
    assert fake_wechat.token_requests == 2


async def test_wrong_app_secret_raises_without_retrying(session, fake_wechat, store):
    api = WeChatAPI(session, base_url=fake_wechat.url, app_id=fake_wechat.app_id, app_secret="wrong", cache=store)
    with pytest.raises(WeChatAPIError) as caught:
        await api.send_text(OPENID, "你好")
    assert (caught.value.errcode, caught.value.errmsg) == (40125, "invalid appsecret")
    assert fake_wechat.token_requests == 1
    assert fake_wechat.calls_to(SEND_PATH) == []


# -- other errors ----------------------------------------------------------------------------
@pytest.mark.parametrize("errcode", [45009, 45047, 45015, 43004, 40003, 48001])
async def test_quota_and_recipient_errors_raise_at_once(api, fake_wechat, errcode):
    fake_wechat.fail_next(SEND_PATH, errcode, times=5)
    with pytest.raises(WeChatAPIError) as caught:
        await api.send_text(OPENID, "你好")
    assert caught.value.errcode == errcode
    assert len(fake_wechat.calls_to(SEND_PATH)) == 1


async def test_system_busy_is_retried_until_wechat_answers(api, fake_wechat):
    fake_wechat.fail_next(SEND_PATH, -1, times=2)
    await api.send_text(OPENID, "你好")
    assert len(fake_wechat.calls_to(SEND_PATH)) == 3
    assert fake_wechat.sent_texts == [(OPENID, "你好")]


async def test_system_busy_gives_up_after_three_attempts(api, fake_wechat):
    fake_wechat.fail_next(SEND_PATH, -1, times=10)
    with pytest.raises(WeChatAPIError) as caught:
        await api.send_text(OPENID, "你好")
    assert caught.value.errcode == -1
    assert len(fake_wechat.calls_to(SEND_PATH)) == 3


async def test_a_timeout_is_retried_once_then_raised_as_a_network_error(session, fake_wechat, store):
    api = client(session, fake_wechat, store, timeout_s=0.1)
    await api.send_text(OPENID, "一")  # the token is cached, so only custom/send is slow
    fake_wechat.stall_next(SEND_PATH, 0.3, times=2)
    with pytest.raises(WeChatAPIError) as caught:
        await api.send_text(OPENID, "二")
    assert caught.value.errcode == -2
    assert caught.value.errmsg.startswith("network: ")
    assert len(fake_wechat.calls_to(SEND_PATH)) == 3


# -- what goes out ---------------------------------------------------------------------------
async def test_chinese_text_is_sent_as_utf8_not_escapes(api, fake_wechat):
    await api.send_text(OPENID, "居住证签注")
    (call,) = fake_wechat.calls_to(SEND_PATH)
    assert "居住证签注".encode() in call.body
    assert b"\\u" not in call.body
    assert call.json == {"touser": OPENID, "msgtype": "text", "text": {"content": "居住证签注"}}


async def test_long_text_is_cut_to_2048_bytes_at_a_character_boundary(api, fake_wechat):
    await api.send_text(OPENID, "a" + "居" * 1000)
    ((_, sent),) = fake_wechat.sent_texts
    assert sent == "a" + "居" * 682  # 1 + 682 × 3 = 2047 bytes; one more character would not fit


async def test_send_template_returns_the_msgid_as_a_string(api, fake_wechat):
    msgid = await api.send_template(
        OPENID,
        "TPL_REMIND",
        {"thing1": "签注提醒", "time2": {"value": "2025-03-01"}},
        url="https://bot.example.gov.cn/r",
        client_msg_id="remind:P123:2025-03-01:7",
    )
    (sent,) = fake_wechat.sent_templates
    assert msgid == str(FIRST_TEMPLATE_MSGID)
    assert sent == {
        "touser": OPENID,
        "template_id": "TPL_REMIND",
        "data": {"thing1": {"value": "签注提醒"}, "time2": {"value": "2025-03-01"}},
        "url": "https://bot.example.gov.cn/r",
        "client_msg_id": "remind:P123:2025-03-01:7",
    }


async def test_send_template_leaves_out_url_and_client_msg_id_when_not_given(api, fake_wechat):
    await api.send_template(OPENID, "TPL_REMIND", {"thing1": "签注提醒"})
    (sent,) = fake_wechat.sent_templates
    assert "url" not in sent
    assert "client_msg_id" not in sent


async def test_create_menu_posts_the_menu(api, fake_wechat):
    menu = {"button": [{"type": "click", "name": "签注", "key": "ENDORSE"}]}
    await api.create_menu(menu)
    assert fake_wechat.menus == [menu]
    assert fake_wechat.calls_to(MENU_PATH)[0].query == {}


async def test_get_media_returns_the_bytes_and_content_type(api, fake_wechat):
    assert await api.get_media(IMAGE_MEDIA_ID) == (JPEG, "image/jpeg")
    assert fake_wechat.calls_to(MEDIA_PATH)[0].query == {"media_id": IMAGE_MEDIA_ID}


async def test_get_media_of_an_unknown_id_raises_40007(api, fake_wechat):
    with pytest.raises(WeChatAPIError) as caught:
        await api.get_media("NO_SUCH_MEDIA")
    assert (caught.value.errcode, caught.value.errmsg) == (40007, "invalid media_id")
    assert len(fake_wechat.calls_to(MEDIA_PATH)) == 1


@pytest.mark.parametrize("declared", [False, True], ids=["chunked", "content-length"])
async def test_get_media_past_its_limit_raises_once_past_it_without_retrying(api, fake_wechat, declared):
    huge = fake_wechat.add_large_media("MEDIA_HUGE", 64 * 1024 * 1024, declared=declared)
    with pytest.raises(MediaTooLarge):
        await api.get_media("MEDIA_HUGE", max_bytes=1024 * 1024)
    await asyncio.wait_for(huge.finished.wait(), 10)
    assert huge.sent < 32 * 1024 * 1024
    assert len(fake_wechat.calls_to(MEDIA_PATH)) == 1


@pytest.mark.parametrize("declared", [False, True], ids=["chunked", "content-length"])
async def test_get_media_of_exactly_its_limit_returns_it(api, fake_wechat, declared):
    fake_wechat.add_large_media("MEDIA_FULL", 300 * 1024, "image/png", declared=declared)
    content, content_type = await api.get_media("MEDIA_FULL", max_bytes=300 * 1024)
    assert (len(content), content_type) == (300 * 1024, "image/png")


async def test_call_returns_wechat_answer(api, fake_wechat):
    answer = await api.call("POST", TEMPLATE_PATH, json={"touser": OPENID, "template_id": "T", "data": {}})
    assert answer["errcode"] == 0
    assert isinstance(answer["msgid"], int)


# -- secrets ---------------------------------------------------------------------------------
async def test_the_token_appears_in_no_error_and_no_log(api, fake_wechat, caplog):
    caplog.set_level(logging.DEBUG)
    fake_wechat.fail_next(TOKEN_PATH, -1)
    fake_wechat.fail_next(SEND_PATH, 40001, times=2)
    with pytest.raises(WeChatAPIError) as caught:
        await api.send_text(OPENID, "你好")
    assert len(caplog.records) >= 4  # busy retry, token fetched twice, retry, and the failure
    for secret in [*fake_wechat.issued_tokens, fake_wechat.app_secret]:
        assert secret not in str(caught.value)
        assert secret not in repr(caught.value)
        assert secret not in caplog.text


async def test_a_network_error_names_no_token(session, fake_wechat, store):
    await client(session, fake_wechat, store).send_text(OPENID, "一")
    with socket.socket() as unused:  # bound, never listening: connections are refused
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
        api = WeChatAPI(
            session,
            base_url=f"http://127.0.0.1:{port}",
            app_id=fake_wechat.app_id,
            app_secret=fake_wechat.app_secret,
            cache=store,
            retry_delay_s=0,
        )
        with pytest.raises(WeChatAPIError) as caught:
            await api.send_text(OPENID, "二")
    assert caught.value.errcode == -2
    assert str(caught.value).startswith(f"{SEND_PATH}: -2 network: ClientConnectorError")
    assert fake_wechat.issued_tokens[0] not in str(caught.value)


# -- the network guard -----------------------------------------------------------------------
def test_the_network_guard_refuses_addresses_beyond_loopback(network_guard: NetworkGuard):
    with pytest.raises(OSError, match="loopback only"):
        socket.create_connection(("192.0.2.1", 80), timeout=1)  # TEST-NET-1
    with pytest.raises(OSError, match="loopback only"):
        socket.getaddrinfo("api.weixin.qq.com", 443)
    assert network_guard.blocked == ["192.0.2.1:80", "name lookup of 'api.weixin.qq.com'"]
    network_guard.blocked.clear()  # seen and expected: do not fail this test at teardown
