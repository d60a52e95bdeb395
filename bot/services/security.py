"""Personal data at rest: ID numbers encrypted and found by keyed hash; passwords hashed.

An ID number is stored three ways, none of them in clear: AES-GCM ciphertext (to show it to
its owner or an operator), an HMAC (to find an account by ID number), and the masked form.

Passwords are hashed with argon2 in a pool of their own, HASH_WORKERS threads for the whole
process, with at most HASH_MAX_WAITING more waiting; beyond that a hash is refused at once
(PasswordsBusy). An argon2 hash takes a core and 64 MiB for a fifth of a second: in asyncio's
default executor, thirty logins at once took every thread of it (and 2 GiB), and whatever else
used it, a real-name photo being saved for one, waited behind them.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import os
import secrets
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from typing import TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from bot.services.errors import Told
from bot.text import masked_id

T = TypeVar("T")

HASH_WORKERS = 2
# A hash takes 0.2-0.5 s on two busy cores: four waiting keeps the last within the reply budget (4 s).
HASH_MAX_WAITING = 4
BUSY = "现在登录的人比较多，请过一会儿再发一次（这次不算输错）。"


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


class PasswordsBusy(Told):
    """The password pool is full: nothing was hashed or checked."""


class _Pool:
    """The process's password threads. One for the process however many apps it runs (tests run
    many): the bound is the machine's cores and memory, not an app's."""

    def __init__(self, workers: int, max_waiting: int) -> None:
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="argon2")
        self._limit = workers + max_waiting
        self._taken = 0  # running or waiting; only event-loop code touches it, never a pool thread

    async def run(self, work: Callable[[], T]) -> T:
        if self._taken >= self._limit:
            raise PasswordsBusy(BUSY)
        self._taken += 1
        try:
            # argon2 is deliberately slow and memory-hard: off the event loop, in the pool.
            return await asyncio.get_running_loop().run_in_executor(self._executor, work)
        finally:
            self._taken -= 1


_pool = _Pool(HASH_WORKERS, HASH_MAX_WAITING)


async def hash_password(password: str) -> str:
    """The argon2 hash (PasswordsBusy when the pool is full)."""
    return await _pool.run(lambda: _hasher.hash(password))


async def verify_password(password_hash: str, password: str) -> bool:
    """Whether the password matches the hash (PasswordsBusy when the pool is full)."""
    return await _pool.run(lambda: _verify(password_hash, password))


async def verify_nothing(password: str) -> bool:
    """What checking a password costs, for a username with no account: False, after the same work
    as a wrong password's, so the time taken does not tell the two apart."""
    return await _pool.run(lambda: _verify(_dummy_hash(), password) and False)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@cache
def _dummy_hash() -> str:
    # Made on first use, in the pool (a fifth of a second not spent by every command at start-up),
    # with the parameters real hashes are made with.
    return _hasher.hash(secrets.token_urlsafe(16))
