"""An application's lifecycle as operators move it (RULES.md "Rules as a state machine"): each
change recorded, and pushed to the resident exactly once.

One change is one transaction: the row's new status, its ApplicationStatusChange, and the pushes
in the outbox (SPEC §6), so either all of it happens or none. Two operators making the same change
at once (a double click, a retried request, the CLI and the admin API) make it once: the row is
updated only `WHERE status = <the status it was read with>`, and whoever updates no row lost the
race. On PostgreSQL the loser's UPDATE waits for the winner's commit and then finds the status
changed; on SQLite transactions run one at a time. The unique keys of the change and of the push
stand behind that.

Who is told: the account that filed the application; and, for a unit's application (代办), the
person too when they hold a verified personal account bound to a WeChat user. Holding means
real-name verification proved the account to be that person (`verified_id_hash`): an account that
only typed the person's ID number at 注册 is told nothing about them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from tortoise.transactions import in_transaction

from bot.services import pushes
from bot.services.errors import Told
from bot.services.receipts import Receipts
from models import (
    Account,
    ApplicationKind,
    ApplicationStatus,
    ApplicationStatusChange,
    Binding,
    PermitApplication,
    Receipt,
)
from models.application import FINAL, STATUS_LABELS, allowed_next, is_application_number
from models.rules import SHENZHEN

log = logging.getLogger(__name__)

NOTE_MAX = 200  # PermitApplication.status_note
PUSH_KIND = "application_status"
TEMPLATE = "application_status"  # the wechat.templates key; config.yaml lists the template's keywords
# WeChat's limits on a template's values (类目模板): a `thing` holds 20 characters, a `phrase` 5.
THING_MAX = 20
PHRASE_MAX = 5

# What the resident is told comes next, when the operator gave no note.
NEXT_STEP = {
    ApplicationStatus.VERIFYING: "相关部门核查中，约3个工作日",
    ApplicationStatus.REVIEW: "公安机关审核中，约2个工作日",
    ApplicationStatus.APPROVED: "审核通过，即将制作证件",
    ApplicationStatus.PRODUCING: "证件制作中，制好后另行通知",
    ApplicationStatus.COLLECTED: "证件已领取，本次申领办结",
}


class StatusError(Told):
    """The change cannot be made; the message says why, for the operator."""


class UnknownApplication(StatusError):
    """No application has this number, or it is not a number at all (a typo)."""


class NoteRequired(StatusError):
    pass


class IllegalTransition(StatusError):
    def __init__(self, number: str, current: ApplicationStatus) -> None:
        self.current = current
        self.allowed = next_statuses(current)
        then = ", ".join(self.allowed) if self.allowed else f"nothing: {current} is final / 已办结"
        super().__init__(f"{number} is {current} ({current.label}); it may go on to {then}")


@dataclass(frozen=True, slots=True)
class Recipient:
    username: str
    bound: bool  # to a WeChat user now; if not, the sender skips the push


@dataclass(frozen=True, slots=True)
class Changed:
    number: str
    previous: ApplicationStatus  # the same as `status` when it was so already: nothing was done
    status: ApplicationStatus
    note: str
    changed_at: datetime
    told: tuple[Recipient, ...]  # whose pushes were written (none for a repeat)

    @property
    def repeat(self) -> bool:
        return self.previous == self.status


def next_statuses(status: ApplicationStatus) -> list[ApplicationStatus]:
    """The statuses that may follow `status`, in the lifecycle's order."""
    return [s for s in ApplicationStatus if s in allowed_next(status)]


def parse_status(text: str) -> ApplicationStatus | None:
    """A status by its value (`review`) or its Chinese label (`公安审核中`)."""
    text = text.strip()
    for status in ApplicationStatus:
        if text.lower() == status.value or text == status.label:
            return status
    return None


class ApplicationLifecycle:
    def __init__(self, receipts: Receipts) -> None:
        self._receipts = receipts

    async def set_status(self, number: str, status: ApplicationStatus, note: str, now: datetime) -> Changed:
        """Move the application `number` to `status`, record why, and push it to whom it concerns.

        Setting the status it has already is a repeat (a retried request): nothing is changed or
        pushed again, and `Changed.repeat` says so."""
        number = number.strip().upper()
        note = note.strip()
        if not is_application_number(number):
            raise UnknownApplication(f"{number}: not an application number, check it for a typo / 受理编号有误")
        if len(note) > NOTE_MAX:
            raise StatusError(f"note: at most {NOTE_MAX} characters / 备注最多{NOTE_MAX}个字")
        application = await PermitApplication.get_or_none(number=number)
        if application is None:
            raise UnknownApplication(f"{number}: no such application / 没有这个受理编号的申领")
        if application.status == status:
            return _already(application)
        if status not in allowed_next(application.status):
            raise IllegalTransition(number, application.status)
        if status is ApplicationStatus.REJECTED and not note:
            raise NoteRequired("note: a rejection needs the reason, which the resident is told / 不予通过须填写原因")
        previous = application.status
        async with in_transaction() as conn:
            updated = await (
                PermitApplication.filter(id=application.id, status=previous)
                .using_db(conn)
                .update(
                    status=status,
                    status_note=note,
                    status_changed_at=now,
                    # A final status closes it: the person may apply again.
                    **({"open_for": None} if status in FINAL else {}),
                )
            )
            if not updated:
                # Someone else changed it since it was read: to this status (a double submit), or on.
                current = await PermitApplication.filter(id=application.id).using_db(conn).get()
                if current.status == status:
                    return _already(current)
                raise IllegalTransition(number, current.status)
            await ApplicationStatusChange.create(
                application_id=application.id, status=status, note=note, changed_at=now, using_db=conn
            )
            application.status, application.status_note, application.status_changed_at = status, note, now
            told = await self._push(application, now)
        log.info("application %s: %s → %s, %d push(es) written", number, previous, status, len(told))
        return Changed(number, previous, status, note, now, told)

    async def _push(self, application: PermitApplication, now: datetime) -> tuple[Recipient, ...]:
        """The pushes of a change, in its transaction: to the filing account, and to the person's own."""
        receipt = await Receipt.filter(application_id=application.id).order_by("id").first()
        url = self._receipts.url(receipt.id, now) if receipt else ""
        data = template_data(application, now)
        filer = await Account.get(id=application.account_id)
        recipients = [(filer, "")]
        if application.kind is ApplicationKind.UNIT:
            own = await pushes.own_bound_account(application.person)
            if own is not None:
                recipients.append((own, ":person"))
        told = []
        for account, suffix in recipients:
            await pushes.add(
                f"status:{application.id}:{application.status}{suffix}",
                account_id=account.id,
                kind=PUSH_KIND,
                template=TEMPLATE,
                data=data,
                url=url,
                due_at=now,
            )
            told.append(Recipient(account.username, await Binding.exists(account_id=account.id)))
        return tuple(told)


def template_data(application: PermitApplication, now: datetime) -> dict[str, str]:
    """The values of the application_status template's keywords, within WeChat's limits."""
    return {
        "character_string1": application.number or "",
        "phrase2": fit(STATUS_LABELS[application.status], PHRASE_MAX),
        "time3": f"{now.astimezone(SHENZHEN):%Y-%m-%d %H:%M}",
        "thing4": fit(application.status_note or _next_step(application), THING_MAX),
    }


def fit(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, the last one an ellipsis when anything was cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _next_step(application: PermitApplication) -> str:
    if application.status is ApplicationStatus.READY:
        return f"请到{fit(application.point_name, THING_MAX - 4)}领取"
    return NEXT_STEP.get(application.status, "")


def _already(application: PermitApplication) -> Changed:
    number = application.number or ""
    return Changed(
        number, application.status, application.status, application.status_note, application.status_changed_at, ()
    )
