"""Accepted applications and their receipts, made directly in the database, for the receipt tests."""

from __future__ import annotations

from datetime import UTC, date, datetime

from aiohttp.test_utils import TestClient

from bot.app import SERVICES
from bot.text import masked_id
from models import AcceptancePoint, Account, ApplicationKind, PermitApplication, Receipt
from models.application import CARD_DUE_WORKING_DAYS, add_working_days, application_number
from tests.people import person

ACCEPTED_ON = date(2026, 3, 5)


async def accepted_application(
    account: Account, id_number: str, *, accepted_on: date = ACCEPTED_ON
) -> PermitApplication:
    """A personal application accepted on `accepted_on`, to be collected at the first example point."""
    point = await AcceptancePoint.all().order_by("id").first()
    assert point is not None
    application = await PermitApplication.create(
        kind=ApplicationKind.PERSONAL,
        person=person(id_number),
        open_for=person(id_number),
        name=account.name,
        id_number_masked=masked_id(id_number),
        account=account,
        point_name=point.name,
        point_address=point.address,
        point_hours=point.hours,
        point_phone=point.phone,
        status_changed_at=datetime.now(UTC),
        accepted_on=accepted_on,
        due_on=add_working_days(accepted_on, CARD_DUE_WORKING_DAYS),
        submission_id=f"test-{id_number[-6:]}",
    )
    application.number = application_number(accepted_on, application.id)
    await application.save(update_fields=["number"])
    return application


async def receipt_link(bot: TestClient, account: Account, id_number: str) -> tuple[Receipt, str]:
    """A receipt issued by the running bot's own service, and the path of its page (`/r/<token>`)."""
    receipt = await bot.server.app[SERVICES].receipts.for_application(await accepted_application(account, id_number))
    return receipt, page_of(bot, receipt.id)


def page_of(bot: TestClient, receipt_id: int, now: datetime | None = None) -> str:
    """The path of a receipt's page, as the running bot signs it (`now`: when the link was made)."""
    return "/r/" + bot.server.app[SERVICES].receipts.token(receipt_id, now or datetime.now(UTC))
