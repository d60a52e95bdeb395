"""The push outbox (SPEC §6), the writing side: a push is written as a row in the same transaction as
the change that causes it, under a unique key, so writing it twice is a no-op and it is sent by a
sender (bot/services/push_sender.py) exactly once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from models import Push


async def add(
    key: str,
    *,
    account_id: int,
    kind: str,
    template: str,
    data: dict[str, Any],
    url: str,
    due_at: datetime,
) -> None:
    """Write a push unless one with this key exists; inside the caller's transaction.

    ON CONFLICT DO NOTHING rather than catching the duplicate: on PostgreSQL a failed insert
    would abort the caller's whole transaction.
    """
    row = Push(key=key, account_id=account_id, kind=kind, template=template, data=data, url=url, due_at=due_at)
    await Push.bulk_create([row], ignore_conflicts=True)
