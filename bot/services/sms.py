"""SMS verification codes for the registration and login flows: sent, kept hashed, used once.

A code is kept under sms:code:{purpose}:{phone} as an HMAC with a random id; the tries at it and its
use are counted under that id with the store's atomic operations, so the limits hold across processes
and a newer code for the same purpose and phone starts with a clean count.

Neither phone numbers nor codes are logged, except by the log provider in development.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets

import aiohttp

from bot.config import SmsConfig, SmsHttpConfig
from bot.services.errors import Told
from bot.state.base import StateStore
from bot.text import mask_phone

log = logging.getLogger(__name__)

RATE_WINDOW_S = 3600

TOO_MANY_SENDS = "这个手机号获取验证码的次数太多了，请1小时后再试。"
SEND_FAILED = "短信发送失败，请稍后再试。"
NO_CODE = "验证码已过期，请回复「重发」获取新的验证码。"
WRONG_CODE = "验证码不正确，还可以再试{remaining}次。"
VOIDED = "验证码输错次数太多，已经失效，请回复「重发」获取新的验证码。"


class SmsError(Told):
    """The code was not sent or not accepted."""


class _LogProvider:
    """Sends nothing: the code goes to the log, for development (`make chat`)."""

    def __init__(self, development: bool) -> None:
        self._development = development

    async def send(self, phone: str, purpose: str, code: str) -> bool:
        if self._development:
            log.info("SMS code for purpose %s sent to %s: %s (development only)", purpose, mask_phone(phone), code)
        else:
            log.info("SMS code for purpose %s sent to %s", purpose, mask_phone(phone))
        return True


class _HttpProvider:
    def __init__(self, config: SmsHttpConfig, session: aiohttp.ClientSession, code_ttl_s: int) -> None:
        self._config = config
        self._session = session
        self._timeout = aiohttp.ClientTimeout(total=config.timeout_s)
        self._minutes = code_ttl_s // 60

    async def send(self, phone: str, purpose: str, code: str) -> bool:
        payload = {"phone": phone, "template": purpose, "params": {"code": code, "minutes": self._minutes}}
        # No redirects: the phone number and the code go to the configured URL only (a 307 would send
        # them on to wherever it points), and a redirect is a misconfiguration: a failed send.
        request = self._session.post(self._config.url, json=payload, timeout=self._timeout, allow_redirects=False)
        try:
            async with request as response:
                status = response.status
        except TimeoutError:
            log.warning("SMS to %s: no answer within %.1f s", mask_phone(phone), self._config.timeout_s)
            return False
        except aiohttp.ClientError as exc:
            # Only the type: the message may carry the provider URL and whatever key is in it.
            log.warning("SMS to %s: provider unreachable (%s)", mask_phone(phone), type(exc).__name__)
            return False
        if not 200 <= status < 300:
            log.warning("SMS to %s: provider answered HTTP %d", mask_phone(phone), status)
            return False
        log.info("SMS code for purpose %s sent to %s", purpose, mask_phone(phone))
        return True


class SmsCodes:
    def __init__(
        self,
        config: SmsConfig,
        store: StateStore,
        session: aiohttp.ClientSession,
        *,
        development: bool,
        secret: bytes,
    ) -> None:
        self._config = config
        self._store = store
        self._secret = secret
        self._provider: _LogProvider | _HttpProvider
        if config.provider == "http":
            self._provider = _HttpProvider(config.http, session, config.code_ttl_s)
        else:
            self._provider = _LogProvider(development)

    async def send(self, phone: str, purpose: str) -> None:
        """Send a new code, replacing any earlier one for this purpose and phone; SmsError if not sent."""
        # Counted before sending, failures too: counting first is what keeps concurrent sends within the
        # limit, and a send that timed out may still have reached the phone, so it costs the number a message.
        sent = await self._store.incr(f"sms:rate:{phone}", RATE_WINDOW_S)
        if sent > self._config.max_per_phone_per_hour:
            raise SmsError(TOO_MANY_SENDS)
        code = f"{secrets.randbelow(10**6):06d}"
        if not await self._provider.send(phone, purpose, code):
            raise SmsError(SEND_FAILED)
        record = {"id": secrets.token_hex(8), "hash": self._hash(phone, purpose, code)}
        await self._store.set(self._code_key(phone, purpose), json.dumps(record), self._config.code_ttl_s)

    async def verify(self, phone: str, purpose: str, code: str) -> None:
        """Accept the code once; SmsError says why it is refused (none, wrong, too many tries)."""
        key = self._code_key(phone, purpose)
        raw = await self._store.get(key)
        if raw is None:
            raise SmsError(NO_CODE)
        record = json.loads(raw)
        ttl_s = self._config.code_ttl_s
        # Every try is counted before the comparison, so concurrent guesses cannot exceed the limit.
        tries = await self._store.incr(f"sms:tries:{record['id']}", ttl_s)
        limit = self._config.max_wrong_entries
        # The deletes below only tidy up: the count and the claim are what refuse this code again.
        if tries > limit:
            await self._store.delete(key)
            raise SmsError(VOIDED)
        if hmac.compare_digest(record["hash"], self._hash(phone, purpose, code)):
            # Only one of concurrent right entries wins the claim; the others find the code used.
            if not await self._store.set(f"sms:used:{record['id']}", "1", ttl_s, only_new=True):
                raise SmsError(NO_CODE)
            await self._store.delete(key)
            return
        if tries == limit:
            await self._store.delete(key)
            raise SmsError(VOIDED)
        raise SmsError(WRONG_CODE.format(remaining=limit - tries))

    def _hash(self, phone: str, purpose: str, code: str) -> str:
        message = "\0".join((purpose, phone, code)).encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()

    @staticmethod
    def _code_key(phone: str, purpose: str) -> str:
        return f"sms:code:{purpose}:{phone}"
