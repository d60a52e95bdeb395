"""Real `residence-bot` processes for tests of what only a process shows (crashes, the CLI, workers), and
for the load test (bench/loadtest.py)."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

from bot.dev.chat import ChatClient
from tests.harness import AES_KEY, APP_ID, ORIGINAL_ID, TOKEN
from tests.services import free_port

REPO = Path(__file__).resolve().parent.parent


def bot_env(tmp_path: Path, **overrides: str) -> dict[str, str]:
    """Environment for a bot process: the repo's config.yaml, test secrets, a private database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RB_")}
    env.update(
        RB_DATABASE__URL=f"sqlite://{tmp_path}/bot.sqlite3",
        RB_WECHAT__TOKEN=TOKEN,
        RB_WECHAT__APP_ID=APP_ID,
        RB_WECHAT__ENCODING_AES_KEY=AES_KEY,
        RB_WECHAT__ORIGINAL_ID=ORIGINAL_ID,
        RB_REMINDERS__QUIET_HOURS="",  # pushes go at any hour, unless a test is about quiet hours
    )
    env.update(overrides)
    return env


def run_cli(env: dict[str, str], *args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=60
    )


class ServeProcess:
    """`residence-bot serve` on a free loopback port."""

    def __init__(self, tmp_path: Path, cwd: Path = REPO, **env: str) -> None:
        self.port = free_port()
        self.cwd = cwd
        self.env = bot_env(tmp_path, RB_SERVER__PORT=str(self.port), **env)
        self.log = tmp_path / f"serve-{self.port}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/wechat"

    def initdb(self) -> None:
        result = run_cli(self.env, "initdb", cwd=self.cwd)
        assert result.returncode == 0, result.stderr

    def start(self, *, wait: bool = True) -> None:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "bot", "serve"],
                env=self.env, cwd=self.cwd, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
        if not wait:
            return
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("serve exited:\n" + self.log.read_text())
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("serve did not start:\n" + self.log.read_text())

    def kill(self) -> None:
        """SIGKILL: a crash, nothing gets to clean up."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> None:
        """SIGTERM: a shutdown, the turns in flight finished first."""
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()

    def resident(self, openid: str, *, safe: bool = False) -> ChatClient:
        return ChatClient(
            self.url,
            openid=openid,
            token=TOKEN,
            app_id=APP_ID,
            encoding_aes_key=AES_KEY,
            original_id=ORIGINAL_ID,
            safe=safe,
        )


class WorkerProcess:
    """`residence-bot worker` with its output in a log file."""

    def __init__(self, tmp_path: Path, env: dict[str, str]) -> None:
        self.env = env
        self.log = tmp_path / f"worker-{uuid.uuid4().hex[:6]}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def spawn(self) -> subprocess.Popen[bytes]:
        with self.log.open("ab") as out:
            return subprocess.Popen(
                [sys.executable, "-m", "bot", "worker"], env=self.env, cwd=REPO, stdout=out, stderr=subprocess.STDOUT
            )

    async def start(self) -> None:
        """Spawn it and wait until it says it is sending (its first round is under way then)."""
        self.proc = self.spawn()
        deadline = time.monotonic() + 20
        while "worker sending pushes" not in self.log.read_text():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("worker did not start:\n" + self.log.read_text())
            await asyncio.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL: a crash, nothing gets to clean up."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    async def stop(self) -> int:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 15
        while self.proc.poll() is None:
            assert time.monotonic() < deadline, "worker did not stop on SIGTERM:\n" + self.log.read_text()
            await asyncio.sleep(0.05)
        return self.proc.returncode
