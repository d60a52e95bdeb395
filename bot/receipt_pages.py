"""The receipt links: GET /r/{token}, a page for the phone (WeChat's browser), and /r/{token}.pdf.

The token is the only key (bot/services/receipts.py): whoever holds a link the bot sent may read
that one receipt, and nothing else. An altered, expired or unknown token gets the same friendly
404, so a guess learns nothing. Every answer carries personal data or says that a link is dead, so
none is cached along the way, and none tells another site the link through a Referer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import jinja2
from aiohttp import web

from bot.config import Settings
from bot.services.receipt_pdf import IN_PERSON, ReceiptPdf
from bot.services.receipts import ReceiptFacts, Receipts, chinese_date
from models import ApplicationStatus, PermitApplication, Receipt
from models.rules import SHENZHEN

RECEIPTS = web.AppKey("receipt_links", Receipts)
PDF = web.AppKey("receipt_pdf", ReceiptPdf)
TEMPLATES = web.AppKey("receipt_templates", jinja2.Environment)

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
HEADERS = {
    "Cache-Control": "private, no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
}

# What the resident does next, for each status of the application (RULES.md §3: verifying takes
# up to 3 working days, the review 2; an online application is collected in person at its point).
NEXT_STEPS = {
    ApplicationStatus.SUBMITTED: "无需操作。申请已受理，将转有关部门核查；进度有变化时，公众号会通知您。",
    ApplicationStatus.VERIFYING: "无需操作。有关部门正在核查居住登记、社保等信息，约需3个工作日。",
    ApplicationStatus.REVIEW: "无需操作。公安机关正在审核，约需2个工作日。",
    ApplicationStatus.APPROVED: "无需操作。审核已通过，即将制证。",
    ApplicationStatus.PRODUCING: "无需操作。居住证制作中，预计{due_on}前制好，制好后公众号会通知您领取。",
    ApplicationStatus.READY: "请本人携带居民身份证原件和本回执，到{point}领取居住证。",
    ApplicationStatus.COLLECTED: "居住证已领取，本次申领已办结。每年请按时签注。",
    ApplicationStatus.REJECTED: "如有疑问，请带上居民身份证到{point}咨询；符合条件后可回复「申领」重新申请。",
}


@dataclass(frozen=True, slots=True)
class StatusView:
    label: str
    note: str
    rejected: bool
    changed_on: str
    next_step: str

    @classmethod
    def of(cls, application: PermitApplication) -> StatusView:
        status = application.status
        return cls(
            label=status.label,
            note=application.status_note if status is ApplicationStatus.REJECTED else "",
            rejected=status is ApplicationStatus.REJECTED,
            changed_on=chinese_date(application.status_changed_at.astimezone(SHENZHEN).date()),
            next_step=NEXT_STEPS[status].format(point=application.point_name, due_on=chinese_date(application.due_on)),
        )


def setup_receipt_pages(app: web.Application, settings: Settings) -> None:
    """Mount /r/{token} and /r/{token}.pdf. ConfigError, one line, when no font can draw a receipt:
    a bot that cannot hand out its receipts does not start."""
    app[RECEIPTS] = Receipts(settings.receipts, settings.server.public_base_url)
    app[PDF] = ReceiptPdf.configured(settings.receipts)
    app[TEMPLATES] = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_DIR), autoescape=True, undefined=jinja2.StrictUndefined
    )
    # The PDF's route first: `/r/{token}` would take `….pdf` as a token too.
    app.router.add_get("/r/{token}.pdf", receipt_pdf)
    app.router.add_get("/r/{token}", receipt_page)


async def receipt_page(request: web.Request) -> web.Response:
    token = request.match_info["token"]
    receipt = await request.app[RECEIPTS].opened_by(token, datetime.now(UTC))
    if receipt is None:
        return _html(request, "not_found.html", status=404)
    application = receipt.application
    return _html(
        request,
        "receipt.html",
        facts=ReceiptFacts.of(receipt),
        progress=StatusView.of(application) if application else None,
        in_person=IN_PERSON,
        pdf_url=f"/r/{token}.pdf",
    )


async def receipt_pdf(request: web.Request) -> web.StreamResponse:
    now = datetime.now(UTC)
    receipts = request.app[RECEIPTS]
    receipt: Receipt | None = await receipts.opened_by(request.match_info["token"], now)
    if receipt is None:
        return _html(request, "not_found.html", status=404)
    facts = ReceiptFacts.of(receipt)
    path = await request.app[PDF].file_for(receipt.id, facts, receipts.url(receipt.id, now), now)
    return web.FileResponse(
        path,
        headers={
            **HEADERS,
            "Content-Type": "application/pdf",
            # The number is letters and digits only, so it needs no quoting rules of its own.
            "Content-Disposition": f'inline; filename="{facts.number}.pdf"',
        },
    )


def _html(request: web.Request, template: str, *, status: int = 200, **context: object) -> web.Response:
    body = request.app[TEMPLATES].get_template(template).render(**context)
    return web.Response(text=body, status=status, content_type="text/html", charset="utf-8", headers=HEADERS)
