"""Submissions (bot/services/submissions.py): once a submission has committed, the push sender is
woken for what it wrote; a repeat of the id neither submits again nor wakes it."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from bot.services.submissions import Submissions
from bot.wechat.reply import Reply
from models import Submission


@dataclass(frozen=True)
class Done:
    reply: Reply
    reference: str | None


async def test_a_first_submission_wakes_the_push_sender_and_a_repeat_does_not(db):
    woken: list[bool] = []
    submissions = Submissions(wake_sender=lambda: woken.append(True))
    runs: list[int] = []

    async def submit() -> Done:
        runs.append(1)
        return Done("已提交", "REF1")

    first = await submissions.once("s1", "ENDORSE", "o_1", submit)
    again = await submissions.once("s1", "ENDORSE", "o_1", submit)
    assert (first.first, again.first, again.reference) == (True, False, "REF1")
    assert runs == [1] and woken == [True]
    assert await Submission.filter(id="s1").count() == 1


async def test_a_submission_that_fails_wakes_nothing(db):
    woken: list[bool] = []
    submissions = Submissions(wake_sender=lambda: woken.append(True))

    async def submit() -> Done:
        raise RuntimeError("the database went away")

    with pytest.raises(RuntimeError):
        await submissions.once("s2", "ENDORSE", "o_1", submit)
    assert woken == [] and not await Submission.filter(id="s2").exists()
