"""Residence permits (居住证) issued by the public security bureau, by permit number.

A later file may bring a newer endorsement date (签注); an empty one never erases a known date.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from bot.imports import fields
from bot.imports.engine import Kind, Table


@dataclass(frozen=True, slots=True)
class Row:
    permit_no: str
    id_number: str
    name: str
    issued_on: date
    last_endorsed_on: date | None


def validate(cells: Sequence[str], today: date) -> Row | list[str]:
    permit_no, id_number, name, issued_on, last_endorsed_on = cells
    check = fields.Cells()
    row = Row(
        permit_no=check("permit_no", fields.text, permit_no, 32),
        id_number=check("id_number", fields.id_number, id_number, today),
        name=check("name", fields.text, name, 50),
        issued_on=check("issued_on", fields.day, issued_on, not_after=today),
        last_endorsed_on=check("last_endorsed_on", fields.optional_day, last_endorsed_on, not_after=today),
    )
    if row.issued_on and row.last_endorsed_on and row.last_endorsed_on < row.issued_on:
        check.refuse("last_endorsed_on", "早于 issued_on")
    return check.reasons or row


def record(row: Row, person: str) -> tuple[object, ...]:
    return row.permit_no, person, row.name, row.issued_on, row.last_endorsed_on


KIND = Kind(
    name="permits",
    required=("permit_no", "id_number", "name", "issued_on"),
    optional=("last_endorsed_on",),
    validate=validate,
    table=Table(
        name="permit",
        columns=(
            ("permit_no", "text"),
            ("person", "text"),
            ("name", "text"),
            ("issued_on", "date"),
            ("last_endorsed_on", "date"),
        ),
        key=("permit_no",),
        updates=("last_endorsed_on",),
        forward_only=True,
        fixed={"source": "'import'"},
    ),
    record=record,
)
