"""Gather the facts the rules need from the database. The rules themselves never open a session."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from market.catalog.models import Product, product_resources
from market.compliance.facts import (
    AuthorisedOperation,
    ConditionalOpenApproval,
    Consent,
    ListingFacts,
    ParticipantFacts,
    ResourceFacts,
    RightFacts,
    TradeFacts,
)
from market.compliance.models import OpenApplication, OperationMandate, SecurityAssessment
from market.participants.models import Participant
from market.registry.models import DataResource
from market.rights.models import RightGrantRow


def plan_charges_fee(plan: dict[str, Any]) -> bool:
    """True when any price in the plan is above zero (public data sold for a fee, Art. 36)."""

    def walk(value: Any, key: str = "") -> bool:
        if isinstance(value, dict):
            return any(walk(v, k) for k, v in value.items())
        if isinstance(value, list):
            return any(walk(v, key) for v in value)
        if isinstance(value, str) and any(w in key for w in ("price", "amount", "rate", "fee")):
            try:
                return Decimal(value) > 0
            except InvalidOperation:
                return False
        return False

    return walk(plan)


async def product_resources_of(session: AsyncSession, product_id: uuid.UUID) -> list[DataResource]:
    stmt = (
        select(DataResource)
        .join(product_resources, product_resources.c.resource_id == DataResource.id)
        .where(product_resources.c.product_id == product_id)
        .order_by(DataResource.id)
    )
    return list((await session.execute(stmt)).scalars())


def participant_facts(participant: Participant | None, pid: uuid.UUID) -> ParticipantFacts:
    if participant is None:
        return ParticipantFacts(participant_id=str(pid), credit=None, jurisdiction=None)
    return ParticipantFacts(
        participant_id=str(participant.id),
        credit=participant.credit_status,
        jurisdiction=participant.jurisdiction,
    )


async def _mandate(
    session: AsyncSession, resource: DataResource, seller_id: uuid.UUID, at: datetime
) -> AuthorisedOperation | None:
    stmt = select(OperationMandate).where(
        OperationMandate.resource_id == resource.id, OperationMandate.operator_id == seller_id
    )
    mandates = list((await session.execute(stmt)).scalars())
    if not mandates:
        return None
    best = max(mandates, key=lambda m: m.valid_to)
    valid = best.revoked_at is None and best.valid_from <= at < best.valid_to
    return AuthorisedOperation(
        mandate_id=str(best.id), scope_purposes=tuple(best.purposes), valid=valid
    )


async def resource_facts(
    session: AsyncSession, resource: DataResource, seller_id: uuid.UUID, at: datetime
) -> ResourceFacts:
    consent = None
    if resource.consent:
        consent = Consent(
            purposes=tuple(resource.consent.get("purposes", ())),
            covers_onward_transfer=bool(resource.consent.get("covers_onward_transfer", False)),
            separate_consent_for_sensitive=bool(
                resource.consent.get("separate_consent_for_sensitive", False)
            ),
        )
    mandate = (
        await _mandate(session, resource, seller_id, at) if resource.category == "public" else None
    )
    return ResourceFacts(
        resource_id=str(resource.id),
        category=resource.category,
        grade=resource.grade,
        open_class=resource.open_class if resource.category == "public" else None,
        personal_info=resource.personal_info,
        sensitive_personal=resource.sensitive_personal,
        consent=consent,
        trade_secret=resource.trade_secret,
        security_tags=tuple(resource.security_tags or ()),
        authorised_operation=mandate,
    )


async def right_facts(
    session: AsyncSession, product: Product, resources: list[DataResource], at: datetime
) -> RightFacts:
    from market.rights.validity import operating_right_for

    found = await operating_right_for(
        session,
        holder_id=product.seller_id,
        product_id=product.id,
        resource_ids=[r.id for r in resources],
        at=at,
    )
    holding = select(RightGrantRow.resource_id).where(
        RightGrantRow.kind == "holding",
        RightGrantRow.holder_id == product.seller_id,
        RightGrantRow.resource_id.in_([r.id for r in resources]),
        RightGrantRow.revoked_at.is_(None),
    )
    held = set((await session.execute(holding)).scalars())
    is_holder = bool(resources) and held >= {r.id for r in resources}
    if found is None:
        return RightFacts(
            holds_valid_operating_right=False,
            chain_failure_reason="the seller holds no operating right over these resources",
            seller_is_registered_holder=is_holder,
        )
    grant, validity = found
    return RightFacts(
        holds_valid_operating_right=validity.valid,
        permitted_purposes=tuple(grant.purposes),
        territory=grant.territory,
        chain_failure_reason=None if validity.valid else (validity.message or str(validity.reason)),
        seller_is_registered_holder=is_holder,
    )


async def listing_facts(session: AsyncSession, product: Product, at: datetime) -> ListingFacts:
    resources = await product_resources_of(session, product.id)
    seller = await session.get(Participant, product.seller_id)
    return ListingFacts(
        product_id=str(product.id),
        seller=participant_facts(seller, product.seller_id),
        resources=tuple(
            [await resource_facts(session, r, product.seller_id, at) for r in resources]
        ),
        rights=await right_facts(session, product, resources, at),
        declared_scenarios=tuple(product.scenarios or ()),
        charges_fee=plan_charges_fee(product.price_plan),
    )


async def trade_facts(
    session: AsyncSession,
    product: Product,
    *,
    buyer_id: uuid.UUID,
    purpose: str | None,
    scenario: str | None,
    cross_border: bool | None,
    at: datetime,
) -> TradeFacts:
    listing = await listing_facts(session, product, at)
    buyer = await session.get(Participant, buyer_id)
    resource_ids = [uuid.UUID(r.resource_id) for r in listing.resources]
    approvals = (
        await session.execute(
            select(OpenApplication).where(
                OpenApplication.applicant_id == buyer_id,
                OpenApplication.status == "approved",
                OpenApplication.resource_id.in_(resource_ids),
            )
        )
    ).scalars()
    assessments = (
        await session.execute(
            select(SecurityAssessment.resource_id).where(
                SecurityAssessment.recipient_id == buyer_id,
                SecurityAssessment.resource_id.in_(resource_ids),
                SecurityAssessment.valid_until > at,
            )
        )
    ).scalars()
    assessed = set(assessments)
    template = product.licence_template or {}
    return TradeFacts(
        listing=listing,
        buyer=participant_facts(buyer, buyer_id),
        purpose=purpose,
        scenario=scenario,
        cross_border=cross_border,
        conditional_open_approvals=tuple(
            ConditionalOpenApproval(
                resource_id=str(a.resource_id), application_id=str(a.id), purposes=tuple(a.purposes)
            )
            for a in approvals
        ),
        security_assessment_on_file=bool(resource_ids) and assessed >= set(resource_ids),
        licence_permitted_purposes=tuple(template.get("permitted_purposes", ())) or None,
    )
