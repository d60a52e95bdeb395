"""The test services start privately and answer; a missing one skips, or fails under REQUIRE_SERVICES."""

from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import pytest
import redis.asyncio as aioredis
from tortoise import Tortoise

from models import AcceptancePoint
from tests.services import RedisServer, unavailable


async def test_redis_url_answers_on_a_private_loopback_port(redis_url: str) -> None:
    parts = urlsplit(redis_url)
    assert (parts.hostname, parts.path) == ("127.0.0.1", "/0")
    assert parts.port != 6379
    client = aioredis.from_url(redis_url)
    try:
        assert await client.ping() is True
    finally:
        await client.aclose()


def test_redis_server_restarts_on_the_same_url(tmp_path: Path) -> None:
    server = RedisServer(tmp_path)
    server.start()
    url = server.url
    try:
        server.stop()
        assert not server.ping()
        server.start()
        assert server.url == url
        assert server.ping()
    finally:
        server.stop()


async def test_postgres_url_answers_on_a_private_loopback_port(postgres_url: str) -> None:
    parts = urlsplit(postgres_url)
    assert (parts.hostname, parts.path) == ("127.0.0.1", "/residence_test")
    assert parts.port != 5432
    conn = await asyncpg.connect(postgres_url)
    try:
        assert await conn.fetchval("SELECT current_database()") == "residence_test"
    finally:
        await conn.close()


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
async def test_db_url_gives_each_postgres_test_its_own_empty_database(db_url: str, postgres_url: str) -> None:
    assert urlsplit(db_url).path != urlsplit(postgres_url).path
    conn = await asyncpg.connect(db_url)
    try:
        assert await conn.fetchval("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == 0
    finally:
        await conn.close()


async def test_db_fixture_opens_the_database_with_the_models_tables(db: str) -> None:
    assert Tortoise.is_inited()
    assert await AcceptancePoint.all().count() == 0


def test_a_missing_service_skips_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REQUIRE_SERVICES", raising=False)
    with pytest.raises(pytest.skip.Exception, match="redis-server not found"):
        unavailable("redis-server not found")


def test_a_missing_service_fails_when_services_are_required(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REQUIRE_SERVICES", "1")
    with pytest.raises(pytest.fail.Exception, match="redis-server not found"):
        unavailable("redis-server not found")
