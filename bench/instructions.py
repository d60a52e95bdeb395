"""Instructions per message (`make bench-instructions`): the ceiling and `serve` in plain and safe mode
under valgrind's callgrind, which counts the instructions a process executes rather than timing it.

`make bench` measures messages per second, which on a shared virtual machine swings by a third from
one run to the next (bench/README.md). Instruction counts do not: the same code and requests give
the same count within a percent or two, whatever else the machine does. Each process gets a
warm-up, its counters are zeroed (`callgrind_control -z`), the measured requests go in, and the
counters are dumped (`callgrind_control -d`). The share of the ceiling is the ceiling's instructions
per message over the bot's, the same share `make bench` measures in messages per second when
each process has a core to itself.

Usage: .venv/bin/python bench/instructions.py [--requests N] [--warmup N]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import aiohttp
from make_requests import write_requests

from bench import HOST, TARGETS, VENV_BIN, _free_port, _wait_redis  # bench/ is on sys.path
from bot.config import load_settings

ROOT = Path(__file__).resolve().parent.parent
CONCURRENCY = 16  # in flight at once: enough for the bot's Redis pipelines to batch, as under load


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000, help="measured requests per run")
    parser.add_argument("--warmup", type=int, default=1000, help="requests before the counters are zeroed")
    args = parser.parse_args()
    if not shutil.which("valgrind"):
        print("bench: valgrind not found; install it with: apt-get install -y valgrind", file=sys.stderr)
        return 2
    tmp = Path(tempfile.mkdtemp(prefix="rb-instr-"))
    procs: list[subprocess.Popen[bytes]] = []
    try:
        return run(args, tmp, procs)
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)


def run(args: argparse.Namespace, tmp: Path, procs: list[subprocess.Popen[bytes]]) -> int:
    shutil.copy(ROOT / "config.yaml", tmp / "config.yaml")
    redis_port, port = _free_port(), _free_port()
    env = {
        **os.environ,
        "RB_CONFIG": str(tmp / "config.yaml"),
        "RB_REDIS__URL": f"redis://{HOST}:{redis_port}/0",
        "RB_DATABASE__URL": f"sqlite://{tmp}/bench.sqlite3",
        "RB_SERVER__HOST": HOST,
        "RB_SERVER__PORT": str(port),
        "RB_WECHAT__MAX_CLOCK_SKEW_S": "0",
        "RB_WECHAT__APP_SECRET": "",
        "RB_LOGGING__LEVEL": "WARNING",
        "RB_DATA__ACCEPTANCE_POINTS": str(ROOT / "data" / "acceptance_points.example.yaml"),
    }
    redis = subprocess.Popen(
        ["redis-server", "--port", str(redis_port), "--bind", HOST, "--save", "", "--appendonly", "no"],
        cwd=tmp, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    procs.append(redis)
    _wait_redis(redis_port, redis)
    subprocess.run([str(VENV_BIN / "residence-bot"), "initdb"], cwd=tmp, env=env, check=True, capture_output=True)
    os.environ.update({k: v for k, v in env.items() if k.startswith("RB_")})
    wechat = load_settings(tmp / "config.yaml").wechat

    counts: dict[str, float] = {}
    next_msgid = 10**12
    for name, argv, safe in (
        ("ceiling", [sys.executable, str(ROOT / "bench" / "ceiling.py"), str(port), wechat.token], False),
        ("plain", [str(VENV_BIN / "residence-bot"), "serve"], False),
        ("safe", [str(VENV_BIN / "residence-bot"), "serve"], True),
    ):
        subprocess.run(["redis-cli", "-p", str(redis_port), "flushall"], check=True, capture_output=True)
        out = tmp / f"{name}.callgrind"
        proc = subprocess.Popen(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", *argv],
            cwd=tmp, env={**env, "RB_WECHAT__MODE": "safe" if safe else "plain"},
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        procs.append(proc)
        _wait_up(port, proc)
        requests = tmp / f"{name}.requests"
        write_requests(wechat, requests, count=args.warmup + args.requests, first_msgid=next_msgid, safe=safe)
        next_msgid += args.warmup + args.requests
        lines = requests.read_text(encoding="utf-8").splitlines()
        asyncio.run(_send(port, lines[: args.warmup]))
        subprocess.run(["callgrind_control", "-z", str(proc.pid)], check=True, capture_output=True)
        asyncio.run(_send(port, lines[args.warmup :]))
        subprocess.run(["callgrind_control", "-d", str(proc.pid)], check=True, capture_output=True)
        counts[name] = _dumped_instructions(tmp, out) / args.requests
        proc.kill()
        proc.wait()
        procs.remove(proc)
        print(f"{name}: {counts[name]:,.0f} instructions per message", flush=True)

    failed = False
    for mode, target in TARGETS.items():
        share = counts["ceiling"] / counts[mode]
        met = share >= target
        failed |= not met
        print(f"target {mode} ≥ {target:.0%} of the ceiling: {'met' if met else 'NOT met'} ({share:.1%})")
    return 1 if failed else 0


def _wait_up(port: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 300  # a Python start-up under valgrind takes a while
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with urllib.request.urlopen(f"http://{HOST}:{port}/healthz", timeout=5):
                return
        except OSError:
            time.sleep(0.5)
    raise SystemExit("bench: the process under valgrind did not come up")


async def _send(port: int, lines: list[str]) -> None:
    """POST every request, CONCURRENCY at a time, each answered 200 (a refusal would skew the count)."""
    queue = iter(lines)
    headers = {"Content-Type": "text/xml; charset=utf-8"}
    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(f"http://{HOST}:{port}", timeout=timeout) as session:

        async def worker() -> None:
            for line in queue:
                target, body = line.split("\t", 1)
                async with session.post(target, data=body.encode(), headers=headers) as response:
                    text = await response.text()
                    if response.status != 200 or text == "success":  # "success": late, the turn overran
                        raise SystemExit(f"bench: {response.status} {text[:200]}")

        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))


def _dumped_instructions(tmp: Path, out: Path) -> int:
    """Instructions since the zeroing, from the dump `callgrind_control -d` wrote beside `out`."""
    dumps = sorted(tmp.glob(out.name + "*"), key=lambda p: p.stat().st_mtime)
    for line in dumps[-1].read_text(errors="replace").splitlines():
        if match := re.match(r"(?:summary|totals):\s+(\d+)", line):
            return int(match.group(1))
    raise SystemExit(f"bench: no instruction total in {dumps[-1].name}")


if __name__ == "__main__":
    sys.exit(main())
