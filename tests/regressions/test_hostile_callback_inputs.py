"""What fuzzing and the property tests found in the callback's decode (issue 12, point 4; fuzz/README.md).

- An Encrypt that is not ASCII, correctly signed, raised ValueError from base64 instead of
  DecryptError: HTTP 500 where 400 was due (atheris, fuzz/callback_decode.py, after 8,257 runs).
- The request's nonce is echoed in an encrypted reply; one holding a control character made the
  reply XML that WeChat cannot read (hypothesis, tests/test_properties_callback.py).
- A location of nan, inf or past the poles was taken for a place (hypothesis).
"""

from __future__ import annotations

import time

import pytest

from bot.config import WeChatConfig
from bot.wechat.callback import Callback, Decoded, Rejected
from bot.wechat.crypto import MessageCrypto, cdata
from bot.wechat.message import Incoming, parse_xml
from bot.wechat.signature import sign
from tests.harness import AES_KEY, APP_ID, ORIGINAL_ID, TOKEN, make_settings

SAFE = WeChatConfig(token=TOKEN, app_id=APP_ID, encoding_aes_key=AES_KEY, mode="safe", max_clock_skew_s=0)


def sealed_push(encrypt: str, nonce: str = "1320562132") -> tuple[dict[str, str], bytes]:
    timestamp = str(int(time.time()))
    query = {"timestamp": timestamp, "nonce": nonce, "encrypt_type": "aes"}
    query["msg_signature"] = sign(TOKEN, timestamp, nonce, encrypt)
    body = (
        f"<xml><ToUserName><![CDATA[{ORIGINAL_ID}]]></ToUserName><Encrypt><![CDATA[{cdata(encrypt)}]]></Encrypt></xml>"
    )
    return query, body.encode()


def test_a_signed_encrypt_that_is_not_ascii_is_refused_as_undecryptable():
    query, body = sealed_push("nYSBZ8_4]]>é")
    with pytest.raises(Rejected) as refused:
        Callback(SAFE).decode(query, body)
    assert refused.value.status == 400


async def test_a_signed_encrypt_that_is_not_ascii_gets_400_through_the_app(start_bot, tmp_path):
    bot = await start_bot(make_settings(tmp_path, wechat={"mode": "safe"}))
    query, body = sealed_push("不是base64")
    response = await bot.post("/wechat", params=query, data=body)
    assert response.status == 400


@pytest.mark.parametrize("nonce", ["\x1f", "\x00", "a]]>b", "<"])
def test_an_encrypted_reply_to_any_nonce_is_xml_that_opens(nonce):
    crypto = MessageCrypto(TOKEN, APP_ID, (AES_KEY,))
    push = (
        f"<xml><ToUserName>{ORIGINAL_ID}</ToUserName><FromUserName>o_1</FromUserName><CreateTime>1</CreateTime>"
        "<MsgType>text</MsgType><Content>hi</Content><MsgId>1</MsgId></xml>"
    )
    query, body = sealed_push(str(parse_xml(crypto.encrypt_reply(push, "1"))["Encrypt"]), nonce)
    callback = Callback(SAFE)
    decoded = callback.decode(query, body)
    assert isinstance(decoded, Decoded)
    envelope = parse_xml(callback.encode(decoded, "<xml><Content>好</Content></xml>"))
    assert crypto.decrypt(str(envelope["Encrypt"]))[0] == "<xml><Content>好</Content></xml>"
    assert envelope["MsgSignature"] == sign(
        TOKEN, str(envelope["TimeStamp"]), str(envelope["Nonce"]), str(envelope["Encrypt"])
    )


@pytest.mark.parametrize(
    ("lat", "lng"), [("nan", "114.05"), ("22.54", "inf"), ("1e999", "0"), ("91", "0"), ("0", "-181")]
)
def test_a_location_that_is_no_place_is_none(lat, lng):
    msg = Incoming(ORIGINAL_ID, "o_1", "1", "location", fields={"Location_X": lat, "Location_Y": lng})
    assert msg.location is None


def test_a_location_on_earth_is_kept():
    msg = Incoming(ORIGINAL_ID, "o_1", "1", "event", "LOCATION", fields={"Latitude": "-90", "Longitude": "180"})
    assert msg.location == (-90.0, 180.0)
