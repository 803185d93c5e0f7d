"""What an order claims of the data it buys: each of its product's resources, for its purpose,
territory and term. Exclusivity belongs to the data, not the listing: an exclusive claim reserves
the resource within its scope against every order through any product or seller over it (its
rights tree), and any claim stops a later exclusive one. The resources' rows are locked while a
claim is checked and made: an exclusive order's exclusively, so it queues with every order
over the same data; a non-exclusive order's shared, since two of them never clash."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session as SyncSession

from market.catalog import products
from market.catalog.models import Product
from market.common.clock import now
from market.db import together
from market.db.pending import Check, check_with_writes
from market.errors import Conflict
from market.orders import repository
from market.orders.models import Order, OrderClaim, Quote


class SoldOut(Conflict):
    code = "sold-out"


async def claim_resources(
    session: AsyncSession, product: Product, quote: Quote, order_id: uuid.UUID, *, check_later: bool = False
) -> list[OrderClaim]:
    """Check and make the order's claims on the product's resources, their rows locked: an
    exclusive licence reserves the data within its scope (purpose and term; territories always
    share domestic use) against every product and seller over the same rights tree.

    `check_later` (PostgreSQL): the clash is looked for in the next statement the transaction
    sends through market.db.together (the balance taken, or the order's writes), not in a round
    trip of its own; a clash then refuses the order the same way, and the transaction rolls
    back. The resources stay locked from here, so that statement sees every claim made before."""
    resource_ids = await products.lock_resources(session, product)
    exclusive = product.exclusivity == "exclusive"
    at = now()
    purpose = quote.purpose
    if check_later and session.get_bind().dialect.name == "postgresql":

        def clash_found(sync: SyncSession, produced: together.Produced) -> None:
            if produced.count:
                # Read after the statement, which may have written this order's own claims.
                query = repository.conflicting_claim_query(
                    resource_ids, purpose, exclusive=exclusive, at=at, other_than=order_id
                )
                clash = sync.execute(query).scalar_one_or_none()
                raise _sold_out(clash, purpose)

        check_with_writes(
            session,
            Check(
                lambda batch: repository.conflicting_claim_part(
                    batch, resource_ids, purpose, exclusive=exclusive, at=at
                ),
                clash_found,
            ),
        )
    else:
        clash = await repository.conflicting_claim(session, resource_ids, purpose, exclusive=exclusive, at=at)
        if clash is not None:
            raise _sold_out(clash, purpose)
    term = timedelta(days=int((product.licence_template or {}).get("term_days", 365)))
    territory = "cross_border" if quote.cross_border else "domestic"
    return [
        OrderClaim(
            order_id=order_id,
            resource_id=rid,
            purpose=quote.purpose,
            territory=territory,
            exclusive=exclusive,
            starts_at=at,
            ends_at=at + term,
        )
        for rid in resource_ids
    ]


def _sold_out(clash: OrderClaim | None, purpose: str) -> SoldOut:
    if clash is not None and clash.exclusive:
        return SoldOut(
            f"this data is licensed exclusively for {purpose} until "
            f"{clash.ends_at.date().isoformat()}, through this or another product on it"
        )
    return SoldOut(
        f"this data is already licensed for {purpose}, so an exclusive licence over that "
        "scope cannot be sold now"
    )


async def licence_term_changed(session: AsyncSession, order: Order, term_ends: datetime) -> None:
    """The licence's term was shortened (a partial refund): so are the order's claims."""
    await repository.set_claims_end(session, order.id, term_ends)
