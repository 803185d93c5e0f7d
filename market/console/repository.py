"""The console's read-only queries: the operators' queues, counted and ordered by deadline.

Reads only (the console composes features; every change goes through a feature's service).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from market.alerts.models import RiskAlert
from market.audit import queries as audit_queries
from market.audit.models import AuditEntry
from market.audit.tree_models import TreeHead
from market.catalog.models import Product
from market.common.clock import now
from market.compliance.models import ComplianceDecisionRow
from market.delivery.models import LicenceRow
from market.participants.models import Participant
from market.payments.models import Dispute
from market.privacy.models import SubjectRequest
from market.registry.models import DataResource, Objection, Registration


@dataclass(frozen=True)
class Queue:
    key: str
    count: int
    oldest: datetime | None
    deadline: datetime | None  # the earliest deadline in the queue, where the work has one
    link: str | None


async def _queue(
    session: AsyncSession, key: str, where: Any, since: Any, due: Any, link: str | None
) -> Queue:
    stmt = select(
        func.count(),
        func.min(since),
        func.min(due) if due is not None else func.min(since),
    ).where(where)
    count, oldest, deadline = (await session.execute(stmt)).one()
    return Queue(key, int(count or 0), oldest, deadline if due is not None else None, link)


async def queues(session: AsyncSession) -> list[Queue]:
    at = now()
    return [
        await _queue(
            session,
            "registrations_to_review",
            Registration.status == "submitted",
            Registration.created_at,
            None,
            "/console/registrations?status=submitted",
        ),
        await _queue(
            session,
            "in_publicity",
            Registration.status == "publicity",
            Registration.publicity_started_at,
            Registration.publicity_ends_at,
            "/console/registrations?status=publicity",
        ),
        await _queue(
            session,
            "publicity_ended",
            (Registration.status == "publicity") & (Registration.publicity_ends_at <= at),
            Registration.publicity_started_at,
            Registration.publicity_ends_at,
            "/console/registrations?status=publicity",
        ),
        await _queue(
            session,
            "open_objections",
            Objection.status == "open",
            Objection.filed_at,
            Objection.due_at,
            "/console/registrations?status=publicity",
        ),
        await _queue(
            session,
            "listings_to_review",
            Product.listing_status == "needs_review",
            Product.updated_at,
            None,
            "/console/listings",
        ),
        await _queue(
            session,
            "compliance_reviews",
            # Parked decisions wait as `pending` (`compliance.service.store_decision`).
            ComplianceDecisionRow.review_status == "pending",
            ComplianceDecisionRow.created_at,
            None,
            "/console/compliance-reviews",
        ),
        await _queue(
            session,
            "open_disputes",
            Dispute.status == "open",
            Dispute.created_at,
            Dispute.resolve_by,
            "/console/disputes",
        ),
        await _queue(
            session,
            "subject_escalations",
            SubjectRequest.status == "escalated",
            SubjectRequest.escalated_at,
            SubjectRequest.due_at,
            "/console/subject-escalations",
        ),
        await _queue(
            session, "open_alerts", RiskAlert.status == "open", RiskAlert.created_at, None, "/console/alerts"
        ),
        await _queue(
            session,
            "participant_verifications",
            Participant.verification_status.in_(("pending_verification", "held")),
            Participant.created_at,
            None,
            "/console/participant-verifications",
        ),
    ]


@dataclass(frozen=True)
class RegistrationRow:
    registration: Registration
    resource: DataResource
    applicant: Participant


async def registrations(session: AsyncSession, status: str, limit: int = 100) -> list[RegistrationRow]:
    stmt = (
        select(Registration, DataResource, Participant)
        .join(DataResource, DataResource.id == Registration.resource_id)
        .join(Participant, Participant.id == Registration.applicant_id)
        .where(Registration.status == status)
        .order_by(Registration.publicity_ends_at, Registration.created_at, Registration.id)
        .limit(limit)
    )
    return [RegistrationRow(r, d, p) for r, d, p in (await session.execute(stmt)).all()]


async def registration_case(session: AsyncSession, registration_id: uuid.UUID) -> RegistrationRow | None:
    stmt = (
        select(Registration, DataResource, Participant)
        .join(DataResource, DataResource.id == Registration.resource_id)
        .join(Participant, Participant.id == Registration.applicant_id)
        .where(Registration.id == registration_id)
    )
    row = (await session.execute(stmt)).one_or_none()
    return RegistrationRow(*row) if row else None


async def objections_of(session: AsyncSession, registration_id: uuid.UUID) -> list[Objection]:
    stmt = select(Objection).where(Objection.registration_id == registration_id).order_by(Objection.filed_at)
    return list((await session.execute(stmt)).scalars())


async def history(session: AsyncSession, subject_type: str, subject_id: str) -> list[AuditEntry]:
    """The audit entries about a subject, oldest first (the log is the case's history)."""
    stmt = audit_queries.filtered(subject_type, subject_id, None, None, None, None)
    return await audit_queries.entries_page(session, stmt, None, 200)


async def audit_entry(session: AsyncSession, entry_id: int) -> AuditEntry | None:
    return await session.get(AuditEntry, entry_id)


async def signed_head_of_size(session: AsyncSession, size: int) -> TreeHead | None:
    """A checkpoint the exchange signed at this size, if it kept one (for a consistency check
    against an earlier checkpoint without pasting its root)."""
    stmt = select(TreeHead).where(TreeHead.tree_size == size).order_by(TreeHead.id.desc()).limit(1)
    return (await session.execute(stmt)).scalar_one_or_none()


async def signed_sizes(session: AsyncSession, limit: int = 20) -> list[int]:
    stmt = select(TreeHead.tree_size).distinct().order_by(TreeHead.tree_size.desc()).limit(limit)
    return [int(s) for s in (await session.execute(stmt)).scalars()]


async def registrations_of_participant(
    session: AsyncSession, participant_id: uuid.UUID
) -> list[Registration]:
    stmt = (
        select(Registration)
        .where(Registration.applicant_id == participant_id)
        .order_by(Registration.created_at.desc())
        .limit(100)
    )
    return list((await session.execute(stmt)).scalars())


async def licences_of_participant(session: AsyncSession, participant_id: uuid.UUID) -> list[LicenceRow]:
    """The licences a participant bought or granted (buyer or seller), newest first."""
    stmt = (
        select(LicenceRow)
        .where((LicenceRow.buyer_id == participant_id) | (LicenceRow.seller_id == participant_id))
        .order_by(LicenceRow.created_at.desc())
        .limit(100)
    )
    return list((await session.execute(stmt)).scalars())
