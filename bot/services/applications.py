"""Permit applications (申领 and 代办): who may apply, and the application with its receipt, once.

(Being written: the flows helper fills this in.)
"""

from __future__ import annotations

from bot.config import ApplicationsConfig
from bot.services.receipts import Receipts
from bot.services.security import FieldCipher
from models.rules import Rules


class Applications:
    def __init__(self, rules: Rules, receipts: Receipts, security: FieldCipher, config: ApplicationsConfig) -> None:
        self._rules = rules
        self._receipts = receipts
        self._security = security
        self._config = config
