"""Residents made directly in the database, for tests of what comes after registration."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.config import AccountsConfig
from bot.services.accounts import Accounts
from bot.services.security import FieldCipher, hash_password
from models import Account
from tests.harness import FIELD_KEY


async def verified_account(openid: str, id_number: str, *, name: str = "张三", username: str | None = None) -> Account:
    """A personal account bound to `openid` and through real-name verification."""
    accounts = Accounts(AccountsConfig())
    account = await accounts.register_personal(
        openid=openid,
        name=name,
        id_number=FieldCipher(FIELD_KEY).protect_id(id_number),
        hukou_address="湖南省长沙市岳麓区麓山路1号",
        phone="13800138000",
        username=username or f"u{id_number[-8:]}",
        password_hash=await hash_password("mima2024ab"),
    )
    # Verified and so the holder of its ID number: refused when another account holds it already.
    assert await accounts.record_realname(account.id, method="local", photo="test.jpg", now=datetime.now(UTC))
    return await Account.get(id=account.id)


def person(id_number: str) -> str:
    return FieldCipher(FIELD_KEY).lookup_hash(id_number)
