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
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from market.common.keys import RootSecretMissing, keyring

if TYPE_CHECKING:
    from market.settings import Settings

PURPOSE = "audit-entry-mac-v1"
WRITER_KEY = "audit_entry_key"  # the key in Session.info under which writers find their key


@dataclass(frozen=True)
class EntryKeyring:
    """The audit MAC keys by id; the first is the one writers use now."""

    keys: Mapping[str, bytes]

    @property
    def current_id(self) -> str:
        return next(iter(self.keys))

    def mac(self, leaf: bytes) -> tuple[str, bytes]:
        """(key id, MAC) of a new entry's leaf under the current key."""
        key_id = self.current_id
        return key_id, hmac.digest(self.keys[key_id], leaf, "sha256")

    def verifies(self, key_id: str | None, leaf: bytes, mac: bytes | None) -> bool:
        key = self.keys.get(key_id or "")
        return (
            key is not None and mac is not None and hmac.compare_digest(hmac.digest(key, leaf, "sha256"), mac)
        )


def entry_keyring(settings: Settings, *, create: bool = True) -> EntryKeyring:
    return EntryKeyring(keyring(settings, PURPOSE, create=create))


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
