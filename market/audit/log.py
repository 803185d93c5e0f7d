"""Append to the audit log inside the caller's transaction.

Every state change that matters to a trade calls `record` with the same session that makes
the change, so the entry and the change commit or roll back together. An entry that cannot be
written (too large for the log's entry bundles, no MAC key) fails the whole transaction: the
change is not made.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession

from market.audit.canonical import entry_leaf
from market.audit.macs import WRITER_KEY, EntryKeyring
from market.audit.merkle import leaf_hash
from market.audit.models import AuditEntry
from market.audit.tiles import MAX_ENTRY_BYTES
from market.common.clock import now as utcnow
from market.db.pending import table_rows
from market.errors import InvalidInput

SYSTEM_ACTOR = "system"


def entry_values(
    *,
    actor: str | uuid.UUID | None,
    action: str,
    subject_type: str,
    subject_id: str | uuid.UUID,
    keys: EntryKeyring,
    payload: Mapping[str, Any] | None = None,
    created_at: datetime | None = None,
) -> dict[str, Any]:
    """The column values of one new, unsequenced, MAC'd audit entry (for `insert(AuditEntry)`
    in bulk, as benchmarks and imports do; the service writes through `record`)."""
    when = created_at or utcnow()
    actor_text = str(actor) if actor is not None else SYSTEM_ACTOR
    leaf = entry_leaf(
        created_at=when,
        actor=actor_text,
        action=action,
        subject_type=subject_type,
        subject_id=str(subject_id),
        payload=payload or {},
    ).encode("utf-8")
    if len(leaf) > MAX_ENTRY_BYTES:
        # c2sp.org/tlog-tiles entry bundles hold entries of at most 65535 bytes.
        raise InvalidInput(
            f"this change cannot be recorded in the audit log: its entry would be {len(leaf)} bytes "
            f"(at most {MAX_ENTRY_BYTES}); nothing was changed",
            fields=[("body", "too large to be recorded in the audit log")],
        )
    key_id, mac = keys.mac(leaf)
    return {
        "created_at": when,
        "actor": actor_text,
        "action": action,
        "subject_type": subject_type,
        "subject_id": str(subject_id),
        "leaf": leaf.decode("utf-8"),
        "leaf_hash": leaf_hash(leaf),
        "mac": mac,
        "mac_key_id": key_id,
    }


class NoWriterKey(RuntimeError):
    """The session was not made by a sessionmaker that carries the audit MAC key."""


def writer_keys(session: AsyncSession) -> EntryKeyring:
    """The MAC keys this session's writers use, set on its sessionmaker (`market.audit.macs.
    session_info`): the app's, the worker's and every command's. Without them no entry can be
    written, so the change it records is not made either."""
    keys = session.info.get(WRITER_KEY)
    if callable(keys):
        keys = keys()
    if not isinstance(keys, EntryKeyring):
        raise NoWriterKey(
            "this session cannot write audit entries: its sessionmaker carries no MAC key "
            "(make it with market.audit.macs.session_info(settings))"
        )
    return keys


async def record(
    session: AsyncSession,
    *,
    actor: str | uuid.UUID | None,
    action: str,
    subject_type: str,
    subject_id: str | uuid.UUID,
    payload: Mapping[str, Any] | None = None,
) -> None:
    """Write one audit entry in the current transaction.

    The entry is written with the session's next flush or its commit, together with every other
    entry of the transaction, as one multi-row INSERT (one round trip, not one per entry); an
    entry recorded inside a savepoint that rolls back is dropped with it."""
    values = entry_values(
        actor=actor,
        action=action,
        subject_type=subject_type,
        subject_id=subject_id,
        payload=payload,
        keys=writer_keys(session),
    )
    _ENTRIES.record(session, values)


# The entries recorded and not yet written (market.db.pending).
_ENTRIES = table_rows("audit_entries", cast(Table, AuditEntry.__table__))


async def write_pending(session: AsyncSession) -> None:
    """Write the entries recorded so far now (a reader in the same transaction needs them)."""
    await _ENTRIES.write_now(session)
