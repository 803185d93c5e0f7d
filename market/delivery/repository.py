"""Queries on licences and entitlements."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import bindparam, case, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from market.db.detached import attached, columns_of
from market.db.direct import Direct
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


_LICENCE_COLUMNS = columns_of(LicenceRow)[1]
# Read directly (market.db.direct): every licence check of the gateway and the buyer's reads.
_LICENCE_WITH_TREE = Direct(
    select(*_LICENCE_COLUMNS, *columns_of(RightGrantRow)[1])
    .outerjoin(_OPERATING_GRANT, _OPERATING_GRANT.id == LicenceRow.operating_grant_id)
    .outerjoin(RightGrantRow, RightGrantRow.resource_id == _OPERATING_GRANT.resource_id)
    .where(LicenceRow.id == bindparam("licence_id"))
)


async def licence_with_tree(
    session: AsyncSession, licence_id: uuid.UUID
) -> tuple[LicenceRow | None, list[RightGrantRow]]:
    """The licence and, in the same query, every grant in the tree of its operating right (the
    session's, as loaded objects)."""
    rows = await _LICENCE_WITH_TREE.rows(session, {"licence_id": licence_id})
    if not rows:
        return None, []
    split = len(_LICENCE_COLUMNS)
    grant_id = split + columns_of(RightGrantRow)[0].index("id")
    tree = [attached(session, RightGrantRow, row[split:]) for row in rows if row[grant_id] is not None]
    return attached(session, LicenceRow, rows[0][:split]), tree


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


async def entitlement_by_credential_prefix(session: AsyncSession, prefix: str) -> Entitlement | None:
    stmt = select(Entitlement).where(Entitlement.credential_prefix == prefix)
    return (await session.execute(stmt)).scalar_one_or_none()


async def start_period(session: AsyncSession, entitlement_id: uuid.UUID, period: int) -> None:
    """Renew the quota for `period` if the entitlement still counts an earlier one (reservations
    of the old period are void: their holders see the period change and drop them)."""
    await session.execute(
        update(Entitlement)
        .where(Entitlement.id == entitlement_id, Entitlement.period_index < period)
        .values(period_index=period, calls_used=0, calls_reserved=0)
        .execution_options(synchronize_session=False)
    )


async def free_calls(session: AsyncSession, entitlement_id: uuid.UUID, period: int) -> int | None:
    """Calls of `period` neither used nor reserved (None: no quota; 0 once the period is past)."""
    row = (
        await session.execute(
            select(
                Entitlement.call_quota,
                Entitlement.calls_used,
                Entitlement.calls_reserved,
                Entitlement.period_index,
            ).where(Entitlement.id == entitlement_id)
        )
    ).one_or_none()
    if row is None:
        return 0
    quota, used, reserved, current = row
    if quota is None:
        return None
    return max(0, quota - used - reserved) if current == period else 0


async def reserve(session: AsyncSession, entitlement_id: uuid.UUID, period: int, calls: int) -> bool:
    """Reserve `calls` of `period` if used + reserved stays within the quota: one atomic UPDATE,
    so concurrent reservations (row-locked by PostgreSQL, serialised by SQLite) never overshoot."""
    result = await session.execute(
        update(Entitlement)
        .where(
            Entitlement.id == entitlement_id,
            Entitlement.period_index == period,
            Entitlement.call_quota.is_not(None),
            Entitlement.calls_used + Entitlement.calls_reserved + calls <= Entitlement.call_quota,
        )
        .values(calls_reserved=Entitlement.calls_reserved + calls)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


async def settle(
    session: AsyncSession, entitlement_id: uuid.UUID, period: int, *, used: int, released: int, reserved: bool
) -> None:
    """Count `used` calls of `period` and give back `released` reserved calls (of reserved
    calls, `used` leave the reservation too). Nothing counts once the period has passed."""
    leaving = used + released if reserved else 0
    await session.execute(
        update(Entitlement)
        .where(Entitlement.id == entitlement_id, Entitlement.period_index == period)
        .values(
            calls_used=Entitlement.calls_used + used,
            calls_reserved=case(
                (Entitlement.calls_reserved >= leaving, Entitlement.calls_reserved - leaving), else_=0
            ),
        )
        .execution_options(synchronize_session=False)
    )
