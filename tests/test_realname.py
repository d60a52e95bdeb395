"""Real-name verification (local and http providers), the photo store, and fetching the ID photo."""

from __future__ import annotations

import asyncio
import base64
import logging
import socket
import stat
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from bot.config import RealnameConfig, RealnameHttpConfig
from bot.services.realname import (
    MAX_PHOTO_BYTES,
    NOT_AN_IMAGE,
    PHOTO_EXPIRED,
    PhotoRejected,
    PhotoStore,
    RealnameChecker,
    RealnameResult,
    RealnameUnavailable,
    fetch_id_photo,
)
from bot.state.memory import MemoryStore
from bot.wechat.api import MEDIA_PATH, WeChatAPI
from tests.fake_realname import FakeRealname
from tests.fake_wechat_api import IMAGE_MEDIA_ID, JPEG, FakeWeChat

NAME = "张三"
ID_NUMBER = "11010519491231002X"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 13


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def http_checker(session: aiohttp.ClientSession, url: str, timeout_s: float = 5.0) -> RealnameChecker:
    config = RealnameConfig(provider="http", http=RealnameHttpConfig(url=url, timeout_s=timeout_s))
    return RealnameChecker(config, session)


@pytest.fixture
def api(session: aiohttp.ClientSession, fake_wechat: FakeWeChat) -> WeChatAPI:
    store = MemoryStore(dedup_ttl_s=300, lock_timeout_s=10)
    return WeChatAPI(
        session,
        base_url=fake_wechat.url,
        app_id=fake_wechat.app_id,
        app_secret=fake_wechat.app_secret,
        cache=store,
        retry_delay_s=0.0,
    )


# -- the local provider ------------------------------------------------------------------------
@pytest.mark.parametrize("photo", [JPEG, PNG], ids=["jpeg", "png"])
async def test_local_verifies_a_jpeg_or_png(session, photo):
    checker = RealnameChecker(RealnameConfig(), session)
    assert await checker.verify(NAME, ID_NUMBER, photo) == RealnameResult(True, "", "local")


@pytest.mark.parametrize("photo", [b"", b"GIF89a\x01\x00", b"%PDF-1.7", b"hello"], ids=["empty", "gif", "pdf", "text"])
async def test_local_refuses_what_is_not_a_jpeg_or_png(session, photo):
    checker = RealnameChecker(RealnameConfig(), session)
    assert await checker.verify(NAME, ID_NUMBER, photo) == RealnameResult(False, NOT_AN_IMAGE, "local")


# -- the http provider -------------------------------------------------------------------------
async def test_http_sends_name_id_number_and_base64_photo(session, fake_realname: FakeRealname):
    result = await http_checker(session, fake_realname.url).verify(NAME, ID_NUMBER, JPEG)
    assert result == RealnameResult(True, "", "http")
    [request] = fake_realname.requests
    assert request.json == {"name": NAME, "id_number": ID_NUMBER, "photo": base64.b64encode(JPEG).decode()}
    assert request.photo == JPEG


async def test_http_returns_the_services_refusal_as_is(session, fake_realname):
    fake_realname.answer(verified=False, reason="人像与证件不符")
    result = await http_checker(session, fake_realname.url).verify(NAME, ID_NUMBER, JPEG)
    assert result == RealnameResult(False, "人像与证件不符", "http")


@pytest.mark.parametrize("status", [500, 503, 400, 302])
async def test_http_error_status_raises_unavailable(session, fake_realname, status):
    fake_realname.fail_next(status=status, body='{"verified": true, "reason": ""}')
    with pytest.raises(RealnameUnavailable) as raised:
        await http_checker(session, fake_realname.url).verify(NAME, ID_NUMBER, JPEG)
    assert "暂时不可用" in raised.value.message


async def test_http_timeout_raises_unavailable(session, fake_realname):
    fake_realname.stall_next(0.5)
    with pytest.raises(RealnameUnavailable):
        await http_checker(session, fake_realname.url, timeout_s=0.1).verify(NAME, ID_NUMBER, JPEG)


@pytest.mark.parametrize(
    "body",
    [
        "<html>busy</html>",
        "[]",
        '{"reason": ""}',
        '{"verified": "yes", "reason": ""}',
        '{"verified": true, "reason": 1}',
    ],
)
async def test_http_malformed_answer_raises_unavailable(session, fake_realname, body):
    fake_realname.malformed_next(body)
    with pytest.raises(RealnameUnavailable):
        await http_checker(session, fake_realname.url).verify(NAME, ID_NUMBER, JPEG)


async def test_http_connection_refused_raises_unavailable(session):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # Nothing listens on the port any more.
    with pytest.raises(RealnameUnavailable):
        await http_checker(session, f"http://127.0.0.1:{port}/verify").verify(NAME, ID_NUMBER, JPEG)


# -- the photo store ---------------------------------------------------------------------------
async def test_photo_store_writes_private_files_with_unguessable_names(tmp_path: Path):
    directory = tmp_path / "photos"
    store = PhotoStore(directory)
    first = await store.save(7, JPEG, "image/jpeg")
    second = await store.save(7, PNG, "image/png")
    assert first.endswith(".jpg") and second.endswith(".png")
    assert first != second
    # 32 hex digits of secrets.token_hex(16), not a counter or the account id.
    assert len(Path(first).stem) == 32 and int(Path(first).stem, 16) >= 0
    assert not Path(first).is_absolute()
    assert stat.S_IMODE((directory / first).stat().st_mode) == 0o600
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    assert stat.S_IMODE((directory / first).parent.stat().st_mode) == 0o700
    assert await store.read(first) == JPEG
    assert await store.read(second) == PNG


async def test_photo_store_tightens_an_existing_directory(tmp_path: Path):
    tmp_path.joinpath("photos").mkdir(mode=0o755)
    await PhotoStore(tmp_path / "photos").save(1, JPEG, "image/jpeg")
    assert stat.S_IMODE((tmp_path / "photos").stat().st_mode) == 0o700


async def test_photo_store_refuses_other_types_and_paths_outside(tmp_path: Path):
    store = PhotoStore(tmp_path / "photos")
    with pytest.raises(ValueError):
        await store.save(1, b"GIF89a", "image/gif")
    (tmp_path / "secret").write_bytes(b"x")
    with pytest.raises(ValueError):
        await store.read("../secret")


# -- fetching the photo from WeChat --------------------------------------------------------------
async def test_fetch_id_photo_returns_the_bytes_and_type(api, fake_wechat):
    assert await fetch_id_photo(api, IMAGE_MEDIA_ID) == (JPEG, "image/jpeg")
    assert fake_wechat.calls_to(MEDIA_PATH)[0].query == {"media_id": IMAGE_MEDIA_ID}


async def test_fetch_id_photo_of_an_expired_media_id_asks_to_send_again(api):
    with pytest.raises(PhotoRejected) as raised:
        await fetch_id_photo(api, "MEDIA_GONE")
    assert raised.value.message == PHOTO_EXPIRED


@pytest.mark.parametrize("content_type", ["audio/amr", "video/mp4", "image/gif"])
async def test_fetch_id_photo_refuses_what_is_not_a_jpeg_or_png(api, fake_wechat, content_type):
    fake_wechat.media["MEDIA_OTHER"] = (b"\x00" * 64, content_type)
    with pytest.raises(PhotoRejected) as raised:
        await fetch_id_photo(api, "MEDIA_OTHER")
    assert "JPG" in raised.value.message


async def test_fetch_id_photo_refuses_more_than_5_mb(api, fake_wechat):
    fake_wechat.media["MEDIA_BIG"] = (JPEG + b"\x00" * MAX_PHOTO_BYTES, "image/jpeg")
    with pytest.raises(PhotoRejected) as raised:
        await fetch_id_photo(api, "MEDIA_BIG")
    assert "5 MB" in raised.value.message


@pytest.mark.parametrize("declared", [False, True], ids=["chunked", "content-length"])
async def test_fetch_id_photo_stops_reading_a_download_past_5_mb(api, fake_wechat, declared):
    huge = fake_wechat.add_large_media("MEDIA_HUGE", 64 * 1024 * 1024, declared=declared)
    with pytest.raises(PhotoRejected) as raised:
        await fetch_id_photo(api, "MEDIA_HUGE")
    assert "5 MB" in raised.value.message
    await asyncio.wait_for(huge.finished.wait(), 10)
    # What loopback's socket buffers took before the bot hung up, but never the whole 64 MB.
    assert huge.sent < 32 * 1024 * 1024


async def test_fetch_id_photo_when_wechat_fails_otherwise_is_unavailable(api, fake_wechat):
    fake_wechat.fail_next(MEDIA_PATH, 45009)
    with pytest.raises(RealnameUnavailable):
        await fetch_id_photo(api, IMAGE_MEDIA_ID)


# -- personal data stays out of the log ----------------------------------------------------------
async def test_no_id_number_or_photo_in_the_log(session, api, fake_wechat, fake_realname, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    checker = http_checker(session, fake_realname.url, timeout_s=0.1)
    photo, content_type = await fetch_id_photo(api, IMAGE_MEDIA_ID)
    await PhotoStore(tmp_path).save(1, photo, content_type)
    await checker.verify(NAME, ID_NUMBER, photo)
    fake_realname.fail_next(status=503, body=f"busy: {ID_NUMBER}")
    fake_realname.stall_next(0.5)
    fake_realname.malformed_next(f"<p>{ID_NUMBER}</p>")
    for _ in range(3):
        with pytest.raises(RealnameUnavailable) as raised:
            await checker.verify(NAME, ID_NUMBER, photo)
        assert ID_NUMBER not in str(raised.value)
    assert caplog.records  # the failures were logged
    encoded = base64.b64encode(photo).decode()
    for text in (ID_NUMBER, ID_NUMBER[4:14], NAME, encoded, fake_realname.url):
        assert text not in caplog.text
