"""Password login (登录's password question), made to hold against guessing.

- `accounts.max_wrong_passwords` wrong passwords in a row lock the account for
  `accounts.lockout_minutes`. A try takes its place in the account's count before its password is
  checked, with one conditional UPDATE (`failed_logins < max`, atomic on SQLite and PostgreSQL
  alike), and no lock is held while argon2 works: of thirty guesses sent at once, from however
  many WeChat users and processes, five are checked and the rest refused as locked.
- A username with no account gets the very replies a wrong password gets, after the same argon2
  work (a dummy hash), counted and locked alike in the state store under a keyed hash of the name.
- One WeChat user gets `accounts.max_password_tries_per_user_per_minute` password checks a minute (a clock minute,
  counted in the state store, so across processes), and every check waits for a place in the
  password pool (bot/services/security.py): a flood of logins queues there, or is turned away,
  while everyone else's messages go on.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import cast

from tortoise.expressions import F

from bot.config import AccountsConfig
from bot.metrics import Metrics
from bot.services.accounts import AccountError
from bot.services.security import PasswordsBusy, verify_nothing, verify_password
from bot.state.base import StateStore
from models import Account, AccountKind, TrustedWeChatUser
from models.account import is_locked, lock_after_failure
from models.rules import SHENZHEN

NOBODY_TTL_S = 7 * 86400  # how long a name with no account keeps its count of wrong tries

WRONG = (
    "用户名或密码不对，还可以再试{remaining}次。请重新输入密码；用户名输错了请回复「返回」，"
    "忘记了密码请回复「忘记密码」。"
)


class AccountLocked(AccountError):
    """The account (or, alike, a name with none) is locked until the time the message says: no
    password is checked before then, so the login goes no further."""


LOCKED = "账号已锁定，请在{until:%H:%M}以后再试。"
LOCKED_NOW = "密码连续输错{max_wrong}次，" + LOCKED
TOO_OFTEN = "您输入密码太频繁了，请在1分钟后再试（这次不算输错）。"


@dataclass(frozen=True, slots=True)
class LoginCheck:
    account_id: int
    trusted: bool  # this WeChat user proved the phone before: no SMS code needed
    must_change_password: bool
    phone: str


class Logins:
    def __init__(self, config: AccountsConfig, store: StateStore, metrics: Metrics, *, secret: bytes) -> None:
        self._max_wrong = config.max_wrong_passwords
        self._lockout = timedelta(minutes=config.lockout_minutes)
        self._tries_per_minute = config.max_password_tries_per_user_per_minute
        self._store = store
        self._refused = metrics.login_refusals_of
        self._secret = secret

    async def check_password(
        self, *, username: str, password: str, kind: AccountKind, openid: str, now: datetime
    ) -> LoginCheck:
        """The account's login facts; AccountError (wrong, locked, too often, the other kind) says
        what to do, PasswordsBusy that the pool is full (the try not counted)."""
        account = await Account.get_or_none(username__iexact=username)
        try:
            if account is None:
                raise await self._nobody(username, password, openid, now)
            right = await self._check(account, password, openid, now)
        except PasswordsBusy:
            self._refused("busy").inc()
            raise
        if not right:
            raise await self._wrong(account, now)
        await Account.filter(id=account.id).update(failed_logins=0, locked_until=None)
        if account.kind != kind:
            other = "个人" if account.kind is AccountKind.PERSONAL else "单位"
            raise AccountError(f"这是{other}账号，请回复「返回」两次，选择「{other}」后再登录。")
        trusted = await TrustedWeChatUser.filter(account_id=account.id, openid=openid).exists()
        return LoginCheck(account.id, trusted, account.must_change_password, account.phone)

    async def _within_rate(self, openid: str, now: datetime) -> None:
        """Counted after the lock is looked at (a locked account costs nothing to refuse), before the try."""
        minute = int(now.timestamp() // 60)
        if await self._store.incr(f"login:user:{openid}:{minute}", 60) > self._tries_per_minute:
            self._refused("rate").inc()
            raise AccountError(TOO_OFTEN)

    # -- an account ------------------------------------------------------------------------------
    async def _check(self, account: Account, password: str, openid: str, now: datetime) -> bool:
        """Whether the password is right, its try counted first; AccountError when locked."""
        if is_locked(account.locked_until, now):
            raise self._locked(account.locked_until, now)
        await self._within_rate(openid, now)
        if account.locked_until is not None:
            # A lock that has run out: the first try to find it clears it and the count with it.
            # Matched on the time read, so a try that read it late cannot clear a newer lock.
            await Account.filter(id=account.id, locked_until=account.locked_until).update(
                failed_logins=0, locked_until=None
            )
        claimed = await Account.filter(id=account.id, failed_logins__lt=self._max_wrong).update(
            failed_logins=F("failed_logins") + 1
        )
        if not claimed:  # the last tries are being checked (or were, and locked it)
            fresh = await Account.get(id=account.id)
            raise self._locked(fresh.locked_until, now)
        try:
            return await verify_password(account.password_hash, password)
        except PasswordsBusy:  # not checked: not counted
            await Account.filter(id=account.id, failed_logins__gt=0).update(failed_logins=F("failed_logins") - 1)
            raise

    async def _wrong(self, account: Account, now: datetime) -> AccountError:
        # The count holds the tries still being checked too: an exact count when tries come one
        # at a time, and never less than the truth when they come together.
        failed = cast(int, await Account.get(id=account.id).values_list("failed_logins", flat=True))
        until = lock_after_failure(failed, now, max_wrong=self._max_wrong, lockout=self._lockout)
        if until is None:
            return AccountError(WRONG.format(remaining=self._max_wrong - failed))
        # Set once, by the first wrong try to find the count full; the count stays full while locked.
        until = until.astimezone(UTC)
        await Account.filter(id=account.id, failed_logins__gte=self._max_wrong, locked_until__isnull=True).update(
            locked_until=until
        )
        locked_until = cast(datetime | None, await Account.get(id=account.id).values_list("locked_until", flat=True))
        return AccountLocked(LOCKED_NOW.format(max_wrong=self._max_wrong, until=_local(locked_until or until)))

    # -- a name with no account --------------------------------------------------------------------
    async def _nobody(self, username: str, password: str, openid: str, now: datetime) -> AccountError:
        """What a wrong password for an account would get, after the same work, in the same order."""
        key = "login:nobody:" + hmac.new(self._secret, username.lower().encode(), hashlib.sha256).hexdigest()[:32]
        until = await self._store.get(key + ":until")
        if until is not None and now < datetime.fromisoformat(until):
            return self._locked(datetime.fromisoformat(until), now)
        await self._within_rate(openid, now)
        failed = await self._store.incr(key + ":tries", NOBODY_TTL_S)
        if failed > self._max_wrong:
            return self._locked(None, now)
        try:
            await verify_nothing(password)
        except PasswordsBusy:  # not counted, as for an account (a lost update at worst: only a likeness)
            await self._store.set(key + ":tries", str(failed - 1), NOBODY_TTL_S)
            raise
        if failed < self._max_wrong:
            return AccountError(WRONG.format(remaining=self._max_wrong - failed))
        locked_until = now + self._lockout
        await self._store.set(key + ":until", locked_until.isoformat(), self._lockout.total_seconds())
        await self._store.delete(key + ":tries")
        return AccountLocked(LOCKED_NOW.format(max_wrong=self._max_wrong, until=_local(locked_until)))

    def _locked(self, until: datetime | None, now: datetime) -> AccountLocked:
        # No time yet when the tries that lock it are still being checked: it will be about now.
        self._refused("locked").inc()
        return AccountLocked(LOCKED.format(until=_local(until or now + self._lockout)))


def _local(moment: datetime) -> datetime:
    return moment.astimezone(SHENZHEN)
