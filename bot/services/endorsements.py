"""Endorsements (签注) of a person's residence permits: where each permit stands, the Art. 24
conditions on the records, and the endorsement with its receipt, at once (Art. 25), once.

One endorsement per permit and period: the `endorsement` table's unique (permit, deadline) refuses
a second however close two submits come (two 确认 on two processes, a resident's own and a unit's).
`endorse` reads the permit again inside its transaction, so what it records is what the cycle says
on the day, and takes the unique violation for the race it is, inside a savepoint (on PostgreSQL a
failed insert would otherwise abort the whole submit).

Permits are a person's (models/records.py): callers pass the person an account was verified as,
never a number someone typed, so nobody reaches another person's permit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from bot.services import pushes
from bot.services.errors import Told
from bot.services.receipts import Receipts
from bot.services.residence import Residence
from models import Account, Endorsement, EndorsementKind, Permit, PermitApplication, Receipt, Source, Unit
from models.endorsement_conditions import EndorsementCheck, check_endorsement
from models.permit_cycle import PermitStatus, deadline_after, endorsing, period_status, permit_status
from models.rules import SHENZHEN, Rules

PUSH_KIND = "endorsement_result"
STATUS_TEMPLATE = "application_status"  # the wechat.templates key: an endorsement is told like a status change


@dataclass(frozen=True, slots=True)
class Endorsed:
    endorsement: Endorsement
    receipt: Receipt
    after: PermitStatus  # the permit's new validity: its next window and deadline


@dataclass(frozen=True, slots=True)
class UnitPermit:
    """A permit of someone a unit applied for, with where it stands today."""

    permit: Permit
    id_number_masked: str  # as on the unit's application
    status: PermitStatus


class Endorsements:
    def __init__(self, rules: Rules, receipts: Receipts, residence: Residence) -> None:
        self._rules = rules
        self._receipts = receipts
        self._residence = residence

    async def permits_of(self, person: str) -> list[Permit]:
        """The person's permits, the newest first."""
        return await Permit.filter(person=person).order_by("-issued_on", "-id")

    async def permit_of(self, person: str, permit_id: int) -> Permit | None:
        """The permit with this id if it is the person's; None for anyone else's."""
        return await Permit.get_or_none(id=permit_id, person=person)

    async def status(self, permit: Permit, today: date) -> PermitStatus:
        """Where the permit stands today, from its anchor and the last period endorsed."""
        [(_, status)] = await self.standing([permit], today)
        return status

    async def standing(self, permits: list[Permit], today: date) -> list[tuple[Permit, PermitStatus]]:
        """Each permit with where it stands today, in the order given: one query for them all."""
        through: dict[int, date] = {}
        for permit_id, deadline in await Endorsement.filter(permit_id__in=[p.id for p in permits]).values_list(
            "permit_id", "deadline"
        ):
            through[permit_id] = max(deadline, through.get(permit_id, deadline))
        return [(p, permit_status(p.anchor_on, through.get(p.id), today, self._rules)) for p in permits]

    async def check(self, person: str, today: date) -> EndorsementCheck:
        """Art. 24 on the person's records as they are today."""
        return check_endorsement(await self._residence.person_records(person), self._rules, today)

    async def unit_windows(self, unit: Unit, today: date) -> list[UnitPermit]:
        """The permits in their window today of the people `unit` applied for (代办), the soonest
        to close first: the people a unit endorses for without being told their ID numbers."""
        masked = dict(await PermitApplication.filter(unit_id=unit.id).values_list("person", "id_number_masked"))
        permits = await Permit.filter(person__in=list(masked))
        held = [UnitPermit(p, masked[p.person], status) for p, status in await self.standing(permits, today)]
        in_window = [h for h in held if h.status.state == "window"]
        return sorted(in_window, key=lambda h: (h.status.window_closes, h.permit.name, h.permit.id))

    async def endorse(
        self, permit: Permit, account: Account, *, name: str, id_number_masked: str, now: datetime,
        unit: Unit | None = None,
    ) -> Endorsed:  # fmt: skip
        """Endorse the permit today, regular in the window, late (补办) while suspended, and issue
        its receipt, in one transaction (the submit's, when there is one). Told when there is
        nothing to endorse today, the conditions are not met, or the period is endorsed already."""
        today = now.astimezone(SHENZHEN).date()
        async with in_transaction():
            status = await self.status(permit, today)
            reading = endorsing(status, today)
            if reading is None:
                raise Told(not_endorsable(status))
            check = await self.check(permit.person, today)
            if not check.met:
                raise Told("签注条件不符合：" + unmet(check))
            try:
                async with in_transaction():  # a savepoint: the unique violation leaves the rest usable
                    endorsement = await Endorsement.create(
                        permit=permit,
                        deadline=reading.deadline,
                        endorsed_on=today,
                        kind=reading.kind,
                        unit=unit,
                        account=account,
                        source=Source.BOT,
                    )
            except IntegrityError:
                period = reading.deadline.isoformat()
                raise Told(f"居住证{permit.permit_no}本期（截止{period}）已经签注过了。") from None
            # The anchor moves only with a 补办; the latest endorsement's date is the permit's too.
            deadline = deadline_after(reading)
            await Permit.filter(id=permit.id).update(
                anchor_on=reading.anchor, deadline_on=deadline, last_endorsed_on=today
            )
            after = period_status(reading.anchor, deadline, today, self._rules)
            receipt = await Receipt.create(
                number=endorsement_number(endorsement),
                business=reading.kind.business,
                account=account,
                endorsement=endorsement,
                facts=endorsement_facts(permit, endorsement, after, name=name, id_number_masked=id_number_masked),
            )
            await self._push(permit, endorsement, receipt, after, now)
        return Endorsed(endorsement, receipt, after)

    async def _push(
        self, permit: Permit, endorsement: Endorsement, receipt: Receipt, after: PermitStatus, now: datetime
    ) -> None:
        """The result, pushed to the holder's own account like an application's status change
        (the same template), in the endorsement's transaction: a unit's people learn of it too."""
        holder = await pushes.own_bound_account(permit.person)
        if holder is None:
            return
        await pushes.add(
            f"endorsed:{endorsement.id}",
            account_id=holder.id,
            kind=PUSH_KIND,
            template=STATUS_TEMPLATE,
            data=result_data(receipt, after, now),
            url=self._receipts.url(receipt.id, now),
            due_at=now,
        )


def result_data(receipt: Receipt, after: PermitStatus, now: datetime) -> dict[str, str]:
    """The application_status template's keywords for an endorsement (config.yaml lists them)."""
    return {
        "character_string1": receipt.number,
        "phrase2": "已签注" if receipt.business == EndorsementKind.REGULAR.business else "已补办",
        "time3": f"{now.astimezone(SHENZHEN):%Y-%m-%d %H:%M}",
        "thing4": f"下次签注期{after.window_opens.isoformat()}起",
    }


def endorsement_number(endorsement: Endorsement) -> str:
    """The receipt's number: QZ, the date, the row id (unique by construction)."""
    return f"QZ{endorsement.endorsed_on:%Y%m%d}{endorsement.id:06d}"


def endorsement_facts(
    permit: Permit, endorsement: Endorsement, after: PermitStatus, *, name: str, id_number_masked: str
) -> dict[str, Any]:
    return {
        "name": name,
        "id_number_masked": id_number_masked,
        "permit_no": permit.permit_no,
        "business": endorsement.kind.business,
        "endorsed_on": endorsement.endorsed_on.isoformat(),
        "window_opens": after.window_opens.isoformat(),
        "window_closes": after.window_closes.isoformat(),
    }


def not_endorsable(status: PermitStatus) -> str:
    """Why there is nothing to endorse today (before the window, or cancelled)."""
    if status.state == "cancelled":
        return f"这张居住证已于{status.cancelled_from.isoformat()}注销，不能签注。请回复「申领」重新申领居住证。"
    return (
        f"还没到签注期：本期签注期为{status.window_opens.isoformat()}至{status.window_closes.isoformat()}，"
        "请到时再回复「签注」。"
    )


def unmet(check: EndorsementCheck) -> str:
    return "；".join(f"{m.name}{m.measured}，需{m.needed}，{m.missing}" for m in check.measures if not m.met)
