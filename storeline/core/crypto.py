"""Credential encryption at rest: AES-256-GCM with a key id stored beside each ciphertext.

The row's identity (shop, platform) is bound as associated data, so a ciphertext copied onto another
row does not decrypt. Keys rotate by listing a new key first in STORELINE_ENCRYPTION_KEYS; rows keep
their key id and are re-encrypted on next save.
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from typing import Any

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from storeline.core.errors import ConfigError
from storeline.core.settings import crypto_settings

_NONCE = 12


@dataclass(frozen=True)
class Sealed:
    key_id: str
    ciphertext: bytes  # nonce || AES-GCM output


def generate_key(key_id: str = "k1") -> str:
    """A fresh `kid:base64` entry for STORELINE_ENCRYPTION_KEYS."""
    return f"{key_id}:{base64.urlsafe_b64encode(os.urandom(32)).decode()}"


def _aad(shop_id: str, platform: str) -> bytes:
    return f"storeline:{shop_id}:{platform}".encode()


def seal(secrets: dict[str, Any], *, shop_id: str, platform: str) -> Sealed:
    keyring = crypto_settings().keyring()
    key_id, key = next(iter(keyring.items()))
    nonce = os.urandom(_NONCE)
    blob = AESGCM(key).encrypt(nonce, orjson.dumps(secrets), _aad(shop_id, platform))
    return Sealed(key_id, nonce + blob)


def unseal(sealed: Sealed, *, shop_id: str, platform: str) -> dict[str, Any]:
    keyring = crypto_settings().keyring()
    key = keyring.get(sealed.key_id)
    if key is None:
        raise ConfigError(
            f"credential for {shop_id}/{platform} was encrypted with key {sealed.key_id!r}, "
            "which is not in STORELINE_ENCRYPTION_KEYS"
        )
    nonce, blob = sealed.ciphertext[:_NONCE], sealed.ciphertext[_NONCE:]
    try:
        plain = AESGCM(key).decrypt(nonce, blob, _aad(shop_id, platform))
    except InvalidTag:
        raise ConfigError(f"credential for {shop_id}/{platform} does not decrypt") from None
    value = orjson.loads(plain)
    assert isinstance(value, dict)
    return value
