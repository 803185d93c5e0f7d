"""Queries on compliance decisions and the facts on file."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, and_, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from market.common.pagination import keyset_page
from market.compliance.models import ComplianceDecisionRow
from market.participants.models import Participant
from market.registry.models import ConsentRecord, DataResource, PersonalDataHold
from market.rights.models import RightGrantRow


@dataclass(frozen=True)
class RulesRead:
    """What the rules read of the parties and the resources of a listing or trade."""

    participants: dict[uuid.UUID, Participant]
    resources: list[DataResource]
    grants: list[RightGrantRow]  # every grant in the resources' rights trees
    consent_records: dict[uuid.UUID, ConsentRecord]  # each resource's record in force
    on_hold: set[uuid.UUID]  # resources under a personal-data hold not yet released


async def rules_read(
    session: AsyncSession,
    participant_ids: Sequence[uuid.UUID],
    resource_ids: Sequence[uuid.UUID] | Select[Any],
) -> RulesRead:
    """The parties and the resources with their rights trees, consent records in force and
    holds, in one query (issue 21: the gate's facts in one round trip). Each party's row is
    joined to every resource, so `participant_ids` must name one that exists (the seller: a
    product's seller always does); `resource_ids` may be a subquery of the caller's."""
    on_hold = (
        exists()
        .where(PersonalDataHold.resource_id == DataResource.id, PersonalDataHold.released_at.is_(None))
        .label("on_hold")
    )
    in_force = and_(ConsentRecord.resource_id == DataResource.id, ConsentRecord.superseded_at.is_(None))
    stmt = (
        select(Participant, DataResource, RightGrantRow, ConsentRecord, on_hold)
        .select_from(Participant)
        .outerjoin(DataResource, DataResource.id.in_(resource_ids))
        .outerjoin(RightGrantRow, RightGrantRow.resource_id == DataResource.id)
        .outerjoin(ConsentRecord, in_force)
        .where(Participant.id.in_(list(participant_ids)))
        .order_by(DataResource.id)
    )
    rows = (await session.execute(stmt)).all()
    return RulesRead(
        participants={p.id: p for p, *_ in rows},
        resources=list(dict.fromkeys(r for _, r, *_ in rows if r is not None)),
        grants=list(dict.fromkeys(g for _, _, g, *_ in rows if g is not None)),
        consent_records={c.resource_id: c for *_, c, _ in rows if c is not None},
        on_hold={r.id for _, r, _, _, held in rows if r is not None and held},
    )


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
