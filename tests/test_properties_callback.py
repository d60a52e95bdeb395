"""The callback on hostile input (issue 12, point 4): whatever the query string and the body, the
protocol layer decodes a push or refuses it with its 4xx, and the app answers a 4xx or a reply
WeChat can read, never a 500, a traceback or the name of anything inside. Profiles:
tests/properties.py.

Query values come from aiohttp, which refuses raw non-ASCII bytes in the request line (400 of its
own) and reads percent-escapes that are not UTF-8 as U+FFFD: they never hold lone surrogates, so
the strategies below draw text that UTF-8 can encode. Signed inputs are signed with the test
token, so that they get past the signature check to the decryption and the parser.
"""

from __future__ import annotations

import base64
import math
import os
import time

import pytest
import xmltodict
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.app import METRICS
from bot.config import WeChatConfig
from bot.dispatch import BUSY
from bot.wechat.callback import Callback, Decoded, Rejected
from bot.wechat.crypto import DecryptError, ForeignAppError, MessageCrypto, cdata
from bot.wechat.message import Incoming, MalformedMessage, _parse_fast, parse_message, parse_xml
from bot.wechat.signature import sign
from tests.harness import AES_KEY, APP_ID, ORIGINAL_ID, TOKEN, make_settings
from tests.properties import HTTP, XML_TEXT, examples

TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=60)
QUERY_KEYS = ("signature", "timestamp", "nonce", "openid", "encrypt_type", "msg_signature", "echostr")
QUERIES = st.dictionaries(st.sampled_from(QUERY_KEYS), st.one_of(TEXT, st.just("aes")), max_size=7)
FIELDS = ("ToUserName", "FromUserName", "CreateTime", "MsgType", "Event", "Content", "MsgId", "EventKey")
BODIES = st.one_of(
    st.binary(max_size=300),
    st.lists(st.tuples(st.sampled_from(FIELDS), XML_TEXT), max_size=8)
    .map(lambda fields: "<xml>" + "".join(f"<{k}><![CDATA[{cdata(v)}]]></{k}>" for k, v in fields) + "</xml>")
    .map(str.encode),
    st.sampled_from([b"", b"<xml/>", b"<xml>", b"<!DOCTYPE x><xml/>", b"<xml><Encrypt/></xml>", b"\xef\xbb\xbf<xml/>"]),
)
MODES = ("plain", "compat", "safe")
SECRETS = (TOKEN, AES_KEY, "Traceback", 'File "', ".py", "bot.", "Error")


def config(mode: str) -> WeChatConfig:
    return WeChatConfig(token=TOKEN, app_id=APP_ID, encoding_aes_key=AES_KEY, mode=mode, max_clock_skew_s=0)


def signed(timestamp: str, nonce: str, **more: str) -> dict[str, str]:
    return {"timestamp": timestamp, "nonce": nonce, "signature": sign(TOKEN, timestamp, nonce), **more}


def decode_or_refuse(callback: Callback, query: dict[str, str], body: bytes) -> Decoded | Rejected:
    try:
        return callback.decode(query, body)
    except Rejected as refused:
        assert refused.status in (400, 403)
        return refused


# -- the protocol layer: signature → decryption → parse --------------------------------------------


@pytest.mark.parametrize("mode", MODES)
@given(query=QUERIES, body=BODIES)
def test_any_query_and_body_is_decoded_or_refused(mode, query, body):
    decode_or_refuse(Callback(config(mode)), query, body)


@given(timestamp=st.from_regex(r"[0-9]{1,14}", fullmatch=True) | TEXT, nonce=TEXT, body=BODIES)
def test_a_signed_plain_push_is_parsed_or_refused_as_malformed(timestamp, nonce, body):
    outcome = decode_or_refuse(Callback(config("plain")), signed(timestamp, nonce), body)
    if isinstance(outcome, Rejected):
        assert outcome.status == 400


ENCRYPT = st.one_of(
    TEXT,
    st.binary(max_size=200).map(lambda raw: base64.b64encode(raw).decode()),
    st.binary(min_size=1, max_size=8).map(lambda raw: base64.b64encode(raw * 64).decode()),
)


@pytest.mark.parametrize("mode", ["compat", "safe"])
@given(nonce=TEXT, encrypt=ENCRYPT, with_signature=st.booleans())
def test_a_correctly_signed_encrypt_of_anything_is_opened_or_refused(mode, nonce, encrypt, with_signature):
    timestamp = str(int(time.time()))
    query = {"timestamp": timestamp, "nonce": nonce, "encrypt_type": "aes"}
    query["msg_signature"] = sign(TOKEN, timestamp, nonce, encrypt)
    if with_signature:
        query["signature"] = sign(TOKEN, timestamp, nonce)
    body = (
        f"<xml><ToUserName><![CDATA[{ORIGINAL_ID}]]></ToUserName><Encrypt><![CDATA[{cdata(encrypt)}]]></Encrypt></xml>"
    )
    decode_or_refuse(Callback(config(mode)), query, body.encode())


def sealed(buffer: bytes) -> str:
    """`buffer` encrypted as WeChat encrypts, with the test key and no padding of its own."""
    key = base64.b64decode(AES_KEY + "=")
    encryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(encryptor.update(buffer) + encryptor.finalize()).decode()


@st.composite
def buffers(draw: st.DrawFn) -> bytes:
    """random(16) ‖ length(4) ‖ message ‖ appid ‖ padding, each part possibly wrong."""
    message = draw(st.one_of(XML_TEXT.map(str.encode), st.binary(max_size=80)))
    app_id = draw(st.sampled_from([APP_ID.encode(), b"wx0000000000000000", b""]) | st.binary(max_size=20))
    length = draw(st.one_of(st.just(len(message)), st.integers(0, 2**32 - 1)))
    plain = os.urandom(16) + length.to_bytes(4, "big") + message + app_id
    pad = 32 - len(plain) % 32
    padding = draw(st.one_of(st.just(bytes([pad]) * pad), st.binary(min_size=pad, max_size=pad)))
    return plain + padding


@given(buffer=buffers())
def test_any_buffer_under_our_key_decrypts_or_is_refused(buffer):
    crypto = MessageCrypto(TOKEN, APP_ID, (AES_KEY,))
    try:
        xml, key_index = crypto.decrypt(sealed(buffer))
    except (DecryptError, ForeignAppError):
        return
    assert key_index == 0 and isinstance(xml, str)


@given(xml=XML_TEXT, nonce=TEXT)
def test_an_encrypted_reply_opens_to_what_was_sealed(xml, nonce):
    crypto = MessageCrypto(TOKEN, APP_ID, (AES_KEY,))
    envelope = parse_xml(crypto.encrypt_reply(xml, nonce))
    encrypt, timestamp, echoed = (str(envelope[k]) for k in ("Encrypt", "TimeStamp", "Nonce"))
    assert envelope["MsgSignature"] == sign(TOKEN, timestamp, echoed, encrypt)
    assert crypto.decrypt(encrypt) == (xml, 0)


# -- the parser ---------------------------------------------------------------------------------


@given(body=BODIES)
def test_any_body_parses_to_a_push_or_is_malformed(body):
    try:
        incoming = parse_message(body)
    except MalformedMessage:
        return
    assert isinstance(incoming, Incoming) and incoming.openid and incoming.create_time.isdigit()


@given(fields=st.dictionaries(st.sampled_from(FIELDS), XML_TEXT, min_size=1))
def test_a_value_comes_back_as_sent_whatever_it_holds(fields):
    body = "<xml>" + "".join(f"<{k}><![CDATA[{cdata(v)}]]></{k}>" for k, v in fields.items()) + "</xml>"
    assert parse_xml(body) == fields


NAMES = st.sampled_from(["xml", "a", "B", "List", "x-y", "_z"])


@st.composite
def documents(draw: st.DrawFn, depth: int = 0) -> str:
    name = draw(NAMES)
    attrs = "".join(f' {k}="{v}"' for k, v in draw(st.dictionaries(st.sampled_from(["id", "k"]), TEXT_ATTR)).items())
    parts = draw(st.lists(st.one_of(TEXT_NODE, documents(depth + 1)) if depth < 3 else TEXT_NODE, max_size=4))
    return f"<{name}{attrs}>{''.join(parts)}</{name}>"


TEXT_NODE = XML_TEXT.map(lambda t: t.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))
TEXT_ATTR = st.from_regex(r"[a-z0-9 ]{0,6}", fullmatch=True)


@given(document=documents())
def test_the_fast_parser_reads_a_document_as_xmltodict_does(document):
    raw = document.encode()
    fast = _parse_fast(raw)
    if fast is not None:
        assert fast == xmltodict.parse(raw, encoding="utf-8", disable_entities=True, strip_whitespace=False)


NUMBERS = st.one_of(st.floats().map(str), st.sampled_from(["nan", "inf", "-inf", "1e999", "", "+1_0", "٣"]))
COORDINATE = NUMBERS | TEXT


@given(lat=COORDINATE, lng=COORDINATE, event=st.booleans())
def test_a_location_is_a_place_on_earth_or_none(lat, lng, event):
    names = ("Latitude", "Longitude") if event else ("Location_X", "Location_Y")
    msg = Incoming(ORIGINAL_ID, "o_1", "1", "event" if event else "location", "LOCATION" if event else "")
    msg.fields.update(zip(names, (lat, lng), strict=True))
    where = msg.location
    if where is not None:
        assert all(math.isfinite(x) for x in where)
        assert -90 <= where[0] <= 90 and -180 <= where[1] <= 180


# -- the app: any request gets a 4xx or a reply WeChat can read -----------------------------------


def readable(status: int, body: str) -> None:
    assert status in (200, 400, 403, 413), (status, body)
    assert not any(secret in body for secret in SECRETS), body
    if status == 200 and body != "success":
        reply = parse_xml(body)
        assert "Encrypt" in reply or (reply["ToUserName"] and reply["MsgType"] in ("text", "news"))


@pytest.fixture(params=MODES)
async def any_mode_bot(request, start_bot, tmp_path):
    return await start_bot(make_settings(tmp_path, wechat={"mode": request.param}))


@settings(max_examples=examples(30), **HTTP)
@given(query=QUERIES, body=BODIES)
async def test_any_post_gets_a_4xx_or_a_readable_reply(any_mode_bot, query, body):
    response = await any_mode_bot.post("/wechat", params=query, data=body)
    readable(response.status, await response.text())


@settings(max_examples=examples(30), **HTTP)
@given(query=QUERIES)
async def test_any_url_check_echoes_only_when_signed(bot, query):
    response = await bot.get("/wechat", params=query)
    assert response.status in (200, 403)
    body = await response.text()
    if response.status == 200:
        assert body == query["echostr"]
    else:
        assert not any(secret in body for secret in SECRETS)


MSG_TYPES = st.sampled_from(["text", "image", "voice", "video", "location", "link", "event", "weird"])
EVENTS = st.sampled_from(
    ["subscribe", "unsubscribe", "SCAN", "LOCATION", "CLICK", "VIEW", "TEMPLATESENDJOBFINISH", "x"]
)


@st.composite
def pushes(draw: st.DrawFn) -> str:
    """A well-formed push of any type, with anything in its fields."""
    msg_type = draw(MSG_TYPES)
    fields = {
        "ToUserName": ORIGINAL_ID,
        "FromUserName": draw(st.sampled_from(["o_prop_1", "o_prop_2"]) | XML_TEXT),
        "CreateTime": str(draw(st.integers(0, 2**40))),
        "MsgType": msg_type,
    }
    if msg_type == "event":
        fields["Event"] = draw(EVENTS)
    else:
        fields["MsgId"] = str(draw(st.integers(0, 2**64)))
    for name in draw(
        st.sets(
            st.sampled_from(
                [
                    "Content",
                    "EventKey",
                    "Recognition",
                    "MediaId",
                    "Location_X",
                    "Location_Y",
                    "Latitude",
                    "Longitude",
                    "Label",
                    "PicUrl",
                ]
            )
        )
    ):
        fields[name] = draw(NUMBERS | XML_TEXT if name.startswith(("Loc", "Lat", "Lon")) else XML_TEXT)
    return "<xml>" + "".join(f"<{k}><![CDATA[{cdata(v)}]]></{k}>" for k, v in fields.items()) + "</xml>"


@settings(max_examples=examples(40), **HTTP)
@given(push=pushes())
async def test_any_signed_push_is_answered_and_never_fails_inside(bot, push):
    timestamp, nonce = str(int(time.time())), os.urandom(6).hex()
    response = await bot.post("/wechat", params=signed(timestamp, nonce), data=push.encode())
    body = await response.text()
    readable(response.status, body)
    assert response.status == 200, body
    assert BUSY not in body
    assert bot.app[METRICS].registry.get_sample_value("rb_handler_errors_total") == 0
