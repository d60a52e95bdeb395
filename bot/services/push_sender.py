"""The push outbox, the sending side (SPEC §6).

(Being written: the pushes helper fills this in.)
"""

from __future__ import annotations

from bot.config import PushesConfig, TemplatesConfig
from bot.metrics import Metrics
from bot.wechat.api import WeChatAPI


class PushSender:
    def __init__(
        self, config: PushesConfig, templates: TemplatesConfig, wechat: WeChatAPI | None, metrics: Metrics
    ) -> None:
        self._config = config
        self._templates = templates
        self._wechat = wechat
        self._metrics = metrics
