"""Full-time students (在校学生, route C): one per person, school and enrolment date.

A later file may correct the name or the expected graduation date.
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
    school: str
    enrolled_on: date
    expected_graduation_on: date


def validate(cells: Sequence[str], today: date) -> Row | list[str]:
    id_number, name, school, enrolled_on, expected_graduation_on = cells
    check = fields.Cells()
    row = Row(
        id_number=check("id_number", fields.id_number, id_number, today),
        name=check("name", fields.text, name, 50),
        school=check("school", fields.text, school, 100),
        enrolled_on=check("enrolled_on", fields.day, enrolled_on),
        expected_graduation_on=check("expected_graduation_on", fields.day, expected_graduation_on),
    )
    if row.enrolled_on and row.expected_graduation_on and row.expected_graduation_on <= row.enrolled_on:
        check.refuse("expected_graduation_on", "应晚于 enrolled_on")
    return check.reasons or row


def record(row: Row, person: str) -> tuple[object, ...]:
    return person, row.name, row.school, row.enrolled_on, row.expected_graduation_on


KIND = Kind(
    name="students",
    required=("id_number", "name", "school", "enrolled_on", "expected_graduation_on"),
    validate=validate,
    table=Table(
        name="student_record",
        columns=(
            ("person", "text"),
            ("name", "text"),
            ("school", "text"),
            ("enrolled_on", "date"),
            ("expected_graduation_on", "date"),
        ),
        key=("person", "school", "enrolled_on"),
        updates=("name", "expected_graduation_on"),
    ),
    record=record,
)
