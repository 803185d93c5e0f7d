"""Reads for the operators' case pages beyond registrations: listings, compliance reviews,
disputes, data-subject escalations and participant verifications. Reads only: every decision
goes through the feature's own service (`case_pages`)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from market.auth.models import User
from market.catalog import repository as catalog_repository
from market.catalog.models import Product
from market.compliance import repository as compliance_repository
from market.compliance.models import ComplianceDecisionRow
from market.orders.models import Order
from market.participants.models import Participant
from market.participants.verification import queue as verification_queue
from market.payments.models import Dispute, Payout
from market.privacy.models import SubjectRequest
from market.registry.models import DataResource

LIMIT = 100


@dataclass(frozen=True)
class QueueRow:
    """One line of a case queue: what it is, who, since when, by when, and its case page."""

    link: str
    title: str
    party: str
    status: str
    since: datetime | None
    deadline: datetime | None


async def _names(session: AsyncSession, ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    if not ids:
        return {}
    rows = await session.execute(select(Participant.id, Participant.name).where(Participant.id.in_(ids)))
    return {pid: name for pid, name in rows.all()}


async def listing_queue(session: AsyncSession) -> list[QueueRow]:
    stmt = (
        select(Product)
        .where(Product.listing_status == "needs_review")
        .order_by(Product.updated_at, Product.id)
        .limit(LIMIT)
    )
    products = list((await session.execute(stmt)).scalars())
    names = await _names(session, {p.seller_id for p in products})
    return [
        QueueRow(
            f"/console/listings/{p.id}",
            p.title,
            names.get(p.seller_id, ""),
            p.listing_status,
            p.updated_at,
            None,
        )
        for p in products
    ]


@dataclass(frozen=True)
class ListingCase:
    product: Product
    seller: Participant
    resources: list[DataResource]
    decision: ComplianceDecisionRow | None  # the rules' newest decision on the listing


async def latest_decision(
    session: AsyncSession, subject_type: str, subject_id: str
) -> ComplianceDecisionRow | None:
    stmt = (
        compliance_repository.decisions(subject_type=subject_type, subject_id=subject_id)
        .order_by(ComplianceDecisionRow.created_at.desc(), ComplianceDecisionRow.id.desc())
        .limit(1)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def listing_case(session: AsyncSession, product_id: uuid.UUID) -> ListingCase | None:
    product = await catalog_repository.get(session, product_id)
    if product is None:
        return None
    seller = await session.get(Participant, product.seller_id)
    assert seller is not None
    ids = await catalog_repository.resource_ids_of(session, product.id)
    resources = list(
        (
            await session.execute(
                select(DataResource).where(DataResource.id.in_(ids)).order_by(DataResource.title)
            )
        )
        .scalars()
        .all()
    )
    return ListingCase(product, seller, resources, await latest_decision(session, "product", str(product.id)))


def _subject_link(row: ComplianceDecisionRow) -> str:
    return f"/console/compliance-reviews/{row.id}"


async def compliance_queue(session: AsyncSession) -> list[QueueRow]:
    stmt = (
        compliance_repository.decisions(pending_review_only=True)
        .order_by(ComplianceDecisionRow.created_at, ComplianceDecisionRow.id)
        .limit(LIMIT)
    )
    rows = list((await session.execute(stmt)).scalars())
    titles = await _subject_titles(session, rows)
    return [
        QueueRow(
            _subject_link(r),
            f"{titles.get(r.subject_id, r.subject_id)} ({r.kind}: {r.subject_type} {r.subject_id})",
            r.actor,
            r.outcome,
            r.created_at,
            None,
        )
        for r in rows
    ]


def _ids(rows: list[ComplianceDecisionRow], subject_type: str) -> set[uuid.UUID]:
    found = set()
    for r in rows:
        if r.subject_type == subject_type:
            try:
                found.add(uuid.UUID(r.subject_id))
            except ValueError:
                continue
    return found


async def _subject_titles(session: AsyncSession, rows: list[ComplianceDecisionRow]) -> dict[str, str]:
    """The product's title for each parked listing or order, so the queue reads as work."""
    titles: dict[str, str] = {}
    if products := _ids(rows, "product"):
        found = await session.execute(select(Product.id, Product.title).where(Product.id.in_(products)))
        titles |= {str(pid): title for pid, title in found.all()}
    if orders := _ids(rows, "order"):
        placed = await session.execute(
            select(Order.id, Product.title)
            .join(Product, Product.id == Order.product_id)
            .where(Order.id.in_(orders))
        )
        titles |= {str(oid): title for oid, title in placed.all()}
    return titles


@dataclass(frozen=True)
class ComplianceCase:
    decision: ComplianceDecisionRow
    product: Product | None  # the listing, or the ordered product
    order: Order | None


async def compliance_case(session: AsyncSession, decision_id: uuid.UUID) -> ComplianceCase | None:
    row = await compliance_repository.decision(session, decision_id)
    if row is None:
        return None
    order: Order | None = None
    product: Product | None = None
    try:
        subject = uuid.UUID(row.subject_id)
    except ValueError:
        return ComplianceCase(row, None, None)
    if row.subject_type == "order":
        order = await session.get(Order, subject)
        product = await session.get(Product, order.product_id) if order else None
    elif row.subject_type == "product":
        product = await session.get(Product, subject)
    return ComplianceCase(row, product, order)


async def dispute_queue(session: AsyncSession) -> list[QueueRow]:
    stmt = (
        select(Dispute, Product.title)
        .join(Order, Order.id == Dispute.order_id)
        .join(Product, Product.id == Order.product_id)
        .where(Dispute.status == "open")
        .order_by(Dispute.resolve_by, Dispute.id)
        .limit(LIMIT)
    )
    rows = list((await session.execute(stmt)).all())
    names = await _names(session, {d.buyer_id for d, _ in rows})
    return [
        QueueRow(
            f"/console/disputes/{d.id}",
            f"{title} · {d.reason}",
            names.get(d.buyer_id, ""),
            d.status,
            d.created_at,
            d.resolve_by,
        )
        for d, title in rows
    ]


@dataclass(frozen=True)
class DisputeCase:
    dispute: Dispute
    order: Order
    product: Product
    buyer: Participant
    seller: Participant
    payout_status: str | None  # the seller's proceeds: frozen while the dispute is open


async def dispute_case(session: AsyncSession, dispute_id: uuid.UUID) -> DisputeCase | None:
    dispute = await session.get(Dispute, dispute_id)
    if dispute is None:
        return None
    order = await session.get(Order, dispute.order_id)
    assert order is not None
    product = await session.get(Product, order.product_id)
    buyer = await session.get(Participant, dispute.buyer_id)
    seller = await session.get(Participant, dispute.seller_id)
    assert product is not None and buyer is not None and seller is not None
    payout_status = await session.scalar(select(Payout.status).where(Payout.order_id == order.id))
    return DisputeCase(dispute, order, product, buyer, seller, payout_status)


async def escalation_queue(session: AsyncSession) -> list[QueueRow]:
    stmt = (
        select(SubjectRequest)
        .where(SubjectRequest.status == "escalated")
        .order_by(SubjectRequest.due_at, SubjectRequest.id)
        .limit(LIMIT)
    )
    rows = list((await session.execute(stmt)).scalars())
    names = await _names(session, {r.seller_id for r in rows})
    return [
        QueueRow(
            f"/console/subject-escalations/{r.id}",
            f"{r.kind} · {r.escalation_cause or ''}",
            names.get(r.seller_id, ""),
            r.status,
            r.escalated_at,
            r.due_at,
        )
        for r in rows
    ]


@dataclass(frozen=True)
class EscalationCase:
    request: SubjectRequest
    seller: Participant
    seller_resources: list[DataResource]  # what an upheld withdrawal or deletion may take effect on


async def escalation_case(session: AsyncSession, request_id: uuid.UUID) -> EscalationCase | None:
    request = await session.get(SubjectRequest, request_id)
    if request is None:
        return None
    seller = await session.get(Participant, request.seller_id)
    assert seller is not None
    resources = list(
        (
            await session.execute(
                select(DataResource)
                .where(DataResource.owner_id == request.seller_id)
                .order_by(DataResource.title, DataResource.id)
                .limit(LIMIT)
            )
        ).scalars()
    )
    return EscalationCase(request, seller, resources)


VERIFICATION_STATUSES = ("pending_verification", "held", "declined")


async def verification_rows(session: AsyncSession, status: str) -> list[QueueRow]:
    """The API's own queue (`GET /v1/participant-verifications`), as lines of the console's."""
    return [
        QueueRow(
            f"/console/participant-verifications/{p.id}",
            p.name,
            ", ".join(emails),
            p.verification_status,
            p.created_at,
            None,
        )
        for p, emails in await verification_queue(session, status, LIMIT)
    ]


@dataclass(frozen=True)
class VerificationCase:
    participant: Participant
    emails: list[str]


async def verification_case(session: AsyncSession, participant_id: uuid.UUID) -> VerificationCase | None:
    participant = await session.get(Participant, participant_id)
    if participant is None:
        return None
    emails = await session.execute(select(User.email).where(User.participant_id == participant.id))
    return VerificationCase(participant, sorted(emails.scalars()))
