"""Personal data at rest: ID numbers encrypted and found by keyed hash; passwords hashed.

An ID number is stored three ways, none of them in clear: AES-GCM ciphertext (to show it to
its owner or an operator), an HMAC (to find an account by ID number), and the masked form.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import os
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from bot.text import masked_id


@dataclass(frozen=True, slots=True)
class ProtectedId:
    encrypted: str
    lookup_hash: str
    masked: str


class FieldCipher:
    def __init__(self, field_key: str) -> None:
        key = base64.urlsafe_b64decode(field_key.encode())
        # Separate subkeys: the lookup hash must not be usable to forge or open ciphertexts.
        self._aead = AESGCM(hmac.new(key, b"rb-field-encryption", hashlib.sha256).digest())
        self._mac_key = hmac.new(key, b"rb-field-lookup", hashlib.sha256).digest()

    def protect_id(self, id_number: str) -> ProtectedId:
        return ProtectedId(self.encrypt(id_number), self.lookup_hash(id_number), masked_id(id_number))

    def encrypt(self, value: str) -> str:
        nonce = os.urandom(12)
        return base64.urlsafe_b64encode(nonce + self._aead.encrypt(nonce, value.encode(), None)).decode()

    def decrypt(self, token: str) -> str:
        raw = base64.urlsafe_b64decode(token.encode())
        return self._aead.decrypt(raw[:12], raw[12:], None).decode()

    def lookup_hash(self, value: str) -> str:
        return hmac.new(self._mac_key, value.encode(), hashlib.sha256).hexdigest()


_hasher = PasswordHasher()


async def hash_password(password: str) -> str:
    # argon2 is deliberately slow and memory-hard: off the event loop.
    return await asyncio.to_thread(_hasher.hash, password)


async def verify_password(password_hash: str, password: str) -> bool:
    def check() -> bool:
        try:
            return _hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(check)
