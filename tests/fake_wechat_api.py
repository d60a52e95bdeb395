"""The fake WeChat API for tests, and the guard that keeps tests off the network (a pytest plugin).

The fake is `bot.dev.wechat_standin.DevWeChat`, the development stand-in for WeChat's API (PROTOCOL.md §7–9),
so the tests and `make run` use one implementation; the `fake_wechat` fixture serves it on loopback
with the tests' account and one image already uploaded. `FakeWeChat.add_large_media` adds what the
stand-in has no need for: a download too big to take, streamed, counting what was sent. The autouse
`network_guard` fixture fails any test that connects anywhere but loopback or a unix socket, or
looks up a name other than localhost.
"""

from __future__ import annotations

import asyncio
import errno
import ipaddress
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from pytest_aiohttp import AiohttpServer

from bot.dev.wechat_standin import FIRST_TEMPLATE_MSGID, DevWeChat

__all__ = [
    "APP_ID",
    "APP_SECRET",
    "FIRST_TEMPLATE_MSGID",
    "IMAGE_MEDIA_ID",
    "JPEG",
    "FakeWeChat",
    "LargeMedia",
    "NetworkGuard",
]

APP_ID = "wx0fa4e0000000001"
APP_SECRET = "fake0secret0000000000000000000ab"
# Starts and ends like a JPEG (SOI … EOI); nothing in the bot decodes it.
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
IMAGE_MEDIA_ID = "MEDIA_IMAGE_0001"


@dataclass
class LargeMedia:
    """A media/get answer of `size` bytes, generated as it is sent, with or without a Content-Length."""

    size: int
    content_type: str
    declared: bool  # a Content-Length header; else chunked, the size known only at the end
    sent: int = 0  # bytes written to the connection before the client closed it (or all of them)
    finished: asyncio.Event = field(default_factory=asyncio.Event)


class FakeWeChat(DevWeChat):
    """The stand-in with the tests' account, and IMAGE_MEDIA_ID already uploaded."""

    def __init__(self) -> None:
        super().__init__(APP_ID, APP_SECRET)
        self.media[IMAGE_MEDIA_ID] = (JPEG, "image/jpeg")
        self.large_media: dict[str, LargeMedia] = {}

    def add_large_media(
        self, media_id: str, size: int, content_type: str = "image/jpeg", *, declared: bool = False
    ) -> LargeMedia:
        self.large_media[media_id] = large = LargeMedia(size, content_type, declared)
        return large

    async def _media_get(self, request: web.Request) -> web.StreamResponse:
        large = self.large_media.get(request.query.get("media_id", ""))
        if large is None:
            return await super()._media_get(request)
        self._check_token(request)
        response = web.StreamResponse(headers={"Content-Type": large.content_type})
        if large.declared:
            response.content_length = large.size
        else:
            response.enable_chunked_encoding()
        chunk = JPEG + b"\x00" * (64 * 1024 - len(JPEG))
        try:
            await response.prepare(request)
            while large.sent < large.size:
                part = chunk[: large.size - large.sent]
                await response.write(part)
                large.sent += len(part)
            await response.write_eof()
        except ConnectionError:
            pass  # the client closed the connection: it stopped reading
        finally:
            large.finished.set()
        return response


@pytest.fixture
async def fake_wechat(aiohttp_server: AiohttpServer) -> FakeWeChat:
    fake = FakeWeChat()
    # No access log: it would print each URL, access_token included.
    server = await aiohttp_server(fake.make_app(), access_log=None)
    fake.url = str(server.make_url("/")).rstrip("/")
    return fake


# -- no network but loopback -----------------------------------------------------------------
class NetworkBlocked(ConnectionRefusedError):
    """Raised in place of a connection that would leave the machine."""


def _is_local(host: str | bytes | None) -> bool:
    if host is None:
        return True
    name = (host.decode() if isinstance(host, bytes) else str(host)).lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        ip = ipaddress.ip_address(name.split("%", 1)[0])  # drop an IPv6 zone ("fe80::1%eth0")
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback


def _is_literal(host: str | bytes) -> bool:
    try:
        ipaddress.ip_address((host.decode() if isinstance(host, bytes) else host).split("%", 1)[0])
    except ValueError:
        return False
    return True


@dataclass
class NetworkGuard:
    blocked: list[str] = field(default_factory=list)

    def refuse(self, what: str) -> NetworkBlocked:
        self.blocked.append(what)
        # errno and strerror set: aiohttp's connection errors show only the strerror.
        message = f"tests may use loopback only (use the fake_wechat fixture): refused {what}"
        return NetworkBlocked(errno.ECONNREFUSED, message)


@pytest.fixture(autouse=True)
def network_guard(monkeypatch: pytest.MonkeyPatch) -> Iterator[NetworkGuard]:
    """Refuse, and fail the test for, any connection or name lookup beyond this machine."""
    guard = NetworkGuard()
    inet = (socket.AF_INET, socket.AF_INET6)
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex
    real_sendto = socket.socket.sendto
    real_getaddrinfo = socket.getaddrinfo

    def check(sock: socket.socket, address: Any) -> None:
        if sock.family in inet and not _is_local(address[0]):
            host = f"[{address[0]}]" if ":" in str(address[0]) else address[0]
            raise guard.refuse(f"{host}:{address[1]}")

    def connect(sock: socket.socket, address: Any) -> None:
        check(sock, address)
        real_connect(sock, address)

    def connect_ex(sock: socket.socket, address: Any) -> int:
        check(sock, address)
        return real_connect_ex(sock, address)

    def sendto(sock: socket.socket, data: Any, *args: Any) -> int:
        check(sock, args[-1])
        return real_sendto(sock, data, *args)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        # An address is checked when connected to (a server may bind 0.0.0.0); a name would need DNS.
        if host and not _is_literal(host) and not _is_local(host):
            raise guard.refuse(f"name lookup of {host!r}")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    monkeypatch.setattr(socket.socket, "sendto", sendto)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    yield guard
    if guard.blocked:
        # The refusal may have been swallowed as an ordinary connection error; fail regardless.
        pytest.fail("network use beyond loopback: " + ", ".join(guard.blocked), pytrace=False)
