"""Unit accounts (单位账号): opened only by an operator at an acceptance point (SPEC §4).

A unit may hold several accounts (an admin account plus sub-accounts, RULES.md §1): a second
account for a known USCC joins the existing unit. Every account starts with a random password
that the operator hands over once and that must be changed at the first login. The operator's
entries are checked before they get here (bot/admin.py `unit_form`, for the admin API and the CLI).
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from bot.services.accounts import Accounts
from bot.services.errors import Told
from bot.services.security import hash_password
from models.account import Account, AccountKind, Unit

log = logging.getLogger(__name__)

# Letters and digits that cannot be misread when the operator writes or reads the password out.
_PASSWORD_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"
_PASSWORD_LENGTH = 12


class UnitError(Told):
    """The account cannot be created; the message names the field and says why, for the operator."""


@dataclass(frozen=True, slots=True)
class NewUnitAccount:
    """A unit account to open, every field checked: a USCC with a valid check character, a mobile number."""

    name: str
    uscc: str
    username: str
    phone: str
    contact_name: str


class Units:
    def __init__(self, accounts: Accounts) -> None:
        self._accounts = accounts

    async def open_account(self, new: NewUnitAccount) -> tuple[Account, str]:
        """Create a unit account (and its unit, unless one with this USCC exists).

        Returns the account, with `unit` loaded, and its initial password in clear: the caller shows
        it once and never stores it.
        """
        if await self._accounts.username_taken(new.username):
            raise UnitError("username: already taken / 用户名已被使用")
        password = new_password()
        password_hash = await hash_password(password)
        try:
            async with in_transaction() as conn:
                # A known USCC keeps the unit's registered name: the unit is the same whatever was typed.
                unit, _ = await Unit.get_or_create(defaults={"name": new.name}, uscc=new.uscc, using_db=conn)
                account = await Account.create(
                    kind=AccountKind.UNIT,
                    unit=unit,
                    username=new.username,
                    password_hash=password_hash,
                    must_change_password=True,
                    phone=new.phone,
                    name=new.contact_name,
                    using_db=conn,
                )
        except IntegrityError:
            # The username was taken between the check above and the insert.
            raise UnitError("username: already taken / 用户名已被使用") from None
        log.info("unit account %s created for unit %s (%s)", new.username, unit.id, unit.uscc)
        return account, password


def new_password() -> str:
    """A random initial password: 12 letters and digits, at least one of each."""
    while True:
        password = "".join(secrets.choice(_PASSWORD_ALPHABET) for _ in range(_PASSWORD_LENGTH))
        if any(c.isdigit() for c in password) and any(c.isalpha() for c in password):
            return password
