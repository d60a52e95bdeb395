"""Residence registrations (居住登记) declared elsewhere, e.g. at a police station's counter.

A registration is the person's at an address declared on a day; a later file that adds the
move-out date ends it. A registration the bot took is matched the same way.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from bot.imports import fields
from bot.imports.engine import Kind, Table


@dataclass(frozen=True, slots=True)
class Row:
    id_number: str
    name: str
    address: str
    move_in_on: date
    declared_on: date
    move_out_on: date | None


def validate(cells: Sequence[str], today: date) -> Row | list[str]:
    id_number, name, address, move_in_on, declared_on, move_out_on = cells
    check = fields.Cells()
    row = Row(
        id_number=check("id_number", fields.id_number, id_number, today),
        name=check("name", fields.text, name, 50),
        address=check("address", fields.text, address, 200),
        move_in_on=check("move_in_on", fields.day, move_in_on, not_after=today),
        declared_on=check("declared_on", fields.day, declared_on, not_after=today),
        move_out_on=check("move_out_on", fields.optional_day, move_out_on, not_after=today),
    )
    if row.move_in_on and row.move_out_on and row.move_out_on < row.move_in_on:
        check.refuse("move_out_on", "早于 move_in_on")
    return check.reasons or row


def record(row: Row, person: str) -> tuple[object, ...]:
    number = registration_number(person, row)
    return number, person, row.name, row.address, row.move_in_on, row.declared_on, row.move_out_on


def registration_number(person: str, row: Row) -> str:
    """`IM` and a hash of the registration's key: the same row gets the same number on every import."""
    key = f"{person}|{row.declared_on.isoformat()}|{row.address}".encode()
    return "IM" + hashlib.sha256(key).hexdigest()[:20].upper()


KIND = Kind(
    name="residence",
    required=("id_number", "name", "address", "move_in_on", "declared_on"),
    optional=("move_out_on",),
    validate=validate,
    table=Table(
        name="residence_registration",
        columns=(
            ("number", "text"),
            ("person", "text"),
            ("name", "text"),
            ("address", "text"),
            ("move_in_on", "date"),
            ("declared_on", "date"),
            ("move_out_on", "date"),
        ),
        key=("person", "declared_on", "address"),
        updates=("move_out_on",),
        fixed={
            "district": "''",
            "house_code": "''",
            "housing_type": "''",
            "workplace": "''",
            "reason": "''",
            "emergency_phone": "''",
            "source": "'import'",
            "created_at": "CURRENT_TIMESTAMP",
        },
    ),
    record=record,
)
