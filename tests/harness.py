"""Pytest plugin: the bot on aiohttp's test server, and fake residents talking to it.

`resident.send("受理点")` posts the XML WeChat would post, through the whole HTTP path, and
returns the reply as the resident reads it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from bot.app import DISPATCHER, create_app
from bot.config import Settings
from bot.db import Database, initdb
from bot.dev.chat import ChatClient
from bot.imports.acceptance_points import load_points_file, replace_points
from bot.state.memory import MemoryStore
from conversations import glossary
from tests.screen import fits_one_screen, lines_on_screen

TOKEN = "testtoken42"
APP_ID = "wx5823bf96d3bd56c7"
AES_KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
ORIGINAL_ID = "gh_1234567890ab"
FIELD_KEY = "dGVzdC1maWVsZC1rZXktMzItYnl0ZXMtbG9uZy4uLi4="
EXAMPLE_POINTS = Path(__file__).resolve().parent.parent / "data" / "acceptance_points.example.yaml"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "long_replies(why): replies of this test may be longer than one phone screen")


def make_settings(tmp_path: Path, **sections: dict[str, Any]) -> Settings:
    """Test settings: SQLite in tmp_path, in-memory state, plain mode, no clock-skew check."""
    values: dict[str, dict[str, Any]] = {
        "wechat": {
            "token": TOKEN,
            "app_id": APP_ID,
            "encoding_aes_key": AES_KEY,
            "original_id": ORIGINAL_ID,
            "mode": "plain",
            "max_clock_skew_s": 0,
        },
        "database": {"url": f"sqlite://{tmp_path}/bot.sqlite3"},
        "data": {"acceptance_points": str(EXAMPLE_POINTS)},
        "security": {"field_key": FIELD_KEY},
        "realname": {"photo_dir": str(tmp_path / "photos")},
        "receipts": {"storage_dir": str(tmp_path / "receipts")},
        "reminders": {"quiet_hours": ""},  # pushes go at any hour, unless a test is about quiet hours
    }
    for name, overrides in sections.items():
        values[name] = {**values.get(name, {}), **overrides}
    return Settings(**values)


def through_fakes(fake_sms: Any, fake_wechat: Any) -> dict[str, dict[str, Any]]:
    """Settings sections that send SMS codes to the fake gateway and API calls to the fake WeChat."""
    return {
        "sms": {"provider": "http", "http": {"url": fake_sms.url}},
        "wechat": {"app_id": fake_wechat.app_id, "app_secret": fake_wechat.app_secret, "api_base_url": fake_wechat.url},
    }


class Resident(ChatClient):
    """A ChatClient that keeps every reply it read, for the phone-screen check."""

    def __init__(self, *args: Any, read: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._read = read

    def read_reply(self, body: str) -> str:
        reply = super().read_reply(body)
        self._read.append(reply)
        return reply


class Residents:
    """Makes fake residents for one running bot."""

    def __init__(self, client: TestClient, settings: Settings) -> None:
        self.client = client
        self.settings = settings
        self.replies: list[str] = []  # every reply any of them read

    def __call__(self, openid: str = "o_resident_1", *, safe: bool = False) -> ChatClient:
        return Resident(
            str(self.client.make_url("/wechat")),
            openid=openid,
            token=TOKEN,
            app_id=APP_ID,
            encoding_aes_key=AES_KEY,
            original_id=ORIGINAL_ID,
            safe=safe,
            session=self.client.session,
            read=self.replies,
        )


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


@pytest.fixture
async def database_ready(settings: Settings) -> AsyncIterator[Database]:
    await initdb(settings.database.url)
    async with Database(settings.database.url) as database:
        await replace_points(load_points_file(EXAMPLE_POINTS))
        yield database


BotFactory = Callable[..., Awaitable[TestClient]]


@pytest.fixture
def start_bot(aiohttp_client: Any, database_ready: Database) -> BotFactory:
    """start_bot(settings, **create_app_kwargs) → a test client of a running bot."""

    async def start(settings: Settings, **kwargs: Any) -> TestClient:
        return await aiohttp_client(create_app(settings, database=database_ready, **kwargs))

    return start


@pytest.fixture
async def bot(start_bot: BotFactory, settings: Settings) -> TestClient:
    return await start_bot(settings)


@pytest.fixture
def residents(bot: TestClient, settings: Settings, request: pytest.FixtureRequest) -> Iterator[Residents]:
    made = Residents(bot, settings)
    yield made
    _check_replies(made.replies, request)


def _check_replies(replies: list[str], request: pytest.FixtureRequest) -> None:
    """Every reply a resident read in a test fits one phone screen and keeps to the glossary's terms;
    a test whose replies may be longer (a 50-person batch) says why with @pytest.mark.long_replies."""
    misnamed = {reply: found for reply in replies if (found := glossary.misnamed(reply))}
    assert not misnamed, f"replies use names the glossary does not: {misnamed}"
    if request.node.get_closest_marker("long_replies"):
        return
    too_long = [f"{lines_on_screen(r)} lines:\n{r}" for r in replies if not fits_one_screen(r)]
    assert not too_long, "replies longer than one phone screen:\n\n" + "\n\n".join(too_long)


@pytest.fixture
def resident(residents: Residents) -> ChatClient:
    return residents()


async def on_a_second_process(bot: TestClient, start_bot: Any, settings: Settings, resident: ChatClient) -> ChatClient:
    """The same resident on a second process that loaded the same conversation: a state store of
    its own, the same database (what two `serve` processes behind one proxy share)."""
    here = bot.app[DISPATCHER].store
    begin = await here.begin("peek", resident.openid)
    await here.abort(begin.turn)
    there = MemoryStore(dedup_ttl_s=3600, lock_timeout_s=5)
    claim = await there.begin("seed", resident.openid)
    await there.commit(claim.turn, begin.turn.state, 3600, "")
    return Residents(await start_bot(settings, store=there), settings)(resident.openid)
