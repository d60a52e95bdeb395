"""Every answer parser, on any text a resident may send: an answer or `Invalid` with a Chinese
reason, never another exception (issue 12, point 4). What a parser returns it accepts again
unchanged, and the forms SPEC §4 names are read whatever spaces, dashes or full-width digits
come with them. Profiles: tests/properties.py.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from datetime import date, timedelta
from functools import partial

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from stdnum.cn import ric
from stdnum.cn import uscc as stdnum_uscc

from conversations import parsers
from conversations.flow import choose
from conversations.parsers import Invalid
from models.districts import DISTRICTS
from tests.properties import TYPED
from tests.test_choices import STEPS

TODAY = date(2026, 12, 3)

# Each parser as a step calls it; the ones that need the date get the same fixed day.
PARSERS: dict[str, Callable[[str], str]] = {
    "resident_id": partial(parsers.resident_id, today=TODAY),
    "cn_mobile": parsers.cn_mobile,
    "flexible_date": parsers.flexible_date,
    "flexible_date(today, bounds)": partial(
        parsers.flexible_date, today=TODAY, not_before=date(2000, 1, 1), not_after=TODAY
    ),
    "uscc": parsers.uscc,
    "photo_number": parsers.photo_number,
    "non_empty": parsers.non_empty,
    "person_name": parsers.person_name,
    "username": parsers.username,
    "sms_code": parsers.sms_code,
    "new_password": partial(parsers.new_password, username="zhangsan", id_number="440304199001011234"),
    "district": parsers.district,
}
# What they return they accept again as it is (new_password keeps what was typed, so it is not here).
STABLE = [name for name in PARSERS if name != "new_password"]
CJK = re.compile(r"[\u4e00-\u9fff]")


def outcome(parse: Callable[[str], str], text: str) -> str | Invalid:
    try:
        return parse(text)
    except Invalid as invalid:
        return invalid


@pytest.mark.parametrize("name", PARSERS)
@given(text=TYPED)
def test_any_text_is_an_answer_or_a_reason_in_chinese(name, text):
    result = outcome(PARSERS[name], text)
    if isinstance(result, Invalid):
        assert CJK.search(str(result))
    else:
        assert isinstance(result, str) and result


@pytest.mark.parametrize("name", STABLE)
@given(data=st.data())
def test_an_accepted_answer_is_accepted_again_as_it_is(name, data):
    result = outcome(PARSERS[name], data.draw(st.one_of(TYPED, likely()[name]), label="text"))
    if not isinstance(result, Invalid):
        assert PARSERS[name](result) == result


# -- the forms SPEC §4 names, written as residents write them ------------------------------------

REGIONS = ("110101", "310104", "440303", "440304", "440305", "440306", "440307", "440308", "510107", "659001")


@st.composite
def resident_ids(draw: st.DrawFn) -> str:
    born = draw(st.dates(date(1900, 1, 1), TODAY))
    body = f"{draw(st.sampled_from(REGIONS))}{born:%Y%m%d}{draw(st.integers(0, 999)):03d}"
    return body + ric.calc_check_digit(body + "?")  # it reads the number with its check digit


def as_typed(draw: st.DrawFn, value: str) -> str:
    """The value with what people type around and inside numbers: spaces, dashes, full width."""
    out = []
    for char in value:
        if draw(st.integers(0, 5)) == 0:
            char = unicodedata.normalize("NFKC", char) if not char.isascii() else chr(ord(char) + 0xFEE0)
        out.append(char + draw(st.sampled_from(["", "", "", " ", "-"])))
    return draw(st.sampled_from(["", " "])) + "".join(out).strip("-")


@given(data=st.data(), number=resident_ids())
def test_a_valid_id_number_is_read_however_it_is_typed(data, number):
    typed = as_typed(data.draw, number.lower())
    assert parsers.resident_id(typed, today=TODAY) == number


@given(number=resident_ids(), place=st.integers(0, 16), digit=st.integers(0, 9))
def test_one_wrong_digit_in_an_id_number_is_refused(number, place, digit):
    assume(number[place] != str(digit))
    wrong = number[:place] + str(digit) + number[place + 1 :]
    assert isinstance(outcome(PARSERS["resident_id"], wrong), Invalid)


@given(data=st.data(), number=st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True))
def test_a_mobile_number_is_read_with_or_without_the_country_code(data, number):
    prefix = data.draw(st.sampled_from(["", "+86", "0086", "86", "+86 "]))
    assert parsers.cn_mobile(prefix + as_typed(data.draw, number)) == number


@given(day=st.dates(date(1900, 1, 1), date(2100, 12, 31)), form=st.integers(0, 3))
def test_a_date_is_read_in_each_written_form(day, form):
    written = (
        f"{day:%Y-%m-%d}",
        f"{day.year}/{day.month}/{day.day}",
        f"{day.year}.{day.month}.{day.day}",
        f"{day.year}年{day.month}月{day.day}日",
    )[form]
    assert parsers.flexible_date(written) == day.isoformat()


@given(data=st.data())
def test_a_bounded_date_is_never_outside_its_bounds(data):
    name = "flexible_date(today, bounds)"
    result = outcome(PARSERS[name], data.draw(st.one_of(TYPED, likely()[name]), label="text"))
    if not isinstance(result, Invalid):
        assert date(2000, 1, 1) <= date.fromisoformat(result) <= TODAY


@given(days=st.integers(0, 2))
def test_today_yesterday_and_the_day_before_are_dates(days):
    word = ("今天", "昨天", "前天")[days]
    assert parsers.flexible_date(word, today=TODAY) == (TODAY - timedelta(days=days)).isoformat()


USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


@st.composite
def usccs(draw: st.DrawFn) -> str:
    head = draw(st.text(USCC_ALPHABET, min_size=2, max_size=2))
    region = draw(st.from_regex(r"[0-9]{6}", fullmatch=True))
    rest = draw(st.text(USCC_ALPHABET, min_size=9, max_size=9))
    body = head + region + rest
    return body + stdnum_uscc.calc_check_digit(body)


@given(data=st.data(), code=usccs())
def test_a_valid_uscc_is_read_however_it_is_typed(data, code):
    assert parsers.uscc(as_typed(data.draw, code.lower())) == code


@given(district=st.sampled_from(DISTRICTS), number=st.booleans())
def test_a_district_is_read_by_name_or_number(district, number):
    answer = str(DISTRICTS.index(district) + 1) if number else district.name
    assert parsers.district(answer) == district.name


# -- choices: every step that offers them, over every flow ---------------------------------------


@pytest.mark.parametrize("step", STEPS, ids=lambda step: step.name)
@given(text=TYPED)
def test_any_text_at_a_choice_picks_one_of_its_choices_or_lists_them(step, text):
    result = outcome(partial(choose, step.choices), text)
    if isinstance(result, Invalid):
        assert "1（" in str(result)
    else:
        assert result in [choice.kept for choice in step.choices]


def likely() -> dict[str, st.SearchStrategy[str]]:
    """Per parser, text that is often an answer (random text seldom is)."""
    some_date = st.dates(date(1890, 1, 1), date(2100, 12, 31)).map(lambda d: f"{d.year}年{d.month}月{d.day}日")
    return {
        "resident_id": resident_ids(),
        "cn_mobile": st.from_regex(r"(\+86)?1[0-9]{10}", fullmatch=True),
        "flexible_date": some_date,
        "flexible_date(today, bounds)": st.one_of(some_date, st.sampled_from(["今天", "昨天", "前天"])),
        "uscc": usccs(),
        "photo_number": st.from_regex(r"[0-9A-Za-z -]{8,34}", fullmatch=True),
        "non_empty": st.text(min_size=1, max_size=120),
        "person_name": st.from_regex(r"[\u4e00-\u9fff·. ]{1,22}|[A-Za-z][A-Za-z .'-]{0,50}", fullmatch=True),
        "username": st.from_regex(r"[A-Za-z0-9_]{3,21}", fullmatch=True),
        "sms_code": st.from_regex(r" ?[0-9]{5,7} ?", fullmatch=True),
        "district": st.sampled_from([d.name for d in DISTRICTS] + [str(n) for n in range(12)]),
    }
