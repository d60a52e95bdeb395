"""The push outbox (SPEC §6), the writing side: a push is written as a row in the same transaction as
the change that causes it, under a unique key, so writing it twice is a no-op and it is sent by a
sender (bot/services/push_sender.py) exactly once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from models import Account, AccountKind, Binding, Push, PushState


def row(
    key: str,
    *,
    account_id: int,
    kind: str,
    template: str,
    data: dict[str, Any],
    url: str,
    due_at: datetime,
) -> Push:
    """A push not yet written: `add_all` writes it."""
    return Push(key=key, account_id=account_id, kind=kind, template=template, data=data, url=url, due_at=due_at)


async def add(key: str, **fields: Any) -> None:
    """Write a push unless one with this key exists; inside the caller's transaction."""
    await add_all([row(key, **fields)])


async def add_all(rows: Iterable[Push]) -> None:
    """Write each push unless one with its key exists, in one statement; inside the caller's transaction.

    ON CONFLICT DO NOTHING rather than catching the duplicate: on PostgreSQL a failed insert
    would abort the caller's whole transaction.
    """
    await Push.bulk_create(list(rows), ignore_conflicts=True)


async def own_bound_account(person: str) -> Account | None:
    """The person's own personal account, when real-name verification proved it theirs and it is
    bound to a WeChat user now: whom pushes about the person's records go to."""
    account = await Account.get_or_none(
        kind=AccountKind.PERSONAL, verified_id_hash=person, realname_verified_at__isnull=False
    )
    if account is None or not await Binding.exists(account_id=account.id):
        return None
    return account


@dataclass(frozen=True, slots=True)
class Backlog:
    """What the outbox holds that is not done: what /metrics reports of it."""

    due: int  # pending rows due by now: waiting for a sender, or being sent
    oldest_due_at: datetime | None  # when the longest-waiting of them fell due
    failed: int  # rows given up, ever


async def backlog(now: datetime) -> Backlog:
    """The outbox's backlog at `now`: three queries on the (state, due_at) index, cheap while the
    backlog is small (a backlog that is not is what the numbers are for)."""
    due = Push.filter(state=PushState.PENDING, due_at__lte=now)
    oldest = cast(datetime | None, await due.order_by("due_at").first().values_list("due_at", flat=True))
    return Backlog(
        due=await due.count() if oldest is not None else 0,
        oldest_due_at=oldest,
        failed=await Push.filter(state=PushState.FAILED).count(),
    )
