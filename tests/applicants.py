"""People with the records that make them eligible, and unit accounts, made directly in the database
for the tests of 申领, 代办 and 回执."""

from __future__ import annotations

from datetime import date, datetime

from bot.dev.demo import demo_id_number
from conversations.flow import SHENZHEN
from models import Account, AccountKind, Binding, ResidenceRegistration, SocialInsuranceMonth, StudentRecord, Unit
from models.eligibility import add_months
from models.records import month_index
from tests.people import person

EMPLOYER = "深圳示例科技有限公司"


def today() -> date:
    return datetime.now(SHENZHEN).date()


def id_number(n: int) -> str:
    """The n-th of a series of valid ID numbers (GB 11643 check digit)."""
    return demo_id_number("19900101", 100 + n)


async def registered(number: str, name: str, *, months: int = 14) -> ResidenceRegistration:
    since = add_months(today(), -months)
    return await ResidenceRegistration.create(
        number=f"REG{number[-8:]}", person=person(number), name=name, district="南山区",
        address="南山区粤海街道科苑路15号1栋1201", move_in_on=since, declared_on=since,
    )  # fmt: skip


async def insured(number: str, *, employer: str = EMPLOYER, months: int = 14, last_ago: int = 1) -> None:
    """Social insurance paid by `employer` for `months` months up to `last_ago` months before this one."""
    last = month_index(today().year, today().month) - last_ago
    await SocialInsuranceMonth.bulk_create(
        [
            SocialInsuranceMonth(person=person(number), month=m, employer=employer)
            for m in range(last - months + 1, last + 1)
        ]
    )


async def eligible(number: str, name: str, *, employer: str = EMPLOYER) -> None:
    """Route A: 14 months of registration and of social insurance paid by `employer`."""
    await registered(number, name)
    await insured(number, employer=employer)


async def student(number: str, name: str, *, school: str) -> None:
    """Route C: a registration and a current student record at `school`."""
    await registered(number, name, months=3)
    await StudentRecord.create(
        person=person(number), name=name, school=school, enrolled_on=add_months(today(), -12),
        expected_graduation_on=add_months(today(), 24),
    )  # fmt: skip


async def unit_account(openid: str, *, unit_name: str = EMPLOYER, uscc: str = "91440300MA5F000001") -> Account:
    """A unit account of `unit_name`, bound to `openid`, its password already changed."""
    unit, _ = await Unit.get_or_create(uscc=uscc, defaults={"name": unit_name})
    account = await Account.create(
        kind=AccountKind.UNIT, unit=unit, username=f"unit{uscc[-6:]}", password_hash="-", phone="13900139000",
        name="王经办",
    )  # fmt: skip
    await Binding.create(account=account, openid=openid)
    return account
