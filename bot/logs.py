"""Logging set-up, with a last line of defence that masks ID numbers in any log line."""

from __future__ import annotations

import logging
import re

# 18-character resident ID numbers (17 digits and a digit or X), not inside a longer number.
_ID = re.compile(r"(?<![0-9A-Za-z])(\d{4})\d{10}(\d{3}[0-9Xx])(?![0-9A-Za-z])")


def mask_ids(text: str) -> str:
    return _ID.sub(lambda m: f"{m.group(1)}**********{m.group(2)[-4:]}", text)


class MaskingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_ids(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def setup_logging(level: str) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(MaskingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
