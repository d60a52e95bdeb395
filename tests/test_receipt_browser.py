"""The receipt page in a phone's browser: Debian's chromium, headless, 375 px wide (an iPhone's
width, WeChat's in-app browser), driven by playwright without any browser download of its own."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from typing import Any

import pytest

from models import ApplicationStatus, PermitApplication
from tests.harness import make_settings
from tests.people import verified_account
from tests.receipt_records import page_of, receipt_link
from tests.services import unavailable

ID = "440304199001011233"
WIDTH = 375
WECHAT_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Mobile/15E148 MicroMessenger/8.0.49(0x18003137) NetType/WIFI Language/zh_CN"
)
# Whether anything sticks out past the screen's right edge, and the smallest text on the page.
LAYOUT = """() => ({
    scrollWidth: document.documentElement.scrollWidth,
    widest: Math.max(...[...document.querySelectorAll('body *')].map(e => e.getBoundingClientRect().right)),
    smallestText: Math.min(...[...document.querySelectorAll('body *')]
        .filter(e => [...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim()))
        .map(e => parseFloat(getComputedStyle(e).fontSize))),
})"""


@pytest.fixture
def settings(tmp_path):
    return make_settings(tmp_path, receipts={"storage_dir": str(tmp_path / "receipts")})


@pytest.fixture
async def phone() -> AsyncIterator[Any]:
    chromium = shutil.which("chromium")
    if chromium is None:
        unavailable("chromium not found (Debian: apt-get install chromium)")
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        unavailable("playwright is not installed (pip install -e '.[test]')")
    async with async_playwright() as playwright:
        # No sandbox: CI runs as root, where chromium refuses to start with one.
        browser = await playwright.chromium.launch(executable_path=chromium, chromium_sandbox=False)
        context = await browser.new_context(
            viewport={"width": WIDTH, "height": 667},
            device_scale_factor=2,
            is_mobile=True,
            has_touch=True,
            user_agent=WECHAT_IPHONE,
            locale="zh-CN",
        )
        yield await context.new_page()
        await browser.close()


async def open_page(phone, bot, path: str) -> tuple[str, dict[str, float]]:
    response = await phone.goto(str(bot.make_url(path)))
    assert response is not None
    return await phone.inner_text("body"), await phone.evaluate(LAYOUT) | {"status": response.status}


def assert_fits_the_screen(layout: dict[str, float]) -> None:
    assert layout["scrollWidth"] <= WIDTH
    assert layout["widest"] <= WIDTH
    assert layout["smallestText"] >= 14  # px: read without zooming


async def test_the_receipt_reads_on_a_phone_screen(phone, bot):
    account = await verified_account("o_phone_reader", ID)
    receipt, page = await receipt_link(bot, account, ID)
    text, layout = await open_page(phone, bot, page)
    assert layout["status"] == 200
    facts = (receipt.number, "4403**********1233", "张三", "已受理", "下一步", "福田派出所居住证受理点")
    for fact in (*facts, "下载PDF回执"):
        assert fact in text
    assert_fits_the_screen(layout)
    assert await phone.get_attribute("a.button", "href") == f"{page}.pdf"


async def test_long_unbroken_facts_wrap_inside_the_screen(phone, bot):
    account = await verified_account("o_phone_reader", ID)
    receipt, page = await receipt_link(bot, account, ID)
    long_address = "深圳市福田区福华三路" + "八" * 60 + "号" + "A" * 60
    receipt.facts = {**receipt.facts, "point": {**receipt.facts["point"], "address": long_address}}
    await receipt.save(update_fields=["facts"])
    await PermitApplication.filter(id=receipt.application_id).update(
        status=ApplicationStatus.REJECTED, status_note="缺少" + "材料" * 60
    )
    text, layout = await open_page(phone, bot, page)
    assert "未通过" in text and "A" * 20 in text
    assert_fits_the_screen(layout)


async def test_the_page_for_a_dead_link_reads_on_a_phone_too(phone, bot):
    text, layout = await open_page(phone, bot, page_of(bot, 999_999))
    assert layout["status"] == 404 and "链接无效或已过期" in text
    assert_fits_the_screen(layout)
