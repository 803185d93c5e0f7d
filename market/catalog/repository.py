"""Queries on products and their resources; tenant scoping of products in `readable`."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import Select, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from market.auth.principal import Principal
from market.catalog.models import PriceCatalogueEntryRow, Product, product_resources
from market.common.pagination import keyset_page
from market.compliance.repository import ResourceLock, lock_resource_rows
from market.db.direct import by_id
from market.registry.models import DataResource
from market.rights.models import RightGrantRow


def readable(principal: Principal) -> Select[Product]:
    """The products the caller manages: its own; operators and auditors every one. (Listed
    products are public through the catalogue search.)"""
    stmt = select(Product)
    if not principal.can_see_all():
        stmt = stmt.where(Product.seller_id == principal.participant_id)
    return stmt


async def page(session: AsyncSession, principal: Principal, cursor: str | None, limit: int) -> list[Product]:
    return list((await session.execute(keyset_page(readable(principal), Product, cursor, limit))).scalars())


async def get(session: AsyncSession, product_id: uuid.UUID, *, lock: bool = False) -> Product | None:
    if lock:
        return await session.get(Product, product_id, with_for_update=True)
    return await by_id(session, Product, product_id)  # read by every order's settlement (issue 21)


# A product's resource ids for the compliance rules' query (market.compliance.repository):
# one statement for every product, its id bound when the query runs.
RESOURCE_IDS = select(product_resources.c.resource_id).where(
    product_resources.c.product_id == bindparam("resource_ids_of")
)


def resource_ids_query(product_id: uuid.UUID) -> Select[uuid.UUID]:
    """The product's resource ids, as a subquery other queries can embed."""
    return select(product_resources.c.resource_id).where(product_resources.c.product_id == product_id)


async def resource_ids_of(session: AsyncSession, product_id: uuid.UUID) -> list[uuid.UUID]:
    return list((await session.execute(resource_ids_query(product_id))).scalars())


async def resource_ids_of_many(
    session: AsyncSession, product_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[uuid.UUID]]:
    """Every listed product's resource ids in one query (a page of products, not one each)."""
    found: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    if product_ids:
        stmt = select(product_resources.c.product_id, product_resources.c.resource_id).where(
            product_resources.c.product_id.in_(list(product_ids))
        )
        for pid, rid in await session.execute(stmt):
            found[pid].append(rid)
    return found


async def is_built_on(session: AsyncSession, product_id: uuid.UUID, resource_id: uuid.UUID) -> bool:
    stmt = select(product_resources.c.product_id).where(
        product_resources.c.product_id == product_id, product_resources.c.resource_id == resource_id
    )
    return await session.scalar(stmt) is not None


async def lock_resources_of(
    session: AsyncSession, product_id: uuid.UUID, lock: ResourceLock
) -> list[uuid.UUID]:
    """The product's resources' ids, their rows locked in id order (so two products sharing a
    resource always queue on it in the same order, never deadlock), as an order's trade gate
    locks them (`lock`, one of compliance.repository.CLAIM_LOCKS)."""
    stmt = (
        select(DataResource.id)
        .join(product_resources, product_resources.c.resource_id == DataResource.id)
        .where(product_resources.c.product_id == product_id)
        .order_by(DataResource.id)
    )
    return list((await session.execute(lock_resource_rows(stmt, DataResource, lock))).scalars())


async def link_resources(
    session: AsyncSession, product_id: uuid.UUID, resource_ids: Sequence[uuid.UUID]
) -> None:
    await session.execute(
        product_resources.insert(), [{"product_id": product_id, "resource_id": r} for r in resource_ids]
    )


async def price_entries(
    session: AsyncSession, *, in_force_only: bool, data_class: str | None
) -> list[PriceCatalogueEntryRow]:
    stmt = select(PriceCatalogueEntryRow).order_by(
        PriceCatalogueEntryRow.entry_key, PriceCatalogueEntryRow.version
    )
    if in_force_only:
        stmt = stmt.where(PriceCatalogueEntryRow.status == "in_force")
    if data_class:
        stmt = stmt.where(PriceCatalogueEntryRow.data_class == data_class)
    return list((await session.execute(stmt)).scalars())


async def with_rights_trees(
    session: AsyncSession, product_id: uuid.UUID
) -> tuple[Product, list[uuid.UUID], list[RightGrantRow]]:
    rows = (
        await session.execute(
            select(Product, product_resources.c.resource_id, RightGrantRow)
            .outerjoin(product_resources, product_resources.c.product_id == Product.id)
            .outerjoin(RightGrantRow, RightGrantRow.resource_id == product_resources.c.resource_id)
            .where(Product.id == product_id)
            .order_by(product_resources.c.resource_id)
        )
    ).all()
    if not rows:
        raise LookupError(f"no product {product_id}")
    resource_ids = list(dict.fromkeys(rid for _, rid, _ in rows if rid is not None))
    return rows[0][0], resource_ids, [g for _, _, g in rows if g is not None]


async def built_on(
    session: AsyncSession, resource_ids: Sequence[uuid.UUID], *, status: str | None = None, lock: bool = False
) -> list[Product]:
    """The products built on any of these resources (in one status), in a stable order."""
    stmt = (
        select(Product)
        .where(
            Product.id.in_(
                select(product_resources.c.product_id).where(
                    product_resources.c.resource_id.in_(resource_ids)
                )
            )
        )
        .order_by(Product.id)
    )
    if status is not None:
        stmt = stmt.where(Product.listing_status == status)
    if lock:
        stmt = stmt.with_for_update()
    return list((await session.execute(stmt)).scalars())
