"""The receipt PDF (受理回执): drawn with reportlab in an embedded TrueType CJK font, kept on disk.

The font is found when the app starts, so that a machine without one says so at once, in one line,
instead of failing a resident's first download: `receipts.font_path` when set, else the first
usable one of the TrueType CJK fonts Debian packages (fonts-wqy-zenhei first), else what `fc-list`
knows for Chinese. reportlab embeds only TrueType outlines; Debian's Noto CJK (fonts-noto-cjk) has
CFF outlines, which reportlab refuses after reading the whole 20 MB file, so the sfnt header is
read first and such fonts are passed over.

A PDF is drawn outside the reply (in a thread, on its first request) and kept in
`receipts.storage_dir` under the receipt's id, written to a temporary file and renamed, so that a
reader never sees half a file, whichever process wrote it. The QR code carries a link that expires
with `receipts.link_ttl_days`, so a kept PDF is drawn again once half its link's life is gone.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import io
import itertools
import os
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import NamedTuple

from reportlab.graphics.barcode import qrencoder
from reportlab.lib.colors import Color, black
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFError, TTFont
from reportlab.pdfgen.canvas import Canvas

from bot.config import ConfigError, ReceiptsConfig
from bot.services.receipts import ReceiptFacts

INSTALL_HINT = "apt-get install fonts-wqy-zenhei or set receipts.font_path"
NO_FONT = f"receipts: no TrueType CJK font found; {INSTALL_HINT}"


class FontFile(NamedTuple):
    path: Path
    subfont: int = 0  # the font's index in a collection (.ttc)


# TrueType CJK fonts by Debian package, best first: the path each installs.
KNOWN_FONTS = (
    FontFile(Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")),  # fonts-wqy-zenhei
    FontFile(Path("/usr/share/fonts/truetype/arphic/uming.ttc")),  # fonts-arphic-uming
    FontFile(Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")),  # fonts-wqy-microhei
    FontFile(Path("/usr/share/fonts/truetype/arphic/ukai.ttc")),  # fonts-arphic-ukai
    FontFile(Path("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf")),  # fonts-droid-fallback
)
# Characters every receipt shows: a font without them would print empty boxes.
_NEEDED = "受理回执居住证申领号码"
_TRUETYPE = (b"\x00\x01\x00\x00", b"true")
_CFF = b"OTTO"


def fc_list_chinese() -> list[FontFile]:
    """The fonts fontconfig knows to cover Chinese; none when fc-list is not installed."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return []
    try:
        listed = subprocess.run(
            [fc_list, "--format", "%{file}\t%{index}\n", ":lang=zh"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return []
    fonts = []
    for line in listed.splitlines():
        path, _, index = line.partition("\t")
        if path:
            fonts.append(FontFile(Path(path), int(index) if index.isdigit() else 0))
    return sorted(set(fonts))


def outlines(font: FontFile) -> str:
    """'truetype', 'cff', or '' (not an sfnt font, or no such subfont), from the sfnt header alone."""
    with font.path.open("rb") as file:
        header = file.read(12)
        if header[:4] == b"ttcf":
            count = int.from_bytes(header[8:12], "big")
            if font.subfont >= count:
                return ""
            file.seek(12 + 4 * font.subfont)
            file.seek(int.from_bytes(file.read(4), "big"))
            header = file.read(4)
    if header[:4] == _CFF:
        return "cff"
    return "truetype" if header[:4] in _TRUETYPE else ""


@functools.cache
def _registered(font: FontFile) -> str:
    """Load the font and register it with reportlab, once a process (reportlab's registry is the
    process's anyway): its name for drawing. TTFError when reportlab cannot use it."""
    name = f"receipt-cjk-{hashlib.sha256(str(font.path).encode()).hexdigest()[:8]}-{font.subfont}"
    ttf = TTFont(name, str(font.path), subfontIndex=font.subfont)
    if not all(ord(char) in ttf.face.charToGlyph for char in _NEEDED):
        raise TTFError(f"{font.path}: no Chinese glyphs")
    pdfmetrics.registerFont(ttf)
    return name


def configured_font(path: Path) -> str:
    """The operator's font, or ConfigError saying what is wrong with it and what to do instead."""
    font = FontFile(path)
    wrong = f"receipts.font_path: {path}"
    try:
        kind = outlines(font)
    except OSError as exc:
        raise ConfigError(f"{wrong}: {exc.strerror or exc}; {INSTALL_HINT} to a TrueType CJK font") from None
    if kind == "cff":
        raise ConfigError(
            f"{wrong} has CFF outlines, which reportlab cannot embed; "
            "apt-get install fonts-wqy-zenhei and set it to /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"
        )
    if kind != "truetype":
        raise ConfigError(f"{wrong} is not a TrueType font; {INSTALL_HINT} to a TrueType CJK font")
    try:
        return _registered(font)
    except TTFError as exc:
        reason = str(exc).replace(str(path), "").strip(' :"')
        raise ConfigError(f"{wrong}: {reason}; {INSTALL_HINT} to a TrueType CJK font") from None


def discovered_font(candidates: Iterable[FontFile]) -> str:
    """The first usable TrueType CJK font of the candidates, or ConfigError(NO_FONT)."""
    for font in candidates:
        try:
            if font.path.is_file() and outlines(font) == "truetype":
                return _registered(font)
        except (OSError, TTFError):
            continue  # unreadable, or a TrueType file reportlab cannot use: the next one
    raise ConfigError(NO_FONT)


def receipt_font(
    config: ReceiptsConfig,
    known: Sequence[FontFile] = KNOWN_FONTS,
    listed: Callable[[], list[FontFile]] = fc_list_chinese,
) -> str:
    """The font receipts are drawn in, registered with reportlab; ConfigError, one line, when none."""
    if config.font_path is not None:
        return configured_font(config.font_path)
    try:
        return discovered_font(known)
    except ConfigError:
        return discovered_font(font for font in listed() if font not in known)


# -- drawing ----------------------------------------------------------------------------------------

_PAGE_W, _PAGE_H = A4
_MARGIN = 56.0
_WIDTH = _PAGE_W - 2 * _MARGIN
_LABEL_W = 96.0
_QR_SIZE = 112.0
_QR_QUIET = 2  # modules of white around the code
_GREY = Color(0.45, 0.45, 0.45)
_RULE = Color(0.8, 0.8, 0.8)
IN_PERSON = "网上申领的居住证须由申请人本人到上述受理点领取，不能代领。"


class ReceiptPdf:
    def __init__(self, font: str, storage_dir: Path, link_ttl: timedelta) -> None:
        self._font = font
        self._dir = storage_dir
        # A kept PDF is drawn again once its QR link has less than half its life left.
        self._keep_s = link_ttl.total_seconds() / 2
        # One drawing at a time: reportlab keeps each document's font subset inside the shared
        # font object, and a second first request then finds the first one's file.
        self._lock = threading.Lock()

    @classmethod
    def configured(cls, config: ReceiptsConfig) -> ReceiptPdf:
        """At start-up: ConfigError, one line, when no usable font is found."""
        return cls(receipt_font(config), config.storage_dir, timedelta(days=config.link_ttl_days))

    async def file_for(self, receipt_id: int, facts: ReceiptFacts, page_url: str, now: datetime) -> Path:
        """The receipt's PDF on disk, drawn first (in a thread) when missing or its link is old."""
        path = self._dir / f"{receipt_id}.pdf"
        if not self._kept(path, now):
            await asyncio.to_thread(self._draw_once, path, facts, page_url, now)
        return path

    def _kept(self, path: Path, now: datetime) -> bool:
        try:
            return now.timestamp() - path.stat().st_mtime < self._keep_s
        except FileNotFoundError:
            return False

    def _draw_once(self, path: Path, facts: ReceiptFacts, page_url: str, now: datetime) -> None:
        with self._lock:
            if self._kept(path, now):
                return
            data = self.render(facts, page_url)
            # A receipt names a person: the directory is the bot's alone, and mkstemp makes the file 0600.
            self._dir.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd, temporary = tempfile.mkstemp(dir=self._dir, prefix=f".{path.stem}-", suffix=".tmp")
            try:
                with os.fdopen(fd, "wb") as file:
                    file.write(data)
                os.replace(temporary, path)
            except BaseException:
                os.unlink(temporary)
                raise

    def render(self, facts: ReceiptFacts, page_url: str) -> bytes:
        """The receipt as an A4 PDF: the facts, where and how to collect the card, a QR code of the page."""
        buffer = io.BytesIO()
        # invariant: no creation time or random id inside, so the same receipt gives the same bytes.
        pdf = Canvas(buffer, pagesize=A4, pageCompression=1, invariant=1, initialFontName=self._font)
        pdf.setTitle(f"受理回执 {facts.number}")
        pdf.setAuthor("居住证助手")
        page = _Page(pdf, self._font)
        page.title(f"深圳市{facts.business}受理回执")
        page.line(f"受理编号：{facts.number}", size=14)
        page.gap(10)
        rows = [("申请人", facts.name), ("公民身份号码", facts.id_number_masked), ("业务类型", facts.business)]
        rows += facts.details
        if facts.point:
            point = facts.point
            rows += [("领证地点", point.name), ("地址", point.address), ("办公时间", point.hours)]
            if point.phone:
                rows.append(("咨询电话", point.phone))
        page.table(rows)
        notes = []
        if facts.point:
            notes.append(f"领证时请携带：{'、'.join(facts.bring)}。")
            notes.append(IN_PERSON)
            notes.append("居住证制好后，公众号会通知您领取。")
        notes.append("扫描右侧二维码，可随时查看办理进度；也可在公众号回复「进度」查询。")
        page.notes("须知", notes, qr=page_url)
        page.footer(
            "本回执由居住证助手出具，请妥善保管。二维码中的链接有有效期，过期后在公众号回复「回执」获取新链接。"
        )
        pdf.showPage()
        pdf.save()
        return buffer.getvalue()


class _Page:
    """A top-to-bottom cursor over one page."""

    def __init__(self, pdf: Canvas, font: str) -> None:
        self.pdf = pdf
        self.font = font
        self.y = _PAGE_H - _MARGIN

    def title(self, text: str) -> None:
        self.y -= 22
        self.pdf.setFont(self.font, 20)
        self.pdf.drawCentredString(_PAGE_W / 2, self.y, text)
        self.y -= 16
        self.pdf.setStrokeColor(black)
        self.pdf.setLineWidth(1.2)
        self.pdf.line(_MARGIN, self.y, _PAGE_W - _MARGIN, self.y)
        self.y -= 10

    def line(self, text: str, *, size: float = 11) -> None:
        self.y -= size + 6
        self.pdf.setFont(self.font, size)
        self.pdf.drawString(_MARGIN, self.y, text)

    def gap(self, height: float) -> None:
        self.y -= height

    def table(self, rows: Sequence[tuple[str, str]], size: float = 11.5) -> None:
        leading = size * 1.5
        self.pdf.setStrokeColor(_RULE)
        self.pdf.setLineWidth(0.5)
        self.pdf.line(_MARGIN, self.y, _PAGE_W - _MARGIN, self.y)
        for label, value in rows:
            lines = wrap(value, self.font, size, _WIDTH - _LABEL_W)
            top = self.y
            self.pdf.setFillColor(_GREY)
            self.pdf.setFont(self.font, size)
            self.pdf.drawString(_MARGIN, top - leading + 3, label)
            self.pdf.setFillColor(black)
            for n, text in enumerate(lines):
                self.pdf.drawString(_MARGIN + _LABEL_W, top - leading * (n + 1) + 3, text)
            self.y = top - leading * len(lines) - 5
            self.pdf.line(_MARGIN, self.y, _PAGE_W - _MARGIN, self.y)

    def notes(self, heading: str, notes: Sequence[str], *, qr: str, size: float = 11) -> None:
        self.y -= 28
        self.pdf.setFont(self.font, 13)
        self.pdf.drawString(_MARGIN, self.y, heading)
        top = self.y - 6
        text_w = _WIDTH - _QR_SIZE - 16
        leading = size * 1.6
        for n, note in enumerate(notes, 1):
            for k, text in enumerate(wrap(note, self.font, size, text_w - 16)):
                self.y -= leading
                self.pdf.setFont(self.font, size)
                self.pdf.drawString(_MARGIN, self.y, f"{n}." if k == 0 else "")
                self.pdf.drawString(_MARGIN + 16, self.y, text)
        qr_bottom = top - _QR_SIZE
        _draw_qr(self.pdf, qr, _PAGE_W - _MARGIN - _QR_SIZE, qr_bottom, _QR_SIZE)
        self.pdf.setFont(self.font, 9)
        self.pdf.setFillColor(_GREY)
        self.pdf.drawCentredString(_PAGE_W - _MARGIN - _QR_SIZE / 2, qr_bottom - 12, "扫码查看办理进度")
        self.pdf.setFillColor(black)
        self.y = min(self.y, qr_bottom - 12)

    def footer(self, text: str) -> None:
        self.pdf.setFont(self.font, 9)
        self.pdf.setFillColor(_GREY)
        y = _MARGIN
        for line in reversed(wrap(text, self.font, 9, _WIDTH)):
            self.pdf.drawString(_MARGIN, y, line)
            y += 13
        self.pdf.setFillColor(black)


def _draw_qr(pdf: Canvas, url: str, x: float, y: float, size: float) -> None:
    """The QR code as one filled path of dark runs: reportlab's QrCodeWidget encodes twice and
    builds a shape per module, three quarters of a receipt's drawing time."""
    code = qrencoder.QRCode(None, qrencoder.QRErrorCorrectLevel.M)
    code.addData(url)
    code.make()
    count = code.getModuleCount()
    module = size / (count + 2 * _QR_QUIET)
    path = pdf.beginPath()
    for row, modules in enumerate(code.modules):
        top = y + size - (row + _QR_QUIET) * module
        column = 0
        for dark, run in itertools.groupby(modules):
            length = len(list(run))
            if dark:
                path.rect(x + (column + _QR_QUIET) * module, top - module, length * module, module)
            column += length
    pdf.setFillColor(black)
    pdf.drawPath(path, stroke=0, fill=1)


def wrap(text: str, font: str, size: float, width: float) -> list[str]:
    """Lines of at most `width` points. Chinese has no spaces to break at: any character may
    end a line, except that a closing mark stays with the character before it."""
    lines: list[str] = []
    line = ""
    for char in text:
        if line and pdfmetrics.stringWidth(line + char, font, size) > width and char not in "，。、；：）」』":
            lines.append(line)
            line = ""
        line += char
    return [*lines, line] if line or not lines else lines
