"""Queries on licences and entitlements."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from market.delivery.models import Entitlement, LicenceRow
from market.delivery.states import LicenceStatus
from market.rights.models import RightGrantRow

# A licence's operating grant, joined to find its tree (built once: aliasing a mapper is costly).
_OPERATING_GRANT = aliased(RightGrantRow)


async def licence(session: AsyncSession, licence_id: uuid.UUID, *, lock: bool = False) -> LicenceRow | None:
    return await session.get(LicenceRow, licence_id, with_for_update=lock, populate_existing=lock)


async def active_under(
    session: AsyncSession, grant_ids: Sequence[uuid.UUID], at: datetime
) -> list[tuple[LicenceRow, int | None, int]]:
    """Active licences valid at `at` resting on one of the operating rights `grant_ids`, each with
    its call quota and the calls its buyer used."""
    stmt = (
        select(LicenceRow, Entitlement.call_quota, func.coalesce(Entitlement.calls_used, 0))
        .outerjoin(Entitlement, Entitlement.licence_id == LicenceRow.id)
        .where(
            LicenceRow.operating_grant_id.in_(list(grant_ids)),
            LicenceRow.status == LicenceStatus.ACTIVE,
            LicenceRow.valid_to > at,
        )
        .order_by(LicenceRow.created_at, LicenceRow.id)
    )
    return [(row, quota, int(used)) for row, quota, used in await session.execute(stmt)]


async def licence_with_tree(
    session: AsyncSession, licence_id: uuid.UUID
) -> tuple[LicenceRow | None, list[RightGrantRow]]:
    """The licence and, in the same query, every grant in the tree of its operating right."""
    rows = (
        await session.execute(
            select(LicenceRow, RightGrantRow)
            .outerjoin(_OPERATING_GRANT, _OPERATING_GRANT.id == LicenceRow.operating_grant_id)
            .outerjoin(RightGrantRow, RightGrantRow.resource_id == _OPERATING_GRANT.resource_id)
            .where(LicenceRow.id == licence_id)
        )
    ).all()
    return (rows[0][0] if rows else None), [grant for _, grant in rows if grant is not None]


async def entitlement(
    session: AsyncSession, licence_id: uuid.UUID, *, lock: bool = False
) -> Entitlement | None:
    stmt = select(Entitlement).where(Entitlement.licence_id == licence_id)
    if lock:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def active_licences(
    session: AsyncSession, product_ids: Sequence[uuid.UUID], at: datetime
) -> list[LicenceRow]:
    """Licences of these products not revoked and not expired at `at`."""
    if not product_ids:
        return []
    stmt = (
        select(LicenceRow)
        .where(
            LicenceRow.product_id.in_(list(product_ids)),
            LicenceRow.status == LicenceStatus.ACTIVE,
            LicenceRow.valid_to > at,
        )
        .order_by(LicenceRow.created_at, LicenceRow.id)
    )
    return list((await session.execute(stmt)).scalars())
