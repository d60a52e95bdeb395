"""Talent certifications (人才认定, route B): one per person and category.

A later file may correct the name or the certification date.
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
    category: str
    certified_on: date


def validate(cells: Sequence[str], today: date) -> Row | list[str]:
    id_number, name, category, certified_on = cells
    check = fields.Cells()
    row = Row(
        id_number=check("id_number", fields.id_number, id_number, today),
        name=check("name", fields.text, name, 50),
        category=check("category", fields.text, category, 50),
        certified_on=check("certified_on", fields.day, certified_on, not_after=today),
    )
    return check.reasons or row


def record(row: Row, person: str) -> tuple[object, ...]:
    return person, row.name, row.category, row.certified_on


KIND = Kind(
    name="talents",
    required=("id_number", "name", "category", "certified_on"),
    validate=validate,
    table=Table(
        name="talent_record",
        columns=(("person", "text"), ("name", "text"), ("category", "text"), ("certified_on", "date")),
        key=("person", "category"),
        updates=("name", "certified_on"),
    ),
    record=record,
)
