"""The daily reminder scan (SPEC §6): every permit with a reminder on the day gets one push row per
(permit, deadline, kind) in the outbox, for the push sender to deliver once.

Which days remind is models/reminders.py's to say. The scan asks the permit table's `deadline_on`
index for the few deadlines that have a reminder on the day, in batches by id, then finds their
holders in one query a batch: a permit is reminded to the personal account that real-name
verification proved to be its holder (nobody else's account, whatever ID number it typed). A
permit whose holder has no such account is passed over: there is nobody to tell.

The push key is the reminder's identity, so a second scan of the same day, a scan on two
processes, or `residence-bot remind` after the worker's own scan write nothing new; `existing`
in each reminder found says whether its row was there already.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time

from tortoise.transactions import in_transaction

from bot.config import RemindersConfig
from bot.services import pushes
from models import Account, AccountKind, Permit, Push
from models.permit_cycle import period_status
from models.push import REMINDER
from models.reminders import Reminder, deadlines_reminded_on, reminders_on
from models.rules import SHENZHEN, Rules

log = logging.getLogger(__name__)

BATCH = 2000  # permits read, and push rows written, per round trip
HOW_TO = "回复「签注」在线办理"  # the template's 办理方式: the keyword that starts 签注

SUBJECT_TEXT = {
    "opens": "签注期已开始，请按时签注",
    "suspended": "居住证已暂停使用，请补办签注",
}


@dataclass(frozen=True, slots=True)
class Found:
    """A reminder the scan found: whose, about what, and whether its push was written before."""

    permit_no: str
    holder: str  # the permit's name and the account's username, for the operator
    reminder: Reminder
    existing: bool


class Reminders:
    def __init__(self, rules: Rules, config: RemindersConfig) -> None:
        self._rules = rules
        self._config = config

    @property
    def days_before_deadline(self) -> list[int]:
        return list(self._config.days_before_deadline)

    async def toggle(self, account: Account) -> bool:
        """Turn the account's reminders off when on, on when off (提醒); whether they are on now."""
        for _ in range(3):  # a conditional flip: two at once cannot both flip from the same state
            current = await Account.get(id=account.id)
            turned = await Account.filter(id=account.id, reminders_enabled=current.reminders_enabled).update(
                reminders_enabled=not current.reminders_enabled
            )
            if turned:
                return not current.reminders_enabled
        raise RuntimeError(f"reminders of account {account.id} flipped by others meanwhile")

    def due_at(self, day: date) -> datetime:
        """When the reminders of `day` go out: reminders.send_hour, Shenzhen time."""
        return datetime.combine(day, time(self._config.send_hour), SHENZHEN)

    async def scan(self, as_of: date, *, due_at: datetime, dry_run: bool = False) -> list[Found]:
        """Find the reminders of `as_of` and, unless `dry_run`, write their pushes, due at `due_at`."""
        deadlines = deadlines_reminded_on(as_of, self._rules, self._config.days_before_deadline)
        found: list[Found] = []
        after = 0
        while batch := await Permit.filter(deadline_on__in=deadlines, id__gt=after).order_by("id").limit(BATCH):
            after = batch[-1].id
            found += await self._batch(batch, as_of, due_at, dry_run)
        log.info("reminder scan of %s: %d found, %d new%s", as_of, len(found), sum(not f.existing for f in found),
                 " (dry run: nothing written)" if dry_run else "")  # fmt: skip
        return found

    async def _batch(self, permits: list[Permit], as_of: date, due_at: datetime, dry_run: bool) -> list[Found]:
        holders = {
            account.verified_id_hash: account
            for account in await Account.filter(
                kind=AccountKind.PERSONAL,
                verified_id_hash__in=list({p.person for p in permits}),
                realname_verified_at__isnull=False,
            )
        }
        rows: list[Push] = []
        pending: list[tuple[Permit, Account, Reminder]] = []
        for permit in permits:
            account = holders.get(permit.person)
            if account is None:
                continue
            status = period_status(permit.anchor_on, permit.deadline_on, as_of, self._rules)
            for reminder in reminders_on(status, as_of, self._config.days_before_deadline):
                pending.append((permit, account, reminder))
                rows.append(_push(permit, account, reminder, due_at))
        keys = [row.key for row in rows]
        existing = {push.key for push in await Push.filter(key__in=keys).only("key")} if keys else set()
        if rows and not dry_run:
            async with in_transaction():
                await pushes.add_all(rows)
        return [
            Found(permit.permit_no, f"{permit.name}（{account.username}）", reminder, row.key in existing)
            for (permit, account, reminder), row in zip(pending, rows, strict=True)
        ]


def reminder_key(permit: Permit, reminder: Reminder) -> str:
    return f"remind:{permit.id}:{reminder.status.deadline.isoformat()}:{reminder.kind}"


def reminder_text(reminder: Reminder) -> str:
    """What the reminder is about, in the template's 20 characters."""
    if reminder.subject == "due":
        left = reminder.days_left
        return "今天是签注期最后一天" if left == 0 else f"距签注截止还有{left}天"
    if reminder.subject == "cancellation":
        return f"{reminder.days_left}天后居住证将被注销"
    return SUBJECT_TEXT[reminder.subject]


def template_data(permit: Permit, reminder: Reminder) -> dict[str, str]:
    """The endorsement_reminder template's keywords (config.yaml lists them)."""
    return {
        "character_string1": permit.permit_no,
        "thing2": reminder_text(reminder),
        "date3": reminder.last_day.isoformat(),
        "thing4": HOW_TO,
    }


def _push(permit: Permit, account: Account, reminder: Reminder, due_at: datetime) -> Push:
    return pushes.row(
        reminder_key(permit, reminder),
        account_id=account.id,
        kind=REMINDER,
        template=REMINDER,
        data=template_data(permit, reminder),
        url="",
        due_at=due_at,
    )
