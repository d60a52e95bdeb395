"""Applications made directly in the database, as 申领 and 代办 leave them, for the tests of what
operators do next (tests/test_application_status.py, tests/test_admin_applications.py, the CLI)."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.config import ReceiptsConfig
from bot.services.application_status import ApplicationLifecycle
from bot.services.receipts import Receipts
from bot.text import masked_id
from models import (
    Account,
    AccountKind,
    ApplicationKind,
    ApplicationStatus,
    ApplicationStatusChange,
    Binding,
    PermitApplication,
    Unit,
)
from models.application import CARD_DUE_WORKING_DAYS, add_working_days, application_number
from tests.people import person

BASE_URL = "https://bot.example.gov.cn"
# 10:30 on a Monday in Shenzhen.
NOW = datetime(2026, 3, 2, 2, 30, tzinfo=UTC)
POINT = "南山区粤海街道居住证受理点"
# Every status after submitted, in the lifecycle's order, the way to approval and collection.
TO_COLLECTION = (
    ApplicationStatus.VERIFYING,
    ApplicationStatus.REVIEW,
    ApplicationStatus.APPROVED,
    ApplicationStatus.PRODUCING,
    ApplicationStatus.READY,
    ApplicationStatus.COLLECTED,
)


def receipts() -> Receipts:
    return Receipts(ReceiptsConfig(), BASE_URL)


def lifecycle() -> ApplicationLifecycle:
    return ApplicationLifecycle(receipts())


async def application_for(
    account: Account, id_number: str, *, unit: Unit | None = None, point: str = POINT
) -> PermitApplication:
    """A submitted application with its receipt, filed by `account` (a unit's when `unit` is given)."""
    accepted_on = NOW.date()
    application = await PermitApplication.create(
        kind=ApplicationKind.UNIT if unit else ApplicationKind.PERSONAL,
        person=person(id_number),
        open_for=person(id_number),
        name="张三",
        id_number_masked=masked_id(id_number),
        account=account,
        unit=unit,
        point_name=point,
        point_address="南山区科苑路15号",
        point_hours="周一至周五 9:00-18:00",
        status_changed_at=NOW,
        accepted_on=accepted_on,
        due_on=add_working_days(accepted_on, CARD_DUE_WORKING_DAYS),
        submission_id="s" * 32,
    )
    application.number = application_number(accepted_on, application.id)
    await application.save(update_fields=["number"])
    await ApplicationStatusChange.create(application=application, status=ApplicationStatus.SUBMITTED, changed_at=NOW)
    await receipts().for_application(application)
    return application


async def unit_account(openid: str, *, uscc: str = "91440300MA5F000001") -> tuple[Account, Unit]:
    unit, _ = await Unit.get_or_create(uscc=uscc, defaults={"name": "深圳示例科技有限公司"})
    account = await Account.create(
        kind=AccountKind.UNIT, unit=unit, username=f"unit{uscc[-6:]}", password_hash="-", phone="13900139000",
        name="王经办",
    )  # fmt: skip
    await Binding.create(account=account, openid=openid)
    return account, unit


async def advance(number: str, *statuses: ApplicationStatus) -> None:
    for status in statuses:
        await lifecycle().set_status(number, status, "", NOW)
