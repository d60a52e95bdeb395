import dataclasses

import pytest

from models.districts import DISTRICTS, District, districts_in, find_district


def test_districts_are_the_eleven_in_menu_order():
    assert [d.name for d in DISTRICTS] == [
        "福田区",
        "罗湖区",
        "南山区",
        "宝安区",
        "龙岗区",
        "盐田区",
        "龙华区",
        "坪山区",
        "光明区",
        "大鹏新区",
        "深汕特别合作区",
    ]


def test_district_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        DISTRICTS[0].name = "别的区"  # type: ignore[misc]


@pytest.mark.parametrize("district", DISTRICTS, ids=lambda d: d.name)
def test_centre_lies_in_shenzhen_or_shenshan(district: District):
    # A box around Shenzhen and its enclave at 深汕: catches swapped lat/lng or a stray digit.
    assert 22.4 < district.lat < 23.0
    assert 113.7 < district.lng < 115.2


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("福田区", "福田区"),
        ("福田", "福田区"),
        ("罗湖", "罗湖区"),
        ("南山", "南山区"),
        (" 南 山 区 ", "南山区"),
        ("南山区", "南山区"),
        ("宝安", "宝安区"),
        ("龙岗", "龙岗区"),
        ("盐田", "盐田区"),
        ("龙华", "龙华区"),
        ("龙华新区", "龙华区"),
        ("坪山新区", "坪山区"),
        ("光明新区", "光明区"),
        ("大鹏", "大鹏新区"),
        ("大鹏区", "大鹏新区"),
        ("大鹏新区", "大鹏新区"),
        ("深汕", "深汕特别合作区"),
        ("深汕合作区", "深汕特别合作区"),
        ("深汕特别合作区", "深汕特别合作区"),
        ("深圳市南山区", "南山区"),
        ("广东省深圳市宝安区", "宝安区"),
        ("深圳 福田", "福田区"),
    ],
)
def test_find_district_by_name_or_alias(text, expected):
    found = find_district(text)
    assert (found.name if found else None) == expected


@pytest.mark.parametrize(("number", "index"), [(str(n), n - 1) for n in range(1, len(DISTRICTS) + 1)])
def test_find_district_by_its_number(number, index):
    assert find_district(number) is DISTRICTS[index]


@pytest.mark.parametrize(("text", "expected"), [("３", "南山区"), (" 11 ", "深汕特别合作区"), ("03", "南山区")])
def test_find_district_by_a_number_as_typed(text, expected):
    assert find_district(text).name == expected


@pytest.mark.parametrize("text", ["", "   ", "区", "0", "12", "-1", "东莞", "深圳", "南山区区", "福田南山", "三"])
def test_find_district_finds_nothing(text):
    assert find_district(text) is None


@pytest.mark.parametrize(
    ("alias", "district"),
    [(alias, d) for d in DISTRICTS for alias in d.aliases],
    ids=lambda v: v if isinstance(v, str) else v.name,
)
def test_every_alias_finds_its_own_district(alias, district):
    assert find_district(alias) is district


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("深圳市福田区福华路3号", ["福田区"]),
        ("福田区福华路", ["福田区"]),
        ("广东省深圳市南山区粤海街道科苑路15号1栋1201", ["南山区"]),
        ("广东深圳宝安区新安街道", ["宝安区"]),
        ("深圳市 龙岗区 布吉街道", ["龙岗区"]),
        ("我住在盐田区沙头角", ["盐田区"]),
        ("深圳市龙华新区大浪街道", ["龙华区"]),
        ("大鹏新区葵涌街道", ["大鹏新区"]),
        ("深汕特别合作区鹅埠镇", ["深汕特别合作区"]),
        ("福田福华路3号", ["福田区"]),
        # The same district named twice is one district: 福田街道 is in 福田区.
        ("福田区福田街道福华路", ["福田区"]),
        # A name with 区 beats a bare one; a bare one that starts a road's name is no district.
        ("深圳市罗湖区宝安南路1号", ["罗湖区"]),
        ("罗湖宝安南路1号", ["罗湖区"]),
        ("龙岗区坪山街道", ["龙岗区"]),
        ("宝安南路1号", []),
        ("南山大道1088号", []),
        ("宝安大街5号", []),
        # Right after 深圳市 is the address's own district, whatever else it mentions.
        ("深圳市南山区科苑路（原宝安区）", ["南山区"]),
        # Otherwise two districts are two, in the order named.
        ("南山区或者福田区", ["南山区", "福田区"]),
        ("福田南山", ["福田区", "南山区"]),
        ("科苑路15号", []),
        ("广州市天河区", []),
        ("", []),
    ],
)
def test_districts_in_an_address(address, expected):
    assert [d.name for d in districts_in(address)] == expected
