"""The import of a CSV file of records (SPEC §5): check every row, then write them, all or none.

Pass 1 reads the whole file and checks every row, keeping the first MAX_REPORTED bad rows and a
count; with any bad row and no `skip_bad`, nothing is written. Pass 2 reads the file again and
writes its good rows in batches, all in one transaction: a file is imported whole or not at all,
also when the import stops half-way (a database error, Ctrl-C, a crash). Both passes stream the
file and each batch is sent as it fills, so memory stays flat whatever its size (the database
holds the transaction's rows, not this process). Each pass hashes the bytes it reads; when pass 2
did not read what pass 1 checked (the file changed in between), the transaction is rolled back
and the file refused.

The one transaction holds SQLite's write lock for the whole of pass 2: the bot's own writes to
an embedded database wait for it (PostgreSQL locks only the rows written).

Writing is idempotent: each kind's table has a unique key, rows new to the table are inserted
with ON CONFLICT DO NOTHING, and the columns a later file may change are updated only where they
differ. So importing the same file again changes nothing. The SQL is raw (one statement per
batch on PostgreSQL, one executemany on SQLite): ORM objects per row would be many times slower
on a file of a million rows.
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from operator import itemgetter
from pathlib import Path
from typing import Any, TextIO

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from models.rules import Rules

# Rows per statement (PostgreSQL) or executemany (SQLite); a file's batches are one transaction.
BATCH_ROWS = 20_000
MAX_REPORTED = 1_000
PROGRESS_EVERY_S = 1.0


@dataclass(frozen=True, slots=True)
class Table:
    """Where a kind's rows go: its columns, its unique key, and what a later file may change."""

    name: str
    columns: tuple[tuple[str, str], ...]  # (column, PostgreSQL type) of each value a record carries
    key: tuple[str, ...]  # a unique constraint of the table
    updates: tuple[str, ...] = ()  # changed by a later file's value, unless that value is empty
    forward_only: bool = False  # the updates only ever move forward: an older file cannot undo a newer one
    fixed: Mapping[str, str] = field(default_factory=dict)  # column → SQL expression for every row


@dataclass(frozen=True, slots=True)
class Kind:
    """One kind of import: its CSV columns, its row check, and how a good row is written."""

    name: str  # as on the command line
    required: tuple[str, ...]
    validate: Callable[[Sequence[str], date], Any]  # cells in `columns` order → a row, or a list of reasons
    table: Table
    record: Callable[[Any, str], tuple[object, ...]]  # (row, person) → values in `table.columns` order
    optional: tuple[str, ...] = ()  # may be missing from the header; their cells are then ""
    # Run in the import's transaction once every row is written: records derived from them (a
    # permit's endorsements from its last_endorsed_on).
    then: Callable[[BaseDBAsyncClient, Rules], Awaitable[None]] | None = None

    @property
    def columns(self) -> tuple[str, ...]:
        return self.required + self.optional


class FileRefused(Exception):
    """The file cannot be imported at all (unreadable, not UTF-8, wrong header, changed while being
    imported); nothing was written."""


CHANGED = "文件在检查之后被改动了, 未导入任何记录: 请等文件写完后再导入"


@dataclass(frozen=True, slots=True)
class BadRow:
    line: int  # in the file as an editor numbers it, the header being line 1
    reason: str


@dataclass(slots=True)
class Report:
    kind: str
    rows: int = 0  # data rows read (blank lines are not rows)
    bad: int = 0
    bad_rows: list[BadRow] = field(default_factory=list)  # the first MAX_REPORTED of them
    inserted: int = 0
    updated: int = 0
    written: bool = False
    seconds: float = 0.0

    @property
    def unchanged(self) -> int:
        """Good rows already on record as they are (a repeated row in the file counts here too)."""
        return self.rows - self.bad - self.inserted - self.updated if self.written else 0

    def add_bad(self, line: int, reason: str) -> None:
        self.bad += 1
        if len(self.bad_rows) < MAX_REPORTED:
            self.bad_rows.append(BadRow(line, reason))

    def bad_lines(self) -> list[str]:
        lines = [f"第{row.line}行: {row.reason}" for row in self.bad_rows]
        if self.bad > len(self.bad_rows):
            lines.append(f"… 另有 {self.bad - len(self.bad_rows):,} 行有误, 未列出")
        return lines

    def summary(self) -> str:
        rate = f" in {self.seconds:.1f} s ({self.rows / self.seconds:,.0f} rows/s)" if self.seconds else ""
        return (
            f"{self.rows:,} rows read: {self.inserted:,} inserted, {self.updated:,} updated, "
            f"{self.unchanged:,} unchanged, {self.bad:,} bad rows skipped{rate}"
        )


async def import_file(
    kind: Kind,
    path: str | Path,
    *,
    lookup_hash: Callable[[str], str],
    today: date,
    rules: Rules,
    skip_bad: bool = False,
    progress: TextIO | None = None,
) -> Report:
    """Import the CSV file at `path`; `report.written` is False when bad rows refused it.

    `lookup_hash` makes `person` of an ID number (bot.services.security.FieldCipher.lookup_hash); `today`
    is Shenzhen's date, after which no event in the file may lie; `rules` read what the rows say.
    """
    started = time.monotonic()
    report = Report(kind.name)
    meter = _Meter(kind.name, "checked", progress)
    checked = hashlib.sha256()
    for line, cells in _read(kind, path, checked):
        report.rows += 1
        if isinstance(cells, str):
            report.add_bad(line, cells)
        elif isinstance(reasons := kind.validate(cells, today), list):
            report.add_bad(line, "; ".join(reasons))
        if not report.rows % 1024:
            meter.tick(report.rows)
    meter.done(report.rows)
    if report.bad and not skip_bad:
        return report

    # A person pays many months: hash each ID number once, within a bound that keeps memory flat.
    person = lru_cache(maxsize=1 << 16)(lookup_hash)
    written = hashlib.sha256()
    meter = _Meter(kind.name, "written", progress, total=report.rows - report.bad)
    # Leaving the block by an exception rolls every batch back.
    async with in_transaction() as conn:
        sink = _Sink(kind.table, report, meter, conn)
        try:
            for n, (_line, cells) in enumerate(_read(kind, path, written), start=1):
                if not n % 256:
                    # Checking rows never waits, so without this the batch being written could not
                    # send its next statement until the next batch is ready.
                    await asyncio.sleep(0)
                # The file was checked in pass 1; a row bad now is one that --skip-bad skips.
                if isinstance(cells, str) or isinstance(row := kind.validate(cells, today), list):
                    continue
                if sink.add(kind.record(row, person(row.id_number))):
                    await sink.send()
            await sink.send()
        finally:
            # The statement being run is let finish before the transaction ends either way.
            await sink.wait()
        if written.digest() != checked.digest():
            raise FileRefused(CHANGED)
        if kind.then is not None:
            await kind.then(conn, rules)
    sink.meter.done(sink.done)
    report.written = True
    report.seconds = time.monotonic() - started
    return report


def _read(kind: Kind, path: str | Path, digest: Any) -> Iterator[tuple[int, Sequence[str] | str]]:
    """(line number, the cells in `kind.columns` order or why the row cannot be read) per data row;
    every byte read also goes into `digest` (a hashlib object)."""
    try:
        # newline="": csv handles line ends itself, and quoted cells may hold line breaks.
        # utf-8-sig: Excel's "CSV UTF-8" starts with a byte-order mark.
        hashed = io.BufferedReader(_HashedFile(path, digest), buffer_size=1 << 16)
        with io.TextIOWrapper(hashed, encoding="utf-8-sig", newline="") as f:
            reader = csv.reader(f)
            try:
                header = next(reader, None)
                if header is None:
                    raise FileRefused("文件是空的, 第1行应是表头: " + ",".join(kind.columns))
                pick, width = _columns_of(kind, header)
                for raw in reader:
                    if not any(raw):
                        continue  # a blank line, or one of empty cells as Excel leaves below a table
                    if len(raw) != width:
                        yield reader.line_num, f"应有 {width} 列, 实有 {len(raw)} 列"
                        continue
                    # The extra cell is what a missing optional column reads as (see _columns_of).
                    raw.append("")
                    yield reader.line_num, pick(raw)
            except UnicodeDecodeError:
                raise FileRefused(
                    f"第{reader.line_num + 1}行附近: 文件不是 UTF-8 编码 (Excel: 另存为 “CSV UTF-8”)"
                ) from None
            except csv.Error as exc:
                raise FileRefused(f"第{reader.line_num}行: CSV 格式错误: {exc}") from None
    except OSError as exc:
        raise FileRefused(f"无法读取文件: {exc.strerror or exc}") from None


class _HashedFile(io.FileIO):
    """A file opened for reading whose bytes, as they are read, also go into `digest`."""

    def __init__(self, path: str | Path, digest: Any) -> None:
        super().__init__(path, "rb")
        self._digest = digest

    def readinto(self, buffer: Any) -> int:
        n = super().readinto(buffer)
        if n:
            self._digest.update(memoryview(buffer)[:n])
        return n

    def read(self, size: int | None = -1) -> bytes:
        data = super().read(size)
        if data:
            self._digest.update(data)
        return data

    def readall(self) -> bytes:
        data = super().readall()
        self._digest.update(data)
        return data


def _columns_of(kind: Kind, header: Sequence[str]) -> tuple[Callable[[list[str]], Sequence[str]], int]:
    """A getter of the kind's cells from a row of the file, and the row's width; or FileRefused."""
    names = [name.strip() for name in header]
    problems = [f"缺少 {name}" for name in kind.required if name not in names]
    problems += [f"多出 {name or '(空列名)'}" for name in names if name not in kind.columns]
    problems += [f"重复 {name}" for name in dict.fromkeys(names) if names.count(name) > 1]
    if problems:
        optional = f" (可选: {','.join(kind.optional)})" if kind.optional else ""
        raise FileRefused(f"表头应为 {','.join(kind.required)}{optional}: {'; '.join(problems)}")
    width = len(names)
    # A missing optional column picks index `width`: the empty cell _read appends to each row.
    return itemgetter(*(names.index(name) if name in names else width for name in kind.columns)), width


class _Sink:
    """Writes records in batches of BATCH_ROWS on `conn` (the import's transaction), counting into
    the report.

    A batch is written while the next one is being checked: the database and Python work at once.
    """

    def __init__(self, table: Table, report: Report, meter: _Meter, conn: BaseDBAsyncClient) -> None:
        self.table, self.report, self.meter, self.conn = table, report, meter, conn
        self.key = itemgetter(*(i for i, (column, _type) in enumerate(table.columns) if column in table.key))
        self.batch: list[tuple[object, ...]] = []
        self.writing: asyncio.Task[None] | None = None
        self.done = 0
        self.writer: _PostgresWriter | _SqliteWriter | None = None

    def add(self, record: tuple[object, ...]) -> bool:
        """Adds the record; True when the batch is full and should be sent."""
        self.batch.append(record)
        return len(self.batch) >= BATCH_ROWS

    async def send(self) -> None:
        """Starts writing the batch, once the batch before it is written."""
        await self.wait()
        if self.batch:
            self.writing = asyncio.create_task(self._write(self.batch))
            self.batch = []

    async def wait(self) -> None:
        writing, self.writing = self.writing, None
        if writing is not None:
            await writing
            self.meter.tick(self.done)

    async def _write(self, batch: list[tuple[object, ...]]) -> None:
        # Last one wins within a batch: PostgreSQL updates a row at most once per statement.
        records = list({self.key(record): record for record in batch}.values())
        if self.writer is None:
            postgres = self.conn.capabilities.dialect == "postgres"
            self.writer = _PostgresWriter(self.table) if postgres else _SqliteWriter(self.table)
        async with self.conn.acquire_connection() as raw:
            inserted, updated = await self.writer.write(raw, records)
        self.report.inserted += inserted
        self.report.updated += updated
        self.done += len(batch)


def _quoted(columns: Sequence[str]) -> str:
    return ", ".join(f'"{column}"' for column in columns)


class _PostgresWriter:
    """One statement per batch: each column is one array parameter, spread into rows by unnest."""

    def __init__(self, table: Table) -> None:
        columns = [column for column, _type in table.columns]
        arrays = ", ".join(f"${n}::{pg_type}[]" for n, (_column, pg_type) in enumerate(table.columns, start=1))
        source = f"unnest({arrays}) AS s({_quoted(columns)})"
        values = ", ".join([*(f's."{column}"' for column in columns), *table.fixed.values()])
        self.insert = (
            f'WITH added AS (INSERT INTO "{table.name}" ({_quoted([*columns, *table.fixed])}) '
            f"SELECT {values} FROM {source} ON CONFLICT ({_quoted(table.key)}) DO NOTHING RETURNING 1) "
            "SELECT count(*) FROM added"
        )
        self.update = ""
        if table.updates:
            change = {c: _changes(table, f's."{c}"', f't."{c}"') for c in table.updates}
            sets = ", ".join(f'"{c}" = CASE WHEN {change[c]} THEN s."{c}" ELSE t."{c}" END' for c in table.updates)
            same_key = " AND ".join(f't."{c}" = s."{c}"' for c in table.key)
            differs = " OR ".join(f"({change[c]})" for c in table.updates)
            self.update = (
                f'WITH changed AS (UPDATE "{table.name}" AS t SET {sets} FROM {source} '
                f"WHERE {same_key} AND ({differs}) RETURNING 1) SELECT count(*) FROM changed"
            )

    async def write(self, raw: Any, records: list[tuple[object, ...]]) -> tuple[int, int]:
        arrays = [list(values) for values in zip(*records, strict=True)]
        updated = await raw.fetchval(self.update, *arrays) if self.update else 0
        return await raw.fetchval(self.insert, *arrays), updated


def _changes(table: Table, new: str, old: str) -> str:
    """SQL true when the file's value should replace the stored one (an empty value never does)."""
    if table.forward_only:
        return f"{new} IS NOT NULL AND ({old} IS NULL OR {new} > {old})"
    return f"{new} IS NOT NULL AND ({old} IS NULL OR {old} <> {new})"


class _SqliteWriter:
    """executemany of one statement per record; SQLite counts the rows changed."""

    def __init__(self, table: Table) -> None:
        columns = [column for column, _type in table.columns]
        params = ", ".join([*(f"?{n}" for n in range(1, len(columns) + 1)), *table.fixed.values()])
        self.insert = (
            f'INSERT INTO "{table.name}" ({_quoted([*columns, *table.fixed])}) VALUES ({params}) '
            f"ON CONFLICT ({_quoted(table.key)}) DO NOTHING"
        )
        self.update = ""
        # The update binds only the key and the updated columns, in that order: SQLite wants
        # exactly as many values as the highest parameter number.
        bound = (*table.key, *table.updates)
        self.update_positions = [columns.index(column) for column in bound]
        if table.updates:
            number = {column: f"?{n}" for n, column in enumerate(bound, start=1)}
            change = {c: _changes(table, number[c], f'"{c}"') for c in table.updates}
            sets = ", ".join(f'"{c}" = CASE WHEN {change[c]} THEN {number[c]} ELSE "{c}" END' for c in table.updates)
            same_key = " AND ".join(f'"{c}" = {number[c]}' for c in table.key)
            differs = " OR ".join(f"({change[c]})" for c in table.updates)
            self.update = f'UPDATE "{table.name}" SET {sets} WHERE {same_key} AND ({differs})'

    async def write(self, raw: Any, records: list[tuple[object, ...]]) -> tuple[int, int]:
        updated = 0
        if self.update:
            before = raw.total_changes
            positions = self.update_positions
            await raw.executemany(self.update, [[record[i] for i in positions] for record in records])
            updated = raw.total_changes - before
        before = raw.total_changes
        await raw.executemany(self.insert, records)
        return raw.total_changes - before, updated


class _Meter:
    """Progress on stderr: a line at most every PROGRESS_EVERY_S, and one at the end, with rows/s."""

    def __init__(self, kind: str, verb: str, out: TextIO | None, total: int | None = None) -> None:
        self.kind, self.verb, self.out, self.total = kind, verb, out, total
        self.started = self.last = time.monotonic()

    def tick(self, done: int) -> None:
        now = time.monotonic()
        if self.out is not None and now - self.last >= PROGRESS_EVERY_S:
            self.last = now
            self._line(done, now)

    def done(self, done: int) -> None:
        if self.out is not None:
            self._line(done, time.monotonic())

    def _line(self, done: int, now: float) -> None:
        of = f" of {self.total:,}" if self.total is not None else ""
        rate = done / max(now - self.started, 1e-9)
        print(f"{self.kind}: {self.verb} {done:,}{of} rows ({rate:,.0f} rows/s)", file=self.out, flush=True)
