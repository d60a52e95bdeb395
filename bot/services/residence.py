"""Residence registrations (居住登记) of a person: declaring move-in and move-out, and reading them;
and every record of a person that the eligibility rules read."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date
from typing import cast

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from bot.services.errors import Told
from models import Account, ResidenceRegistration, SocialInsuranceMonth, Source, StudentRecord, TalentRecord
from models.eligibility import Continuity, PersonRecords, Span, continuity_of
from models.rules import Rules


@dataclass(frozen=True, slots=True)
class MoveIn:
    district: str
    address: str
    house_code: str
    housing_type: str
    move_in_on: date
    workplace: str
    reason: str
    emergency_phone: str


@dataclass(frozen=True, slots=True)
class MoveInOutcome:
    registration: ResidenceRegistration
    continuity: str  # what the move-in means for continuous registration, for the resident


class Residence:
    def __init__(self, rules: Rules) -> None:
        self._gap_days = rules.registration_gap_days

    async def registrations(self, person: str) -> list[ResidenceRegistration]:
        return await ResidenceRegistration.filter(person=person).order_by("declared_on", "id")

    async def current_registration(self, person: str) -> ResidenceRegistration | None:
        return await ResidenceRegistration.filter(person=person, move_out_on=None).order_by("-declared_on").first()

    async def move_in(self, account: Account, data: MoveIn, *, today: date) -> MoveInOutcome:
        person = account.person
        if person is None:  # the flow requires real-name verification; records are never a mere claim's
            raise Told("请先完成实名认证：回复「实名认证」。")
        async with in_transaction():
            # Moving house: the old registration runs until the new one is declared (it "runs until a
            # move-out is declared"), so a move-in declared late does not break continuity.
            await ResidenceRegistration.filter(person=person, move_out_on=None).update(move_out_on=today)
            registration = await _create(account, person, data, today)
        spans = [Span(r.declared_on, r.move_out_on) for r in await self.registrations(person)]
        continuity = continuity_of(spans, today, self._gap_days)
        return MoveInOutcome(registration, self._told(continuity, today, data.move_in_on))

    def _told(self, continuity: Continuity, today: date, move_in_on: date) -> str:
        # Periods count from the declaration, not the move-in (domain/RULES.md §2): say so when they differ.
        not_move_in = f"（按申报日期算，不是入住日期{move_in_on.isoformat()}）" if move_in_on != today else ""
        if continuity.since < today:
            return f"居住登记连续计算，自{continuity.since.isoformat()}起{not_move_in}。"
        if continuity.broken_after is not None:
            return (
                f"与上次搬离（{continuity.broken_after.isoformat()}）相隔超过{self._gap_days}天，"
                f"连续居住登记时间从今天{today.isoformat()}起重新计算{not_move_in}。"
            )
        return f"连续居住登记时间从今天{today.isoformat()}起计算{not_move_in}。"

    async def move_out(self, person: str, move_out_on: date) -> ResidenceRegistration:
        current = await self.current_registration(person)
        if current is None:
            raise Told("您目前没有有效的居住登记，无需办理搬离。")
        current.move_out_on = move_out_on
        await current.save(update_fields=["move_out_on"])
        return current

    async def person_records(self, person: str) -> PersonRecords:
        """Everything the eligibility rules read about a person, in four indexed queries."""
        spans = await ResidenceRegistration.filter(person=person).values_list("declared_on", "move_out_on")
        # tortoise types every values_list result as tuples; with flat=True they are the values.
        months = cast(list[int], await SocialInsuranceMonth.filter(person=person).values_list("month", flat=True))
        talents = cast(list[date], await TalentRecord.filter(person=person).values_list("certified_on", flat=True))
        studies = await StudentRecord.filter(person=person).values_list("enrolled_on", "expected_graduation_on")
        return PersonRecords(
            registrations=tuple(Span(declared, moved_out) for declared, moved_out in spans),
            insured_months=frozenset(months),
            talents=tuple(talents),
            studies=tuple((enrolled, graduating) for enrolled, graduating in studies),
        )


async def _create(account: Account, person: str, data: MoveIn, today: date) -> ResidenceRegistration:
    for _ in range(5):  # a random number can collide with an existing one: draw again
        number = f"JZ{today:%Y%m%d}{secrets.randbelow(10**6):06d}"
        try:
            async with in_transaction():
                return await ResidenceRegistration.create(
                    number=number,
                    person=person,
                    name=account.name,
                    district=data.district,
                    address=data.address,
                    house_code=data.house_code,
                    housing_type=data.housing_type,
                    move_in_on=data.move_in_on,
                    declared_on=today,
                    workplace=data.workplace,
                    reason=data.reason,
                    emergency_phone=data.emergency_phone,
                    source=Source.BOT,
                )
        except IntegrityError:
            if await ResidenceRegistration.filter(person=person, declared_on=today, address=data.address).exists():
                raise Told("今天已经为这个地址申报过居住登记了，回复「进度」查看。") from None
    raise Told("登记编号生成失败，请稍后再试。")
