"""Canonical JSON and the exact bytes of an audit leaf.

Canonical form: keys sorted, no insignificant whitespace, UTF-8, no floats (money is never a
float; a float in an audit payload is a bug). Writers and the verifier share this one function,
so a recomputed leaf matches a stored one byte for byte.
"""

from __future__ import annotations

import enum
import json
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any


def _normalise(value: Any) -> Any:
    if isinstance(value, bool) or value is None or isinstance(value, int | str):
        return value
    if isinstance(value, float):
        raise TypeError(
            "floats are not allowed in canonical JSON: use Decimal or integer minor units"
        )
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise TypeError("naive datetime in canonical JSON: use timezone-aware UTC")
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
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
    return json.dumps(
        _normalise(obj), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode("utf-8")


def entry_leaf_bytes(
    *,
    created_at: datetime,
    actor: str,
    action: str,
    subject_type: str,
    subject_id: str,
    payload_json: str,
) -> bytes:
    """The bytes hashed into an entry's Merkle leaf.

    The payload is embedded as its stored canonical text, so verification never re-parses it.
    The sequence number is not part of the leaf: it is assigned later by the sequencer, and the
    order is protected by the tree itself.
    """
    return canonical_json(
        {
            "v": 1,
            "created_at": created_at,
            "actor": actor,
            "action": action,
            "subject_type": subject_type,
            "subject_id": subject_id,
            "payload": payload_json,
        }
    )
