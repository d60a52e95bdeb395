"""The database: tortoise-orm on SQLite (default) or PostgreSQL (asyncpg); schema managed by aerich.

Migrations. aerich writes each migration as raw SQL in the dialect of the database it was made
for, so one file cannot serve both SQLite and PostgreSQL. The repository therefore keeps one aerich
migrations directory per dialect, both generated from the same models:

    migrations/sqlite/models/<n>_<timestamp>_<name>.py
    migrations/postgres/models/<n>_<timestamp>_<name>.py

After changing the models, ``python -m bot.db NAME`` (``make_migrations``) diffs the models against
the last file of each directory and writes the next migration for both dialects. It works offline:
no database server is needed. Review the generated SQL (aerich may read a changed column as a
rename) and commit both files together; tests/test_db.py fails while the files lag the models.

``initdb`` and ``migrate`` apply the directory matching the database URL and record every applied
file in aerich's table, so both are idempotent. A new database gets its whole schema from the
migrations (the first one creates tables only if missing), the same SQL that upgrades production;
so initdb on a database that already exists just applies what is pending, like migrate.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
from pathlib import Path
from typing import Any

from aerich import Command
from aerich.migrate import Migrate
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.context import TortoiseContext

log = logging.getLogger(__name__)

APP = "models"
MIGRATIONS_ROOT = Path(__file__).resolve().parent.parent / "migrations"

_DIALECTS = {"sqlite": "sqlite", "postgres": "postgres", "postgresql": "postgres", "asyncpg": "postgres"}
# make_migrations only renders SQL for these; it never connects to them.
_OFFLINE_URLS = {"sqlite": "sqlite://:memory:", "postgres": "postgres://offline.invalid/residence"}

def dialect_of(url: str) -> str:
    """``sqlite`` or ``postgres``, from the URL's scheme."""
    scheme = url.partition("://")[0]
    try:
        return _DIALECTS[scheme]
    except KeyError:
        raise ValueError(f"database url: unsupported scheme {scheme!r}; use sqlite:// or postgres://") from None


def tortoise_config(url: str) -> dict[str, Any]:
    """Tortoise config for the project's models (and aerich's migration table) on ``url``."""
    # The connection is named after its dialect: tortoise caches compiled SQL per connection
    # name, and one process (the tests) may use SQLite and PostgreSQL in turn.
    name = dialect_of(url)
    return {
        "connections": {name: url},
        "apps": {APP: {"models": ["models", "aerich.models"], "default_connection": name}},
        "use_tz": True,
        "timezone": "UTC",
    }


def migrations_dir(url: str) -> Path:
    """The aerich location (``migrations/<dialect>``) for the database at ``url``."""
    return MIGRATIONS_ROOT / dialect_of(url)


class Database:
    """The database at one URL, opened for every task of this process: built by the app factory
    (or a command) and handed down, never reached as a module global."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._ctx: TortoiseContext | None = None

    @property
    def dialect(self) -> str:
        return dialect_of(self.url)

    async def open(self) -> None:
        """Set up the models. A relative SQLite path is relative to the working directory; the file
        and its parent directory are created, private to the bot's user. Connections are made
        lazily, on the first query."""
        await self.close()
        _ensure_sqlite_file(self.url)
        # Current only while loading the models; afterwards every task (request handlers and jobs
        # run in tasks that did not open it) finds it as the global fallback.
        with TortoiseContext() as ctx:
            await ctx.init(config=tortoise_config(self.url), _enable_global_fallback=True)
        self._ctx = ctx

    async def close(self) -> None:
        ctx, self._ctx = self._ctx, None
        if ctx is not None:
            await ctx.close_connections()

    async def ping(self, timeout_s: float = 2.0) -> bool:
        """True when the database answers ``SELECT 1`` within ``timeout_s`` (for /readyz)."""
        if self._ctx is None:
            return False
        try:
            async with asyncio.timeout(timeout_s):
                await self._ctx.db().execute_query("SELECT 1")
        except Exception as exc:  # any failure means "not ready"; the reason goes to the log
            log.warning("database ping failed: %s: %s", type(exc).__name__, exc)
            return False
        return True

    async def __aenter__(self) -> Database:
        await self.open()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()


async def initdb(url: str) -> None:
    """Create the schema on a new database, or bring an existing one up to date."""
    await migrate(url)


async def migrate(url: str) -> list[str]:
    """Apply the pending migrations of ``migrations/<dialect>``; returns the applied file names.

    Runs on a private connection, so a database open in this process is left as it is."""
    _ensure_sqlite_file(url)
    with TortoiseContext() as ctx:
        try:
            await ctx.init(config=tortoise_config(url))
            command = Command(tortoise_config(url), app=APP, location=str(migrations_dir(url)))
            await command.init()
            return await command.upgrade(run_in_transaction=True)
        finally:
            await ctx.close_connections()


async def make_migrations(name: str = "update", root: Path = MIGRATIONS_ROOT) -> list[Path]:
    """Write the next migration of each dialect for the current models; returns the new files.

    With no migrations yet, writes the initial ones. Nothing is written when the models match
    the last migration. Works offline: no database is opened.
    """
    written = []
    for dialect, url in _OFFLINE_URLS.items():
        location = root / dialect
        app_dir = Migrate.get_migration_dir(str(location), APP)
        _reset_aerich_diff_state()
        # A private context, so an open database (and its global fallback) is left alone.
        with TortoiseContext() as ctx:
            try:
                await ctx.init(config=tortoise_config(url))
                assert ctx.apps is not None  # init loads them
                # Guard: with the models unimportable, the diff would be "drop every table".
                if set(ctx.apps[APP]) <= {"Aerich"}:
                    raise RuntimeError("no models found in the models package; run from the repository root")
                command = Command(tortoise_config(url), app=APP, location=str(location))
                if any(app_dir.glob("[0-9]*_*.py")):
                    await command.init(offline=True)
                    version = await command.migrate(name, no_input=True, offline=True)
                else:
                    await command.init_migrations(safe=True)
                    version = Migrate.get_all_version_files()[-1]
            finally:
                await ctx.close_connections()
        if version:
            written.append(app_dir / version)
    return written


def _reset_aerich_diff_state() -> None:
    # aerich's CLI makes one diff per process and keeps it on the Migrate class; without this,
    # the second dialect's file would repeat the first one's SQL.
    Migrate.upgrade_operators = []
    Migrate.downgrade_operators = []
    Migrate._upgrade_fk_m2m_index_operators = []
    Migrate._downgrade_fk_m2m_index_operators = []
    Migrate._upgrade_m2m = []
    Migrate._downgrade_m2m = []
    Migrate._rename_fields = {}
    Migrate._rename_models = {}
    Migrate._last_version_content = None


def _ensure_sqlite_file(url: str) -> None:
    """The SQLite file, private to the bot's user (0600), in its directory, made 0700 when missing.

    The file holds personal data, and SQLite would create it as the umask allows (0644 as a rule),
    its journal and WAL files taking the file's mode. A directory that was already there may be
    shared (a home, /tmp), so it is left as it is.
    """
    if dialect_of(url) != "sqlite":
        return
    path = expand_db_url(url)["credentials"]["file_path"]
    if path == ":memory:":
        return
    file = Path(path)
    with contextlib.suppress(FileExistsError):
        file.parent.mkdir(parents=True, mode=0o700)
        file.parent.chmod(0o700)  # mkdir's mode passes through the umask
    try:
        # An empty file is an empty database to SQLite.
        os.close(os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        if file.stat().st_mode & 0o077:
            try:
                file.chmod(0o600)
            except PermissionError:
                log.warning("database file %s is readable by others and not ours to chmod", file)
    else:
        file.chmod(0o600)  # the umask again


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bot.db",
        description="Write the next migration (SQLite and PostgreSQL) for the current models.",
    )
    parser.add_argument("name", nargs="?", default="update", help="a word for the file name, e.g. add_permit")
    args = parser.parse_args(argv)
    if not args.name.isidentifier():
        parser.error("name: use letters, digits and underscores")
    written = asyncio.run(make_migrations(args.name))
    for path in written:
        print(path)
    if not written:
        print("the migrations already match the models")


if __name__ == "__main__":
    main()
