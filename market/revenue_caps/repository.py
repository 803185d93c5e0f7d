"""Queries on revenue caps and yearly revenue."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from market.revenue_caps.models import RevenueCapRow, RevenueYear


async def cap(
    session: AsyncSession, product_id: uuid.UUID, year: int, *, lock: bool = False
) -> RevenueCapRow | None:
    stmt = select(RevenueCapRow).where(RevenueCapRow.product_id == product_id, RevenueCapRow.year == year)
    if lock:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def revenue_year(session: AsyncSession, product_id: uuid.UUID, year: int) -> RevenueYear | None:
    stmt = select(RevenueYear).where(RevenueYear.product_id == product_id, RevenueYear.year == year)
    return (await session.execute(stmt)).scalar_one_or_none()


async def lock_revenue_year(
    session: AsyncSession, product_id: uuid.UUID, year: int, currency: str
) -> RevenueYear:
    """The product-year revenue row, created at 0 if missing, locked until the transaction ends."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    values = {
        "id": uuid.uuid4(),
        "product_id": product_id,
        "year": year,
        "currency": currency,
        "revenue_minor": 0,
    }
    await session.execute(
        insert(RevenueYear).values(values).on_conflict_do_nothing(index_elements=["product_id", "year"])
    )
    stmt = (
        select(RevenueYear)
        .where(RevenueYear.product_id == product_id, RevenueYear.year == year)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return (await session.execute(stmt)).scalar_one()


async def caps_of_year(session: AsyncSession, year: int) -> Sequence[RevenueCapRow]:
    stmt = select(RevenueCapRow).where(RevenueCapRow.year == year).order_by(RevenueCapRow.product_id)
    return list((await session.execute(stmt)).scalars())


async def unclosed_caps_before(session: AsyncSession, year: int) -> Sequence[RevenueCapRow]:
    """Caps of years before `year` whose revenue is not closed yet."""
    closed = select(RevenueYear.product_id, RevenueYear.year).where(RevenueYear.closed_at.is_not(None))
    stmt = select(RevenueCapRow).where(RevenueCapRow.year < year)
    rows = list((await session.execute(stmt)).scalars())
    done = {(p, y) for p, y in (await session.execute(closed)).all()}
    return [r for r in rows if (r.product_id, r.year) not in done]
