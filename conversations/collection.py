"""Where the card is collected: the two questions 申领 and 代办 both ask.

  where   "请发送您的位置，或回复所在区"   a location, or a district (by name, number, or in an address)
  point   "请选择领证的受理点"             the three nearest, as they were shown (`choices_from`)

The point is kept by name (unique); the submit reads it again, since an import may replace the list.
"""

from __future__ import annotations

from typing import Any

from bot.services.errors import Told
from conversations.acceptance_points import distance, district_list
from conversations.flow import Choice, Context, Filled, Location, Step
from conversations.parsers import district
from models import AcceptancePoint
from models.districts import find_district

SHOWN = 3
NO_POINTS = "受理点名单暂未导入，暂时不能选择领证地点，请稍后再试，或回复「热线」查看咨询电话。"
POINT_GONE = "您选择的受理点「{name}」已不在受理点名单里，请「修改」领证受理点一项，重新选择。"


def _place(location: Location) -> dict[str, Any]:
    return {"lat": location.lat, "lng": location.lng, "label": location.label}


def _district(text: str) -> dict[str, Any]:
    return {"district": district(text)}


def _show_where(where: dict[str, Any]) -> str:
    return str(where.get("district") or where.get("label") or "发送的位置")


def point_steps(prefix: str, *, whose: str) -> tuple[Step, Step]:
    """The questions, named `<prefix>.where` and `<prefix>.point`; `whose` says whose card it is."""
    where_name = f"{prefix}.where"

    async def nearest(ctx: Context, filled: Filled) -> list[Choice]:
        points = await ctx.services.acceptance_points.all()
        if not points:
            raise Told(NO_POINTS)
        where = filled[where_name]
        if "district" in where:
            area = find_district(where["district"])
            assert area is not None  # the parser only keeps known districts
            lat, lng = area.lat, area.lng
        else:
            lat, lng = where["lat"], where["lng"]
        return [
            Choice(f"{p.name}（{distance(km)}）\n   {p.address}；{p.hours}", aliases=(p.name,), value=p.name)
            for p, km in ctx.services.acceptance_points.nearest(lat, lng, SHOWN)
        ]

    return (
        Step(
            where_name,
            f"{whose}居住证制好后要到受理点本人领取。请发送您的位置（点击输入框旁的「+」→「位置」），"
            f"我列出最近的受理点；也可以回复区名或序号：\n{district_list()}",
            "领证地点附近",
            parse=_district,
            on_location=_place,
            show=_show_where,
            sensitive=True,  # where the resident is
        ),
        Step(
            f"{prefix}.point",
            "请选择领证的受理点：",
            "领证受理点",
            choices_from=nearest,
            depends_on=(where_name,),
        ),
    )


async def chosen_point(name: str) -> AcceptancePoint:
    """The point chosen, as it is now; Told when it has gone from the list."""
    point = await AcceptancePoint.get_or_none(name=name)
    if point is None:
        raise Told(POINT_GONE.format(name=name))
    return point
