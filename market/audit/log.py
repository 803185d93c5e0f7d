"""Append to the audit log inside the caller's transaction.

Every state change that matters to a trade calls `record` with the same session that makes
the change, so the entry and the change commit or roll back together.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from market.audit.canonical import entry_leaf
from market.audit.merkle import leaf_hash
from market.audit.models import AuditEntry
from market.common.clock import now as utcnow

SYSTEM_ACTOR = "system"


def entry_values(
    *,
    actor: str | uuid.UUID | None,
    action: str,
    subject_type: str,
    subject_id: str | uuid.UUID,
    payload: Mapping[str, Any] | None = None,
    created_at: datetime | None = None,
) -> dict[str, Any]:
    """The column values of one new, unsequenced audit entry (for `insert(AuditEntry)` in bulk,
    as benchmarks and imports do; the service writes through `record`)."""
    when = created_at or utcnow()
    actor_text = str(actor) if actor is not None else SYSTEM_ACTOR
    leaf = entry_leaf(
        created_at=when,
        actor=actor_text,
        action=action,
        subject_type=subject_type,
        subject_id=str(subject_id),
        payload=payload or {},
    )
    return {
        "created_at": when,
        "actor": actor_text,
        "action": action,
        "subject_type": subject_type,
        "subject_id": str(subject_id),
        "leaf": leaf,
        "leaf_hash": leaf_hash(leaf.encode("utf-8")),
    }


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
    entry = AuditEntry(
        **entry_values(
            actor=actor, action=action, subject_type=subject_type, subject_id=subject_id, payload=payload
        )
    )
    session.add(entry)
    return entry
