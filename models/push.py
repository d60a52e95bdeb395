"""The push outbox: every message the bot sends on its own (a status change, a reminder) is first a
row here, written in the same transaction as the change that causes it.

`key` is unique (a status change: `status:<application id>:<status>`; a reminder:
`remind:<permit>:<deadline>:<kind>`), so writing the same push twice is a no-op. A sender claims
due rows one at a time (`claimed_until`, a lease, so a sender that dies mid-send loses nothing:
the row is due again when the lease ends and goes out with the same `client_msg_id`, which WeChat
drops as a repeat), sends, and marks the row sent with WeChat's msgid.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from models.account import Account


# The kind (and the wechat.templates key) of endorsement reminders: the resident's opt-out and
# reminders.channel apply to them; status changes always go as template messages.
REMINDER = "endorsement_reminder"


class PushState(StrEnum):
    PENDING = "pending"  # due at `due_at`, or again after a transient error
    SENT = "sent"
    FAILED = "failed"  # gave up: a permanent error, or too many attempts
    SKIPPED = "skipped"  # nobody to send to: unbound, unsubscribed, reminders turned off, subscription refused


class Push(Model):
    id = fields.BigIntField(primary_key=True)
    key = fields.CharField(max_length=120, unique=True)
    kind = fields.CharField(max_length=30)  # application_status, endorsement_reminder, …
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="pushes", on_delete=fields.CASCADE
    )
    account_id: int
    template = fields.CharField(max_length=40)  # the wechat.templates key naming the template id
    data: fields.JSONField[dict[str, Any]] = fields.JSONField()  # the template's fields
    url = fields.CharField(max_length=500, default="")
    state = fields.CharEnumField(PushState, max_length=10, default=PushState.PENDING)
    due_at = fields.DatetimeField()
    claimed_until = fields.DatetimeField(null=True)
    attempts = fields.IntField(default=0)
    openid = fields.CharField(max_length=64, default="")  # whom it went to, set when sent
    msgid = fields.BigIntField(null=True)  # WeChat's, when sent
    last_error = fields.CharField(max_length=200, default="")
    sent_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "push"
        # The sender's question, "which pending rows are due", stays quick however many were sent.
        indexes = (("state", "due_at"),)

    @property
    def client_msg_id(self) -> str:
        """The same for every attempt of this row: WeChat drops a repeat within 10 minutes."""
        return f"rb-push-{self.id}"
