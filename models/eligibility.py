"""Art. 19: who may apply for a residence permit, as pure functions of a person's records and a date.

Routes: A (12 months' continuous registration and social insurance), B (talent with a registration),
C (full-time student with a registration); see RULES.md §1–2. Nothing here reads the clock or the
database: callers load the rows, turn them into `PersonRecords` (`records_from`) and pass `as_of`.

Readings (those RULES.md marks [U] are `Rules` fields, set in config.yaml `rules:`):
- Registration periods run from the declaration date, not the move-in date.
- A registration covers `declared_on` up to the day before `move_out_on`: on the move-out day the
  person is no longer registered there. Once moved out with no new declaration, every registration
  condition is unmet with no earliest date ("已于…搬离，目前没有有效的居住登记"): waiting cannot
  mend it, only a new declaration can (within the gap it keeps the earlier start).
- The assessment is made with what is known on `as_of`: registrations declared later are ignored
  and a move-out dated later is not yet known, so that registration counts as still running.
  Talent and study records dated later are kept, since they say when a condition will be met.
- `earliest` is the first date on or after `as_of` on which a condition holds, projecting that the
  current registration continues and that social insurance is paid every month after the last paid
  one, if it is being paid now (a contribution for `as_of`'s month or the month before).
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal, Protocol

from models.records import month_index, month_of
from models.rules import Rules

ONE_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Span:
    """One residence registration: declared on `declared_on`, running until `move_out_on` (None: still open)."""

    declared_on: date
    move_out_on: date | None = None


@dataclass(frozen=True, slots=True)
class PersonRecords:
    registrations: tuple[Span, ...] = ()
    insured_months: frozenset[int] = frozenset()  # month indexes (models.records.month_index)
    talents: tuple[date, ...] = ()  # certification dates
    studies: tuple[tuple[date, date], ...] = ()  # (enrolled_on, expected_graduation_on)


class RegistrationRow(Protocol):
    declared_on: date
    move_out_on: date | None


class InsuranceRow(Protocol):
    month: int


class TalentRow(Protocol):
    certified_on: date


class StudyRow(Protocol):
    enrolled_on: date
    expected_graduation_on: date


def records_from(
    registrations: Iterable[RegistrationRow] = (),
    insurance: Iterable[InsuranceRow] = (),
    talents: Iterable[TalentRow] = (),
    studies: Iterable[StudyRow] = (),
) -> PersonRecords:
    """Build the records from ORM rows (ResidenceRegistration, SocialInsuranceMonth, TalentRecord,
    StudentRecord) or anything with the same attribute names. `move_in_on` is not read: periods run
    from the declaration date."""
    return PersonRecords(
        registrations=tuple(Span(r.declared_on, r.move_out_on) for r in registrations),
        insured_months=frozenset(m.month for m in insurance),
        talents=tuple(t.certified_on for t in talents),
        studies=tuple((s.enrolled_on, s.expected_graduation_on) for s in studies),
    )


@dataclass(frozen=True, slots=True)
class Condition:
    """One condition of a route, in words for the resident.

    `earliest`: `as_of` when met now; for an unmet condition the first date it will be met under the
    projection, or None if waiting will not meet it. An unmet condition with `earliest == as_of`
    happens only with current_month_counts: it is met once this month's contribution is recorded.
    Social insurance met now on stopped contributions can lapse; `measured` then says from when.
    """

    name: str
    measured: str
    threshold: str
    met: bool
    earliest: date | None


@dataclass(frozen=True, slots=True)
class RouteVerdict:
    route: Literal["A", "B", "C"]
    title: str
    conditions: tuple[Condition, ...]
    eligible: bool
    earliest: date | None  # as_of when eligible; None when some condition cannot be met by waiting


@dataclass(frozen=True, slots=True)
class Assessment:
    routes: tuple[RouteVerdict, ...]  # A, B, C
    eligible: bool
    closest: RouteVerdict  # an eligible route, else the one eligible soonest, else route A


def add_months(day: date, months: int) -> date:
    """Calendar-month arithmetic; a day the target month lacks becomes its last day (08-31 + 6 → 02-28)."""
    years, month0 = divmod(day.month - 1 + months, 12)
    year = day.year + years
    return date(year, month0 + 1, min(day.day, calendar.monthrange(year, month0 + 1)[1]))


def continuous_since(spans: Iterable[Span], as_of: date, gap_days: int) -> date | None:
    """The declaration date that starts the unbroken registration current on `as_of`, or None if none is.

    A registration declared at most `gap_days` days after the previous move-out (declared_on minus
    move_out_on, in days) continues it: with 30, moving out on 10-01 and declaring on 10-31 keeps the
    earlier start, declaring on 11-01 starts afresh. Overlapping registrations are continuous too.
    """
    return _registration(spans, as_of, gap_days)[0]


@dataclass(frozen=True, slots=True)
class Continuity:
    """What a declaration made on `declared_on` means for continuous registration."""

    since: date  # the declaration date that starts the unbroken registration it belongs to
    broken_after: date | None  # the move-out it came too long after, when it starts afresh because of a gap


def continuity_of(spans: Iterable[Span], declared_on: date, gap_days: int) -> Continuity:
    """`spans` include the new declaration. A first declaration, or another on the same day as the
    last move-out, starts on its own date without a gap; only one more than `gap_days` days after
    the last move-out is a break."""
    spans = list(spans)
    since = continuous_since(spans, declared_on, gap_days) or declared_on
    outs = [s.move_out_on for s in spans if s.move_out_on is not None and s.move_out_on <= declared_on]
    last_out = max(outs, default=None)
    broken = since == declared_on and last_out is not None and (declared_on - last_out).days > gap_days
    return Continuity(since, last_out if broken else None)


def _registration(spans: Iterable[Span], as_of: date, gap_days: int) -> tuple[date | None, date | None]:
    """(start of the registration current on as_of, last move-out if none is current); (None, None) if none yet."""
    start: date | None = None
    end: date | None = None  # of the chain being built; None while it is open
    for span in sorted((s for s in spans if s.declared_on <= as_of), key=lambda s: s.declared_on):
        out = span.move_out_on if span.move_out_on is not None and span.move_out_on <= as_of else None
        if start is None or (end is not None and (span.declared_on - end).days > gap_days):
            start, end = span.declared_on, out
        elif end is not None:
            end = None if out is None else max(end, out)
    if start is None or end is None:
        return start, None
    return None, end


def assess(records: PersonRecords, rules: Rules, as_of: date) -> Assessment:
    since, moved_out_on = _registration(records.registrations, as_of, rules.registration_gap_days)
    registered = _registered(since, moved_out_on, as_of)
    continuous = _continuous(since, moved_out_on, rules, as_of)
    insurance, insurance_lapses_on = _insurance(records, since, rules, as_of)
    routes = (
        _route("A", "居住+社保", (continuous, insurance), insurance_lapses_on),
        _route("B", "人才引进", (_talent(records.talents, as_of), registered)),
        _route("C", "全日制在校学生", (_study(records.studies, as_of), registered)),
    )
    eligible = [r for r in routes if r.eligible]
    dated = [r for r in routes if r.earliest is not None]
    closest = eligible[0] if eligible else min(dated, key=lambda r: r.earliest or date.max) if dated else routes[0]
    return Assessment(routes, bool(eligible), closest)


def _route(
    route: Literal["A", "B", "C"], title: str, conditions: tuple[Condition, ...], lapses_on: date | None = None
) -> RouteVerdict:
    """`lapses_on`: when a condition met now stops being met; the route cannot wait past it."""
    dates = [c.earliest for c in conditions if c.earliest is not None]
    earliest = max(dates) if len(dates) == len(conditions) else None
    if earliest is not None and lapses_on is not None and earliest >= lapses_on:
        earliest = None
    return RouteVerdict(route, title, conditions, all(c.met for c in conditions), earliest)


def _no_registration(moved_out_on: date | None) -> str:
    if moved_out_on is None:
        return "没有居住登记记录"
    return f"已于{moved_out_on.isoformat()}搬离，目前没有有效的居住登记"


def _registered(since: date | None, moved_out_on: date | None, as_of: date) -> Condition:
    if since is None:
        return Condition("居住登记", _no_registration(moved_out_on), "有有效的居住登记", False, None)
    return Condition("居住登记", f"居住登记有效（自{since.isoformat()}起）", "有有效的居住登记", True, as_of)


def _period_met_on(since: date, months: int, day_after: bool) -> date:
    end = add_months(since, months)
    return end + ONE_DAY if day_after else end


def _continuous(since: date | None, moved_out_on: date | None, rules: Rules, as_of: date) -> Condition:
    threshold = f"满{rules.registration_months}个月"
    if since is None:
        return Condition("连续居住登记", _no_registration(moved_out_on), threshold, False, None)
    met_on = _period_met_on(since, rules.registration_months, rules.period_met_day_after)
    # Whole months completed by as_of: the calendar-month difference, less one if the last is not complete yet.
    done = (as_of.year - since.year) * 12 + as_of.month - since.month
    if _period_met_on(since, done, rules.period_met_day_after) > as_of:
        done -= 1
    length = f"{done}个月" if done > 0 else "不足1个月"
    measured = f"连续居住登记{length}（自{since.isoformat()}申报起）"  # the declaration, not the move-in
    met = as_of >= met_on
    return Condition("连续居住登记", measured, threshold, met, as_of if met else met_on)


def _month_text(index: int) -> str:
    year, month = month_of(index)
    return f"{year}-{month:02d}"


def _counted_from(month: int, last: int, as_of: date, current_month_counts: bool) -> date:
    """The first date on which `month` is among the counted months (the last counted one on as_of is `last`)."""
    if month <= last:
        return as_of
    year, number = month_of(month if current_month_counts else month + 1)
    return date(year, number, 1)


def _insurance(records: PersonRecords, since: date | None, rules: Rules, as_of: date) -> tuple[Condition, date | None]:
    """The 社保 condition, and the date it stops being met if it holds now only on contributions that have stopped."""
    paid = records.insured_months
    needed_run = rules.social_insurance_consecutive_months
    needed_total = rules.social_insurance_cumulative_months
    lookback = rules.social_insurance_lookback_months
    current = month_index(as_of.year, as_of.month)
    last = current if rules.current_month_counts else current - 1
    paying = current in paid or current - 1 in paid
    # Months after `known` are projected: all paid while contributions go on, none once they have stopped.
    known = current if current in paid else current - 1

    def paid_then(month: int) -> bool:
        return month in paid if month <= known else paying

    threshold = f"登记期间连续满{needed_run}个月，或近{lookback}个月累计满{needed_total}个月"
    first = month_index(since.year, since.month) if since is not None else None
    longest = run = 0
    if first is not None:
        for month in range(first, last + 1):
            run = run + 1 if month in paid else 0
            if run > longest:
                longest = run
    window = range(last - lookback + 1, last + 1)
    total = sum(1 for month in window if month in paid)
    met = longest >= needed_run or total >= needed_total

    # Without a registration there is no run to count: the registration's own line says why.
    run_text = f"登记期间最长连续缴纳{longest}个月，" if first is not None else ""
    measured = f"{run_text}近{lookback}个月累计{total}个月（计至{_month_text(last)}）"
    if not paying:
        earlier = [month for month in paid if month < current]
        measured += f"；最近一次缴纳为{_month_text(max(earlier))}，已停缴" if earlier else "；没有社保缴纳记录"

    if met:
        if paying or longest >= needed_run:
            return Condition("社保", measured, threshold, True, as_of), None
        # Met on the cumulative months alone: each month from now drops one of them out of the window.
        count, month = total, last
        while count >= needed_total:
            month += 1
            count += paid_then(month) - paid_then(month - lookback)
        lapses_on = _counted_from(month, last, as_of, rules.current_month_counts)
        measured += f"，{lapses_on.isoformat()}起近{lookback}个月累计将不足{needed_total}个月"
        return Condition("社保", measured, threshold, True, as_of), lapses_on
    if not paying:
        return Condition("社保", measured, threshold, False, None), None

    candidates = []
    if first is not None:
        start = known
        while start > first and start - 1 in paid:
            start -= 1
        # The run counts from the registration's first month at the earliest.
        candidates.append(max(last, max(start, first) + needed_run - 1))
    if needed_total <= lookback:
        # Each later month adds a paid month and drops the oldest one of the window.
        count = sum(1 for month in window if paid_then(month))
        month = last
        while count < needed_total:
            month += 1
            count += paid_then(month) - paid_then(month - lookback)
        candidates.append(month)
    earliest = _counted_from(min(candidates), last, as_of, rules.current_month_counts) if candidates else None
    if earliest == as_of:
        measured += "；本月缴费记录到账即满足"
    return Condition("社保", measured, threshold, False, earliest), None


def _talent(certified: tuple[date, ...], as_of: date) -> Condition:
    threshold = "取得人才引进认定"
    past = [d for d in certified if d <= as_of]
    if past:
        return Condition("人才引进认定", f"已于{max(past).isoformat()}认定", threshold, True, as_of)
    if certified:
        first = min(certified)
        return Condition("人才引进认定", f"认定日期为{first.isoformat()}，尚未生效", threshold, False, first)
    return Condition("人才引进认定", "没有人才引进认定记录", threshold, False, None)


def _study(studies: tuple[tuple[date, date], ...], as_of: date) -> Condition:
    threshold = "全日制中等及以上学历教育在读"
    for enrolled, graduates in studies:
        if enrolled <= as_of <= graduates:
            measured = f"在读（{enrolled.isoformat()}入学，预计{graduates.isoformat()}毕业）"
            return Condition("全日制在读", measured, threshold, True, as_of)
    upcoming = [enrolled for enrolled, graduates in studies if as_of < enrolled <= graduates]
    if upcoming:
        first = min(upcoming)
        return Condition("全日制在读", f"将于{first.isoformat()}入学", threshold, False, first)
    if studies:
        ended = max(graduates for _, graduates in studies)
        return Condition("全日制在读", f"预计毕业日期{ended.isoformat()}已过", threshold, False, None)
    return Condition("全日制在读", "没有全日制在读记录", threshold, False, None)
