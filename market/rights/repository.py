"""Queries on right grants. A resource's rights tree is every grant with its resource_id."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from market.rights.models import RightGrantRow


async def get(session: AsyncSession, grant_id: uuid.UUID) -> RightGrantRow | None:
    return await session.get(RightGrantRow, grant_id)


async def tree_of(session: AsyncSession, resource_id: uuid.UUID) -> list[RightGrantRow]:
    stmt = select(RightGrantRow).where(RightGrantRow.resource_id == resource_id)
    return list((await session.execute(stmt)).scalars())


async def tree_containing(session: AsyncSession, grant_id: uuid.UUID) -> list[RightGrantRow]:
    """Every grant in the tree `grant_id` belongs to, in one query."""
    tree = select(RightGrantRow.resource_id).where(RightGrantRow.id == grant_id).scalar_subquery()
    return list(
        (await session.execute(select(RightGrantRow).where(RightGrantRow.resource_id == tree))).scalars()
    )


async def live_holdings(session: AsyncSession, resource_id: uuid.UUID) -> list[RightGrantRow]:
    stmt = select(RightGrantRow).where(
        RightGrantRow.resource_id == resource_id,
        RightGrantRow.kind == "holding",
        RightGrantRow.revoked_at.is_(None),
    )
    return list((await session.execute(stmt)).scalars())
