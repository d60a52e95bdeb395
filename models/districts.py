"""Shenzhen's districts as data, and finding one from what a resident typed.

Centres are GCJ-02 degrees, the datum WeChat location messages and AMap use. For the nine districts
with their own GB/T 2260 code they are AMap's district `center`, at or near the district
government; 大鹏新区 (a functional area inside 龙岗区's code) and 深汕特别合作区 (inside 海丰县's)
have no such entry, so theirs approximate the 管委会 seats (葵涌街道; 鹅埠) to a few kilometres.
That is close enough to rank acceptance points by distance from a district, nothing finer.
"""

import re
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


# Addresses are written 省 市 区 街道 路, so the district right after 深圳市 is the address's own.
# Without that, a name written with 区 (南山区, 龙华新区) counts before a bare one (南山), and a bare
# name that begins a road's name is not read as a district: 宝安南路 is in 罗湖区. (街道 is no
# road: 福田街道 is in 福田区.)
_KEYS = "|".join(re.escape(key) for key in sorted(_BY_KEY, key=len, reverse=True))  # 龙华新 before 龙华
_WITH_QU = re.compile(f"(?:{_KEYS})区")
_BARE = re.compile(f"(?:{_KEYS})(?![东南西北中一二三四五六七八九十]?(?:路|大道|大街|街(?!道)|巷))")
_CITY = re.compile(r"(?:广东省?)?深圳市?")


def districts_in(text: str) -> tuple[District, ...]:
    """The districts an address names, in the order it names them: one when the address is
    clear (深圳市福田区福华路3号), several when it names more than one, none when it names none."""
    words = "".join(unicodedata.normalize("NFKC", text).split())
    city = _CITY.match(words)
    if city and (own := _WITH_QU.match(words, city.end())):
        return (_BY_KEY[_key(own.group())],)
    mentions = [_key(m.group()) for m in _WITH_QU.finditer(words)]
    if not mentions:
        mentions = [m.group() for m in _BARE.finditer(words)]
    return tuple(dict.fromkeys(_BY_KEY[key] for key in mentions))
