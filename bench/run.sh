#!/usr/bin/env bash
# The webhook benchmark (`make bench`): wrk against a bare aiohttp handler (the ceiling), then
# against `residence-bot serve` in plain and in safe mode, on 127.0.0.1. See bench/README.md.
# Settings: BENCH_DURATION (s, default 20), BENCH_WARMUP (3), BENCH_THREADS (wrk, 2),
# BENCH_CONNECTIONS (64). Exit status 1 when a target is missed.
set -euo pipefail

cd "$(dirname "$0")/.."

missing=0
for tool in wrk redis-server redis-cli; do
    if ! command -v "$tool" >/dev/null; then
        package=$tool
        [[ $tool == redis-* ]] && package=redis-server
        echo "bench: $tool not found; install it with: apt-get install -y $package" >&2
        missing=1
    fi
done
if [[ ! -x .venv/bin/residence-bot ]]; then
    echo "bench: .venv not set up; run: make install" >&2
    missing=1
fi
((missing == 0)) || exit 2

exec .venv/bin/python bench/bench.py "$@"
