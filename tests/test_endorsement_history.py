"""A permit's endorsement history, stored: what the permits import and migration 7 make of a
`last_endorsed_on`, on SQLite and PostgreSQL."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest
from tortoise import Tortoise
from tortoise.exceptions import IntegrityError

from bot import db as bot_db
from bot.db import Database
from bot.imports import KINDS, Report, import_file
from models import Endorsement, EndorsementKind, Permit, Source
from models.rules import Rules
from tests.test_imports import CIPHER, A, B, person, write

D = date
HEADER = "permit_no,id_number,name,issued_on,last_endorsed_on"
ZHANG, LI = "440300202500001", "440300202500002"
REPOSITORY_MIGRATIONS = bot_db.MIGRATIONS_ROOT
CIVIL = Rules()
TODAY = D(2029, 1, 1)  # the day of the imports: every date of the files is before it


def migrations_up_to(last: int, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the repository's migrations for the database up to number `last`, put in use."""
    root = tmp_path / "migrations"
    dialect = bot_db.dialect_of(db_url)

    def later(directory: str, names: list[str]) -> set[str]:
        return {n for n in names if n == "__pycache__" or (n.split("_")[0].isdigit() and int(n.split("_")[0]) > last)}

    shutil.copytree(REPOSITORY_MIGRATIONS / dialect, root / dialect, ignore=later)
    monkeypatch.setattr(bot_db, "MIGRATIONS_ROOT", root)
    return root


async def history(permit_no: str) -> list[tuple[date, date, EndorsementKind]]:
    permit = await Permit.get(permit_no=permit_no)
    rows = await Endorsement.filter(permit=permit).order_by("deadline")
    return [(e.deadline, e.endorsed_on, e.kind) for e in rows]


async def anchor(permit_no: str) -> date:
    return (await Permit.get(permit_no=permit_no)).anchor_on


async def import_rows(tmp_path: Path, *rows: str, name: str = "permits.csv", rules: Rules = CIVIL) -> Report:
    path = write(tmp_path, [HEADER, *rows], name=name)
    report = await import_file(KINDS["permits"], path, lookup_hash=CIPHER.lookup_hash, today=TODAY, rules=rules)
    assert report.written, report.bad_lines()
    return report


async def test_a_new_permit_is_anchored_on_its_issue_date(db, tmp_path):
    await import_rows(tmp_path, f"{ZHANG},{A},张三,2025-03-10,")
    assert await anchor(ZHANG) == D(2025, 3, 10) and await history(ZHANG) == []


async def test_a_date_in_a_window_of_the_issue_date_is_a_regular_endorsement_of_that_period(db, tmp_path):
    await import_rows(tmp_path, f"{ZHANG},{A},张三,2025-03-10,2026-02-01")  # worked example 1
    assert await history(ZHANG) == [(D(2026, 3, 10), D(2026, 2, 1), EndorsementKind.REGULAR)]
    assert await anchor(ZHANG) == D(2025, 3, 10)
    endorsement = await Endorsement.get()
    assert (endorsement.source, endorsement.unit_id, endorsement.account_id) == (Source.IMPORT, None, None)


async def test_a_date_outside_every_window_is_a_late_endorsement_that_re_anchors(db, tmp_path):
    await import_rows(tmp_path, f"{ZHANG},{A},张三,2025-03-10,2026-07-15")  # worked example 4
    assert await history(ZHANG) == [(D(2026, 3, 10), D(2026, 7, 15), EndorsementKind.LATE)]
    assert await anchor(ZHANG) == D(2026, 7, 15)


async def test_a_regular_endorsement_after_a_late_one_keeps_the_late_anchor(db, tmp_path):
    await import_rows(tmp_path, f"{ZHANG},{A},张三,2025-03-10,2026-07-15", name="late.csv")
    # In the first window of the 补办's anchor (2027-05-17 … 2027-07-15), outside the issue date's.
    await import_rows(tmp_path, f"{ZHANG},{A},张三,2025-03-10,2027-06-01", name="regular.csv")
    assert await history(ZHANG) == [
        (D(2026, 3, 10), D(2026, 7, 15), EndorsementKind.LATE),
        (D(2027, 7, 15), D(2027, 6, 1), EndorsementKind.REGULAR),
    ]
    assert await anchor(ZHANG) == D(2026, 7, 15)


async def test_re_importing_a_file_changes_nothing(db, tmp_path):
    rows = (f"{ZHANG},{A},张三,2025-03-10,2026-07-15", f"{LI},{B},李四,2024-02-29,2025-02-28")
    await import_rows(tmp_path, *rows)
    before = (await history(ZHANG), await history(LI), await anchor(ZHANG), await anchor(LI))
    report = await import_rows(tmp_path, *rows)
    assert (report.inserted, report.updated, report.unchanged) == (0, 0, 2)
    assert (await history(ZHANG), await history(LI), await anchor(ZHANG), await anchor(LI)) == before
    assert await Endorsement.all().count() == 2


async def test_an_older_file_does_not_roll_back_a_newer_endorsement(db, tmp_path):
    await import_rows(tmp_path, f"{ZHANG},{A},张三,2025-03-10,2027-02-01", name="newer.csv")
    await import_rows(tmp_path, f"{ZHANG},{A},张三,2025-03-10,2026-02-01", name="older.csv")
    assert await history(ZHANG) == [(D(2027, 3, 10), D(2027, 2, 1), EndorsementKind.REGULAR)]
    assert (await Permit.get(permit_no=ZHANG)).last_endorsed_on == D(2027, 2, 1)


async def test_each_later_file_adds_the_next_period(db, tmp_path):
    for n, endorsed in enumerate(("2026-02-01", "2027-01-20", "2028-03-10"), 1):
        await import_rows(tmp_path, f"{LI},{B},李四,2025-03-10,{endorsed}", name=f"{n}.csv")
    assert [deadline for deadline, _, _ in await history(LI)] == [D(2026, 3, 10), D(2027, 3, 10), D(2028, 3, 10)]
    assert await anchor(LI) == D(2025, 3, 10)


async def test_a_period_the_bot_endorsed_already_gets_no_second_endorsement_from_a_file(db, tmp_path):
    await import_rows(tmp_path, f"{ZHANG},{A},张三,2025-03-10,", name="issued.csv")
    permit = await Permit.get(permit_no=ZHANG)
    await Endorsement.create(
        permit=permit, deadline=D(2026, 3, 10), endorsed_on=D(2026, 1, 20), kind=EndorsementKind.REGULAR,
        source=Source.BOT,
    )  # fmt: skip
    await Permit.filter(id=permit.id).update(last_endorsed_on=D(2026, 1, 20))
    await import_rows(tmp_path, f"{ZHANG},{A},张三,2025-03-10,2026-02-01", name="later.csv")
    assert await history(ZHANG) == [(D(2026, 3, 10), D(2026, 1, 20), EndorsementKind.REGULAR)]
    assert await anchor(ZHANG) == D(2025, 3, 10)


async def test_the_database_keeps_one_endorsement_per_permit_and_period(db, tmp_path):
    await import_rows(tmp_path, f"{ZHANG},{A},张三,2025-03-10,2026-02-01")
    with pytest.raises(IntegrityError):
        await Endorsement.create(
            permit=await Permit.get(permit_no=ZHANG), deadline=D(2026, 3, 10), endorsed_on=D(2026, 2, 2),
            kind=EndorsementKind.REGULAR, source=Source.BOT,
        )  # fmt: skip


async def test_the_import_reads_dates_by_the_configured_convention(db, tmp_path):
    # 2026-03-10 is the window's last day by the Civil Code reading, the day after it by the other.
    day_before = Rules(endorsement_convention="day_before")
    await import_rows(tmp_path, f"{ZHANG},{A},张三,2025-03-10,2026-03-10", rules=day_before)
    assert await history(ZHANG) == [(D(2026, 3, 10), D(2026, 3, 10), EndorsementKind.LATE)]
    assert await anchor(ZHANG) == D(2026, 3, 10)


async def test_migrations_7_and_8_derive_anchors_endorsements_and_deadlines_of_existing_permits(
    db_url, tmp_path, monkeypatch
):
    # The database as it was at migration 6, with permits on it; then migrations 7 and 8.
    root = migrations_up_to(6, db_url, tmp_path, monkeypatch)
    dialect = bot_db.dialect_of(db_url)
    await bot_db.migrate(db_url)
    async with Database(db_url):
        conn = Tortoise.get_connection(dialect)
        rows = [
            (ZHANG, person(A), "2025-03-10", "2026-02-01"),  # regular, anchor kept
            (LI, person(B), "2025-03-10", "2026-07-15"),  # late, re-anchors
            ("440300202500003", person(A), "2024-02-29", None),  # never endorsed
        ]
        for permit_no, who, issued, endorsed in rows:
            endorsed_sql = f"'{endorsed}'" if endorsed else "NULL"
            await conn.execute_script(
                'INSERT INTO "permit" ("permit_no", "person", "name", "issued_on", "last_endorsed_on", "source") '
                f"VALUES ('{permit_no}', '{who}', '张三', '{issued}', {endorsed_sql}, 'import')"
            )
    for number in ("7", "8"):  # 8 gives each permit its current deadline, from what 7 derived
        for migration in (REPOSITORY_MIGRATIONS / dialect / "models").glob(f"{number}_*"):
            shutil.copy(migration, root / dialect / "models")
    assert [name.split("_")[0] for name in await bot_db.migrate(db_url)] == ["7", "8"]
    async with Database(db_url):
        assert await history(ZHANG) == [(D(2026, 3, 10), D(2026, 2, 1), EndorsementKind.REGULAR)]
        assert await anchor(ZHANG) == D(2025, 3, 10)
        assert await history(LI) == [(D(2026, 3, 10), D(2026, 7, 15), EndorsementKind.LATE)]
        assert await anchor(LI) == D(2026, 7, 15)
        assert await history("440300202500003") == [] and await anchor("440300202500003") == D(2024, 2, 29)
        assert {e.source for e in await Endorsement.all()} == {Source.IMPORT}
        deadlines = dict(await Permit.all().values_list("permit_no", "deadline_on"))
        assert deadlines == {ZHANG: D(2027, 3, 10), LI: D(2027, 7, 15), "440300202500003": D(2025, 2, 28)}
