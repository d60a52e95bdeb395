"""The receipt links, /r/{token} and /r/{token}.pdf, through the whole HTTP path."""

from __future__ import annotations

import asyncio
import base64
import io
import logging
import os
from datetime import UTC, datetime, timedelta

import pypdf
import pytest

from bot.config import ReceiptsConfig
from bot.services.receipts import Receipts
from models import Account, ApplicationStatus, PermitApplication, Receipt
from tests.harness import make_settings
from tests.people import verified_account
from tests.receipt_records import page_of, receipt_link

ID = "440304199001011233"
OTHER_ID = "110101199003074514"
MASKED = "4403**********1233"
BASE = "https://bot.example.gov.cn"


@pytest.fixture
def settings(tmp_path):
    return make_settings(tmp_path, receipts={"storage_dir": str(tmp_path / "receipts")})


def links(key: str = "k" * 40, ttl_days: int = 30) -> Receipts:
    return Receipts(ReceiptsConfig(signing_key=key, link_ttl_days=ttl_days), BASE)


def altered(token: str, position: int) -> str:
    raw = bytearray(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    raw[position] ^= 0x01
    return base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")


# -- tokens ---------------------------------------------------------------------------------------

NOW = datetime(2026, 3, 5, 9, 30, tzinfo=UTC)


def test_a_token_opens_the_receipt_it_was_made_for():
    assert links().read(links().token(42, NOW), NOW) == 42


def test_a_link_is_the_public_base_url_and_the_token():
    assert links().url(42, NOW) == f"{BASE}/r/{links().token(42, NOW)}"


@pytest.mark.parametrize("position", range(28))
def test_a_token_with_any_byte_altered_opens_nothing(position):
    assert links().read(altered(links().token(42, NOW), position), NOW) is None


def test_a_token_signed_with_another_key_opens_nothing():
    assert links(key="o" * 40).read(links().token(42, NOW), NOW) is None


def test_after_a_key_change_links_the_previous_key_signed_still_open():
    rotated = Receipts(ReceiptsConfig(signing_key="n" * 40, previous_signing_key="k" * 40), BASE)
    assert rotated.read(links().token(42, NOW), NOW) == 42


def test_after_a_key_change_new_links_are_signed_with_the_new_key():
    rotated = Receipts(ReceiptsConfig(signing_key="n" * 40, previous_signing_key="k" * 40), BASE)
    token = rotated.token(42, NOW)
    assert links(key="n" * 40).read(token, NOW) == 42
    assert links().read(token, NOW) is None


def test_a_token_opens_until_its_expiry_and_not_after():
    token = links(ttl_days=30).token(42, NOW)
    assert links().read(token, NOW + timedelta(days=30) - timedelta(seconds=1)) == 42
    assert links().read(token, NOW + timedelta(days=30)) is None


@pytest.mark.parametrize("token", ["", "abc", "!!!!", "收据", "A" * 38, "A" * 500])
def test_a_malformed_token_opens_nothing(token):
    assert links().read(token, NOW) is None


# -- the page -------------------------------------------------------------------------------------


async def resident_with_receipt(bot, openid: str = "o_receipt_owner", id_number: str = ID):
    account = await verified_account(openid, id_number)
    receipt, page = await receipt_link(bot, account, id_number)
    return account, receipt, page


async def test_the_page_shows_what_the_receipt_states(bot):
    _, receipt, page = await resident_with_receipt(bot)
    response = await bot.get(page)
    assert response.status == 200 and response.content_type == "text/html"
    html = await response.text()
    for fact in (receipt.number, "张三", MASKED, "居住证申领", "福田派出所居住证受理点", "深圳市福田区福华三路"):
        assert fact in html
    assert "周一至周五 09:00-12:00, 14:00-18:00" in html and "0755-80000001" in html
    assert "2026年3月5日" in html and "2026年3月26日前（受理后15个工作日内）" in html
    assert "本人居民身份证原件" in html and "须由申请人本人到上述受理点领取" in html
    assert f'href="{page}.pdf"' in html


async def test_the_page_shows_the_status_as_it_is_now(bot):
    _, receipt, page = await resident_with_receipt(bot)
    html = await (await bot.get(page)).text()
    assert "已受理" in html and "无需操作" in html
    changed = datetime(2026, 3, 20, 2, 0, tzinfo=UTC)
    await PermitApplication.filter(id=receipt.application_id).update(
        status=ApplicationStatus.READY, status_changed_at=changed
    )
    html = await (await bot.get(page)).text()
    assert "可领取" in html and "更新于 2026年3月20日" in html
    assert "请本人携带居民身份证原件和本回执，到福田派出所居住证受理点领取居住证" in html


async def test_a_rejection_shows_its_reason(bot):
    _, receipt, page = await resident_with_receipt(bot)
    await PermitApplication.filter(id=receipt.application_id).update(
        status=ApplicationStatus.REJECTED, status_note="社保缴纳记录不足12个月"
    )
    html = await (await bot.get(page)).text()
    assert "未通过" in html and "原因：社保缴纳记录不足12个月" in html and "重新申请" in html


async def test_what_a_receipt_states_is_escaped_not_run_as_markup(bot):
    _, receipt, page = await resident_with_receipt(bot)
    receipt.facts = {**receipt.facts, "name": '<script>alert("x")</script>'}
    await receipt.save(update_fields=["facts"])
    html = await (await bot.get(page)).text()
    assert "<script>" not in html and "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html


async def test_an_endorsement_receipt_shows_its_own_facts_and_no_application_status(bot):
    account = await verified_account("o_endorser", ID)
    receipt = await Receipt.create(
        number="QZ2026030500000017",
        business="居住证签注",
        account=account,
        facts={
            "name": "张三",
            "id_number_masked": MASKED,
            "permit_no": "440300202500001234",
            "endorsed_on": "2026-03-05",
            "window_opens": "2027-01-06",
            "window_closes": "2027-03-06",
        },
    )
    page = page_of(bot, receipt.id)
    html = await (await bot.get(page)).text()
    assert "居住证签注受理回执" in html and "440300202500001234" in html and "2027年1月6日至2027年3月6日" in html
    assert "办理进度" not in html and "领证地点" not in html


# -- links that open nothing ----------------------------------------------------------------------


async def assert_friendly_404(response) -> None:
    assert response.status == 404 and response.content_type == "text/html"
    html = await response.text()
    assert "链接无效或已过期" in html and "回复「回执」" in html and "Traceback" not in html


async def test_a_link_to_no_receipt_gets_the_friendly_404(bot):
    await assert_friendly_404(await bot.get(page_of(bot, 999_999)))
    await assert_friendly_404(await bot.get(page_of(bot, 999_999) + ".pdf"))


async def test_an_altered_link_gets_the_friendly_404(bot):
    _, _, page = await resident_with_receipt(bot)
    token = page.removeprefix("/r/")
    await assert_friendly_404(await bot.get(f"/r/{altered(token, 20)}"))
    await assert_friendly_404(await bot.get(f"/r/{altered(token, 20)}.pdf"))


async def test_an_expired_link_gets_the_friendly_404(bot, settings):
    account = await verified_account("o_receipt_owner", ID)
    receipt, _ = await receipt_link(bot, account, ID)
    made = datetime.now(UTC) - timedelta(days=settings.receipts.link_ttl_days, seconds=1)
    await assert_friendly_404(await bot.get(page_of(bot, receipt.id, made)))
    await assert_friendly_404(await bot.get(page_of(bot, receipt.id, made) + ".pdf"))


@pytest.mark.parametrize("path", ["/r/not-a-token", "/r/%3Cscript%3E", "/r/AAAA.pdf"])
async def test_a_malformed_link_gets_the_friendly_404(bot, path):
    await assert_friendly_404(await bot.get(path))


async def test_a_link_with_another_receipts_id_written_in_opens_nothing(bot):
    _, _, my_page = await resident_with_receipt(bot)
    _, theirs, _ = await resident_with_receipt(bot, "o_someone_else", OTHER_ID)
    raw = bytearray(base64.urlsafe_b64decode(my_page.removeprefix("/r/") + "=="))
    raw[:8] = theirs.id.to_bytes(8, "big")  # the receipt id the token carries, MAC left as it was
    forged = base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")
    await assert_friendly_404(await bot.get(f"/r/{forged}"))
    await assert_friendly_404(await bot.get(f"/r/{forged}.pdf"))


# -- headers --------------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["", ".pdf"])
async def test_no_answer_is_cached_or_leaks_the_link_to_another_site(bot, suffix):
    _, _, page = await resident_with_receipt(bot)
    for path in (page + suffix, page_of(bot, 999_999) + suffix):
        response = await bot.get(path)
        assert response.headers["Cache-Control"] == "private, no-store"
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(("suffix", "content_type"), [("", "text/html"), (".pdf", "application/pdf")])
async def test_head_answers_like_get_without_the_body(bot, suffix, content_type):
    _, _, page = await resident_with_receipt(bot)
    response = await bot.head(page + suffix)
    assert response.status == 200 and response.content_type == content_type
    assert await response.read() == b""


# -- the PDF --------------------------------------------------------------------------------------


async def test_the_pdf_is_the_receipt_named_by_its_number(bot):
    _, receipt, page = await resident_with_receipt(bot)
    response = await bot.get(page + ".pdf")
    assert response.status == 200 and response.content_type == "application/pdf"
    assert response.headers["Content-Disposition"] == f'inline; filename="{receipt.number}.pdf"'
    text = pypdf.PdfReader(io.BytesIO(await response.read())).pages[0].extract_text()
    assert receipt.number in text and MASKED in text and "福田派出所居住证受理点" in text


async def test_the_pdf_is_drawn_once_and_then_served_from_disk(bot, settings):
    _, receipt, page = await resident_with_receipt(bot)
    first = await (await bot.get(page + ".pdf")).read()
    kept = settings.receipts.storage_dir / f"{receipt.id}.pdf"
    drawn_at = kept.stat().st_mtime_ns
    assert await (await bot.get(page + ".pdf")).read() == first
    assert kept.stat().st_mtime_ns == drawn_at


async def test_a_kept_pdf_is_for_the_bot_alone_to_read(bot, settings):
    _, receipt, page = await resident_with_receipt(bot)
    await bot.get(page + ".pdf")
    storage = settings.receipts.storage_dir
    assert storage.stat().st_mode & 0o777 == 0o700
    assert (storage / f"{receipt.id}.pdf").stat().st_mode & 0o777 == 0o600


async def test_first_requests_at_once_all_get_the_whole_pdf(bot, settings):
    _, receipt, page = await resident_with_receipt(bot)
    responses = await asyncio.gather(*(bot.get(page + ".pdf") for _ in range(6)))
    (body, *others) = {await response.read() for response in responses}
    assert not others and body.startswith(b"%PDF") and body.rstrip().endswith(b"%%EOF")
    assert sorted(p.name for p in settings.receipts.storage_dir.iterdir()) == [f"{receipt.id}.pdf"]


async def test_a_kept_pdf_is_drawn_again_when_half_its_qr_links_life_is_gone(bot, settings):
    _, receipt, page = await resident_with_receipt(bot)
    await bot.get(page + ".pdf")
    kept = settings.receipts.storage_dir / f"{receipt.id}.pdf"
    half_life = timedelta(days=settings.receipts.link_ttl_days / 2).total_seconds()
    old = kept.stat().st_mtime - half_life - 60
    os.utime(kept, (old, old))
    assert (await bot.get(page + ".pdf")).status == 200
    assert kept.stat().st_mtime > old + half_life


# -- the full ID number -----------------------------------------------------------------------------


async def test_no_full_id_number_in_the_page_the_pdf_or_the_log(bot, caplog):
    caplog.set_level(logging.DEBUG)
    account, receipt, page = await resident_with_receipt(bot)
    assert (await Account.get(id=account.id)).verified_id_hash  # the account's ID number is on record
    html = await (await bot.get(page)).text()
    pdf = await (await bot.get(page + ".pdf")).read()
    extracted = "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf)).pages)
    logged = "\n".join(r.getMessage() + str(r.exc_info or "") for r in caplog.records)
    for seen in (html, extracted, pdf.decode("latin-1"), logged, str(receipt.facts)):
        assert ID not in seen and ID[6:14] not in seen  # nor its date of birth
    assert MASKED in html and MASKED in extracted
