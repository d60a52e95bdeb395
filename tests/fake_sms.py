"""A fake SMS gateway for tests (a pytest plugin).

`FakeSms` accepts POSTs of {"phone", "template", "params": {"code", "minutes"}}, refuses a malformed one
with 400, and records every well-formed message, those it is told to fail included: a real gateway may
deliver a message whose answer never arrives. The `fake_sms` fixture serves it on loopback at `.url`.
`redirect_next` answers with a redirect to ELSEWHERE, which takes whatever comes and answers 200: a
client that follows it shows there (`.elsewhere`).
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from typing import Any

import pytest
from aiohttp import web
from pytest_aiohttp import AiohttpServer

PATH = "/v1/sms/send"
ELSEWHERE = "/elsewhere"


class FakeSms:
    def __init__(self) -> None:
        self.url = ""  # set once served
        self.messages: list[dict[str, Any]] = []
        self._failures: deque[int] = deque()
        self._stalls: deque[float] = deque()
        self._redirects: deque[int] = deque()
        self.elsewhere: list[tuple[str, bytes]] = []  # (method, body) of requests that followed a redirect

    # -- steering ------------------------------------------------------------------------
    def fail_next(self, status: int = 500, times: int = 1) -> None:
        """Answer the next `times` messages with this status."""
        self._failures.extend([status] * times)

    def redirect_next(self, status: int = 302, times: int = 1) -> None:
        """Answer the next `times` messages with this redirect to ELSEWHERE."""
        self._redirects.extend([status] * times)

    def stall_next(self, seconds: float, times: int = 1) -> None:
        """Hold the next `times` answers back, so a client's timeout runs out."""
        self._stalls.extend([seconds] * times)

    def last_code(self, phone: str) -> str:
        """The code in the most recent message to this number."""
        for message in reversed(self.messages):
            if message["phone"] == phone:
                return message["params"]["code"]
        raise AssertionError(f"no SMS was sent to {phone}")

    # -- the server ------------------------------------------------------------------------
    def make_app(self) -> web.Application:
        app = web.Application()
        app.router.add_post(PATH, self._send)
        app.router.add_route("*", ELSEWHERE, self._elsewhere)
        return app

    async def _elsewhere(self, request: web.Request) -> web.Response:
        self.elsewhere.append((request.method, await request.read()))
        return web.json_response({"ok": True})

    async def _send(self, request: web.Request) -> web.Response:
        try:
            data = json.loads(await request.read())
        except ValueError:
            data = None
        if not _well_formed(data):
            return web.json_response({"error": "phone, template and params {code, minutes} are required"}, status=400)
        self.messages.append(data)
        if self._stalls:
            await asyncio.sleep(self._stalls.popleft())
        if self._failures:
            return web.json_response({"error": "gateway failure"}, status=self._failures.popleft())
        if self._redirects:
            return web.json_response(
                {"moved": ELSEWHERE}, status=self._redirects.popleft(), headers={"Location": ELSEWHERE}
            )
        return web.json_response({"ok": True})


def _well_formed(data: Any) -> bool:
    if not isinstance(data, dict) or not isinstance(data.get("params"), dict):
        return False
    params = data["params"]
    return (
        isinstance(data.get("phone"), str)
        and isinstance(data.get("template"), str)
        and isinstance(params.get("code"), str)
        and isinstance(params.get("minutes"), int)
    )


@pytest.fixture
async def fake_sms(aiohttp_server: AiohttpServer) -> FakeSms:
    fake = FakeSms()
    # No access log: the tests look for codes in the captured log, and it is not the bot's.
    server = await aiohttp_server(fake.make_app(), access_log=None)
    fake.url = str(server.make_url(PATH))
    return fake
