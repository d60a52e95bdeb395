"""受理点 (ACCEPTANCE_POINTS): the nearest acceptance points.

Questions, in order:
  where   "请发送您的位置，或回复所在区"   a location, or a district by name or number, or an address
                                            that names one (the reply then says which it took)
Then the reply: the three nearest points, each in four short lines (name and distance, address,
opening hours, phone and a map link), to fit one phone screen.
"""

from __future__ import annotations

from urllib.parse import urlencode

from conversations.flow import Answers, Context, Finished, Flow, Location, Step
from conversations.keys import MenuKey
from conversations.parsers import district
from models.districts import DISTRICTS, find_district

SHOWN = 3


def district_list() -> str:
    return "\n".join(f"{i}. {d.name}" for i, d in enumerate(DISTRICTS, 1))


def _place(location: Location) -> dict[str, object]:
    return {"lat": location.lat, "lng": location.lng, "label": location.label}


def _district(text: str) -> dict[str, object]:
    name = district(text)
    # Read out of an address rather than typed as a district: the reply says which district it took.
    return {"district": name} if find_district(text) else {"district": name, "from_address": True}


def _show(where: dict[str, object]) -> str:
    return str(where.get("district") or where.get("label") or "您发送的位置")


async def _lookup(ctx: Context, answers: Answers) -> Finished:
    where = answers["points.where"]
    points = await ctx.services.acceptance_points.all()
    if not points:
        return Finished("受理点名单暂未导入，请稍后再试，或回复「热线」查看咨询电话。")
    if "district" in where:
        area = find_district(where["district"])
        assert area is not None  # the parser only accepts known districts
        lat, lng, origin = area.lat, area.lng, f"{area.name}中心"
    else:
        lat, lng, origin = where["lat"], where["lng"], "您的位置"
    lines = [f"离{origin}最近的{min(SHOWN, len(points))}个受理点："]
    if where.get("from_address"):
        lines.insert(0, f"按「{where['district']}」查询：")
    for i, (p, km) in enumerate(ctx.services.acceptance_points.nearest(lat, lng, SHOWN), 1):
        name, address = _short(p.name, "居住证受理点"), _short(p.address, prefix="深圳市")
        lines.append(
            f"{i}. {name}（{distance(km)}）\n{address}\n{p.hours}\n电话{p.phone} {map_link(p.lat, p.lng, p.name)}"
        )
    lines.append("去办理时请带上身份证。")
    return Finished("\n".join(lines))


def _short(text: str, suffix: str = "", *, prefix: str = "") -> str:
    """What every entry would repeat, left out to keep each entry to a few phone lines."""
    if suffix and text.endswith(suffix) and len(text) > len(suffix):
        text = text[: -len(suffix)]
    return text[len(prefix) :] if prefix and text.startswith(prefix) else text


def map_link(lat: float, lng: float, name: str) -> str:
    """A link WeChat shows as 「地图」: Amap's marker page, which opens the map app on the phone.
    Amap reads GCJ-02, the system of the acceptance-point file and of WeChat's locations."""
    query = urlencode({"position": f"{lng:.6f},{lat:.6f}", "name": name, "coordinate": "gaode", "callnative": 1})
    return f'<a href="https://uri.amap.com/marker?{query}">地图</a>'


def distance(km: float) -> str:
    return f"约{round(km * 1000, -1):.0f}米" if km < 1 else f"约{km:.1f}公里"


FLOW = Flow(
    key=MenuKey.ACCEPTANCE_POINTS,
    title="查询受理点",
    review=False,
    takes=(Location,),
    steps=(
        Step(
            name="points.where",
            question=(
                "请发送您的位置（点击输入框旁的「+」→「位置」），我帮您找最近的受理点；"
                f"也可以回复所在区的名称或序号：\n{district_list()}"
            ),
            label="位置",
            parse=_district,
            on_location=_place,
            show=_show,
        ),
    ),
    submit=_lookup,
)
