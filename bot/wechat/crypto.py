"""Message encryption (compatible and safe modes) on wechatpy's AES cipher.

The current EncodingAESKey is tried first, then the previous one (the console lets an operator
change it); a reply is encrypted with the key that opened the request. Decryption checks the
32-byte PKCS#7 padding and the AppID, which wechatpy's own `_decrypt` does not.
"""

from __future__ import annotations

import base64
import re
import secrets
import time

from wechatpy.crypto import PrpCrypto
from wechatpy.crypto.cryptography import WeChatCipher

from bot.wechat.signature import sign, signature_ok

_PLAIN_NONCE = re.compile(r"[0-9A-Za-z_-]{1,64}")


class DecryptError(Exception):
    """The Encrypt value could not be opened with any configured key."""


class ForeignAppError(Exception):
    """The message decrypted, but was encrypted for another AppID."""


class MessageCrypto:
    def __init__(self, token: str, app_id: str, keys: tuple[str, ...]) -> None:
        self.token = token
        self.app_id = app_id
        aes_keys = tuple(_aes_key(k) for k in keys if k)
        # Built once per key: a Cipher serves every message (each call takes its own encryptor).
        self._prps = tuple(PrpCrypto(k) for k in aes_keys)
        self._ciphers = tuple(WeChatCipher(k) for k in aes_keys)

    def signature_ok(self, msg_signature: str, timestamp: str, nonce: str, encrypt: str) -> bool:
        return signature_ok(msg_signature, self.token, timestamp, nonce, encrypt)

    def decrypt(self, encrypt: str) -> tuple[str, int]:
        """Return the plaintext XML and the index of the key that opened it."""
        try:
            raw = base64.b64decode(encrypt, validate=True)
        except ValueError:  # binascii.Error, or ValueError itself for a str that is not ASCII
            raise DecryptError from None
        if not raw or len(raw) % 32:
            raise DecryptError
        foreign = False
        for index, cipher in enumerate(self._ciphers):
            opened = _open(cipher, raw)
            if opened is None:
                continue
            xml, app_id = opened
            if app_id == self.app_id.encode():
                return xml, index
            foreign = True
        raise ForeignAppError if foreign else DecryptError

    def encrypt_reply(self, xml: str, nonce: str, key_index: int = 0, timestamp: str | None = None) -> str:
        # The request's nonce is echoed as the guide does, unless it could not stand in XML as it
        # is (a control character, say): any nonce will do (PROTOCOL.md §6).
        if not _PLAIN_NONCE.fullmatch(nonce):
            nonce = str(secrets.randbelow(10**10))
        encrypt = self._prps[key_index].encrypt(xml, self.app_id).decode()
        timestamp = timestamp or str(int(time.time()))
        signature = sign(self.token, timestamp, nonce, encrypt)
        return (
            f"<xml><Encrypt><![CDATA[{encrypt}]]></Encrypt>"
            f"<MsgSignature><![CDATA[{signature}]]></MsgSignature>"
            f"<TimeStamp>{timestamp}</TimeStamp>"
            f"<Nonce><![CDATA[{cdata(nonce)}]]></Nonce></xml>"
        )


def _open(cipher: WeChatCipher, raw: bytes) -> tuple[str, bytes] | None:
    """random(16) ‖ len(4, big-endian) ‖ xml ‖ appid, padded to 32 bytes; None if it isn't."""
    plain = cipher.decrypt(raw)
    pad = plain[-1]
    if not 1 <= pad <= 32 or plain[-pad:] != bytes([pad]) * pad:
        return None
    body = plain[16:-pad]
    if len(body) < 4:
        return None
    length = int.from_bytes(body[:4], "big")
    if length > len(body) - 4:
        return None
    try:
        return body[4 : 4 + length].decode("utf-8"), body[4 + length :]
    except UnicodeDecodeError:
        return None


def _aes_key(encoding_aes_key: str) -> bytes:
    key = base64.b64decode(encoding_aes_key + "=")
    if len(key) != 32:
        raise ValueError("EncodingAESKey must decode to 32 bytes")
    return key


def cdata(value: str) -> str:
    """Make a value safe inside <![CDATA[...]]>: split any ']]>'."""
    return value.replace("]]>", "]]]]><![CDATA[>")
