"""Read-only queries for the public disclosures: joins of lower features' tables, to save
round trips (CONTRIBUTING: a repository may join a lower feature's table, read-only)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from market.catalog.models import PriceCatalogueEntryRow, Product, product_resources
from market.compliance.models import OperationMandate
from market.participants.models import Participant
from market.registry.models import DataResource

PUBLIC_CATEGORIES = ("public", "mixed")


async def listed_public_products(session: AsyncSession) -> Sequence[tuple[Product, Participant]]:
    """Listed products on public data priced under a guided class, with their operators."""
    stmt = (
        select(Product, Participant)
        .join(Participant, Participant.id == Product.seller_id)
        .where(
            Product.listing_status == "listed",
            Product.category.in_(PUBLIC_CATEGORIES),
            Product.price_catalogue_class.is_not(None),
        )
        .order_by(Participant.name, Product.title, Product.id)
    )
    return [(p, o) for p, o in (await session.execute(stmt)).all()]


async def mandates_during(
    session: AsyncSession, starts: datetime, ends: datetime
) -> Sequence[tuple[OperationMandate, Participant, DataResource]]:
    """Authorised-operation mandates in force at some time in [starts, ends)."""
    stmt = (
        select(OperationMandate, Participant, DataResource)
        .join(Participant, Participant.id == OperationMandate.operator_id)
        .join(DataResource, DataResource.id == OperationMandate.resource_id)
        .where(
            OperationMandate.valid_from < ends,
            OperationMandate.valid_to >= starts,
            or_(OperationMandate.revoked_at.is_(None), OperationMandate.revoked_at >= starts),
        )
        .order_by(Participant.name, OperationMandate.valid_from)
    )
    return [(m, p, r) for m, p, r in (await session.execute(stmt)).all()]


async def public_products_of(
    session: AsyncSession, operator_ids: Sequence[uuid.UUID], created_before: datetime
) -> Sequence[Product]:
    """The operators' products on public data (any listing but drafts) made before `created_before`."""
    stmt = (
        select(Product)
        .where(
            Product.seller_id.in_(operator_ids),
            Product.category.in_(PUBLIC_CATEGORIES),
            Product.listing_status != "draft",
            Product.created_at < created_before,
        )
        .order_by(Product.title, Product.id)
    )
    return list((await session.execute(stmt)).scalars())


async def resources_of(
    session: AsyncSession, product_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[uuid.UUID]]:
    stmt = select(product_resources.c.product_id, product_resources.c.resource_id).where(
        product_resources.c.product_id.in_(product_ids)
    )
    found: dict[uuid.UUID, list[uuid.UUID]] = {}
    for product_id, resource_id in (await session.execute(stmt)).all():
        found.setdefault(product_id, []).append(resource_id)
    return found


async def entries_during(
    session: AsyncSession, starts: datetime, ends: datetime
) -> Sequence[PriceCatalogueEntryRow]:
    """Every guided entry version in force at some time in [starts, ends): the year's ceilings."""
    stmt = (
        select(PriceCatalogueEntryRow)
        .where(
            PriceCatalogueEntryRow.effective_from < ends,
            or_(PriceCatalogueEntryRow.effective_to.is_(None), PriceCatalogueEntryRow.effective_to > starts),
            or_(
                PriceCatalogueEntryRow.withdrawn_at.is_(None),
                and_(PriceCatalogueEntryRow.withdrawn_at > starts),
            ),
        )
        .order_by(PriceCatalogueEntryRow.entry_key, PriceCatalogueEntryRow.version)
    )
    return list((await session.execute(stmt)).scalars())
