"""Acceptance receipts (受理回执): what a resident is given when an application is accepted or an
endorsement made, opened through a signed link as a phone page and a PDF.

A receipt keeps the facts it states as they were on the day (`facts`), so the page and the PDF
say the same thing however the records change later; the application's status, which does
change, is read live for the page.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from models.account import Account
    from models.application import PermitApplication
    from models.endorsement import Endorsement


class Receipt(Model):
    id = fields.IntField(primary_key=True)
    number = fields.CharField(max_length=24, db_index=True)  # the business's number (an application's)
    business = fields.CharField(max_length=40)  # 居住证申领, 居住证申领（单位代办）, …
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="receipts", on_delete=fields.RESTRICT
    )
    application: fields.ForeignKeyNullableRelation[PermitApplication] = fields.ForeignKeyField(
        "models.PermitApplication", related_name="receipts", null=True, on_delete=fields.RESTRICT
    )
    endorsement: fields.ForeignKeyNullableRelation[Endorsement] = fields.ForeignKeyField(
        "models.Endorsement", related_name="receipts", null=True, on_delete=fields.RESTRICT
    )
    account_id: int
    application_id: int | None
    endorsement_id: int | None
    # An application's: name, id_number_masked, point {name, address, hours, phone}, accepted_on, due_on, bring [...]
    # An endorsement's: name, id_number_masked, permit_no, business, endorsed_on, window_opens, window_closes
    facts: fields.JSONField[dict[str, Any]] = fields.JSONField()
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "receipt"
