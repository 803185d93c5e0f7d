"""Reads of the audit log for other features and for auditors (filters, a trade's history,
who may see an entry). Writing is `market.audit.log.record`; sequencing and signing are the
publisher's."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime

from sqlalchemy import Select, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from market.audit.models import AuditEntry

# How a feature answers "is this participant a party to that subject?" for its own subject
# types (an order's buyer or seller, a product's seller, ...). The audit log sits below every
# feature, so it cannot look into their tables; each feature registers its rule instead.
PartyCheck = Callable[[AsyncSession, uuid.UUID, uuid.UUID], Awaitable[bool]]
_PARTY_CHECKS: dict[str, PartyCheck] = {}


def register_party_check(subject_type: str, check: PartyCheck) -> None:
    """Called once per subject type by the feature that owns it, at import."""
    _PARTY_CHECKS[subject_type] = check


async def is_party_to(session: AsyncSession, participant_id: uuid.UUID, entry: AuditEntry) -> bool:
    """Whether the participant is a party to the entry's subject (or is its subject)."""
    if entry.subject_id == str(participant_id):
        return True
    check = _PARTY_CHECKS.get(entry.subject_type)
    if check is None:
        return False
    try:
        subject = uuid.UUID(entry.subject_id)
    except ValueError:
        return False
    return await check(session, participant_id, subject)


def filtered(
    subject_type: str | None,
    subject_id: str | None,
    actor: str | None,
    action: str | None,
    since: datetime | None,
    until: datetime | None,
) -> Select[AuditEntry]:
    stmt = select(AuditEntry)
    for column, value in (
        (AuditEntry.subject_type, subject_type),
        (AuditEntry.subject_id, subject_id),
        (AuditEntry.actor, actor),
        (AuditEntry.action, action),
    ):
        if value is not None:
            stmt = stmt.where(column == value)
    if since is not None:
        stmt = stmt.where(AuditEntry.created_at >= since)
    if until is not None:
        stmt = stmt.where(AuditEntry.created_at < until)
    return stmt


async def entries_page(
    session: AsyncSession, stmt: Select[AuditEntry], after_id: int | None, limit: int
) -> list[AuditEntry]:
    """Oldest first, `limit + 1` rows (the extra one says there is a next page)."""
    if after_id is not None:
        stmt = stmt.where(AuditEntry.id > after_id)
    return list((await session.execute(stmt.order_by(AuditEntry.id).limit(limit + 1))).scalars())


async def history_of(session: AsyncSession, subject_ids: Iterable[str], mentioning: str) -> list[AuditEntry]:
    """Every entry about one of `subject_ids` or whose leaf mentions `mentioning`, in order."""
    stmt = (
        select(AuditEntry)
        .where(or_(AuditEntry.subject_id.in_(list(subject_ids)), AuditEntry.leaf.contains(mentioning)))
        .order_by(AuditEntry.id)
    )
    return list((await session.execute(stmt)).scalars())


async def entry_ids_mentioning(
    session: AsyncSession, actions: Iterable[str], text: str, *, since: datetime
) -> list[int]:
    stmt = select(AuditEntry.id).where(
        AuditEntry.action.in_(list(actions)),
        AuditEntry.created_at >= since,
        AuditEntry.leaf.contains(text),
    )
    return [int(i) for i in (await session.execute(stmt)).scalars()]


async def sequenced_batch(session: AsyncSession, after_seq: int, size: int) -> list[AuditEntry]:
    stmt = (
        select(AuditEntry)
        .where(AuditEntry.seq.is_not(None), AuditEntry.seq > after_seq)
        .order_by(AuditEntry.seq)
        .limit(size)
    )
    return list((await session.execute(stmt)).scalars())
