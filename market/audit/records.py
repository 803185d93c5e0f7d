"""An audit entry as verifiers read it, and whether what is shown beside a leaf is the leaf."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any, NamedTuple

from market.audit.canonical import LeafFields, parse_leaf
from market.audit.merkle import leaf_hash

# Fields of an entry that a reader may be shown beside its leaf; each must agree with the leaf.
SHOWN_FIELDS = ("created_at", "actor", "action", "subject_type", "subject_id", "payload")


class EntryRecord(NamedTuple):
    """One stored audit entry as the verifier needs it (a tuple: readers make millions)."""

    seq: int
    leaf: bytes  # the canonical leaf bytes, exactly as stored and hashed
    leaf_hash: bytes
    mac: bytes | None = None
    mac_key_id: str | None = None
    entry_id: int | None = None
    tree_leaf: bytes | None = None  # the leaf the tree holds at `seq`, when the reader knows it

    @classmethod
    def from_json(cls, data: str | bytes | Mapping[str, Any]) -> EntryRecord:
        """From an export line or an API entry: `seq`, `leaf` (text), `leaf_hash` (hex), and
        `mac`, `mac_key_id`, `id` when present. Fields shown beside the leaf (actor, payload,
        ...) must say what the leaf says, else ValueError."""
        row = json.loads(data) if isinstance(data, str | bytes) else data
        leaf = row["leaf"]
        if not isinstance(leaf, str):
            raise ValueError("leaf must be the entry's canonical JSON text")
        shown = {name: row[name] for name in SHOWN_FIELDS if name in row}
        if shown and (name := _first_disagreeing(parse_leaf(leaf), shown)) is not None:
            raise ValueError(f"the entry's {name} disagrees with its leaf")
        digest, mac = row.get("leaf_hash"), row.get("mac")
        return cls(
            int(row["seq"]),
            leaf.encode("utf-8"),
            bytes.fromhex(digest) if isinstance(digest, str) else bytes(digest or b""),
            bytes.fromhex(mac) if isinstance(mac, str) else None,
            row.get("mac_key_id"),
            row.get("id"),
        )

    def recomputed_leaf_hash(self) -> bytes:
        return leaf_hash(self.leaf)


def _agrees(shown: object, signed: object) -> bool:
    if isinstance(signed, datetime):
        if isinstance(shown, str):
            try:
                shown = datetime.fromisoformat(shown)
            except ValueError:
                return False
        return isinstance(shown, datetime) and shown.tzinfo is not None and shown == signed
    return shown == signed


def _first_disagreeing(signed: LeafFields, shown: Mapping[str, object]) -> str | None:
    """The first of the `shown` fields that does not say what the leaf says, if any."""
    return next((name for name, value in shown.items() if not _agrees(value, getattr(signed, name))), None)


def index_disagreement(leaf: bytes | str, columns: Mapping[str, object]) -> str | None:
    """Why the indexed columns (created_at, actor, action, subject) no longer say what the leaf
    says, if they don't: a changed column would silently steer filters and a trade's history."""
    try:
        signed = parse_leaf(leaf)
    except ValueError as exc:
        return f"the stored leaf cannot be read ({exc})"
    name = _first_disagreeing(signed, columns)
    return None if name is None else f"the {name} column no longer says what the entry says"
