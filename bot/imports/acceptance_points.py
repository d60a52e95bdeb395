"""Import of the acceptance points (受理点) from the YAML file of ``data.acceptance_points``.

The file is a list of mappings with the keys name, district, address, lat, lng, hours, phone
(lat/lng in GCJ-02 degrees). It is checked whole before anything is written: one bad item and
nothing is imported, with every problem reported. An import makes the table equal the file,
matching points by name, in one transaction; importing the same file again changes nothing.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

import yaml
from tortoise.fields import CharField
from tortoise.transactions import in_transaction

from models import AcceptancePoint
from models.acceptance_point import PointDetails

TEXT_KEYS = ("name", "district", "address", "hours", "phone")
# Mainland China's extent in degrees: a swapped or mistyped coordinate lands outside it.
RANGES = {"lat": (18.0, 54.0), "lng": (73.0, 136.0)}
KEYS = ("name", "district", "address", "lat", "lng", "hours", "phone")


class ImportFileError(Exception):
    """The file cannot be imported; the message has one line per problem."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


def load_points_file(path: str | os.PathLike[str]) -> list[PointDetails]:
    """The checked points of the file; ``ImportFileError`` lists every bad item ("第N项 ...")."""
    items, lines = _read_yaml_list(path)
    rows: list[PointDetails] = []
    problems: list[str] = []
    first_item_of: dict[str, int] = {}
    for number, (item, line) in enumerate(zip(items, lines, strict=True), start=1):
        reasons = _check_item(item)
        name = item.get("name") if isinstance(item, dict) else None
        label = name.strip() if isinstance(name, str) and name.strip() else "无名称"
        if not reasons:
            row = _point(item)
            if row.name in first_item_of:
                reasons.append(f"名称与第{first_item_of[row.name]}项重复")
            else:
                first_item_of[row.name] = number
                rows.append(row)
        if reasons:
            problems.append(f"第{number}项 ({label}, 第{line}行): {'; '.join(reasons)}")
    if problems:
        raise ImportFileError(problems)
    return rows


async def replace_points(rows: Sequence[PointDetails]) -> tuple[int, int, int]:
    """Make the acceptance_point table equal ``rows`` in one transaction: (added, updated, removed)."""
    wanted = {row.name: row for row in rows}
    if not wanted:
        raise ValueError("no acceptance points: refusing to empty the table")
    if len(wanted) != len(rows):
        raise ValueError("acceptance point names must be unique")
    added = updated = 0
    async with in_transaction() as conn:
        existing = {point.name: point for point in await AcceptancePoint.all().using_db(conn)}
        for row in rows:
            values = asdict(row)
            point = existing.get(row.name)
            if point is None:
                await AcceptancePoint.create(using_db=conn, **values)
                added += 1
            elif any(getattr(point, key) != value for key, value in values.items()):
                await point.update_from_dict(values).save(using_db=conn)
                updated += 1
        gone = [name for name in existing if name not in wanted]
        if gone:
            await AcceptancePoint.filter(name__in=gone).using_db(conn).delete()
    return added, updated, len(gone)


async def load_points_if_empty(path: str | os.PathLike[str]) -> int:
    """Import the file when the table has no points (a new database); returns how many were added."""
    if await AcceptancePoint.all().exists():
        return 0
    added, _, _ = await replace_points(load_points_file(path))
    return added


def _read_yaml_list(path: str | os.PathLike[str]) -> tuple[list[Any], list[int]]:
    """The items of the file's top-level list, and the line each starts on (1-based)."""
    try:
        with open(path, encoding="utf-8") as f:
            loader = yaml.SafeLoader(f)
            try:
                node = loader.get_single_node()
                data = loader.construct_document(node) if node is not None else None
            finally:
                loader.dispose()
    except OSError as exc:
        raise ImportFileError([f"无法读取文件: {exc.strerror or exc}"]) from None
    except UnicodeDecodeError:
        raise ImportFileError(["文件不是 UTF-8 编码"]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"第{mark.line + 1}行: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ImportFileError([f"YAML 格式错误, {where}{problem}"]) from None
    if not isinstance(data, list) or not isinstance(node, yaml.SequenceNode):
        raise ImportFileError(["文件应是受理点列表: 每项以 “- name: …” 开头"])
    if not data:
        raise ImportFileError(["文件里没有受理点"])
    return data, [item.start_mark.line + 1 for item in node.value]


def _check_item(item: Any) -> list[str]:
    if not isinstance(item, dict):
        return ["应是含 name, district, address, lat, lng, hours, phone 的映射"]
    reasons = [f"未知字段 {key}" for key in item if key not in KEYS]
    for key in KEYS:
        if key not in item or item[key] is None:
            reasons.append(f"缺少 {key}")
        elif key in TEXT_KEYS:
            reasons += _check_text(key, item[key])
        else:
            reasons += _check_degrees(key, item[key])
    return reasons


def _check_text(key: str, value: Any) -> list[str]:
    if not isinstance(value, str):
        return [f"{key} 应是文字 (数字请加引号)"]
    if not value.strip():
        return [f"{key} 不能为空"]
    field = AcceptancePoint._meta.fields_map[key]
    assert isinstance(field, CharField)  # every text key is a CharField
    limit = field.max_length
    if len(value.strip()) > limit:
        return [f"{key} 超过 {limit} 字"]
    return []


def _check_degrees(key: str, value: Any) -> list[str]:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return [f"{key} 应是数字 (度)"]
    low, high = RANGES[key]
    if not (math.isfinite(value) and low <= value <= high):
        return [f"{key} 应在 {low:g} 到 {high:g} 之间 (GCJ-02 度), 现为 {value}"]
    return []


def _point(item: dict[str, Any]) -> PointDetails:
    """A checked item as a value: text stripped, degrees as floats."""
    return PointDetails(
        name=item["name"].strip(),
        district=item["district"].strip(),
        address=item["address"].strip(),
        lat=float(item["lat"]),
        lng=float(item["lng"]),
        hours=item["hours"].strip(),
        phone=item["phone"].strip(),
    )
