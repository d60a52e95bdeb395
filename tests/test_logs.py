"""The log's last line of defence: ID numbers and phone numbers masked wherever a line carries them."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from bot.logs import log_handler

ID = "440304199001011233"
PHONE = "13800138000"


@pytest.fixture
def logged() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    """A logger writing through the handler setup_logging installs, into a string."""
    out = io.StringIO()
    logger = logging.getLogger("tests.test_logs")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    logger.addHandler(handler := log_handler(out))
    try:
        yield logger, out
    finally:
        logger.removeHandler(handler)
        logger.setLevel(logging.NOTSET)
        logger.propagate = True


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
