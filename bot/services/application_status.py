"""An application's lifecycle as operators move it (RULES.md): each change recorded, and pushed once.

(Being written: the lifecycle helper fills this in.)
"""

from __future__ import annotations

from bot.config import TemplatesConfig
from bot.services.receipts import Receipts


class ApplicationLifecycle:
    def __init__(self, receipts: Receipts, templates: TemplatesConfig) -> None:
        self._receipts = receipts
        self._templates = templates
