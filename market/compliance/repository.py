"""Queries on compliance decisions and the facts on file."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from market.common.pagination import keyset_page
from market.compliance.models import ComplianceDecisionRow, OpenApplication, SecurityAssessment
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
    # The buyer's approved conditional-open applications (Art. 35) and cross-border filings in
    # force for these resources (empty when no buyer was named).
    approvals: list[OpenApplication]
    filings: list[SecurityAssessment]


async def rules_read(
    session: AsyncSession,
    participant_ids: Sequence[uuid.UUID],
    resource_ids: Sequence[uuid.UUID] | Select[Any],
    *,
    buyer_files_at: tuple[uuid.UUID, datetime] | None = None,
    lock_resources: bool = False,
) -> RulesRead:
    """The parties and the resources with their rights trees, consent records in force, holds
    and (`buyer_files_at`: the buyer and the time) the buyer's files on them, in one query
    (issue 21: the gate's facts in one round trip). Each party's row is joined to every
    resource, so `participant_ids` must name one that exists (the seller: a product's seller
    always does); `resource_ids` may be a subquery of the caller's.

    `lock_resources` (an order): the resources' rows are locked too, in id order, as an order's
    claims on them are checked and made next (market.orders.claims); a product with no resources
    then reads no parties either, and its trade is refused for want of them."""
    on_hold = (
        exists()
        .where(PersonalDataHold.resource_id == DataResource.id, PersonalDataHold.released_at.is_(None))
        .label("on_hold")
    )
    in_force = and_(ConsentRecord.resource_id == DataResource.id, ConsentRecord.superseded_at.is_(None))
    stmt = (
        select(Participant, DataResource, RightGrantRow, ConsentRecord, on_hold)
        .select_from(Participant)
        .join(DataResource, DataResource.id.in_(resource_ids), isouter=not lock_resources)
        .outerjoin(RightGrantRow, RightGrantRow.resource_id == DataResource.id)
        .outerjoin(ConsentRecord, in_force)
        .where(Participant.id.in_(list(participant_ids)))
        .order_by(DataResource.id)
    )
    if buyer_files_at is not None:
        buyer_id, at = buyer_files_at
        approved = and_(
            OpenApplication.resource_id == DataResource.id,
            OpenApplication.applicant_id == buyer_id,
            OpenApplication.status == "approved",
        )
        filed = and_(
            SecurityAssessment.resource_id == DataResource.id,
            SecurityAssessment.recipient_id == buyer_id,
            SecurityAssessment.valid_until > at,
        )
        stmt = (
            stmt.add_columns(OpenApplication, SecurityAssessment)
            .outerjoin(OpenApplication, approved)
            .outerjoin(SecurityAssessment, filed)
        )
    if lock_resources:
        stmt = stmt.with_for_update(of=DataResource)
    rows = (await session.execute(stmt)).all()

    def found(entity: str) -> list[Any]:
        return list(dict.fromkeys(v for row in rows if (v := getattr(row, entity, None)) is not None))

    return RulesRead(
        participants={p.id: p for p in found("Participant")},
        resources=found("DataResource"),
        grants=found("RightGrantRow"),
        consent_records={c.resource_id: c for c in found("ConsentRecord")},
        on_hold={row.DataResource.id for row in rows if row.DataResource is not None and row.on_hold},
        approvals=found("OpenApplication"),
        filings=found("SecurityAssessment"),
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
