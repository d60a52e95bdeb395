"""Fault: Redis stopped and started again while residents are in the middle of their forms.

While it is down every message is answered 系统繁忙 at once (never an error status, never a hang
past WeChat's wait) and changes nothing; once it is back the same app serves again, every
conversation where its last saved answer left it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from bot.app import DISPATCHER
from bot.dev.chat import ChatClient
from tests.example_flows import many_questions
from tests.harness import Residents, make_settings
from tests.services import RedisServer

QUESTIONS = 400  # more than anyone answers here: every answer is followed by the next question
RESIDENTS = 6


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A Redis of this test's own, that keeps its data across a restart as a production one does."""
    server = RedisServer(tmp_path / "redis", args=["--appendonly", "yes", "--appendfsync", "always"])
    server.start()
    yield server
    server.stop()


@dataclass
class Answering:
    """A resident answering question after question: an answer the bot took is followed by the next
    question; one answered 系统繁忙 is sent again."""

    chat: ChatClient
    question: int = 1
    busy: int = 0
    unexpected: list[str] = field(default_factory=list)

    async def answer(self) -> None:
        reply = await self.chat.send_text(f"答案{self.question}")
        if f"第{self.question + 1}题" in reply:
            self.question += 1
        elif "系统繁忙" in reply:
            self.busy += 1
        else:
            self.unexpected.append(reply)

    async def keep_answering(self, until: asyncio.Event) -> None:
        while not until.is_set():
            await self.answer()
            await asyncio.sleep(0.02)

    def saved(self) -> dict[str, str]:
        """The answers the bot said it took."""
        return {f"many.q{i:02d}": f"答案{i}" for i in range(1, self.question)}


async def test_a_redis_restart_mid_load_answers_busy_loses_nothing_and_the_app_serves_again(
    start_bot, tmp_path, redis_server
):
    settings = make_settings(tmp_path, redis={"url": redis_server.url})
    bot = await start_bot(settings, flows=(many_questions(QUESTIONS, []),))
    residents = [Answering(Residents(bot, settings)(f"o_redis_fault_{i}")) for i in range(RESIDENTS)]
    for resident in residents:
        assert "第1题" in await resident.chat.send_text("申领")
    stop = asyncio.Event()
    load = [asyncio.create_task(r.keep_answering(stop)) for r in residents]

    await asyncio.sleep(0.5)
    redis_server.stop()
    await asyncio.sleep(1.0)
    ready = await bot.get("/readyz")
    assert ready.status == 503 and (await ready.json())["checks"]["state"] is False
    busy_while_down = sum(r.busy for r in residents)
    redis_server.start()
    await asyncio.sleep(1.0)
    stop.set()
    await asyncio.gather(*load)  # each reply came back 200 within WeChat's wait (send_text raises otherwise)

    assert (await bot.get("/readyz")).status == 200
    assert busy_while_down > 0
    for resident in residents:
        assert resident.unexpected == []
        before = resident.question
        await resident.answer()  # served again by the same app
        assert resident.question == before + 1
        state = await bot.app[DISPATCHER].store.load_state(resident.chat.openid)
        assert state["answers"] == resident.saved()  # what it said it took, and nothing it said it did not
