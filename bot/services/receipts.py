"""Acceptance receipts (受理回执): issued with the application they acknowledge, opened by signed links.

A link is `<public_base_url>/r/<token>`; the token carries the receipt id and an expiry, signed
with HMAC-SHA256 under receipts.signing_key, so it cannot be guessed, altered or kept past its
day. `read` answers None for any token that is not one this bot made and still open; the pages
say 404 for all of them alike. After a key change, receipts.previous_signing_key keeps the links
the old key signed open until they expire (docs/deploy.md, key rotation).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from bot.config import ReceiptsConfig
from models import PermitApplication, Receipt
from models.application import CARD_DUE_WORKING_DAYS

BRING_FOR_COLLECTION = ("本人居民身份证原件", "本受理回执（手机出示或打印均可）")
_TOKEN = struct.Struct(">QI")  # receipt id, expiry (Unix seconds)


class Receipts:
    def __init__(self, config: ReceiptsConfig, public_base_url: str) -> None:
        self._config = config
        # Signing with the first; a token made with either opens.
        self._keys = tuple(
            hmac.new(key.encode(), b"rb-receipt-links", hashlib.sha256).digest()
            for key in (config.signing_key, config.previous_signing_key)
            if key
        )
        self._base = public_base_url.rstrip("/")

    async def for_application(self, application: PermitApplication) -> Receipt:
        """The receipt of an accepted application; call it in the transaction that creates it."""
        return await Receipt.create(
            number=application.number,
            business=application.kind.label,
            account_id=application.account_id,
            application=application,
            facts=application_facts(application),
        )

    async def of_account(self, account_id: int) -> list[Receipt]:
        return await Receipt.filter(account_id=account_id).order_by("-created_at", "-id")

    async def opened_by(self, token: str, now: datetime) -> Receipt | None:
        """The receipt a link opens, with its application (for the live status); None for a token
        `read` refuses and for one whose receipt is not there, alike."""
        receipt_id = self.read(token, now)
        if receipt_id is None:
            return None
        return await Receipt.get_or_none(id=receipt_id).prefetch_related("application")

    def token(self, receipt_id: int, now: datetime) -> str:
        expires = int((now + timedelta(days=self._config.link_ttl_days)).timestamp())
        body = _TOKEN.pack(receipt_id, expires)
        return base64.urlsafe_b64encode(body + _mac(self._keys[0], body)).decode().rstrip("=")

    def read(self, token: str, now: datetime) -> int | None:
        """The receipt id a token opens, or None: malformed, altered, or expired."""
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        except (ValueError, TypeError):
            return None
        if len(raw) != _TOKEN.size + 16:
            return None
        body, mac = raw[: _TOKEN.size], raw[_TOKEN.size :]
        if not any(hmac.compare_digest(mac, _mac(key, body)) for key in self._keys):
            return None
        receipt_id, expires = _TOKEN.unpack(body)
        return receipt_id if now.timestamp() < expires else None

    def url(self, receipt_id: int, now: datetime) -> str:
        """The phone page's link; the PDF is the same with `.pdf`."""
        return f"{self._base}/r/{self.token(receipt_id, now)}"


def _mac(key: bytes, body: bytes) -> bytes:
    return hmac.new(key, body, hashlib.sha256).digest()[:16]


@dataclass(frozen=True, slots=True)
class CollectionPoint:
    name: str
    address: str
    hours: str
    phone: str


@dataclass(frozen=True, slots=True)
class ReceiptFacts:
    """What a receipt states, read once from its `facts`: the page and the PDF say the same."""

    number: str
    business: str
    name: str
    id_number_masked: str
    details: tuple[tuple[str, str], ...]  # the business's own lines, labelled: 受理日期, 制证时限 …
    point: CollectionPoint | None  # an application's: where the card is collected
    bring: tuple[str, ...]  # what to bring to collect it

    @classmethod
    def of(cls, receipt: Receipt) -> ReceiptFacts:
        facts = receipt.facts
        point = facts.get("point")
        return cls(
            number=receipt.number,
            business=receipt.business,
            name=facts["name"],
            id_number_masked=facts["id_number_masked"],
            details=_application_details(facts) if point else _endorsement_details(facts),
            point=CollectionPoint(point["name"], point["address"], point["hours"], point.get("phone", ""))
            if point
            else None,
            bring=tuple(facts.get("bring", ())),
        )


def _application_details(facts: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    due_on = chinese_date(date.fromisoformat(facts["due_on"]))
    return (
        ("受理日期", chinese_date(date.fromisoformat(facts["accepted_on"]))),
        ("制证时限", f"{due_on}前（受理后{CARD_DUE_WORKING_DAYS}个工作日内）"),
    )


def _endorsement_details(facts: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    opens, closes = (chinese_date(date.fromisoformat(facts[key])) for key in ("window_opens", "window_closes"))
    return (
        ("居住证号码", facts["permit_no"]),
        ("签注日期", chinese_date(date.fromisoformat(facts["endorsed_on"]))),
        ("下次签注", f"{opens}至{closes}"),
    )


def chinese_date(day: date) -> str:
    """2026年3月5日, as dates are written on Chinese forms."""
    return f"{day.year}年{day.month}月{day.day}日"


def application_facts(application: PermitApplication) -> dict[str, Any]:
    return {
        "name": application.name,
        "id_number_masked": application.id_number_masked,
        "point": {
            "name": application.point_name,
            "address": application.point_address,
            "hours": application.point_hours,
            "phone": application.point_phone,
        },
        "accepted_on": _iso(application.accepted_on),
        "due_on": _iso(application.due_on),
        "bring": list(BRING_FOR_COLLECTION),
    }


def _iso(day: date) -> str:
    return day.isoformat()
