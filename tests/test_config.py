"""redis.url alone selects the state store (SPEC §2); state.backend may only agree with it."""

from __future__ import annotations

import os
import uuid

import pytest

from bot.config import ConfigError, load_settings
from bot.state.factory import open_store
from bot.state.memory import MemoryStore
from bot.state.redis import RedisStore
from tests.processes import REPO

CONFIG = REPO / "config.yaml"


@pytest.fixture(autouse=True)
def no_rb_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [n for n in os.environ if n.startswith("RB_")]:
        monkeypatch.delenv(name)


async def test_an_empty_redis_url_selects_the_in_memory_store():
    settings = load_settings(CONFIG)
    assert settings.redis.url == "" and settings.state_backend == "memory"
    store = open_store(settings)
    assert isinstance(store, MemoryStore)
    await store.close()


async def test_a_redis_url_alone_selects_shared_state_in_redis(monkeypatch, redis_url):
    monkeypatch.setenv("RB_REDIS__URL", redis_url)
    settings = load_settings(CONFIG)
    assert settings.state.backend is None and settings.state_backend == "redis"
    store = open_store(settings)
    try:
        assert isinstance(store, RedisStore) and store.shared
        openid = f"o_{uuid.uuid4().hex[:8]}"
        begin = await store.begin(f"msg:{openid}:1", openid)
        await store.commit(begin.turn, {"step": "a"}, 60, "r1")
        assert await store.load_state(openid) == {"step": "a"}
    finally:
        await store.close()


@pytest.mark.parametrize(
    ("backend", "url", "fix"),
    [
        ("memory", "redis://127.0.0.1:6379/0", "clear redis.url"),
        ("redis", "", "set redis.url"),
    ],
)
def test_a_state_backend_contradicting_redis_url_is_refused(monkeypatch, backend, url, fix):
    monkeypatch.setenv("RB_STATE__BACKEND", backend)
    monkeypatch.setenv("RB_REDIS__URL", url)
    with pytest.raises(ConfigError) as refused:
        load_settings(CONFIG)
    message = str(refused.value)
    assert message.startswith(f"config: state.backend: is {backend} but redis.url is ")
    assert fix in message and "\n" not in message


@pytest.mark.parametrize(("backend", "url"), [("memory", ""), ("redis", "redis://127.0.0.1:6379/0")])
def test_a_state_backend_agreeing_with_redis_url_is_accepted(monkeypatch, backend, url):
    monkeypatch.setenv("RB_STATE__BACKEND", backend)
    monkeypatch.setenv("RB_REDIS__URL", url)
    assert load_settings(CONFIG).state_backend == backend
