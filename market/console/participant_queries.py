"""The participant pages' read-only queries (reads only; every change goes through a service)."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from market.catalog.models import Product
from market.delivery.models import LicenceRow


async def licences_with_products(
    session: AsyncSession, participant_id: uuid.UUID, limit: int = 100
) -> list[tuple[LicenceRow, Product]]:
    """The licences a participant bought or granted (buyer or seller), newest first, each with
    its product (its title and how it delivers)."""
    stmt = (
        select(LicenceRow, Product)
        .join(Product, Product.id == LicenceRow.product_id)
        .where((LicenceRow.buyer_id == participant_id) | (LicenceRow.seller_id == participant_id))
        .order_by(LicenceRow.created_at.desc(), LicenceRow.id)
        .limit(limit)
    )
    return [(lic, product) for lic, product in (await session.execute(stmt)).all()]
