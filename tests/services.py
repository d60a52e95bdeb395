"""Pytest plugin: a private redis-server and PostgreSQL for the test session.

Each session starts its own servers on free loopback ports with their files in temporary
directories, and removes them at the end: tests never touch the services a machine already runs
on 6379/5432. A missing binary skips the tests that need it, or fails them when
REQUIRE_SERVICES=1 (CI).

Fixtures: ``redis_server``/``redis_url`` and ``postgres_server``/``postgres_url`` (session);
``db_url`` (a fresh SQLite file or PostgreSQL database per test, parametrized over both) and
``db`` (that database open, with the schema of the current models).
"""

from __future__ import annotations

import glob
import os
import pwd
import shlex
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from pathlib import Path
from typing import NoReturn

import pytest
from tortoise import Tortoise

from bot.db import Database

HOST = "127.0.0.1"
START_TIMEOUT_S = 30.0


def unavailable(reason: str) -> NoReturn:
    """Skip the test, or fail it when the run requires every service (REQUIRE_SERVICES=1)."""
    if os.environ.get("REQUIRE_SERVICES") == "1":
        pytest.fail(f"{reason} (REQUIRE_SERVICES=1)", pytrace=False)
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def _wait_until(ready: Callable[[], bool], alive: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while not ready():
        if not alive():
            raise RuntimeError(f"{what} exited during start-up")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not answer within {START_TIMEOUT_S:.0f}s")
        time.sleep(0.05)


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


class RedisServer:
    """A redis-server without persistence; ``stop()`` (or ``kill()``) then ``start()`` restarts it on
    the same port. ``args`` are more server options (e.g. ``--replicaof HOST PORT``)."""

    def __init__(self, directory: Path, port: int | None = None, args: Sequence[str] = ()) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            unavailable("redis-server not found (Debian: apt-get install redis-server)")
        self.binary = binary
        self.directory = directory
        self.port = port or free_port()
        self.args = list(args)
        self.log_path = directory / "redis.log"
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://{HOST}:{self.port}/0"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> None:
        if self.running:
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        args = [
            self.binary,
            "--port", str(self.port),
            "--bind", HOST,
            "--save", "",
            "--appendonly", "no",
            "--dir", str(self.directory),
            "--daemonize", "no",
            *self.args,
        ]  # fmt: skip
        with self.log_path.open("ab") as log:
            self._proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        try:
            _wait_until(self.ping, lambda: self.running, f"redis-server on port {self.port}")
        except RuntimeError as exc:
            self.stop()
            raise RuntimeError(f"{exc}\n{_tail(self.log_path)}") from None

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def kill(self) -> None:
        """SIGKILL: a crash, nothing written out and no connection closed politely."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()

    def ping(self) -> bool:
        try:
            with socket.create_connection((HOST, self.port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False


def find_pg_bindir() -> Path:
    """The directory holding initdb, pg_ctl and psql of the newest PostgreSQL installed."""
    candidates: list[Path] = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False)
        if out.returncode == 0:
            candidates.append(Path(out.stdout.strip()))
    candidates += sorted(
        (Path(p) for p in glob.glob("/usr/lib/postgresql/*/bin")),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
        reverse=True,
    )
    for bindir in candidates:
        if all((bindir / tool).is_file() for tool in ("initdb", "pg_ctl", "postgres", "psql")):
            return bindir
    unavailable("PostgreSQL server binaries not found (Debian: apt-get install postgresql)")


class PostgresServer:
    """A throw-away PostgreSQL cluster: trust auth, TCP on loopback only, socket in its own dir.

    initdb and postgres refuse to run as root, so under root (CI) they run as the ``postgres``
    user, which then owns the directory.
    """

    def __init__(self, port: int | None = None) -> None:
        self.bindir = find_pg_bindir()
        self.port = port or free_port()
        self._as_user: list[str] = []
        self._owner: pwd.struct_passwd | None = None
        if os.geteuid() == 0:
            runuser = shutil.which("runuser")
            try:
                self._owner = pwd.getpwnam("postgres")
            except KeyError:
                unavailable("running as root needs a 'postgres' user to run PostgreSQL")
            if runuser is None:
                unavailable("running as root needs runuser to run PostgreSQL as 'postgres'")
            self._as_user = [runuser, "-u", "postgres", "--"]
        # The system temp dir, not pytest's: that one is private to root, out of postgres' reach.
        self.directory = Path(tempfile.mkdtemp(prefix="rb-test-pg-"))
        self.data = self.directory / "data"
        self.log_path = self.directory / "postgres.log"
        if self._owner is not None:
            os.chown(self.directory, self._owner.pw_uid, self._owner.pw_gid)

    def url(self, database: str) -> str:
        return f"postgres://postgres@{HOST}:{self.port}/{database}"

    def start(self) -> None:
        if not (self.data / "PG_VERSION").exists():
            self._server_tool(
                "initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust",
                "-E", "UTF8", "--locale=C", "--no-sync",
            )  # fmt: skip
        options = " ".join(
            [
                f"-c listen_addresses={HOST}",
                f"-p {self.port}",
                f"-c unix_socket_directories={shlex.quote(str(self.directory))}",
                # Durability is pointless for a cluster deleted after the run.
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off",
            ]
        )
        self._server_tool(
            "pg_ctl", "-D", str(self.data), "-l", str(self.log_path), "-o", options,
            "-w", "-t", str(int(START_TIMEOUT_S)), "start",
        )  # fmt: skip

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._server_tool("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def remove(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)

    def create_database(self, name: str) -> None:
        self.sql(f'CREATE DATABASE "{name}"')

    def drop_database(self, name: str) -> None:
        # FORCE: a test that forgot to close its pool must not keep its database alive.
        self.sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def sql(self, statement: str) -> str:
        args = [
            str(self.bindir / "psql"), "-h", HOST, "-p", str(self.port), "-U", "postgres",
            "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-qAtX", "-c", statement,
        ]  # fmt: skip
        out = subprocess.run(args, capture_output=True, text=True, timeout=60, check=False)
        if out.returncode != 0:
            raise RuntimeError(f"psql {statement!r} failed: {out.stderr.strip()}")
        return out.stdout.strip()

    def _server_tool(self, tool: str, *args: str) -> None:
        cmd = [*self._as_user, str(self.bindir / tool), *args]
        out = subprocess.run(cmd, cwd=self.directory, capture_output=True, text=True, timeout=120, check=False)
        if out.returncode != 0:
            raise RuntimeError(
                f"{tool} failed ({out.returncode}): {out.stderr.strip() or out.stdout.strip()}\n{_tail(self.log_path)}"
            )


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def redis_url(redis_server: RedisServer) -> str:
    return redis_server.url


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    server = PostgresServer()
    try:
        server.start()
        server.create_database("residence_test")
        yield server
    finally:
        server.stop()
        server.remove()


@pytest.fixture(scope="session")
def postgres_url(postgres_server: PostgresServer) -> str:
    return postgres_server.url("residence_test")


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of each kind: a new SQLite file, or a new database on the session server."""
    if request.param == "sqlite":
        yield f"sqlite://{tmp_path}/test.sqlite3"
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    name = f"rb_test_{uuid.uuid4().hex[:12]}"
    server.create_database(name)
    try:
        yield server.url(name)
    finally:
        server.drop_database(name)


@pytest.fixture
async def database(db_url: str) -> AsyncIterator[Database]:
    """The ``db_url`` database, open, with tables for the current models.

    The tables come from the models rather than the migrations, so a model under development
    is testable at once; tests/test_db.py checks that the migrations keep up with the models.
    """
    async with Database(db_url) as database:
        await Tortoise.generate_schemas(safe=True)
        yield database


@pytest.fixture
def db(database: Database) -> str:
    """The URL of the open ``database``."""
    return database.url
