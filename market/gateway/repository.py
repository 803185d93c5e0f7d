"""Queries of the gateway: upstreams and usage by day."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from market.gateway.models import Upstream, UsageDay


async def upstream(session: AsyncSession, product_id: uuid.UUID, *, lock: bool = False) -> Upstream | None:
    stmt = select(Upstream).where(Upstream.product_id == product_id)
    if lock:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def add_usage(
    session: AsyncSession, licence_id: uuid.UUID, day: date, *, calls: int, failed_calls: int
) -> None:
    """Add to a licence's count of the day: one upsert, so gateway processes flushing the same
    day at once both count."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    stmt = insert(UsageDay).values(
        id=uuid.uuid4(),
        licence_id=licence_id,
        day=day,
        calls=calls,
        failed_calls=failed_calls,
        summarised_calls=0,
        summarised_failed_calls=0,
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=[UsageDay.licence_id, UsageDay.day],
        set_={
            "calls": UsageDay.calls + stmt.excluded.calls,
            "failed_calls": UsageDay.failed_calls + stmt.excluded.failed_calls,
        },
    )
    await session.execute(stmt)


async def usage_days(session: AsyncSession, licence_id: uuid.UUID, *, limit: int = 400) -> list[UsageDay]:
    """The licence's days with calls, newest first."""
    stmt = (
        select(UsageDay).where(UsageDay.licence_id == licence_id).order_by(UsageDay.day.desc()).limit(limit)
    )
    return list((await session.execute(stmt)).scalars())


async def unsummarised_days(session: AsyncSession, before: date, *, limit: int) -> list[UsageDay]:
    """Days before `before` whose counts the audit log was not yet told, locked for the job
    (SKIP LOCKED: two workers summarise different days)."""
    stmt = (
        select(UsageDay)
        .where(
            UsageDay.day < before,
            or_(
                UsageDay.calls != UsageDay.summarised_calls,
                UsageDay.failed_calls != UsageDay.summarised_failed_calls,
            ),
        )
        .order_by(UsageDay.day, UsageDay.licence_id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list((await session.execute(stmt)).scalars())
