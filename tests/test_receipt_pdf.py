"""The receipt PDF: the font it is drawn in, found or refused at start-up, and what it says."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

import pypdf
import pytest
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics

from bot.app import create_app
from bot.config import ConfigError, ReceiptsConfig
from bot.services.receipt_pdf import KNOWN_FONTS, NO_FONT, FontFile, ReceiptPdf, outlines, receipt_font, wrap
from bot.services.receipts import CollectionPoint, ReceiptFacts
from tests.harness import make_settings
from tests.processes import bot_env, run_cli

WQY = FontFile(Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"))
DEJAVU = FontFile(Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"))
MASKED = "4403**********1233"
FACTS = ReceiptFacts(
    number="JZ2026030500000012X",
    business="居住证申领",
    name="张三",
    id_number_masked=MASKED,
    details=(("受理日期", "2026年3月5日"), ("制证时限", "2026年3月26日前（受理后15个工作日内）")),
    point=CollectionPoint(
        name="福田派出所居住证受理点",
        address="深圳市福田区福华三路88号时代财富大厦一楼居住证受理大厅（地铁1号线会展中心站D出口）",
        hours="周一至周五 09:00-12:00, 14:00-18:00",
        phone="0755-80000001",
    ),
    bring=("本人居民身份证原件", "本受理回执（手机出示或打印均可）"),
)
PAGE_URL = "https://bot.example.gov.cn/r/AAAAAAAAAAEAAAAAaQ3u3k5mS2l6x1qJm8b6Ww"


@pytest.fixture(scope="module")
def installed_font() -> FontFile:
    """The font CI installs (.ci/run: fonts-wqy-zenhei); a machine without it cannot draw receipts."""
    if not WQY.path.is_file():
        pytest.fail("fonts-wqy-zenhei is not installed (apt-get install fonts-wqy-zenhei)", pytrace=False)
    return WQY


def cff_font(tmp_path: Path, *, collection: bool) -> Path:
    """The sfnt header of a CFF-outline font, as Debian's Noto CJK .ttc files start (a collection
    whose fonts are 'OTTO'), or a lone .otf; reportlab refuses both, whatever follows."""
    cff = b"OTTO" + bytes(60)
    if collection:
        data = b"ttcf" + (0x0001_0000).to_bytes(4, "big") + (1).to_bytes(4, "big") + (16).to_bytes(4, "big") + cff
    else:
        data = cff
    path = tmp_path / ("NotoSansCJK-Regular.ttc" if collection else "NotoSansCJKsc-Regular.otf")
    path.write_bytes(data)
    return path


def pdf(font: str) -> ReceiptPdf:
    return ReceiptPdf(font, Path("unused"), link_ttl=timedelta(days=30))


# -- the font -------------------------------------------------------------------------------------


def test_the_header_tells_truetype_from_cff(installed_font, tmp_path):
    assert outlines(installed_font) == "truetype"
    assert outlines(FontFile(cff_font(tmp_path, collection=True))) == "cff"
    assert outlines(FontFile(cff_font(tmp_path, collection=False))) == "cff"


def test_without_a_configured_font_the_first_installed_known_one_is_used(installed_font):
    name = receipt_font(ReceiptsConfig(), known=(FontFile(Path("/nonexistent/uming.ttc")), installed_font))
    assert pdfmetrics.getFont(name).face.name == b"WenQuanYiZenHei"


def test_cff_fonts_are_passed_over(installed_font, tmp_path):
    cff = FontFile(cff_font(tmp_path, collection=True))
    name = receipt_font(ReceiptsConfig(), known=(cff, installed_font), listed=list)
    assert pdfmetrics.getFont(name).face.name == b"WenQuanYiZenHei"


def test_fontconfigs_chinese_fonts_are_tried_when_no_known_one_is_there(installed_font, tmp_path):
    cff = FontFile(cff_font(tmp_path, collection=False))
    name = receipt_font(ReceiptsConfig(), known=(), listed=lambda: [cff, installed_font])
    assert pdfmetrics.getFont(name).face.name == b"WenQuanYiZenHei"


def test_a_machine_with_only_cff_fonts_gets_the_line_that_says_what_to_install(tmp_path):
    only_cff = [FontFile(cff_font(tmp_path, collection=True))]
    with pytest.raises(ConfigError) as refused:
        receipt_font(ReceiptsConfig(), known=(), listed=lambda: only_cff)
    assert str(refused.value) == NO_FONT
    assert NO_FONT == "receipts: no TrueType CJK font found; apt-get install fonts-wqy-zenhei or set receipts.font_path"


def test_a_machine_with_no_font_at_all_gets_the_same_line():
    with pytest.raises(ConfigError) as refused:
        receipt_font(ReceiptsConfig(), known=(), listed=list)
    assert str(refused.value) == NO_FONT


def test_the_known_fonts_are_debians_truetype_cjk_packages_wqy_zenhei_first():
    assert KNOWN_FONTS[0] == WQY
    assert all("/truetype/" in str(font.path) for font in KNOWN_FONTS)


def test_a_configured_font_is_used_as_given(installed_font):
    name = receipt_font(ReceiptsConfig(font_path=installed_font.path), known=())
    assert pdfmetrics.getFont(name).face.name == b"WenQuanYiZenHei"


@pytest.mark.parametrize("collection", [True, False])
def test_a_configured_cff_font_is_refused_with_what_to_do(tmp_path, collection):
    path = cff_font(tmp_path, collection=collection)
    with pytest.raises(ConfigError) as refused:
        receipt_font(ReceiptsConfig(font_path=path))
    assert str(refused.value) == (
        f"receipts.font_path: {path} has CFF outlines, which reportlab cannot embed; "
        "apt-get install fonts-wqy-zenhei and set it to /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"
    )


def test_a_configured_font_that_is_not_there_is_refused(tmp_path):
    path = tmp_path / "missing.ttf"
    with pytest.raises(ConfigError) as refused:
        receipt_font(ReceiptsConfig(font_path=path))
    assert str(refused.value).startswith(f"receipts.font_path: {path}: No such file or directory; apt-get install")


def test_a_configured_file_that_is_no_font_is_refused(tmp_path):
    path = tmp_path / "notes.ttf"
    path.write_text("not a font")
    with pytest.raises(ConfigError, match=r"^receipts.font_path: .*notes.ttf is not a TrueType font; apt-get install"):
        receipt_font(ReceiptsConfig(font_path=path))


def test_a_configured_truetype_font_without_chinese_is_refused():
    if not DEJAVU.path.is_file():
        pytest.skip("no DejaVu Sans to try (fonts-dejavu-core)")
    with pytest.raises(ConfigError, match=r"^receipts.font_path: .*DejaVuSans.ttf: no Chinese glyphs; apt-get install"):
        receipt_font(ReceiptsConfig(font_path=DEJAVU.path))


def test_the_app_does_not_start_without_a_usable_font(tmp_path):
    settings = make_settings(tmp_path, receipts={"font_path": str(cff_font(tmp_path, collection=True))})
    with pytest.raises(ConfigError, match=r"^receipts\.font_path: .* has CFF outlines"):
        create_app(settings)


def test_serve_stops_with_one_line_when_the_font_cannot_be_embedded(tmp_path):
    path = cff_font(tmp_path, collection=True)
    result = run_cli(bot_env(tmp_path, RB_RECEIPTS__FONT_PATH=str(path)), "serve")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"receipts.font_path: {path} has CFF outlines, which reportlab cannot embed; "
        "apt-get install fonts-wqy-zenhei and set it to /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"
    ]


# -- the document ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def drawn(installed_font) -> bytes:
    return pdf(receipt_font(ReceiptsConfig(font_path=installed_font.path))).render(FACTS, PAGE_URL)


def test_the_receipt_is_one_a4_page(drawn):
    (page,) = pypdf.PdfReader(io.BytesIO(drawn)).pages
    assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == tuple(map(round, A4))


def test_its_text_states_the_number_the_masked_id_and_where_to_collect_the_card(drawn):
    text = pypdf.PdfReader(io.BytesIO(drawn)).pages[0].extract_text()
    for fact in (FACTS.number, MASKED, "张三", "居住证申领", "2026年3月5日", "2026年3月26日前"):
        assert fact in text
    assert "福田派出所居住证受理点" in text and "周一至周五 09:00-12:00, 14:00-18:00" in text
    assert "0755-80000001" in text
    assert "本人居民身份证原件" in text and "须由申请人本人到上述受理点领取" in text
    assert "扫码查看办理进度" in text


def test_every_font_on_the_page_is_the_chinese_truetype_one_embedded(drawn):
    fonts = pypdf.PdfReader(io.BytesIO(drawn)).pages[0]["/Resources"]["/Font"]
    descriptors = [font.get_object()["/FontDescriptor"] for font in fonts.values()]
    assert descriptors and all("/FontFile2" in d and "WenQuanYiZenHei" in d["/FontName"] for d in descriptors)


def test_the_file_is_small(drawn):
    assert len(drawn) < 200 * 1024


def test_the_same_receipt_gives_the_same_bytes(drawn, installed_font):
    assert pdf(receipt_font(ReceiptsConfig(font_path=installed_font.path))).render(FACTS, PAGE_URL) == drawn


def test_a_long_chinese_line_wraps_inside_its_width(installed_font):
    font = receipt_font(ReceiptsConfig(font_path=installed_font.path))
    lines = wrap(FACTS.point.address * 2, font, 11.5, 300)
    assert len(lines) > 2 and "".join(lines) == FACTS.point.address * 2
    assert all(pdfmetrics.stringWidth(line.rstrip("，。、；：）」』"), font, 11.5) <= 300 for line in lines)


def test_a_closing_mark_stays_on_the_line_of_the_character_before_it(installed_font):
    font = receipt_font(ReceiptsConfig(font_path=installed_font.path))
    width = pdfmetrics.stringWidth("一二三四", font, 12)
    assert wrap("一二三四。五六", font, 12, width) == ["一二三四。", "五六"]
