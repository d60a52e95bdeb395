"""The app's resources, built by the app factory and handed to flows as `ctx.services`."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field

import aiohttp

from bot.config import Settings
from bot.db import Database
from bot.metrics import Metrics
from bot.services.acceptance_points import PointDirectory
from bot.services.realname import PhotoStore, RealnameChecker
from bot.services.security import FieldCipher
from bot.services.sms import SmsCodes
from bot.state import StateStore
from bot.wechat.api import WeChatAPI


@dataclass
class Services:
    settings: Settings
    database: Database
    store: StateStore
    metrics: Metrics
    points: PointDirectory = field(default_factory=PointDirectory)
    cipher: FieldCipher = field(init=False)
    photos: PhotoStore = field(init=False)
    # What talks to other services needs the HTTP session, opened when the app starts (`connect`).
    sms: SmsCodes = field(init=False)
    realname: RealnameChecker = field(init=False)
    api: WeChatAPI | None = field(init=False, default=None)  # None without wechat.app_secret

    def __post_init__(self) -> None:
        self.cipher = FieldCipher(self.settings.security.field_key)
        self.photos = PhotoStore(self.settings.realname.photo_dir)

    def connect(self, session: aiohttp.ClientSession) -> None:
        s = self.settings
        secret = hmac.new(s.security.field_key.encode(), b"rb-sms-codes", hashlib.sha256).digest()
        self.sms = SmsCodes(s.sms, self.store, session, development=s.app.environment == "development", secret=secret)
        self.realname = RealnameChecker(s.realname, session)
        self.api = WeChatAPI.configured(s.wechat, session, self.store)
