"""Art. 24, the conditions of an endorsement, as tables of dated cases (RULES.md §4, worked example 8)."""

from __future__ import annotations

from datetime import date

import pytest

from models.eligibility import PersonRecords, Span
from models.endorsement_conditions import check_endorsement
from models.records import month_index
from models.rules import Rules

D = date
RULES = Rules()
APPLY = D(2026, 2, 1)  # example 8: the year before is 2025-02-01 … 2026-01-31


def insured(first: tuple[int, int], count: int) -> frozenset[int]:
    start = month_index(*first)
    return frozenset(range(start, start + count))


def test_the_year_before_the_endorsement_date():
    assert check_endorsement(PersonRecords(), RULES, APPLY).year == (D(2025, 2, 1), D(2026, 1, 31))


@pytest.mark.parametrize(
    ("registrations", "insurance", "met", "shown"),
    [
        # Example 8: registration 9 months, SI 7 → refused (SI < 8); with SI 8 → endorsed.
        ((Span(D(2025, 5, 1)),), insured((2025, 6), 7), False, ("近12个月累计9个月", "累计缴纳7个月", "还差1个月")),
        ((Span(D(2025, 5, 1)),), insured((2025, 6), 8), True, ("近12个月累计9个月", "累计缴纳8个月")),
        ((Span(D(2025, 6, 1)),), insured((2025, 2), 12), True, ("累计8个月",)),
        ((Span(D(2025, 6, 2)),), insured((2025, 2), 12), False, ("累计7个月", "还差1个月")),
        # Two registrations with a gap: their whole months add up.
        ((Span(D(2025, 2, 1), D(2025, 6, 1)), Span(D(2025, 9, 1))), insured((2025, 2), 12), True, ("累计9个月",)),
        ((Span(D(2025, 2, 1), D(2025, 5, 1)), Span(D(2025, 10, 1))), insured((2025, 2), 12), False, ("累计7个月",)),
        # A registration declared after the date does not count; the application month's SI does not either.
        ((Span(D(2026, 2, 2)),), insured((2025, 2), 12), False, ("累计0个月", "还差8个月")),
        ((Span(D(2024, 1, 1)),), insured((2025, 7), 8), False, ("2025-02至2026-01累计缴纳7个月",)),
    ],
)
def test_residence_and_social_insurance_months_in_the_year_before(registrations, insurance, met, shown):
    check = check_endorsement(PersonRecords(registrations=registrations, insured_months=insurance), RULES, APPLY)
    text = "；".join(f"{m.name}{m.measured}{m.missing}" for m in check.measures)
    assert check.met is met
    assert all(part in text for part in shown), text


def test_a_month_end_date_counts_the_month_long_slices_to_each_month_end():
    # The year before 2025-03-31: 2024-03-31 … 2025-03-30; since 2024-07-31 are 8 whole months.
    records = PersonRecords(registrations=(Span(D(2024, 7, 31)),), insured_months=insured((2024, 3), 12))
    assert check_endorsement(records, RULES, D(2025, 3, 31)).measures[0].measured == "近12个月累计8个月"


def test_a_talent_with_a_current_registration_endorses_directly():
    records = PersonRecords(registrations=(Span(D(2026, 1, 20)),), talents=(D(2023, 7, 1),))
    check = check_endorsement(records, RULES, APPLY)
    assert check.met and check.measures[0].name == "人才引进认定"


def test_a_student_with_a_current_registration_endorses_directly():
    records = PersonRecords(registrations=(Span(D(2026, 1, 20)),), studies=((D(2024, 9, 1), D(2027, 6, 30)),))
    assert check_endorsement(records, RULES, APPLY).met


def test_a_talent_without_a_current_registration_is_held_to_the_months():
    records = PersonRecords(registrations=(Span(D(2025, 1, 1), D(2026, 1, 1)),), talents=(D(2023, 7, 1),))
    check = check_endorsement(records, RULES, APPLY)
    assert not check.met and [m.name for m in check.measures] == ["居住登记", "社保"]


def test_the_thresholds_are_the_rules():
    records = PersonRecords(registrations=(Span(D(2025, 5, 1)),), insured_months=insured((2025, 6), 7))
    assert check_endorsement(records, Rules(endorsement_min_months=6), APPLY).met
