from datetime import date

import pytest

from bot.text import masked_id
from conversations.parsers import (
    PASSWORD_RULE_WITH_ID,
    Invalid,
    cn_mobile,
    district,
    flexible_date,
    new_password,
    non_empty,
    photo_number,
    resident_id,
    uscc,
)

TODAY = date(2025, 6, 1)


def test_invalid_is_a_value_error_carrying_its_message():
    error = Invalid("手机号码应为11位。")
    assert isinstance(error, ValueError)
    assert error.message == "手机号码应为11位。"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("11010519491231002X", "11010519491231002X"),  # the standard's own example
        ("11010519491231002x", "11010519491231002X"),
        ("440304199001011233", "440304199001011233"),
        ("  440304 19900101 1233 ", "440304199001011233"),
        ("４４０３０４１９９００１０１１２３３", "440304199001011233"),
        ("440304-19900101-1233", "440304199001011233"),
        ("440304202506011233", "440304202506011233"),  # born today
        # Region codes newer than the birth year, which stdnum.cn.ric refuses.
        ("44030619850615123X", "44030619850615123X"),  # 宝安区 (1992-), born 1985
        ("440309198808084561", "440309198808084561"),  # 龙华区 (2016-), born 1988
        ("440311200001010029", "440311200001010029"),  # 光明区 (2018-), born 2000
        ("440321199001010018", "440321199001010018"),  # 宝安县, retired in 1992
    ],
)
def test_resident_id_accepts(text, expected):
    assert resident_id(text, today=TODAY) == expected


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("440304199001011234", "校验位不对"),
        ("4403041990010112", "应为18位，您输入了16位"),
        ("4403041990010112331", "应为18位，您输入了19位"),
        ("", "应为18位，您输入了0位"),
        ("440304900101123", "15位旧身份证号码"),
        ("44030419900101123Y", "只能包含数字"),
        ("身份证号码", "只能包含数字"),
        ("4403041990X1011233", "只有末位可以是X"),
        ("440304199002301232", "19900230不是有效日期"),
        ("440304202506021239", "出生日期2025年6月2日晚于今天"),
        ("44039919900101123X", "地区码440399不存在"),
        ("990101199001011230", "地区码990101不存在"),
    ],
)
def test_resident_id_refuses_naming_the_problem(text, problem):
    with pytest.raises(Invalid) as caught:
        resident_id(text, today=TODAY)
    assert problem in caught.value.message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("13812345678", "13812345678"),
        ("19912345678", "19912345678"),
        (" 138 1234 5678 ", "13812345678"),
        ("138-1234-5678", "13812345678"),
        ("+86 138 1234 5678", "13812345678"),
        ("+8613812345678", "13812345678"),
        ("8613812345678", "13812345678"),
        ("0086 13812345678", "13812345678"),
        ("１３８１２３４５６７８", "13812345678"),
        ("＋８６　１３８１２３４５６７８", "13812345678"),
    ],
)
def test_cn_mobile_accepts(text, expected):
    assert cn_mobile(text) == expected


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("1381234567", "应为11位，您输入了10位"),
        ("138123456789", "应为11位，您输入了12位"),
        ("", "应为11位，您输入了0位"),
        ("12812345678", "应以13至19开头"),
        ("23812345678", "应以13至19开头"),
        ("0755-12345678", "固定电话"),
        ("138abc45678", "只能包含数字"),
        ("+1 415 555 0100", "只能包含数字"),
    ],
)
def test_cn_mobile_refuses_naming_the_problem(text, problem):
    with pytest.raises(Invalid) as caught:
        cn_mobile(text)
    assert problem in caught.value.message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-03-01", "2025-03-01"),
        ("2025/3/1", "2025-03-01"),
        ("2025.3.1", "2025-03-01"),
        ("2025年3月1日", "2025-03-01"),
        ("2025年3月1", "2025-03-01"),
        ("2025年3月1号", "2025-03-01"),
        ("2025 年 3 月 1 日", "2025-03-01"),
        (" ２０２５年３月１日 ", "2025-03-01"),
        ("２０２５／０３／０１", "2025-03-01"),
        ("2024-02-29", "2024-02-29"),
        ("2025/12/31", "2025-12-31"),
    ],
)
def test_flexible_date_accepts(text, expected):
    assert flexible_date(text) == expected


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("2025-02-29", "2025年2月没有29日（这个月只有28天）"),
        ("2025-04-31", "2025年4月没有31日（这个月只有30天）"),
        ("2025年1月0日", "2025年1月没有0日"),
        ("2025-13-01", "月份13不对"),
        ("2025-00-10", "月份0不对"),
        ("1899-12-31", "年份1899不对"),
        ("2025-3/1", "日期格式不对"),
        ("3/1/2025", "日期格式不对"),
        ("25-3-1", "日期格式不对"),
        ("2025年3月", "日期格式不对"),
        ("昨天", "日期格式不对"),
        ("", "日期格式不对"),
    ],
)
def test_flexible_date_refuses_naming_the_problem(text, problem):
    with pytest.raises(Invalid) as caught:
        flexible_date(text)
    assert problem in caught.value.message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("今天", "2025-06-01"),
        ("今日", "2025-06-01"),
        (" 今天 ", "2025-06-01"),
        ("昨天", "2025-05-31"),
        ("昨日", "2025-05-31"),
        ("前天", "2025-05-30"),
        ("2025-03-01", "2025-03-01"),
    ],
)
def test_flexible_date_given_today_accepts_the_words_for_recent_days(text, expected):
    assert flexible_date(text, today=TODAY) == expected


def test_flexible_date_words_cross_month_and_year_ends():
    assert flexible_date("昨天", today=date(2025, 3, 1)) == "2025-02-28"
    assert flexible_date("前天", today=date(2026, 1, 1)) == "2025-12-30"


@pytest.mark.parametrize(
    ("text", "bounds", "problem"),
    [
        ("昨天", {"not_before": TODAY}, "日期不能早于2025年6月1日"),
        ("前天", {"not_before": date(2025, 5, 31)}, "日期不能早于2025年5月31日"),
        ("今天", {"not_after": date(2025, 5, 31)}, "日期不能晚于2025年5月31日"),
    ],
)
def test_flexible_date_bounds_apply_to_the_words_too(text, bounds, problem):
    with pytest.raises(Invalid) as caught:
        flexible_date(text, today=TODAY, **bounds)
    assert problem in caught.value.message


@pytest.mark.parametrize("text", ["明天", "大前天", "今天下午", "today"])
def test_flexible_date_given_today_refuses_other_words_and_says_which_it_takes(text):
    with pytest.raises(Invalid) as caught:
        flexible_date(text, today=TODAY)
    assert "日期格式不对" in caught.value.message and "也可以回复「今天」或「昨天」" in caught.value.message


def test_flexible_date_without_today_takes_no_words():
    # Imported files have no "today" to read 今天 against.
    with pytest.raises(Invalid) as caught:
        flexible_date("今天", not_after=TODAY)
    assert "日期格式不对" in caught.value.message and "今天" not in caught.value.message


@pytest.mark.parametrize(("text", "expected"), [("2025-06-01", "2025-06-01"), ("2020-01-01", "2020-01-01")])
def test_flexible_date_accepts_up_to_not_after(text, expected):
    assert flexible_date(text, not_after=TODAY) == expected


def test_flexible_date_refuses_a_date_after_not_after():
    with pytest.raises(Invalid) as caught:
        flexible_date("2025-06-02", not_after=TODAY)
    assert "日期不能晚于2025年6月1日" in caught.value.message


@pytest.mark.parametrize(("text", "expected"), [("2025-06-01", "2025-06-01"), ("2030-01-01", "2030-01-01")])
def test_flexible_date_accepts_from_not_before(text, expected):
    assert flexible_date(text, not_before=TODAY) == expected


def test_flexible_date_refuses_a_date_before_not_before():
    with pytest.raises(Invalid) as caught:
        flexible_date("2025年5月31日", not_before=TODAY)
    assert "日期不能早于2025年6月1日" in caught.value.message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("91110000600037341L", "91110000600037341L"),
        ("9144030071526726XG", "9144030071526726XG"),
        ("9144030071526726xg", "9144030071526726XG"),
        (" 91440300 715267 26XG ", "9144030071526726XG"),
        ("９１４４０３００７１５２６７２６ＸＧ", "9144030071526726XG"),
        # Registering authorities N (rural collectives) and Y (other), which stdnum.cn.uscc refuses.
        ("N24403001234567X8T", "N24403001234567X8T"),
        ("Y1440300MA5D123457", "Y1440300MA5D123457"),
    ],
)
def test_uscc_accepts(text, expected):
    assert uscc(text) == expected


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("9144030071526726X", "应为18位，您输入了17位"),
        ("", "应为18位，您输入了0位"),
        ("9144030071526726XH", "校验位不对"),
        ("9144030071526726OG", "没有I、O、Z、S、V"),
        ("91A40300715267260G", "第3至8位是数字"),
    ],
)
def test_uscc_refuses_naming_the_problem(text, problem):
    with pytest.raises(Invalid) as caught:
        uscc(text)
    assert problem in caught.value.message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("  深圳市南山区桃园路1号  ", "深圳市南山区桃园路1号"),
        ("A座\n 1201  室", "A座 1201 室"),
        ("ＡＢＣ　１２３", "ABC 123"),
        ("字" * 100, "字" * 100),
    ],
)
def test_non_empty_accepts(text, expected):
    assert non_empty(text) == expected


@pytest.mark.parametrize(
    ("text", "max_len", "problem"),
    [
        ("", 100, "不能为空"),
        (" \n\t", 100, "不能为空"),
        ("\u3000", 100, "不能为空"),
        ("字" * 101, 100, "最多100个字，您输入了101个字"),
        ("张三丰", 2, "最多2个字，您输入了3个字"),
    ],
)
def test_non_empty_refuses_naming_the_problem(text, max_len, problem):
    with pytest.raises(Invalid) as caught:
        non_empty(text, max_len=max_len)
    assert problem in caught.value.message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("南山区", "南山区"),
        ("南山", "南山区"),
        ("3", "南山区"),
        ("11", "深汕特别合作区"),
        ("大鹏", "大鹏新区"),
        ("龙华新区", "龙华区"),
    ],
)
def test_district_returns_the_canonical_name(text, expected):
    assert district(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("深圳市福田区福华路3号", "福田区"),
        ("福田区福华路", "福田区"),
        ("广东省深圳市南山区粤海街道科苑路15号", "南山区"),
        ("深圳市罗湖区宝安南路1号", "罗湖区"),
        ("宝安区福永街道", "宝安区"),
        ("深圳市龙华新区大浪街道", "龙华区"),
    ],
)
def test_district_takes_the_district_an_address_names(text, expected):
    assert district(text) == expected


@pytest.mark.parametrize(
    ("text", "named"),
    [("南山区或者福田区", "「南山区」和「福田区」"), ("福田南山", "「福田区」和「南山区」")],
)
def test_district_asks_which_when_an_address_names_two(text, named):
    with pytest.raises(Invalid) as caught:
        district(text)
    assert f"您的回复里有{named}，是哪一个区" in caught.value.message


@pytest.mark.parametrize("text", ["东莞", "0", "12", "", "宝安南路1号", "广州市天河区"])
def test_district_refusal_lists_every_accepted_name(text):
    with pytest.raises(Invalid) as caught:
        district(text)
    message = caught.value.message
    assert "没有找到这个区" in message
    assert "1 福田区" in message
    assert "10 大鹏新区" in message
    assert "11 深汕特别合作区" in message


@pytest.mark.parametrize(
    ("id_number", "expected"),
    [
        ("440304199001011233", "4403**********1233"),
        ("11010519491231002X", "1101**********002X"),
    ],
)
def test_masked_id_keeps_the_first_four_and_last_four(id_number, expected):
    assert masked_id(id_number) == expected


@pytest.mark.parametrize("id_number", ["", "4403", "440304900101123"])
def test_masked_id_refuses_anything_but_18_characters(id_number):
    with pytest.raises(ValueError, match="18-character"):
        masked_id(id_number)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("4403A12B34", "4403A12B34"),  # 10, the fewest
        ("4403-a12b 34c56d", "4403A12B34C56D"),  # dashes and spaces dropped, upper-cased
        ("４４０３Ａ１２Ｂ３４", "4403A12B34"),  # full-width, from a Chinese keyboard
        ("1" * 30, "1" * 30),  # 30, the most
    ],
)
def test_photo_number_accepts(text, expected):
    assert photo_number(text) == expected


@pytest.mark.parametrize("text", ["4403A12B3", "1" * 31, "4403A12B34中", "4403_A12B34", ""])
def test_photo_number_refuses_and_says_where_to_find_it(text):
    with pytest.raises(Invalid) as refused:
        photo_number(text)
    assert "10到30位字母和数字" in refused.value.message and "数码照片回执" in refused.value.message


@pytest.mark.parametrize(
    ("password", "accepted"),
    [
        ("abcd1234", True),  # 8
        ("a1" * 32, True),  # 64
        ("a1" * 32 + "b", False),  # 65
        ("abcdefgh", False),
        ("xx440399yy", True),  # 6 digits, but not 6 in a row of the ID number's
        ("xx900101yy", False),  # 6 in a row of it
        ("zhang_san99", False),  # the username
    ],
)
def test_the_password_rule_is_the_one_the_questions_state(password, accepted):
    assert PASSWORD_RULE_WITH_ID.startswith("8到64位，同时包含字母和数字，不能包含用户名")
    try:
        new_password(password, username="zhang_san", id_number="440304199001011233")
    except Invalid:
        assert not accepted
    else:
        assert accepted
