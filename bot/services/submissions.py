"""Exactly-once submission of a form: the database, not the conversation state, knows what was done.

The engine fixes a submission id when it shows the review and keeps it in the conversation. A
submit claims that id (the primary key of `Submission`) in the same transaction as the records
it writes, so a 确认 delivered twice, one that follows a crash between the database write and
the state save, or two 确认 on two processes all end in one submission, and every one of them is
answered with the first one's reply.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from bot.wechat.reply import Reply, reply_from_json, reply_to_json
from models import Submission


class Result(Protocol):
    """What a flow's submit gives back: what to answer, and the reference a repeat is told."""

    @property
    def reply(self) -> Reply: ...

    @property
    def reference(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class Submitted:
    reply: Reply
    reference: str | None
    first: bool  # False: this id had been submitted before, and this is what it was answered then


class Submissions:
    def __init__(self, wake_sender: Callable[[], None]) -> None:
        """`wake_sender`: called once a submission has committed, for the pushes it wrote to go now."""
        self._wake_sender = wake_sender

    async def done(self, submission_id: str) -> bool:
        """Whether this id was submitted already (its repeat is answered as the first was, unchecked)."""
        return await Submission.exists(id=submission_id)

    async def once(
        self, submission_id: str, flow: str, openid: str, submit: Callable[[], Awaitable[Result]]
    ) -> Submitted:
        """Run `submit()` unless this id was submitted before."""
        earlier = await Submission.get_or_none(id=submission_id)
        if earlier is not None:
            return Submitted(reply_from_json(earlier.reply), earlier.reference, first=False)
        try:
            async with in_transaction():
                # The claim comes first: a concurrent submit of the same id waits here, then fails.
                await Submission.create(id=submission_id, flow=flow, openid=openid)
                result = await submit()
                await Submission.filter(id=submission_id).update(
                    reply=reply_to_json(result.reply), reference=result.reference
                )
        except IntegrityError:
            earlier = await Submission.get_or_none(id=submission_id)
            if earlier is None:  # a conflict of the submit's own records, not of this claim
                raise
            return Submitted(reply_from_json(earlier.reply), earlier.reference, first=False)
        self._wake_sender()  # an endorsement's push, say: the resident hears of it now, not at the next scan
        return Submitted(result.reply, result.reference, first=True)
