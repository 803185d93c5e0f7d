"""Upstream secrets sealed at rest: AES-256-GCM under the keyring's key for this purpose alone
(`market.keyring.UPSTREAM_SECRETS`, HKDF from the root secret), bound to the product it belongs to.

A sealed value is `<key id>.<base64 of nonce || ciphertext>`: the key id says which root it was
sealed under, so after a rotation (the old root listed in MARKET_RETIRED_ROOT_SECRETS) it still
opens; the product id is the associated data, so a sealed secret copied onto another product's
row does not open there. The database never holds the key, so a copy of it reveals no secret.

Secrets sealed before the keyring named this purpose were sealed under a key the gateway derived
for itself (`LEGACY_PURPOSE`); their key ids differ from the keyring's, so they still open, found
by key id, and are sealed anew under the keyring's key when the seller next sets the secret.
"""

from __future__ import annotations

import base64
import os
import uuid

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from market import keyring
from market.common.keys import keyring as keys_of
from market.settings import Settings

LEGACY_PURPOSE = "gateway-upstream-secret-v1"
_NONCE_BYTES = 12


class SecretUnreadable(RuntimeError):
    """The sealed secret opens under no key this service holds (a root secret was lost)."""


def seal(settings: Settings, product_id: uuid.UUID, secret: str) -> str:
    kid, key = keyring.current_key(settings, keyring.UPSTREAM_SECRETS)
    nonce = os.urandom(_NONCE_BYTES)
    sealed = AESGCM(key).encrypt(nonce, secret.encode(), product_id.bytes)
    return f"{kid}.{base64.b64encode(nonce + sealed).decode()}"


def unseal(settings: Settings, product_id: uuid.UUID, sealed: str) -> str:
    kid, _, body = sealed.partition(".")
    key = keyring.accepted_keys(settings, keyring.UPSTREAM_SECRETS).get(kid) or keys_of(
        keyring.roots(settings), LEGACY_PURPOSE
    ).get(kid)
    if key is None:
        raise SecretUnreadable(f"the upstream secret was sealed under key {kid}, which is not held")
    raw = base64.b64decode(body)
    try:
        return AESGCM(key).decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], product_id.bytes).decode()
    except InvalidTag as exc:
        raise SecretUnreadable("the upstream secret does not open (tampered or moved)") from exc
