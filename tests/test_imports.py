"""Record imports (SPEC §5): every row checked, bad rows by line number, all-or-nothing, idempotent."""

from __future__ import annotations

import base64
import io
import re
from datetime import date
from pathlib import Path

import pytest
from stdnum.cn import ric

from bot.cli import RECORD_IMPORTS
from bot.imports import KINDS, FileRefused, Report, engine, import_file, residence
from bot.services.security import FieldCipher
from models import Permit, ResidenceRegistration, SocialInsuranceMonth, Source, StudentRecord, TalentRecord
from models.records import month_index
from models.rules import Rules
from tests.processes import bot_env, run_cli

TODAY = date(2025, 6, 30)
CIPHER = FieldCipher(base64.urlsafe_b64encode(b"imports-test-key-of-32-bytes-!!!").decode())


def id_number(n: int) -> str:
    """A valid ID number, a different one for each n (born n days after 1990-01-01)."""
    born = date.fromordinal(date(1990, 1, 1).toordinal() + n)
    body = f"440305{born:%Y%m%d}001"
    return body + ric.calc_check_digit(body + "0")


A, B, C = id_number(0), id_number(1), id_number(2)
BAD_CHECK_DIGIT = A[:17] + ("0" if A[17] != "0" else "1")


def person(number: str) -> str:
    return CIPHER.lookup_hash(number)


def write(tmp_path: Path, lines: list[str], *, name: str = "records.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    return path


async def run(kind: str, path: Path, *, skip_bad: bool = False, progress: io.StringIO | None = None) -> Report:
    return await import_file(
        KINDS[kind],
        path,
        lookup_hash=CIPHER.lookup_hash,
        today=TODAY,
        rules=Rules(),
        skip_bad=skip_bad,
        progress=progress,
    )


def counts(report: Report) -> tuple[int, int, int, int, int]:
    return report.rows, report.inserted, report.updated, report.unchanged, report.bad


def bad(report: Report) -> list[tuple[int, str]]:
    return [(row.line, row.reason) for row in report.bad_rows]


# A good file of each kind, and what its rows become.
GOOD = {
    "social-insurance": [
        "id_number,name,month,employer",
        f"{A},张三,2025-04,深圳市甲科技有限公司",
        f"{A},张三,2025-05,深圳市甲科技有限公司",
        f"{B},李四,2024-12,",
    ],
    "residence": [
        "id_number,name,address,move_in_on,declared_on,move_out_on",
        f"{A},张三,南山区科苑路1号,2024-03-01,2024-03-05,2025-01-31",
        f"{A},张三,福田区福华路2号,2025-02-01,2025/2/3,",
    ],
    "permits": [
        "permit_no,id_number,name,issued_on,last_endorsed_on",
        f"440300202400001,{A},张三,2024-03-10,2025-03-01",
        f"440300202400002,{B},李四,2024-05-20,",
    ],
    "talents": [
        "id_number,name,category,certified_on",
        f"{A},张三,高层次人才,2023-07-01",
        f"{A},张三,紧缺专业人才,2024-01-15",
    ],
    "students": [
        "id_number,name,school,enrolled_on,expected_graduation_on",
        f"{C},王五,深圳大学,2022-09-01,2026-06-30",
    ],
}


async def stored(kind: str) -> set[tuple]:
    """The kind's table as comparable tuples."""
    if kind == "social-insurance":
        return set(await SocialInsuranceMonth.all().values_list("person", "month", "employer"))
    if kind == "residence":
        fields = ("person", "name", "address", "move_in_on", "declared_on", "move_out_on", "source")
        return set(await ResidenceRegistration.all().values_list(*fields))
    if kind == "permits":
        return set(await Permit.all().values_list("permit_no", "person", "name", "issued_on", "last_endorsed_on"))
    if kind == "talents":
        return set(await TalentRecord.all().values_list("person", "name", "category", "certified_on"))
    return set(
        await StudentRecord.all().values_list("person", "name", "school", "enrolled_on", "expected_graduation_on")
    )


EXPECTED = {
    "social-insurance": {
        (person(A), month_index(2025, 4), "深圳市甲科技有限公司"),
        (person(A), month_index(2025, 5), "深圳市甲科技有限公司"),
        (person(B), month_index(2024, 12), ""),
    },
    "residence": {
        (person(A), "张三", "南山区科苑路1号", date(2024, 3, 1), date(2024, 3, 5), date(2025, 1, 31), Source.IMPORT),
        (person(A), "张三", "福田区福华路2号", date(2025, 2, 1), date(2025, 2, 3), None, Source.IMPORT),
    },
    "permits": {
        ("440300202400001", person(A), "张三", date(2024, 3, 10), date(2025, 3, 1)),
        ("440300202400002", person(B), "李四", date(2024, 5, 20), None),
    },
    "talents": {
        (person(A), "张三", "高层次人才", date(2023, 7, 1)),
        (person(A), "张三", "紧缺专业人才", date(2024, 1, 15)),
    },
    "students": {(person(C), "王五", "深圳大学", date(2022, 9, 1), date(2026, 6, 30))},
}

# One bad row per kind, as the third line of its file, and the reason it is refused for.
BAD_ROW = {
    "social-insurance": (f"{A},张三,2025-07,深圳市甲科技有限公司", "month: 晚于本月"),
    "residence": (f"{B},李四,罗湖区人民南路3号,2024-05-01,2024-05-02,2024-04-30", "move_out_on: 早于 move_in_on"),
    "permits": (f"440300202400003,{C},王五,2024-05-20,2024-05-19", "last_endorsed_on: 早于 issued_on"),
    "talents": (f"{B},李四,高层次人才,2025-07-01", "certified_on: 日期不能晚于2025年6月30日"),
    "students": (f"{A},张三,深圳大学,2022-09-01,2022-09-01", "expected_graduation_on: 应晚于 enrolled_on"),
}


def with_bad_row(kind: str) -> list[str]:
    header, first, *rest = GOOD[kind]
    return [header, first, BAD_ROW[kind][0], *rest]


@pytest.mark.parametrize("kind", list(GOOD))
async def test_a_good_file_imports_its_rows(db: str, tmp_path: Path, kind: str) -> None:
    report = await run(kind, write(tmp_path, GOOD[kind]))
    rows = len(GOOD[kind]) - 1
    assert report.written and counts(report) == (rows, rows, 0, 0, 0)
    assert await stored(kind) == EXPECTED[kind]


@pytest.mark.parametrize("kind", list(GOOD))
async def test_a_file_with_a_bad_row_is_refused_whole_and_the_row_reported(db: str, tmp_path: Path, kind: str) -> None:
    report = await run(kind, write(tmp_path, with_bad_row(kind)))
    assert not report.written
    assert bad(report) == [(3, BAD_ROW[kind][1])]
    assert await stored(kind) == set()


@pytest.mark.parametrize("kind", list(GOOD))
async def test_skip_bad_imports_the_good_rows_and_reports_the_bad(db: str, tmp_path: Path, kind: str) -> None:
    report = await run(kind, write(tmp_path, with_bad_row(kind)), skip_bad=True)
    rows = len(GOOD[kind]) - 1
    assert report.written and counts(report) == (rows + 1, rows, 0, 0, 1)
    assert bad(report) == [(3, BAD_ROW[kind][1])]
    assert await stored(kind) == EXPECTED[kind]


@pytest.mark.parametrize("kind", list(GOOD))
async def test_importing_the_same_file_again_changes_nothing(db: str, tmp_path: Path, kind: str) -> None:
    path = write(tmp_path, GOOD[kind])
    await run(kind, path)
    again = await run(kind, path)
    rows = len(GOOD[kind]) - 1
    assert counts(again) == (rows, 0, 0, rows, 0)
    assert await stored(kind) == EXPECTED[kind]


async def test_every_bad_row_is_reported_with_each_reason(db: str, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        [
            "id_number,name,month,employer",
            f"{A},张三,2025-04,甲公司",
            f"{BAD_CHECK_DIGIT},张三,2025-04,甲公司",
            f"{A[:17]},,2025-4,甲公司",
            f"{A},张三,2025-04",
            "",
            f"{A},张三,2025-13,{'长' * 101}",
        ],
    )
    report = await run("social-insurance", path)
    assert not report.written and report.rows == 5 and report.bad == 4
    assert bad(report) == [
        (3, "id_number: 身份证号码校验位不对"),
        (4, "id_number: 身份证号码应为18位，您输入了17位; name: 内容不能为空; month: 格式应为 YYYY-MM, 如 2025-03"),
        (5, "应有 4 列, 实有 3 列"),
        (7, "month: 2025-13 不是有效月份; employer: 内容太长：最多100个字，您输入了101个字"),
    ]
    assert await stored("social-insurance") == set()


async def test_a_report_lists_the_first_bad_rows_and_counts_the_rest(
    db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine, "MAX_REPORTED", 2)
    lines = ["id_number,name,month,employer", *(f"{A},张三,2099-01,甲公司" for _ in range(5))]
    report = await run("social-insurance", write(tmp_path, lines))
    assert report.bad == 5 and [row.line for row in report.bad_rows] == [2, 3]
    assert report.bad_lines() == ["第2行: month: 晚于本月", "第3行: month: 晚于本月", "… 另有 3 行有误, 未列出"]


async def test_a_later_file_that_adds_the_move_out_date_updates_the_registration(db: str, tmp_path: Path) -> None:
    declared = [
        "id_number,name,address,move_in_on,declared_on",  # the optional column may be left out
        f"{A},张三,南山区科苑路1号,2024-03-01,2024-03-05",
    ]
    moved_out = ["id_number,name,address,move_in_on,declared_on,move_out_on", f"{declared[1]},2025-05-31"]
    first = await run("residence", write(tmp_path, declared, name="declared.csv"))
    (number,) = await ResidenceRegistration.all().values_list("number", flat=True)
    later = await run("residence", write(tmp_path, moved_out, name="moved_out.csv"))
    assert counts(first) == (1, 1, 0, 0, 0) and counts(later) == (1, 0, 1, 0, 0)
    registration = await ResidenceRegistration.get(number=number)
    assert registration.move_out_on == date(2025, 5, 31)
    # The older file again: an empty move-out date does not reopen the registration.
    again = await run("residence", write(tmp_path, declared, name="declared.csv"))
    assert counts(again) == (1, 0, 0, 1, 0)
    assert (await ResidenceRegistration.get(number=number)).move_out_on == date(2025, 5, 31)


async def test_an_imported_registration_number_is_derived_from_its_key(db: str, tmp_path: Path) -> None:
    await run("residence", write(tmp_path, GOOD["residence"]))
    numbers = set(await ResidenceRegistration.all().values_list("number", flat=True))
    row = residence.validate(GOOD["residence"][1].split(","), TODAY)
    assert isinstance(row, residence.Row)
    assert residence.registration_number(person(A), row) in numbers
    assert all(number.startswith("IM") and len(number) <= 32 for number in numbers)


async def test_a_later_endorsement_date_updates_the_permit(db: str, tmp_path: Path) -> None:
    await run("permits", write(tmp_path, GOOD["permits"]))
    endorsed = [GOOD["permits"][0], f"440300202400002,{B},李四,2024-05-20,2025-05-18"]
    report = await run("permits", write(tmp_path, endorsed, name="endorsed.csv"))
    assert counts(report) == (1, 0, 1, 0, 0)
    assert (await Permit.get(permit_no="440300202400002")).last_endorsed_on == date(2025, 5, 18)


async def test_an_older_file_does_not_undo_a_newer_endorsement(db: str, tmp_path: Path) -> None:
    newer = [GOOD["permits"][0], f"440300202400002,{B},李四,2024-05-20,2025-05-18"]
    await run("permits", write(tmp_path, newer, name="newer.csv"))
    older = [GOOD["permits"][0], f"440300202400002,{B},李四,2024-05-20,2025-04-01"]
    report = await run("permits", write(tmp_path, older, name="older.csv"))
    assert counts(report)[2] == 0  # nothing updated
    assert (await Permit.get(permit_no="440300202400002")).last_endorsed_on == date(2025, 5, 18)


async def test_a_month_already_on_record_stays_as_it_is(db: str, tmp_path: Path) -> None:
    await run("social-insurance", write(tmp_path, GOOD["social-insurance"]))
    other_employer = ["id_number,name,month,employer", f"{A},张三,2025-04,深圳市乙贸易有限公司"]
    report = await run("social-insurance", write(tmp_path, other_employer, name="other.csv"))
    assert counts(report) == (1, 0, 0, 1, 0)
    assert await stored("social-insurance") == EXPECTED["social-insurance"]


async def test_repeated_rows_across_and_within_batches_are_imported_once(
    db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine, "BATCH_ROWS", 2)
    header, *rows = GOOD["permits"]
    endorsed = f"440300202400002,{B},李四,2024-05-20,2025-05-18"
    progress = io.StringIO()
    report = await run("permits", write(tmp_path, [header, *rows, *rows, endorsed, endorsed]), progress=progress)
    assert counts(report) == (6, 2, 1, 3, 0)
    assert (await Permit.get(permit_no="440300202400002")).last_endorsed_on == date(2025, 5, 18)
    assert "permits: written 6 of 6 rows (" in progress.getvalue()


async def test_a_failure_in_the_middle_of_writing_leaves_none_of_the_file(
    db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine, "BATCH_ROWS", 1)
    calls = 0

    def failing_on_the_second_batch(write):
        async def wrapped(self, raw, records):
            nonlocal calls
            calls += 1
            if calls == 2:
                raise ConnectionResetError("the database went away")
            return await write(self, raw, records)

        return wrapped

    for writer in (engine._SqliteWriter, engine._PostgresWriter):
        monkeypatch.setattr(writer, "write", failing_on_the_second_batch(writer.write))
    with pytest.raises(ConnectionResetError):
        await run("social-insurance", write(tmp_path, GOOD["social-insurance"]))
    assert calls == 2
    assert await stored("social-insurance") == set()
    # Nothing half done: the same file again imports all of it.
    monkeypatch.undo()
    report = await run("social-insurance", write(tmp_path, GOOD["social-insurance"]))
    assert counts(report) == (3, 3, 0, 0, 0)


@pytest.mark.parametrize(
    "change",
    [
        f"{BAD_CHECK_DIGIT},张三,2025-04,甲公司",  # a row the check never saw, which would have refused the file
        f"{C},王五,2025-04,乙公司",  # a good row, but not one that was checked
    ],
    ids=["bad-row-added", "good-row-added"],
)
async def test_a_file_changed_between_checking_and_writing_is_refused_and_nothing_written(
    db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, change: str
) -> None:
    path = write(tmp_path, GOOD["social-insurance"])
    passes = 0
    read = engine._read

    def read_and_change(*args, **kwargs):
        nonlocal passes
        passes += 1
        if passes == 2:  # another program writes to the file while the import runs
            with path.open("a", encoding="utf-8", newline="") as f:
                f.write(change + "\r\n")
        return read(*args, **kwargs)

    monkeypatch.setattr(engine, "_read", read_and_change)
    with pytest.raises(FileRefused, match="改动"):
        await run("social-insurance", path)
    assert await stored("social-insurance") == set()


async def test_an_excel_utf8_file_with_a_byte_order_mark_is_read(db: str, tmp_path: Path) -> None:
    report = await run("talents", write(tmp_path, GOOD["talents"], encoding="utf-8-sig"))
    assert counts(report) == (2, 2, 0, 0, 0)


async def test_header_columns_may_come_in_any_order(db: str, tmp_path: Path) -> None:
    lines = ["name,certified_on,category,id_number", f"张三,2023-07-01,高层次人才,{A}"]
    await run("talents", write(tmp_path, lines))
    assert await stored("talents") == {(person(A), "张三", "高层次人才", date(2023, 7, 1))}


@pytest.mark.parametrize(
    ("header", "problem"),
    [
        ("id_number,name,month", "缺少 employer"),
        ("id_number,name,month,employer,remark", "多出 remark"),
        ("id_number,name,month,employer,month", "重复 month"),
        ("身份证号,姓名,月份,单位", "缺少 id_number"),
    ],
    ids=["missing", "unknown", "repeated", "chinese"],
)
async def test_a_wrong_header_is_refused(db: str, tmp_path: Path, header: str, problem: str) -> None:
    with pytest.raises(FileRefused) as refused:
        await run("social-insurance", write(tmp_path, [header, f"{A},张三,2025-04,甲公司"]))
    assert str(refused.value).startswith("表头应为 id_number,name,month,employer: ") and problem in str(refused.value)
    assert await stored("social-insurance") == set()


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"", "文件是空的"),
        (f"id_number,name,month,employer\r\n{A},张三,2025-04,甲公司\r\n".encode("gbk"), "不是 UTF-8 编码"),
    ],
    ids=["empty", "gbk"],
)
async def test_a_file_that_cannot_be_read_is_refused(db: str, tmp_path: Path, content: bytes, problem: str) -> None:
    path = tmp_path / "records.csv"
    path.write_bytes(content)
    with pytest.raises(FileRefused, match=problem):
        await run("social-insurance", path)


async def test_a_missing_file_is_refused(db: str, tmp_path: Path) -> None:
    with pytest.raises(FileRefused, match="无法读取文件"):
        await run("social-insurance", tmp_path / "absent.csv")


@pytest.mark.parametrize(
    ("kind", "cells", "reason"),
    [
        ("social-insurance", [A, "张三", "2025-7", ""], "month: 格式应为 YYYY-MM, 如 2025-03"),
        ("residence", [A, "张三", "  ", "2024-03-01", "2024-03-05", ""], "address: 内容不能为空"),
        ("residence", [A, "张三", "科苑路1号", "2024-02-30", "2024-03-05", ""], "move_in_on: 2024年2月没有30日"),
        ("residence", [A, "张三", "科苑路1号", "2024-03-01", "2025-07-01", ""], "declared_on: 日期不能晚于"),
        ("permits", ["", A, "张三", "2024-03-10", ""], "permit_no: 内容不能为空"),
        ("permits", ["P1", A + "1", "张三", "2024-03-10", ""], "id_number: 身份证号码应为18位"),
        ("talents", [A, "张三", "", "2023-07-01"], "category: 内容不能为空"),
        ("students", [A, "张三", "深圳大学", "2022-9", "2026-06-30"], "enrolled_on: 日期格式不对"),
    ],
)
def test_a_bad_cell_is_named_with_a_short_reason(kind: str, cells: list[str], reason: str) -> None:
    result = KINDS[kind].validate(cells, TODAY)
    assert isinstance(result, list) and len(result) == 1
    assert result[0].startswith(reason)
    assert "请" not in result[0]  # the resident-facing "please re-enter" is cut off


def test_cells_are_normalised_as_the_bot_stores_answers() -> None:
    row = KINDS["social-insurance"].validate(
        [f" {A[:17]}{A[17].lower()} ", " 张三 ", "２０２５-０４", "深圳市  甲公司"], TODAY
    )
    assert not isinstance(row, list)
    assert (row.id_number, row.name, row.employer) == (A, "张三", "深圳市 甲公司")


def test_the_cli_offers_every_kind_with_its_columns() -> None:
    # bot/cli.py lists them itself, so that its --help does not import the import machinery.
    listed = {what: re.sub(r"\(.*?\)", "", columns).split(",") for what, columns in RECORD_IMPORTS.items()}
    assert listed == {name: list(kind.columns) for name, kind in KINDS.items()}


def test_the_cli_imports_refuses_and_reports(tmp_path: Path) -> None:
    env = bot_env(tmp_path)
    assert run_cli(env, "initdb").returncode == 0
    bad_file = write(tmp_path, [*GOOD["social-insurance"], f"{BAD_CHECK_DIGIT},张三,2025-04,甲公司"], name="bad.csv")
    refused = run_cli(env, "import", "social-insurance", str(bad_file))
    assert refused.returncode == 1
    assert "nothing imported: 1 bad rows (--skip-bad imports the other 3)" in refused.stderr
    assert "第5行: id_number: 身份证号码校验位不对" in refused.stderr
    skipped = run_cli(env, "import", "social-insurance", str(bad_file), "--skip-bad")
    assert skipped.returncode == 0, skipped.stderr
    assert "4 rows read: 3 inserted, 0 updated, 0 unchanged, 1 bad rows skipped" in skipped.stdout
    assert "第5行" in skipped.stderr and "social-insurance: written 3 of 3 rows" in skipped.stderr
    again = run_cli(env, "import", "social-insurance", str(write(tmp_path, GOOD["social-insurance"])))
    assert again.returncode == 0 and "3 rows read: 0 inserted, 0 updated, 3 unchanged" in again.stdout
    for result in (refused, skipped, again):
        assert not any(number in result.stdout + result.stderr for number in (A, B, BAD_CHECK_DIGIT))
