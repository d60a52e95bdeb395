"""A callback that cannot be replayed or poisoned (issue 8, point 5).

In plain mode the signature covers only timestamp and nonce: whoever captures one query string
could post any body under it. Each signed query is remembered with a hash of its body for as long
as its timestamp is fresh: the same body again is WeChat retrying, another body is refused, and
nothing of the refused request is processed or stored. Dedup keys carry the sender; compatible
mode takes only encrypted pushes; a DTD is refused whatever the body's encoding.
"""

from __future__ import annotations

import time

import pytest
from redis.exceptions import RedisError

from bot.app import DISPATCHER
from bot.config import WeChatConfig
from bot.state.memory import MemoryStore
from bot.state.redis import RedisStore
from bot.wechat.callback import Callback
from bot.wechat.crypto import MessageCrypto
from bot.wechat.message import parse_xml
from bot.wechat.signature import sign
from models import WeChatUser
from tests.harness import AES_KEY, APP_ID, ORIGINAL_ID, TOKEN, Residents, make_settings


def query(nonce: str, timestamp: str | None = None) -> dict[str, str]:
    timestamp = timestamp or str(int(time.time()))
    return {"timestamp": timestamp, "nonce": nonce, "signature": sign(TOKEN, timestamp, nonce)}


def text_push(openid: str, content: str, msg_id: str) -> bytes:
    return (
        f"<xml><ToUserName><![CDATA[{ORIGINAL_ID}]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId></xml>"
    ).encode()


def subscribe_push(openid: str) -> bytes:
    return (
        f"<xml><ToUserName><![CDATA[{ORIGINAL_ID}]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
        "<Event><![CDATA[subscribe]]></Event></xml>"
    ).encode()


def content(response_text: str) -> str:
    return str(parse_xml(response_text)["Content"])


@pytest.fixture(params=[300, 0], ids=["window_300s", "window_off"])
async def plain_bot(request, start_bot, tmp_path):
    # 300 s as in production; 0 (development only) still remembers queries for a while.
    return await start_bot(make_settings(tmp_path, wechat={"max_clock_skew_s": request.param}))


def store_of(bot) -> MemoryStore:
    return bot.app[DISPATCHER].store


def dedup_keys(bot) -> list[str]:
    return sorted(k for k in store_of(bot)._values if k.startswith("dedup:"))


# -- replay -----------------------------------------------------------------------------------------


async def test_a_captured_query_cannot_carry_another_body(plain_bot):
    captured = query("1001")
    genuine = text_push("o_victim", "受理点", "5001")
    first = await plain_bot.post("/wechat", params=captured, data=genuine)
    assert "请发送您的位置" in content(await first.text())
    keys_before = dedup_keys(plain_bot)

    # The attacker posts their own body under the captured query: another user, another message.
    forged = await plain_bot.post("/wechat", params=captured, data=subscribe_push("o_attacker"))
    assert forged.status == 403
    assert await WeChatUser.filter(openid="o_attacker").count() == 0
    assert await store_of(plain_bot).load_state("o_attacker") is None
    assert dedup_keys(plain_bot) == keys_before

    # WeChat's retry of the genuine push (same query, same body) is answered as the first was.
    retry = await plain_bot.post("/wechat", params=captured, data=genuine)
    assert retry.status == 200 and await retry.text() == await first.text()


async def test_a_forged_signature_is_refused_before_it_can_be_remembered(plain_bot):
    genuine_query = query("1002")
    # The forger guesses the next timestamp and nonce, but cannot sign them.
    forged_query = {**genuine_query, "signature": "0" * 40}
    forged = await plain_bot.post("/wechat", params=forged_query, data=subscribe_push("o_attacker"))
    assert forged.status == 403
    # So the genuine delivery under that timestamp and nonce goes through.
    response = await plain_bot.post("/wechat", params=genuine_query, data=text_push("o_victim", "受理点", "5002"))
    assert "请发送您的位置" in content(await response.text())


async def test_a_rejected_body_under_a_good_query_leaves_nothing_behind(plain_bot):
    captured = query("1003")
    malformed = await plain_bot.post("/wechat", params=captured, data=b"<xml><ToUserName>")
    assert malformed.status == 400
    assert store_of(plain_bot)._values == {}
    # Nor does it block the genuine push under that query.
    response = await plain_bot.post("/wechat", params=captured, data=text_push("o_victim", "受理点", "5003"))
    assert "请发送您的位置" in content(await response.text())


async def test_a_query_is_remembered_until_its_timestamp_is_no_longer_fresh():
    store = MemoryStore(dedup_ttl_s=300, lock_timeout_s=1)
    now = 1_700_000_000
    callback = Callback(WeChatConfig(token=TOKEN, max_clock_skew_s=300), clock=lambda: now)
    # A timestamp 200 s ahead stays fresh for 500 s more: remembered that long, not just 300 s.
    ahead = query("1004", timestamp=str(now + 200))
    genuine = callback.decode(ahead, text_push("o_victim", "受理点", "5004"))
    assert genuine.seen.key == f"callback:{now + 200}:1004:{ahead['signature']}" and genuine.seen.ttl_s == 501
    begin = await store.begin(genuine.incoming.dedup_key, genuine.incoming.openid, genuine.seen)
    await store.abort(begin.turn)
    [(key, (_, expires))] = store._values.items()
    assert key == genuine.seen.key and 500 <= expires - time.monotonic() <= 501
    forged = callback.decode(ahead, subscribe_push("o_attacker"))
    assert (await store.begin(forged.incoming.dedup_key, forged.incoming.openid, forged.seen)).kind == "replayed"


async def test_processes_sharing_redis_share_the_replay_memory(start_bot, tmp_path, redis_url):
    settings = make_settings(tmp_path, wechat={"max_clock_skew_s": 300})
    prefix = f"t_replay{time.time_ns()}:"
    # Two stores on one Redis, as two processes have.
    first, second = [
        await start_bot(settings, store=RedisStore(redis_url, prefix=prefix, dedup_ttl_s=300, lock_timeout_s=5))
        for _ in range(2)
    ]
    captured = query(f"shared{time.time_ns()}")
    genuine = text_push("o_victim", "受理点", str(time.time_ns()))
    assert (await first.post("/wechat", params=captured, data=genuine)).status == 200
    forged = await second.post("/wechat", params=captured, data=subscribe_push("o_attacker_redis"))
    assert forged.status == 403
    retry = await second.post("/wechat", params=captured, data=genuine)
    assert "请发送您的位置" in content(await retry.text())


async def test_without_the_state_store_a_push_is_not_taken_unchecked(plain_bot):
    async def unreachable(*args, **kwargs):
        raise RedisError("connection refused")

    store_of(plain_bot).begin = unreachable  # the replay memory and the dedup claim are one call
    response = await plain_bot.post("/wechat", params=query("1005"), data=subscribe_push("o_victim"))
    assert "系统繁忙" in content(await response.text())
    assert await WeChatUser.filter(openid="o_victim").count() == 0


# -- dedup keys carry the sender ------------------------------------------------------------------


async def test_another_users_msgid_does_not_fetch_the_first_users_reply(bot):
    first = await bot.post("/wechat", params=query("2001"), data=text_push("o_victim", "受理点", "7777"))
    assert "请发送您的位置" in content(await first.text())
    # Same MsgId, fresh query, another sender: a message of its own, not a retry of the victim's.
    other = await bot.post("/wechat", params=query("2002"), data=text_push("o_other", "菜单", "7777"))
    reply = content(await other.text())
    assert "请发送您的位置" not in reply and "请回复关键词或序号" in reply


# -- compatible mode takes only encrypted pushes -----------------------------------------------------


async def test_compat_mode_refuses_a_plaintext_push_signed_only_with_signature(start_bot, tmp_path):
    client = await start_bot(make_settings(tmp_path, wechat={"mode": "compat"}))
    response = await client.post("/wechat", params=query("3001"), data=subscribe_push("o_attacker"))
    assert response.status == 403
    assert await WeChatUser.filter(openid="o_attacker").count() == 0
    assert client.app[DISPATCHER].store._values == {}
    # The encrypted push, as WeChat sends it in compatible mode, is answered.
    resident = Residents(client, make_settings(tmp_path))("o_compat", safe=True)
    assert "请发送您的位置" in await resident.send_text("受理点")


async def test_compat_mode_refuses_a_push_with_encrypt_but_no_msg_signature(start_bot, tmp_path):
    client = await start_bot(make_settings(tmp_path, wechat={"mode": "compat"}))
    crypto = MessageCrypto(TOKEN, APP_ID, (AES_KEY,))
    plain = subscribe_push("o_attacker").decode()
    encrypt = crypto.encrypt_reply(plain, "1").split("<Encrypt><![CDATA[")[1].split("]]>")[0]
    body = plain.replace("</xml>", f"<Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>")
    response = await client.post("/wechat", params={**query("3002"), "encrypt_type": "aes"}, data=body)
    assert response.status == 400
    assert await WeChatUser.filter(openid="o_attacker").count() == 0


# -- no DTD, whatever the encoding ---------------------------------------------------------------------


ENTITY_PUSH = (
    '<?xml version="1.0" encoding="{encoding}"?><!DOCTYPE xml [<!ENTITY who "o_entity">]>'
    f"<xml><ToUserName>{ORIGINAL_ID}</ToUserName><FromUserName>&who;</FromUserName>"
    "<CreateTime>1700000000</CreateTime><MsgType>event</MsgType><Event>subscribe</Event></xml>"
)


@pytest.mark.parametrize(
    "body",
    [
        ENTITY_PUSH.format(encoding="UTF-16").encode("utf-16"),  # with its byte-order mark
        ENTITY_PUSH.format(encoding="UTF-16").encode("utf-16-be"),  # without
        ENTITY_PUSH.format(encoding="UTF-16").encode("utf-16-le"),
        ENTITY_PUSH.format(encoding="UTF-8").replace("DOCTYPE", "DocType").replace("ENTITY", "Entity").encode(),
        ENTITY_PUSH.format(encoding="GB18030").replace("o_entity", "居民").encode("gb18030"),
    ],
    ids=["utf16_bom", "utf16be", "utf16le", "mixed_case", "gb18030"],
)
async def test_a_dtd_is_refused_whatever_the_encoding(bot, body):
    response = await bot.post("/wechat", params=query("4001"), data=body)
    assert response.status == 400
    assert await WeChatUser.all().count() == 0
    assert store_of(bot)._values == {}


async def test_a_utf8_body_declaring_another_encoding_is_read_as_utf8(bot):
    body = text_push("o_declared", "受理点", "8001").replace(b"<xml>", b'<?xml version="1.0" encoding="GBK"?><xml>')
    response = await bot.post("/wechat", params=query("4002"), data=body)
    assert "请发送您的位置" in content(await response.text())
