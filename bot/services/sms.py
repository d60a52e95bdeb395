"""SMS verification codes for the registration, login and recovery flows: sent, kept hashed, used once.

A code is kept under sms:code:{purpose}:{phone key} as an HMAC with a random id; the tries at it and
its use are counted under that id with the store's atomic operations, so the limits hold across
processes and a newer code for the same purpose and phone starts with a clean count.

A recovery code (忘记密码) is asked for by ID number, not by phone: it is kept, counted and
limited under the ID number (`send_for`), and sent to the phone of the account that has it, if
one has; with none, it is kept all the same and no code matches it. So whether an account has the
number shows in nothing a resident sees (the question, a wrong code, a limit, 重发): only in the
phone that receives the message.

Before a code is sent four limits are counted, in the state store (Redis in production, so they hold
across processes), each per purpose: a login code is never refused because registration codes were
asked for the same number, so nobody can stop someone else's login by registering with their phone.
  sms.max_numbers_per_user_per_hour  numbers one WeChat user has codes sent to
  sms.max_per_user_per_hour          codes one WeChat user has sent
  sms.max_per_phone_per_hour         codes sent to one number
  sms.max_per_minute                 codes sent by the whole service, every WeChat user's together
in that order, so what a WeChat user is refused for their own limits costs nobody else's. The
windows are clock hours and minutes, so a refusal can say when to try again.

In the store a phone number is only ever a keyed hash (the phone key); neither numbers nor codes are
logged, except by the log provider in development.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import math
import secrets
from datetime import datetime
from typing import NoReturn

import aiohttp

from bot.config import SmsConfig, SmsHttpConfig
from bot.metrics import Metrics
from bot.services.errors import Told
from bot.state.base import StateStore
from bot.text import mask_phone

log = logging.getLogger(__name__)

HOUR_S = 3600
MINUTE_S = 60

TOO_MANY_NUMBERS = "您这1小时内给太多手机号码发过验证码了，请在{minutes}分钟后再试。"
TOO_MANY_FOR_USER = "您获取验证码的次数太多了，请在{minutes}分钟后再试。"
TOO_MANY_FOR_PHONE = "这个手机号获取验证码的次数太多了，请在{minutes}分钟后再试。"
TOO_MANY_IDS = "您这1小时内用太多身份证号码获取过验证码了，请在{minutes}分钟后再试。"
TOO_MANY_FOR_ID = "这个身份证号码获取验证码的次数太多了，请在{minutes}分钟后再试。"
BUDGET_SPENT = "现在获取验证码的人太多了，请在1分钟后再试。"
SEND_FAILED = "短信发送失败，请稍后再试。"
EARLIER_KEPT = 3  # replaced codes recognised as such
NO_CODE = "验证码已过期，请回复「重发」获取新的验证码。"
WRONG_CODE = "验证码不正确，还可以再试{remaining}次。"
REPLACED_CODE = "这是之前一条短信的验证码，已经失效：请使用最新的一条短信里的验证码（还可以再试{remaining}次）。"
VOIDED = "验证码输错次数太多，已经失效，请回复「重发」获取新的验证码。"


class SmsError(Told):
    """The code was not sent or not accepted."""


class SmsLimitReached(SmsError):
    """An hourly limit: no code for this number, user or ID number until the time the message names."""


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
        metrics: Metrics,
    ) -> None:
        self._config = config
        self._store = store
        self._secret = secret
        # Its own subkey: a phone key must not be usable to forge a code's hash, nor the other way.
        self._phone_secret = hmac.new(secret, b"rb-sms-phone-keys", hashlib.sha256).digest()
        self._refused = metrics.sms_refusals_of
        self._provider: _LogProvider | _HttpProvider
        if config.provider == "http":
            self._provider = _HttpProvider(config.http, session, config.code_ttl_s)
        else:
            self._provider = _LogProvider(development)

    async def send(self, phone: str, purpose: str, *, openid: str, now: datetime) -> None:
        """Send a new code, replacing any earlier one for this purpose and phone, at the request of this
        WeChat user; SmsError if not sent (a limit reached, saying when to try again; the provider)."""
        await self._count(phone, purpose, openid, now)
        code = _new_code()
        if not await self._provider.send(phone, purpose, code):
            raise SmsError(SEND_FAILED)
        await self._keep(phone, purpose, self._hash(phone, purpose, code))

    async def send_for(self, subject: str, phone: str | None, purpose: str, *, openid: str, now: datetime) -> None:
        """A new code for `subject` (what the resident named: an ID number's lookup hash), sent to
        `phone`, or to nobody when there is none: counted, kept and refused alike either way, the
        limits per subject where `send` has them per phone. `verify(subject, …)` checks it. A failed
        send is not told (only an existing phone can fail): it is logged, and 「重发」 tries again."""
        await self._count(subject, purpose, openid, now, by_id=True)
        code = _new_code()
        if phone is None:
            kept = secrets.token_hex(32)  # the hash of no code: nothing typed matches it
        else:
            kept = self._hash(subject, purpose, code)
            if not await self._provider.send(phone, purpose, code):
                log.warning("SMS code for purpose %s not sent; the resident was not told", purpose)
        await self._keep(subject, purpose, kept)

    async def _keep(self, target: str, purpose: str, code_hash: str) -> None:
        key = self._code_key(target, purpose)
        before = await self._store.get(key)
        # The codes it replaces, kept only to tell someone who types one of them which message to use.
        earlier = [json.loads(before)["hash"], *json.loads(before).get("earlier", [])][:EARLIER_KEPT] if before else []
        record = {"id": secrets.token_hex(8), "hash": code_hash, "earlier": earlier}
        await self._store.set(key, json.dumps(record), self._config.code_ttl_s)

    async def verify(self, phone: str, purpose: str, code: str) -> None:
        """Accept the code once; SmsError says why it is refused (none, wrong, too many tries). `phone`
        is what the code was sent for: the phone, or `send_for`'s subject."""
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
        if self._hash(phone, purpose, code) in record.get("earlier", []):
            raise SmsError(REPLACED_CODE.format(remaining=limit - tries))
        raise SmsError(WRONG_CODE.format(remaining=limit - tries))

    async def _count(self, phone: str, purpose: str, openid: str, now: datetime, *, by_id: bool = False) -> None:
        """Count this send against every limit, refusing at the first one reached. `by_id`: the
        "phone" is an ID number's subject (`send_for`), and the refusals name ID numbers."""
        # Counted before sending, failures too: counting first is what keeps concurrent sends within the
        # limits, and a send that timed out may still have reached the phone, so it costs a message.
        config, store = self._config, self._store
        t = now.timestamp()
        hour, minute = int(t // HOUR_S), int(t // MINUTE_S)
        minutes = max(1, math.ceil(((hour + 1) * HOUR_S - t) / MINUTE_S))  # to the end of this hour
        phone_key = self._phone_key(phone)
        base = f"sms:{purpose}"
        too_many_numbers, too_many_for_one = (
            (TOO_MANY_IDS, TOO_MANY_FOR_ID) if by_id else (TOO_MANY_NUMBERS, TOO_MANY_FOR_PHONE)
        )
        if not await self._admit_number(f"{base}:numbers:{openid}:{hour}", phone_key):
            self._refuse(purpose, "numbers", too_many_numbers.format(minutes=minutes))
        if await store.incr(f"{base}:user:{openid}:{hour}", HOUR_S) > config.max_per_user_per_hour:
            self._refuse(purpose, "user", TOO_MANY_FOR_USER.format(minutes=minutes))
        if await store.incr(f"{base}:phone:{phone_key}:{hour}", HOUR_S) > config.max_per_phone_per_hour:
            self._refuse(purpose, "phone", too_many_for_one.format(minutes=minutes))
        if await store.incr(f"{base}:all:{minute}", MINUTE_S) > config.max_per_minute:
            self._refuse(purpose, "budget", BUDGET_SPENT)

    async def _admit_number(self, numbers: str, phone_key: str) -> bool:
        """Whether this number is one of the first max_numbers_per_user_per_hour this WeChat user asked
        codes for this hour. Each number keeps the place it was given (its rank), so a number refused
        stays refused all hour and one admitted stays admitted."""
        store, rank_key = self._store, f"{numbers}:{phone_key}"
        rank = await store.get(rank_key)
        if rank is None:
            new_rank = str(await store.incr(numbers, HOUR_S))
            # Only the first of two sends to one number at the same moment gives it its rank.
            rank = new_rank if await store.set(rank_key, new_rank, HOUR_S, only_new=True) else await store.get(rank_key)
        return rank is not None and int(rank) <= self._config.max_numbers_per_user_per_hour

    def _refuse(self, purpose: str, reason: str, message: str) -> NoReturn:
        self._refused(purpose, reason).inc()
        # The minute's budget for everyone passes at once; the hourly limits are worth ending a form for.
        raise SmsError(message) if reason == "budget" else SmsLimitReached(message)

    def _hash(self, phone: str, purpose: str, code: str) -> str:
        message = "\0".join((purpose, phone, code)).encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()

    def _phone_key(self, phone: str) -> str:
        """The number as the store knows it: a keyed hash, so no key names a phone number."""
        return hmac.new(self._phone_secret, phone.encode(), hashlib.sha256).hexdigest()[:32]

    def _code_key(self, phone: str, purpose: str) -> str:
        return f"sms:code:{purpose}:{self._phone_key(phone)}"


def _new_code() -> str:
    return f"{secrets.randbelow(10**6):06d}"
