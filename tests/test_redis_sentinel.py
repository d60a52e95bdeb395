"""redis.url may name a Sentinel-managed master (SPEC §2): the URL form, and a failover mid-flow.

The deployment is a real one on loopback: a master redis-server, one replica, and three
redis-sentinel processes with a quorum of two, as production would run them.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis
from arq import create_pool

from bot.config import ConfigError, SentinelURL, load_settings, sentinel_url
from bot.services.push_sender import QUEUE_NAME, WAKE_JOB, queue_settings
from tests.example_flows import endorse_like
from tests.harness import Residents, make_settings
from tests.processes import REPO
from tests.services import HOST, RedisServer, free_port, unavailable

MASTER = "rbmaster"
DOWN_AFTER_MS = 500  # how long the master may be silent before a sentinel holds it down
WAIT_S = 30.0


def test_a_sentinel_url_names_the_sentinels_the_master_and_the_database():
    assert sentinel_url("redis+sentinel://:s3cret@10.0.0.1:26380,sentinel-b,[::1]:26381/rbmaster/2") == SentinelURL(
        sentinels=(("10.0.0.1", 26380), ("sentinel-b", 26379), ("::1", 26381)),
        master="rbmaster",
        db=2,
        password="s3cret",
    )
    assert sentinel_url("redis://127.0.0.1:6379/0") is None


def test_the_job_queue_reaches_the_master_through_the_same_sentinels():
    settings = queue_settings("redis+sentinel://user:pw@h1:26379,h2:26380/rbmaster/1")
    assert settings.sentinel and settings.host == [("h1", 26379), ("h2", 26380)]
    assert (settings.sentinel_master, settings.database, settings.username, settings.password) == (
        "rbmaster", 1, "user", "pw",
    )  # fmt: skip


@pytest.mark.parametrize(
    "url", ["redis+sentinel://h1:26379", "redis+sentinel://h1:26379/m/x", "redis+sentinel://h1:port/m"]
)
def test_a_malformed_sentinel_url_stops_start_up_naming_the_key(monkeypatch, url):
    monkeypatch.setenv("RB_REDIS__URL", url)
    with pytest.raises(ConfigError, match=r"redis\.url.*Sentinel URL"):
        load_settings(REPO / "config.yaml")


# -- a real deployment, failed over in the middle of a conversation ------------------------------


class SentinelProcess:
    """A redis-sentinel on a free loopback port watching MASTER; it rewrites its own config file."""

    def __init__(self, directory: Path, master_port: int) -> None:
        binary = shutil.which("redis-sentinel")
        if binary is None:
            unavailable("redis-sentinel not found (Debian: apt-get install redis-sentinel)")
        self.binary = binary
        self.port = free_port()
        directory.mkdir(parents=True, exist_ok=True)
        self.config = directory / "sentinel.conf"
        self.config.write_text(
            f"port {self.port}\nbind {HOST}\ndaemonize no\ndir {directory}\n"
            f"sentinel monitor {MASTER} {HOST} {master_port} 2\n"
            f"sentinel down-after-milliseconds {MASTER} {DOWN_AFTER_MS}\n"
            # A failed election is tried again after twice this: short, so that a split vote costs little.
            f"sentinel failover-timeout {MASTER} 2000\n"
        )
        self.log = directory / "sentinel.log"
        self.client = redis.Redis(host=HOST, port=self.port, decode_responses=True, socket_timeout=1)
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self._proc = subprocess.Popen([self.binary, str(self.config)], stdout=out, stderr=subprocess.STDOUT)
        _wait(self._answers, f"redis-sentinel on port {self.port}", self.log)

    def stop(self) -> None:
        self.client.close()
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            self._proc.wait(timeout=10)

    def _answers(self) -> bool:
        try:
            return bool(self.client.ping())
        except redis.RedisError:
            return False

    def master(self) -> dict:
        return self.client.sentinel_master(MASTER)


def _wait(condition, what: str, log: Path | None = None) -> None:
    deadline = time.monotonic() + WAIT_S
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {WAIT_S:.0f}s" + (f"\n{log.read_text()}" if log else ""))
        time.sleep(0.1)


@dataclass
class Deployment:
    master: RedisServer
    replica: RedisServer
    sentinels: list[SentinelProcess]

    @property
    def url(self) -> str:
        hosts = ",".join(f"{HOST}:{s.port}" for s in self.sentinels)
        return f"redis+sentinel://{hosts}/{MASTER}/0"

    def masters_named(self) -> set[int]:
        """The master's port as each sentinel names it now."""
        return {int(s.master()["port"]) for s in self.sentinels}


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    """One for the module (the sentinels take seconds to find each other): the failover test leaves
    the replica as the master, and the other tests ask the sentinels which one it is."""
    tmp_path = tmp_path_factory.mktemp("sentinel")
    master = RedisServer(tmp_path / "master")
    replica = RedisServer(tmp_path / "replica", args=["--replicaof", HOST, str(master.port)])
    sentinels = [SentinelProcess(tmp_path / f"sentinel{i}", master.port) for i in range(3)]
    try:
        master.start()
        replica.start()
        linked = redis.Redis(host=HOST, port=replica.port, decode_responses=True)
        _wait(lambda: linked.info("replication")["master_link_status"] == "up", "the replica's link to the master")
        linked.close()
        for sentinel in sentinels:
            sentinel.start()

        def quorum_ready() -> bool:  # each knows the replica and the two other sentinels
            states = [s.master() for s in sentinels]
            return all(st["num-slaves"] == 1 and st["num-other-sentinels"] == 2 for st in states)

        _wait(quorum_ready, "the sentinels finding the replica and each other")
        yield Deployment(master, replica, sentinels)
    finally:
        for sentinel in sentinels:
            sentinel.stop()
        replica.stop()
        master.stop()


async def test_the_job_queue_enqueues_on_the_master_the_sentinels_name(deployment):
    queue = await create_pool(queue_settings(deployment.url), default_queue_name=QUEUE_NAME)
    try:
        await queue.enqueue_job(WAKE_JOB, _job_id="sentinel-wake")
    finally:
        await queue.aclose()
    (port,) = deployment.masters_named()
    master = redis.Redis(host=HOST, port=port)
    assert master.zscore(QUEUE_NAME, "sentinel-wake") is not None
    master.close()


async def test_a_conversation_goes_on_after_the_master_fails_over(start_bot, tmp_path, deployment):
    submissions: list[dict] = []
    settings = make_settings(tmp_path, redis={"url": deployment.url})
    bot = await start_bot(settings, flows=(endorse_like(submissions),))
    resident = Residents(bot, settings)("o_failover")
    assert "居住地址有变化吗" in await resident.send_text("签注")
    assert "请输入手机号码" in await resident.send_text("1")
    assert "请输入搬入日期" in await resident.send_text("13800138000")

    # What the bot wrote must be on the replica before the master dies, or a failover loses it (as
    # asynchronous replication does in production). WAIT counts the replicas that acknowledged this
    # client's last write; replication is one ordered stream, so the bot's writes before it are there too.
    master = redis.Redis(host=HOST, port=deployment.master.port)
    master.set("test:replicated", "1")
    assert master.execute_command("WAIT", 1, 5000) == 1
    master.close()
    deployment.master.kill()
    _wait(lambda: deployment.masters_named() == {deployment.replica.port}, "the sentinels promoting the replica")

    # The first message meets the connection to the dead master: nothing of it was done, and it
    # says so; sent again, it goes to the new master, where the conversation is.
    assert "系统繁忙" in await resident.send_text("2025年3月1日")
    review = await resident.send_text("2025年3月1日")
    assert "2. 手机号码：13800138000" in review and "3. 搬入日期：2025-03-01" in review
    assert "受理编号：QZ0001" in await resident.send_text("确认")
    assert submissions == [
        {"endorse.moved": "没有变化", "endorse.phone": "13800138000", "endorse.moved_on": "2025-03-01"}
    ]
