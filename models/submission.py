from typing import Any

from tortoise import fields
from tortoise.models import Model


class Submission(Model):
    """A form submitted once: its id is fixed when the resident is shown the review, and the
    primary key makes a second 确认 (delivered twice, after a crash, on another process) find the
    first one's result instead of submitting again."""

    id = fields.CharField(max_length=32, primary_key=True)
    flow = fields.CharField(max_length=40)
    openid = fields.CharField(max_length=64, db_index=True)
    reply: fields.JSONField[Any] = fields.JSONField(null=True)  # what the resident was answered, for a repeat
    reference = fields.CharField(max_length=200, null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "submission"
