"""Permit applications (申领, and 代办 by a unit), their lifecycle, and the rules on both.

An application is a person's (`person`, the keyed hash of models/records.py), made by an account:
the resident's own, or a unit account acting for its people. `open_for` holds the person while the
application is open and is unique, so the database itself refuses a second open application for
one person, however close two submits come. Its number is made from the row id (unique by
construction) and a check character, so a mistyped number is caught before any lookup.

The lifecycle (RULES.md "Rules as a state machine"): submitted → verifying → review →
approved | rejected → producing → ready → collected.
"""

from __future__ import annotations

from datetime import date, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from stdnum.iso7064 import mod_11_2
from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from models.account import Account, Unit


class ApplicationStatus(StrEnum):
    SUBMITTED = "submitted"
    VERIFYING = "verifying"
    REVIEW = "review"
    APPROVED = "approved"
    REJECTED = "rejected"
    PRODUCING = "producing"
    READY = "ready"
    COLLECTED = "collected"

    @property
    def label(self) -> str:
        return STATUS_LABELS[self]

    @property
    def is_open(self) -> bool:
        return self not in FINAL


STATUS_LABELS = {
    ApplicationStatus.SUBMITTED: "已受理",
    ApplicationStatus.VERIFYING: "部门核查中",
    ApplicationStatus.REVIEW: "公安审核中",
    ApplicationStatus.APPROVED: "审核通过",
    ApplicationStatus.REJECTED: "未通过",
    ApplicationStatus.PRODUCING: "制证中",
    ApplicationStatus.READY: "可领取",
    ApplicationStatus.COLLECTED: "已领取",
}
FINAL = frozenset({ApplicationStatus.REJECTED, ApplicationStatus.COLLECTED})
TRANSITIONS: dict[ApplicationStatus, frozenset[ApplicationStatus]] = {
    ApplicationStatus.SUBMITTED: frozenset({ApplicationStatus.VERIFYING}),
    ApplicationStatus.VERIFYING: frozenset({ApplicationStatus.REVIEW}),
    ApplicationStatus.REVIEW: frozenset({ApplicationStatus.APPROVED, ApplicationStatus.REJECTED}),
    ApplicationStatus.APPROVED: frozenset({ApplicationStatus.PRODUCING}),
    ApplicationStatus.PRODUCING: frozenset({ApplicationStatus.READY}),
    ApplicationStatus.READY: frozenset({ApplicationStatus.COLLECTED}),
    ApplicationStatus.REJECTED: frozenset(),
    ApplicationStatus.COLLECTED: frozenset(),
}


class ApplicationKind(StrEnum):
    PERSONAL = "personal"  # 申领: the resident applies
    UNIT = "unit"  # 代办: a unit applies for one of its people

    @property
    def label(self) -> str:
        return "居住证申领" if self is ApplicationKind.PERSONAL else "居住证申领（单位代办）"


class PermitApplication(Model):
    id = fields.IntField(primary_key=True)
    number = fields.CharField(max_length=24, unique=True, null=True)  # set right after the insert, from the id
    kind = fields.CharEnumField(ApplicationKind, max_length=10)
    person = fields.CharField(max_length=64, db_index=True)
    open_for = fields.CharField(max_length=64, unique=True, null=True)  # = person while open: one open each
    name = fields.CharField(max_length=50)
    id_number_masked = fields.CharField(max_length=18)
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="applications", on_delete=fields.RESTRICT
    )
    unit: fields.ForeignKeyNullableRelation[Unit] = fields.ForeignKeyField(
        "models.Unit", related_name="applications", null=True, on_delete=fields.RESTRICT
    )
    account_id: int
    unit_id: int | None
    photo_number = fields.CharField(max_length=30, default="")
    phone = fields.CharField(max_length=11, default="")
    registration_number = fields.CharField(max_length=32, default="")  # the 居住登记 it rests on
    # Where the card is collected; the point's facts as they were, since an import may replace points.
    point_name = fields.CharField(max_length=100)
    point_address = fields.CharField(max_length=200)
    point_hours = fields.CharField(max_length=100)
    point_phone = fields.CharField(max_length=40, default="")
    status = fields.CharEnumField(ApplicationStatus, max_length=12, default=ApplicationStatus.SUBMITTED)
    status_note = fields.CharField(max_length=200, default="")  # the reason of a rejection, an operator's word
    status_changed_at = fields.DatetimeField()
    accepted_on = fields.DateField()
    due_on = fields.DateField()  # the card is due by then: 15 working days after acceptance
    submission_id = fields.CharField(max_length=32, db_index=True)  # the confirmed form it came from
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "permit_application"


class ApplicationStatusChange(Model):
    """Every status an application went through, with who moved it and why."""

    id = fields.IntField(primary_key=True)
    application: fields.ForeignKeyRelation[PermitApplication] = fields.ForeignKeyField(
        "models.PermitApplication", related_name="changes", on_delete=fields.CASCADE
    )
    status = fields.CharEnumField(ApplicationStatus, max_length=12)
    note = fields.CharField(max_length=200, default="")
    changed_at = fields.DatetimeField()

    class Meta:
        table = "application_status_change"
        unique_together = (("application", "status"),)  # no status twice: the lifecycle only goes forward


# -- rules (pure) ---------------------------------------------------------------------------------

NUMBER_PREFIX = "JZ"


def application_number(accepted_on: date, row_id: int) -> str:
    """JZ + acceptance date + the row id in 8 digits + an ISO 7064 MOD 11-2 check character
    (0-9 or X, as on an ID card)."""
    body = f"{accepted_on:%Y%m%d}{row_id:08d}"
    return f"{NUMBER_PREFIX}{body}{mod_11_2.calc_check_digit(body)}"


def is_application_number(text: str) -> bool:
    """The shape and the check character of an application number (a typo fails here)."""
    text = text.strip().upper()
    body = text[len(NUMBER_PREFIX) :]
    return text.startswith(NUMBER_PREFIX) and len(body) >= 17 and mod_11_2.is_valid(body)


def allowed_next(status: ApplicationStatus) -> frozenset[ApplicationStatus]:
    return TRANSITIONS[status]


def add_working_days(start: date, days: int) -> date:
    """The date `days` working days after `start` (Monday to Friday; the day itself not counted,
    public holidays ignored: RULES.md worked example 9)."""
    day = start
    while days > 0:
        day += timedelta(days=1)
        if day.weekday() < 5:
            days -= 1
    return day


CARD_DUE_WORKING_DAYS = 15  # RULES.md §3: 3 + 2 + 2 + 5 + 3 working days after acceptance
