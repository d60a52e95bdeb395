"""Acceptance-point import: every bad item reported by number, all-or-nothing, idempotent replace."""

import re
import textwrap
from pathlib import Path

import pytest

from bot.imports.acceptance_points import (
    ImportFileError,
    PointDetails,
    load_points_file,
    load_points_if_empty,
    replace_points,
)
from models import AcceptancePoint
from models.districts import DISTRICTS

EXAMPLE = Path(__file__).resolve().parent.parent / "data" / "acceptance_points.example.yaml"

FUTIAN = """\
- name: 福田派出所居住证受理点
  district: 福田区
  address: 福华三路
  lat: 22.5376
  lng: 114.0556
  hours: 周一至周五 09:00-12:00, 14:00-18:00
  phone: "0755-80000001"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "points.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def point(name: str, **changes: object) -> PointDetails:
    values = {
        "name": name,
        "district": "南山区",
        "address": "科苑南路",
        "lat": 22.5259,
        "lng": 113.9437,
        "hours": "周一至周五 09:00-18:00",
        "phone": "0755-80000005",
    } | changes
    return PointDetails(**values)  # type: ignore[arg-type]


def problems_of(path: Path) -> list[str]:
    with pytest.raises(ImportFileError) as caught:
        load_points_file(path)
    return caught.value.problems


async def table() -> dict[str, tuple]:
    return {p.name: (p.district, p.address, p.lat, p.lng, p.hours, p.phone) for p in await AcceptancePoint.all()}


def test_a_good_file_gives_one_row_per_item_with_text_trimmed(tmp_path: Path) -> None:
    rows = load_points_file(write(tmp_path, FUTIAN.replace("address: 福华三路", "address: '  福华三路 '")))
    assert rows == [
        PointDetails(
            name="福田派出所居住证受理点",
            district="福田区",
            address="福华三路",
            lat=22.5376,
            lng=114.0556,
            hours="周一至周五 09:00-12:00, 14:00-18:00",
            phone="0755-80000001",
        )
    ]


def test_the_example_file_is_valid_and_covers_every_district() -> None:
    rows = load_points_file(EXAMPLE)
    assert {row.district for row in rows} == {d.name for d in DISTRICTS}


def test_the_example_file_says_it_is_example_data() -> None:
    assert "EXAMPLE DATA" in EXAMPLE.read_text(encoding="utf-8").splitlines()[0]


def test_a_missing_key_is_reported_with_item_number_name_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, FUTIAN + FUTIAN.replace("福田派出所", "香蜜湖派出所").replace("  lat: 22.5376\n", ""))
    assert problems_of(path) == ["第2项 (香蜜湖派出所居住证受理点, 第8行): 缺少 lat"]


def test_an_unknown_key_is_reported(tmp_path: Path) -> None:
    path = write(tmp_path, FUTIAN + "  fax: 123\n")
    assert problems_of(path) == ["第1项 (福田派出所居住证受理点, 第1行): 未知字段 fax"]


@pytest.mark.parametrize(
    ("line", "replacement", "reason"),
    [
        ("  lat: 22.5376", "  lat: 2.5376", "lat 应在 18 到 54 之间"),
        ("  lng: 114.0556", "  lng: 22.5376", "lng 应在 73 到 136 之间"),
        ("  lat: 22.5376", "  lat: '22.5'", "lat 应是数字"),
        ("  lng: 114.0556", "  lng: true", "lng 应是数字"),
        ('  phone: "0755-80000001"', "  phone: 80000001", "phone 应是文字"),
        ("  address: 福华三路", "  address: '  '", "address 不能为空"),
        ("  district: 福田区", "  district: " + "区" * 21, "district 超过 20 字"),
    ],
    ids=["lat-range", "lng-range", "lat-text", "lng-bool", "phone-number", "address-blank", "district-long"],
)
def test_a_bad_value_is_reported_with_its_reason(tmp_path: Path, line: str, replacement: str, reason: str) -> None:
    (problem,) = problems_of(write(tmp_path, FUTIAN.replace(line, replacement)))
    assert problem.startswith("第1项 (福田派出所居住证受理点, 第1行): ")
    assert reason in problem


def test_an_item_that_is_not_a_mapping_is_reported(tmp_path: Path) -> None:
    path = write(tmp_path, FUTIAN + "- 福田派出所\n")
    assert problems_of(path) == ["第2项 (无名称, 第8行): 应是含 name, district, address, lat, lng, hours, phone 的映射"]


def test_a_repeated_name_is_reported_on_the_later_item(tmp_path: Path) -> None:
    path = write(tmp_path, FUTIAN + FUTIAN)
    assert problems_of(path) == ["第2项 (福田派出所居住证受理点, 第8行): 名称与第1项重复"]


def test_every_bad_item_is_reported_not_only_the_first(tmp_path: Path) -> None:
    bad_lat = FUTIAN.replace("lat: 22.5376", "lat: 99")
    no_name = FUTIAN.replace("- name: 福田派出所居住证受理点\n  district", "- district")
    path = write(tmp_path, bad_lat + FUTIAN.replace("福田派出所", "东门派出所") + no_name)
    assert [re.match(r"第(\d+)项", p).group(1) for p in problems_of(path)] == ["1", "3"]  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("name: 福田\n", "文件应是受理点列表"),
        ("[]\n", "文件里没有受理点"),
        ("- name: [unclosed\n", "YAML 格式错误"),
    ],
    ids=["mapping", "empty-list", "syntax"],
)
def test_a_file_that_is_not_a_list_of_points_is_refused(tmp_path: Path, text: str, reason: str) -> None:
    (problem,) = problems_of(write(tmp_path, text))
    assert reason in problem


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    (problem,) = problems_of(tmp_path / "absent.yaml")
    assert problem.startswith("无法读取文件")


async def test_replace_fills_an_empty_table(db: str) -> None:
    assert await replace_points([point("甲"), point("乙")]) == (2, 0, 0)
    assert await table() == {
        "甲": ("南山区", "科苑南路", 22.5259, 113.9437, "周一至周五 09:00-18:00", "0755-80000005"),
        "乙": ("南山区", "科苑南路", 22.5259, 113.9437, "周一至周五 09:00-18:00", "0755-80000005"),
    }


async def test_replacing_with_the_same_rows_changes_nothing(db: str) -> None:
    rows = load_points_file(EXAMPLE)
    await replace_points(rows)
    before = await table()
    assert await replace_points(rows) == (0, 0, 0)
    assert await table() == before


async def test_replace_updates_changed_points_and_removes_points_not_in_the_file(db: str) -> None:
    await replace_points([point("甲"), point("乙"), point("丙")])
    result = await replace_points([point("甲"), point("乙", phone="0755-80000099", lat=22.6), point("丁")])
    assert result == (1, 1, 1)
    after = await table()
    assert sorted(after) == ["丁", "乙", "甲"]
    assert (after["乙"][2], after["乙"][5]) == (22.6, "0755-80000099")


async def test_a_file_with_one_bad_item_imports_none_of_its_good_items(db: str, tmp_path: Path) -> None:
    path = write(tmp_path, FUTIAN + FUTIAN.replace("福田派出所", "东门派出所").replace("lng: 114.0556", "lng: 0"))
    with pytest.raises(ImportFileError):
        await load_points_if_empty(path)
    assert await table() == {}


async def test_replace_refuses_to_empty_the_table(db: str) -> None:
    await replace_points([point("甲")])
    with pytest.raises(ValueError, match="empty"):
        await replace_points([])
    assert list(await table()) == ["甲"]


async def test_load_if_empty_loads_a_new_database(db: str) -> None:
    assert await load_points_if_empty(EXAMPLE) == len(load_points_file(EXAMPLE))
    assert await AcceptancePoint.all().count() == len(load_points_file(EXAMPLE))


async def test_load_if_empty_leaves_existing_points_alone(db: str) -> None:
    await replace_points([point("甲")])
    assert await load_points_if_empty(EXAMPLE) == 0
    assert list(await table()) == ["甲"]
