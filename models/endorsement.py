"""Endorsements (签注) of residence permits, as they happened: one row per permit and period.

An endorsement closes one period of its permit, named by that period's deadline A_n
(models/permit_cycle.py); `unique_together` makes one endorsement per permit and period the
database's to enforce, however close two 确认 come or however often a file is imported. A regular
endorsement is made in the window and keeps the permit's anchor; a late one (补办签注) is made while
its use is suspended, closes the period that lapsed, and restarts the cycle on its date
(`Permit.anchor_on`). `unit` is set when a unit endorsed for its people, `account` when the bot
recorded it for an account (the resident's own, or the unit's); an imported one has neither.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

from models.records import Source

if TYPE_CHECKING:
    from models.account import Account, Unit
    from models.records import Permit


class EndorsementKind(StrEnum):
    REGULAR = "regular"  # in the window
    LATE = "late"  # 补办签注: while suspended; the cycle restarts on its date

    @property
    def business(self) -> str:
        """The business as a receipt names it."""
        return "居住证签注" if self is EndorsementKind.REGULAR else "补办签注"


class Endorsement(Model):
    id = fields.IntField(primary_key=True)
    permit: fields.ForeignKeyRelation[Permit] = fields.ForeignKeyField(
        "models.Permit", related_name="endorsements", on_delete=fields.RESTRICT
    )
    deadline = fields.DateField()  # A_n of the period it closes
    endorsed_on = fields.DateField()
    kind = fields.CharEnumField(EndorsementKind, max_length=10)
    unit: fields.ForeignKeyNullableRelation[Unit] = fields.ForeignKeyField(
        "models.Unit", related_name="endorsements", null=True, on_delete=fields.RESTRICT
    )
    account: fields.ForeignKeyNullableRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="endorsements", null=True, on_delete=fields.RESTRICT
    )
    source = fields.CharEnumField(Source, max_length=10)
    created_at = fields.DatetimeField(auto_now_add=True)
    permit_id: int
    unit_id: int | None
    account_id: int | None

    class Meta:
        table = "endorsement"
        unique_together = (("permit", "deadline"),)
