"""Permit applications (申领 and 代办): who may apply, and the application with its receipt, once.

One open application a person: `PermitApplication.open_for` is unique, so the database refuses a
second however close two submits come (a resident's own and a unit's for them, on two processes).
`apply` looks first, so that the usual case is told plainly, and takes the unique violation for the
race it is, inside a savepoint: on PostgreSQL a failed insert would otherwise abort the whole submit.

A unit applies (and endorses, 单位签注) only for its people, so that knowing someone's ID number is
not enough to act for them. A person is a unit's while either holds:
- social insurance paid by the unit (the import's `employer` is the unit's name) is on record for
  one of the last three months: the current month and the two before it (a month's contribution
  is often recorded weeks late, so the current month alone would refuse most staff early in a month);
- a current student record at the school of that name: enrolled_on ≤ today ≤ expected_graduation_on.
Membership is asked before anything else about the person, so a stranger's refusal says nothing of
their records.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from bot.config import ApplicationsConfig
from bot.services.errors import Told
from bot.services.receipts import Receipts
from bot.services.residence import Residence
from models import (
    AcceptancePoint,
    Account,
    ApplicationKind,
    ApplicationStatus,
    ApplicationStatusChange,
    PermitApplication,
    Receipt,
    ResidenceRegistration,
    SocialInsuranceMonth,
    StudentRecord,
    TalentRecord,
    Unit,
)
from models.application import CARD_DUE_WORKING_DAYS, add_working_days, application_number
from models.eligibility import Assessment, assess
from models.records import month_index
from models.rules import SHENZHEN, Rules

MEMBERSHIP_MONTHS = 3  # the current month and the two before it
NOT_MEMBER = "不是本单位的人员（近三个月没有本单位缴纳的社保记录，也没有在本校就读的学籍记录）"


@dataclass(frozen=True, slots=True)
class Applicant:
    """Whom an application is for: the person (models/records.py), named and masked as on the receipt."""

    person: str
    name: str
    id_number_masked: str


@dataclass(frozen=True, slots=True)
class Filing:
    """What an application says besides whom it is for: who files it and where the card is collected."""

    account: Account
    point: AcceptancePoint
    unit: Unit | None = None  # set for 代办
    photo_number: str = ""
    phone: str = ""
    registration_number: str = ""


@dataclass(frozen=True, slots=True)
class Accepted:
    application: PermitApplication
    receipt: Receipt


class Applications:
    def __init__(self, rules: Rules, receipts: Receipts, residence: Residence, config: ApplicationsConfig) -> None:
        self._rules = rules
        self._receipts = receipts
        self._residence = residence
        self.max_batch_size = config.max_batch_size

    async def open_application(self, person: str) -> PermitApplication | None:
        return await PermitApplication.get_or_none(open_for=person)

    async def of_person(self, person: str) -> list[PermitApplication]:
        """The person's applications, newest first, whoever filed them."""
        return await PermitApplication.filter(person=person).order_by("-created_at", "-id")

    async def assessment(self, person: str, today: date) -> Assessment:
        return assess(await self._residence.person_records(person), self._rules, today)

    async def is_unit_member(self, unit: Unit, person: str, today: date) -> bool:
        this_month = month_index(today.year, today.month)
        insured = SocialInsuranceMonth.filter(
            person=person, employer=unit.name, month__gte=this_month - (MEMBERSHIP_MONTHS - 1), month__lte=this_month
        )
        studying = StudentRecord.filter(
            person=person, school=unit.name, enrolled_on__lte=today, expected_graduation_on__gte=today
        )
        return await insured.exists() or await studying.exists()

    async def not_units_person(self, unit: Unit, applicant: Applicant, today: date) -> str | None:
        """Why this is not `unit`'s person by that name, or None: for 代办 and 单位签注 alike."""
        if not await self.is_unit_member(unit, applicant.person, today):
            return NOT_MEMBER
        names = await _recorded_names(applicant.person)
        if not names:
            return "没有这个身份证号码的居住登记记录，请本人先申报居住登记"
        if "".join(applicant.name.split()) not in names:
            return "姓名与这个身份证号码登记的姓名不一致，请核对"
        return None

    async def unit_refusal(self, unit: Unit, applicant: Applicant, today: date) -> str | None:
        """Why `unit` may not apply for this person now, or None. Asked when a person is added to
        a batch and again at 确认, since records and applications change in between."""
        reason = await self.not_units_person(unit, applicant, today)
        if reason is not None:
            return reason
        assessment = await self.assessment(applicant.person, today)
        if not assessment.eligible:
            return _not_eligible(assessment)
        existing = await self.open_application(applicant.person)
        return None if existing is None else already_open(existing)

    async def apply(self, applicant: Applicant, filing: Filing, *, submission_id: str, now: datetime) -> Accepted:
        """Accept an application and issue its receipt, in one transaction (the submit's, when
        there is one). Told when the person has an open application already."""
        existing = await self.open_application(applicant.person)
        if existing is not None:
            raise Told(already_open(existing) + "。")
        accepted_on = now.astimezone(SHENZHEN).date()
        point = filing.point
        async with in_transaction():
            try:
                async with in_transaction():  # a savepoint: the unique violation leaves the rest usable
                    application = await PermitApplication.create(
                        kind=ApplicationKind.UNIT if filing.unit else ApplicationKind.PERSONAL,
                        person=applicant.person,
                        open_for=applicant.person,
                        name=applicant.name,
                        id_number_masked=applicant.id_number_masked,
                        account=filing.account,
                        unit=filing.unit,
                        photo_number=filing.photo_number,
                        phone=filing.phone,
                        registration_number=filing.registration_number,
                        point_name=point.name,
                        point_address=point.address,
                        point_hours=point.hours,
                        point_phone=point.phone,
                        status=ApplicationStatus.SUBMITTED,
                        status_changed_at=now,
                        accepted_on=accepted_on,
                        due_on=add_working_days(accepted_on, CARD_DUE_WORKING_DAYS),
                        submission_id=submission_id,
                    )
            except IntegrityError:
                existing = await self.open_application(applicant.person)
                if existing is None:
                    raise
                raise Told(already_open(existing) + "。") from None
            application.number = application_number(accepted_on, application.id)
            await application.save(update_fields=["number"])
            await ApplicationStatusChange.create(
                application=application, status=ApplicationStatus.SUBMITTED, changed_at=now
            )
            receipt = await self._receipts.for_application(application)
        return Accepted(application, receipt)


def already_open(application: PermitApplication) -> str:
    """What a second application for the person is told (no full stop: units list it in a line)."""
    return f"已有一份办理中的居住证申领，受理编号{application.number}，状态：{application.status.label}，不能重复申领"


def _not_eligible(assessment: Assessment) -> str:
    route = assessment.closest
    unmet = "；".join(f"{c.name}要求{c.threshold}" for c in route.conditions if not c.met)
    when = f"，最早{route.earliest.isoformat()}符合" if route.earliest is not None else ""
    return f"暂不符合办证资格（{unmet}）{when}"


async def _recorded_names(person: str) -> set[str]:
    """The names the person's records give (social insurance months carry none)."""
    names: set[str] = set()
    for model in (ResidenceRegistration, StudentRecord, TalentRecord):
        names.update("".join(str(n).split()) for n in await model.filter(person=person).values_list("name", flat=True))
    return names
