"""Accumulation windows in the service (issue 20, pricing/INTEGRATION.md): a quote prices units
marginally after the buyer's counted units in the window; an order holds its units in the
window from the moment it is placed, and gives them back when it ends unpaid or is refunded
in full, so the count is "paid (or being paid), unrefunded units".

国办函〔2020〕109号 Art. 4 counts requests per applicant per natural month, per agency: the scope
of a guided entry's window is the operator (seller) and the entry, so one buyer's requests to
one operator add up across that operator's products under the entry.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from market.catalog.models import Product
from market.common.clock import now
from market.errors import Conflict
from market.orders import repository
from market.orders.models import Order, Quote
from pricing import GuidedPriceEntry, PricePlan, effective_window, window_span
from pricing.windows import WindowSpan


class QuoteStale(Conflict):
    code, title, status = "quote-stale", "Quote stale", 409


@dataclass(frozen=True)
class PricingWindow:
    """Where the buyer stands in the window the quote prices in."""

    scope: str
    span: WindowSpan
    prior_units: int


def scope_of(product: Product, entry: GuidedPriceEntry | None) -> str:
    """`entry:{seller}:{entry_id}` for paid public data under a guided entry (counted per
    operator and tariff), `product:{id}` for a plan that declares its own window."""
    if entry is not None:
        return f"entry:{product.seller_id}:{entry.entry_id}"
    return f"product:{product.id}"


async def pricing_window(
    session: AsyncSession,
    product: Product,
    plan: PricePlan,
    entry: GuidedPriceEntry | None,
    buyer_id: uuid.UUID,
    at: datetime,
) -> PricingWindow | None:
    """The window of this quote and the buyer's units already counted in it (read from the
    exchange's records, never from the request); None when every order starts at unit 1.
    Raises `pricing.PricingError` when the plan and its entry disagree on the window."""
    span = window_span(effective_window(plan, entry), at)
    if span is None:
        return None
    scope = scope_of(product, entry)
    return PricingWindow(scope, span, await repository.window_units(session, scope, buyer_id, span.key))


async def hold_units(session: AsyncSession, quote: Quote, order: Order) -> None:
    """Add the quote's units to the buyer's window for `order`, with the window's row locked;
    if another order of the buyer changed the count since the quote was priced, the quote no
    longer holds (its tiers are wrong): 409 `quote-stale`, nothing changed."""
    if quote.window_scope is None or quote.window_key is None:
        return
    usage = await repository.lock_window(session, quote.window_scope, quote.buyer_id, quote.window_key)
    if usage.units != quote.window_prior_units:
        raise QuoteStale(
            "another of your orders changed your count in this window since the quote; request a new quote",
            fields=[
                (
                    "body.quote_id",
                    f"priced after {quote.window_prior_units} units in {quote.window_key}, now {usage.units}",
                )
            ],
        )
    usage.units += quote.window_units or 0
    usage.updated_at = now()
    order.window_scope, order.window_key, order.window_units = (
        quote.window_scope,
        quote.window_key,
        quote.window_units or 0,
    )


async def release_units(session: AsyncSession, order: Order) -> None:
    """Give back the order's units (it ended unpaid or was refunded in full); later orders are
    not re-priced. Idempotent: the order forgets its units once given back."""
    if order.window_scope is None or order.window_key is None or not order.window_units:
        return
    usage = await repository.lock_window(session, order.window_scope, order.buyer_id, order.window_key)
    usage.units = max(0, usage.units - order.window_units)
    usage.updated_at = now()
    order.window_units = 0
