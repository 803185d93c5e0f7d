"""Queries on risk alerts."""

from __future__ import annotations

import uuid

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from market.alerts.models import RiskAlert
from market.common.pagination import keyset_page


async def open_alert_exists(session: AsyncSession, rule: str, subject_id: str) -> bool:
    found = await session.scalar(
        select(RiskAlert.id).where(
            RiskAlert.rule == rule, RiskAlert.subject_id == subject_id, RiskAlert.status == "open"
        )
    )
    return found is not None


async def lock(session: AsyncSession, alert_id: uuid.UUID) -> RiskAlert | None:
    return await session.get(RiskAlert, alert_id, with_for_update=True)


def filtered(status: str | None, rule: str | None) -> Select[RiskAlert]:
    stmt = select(RiskAlert)
    if status:
        stmt = stmt.where(RiskAlert.status == status)
    if rule:
        stmt = stmt.where(RiskAlert.rule == rule)
    return stmt


async def page(
    session: AsyncSession, *, status: str | None, rule: str | None, cursor: str | None, limit: int
) -> list[RiskAlert]:
    stmt = keyset_page(filtered(status, rule), RiskAlert, cursor, limit)
    return list((await session.execute(stmt)).scalars())
