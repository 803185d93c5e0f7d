"""Gather the facts the rules need from the database. The rules themselves never open a session."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from market.compliance import repository
from market.compliance.exports import exports_this_year
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
from market.compliance.models import OperationMandate
from market.participants.models import Participant
from market.registry.consents import PERSONAL_STATES
from market.registry.models import ConsentRecord, DataResource
from market.rights import tree_reads
from market.rights.models import RightGrantRow
from market.rights.tree_reads import OperatingRight
from market.rights.validity import operating_right_among


@dataclass(frozen=True)
class ProductSubject:
    """What the rules need to know of a product (products live above compliance, in the
    catalogue, which builds this). `resource_ids` is a subquery, read in the same query as the
    resources' rights trees."""

    product_id: uuid.UUID
    seller_id: uuid.UUID
    resource_ids: repository.Subquery
    scenarios: tuple[str, ...]
    price_plan: dict[str, Any]
    licence_template: dict[str, Any]
    # An order's gate, or a payment's, locks the resources' rows (repository.ResourceLock); the
    # rights trees read are kept for the licence, as read under an order's lock for its claims.
    lock_resources: repository.ResourceLock | None = None


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
    return AuthorisedOperation(mandate_id=str(best.id), scope_purposes=tuple(best.purposes), valid=valid)


async def resource_facts(
    session: AsyncSession,
    resource: DataResource,
    seller_id: uuid.UUID,
    at: datetime,
    consent_record: ConsentRecord | None = None,
    on_hold: bool = False,
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
    mandate = await _mandate(session, resource, seller_id, at) if resource.category == "public" else None
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
        people_covered=consent_record.people_covered if consent_record else None,
        sensitive_people_covered=consent_record.sensitive_people_covered if consent_record else None,
        personal_data_hold=on_hold,
    )


def right_facts(
    product: ProductSubject, resources: list[DataResource], grants: list[RightGrantRow], found: OperatingRight
) -> RightFacts:
    """What the rights trees of `resources` (their holding rights and the product's operating
    rights with the grants above them, among `grants`) say about the seller, given the seller's
    operating right `operating_right_among` found among them."""
    resource_ids = [r.id for r in resources]
    held = {
        g.resource_id
        for g in grants
        if g.kind == "holding" and g.holder_id == product.seller_id and g.revoked_at is None
    }
    is_holder = bool(resources) and held >= set(resource_ids)
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


async def listing_facts(session: AsyncSession, product: ProductSubject, at: datetime) -> ListingFacts:
    return await _listing_facts(
        session,
        product,
        await repository.rules_read(session, product.product_id, [product.seller_id], product.resource_ids),
        at,
    )


async def _listing_facts(
    session: AsyncSession, product: ProductSubject, found: repository.RulesRead, at: datetime
) -> ListingFacts:
    resources, grants = found.resources, found.grants
    operating = operating_right_among(
        grants,
        holder_id=product.seller_id,
        product_id=product.product_id,
        resource_ids=[r.id for r in resources],
        at=at,
    )
    # A trade's licence, issued in this transaction on the same trees, takes it from here.
    tree_reads.note_operating(session, product.product_id, product.seller_id, grants, operating)
    return ListingFacts(
        product_id=str(product.product_id),
        seller=participant_facts(found.participants.get(product.seller_id), product.seller_id),
        resources=tuple(
            [
                await resource_facts(
                    session, r, product.seller_id, at, found.consent_records.get(r.id), r.id in found.on_hold
                )
                for r in resources
            ]
        ),
        rights=right_facts(product, resources, grants, operating),
        declared_scenarios=tuple(product.scenarios),
        charges_fee=plan_charges_fee(product.price_plan),
    )


@dataclass(frozen=True)
class BuyerFiles:
    """What the buyer has on file for a product's resources."""

    approvals: tuple[ConditionalOpenApproval, ...]
    assessed: set[uuid.UUID]  # a security assessment in force (Art. 88)
    contracted: set[uuid.UUID]  # a standard contract or certification in force (PIPL Art. 38)


def buyer_files(found: repository.RulesRead) -> BuyerFiles:
    """The buyer's approved conditional-open applications (Art. 35) and cross-border filings in
    force, as read with the resources."""
    approvals = tuple(
        ConditionalOpenApproval(
            resource_id=str(a.resource_id), application_id=str(a.id), purposes=tuple(a.purposes or ())
        )
        for a in found.approvals
    )
    assessed = {f.resource_id for f in found.filings if f.kind == "security_assessment"}
    # A standard contract or a certification.
    contracted = {f.resource_id for f in found.filings if f.kind != "security_assessment"}
    return BuyerFiles(approvals, assessed, contracted)


async def trade_facts(
    session: AsyncSession,
    product: ProductSubject,
    *,
    buyer_id: uuid.UUID,
    purpose: str | None,
    scenario: str | None,
    cross_border: bool | None,
    at: datetime,
    found: repository.RulesRead | None = None,
) -> TradeFacts:
    """The facts of a trade, as read now, or as `found` already (read for this product and
    buyer by the caller's first statement, at `at`)."""
    if found is None:
        found = await repository.rules_read(
            session,
            product.product_id,
            [product.seller_id, buyer_id],
            product.resource_ids,
            buyer_files_at=(buyer_id, at),
            lock_resources=product.lock_resources,
        )
    resource_ids = [r.id for r in found.resources]
    tree_reads.remember(
        session,
        product.product_id,
        resource_ids,
        found.grants,
        locked=product.lock_resources in repository.CLAIM_LOCKS,
    )
    listing = await _listing_facts(session, product, found, at)
    buyer = found.participants.get(buyer_id)
    files = buyer_files(found)
    # The filings a trade needs are for the personal information in it (PIPL Art. 38).
    personal = {uuid.UUID(r.resource_id) for r in listing.resources if r.personal_info in PERSONAL_STATES}
    abroad = cross_border is True or (buyer is not None and buyer.jurisdiction == "foreign")
    template = product.licence_template or {}
    return TradeFacts(
        listing=listing,
        buyer=participant_facts(buyer, buyer_id),
        purpose=purpose,
        scenario=scenario,
        cross_border=cross_border,
        conditional_open_approvals=files.approvals,
        security_assessment_on_file=bool(personal) and files.assessed >= personal,
        standard_contract_on_file=bool(personal) and (files.contracted | files.assessed) >= personal,
        exporter_exports_this_year=(
            await exports_this_year(session, product.seller_id, at) if abroad and personal else None
        ),
        licence_permitted_purposes=tuple(template.get("permitted_purposes", ())) or None,
    )
