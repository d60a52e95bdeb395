"""The fake WeChat API for tests, and the guard that keeps tests off the network (a pytest plugin).

The fake is `bot.dev.wechat_standin.DevWeChat`, the development stand-in for WeChat's API (PROTOCOL.md §7–9),
so the tests and `make run` use one implementation; the `fake_wechat` fixture serves it on loopback
with the tests' account and one image already uploaded. The autouse `network_guard` fixture fails any
test that connects anywhere but loopback or a unix socket, or looks up a name other than localhost.
"""

from __future__ import annotations

import errno
import ipaddress
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from pytest_aiohttp import AiohttpServer

from bot.dev.wechat_standin import FIRST_TEMPLATE_MSGID, DevWeChat

__all__ = ["APP_ID", "APP_SECRET", "FIRST_TEMPLATE_MSGID", "IMAGE_MEDIA_ID", "JPEG", "FakeWeChat", "NetworkGuard"]

APP_ID = "wx0fa4e0000000001"
APP_SECRET = "fake0secret0000000000000000000ab"
# Starts and ends like a JPEG (SOI … EOI); nothing in the bot decodes it.
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
IMAGE_MEDIA_ID = "MEDIA_IMAGE_0001"


class FakeWeChat(DevWeChat):
    """The stand-in with the tests' account, and IMAGE_MEDIA_ID already uploaded."""

    def __init__(self) -> None:
        super().__init__(APP_ID, APP_SECRET)
        self.media[IMAGE_MEDIA_ID] = (JPEG, "image/jpeg")


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
