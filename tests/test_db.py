"""bot.db: opening the database, and the schema built and upgraded by the migrations."""

import os
import shutil
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.db import (
    MIGRATIONS_ROOT,
    Database,
    initdb,
    make_migrations,
    migrate,
    migrations_dir,
    tortoise_config,
)
from models import AcceptancePoint, WeChatUser


def migration_files(url: str) -> list[str]:
    files = (migrations_dir(url) / "models").glob("[0-9]*_*.py")
    return sorted((f.name for f in files), key=lambda name: int(name.split("_")[0]))


async def test_migrate_on_a_new_database_applies_every_migration_in_order(db_url: str) -> None:
    assert await migrate(db_url) == migration_files(db_url)


async def test_migrate_after_initdb_applies_nothing(db_url: str) -> None:
    await initdb(db_url)
    assert await migrate(db_url) == []


async def test_initdb_on_an_initialised_database_keeps_its_data(db_url: str) -> None:
    await initdb(db_url)
    async with Database(db_url):
        await WeChatUser.create(openid="o-keep")
        await initdb(db_url)
        assert await WeChatUser.filter(openid="o-keep").exists()


async def test_initdb_adopts_tables_created_without_migrations(db: str) -> None:
    await AcceptancePoint.create(name="甲", district="福田区", address="某路", lat=22.5, lng=114.0, hours="", phone="")
    await initdb(db)
    assert await migrate(db) == []
    assert await AcceptancePoint.all().count() == 1


async def test_the_migrated_schema_round_trips_a_model(db_url: str) -> None:
    await initdb(db_url)
    async with Database(db_url):
        subscribed_at = datetime(2025, 3, 1, 8, 30, tzinfo=UTC)
        await WeChatUser.create(openid="o-1", subscribed=False, subscribed_at=subscribed_at)
        user = await WeChatUser.get(openid="o-1")
        assert (user.subscribed, user.subscribed_at, user.unsubscribed_at) == (False, subscribed_at, None)
        assert user.created_at.tzinfo is not None


async def test_ping_is_true_while_the_database_is_open(database: Database) -> None:
    assert await database.ping() is True


async def test_ping_is_false_once_the_database_is_closed(database: Database) -> None:
    await database.close()
    assert await database.ping() is False


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
async def test_postgresql_scheme_is_accepted(db_url: str) -> None:
    async with Database(db_url.replace("postgres://", "postgresql://", 1)) as database:
        assert await database.ping() is True


async def test_a_relative_sqlite_path_is_created_under_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    await initdb("sqlite://var/residence.sqlite3")
    assert (tmp_path / "var" / "residence.sqlite3").is_file()


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_the_sqlite_file_and_its_new_directory_are_private_to_the_bots_user(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    old_umask = os.umask(0o022)  # as a login shell leaves it: new files 0644, new directories 0755
    try:
        await initdb("sqlite://var/residence.sqlite3")
        async with Database("sqlite://var/residence.sqlite3"):
            await WeChatUser.create(openid="o-private")
    finally:
        os.umask(old_umask)
    assert mode(tmp_path / "var") == 0o700
    assert mode(tmp_path / "var" / "residence.sqlite3") == 0o600


async def test_opening_an_existing_sqlite_file_makes_it_private(tmp_path: Path) -> None:
    # A directory that was already there (it may be /tmp or a home) is left as it is.
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    shared.chmod(0o755)
    url = f"sqlite://{shared}/residence.sqlite3"
    await initdb(url)
    (shared / "residence.sqlite3").chmod(0o644)
    async with Database(url) as database:
        assert await database.ping()
    assert mode(shared / "residence.sqlite3") == 0o600
    assert mode(shared) == 0o755


def test_an_unknown_database_scheme_is_refused() -> None:
    with pytest.raises(ValueError, match="mysql"):
        tortoise_config("mysql://localhost/db")


async def test_the_migration_files_keep_up_with_the_models(tmp_path: Path) -> None:
    root = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_ROOT, root)
    written = await make_migrations("pending", root)
    assert written == [], "models changed without a migration: run `python -m bot.db NAME` and commit the files"


async def test_make_migrations_starts_each_dialect_with_an_initial_migration(tmp_path: Path) -> None:
    written = await make_migrations("ignored", tmp_path)
    assert [(p.parent.parent.name, p.name.split("_")[0], p.name.endswith("_init.py")) for p in written] == [
        ("sqlite", "0", True),
        ("postgres", "0", True),
    ]
