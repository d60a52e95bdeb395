"""A fake WeChat API for tests, and the guard that keeps tests off the network (a pytest plugin).

`FakeWeChat` answers the endpoints the bot calls the way api.weixin.qq.com does (PROTOCOL.md §7–9),
errors included, and records every call; the `fake_wechat` fixture serves it on loopback. The
autouse `network_guard` fixture fails any test that connects anywhere but loopback or a unix
socket, or looks up a name other than localhost.
"""

from __future__ import annotations

import asyncio
import errno
import ipaddress
import json
import re
import secrets
import socket
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import pytest
from aiohttp import web
from pytest_aiohttp import AiohttpServer

APP_ID = "wx0fa4e0000000001"
APP_SECRET = "fake0secret0000000000000000000ab"
# Starts and ends like a JPEG (SOI … EOI); nothing in the bot decodes it.
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
IMAGE_MEDIA_ID = "MEDIA_IMAGE_0001"
TOKEN_EXPIRES_IN = 7200
FIRST_TEMPLATE_MSGID = 3_100_000_001
TOKEN_PATH = "/cgi-bin/stable_token"

# WeChat's own wording (without the " rid: …" suffix it appends).
ERRMSG = {
    -1: "system error",
    40001: "invalid credential, access_token is invalid or not latest",
    40002: "invalid grant_type",
    40003: "invalid openid",
    40007: "invalid media_id",
    40013: "invalid appid",
    40014: "invalid access_token",
    40016: "invalid button size",
    40023: "invalid sub button size",
    40033: "invalid charset. please check your request, if include \\uxxxx will create fail!",
    40037: "invalid template_id",
    40125: "invalid appsecret",
    41001: "access_token missing",
    42001: "access_token expired",
    43004: "require subscribe",
    44002: "empty post data",
    45002: "content size out of limit",
    45009: "reach max api daily quota limit",
    45015: "response out of time limit or subscription is canceled",
    45047: "out of response count limit",
    47001: "data format error",
    48001: "api unauthorized",
}

_ESCAPE = re.compile(rb"\\u[0-9a-fA-F]{4}")
_dumps = partial(json.dumps, ensure_ascii=False)


class _Refusal(Exception):
    """An error answer: the handler stops and WeChat's JSON error goes back."""

    def __init__(self, errcode: int) -> None:
        super().__init__(errcode)
        self.errcode = errcode


def _error(errcode: int, errmsg: str | None = None) -> web.Response:
    return web.json_response({"errcode": errcode, "errmsg": errmsg or ERRMSG.get(errcode, "")}, dumps=_dumps)


def _ok(**extra: Any) -> web.Response:
    return web.json_response({"errcode": 0, "errmsg": "ok", **extra}, dumps=_dumps)


@dataclass(frozen=True, slots=True)
class Call:
    method: str
    path: str
    query: dict[str, str]  # without access_token
    json: Any  # the decoded body; None when absent or not JSON
    body: bytes  # as received, to check the encoding


class FakeWeChat:
    """WeChat's API for one account (app_id, app_secret), with its state open to the test."""

    def __init__(self, app_id: str = APP_ID, app_secret: str = APP_SECRET) -> None:
        self.app_id = app_id
        self.app_secret = app_secret
        self.url = ""  # base URL, set once served
        self.calls: list[Call] = []
        self.sent_texts: list[tuple[str, str]] = []
        self.sent_templates: list[dict[str, Any]] = []
        self.menus: list[dict[str, Any]] = []
        self.media: dict[str, tuple[bytes, str]] = {IMAGE_MEDIA_ID: (JPEG, "image/jpeg")}
        self.issued_tokens: list[str] = []
        self._token: str | None = None  # the valid one; stable_token's normal mode hands it out again
        self._expired: set[str] = set()
        self._failures: defaultdict[str, deque[tuple[int, str | None]]] = defaultdict(deque)
        self._stalls: defaultdict[str, deque[float]] = defaultdict(deque)
        self._next_msgid = FIRST_TEMPLATE_MSGID

    # -- steering ------------------------------------------------------------------------
    def fail_next(self, path: str, errcode: int, errmsg: str | None = None, times: int = 1) -> None:
        """Answer the next `times` calls of `path` with this error instead of doing the work."""
        self._failures[path].extend([(errcode, errmsg)] * times)

    def stall_next(self, path: str, seconds: float, times: int = 1) -> None:
        """Hold the next `times` answers of `path` back, so a client's timeout runs out."""
        self._stalls[path].extend([seconds] * times)

    def expire_tokens(self) -> None:
        """Every token issued so far expires (42001); stable_token issues a new one."""
        self._expired.update(self.issued_tokens)
        self._token = None

    def calls_to(self, path: str) -> list[Call]:
        return [c for c in self.calls if c.path == path]

    @property
    def token_requests(self) -> int:
        return len(self.calls_to(TOKEN_PATH))

    # -- the server ------------------------------------------------------------------------
    def make_app(self) -> web.Application:
        app = web.Application(middlewares=[self._front])
        app.router.add_post(TOKEN_PATH, self._stable_token)
        app.router.add_post("/cgi-bin/message/custom/send", self._custom_send)
        app.router.add_post("/cgi-bin/message/template/send", self._template_send)
        app.router.add_post("/cgi-bin/menu/create", self._menu_create)
        app.router.add_get("/cgi-bin/media/get", self._media_get)
        return app

    @web.middleware
    async def _front(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        body = await request.read()
        try:
            decoded = json.loads(body) if body else None
        except ValueError:
            decoded = None
        query = {k: v for k, v in request.query.items() if k != "access_token"}
        self.calls.append(Call(request.method, request.path, query, decoded, body))
        if self._stalls[request.path]:
            await asyncio.sleep(self._stalls[request.path].popleft())
        if self._failures[request.path]:
            return _error(*self._failures[request.path].popleft())
        try:
            return await handler(request)
        except _Refusal as refusal:
            return _error(refusal.errcode)

    def _check_token(self, request: web.Request) -> None:
        token = request.query.get("access_token")
        if not token:
            raise _Refusal(41001)
        if token in self._expired:
            raise _Refusal(42001)
        if token != self._token:
            raise _Refusal(40001)

    @staticmethod
    async def _json(request: web.Request) -> dict[str, Any]:
        body = await request.read()
        if not body:
            raise _Refusal(44002)
        if _ESCAPE.search(body):
            raise _Refusal(40033)
        try:
            data = json.loads(body)
        except ValueError:
            raise _Refusal(47001) from None
        if not isinstance(data, dict):
            raise _Refusal(47001)
        return data

    async def _stable_token(self, request: web.Request) -> web.Response:
        data = await self._json(request)
        if data.get("grant_type") != "client_credential":
            raise _Refusal(40002)
        if data.get("appid") != self.app_id:
            raise _Refusal(40013)
        if data.get("secret") != self.app_secret:
            raise _Refusal(40125)
        if data.get("force_refresh") and self._token is not None:
            self._expired.add(self._token)
            self._token = None
        if self._token is None:
            self._token = secrets.token_urlsafe(96)
            self.issued_tokens.append(self._token)
        return web.json_response({"access_token": self._token, "expires_in": TOKEN_EXPIRES_IN})

    async def _custom_send(self, request: web.Request) -> web.Response:
        self._check_token(request)
        data = await self._json(request)
        if not data.get("touser"):
            raise _Refusal(40003)
        if data.get("msgtype") == "text":
            content = (data.get("text") or {}).get("content")
            if not isinstance(content, str):
                raise _Refusal(47001)
            if len(content.encode()) > 2048:
                raise _Refusal(45002)
            self.sent_texts.append((data["touser"], content))
        return _ok()

    async def _template_send(self, request: web.Request) -> web.Response:
        self._check_token(request)
        data = await self._json(request)
        if not data.get("touser"):
            raise _Refusal(40003)
        if not data.get("template_id"):
            raise _Refusal(40037)
        if not isinstance(data.get("data"), dict):
            raise _Refusal(47001)
        self.sent_templates.append(data)
        msgid, self._next_msgid = self._next_msgid, self._next_msgid + 1
        return _ok(msgid=msgid)

    async def _menu_create(self, request: web.Request) -> web.Response:
        self._check_token(request)
        data = await self._json(request)
        buttons = data.get("button")
        if not isinstance(buttons, list) or not 1 <= len(buttons) <= 3:
            raise _Refusal(40016)
        if any(len(b.get("sub_button") or []) > 5 for b in buttons):
            raise _Refusal(40023)
        self.menus.append(data)
        return _ok()

    async def _media_get(self, request: web.Request) -> web.Response:
        self._check_token(request)
        media_id = request.query.get("media_id", "")
        if media_id not in self.media:
            raise _Refusal(40007)
        content, content_type = self.media[media_id]
        disposition = f'attachment; filename="{media_id}.{content_type.rpartition("/")[2]}"'
        headers = {"Content-disposition": disposition}
        return web.Response(body=content, content_type=content_type, headers=headers)


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
