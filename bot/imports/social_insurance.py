"""Social insurance months (社保缴纳记录): one row per person and month paid.

A month already on record stays as it is: the file says only that it was paid.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from bot.imports import fields
from bot.imports.engine import Kind, Table


@dataclass(frozen=True, slots=True)
class Row:
    id_number: str
    name: str
    month: int  # models.records.month_index
    employer: str


def validate(cells: Sequence[str], today: date) -> Row | list[str]:
    id_number, name, month, employer = cells
    check = fields.Cells()
    row = Row(
        id_number=check("id_number", fields.id_number, id_number, today),
        name=check("name", fields.text, name, 50),
        month=check("month", fields.month, month, today),
        employer=check("employer", fields.optional_text, employer, 100),
    )
    return check.reasons or row


def record(row: Row, person: str) -> tuple[object, ...]:
    return person, row.month, row.employer


KIND = Kind(
    name="social-insurance",
    required=("id_number", "name", "month", "employer"),
    validate=validate,
    table=Table(
        name="social_insurance_month",
        columns=(("person", "text"), ("month", "int"), ("employer", "text")),
        key=("person", "month"),
    ),
    record=record,
)
