"""Logging set-up, with a last line of defence that masks ID numbers and mobile numbers in any log line.

`logging.format` chooses the lines: `text` for a terminal or journald, `json` (one object a line)
for a log collector. The masking runs before either formatter, so both carry masked text only.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import TextIO

from bot.config import LoggingConfig
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


class JsonFormatter(logging.Formatter):
    """One JSON object a line: `time` (UTC, ISO 8601), `level`, `logger`, `message`, and `exception`
    or `stack` when the record has one. Non-ASCII text is written as it is, not as escapes."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, ensure_ascii=False)


def log_handler(stream: TextIO | None = None, format: str = "text") -> logging.Handler:
    """The handler setup_logging installs: lines (`text` or `json`) to `stream` (stderr), personal data masked."""
    handler = logging.StreamHandler(stream)
    if format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(MaskingFilter())
    return handler


def setup_logging(config: LoggingConfig) -> None:
    root = logging.getLogger()
    root.handlers[:] = [log_handler(format=config.format)]
    root.setLevel(config.level)
