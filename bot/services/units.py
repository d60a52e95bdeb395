"""Unit accounts (单位账号): opened only by an operator at an acceptance point (SPEC §4).

A unit may hold several accounts (an admin account plus sub-accounts, RULES.md §1): a second
account for a known USCC joins the existing unit. Every account starts with a random password
that the operator hands over once and that must be changed at the first login.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from bot.services.accounts import username_taken
from bot.services.errors import Told
from bot.services.security import hash_password
from conversations import parsers
from models.account import Account, AccountKind, Unit

log = logging.getLogger(__name__)

_NAME_MAX = 100  # Unit.name
_CONTACT_MAX = 50  # Account.name
# Letters and digits that cannot be misread when the operator writes or reads the password out.
_PASSWORD_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"
_PASSWORD_LENGTH = 12


class UnitError(Told):
    """The account cannot be created; the message names the field and says why, for the operator."""


async def create_unit_account(
    *, name: str, uscc: str, username: str, phone: str, contact_name: str | None = None
) -> tuple[Account, str]:
    """Create a unit account (and its unit, unless one with this USCC exists).

    Returns the account, with `unit` loaded, and its initial password in clear: the caller shows
    it once and never stores it.
    """
    unit_name = _field("name", parsers.non_empty, name, max_len=_NAME_MAX)
    code = _field("uscc", parsers.uscc, uscc)
    mobile = _field("phone", parsers.cn_mobile, phone)
    username = _field("username", parsers.username, username)
    if contact_name is not None:
        contact = _field("contact_name", parsers.non_empty, contact_name, max_len=_CONTACT_MAX)
    elif len(unit_name) <= _CONTACT_MAX:
        contact = unit_name
    else:
        raise UnitError(
            f"contact_name: required for a unit name over {_CONTACT_MAX} characters / 单位名称较长，请填写联系人姓名"
        )
    if await username_taken(username):
        raise UnitError("username: already taken / 用户名已被使用")

    password = new_password()
    password_hash = await hash_password(password)
    try:
        async with in_transaction() as conn:
            # A known USCC keeps the unit's registered name: the unit is the same whatever was typed.
            unit, _ = await Unit.get_or_create(defaults={"name": unit_name}, uscc=code, using_db=conn)
            account = await Account.create(
                kind=AccountKind.UNIT,
                unit=unit,
                username=username,
                password_hash=password_hash,
                must_change_password=True,
                phone=mobile,
                name=contact,
                using_db=conn,
            )
    except IntegrityError:
        # The username was taken between the check above and the insert.
        raise UnitError("username: already taken / 用户名已被使用") from None
    log.info("unit account %s created for unit %s (%s)", username, unit.id, unit.uscc)
    return account, password


def new_password() -> str:
    """A random initial password: 12 letters and digits, at least one of each."""
    while True:
        password = "".join(secrets.choice(_PASSWORD_ALPHABET) for _ in range(_PASSWORD_LENGTH))
        if any(c.isdigit() for c in password) and any(c.isalpha() for c in password):
            return password


def _field(field: str, parse: Callable[..., str], text: str, **kwargs: int) -> str:
    try:
        return parse(text, **kwargs)
    except parsers.Invalid as exc:
        raise UnitError(f"{field}: {exc.message}") from None
