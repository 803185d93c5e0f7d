"""Canonical JSON and the exact bytes of an audit leaf.

Canonical form: keys sorted, separators `,` and `:` (no insignificant whitespace),
`ensure_ascii=False`, UTF-8, no floats (money is never a float; a float in an audit payload is
a bug). `Decimal` → its string, aware `datetime` → RFC 3339 UTC `YYYY-MM-DDTHH:MM:SS.ffffffZ`,
`UUID` → its string.

An entry's leaf is written once, by the writer, and stored verbatim (`audit_entries.leaf`);
readers parse it and verifiers hash it, so nothing ever has to be re-serialised to be checked.
Leaf bytes (version 3) are exactly `canonical_json` of

    {"action": str, "actor": str, "created_at": RFC 3339 UTC, "nonce": 24 hex digits,
     "payload": {the payload}, "subject_id": str, "subject_type": str, "v": 3}

and the Merkle leaf hash is `SHA-256(0x00 || leaf bytes)` (RFC 9162 §2.1.1). The nonce (random)
makes every entry's leaf unique, so a copy of a genuine entry inserted again is refused by the
unique leaf hash instead of being logged twice. Version 2 leaves are the same without a nonce;
version 1 leaves (written before the leaf was stored) also carry the payload as its canonical
JSON *text* (a string); `parse_leaf` reads all three.
"""

from __future__ import annotations

import enum
import json
import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pydantic_core

LEAF_VERSION = 3
NONCE_BYTES = 12


def rfc3339_utc(value: datetime) -> str:
    """`YYYY-MM-DDTHH:MM:SS.ffffffZ`, always with microseconds; refuses naive datetimes."""
    if value.tzinfo is UTC:
        return value.isoformat(timespec="microseconds")[:-6] + "Z"  # less its "+00:00"
    if value.tzinfo is None or value.utcoffset() is None:
        raise TypeError("naive datetime in canonical JSON: use timezone-aware UTC")
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


# What JSON takes as it is, by exact type: checked first, as nearly every value is one of these
# (issue 21: every audit entry and quote digest is canonical JSON). Subclasses (a StrEnum, say)
# take the general path below.
_AS_IS = frozenset({str, int, bool, type(None)})


def _sorted(value: dict[str, Any]) -> dict[str, Any]:
    return {key: value[key] for key in sorted(value)}


def _normalise(value: Any) -> Any:
    """`value` as JSON's own types, every object's keys in sorted order."""
    kind = type(value)
    if kind in _AS_IS:
        return value
    if kind is dict:
        return _sorted({str(k): _normalise(v) for k, v in value.items()})
    if kind is list or kind is tuple:
        return [_normalise(v) for v in value]
    return _normalise_other(value)


def _normalise_other(value: Any) -> Any:
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
        return _sorted({str(k): _normalise(v) for k, v in value.items()})
    if isinstance(value, set | frozenset):
        return sorted(_normalise(v) for v in value)
    if isinstance(value, list | tuple):
        return [_normalise(v) for v in value]
    if hasattr(value, "model_dump"):
        return _normalise(value.model_dump(mode="python"))
    raise TypeError(f"cannot put {type(value).__name__} into canonical JSON")


def canonical_json(obj: Any) -> bytes:
    """The one canonical serialisation (see the module docstring); raises TypeError on floats."""
    return _serialised(_normalise(obj))


def _serialised(normalised: Any) -> bytes:
    """A `_normalise`d value's canonical bytes."""
    try:
        # pydantic's serialiser (Rust) writes the same bytes as `json_reference` four times faster
        # (issue 21: a purchase writes ten leaves and two quote digests): compact, UTF-8, control
        # characters escaped alike, keys in the order _normalise sorted them into.
        return pydantic_core.to_json(normalised)
    except pydantic_core.PydanticSerializationError:
        return json_reference(normalised)  # what it cannot write (a lone surrogate) fails as ever


def json_reference(normalised: Any) -> bytes:
    """The canonical form's definition in the json module's terms."""
    return json.dumps(normalised, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def entry_leaf(
    *,
    created_at: datetime,
    actor: str,
    action: str,
    subject_type: str,
    subject_id: str,
    payload: Mapping[str, Any],
    nonce: str | None = None,
) -> str:
    """The canonical leaf text of a new entry (its UTF-8 bytes are what the tree hashes).

    The sequence number is deliberately not part of the leaf: it is assigned later by the
    sequencer, and the order is protected by the tree itself."""
    for name, text in (
        ("actor", actor),
        ("action", action),
        ("subject_type", subject_type),
        ("subject_id", subject_id),
    ):
        if not isinstance(text, str):
            raise TypeError(f"{name} must be a str, not {type(text).__name__}")
    # Its own keys are put in their sorted order here, so only its values are normalised (issue
    # 21: ten leaves a purchase); the same bytes as `canonical_json` of the same object.
    return _serialised(
        {
            "action": _normalise(action),
            "actor": _normalise(actor),
            "created_at": _normalise(created_at),  # refuses a naive one, as every datetime
            "nonce": _normalise(nonce if nonce is not None else secrets.token_hex(NONCE_BYTES)),
            "payload": _normalise(dict(payload)),
            "subject_id": _normalise(subject_id),
            "subject_type": _normalise(subject_type),
            "v": LEAF_VERSION,
        }
    ).decode("utf-8")


@dataclass(frozen=True, slots=True)
class LeafFields:
    """What a stored leaf says, parsed (the authenticated content of an entry)."""

    created_at: datetime
    actor: str
    action: str
    subject_type: str
    subject_id: str
    payload: dict[str, Any]


def parse_leaf(leaf: str | bytes) -> LeafFields:
    """Read a version 1, 2 or 3 leaf; ValueError if it is not one."""
    try:
        data = json.loads(leaf)
        version = data["v"]
        payload = json.loads(data["payload"]) if version == 1 else data["payload"]
        if version not in (1, 2, 3) or not isinstance(payload, dict):
            raise ValueError(f"unknown leaf version {version!r}")
        fields = LeafFields(
            created_at=datetime.fromisoformat(data["created_at"]),
            actor=data["actor"],
            action=data["action"],
            subject_type=data["subject_type"],
            subject_id=data["subject_id"],
            payload=payload,
        )
    except (KeyError, TypeError, json.JSONDecodeError) as exc:
        raise ValueError(f"not an audit leaf: {exc}") from exc
    if not all(
        isinstance(x, str) for x in (fields.actor, fields.action, fields.subject_type, fields.subject_id)
    ):
        raise ValueError("not an audit leaf: a field that must be a string is not")
    return fields
