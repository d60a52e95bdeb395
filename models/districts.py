"""Shenzhen's districts as data, and finding one from what a resident typed.

Centres are GCJ-02 degrees, the datum WeChat location messages and AMap use. For the nine districts
with their own GB/T 2260 code they are AMap's district `center`, at or near the district
government; 大鹏新区 (a functional area inside 龙岗区's code) and 深汕特别合作区 (inside 海丰县's)
have no such entry, so theirs approximate the 管委会 seats (葵涌街道; 鹅埠) to a few kilometres.
That is close enough to rank acceptance points by distance from a district, nothing finer.
"""

import unicodedata
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class District:
    name: str
    aliases: tuple[str, ...]
    lat: float
    lng: float


# The order is the menu order: find_district("3") is the third entry.
DISTRICTS: tuple[District, ...] = (
    District("福田区", ("福田",), 22.541009, 114.05096),
    District("罗湖区", ("罗湖",), 22.555341, 114.123885),
    District("南山区", ("南山",), 22.531221, 113.92943),
    District("宝安区", ("宝安",), 22.555069, 113.883831),
    District("龙岗区", ("龙岗",), 22.721511, 114.251372),
    District("盐田区", ("盐田",), 22.555069, 114.235366),
    # Their 新区 names, from before they became districts (2016-2018), are still on older papers.
    District("龙华区", ("龙华", "龙华新区"), 22.691963, 114.044346),
    District("坪山区", ("坪山", "坪山新区"), 22.69423, 114.338441),
    District("光明区", ("光明", "光明新区"), 22.748816, 113.935895),
    District("大鹏新区", ("大鹏", "大鹏区"), 22.633, 114.43),
    District("深汕特别合作区", ("深汕", "深汕合作区"), 22.85, 115.05),
)

_CITY_PREFIXES = ("广东省", "广东", "深圳市", "深圳")


def _key(text: str) -> str:
    # Dropping a final 区 lets "南山" and "南山区" meet on one key.
    return text.removesuffix("区")


_BY_KEY: dict[str, District] = {
    _key(word): district for district in DISTRICTS for word in (district.name, *district.aliases)
}


def find_district(text: str) -> District | None:
    """The district named by `text` (its name, an alias, or its 1-based number), or None."""
    words = "".join(unicodedata.normalize("NFKC", text).split())
    for prefix in _CITY_PREFIXES:
        words = words.removeprefix(prefix)
    if words.isascii() and words.isdigit():
        number = int(words)
        return DISTRICTS[number - 1] if 1 <= number <= len(DISTRICTS) else None
    return _BY_KEY.get(_key(words)) if words else None
