"""The callback endpoint's protocol work: verify, decrypt and parse a push; encode the reply.

Order: signature or msg_signature (constant time) → freshness → decrypt → AppID → parse. A
rejected request raises `Rejected` with its HTTP status, and nothing of it is kept.

Replay memory: in plain mode the signature covers only timestamp and nonce, so one captured query
string would carry any body, as any user, for as long as its timestamp is fresh. Each signed query
is therefore remembered, in the state store (shared by every process), with a hash of its body
until its timestamp is no longer fresh (`Decoded.seen`, remembered by the dedup claim in the same
round trip, bot/state/): the same query with the same body is WeChat retrying, which the claim
answers as one; with another body it is refused (403). Only a correctly signed and well-formed
push gets that far, so a forged one cannot spoil the genuine delivery, and a refused one leaves
nothing behind.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from bot.config import WeChatConfig
from bot.state.base import Seen
from bot.wechat.crypto import DecryptError, ForeignAppError, MessageCrypto
from bot.wechat.message import Incoming, MalformedMessage, parse_message, parse_xml
from bot.wechat.signature import signature_ok

log = logging.getLogger(__name__)

# How long a signed query is remembered when max_clock_skew_s is 0 (no freshness check, which
# only development allows): replays after that are not caught.
UNCHECKED_REPLAY_WINDOW_S = 300


class Rejected(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Decoded:
    incoming: Incoming
    encrypted: bool  # the push came encrypted: so goes the reply
    key_index: int
    nonce: str
    seen: Seen  # the signed query, for the replay memory


class Callback:
    def __init__(self, config: WeChatConfig, clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self.clock = clock
        keys = (config.encoding_aes_key, config.previous_encoding_aes_key)
        self.crypto = MessageCrypto(config.token, config.app_id, keys) if config.encoding_aes_key else None

    def verify_url(self, query: Mapping[str, str]) -> str:
        """GET check: the echostr to send back."""
        signature, timestamp, nonce, echostr = (query.get(k) for k in ("signature", "timestamp", "nonce", "echostr"))
        if not (signature and timestamp and nonce and echostr):
            raise Rejected(403, "missing signature parameters")
        if not signature_ok(signature, self.config.token, timestamp, nonce):
            raise Rejected(403, "bad signature")
        return echostr

    def decode(self, query: Mapping[str, str], body: bytes) -> Decoded:
        timestamp, nonce, signature = (query.get(k, "") for k in ("timestamp", "nonce", "signature"))
        encrypted = query.get("encrypt_type", "raw") == "aes"
        msg_signature = query.get("msg_signature", "")
        # Encrypted pushes are authenticated by msg_signature (the guide says not to rely on
        # `signature` there); a `signature` that comes along must still be right.
        if not (timestamp and nonce and (msg_signature if encrypted else signature)):
            missing = "msg_signature" if encrypted else "signature"
            raise Rejected(400, f"missing timestamp, nonce or {missing}")
        if signature and not signature_ok(signature, self.config.token, timestamp, nonce):
            raise Rejected(403, "bad signature")
        if not encrypted:
            # In compatible mode WeChat encrypts every push; a plaintext one is not from WeChat.
            if self.config.mode != "plain":
                raise Rejected(403, f"{self.config.mode} mode accepts only encrypted pushes")
            self._check_fresh(timestamp)
            return Decoded(self._parse(body), False, 0, nonce, self._seen(timestamp, nonce, signature, body))

        if self.crypto is None:
            raise Rejected(403, "encrypted push, but no encoding_aes_key is configured")
        try:
            encrypt = parse_xml(body).get("Encrypt")
        except MalformedMessage as exc:
            raise Rejected(400, f"malformed XML: {exc}") from None
        if not isinstance(encrypt, str) or not encrypt:
            raise Rejected(400, "missing Encrypt")
        if not self.crypto.signature_ok(msg_signature, timestamp, nonce, encrypt):
            raise Rejected(403, "bad msg_signature")
        self._check_fresh(timestamp)
        try:
            xml, key_index = self.crypto.decrypt(encrypt)
        except ForeignAppError:
            raise Rejected(403, "message encrypted for another AppID") from None
        except DecryptError:
            raise Rejected(400, "Encrypt cannot be decrypted") from None
        return Decoded(self._parse(xml), True, key_index, nonce, self._seen(timestamp, nonce, msg_signature, body))

    def _check_fresh(self, timestamp: str) -> None:
        if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
            raise Rejected(400, "timestamp is not a number")
        skew = self.config.max_clock_skew_s
        if skew and abs(self.clock() - int(timestamp)) > skew:
            raise Rejected(403, "timestamp too far from now")

    def _seen(self, timestamp: str, nonce: str, signature: str, body: bytes) -> Seen:
        """The signed query and its body's hash, kept until the timestamp is no longer fresh (at
        most 2 × skew for one from the future)."""
        skew = self.config.max_clock_skew_s
        ttl_s = max(1, int(timestamp) + skew - int(self.clock()) + 1) if skew else UNCHECKED_REPLAY_WINDOW_S
        return Seen(f"callback:{timestamp}:{nonce}:{signature}", hashlib.sha256(body).hexdigest(), ttl_s)

    def encode(self, decoded: Decoded, reply_xml: str) -> str:
        """The response body: '' stays '' (no reply); encrypted pushes get encrypted replies."""
        if not reply_xml or not decoded.encrypted:
            return reply_xml
        assert self.crypto is not None
        return self.crypto.encrypt_reply(reply_xml, decoded.nonce, decoded.key_index)

    @staticmethod
    def _parse(xml: bytes | str) -> Incoming:
        try:
            return parse_message(xml)
        except MalformedMessage as exc:
            raise Rejected(400, f"malformed XML: {exc}") from None
