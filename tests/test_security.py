from __future__ import annotations

import pytest
from cryptography.exceptions import InvalidTag

from bot.services.security import FieldCipher, hash_password, verify_password
from tests.harness import FIELD_KEY

ID = "440304199001011233"


def test_an_id_number_is_stored_encrypted_hashed_and_masked_never_in_clear():
    protected = FieldCipher(FIELD_KEY).protect_id(ID)
    assert ID not in protected.encrypted and ID not in protected.lookup_hash
    assert protected.masked == "4403**********1233"
    assert FieldCipher(FIELD_KEY).decrypt(protected.encrypted) == ID


def test_encryption_is_randomised_but_the_lookup_hash_is_stable():
    cipher = FieldCipher(FIELD_KEY)
    assert cipher.encrypt(ID) != cipher.encrypt(ID)
    assert cipher.lookup_hash(ID) == FieldCipher(FIELD_KEY).lookup_hash(ID)


def test_another_key_neither_opens_nor_finds():
    other = FieldCipher("b3RoZXIta2V5LW90aGVyLWtleS1vdGhlci1rZXktISE=")
    protected = FieldCipher(FIELD_KEY).protect_id(ID)
    assert other.lookup_hash(ID) != protected.lookup_hash
    with pytest.raises(InvalidTag):
        other.decrypt(protected.encrypted)


async def test_passwords_are_hashed_with_argon2_and_verified():
    hashed = await hash_password("abc12345")
    assert hashed.startswith("$argon2id$") and "abc12345" not in hashed
    assert await verify_password(hashed, "abc12345")
    assert not await verify_password(hashed, "abc12346")
    assert not await verify_password("not a hash", "abc12345")
