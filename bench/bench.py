"""The webhook benchmark (bench/run.sh): wrk against the ceiling, then `serve` in plain and safe mode.

Everything runs on 127.0.0.1 in a temporary directory: a private redis-server, a fresh SQLite
database, the bot configured by a copy of config.yaml and RB_ variables. Each run is a warm-up,
then the measured run; the bot's requests are generated for each run (sized from the warm-up's
rate) so that no MsgId repeats. Results go to bench/results/ as JSON and to stdout as a table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from make_requests import write_requests  # bench/ is on sys.path: this script's own directory
from prometheus_client.parser import text_string_to_metric_families

from bot.config import WeChatConfig, load_settings
from bot.dev.chat import ChatClient, ChatError

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
VENV_BIN = Path(sys.executable).parent
HOST = "127.0.0.1"

TARGETS = {"plain": 0.25, "safe": 0.15}  # share of the ceiling's messages/s
P99_TARGET_MS = 30.0
USERS = 1000
BAD_REPLY_KINDS = ("busy", "late", "duplicate")  # rb_replies_total kinds that mean a turn did not run


@dataclass
class Run:
    name: str
    wrk: dict[str, Any]
    peak_rss_kb: int
    cpu_us_per_msg: float | None = None
    redis_us_per_msg: float | None = None  # the redis-server's CPU per message (the bot's runs)
    wrk_us_per_msg: float | None = None  # the load generator's
    metrics: dict[str, float] = field(default_factory=dict)
    samples: dict[str, int] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.wrk["requests"] / (self.wrk["duration_us"] / 1e6)

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())


class Bench:
    def __init__(self, args: argparse.Namespace, tmp: Path) -> None:
        self.args = args
        self.tmp = tmp
        self.procs: list[subprocess.Popen[bytes]] = []
        self.next_msgid = 10**12

    # -- processes ------------------------------------------------------------------------------
    def start(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        log = (self.tmp / f"{name}.log").open("ab")
        proc = subprocess.Popen(argv, cwd=self.tmp, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        self.procs.append(proc)
        return proc

    def stop(self, proc: subprocess.Popen[bytes]) -> None:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.procs.remove(proc)

    def stop_all(self) -> None:
        for proc in list(self.procs):
            self.stop(proc)

    def wait_ready(self, proc: subprocess.Popen[bytes], url: str, name: str) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                break
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.1)
        log = (self.tmp / f"{name}.log").read_text(errors="replace")[-2000:]
        raise SystemExit(f"bench: {name} did not become ready at {url}\n{log}")

    # -- wrk --------------------------------------------------------------------------------------
    def wrk(self, port: int, requests: Path, seconds: int, label: str) -> dict[str, Any]:
        result, samples = self.tmp / f"{label}.json", self.tmp / f"{label}.samples"
        argv = [
            "wrk",
            f"-t{self.args.threads}",
            f"-c{self.args.connections}",
            f"-d{seconds}s",
            "--latency",
            "--timeout",
            "10s",
            "-s",
            str(BENCH / "callback.lua"),
            f"http://{HOST}:{port}",
            "--",
            str(requests),
            str(self.args.threads),
            str(result),
            str(samples),
        ]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        done = subprocess.run(argv, capture_output=True, text=True)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if done.returncode:
            raise SystemExit(f"bench: wrk failed ({label}): {done.stderr.strip() or done.stdout.strip()}")
        data = json.loads(result.read_text())
        data["samples"] = _read_samples(samples)
        used = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
        data["wrk_us_per_request"] = used * 1e6 / max(data["requests"], 1)
        return data

    def requests(self, wechat: WeChatConfig, label: str, count: int, safe: bool) -> Path:
        path, count = self.tmp / f"{label}.requests", max(count, 2 * USERS)
        write_requests(wechat, path, count=count, first_msgid=self.next_msgid, safe=safe)
        self.next_msgid += count  # each file its own MsgIds
        return path


def _read_samples(path: Path) -> list[str]:
    data, bodies, at = path.read_bytes(), [], 0
    while at < len(data):
        newline = data.index(b"\n", at)
        size = int(data[at:newline])
        bodies.append(data[newline + 1 : newline + 1 + size].decode("utf-8", "replace"))
        at = newline + 1 + size
    return bodies


def _proc_status(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def _cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def _cpu_us_per_request(pid: int, ticks_before: int, requests: int) -> float:
    return (_cpu_ticks(pid) - ticks_before) / os.sysconf("SC_CLK_TCK") * 1e6 / max(requests, 1)


def _metrics(port: int) -> dict[str, float]:
    with urllib.request.urlopen(f"http://{HOST}:{port}/metrics", timeout=10) as response:
        text = response.read().decode()
    values = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name.startswith("rb_") and not sample.name.endswith("_created"):
                labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
                values[f"{sample.name}{{{labels}}}" if labels else sample.name] = sample.value
    return values


def _delta(after: dict[str, float], before: dict[str, float]) -> dict[str, float]:
    return {key: value - before.get(key, 0.0) for key, value in after.items() if value != before.get(key, 0.0)}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def classify(body: str, client: ChatClient) -> str:
    """What a resident would read, sorted: completed, prompted, or what went wrong."""
    try:
        text = client.read_reply(body)
    except ChatError:
        return "unreadable"
    if "系统繁忙" in text or "还在处理中" in text:
        return "busy"
    if "个受理点：" in text:
        return "completed"
    return "prompted" if "请发送您的位置" in text else "other"


def machine() -> dict[str, Any]:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown",
    )
    wrk_version = subprocess.run(["wrk", "--version"], capture_output=True, text=True).stdout.split("[")[0]
    redis_version = subprocess.run(["redis-server", "--version"], capture_output=True, text=True).stdout
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "python": platform.python_version(),
        "kernel": platform.release(),
        "wrk": wrk_version.strip(),
        "redis": redis_version.split()[2].removeprefix("v=") if redis_version else "unknown",
        "loadavg_at_start": os.getloadavg(),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description="webhook benchmark: see bench/README.md")
    parser.add_argument("--duration", type=int, default=int(os.environ.get("BENCH_DURATION", 20)), help="seconds")
    parser.add_argument("--warmup", type=int, default=int(os.environ.get("BENCH_WARMUP", 3)), help="seconds")
    parser.add_argument("--threads", type=int, default=int(os.environ.get("BENCH_THREADS", 2)))
    parser.add_argument("--connections", type=int, default=int(os.environ.get("BENCH_CONNECTIONS", 64)))
    args = parser.parse_args()

    facts = machine()
    if facts["loadavg_at_start"][0] > 0.5:
        print(
            f"bench: load average {facts['loadavg_at_start'][0]:.2f}: other work is running; the figures will be "
            "low and noisy",
            file=sys.stderr,
        )
    tmp = Path(tempfile.mkdtemp(prefix="rb-bench-"))
    bench = Bench(args, tmp)
    try:
        runs = run_all(bench, tmp)
    finally:
        bench.stop_all()
        shutil.rmtree(tmp, ignore_errors=True)
    return report(runs, facts, args)


def run_all(bench: Bench, tmp: Path) -> dict[str, Run]:
    args = bench.args
    shutil.copy(ROOT / "config.yaml", tmp / "config.yaml")
    redis_port, bot_port, ceiling_port = _free_port(), _free_port(), _free_port()
    env = {
        **os.environ,
        "RB_CONFIG": str(tmp / "config.yaml"),
        "RB_REDIS__URL": f"redis://{HOST}:{redis_port}/0",
        "RB_DATABASE__URL": f"sqlite://{tmp}/bench.sqlite3",
        "RB_SERVER__HOST": HOST,
        "RB_SERVER__PORT": str(bot_port),
        "RB_WECHAT__MAX_CLOCK_SKEW_S": "0",  # the requests are generated before the run
        "RB_WECHAT__APP_SECRET": "",  # no WeChat API: nothing leaves the machine
        "RB_LOGGING__LEVEL": "WARNING",
        "RB_DATA__ACCEPTANCE_POINTS": str(ROOT / "data" / "acceptance_points.example.yaml"),
    }
    redis_argv = [
        "redis-server",
        "--port",
        str(redis_port),
        "--bind",
        HOST,
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        str(tmp),
        "--daemonize",
        "no",
    ]
    redis = bench.start("redis", redis_argv)
    _wait_redis(redis_port, redis)
    subprocess.run([str(VENV_BIN / "residence-bot"), "initdb"], cwd=tmp, env=env, check=True, capture_output=True)

    runs: dict[str, Run] = {}
    os.environ.update({k: v for k, v in env.items() if k.startswith("RB_")})  # the bot's settings, here too
    wechat = load_settings(tmp / "config.yaml").wechat

    print(f"ceiling: bench/ceiling.py, {args.warmup:g} s warm-up, {args.duration:g} s measured", file=sys.stderr)
    ceiling = bench.start("ceiling", [sys.executable, str(BENCH / "ceiling.py"), str(ceiling_port), wechat.token])
    bench.wait_ready(ceiling, f"http://{HOST}:{ceiling_port}/healthz", "ceiling")
    # The ceiling keeps no state, so its requests may repeat: a fixed set serves every run.
    ceiling_requests = bench.requests(wechat, "ceiling", 60_000, safe=False)
    bench.wrk(ceiling_port, ceiling_requests, args.warmup, "ceiling-warmup")
    ticks = _cpu_ticks(ceiling.pid)
    result = bench.wrk(ceiling_port, ceiling_requests, args.duration, "ceiling")
    cpu = _cpu_us_per_request(ceiling.pid, ticks, result["requests"])
    runs["ceiling"] = Run("ceiling", result, _proc_status(ceiling.pid, "VmHWM"), cpu)
    runs["ceiling"].wrk_us_per_msg = result["wrk_us_per_request"]
    runs["ceiling"].errors = _wrk_errors(result, expected=("fixed",))
    bench.stop(ceiling)

    for mode in ("plain", "safe"):
        print(f"{mode}: residence-bot serve, {args.warmup:g} s warm-up, {args.duration:g} s measured", file=sys.stderr)
        subprocess.run(["redis-cli", "-p", str(redis_port), "flushall"], check=True, capture_output=True)
        serve = bench.start(mode, [str(VENV_BIN / "residence-bot"), "serve"], {**env, "RB_WECHAT__MODE": mode})
        bench.wait_ready(serve, f"http://{HOST}:{bot_port}/readyz", mode)
        safe = mode == "safe"
        # The bot cannot outrun the bare handler, so the ceiling's rate sizes the warm-up.
        warm = bench.requests(wechat, f"{mode}-warmup", int(runs["ceiling"].rate * args.warmup * 1.5), safe)
        warm_result = bench.wrk(bot_port, warm, args.warmup, f"{mode}-warmup")
        warm_rate = warm_result["requests"] / (warm_result["duration_us"] / 1e6)
        measured = bench.requests(wechat, mode, int(warm_rate * args.duration * 2), safe)
        before, ticks, redis_ticks = _metrics(bot_port), _cpu_ticks(serve.pid), _cpu_ticks(redis.pid)
        result = bench.wrk(bot_port, measured, args.duration, mode)
        cpu = _cpu_us_per_request(serve.pid, ticks, result["requests"])
        run = Run(mode, result, _proc_status(serve.pid, "VmHWM"), cpu)
        run.redis_us_per_msg = _cpu_us_per_request(redis.pid, redis_ticks, result["requests"])
        run.wrk_us_per_msg = result["wrk_us_per_request"]
        run.metrics = _delta(_metrics(bot_port), before)
        client = ChatClient(
            "", openid="", token=wechat.token, app_id=wechat.app_id, encoding_aes_key=wechat.encoding_aes_key, safe=safe
        )
        for body in result["samples"]:
            kind = classify(body, client)
            run.samples[kind] = run.samples.get(kind, 0) + 1
        run.errors = _bot_errors(run)
        runs[mode] = run
        bench.stop(serve)
    return runs


def _wait_redis(port: int, proc: subprocess.Popen[bytes]) -> None:
    for _ in range(100):
        if proc.poll() is None:
            ping = subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True, text=True)
            if ping.stdout.strip() == "PONG":
                return
        time.sleep(0.1)
    raise SystemExit(f"bench: redis-server did not start on port {port}")


def _wrk_errors(result: dict[str, Any], expected: tuple[str, ...]) -> dict[str, int]:
    errors = {f"socket {k}": v for k, v in result["socket_errors"].items()}
    errors["non-2xx"] = result["non2xx"]
    kinds = ("completed", "prompted", "encrypted", "fixed", "busy", "other")
    errors["unexpected replies"] = sum(result[k] for k in kinds if k not in expected)
    return {k: v for k, v in errors.items() if v}


def _bot_errors(run: Run) -> dict[str, int]:
    errors = _wrk_errors(run.wrk, expected=("completed", "prompted", "encrypted"))
    if run.wrk["wrapped"]:
        errors["requests repeated (file too short)"] = run.wrk["wrapped"]
    m = run.metrics
    errors["handler errors"] = int(m.get("rb_handler_errors_total", 0))
    errors["rejected requests"] = int(sum(v for k, v in m.items() if k.startswith("rb_rejected_requests_total")))
    for kind in BAD_REPLY_KINDS:
        errors[f"{kind} replies"] = int(m.get(f"rb_replies_total{{kind={kind}}}", 0))
    errors["bad samples"] = sum(v for k, v in run.samples.items() if k not in ("completed", "prompted"))
    return {k: v for k, v in errors.items() if v}


def report(runs: dict[str, Run], facts: dict[str, Any], args: argparse.Namespace) -> int:
    ceiling = runs["ceiling"].rate
    rows = [
        ("run", "msg/s", "of ceiling", "p50 ms", "p99 ms", "errors", "CPU µs/msg", "redis µs", "wrk µs", "peak RSS MB")
    ]
    for run in runs.values():
        rows.append(
            (
                run.name,
                f"{run.rate:,.0f}",
                f"{run.rate / ceiling:.1%}",
                f"{run.wrk['latency_p50_us'] / 1000:.1f}",
                f"{run.wrk['latency_p99_us'] / 1000:.1f}",
                str(run.error_count),
                f"{run.cpu_us_per_msg:.0f}" if run.cpu_us_per_msg else "-",
                f"{run.redis_us_per_msg:.0f}" if run.redis_us_per_msg else "-",
                f"{run.wrk_us_per_msg:.0f}" if run.wrk_us_per_msg else "-",
                f"{run.peak_rss_kb / 1024:.0f}",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print(
            "  ".join(
                cell.rjust(w) if i else cell.ljust(w) for i, (cell, w) in enumerate(zip(row, widths, strict=True))
            )
        )
    for run in runs.values():
        if run.name != "ceiling":
            m = run.metrics
            starts = int(sum(v for k, v in m.items() if k.startswith("rb_flow_starts_total")))
            completions = int(sum(v for k, v in m.items() if k.startswith("rb_flow_completions_total")))
            sampled = ", ".join(f"{k} {v}" for k, v in sorted(run.samples.items()))
            print(f"{run.name}: flows started {starts:,}, completed {completions:,}; replies sampled: {sampled}")
        if run.errors:
            print(f"{run.name} errors: " + ", ".join(f"{k} {v:,}" for k, v in run.errors.items()))

    targets = {}
    for mode, share in TARGETS.items():
        got = runs[mode].rate / ceiling
        targets[f"{mode} ≥ {share:.0%} of the ceiling"] = (got >= share, f"{got:.1%}")
    for mode in TARGETS:
        p99 = runs[mode].wrk["latency_p99_us"] / 1000
        targets[f"{mode} p99 ≤ {P99_TARGET_MS:g} ms"] = (p99 <= P99_TARGET_MS, f"{p99:.1f} ms")
    errors = sum(runs[mode].error_count for mode in TARGETS)
    targets["no errors"] = (errors == 0, f"{errors:,}")
    for name, (met, value) in targets.items():
        print(f"target {name}: {'met' if met else 'NOT met'} ({value})")

    results = BENCH / "results"
    results.mkdir(exist_ok=True)
    stamp = datetime.now(UTC)
    path = results / f"{stamp:%Y%m%dT%H%M%SZ}.json"
    document = {
        "date": stamp.isoformat(timespec="seconds"),
        "machine": facts,
        "settings": {
            "duration_s": args.duration,
            "warmup_s": args.warmup,
            "wrk_threads": args.threads,
            "connections": args.connections,
            "users": USERS,
        },
        "runs": {
            name: {
                "messages_per_s": round(run.rate, 1),
                "share_of_ceiling": round(run.rate / ceiling, 4),
                "latency_p50_ms": run.wrk["latency_p50_us"] / 1000,
                "latency_p99_ms": run.wrk["latency_p99_us"] / 1000,
                "latency_max_ms": run.wrk["latency_max_us"] / 1000,
                "requests": run.wrk["requests"],
                "errors": run.errors,
                "cpu_us_per_message": round(run.cpu_us_per_msg, 1) if run.cpu_us_per_msg else None,
                "redis_cpu_us_per_message": round(run.redis_us_per_msg, 1) if run.redis_us_per_msg else None,
                "wrk_cpu_us_per_message": round(run.wrk_us_per_msg, 1) if run.wrk_us_per_msg else None,
                "peak_rss_kb": run.peak_rss_kb,
                "replies_counted_by_wrk": {
                    k: run.wrk[k] for k in ("completed", "prompted", "encrypted", "fixed", "busy", "other")
                },
                "replies_sampled": run.samples,
                "metrics_delta": run.metrics,
            }
            for name, run in runs.items()
        },
        "targets": {name: {"met": met, "value": value} for name, (met, value) in targets.items()},
    }
    path.write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n")
    print(f"results: {path.relative_to(ROOT)}")
    return 0 if all(met for met, _ in targets.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
