"""Queries on right grants. A resource's rights tree is every grant with its resource_id."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
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


# The resources' table as this layer may know it (the registry sits above rights): only its key.
_resources = sa.table("data_resources", sa.column("id", sa.Uuid()))


async def lock_resource(session: AsyncSession, resource_id: uuid.UUID) -> None:
    """Lock the resource's row, which every trade over its data locks before it reads the rights
    (market.rights.tree_reads says why)."""
    await session.execute(select(_resources.c.id).where(_resources.c.id == resource_id).with_for_update())
