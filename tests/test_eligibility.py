"""Art. 19 eligibility (models/eligibility.py): tables of dated cases, RULES.md §1–2 and worked example 7."""

from datetime import date
from types import SimpleNamespace

import pytest

from models.eligibility import (
    PersonRecords,
    Span,
    add_months,
    assess,
    continuity_of,
    continuous_since,
    records_from,
)
from models.records import month_index
from models.rules import Rules

DEFAULT = Rules()
SAME_DAY = Rules(period_met_day_after=False)
CURRENT_MONTH = Rules(current_month_counts=True)


def d(text: str) -> date:
    return date.fromisoformat(text)


def m(text: str) -> int:
    year, month = text.split("-")
    return month_index(int(year), int(month))


def months(first: str, last: str, *missing: str) -> frozenset[int]:
    return frozenset(range(m(first), m(last) + 1)) - {m(x) for x in missing}


def reg(declared: str, moved_out: str | None = None) -> Span:
    return Span(d(declared), d(moved_out) if moved_out else None)


def person(*spans: Span, paid: frozenset[int] = frozenset(), talents=(), studies=()) -> PersonRecords:
    return PersonRecords(
        registrations=spans,
        insured_months=paid,
        talents=tuple(d(t) for t in talents),
        studies=tuple((d(a), d(b)) for a, b in studies),
    )


def route(records: PersonRecords, rules: Rules, as_of: str, name: str = "A"):
    return next(r for r in assess(records, rules, d(as_of)).routes if r.route == name)


# Worked example 7: registered 2024-04-01, SI paid every month 2024-04 … 2025-03.
EX7_PAID = months("2024-04", "2025-03")
EX7 = person(reg("2024-04-01"), paid=EX7_PAID)
EX7_GAP_24 = person(reg("2024-04-01", "2024-10-01"), reg("2024-10-25"), paid=EX7_PAID)
EX7_GAP_45 = person(reg("2024-04-01", "2024-10-01"), reg("2024-11-15"), paid=EX7_PAID)
# 22 of the 24 months before 2025-06, none since 2025-04: below 18 once 2025-11 is counted.
STOPPED_AT_18_PLUS = months("2023-07", "2025-04")


@pytest.mark.parametrize(
    ("start", "count", "expected"),
    [
        pytest.param("2024-04-01", 12, "2025-04-01", id="plain"),
        pytest.param("2024-02-29", 12, "2025-02-28", id="leap day into a common year"),
        pytest.param("2024-08-31", 6, "2025-02-28", id="31st into February"),
        pytest.param("2024-01-31", 1, "2024-02-29", id="31st into a leap February"),
        pytest.param("2023-02-28", 12, "2024-02-28", id="28th stays the 28th"),
        pytest.param("2024-11-30", 3, "2025-02-28", id="across the year end"),
        pytest.param("2024-03-31", -1, "2024-02-29", id="backwards"),
    ],
)
def test_add_months(start, count, expected):
    assert add_months(d(start), count) == d(expected)


MOVED_OUT = reg("2024-04-01", "2024-10-01")
LATER = "2025-04-02"


@pytest.mark.parametrize(
    ("spans", "as_of", "gap_days", "expected"),
    [
        pytest.param([reg("2024-04-01")], LATER, 30, "2024-04-01", id="ex7 unbroken"),
        pytest.param(EX7_GAP_24.registrations, LATER, 30, "2024-04-01", id="ex7 24-day gap keeps the start"),
        pytest.param(EX7_GAP_45.registrations, LATER, 30, "2024-11-15", id="ex7 45-day gap restarts"),
        pytest.param([MOVED_OUT, reg("2024-10-31")], LATER, 30, "2024-04-01", id="30 days keeps the start"),
        pytest.param([MOVED_OUT, reg("2024-11-01")], LATER, 30, "2024-11-01", id="31 days restarts"),
        pytest.param([MOVED_OUT, reg("2024-10-31")], LATER, 29, "2024-10-31", id="30 days restarts under 29"),
        pytest.param([MOVED_OUT, reg("2024-10-01")], LATER, 0, "2024-04-01", id="declared on the move-out day"),
        pytest.param([MOVED_OUT, reg("2024-10-02")], LATER, 0, "2024-10-02", id="next day restarts under 0"),
        pytest.param([reg("2024-04-01", "2024-10-10"), reg("2024-10-01")], LATER, 30, "2024-04-01", id="overlap"),
        pytest.param([reg("2024-10-25"), MOVED_OUT], LATER, 30, "2024-04-01", id="unsorted"),
        pytest.param(
            [reg("2022-01-01", "2023-01-01"), reg("2023-06-01", "2024-01-01"), reg("2024-01-20")],
            LATER,
            30,
            "2023-06-01",
            id="an older break stays broken",
        ),
        pytest.param([reg("2024-04-01", "2025-01-05")], "2025-03-01", 30, None, id="moved out, not re-registered"),
        pytest.param([reg("2024-04-01", "2025-01-05")], "2025-01-20", 30, None, id="inside the gap: none current"),
        pytest.param([reg("2024-04-01", "2025-01-05")], "2025-01-05", 30, None, id="move-out day is not covered"),
        pytest.param([reg("2024-04-01", "2025-01-05")], "2025-01-04", 30, "2024-04-01", id="day before move-out"),
        pytest.param([reg("2024-04-01", "2025-05-01")], LATER, 30, "2024-04-01", id="later move-out not known"),
        pytest.param([reg("2025-05-01")], LATER, 30, None, id="declared after as_of"),
        pytest.param([MOVED_OUT, reg("2024-10-25")], "2024-10-20", 30, None, id="before re-registering"),
        pytest.param([], LATER, 30, None, id="no registrations"),
    ],
)
def test_continuous_since(spans, as_of, gap_days, expected):
    assert continuous_since(spans, d(as_of), gap_days) == (d(expected) if expected else None)


@pytest.mark.parametrize(
    ("records", "rules", "as_of", "eligible", "earliest"),
    [
        pytest.param(EX7, DEFAULT, "2025-03-15", False, "2025-04-02", id="ex7 refused on 03-15"),
        pytest.param(EX7, DEFAULT, "2025-04-01", False, "2025-04-02", id="ex7 04-01 refused, day after"),
        pytest.param(EX7, SAME_DAY, "2025-04-01", True, "2025-04-01", id="ex7 04-01 eligible, same day"),
        pytest.param(EX7, SAME_DAY, "2025-03-15", False, "2025-04-01", id="ex7 03-15 refused, same day"),
        pytest.param(EX7, DEFAULT, "2025-04-02", True, "2025-04-02", id="ex7 eligible on 04-02"),
        pytest.param(EX7_GAP_24, DEFAULT, "2025-04-02", True, "2025-04-02", id="ex7 24-day gap still eligible"),
        pytest.param(EX7_GAP_45, DEFAULT, "2025-04-02", False, "2025-11-16", id="ex7 45-day gap restarts"),
        pytest.param(
            person(reg("2025-01-10"), paid=months("2025-01", "2025-05")),
            DEFAULT,
            "2025-06-15",
            False,
            "2026-01-11",
            id="new resident paying since January",
        ),
        pytest.param(
            person(reg("2020-01-01"), paid=months("2024-01", "2024-08")),
            DEFAULT,
            "2025-06-15",
            False,
            None,
            id="contributions stopped",
        ),
        pytest.param(
            person(reg("2024-08-01"), paid=STOPPED_AT_18_PLUS),
            DEFAULT,
            "2025-06-15",
            False,
            "2025-08-02",
            id="stopped, cumulative lasts past the registration date",
        ),
        pytest.param(
            person(reg("2025-01-10"), paid=STOPPED_AT_18_PLUS),
            DEFAULT,
            "2025-06-15",
            False,
            None,
            id="stopped, cumulative runs out before the registration date",
        ),
        pytest.param(
            person(reg("2024-04-01", "2025-01-05"), paid=EX7_PAID), DEFAULT, "2025-03-01", False, None, id="ended"
        ),
        pytest.param(person(paid=EX7_PAID), DEFAULT, "2025-04-02", False, None, id="no registrations"),
    ],
)
def test_route_a(records, rules, as_of, eligible, earliest):
    verdict = route(records, rules, as_of)
    assert (verdict.eligible, verdict.earliest) == (eligible, d(earliest) if earliest else None)


@pytest.mark.parametrize(
    ("since", "rules", "as_of", "met", "earliest"),
    [
        pytest.param("2024-02-29", DEFAULT, "2025-02-28", False, "2025-03-01", id="leap-day start, 02-28"),
        pytest.param("2024-02-29", DEFAULT, "2025-03-01", True, "2025-03-01", id="leap-day start, 03-01"),
        pytest.param("2024-02-29", SAME_DAY, "2025-02-28", True, "2025-02-28", id="leap-day start, same day"),
        pytest.param("2023-02-28", DEFAULT, "2024-02-01", False, "2024-02-29", id="met on a Feb 29"),
        pytest.param("2023-05-31", DEFAULT, "2024-05-31", False, "2024-06-01", id="31st start"),
        pytest.param(
            "2024-08-31", Rules(registration_months=6), "2025-01-15", False, "2025-03-01", id="31st + 6 months"
        ),
        pytest.param(
            "2024-08-31",
            Rules(registration_months=6, period_met_day_after=False),
            "2025-01-15",
            False,
            "2025-02-28",
            id="31st + 6 months, same day",
        ),
        pytest.param("2024-01-31", Rules(registration_months=1), "2024-02-29", False, "2024-03-01", id="into leap Feb"),
    ],
)
def test_registration_period(since, rules, as_of, met, earliest):
    condition = route(person(reg(since)), rules, as_of).conditions[0]
    assert (condition.met, condition.earliest) == (met, d(earliest))


@pytest.mark.parametrize(
    ("paid", "rules", "as_of", "met", "earliest"),
    [
        pytest.param(months("2024-06", "2025-05"), DEFAULT, "2025-06-15", True, "2025-06-15", id="12 consecutive"),
        pytest.param(months("2024-07", "2025-05"), DEFAULT, "2025-06-15", False, "2025-07-01", id="11 consecutive"),
        pytest.param(
            months("2023-11", "2025-05", "2024-06"), DEFAULT, "2025-06-15", True, "2025-06-15", id="18 cumulative"
        ),
        pytest.param(
            months("2023-12", "2025-05", "2024-06"), DEFAULT, "2025-06-15", False, "2025-07-01", id="17 cumulative"
        ),
        pytest.param(
            months("2024-01", "2024-10") | months("2025-01", "2025-05"),
            DEFAULT,
            "2025-06-15",
            False,
            "2025-09-01",
            id="cumulative projection comes first",
        ),
        pytest.param(
            months("2024-01", "2024-08") | {m("2025-06")},
            DEFAULT,
            "2025-06-15",
            False,
            "2026-06-01",
            id="resumed this month",
        ),
        pytest.param(months("2024-01", "2024-08"), DEFAULT, "2025-06-15", False, None, id="stopped"),
        pytest.param(frozenset(), DEFAULT, "2025-06-15", False, None, id="never paid"),
        pytest.param(
            months("2024-06", "2025-05"), DEFAULT, "2025-05-20", False, "2025-06-01", id="current month not counted"
        ),
        pytest.param(
            months("2024-06", "2025-05"), CURRENT_MONTH, "2025-05-20", True, "2025-05-20", id="current month counted"
        ),
        pytest.param(
            months("2024-06", "2025-04"), DEFAULT, "2025-05-20", False, "2025-06-01", id="current unpaid, not counted"
        ),
        pytest.param(
            months("2024-06", "2025-04"), CURRENT_MONTH, "2025-05-20", False, "2025-05-20", id="current unpaid, counted"
        ),
    ],
)
def test_social_insurance(paid, rules, as_of, met, earliest):
    condition = route(person(reg("2020-01-01"), paid=paid), rules, as_of).conditions[1]
    assert (condition.met, condition.earliest) == (met, d(earliest) if earliest else None)


def test_consecutive_run_counts_from_the_registration_month():
    # Cumulative made unreachable (18 of 24 → 25 of 24), so only the run can meet it: 2024-11 + 12 months.
    rules = Rules(social_insurance_cumulative_months=25)
    condition = route(EX7_GAP_45, rules, "2025-04-02").conditions[1]
    assert (condition.met, condition.earliest) == (False, d("2025-11-01"))


ENDED = "已于2025-01-05搬离，目前没有有效的居住登记"
SI_RULE = "登记期间连续满12个月，或近24个月累计满18个月"


@pytest.mark.parametrize(
    ("records", "rules", "as_of", "name", "index", "measured", "threshold"),
    [
        pytest.param(
            EX7, DEFAULT, "2025-03-15", "A", 0, "连续居住登记11个月（自2024-04-01申报起）", "满12个月", id="ex7"
        ),
        pytest.param(
            EX7, DEFAULT, "2025-04-01", "A", 0, "连续居住登记11个月（自2024-04-01申报起）", "满12个月", id="04-01",
        ),
        pytest.param(
            EX7, SAME_DAY, "2025-04-01", "A", 0, "连续居住登记12个月（自2024-04-01申报起）", "满12个月", id="same day",
        ),
        pytest.param(
            person(reg("2025-06-01")), DEFAULT, "2025-06-15", "A", 0, "连续居住登记不足1个月（自2025-06-01申报起）",
            "满12个月", id="under a month",
        ),
        pytest.param(
            EX7, DEFAULT, "2025-03-15", "A", 1, "登记期间最长连续缴纳11个月，近24个月累计11个月（计至2025-02）",
            SI_RULE, id="ex7 social insurance",
        ),
        pytest.param(
            person(reg("2020-01-01"), paid=months("2024-01", "2024-08")), DEFAULT, "2025-06-15", "A", 1,
            "登记期间最长连续缴纳8个月，近24个月累计8个月（计至2025-05）；最近一次缴纳为2024-08，已停缴",
            SI_RULE, id="stopped",
        ),
        pytest.param(
            person(reg("2025-01-10"), paid=STOPPED_AT_18_PLUS), DEFAULT, "2025-06-15", "A", 1,
            "登记期间最长连续缴纳4个月，近24个月累计22个月（计至2025-05）；最近一次缴纳为2025-04，已停缴，"
            "2025-12-01起近24个月累计将不足18个月",
            SI_RULE, id="met on stopped contributions",
        ),
        pytest.param(
            person(reg("2020-01-01")), DEFAULT, "2025-06-15", "A", 1,
            "登记期间最长连续缴纳0个月，近24个月累计0个月（计至2025-05）；没有社保缴纳记录", SI_RULE, id="never paid",
        ),
        pytest.param(
            person(reg("2020-01-01"), paid=months("2024-06", "2025-04")), CURRENT_MONTH, "2025-05-20", "A", 1,
            "登记期间最长连续缴纳11个月，近24个月累计11个月（计至2025-05）；本月缴费记录到账即满足",
            SI_RULE, id="this month's contribution pending",
        ),
        pytest.param(
            person(paid=EX7_PAID), DEFAULT, "2025-04-02", "A", 1,
            "近24个月累计12个月（计至2025-03）", SI_RULE, id="no registration, SI",
        ),
        pytest.param(person(reg("2024-04-01", "2025-01-05")), DEFAULT, "2025-03-01", "A", 0, ENDED, "满12个月", id="A"),
        pytest.param(
            person(reg("2024-04-01", "2025-01-05")), DEFAULT, "2025-03-01", "B", 1, ENDED, "有有效的居住登记", id="B"
        ),
        pytest.param(
            person(reg("2024-04-01", "2025-01-05")), DEFAULT, "2025-03-01", "C", 1, ENDED, "有有效的居住登记", id="C"
        ),
        pytest.param(person(), DEFAULT, "2025-03-01", "A", 0, "没有居住登记记录", "满12个月", id="none"),
        pytest.param(
            person(reg("2024-04-01"), talents=["2023-05-01"]), DEFAULT, "2025-03-01", "B", 0, "已于2023-05-01认定",
            "取得人才引进认定", id="talent",
        ),
        pytest.param(
            person(reg("2024-04-01"), studies=[("2023-09-01", "2026-06-30")]), DEFAULT, "2025-03-01", "C", 0,
            "在读（2023-09-01入学，预计2026-06-30毕业）", "全日制中等及以上学历教育在读", id="study",
        ),
        pytest.param(
            person(reg("2024-04-01"), studies=[("2021-09-01", "2024-06-30")]), DEFAULT, "2025-03-01", "C", 0,
            "预计毕业日期2024-06-30已过", "全日制中等及以上学历教育在读", id="study ended",
        ),
    ],
)  # fmt: skip
def test_measured_and_threshold(records, rules, as_of, name, index, measured, threshold):
    condition = route(records, rules, as_of, name).conditions[index]
    assert (condition.measured, condition.threshold) == (measured, threshold)


def test_an_ended_registration_can_never_be_waited_out():
    for verdict in assess(person(reg("2024-04-01", "2025-01-05"), paid=EX7_PAID), DEFAULT, d("2025-03-01")).routes:
        registration = verdict.conditions[0 if verdict.route == "A" else 1]
        assert (registration.met, registration.earliest, verdict.earliest) == (False, None, None)


REGISTERED = reg("2024-04-01")


@pytest.mark.parametrize(
    ("records", "as_of", "name", "eligible", "earliest"),
    [
        pytest.param(person(REGISTERED, talents=["2023-05-01"]), "2025-03-01", "B", True, "2025-03-01", id="B met"),
        pytest.param(
            person(REGISTERED, talents=["2025-03-01"]), "2025-03-01", "B", True, "2025-03-01", id="B certified today",
        ),
        pytest.param(
            person(REGISTERED, talents=["2025-09-01"]), "2025-03-01", "B", False, "2025-09-01", id="B certified later"
        ),
        pytest.param(person(REGISTERED), "2025-03-01", "B", False, None, id="B no talent record"),
        pytest.param(person(talents=["2023-05-01"]), "2025-03-01", "B", False, None, id="B never registered"),
        pytest.param(
            person(reg("2024-04-01", "2025-01-05"), talents=["2023-05-01"]), "2025-03-01", "B", False, None,
            id="B registration ended",
        ),
        pytest.param(
            person(REGISTERED, studies=[("2023-09-01", "2026-06-30")]), "2025-03-01", "C", True, "2025-03-01",
            id="C studying",
        ),
        pytest.param(
            person(REGISTERED, studies=[("2025-03-01", "2026-06-30")]), "2025-03-01", "C", True, "2025-03-01",
            id="C enrolment day",
        ),
        pytest.param(
            person(REGISTERED, studies=[("2021-09-01", "2025-03-01")]), "2025-03-01", "C", True, "2025-03-01",
            id="C graduation day",
        ),
        pytest.param(
            person(REGISTERED, studies=[("2021-09-01", "2025-02-28")]), "2025-03-01", "C", False, None,
            id="C study ended",
        ),
        pytest.param(
            person(REGISTERED, studies=[("2021-09-01", "2025-02-28"), ("2025-09-01", "2028-06-30")]), "2025-03-01",
            "C", False, "2025-09-01", id="C next study starts later",
        ),
        pytest.param(person(REGISTERED), "2025-03-01", "C", False, None, id="C no study record"),
        pytest.param(
            person(reg("2024-04-01", "2025-01-05"), studies=[("2023-09-01", "2026-06-30")]), "2025-03-01", "C",
            False, None, id="C registration ended",
        ),
    ],
)  # fmt: skip
def test_routes_b_and_c(records, as_of, name, eligible, earliest):
    verdict = route(records, DEFAULT, as_of, name)
    assert (verdict.eligible, verdict.earliest) == (eligible, d(earliest) if earliest else None)


@pytest.mark.parametrize(
    ("records", "as_of", "eligible", "closest"),
    [
        pytest.param(EX7, "2025-04-02", True, "A", id="A eligible"),
        pytest.param(person(REGISTERED, talents=["2023-05-01"]), "2025-03-01", True, "B", id="B eligible, A not"),
        pytest.param(person(REGISTERED, talents=["2023-05-01"], paid=EX7_PAID), "2025-04-02", True, "A", id="A and B"),
        pytest.param(
            person(reg("2025-01-10"), paid=months("2025-01", "2025-05"), studies=[("2025-09-01", "2028-06-30")]),
            "2025-06-15",
            False,
            "C",
            id="C sooner than A",
        ),
        pytest.param(
            person(reg("2025-01-10"), paid=months("2025-01", "2025-05"), talents=["2026-03-01"]),
            "2025-06-15",
            False,
            "A",
            id="A sooner than B",
        ),
        pytest.param(
            person(reg("2024-04-01", "2025-01-05"), talents=["2023-05-01"]), "2025-03-01", False, "A", id="none dated"
        ),
    ],
)
def test_closest(records, as_of, eligible, closest):
    assessment = assess(records, DEFAULT, d(as_of))
    assert (assessment.eligible, assessment.closest.route) == (eligible, closest)


def test_routes_come_in_order_with_titles():
    assessment = assess(EX7, DEFAULT, d("2025-04-02"))
    titles = [(r.route, r.title) for r in assessment.routes]
    assert titles == [("A", "居住+社保"), ("B", "人才引进"), ("C", "全日制在校学生")]
    assert [c.name for c in assessment.routes[0].conditions] == ["连续居住登记", "社保"]


def test_records_from_orm_rows():
    records = records_from(
        registrations=[
            SimpleNamespace(declared_on=d("2024-04-01"), move_out_on=d("2024-10-01"), move_in_on=d("2024-03-28")),
            SimpleNamespace(declared_on=d("2024-10-25"), move_out_on=None, move_in_on=d("2024-10-20")),
        ],
        insurance=[SimpleNamespace(month=m(x)) for x in ("2024-04", "2024-05")],
        talents=[SimpleNamespace(certified_on=d("2023-05-01"))],
        studies=[SimpleNamespace(enrolled_on=d("2023-09-01"), expected_graduation_on=d("2026-06-30"))],
    )
    assert records == person(
        reg("2024-04-01", "2024-10-01"),
        reg("2024-10-25"),
        paid=months("2024-04", "2024-05"),
        talents=["2023-05-01"],
        studies=[("2023-09-01", "2026-06-30")],
    )


@pytest.mark.parametrize(
    ("spans", "declared_on", "since", "broken_after"),
    [
        pytest.param([reg("2026-12-03")], "2026-12-03", "2026-12-03", None, id="first declaration"),
        pytest.param(
            [reg("2026-12-03", "2026-12-03"), reg("2026-12-03")], "2026-12-03", "2026-12-03", None, id="same day twice"
        ),
        pytest.param(
            [reg("2025-01-10", "2026-12-03"), reg("2026-12-03")], "2026-12-03", "2025-01-10", None, id="moving house"
        ),
        pytest.param(
            [reg("2025-01-10", "2026-11-03"), reg("2026-12-03")], "2026-12-03", "2025-01-10", None, id="30 days later"
        ),
        pytest.param(
            [reg("2025-01-10", "2026-11-02"), reg("2026-12-03")], "2026-12-03", "2026-12-03", "2026-11-02", id="31 days"
        ),
    ],
)
def test_what_a_declaration_means_for_continuity(spans, declared_on, since, broken_after):
    continuity = continuity_of(spans, date.fromisoformat(declared_on), 30)
    assert continuity.since == date.fromisoformat(since)
    assert continuity.broken_after == (date.fromisoformat(broken_after) if broken_after else None)
