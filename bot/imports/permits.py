"""Residence permits (居住证) issued by the public security bureau, by permit number.

A later file may bring a newer endorsement date (签注); an empty or older one never undoes a known
date (the permit's `last_endorsed_on` only moves forward). Once the rows are written, every permit
whose `last_endorsed_on` is newer than its endorsements gets the endorsement it reads as
(models/permit_cycle.py `read_import`: in a window of its anchor, a regular endorsement of that
period; outside every window, a late one that re-anchors). So importing a file again adds nothing,
and a file's endorsement already recorded by the bot adds nothing either.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from bot.imports import fields
from bot.imports.engine import Kind, Table
from models import Endorsement, Source
from models.permit_cycle import deadline_after, read_import
from models.records import add_years
from models.rules import Rules

SETTLE_BATCH = 5_000


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
    # A new permit's cycle is anchored on its issue date, its first period ending a year later;
    # anchor_on and deadline_on are not among the updates: the endorsements settled below move them.
    anchor = row.issued_on
    return row.permit_no, person, row.name, row.issued_on, anchor, add_years(anchor, 1), row.last_endorsed_on


async def settle_endorsements(conn: BaseDBAsyncClient, rules: Rules) -> None:
    """Record the endorsement each permit's newer `last_endorsed_on` reads as, in batches by id."""
    postgres = conn.capabilities.dialect == "postgres"
    mark = "$1" if postgres else "?"
    # A permit is settled once an endorsement on or after its last_endorsed_on is on record; the
    # unique (permit_id, deadline) index finds its endorsements.
    sql = f"""
        SELECT p.id, p.anchor_on, p.last_endorsed_on,
               (SELECT max(e.deadline) FROM endorsement e WHERE e.permit_id = p.id) AS through
        FROM permit p
        WHERE p.id > {mark} AND p.last_endorsed_on IS NOT NULL
          AND NOT EXISTS (
              SELECT 1 FROM endorsement e WHERE e.permit_id = p.id AND e.endorsed_on >= p.last_endorsed_on
          )
        ORDER BY p.id LIMIT {SETTLE_BATCH}"""
    update = (
        "UPDATE permit SET anchor_on = $1, deadline_on = $2 WHERE id = $3"
        if postgres
        else "UPDATE permit SET anchor_on = ?, deadline_on = ? WHERE id = ?"
    )
    after = 0
    while rows := await conn.execute_query_dict(sql, [after]):
        added: list[Endorsement] = []
        moved: list[list[Any]] = []
        for row in rows:
            on = _day(row["last_endorsed_on"])
            through = _day(row["through"]) if row["through"] is not None else None
            reading = read_import(_day(row["anchor_on"]), through, on, rules)
            if reading is None:
                continue
            added.append(
                Endorsement(
                    permit_id=row["id"],
                    deadline=reading.deadline,
                    endorsed_on=on,
                    kind=reading.kind,
                    source=Source.IMPORT,
                )
            )
            dates: list[Any] = [reading.anchor, deadline_after(reading)]
            moved.append([*(dates if postgres else [d.isoformat() for d in dates]), row["id"]])
        await Endorsement.bulk_create(added, using_db=conn)
        if moved:
            await conn.execute_many(update, moved)  # the permit's cycle after what was settled
        after = rows[-1]["id"]


def _day(value: Any) -> date:
    """A DATE column as the driver returns it: a date from asyncpg, ISO text from SQLite."""
    return value if isinstance(value, date) else date.fromisoformat(value)


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
            ("anchor_on", "date"),
            ("deadline_on", "date"),
            ("last_endorsed_on", "date"),
        ),
        key=("permit_no",),
        updates=("last_endorsed_on",),
        forward_only=True,
        fixed={"source": "'import'"},
    ),
    record=record,
    then=settle_endorsements,
)
