"""Append to the audit log inside the caller's transaction.

Every state change that matters to a trade calls `record` with the same session that makes
the change, so the entry and the change commit or roll back together.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from market.audit.canonical import canonical_json, entry_leaf_bytes
from market.audit.models import AuditEntry
from market.common.clock import now as utcnow

SYSTEM_ACTOR = "system"


async def record(
    session: AsyncSession,
    *,
    actor: str | uuid.UUID | None,
    action: str,
    subject_type: str,
    subject_id: str | uuid.UUID,
    payload: Mapping[str, Any] | None = None,
) -> AuditEntry:
    """Write one audit entry in the current transaction and return it (unsequenced)."""
    created_at = utcnow()
    actor_text = str(actor) if actor is not None else SYSTEM_ACTOR
    payload_json = canonical_json(dict(payload or {})).decode("utf-8")
    leaf = entry_leaf_bytes(
        created_at=created_at,
        actor=actor_text,
        action=action,
        subject_type=subject_type,
        subject_id=str(subject_id),
        payload_json=payload_json,
    )
    entry = AuditEntry(
        created_at=created_at,
        actor=actor_text,
        action=action,
        subject_type=subject_type,
        subject_id=str(subject_id),
        payload=payload_json,
        leaf_hash=hashlib.sha256(b"\x00" + leaf).digest(),
    )
    session.add(entry)
    return entry
