"""Queries on compliance decisions and the facts on file."""

from __future__ import annotations

import uuid

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from market.common.pagination import keyset_page
from market.compliance.models import ComplianceDecisionRow


async def decision(session: AsyncSession, decision_id: uuid.UUID) -> ComplianceDecisionRow | None:
    return await session.get(ComplianceDecisionRow, decision_id)


async def pending_review(
    session: AsyncSession, subject_type: str, subject_id: str
) -> ComplianceDecisionRow | None:
    """The newest decision on the subject still waiting for an operator, row-locked."""
    stmt = (
        select(ComplianceDecisionRow)
        .where(
            ComplianceDecisionRow.subject_type == subject_type,
            ComplianceDecisionRow.subject_id == subject_id,
            ComplianceDecisionRow.review_status == "pending",
        )
        .order_by(ComplianceDecisionRow.created_at.desc())
        .with_for_update()
    )
    return (await session.execute(stmt)).scalars().first()


def decisions(
    *,
    subject_type: str | None = None,
    subject_id: str | None = None,
    outcome: str | None = None,
    pending_review_only: bool = False,
) -> Select[ComplianceDecisionRow]:
    stmt = select(ComplianceDecisionRow)
    if subject_type:
        stmt = stmt.where(ComplianceDecisionRow.subject_type == subject_type)
    if subject_id:
        stmt = stmt.where(ComplianceDecisionRow.subject_id == subject_id)
    if outcome:
        stmt = stmt.where(ComplianceDecisionRow.outcome == outcome)
    if pending_review_only:
        stmt = stmt.where(ComplianceDecisionRow.review_status == "pending")
    return stmt


async def decisions_page(
    session: AsyncSession, stmt: Select[ComplianceDecisionRow], cursor: str | None, limit: int
) -> list[ComplianceDecisionRow]:
    return list((await session.execute(keyset_page(stmt, ComplianceDecisionRow, cursor, limit))).scalars())
