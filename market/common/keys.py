"""One root secret, many purpose-bound keys (HKDF-SHA256, RFC 5869).

The service holds a single root secret (`MARKET_ROOT_SECRET`, base64 of at least 32 random
bytes; in embedded mode generated once into `<data dir>/root.key`). Every symmetric key it uses
is derived from it for one named purpose, `derive_key(settings, "audit-entry-mac-v1")`, so
keys for different purposes are independent, a purpose's key can be rotated by rotating the
root (the old root stays listed in `MARKET_RETIRED_ROOT_SECRETS` for as long as data under it
must still be checked), and the database never holds any of them.

`key_id(settings, purpose)` names the current key of a purpose without revealing it (a short
hash of the key), so what was made under which key can be recorded next to it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import secrets
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

if TYPE_CHECKING:
    from market.settings import Settings

ROOT_SECRET_MIN_BYTES = 32
ROOT_KEY_FILE = "root.key"
# Fixed HKDF salt: the root secret is already uniformly random, the salt only separates this
# derivation scheme from any other use of the same secret (RFC 5869 §3.1).
_SALT = b"jilin-data-exchange/keys/v1"


class RootSecretMissing(RuntimeError):
    """No root secret is configured (and none may be generated here)."""


def decode_root_secret(text: str) -> bytes:
    """The bytes of a base64 root secret; ValueError if malformed or shorter than 32 bytes."""
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("the root secret must be base64") from exc
    if len(raw) < ROOT_SECRET_MIN_BYTES:
        raise ValueError(f"the root secret must be at least {ROOT_SECRET_MIN_BYTES} random bytes")
    return raw


def _root_file(data_dir: Path, create: bool) -> bytes:
    key_file = data_dir / ROOT_KEY_FILE
    if not key_file.exists():
        if not create:
            raise RootSecretMissing(f"no MARKET_ROOT_SECRET and no {key_file}")
        write_private(key_file, base64.b64encode(secrets.token_bytes(ROOT_SECRET_MIN_BYTES)).decode())
    return decode_root_secret(key_file.read_text())


def write_private(path: Path, text: str) -> None:
    """Create a secret file, readable by its owner only from the start (never overwrites)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as handle:
        handle.write(text)


def root_secret(settings: Settings, *, create: bool = True) -> bytes:
    """The configured root secret; in embedded mode generated once into the data dir when
    unset (unless `create` is False, as for read-only tools). Production refuses to start
    without one (see `Settings`)."""
    if settings.root_secret:
        return decode_root_secret(settings.root_secret)
    if settings.mode == "production":
        raise RootSecretMissing("MARKET_ROOT_SECRET must be set in production")
    return _root_file(Path(settings.data_dir), create)


@lru_cache(maxsize=256)
def _derive(root: bytes, purpose: str, length: int) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=_SALT, info=purpose.encode()).derive(root)


def _fingerprint(key: bytes) -> str:
    return hashlib.sha256(b"market-key-id\n" + key).hexdigest()[:16]


def derive_key(settings: Settings, purpose: str, length: int = 32) -> bytes:
    """The current key for `purpose` (a stable name such as "audit-entry-mac-v1")."""
    if not purpose:
        raise ValueError("a derived key needs a purpose")
    return _derive(root_secret(settings), purpose, length)


def key_id(settings: Settings, purpose: str, length: int = 32) -> str:
    """16 hex characters naming the current key for `purpose` (a hash of it, not the key)."""
    return _fingerprint(derive_key(settings, purpose, length))


def keyring(
    settings: Settings, purpose: str, length: int = 32, *, create: bool = True
) -> Mapping[str, bytes]:
    """Every key of `purpose` still accepted, by key id: the current root's first, then those
    of the retired roots (so entries made before a rotation still check)."""
    roots = [root_secret(settings, create=create)]
    roots += [decode_root_secret(text) for text in settings.retired_root_secrets]
    ring: dict[str, bytes] = {}
    for root in roots:
        key = _derive(root, purpose, length)
        ring.setdefault(_fingerprint(key), key)
    return ring
