"""The log's last line of defence: ID numbers and phone numbers masked wherever a line carries them,
in either format of `logging.format` (text lines, JSON lines)."""

from __future__ import annotations

import contextlib
import io
import json
import logging
from collections.abc import Iterator

import pytest

from bot.config import ConfigError, LoggingConfig, load_settings
from bot.logs import log_handler, setup_logging

ID = "440304199001011233"
PHONE = "13800138000"


@contextlib.contextmanager
def logging_into_string(format: str) -> Iterator[tuple[logging.Logger, io.StringIO]]:
    """A logger writing through the handler setup_logging installs, into a string."""
    out = io.StringIO()
    logger = logging.getLogger(f"tests.test_logs.{format}")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    logger.addHandler(handler := log_handler(out, format))
    try:
        yield logger, out
    finally:
        logger.removeHandler(handler)
        logger.setLevel(logging.NOTSET)
        logger.propagate = True


@pytest.fixture(params=["text", "json"])
def logged(request) -> Iterator[tuple[logging.Logger, io.StringIO]]:
    with logging_into_string(request.param) as logged:
        yield logged


@pytest.fixture
def json_logged() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    with logging_into_string("json") as logged:
        yield logged


def test_a_message_has_its_id_and_phone_numbers_masked(logged):
    logger, out = logged
    logger.warning("resident %s, phone %s", ID, PHONE)
    line = out.getvalue()
    assert "4403**********1233" in line and "138****8000" in line
    assert ID not in line and PHONE not in line


def test_a_logged_exception_has_them_masked_in_its_traceback(logged):
    logger, out = logged
    try:
        raise ValueError(f"no account for {ID} with phone {PHONE}")
    except ValueError:
        logger.exception("lookup failed")
    logger.warning("where it was logged from", stack_info=True)
    text = out.getvalue()
    assert "ValueError: no account for 4403**********1233 with phone 138****8000" in text
    assert "Stack (most recent call last)" in text
    assert ID not in text and PHONE not in text


@pytest.mark.parametrize(
    "number",
    [
        "138001380001",  # longer than a phone number
        "913800138000",  # a phone number inside a longer one
        "12800138000",  # 12x is not a mobile prefix
        "1380013800",  # too short
    ],
)
def test_numbers_that_are_not_phone_numbers_are_left_alone(logged, number):
    logger, out = logged
    logger.info("msgid %s", number)
    assert number in out.getvalue()


def test_a_phone_number_with_the_country_code_is_masked_too(logged):
    logger, out = logged
    logger.warning("sent to +86%s", PHONE)
    assert "+86138****8000" in out.getvalue()


def json_lines(out: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_a_json_line_is_one_object_with_time_level_logger_and_the_masked_message(json_logged):
    logger, out = json_logged
    logger.warning("居民 %s 登录失败", ID)
    [line] = json_lines(out)
    assert line["level"] == "WARNING" and line["logger"] == "tests.test_logs.json"
    assert line["message"] == "居民 4403**********1233 登录失败"
    assert line["time"].endswith("+00:00")
    assert "居民" in out.getvalue()  # written as it is, not as \u escapes


def test_a_json_line_carries_the_masked_traceback_in_one_field(json_logged):
    logger, out = json_logged
    try:
        raise ValueError(f"no account for {ID}")
    except ValueError:
        logger.exception("lookup failed")
    [line] = json_lines(out)
    assert line["message"] == "lookup failed"
    assert line["exception"].startswith("Traceback (most recent call last):")
    assert line["exception"].endswith("ValueError: no account for 4403**********1233")


def test_logging_format_json_makes_the_root_logger_write_json(capsys):
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        setup_logging(LoggingConfig(format="json"))
        logging.getLogger("bot.test").info("sent to %s", PHONE)
    finally:
        root.handlers[:], root.level = handlers, level
    assert json.loads(capsys.readouterr().err) | {"time": "-"} == {
        "time": "-",
        "level": "INFO",
        "logger": "bot.test",
        "message": "sent to 138****8000",
    }


def test_an_unknown_logging_format_stops_start_up_naming_the_key(monkeypatch):
    monkeypatch.setenv("RB_LOGGING__FORMAT", "xml")
    with pytest.raises(ConfigError, match=r"^config: logging.format: Input should be 'text' or 'json'$"):
        load_settings()
