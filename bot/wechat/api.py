"""The async WeChat API client (PROTOCOL.md §7–9).

One access_token serves every process: it comes from `stable_token` in normal mode, whose repeated
calls return the same token instead of invalidating the others' (wechatpy issues 334, 737), and
lives in the shared state store. One process at a time fetches it, under a short lock in the store.
A refused token is dropped, fetched again once and the call retried once; "system busy" and network
failures are retried a bounded number of times; every other WeChat error reaches the caller at once.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any

import aiohttp

from bot.config import WeChatConfig
from bot.state.base import StateStore

log = logging.getLogger(__name__)

TOKEN_KEY = "wechat:access_token"
REFRESH_LOCK_KEY = "wechat:token_refresh"
TOKEN_PATH = "/cgi-bin/stable_token"
SEND_PATH = "/cgi-bin/message/custom/send"
TEMPLATE_PATH = "/cgi-bin/message/template/send"
SUBSCRIBE_PATH = "/cgi-bin/message/subscribe/bizsend"
MENU_PATH = "/cgi-bin/menu/create"
MEDIA_PATH = "/cgi-bin/media/get"

BUSY = -1  # WeChat's "system busy"
NETWORK = -2  # ours: WeChat could not be reached or did not answer like WeChat

TOKEN_ERRORS = frozenset({40001, 40014, 42001})
TEXT_LIMIT_BYTES = 2048  # customer-service text (PROTOCOL.md §5.2, §11)
MEDIA_LIMIT_BYTES = 10 * 1024 * 1024  # WeChat keeps temporary images and videos up to 10 MB

_MAX_ATTEMPTS = 3  # per call, whatever the reason for retrying
_LOCK_TTL_S = 10.0
# The platform hands out the next token 5 minutes before the old one expires (PROTOCOL.md §7.2).
_TOKEN_MARGIN_S = 300
_TOKEN_MIN_TTL_S = 60
# Error bodies of media/get have been seen as text/plain as well as application/json.
_JSON_TYPES = frozenset({"application/json", "text/plain"})
_TOKEN_IN_URL = re.compile(r"access_token=[^&\s\"']*")
_CHUNK_BYTES = 64 * 1024


class WeChatAPIError(Exception):
    """WeChat answered with an errcode other than 0, or (errcode -2) could not be reached."""

    def __init__(self, errcode: int, errmsg: str, path: str = "") -> None:
        super().__init__(errcode, errmsg, path)
        self.errcode = errcode
        self.errmsg = errmsg
        self.path = path

    def __str__(self) -> str:
        prefix = f"{self.path}: " if self.path else ""
        return f"{prefix}{self.errcode} {self.errmsg}"


class MediaTooLarge(Exception):
    """A media download longer than the caller takes; reading stopped once past `limit` bytes."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"media/get: more than {limit} bytes")
        self.limit = limit


@dataclass(frozen=True, slots=True)
class _Reply:
    data: dict[str, Any]  # the decoded JSON; empty for a media download
    content: bytes
    content_type: str


def trim_utf8(text: str, limit: int) -> str:
    """The longest prefix of text that takes at most limit bytes in UTF-8."""
    data = text.encode()
    # Cutting the bytes can split the last character; "ignore" drops exactly that partial one.
    return text if len(data) <= limit else data[:limit].decode(errors="ignore")


def _notice(openid: str, template_id: str, data: dict[str, Any], link: tuple[str, str | None]) -> dict[str, Any]:
    """A template message's or subscribe notification's body; a plain keyword value is wrapped as
    {"value": …}, and the link goes under its key (url, page) when there is one."""
    payload: dict[str, Any] = {
        "touser": openid,
        "template_id": template_id,
        "data": {k: v if isinstance(v, dict) else {"value": v} for k, v in data.items()},
    }
    key, target = link
    if target is not None:
        payload[key] = target
    return payload


def _encode(payload: Any) -> bytes:
    # WeChat refuses JSON with \\u escapes (errcode 40033), so Chinese must go out as UTF-8.
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


class WeChatAPI:
    """Calls WeChat's HTTP API on behalf of one account, sharing its access_token through `cache`."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        base_url: str,
        app_id: str,
        app_secret: str,
        cache: StateStore,
        timeout_s: float = 5.0,
        retry_delay_s: float = 0.2,
    ) -> None:
        self._session = session
        self._base_url = base_url.rstrip("/")
        self._app_id = app_id
        self._app_secret = app_secret
        self._cache = cache
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._retry_delay_s = retry_delay_s
        self._refreshing: asyncio.Task[str] | None = None

    @classmethod
    def configured(cls, config: WeChatConfig, session: aiohttp.ClientSession, cache: StateStore) -> WeChatAPI | None:
        """The client config.yaml describes, or None while no AppSecret is set."""
        if not config.app_secret:
            return None
        return cls(
            session, base_url=config.api_base_url, app_id=config.app_id, app_secret=config.app_secret, cache=cache
        )

    # -- the API -------------------------------------------------------------------------
    async def call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """Call `path` with the access_token added; return WeChat's JSON answer.

        Raises WeChatAPIError for an errcode other than 0, or -2 when WeChat cannot be reached.
        """
        reply = await self._authorized(method, path, params, None if json is None else _encode(json))
        return reply.data

    async def send_text(self, openid: str, content: str) -> None:
        """A customer-service text message; content beyond 2048 UTF-8 bytes is cut off."""
        text = trim_utf8(content, TEXT_LIMIT_BYTES)
        if len(text) < len(content):
            log.warning("custom/send: text cut from %d to %d characters", len(content), len(text))
        payload = {"touser": openid, "msgtype": "text", "text": {"content": text}}
        await self.call("POST", SEND_PATH, json=payload)

    async def send_template(
        self,
        openid: str,
        template_id: str,
        data: dict[str, Any],
        url: str | None = None,
        client_msg_id: str | None = None,
    ) -> str:
        """A template message; returns WeChat's msgid, which TEMPLATESENDJOBFINISH reports back.

        `data` maps keywords to values; a plain value is wrapped as {"value": …}. WeChat sends one
        message per openid + client_msg_id within 10 minutes.
        """
        payload = _notice(openid, template_id, data, link=("url", url))
        if client_msg_id is not None:
            payload["client_msg_id"] = client_msg_id
        answer = await self.call("POST", TEMPLATE_PATH, json=payload)
        return str(answer.get("msgid", ""))

    async def send_subscribe(
        self, openid: str, template_id: str, data: dict[str, Any], page: str | None = None
    ) -> None:
        """A subscribe notification (订阅通知, PROTOCOL.md §8.3), to a user who accepted the template
        (43101 otherwise). It has no client_msg_id, so WeChat does not drop a repeat."""
        payload = _notice(openid, template_id, data, link=("page", page))
        await self.call("POST", SUBSCRIBE_PATH, json=payload)

    async def create_menu(self, menu: dict[str, Any]) -> None:
        await self.call("POST", MENU_PATH, json=menu)

    async def get_media(self, media_id: str, *, max_bytes: int = MEDIA_LIMIT_BYTES) -> tuple[bytes, str]:
        """Download temporary media: (content, content type), e.g. (b"\\xff\\xd8…", "image/jpeg").

        A video comes back as WeChat's JSON `{"video_url": …}` with its JSON content type. Raises
        MediaTooLarge for more than `max_bytes`: the download is read as it comes and dropped once
        past them, whatever its Content-Length says, if it says anything.
        """
        reply = await self._authorized("GET", MEDIA_PATH, {"media_id": media_id}, None, media_limit=max_bytes)
        return reply.content, reply.content_type

    # -- access_token ----------------------------------------------------------------------
    async def _authorized(
        self,
        method: str,
        path: str,
        params: dict[str, str] | None,
        body: bytes | None,
        *,
        media_limit: int | None = None,
    ) -> _Reply:
        token = await self._token()
        try:
            return await self._retrying(method, path, {**(params or {}), "access_token": token}, body, media_limit)
        except WeChatAPIError as exc:
            if exc.errcode not in TOKEN_ERRORS:
                raise
            log.warning("%s; fetching the access_token again and retrying once", exc)
        token = await self._token(refused=token)
        try:
            return await self._retrying(method, path, {**(params or {}), "access_token": token}, body, media_limit)
        except WeChatAPIError as exc:
            if exc.errcode in TOKEN_ERRORS:
                log.error(
                    "%s, also with a freshly fetched access_token: check the AppSecret, and that "
                    "nothing else calls force_refresh for this account",
                    exc,
                )
            raise

    async def _token(self, refused: str | None = None) -> str:
        """The shared access_token; `refused` is one WeChat just rejected, never to be used again."""
        cached = await self._cache.get(TOKEN_KEY)
        if cached and cached != refused:
            return cached
        if cached:
            await self._cache.delete(TOKEN_KEY)
        # Callers in this process share one refresh; shield keeps one caller's cancellation from
        # cancelling it for the others.
        if self._refreshing is None:
            self._refreshing = asyncio.create_task(self._refresh(refused))
            self._refreshing.add_done_callback(self._refresh_done)
        return await asyncio.shield(self._refreshing)

    def _refresh_done(self, task: asyncio.Task[str]) -> None:
        self._refreshing = None
        if not task.cancelled():
            task.exception()  # its callers see the failure; nobody awaiting must not mean "lost"

    async def _refresh(self, refused: str | None) -> str:
        """Fetch the token under the store's lock, or wait for the process holding it."""
        owner = secrets.token_hex(8)
        # A holder that died leaves the lock to expire; waiting past that lets this process take over.
        deadline = time.monotonic() + _LOCK_TTL_S + 1
        delay = 0.02
        while True:
            if await self._cache.set(REFRESH_LOCK_KEY, owner, ttl_s=_LOCK_TTL_S, only_new=True):
                try:
                    return await self._fetch_token(refused)
                finally:
                    # Not atomic: only if the lock expired mid-fetch could this drop another
                    # process's lock, which costs one extra (harmless) stable_token call.
                    if await self._cache.get(REFRESH_LOCK_KEY) == owner:
                        await self._cache.delete(REFRESH_LOCK_KEY)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.2)
            cached = await self._cache.get(TOKEN_KEY)
            if cached and cached != refused:
                return cached
            if time.monotonic() >= deadline:
                raise WeChatAPIError(
                    NETWORK, "network: another process did not finish fetching the access_token", TOKEN_PATH
                )

    async def _fetch_token(self, refused: str | None) -> str:
        cached = await self._cache.get(TOKEN_KEY)  # stored by a process that held the lock before us
        if cached and cached != refused:
            return cached
        body = _encode(
            {
                "grant_type": "client_credential",
                "appid": self._app_id,
                "secret": self._app_secret,
                "force_refresh": False,
            }
        )
        reply = await self._retrying("POST", TOKEN_PATH, None, body, None)
        token = reply.data.get("access_token")
        if not isinstance(token, str) or not token:
            raise WeChatAPIError(NETWORK, "network: stable_token answered without access_token", TOKEN_PATH)
        expires_in = int(reply.data.get("expires_in") or 0)
        ttl_s = max(_TOKEN_MIN_TTL_S, expires_in - _TOKEN_MARGIN_S)
        await self._cache.set(TOKEN_KEY, token, ttl_s=ttl_s)
        log.info("fetched an access_token valid for %d s; sharing it for %d s", expires_in, ttl_s)
        return token

    # -- one call, retried when WeChat is busy or unreachable --------------------------------
    async def _retrying(
        self, method: str, path: str, params: dict[str, str] | None, body: bytes | None, media_limit: int | None
    ) -> _Reply:
        attempt = 1
        network_retried = False
        while True:
            try:
                return await self._attempt(method, path, params, body, media_limit)
            except WeChatAPIError as exc:
                busy = exc.errcode == BUSY
                network = exc.errcode == NETWORK and not network_retried
                if attempt >= _MAX_ATTEMPTS or not (busy or network):
                    raise
                network_retried = network_retried or network
                log.warning("%s; retrying (attempt %d of at most %d)", exc, attempt + 1, _MAX_ATTEMPTS)
            await asyncio.sleep(self._retry_delay_s * attempt)
            attempt += 1

    async def _attempt(
        self, method: str, path: str, params: dict[str, str] | None, body: bytes | None, media_limit: int | None
    ) -> _Reply:
        """One request; `media_limit` (a media download) caps the body and lets it be other than JSON."""
        headers = {"Content-Type": "application/json; charset=utf-8"} if body is not None else None
        try:
            async with self._session.request(
                method,
                self._base_url + path,
                params=params,
                data=body,
                headers=headers,
                timeout=self._timeout,
            ) as response:
                status = response.status
                content_type = response.content_type
                if media_limit is None:
                    content = await response.read()
                else:
                    content = await _read_at_most(response, media_limit)
        except TimeoutError:
            raise WeChatAPIError(NETWORK, "network: timed out", path) from None
        except aiohttp.ClientError as exc:
            # `from None`: the cause may print the URL, access_token and all.
            detail = self._redact(f"{type(exc).__name__}: {exc}", params)
            raise WeChatAPIError(NETWORK, f"network: {detail}", path) from None
        if status != 200:
            raise WeChatAPIError(NETWORK, f"network: HTTP {status}", path)
        if media_limit is not None and content_type not in _JSON_TYPES:
            return _Reply({}, content, content_type)
        try:
            data = json.loads(content)
        except ValueError:
            data = None
        if not isinstance(data, dict):
            raise WeChatAPIError(NETWORK, f"network: the answer is not a JSON object ({content_type})", path)
        errcode = data.get("errcode") or 0
        if errcode != 0:
            raise WeChatAPIError(int(errcode), self._redact(str(data.get("errmsg", "")), params), path)
        return _Reply(data, content, content_type)

    def _redact(self, text: str, params: dict[str, str] | None) -> str:
        text = _TOKEN_IN_URL.sub("access_token=***", text)
        for secret in (self._app_secret, (params or {}).get("access_token")):
            if secret:
                text = text.replace(secret, "***")
        return text


async def _read_at_most(response: aiohttp.ClientResponse, limit: int) -> bytes:
    """The body, read in chunks; MediaTooLarge as soon as it is past `limit` bytes (leaving the
    `async with` then closes the connection, so the rest is never read)."""
    if response.content_length is not None and response.content_length > limit:
        raise MediaTooLarge(limit)
    content = bytearray()
    async for chunk in response.content.iter_chunked(_CHUNK_BYTES):
        content += chunk
        if len(content) > limit:
            raise MediaTooLarge(limit)
    return bytes(content)
