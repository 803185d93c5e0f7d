"""The service's purpose keys (issue 18, findings 4 and 6), each derived from the root secret
with HKDF (`market.common.keys`) and named by a key id, so that:

- a key for one purpose reveals nothing about another's (token signing, identity hashing,
  signed download URLs, quote seals, upstream secrets);
- rotating the root (the old one listed in `MARKET_RETIRED_ROOT_SECRETS`) makes new things under
  the new keys while what was made under the old ones still verifies, found by its key id;
- nothing of the keys is in the source or the database: the embedded default generates its root
  secret into the data directory on first start, and production refuses to start without one.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

from market.common.keys import derive_key, key_id, keyring
from market.settings import Settings

ACCESS_TOKENS = "access-token-signing-v1"
IDENTITY_HASHES = "identity-hash-v1"
SIGNED_URLS = "signed-url-v1"
QUOTE_SEALS = "quote-seal-v1"
UPSTREAM_SECRETS = "upstream-secret-encryption-v1"


def roots(settings: Settings) -> tuple[bytes, ...]:
    """The current root secret, then the retired ones."""
    return tuple(settings.root_secrets())


def current_key(settings: Settings, purpose: str) -> tuple[str, bytes]:
    """(key id, key) of `purpose` under the current root: what new things are made with."""
    key = derive_key(roots(settings)[0], purpose)
    return key_id(key), key


def accepted_keys(settings: Settings, purpose: str) -> Mapping[str, bytes]:
    """Every key of `purpose` still accepted, by key id (current first)."""
    return keyring(roots(settings), purpose)


def mac(key: bytes, message: bytes) -> str:
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def sign(settings: Settings, purpose: str, message: bytes) -> tuple[str, str]:
    """(key id, hex HMAC-SHA256 of `message`) under the current key of `purpose`."""
    kid, key = current_key(settings, purpose)
    return kid, mac(key, message)


def verify(settings: Settings, purpose: str, kid: str, message: bytes, tag: str) -> bool:
    key = accepted_keys(settings, purpose).get(kid)
    # bytes: compare_digest refuses str holding non-ASCII characters, and any input may hold them
    return key is not None and hmac.compare_digest(mac(key, message).encode(), tag.encode())
