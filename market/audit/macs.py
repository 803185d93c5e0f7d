"""Entry MACs: who wrote an entry is authenticated by a key the database never holds.

Each writer computes `HMAC-SHA256(key, leaf bytes)` with the audit key derived from the
service's root secret (`market.common.keys`, purpose `audit-entry-mac-v1`) and stores it with
the key's id. Whoever can only write to the database cannot make a MAC that verifies, so the
sequencer refuses (quarantines) an entry inserted behind the service's back, and a verifier
holding the key names every entry whose content was changed, even when its hashes and the
tree were rewritten to match.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from market.common.keys import RootSecretMissing, keyring

if TYPE_CHECKING:
    from market.settings import Settings

PURPOSE = "audit-entry-mac-v1"
WRITER_KEY = "audit_entry_key"  # the key in Session.info under which writers find their key


class HmacSha256:
    """HMAC-SHA256 (RFC 2104) under one key, with the keyed inner and outer states computed
    once: about half the cost of `hmac.digest` per message, which verifiers feel."""

    __slots__ = ("_inner", "_outer")

    def __init__(self, key: bytes) -> None:
        if len(key) > 64:
            key = hashlib.sha256(key).digest()
        block = key.ljust(64, b"\0")
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in block))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in block))

    def __call__(self, message: bytes) -> bytes:
        inner = self._inner.copy()
        inner.update(message)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.digest()


def macers(keys: Mapping[str, bytes]) -> dict[str, HmacSha256]:
    return {key_id: HmacSha256(key) for key_id, key in keys.items()}


@dataclass(frozen=True)
class EntryKeyring:
    """The audit MAC keys by id; the first is the one writers use now."""

    keys: Mapping[str, bytes]

    @property
    def current_id(self) -> str:
        return next(iter(self.keys))

    @functools.cached_property
    def _macers(self) -> dict[str, HmacSha256]:
        return macers(self.keys)

    def mac(self, leaf: bytes) -> tuple[str, bytes]:
        """(key id, MAC) of a new entry's leaf under the current key."""
        key_id = self.current_id
        return key_id, self._macers[key_id](leaf)

    def verifies(self, key_id: str | None, leaf: bytes, mac: bytes | None) -> bool:
        macer = self._macers.get(key_id or "")
        return macer is not None and mac is not None and hmac.compare_digest(macer(leaf), mac)


def entry_keyring(settings: Settings, *, create: bool = True) -> EntryKeyring:
    return EntryKeyring(keyring(settings.root_secrets(create=create), PURPOSE))


def optional_keyring(settings: Settings) -> EntryKeyring | None:
    """The keyring if a root secret exists (read-only tools never create one)."""
    try:
        return entry_keyring(settings, create=False)
    except RootSecretMissing:
        return None


def session_info(settings: Settings) -> dict[str, Any]:
    """What an app's sessions carry so that `market.audit.log.record` can MAC its entries: the
    keyring, read (or, in embedded mode, created) when the first entry is written."""
    return {WRITER_KEY: functools.cache(lambda: entry_keyring(settings))}
