"""Upstream secrets sealed at rest: AES-256-GCM under a key derived from the root secret for this
purpose alone (market.common.keys), bound to the product it belongs to.

A sealed value is `<key id>.<base64 of nonce || ciphertext>`: the key id says which root it was
sealed under, so after a rotation (the old root listed in MARKET_RETIRED_ROOT_SECRETS) it still
opens; the product id is the associated data, so a sealed secret copied onto another product's
row does not open there. The database never holds the key, so a copy of it reveals no secret.
"""

from __future__ import annotations

import base64
import os
import uuid

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from market.common.keys import derive_key, key_id, keyring
from market.settings import Settings

PURPOSE = "gateway-upstream-secret-v1"
_NONCE_BYTES = 12


class SecretUnreadable(RuntimeError):
    """The sealed secret opens under no key this service holds (a root secret was lost)."""


def seal(settings: Settings, product_id: uuid.UUID, secret: str) -> str:
    key = derive_key(settings.root_secrets()[0], PURPOSE)
    nonce = os.urandom(_NONCE_BYTES)
    sealed = AESGCM(key).encrypt(nonce, secret.encode(), product_id.bytes)
    return f"{key_id(key)}.{base64.b64encode(nonce + sealed).decode()}"


def unseal(settings: Settings, product_id: uuid.UUID, sealed: str) -> str:
    kid, _, body = sealed.partition(".")
    key = keyring(settings.root_secrets(), PURPOSE).get(kid)
    if key is None:
        raise SecretUnreadable(f"the upstream secret was sealed under key {kid}, which is not held")
    raw = base64.b64decode(body)
    try:
        return AESGCM(key).decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], product_id.bytes).decode()
    except InvalidTag as exc:
        raise SecretUnreadable("the upstream secret does not open (tampered or moved)") from exc
