"""Accounts: personal (个人) and unit (单位), how they are bound to WeChat users, and their rules.

ID numbers are never stored in clear: `id_number_enc` holds them encrypted with
security.field_key and `id_number_hash` a keyed hash, so an account can be found by ID number
without decrypting every row (bot/services/security.py does both).

An ID number typed at 注册 is only a claim: anyone may type anyone's. An account owns its number
once it passes real-name verification, which sets `verified_id_hash`; that column is unique, so of
the accounts claiming a number (several may, none verified) the first to be verified holds it,
however close the race. Records imported from other departments are read by `person`, which is
that verified hash: an account that is not verified sees none. An unverified account whose number
another account holds has lost its claim for good (`verified_id_hash` is never cleared): it cannot
be verified with that number, and it is told so.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class AccountKind(StrEnum):
    PERSONAL = "personal"
    UNIT = "unit"


class Unit(Model):
    """A 单位 (employer or school): opened only at an acceptance point."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=100)
    uscc = fields.CharField(max_length=18, unique=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "unit"


class Account(Model):
    id = fields.IntField(primary_key=True)
    kind = fields.CharEnumField(AccountKind, max_length=10)
    username = fields.CharField(max_length=20, unique=True)
    password_hash = fields.CharField(max_length=200)
    must_change_password = fields.BooleanField(default=False)
    phone = fields.CharField(max_length=11)
    name = fields.CharField(max_length=50)  # the person's name; for a unit account, the contact's
    id_number_enc = fields.TextField(null=True)
    id_number_hash = fields.CharField(max_length=64, db_index=True, null=True)  # as registered: a claim
    verified_id_hash = fields.CharField(max_length=64, unique=True, null=True)  # held: set by real-name verification
    id_number_masked = fields.CharField(max_length=18, null=True)  # 4403**********1234, for display
    hukou_address = fields.CharField(max_length=200, null=True)
    unit: fields.ForeignKeyNullableRelation[Unit] = fields.ForeignKeyField(
        "models.Unit", related_name="accounts", null=True, on_delete=fields.RESTRICT
    )
    failed_logins = fields.IntField(default=0)
    locked_until = fields.DatetimeField(null=True)
    realname_verified_at = fields.DatetimeField(null=True)
    realname_method = fields.CharField(max_length=20, null=True)
    realname_photo = fields.CharField(max_length=300, null=True)
    reminders_enabled = fields.BooleanField(default=True)  # 提醒 turns endorsement reminders off and on
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "account"

    @property
    def realname_verified(self) -> bool:
        return self.realname_verified_at is not None and self.verified_id_hash is not None

    @property
    def person(self) -> str | None:
        """Whose records (keyed by `person` in models/records.py) this account may see and act on:
        the person real-name verification proved it to be; None until then."""
        return self.verified_id_hash if self.realname_verified else None


class Binding(Model):
    """The WeChat user an account is bound to now: one each way."""

    id = fields.IntField(primary_key=True)
    account: fields.OneToOneRelation[Account] = fields.OneToOneField(
        "models.Account", related_name="binding", on_delete=fields.CASCADE
    )
    openid = fields.CharField(max_length=64, unique=True)
    bound_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "binding"


class TrustedWeChatUser(Model):
    """A WeChat user that once proved the account's phone with an SMS code: no code next time."""

    id = fields.IntField(primary_key=True)
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="trusted", on_delete=fields.CASCADE
    )
    openid = fields.CharField(max_length=64)
    verified_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "trusted_wechat_user"
        unique_together = (("account", "openid"),)


# -- rules (pure) ---------------------------------------------------------------------------------


def lock_after_failure(failed_logins: int, now: datetime, *, max_wrong: int, lockout: timedelta) -> datetime | None:
    """When the account locks after this many wrong passwords in a row; None while below the limit."""
    return now + lockout if failed_logins >= max_wrong else None


def is_locked(locked_until: datetime | None, now: datetime) -> bool:
    return locked_until is not None and now < locked_until
