"""One root secret, many purpose-bound keys (HKDF-SHA256, RFC 5869).

The service holds a single root secret (`MARKET_ROOT_SECRET`, base64 of at least 32 random
bytes; in embedded mode generated once into `<data dir>/root.key`, see
`Settings.root_secrets`). Every symmetric key it uses is derived from it for one named purpose,
`derive_key(root, "audit-entry-mac-v1")`, so keys for different purposes are independent, a
purpose's key can be rotated by rotating the root (the old root stays listed in
`MARKET_RETIRED_ROOT_SECRETS` for as long as data under it must still be checked), and the
database never holds any of them.

`key_id(key)` names a key without revealing it (a short hash of the key), so what was made
under which key can be recorded next to it.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import os
import secrets
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

ROOT_SECRET_MIN_BYTES = 32
# Fixed HKDF salt: the root secret is already uniformly random, the salt only separates this
# derivation scheme from any other use of the same secret (RFC 5869 §3.1).
_SALT = b"jilin-data-exchange/keys/v1"


class RootSecretMissing(LookupError):
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


def write_private(path: Path, text: str) -> None:
    """Create a secret file, readable by its owner only from the start (never overwrites)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as handle:
        handle.write(text)


def read_or_create_secret(path: Path, *, create: bool = True) -> str:
    """The base64 secret in `path`; if there is none, 32 new random bytes written there first
    (unless `create` is False: RootSecretMissing). Processes starting together on one data
    directory agree: the file appears whole (written aside, then linked into place) and the
    first one to link it wins."""
    if not path.exists():
        if not create:
            raise RootSecretMissing(f"no secret at {path}")
        aside = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
        write_private(aside, base64.b64encode(secrets.token_bytes(ROOT_SECRET_MIN_BYTES)).decode())
        try:
            with contextlib.suppress(FileExistsError):  # another process made it first: use theirs
                os.link(aside, path)
        finally:
            aside.unlink()
    return path.read_text()


@lru_cache(maxsize=256)
def derive_key(root: bytes, purpose: str, length: int = 32) -> bytes:
    """The key for `purpose` (a stable name such as "audit-entry-mac-v1") under `root`."""
    if not purpose:
        raise ValueError("a derived key needs a purpose")
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=_SALT, info=purpose.encode()).derive(root)


@lru_cache(maxsize=256)
def key_id(key: bytes) -> str:
    """16 hex characters naming `key` (a hash of it, not the key)."""
    return hashlib.sha256(b"market-key-id\n" + key).hexdigest()[:16]


def keyring(roots: Sequence[bytes], purpose: str, length: int = 32) -> Mapping[str, bytes]:
    """Every key of `purpose` still accepted, by key id: the current root's first, then those
    of the retired roots (so what was made before a rotation still checks)."""
    return _keyring(tuple(roots), purpose, length)


@lru_cache(maxsize=256)
def _keyring(roots: tuple[bytes, ...], purpose: str, length: int) -> Mapping[str, bytes]:
    ring: dict[str, bytes] = {}
    for root in roots:
        key = derive_key(root, purpose, length)
        ring.setdefault(key_id(key), key)
    return MappingProxyType(ring)  # shared by every caller: read-only
