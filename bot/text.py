"""Text helpers every layer shares: normalising what residents type, and masking personal data.

The masked forms are the only ones in which an ID number or a phone number is shown or logged.
"""

from __future__ import annotations

import re
import unicodedata

# 18-character resident ID numbers (17 digits and a digit or X), not inside a longer number.
_ID = re.compile(r"(?<![0-9A-Za-z])(\d{4})\d{10}(\d{3}[0-9Xx])(?![0-9A-Za-z])")
# Mainland mobile numbers (1[3-9] and 9 digits, maybe after +86), not inside a longer number.
_PHONE = re.compile(r"(?<![0-9A-Za-z])((?:\+?86)?1[3-9]\d)\d{4}(\d{4})(?![0-9A-Za-z])")


def normalise(text: str) -> str:
    """NFKC and stripped: full-width digits, letters and spaces typed on a Chinese keyboard read
    as their ASCII forms."""
    return unicodedata.normalize("NFKC", text).strip()


def masked_id(id_number: str) -> str:
    """`4403**********1234`."""
    if len(id_number) != 18:
        # Masking a shorter string the same way could show most or all of it.
        raise ValueError("masked_id expects an 18-character ID number")
    return f"{id_number[:4]}{'*' * 10}{id_number[-4:]}"


def mask_ids(text: str) -> str:
    """Every ID number inside ``text`` masked (the log's last line of defence)."""
    return _ID.sub(lambda m: f"{m.group(1)}**********{m.group(2)[-4:]}", text)


def mask_personal(text: str) -> str:
    """Every ID number and mainland mobile number inside ``text`` masked (the log's last line of defence)."""
    return _PHONE.sub(r"\1****\2", mask_ids(text))


def mask_phone(phone: str) -> str:
    """138****8000: enough to tell numbers apart in a log, not enough to call one."""
    if len(phone) < 8:
        return "*" * len(phone)
    return f"{phone[:3]}****{phone[-4:]}"


def width(text: str) -> float:
    """How wide `text` shows, in Chinese characters: wide and full-width ones count 1, the rest ½."""
    return sum(1 if unicodedata.east_asian_width(c) in "WF" else 0.5 for c in text)
