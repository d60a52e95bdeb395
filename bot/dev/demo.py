"""`residence-bot demo-data`: residents for every path, so a new user can try each with `make chat`.

Dates are set relative to the day it runs, so each demo resident stays on their path. Every demo
account has passed real-name verification and is not bound: log in with 登录 (the first login
asks for the SMS code, which the `log` SMS provider prints in the `make run` terminal).

`demo_unit` is a unit account of the employer the demo residents' social insurance names, so 代办
can be tried for them (demo_a is eligible), and 单位签注 (demo_window's permit is in its window).
Loading again starts over: the demo accounts' applications and receipts go with them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from stdnum.cn import ric
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from bot.services.security import FieldCipher, hash_password
from models import (
    Account,
    AccountKind,
    Endorsement,
    Permit,
    PermitApplication,
    Receipt,
    ResidenceRegistration,
    SocialInsuranceMonth,
    Source,
    StudentRecord,
    TalentRecord,
    Unit,
)
from models.eligibility import add_months
from models.records import month_index
from models.rules import SHENZHEN

PASSWORD = "Demo2024pass"
EMPLOYER = "示例科技有限公司"  # pays the demo residents' social insurance
UNIT_USERNAME = "demo_unit"
UNIT_USCC = "91440300MA5DEMO001"


@dataclass(frozen=True)
class DemoResident:
    username: str
    name: str
    birth: str  # YYYYMMDD, makes the ID number
    path: str  # what the resident shows, for the README and the command's output
    records: Callable[[str, str, date], Awaitable[None]]


def demo_id_number(birth: str, sequence: int) -> str:
    """A valid ID number (GB 11643 check digit) born on `birth` in Nanshan."""
    body = f"440305{birth}{sequence:03d}"
    # calc_check_digit takes the whole 18 characters, its last (the check digit) ignored.
    return body + ric.calc_check_digit(body + "0")


async def _registered(person: str, name: str, since: date, months_insured: int, *, paying: bool = True) -> None:
    await ResidenceRegistration.create(
        number=f"DEMO{person[:12].upper()}", person=person, name=name, district="南山区",
        address="粤海街道科苑路15号1栋1201（示例）", housing_type="租赁住房", move_in_on=since,
        declared_on=since, source=Source.IMPORT,
    )  # fmt: skip
    today = datetime.now(SHENZHEN).date()
    last = month_index(today.year, today.month) - (1 if paying else 4)
    await SocialInsuranceMonth.bulk_create(
        [
            SocialInsuranceMonth(person=person, month=m, employer=EMPLOYER)
            for m in range(last - months_insured + 1, last + 1)
        ]
    )


async def _route_a(person: str, name: str, today: date) -> None:
    await _registered(person, name, add_months(today, -14), 14)


async def _route_b(person: str, name: str, today: date) -> None:
    await _registered(person, name, add_months(today, -2), 0, paying=False)
    await TalentRecord.create(
        person=person, name=name, category="全日制本科及以上学历", certified_on=add_months(today, -1)
    )


async def _route_c(person: str, name: str, today: date) -> None:
    await _registered(person, name, add_months(today, -3), 0, paying=False)
    await StudentRecord.create(
        person=person, name=name, school="深圳职业技术大学（示例）", enrolled_on=add_months(today, -14),
        expected_graduation_on=add_months(today, 22),
    )  # fmt: skip


async def _not_yet(person: str, name: str, today: date) -> None:
    await _registered(person, name, add_months(today, -5), 5)


async def _permit(person: str, name: str, issued_on: date) -> None:
    await Permit.create(
        permit_no=f"DEMO{person[:10].upper()}", person=person, name=name, issued_on=issued_on, anchor_on=issued_on
    )


async def _in_window(person: str, name: str, today: date) -> None:
    await _registered(person, name, add_months(today, -26), 26)
    await _permit(person, name, add_months(today, -12) + timedelta(days=30))  # window opened 29 days ago


async def _suspended(person: str, name: str, today: date) -> None:
    await _registered(person, name, add_months(today, -28), 20)
    await _permit(person, name, add_months(today, -15))  # anniversary 3 months ago, never endorsed


async def _cancelled(person: str, name: str, today: date) -> None:
    await _registered(person, name, add_months(today, -50), 12, paying=False)
    await _permit(person, name, add_months(today, -40))  # suspended for more than two years


RESIDENTS = (
    DemoResident("demo_a", "陈一", "19900101", "符合申领条件：居住登记＋社保（途径A）", _route_a),
    DemoResident("demo_b", "林二", "19920202", "符合申领条件：人才引进（途径B）", _route_b),
    DemoResident("demo_c", "黄三", "20040303", "符合申领条件：全日制在校学生（途径C）", _route_c),
    DemoResident("demo_wait", "周四", "19950404", "暂不符合，办证资格给出最早符合的日期", _not_yet),
    DemoResident("demo_window", "吴五", "19880505", "持居住证，正在签注期内", _in_window),
    DemoResident("demo_suspended", "郑六", "19860606", "居住证已过签注期，暂停使用", _suspended),
    DemoResident("demo_cancelled", "王七", "19800707", "居住证已注销（暂停使用满两年）", _cancelled),
)


async def load_demo(field_key: str, today: date) -> list[tuple[DemoResident, str]]:
    """Create (or re-create) the demo residents; returns each with its masked ID number."""
    cipher = FieldCipher(field_key)
    password_hash = await hash_password(PASSWORD)
    made = []
    protected_ids = [cipher.protect_id(demo_id_number(r.birth, n)) for n, r in enumerate(RESIDENTS, start=11)]
    async with in_transaction():
        await _forget_applications([p.lookup_hash for p in protected_ids], [r.username for r in RESIDENTS])
        await _unit_account(password_hash)
        for sequence, (resident, protected) in enumerate(zip(RESIDENTS, protected_ids, strict=True), start=11):
            person = protected.lookup_hash
            await Account.filter(username=resident.username).delete()
            for model in (ResidenceRegistration, SocialInsuranceMonth, Permit, TalentRecord, StudentRecord):
                await model.filter(person=person).delete()
            await Account.create(
                kind=AccountKind.PERSONAL, username=resident.username, password_hash=password_hash,
                phone=f"1380000{sequence:04d}", name=resident.name, id_number_enc=protected.encrypted,
                id_number_hash=person, verified_id_hash=person, id_number_masked=protected.masked,
                hukou_address="广东省梅州市（示例）",
                realname_verified_at=datetime.now(SHENZHEN), realname_method="demo",
            )  # fmt: skip
            await resident.records(person, resident.name, today)
            made.append((resident, protected.masked))
    return made


async def _forget_applications(persons: list[str], usernames: list[str]) -> None:
    """The demo people's applications and the demo accounts' receipts: they would keep the accounts
    from being made again, and an open application would refuse the next 申领."""
    accounts = await Account.filter(username__in=[*usernames, UNIT_USERNAME]).values_list("id", flat=True)
    applications = await PermitApplication.filter(Q(person__in=persons) | Q(account_id__in=accounts)).values_list(
        "id", flat=True
    )
    await Receipt.filter(Q(application_id__in=applications) | Q(account_id__in=accounts)).delete()
    await PermitApplication.filter(id__in=applications).delete()
    # Their endorsements too: they keep the permits and the accounts from being made again.
    await Endorsement.filter(Q(permit__person__in=persons) | Q(account_id__in=accounts)).delete()


async def _unit_account(password_hash: str) -> None:
    unit, _ = await Unit.get_or_create(uscc=UNIT_USCC, defaults={"name": EMPLOYER})
    await Account.filter(username=UNIT_USERNAME).delete()
    await Account.create(
        kind=AccountKind.UNIT, unit=unit, username=UNIT_USERNAME, password_hash=password_hash,
        phone="13800009999", name="示例经办人",
    )  # fmt: skip
