"""Art. 24: may the permit be endorsed today, as a pure function of the person's records and a date.

In the year before the endorsement date (`endorsement_lookback_months`), residence registration of
at least `endorsement_min_months` months cumulative and social insurance of as many; or a talent,
or a full-time student, with a residence registration current on the day.

Readings [U]:
- The year before 2026-02-01 is 2025-02-01 … 2026-01-31 (RULES.md worked example 8).
- Registration months are the year's month-long slices (2025-02-01 … 2025-02-28, …, each ending the
  day before the same date a month later) that registrations cover completely, a registration
  covering `declared_on` up to the day before `move_out_on`. So a registration running since a date
  counts the whole months since then, as models/eligibility.py counts them.
- Social-insurance months are the calendar months of the year before the current month (with
  `current_month_counts`, up to the current month) with a contribution on record.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from models.eligibility import PersonRecords, Span, add_months
from models.records import month_index, month_of
from models.rules import Rules

ONE_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Measure:
    """One condition in words: what the records show, what is needed, and what is missing."""

    name: str
    measured: str
    needed: str
    met: bool
    missing: str = ""  # empty when met


@dataclass(frozen=True, slots=True)
class EndorsementCheck:
    year: tuple[date, date]  # the year before the endorsement date, both days included
    measures: tuple[Measure, ...]  # of the route that is met, else of registration and social insurance
    met: bool


def check_endorsement(records: PersonRecords, rules: Rules, as_of: date) -> EndorsementCheck:
    months = rules.endorsement_lookback_months
    year = (add_months(as_of, -months), as_of - ONE_DAY)
    registered = _registered_on(records.registrations, as_of)
    # Talents and students with a registration endorse directly (Art. 24).
    for name, measured, holds in (
        ("人才引进认定", "已认定", any(day <= as_of for day in records.talents)),
        ("全日制在读", "在读", any(enrolled <= as_of <= graduates for enrolled, graduates in records.studies)),
    ):
        if holds and registered:
            measures = (Measure(name, measured, measured, True), Measure("居住登记", "有效", "有效", True))
            return EndorsementCheck(year, measures, True)
    measures = (_registration(records.registrations, rules, as_of), _insurance(records.insured_months, rules, as_of))
    return EndorsementCheck(year, measures, all(m.met for m in measures))


def _registered_on(spans: tuple[Span, ...], day: date) -> bool:
    return any(s.declared_on <= day and (s.move_out_on is None or day < s.move_out_on) for s in spans)


def _registration(spans: tuple[Span, ...], rules: Rules, as_of: date) -> Measure:
    needed = rules.endorsement_min_months
    months = rules.endorsement_lookback_months
    # What is known on as_of: a registration declared later does not count, a later move-out is not known yet.
    known = [s for s in spans if s.declared_on <= as_of]

    def covered(day: date) -> bool:
        return any(s.declared_on <= day and (s.move_out_on is None or day < s.move_out_on) for s in known)

    counted = 0
    for i in range(months):
        first, last = add_months(as_of, i - months), add_months(as_of, i - months + 1) - ONE_DAY
        days = (first + timedelta(days=d) for d in range((last - first).days + 1))
        counted += all(covered(day) for day in days)
    return Measure(
        "居住登记",
        f"近{months}个月累计{counted}个月",
        f"满{needed}个月",
        counted >= needed,
        "" if counted >= needed else f"还差{needed - counted}个月",
    )


def _insurance(paid: frozenset[int], rules: Rules, as_of: date) -> Measure:
    needed = rules.endorsement_min_months
    months = rules.endorsement_lookback_months
    current = month_index(as_of.year, as_of.month)
    last = current if rules.current_month_counts else current - 1
    counted = sum(1 for month in range(last - months + 1, last + 1) if month in paid)
    first_year, first_month = month_of(last - months + 1)
    last_year, last_month = month_of(last)
    return Measure(
        "社保",
        f"{first_year}-{first_month:02d}至{last_year}-{last_month:02d}累计缴纳{counted}个月",
        f"满{needed}个月",
        counted >= needed,
        "" if counted >= needed else f"还差{needed - counted}个月",
    )
