"""Queries on data-subject requests and licensee obligations; who may read which in `readable_*`."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Select, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from market.common.pagination import keyset_page
from market.privacy.models import ContactVerification, LicenseeObligation, SubjectRequest
from market.privacy.states import ObligationStatus, RequestStatus


def readable_requests(
    *, sees_all: bool, seller_id: uuid.UUID | None, requester_pseudonym: str | None
) -> Select[SubjectRequest]:
    """Operators read every request; a seller those against it; a person their own."""
    stmt = select(SubjectRequest)
    if sees_all:
        return stmt
    mine = []
    if seller_id is not None:
        mine.append(SubjectRequest.seller_id == seller_id)
    if requester_pseudonym is not None:
        mine.append(SubjectRequest.requester_pseudonym == requester_pseudonym)
    return stmt.where(or_(*mine)) if mine else stmt.where(SubjectRequest.id.is_(None))


async def requests_page(
    session: AsyncSession, stmt: Select[SubjectRequest], status: str | None, cursor: str | None, limit: int
) -> list[SubjectRequest]:
    if status is not None:
        stmt = stmt.where(SubjectRequest.status == status)
    return list((await session.execute(keyset_page(stmt, SubjectRequest, cursor, limit))).scalars())


async def subject_request(
    session: AsyncSession, request_id: uuid.UUID, *, lock: bool = False
) -> SubjectRequest | None:
    return await session.get(SubjectRequest, request_id, with_for_update=lock)


async def verification(
    session: AsyncSession, verification_id: uuid.UUID | None
) -> ContactVerification | None:
    return await session.get(ContactVerification, verification_id) if verification_id else None


async def verifications(session: AsyncSession, ids: set[uuid.UUID]) -> dict[uuid.UUID, ContactVerification]:
    if not ids:
        return {}
    stmt = select(ContactVerification).where(ContactVerification.id.in_(list(ids)))
    return {v.id: v for v in (await session.execute(stmt)).scalars()}


async def requests_to_warn(session: AsyncSession, at: datetime, limit: int) -> list[SubjectRequest]:
    stmt = (
        select(SubjectRequest)
        .where(
            SubjectRequest.status == RequestStatus.OPEN,
            SubjectRequest.warned_at.is_(None),
            SubjectRequest.warn_at <= at,
        )
        .order_by(SubjectRequest.warn_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list((await session.execute(stmt)).scalars())


async def overdue_requests(session: AsyncSession, at: datetime, limit: int) -> list[SubjectRequest]:
    stmt = (
        select(SubjectRequest)
        .where(SubjectRequest.status == RequestStatus.OPEN, SubjectRequest.due_at < at)
        .order_by(SubjectRequest.due_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list((await session.execute(stmt)).scalars())


def readable_obligations(*, sees_all: bool, participant_id: uuid.UUID | None) -> Select[LicenseeObligation]:
    """Operators read every obligation; a licensee its own; a seller those on its products."""
    stmt = select(LicenseeObligation)
    if sees_all:
        return stmt
    return stmt.where(
        or_(LicenseeObligation.licensee_id == participant_id, LicenseeObligation.seller_id == participant_id)
    )


async def obligations_page(
    session: AsyncSession,
    stmt: Select[LicenseeObligation],
    status: str | None,
    cursor: str | None,
    limit: int,
) -> list[LicenseeObligation]:
    if status is not None:
        stmt = stmt.where(LicenseeObligation.status == status)
    return list((await session.execute(keyset_page(stmt, LicenseeObligation, cursor, limit))).scalars())


async def obligation(
    session: AsyncSession, obligation_id: uuid.UUID, *, lock: bool = False
) -> LicenseeObligation | None:
    return await session.get(LicenseeObligation, obligation_id, with_for_update=lock)


async def obligation_exists(
    session: AsyncSession, licence_id: uuid.UUID, resource_id: uuid.UUID, cause_type: str, cause_id: uuid.UUID
) -> bool:
    stmt = select(LicenseeObligation.id).where(
        LicenseeObligation.licence_id == licence_id,
        LicenseeObligation.resource_id == resource_id,
        LicenseeObligation.cause_type == cause_type,
        LicenseeObligation.cause_id == cause_id,
    )
    return await session.scalar(stmt) is not None


async def overdue_obligations(session: AsyncSession, at: datetime, limit: int) -> list[LicenseeObligation]:
    stmt = (
        select(LicenseeObligation)
        .where(LicenseeObligation.status == ObligationStatus.PENDING, LicenseeObligation.due_at < at)
        .order_by(LicenseeObligation.due_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list((await session.execute(stmt)).scalars())
