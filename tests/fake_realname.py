"""A fake real-name verification service for tests (a pytest plugin).

`FakeRealname` answers POSTs of {"name", "id_number", "photo" (base64)} with {"verified", "reason"},
refuses a malformed request with 400 the way a real service would, and records every request; the
`fake_realname` fixture serves it on loopback at `.url`.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
from collections import deque
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp import web
from pytest_aiohttp import AiohttpServer

PATH = "/v1/realname/verify"


@dataclass(frozen=True, slots=True)
class Request:
    json: Any  # the decoded body; None when it was not JSON
    photo: bytes | None  # the photo field decoded from base64


class FakeRealname:
    def __init__(self) -> None:
        self.url = ""  # set once served
        self.requests: list[Request] = []
        self._answer: dict[str, Any] = {"verified": True, "reason": ""}
        self._failures: deque[tuple[int, str]] = deque()
        self._stalls: deque[float] = deque()

    # -- steering ------------------------------------------------------------------------
    def answer(self, verified: bool, reason: str = "") -> None:
        """The verdict for every request from now on."""
        self._answer = {"verified": verified, "reason": reason}

    def fail_next(self, status: int = 503, body: str = "") -> None:
        """Answer the next request with this status and body instead of a verdict."""
        self._failures.append((status, body))

    def malformed_next(self, body: str = "<html>busy</html>") -> None:
        """Answer the next request with 200 and a body that is not a verdict."""
        self._failures.append((200, body))

    def stall_next(self, seconds: float) -> None:
        """Hold the next answer back, so a client's timeout runs out."""
        self._stalls.append(seconds)

    # -- the server ------------------------------------------------------------------------
    def make_app(self) -> web.Application:
        app = web.Application()
        app.router.add_post(PATH, self._verify)
        return app

    async def _verify(self, request: web.Request) -> web.Response:
        try:
            data = json.loads(await request.read())
        except ValueError:
            data = None
        photo = _photo(data)
        self.requests.append(Request(data, photo))
        if self._stalls:
            await asyncio.sleep(self._stalls.popleft())
        if self._failures:
            status, body = self._failures.popleft()
            return web.Response(status=status, text=body)
        fields_ok = isinstance(data, dict) and all(isinstance(data.get(k), str) for k in ("name", "id_number"))
        if not fields_ok or not photo:
            return web.json_response({"error": "name, id_number and photo (base64) are required"}, status=400)
        return web.json_response(self._answer)


def _photo(data: Any) -> bytes | None:
    if not isinstance(data, dict) or not isinstance(data.get("photo"), str):
        return None
    try:
        return base64.b64decode(data["photo"], validate=True)
    except binascii.Error:
        return None


@pytest.fixture
async def fake_realname(aiohttp_server: AiohttpServer) -> FakeRealname:
    fake = FakeRealname()
    server = await aiohttp_server(fake.make_app(), access_log=None)
    fake.url = str(server.make_url(PATH))
    return fake
