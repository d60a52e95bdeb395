"""The domain operations, one service per domain, behind one typed `Services`.

The app factory builds it when the app starts (bot/app.py), once the HTTP session is open, and
hands it to flows as `ctx.services`: `ctx.services.accounts.bound_account(openid)`. Each service
is a small class given what it needs (its config section, the cipher, the state store, the HTTP
session, the WeChat API client); none reaches for a module global.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

import aiohttp

from bot.config import Settings
from bot.metrics import Metrics
from bot.services.acceptance_points import AcceptancePoints
from bot.services.accounts import Accounts
from bot.services.application_status import ApplicationLifecycle
from bot.services.applications import Applications
from bot.services.endorsements import Endorsements
from bot.services.followers import Followers
from bot.services.logins import Logins
from bot.services.push_sender import PushSender
from bot.services.realname import Realname
from bot.services.receipts import Receipts
from bot.services.reminders import Reminders
from bot.services.residence import Residence
from bot.services.security import FieldCipher
from bot.services.sms import SmsCodes
from bot.services.submissions import Submissions
from bot.services.units import Units
from bot.state import StateStore
from bot.wechat.api import WeChatAPI
from models.rules import Rules


@dataclass(frozen=True, slots=True)
class Services:
    rules: Rules  # the Regulation's thresholds and readings, for the pure rules in models/
    security: FieldCipher  # ID numbers encrypted, hashed for lookup, masked
    accounts: Accounts
    logins: Logins  # the password question of 登录: lockout, guessing at once, floods
    followers: Followers
    units: Units
    residence: Residence
    realname: Realname
    sms: SmsCodes
    acceptance_points: AcceptancePoints
    submissions: Submissions  # what a confirmed form did, once
    receipts: Receipts  # 受理回执 and their signed links
    applications: Applications  # 申领 and 代办: who may apply, the application and its receipt
    application_status: ApplicationLifecycle  # operators move applications along; each change pushed
    push_sender: PushSender  # sends the outbox's due rows, once
    endorsements: Endorsements  # 签注: where a permit stands, Art. 24, the endorsement and its receipt, once
    reminders: Reminders  # the daily scan: a push for each reminder of the day, written once
    wechat: WeChatAPI | None  # None without wechat.app_secret: nothing is sent to WeChat users

    @classmethod
    def build(cls, settings: Settings, store: StateStore, session: aiohttp.ClientSession, metrics: Metrics) -> Services:
        rules = settings.rules.as_rules()
        wechat = WeChatAPI.configured(settings.wechat, session, store)
        accounts = Accounts(settings.accounts)
        security = FieldCipher(settings.security.field_key)
        receipts = Receipts(settings.receipts, settings.server.public_base_url)
        residence = Residence(rules)
        field_key = settings.security.field_key.encode()
        sms_secret = hmac.new(field_key, b"rb-sms-codes", hashlib.sha256).digest()
        login_secret = hmac.new(field_key, b"rb-login-names", hashlib.sha256).digest()
        push_sender = PushSender(
            settings.pushes,
            settings.reminders,
            settings.wechat.templates,
            wechat,
            store,
            metrics,
            queue_url=settings.redis.url,
        )
        return cls(
            rules=rules,
            security=security,
            accounts=accounts,
            logins=Logins(settings.accounts, store, metrics, secret=login_secret),
            followers=Followers(),
            units=Units(accounts),
            residence=residence,
            realname=Realname(settings.realname, session, wechat),
            sms=SmsCodes(
                settings.sms,
                store,
                session,
                development=settings.app.environment == "development",
                secret=sms_secret,
                metrics=metrics,
            ),
            acceptance_points=AcceptancePoints(),
            submissions=Submissions(wake_sender=push_sender.wake),
            receipts=receipts,
            applications=Applications(rules, receipts, residence, settings.applications),
            application_status=ApplicationLifecycle(receipts),
            push_sender=push_sender,
            endorsements=Endorsements(rules, receipts, residence),
            reminders=Reminders(rules, settings.reminders),
            wechat=wechat,
        )
