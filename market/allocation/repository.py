"""Queries on allocation draws and their entries."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from market.allocation.models import AllocationDraw, AllocationEntry


async def draw(session: AsyncSession, draw_id: uuid.UUID, *, lock: bool = False) -> AllocationDraw | None:
    return await session.get(AllocationDraw, draw_id, with_for_update=lock, populate_existing=lock)


async def draws_of(session: AsyncSession, product_id: uuid.UUID) -> list[AllocationDraw]:
    stmt = (
        select(AllocationDraw)
        .where(AllocationDraw.product_id == product_id)
        .order_by(AllocationDraw.opens_at)
    )
    return list((await session.execute(stmt)).scalars())


async def entry(
    session: AsyncSession, draw_id: uuid.UUID, participant_id: uuid.UUID
) -> AllocationEntry | None:
    stmt = select(AllocationEntry).where(
        AllocationEntry.draw_id == draw_id, AllocationEntry.participant_id == participant_id
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def entrants(session: AsyncSession, draw_id: uuid.UUID) -> list[uuid.UUID]:
    stmt = select(AllocationEntry.participant_id).where(AllocationEntry.draw_id == draw_id)
    return list((await session.execute(stmt)).scalars())


async def unused_revealed_entries(
    session: AsyncSession, product_id: uuid.UUID, rule: str, participant_id: uuid.UUID, *, lock: bool = False
) -> list[tuple[AllocationDraw, AllocationEntry]]:
    """The participant's entries not yet used in revealed draws on the product under `rule`,
    oldest draw first (whether each won is read from the draw's verified result)."""
    stmt = (
        select(AllocationDraw, AllocationEntry)
        .join(AllocationEntry, AllocationEntry.draw_id == AllocationDraw.id)
        .where(
            AllocationDraw.product_id == product_id,
            AllocationDraw.rule == rule,
            AllocationDraw.revealed_at.is_not(None),
            AllocationEntry.participant_id == participant_id,
            AllocationEntry.used_by_order_id.is_(None),
        )
        .order_by(AllocationDraw.closes_at)
    )
    if lock:
        stmt = stmt.with_for_update(of=AllocationEntry)
    return [(d, e) for d, e in (await session.execute(stmt)).all()]


async def due_for_reveal(session: AsyncSession, at: datetime, limit: int) -> list[uuid.UUID]:
    stmt = (
        select(AllocationDraw.id)
        .where(AllocationDraw.revealed_at.is_(None), AllocationDraw.closes_at <= at)
        .order_by(AllocationDraw.closes_at)
        .limit(limit)
    )
    return list((await session.execute(stmt)).scalars())
