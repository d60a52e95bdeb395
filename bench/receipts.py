"""Receipt PDFs, warm: what drawing one costs once the font is loaded, and how big the files are.

N receipts with different numbers, names and acceptance points (the example list), each with its
own QR link, drawn as the first request of /r/{token}.pdf draws them: `ReceiptPdf.file_for`, a
thread, reportlab, and the atomic write into a temporary storage dir. Targets: p99 under 100 ms a
receipt and every file under 200 KB. Exits 1 when one is missed.
Usage: .venv/bin/python bench/receipts.py [COUNT] (default 500)
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import yaml

from bot.config import ReceiptsConfig
from bot.services.receipt_pdf import ReceiptPdf
from bot.services.receipts import BRING_FOR_COLLECTION, CollectionPoint, ReceiptFacts, Receipts, chinese_date
from models.application import CARD_DUE_WORKING_DAYS, add_working_days, application_number

POINTS = Path(__file__).resolve().parent.parent / "data" / "acceptance_points.example.yaml"
TARGET_P99_MS = 100.0
TARGET_MAX_BYTES = 200 * 1024
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国志红梓涵浩宇欣怡子轩雨桐俊杰思远"


def receipts(count: int) -> list[tuple[int, ReceiptFacts]]:
    rng = random.Random(9)
    points = [
        CollectionPoint(p["name"], p["address"], p["hours"], str(p["phone"]))
        for p in yaml.safe_load(POINTS.read_text())
    ]
    made = []
    for n in range(1, count + 1):
        accepted_on = date(2026, 3, 2) + timedelta(days=n % 60)
        due_on = add_working_days(accepted_on, CARD_DUE_WORKING_DAYS)
        name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
        facts = ReceiptFacts(
            number=application_number(accepted_on, n),
            business="居住证申领" if n % 4 else "居住证申领（单位代办）",
            name=name,
            id_number_masked=f"{rng.choice(('4403', '4301', '3607', '4509'))}**********{rng.randrange(10_000):04d}",
            details=(
                ("受理日期", chinese_date(accepted_on)),
                ("制证时限", f"{chinese_date(due_on)}前（受理后{CARD_DUE_WORKING_DAYS}个工作日内）"),
            ),
            point=points[n % len(points)],
            bring=BRING_FOR_COLLECTION,
        )
        made.append((n, facts))
    return made


async def measure(count: int, storage: Path) -> dict[str, float]:
    config = ReceiptsConfig(storage_dir=storage)
    links = Receipts(config, "https://bot.example.gov.cn")
    started = time.perf_counter()
    pdf = ReceiptPdf.configured(config)  # finds and loads the font: the cold part, once a process
    font_ms = (time.perf_counter() - started) * 1000
    now = datetime.now(UTC)
    batch = receipts(count)
    for receipt_id, facts in batch[: max(count // 20, 5)]:  # warm-up, then drawn again below
        pdf.render(facts, links.url(receipt_id, now))
    timings, sizes = [], []
    for receipt_id, facts in batch:
        start = time.perf_counter()
        path = await pdf.file_for(receipt_id, facts, links.url(receipt_id, now), now)
        timings.append((time.perf_counter() - start) * 1000)
        sizes.append(path.stat().st_size)
    timings.sort()
    return {
        "font_load_ms": round(font_ms, 1),
        "median_ms": round(statistics.median(timings), 2),
        "p99_ms": round(timings[int(len(timings) * 0.99) - 1], 2),
        "max_ms": round(timings[-1], 2),
        "median_kb": round(statistics.median(sizes) / 1024, 1),
        "max_kb": round(max(sizes) / 1024, 1),
    }


def main() -> int:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    with tempfile.TemporaryDirectory() as storage:
        results = asyncio.run(measure(count, Path(storage)))
    load, python = os.getloadavg()[0], platform.python_version()
    print(f"receipt PDFs, {count} drawn warm, {os.cpu_count()} CPUs, load {load:.1f}, Python {python}")
    print(f"font load (once): {results['font_load_ms']:.0f} ms")
    median, p99, slowest = results["median_ms"], results["p99_ms"], results["max_ms"]
    print(f"per receipt: median {median:.1f} ms, p99 {p99:.1f} ms, max {slowest:.1f} ms")
    print(f"file size: median {results['median_kb']:.1f} KB, max {results['max_kb']:.1f} KB")
    fast = results["p99_ms"] < TARGET_P99_MS
    small = results["max_kb"] * 1024 < TARGET_MAX_BYTES
    print(f"target p99 < {TARGET_P99_MS:.0f} ms: {'met' if fast else 'NOT met'}")
    print(f"target files < {TARGET_MAX_BYTES // 1024} KB: {'met' if small else 'NOT met'}")
    print(json.dumps(results))
    return 0 if fast and small else 1


if __name__ == "__main__":
    sys.exit(main())
