"""A development stand-in for WeChat's API servers (api.weixin.qq.com). Never use it in production.

`DevWeChat` answers the endpoints the bot calls the way WeChat does (PROTOCOL.md §7–9), errors
included, and records every call. It is one implementation for two uses: `residence-bot dev-wechat`
serves it so that `make run` works on one machine with no WeChat account, and the tests' `fake_wechat`
fixture serves it on a free port and steers it (`fail_next`, `fail_http_next`, `stall_next`,
`hold_answers_next`, `expire_tokens`, `unfollow`).

Template messages (PROTOCOL.md §8.2) go only to followers (43004 "require subscribe" for anyone
`unfollow`ed), and one OpenID + `client_msg_id` is sent once within 10 minutes: WeChat documents
only that the repeat is not sent, so the stand-in answers it as the first (errcode 0, the first
msgid) and delivers nothing. `sent` holds what was delivered, and `calls` every request, so a
test can tell a message sent twice from a request repeated. Subscribe notifications (订阅通知,
§8.3, bizsend) go likewise, with no client_msg_id; once a test has called `subscribe(openid,
template_id)`, only the accepted (openid, template) pairs are sent and anyone else gets 43101.

Beyond what the bot calls it has WeChat's temporary-media upload, through which `residence-bot chat`
hands over the resident's photos (the bot then downloads them with media/get, as from WeChat), and
one endpoint of its own, GET /dev/messages?openid=X&after=N: the customer-service and template
messages (and subscribe notifications) sent to X after index N, and which running stand-in
numbered them, for the chat client to show. Everything is kept in memory, for one development
session.
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import time
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, Literal

from aiohttp import web

TOKEN_EXPIRES_IN = 7200
# One OpenID + client_msg_id is sent at most once within this time (PROTOCOL.md §8.2).
CLIENT_MSG_ID_WINDOW_S = 600
FIRST_TEMPLATE_MSGID = 3_100_000_001
TOKEN_PATH = "/cgi-bin/stable_token"
SEND_PATH = "/cgi-bin/message/custom/send"
TEMPLATE_PATH = "/cgi-bin/message/template/send"
SUBSCRIBE_PATH = "/cgi-bin/message/subscribe/bizsend"
MENU_PATH = "/cgi-bin/menu/create"
MEDIA_PATH = "/cgi-bin/media/get"
UPLOAD_PATH = "/cgi-bin/media/upload"
MESSAGES_PATH = "/dev/messages"

# WeChat's limit for a temporary image; a larger one is refused with 40009, not cut off.
IMAGE_LIMIT_BYTES = 10 * 1024 * 1024
# Request bodies up to twice the image limit reach the handler, so an image just over the limit
# gets WeChat's 40009 rather than the web server's 413.
_MAX_BODY_BYTES = 2 * IMAGE_LIMIT_BYTES
# The image formats WeChat takes for a temporary image, told apart by content as WeChat does.
_IMAGE_MAGIC = {b"\xff\xd8\xff": "image/jpeg", b"\x89PNG\r\n\x1a\n": "image/png", b"GIF8": "image/gif"}

# WeChat's own wording (without the " rid: …" suffix it appends).
ERRMSG = {
    -1: "system error",
    40001: "invalid credential, access_token is invalid or not latest",
    40002: "invalid grant_type",
    40003: "invalid openid",
    40004: "invalid media type",
    40005: "invalid file type",
    40007: "invalid media_id",
    40009: "invalid image size",
    40013: "invalid appid",
    40014: "invalid access_token",
    40016: "invalid button size",
    40023: "invalid sub button size",
    40033: "invalid charset. please check your request, if include \\uxxxx will create fail!",
    40037: "invalid template_id",
    40125: "invalid appsecret",
    41001: "access_token missing",
    41005: "media data missing",
    42001: "access_token expired",
    43004: "require subscribe",
    43101: "user refuse to accept the msg",
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


def _image_type(content: bytes) -> str | None:
    """The content type of a JPEG, PNG or GIF image; None for anything else."""
    return next((kind for magic, kind in _IMAGE_MAGIC.items() if content.startswith(magic)), None)


@dataclass(frozen=True, slots=True)
class Call:
    method: str
    path: str
    query: dict[str, str]  # without access_token
    json: Any  # the decoded body; None when absent, not JSON, or a multipart upload
    body: bytes  # as received, to check the encoding; empty for a multipart upload


@dataclass(frozen=True, slots=True)
class Sent:
    """A message the bot sent a resident through the API, as /dev/messages reports it."""

    index: int  # 1 for the first message sent, to anyone
    kind: Literal["custom", "template", "subscribe"]
    openid: str
    payload: dict[str, Any]  # the JSON the bot posted
    at: float  # when it was delivered, by the stand-in's clock

    def as_json(self) -> dict[str, Any]:
        return {"index": self.index, "kind": self.kind, "payload": self.payload}


class DevWeChat:
    """WeChat's API for one account (app_id, app_secret), with its state open to the caller."""

    def __init__(self, app_id: str, app_secret: str) -> None:
        self.app_id = app_id
        self.app_secret = app_secret
        self.url = ""  # base URL, set by whoever serves it
        # Told with every /dev/messages answer: a restarted stand-in numbers its messages from 1 again,
        # and a chat still open across the restart must know to start over.
        self.instance = secrets.token_hex(8)
        self.calls: list[Call] = []
        self.sent_texts: list[tuple[str, str]] = []
        self.sent_templates: list[dict[str, Any]] = []
        self.sent: list[Sent] = []  # customer-service and template messages, in the order accepted
        self.menus: list[dict[str, Any]] = []
        self.media: dict[str, tuple[bytes, str]] = {}
        self.issued_tokens: list[str] = []
        self._token: str | None = None  # the valid one; stable_token's normal mode hands it out again
        self._expired: set[str] = set()
        self._failures: defaultdict[str, deque[tuple[int, str | None]]] = defaultdict(deque)
        self._http_failures: defaultdict[str, deque[int]] = defaultdict(deque)
        self._stalls: defaultdict[str, deque[float]] = defaultdict(deque)
        self._holds: defaultdict[str, deque[float]] = defaultdict(deque)
        self._next_msgid = FIRST_TEMPLATE_MSGID
        self.unfollowed: set[str] = set()
        self.sent_subscribes: list[dict[str, Any]] = []
        # (openid, template_id) the user accepted a long-term subscription to (订阅通知); bizsend to
        # anyone else gets 43101. Empty: every user accepted every template (the development default).
        self.subscriptions: set[tuple[str, str]] = set()
        # (openid, client_msg_id) → (msgid, when first sent): a repeat within the window is not sent.
        self._client_msg_ids: dict[tuple[str, str], tuple[int, float]] = {}
        self.clock: Callable[[], float] = time.time  # tests move it on past the 10 minutes

    # -- steering ------------------------------------------------------------------------
    def fail_next(self, path: str, errcode: int, errmsg: str | None = None, times: int = 1) -> None:
        """Answer the next `times` calls of `path` with this error instead of doing the work."""
        self._failures[path].extend([(errcode, errmsg)] * times)

    def fail_http_next(self, path: str, status: int = 502, times: int = 1) -> None:
        """Answer the next `times` calls of `path` with this HTTP status (a gateway error), not JSON."""
        self._http_failures[path].extend([status] * times)

    def stall_next(self, path: str, seconds: float, times: int = 1) -> None:
        """Hold the next `times` requests of `path` back before doing their work, so a client's timeout
        runs out first; the work is still done then, as a server does whose client has gone."""
        self._stalls[path].extend([seconds] * times)

    def hold_answers_next(self, path: str, seconds: float, times: int = 1) -> None:
        """Do the work of the next `times` calls of `path` at once but hold their answers back: a
        client that times out (or dies) meanwhile cannot know that its message went out."""
        self._holds[path].extend([seconds] * times)

    def recover(self, path: str) -> None:
        """Forget the failures, stalls and held answers still queued for `path`: the end of a storm."""
        for queued in (self._failures, self._http_failures, self._stalls, self._holds):
            queued.pop(path, None)

    def unfollow(self, openid: str) -> None:
        """The user unfollowed the account: template messages to them get 43004."""
        self.unfollowed.add(openid)

    def subscribe(self, openid: str, template_id: str) -> None:
        """The user accepted this subscription template; from then on only accepted ones are sent."""
        self.subscriptions.add((openid, template_id))

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
        app = web.Application(middlewares=[self._front], client_max_size=_MAX_BODY_BYTES)
        app.router.add_post(TOKEN_PATH, self._stable_token)
        app.router.add_post(SEND_PATH, self._custom_send)
        app.router.add_post(TEMPLATE_PATH, self._template_send)
        app.router.add_post(SUBSCRIBE_PATH, self._subscribe_send)
        app.router.add_post(MENU_PATH, self._menu_create)
        app.router.add_get(MEDIA_PATH, self._media_get)
        app.router.add_post(UPLOAD_PATH, self._media_upload)
        app.router.add_get(MESSAGES_PATH, self._dev_messages)
        return app

    @web.middleware
    async def _front(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        if request.path == MESSAGES_PATH:
            # The stand-in's own endpoint, not WeChat's API: neither recorded nor steered.
            return await handler(request)
        if request.content_type == "multipart/form-data":
            # aiohttp parses a form only from the unread stream, so the upload handler reads it.
            body, decoded = b"", None
        else:
            body = await request.read()
            try:
                decoded = json.loads(body) if body else None
            except ValueError:
                decoded = None
        query = {k: v for k, v in request.query.items() if k != "access_token"}
        self.calls.append(Call(request.method, request.path, query, decoded, body))
        if self._stalls[request.path]:
            await asyncio.sleep(self._stalls[request.path].popleft())
        if self._http_failures[request.path]:
            status = self._http_failures[request.path].popleft()
            return web.Response(status=status, text="<html><body>Bad Gateway</body></html>", content_type="text/html")
        if self._failures[request.path]:
            return _error(*self._failures[request.path].popleft())
        try:
            response = await handler(request)
        except _Refusal as refusal:
            response = _error(refusal.errcode)
        if self._holds[request.path]:
            await asyncio.sleep(self._holds[request.path].popleft())
        return response

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

    def _deliver(self, kind: Literal["custom", "template", "subscribe"], payload: dict[str, Any]) -> None:
        self.sent.append(Sent(len(self.sent) + 1, kind, payload["touser"], payload, self.clock()))

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
        self._deliver("custom", data)
        return _ok()

    async def _notice(self, request: web.Request) -> dict[str, Any]:
        """A template message's or subscribe notification's body, refused as WeChat refuses it:
        no recipient, no template, no data, or a recipient who does not follow."""
        self._check_token(request)
        data = await self._json(request)
        if not data.get("touser"):
            raise _Refusal(40003)
        if not data.get("template_id"):
            raise _Refusal(40037)
        if not isinstance(data.get("data"), dict):
            raise _Refusal(47001)
        if data["touser"] in self.unfollowed:
            raise _Refusal(43004)
        return data

    async def _template_send(self, request: web.Request) -> web.Response:
        data = await self._notice(request)
        openid = data["touser"]
        now = self.clock()
        client_msg_id = data.get("client_msg_id")
        if client_msg_id:
            first = self._client_msg_ids.get((openid, client_msg_id))
            if first is not None and now - first[1] < CLIENT_MSG_ID_WINDOW_S:
                return _ok(msgid=first[0])  # a repeat: not sent again
        self.sent_templates.append(data)
        self._deliver("template", data)
        msgid, self._next_msgid = self._next_msgid, self._next_msgid + 1
        if client_msg_id:
            self._client_msg_ids[(openid, client_msg_id)] = (msgid, now)
        return _ok(msgid=msgid)

    async def _subscribe_send(self, request: web.Request) -> web.Response:
        """订阅通知 (PROTOCOL.md §8.3): like a template message, but only to a user who accepted the
        template (43101 otherwise), with `page` for the link, no client_msg_id and no msgid."""
        data = await self._notice(request)
        openid = data["touser"]
        if self.subscriptions and (openid, data["template_id"]) not in self.subscriptions:
            raise _Refusal(43101)
        self.sent_subscribes.append(data)
        self._deliver("subscribe", data)
        return _ok()

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

    async def _media_upload(self, request: web.Request) -> web.Response:
        """Temporary media, as WeChat's media/upload takes it: the file in the form field `media`."""
        self._check_token(request)
        # WeChat also takes voice, video and thumb; what is uploaded here is a resident's photo.
        if request.query.get("type") != "image":
            raise _Refusal(40004)
        form = await request.post()
        media = form.get("media")
        if not isinstance(media, web.FileField):
            raise _Refusal(41005)
        content = media.file.read()
        content_type = _image_type(content)
        if content_type is None:
            raise _Refusal(40005)
        if len(content) > IMAGE_LIMIT_BYTES:
            raise _Refusal(40009)
        media_id = secrets.token_urlsafe(48)  # 64 characters of [A-Za-z0-9_-], like WeChat's
        self.media[media_id] = (content, content_type)
        return web.json_response({"type": "image", "media_id": media_id, "created_at": int(time.time())})

    async def _dev_messages(self, request: web.Request) -> web.Response:
        """The messages sent to `openid` whose index is above `after` (0: all of them)."""
        openid = request.query.get("openid", "")
        after = request.query.get("after", "0")
        if not openid or not (after.isascii() and after.isdigit()):
            raise web.HTTPBadRequest(text="usage: GET /dev/messages?openid=OPENID&after=INDEX")
        messages = [m.as_json() for m in self.sent[int(after) :] if m.openid == openid]
        return web.json_response({"instance": self.instance, "messages": messages}, dumps=_dumps)
