"""Real-name verification of a resident's ID card photo, and where those photos are kept.

`Realname` is the service the flow calls: it fetches the photo the resident sent from WeChat and
keeps it, and has it checked. Its parts: `RealnameChecker` asks the configured provider: "local"
(the embedded default) only checks that the photo is an image, the flow having already matched
name and ID number to the account; "http" asks a verification service and never turns its failure
into a success. `fetch_id_photo` downloads the photo the resident sent; `PhotoStore` keeps it on
disk, readable by the bot's user only.

Neither ID numbers nor photo bytes are logged here.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import aiohttp

from bot.config import RealnameConfig
from bot.services.errors import Told
from bot.wechat.api import MediaTooLarge, WeChatAPI, WeChatAPIError

log = logging.getLogger(__name__)

MAX_PHOTO_BYTES = 5 * 1024 * 1024
PHOTO_EXTENSIONS = {"image/jpeg": ".jpg", "image/png": ".png"}
MEDIA_EXPIRED = 40007  # WeChat: invalid media_id; temporary media lives 3 days

NOT_AN_IMAGE = "照片不是有效的图片，请重新拍摄身份证照片发送。"
UNAVAILABLE = "实名核验服务暂时不可用，请稍后再试。"
PHOTO_EXPIRED = "照片已过期，请重新发送。"
WRONG_FORMAT = "请以图片形式发送身份证照片（JPG 或 PNG 格式）。"
TOO_LARGE = "照片超过 5 MB，请压缩后或重新拍摄后发送。"
NO_WECHAT_API = "暂时无法接收照片（未配置微信接口），请稍后再试或到受理点办理。"

_JPEG_MAGIC = b"\xff\xd8\xff"
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


class RealnameUnavailable(Told):
    """The verification cannot be done now."""

    def __init__(self, message: str = UNAVAILABLE) -> None:
        super().__init__(message)


class PhotoRejected(Told):
    """The photo cannot be used; the message says what to send instead."""


@dataclass(frozen=True, slots=True)
class RealnameResult:
    verified: bool
    reason: str
    method: Literal["local", "http"]


def is_image(data: bytes) -> bool:
    """JPEG or PNG, by the magic bytes rather than by what the sender claims."""
    return data.startswith((_JPEG_MAGIC, _PNG_MAGIC))


class RealnameChecker:
    def __init__(self, config: RealnameConfig, session: aiohttp.ClientSession) -> None:
        self._config = config
        self._session = session
        self._timeout = aiohttp.ClientTimeout(total=config.http.timeout_s)

    async def verify(self, name: str, id_number: str, photo: bytes) -> RealnameResult:
        """The provider's verdict; raises RealnameUnavailable when the http provider gives none."""
        if self._config.provider == "http":
            return await self._verify_http(name, id_number, photo)
        if not is_image(photo):
            return RealnameResult(False, NOT_AN_IMAGE, "local")
        return RealnameResult(True, "", "local")

    async def _verify_http(self, name: str, id_number: str, photo: bytes) -> RealnameResult:
        payload = {"name": name, "id_number": id_number, "photo": base64.b64encode(photo).decode()}
        # No redirects: personal data goes to the configured URL only, and a redirect is a misconfiguration.
        request = self._session.post(self._config.http.url, json=payload, timeout=self._timeout, allow_redirects=False)
        try:
            async with request as response:
                status = response.status
                body = await response.read()
        except TimeoutError:
            log.warning("real-name service: no answer within %.1f s", self._config.http.timeout_s)
            raise RealnameUnavailable() from None
        except aiohttp.ClientError as exc:
            # Only the type: the message may carry the service URL and whatever key is in it.
            log.warning("real-name service: unreachable (%s)", type(exc).__name__)
            raise RealnameUnavailable() from None
        if not 200 <= status < 300:
            log.warning("real-name service: HTTP %d", status)
            raise RealnameUnavailable()
        try:
            answer = json.loads(body)
        except ValueError:
            answer = None
        verified = answer.get("verified") if isinstance(answer, dict) else None
        reason = answer.get("reason", "") if isinstance(answer, dict) else None
        if not isinstance(verified, bool) or not isinstance(reason, str):
            log.warning('real-name service: the answer is not {"verified": bool, "reason": str}')
            raise RealnameUnavailable()
        return RealnameResult(verified, reason, "http")


class PhotoStore:
    """ID card photos under `directory`, in one sub-directory per account, private to the bot's user."""

    def __init__(self, directory: Path) -> None:
        self._directory = Path(directory)

    async def save(self, account_id: int, data: bytes, content_type: str) -> str:
        """Write the photo; return its path relative to the directory, to be kept with the account."""
        extension = PHOTO_EXTENSIONS.get(content_type.lower())
        if extension is None:
            raise ValueError(f"not a photo type: {content_type}")
        # An unguessable name: a leaked directory listing or URL pattern must not lead to other photos.
        relative = f"{account_id}/{secrets.token_hex(16)}{extension}"
        await asyncio.to_thread(self._write, relative, data)
        return relative

    async def read(self, relative: str) -> bytes:
        return await asyncio.to_thread(self._path(relative).read_bytes)

    def _path(self, relative: str) -> Path:
        root = self._directory.resolve()
        path = (root / relative).resolve()
        if not path.is_relative_to(root) or path == root:
            raise ValueError("photo path outside the photo directory")
        return path

    def _write(self, relative: str, data: bytes) -> None:
        path = self._path(relative)
        for directory in (self._directory, path.parent):
            directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            # mkdir leaves an existing directory's mode alone, and the umask may have changed it.
            directory.chmod(0o700)
        # O_EXCL: never write through a file (or link) already there.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as file:
            file.write(data)


async def fetch_id_photo(api: WeChatAPI, media_id: str) -> tuple[bytes, str]:
    """The photo the resident sent, as (bytes, content type); PhotoRejected says what to send instead."""
    try:
        data, content_type = await api.get_media(media_id, max_bytes=MAX_PHOTO_BYTES)
    except MediaTooLarge:
        log.info("ID photo refused: more than %d bytes", MAX_PHOTO_BYTES)
        raise PhotoRejected(TOO_LARGE) from None
    except WeChatAPIError as exc:
        if exc.errcode == MEDIA_EXPIRED:
            raise PhotoRejected(PHOTO_EXPIRED) from None
        log.warning("ID photo download failed: %s", exc)
        raise RealnameUnavailable() from None
    content_type = content_type.lower()
    if content_type not in PHOTO_EXTENSIONS:
        log.info("ID photo refused: content type %s", content_type)
        raise PhotoRejected(WRONG_FORMAT)
    return data, content_type


class Realname:
    def __init__(self, config: RealnameConfig, session: aiohttp.ClientSession, wechat: WeChatAPI | None) -> None:
        self._checker = RealnameChecker(config, session)
        self._photos = PhotoStore(config.photo_dir)
        self._wechat = wechat  # None without wechat.app_secret: no photo can be fetched

    async def keep_photo(self, account_id: int, media_id: str) -> str:
        """Fetch the photo the resident sent and keep it; returns its path, to be kept with the account."""
        if self._wechat is None:
            raise RealnameUnavailable(NO_WECHAT_API)
        data, content_type = await fetch_id_photo(self._wechat, media_id)
        return await self._photos.save(account_id, data, content_type)

    async def verify(self, name: str, id_number: str, photo_path: str) -> RealnameResult:
        """The provider's verdict on the kept photo; raises RealnameUnavailable when it gives none."""
        return await self._checker.verify(name, id_number, await self._photos.read(photo_path))
