"""Random allocation run by the exchange (Jilin Big Data Regulation Art. 70; pricing/INTEGRATION.md).

Before the window opens an operator announces a draw for a product whose plan has a
random-allocation discount: the exchange draws a secret seed and publishes its SHA-256
commitment. Participants enter during the window. After it closes the seed is revealed and the
winners computed from the seed and the entrants (`pricing.allocation.reveal`): anyone can
recompute them from `GET /v1/allocations/{id}`. A quote takes a win only from a revealed draw
of the exchange in which the authenticated buyer won (never from the request), and an order
uses each win once.
"""

from __future__ import annotations

import uuid

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from market.allocation import repository
from market.allocation.models import AllocationDraw, AllocationEntry
from market.allocation.schemas import DrawCreate
from market.audit.log import record
from market.auth.principal import Principal
from market.catalog import products
from market.catalog.models import Product
from market.common.clock import now
from market.errors import Conflict, Forbidden, InvalidInput, NotFound, invalid_from_validation
from pricing import (
    AllocationAnnouncement,
    AllocationResult,
    AllocationWin,
    PricePlan,
    PricingError,
    RandomAllocationDiscount,
    announce,
    new_seed,
    reveal,
)

REVEAL_BATCH = 100


def _discount(plan: PricePlan) -> RandomAllocationDiscount | None:
    return next((d for d in plan.discounts if isinstance(d, RandomAllocationDiscount)), None)


async def announce_draw(session: AsyncSession, principal: Principal, data: DrawCreate) -> AllocationDraw:
    """Commit to a fresh seed and publish the draw (its rule is the product plan's)."""
    product = await products.find(session, data.product_id)
    if product is None:
        raise NotFound("product not found", fields=[("body.product_id", "no such product")])
    discount = _discount(products.stored_plan(product.price_plan))
    if discount is None:
        raise InvalidInput(
            "the product's plan has no random-allocation discount to draw for (Art. 70)",
            fields=[("body.product_id", "no random_allocation discount in its plan")],
        )
    at, draw_id, seed = now(), uuid.uuid4(), new_seed()
    if data.opens_at < at:
        raise InvalidInput(
            "the commitment is published before the window opens",
            fields=[("body.opens_at", "in the past")],
        )
    try:
        announcement = announce(
            draw_id=str(draw_id),
            rule=discount.rule,
            subject=str(product.id),
            winners_wanted=data.winners_wanted,
            seed=seed,
            announced_at=at,
            opens_at=data.opens_at,
            closes_at=data.closes_at,
        )
    except ValidationError as exc:
        raise invalid_from_validation(exc, "body", "the draw is invalid") from exc
    row = AllocationDraw(
        id=draw_id,
        product_id=product.id,
        rule=announcement.rule,
        winners_wanted=announcement.winners_wanted,
        commitment=announcement.commitment,
        announcement=announcement.model_dump(mode="json"),
        announced_at=at,
        opens_at=announcement.opens_at,
        closes_at=announcement.closes_at,
        seed=seed,
        announced_by=principal.actor,
    )
    session.add(row)
    await record(
        session,
        actor=principal.actor,
        action="allocation.announced",
        subject_type="allocation_draw",
        subject_id=draw_id,
        payload=row.announcement,  # the commitment, never the seed
    )
    return row


async def get_draw(session: AsyncSession, draw_id: uuid.UUID) -> AllocationDraw:
    found = await repository.draw(session, draw_id)
    if found is None:
        raise NotFound("draw not found")
    return found


async def draws_of(session: AsyncSession, product_id: uuid.UUID) -> list[AllocationDraw]:
    return await repository.draws_of(session, product_id)


async def entrant_count(session: AsyncSession, draw_id: uuid.UUID) -> int:
    return len(await repository.entrants(session, draw_id))


async def enter(session: AsyncSession, principal: Principal, draw_id: uuid.UUID) -> AllocationEntry:
    """The caller's participant enters the draw, once, while its window is open."""
    if principal.participant_id is None:
        raise Forbidden("participants enter draws")
    found = await get_draw(session, draw_id)
    at = now()
    if not found.opens_at <= at < found.closes_at:
        raise Conflict(
            f"the draw's window is {found.opens_at.isoformat()} to {found.closes_at.isoformat()}",
            code="draw-not-open",
        )
    if await repository.entry(session, draw_id, principal.participant_id) is not None:
        raise Conflict("you have entered this draw already", code="already-entered")
    entry = AllocationEntry(draw_id=draw_id, participant_id=principal.participant_id, entered_at=at)
    session.add(entry)
    await session.flush()
    await record(
        session,
        actor=principal.actor,
        action="allocation.entered",
        subject_type="allocation_draw",
        subject_id=draw_id,
        payload={"participant_id": str(principal.participant_id)},
    )
    return entry


async def reveal_draw(session: AsyncSession, draw_id: uuid.UUID, *, actor: str) -> AllocationDraw:
    """After the window: reveal the seed and fix the winners (idempotent once revealed)."""
    found = await repository.draw(session, draw_id, lock=True)
    if found is None:
        raise NotFound("draw not found")
    if found.result is not None:
        return found
    at = now()
    if at < found.closes_at:
        raise Conflict("the seed is revealed only after the window closes", code="draw-still-open")
    entrants = [str(p) for p in await repository.entrants(session, draw_id)]
    result = reveal(AllocationAnnouncement.model_validate(found.announcement), found.seed, entrants, at)
    found.result, found.revealed_at = result.model_dump(mode="json"), at
    await record(
        session,
        actor=actor,
        action="allocation.revealed",
        subject_type="allocation_draw",
        subject_id=draw_id,
        payload={
            "seed": result.seed,
            "commitment": found.commitment,
            "entrants_digest": result.entrants_digest,
            "winners": list(result.winners),
        },
    )
    return found


async def reveal_due(session: AsyncSession) -> int:
    due = await repository.due_for_reveal(session, now(), REVEAL_BATCH)
    for draw_id in due:
        await reveal_draw(session, draw_id, actor="system")
    return len(due)


async def _wins(
    session: AsyncSession, product: Product, buyer_id: uuid.UUID, *, lock: bool
) -> list[tuple[AllocationWin, AllocationEntry]]:
    try:
        discount = _discount(products.stored_plan(product.price_plan))
    except (PricingError, ValidationError):
        return []
    if discount is None:
        return []
    found = []
    for drawn, entry in await repository.unused_revealed_entries(
        session, product.id, discount.rule, buyer_id, lock=lock
    ):
        result = AllocationResult.model_validate(drawn.result)  # re-verified: seed, winners
        if result.won(str(buyer_id)):
            found.append((AllocationWin(result=result, entrant=str(buyer_id)), entry))
    return found


async def win_for(session: AsyncSession, product: Product, buyer_id: uuid.UUID) -> AllocationWin | None:
    """The buyer's unused win in a revealed draw of the exchange on this product under its
    plan's rule, or None. The entrant is the authenticated buyer (Art. 70)."""
    wins = await _wins(session, product, buyer_id, lock=False)
    return wins[0][0] if wins else None


async def use_win(
    session: AsyncSession, product: Product, buyer_id: uuid.UUID, order_id: uuid.UUID, *, actor: str
) -> uuid.UUID:
    """The order priced with a win uses it (once): returns the draw's id; 409 if none is left
    (another order used it since the quote)."""
    wins = await _wins(session, product, buyer_id, lock=True)
    if not wins:
        raise Conflict(
            "the random-allocation win this quote was priced with is used; request a new quote",
            code="quote-stale",
            fields=[("body.quote_id", "its allocation win was used by another order")],
        )
    entry = wins[0][1]
    entry.used_by_order_id = order_id
    await record(
        session,
        actor=actor,
        action="allocation.win_used",
        subject_type="allocation_draw",
        subject_id=entry.draw_id,
        payload={"participant_id": str(buyer_id), "order_id": str(order_id)},
    )
    return entry.draw_id
