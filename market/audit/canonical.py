"""Canonical JSON and the exact bytes of an audit leaf.

Canonical form: keys sorted, separators `,` and `:` (no insignificant whitespace),
`ensure_ascii=False`, UTF-8, no floats (money is never a float; a float in an audit payload is
a bug). `Decimal` → its string, aware `datetime` → RFC 3339 UTC `YYYY-MM-DDTHH:MM:SS.ffffffZ`,
`UUID` → its string. Writers and the verifier share `entry_leaf_bytes`, so a recomputed leaf
matches a stored one byte for byte.

Leaf bytes (version 1) are exactly `canonical_json` of this object, keys in sorted order:

    {"action": str, "actor": str, "created_at": RFC 3339 UTC, "payload": <the stored canonical
     payload JSON *as a string*>, "subject_id": str, "subject_type": str, "v": 1}

and the Merkle leaf hash is `SHA-256(0x00 || leaf bytes)` (RFC 9162 §2.1.1).
"""

from __future__ import annotations

import enum
import hashlib
import json
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from json.encoder import encode_basestring
from typing import Any

LEAF_VERSION = 1


# One-entry cache of the "YYYY-MM-DDTHH:MM:" prefix: log entries arrive in time order, so most
# share the previous entry's minute, and isoformat() costs more than hashing the whole leaf.
# Key and prefix live in one tuple, so a race between threads can only cause a miss.
_minute_cache: tuple[tuple[int, int, int, int, int] | None, str] = (None, "")


def rfc3339_utc(value: datetime) -> str:
    """`YYYY-MM-DDTHH:MM:SS.ffffffZ`, always with microseconds; refuses naive datetimes."""
    global _minute_cache
    if value.tzinfo is not UTC:
        if value.tzinfo is None or value.utcoffset() is None:
            raise TypeError("naive datetime in canonical JSON: use timezone-aware UTC")
        value = value.astimezone(UTC)
    key = (value.minute, value.hour, value.day, value.month, value.year)
    cached_key, prefix = _minute_cache
    if key != cached_key:
        # isoformat pads the year to four digits (strftime("%Y") does not, below 1000).
        prefix = value.isoformat()[:17]
        _minute_cache = (key, prefix)
    # %-formatting: measurably faster than an f-string with format specs on this hot path.
    return "%s%02d.%06dZ" % (prefix, value.second, value.microsecond)  # noqa: UP031


def _normalise(value: Any) -> Any:
    if isinstance(value, bool) or value is None or isinstance(value, int | str):
        return value
    if isinstance(value, float):
        raise TypeError("floats are not allowed in canonical JSON: use Decimal or integer minor units")
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return rfc3339_utc(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, enum.Enum):
        return _normalise(value.value)
    if isinstance(value, dict):
        return {str(k): _normalise(v) for k, v in value.items()}
    if isinstance(value, set | frozenset):
        return sorted(_normalise(v) for v in value)
    if isinstance(value, list | tuple):
        return [_normalise(v) for v in value]
    if hasattr(value, "model_dump"):
        return _normalise(value.model_dump(mode="python"))
    raise TypeError(f"cannot put {type(value).__name__} into canonical JSON")


def canonical_json(obj: Any) -> bytes:
    """The one canonical serialisation (see the module docstring); raises TypeError on floats."""
    return json.dumps(_normalise(obj), sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8"
    )


# The leaf object has a fixed shape, so instead of building a dict and running the generic
# encoder (≈10 µs) we fill a template whose keys are already in sorted order and quote each
# string with the same C routine json.dumps(ensure_ascii=False) uses: byte-identical output
# (asserted by property tests against canonical_json), several times faster. The verifier
# spends most of its time here. `encode_basestring` raises TypeError on a non-str, so a wrong
# type can never be silently serialised differently from canonical_json.
_LEAF_TEMPLATE = (
    '{"action":%s,"actor":%s,"created_at":"%s%02d.%06dZ","payload":%s,'
    '"subject_id":%s,"subject_type":%s,"v":' + str(LEAF_VERSION) + "}"
)
# The same with the RFC 9162 leaf prefix 0x00 in front, so hashing needs no extra concatenation.
LEAF_INPUT_TEMPLATE = "\x00" + _LEAF_TEMPLATE


def entry_leaf_input(
    created_at: datetime,
    actor: str,
    action: str,
    subject_type: str,
    subject_id: str,
    payload_json: str,
) -> bytes:
    """`0x00 || leaf bytes`: the exact input of the leaf's SHA-256. Writers and the verifier
    both go through this one function (positional arguments: it is the verifier's hot path)."""
    if created_at.tzinfo is not UTC:
        if created_at.tzinfo is None or created_at.utcoffset() is None:
            raise TypeError("naive datetime in canonical JSON: use timezone-aware UTC")
        created_at = created_at.astimezone(UTC)
    # rfc3339_utc inlined (a call costs ~10% of this function), sharing its minute cache.
    global _minute_cache
    key = (created_at.minute, created_at.hour, created_at.day, created_at.month, created_at.year)
    cached_key, prefix = _minute_cache
    if key != cached_key:
        prefix = created_at.isoformat()[:17]
        _minute_cache = (key, prefix)
    q = encode_basestring
    return (
        LEAF_INPUT_TEMPLATE
        % (
            q(action),
            q(actor),
            prefix,
            created_at.second,
            created_at.microsecond,
            q(payload_json),
            q(subject_id),
            q(subject_type),
        )
    ).encode("utf-8")


def entry_leaf_hash(
    created_at: datetime,
    actor: str,
    action: str,
    subject_type: str,
    subject_id: str,
    payload_json: str,
) -> bytes:
    """The entry's Merkle leaf hash, SHA-256(0x00 || leaf bytes)."""
    return hashlib.sha256(
        entry_leaf_input(created_at, actor, action, subject_type, subject_id, payload_json)
    ).digest()


def entry_leaf_bytes(
    *,
    created_at: datetime,
    actor: str,
    action: str,
    subject_type: str,
    subject_id: str,
    payload_json: str,
) -> bytes:
    """The bytes hashed into an entry's Merkle leaf (leaf hash = SHA-256(0x00 || these)).

    The payload is embedded as its stored canonical text, so verification never re-parses it.
    The sequence number is deliberately not part of the leaf: it is assigned later by the
    sequencer, and the order is protected by the tree itself.
    """
    return entry_leaf_input(created_at, actor, action, subject_type, subject_id, payload_json)[1:]


def entry_leaf_bytes_reference(
    *,
    created_at: datetime,
    actor: str,
    action: str,
    subject_type: str,
    subject_id: str,
    payload_json: str,
) -> bytes:
    """The leaf defined through the generic canonical_json: the specification the fast path
    must equal (tests compare them); not used on any hot path."""
    for name, text in (
        ("actor", actor),
        ("action", action),
        ("subject_type", subject_type),
        ("subject_id", subject_id),
        ("payload_json", payload_json),
    ):
        if not isinstance(text, str):
            raise TypeError(f"{name} must be a str, not {type(text).__name__}")
    return canonical_json(
        {
            "v": LEAF_VERSION,
            "created_at": created_at,
            "actor": actor,
            "action": action,
            "subject_type": subject_type,
            "subject_id": subject_id,
            "payload": payload_json,
        }
    )
