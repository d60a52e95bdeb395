"""Logging set-up, with a last line of defence that masks ID numbers and mobile numbers in any log line."""

from __future__ import annotations

import logging
from typing import TextIO

from bot.text import mask_personal

# Formats tracebacks for the filter, which runs before the handler's formatter would.
_TRACEBACKS = logging.Formatter()


class MaskingFilter(logging.Filter):
    """Masks the message, the traceback of a logged exception and a logged stack (`stack_info`).

    The traceback is formatted here, once, and kept as the record's `exc_text`, which formatters
    print instead of formatting `exc_info` again.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_personal(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = _TRACEBACKS.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_personal(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_personal(record.stack_info)
        return True


def log_handler(stream: TextIO | None = None) -> logging.Handler:
    """The handler setup_logging installs: lines to `stream` (stderr), personal data masked."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(MaskingFilter())
    return handler


def setup_logging(level: str) -> None:
    root = logging.getLogger()
    root.handlers[:] = [log_handler()]
    root.setLevel(level)
