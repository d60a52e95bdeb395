"""A person's records: residence registrations, social insurance, permits, talent and student status.

Records come from the bot (居住登记) and from other departments' imports, so they are keyed by
the person's ID number as a keyed hash (`person`, see bot/services/security.py), not by account: an
import needs no account. They are a person's, not an account's: an account reaches them only by
`Account.person`, set once its real-name verification passed (models/account.py).
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any

from tortoise import fields
from tortoise.models import Model


class Source(StrEnum):
    BOT = "bot"
    IMPORT = "import"


class ResidenceRegistration(Model):
    """A 居住登记: from move-in until a move-out is declared."""

    id = fields.IntField(primary_key=True)
    number = fields.CharField(max_length=32, unique=True)
    person = fields.CharField(max_length=64, db_index=True)
    name = fields.CharField(max_length=50)
    district = fields.CharField(max_length=20, default="")
    address = fields.CharField(max_length=200)
    house_code = fields.CharField(max_length=40, default="")
    housing_type = fields.CharField(max_length=10, default="")
    move_in_on = fields.DateField()
    declared_on = fields.DateField()
    move_out_on = fields.DateField(null=True)
    workplace = fields.CharField(max_length=100, default="")
    reason = fields.CharField(max_length=100, default="")
    emergency_phone = fields.CharField(max_length=11, default="")
    source = fields.CharEnumField(Source, max_length=10, default=Source.BOT)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "residence_registration"
        unique_together = (("person", "declared_on", "address"),)


class SocialInsuranceMonth(Model):
    """One month in which social insurance was paid in the zone (any of the five insurances)."""

    id = fields.BigIntField(primary_key=True)
    person = fields.CharField(max_length=64)
    month = fields.IntField()  # year * 12 + (month - 1): consecutive months are consecutive numbers
    employer = fields.CharField(max_length=100, default="")

    class Meta:
        table = "social_insurance_month"
        unique_together = (("person", "month"),)


class Permit(Model):
    """A 居住证, and where its endorsement cycle stands (RULES.md §4; models/permit_cycle.py).

    What happened to it is in its endorsements (models/endorsement.py). Two facts of that history
    are kept here too, written in the same transaction as the endorsement that changes them:
    `anchor_on`, from which its periods are counted (the issue date, or the date of the last late
    endorsement, 补办), and `last_endorsed_on`, the date of its latest endorsement: the permits
    import moves it forward in one statement per batch and then records the endorsement it
    reads into it (bot/imports/permits.py).
    """

    id = fields.IntField(primary_key=True)
    permit_no = fields.CharField(max_length=32, unique=True)
    person = fields.CharField(max_length=64, db_index=True)
    name = fields.CharField(max_length=50)
    issued_on = fields.DateField()
    anchor_on = fields.DateField()
    # The current period's deadline A_n: the reminder scan asks "whose deadline is one of these
    # days" of an index, not of every permit's history (bot/services/reminders.py).
    deadline_on = fields.DateField(db_index=True)
    last_endorsed_on = fields.DateField(null=True)
    source = fields.CharEnumField(Source, max_length=10, default=Source.IMPORT)

    class Meta:
        table = "permit"

    async def save(self, *args: Any, **kwargs: Any) -> None:
        if self.deadline_on is None:  # a new permit, nothing endorsed yet: its first period
            self.deadline_on = add_years(self.anchor_on, 1)
        await super().save(*args, **kwargs)


class TalentRecord(Model):
    """Certified under the zone's talent-introduction rules (route B)."""

    id = fields.IntField(primary_key=True)
    person = fields.CharField(max_length=64, db_index=True)
    name = fields.CharField(max_length=50)
    category = fields.CharField(max_length=50)
    certified_on = fields.DateField()

    class Meta:
        table = "talent_record"
        unique_together = (("person", "category"),)


class StudentRecord(Model):
    """Full-time secondary or higher (vocational) education in the zone (route C)."""

    id = fields.IntField(primary_key=True)
    person = fields.CharField(max_length=64, db_index=True)
    name = fields.CharField(max_length=50)
    school = fields.CharField(max_length=100)
    enrolled_on = fields.DateField()
    expected_graduation_on = fields.DateField()

    class Meta:
        table = "student_record"
        unique_together = (("person", "school", "enrolled_on"),)


def add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 Feb in a common year: the month's last day
        return day.replace(year=day.year + years, day=28)


def month_index(year: int, month: int) -> int:
    return year * 12 + (month - 1)


def month_of(index: int) -> tuple[int, int]:
    return divmod(index, 12)[0], index % 12 + 1
